/* test_faults.c - the fault-injection suite (docs/reliability.md).
 *
 * contend under crashing, hanging and stopped workers, SIGINT/SIGTERM and
 * kill -9 of the harness, a full disk, a full /dev/shm, two history
 * writers at once and a profiled program that forks and execs. Each case
 * checks that contend survives, that what was measured is kept (the
 * document on disk always loads and validates), and that nothing is left
 * behind: no process of ours, no /dev/shm/contend-* segment, no temp file.
 *
 * Injected task faults (--inject) are checked pool by pool in
 * tests/test_cli.c; here they run as whole sweeps, with the leftovers
 * counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <glob.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "document/results.h"
#include "tests/testutil.h"

#define FAULT_DIR CONTEND_BUILD_DIR "/tests/faults"
#define FORKEXEC FAULT_DIR "/forkexec"
#define ENOSPC_SO FAULT_DIR "/enospc.so"

/* Sanitized builds run slower (fewer kill -9 rounds, longer timeouts)
 * and handle SIGSEGV themselves. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif
#ifdef __SANITIZE_THREAD__
#define TIMEOUT "5"
#else
#define TIMEOUT "1"
#endif

static char *dir;	  /* scratch: documents, databases */
static char tmpdir[600];  /* $TMPDIR of every contend we start */
static char forkexec[PATH_MAX];
static struct cmd_result *r;
static char seed[32];	  /* "seed=<our pid>": marks our contend processes */
static glob_t shm_before; /* /dev/shm/contend-* when the case began */
static int cases, clean;  /* fault cases run, and those left clean */

/* ---- scratch and documents ------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	r = malloc(sizeof *r);
	if (!dir || !r)
		return -1;
	snprintf(seed, sizeof seed, "seed=%d", (int)getpid());
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
	if (!realpath(FORKEXEC, forkexec))
		return -1;
	return mkdir(tmpdir, 0700) || setenv("TMPDIR", tmpdir, 1) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	printf("faults: %d cases, %d survived with nothing lost or left "
	       "behind\n", cases, clean);
	tu_rmtree(dir);
	free(dir);
	free(r);
	return 0;
}

static const char *path(const char *name)
{
	return tu_path(dir, name);
}

/* spin parameters that mark the run's processes as ours */
static const char *spin_params(const char *base)
{
	static char buf[4][200];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s,%s", base, seed);
	return buf[k];
}

/* The document loads and validates (what `contend report` checks). */
static json_t *load_valid(const char *file)
{
	json_t *doc;
	errbuf e = {{0}};
	if (results_load(file, &doc, &e))
		fail_msg("%s", e.msg);
	return doc;
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static json_t *configs(json_t *doc)
{
	return json_object_get(doc, "configs");
}

static size_t nreps(json_t *config)
{
	return json_array_size(json_object_get(config, "reps"));
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* ---- processes ------------------------------------------------------ */

/* A process's command line with NULs as spaces ("" for zombies). */
static void cmdline_of(pid_t pid, char *buf, size_t len)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/cmdline", (int)pid);
	buf[0] = 0;
	FILE *f = fopen(p, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
}

/* Live processes whose command line holds every needle (NULL-ended). */
static int find_pids(pid_t *out, int max, const char *n1, const char *n2)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	static char cmd[65536];
	int n = 0;
	while (d && (de = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		cmdline_of(pid, cmd, sizeof cmd);
		if (strstr(cmd, n1) && (!n2 || strstr(cmd, n2)))
			out[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* The children of pid (its process-pool workers, for a runner). */
static int children_of(pid_t pid, pid_t *out, int max)
{
	char p[96];
	snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(p, "r");
	int n = 0, v;
	while (f && n < max && fscanf(f, "%d", &v) == 1)
		out[n++] = v;
	if (f)
		fclose(f);
	return n;
}

/* Start CONTEND_BIN with argv (after the program name), output to
 * dir/contend.log, in the background. */
static pid_t start_contend(const char *const *args)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)CONTEND_BIN;
	for (; *args && n < 63; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path("contend.log"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

/* Exit status, or 128+signal. */
static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Wait (up to ~20 s) until a process with both needles exists. */
static pid_t wait_for_process(const char *n1, const char *n2)
{
	pid_t p;
	for (int i = 0; i < 2000; i++) {
		if (find_pids(&p, 1, n1, n2) == 1)
			return p;
		msleep(10);
	}
	fail_msg("no process with '%s' appeared", n1);
	return -1;
}

/* ---- leftovers: the check after every case -------------------------- */

/* A case starts clean even when the one before it failed. */
static void remove_temp_files(void)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	while (dp && (de = readdir(dp)))
		if (strstr(de->d_name, ".tmp."))
			unlink(path(de->d_name));
	if (dp)
		closedir(dp);
}

static void begin_case(void)
{
	remove_temp_files();
	globfree(&shm_before);
	memset(&shm_before, 0, sizeof shm_before);
	glob("/dev/shm/contend-*", 0, NULL, &shm_before);
}

static int in_before(const char *p)
{
	for (size_t i = 0; i < shm_before.gl_pathc; i++)
		if (!strcmp(shm_before.gl_pathv[i], p))
			return 1;
	return 0;
}

static int leaked_segments(void)
{
	glob_t g;
	int n = 0;
	if (glob("/dev/shm/contend-*", 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (!in_before(g.gl_pathv[i])) {
			printf("   left behind: %s\n", g.gl_pathv[i]);
			n++;
		}
	globfree(&g);
	return n;
}

/* Temp files in the scratch dir (*.tmp.*: a results document's
 * replacement) and anything at all in $TMPDIR. */
static int leaked_files(const char *d, int everything)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;
	while (dp && (de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (everything || strstr(de->d_name, ".tmp.")) {
			printf("   left behind: %s/%s\n", d, de->d_name);
			n++;
		}
	}
	if (dp)
		closedir(dp);
	return n;
}

/* leaked_files(d, 0), less the temp names of the writer `pid`. */
static int leaked_temps_except(const char *d, pid_t pid)
{
	char mine[32];
	snprintf(mine, sizeof mine, ".tmp.%ld.", (long)pid);
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;
	while (dp && (de = readdir(dp)))
		if (strstr(de->d_name, ".tmp.") && !strstr(de->d_name, mine)) {
			printf("   left behind: %s/%s\n", d, de->d_name);
			n++;
		}
	if (dp)
		closedir(dp);
	return n;
}

/* Our processes: contend's runners and workers carry our seed in their
 * command line, the profiled helper is forkexec. They get a few seconds
 * to go: a runner whose harness was killed dies with it, not at once. */
static int leaked_processes(void)
{
	pid_t p[16];
	int n = 0;
	for (int i = 0; i < 500; i++) {
		n = find_pids(p, 16, seed, NULL) + find_pids(p, 16, forkexec, NULL);
		if (!n)
			return 0;
		msleep(10);
	}
	for (int i = 0, k = find_pids(p, 16, seed, NULL); i < k; i++)
		printf("   still running: pid %d\n", (int)p[i]);
	return n;
}

static void end_case(const char *name)
{
	int procs = leaked_processes(), shm = leaked_segments(),
	    files = leaked_files(dir, 0) + leaked_files(tmpdir, 1);
	cases++;
	if (procs || shm || files)
		fail_msg("%s: left behind %d processes, %d segments, %d temp "
			 "files", name, procs, shm, files);
	clean++;
	printf("   case %-40s survived, nothing lost, nothing left\n", name);
}

/* ---- injected task faults, as whole sweeps --------------------------- */

/* Every pool meets the fault; every configuration of the plan is in the
 * document with the fault named, and the sweep finished. */
static void injected(const char *inject, const char *status)
{
	const char *out = path("inject.json");
	begin_case();
	tu_contend(r, "run", "spin", "--pool", "serial,thread,process",
		   "--workers", "1,2", "--reps", "2", "--warmup", "0",
		   "--params", spin_params("tasks=20,work=1000"), "--inject",
		   inject, "--task-timeout", TIMEOUT, "--quiet", "--out", out,
		   NULL);
	if (r->status != 1)
		fail_msg("%s: exit %d: %s", inject, r->status, r->out);
	json_t *doc = load_valid(out), *c;
	size_t i;
	assert_string_equal(sget(doc, "status"), "complete");
	assert_int_equal(json_array_size(configs(doc)), 5);
	json_array_foreach(configs(doc), i, c) {
		if (strcmp(sget(c, "status"), status) || !*sget(c, "detail"))
			fail_msg("%s: %s is %s (%s)", inject, sget(c, "id"),
				 sget(c, "status"), sget(c, "detail"));
		assert_true(nreps(c) >= 1);
	}
	json_decref(doc);
	char name[64];
	snprintf(name, sizeof name, "inject %s, 5 configurations", inject);
	end_case(name);
}

static void test_injected_faults(void **state)
{
	(void)state;
	injected("segv@7", "crashed");
	injected("abort@7", "crashed");
	injected("kill@7", "crashed");
	injected("exit@7", "exited");
	injected("exit0@7", "exited");
	injected("garbage@7", "garbage");
	injected("hang@7", "timeout");
	injected("fail@7", "task-failed");
}

/* ---- workers killed from outside, mid-task --------------------------- */

/* Long tasks (~50 ms each), two configurations: the first is hit, the
 * second must still be measured in full (in sequence: the first runner
 * seen is the first configuration's). */
static const char *const long_run[] = {
	"run", "spin", "--workers", "2", "--reps", "2", "--warmup", "0",
	"--quiet", "--params", NULL, "--pool", NULL, "--out", NULL,
	"--order", "sequential", NULL};

static pid_t start_long(const char *pools, const char *out)
{
	const char *args[sizeof long_run / sizeof long_run[0]];
	memcpy(args, long_run, sizeof long_run);
	args[10] = spin_params("tasks=24,work=10000000");
	args[12] = pools;
	args[14] = out;
	return start_contend(args);
}

static void check_hit_then_whole(const char *out, const char *words)
{
	json_t *doc = load_valid(out);
	json_t *hit = json_array_get(configs(doc), 0),
	       *next = json_array_get(configs(doc), 1);
	assert_string_equal(sget(doc, "status"), "complete");
	if (strcmp(sget(hit, "status"), "crashed") || !strstr(sget(hit, "detail"), words))
		fail_msg("hit configuration: %s (%s)", sget(hit, "status"),
			 sget(hit, "detail"));
	assert_string_equal(sget(next, "status"), "ok");
	assert_int_equal(nreps(next), 2);
	json_decref(doc);
}

/* A process-pool worker gets sig while it runs a task. */
static void worker_killed(int sig)
{
	const char *out = path("killed.json");
	char name[64];
	begin_case();
	pid_t pid = start_long("process,thread", out);
	pid_t runner = wait_for_process("__runner", seed), w[4];
	int n = 0;
	for (int i = 0; i < 2000 && (n = children_of(runner, w, 4)) < 2; i++)
		msleep(5);
	assert_true(n >= 1);
	msleep(120); /* inside a task */
	kill(w[0], sig);
	assert_int_equal(wait_status(pid), 1);
	check_hit_then_whole(out, sigabbrev_np(sig));
	snprintf(name, sizeof name, "process worker killed by SIG%s", sigabbrev_np(sig));
	end_case(name);
}

/* The thread pool runs in the runner process: sig kills the runner. */
static void runner_killed(int sig)
{
	const char *out = path("killed.json");
	char name[64];
	begin_case();
	pid_t pid = start_long("thread,process", out);
	pid_t runner = wait_for_process("__runner", seed);
	msleep(150);
	kill(runner, sig);
	assert_int_equal(wait_status(pid), 1);
	check_hit_then_whole(out, sigabbrev_np(sig));
	snprintf(name, sizeof name, "thread-pool runner killed by SIG%s", sigabbrev_np(sig));
	end_case(name);
}

static void test_workers_killed_mid_task(void **state)
{
	(void)state;
	const int sigs[] = {SIGKILL, SIGABRT, SIGSEGV};
	/* A sanitizer runtime catches SIGSEGV itself (it reports it and
	 * exits), so an outside SIGSEGV is not a crash by signal there. */
	size_t n = SANITIZED ? 2 : 3;
	if (SANITIZED)
		printf("   SIGSEGV from outside: not under a sanitizer\n");
	for (size_t i = 0; i < n; i++) {
		worker_killed(sigs[i]);
		runner_killed(sigs[i]);
	}
}

/* A worker stopped by SIGSTOP never returns its task: the pool's timeout
 * kills it (SIGKILL works on a stopped process) and the sweep goes on. */
static void test_stopped_worker_times_out(void **state)
{
	(void)state;
	const char *out = path("stopped.json");
	begin_case();
	const char *args[] = {"run", "spin", "--pool", "process,thread",
			      "--workers", "2", "--reps", "2", "--warmup", "0",
			      "--quiet", "--task-timeout", TIMEOUT, "--params",
			      spin_params("tasks=24,work=10000000"), "--out",
			      out, "--order", "sequential", NULL};
	pid_t pid = start_contend(args);
	pid_t runner = wait_for_process("__runner", seed), w[4];
	int n = 0;
	for (int i = 0; i < 2000 && (n = children_of(runner, w, 4)) < 2; i++)
		msleep(5);
	assert_true(n >= 1);
	msleep(100);
	kill(w[0], SIGSTOP);
	assert_int_equal(wait_status(pid), 1);
	json_t *doc = load_valid(out);
	json_t *hit = json_array_get(configs(doc), 0),
	       *next = json_array_get(configs(doc), 1);
	assert_string_equal(sget(hit, "status"), "timeout");
	assert_string_equal(sget(next, "status"), "ok");
	assert_int_equal(nreps(next), 2);
	json_decref(doc);
	end_case("process worker stopped (never returns)");
}

/* ---- SIGINT / SIGTERM to the harness mid-sweep ----------------------- */

/* Every configuration before the interrupted one is whole; the
 * interrupted one (if the signal fell inside one) says so. */
static void check_interrupted(const char *out, long reps)
{
	json_t *doc = load_valid(out), *c;
	size_t i, n = json_array_size(configs(doc));
	assert_string_equal(sget(doc, "status"), "interrupted");
	json_array_foreach(configs(doc), i, c) {
		const char *st = sget(c, "status");
		if (i + 1 < n || !strcmp(st, "ok")) {
			assert_string_equal(st, "ok");
			assert_int_equal(nreps(c), reps);
		} else {
			assert_string_equal(st, "interrupted");
		}
	}
	json_decref(doc);
	tu_contend(r, "report", out, NULL);
	assert_int_equal(r->status, 0);
}

/* sig before the first document is on disk (early) or after it. */
static void interrupt(int sig, int early)
{
	const char *out = path("interrupted.json");
	char name[80];
	begin_case();
	unlink(out);
	const char *args[] = {"run", "spin", "--pool", "process,thread",
			      "--workers", "1,2", "--reps", "20", "--warmup", "0",
			      "--quiet", "--params",
			      spin_params("tasks=8,work=1000000"), "--out", out,
			      "--order", "sequential", NULL};
	pid_t pid = start_contend(args);
	if (early) {
		wait_for_process("__runner", seed);
		msleep(100);
	} else {
		for (int i = 0; i < 2000 && access(out, F_OK); i++)
			msleep(10);
		msleep(200);
	}
	kill(pid, sig);
	assert_int_equal(wait_status(pid), 130);
	check_interrupted(out, 20);
	snprintf(name, sizeof name, "harness SIG%s %s", sigabbrev_np(sig),
		 early ? "in the first configuration" : "mid-sweep");
	end_case(name);
}

static void test_harness_interrupted(void **state)
{
	(void)state;
	interrupt(SIGINT, 1);
	interrupt(SIGINT, 0);
	interrupt(SIGTERM, 1);
	interrupt(SIGTERM, 0);
}

/* ---- kill -9 of the harness while it writes the document ------------- */

/* Is pid writing a results document now? Its replacement is open: a
 * temp file in the document's directory, named or not (O_TMPFILE). */
static int writing_now(pid_t pid)
{
	char fdd[64], link[PATH_MAX], target[PATH_MAX];
	snprintf(fdd, sizeof fdd, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(fdd);
	struct dirent *de;
	int yes = 0;
	while (d && (de = readdir(d)) && !yes) {
		snprintf(link, sizeof link, "%s/%s", fdd, de->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		yes = !strncmp(target, dir, strlen(dir)) &&
		      (strstr(target, ".tmp.") || strstr(target, "(deleted)"));
	}
	if (d)
		closedir(d);
	return yes;
}

/* A big document (thousands of repetitions) rewritten after every
 * configuration; the harness is killed at a random moment, or the moment
 * it is seen writing. Whatever is on disk must load and validate. */
static int kill9_once(const char *out, int mid_write, unsigned *rng, pid_t *killed)
{
	const char *args[] = {"run", "spin", "--pool", "thread",
			      "--workers", "1-48", "--reps", "60", "--warmup", "0",
			      "--counters", "none", "--quiet", "--params",
			      spin_params("tasks=2,work=0"), "--out", out, NULL};
	pid_t pid = start_contend(args);
	int caught = 0;
	*killed = pid;
	if (mid_write) {
		/* A rewrite: the kill lands while a complete document is on
		 * disk (kills before the first one are the random rounds').
		 * Bounded by time, not by polls: under a sanitizer the first
		 * configuration alone can outlast any fixed number of polls. */
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			caught = access(out, F_OK) == 0 && writing_now(pid);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (!caught && t.tv_sec - t0.tv_sec < 60);
	} else {
		msleep(200 + (long)(rand_r(rng) % 2500));
		caught = writing_now(pid);
	}
	kill(pid, SIGKILL);
	assert_int_equal(wait_status(pid), 128 + SIGKILL);
	if (access(out, F_OK) == 0) {
		json_t *doc = load_valid(out);
		json_decref(doc);
	}
	return caught;
}

static void test_kill9_while_writing(void **state)
{
	(void)state;
	const char *out = path("big.json");
	unsigned rng = (unsigned)getpid();
	int rounds = SANITIZED ? 8 : 30, caught = 0;
	pid_t killed = 0;
	begin_case();
	for (int i = 0; i < rounds; i++) {
		/* A kill between naming the finished replacement and renaming
		 * it (microseconds) leaves that name: the next run removes it,
		 * so only the last killed run's may be there. */
		caught += kill9_once(out, i % 2, &rng, &killed);
		if (leaked_processes() || leaked_temps_except(dir, killed))
			fail_msg("kill -9 round %d left something behind", i);
	}
	struct stat st;
	assert_int_equal(stat(out, &st), 0);
	printf("   kill -9: %d rounds, %d while the document was being "
	       "written, last document %lld bytes, every one valid\n",
	       rounds, caught, (long long)st.st_size);
	assert_true(caught >= rounds / 2 - 1);
	const char *tidy[] = {"run", "spin", "--pool", "serial", "--workers", "1",
			      "--reps", "1", "--warmup", "0", "--quiet", "--params",
			      spin_params("tasks=2,work=0"), "--out", out, NULL};
	assert_int_equal(wait_status(start_contend(tidy)), 0);
	if (leaked_files(dir, 0))
		fail_msg("a run after the kills left a killed run's temp file");
	end_case("kill -9 of the harness while writing");
}

/* kill -9 of the harness mid-configuration: its runner (in a process
 * group of its own, so no terminal signal reaches it) and the runner's
 * workers must not run on without it. */
static void test_kill9_leaves_no_runner(void **state)
{
	(void)state;
	const char *out = path("orphans.json");
	const char *pools[] = {"process", "thread"};
	for (int i = 0; i < 2; i++) {
		char name[64];
		begin_case();
		const char *args[] = {"run", "spin", "--pool", pools[i],
				      "--workers", "2", "--reps", "50", "--warmup",
				      "0", "--quiet", "--params",
				      spin_params("tasks=24,work=10000000"),
				      "--out", out, NULL};
		pid_t pid = start_contend(args);
		pid_t runner = wait_for_process("__runner", seed), w[4];
		for (int k = 0; k < 2000 && !strcmp(pools[i], "process") &&
				children_of(runner, w, 4) < 2; k++)
			msleep(5);
		msleep(100);
		kill(pid, SIGKILL);
		assert_int_equal(wait_status(pid), 128 + SIGKILL);
		/* gone within a second, not when the configuration ends */
		pid_t left[16];
		int n = 1;
		for (int k = 0; k < 100 && n; k++) {
			msleep(10);
			n = find_pids(left, 16, seed, NULL);
		}
		if (n)
			fail_msg("%s pool: %d processes ran on after the harness "
				 "was killed (runner %d)", pools[i], n, (int)runner);
		snprintf(name, sizeof name, "kill -9 of the harness, %s pool", pools[i]);
		end_case(name);
	}
}

/* ---- disk full -------------------------------------------------------- */

static char *read_file(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void small_run(const char *out)
{
	tu_contend(r, "run", "spin", "--pool", "thread", "--workers", "1,2",
		   "--reps", "3", "--warmup", "0", "--quiet", "--params",
		   spin_params("tasks=20,work=1000"), "--out", out, NULL);
}

/* The second run cannot write: it fails with one line naming the
 * reason, and the first run's document is untouched. */
static void check_disk_full(const char *out, const char *before, size_t blen)
{
	if (r->status == 0 || r->status == 1 || r->status >= 128)
		fail_msg("exit %d on a full disk: %s", r->status, r->out);
	if (tu_lines(r->out) != 1 || !strstr(r->out, "No space left on device"))
		fail_msg("not one clear line: '%s'", r->out);
	size_t alen;
	char *after = read_file(out, &alen);
	assert_true(alen == blen && !memcmp(before, after, blen));
	free(after);
	json_decref(load_valid(out));
}

/* A private mount namespace, so a small tmpfs (or one over /dev/shm)
 * is seen by this process and its children only. 0: not possible here. */
static int private_mounts(void)
{
	return unshare(CLONE_NEWNS) == 0 &&
	       mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* Fill the file system holding dir until a write fails. */
static void fill(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char block[4096] = {0};
	assert_true(fd >= 0);
	while (write(fd, block, sizeof block) > 0)
		;
	while (write(fd, block, 1) > 0)
		;
	close(fd);
}

static void test_disk_full_tmpfs(void **state)
{
	(void)state;
	const char *mnt = path("small-fs");
	mkdir(mnt, 0700);
	if (!private_mounts() || mount("tmpfs", mnt, "tmpfs", 0, "size=512k")) {
		printf("   skipped: cannot mount a tmpfs here (%s); the "
		       "preload case below covers a full disk\n", strerror(errno));
		skip();
	}
	char out[700], filler[700];
	snprintf(out, sizeof out, "%s/run.json", mnt);
	snprintf(filler, sizeof filler, "%s/filler", mnt);
	begin_case();
	small_run(out);
	assert_int_equal(r->status, 0);
	size_t blen;
	char *before = read_file(out, &blen);
	fill(filler);
	small_run(out);
	check_disk_full(out, before, blen);
	free(before);
	assert_int_equal(leaked_files(mnt, 0), 0);
	assert_int_equal(umount(mnt), 0);
	end_case("disk full (512 KiB tmpfs)");
}

/* Where no tmpfs can be mounted: write() fails with ENOSPC in dir. */
static void test_disk_full_preload(void **state)
{
	(void)state;
	const char *out = path("enospc.json");
	char preload[PATH_MAX], asan[1024];
	assert_non_null(realpath(ENOSPC_SO, preload));
	begin_case();
	small_run(out);
	assert_int_equal(r->status, 0);
	size_t blen;
	char *before = read_file(out, &blen);
	/* a sanitizer runtime wants to be first; the shim is only a shim */
	const char *ao = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", ao ? ao : "",
		 ao ? ":" : "");
	setenv("ASAN_OPTIONS", asan, 1);
	setenv("FAULT_ENOSPC_DIR", dir, 1);
	setenv("LD_PRELOAD", preload, 1);
	small_run(out);
	unsetenv("LD_PRELOAD");
	unsetenv("FAULT_ENOSPC_DIR");
	if (ao)
		setenv("ASAN_OPTIONS", ao, 1);
	else
		unsetenv("ASAN_OPTIONS");
	check_disk_full(out, before, blen);
	free(before);
	end_case("disk full (write() fails with ENOSPC)");
}

/* ---- /dev/shm full ---------------------------------------------------- */

/* Only where a workload has sharing modes (`contend run --share`). */
static int have_share(void)
{
	tu_contend(r, "list", NULL);
	const char *dm = strstr(r->out, "\n  dmatrix ");
	const char *next = dm ? strstr(dm + 1, "\n  dmatrix-xgb") : NULL;
	const char *share = dm ? strstr(dm, "\n      share ") : NULL;
	return share && (!next || share < next);
}

static void test_shm_full(void **state)
{
	(void)state;
	if (!have_share()) {
		printf("   skipped: no workload has a 'share' parameter yet\n");
		skip();
	}
	if (!private_mounts() || mount("tmpfs", "/dev/shm", "tmpfs", 0, "size=64k")) {
		printf("   skipped: cannot mount a small /dev/shm here (%s)\n",
		       strerror(errno));
		skip();
	}
	const char *out = path("shm.json");
	/* an input that does not fit: refused before measuring */
	begin_case();
	tu_contend(r, "run", "dmatrix", "--share", "shm", "--pool", "process",
		   "--workers", "2", "--reps", "1", "--warmup", "0", "--quiet",
		   "--params", spin_params("rows=65536,tasks=4,nthread=1"), "--out", out,
		   NULL);
	if (r->status != 2 || tu_lines(r->out) != 1 || !strstr(r->out, "/dev/shm is full"))
		fail_msg("exit %d: '%s'", r->status, r->out);
	assert_int_equal(access(out, F_OK), -1);
	assert_int_equal(leaked_segments(), 0);
	/* an input that fits, task files that do not: those tasks fail,
	 * with the reason, and the sweep goes on */
	tu_contend(r, "run", "dmatrix", "--share", "shm,shm-per-task", "--pool",
		   "process,thread", "--workers", "2", "--reps", "1", "--warmup",
		   "0", "--quiet", "--params", spin_params("rows=4096,tasks=8,nthread=1"),
		   "--out", out, NULL);
	if (r->status != 1)
		fail_msg("exit %d with /dev/shm full: %s", r->status, r->out);
	json_t *doc = load_valid(out), *c;
	size_t i;
	assert_string_equal(sget(doc, "status"), "complete");
	assert_int_equal(json_array_size(configs(doc)), 4);
	json_array_foreach(configs(doc), i, c) {
		int per_task = strstr(sget(c, "id"), "shm-per-task") != NULL;
		assert_string_equal(sget(c, "status"), per_task ? "task-failed" : "ok");
		if (per_task)
			assert_non_null(strstr(sget(c, "detail"), "/dev/shm is full"));
	}
	json_decref(doc);
	int segs = leaked_segments(); /* in the small /dev/shm */
	assert_int_equal(umount("/dev/shm"), 0);
	assert_int_equal(segs, 0);
	begin_case(); /* the real /dev/shm again: others' segments are not ours */
	end_case("/dev/shm full (64 KiB): input, task files");
}

/* ---- two `history add` at once ---------------------------------------- */

/* A small valid document that no other has the content of. */
static void write_doc(const char *file, const char *host)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fprintf(f, "{\"schema\": \"contend-results/1\", \"status\": \"complete\","
		" \"context\": {\"host\": \"%s\"}, \"configs\": [{\"id\": "
		"\"spin/release/thread/w1\", \"workload\": \"spin\", \"build\": "
		"\"release\", \"pool\": \"thread\", \"workers\": 1, \"reps\": "
		"[{\"wall_s\": 0.5, \"status\": \"ok\"}], \"status\": \"ok\"}]}\n",
		host);
	fclose(f);
}

static pid_t start_add(const char *db, const char *doc)
{
	const char *args[] = {"history", "add", "--db", db, doc, NULL};
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(CONTEND_BIN, (char **)(const char *[]){CONTEND_BIN,
			args[0], args[1], args[2], args[3], args[4], NULL});
		_exit(127);
	}
	return pid;
}

static size_t runs_in(const char *db)
{
	tu_contend(r, "history", "list", "--db", db, "--json", NULL);
	assert_int_equal(r->status, 0);
	json_t *runs = json_loads(r->out, 0, NULL);
	assert_non_null(runs);
	size_t n = json_array_size(runs);
	json_decref(runs);
	return n;
}

/* Rounds on a new database (both create it) and on one that grows. */
static void test_history_concurrent_add(void **state)
{
	(void)state;
	char shared[700]; /* path()'s buffers are reused */
	snprintf(shared, sizeof shared, "%s", path("shared.db"));
	int rounds = SANITIZED ? 4 : 10;
	begin_case();
	for (int i = 0; i < rounds; i++) {
		char a[64], b[64], fresh[64];
		snprintf(a, sizeof a, "a%d.json", i);
		snprintf(b, sizeof b, "b%d.json", i);
		snprintf(fresh, sizeof fresh, "fresh%d.db", i);
		write_doc(path(a), a);
		write_doc(path(b), b);
		const char *db = i % 2 ? shared : path(fresh);
		pid_t pa = start_add(db, path(a)), pb = start_add(db, path(b));
		int sa = wait_status(pa), sb = wait_status(pb);
		if (sa || sb)
			fail_msg("round %d: history add exited %d and %d", i, sa, sb);
		size_t want = i % 2 ? (size_t)(i + 1) : 2;
		assert_int_equal(runs_in(db), want);
	}
	end_case("two history add at once (x rounds)");
}

/* ---- the lock profiler in a program that forks and execs -------------- */

static void test_lockprof_fork_exec(void **state)
{
	(void)state;
	const char *out = path("forkexec.json");
	begin_case();
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "2", "--quiet",
		   "--timeout", "60", "--out", out, "--", forkexec, NULL);
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load_valid(out), *c;
	size_t i;
	assert_string_equal(sget(doc, "status"), "complete");
	json_array_foreach(configs(doc), i, c) {
		json_t *rep = json_array_get(json_object_get(c, "reps"), 0);
		json_t *lock = json_object_get(rep, "lock");
		assert_string_equal(sget(rep, "status"), "ok");
		assert_non_null(strstr(sget(rep, "output_tail"), "all children done"));
		/* parent, the exec'd child and the posix_spawn child are
		 * profiled; the fork child that exits at once may be too */
		json_int_t procs = json_integer_value(json_object_get(lock, "processes"));
		if (procs < 3)
			fail_msg("%s: %lld processes profiled: %s", sget(c, "id"),
				 (long long)procs, json_dumps(lock, 0));
	}
	json_decref(doc);
	end_case("lock profiler, program forks and execs");
}

/* ---- output into a directory someone else can write ------------------ */

/* A victim file that a symlink planted in the output directory points
 * at; it must come out untouched. */
static const char *victim(void)
{
	const char *v = path("victim.txt");
	FILE *f = fopen(v, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	return v;
}

static void assert_victim_intact(const char *v)
{
	size_t n;
	char *text = read_file(v, &n);
	assert_true(n == 9 && !memcmp(text, "precious\n", 9));
	free(text);
}

/* Plot data files have fixed names: plant a symlink in place of each one
 * a first render made. A render must not write through them. */
static void planted_plot_links(const char *doc, const char *v)
{
	char plots[700];
	snprintf(plots, sizeof plots, "%s", path("plots"));
	tu_contend(r, "report", doc, "--plots", plots, NULL);
	if (r->status == 2 && strstr(r->out, "gnuplot not found"))
		return; /* nothing to plant without gnuplot */
	assert_int_equal(r->status, 0);
	DIR *d = opendir(plots);
	struct dirent *de;
	int planted = 0;
	while (d && (de = readdir(d))) {
		char f[1400];
		if (!strstr(de->d_name, ".dat"))
			continue;
		snprintf(f, sizeof f, "%s/%s", plots, de->d_name);
		assert_int_equal(unlink(f), 0);
		assert_int_equal(symlink(v, f), 0);
		planted++;
	}
	closedir(d);
	assert_true(planted > 0);
	tu_contend(r, "report", doc, "--plots", plots, NULL);
	assert_victim_intact(v);
	tu_rmtree(plots);
}

/* The dashboard's index is replaced through a temp file: plant symlinks
 * under every name it could take for the next pids. */
static void planted_dashboard_links(const char *doc, const char *v)
{
	char site[700], db[700], link[1400];
	snprintf(site, sizeof site, "%s", path("site"));
	snprintf(db, sizeof db, "%s", path("dash.db"));
	tu_contend(r, "history", "add", "--db", db, doc, NULL);
	assert_int_equal(r->status, 0);
	mkdir(site, 0700);
	long last = 0;
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "r");
	if (f) {
		assert_int_equal(fscanf(f, "%ld", &last), 1);
		fclose(f);
	}
	for (long p = last + 1; last && p < last + 200; p++) {
		snprintf(link, sizeof link, "%s/index.html.tmp.%ld", site, p);
		assert_int_equal(symlink(v, link), 0);
	}
	tu_contend(r, "dashboard", "--history", db, "--out", site, NULL);
	assert_victim_intact(v);
	tu_rmtree(site);
}

static void test_hostile_output_dir(void **state)
{
	(void)state;
	const char *doc = path("plotme.json");
	begin_case();
	small_run(doc);
	assert_int_equal(r->status, 0);
	const char *v = victim();
	planted_plot_links(doc, v);
	planted_dashboard_links(doc, v);
	end_case("symlinks planted in the output dirs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_injected_faults),
		cmocka_unit_test(test_workers_killed_mid_task),
		cmocka_unit_test(test_stopped_worker_times_out),
		cmocka_unit_test(test_harness_interrupted),
		cmocka_unit_test(test_kill9_while_writing),
		cmocka_unit_test(test_kill9_leaves_no_runner),
		cmocka_unit_test(test_disk_full_preload),
		cmocka_unit_test(test_history_concurrent_add),
		cmocka_unit_test(test_lockprof_fork_exec),
		cmocka_unit_test(test_hostile_output_dir),
		/* last: they move this process into a private mount namespace */
		cmocka_unit_test(test_disk_full_tmpfs),
		cmocka_unit_test(test_shm_full),
	};
	return cmocka_run_group_tests_name("faults", tests, setup, teardown);
}
