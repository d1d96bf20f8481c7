/* test_lockstat.c - unit tests of the instrumented lock: counts, waits,
 * hand-overs, per-thread merging, reset, fork, the POD summary, its merge
 * and its JSON, and the rejection of bad names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probes/lockstat.h"
#include "tests/testutil.h"


static uint64_t hist_sum(const struct lockstat_summary *s)
{
	uint64_t n = 0;
	for (int i = 0; i < LOCKSTAT_HIST_BUCKETS; i++)
		n += s->hist[i];
	return n;
}

static struct lockstat_summary snap(const char *name)
{
	struct lockstat_summary s;
	errbuf e = {{0}};
	assert_int_equal(lockstat_snapshot(name, &s, &e), 0);
	return s;
}

static void test_bad_names(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(lockstat_mutex_init(&m, "", &e), -1);
	char longname[LOCKSTAT_NAME_MAX + 8];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(lockstat_mutex_init(&m, longname, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
	assert_int_equal(lockstat_class(NULL, &e), -1);
}

static void test_uncontended(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.uncontended", &e), 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(lockstat_lock(&m), 0);
		lockstat_unlock(&m);
	}
	struct lockstat_summary s = snap("t.uncontended");
	assert_string_equal(s.name, "t.uncontended");
	assert_int_equal(s.acquisitions, 1000);
	assert_int_equal(s.contended, 0);
	assert_int_equal(s.wait_ns, 0);
	assert_int_equal(s.handovers, 0);
	assert_int_equal(hist_sum(&s), 0);
	lockstat_mutex_destroy(&m);
}

static void *lock_once(void *arg)
{
	struct lockstat_mutex *m = arg;
	lockstat_lock(m);
	lockstat_unlock(m);
	return NULL;
}

static void test_handover(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.handover", &e), 0);
	lock_once(&m);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, lock_once, &m), 0);
	pthread_join(th, NULL);
	lock_once(&m);
	lock_once(&m); /* same holder again: not a hand-over */
	struct lockstat_summary s = snap("t.handover");
	assert_int_equal(s.acquisitions, 4);
	assert_int_equal(s.handovers, 2);
	lockstat_mutex_destroy(&m);
}

struct waiter {
	struct lockstat_mutex *m;
	pid_t tid;
	volatile int ready; /* only polled; joined before results are read */
	uint64_t waited;
};

static void *lock_and_report(void *arg)
{
	struct waiter *w = arg;
	w->tid = gettid();
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	w->waited = lockstat_lock(w->m);
	lockstat_unlock(w->m);
	return NULL;
}

static void start_blocked_waiter(struct waiter *w, pthread_t *th)
{
	assert_int_equal(pthread_create(th, NULL, lock_and_report, w), 0);
	while (!__atomic_load_n(&w->ready, __ATOMIC_ACQUIRE))
		tu_sleep_ms(1);
	assert_int_equal(tu_wait_until_blocked(w->tid), 0);
}

static void test_contended_wait(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.contended", &e), 0);
	lockstat_lock(&m);
	struct waiter w = {.m = &m};
	pthread_t th;
	start_blocked_waiter(&w, &th);
	tu_sleep_ms(20); /* the waiter is already blocked: it waits at least this */
	lockstat_unlock(&m);
	pthread_join(th, NULL);

	struct lockstat_summary s = snap("t.contended");
	assert_int_equal(s.acquisitions, 2);
	assert_int_equal(s.contended, 1);
	assert_true(s.wait_ns >= 20000000u);
	assert_int_equal(s.max_wait_ns, s.wait_ns);
	assert_int_equal(w.waited, s.wait_ns);
	assert_int_equal(s.handovers, 1);
	int b = 63 - __builtin_clzll(s.wait_ns);
	assert_int_equal(s.hist[b], 1);
	assert_int_equal(hist_sum(&s), 1);
	lockstat_mutex_destroy(&m);
}

struct counting {
	struct lockstat_mutex *m;
	long *counter;
	int n;
};

static void *count_up(void *arg)
{
	struct counting *c = arg;
	for (int i = 0; i < c->n; i++) {
		lockstat_lock(c->m);
		long v = *c->counter; /* deliberately not atomic: the lock protects it */
		*c->counter = v + 1;
		lockstat_unlock(c->m);
	}
	return NULL;
}

static void test_exclusion_and_merge_over_threads(void **state)
{
	(void)state;
	enum { T = 4, N = 50000 };
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.counter", &e), 0);
	long counter = 0;
	struct counting c = {&m, &counter, N};
	pthread_t th[T];
	for (int i = 0; i < T; i++)
		assert_int_equal(pthread_create(&th[i], NULL, count_up, &c), 0);
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(counter, (long)T * N);
	struct lockstat_summary s = snap("t.counter");
	assert_int_equal(s.acquisitions, (uint64_t)T * N);
	assert_int_equal(hist_sum(&s), s.contended);
	assert_true(s.contended <= s.acquisitions);
	assert_true(s.max_wait_ns <= s.wait_ns);
	assert_true(s.handovers < s.acquisitions);
	lockstat_mutex_destroy(&m);
}

static void *try_from_other_thread(void *arg)
{
	return (void *)(long)lockstat_trylock(arg);
}

static void test_trylock(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.trylock", &e), 0);
	assert_int_equal(lockstat_trylock(&m), 0);
	pthread_t th;
	void *rc;
	assert_int_equal(pthread_create(&th, NULL, try_from_other_thread, &m), 0);
	pthread_join(th, &rc);
	assert_int_equal((long)rc, EBUSY);
	lockstat_unlock(&m);
	struct lockstat_summary s = snap("t.trylock");
	assert_int_equal(s.acquisitions, 1); /* the failed try is not one */
	assert_int_equal(s.contended, 0);
	lockstat_mutex_destroy(&m);
}

static void test_cond_wait_timeout(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER; /* CLOCK_REALTIME */
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.cond", &e), 0);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 2000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	lockstat_lock(&m);
	assert_int_equal(lockstat_cond_wait(&cv, &m, &dl), ETIMEDOUT);
	lockstat_unlock(&m);
	struct lockstat_summary s = snap("t.cond");
	assert_int_equal(s.acquisitions, 2);
	assert_int_equal(s.wait_ns, 0);
	lockstat_mutex_destroy(&m);
}

static void test_snapshot_unknown_and_all(void **state)
{
	(void)state;
	struct lockstat_summary s;
	errbuf e = {{0}};
	assert_int_equal(lockstat_snapshot("t.no-such-lock", &s, &e), -1);
	assert_non_null(strstr(e.msg, "t.no-such-lock"));
	assert_int_equal(lockstat_snapshot(NULL, &s, &e), -1);

	assert_true(lockstat_class("t.all", &e) >= 0);
	struct lockstat_summary all[LOCKSTAT_MAX_CLASSES];
	size_t n = lockstat_snapshot_all(all, LOCKSTAT_MAX_CLASSES);
	assert_true(n >= 1 && n <= LOCKSTAT_MAX_CLASSES);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(all[i].name, "t.all") == 0;
	assert_true(found);
	assert_int_equal(lockstat_snapshot_all(all, 0), n);
}

static void test_record_api(void **state)
{
	(void)state;
	errbuf e = {{0}};
	int cls = lockstat_class("t.record", &e);
	assert_true(cls >= 0);
	assert_int_equal(lockstat_class("t.record", &e), cls); /* same class */
	lockstat_record_acquire(cls, 0, 0, 0);
	lockstat_record_acquire(cls, 3000, 1, 1);
	lockstat_record_drop_request(cls);
	lockstat_record_forced_switch(cls);
	lockstat_record_release_wait(cls, 1000);
	lockstat_record_acquire(-1, 5, 1, 1); /* ignored, not a crash */
	lockstat_record_drop_request(LOCKSTAT_MAX_CLASSES);
	struct lockstat_summary s;
	lockstat_snapshot_class(cls, &s);
	assert_int_equal(s.acquisitions, 2);
	assert_int_equal(s.contended, 1);
	assert_int_equal(s.wait_ns, 3000);
	assert_int_equal(s.handovers, 1);
	assert_int_equal(s.drop_requests, 1);
	assert_int_equal(s.forced_switches, 1);
	assert_int_equal(s.release_wait_ns, 1000);
	assert_int_equal(s.hist[11], 1); /* 2048 <= 3000 < 4096 */
	lockstat_snapshot_class(-3, &s);
	assert_int_equal(s.acquisitions, 0);
	assert_string_equal(s.name, "");
}

static void test_reset(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.reset", &e), 0);
	lock_once(&m);
	assert_int_equal(snap("t.reset").acquisitions, 1);
	lockstat_reset();
	struct lockstat_summary s = snap("t.reset");
	assert_int_equal(s.acquisitions, 0);
	assert_string_equal(s.name, "t.reset"); /* names survive */
	lockstat_mutex_destroy(&m);
}

static void *lock_ten(void *arg)
{
	for (int i = 0; i < 10; i++)
		lock_once(arg);
	return NULL;
}

static void test_finished_threads_still_count(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.exited", &e), 0);
	for (int round = 0; round < 3; round++) { /* later threads reuse blocks */
		pthread_t th;
		assert_int_equal(pthread_create(&th, NULL, lock_ten, &m), 0);
		pthread_join(th, NULL);
	}
	assert_int_equal(snap("t.exited").acquisitions, 30);
	lockstat_mutex_destroy(&m);
}

static void *get_id(void *arg)
{
	*(uint32_t *)arg = lockstat_thread_id();
	return NULL;
}

static void test_thread_ids(void **state)
{
	(void)state;
	uint32_t mine = lockstat_thread_id(), other = 0;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, get_id, &other), 0);
	pthread_join(th, NULL);
	assert_true(mine != 0 && other != 0 && mine != other);
	assert_int_equal(lockstat_thread_id(), mine);
}

static void test_fork_child_starts_from_zero(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e = {{0}};
	assert_int_equal(lockstat_mutex_init(&m, "t.fork", &e), 0);
	lock_ten(&m);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < 3; i++)
			lock_once(&m);
		struct lockstat_summary s;
		int ok = lockstat_snapshot("t.fork", &s, NULL) == 0 &&
			 write(p[1], &s, sizeof s) == (ssize_t)sizeof s;
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	struct lockstat_summary from_child;
	ssize_t n = read(p[0], &from_child, sizeof from_child);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(n, (ssize_t)sizeof from_child);
	assert_int_equal(from_child.acquisitions, 3);
	assert_string_equal(from_child.name, "t.fork");
	struct lockstat_summary mine = snap("t.fork");
	assert_int_equal(mine.acquisitions, 10);
	lockstat_merge(&mine, &from_child);
	assert_int_equal(mine.acquisitions, 13);
	lockstat_mutex_destroy(&m);
}

static void test_merge(void **state)
{
	(void)state;
	struct lockstat_summary a = {.acquisitions = 5, .contended = 2,
				     .wait_ns = 100, .max_wait_ns = 70,
				     .handovers = 1, .drop_requests = 0,
				     .forced_switches = 4};
	a.hist[6] = 2;
	struct lockstat_summary b = {.name = "x", .acquisitions = 7,
				     .contended = 1, .wait_ns = 90,
				     .max_wait_ns = 90, .handovers = 3,
				     .drop_requests = 2, .forced_switches = 1};
	b.hist[6] = 1;
	lockstat_merge(&a, &b);
	assert_string_equal(a.name, "x"); /* a had none */
	assert_int_equal(a.acquisitions, 12);
	assert_int_equal(a.contended, 3);
	assert_int_equal(a.wait_ns, 190);
	assert_int_equal(a.max_wait_ns, 90);
	assert_int_equal(a.handovers, 4);
	assert_int_equal(a.drop_requests, 2);
	assert_int_equal(a.forced_switches, 5);
	assert_int_equal(a.hist[6], 3);
	struct lockstat_summary c = {.name = "keep", .max_wait_ns = 500};
	lockstat_merge(&c, &b);
	assert_string_equal(c.name, "keep");
	assert_int_equal(c.max_wait_ns, 500);
}

static void test_json(void **state)
{
	(void)state;
	struct lockstat_summary s = {.name = "interp-lock", .acquisitions = 10,
				     .contended = 3, .wait_ns = 500000000,
				     .max_wait_ns = 250000000, .handovers = 2,
				     .drop_requests = 1, .forced_switches = 1,
				     .release_wait_ns = 100000000};
	s.hist[0] = 1;
	s.hist[27] = 2;
	json_t *o = lockstat_summary_json(&s, 2.0);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
			    "interp-lock");
	assert_int_equal(json_integer_value(json_object_get(o, "acquisitions")), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "contended")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "handovers")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "drop_requests")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "forced_switches")), 1);
	assert_float_equal(json_real_value(json_object_get(o, "wait_s")), 0.5, 1e-12);
	assert_float_equal(json_real_value(json_object_get(o, "max_wait_s")), 0.25, 1e-12);
	assert_float_equal(json_real_value(json_object_get(o, "release_wait_s")), 0.1, 1e-12);
	/* share counts waiting to take and to hand over: (0.5 + 0.1) / 2 */
	assert_float_equal(json_real_value(json_object_get(o, "share")), 0.3, 1e-12);
	json_t *h = json_object_get(o, "histogram");
	assert_string_equal(json_string_value(json_object_get(h, "unit")), "log2_ns");
	json_t *counts = json_object_get(h, "counts");
	assert_int_equal(json_array_size(counts), 28); /* trailing zeros cut */
	assert_int_equal(json_integer_value(json_array_get(counts, 27)), 2);
	json_decref(o);

	/* no worker time: share is null with a reason, never 0 */
	o = lockstat_summary_json(&s, 0.0);
	assert_true(json_is_null(json_object_get(o, "share")));
	assert_non_null(json_string_value(json_object_get(o, "share_reason")));
	json_decref(o);

	/* a name that arrived unterminated over a pipe is cut, not overrun */
	struct lockstat_summary bad = {0};
	memset(bad.name, 'z', sizeof bad.name);
	o = lockstat_summary_json(&bad, 1.0);
	assert_int_equal(strlen(json_string_value(json_object_get(o, "name"))),
			 LOCKSTAT_NAME_MAX - 1);
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(o, "histogram"), "counts")), 0);
	json_decref(o);

	struct lockstat_summary two[2] = {s, {.name = "other"}};
	json_t *all = lockstat_summaries_json(two, 2, 1.0);
	assert_non_null(json_object_get(all, "interp-lock"));
	assert_non_null(json_object_get(all, "other"));
	json_decref(all);
}

static void test_too_many_names(void **state)
{
	(void)state;
	/* In a child: filling the class table would break later tests. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		errbuf e = {{0}};
		int last = 0;
		for (int i = 0; i < LOCKSTAT_MAX_CLASSES + 2 && last >= 0; i++) {
			char name[32];
			snprintf(name, sizeof name, "t.many.%d", i);
			last = lockstat_class(name, &e);
		}
		_exit(last < 0 && strstr(e.msg, "too many") ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_uncontended),
		cmocka_unit_test(test_handover),
		cmocka_unit_test(test_contended_wait),
		cmocka_unit_test(test_exclusion_and_merge_over_threads),
		cmocka_unit_test(test_trylock),
		cmocka_unit_test(test_cond_wait_timeout),
		cmocka_unit_test(test_snapshot_unknown_and_all),
		cmocka_unit_test(test_record_api),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_finished_threads_still_count),
		cmocka_unit_test(test_thread_ids),
		cmocka_unit_test(test_fork_child_starts_from_zero),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_too_many_names),
	};
	return cmocka_run_group_tests_name("lockstat", tests, NULL, NULL);
}
