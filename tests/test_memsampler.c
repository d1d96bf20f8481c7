/* test_memsampler.c - the memory probe sees what a pool does to memory:
 * a child's 200 MiB, threads in several processes, a /dev/shm file; it
 * rejects bad settings, stops promptly and follows the probe contract. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probes/memsampler.h"

#define MiB (1024ULL * 1024ULL)

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static struct memsampler *start_or_fail(pid_t root, double interval,
					size_t max_points)
{
	struct memsampler_opts o = {0};
	struct memsampler *s = NULL;
	errbuf e = {{0}};
	o.root = root;
	o.interval_s = interval;
	o.max_points = max_points;
	o.pss = 1;
	int rc = memsampler_start(&o, &s, &e);
	if (rc != 0)
		print_error("start: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

static void exec_parker(int ready_fd, int release_fd);

/* A child that runs fn (NULL: re-executes itself as a thread parker), reports readiness over a pipe, then waits until
 * the parent closes the other pipe. */
struct child {
	pid_t pid;
	int ready_rd, release_wr;
};

static struct child spawn_child(void (*fn)(void))
{
	int ready[2], release[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	struct child c = {fork(), ready[0], release[1]};
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		close(ready[0]);
		close(release[1]);
		if (!fn)
			exec_parker(ready[1], release[0]);
		fn();
		char b = 1;
		if (write(ready[1], &b, 1) != 1)
			_exit(2);
		while (read(release[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	char b;
	assert_int_equal(read(c.ready_rd, &b, 1), 1);
	return c;
}

static void end_child(struct child *c)
{
	close(c->release_wr);
	close(c->ready_rd);
	int st;
	assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void touch_200mib(void)
{
	volatile char *p = malloc(200 * MiB);
	if (!p)
		_exit(3);
	for (size_t i = 0; i < 200 * MiB; i += 4096)
		p[i] = 1;
}

static void *park(void *arg)
{
	int fd = *(int *)arg;
	char b;
	while (read(fd, &b, 1) > 0)
		;
	return NULL;
}

/* Three extra threads in a child, parked on a pipe that never closes
 * until the process exits. The child re-executes this binary first:
 * starting threads in a fork of a threaded process is undefined enough
 * that ThreadSanitizer refuses it. */
static const char *self_exe;

static void exec_parker(int ready_fd, int release_fd)
{
	char a[16], b[16];
	snprintf(a, sizeof a, "%d", ready_fd);
	snprintf(b, sizeof b, "%d", release_fd);
	execl(self_exe, self_exe, "--park-threads", a, b, (char *)NULL);
	_exit(6);
}

static int parker_main(int ready_fd, int release_fd)
{
	static int fds[2];
	if (pipe(fds) < 0)
		return 4;
	for (int i = 0; i < 3; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, park, &fds[0]) != 0)
			return 5;
		pthread_detach(t);
	}
	char c = 1;
	if (write(ready_fd, &c, 1) != 1)
		return 2;
	while (read(release_fd, &c, 1) > 0)
		;
	return 0;
}
#define three_threads NULL

static void test_bad_settings_rejected(void **state)
{
	(void)state;
	const double bad[] = {-1.0, NAN, 1e-6, 1000.0, INFINITY};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct memsampler_opts o = {0};
		struct memsampler *s = (void *)1;
		errbuf e = {{0}};
		o.interval_s = bad[i];
		assert_int_equal(memsampler_start(&o, &s, &e), -1);
		assert_null(s);
		assert_non_null(strstr(e.msg, "interval"));
	}
	struct memsampler_opts o = {0};
	struct memsampler *s = NULL;
	errbuf e = {{0}};
	o.max_points = 3;
	assert_int_equal(memsampler_start(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "series"));

	/* a pid that no longer exists: a reaped child */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	memset(&o, 0, sizeof o);
	o.root = gone;
	assert_int_equal(memsampler_start(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "process"));

	struct probe_config pc = {"none", -0.5, 0, 0, 1};
	void *st = NULL;
	assert_int_equal(probe_memory.start(&pc, &st, &e), -1);
	assert_null(st);
}

static void test_once_reads_self(void **state)
{
	(void)state;
	struct memsample m;
	errbuf e = {{0}};
	assert_int_equal(memsample_once(0, 1, NULL, &m, &e), 0);
	assert_true(m.procs >= 1);
	assert_true(m.threads >= 1);
	assert_true(m.rss > 1 * MiB);
	assert_true(m.pss_valid);
	assert_true(m.pss > 0 && m.pss <= m.rss);
	assert_true(m.cached > 0);
	assert_true(m.devshm_valid);
}

static void test_child_200mib_seen(void **state)
{
	(void)state;
	struct memsampler *s = start_or_fail(0, 0.005, 0);
	struct child c = spawn_child(touch_200mib);
	sleep_s(0.1); /* several samples with the child at its peak */
	end_child(&c);
	errbuf e;
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	uint64_t grew = u.peak_rss - u.baseline_rss;
	print_message("baseline %.1f MiB, peak %.1f MiB, grew %.1f MiB\n",
		      (double)u.baseline_rss / MiB, (double)u.peak_rss / MiB,
		      (double)grew / MiB);
	assert_true(grew >= 190 * MiB);
	/* not much more: the 200 MiB are counted once, not per thread */
	assert_true(grew <= 280 * MiB);
	assert_true(u.peak_procs >= 2);
	assert_true(u.samples >= 3);
	/* the series ends after the child left: its last RSS is lower */
	const struct memsample *p;
	size_t n = memsampler_series(s, &p);
	assert_true(n >= 3);
	assert_true(p[n - 1].rss < u.peak_rss - 150 * MiB);
	assert_int_equal(p[n - 1].procs, 1);
	memsampler_free(s);
}

static void test_threads_counted_across_processes(void **state)
{
	(void)state;
	struct memsample before;
	errbuf e;
	assert_int_equal(memsample_once(0, 0, NULL, &before, &e), 0);
	struct memsampler *s = start_or_fail(0, 0.005, 0);
	struct child c = spawn_child(three_threads);
	sleep_s(0.05);
	struct memsample during;
	assert_int_equal(memsample_once(0, 0, NULL, &during, &e), 0);
	end_child(&c);
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	/* child: main thread + 3; the sampler's own thread is not counted */
	assert_true(during.threads >= before.threads + 1 + 4);
	assert_true(u.peak_threads >= before.threads + 4);
	assert_true(u.peak_threads <= before.threads + 4 + 2);
	assert_int_equal(during.procs, before.procs + 1);
	memsampler_free(s);
}

struct forker {
	struct child c;
	pthread_barrier_t forked, sampled;
};

static void *fork_from_thread(void *arg)
{
	struct forker *f = arg;
	f->c = spawn_child(three_threads);
	pthread_barrier_wait(&f->forked);
	pthread_barrier_wait(&f->sampled); /* stay its parent meanwhile */
	return NULL;
}

/* A child forked by a thread other than the main one hangs off that
 * thread's children file, which the walk reads too. */
static void test_child_of_other_thread_found(void **state)
{
	(void)state;
	struct memsample before, during;
	errbuf e;
	struct forker f;
	pthread_t t;
	pthread_barrier_init(&f.forked, NULL, 2);
	pthread_barrier_init(&f.sampled, NULL, 2);
	assert_int_equal(memsample_once(0, 0, NULL, &before, &e), 0);
	assert_int_equal(pthread_create(&t, NULL, fork_from_thread, &f), 0);
	pthread_barrier_wait(&f.forked);
	assert_int_equal(memsample_once(0, 0, NULL, &during, &e), 0);
	pthread_barrier_wait(&f.sampled);
	assert_int_equal(pthread_join(t, NULL), 0);
	end_child(&f.c);
	pthread_barrier_destroy(&f.forked);
	pthread_barrier_destroy(&f.sampled);
	assert_int_equal(during.procs, before.procs + 1);
	/* forker + the child's 4 threads */
	assert_true(during.threads >= before.threads + 5);
}

static void test_devshm_file_seen(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof path, "/dev/shm/contend-test-%d", (int)getpid());
	struct memsampler *s = start_or_fail(0, 0.005, 0);
	int fd = open(path, O_CREAT | O_RDWR | O_EXCL, 0600);
	assert_true(fd >= 0);
	/* tmpfs counts only allocated pages: allocate them */
	assert_int_equal(posix_fallocate(fd, 0, (off_t)(64 * MiB)), 0);
	sleep_s(0.05);
	close(fd);
	unlink(path);
	errbuf e;
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	const struct memsample *p;
	size_t n = memsampler_series(s, &p);
	assert_true(n >= 2);
	assert_true(u.devshm_available);
	assert_true(u.peak_devshm >= p[0].devshm + 60 * MiB);
	assert_true(u.peak_shmem >= p[0].shmem + 60 * MiB);
	memsampler_free(s);
}

static void test_devshm_missing_is_unavailable(void **state)
{
	(void)state;
	struct memsampler_opts o = {0};
	struct memsampler *s = NULL;
	errbuf e;
	o.devshm_path = "/nonexistent/contend-shm";
	assert_int_equal(memsampler_start(&o, &s, &e), 0);
	assert_int_equal(memsampler_stop(s, &e), 0);
	json_t *j = memsampler_json(s);
	json_t *d = json_object_get(j, "peak_devshm_bytes");
	assert_true(json_is_object(d));
	assert_true(json_is_false(json_object_get(d, "available")));
	assert_non_null(strstr(json_string_value(json_object_get(d, "reason")),
			       "/nonexistent"));
	json_decref(j);
	memsampler_free(s);
}

static void test_stops_promptly(void **state)
{
	(void)state;
	struct memsampler *s = start_or_fail(0, 10.0, 0);
	double t0 = mono();
	errbuf e;
	assert_int_equal(memsampler_stop(s, &e), 0);
	double dt = mono() - t0;
	/* far below the 10 s interval: stop wakes the sleeping thread */
	assert_true(dt < 2.0);
	assert_int_equal(memsampler_stop(s, &e), 0); /* twice is fine */
	memsampler_free(s);
	memsampler_free(NULL);
}

static void test_root_exit_ends_sampling(void **state)
{
	(void)state;
	struct child c = spawn_child(three_threads);
	struct memsampler *s = start_or_fail(c.pid, 0.002, 0);
	sleep_s(0.02);
	end_child(&c);
	sleep_s(0.03);
	errbuf e;
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	assert_true(u.samples >= 2);
	assert_true(u.peak_threads >= 4);
	memsampler_free(s);
}

static void test_series_bounded_and_decimated(void **state)
{
	(void)state;
	struct memsampler *s = start_or_fail(0, 0.001, 16);
	sleep_s(0.15);
	errbuf e;
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	const struct memsample *p;
	size_t n = memsampler_series(s, &p);
	assert_true(u.samples > 16);
	assert_true(n <= 16 && n >= 8);
	assert_true(p[0].t_s == 0.0 || p[0].t_s < 0.001);
	for (size_t i = 1; i < n; i++)
		assert_true(p[i].t_s > p[i - 1].t_s);
	memsampler_free(s);
}

static void test_probe_contract(void **state)
{
	(void)state;
	struct probe_config pc = {"none", 0.005, 0, 0, 1};
	void *st = NULL;
	errbuf e = {{0}};
	assert_string_equal(probe_memory.name, "memory");
	assert_int_equal(probe_memory.start(&pc, &st, &e), 0);
	sleep_s(0.05);
	json_t *rep = json_object();
	assert_int_equal(probe_memory.stop(st, rep, &e), 0);
	probe_memory.release(st);
	json_t *m = json_object_get(rep, "memory");
	assert_true(json_is_object(m));
	const char *ints[] = {"peak_rss_bytes", "peak_threads",
			      "peak_shmem_bytes", "peak_devshm_bytes",
			      "baseline_rss_bytes", "peak_pss_bytes", NULL};
	for (int i = 0; ints[i]; i++) {
		if (!json_is_integer(json_object_get(m, ints[i])))
			print_error("%s is not a number: %s\n", ints[i],
				    json_dumps(json_object_get(m, ints[i]), 0));
		assert_true(json_is_integer(json_object_get(m, ints[i])));
	}
	assert_true(json_integer_value(json_object_get(m, "peak_rss_bytes")) >=
		    json_integer_value(json_object_get(m, "baseline_rss_bytes")));
	double cpu = json_real_value(json_object_get(m, "sampler_cpu_fraction"));
	assert_true(cpu >= 0.0 && cpu <= 1.0);
	json_t *series = json_object_get(m, "series");
	size_t n = json_array_size(json_object_get(series, "t_s"));
	assert_true(n >= 2);
	const char *cols[] = {"rss_bytes", "threads", "shmem_bytes",
			      "devshm_bytes", "cached_bytes", "pss_bytes", NULL};
	for (int i = 0; cols[i]; i++)
		assert_int_equal(json_array_size(json_object_get(series, cols[i])), n);
	/* PSS is read sparsely: the first sample has it */
	assert_true(json_is_integer(
		json_array_get(json_object_get(series, "pss_bytes"), 0)));
	/* not in process: no heap series, and the peak says why */
	assert_null(json_object_get(series, "heap_bytes"));
	json_t *heap = json_object_get(m, "peak_heap_bytes");
	assert_true(json_is_false(json_object_get(heap, "available")));
	assert_non_null(strstr(json_string_value(json_object_get(heap, "reason")),
			       "other processes"));
	json_decref(rep);
}

/* In process, the heap figure follows malloc: 64 MiB held during the run
 * is in the peak and the series, whatever the allocator does with RSS. */
static void test_heap_in_process(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* the sanitizer's allocator replaces malloc: mallinfo2 sees none of it */
#endif
	struct probe_config pc = {"none", 0.005, 0, 1, 1};
	void *st = NULL;
	errbuf e = {{0}};
	struct mallinfo2 before = mallinfo2();
	assert_int_equal(probe_memory.start(&pc, &st, &e), 0);
	char *blocks[64];
	for (int i = 0; i < 64; i++) {
		blocks[i] = malloc(1 << 20);
		assert_non_null(blocks[i]);
		memset(blocks[i], i, 1 << 20);
	}
	sleep_s(0.05);
	json_t *rep = json_object();
	assert_int_equal(probe_memory.stop(st, rep, &e), 0);
	probe_memory.release(st);
	for (int i = 0; i < 64; i++)
		free(blocks[i]);
	json_t *m = json_object_get(rep, "memory");
	json_int_t peak = json_integer_value(json_object_get(m, "peak_heap_bytes"));
	json_int_t was = (json_int_t)(before.uordblks + before.hblkhd);
	assert_true(peak >= was + 64 * (json_int_t)MiB);
	json_t *hs = json_object_get(json_object_get(m, "series"), "heap_bytes");
	assert_int_equal(json_array_size(hs),
			 json_array_size(json_object_get(json_object_get(m, "series"), "t_s")));
	assert_true(json_integer_value(json_array_get(hs, json_array_size(hs) - 1)) >=
		    was + 64 * (json_int_t)MiB);
	json_decref(rep);
	/* the heap is this process's: another root is refused */
	struct memsampler_opts o = {.root = getppid(), .heap = 1};
	struct memsampler *s = NULL;
	assert_int_equal(memsampler_start(&o, &s, &e), -1);
	assert_non_null(strstr(e.msg, "heap figures are this process's only"));
}

static json_t *fake_rep(long rss, long threads)
{
	return json_pack("{s:{s:I, s:I, s:I, s:{s:b, s:s}, s:f}}", "memory",
			 "peak_rss_bytes", (json_int_t)rss, "baseline_rss_bytes",
			 (json_int_t)10, "peak_threads", (json_int_t)threads,
			 "peak_pss_bytes", "available", 0, "reason", "no smaps",
			 "sampler_cpu_fraction", 0.002);
}

static void test_summarise(void **state)
{
	(void)state;
	errbuf e = {{0}};
	json_t *config = json_pack("{s:[o, o, o, {}]}", "reps",
				   fake_rep(100, 4), fake_rep(300, 9),
				   fake_rep(200, 5));
	assert_int_equal(probe_memory.summarise(config, &e), 0);
	json_t *m = json_object_get(config, "memory");
	assert_int_equal(json_integer_value(json_object_get(m, "peak_rss_bytes")), 200);
	assert_int_equal(json_integer_value(json_object_get(m, "peak_rss_bytes_max")), 300);
	assert_int_equal(json_integer_value(json_object_get(m, "peak_threads")), 5);
	assert_int_equal(json_integer_value(json_object_get(m, "reps")), 3);
	json_t *pss = json_object_get(m, "peak_pss_bytes");
	assert_true(json_is_false(json_object_get(pss, "available")));
	assert_string_equal(json_string_value(json_object_get(pss, "reason")),
			    "no smaps");
	/* never a 0 for a figure nobody measured */
	assert_true(json_is_object(json_object_get(m, "peak_devshm_bytes")));
	json_decref(config);

	json_t *empty = json_pack("{s:[{}]}", "reps");
	assert_int_equal(probe_memory.summarise(empty, &e), -1);
	assert_non_null(strstr(e.msg, "memory"));
	json_decref(empty);
	json_t *norep = json_object();
	assert_int_equal(probe_memory.summarise(norep, &e), -1);
	json_decref(norep);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--park-threads") == 0)
		return parker_main(atoi(argv[2]), atoi(argv[3]));
	self_exe = "/proc/self/exe";
	(void)argv;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_settings_rejected),
		cmocka_unit_test(test_once_reads_self),
		cmocka_unit_test(test_child_200mib_seen),
		cmocka_unit_test(test_threads_counted_across_processes),
		cmocka_unit_test(test_child_of_other_thread_found),
		cmocka_unit_test(test_devshm_file_seen),
		cmocka_unit_test(test_devshm_missing_is_unavailable),
		cmocka_unit_test(test_stops_promptly),
		cmocka_unit_test(test_root_exit_ends_sampling),
		cmocka_unit_test(test_series_bounded_and_decimated),
		cmocka_unit_test(test_probe_contract),
		cmocka_unit_test(test_heap_in_process),
		cmocka_unit_test(test_summarise),
	};
	return cmocka_run_group_tests_name("memsampler", tests, NULL, NULL);
}
