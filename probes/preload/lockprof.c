/* lockprof.c - LD_PRELOAD lock profiler (bin/libcontend-lockprof.so), in the
 * spirit of mutrace: counts acquisitions, contention and wait time of every
 * pthread mutex, rwlock and condition variable of any dynamically linked
 * program, with call sites, and writes one JSON report per process at exit.
 *
 * How it measures. Every blocking acquisition first looks at the lock (a
 * mutex's lock word, a trylock for the rest); only when it is held is the
 * acquisition contended, and only then is the clock read around the real
 * blocking call, so an uncontended mutex costs a load, a hash probe and an
 * add to a counter of the thread's own (make bench measures it). Condition-variable waits are always
 * timed (a waiter is waiting by definition) and reported as kind "cond":
 * that is where CPython's GIL waiters show up.
 *
 * Global mutable state, and why. An interposer has no caller to hand it a
 * context: the lock table, the resolved libc entry points and the process
 * info are file-scope statics. The table is fixed-size and lock-free
 * (slots are claimed with a CAS on the key and never freed), so the hot
 * path never allocates and never takes a lock of its own. A thread-local
 * "busy" flag makes every lock call made by the profiler itself (backtrace,
 * jansson, stdio at exit) go straight to libc, so nothing recurses.
 *
 * Environment:
 *   CONTEND_LOCKPROF_DIR     directory for the report; unset: no file.
 *   CONTEND_LOCKPROF_STDERR  "1": print the report on stderr when no
 *                            directory is given (for a quick look by hand).
 *   CONTEND_LOCKPROF_FRAMES  caller frames kept per call site (0-8, def. 4).
 *   CONTEND_LOCKPROF_MAX_LOCKS  locks listed in a report (default 256;
 *                            totals always cover every lock).
 *   CONTEND_LOCKPROF_EXIT_HOOK  "0": do not report from _exit (see there).
 * The directory is read once, at start. A process reports at exit(), at
 * return from main and at _exit(); one killed by a signal reports nothing.
 *
 *   CONTEND_LOCKPROF_STACK_DEPTH  frames of the call stack taken on every
 *                            contended wait (0-16, default 12; 0: none).
 *
 * Call stacks. Every contended wait (never an uncontended acquisition)
 * takes a short stack with libunwind's unw_backtrace, dlopen'ed
 * RTLD_LOCAL so its _Unwind_* and backtrace symbols never replace the
 * program's; its per-thread cache makes a 12-frame stack ~0.1 us. Without
 * libunwind, glibc's backtrace (~2 us). Stacks are aggregated per lock by
 * their frames up to the first one outside the runtime (python*, libpython,
 * libc, libpthread, ld.so, this library), the "module": the code that
 * keeps taking the lock. The runtime's address ranges are fixed at start.
 *
 * Report (schema "contend-lockprof/1"): process {pid, ppid, argv0, exe,
 * forked}, wall_ns, unwinder, totals, census (census.c), and locks
 * [{address, kind, name, identity, named_by, acquisitions, contended,
 * wait_ns, max_wait_ns, timeouts, sites [{pc, where, object, symbol,
 * offset, count, wait_ns, frames}], stacks [{count, wait_ns, frames,
 * module}]}], most waited-on first. For a cond, contended counts all waits
 * and acquisitions the signalled ones. name/identity say what the lock is
 * when it is recognised (lock_name() below), else null. Locks are keyed by
 * address: a lock destroyed and re-created at the same address keeps
 * counting in the same entry.
 *
 * Report files are named lockprof-<pid>-<random>.json, written under a
 * ".tmp" name opened O_CREAT|O_EXCL|O_NOFOLLOW mode 0600 and renamed into
 * place when complete, so a reader never sees half a report. jansson is
 * safe here because it is only used at exit, with the busy flag set: its
 * mallocs and any lock calls it makes are not profiled and cannot recurse. */

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <jansson.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probes/preload/census.h"

#define LP_LIKELY(x) __builtin_expect(!!(x), 1)
#define LP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LP_EXPORT __attribute__((visibility("default")))

/* ---- the lock table ---------------------------------------------------- */

enum lp_kind { LP_MUTEX = 1, LP_RWLOCK = 2, LP_COND = 3 };
static const char *const lp_kind_name[] = {"?", "mutex", "rwlock", "cond"};

#define LP_TABLE_BITS 14 /* 16384 locks; 1 MiB of BSS, touched sparsely */
#define LP_TABLE_SIZE (1u << LP_TABLE_BITS)
#define LP_PROBES 64	 /* linear-probe limit before giving up on a lock */
#define LP_SITES 6	 /* call sites kept per lock; the rest go to "other" */
#define LP_MAX_FRAMES 8
#define LP_CHUNKS 4096	 /* locks that can have call sites (contended ones) */

struct lp_site {
	_Atomic uintptr_t pc; /* return address into the caller; 0 = free */
	_Atomic uint64_t count;
	_Atomic uint64_t wait_ns;
	_Atomic int nframes; /* set (release) once frames[] is filled */
	void *frames[LP_MAX_FRAMES]; /* the caller's callers, first seen */
};

#define LP_STACKS 8	   /* distinct stacks kept per lock; the rest: "other" */
#define LP_STACK_FRAMES 16

/* One distinct call stack of contended waits on a lock. */
struct lp_stack {
	_Atomic uint64_t hash; /* of frames[0..outside]; 0 = free */
	_Atomic uint64_t count;
	_Atomic uint64_t wait_ns;
	_Atomic int nframes; /* set (release) once frames[] is filled */
	int outside;	     /* first frame outside the runtime; -1: none */
	void *frames[LP_STACK_FRAMES]; /* frames[0] is the call site */
};

struct lp_chunk {
	struct lp_site site[LP_SITES];
	_Atomic uint64_t other_count;
	_Atomic uint64_t other_wait_ns;
	struct lp_stack stack[LP_STACKS];
	_Atomic uint64_t other_stack_count;
	_Atomic uint64_t other_stack_wait_ns;
};

/* One cache line per lock so counters of different locks never share. */
struct lp_slot {
	_Atomic uintptr_t key; /* lock address | kind; 0 = free */
	_Atomic uint64_t acquisitions;
	_Atomic uint64_t contended;
	_Atomic uint64_t wait_ns;
	_Atomic uint64_t max_wait_ns;
	_Atomic uint64_t timeouts;
	_Atomic uint32_t chunk; /* 1-based index into lp_chunks; 0 = none */
} __attribute__((aligned(64)));

static struct lp_slot lp_table[LP_TABLE_SIZE];

/* Acquisitions that took the lock at once are counted in per-thread
 * stripes, not in the slot: a lock that two threads take millions of times
 * a second (CPython's GIL mutex) would otherwise bounce the slot's cache
 * line between their cores on every acquisition, as the lock itself does,
 * and with its locked add that was the profiler's largest cost on the
 * traced Cython program. A stripe belongs to one thread, which alone
 * writes it (a relaxed load and store, no locked instruction), so it must
 * never be shared: the first LP_STRIPES threads of a process get one each,
 * later threads count in the slot with an atomic add. Stripes are not
 * reused when a thread exits (its counts stay in them). 128 KiB of BSS per
 * stripe, touched only where locks are. */
#define LP_STRIPES 64
static _Atomic uint64_t lp_acq[LP_STRIPES][LP_TABLE_SIZE] __attribute__((aligned(64)));
static _Atomic uint32_t lp_stripes_given;
static struct lp_chunk lp_chunks[LP_CHUNKS];
static _Atomic uint32_t lp_chunks_used;
static _Atomic uint64_t lp_untracked; /* operations on locks not in table */
static _Atomic uint64_t lp_sites_lost; /* contended ops with no site chunk */

/* ---- per-thread and per-process state ---------------------------------- */

/* initial-exec: a preloaded library sits in static TLS, and this model
 * never calls __tls_get_addr (which may allocate) on first access. */
static __thread int lp_busy __attribute__((tls_model("initial-exec")));
static __thread int lp_resolving __attribute__((tls_model("initial-exec")));
static __thread int lp_stripe __attribute__((tls_model("initial-exec"))); /* 1-based; 0: none yet; -1: none left */

static struct {
	pid_t pid;
	int forked; /* this process is a fork child of a profiled one */
	uint64_t start_ns;
	char argv0[256];
	int frames; /* CONTEND_LOCKPROF_FRAMES */
	int stack_depth; /* CONTEND_LOCKPROF_STACK_DEPTH */
	int max_locks;
	_Atomic int reported;
} lp_proc = {.frames = 4, .stack_depth = 12, .max_locks = 256};

/* ---- the real functions ------------------------------------------------ */

static struct {
	int (*mutex_lock)(pthread_mutex_t *);
	int (*mutex_trylock)(pthread_mutex_t *);
	int (*mutex_timedlock)(pthread_mutex_t *, const struct timespec *);
	int (*mutex_unlock)(pthread_mutex_t *);
	int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
	int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
	int (*cond_clockwait)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
			      const struct timespec *);
	int (*rwlock_rdlock)(pthread_rwlock_t *);
	int (*rwlock_tryrdlock)(pthread_rwlock_t *);
	int (*rwlock_wrlock)(pthread_rwlock_t *);
	int (*rwlock_trywrlock)(pthread_rwlock_t *);
	int (*rwlock_unlock)(pthread_rwlock_t *);
} lp_real;
static _Atomic int lp_resolved;

/* glibc's exported aliases: bound by the dynamic linker at load time, so
 * they work while dlsym is still running (an allocator that locks from
 * inside dlsym would otherwise find no function to call). */
extern int __pthread_mutex_lock(pthread_mutex_t *);
extern int __pthread_mutex_trylock(pthread_mutex_t *);
extern int __pthread_mutex_unlock(pthread_mutex_t *);
extern int __pthread_rwlock_rdlock(pthread_rwlock_t *);
extern int __pthread_rwlock_tryrdlock(pthread_rwlock_t *);
extern int __pthread_rwlock_wrlock(pthread_rwlock_t *);
extern int __pthread_rwlock_trywrlock(pthread_rwlock_t *);
extern int __pthread_rwlock_unlock(pthread_rwlock_t *);

static void *lp_sym(const char *name, const char *version)
{
	void *p = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
	return p ? p : dlsym(RTLD_NEXT, name);
}

/* Look every entry point up once. Races between threads are benign: they
 * all store the same values. pthread_cond_* asks for GLIBC_2.3.2 because an
 * unversioned lookup may bind the pre-2.3.2 condvar implementation. */
static void lp_resolve(void)
{
	lp_resolving = 1;
#define LP_LOAD(field, name, ver) *(void **)&lp_real.field = lp_sym(name, ver)
	LP_LOAD(mutex_lock, "pthread_mutex_lock", NULL);
	LP_LOAD(mutex_trylock, "pthread_mutex_trylock", NULL);
	LP_LOAD(mutex_timedlock, "pthread_mutex_timedlock", NULL);
	LP_LOAD(mutex_unlock, "pthread_mutex_unlock", NULL);
	LP_LOAD(cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
	LP_LOAD(cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
	LP_LOAD(cond_clockwait, "pthread_cond_clockwait", NULL);
	LP_LOAD(rwlock_rdlock, "pthread_rwlock_rdlock", NULL);
	LP_LOAD(rwlock_tryrdlock, "pthread_rwlock_tryrdlock", NULL);
	LP_LOAD(rwlock_wrlock, "pthread_rwlock_wrlock", NULL);
	LP_LOAD(rwlock_trywrlock, "pthread_rwlock_trywrlock", NULL);
	LP_LOAD(rwlock_unlock, "pthread_rwlock_unlock", NULL);
#undef LP_LOAD
	/* Fall back to the aliases should RTLD_NEXT find nothing (a program
	 * linked in an unusual order); never leave a NULL to call. */
	if (!lp_real.mutex_lock) lp_real.mutex_lock = __pthread_mutex_lock;
	if (!lp_real.mutex_trylock) lp_real.mutex_trylock = __pthread_mutex_trylock;
	if (!lp_real.mutex_unlock) lp_real.mutex_unlock = __pthread_mutex_unlock;
	if (!lp_real.rwlock_rdlock) lp_real.rwlock_rdlock = __pthread_rwlock_rdlock;
	if (!lp_real.rwlock_tryrdlock) lp_real.rwlock_tryrdlock = __pthread_rwlock_tryrdlock;
	if (!lp_real.rwlock_wrlock) lp_real.rwlock_wrlock = __pthread_rwlock_wrlock;
	if (!lp_real.rwlock_trywrlock) lp_real.rwlock_trywrlock = __pthread_rwlock_trywrlock;
	if (!lp_real.rwlock_unlock) lp_real.rwlock_unlock = __pthread_rwlock_unlock;
	atomic_store_explicit(&lp_resolved, 1, memory_order_release);
	lp_resolving = 0;
}

/* 1: the real functions may be called; 0: this very thread is inside
 * lp_resolve (dlsym called back into us) and must use a fallback. */
static inline int lp_ready(void)
{
	if (LP_LIKELY(atomic_load_explicit(&lp_resolved, memory_order_acquire)))
		return 1;
	if (lp_resolving)
		return 0;
	lp_resolve();
	return 1;
}

/* ---- clock and table helpers ------------------------------------------- */

static inline uint64_t lp_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline struct lp_slot *lp_slot_get(const void *lock, enum lp_kind kind)
{
	uintptr_t key = (uintptr_t)lock | (uintptr_t)kind;
	uint64_t h = ((uint64_t)(uintptr_t)lock >> 3) * 0x9E3779B97F4A7C15ull;
	uint32_t i = (uint32_t)(h >> (64 - LP_TABLE_BITS));
	for (int n = 0; n < LP_PROBES; n++, i = (i + 1) & (LP_TABLE_SIZE - 1)) {
		struct lp_slot *s = &lp_table[i];
		uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
		if (LP_LIKELY(k == key))
			return s;
		if (k == 0) {
			uintptr_t expect = 0;
			if (atomic_compare_exchange_strong(&s->key, &expect, key) ||
			    expect == key)
				return s;
		}
	}
	atomic_fetch_add_explicit(&lp_untracked, 1, memory_order_relaxed);
	return NULL;
}

static inline void lp_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static void lp_max(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(m, memory_order_relaxed);
	while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
		;
}

static struct lp_chunk *lp_chunk_of(struct lp_slot *s)
{
	uint32_t c = atomic_load_explicit(&s->chunk, memory_order_acquire);
	if (c)
		return &lp_chunks[c - 1];
	uint32_t mine = atomic_fetch_add(&lp_chunks_used, 1) + 1;
	if (mine > LP_CHUNKS)
		return NULL;
	uint32_t expect = 0;
	if (!atomic_compare_exchange_strong(&s->chunk, &expect, mine))
		mine = expect; /* another thread won; our chunk stays unused */
	return &lp_chunks[mine - 1];
}

/* ---- the unwinder and the runtime's address ranges ------------------- */

/* unw_backtrace from libunwind.so.8 when it loads, else glibc's. Set once
 * at start, single-threaded. */
static int (*lp_unw_backtrace)(void **, int);
static const char *lp_unwinder = "none";

#define LP_STR2(x) #x
#define LP_STR(x) LP_STR2(x)

static void lp_unwind_init(void)
{
	lp_unwinder = "backtrace";
	void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	int (*policy)(unw_addr_space_t, unw_caching_policy_t) =
		(int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(h, LP_STR(unw_set_caching_policy));
	unw_addr_space_t *local = dlsym(h, LP_STR(unw_local_addr_space));
	*(void **)&lp_unw_backtrace = dlsym(h, "unw_backtrace");
	if (!lp_unw_backtrace)
		return;
	/* Per thread: the global cache takes a lock on every step. */
	if (policy && local)
		policy(*local, UNW_CACHE_PER_THREAD);
	lp_unwinder = "libunwind";
}

static int lp_backtrace(void **buf, int n)
{
	return lp_unw_backtrace ? lp_unw_backtrace(buf, n) : backtrace(buf, n);
}

/* Executable ranges of the runtime: the objects whose frames are never
 * the answer to "whose code takes this lock". */
#define LP_RANGES 32
static struct {
	uintptr_t lo, hi;
} lp_rt[LP_RANGES];
static int lp_nrt;
static char lp_exe[PATH_MAX];

static int lp_runtime_name(const char *path)
{
	static const char *const prefixes[] = {"libpython", "libc.so", "libc-", "libpthread",
					       "libdl.", "ld-linux", "ld64.so", "ld.so",
					       "libcontend-lockprof", NULL};
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (const char *const *p = prefixes; *p; p++)
		if (!strncmp(base, *p, strlen(*p)))
			return 1;
	return 0;
}

static int lp_range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : NULL;
	const char *base = strrchr(name ? name : lp_exe, '/');
	base = base ? base + 1 : (name ? name : lp_exe);
	/* The main program is the runtime only when it is an interpreter. */
	int rt = name ? lp_runtime_name(name) : !strncmp(base, "python", 6);
	for (int i = 0; rt && i < info->dlpi_phnum && lp_nrt < LP_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		lp_rt[lp_nrt].lo = info->dlpi_addr + ph->p_vaddr;
		lp_rt[lp_nrt].hi = lp_rt[lp_nrt].lo + ph->p_memsz;
		lp_nrt++;
	}
	return 0;
}

static int lp_in_runtime(uintptr_t pc)
{
	for (int i = 0; i < lp_nrt; i++)
		if (pc - 1 >= lp_rt[i].lo && pc - 1 < lp_rt[i].hi)
			return 1;
	return 0;
}

/* ---- stacks ------------------------------------------------------------ */

/* The caller's stack, starting at the call site pc: frames above it are the
 * profiler's own. Returns the number of frames in out (0 when pc is not
 * found, e.g. an unwinder that cannot read this stack). */
static int lp_stack_from(uintptr_t pc, void **out, int want)
{
	void *buf[LP_STACK_FRAMES + 8];
	int n = lp_backtrace(buf, want + 8), at = -1, k = 0;
	for (int i = 0; i < n && at < 0; i++)
		if ((uintptr_t)buf[i] == pc)
			at = i;
	for (int i = at; at >= 0 && i < n && k < want; i++)
		out[k++] = buf[i];
	return k;
}

static uint64_t lp_hash_frames(void *const *f, int n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < n; i++)
		h = (h ^ (uint64_t)(uintptr_t)f[i]) * 0x100000001b3ull;
	return h | 1;
}

/* A contended wait's call stack, taken when the wait is over. Taken
 * before the real blocking call instead, the unwinding would seem to
 * overlap the wait, but measured on the traced Cython story it made the
 * profiler cost 1.38x instead of 1.08x: a waiter that arrives later at a
 * GIL hand-over, or holds the GIL's mutex while unwinding before its
 * condition wait, turns a quick hand-over into a futex sleep and wake-up.
 * Called with lp_busy set: the unwinder may take locks of its own. */
struct lp_pending {
	uintptr_t pc;
	int n;
	void *f[LP_STACK_FRAMES];
};

static void lp_pending_take(struct lp_pending *p, uintptr_t pc)
{
	p->pc = pc;
	p->n = lp_proc.stack_depth > 0 ? lp_stack_from(pc, p->f, lp_proc.stack_depth) : 0;
}

/* Count one contended wait under its stack. Two stacks that agree up to
 * the first frame outside the runtime are one entry: what differs deeper
 * (the module's own callers) is not what the lock is waited on for. */
static void lp_stack_add(struct lp_chunk *c, struct lp_pending *p, uint64_t wait)
{
	void **f = p->f;
	int n = p->n, outside = -1;
	if (n == 0) {
		f[0] = (void *)p->pc;
		n = 1;
	}
	for (int i = 0; i < n && outside < 0; i++)
		if (!lp_in_runtime((uintptr_t)f[i]))
			outside = i;
	uint64_t h = lp_hash_frames(f, outside >= 0 ? outside + 1 : n);
	for (int i = 0; i < LP_STACKS; i++) {
		struct lp_stack *st = &c->stack[i];
		uint64_t cur = atomic_load_explicit(&st->hash, memory_order_acquire);
		if (cur == 0) {
			uint64_t expect = 0;
			if (atomic_compare_exchange_strong(&st->hash, &expect, h)) {
				memcpy(st->frames, f, (size_t)n * sizeof f[0]);
				st->outside = outside;
				atomic_store_explicit(&st->nframes, n, memory_order_release);
				cur = h;
			} else {
				cur = expect;
			}
		}
		if (cur == h) {
			lp_add(&st->count, 1);
			lp_add(&st->wait_ns, wait);
			return;
		}
	}
	lp_add(&c->other_stack_count, 1);
	lp_add(&c->other_stack_wait_ns, wait);
}

/* Keep the callers of the call site, once per site: the site key is only
 * the immediate return address (free to get); its callers come from the
 * wait's stack when one was taken, else from a short backtrace paid only
 * the first time a site is seen contended. */
static void lp_capture_frames(struct lp_site *site, const struct lp_pending *pend)
{
	void *buf[LP_MAX_FRAMES + 6];
	int want = lp_proc.frames, n = 0, k = 0, at = -1;
	if (pend->n > 0) {
		for (int i = 1; i < pend->n && k < want; i++)
			site->frames[k++] = pend->f[i];
		if (k == want || pend->n < lp_proc.stack_depth) {
			atomic_store_explicit(&site->nframes, k, memory_order_release);
			return;
		}
		k = 0; /* the stack was cut shorter than the frames wanted */
	}
	if (want > 0)
		n = lp_backtrace(buf, want + 6);
	for (int i = 0; i < n && at < 0; i++)
		if ((uintptr_t)buf[i] == pend->pc)
			at = i;
	for (int i = at + 1; at >= 0 && i < n && k < want; i++)
		site->frames[k++] = buf[i];
	atomic_store_explicit(&site->nframes, k, memory_order_release);
}

static void lp_site_add(struct lp_slot *s, struct lp_pending *pend, uint64_t wait)
{
	uintptr_t pc = pend->pc;
	struct lp_chunk *c = lp_chunk_of(s);
	if (!c) {
		lp_add(&lp_sites_lost, 1);
		return;
	}
	if (lp_proc.stack_depth > 0)
		lp_stack_add(c, pend, wait);
	for (int i = 0; i < LP_SITES; i++) {
		struct lp_site *site = &c->site[i];
		uintptr_t p = atomic_load_explicit(&site->pc, memory_order_acquire);
		if (p == 0) {
			uintptr_t expect = 0;
			if (atomic_compare_exchange_strong(&site->pc, &expect, pc)) {
				lp_capture_frames(site, pend);
				p = pc;
			} else {
				p = expect;
			}
		}
		if (p == pc) {
			lp_add(&site->count, 1);
			lp_add(&site->wait_ns, wait);
			return;
		}
	}
	lp_add(&c->other_count, 1);
	lp_add(&c->other_wait_ns, wait);
}

/* Account one timed wait; `acquired` is 0 for a wait that timed out. */
static void lp_record_wait(const void *lock, enum lp_kind kind, struct lp_pending *pend,
			   uint64_t wait, int acquired, int timedout)
{
	struct lp_slot *s = lp_slot_get(lock, kind);
	if (!s)
		return;
	if (acquired)
		lp_add(&s->acquisitions, 1);
	lp_add(&s->contended, 1);
	lp_add(&s->wait_ns, wait);
	lp_max(&s->max_wait_ns, wait);
	if (timedout)
		lp_add(&s->timeouts, 1);
	lp_site_add(s, pend, wait);
}

static int lp_stripe_take(void)
{
	uint32_t k = atomic_fetch_add_explicit(&lp_stripes_given, 1, memory_order_relaxed);
	return k < LP_STRIPES ? (int)k + 1 : -1;
}

static inline void lp_record_fast(const void *lock, enum lp_kind kind)
{
	struct lp_slot *s = lp_slot_get(lock, kind);
	if (LP_UNLIKELY(s == NULL))
		return;
	int k = lp_stripe;
	if (LP_UNLIKELY(k == 0))
		k = lp_stripe = lp_stripe_take();
	if (LP_UNLIKELY(k < 0)) {
		lp_add(&s->acquisitions, 1);
		return;
	}
	_Atomic uint64_t *c = &lp_acq[k - 1][s - lp_table];
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* Did this return code leave the caller holding the lock? */
static inline int lp_got(int rc)
{
	return rc == 0 || rc == EOWNERDEAD;
}

/* ---- fallbacks while dlsym is running on this thread ------------------- */

static int lp_deadline_passed(const struct timespec *abs, clockid_t clk)
{
	struct timespec now;
	clock_gettime(clk, &now);
	return now.tv_sec > abs->tv_sec ||
	       (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

static int lp_fallback_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	int rc;
	while ((rc = __pthread_mutex_trylock(m)) == EBUSY) {
		if (lp_deadline_passed(abs, CLOCK_REALTIME))
			return ETIMEDOUT;
		sched_yield();
	}
	return rc;
}

/* A wait that wakes at once is a spurious wakeup, which POSIX allows, so
 * it is a correct (if busy) stand-in for the real condition wait. */
static int lp_fallback_condwait(pthread_mutex_t *m)
{
	__pthread_mutex_unlock(m);
	sched_yield();
	return __pthread_mutex_lock(m);
}

/* ---- the interposed functions ------------------------------------------ */

#define LP_CALLER() ((uintptr_t)__builtin_return_address(0))
#define LP_COLD __attribute__((noinline, cold))

/* The contended paths are out of line, so that the uncontended ones stay
 * a few instructions with few registers to save and no stack buffer. */
static LP_COLD int lp_mutex_wait(pthread_mutex_t *m, uintptr_t pc)
{
	struct lp_pending pend;
	uint64_t t0 = lp_now();
	int rc = lp_real.mutex_lock(m);
	uint64_t t1 = lp_now();
	lp_busy = 1;
	lp_pending_take(&pend, pc);
	lp_record_wait(m, LP_MUTEX, &pend, t1 - t0, lp_got(rc), 0);
	lp_busy = 0;
	return rc;
}

LP_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_mutex_lock(m);
	if (LP_UNLIKELY(lp_busy))
		return lp_real.mutex_lock(m);
	/* A free lock is taken with the real lock call: glibc's trylock is
	 * itself 7 ns slower than its lock (measured here), which was most of
	 * the profiler's cost per uncontended pair. The lock word is glibc's
	 * ABI (0: free, whatever the mutex type). A wait that starts between
	 * this read and the call, a few nanoseconds, is not timed: contended
	 * counts are a lower bound by that much. */
	if (LP_LIKELY(__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) == 0)) {
		int rc = lp_real.mutex_lock(m);
		if (LP_LIKELY(lp_got(rc)))
			lp_record_fast(m, LP_MUTEX);
		return rc;
	}
	/* Held: by this thread (a recursive mutex) trylock takes it at once. */
	int rc = lp_real.mutex_trylock(m);
	if (lp_got(rc)) {
		lp_record_fast(m, LP_MUTEX);
		return rc;
	}
	if (rc != EBUSY) /* EINVAL, EAGAIN, ...: let the real call decide */
		return lp_real.mutex_lock(m);
	return lp_mutex_wait(m, LP_CALLER());
}

LP_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_mutex_trylock(m);
	int rc = lp_real.mutex_trylock(m);
	if (lp_got(rc) && !lp_busy)
		lp_record_fast(m, LP_MUTEX);
	return rc;
}

LP_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	if (LP_UNLIKELY(!lp_ready()))
		return lp_fallback_timedlock(m, abs);
	if (LP_UNLIKELY(lp_busy))
		return lp_real.mutex_timedlock(m, abs);
	int rc = lp_real.mutex_trylock(m);
	if (LP_LIKELY(lp_got(rc))) {
		lp_record_fast(m, LP_MUTEX);
		return rc;
	}
	if (rc != EBUSY)
		return lp_real.mutex_timedlock(m, abs);
	struct lp_pending pend;
	uint64_t t0 = lp_now();
	rc = lp_real.mutex_timedlock(m, abs);
	uint64_t t1 = lp_now();
	lp_busy = 1;
	lp_pending_take(&pend, LP_CALLER());
	lp_record_wait(m, LP_MUTEX, &pend, t1 - t0, lp_got(rc), rc == ETIMEDOUT);
	lp_busy = 0;
	return rc;
}

LP_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_mutex_unlock(m);
	return lp_real.mutex_unlock(m);
}

/* Condition waits: the whole time inside the real wait counts, including
 * re-taking the mutex afterwards (the two cannot be told apart from
 * outside). That re-acquisition is not counted on the mutex itself. */
static int lp_cond_timed(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
			 const struct timespec *abs, int which, uintptr_t pc)
{
	struct lp_pending pend;
	uint64_t t0 = lp_now();
	int rc;
	if (which == 0)
		rc = lp_real.cond_wait(c, m);
	else if (which == 1)
		rc = lp_real.cond_timedwait(c, m, abs);
	else
		rc = lp_real.cond_clockwait(c, m, clk, abs);
	uint64_t t1 = lp_now();
	lp_busy = 1;
	lp_pending_take(&pend, pc);
	lp_record_wait(c, LP_COND, &pend, t1 - t0, rc == 0, rc == ETIMEDOUT);
	lp_busy = 0;
	return rc;
}

LP_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (LP_UNLIKELY(!lp_ready()))
		return lp_fallback_condwait(m);
	if (LP_UNLIKELY(lp_busy))
		return lp_real.cond_wait(c, m);
	return lp_cond_timed(c, m, CLOCK_REALTIME, NULL, 0, LP_CALLER());
}

LP_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				     const struct timespec *abs)
{
	if (LP_UNLIKELY(!lp_ready()))
		return lp_fallback_condwait(m);
	if (LP_UNLIKELY(lp_busy))
		return lp_real.cond_timedwait(c, m, abs);
	return lp_cond_timed(c, m, CLOCK_REALTIME, abs, 1, LP_CALLER());
}

LP_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
				     clockid_t clk, const struct timespec *abs)
{
	if (LP_UNLIKELY(!lp_ready()))
		return lp_fallback_condwait(m);
	if (LP_UNLIKELY(lp_busy) || !lp_real.cond_clockwait)
		return lp_real.cond_clockwait ? lp_real.cond_clockwait(c, m, clk, abs)
					      : lp_fallback_condwait(m);
	return lp_cond_timed(c, m, clk, abs, 2, LP_CALLER());
}

static LP_COLD int lp_rw_wait(pthread_rwlock_t *l, int (*block)(pthread_rwlock_t *),
			      uintptr_t pc)
{
	struct lp_pending pend;
	uint64_t t0 = lp_now();
	int rc = block(l);
	uint64_t t1 = lp_now();
	lp_busy = 1;
	lp_pending_take(&pend, pc);
	lp_record_wait(l, LP_RWLOCK, &pend, t1 - t0, rc == 0, 0);
	lp_busy = 0;
	return rc;
}

static inline int lp_rw(pthread_rwlock_t *l, int (*try)(pthread_rwlock_t *),
			int (*block)(pthread_rwlock_t *), uintptr_t pc)
{
	if (LP_UNLIKELY(lp_busy))
		return block(l);
	int rc = try(l);
	if (LP_LIKELY(rc == 0)) {
		lp_record_fast(l, LP_RWLOCK);
		return 0;
	}
	if (rc != EBUSY)
		return block(l);
	return lp_rw_wait(l, block, pc);
}

LP_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_rwlock_rdlock(l);
	return lp_rw(l, lp_real.rwlock_tryrdlock, lp_real.rwlock_rdlock, LP_CALLER());
}

LP_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_rwlock_wrlock(l);
	return lp_rw(l, lp_real.rwlock_trywrlock, lp_real.rwlock_wrlock, LP_CALLER());
}

LP_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	if (LP_UNLIKELY(!lp_ready()))
		return __pthread_rwlock_unlock(l);
	return lp_real.rwlock_unlock(l);
}

/* ---- symbolisation at exit --------------------------------------------- */

/* An ELF file mapped to read its .symtab: dladdr only sees exported
 * symbols, but the static functions of a non-stripped binary are where
 * most contended locks are taken. */
struct lp_elf {
	char path[PATH_MAX];
	const unsigned char *map;
	size_t size;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	size_t strsize;
	int is_dyn; /* ET_DYN: symbol values are relative to the load base */
};

#define LP_ELF_CACHE 16
static struct lp_elf lp_elves[LP_ELF_CACHE];
static int lp_nelves;

static int lp_elf_parse(struct lp_elf *f)
{
	const Elf64_Ehdr *eh = (const void *)f->map;
	if (f->size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > f->size || eh->e_shnum > (f->size - eh->e_shoff) / sizeof(Elf64_Shdr))
		return -1;
	f->is_dyn = eh->e_type == ET_DYN;
	const Elf64_Shdr *sh = (const void *)(f->map + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const Elf64_Shdr *st = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > f->size || sh[i].sh_size > f->size - sh[i].sh_offset ||
		    st->sh_offset > f->size || st->sh_size > f->size - st->sh_offset)
			return -1;
		f->syms = (const void *)(f->map + sh[i].sh_offset);
		f->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
		f->strs = (const char *)(f->map + st->sh_offset);
		f->strsize = st->sh_size;
		return 0;
	}
	return -1;
}

static struct lp_elf *lp_elf_open(const char *path)
{
	for (int i = 0; i < lp_nelves; i++)
		if (!strcmp(lp_elves[i].path, path))
			return lp_elves[i].map ? &lp_elves[i] : NULL;
	if (lp_nelves == LP_ELF_CACHE)
		return NULL;
	struct lp_elf *f = &lp_elves[lp_nelves++];
	memset(f, 0, sizeof *f);
	snprintf(f->path, sizeof f->path, "%s", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
		void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			f->map = m;
			f->size = (size_t)sb.st_size;
		}
	}
	close(fd);
	if (f->map && lp_elf_parse(f) < 0) {
		munmap((void *)f->map, f->size);
		f->map = NULL;
	}
	return f->map ? f : NULL;
}

static void lp_elf_close_all(void)
{
	for (int i = 0; i < lp_nelves; i++)
		if (lp_elves[i].map)
			munmap((void *)lp_elves[i].map, lp_elves[i].size);
	lp_nelves = 0;
}

/* Name of the function containing addr (as a file address), or NULL. */
static const char *lp_elf_lookup(struct lp_elf *f, uintptr_t addr, uintptr_t *start)
{
	for (size_t i = 0; i < f->nsyms; i++) {
		const Elf64_Sym *s = &f->syms[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_name >= f->strsize)
			continue;
		if (addr >= s->st_value && addr < s->st_value + s->st_size) {
			*start = s->st_value;
			return f->strs + s->st_name;
		}
	}
	return NULL;
}

struct lp_where {
	const char *object; /* path of the module */
	const char *symbol; /* NULL when unknown */
	uintptr_t offset;   /* from the symbol, or from the module base */
};

/* Symbolise a return address. pc-1 is looked up, not pc: a call that ends
 * a function returns to the first byte of the next one. */
static struct lp_where lp_where(uintptr_t pc)
{
	struct lp_where w = {"?", NULL, pc};
	Dl_info di;
	struct link_map *lm = NULL;
	if (!dladdr1((void *)(pc - 1), &di, (void **)&lm, RTLD_DL_LINKMAP))
		return w;
	/* The main program's link map has an empty name, and dli_fname is
	 * then argv[0] (maybe relative): use /proc/self/exe instead. */
	int is_main = lm && lm->l_name && !lm->l_name[0];
	w.object = !is_main && di.dli_fname && *di.dli_fname ? di.dli_fname : lp_exe;
	w.offset = pc - (uintptr_t)di.dli_fbase;
	if (di.dli_sname) {
		w.symbol = di.dli_sname;
		w.offset = pc - (uintptr_t)di.dli_saddr;
		return w;
	}
	struct lp_elf *f = lp_elf_open(w.object);
	if (!f)
		return w;
	uintptr_t file_addr = f->is_dyn ? pc - (uintptr_t)di.dli_fbase : pc, start = 0;
	const char *name = lp_elf_lookup(f, file_addr - 1, &start);
	if (name) {
		w.symbol = name;
		w.offset = file_addr - start;
	}
	return w;
}

/* "symbol+0xoff (object)" or "object+0xoff": one line per frame. */
static json_t *lp_where_str(uintptr_t pc)
{
	struct lp_where w = lp_where(pc);
	const char *base = strrchr(w.object, '/');
	base = base ? base + 1 : w.object;
	char buf[600];
	if (w.symbol)
		snprintf(buf, sizeof buf, "%s+0x%lx (%s)", w.symbol, (unsigned long)w.offset, base);
	else
		snprintf(buf, sizeof buf, "%s+0x%lx", base, (unsigned long)w.offset);
	return json_string(buf);
}

/* ---- the report -------------------------------------------------------- */

static json_t *lp_hex(uintptr_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "0x%lx", (unsigned long)v);
	return json_string(buf);
}

static uint64_t lp_ld(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* Every acquisition of a lock: the contended ones (in the slot) and the
 * stripes' uncontended ones. */
static uint64_t lp_acquisitions(struct lp_slot *s)
{
	uint64_t n = lp_ld(&s->acquisitions);
	for (int k = 0; k < LP_STRIPES; k++)
		n += lp_ld(&lp_acq[k][s - lp_table]);
	return n;
}

static json_t *lp_site_json(struct lp_site *site)
{
	uintptr_t pc = atomic_load(&site->pc);
	struct lp_where w = lp_where(pc);
	json_t *frames = json_array();
	int n = atomic_load_explicit(&site->nframes, memory_order_acquire);
	for (int i = 0; i < n; i++)
		json_array_append_new(frames, lp_where_str((uintptr_t)site->frames[i]));
	return json_pack("{s:o, s:o, s:s, s:s?, s:I, s:I, s:I, s:o}",
			 "pc", lp_hex(pc), "where", lp_where_str(pc),
			 "object", w.object, "symbol", w.symbol,
			 "offset", (json_int_t)w.offset,
			 "count", (json_int_t)lp_ld(&site->count),
			 "wait_ns", (json_int_t)lp_ld(&site->wait_ns), "frames", frames);
}

static int lp_site_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "wait_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "wait_ns"));
	return (x < y) - (x > y);
}

static json_t *lp_sites_json(struct lp_slot *s, json_t *lock)
{
	json_t *arr = json_array();
	uint32_t c = atomic_load(&s->chunk);
	if (!c || c > LP_CHUNKS)
		return arr;
	struct lp_chunk *ch = &lp_chunks[c - 1];
	json_t *tmp[LP_SITES];
	int n = 0;
	for (int i = 0; i < LP_SITES; i++)
		if (atomic_load(&ch->site[i].pc))
			tmp[n++] = lp_site_json(&ch->site[i]);
	qsort(tmp, (size_t)n, sizeof tmp[0], lp_site_cmp);
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, tmp[i]);
	if (lp_ld(&ch->other_count))
		json_object_set_new(lock, "other_sites",
				    json_pack("{s:I, s:I}", "count", (json_int_t)lp_ld(&ch->other_count),
					      "wait_ns", (json_int_t)lp_ld(&ch->other_wait_ns)));
	return arr;
}

static json_t *lp_module_json(uintptr_t pc)
{
	struct lp_where w = lp_where(pc);
	return json_pack("{s:s, s:s?, s:I, s:o}", "object", w.object, "symbol", w.symbol,
			 "offset", (json_int_t)w.offset, "where", lp_where_str(pc));
}

static json_t *lp_stack_json(struct lp_stack *st)
{
	int n = atomic_load_explicit(&st->nframes, memory_order_acquire);
	json_t *frames = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(frames, lp_where_str((uintptr_t)st->frames[i]));
	json_t *module = n > 0 && st->outside >= 0 && st->outside < n
				 ? lp_module_json((uintptr_t)st->frames[st->outside])
				 : json_null();
	return json_pack("{s:I, s:I, s:o, s:o}", "count", (json_int_t)lp_ld(&st->count),
			 "wait_ns", (json_int_t)lp_ld(&st->wait_ns), "frames", frames,
			 "module", module);
}

static struct lp_chunk *lp_chunk_get(struct lp_slot *s)
{
	uint32_t c = atomic_load(&s->chunk);
	return c && c <= LP_CHUNKS ? &lp_chunks[c - 1] : NULL;
}

static json_t *lp_stacks_json(struct lp_chunk *ch, json_t *lock)
{
	json_t *arr = json_array();
	json_t *tmp[LP_STACKS];
	int n = 0;
	for (int i = 0; ch && i < LP_STACKS; i++)
		if (atomic_load_explicit(&ch->stack[i].nframes, memory_order_acquire) > 0)
			tmp[n++] = lp_stack_json(&ch->stack[i]);
	qsort(tmp, (size_t)n, sizeof tmp[0], lp_site_cmp);
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, tmp[i]);
	if (ch && lp_ld(&ch->other_stack_count))
		json_object_set_new(lock, "other_stacks",
				    json_pack("{s:I, s:I}", "count",
					      (json_int_t)lp_ld(&ch->other_stack_count), "wait_ns",
					      (json_int_t)lp_ld(&ch->other_stack_wait_ns)));
	return arr;
}

/* ---- naming the lock ------------------------------------------------- */

struct lp_name {
	const char *name;     /* for people: "CPython interpreter lock (GIL)" */
	const char *identity; /* for programs: "interpreter-lock", ... */
	char named_by[160];   /* the evidence, in words */
};

/* CPython's runtime state object: in 3.11 it holds the GIL's mutexes and
 * condition variables (ceval.gil), in 3.12 the main interpreter's. It is
 * exported by python3.x and libpython, stripped or not. */
static int lp_pyruntime(uintptr_t *lo, uintptr_t *hi)
{
	void *p = dlsym(RTLD_DEFAULT, "_PyRuntime");
	Dl_info di;
	const ElfW(Sym) *sym = NULL;
	if (!p || !dladdr1(p, &di, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size)
		return 0;
	*lo = (uintptr_t)p;
	*hi = *lo + sym->st_size;
	return 1;
}

static const char *lp_base(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static int lp_is_python_object(const char *path)
{
	const char *b = lp_base(path);
	return !strncmp(b, "python", 6) || !strncmp(b, "libpython", 9);
}

/* The functions through which CPython takes (or hands over) its GIL. */
static const char *lp_gil_function(const char *sym)
{
	static const char *const fns[] = {"take_gil", "drop_gil", "PyEval_RestoreThread",
					  "PyEval_AcquireThread", "PyEval_AcquireLock",
					  "PyGILState_Ensure", "PyEval_SaveThread",
					  "PyEval_ReleaseThread", NULL};
	for (const char *const *f = fns; sym && *f; f++)
		if (!strcmp(sym, *f))
			return *f;
	return NULL;
}

/* A wait called from the interpreter, through one of its GIL functions
 * within the first frames: the GIL, even where the lock lies outside
 * _PyRuntime (a sub-interpreter's own GIL). */
static int lp_gil_chain(void *const *frames, int n, struct lp_name *out)
{
	if (n < 1 || !lp_is_python_object(lp_where((uintptr_t)frames[0]).object))
		return 0;
	for (int i = 0; i < n && i < 4; i++) {
		const char *fn = lp_gil_function(lp_where((uintptr_t)frames[i]).symbol);
		if (fn) {
			snprintf(out->named_by, sizeof out->named_by, "call chain through %s", fn);
			return 1;
		}
	}
	return 0;
}

/* Libraries whose locks are worth a name, by the object that takes them. */
static int lp_library_lock(uintptr_t site, struct lp_name *out)
{
	struct lp_where w = lp_where(site);
	const char *b = lp_base(w.object), *sym = w.symbol ? w.symbol : "";
	if (!strncmp(b, "libopenblas", 11)) {
		out->identity = "openblas";
		out->name = !strncmp(sym, "exec_blas", 9) ? "OpenBLAS thread server queue lock"
			    : !strncmp(sym, "blas_memory", 11) ? "OpenBLAS memory allocator lock"
							       : "OpenBLAS thread pool lock";
	} else if (!strncmp(b, "libgomp", 7)) {
		out->identity = "openmp";
		out->name = "OpenMP runtime (libgomp) lock";
	} else if (!strncmp(b, "libjemalloc", 11) ||
		   (!strncmp(b, "libc.so", 7) &&
		    (strstr(sym, "malloc") || strstr(sym, "free") || strstr(sym, "arena")))) {
		out->identity = "malloc-arena";
		out->name = !strncmp(b, "libc.so", 7) ? "glibc malloc arena lock"
						      : "jemalloc arena lock";
	} else {
		return 0;
	}
	snprintf(out->named_by, sizeof out->named_by, "taken in %s%s%s", b,
		 *sym ? " by " : "", sym);
	return 1;
}

static void lp_lock_name(uintptr_t addr, struct lp_chunk *ch, struct lp_name *out)
{
	static int have_rt = -1;
	static uintptr_t rt_lo, rt_hi;
	memset(out, 0, sizeof *out);
	if (have_rt < 0)
		have_rt = lp_pyruntime(&rt_lo, &rt_hi);
	int gil = have_rt && addr >= rt_lo && addr < rt_hi;
	if (gil)
		snprintf(out->named_by, sizeof out->named_by, "address inside _PyRuntime");
	for (int i = 0; !gil && ch && i < LP_STACKS; i++) {
		int n = atomic_load_explicit(&ch->stack[i].nframes, memory_order_acquire);
		gil = lp_gil_chain(ch->stack[i].frames, n, out);
	}
	for (int i = 0; !gil && ch && i < LP_SITES; i++) {
		struct lp_site *st = &ch->site[i];
		uintptr_t pc = atomic_load(&st->pc);
		void *f[LP_MAX_FRAMES + 1] = {(void *)pc};
		int n = pc ? 1 + atomic_load_explicit(&st->nframes, memory_order_acquire) : 0;
		if (n > 1)
			memcpy(f + 1, st->frames, (size_t)(n - 1) * sizeof f[0]);
		gil = lp_gil_chain(f, n, out);
	}
	if (gil) {
		out->name = "CPython interpreter lock (GIL)";
		out->identity = "interpreter-lock";
		return;
	}
	uintptr_t site = ch ? atomic_load(&ch->site[0].pc) : 0;
	if (!site || !lp_library_lock(site, out))
		out->named_by[0] = 0;
}

static json_t *lp_lock_json(struct lp_slot *s)
{
	uintptr_t key = atomic_load(&s->key);
	struct lp_chunk *ch = lp_chunk_get(s);
	struct lp_name nm;
	lp_lock_name(key & ~(uintptr_t)3, ch, &nm);
	json_t *lock = json_pack("{s:o, s:s, s:s?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I}",
				 "address", lp_hex(key & ~(uintptr_t)3),
				 "kind", lp_kind_name[key & 3], "name", nm.name,
				 "identity", nm.identity,
				 "named_by", nm.named_by[0] ? nm.named_by : NULL,
				 "acquisitions", (json_int_t)lp_acquisitions(s),
				 "contended", (json_int_t)lp_ld(&s->contended),
				 "wait_ns", (json_int_t)lp_ld(&s->wait_ns),
				 "max_wait_ns", (json_int_t)lp_ld(&s->max_wait_ns),
				 "timeouts", (json_int_t)lp_ld(&s->timeouts));
	if (lock) {
		json_object_set_new(lock, "sites", lp_sites_json(s, lock));
		json_object_set_new(lock, "stacks", lp_stacks_json(ch, lock));
	}
	return lock;
}

/* Most waited-on first, then most acquired: the order a reader wants and
 * the order in which locks are dropped when there are too many to list. */
static int lp_slot_cmp(const void *a, const void *b)
{
	struct lp_slot *x = *(struct lp_slot *const *)a, *y = *(struct lp_slot *const *)b;
	uint64_t wx = lp_ld(&x->wait_ns), wy = lp_ld(&y->wait_ns);
	if (wx != wy)
		return (wx < wy) - (wx > wy);
	uint64_t ax = lp_acquisitions(x), ay = lp_acquisitions(y);
	return (ax < ay) - (ax > ay);
}

struct lp_totals {
	uint64_t locks, acquisitions, contended, lock_wait_ns, cond_waits, cond_wait_ns;
};

static void lp_total_add(struct lp_totals *t, struct lp_slot *s)
{
	uintptr_t kind = atomic_load(&s->key) & 3;
	t->locks++;
	if (kind == LP_COND) {
		t->cond_waits += lp_ld(&s->contended);
		t->cond_wait_ns += lp_ld(&s->wait_ns);
	} else {
		t->acquisitions += lp_acquisitions(s);
		t->contended += lp_ld(&s->contended);
		t->lock_wait_ns += lp_ld(&s->wait_ns);
	}
}

static json_t *lp_process_json(void)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:b}", "pid", (int)lp_proc.pid,
			 "ppid", (int)getppid(), "argv0", lp_proc.argv0, "exe", lp_exe,
			 "forked", lp_proc.forked);
}

static json_t *lp_totals_json(const struct lp_totals *t, size_t listed)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "locks", (json_int_t)t->locks, "locks_listed", (json_int_t)listed,
			 "acquisitions", (json_int_t)t->acquisitions,
			 "contended", (json_int_t)t->contended,
			 "lock_wait_ns", (json_int_t)t->lock_wait_ns,
			 "cond_waits", (json_int_t)t->cond_waits,
			 "cond_wait_ns", (json_int_t)t->cond_wait_ns,
			 "untracked_ops", (json_int_t)lp_ld(&lp_untracked),
			 "sites_lost", (json_int_t)lp_ld(&lp_sites_lost));
}

static json_t *lp_creator_json(uintptr_t pc, uint64_t count)
{
	struct lp_where w = lp_where(pc);
	return json_pack("{s:s, s:o, s:I}", "object", w.object, "where", lp_where_str(pc),
			 "count", (json_int_t)count);
}

/* The whole report; NULL if memory ran out. Called with lp_busy set. */
static json_t *lp_report(void)
{
	struct lp_slot **used = malloc(LP_TABLE_SIZE * sizeof *used);
	if (!used)
		return NULL;
	size_t n = 0;
	struct lp_totals t = {0};
	for (size_t i = 0; i < LP_TABLE_SIZE; i++)
		if (atomic_load_explicit(&lp_table[i].key, memory_order_acquire)) {
			used[n++] = &lp_table[i];
			lp_total_add(&t, &lp_table[i]);
		}
	qsort(used, n, sizeof *used, lp_slot_cmp);
	size_t listed = n < (size_t)lp_proc.max_locks ? n : (size_t)lp_proc.max_locks;
	json_t *locks = json_array();
	for (size_t i = 0; i < listed; i++)
		json_array_append_new(locks, lp_lock_json(used[i]));
	free(used);
	json_t *doc = json_pack("{s:s, s:o, s:I, s:s, s:i, s:o, s:o, s:o}", "schema",
				"contend-lockprof/1", "process", lp_process_json(),
				"wall_ns", (json_int_t)(lp_now() - lp_proc.start_ns),
				"unwinder", lp_proc.stack_depth > 0 ? lp_unwinder : "none",
				"stack_depth", lp_proc.stack_depth,
				"totals", lp_totals_json(&t, listed),
				"census", lp_census_json(lp_creator_json), "locks", locks);
	lp_elf_close_all();
	return doc;
}

static uint64_t lp_random(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (lp_now() * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uintptr_t)&r << 16) ^
		    (uint64_t)getpid();
	return r;
}

/* Write doc into dir under a fresh unguessable name; -1 with errno set. The
 * hidden ".tmp" name keeps readers from seeing a half-written report. */
static int lp_write_file(const char *dir, json_t *doc)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	char name[96], tmp[112];
	int fd = -1;
	for (int attempt = 0; attempt < 8 && fd < 0; attempt++) {
		snprintf(name, sizeof name, "lockprof-%d-%016llx.json", (int)getpid(),
			 (unsigned long long)lp_random());
		snprintf(tmp, sizeof tmp, ".%s.tmp", name);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	int rc = -1, saved = 0;
	if (fd >= 0) {
		rc = json_dumpfd(doc, fd, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		if (rc < 0)
			errno = EIO;
		if (close(fd) < 0 && rc == 0)
			rc = -1;
		if (rc == 0)
			rc = renameat(dfd, tmp, dfd, name);
		if (rc < 0) {
			saved = errno;
			unlinkat(dfd, tmp, 0);
		}
	}
	saved = saved ? saved : errno;
	close(dfd);
	errno = saved;
	return rc;
}

/* Where the report goes, fixed when the process starts: a program may
 * change its environment or working directory before it exits. */
static char lp_dir[PATH_MAX];
static int lp_to_stderr;

static void lp_capture_dir(void)
{
	const char *dir = getenv("CONTEND_LOCKPROF_DIR");
	const char *to_err = getenv("CONTEND_LOCKPROF_STDERR");
	char cwd[PATH_MAX];
	lp_dir[0] = 0;
	if (dir && *dir == '/')
		snprintf(lp_dir, sizeof lp_dir, "%s", dir);
	else if (dir && *dir && getcwd(cwd, sizeof cwd) &&
		 snprintf(lp_dir, sizeof lp_dir, "%s/%s", cwd, dir) >= (int)sizeof lp_dir)
		lp_dir[0] = 0; /* too long: better no report than a wrong place */
	lp_to_stderr = !lp_dir[0] && to_err && !strcmp(to_err, "1");
}

/* At exit: one report per process, once. */
static void lp_emit(void)
{
	if (atomic_exchange(&lp_proc.reported, 1))
		return;
	if (!lp_dir[0] && !lp_to_stderr)
		return;
	int was_busy = lp_busy;
	lp_busy = 1;
	json_t *doc = lp_report();
	if (!doc) {
		dprintf(2, "contend-lockprof: out of memory building the report\n");
	} else if (lp_to_stderr) {
		json_dumpfd(doc, 2, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		dprintf(2, "\n");
	} else if (lp_write_file(lp_dir, doc) < 0) {
		dprintf(2, "contend-lockprof: cannot write report in %s: %s\n", lp_dir,
			strerror(errno));
	}
	json_decref(doc);
	lp_busy = was_busy;
}

/* _exit skips destructors, yet it is how fork-based workers end (Python's
 * multiprocessing, most C process pools), so it writes the report too, but
 * only in a process we set up: a vfork child shares its parent's memory
 * and has a pid of its own, and must touch nothing. Caveat: a program that
 * calls _exit from a signal handler that interrupted malloc could hang
 * here; CONTEND_LOCKPROF_EXIT_HOOK=0 turns this off. */
static void (*lp_real_exit)(int) __attribute__((noreturn));
static int lp_exit_hook = 1;

static void __attribute__((noreturn)) lp_exit_now(int status)
{
	if (lp_real_exit)
		lp_real_exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

LP_EXPORT void _exit(int status)
{
	if (lp_exit_hook && getpid() == lp_proc.pid)
		lp_emit();
	lp_exit_now(status);
}

LP_EXPORT void _Exit(int status)
{
	if (lp_exit_hook && getpid() == lp_proc.pid)
		lp_emit();
	lp_exit_now(status);
}

static int lp_env_int(const char *name, int def, int lo, int hi)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return def;
	long x = strtol(v, &end, 10);
	return (*end || x < lo || x > hi) ? def : (int)x;
}

/* A fork child starts with empty counters: each process reports only what
 * it did itself. The child is single-threaded here, so plain stores do. */
static void lp_atfork_child(void)
{
	for (size_t i = 0; i < LP_TABLE_SIZE; i++) {
		struct lp_slot *s = &lp_table[i];
		if (!atomic_load_explicit(&s->key, memory_order_relaxed))
			continue;
		atomic_store(&s->acquisitions, 0);
		for (int k = 0; k < LP_STRIPES; k++)
			atomic_store(&lp_acq[k][i], 0);
		atomic_store(&s->contended, 0);
		atomic_store(&s->wait_ns, 0);
		atomic_store(&s->max_wait_ns, 0);
		atomic_store(&s->timeouts, 0);
	}
	uint32_t used = atomic_load(&lp_chunks_used);
	memset(lp_chunks, 0, (used < LP_CHUNKS ? used : LP_CHUNKS) * sizeof lp_chunks[0]);
	for (size_t i = 0; i < LP_TABLE_SIZE; i++)
		if (atomic_load_explicit(&lp_table[i].chunk, memory_order_relaxed))
			atomic_store(&lp_table[i].chunk, 0);
	atomic_store(&lp_chunks_used, 0);
	atomic_store(&lp_untracked, 0);
	atomic_store(&lp_sites_lost, 0);
	lp_census_atfork_child();
	lp_proc.pid = getpid();
	lp_proc.forked = 1;
	lp_proc.start_ns = lp_now();
	atomic_store(&lp_proc.reported, 0);
}

/* glibc passes (argc, argv, envp) to ELF constructors; argv[0] is copied
 * now because programs may rewrite their argv later (setproctitle). */
__attribute__((constructor)) static void lp_init(int argc, char **argv, char **envp)
{
	(void)envp;
	lp_ready();
	lp_proc.pid = getpid();
	lp_proc.start_ns = lp_now();
	if (argc > 0 && argv && argv[0])
		snprintf(lp_proc.argv0, sizeof lp_proc.argv0, "%s", argv[0]);
	ssize_t n = readlink("/proc/self/exe", lp_exe, sizeof lp_exe - 1);
	lp_exe[n > 0 ? n : 0] = 0;
	lp_capture_dir();
	lp_exit_hook = lp_env_int("CONTEND_LOCKPROF_EXIT_HOOK", 1, 0, 1);
	*(void **)&lp_real_exit = dlsym(RTLD_NEXT, "_exit");
	lp_proc.frames = lp_env_int("CONTEND_LOCKPROF_FRAMES", 4, 0, LP_MAX_FRAMES);
	/* No report, no stacks: their cost buys nothing. */
	lp_proc.stack_depth = lp_dir[0] || lp_to_stderr
		? lp_env_int("CONTEND_LOCKPROF_STACK_DEPTH", 12, 0, LP_STACK_FRAMES) : 0;
	lp_proc.max_locks = lp_env_int("CONTEND_LOCKPROF_MAX_LOCKS", 256, 1, LP_TABLE_SIZE);
	/* backtrace() loads libgcc_s on first use, and libunwind is opened
	 * here: now, single-threaded, not in the middle of a contended lock. */
	void *warm[2];
	lp_busy = 1;
	backtrace(warm, 2);
	if (lp_proc.stack_depth > 0 || lp_proc.frames > 0)
		lp_unwind_init();
	lp_backtrace(warm, 2);
	dl_iterate_phdr(lp_range_cb, NULL);
	lp_busy = 0;
	pthread_atfork(NULL, NULL, lp_atfork_child);
}

__attribute__((destructor)) static void lp_fini(void)
{
	lp_emit();
}
