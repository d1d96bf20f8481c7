/* memsampler.c - the memory probe (see memsampler.h): samples a process
 * tree's RSS/PSS, threads, page cache, Shmem and /dev/shm on a thread, so a
 * run can show memory that grows with workers or is freed too late. */
#include "probes/memsampler.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* A child forked by the main thread is seen at once (its children file is
 * read every sample); the children files of other threads cost one
 * opendir plus one open per thread, so they are read every
 * SMALL_SCAN_EVERY-th sample (100 ms at 20 ms) for processes of at most
 * SMALL_PROC_THREADS threads, every BIG_SCAN_EVERY-th (500 ms) for bigger
 * ones: a 400-thread BLAS process every 20 ms would cost more than the
 * whole 1 % budget, and pools fork from their main thread. */
#define SMALL_PROC_THREADS 8
#define SMALL_SCAN_EVERY 5
#define BIG_SCAN_EVERY 25
/* PSS walks every page table of every process: read it at most every
 * PSS_MIN_SAMPLES samples, and less often when it is slow, so that it
 * alone stays under PSS_CPU_SHARE of one core. */
#define PSS_MIN_SAMPLES 25
#define PSS_CPU_SHARE 0.002
/* ... and besides, once RSS has grown by a quarter (and 16 MiB) since the
 * last reading: a tree that grows 20-fold gets at most ~14 such readings. */
#define PSS_HIGH_STEP 1.25
#define PSS_HIGH_MIN_BYTES (16ull << 20)

/* One process of the tree, with its /proc files kept open: procfs files can
 * be re-read with pread(fd, 0), which halves the syscalls per sample.
 * RSS comes from statm and the thread count from the link count of the
 * task directory (2 + threads): /proc/<pid>/stat would also sum every
 * thread's CPU time, locking the run queue of each running one. */
struct proc_ent {
	pid_t pid;
	int statm_fd;
	int task_fd;	 /* /proc/<pid>/task, for fstat */
	int children_fd; /* main thread's children file */
	unsigned gen;	 /* last walk that saw it */
};

struct proc_cache {
	struct proc_ent *ent;
	size_t n, cap;
	unsigned gen;
	int meminfo_fd;
	pid_t *queue;	/* BFS queue of the walk */
	size_t qcap;
};

struct memsampler {
	struct memsampler_opts o;
	char devshm_path[256];
	struct proc_cache pc;
	long page_size;

	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop_flag;

	struct timespec t0;
	double t_stop;
	uint64_t nsamples;
	double next_pss_t;
	double pss_cost_s;
	uint64_t last_rss, pss_at_rss; /* the last sample's RSS; RSS at the
					* last PSS reading */
	uint32_t devshm_files;	/* the last walk's count, carried between */

	/* series: every stride-th sample, halved when full */
	struct memsample *pts;
	size_t npts;
	uint64_t stride;

	struct memsampler_summary sum;
	double thread_cpu_s;
	double own_cpu_s; /* last reading of the thread's CPU clock */
	uint64_t thread_samples;
	int thread_err;
	errbuf thread_e;
};

/* ---- small helpers ---------------------------------------------------- */

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static double thread_cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Read a procfs file from offset 0 into buf (NUL-terminated). procfs
 * hands over the whole text in one read when it fits, and every further
 * read regenerates it, so a short read is taken as the end. */
static ssize_t pread_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t k = pread(fd, buf + n, len - 1 - n, (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		n += (size_t)k;
		if (k == 0 || (size_t)k < len - 1 - (n - (size_t)k))
			break;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

static ssize_t read_path(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = pread_all(fd, buf, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n;
}

/* /proc/<pid>/statm: "size resident shared ..." in pages; shared is the
 * resident file-backed and shmem pages (libraries, memmaps, /dev/shm), so
 * resident - shared is the process's own anonymous memory. */
static int parse_statm(const char *buf, uint64_t *rss_pages,
		       uint64_t *shared_pages)
{
	char *end;
	strtoull(buf, &end, 10);
	if (end == buf)
		return -1;
	const char *p = end;
	*rss_pages = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	p = end;
	*shared_pages = strtoull(p, &end, 10);
	if (end == p || *shared_pages > *rss_pages)
		*shared_pages = 0;
	return 0;
}

static uint32_t task_threads(int task_fd)
{
	struct stat st;
	if (task_fd < 0 || fstat(task_fd, &st) < 0 || st.st_nlink < 3)
		return 1;
	return (uint32_t)(st.st_nlink - 2);
}

/* "Key:   1234 kB" -> bytes; 0 when the key is absent. */
static uint64_t meminfo_field(const char *buf, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = buf; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtoull(p + kl + 1, NULL, 10) * 1024ULL;
	}
	return 0;
}

/* ---- the process cache and the tree walk ------------------------------ */

static void cache_close_ent(struct proc_ent *pe)
{
	if (pe->statm_fd >= 0)
		close(pe->statm_fd);
	if (pe->task_fd >= 0)
		close(pe->task_fd);
	if (pe->children_fd >= 0)
		close(pe->children_fd);
	pe->statm_fd = pe->task_fd = pe->children_fd = -1;
}

static void cache_free(struct proc_cache *pc)
{
	for (size_t i = 0; i < pc->n; i++)
		cache_close_ent(&pc->ent[i]);
	if (pc->meminfo_fd >= 0)
		close(pc->meminfo_fd);
	free(pc->ent);
	free(pc->queue);
	memset(pc, 0, sizeof *pc);
	pc->meminfo_fd = -1;
}

static void cache_init(struct proc_cache *pc)
{
	memset(pc, 0, sizeof *pc);
	pc->meminfo_fd = -1;
}

static struct proc_ent *cache_get(struct proc_cache *pc, pid_t pid)
{
	for (size_t i = 0; i < pc->n; i++)
		if (pc->ent[i].pid == pid)
			return &pc->ent[i];
	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 16;
		struct proc_ent *ne = realloc(pc->ent, cap * sizeof *ne);
		if (!ne)
			return NULL;
		pc->ent = ne;
		pc->cap = cap;
	}
	char path[64];
	struct proc_ent *pe = &pc->ent[pc->n];
	pe->pid = pid;
	pe->gen = 0;
	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	pe->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pe->statm_fd < 0)
		return NULL;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	pe->task_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	pe->children_fd = open(path, O_RDONLY | O_CLOEXEC);
	pc->n++;
	return pe;
}

/* Drop processes the last walk did not see (exited or left the tree). */
static void cache_sweep(struct proc_cache *pc)
{
	size_t j = 0;
	for (size_t i = 0; i < pc->n; i++) {
		if (pc->ent[i].gen == pc->gen)
			pc->ent[j++] = pc->ent[i];
		else
			cache_close_ent(&pc->ent[i]);
	}
	pc->n = j;
}

static int queue_push(struct proc_cache *pc, size_t *qn, pid_t pid)
{
	if (*qn == pc->qcap) {
		size_t cap = pc->qcap ? pc->qcap * 2 : 64;
		pid_t *nq = realloc(pc->queue, cap * sizeof *nq);
		if (!nq)
			return -1;
		pc->queue = nq;
		pc->qcap = cap;
	}
	pc->queue[(*qn)++] = pid;
	return 0;
}

/* Append the pids in a children file's text ("12 34 ") to the queue. */
static int queue_children(struct proc_cache *pc, size_t *qn, const char *txt)
{
	const char *p = txt;
	while (*p) {
		while (*p && !isdigit((unsigned char)*p))
			p++;
		if (!*p)
			break;
		pid_t c = (pid_t)strtol(p, (char **)&p, 10);
		if (c > 0 && queue_push(pc, qn, c) < 0)
			return -1;
	}
	return 0;
}

/* Children of threads other than the main one. */
static int scan_thread_children(struct proc_cache *pc, size_t *qn, pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0; /* exited meanwhile */
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) && rc == 0) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0 || tid == pid)
			continue;
		char cpath[96];
		snprintf(cpath, sizeof cpath, "/proc/%d/task/%ld/children",
			 (int)pid, tid);
		if (read_path(cpath, buf, sizeof buf) > 0)
			rc = queue_children(pc, qn, buf);
	}
	closedir(d);
	return rc;
}

/* A zombie or a process that just exited has no memory to report (ESRCH,
 * ENOENT); anything else (EACCES, no smaps_rollup before Linux 4.14) makes
 * the whole sample's PSS unknown. */
static uint64_t read_pss(pid_t pid, int *ok)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	ssize_t n = read_path(path, buf, sizeof buf);
	if (n < 0 && (errno == ESRCH || errno == ENOENT))
		return 0;
	if (n <= 0) {
		*ok = 0;
		return 0;
	}
	return meminfo_field(buf, "Pss");
}

struct walk_opts {
	long page_size;
	int scan_small; /* read the thread children files of small ... */
	int scan_big;	/* ... and of big processes */
	int want_pss;
};

/* Breadth-first over root and its descendants. */
static int walk_tree(struct proc_cache *pc, pid_t root,
		     const struct walk_opts *w, struct memsample *out)
{
	char buf[4096];
	size_t qn = 0, qi = 0;
	int pss_ok = 1;
	pc->gen++;
	if (queue_push(pc, &qn, root) < 0)
		return -1;
	while (qi < qn) {
		pid_t pid = pc->queue[qi++];
		struct proc_ent *pe = cache_get(pc, pid);
		if (!pe || pe->gen == pc->gen)
			continue; /* gone, or already counted */
		uint64_t rss = 0, shared = 0;
		if (pread_all(pe->statm_fd, buf, sizeof buf) <= 0 ||
		    parse_statm(buf, &rss, &shared) < 0)
			continue; /* exited between open and read */
		uint32_t th = task_threads(pe->task_fd);
		pe->gen = pc->gen;
		out->procs++;
		out->threads += th;
		out->rss += rss * (uint64_t)w->page_size;
		out->anon += (rss - shared) * (uint64_t)w->page_size;
		if (w->want_pss)
			out->pss += read_pss(pid, &pss_ok);
		if (pe->children_fd >= 0 &&
		    pread_all(pe->children_fd, buf, sizeof buf) > 0 &&
		    queue_children(pc, &qn, buf) < 0)
			return -1;
		if (th > 1 && (th <= SMALL_PROC_THREADS ? w->scan_small :
							  w->scan_big))
			if (scan_thread_children(pc, &qn, pid) < 0)
				return -1;
	}
	cache_sweep(pc);
	out->pss_valid = w->want_pss && pss_ok && out->procs > 0;
	if (!out->pss_valid)
		out->pss = 0;
	return out->procs > 0 ? 0 : -1;
}

/* Data files under dir and its folders (joblib keeps its memmaps in a
 * folder of /dev/shm): files of DEVSHM_FILE_MIN_BYTES or more, so the
 * semaphores and locks a pool keeps there (loky: 8 files of 32 bytes)
 * are not counted as data. At most DEVSHM_MAX_DEPTH folders down;
 * counting stops at DEVSHM_MAX_FILES: a /dev/shm of more files than that
 * is a flood however many more there are, and the walk stays bounded (a
 * few microseconds for the tens of files /dev/shm usually holds). */
#define DEVSHM_MAX_DEPTH 3
#define DEVSHM_MAX_FILES 100000u
#define DEVSHM_FILE_MIN_BYTES 65536
static void count_files(int fd, int depth, uint32_t *n)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	if (!d) {
		close(fd);
		return;
	}
	while (*n < DEVSHM_MAX_FILES && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (de->d_type == DT_DIR) {
			int sub = depth < DEVSHM_MAX_DEPTH
				? openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				: -1;
			if (sub >= 0)
				count_files(sub, depth + 1, n);
		} else {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode) && st.st_size >= DEVSHM_FILE_MIN_BYTES)
				(*n)++;
		}
	}
	closedir(d);
}

/* count_files_now: walk /dev/shm's files (one stat each) now; otherwise
 * the caller carries the last count, since a 20 ms sample need not stat
 * hundreds of segment files while the usage figure is already exact. */
static void read_system(struct proc_cache *pc, const char *devshm,
			int count_files_now, struct memsample *out)
{
	char buf[8192];
	if (pc->meminfo_fd < 0)
		pc->meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (pc->meminfo_fd >= 0 && pread_all(pc->meminfo_fd, buf, sizeof buf) > 0) {
		out->cached = meminfo_field(buf, "Cached");
		out->shmem = meminfo_field(buf, "Shmem");
	}
	struct statvfs sv;
	if (statvfs(devshm, &sv) == 0) {
		out->devshm = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
		out->devshm_valid = 1;
		int fd = count_files_now
			? open(devshm, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (fd >= 0)
			count_files(fd, 0, &out->devshm_files);
	}
}

int memsample_once(pid_t root, int want_pss, const char *devshm_path,
		   struct memsample *out, errbuf *e)
{
	struct proc_cache pc;
	struct walk_opts w = {sysconf(_SC_PAGESIZE), 1, 1, want_pss};
	memset(out, 0, sizeof *out);
	if (root <= 0)
		root = getpid();
	cache_init(&pc);
	int rc = walk_tree(&pc, root, &w, out);
	if (rc == 0)
		read_system(&pc, devshm_path ? devshm_path : "/dev/shm", 1, out);
	cache_free(&pc);
	if (rc < 0)
		return errf(e, "memory sampler: cannot read process %d in /proc",
			    (int)root);
	return 0;
}

/* ---- the sampler ------------------------------------------------------ */

/* Bytes malloc has handed out and not had back: arena chunks in use plus
 * mmapped chunks. mallinfo2 walks the arenas under their locks: a few
 * microseconds per sample, and only with opts.heap. */
static void read_heap(const struct memsampler *s, struct memsample *m)
{
	if (!s->o.heap)
		return;
	struct mallinfo2 mi = mallinfo2();
	m->heap = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
	m->heap_valid = 1;
}

static double now_s(const struct memsampler *s)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return ts_diff(&s->t0, &t);
}

static void series_append(struct memsampler *s, const struct memsample *m)
{
	if (s->npts == s->o.max_points) {
		/* keep points 0, 2, 4, ...: every (2*stride)-th sample */
		size_t j = 0;
		for (size_t i = 0; i < s->npts; i += 2)
			s->pts[j++] = s->pts[i];
		s->npts = j;
		s->stride *= 2;
	}
	s->pts[s->npts++] = *m;
}

static void record(struct memsampler *s, const struct memsample *m, int last)
{
	struct memsampler_summary *u = &s->sum;
	if (s->nsamples == 0)
		u->baseline_rss = m->rss;
	if (m->rss > u->peak_rss)
		u->peak_rss = m->rss;
	if (m->pss_valid) {
		u->pss_available = 1;
		u->pss_readings++;
		if (m->pss > u->peak_pss)
			u->peak_pss = m->pss;
	}
	if (m->threads > u->peak_threads)
		u->peak_threads = m->threads;
	if (m->procs > u->peak_procs)
		u->peak_procs = m->procs;
	if (m->cached > u->peak_cached)
		u->peak_cached = m->cached;
	if (m->shmem > u->peak_shmem)
		u->peak_shmem = m->shmem;
	if (m->devshm_valid) {
		u->devshm_available = 1;
		if (m->devshm > u->peak_devshm)
			u->peak_devshm = m->devshm;
		if (m->devshm_files > u->peak_devshm_files)
			u->peak_devshm_files = m->devshm_files;
	}
	if (m->heap_valid && m->heap > u->peak_heap)
		u->peak_heap = m->heap;
	if (s->nsamples % s->stride == 0 || last)
		series_append(s, m);
	s->nsamples++;
}

static int take_sample(struct memsampler *s, errbuf *e)
{
	struct memsample m;
	memset(&m, 0, sizeof m);
	m.t_s = now_s(s);
	/* PSS also when RSS has climbed well past the last PSS reading, so
	 * the peak PSS is read near the peak RSS (sparse readings alone can
	 * miss a short peak): at most once per PSS_HIGH_STEP of growth. */
	int high = s->last_rss > s->pss_at_rss * PSS_HIGH_STEP &&
		   s->last_rss > s->pss_at_rss + PSS_HIGH_MIN_BYTES;
	struct walk_opts w = {s->page_size,
			      s->nsamples % SMALL_SCAN_EVERY == 0,
			      s->nsamples % BIG_SCAN_EVERY == 0,
			      s->o.pss && (m.t_s >= s->next_pss_t || high)};
	double c0 = w.want_pss ? thread_cpu_now() : 0;
	if (walk_tree(&s->pc, s->o.root, &w, &m) < 0)
		return errf(e, "memory sampler: process %d is gone",
			    (int)s->o.root);
	if (w.want_pss) {
		double cost = thread_cpu_now() - c0;
		double gap = cost / PSS_CPU_SHARE;
		double min_gap = PSS_MIN_SAMPLES * s->o.interval_s;
		s->next_pss_t = m.t_s + (gap > min_gap ? gap : min_gap);
		s->pss_at_rss = m.rss;
		if (!m.pss_valid && !s->sum.pss_available)
			snprintf(s->sum.pss_reason, sizeof s->sum.pss_reason,
				 "/proc/<pid>/smaps_rollup not readable");
	}
	s->last_rss = m.rss;
	int count_now = s->nsamples % SMALL_SCAN_EVERY == 0;
	read_system(&s->pc, s->devshm_path, count_now, &m);
	if (count_now)
		s->devshm_files = m.devshm_files;
	else
		m.devshm_files = s->devshm_files;
	read_heap(s, &m);
	/* do not count the sampler's own thread as the workload's */
	if (s->running && s->o.root == getpid() && m.threads > 0)
		m.threads--;
	record(s, &m, 0);
	return 0;
}

static void *sampler_main(void *arg)
{
	struct memsampler *s = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&s->mu);
	while (!s->stop_flag) {
		long ns = (long)(s->o.interval_s * 1e9);
		next.tv_sec += ns / 1000000000L;
		next.tv_nsec += ns % 1000000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		int rc = 0;
		while (!s->stop_flag && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
		if (s->stop_flag)
			break;
		pthread_mutex_unlock(&s->mu);
		int err = take_sample(s, &s->thread_e);
		s->thread_samples++;
		pthread_mutex_lock(&s->mu);
		if (err < 0) {
			/* the root exited: nothing left to measure */
			s->thread_err = 1;
			break;
		}
		/* fell behind (a long walk, a descheduled thread): skip, do
		 * not burst to catch up */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_diff(&next, &now) > s->o.interval_s)
			next = now;
	}
	pthread_mutex_unlock(&s->mu);
	s->thread_cpu_s = thread_cpu_now();
	return NULL;
}

static int check_opts(const struct memsampler_opts *in,
		      struct memsampler_opts *o, errbuf *e)
{
	*o = *in;
	if (o->interval_s == 0)
		o->interval_s = MEMSAMPLER_DEFAULT_INTERVAL_S;
	if (!(o->interval_s >= MEMSAMPLER_MIN_INTERVAL_S &&
	      o->interval_s <= MEMSAMPLER_MAX_INTERVAL_S))
		return errf(e,
			    "memory sampler: interval %g s is out of range "
			    "(%g to %g s)",
			    o->interval_s, MEMSAMPLER_MIN_INTERVAL_S,
			    MEMSAMPLER_MAX_INTERVAL_S);
	if (o->max_points == 0)
		o->max_points = MEMSAMPLER_DEFAULT_MAX_POINTS;
	if (o->max_points < 16)
		return errf(e, "memory sampler: series bound %zu is below 16",
			    o->max_points);
	if (o->root < 0)
		return errf(e, "memory sampler: bad root pid %d", (int)o->root);
	if (o->root == 0)
		o->root = getpid();
	if (o->heap && o->root != getpid())
		return errf(e, "memory sampler: heap figures are this process's "
			       "only, but the root is process %d", (int)o->root);
	return 0;
}

int memsampler_start(const struct memsampler_opts *in, struct memsampler **out,
		     errbuf *e)
{
	struct memsampler_opts o;
	*out = NULL;
	if (check_opts(in, &o, e) < 0)
		return -1;
	struct memsampler *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "memory sampler: out of memory");
	s->o = o;
	snprintf(s->devshm_path, sizeof s->devshm_path, "%s",
		 o.devshm_path ? o.devshm_path : "/dev/shm");
	s->o.devshm_path = s->devshm_path;
	s->page_size = sysconf(_SC_PAGESIZE);
	s->stride = 1;
	cache_init(&s->pc);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(s->sum.pss_reason, sizeof s->sum.pss_reason,
		 o.pss ? "no PSS reading taken" : "PSS reading disabled");
	snprintf(s->sum.devshm_reason, sizeof s->sum.devshm_reason,
		 "cannot measure %.100s (statvfs failed)", s->devshm_path);
	s->pts = malloc(o.max_points * sizeof *s->pts);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	if (!s->pts || take_sample(s, e) < 0) {
		if (!s->pts)
			errf(e, "memory sampler: out of memory");
		memsampler_free(s);
		return -1;
	}
	s->running = 1; /* before the thread exists: it reads this */
	int rc = pthread_create(&s->thread, NULL, sampler_main, s);
	if (rc != 0) {
		s->running = 0;
		memsampler_free(s);
		return errf(e, "memory sampler: cannot start thread: %s",
			    strerror(rc));
	}
	*out = s;
	return 0;
}

static void finish_summary(struct memsampler *s)
{
	struct memsampler_summary *u = &s->sum;
	u->samples = s->nsamples;
	u->wall_s = s->t_stop;
	u->cpu_s = s->thread_cpu_s;
	u->cpu_fraction = u->wall_s > 0 ? u->cpu_s / u->wall_s : 0;
	u->mean_sample_us =
		s->thread_samples ? u->cpu_s / (double)s->thread_samples * 1e6 : 0;
}

double memsampler_thread_cpu_s(struct memsampler *s)
{
	clockid_t cid;
	struct timespec t;
	/* a thread that ended on its own (the root exited) keeps its last
	 * reading */
	if (s && s->running && pthread_getcpuclockid(s->thread, &cid) == 0 &&
	    clock_gettime(cid, &t) == 0)
		s->own_cpu_s = (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
	return s ? s->own_cpu_s : 0;
}

int memsampler_stop(struct memsampler *s, errbuf *e)
{
	if (!s || !s->running)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->stop_flag = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->running = 0;
	/* a closing sample so short repetitions still show their end; the
	 * root may have exited, which is not an error here */
	if (!s->thread_err) {
		struct memsample m;
		memset(&m, 0, sizeof m);
		m.t_s = now_s(s);
		struct walk_opts w = {s->page_size, 1, 1, 0};
		if (walk_tree(&s->pc, s->o.root, &w, &m) == 0) {
			read_system(&s->pc, s->devshm_path, 1, &m);
			read_heap(s, &m);
			record(s, &m, 1);
		}
	}
	s->t_stop = now_s(s);
	finish_summary(s);
	(void)e;
	return 0;
}

void memsampler_free(struct memsampler *s)
{
	if (!s)
		return;
	if (s->running)
		memsampler_stop(s, NULL);
	cache_free(&s->pc);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->pts);
	free(s);
}

void memsampler_summary(const struct memsampler *s,
			struct memsampler_summary *out)
{
	*out = s->sum;
}

size_t memsampler_series(const struct memsampler *s,
			 const struct memsample **points)
{
	*points = s->pts;
	return s->npts;
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *unavailable(const char *reason)
{
	return json_pack("{s:b, s:s}", "available", 0, "reason", reason);
}

static json_t *series_json(const struct memsampler *s)
{
	json_t *t = json_array(), *rss = json_array(), *pss = json_array();
	json_t *th = json_array(), *pr = json_array(), *ca = json_array();
	json_t *sh = json_array(), *ds = json_array(), *hp = json_array();
	json_t *an = json_array(), *df = json_array();
	for (size_t i = 0; i < s->npts; i++) {
		const struct memsample *m = &s->pts[i];
		json_array_append_new(t, json_real(m->t_s));
		json_array_append_new(rss, json_integer((json_int_t)m->rss));
		/* null: PSS not read in this sample (it is read sparsely) */
		json_array_append_new(pss, m->pss_valid ?
			json_integer((json_int_t)m->pss) : json_null());
		json_array_append_new(th, json_integer(m->threads));
		json_array_append_new(pr, json_integer(m->procs));
		json_array_append_new(ca, json_integer((json_int_t)m->cached));
		json_array_append_new(sh, json_integer((json_int_t)m->shmem));
		json_array_append_new(ds, m->devshm_valid ?
			json_integer((json_int_t)m->devshm) : json_null());
		json_array_append_new(an, json_integer((json_int_t)m->anon));
		json_array_append_new(df, m->devshm_valid ?
			json_integer((json_int_t)m->devshm_files) : json_null());
		json_array_append_new(hp, m->heap_valid ?
			json_integer((json_int_t)m->heap) : json_null());
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "t_s", t, "rss_bytes", rss, "pss_bytes", pss,
			      "threads", th, "processes", pr, "cached_bytes", ca,
			      "shmem_bytes", sh, "devshm_bytes", ds);
	json_object_set_new(o, "anon_bytes", an);
	json_object_set_new(o, "devshm_files", df);
	if (s->o.heap)
		json_object_set_new(o, "heap_bytes", hp);
	else
		json_decref(hp);
	return o;
}

json_t *memsampler_json(const struct memsampler *s)
{
	const struct memsampler_summary *u = &s->sum;
	json_t *o = json_object();
	json_object_set_new(o, "interval_s", json_real(s->o.interval_s));
	json_object_set_new(o, "samples", json_integer((json_int_t)u->samples));
	json_object_set_new(o, "root_pid", json_integer(s->o.root));
	json_object_set_new(o, "peak_rss_bytes",
			    json_integer((json_int_t)u->peak_rss));
	json_object_set_new(o, "baseline_rss_bytes",
			    json_integer((json_int_t)u->baseline_rss));
	json_object_set_new(o, "peak_pss_bytes", u->pss_available ?
		json_integer((json_int_t)u->peak_pss) :
		unavailable(u->pss_reason));
	json_object_set_new(o, "pss_readings",
			    json_integer((json_int_t)u->pss_readings));
	json_object_set_new(o, "peak_threads", json_integer(u->peak_threads));
	json_object_set_new(o, "peak_processes", json_integer(u->peak_procs));
	json_object_set_new(o, "peak_cached_bytes",
			    json_integer((json_int_t)u->peak_cached));
	json_object_set_new(o, "peak_shmem_bytes",
			    json_integer((json_int_t)u->peak_shmem));
	json_object_set_new(o, "peak_devshm_bytes", u->devshm_available ?
		json_integer((json_int_t)u->peak_devshm) :
		unavailable(u->devshm_reason));
	json_object_set_new(o, "peak_devshm_files", u->devshm_available ?
		json_integer((json_int_t)u->peak_devshm_files) :
		unavailable(u->devshm_reason));
	json_object_set_new(o, "peak_heap_bytes", s->o.heap ?
		json_integer((json_int_t)u->peak_heap) :
		unavailable("malloc's figures are per process and the workload "
			    "ran in other processes"));
	json_object_set_new(o, "sampler_cpu_fraction",
			    json_real(u->cpu_fraction));
	json_object_set_new(o, "series", series_json(s));
	return o;
}

/* ---- the probe -------------------------------------------------------- */

static int probe_start(const struct probe_config *c, void **state, errbuf *e)
{
	struct memsampler_opts o = {0};
	o.root = c ? c->root_pid : 0;
	o.interval_s = c ? c->mem_interval_s : 0;
	o.pss = 1;
	o.heap = c ? c->in_process : 0;
	return memsampler_start(&o, (struct memsampler **)state, e);
}

static int probe_stop(void *state, json_t *rep, errbuf *e)
{
	struct memsampler *s = state;
	if (memsampler_stop(s, e) < 0)
		return -1;
	json_t *m = memsampler_json(s);
	if (!m || json_object_set_new(rep, "memory", m) < 0)
		return errf(e, "memory sampler: cannot add figures to the "
			       "repetition");
	return 0;
}

static void probe_release(void *state)
{
	memsampler_free(state);
}

static double probe_own_cpu(void *state)
{
	return memsampler_thread_cpu_s(state);
}

static int cmp_i64(const void *a, const void *b)
{
	json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;
	return (x > y) - (x < y);
}

/* Median and max of one peak over the repetitions that have it. */
static json_t *summarise_key(json_t *reps, const char *key, json_t *out)
{
	size_t n = json_array_size(reps), k = 0, i;
	json_int_t *v = calloc(n ? n : 1, sizeof *v);
	const char *reason = "no repetition has this figure";
	json_t *rep;
	json_array_foreach(reps, i, rep) {
		json_t *f = json_object_get(json_object_get(rep, "memory"), key);
		if (json_is_integer(f))
			v[k++] = json_integer_value(f);
		else if (json_is_object(f) &&
			 json_is_string(json_object_get(f, "reason")))
			reason = json_string_value(json_object_get(f, "reason"));
	}
	if (k == 0) {
		json_object_set_new(out, key, unavailable(reason));
	} else {
		qsort(v, k, sizeof *v, cmp_i64);
		json_int_t med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
		char maxkey[64];
		snprintf(maxkey, sizeof maxkey, "%s_max", key);
		json_object_set_new(out, key, json_integer(med));
		json_object_set_new(out, maxkey, json_integer(v[k - 1]));
	}
	free(v);
	return out;
}

static int probe_summarise(json_t *config, errbuf *e)
{
	static const char *const keys[] = {
		"peak_rss_bytes", "peak_pss_bytes", "baseline_rss_bytes",
		"peak_threads", "peak_processes", "peak_shmem_bytes",
		"peak_cached_bytes", "peak_devshm_bytes", "peak_heap_bytes", NULL};
	json_t *reps = json_object_get(config, "reps");
	if (!json_is_array(reps))
		return errf(e, "memory summary: the configuration has no "
			       "repetitions");
	size_t i, have = 0;
	double cpu_max = 0;
	json_t *rep;
	json_array_foreach(reps, i, rep) {
		json_t *m = json_object_get(rep, "memory");
		if (!json_is_object(m))
			continue;
		have++;
		double c = json_number_value(json_object_get(m, "sampler_cpu_fraction"));
		if (c > cpu_max)
			cpu_max = c;
	}
	if (have == 0)
		return errf(e, "memory summary: no repetition has memory "
			       "figures");
	json_t *out = json_object();
	json_object_set_new(out, "statistic",
			    json_string("median of repetition peaks; "
					"<key>_max is the largest"));
	json_object_set_new(out, "reps", json_integer((json_int_t)have));
	for (size_t k = 0; keys[k]; k++)
		summarise_key(reps, keys[k], out);
	json_object_set_new(out, "sampler_cpu_fraction_max", json_real(cpu_max));
	if (json_object_set_new(config, "memory", out) < 0)
		return errf(e, "memory summary: cannot store the summary");
	return 0;
}

const struct probe_ops probe_memory = {
	.name = "memory",
	.start = probe_start,
	.stop = probe_stop,
	.release = probe_release,
	.summarise = probe_summarise,
	.own_cpu_s = probe_own_cpu,
};
