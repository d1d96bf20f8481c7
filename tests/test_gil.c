/* test_gil.c - unit tests of the interpreter-lock models (gil, mutex, none)
 * and of the linetrace hooks that take them: exclusion, recorded waits,
 * bounded hand-over, fork, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probes/gil.h"
#include "tests/testutil.h"
/* The hooks live outside libcontend.a (only the linetrace binary links
 * them), so this test compiles them in; being built without
 * -finstrument-functions, it calls them by hand. */
#include "probes/hooks/trace_hooks.c"


/* Each test uses these names and starts from lockstat_reset(), so the
 * class table stays small. */
static const char *name_of(enum lock_model m)
{
	return m == LOCK_MODEL_GIL ? "g" : m == LOCK_MODEL_MUTEX ? "m" : "n";
}

static struct gil *make(enum lock_model m)
{
	struct gil *g = NULL;
	errbuf e = {{0}};
	lockstat_reset();
	assert_int_equal(gil_create(&g, m, name_of(m), &e), 0);
	assert_non_null(g);
	assert_int_equal(gil_model(g), m);
	return g;
}

static struct lockstat_summary stats(struct gil *g)
{
	struct lockstat_summary s;
	gil_stats(g, &s);
	return s;
}

static uint64_t hist_sum(const struct lockstat_summary *s)
{
	uint64_t n = 0;
	for (int i = 0; i < LOCKSTAT_HIST_BUCKETS; i++)
		n += s->hist[i];
	return n;
}

/* --- bad input -------------------------------------------------------- */

static void test_parse_models(void **state)
{
	(void)state;
	enum lock_model m;
	errbuf e = {{0}};
	const char *good[] = {"gil", "mutex", "none"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lock_model_parse(good[i], &m, &e), 0);
		assert_string_equal(lock_model_name(m), good[i]);
	}
	const char *bad[] = {"", "GIL", "mutexx", "free-threaded", " gil"};
	for (int i = 0; i < 5; i++) {
		e.msg[0] = 0;
		assert_int_equal(lock_model_parse(bad[i], &m, &e), -1);
		assert_non_null(strstr(e.msg, "gil, mutex or none"));
	}
	assert_int_equal(lock_model_parse(NULL, &m, &e), -1);
	assert_string_equal(lock_model_name((enum lock_model)42), "unknown");
}

static void test_create_bad_input(void **state)
{
	(void)state;
	struct gil *g = NULL;
	errbuf e = {{0}};
	assert_int_equal(gil_create(&g, (enum lock_model)7, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "unknown lock model"));
	assert_int_equal(gil_create(&g, LOCK_MODEL_GIL, "", &e), -1);
	assert_int_equal(gil_create(&g, LOCK_MODEL_GIL,
				    "a-name-far-too-long-for-lockstat", &e), -1);
	assert_non_null(strstr(e.msg, "bytes"));
	assert_null(g);
	/* the default name works */
	assert_int_equal(gil_create(&g, LOCK_MODEL_NONE, NULL, &e), 0);
	struct lockstat_summary s = stats(g);
	assert_string_equal(s.name, GIL_DEFAULT_NAME);
	gil_destroy(g);
	gil_destroy(NULL);
}

static void test_switch_interval(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_GIL);
	errbuf e = {{0}};
	assert_float_equal(gil_switch_interval(g), 0.005, 1e-12);
	assert_int_equal(gil_set_switch_interval(g, 0.001, &e), 0);
	assert_float_equal(gil_switch_interval(g), 0.001, 1e-12);
	double bad[] = {0, -1, NAN, INFINITY, 1e9, 1e-9};
	for (int i = 0; i < 6; i++) {
		e.msg[0] = 0;
		assert_int_equal(gil_set_switch_interval(g, bad[i], &e), -1);
		assert_non_null(strstr(e.msg, "out of range"));
	}
	assert_float_equal(gil_switch_interval(g), 0.001, 1e-12);
	gil_destroy(g);
}

/* --- mutual exclusion ------------------------------------------------- */

struct shared {
	struct gil *g;
	long counter; /* plain long: only the lock model protects it */
	int n;
	atomic_int not_held; /* times gil_held() said no while holding */
};

static void *count_up(void *arg)
{
	struct shared *s = arg;
	for (int i = 0; i < s->n; i++) {
		gil_acquire(s->g);
		if (!gil_held(s->g))
			atomic_fetch_add(&s->not_held, 1);
		long v = s->counter;
		s->counter = v + 1;
		gil_release(s->g);
	}
	return NULL;
}

static void check_exclusion(enum lock_model m)
{
	enum { T = 4, N = 20000 };
	struct shared s = {.g = make(m), .n = N};
	pthread_t th[T];
	for (int i = 0; i < T; i++)
		assert_int_equal(pthread_create(&th[i], NULL, count_up, &s), 0);
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(s.counter, (long)T * N);
	assert_int_equal(atomic_load(&s.not_held), 0);
	assert_false(gil_held(s.g));
	struct lockstat_summary st = stats(s.g);
	assert_int_equal(st.acquisitions, (uint64_t)T * N);
	assert_int_equal(hist_sum(&st), st.contended);
	assert_true(st.handovers < st.acquisitions);
	gil_destroy(s.g);
}

static void test_exclusion_gil(void **state)
{
	(void)state;
	check_exclusion(LOCK_MODEL_GIL);
}

static void test_exclusion_mutex(void **state)
{
	(void)state;
	check_exclusion(LOCK_MODEL_MUTEX);
}

static void *hammer(void *arg)
{
	struct shared *s = arg;
	for (int i = 0; i < s->n; i++) {
		gil_acquire(s->g);
		if (!gil_held(s->g))
			atomic_fetch_add(&s->not_held, 1);
		gil_release(s->g);
	}
	return NULL;
}

static void test_none_records_nothing(void **state)
{
	(void)state;
	struct shared s = {.g = make(LOCK_MODEL_NONE), .n = 10000};
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &s), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(atomic_load(&s.not_held), 0); /* "held" without a GIL */
	struct lockstat_summary st = stats(s.g);
	assert_string_equal(st.name, "n");
	assert_int_equal(st.acquisitions, 0);
	assert_int_equal(st.contended, 0);
	assert_int_equal(st.wait_ns, 0);
	assert_int_equal(st.handovers, 0);
	assert_int_equal(gil_yield_if_requested(s.g), 0);
	gil_destroy(s.g);
}

/* --- waits ------------------------------------------------------------ */

struct waiter {
	struct gil *g;
	pid_t tid;
	atomic_int ready;
};

static void *acquire_once(void *arg)
{
	struct waiter *w = arg;
	w->tid = gettid();
	atomic_store(&w->ready, 1);
	gil_acquire(w->g);
	gil_release(w->g);
	return NULL;
}

/* The main thread holds the lock for 30 ms while a waiter is blocked. */
static struct lockstat_summary hold_against_waiter(struct gil *g)
{
	struct waiter w = {.g = g};
	gil_acquire(g);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, acquire_once, &w), 0);
	while (!atomic_load(&w.ready))
		tu_sleep_ms(1);
	assert_int_equal(tu_wait_until_blocked(w.tid), 0);
	tu_sleep_ms(30);
	gil_release(g);
	pthread_join(th, NULL);
	return stats(g);
}

static void test_waits_recorded_gil(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_GIL);
	struct lockstat_summary s = hold_against_waiter(g);
	assert_int_equal(s.acquisitions, 2);
	assert_int_equal(s.contended, 1);
	assert_true(s.wait_ns >= 30000000u);
	assert_int_equal(s.max_wait_ns, s.wait_ns);
	assert_int_equal(s.handovers, 1);
	/* held 30 ms > the 5 ms interval: the waiter asked for a drop, so
	 * the releaser waited for it to take the lock, unless it already had */
	assert_true(s.drop_requests >= 1);
	assert_true(s.forced_switches <= 1);
	/* the internal mutexes are instrumented too */
	struct lockstat_summary inner;
	errbuf e = {{0}};
	assert_int_equal(lockstat_snapshot("g.mutex", &inner, &e), 0);
	assert_true(inner.acquisitions >= 4);
	assert_int_equal(lockstat_snapshot("g.switch", &inner, &e), 0);
	assert_true(inner.acquisitions >= 2);
	gil_destroy(g);
}

static void test_waits_recorded_mutex(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_MUTEX);
	struct lockstat_summary s = hold_against_waiter(g);
	assert_int_equal(s.acquisitions, 2);
	assert_int_equal(s.contended, 1);
	assert_true(s.wait_ns >= 30000000u);
	assert_int_equal(s.handovers, 1);
	assert_int_equal(s.drop_requests, 0);
	assert_int_equal(s.forced_switches, 0);
	gil_destroy(g);
}

/* --- bounded hand-over ------------------------------------------------ */

struct runner {
	struct gil *g;
	atomic_int stop, started, done;
	atomic_long yields;
};

/* A thread running "bytecode": holds the GIL throughout and only checks,
 * as the eval loop does, whether someone asked for it. */
static void *run_bytecode(void *arg)
{
	struct runner *r = arg;
	gil_acquire(r->g);
	atomic_store(&r->started, 1);
	uint64_t deadline = lockstat_now_ns() + 20ull * 1000000000u;
	while (!atomic_load(&r->stop) && lockstat_now_ns() < deadline)
		if (gil_yield_if_requested(r->g))
			atomic_fetch_add(&r->yields, 1); /* holds it again */
	gil_release(r->g);
	atomic_store(&r->done, 1);
	return NULL;
}

static void test_no_starvation_under_gil(void **state)
{
	(void)state;
	enum { N = 10 };
	struct runner r = {.g = make(LOCK_MODEL_GIL)};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, run_bytecode, &r), 0);
	while (!atomic_load(&r.started))
		tu_sleep_ms(1);
	uint64_t worst = 0;
	for (long i = 0; i < N && !atomic_load(&r.done); i++) {
		/* the runner holds the GIL again before each try */
		while (atomic_load(&r.yields) < i && !atomic_load(&r.done))
			tu_sleep_ms(1);
		uint64_t t0 = lockstat_now_ns();
		gil_acquire(r.g);
		uint64_t waited = lockstat_now_ns() - t0;
		gil_release(r.g);
		if (waited > worst)
			worst = waited;
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	/* A switch interval (5 ms) plus scheduling; a liveness bound, not a
	 * speed target: without drop requests each try would wait until the
	 * runner gave up after 20 s. */
	assert_true(worst < 2000000000u);
	assert_true(atomic_load(&r.yields) >= N);
	struct lockstat_summary s = stats(r.g);
	assert_true(s.drop_requests >= N);
	assert_true(s.handovers >= 2 * N);
	/* a releaser waits only if the waiter has not already taken it */
	assert_true(s.forced_switches <= (uint64_t)atomic_load(&r.yields));
	gil_destroy(r.g);
}

/* --- fork ------------------------------------------------------------- */

struct holder {
	struct gil *g;
	atomic_int holding, release;
};

static void *hold_until_told(void *arg)
{
	struct holder *h = arg;
	gil_acquire(h->g);
	atomic_store(&h->holding, 1);
	while (!atomic_load(&h->release))
		tu_sleep_ms(1);
	gil_release(h->g);
	return NULL;
}

/* Fork while another thread holds the lock; the child must be able to
 * take it (the holder does not exist there). */
static void fork_while_held(struct gil *g, int use_hooks)
{
	struct holder h = {.g = g};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, hold_until_told, &h), 0);
	while (!atomic_load(&h.holding))
		tu_sleep_ms(1);
	if (!use_hooks)
		gil_atfork_prepare(g);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10); /* a deadlock fails the test instead of hanging it */
		if (!use_hooks)
			gil_atfork_child(g);
		uint64_t before = trace_hooks_thread_calls();
		if (use_hooks)
			__cyg_profile_func_enter(NULL, NULL);
		else
			gil_acquire(g);
		int ok = gil_held(g) || use_hooks;
		if (!use_hooks)
			gil_release(g);
		ok = ok && (!use_hooks || trace_hooks_thread_calls() == before + 1);
		_exit(ok ? 0 : 1);
	}
	if (!use_hooks)
		gil_atfork_parent(g);
	atomic_store(&h.release, 1);
	pthread_join(th, NULL);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the parent's lock still works */
	gil_acquire(g);
	assert_true(gil_held(g));
	gil_release(g);
}

static void test_fork_explicit_gil(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_GIL);
	fork_while_held(g, 0);
	gil_destroy(g);
}

static void test_fork_explicit_mutex_unheld(void **state)
{
	(void)state;
	/* prepare waits for a mutex holder, so fork with it free */
	struct gil *g = make(LOCK_MODEL_MUTEX);
	gil_atfork_prepare(g);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(10);
		gil_atfork_child(g);
		gil_acquire(g);
		int ok = gil_held(g);
		gil_release(g);
		_exit(ok ? 0 : 1);
	}
	gil_atfork_parent(g);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	gil_destroy(g);
}

/* --- linetrace hooks -------------------------------------------------- */

static void test_hooks_idle_when_not_installed(void **state)
{
	(void)state;
	errbuf e = {{0}};
	assert_int_equal(trace_hooks_install(NULL, &e), 0);
	assert_null(trace_hooks_installed());
	uint64_t before = trace_hooks_thread_calls();
	for (int i = 0; i < 100; i++) {
		__cyg_profile_func_enter(NULL, NULL);
		__cyg_profile_func_exit(NULL, NULL);
	}
	assert_int_equal(trace_hooks_thread_calls(), before);
}

static void test_hooks_take_the_model(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_MUTEX);
	errbuf e = {{0}};
	assert_int_equal(trace_hooks_install(g, &e), 0);
	assert_ptr_equal(trace_hooks_installed(), g);
	uint64_t before = trace_hooks_thread_calls();
	for (int i = 0; i < 1000; i++) {
		__cyg_profile_func_enter((void *)test_hooks_take_the_model, NULL);
		__cyg_profile_func_exit((void *)test_hooks_take_the_model, NULL);
	}
	trace_hooks_install(NULL, &e);
	/* no tracer: only the entry takes the lock, as in Cython */
	assert_int_equal(trace_hooks_thread_calls() - before, 1000);
	assert_int_equal(stats(g).acquisitions, 1000);
	assert_false(gil_held(g));
	gil_destroy(g);
}

static int traced_calls, traced_returns, traced_unheld;

static void record_event(enum trace_event ev, void *fn, void *site)
{
	(void)fn;
	(void)site;
	if (!gil_held(trace_hooks_installed()))
		traced_unheld++;
	if (ev == TRACE_CALL)
		traced_calls++;
	else
		traced_returns++;
	/* an instrumented tracer would re-enter the hooks: they must not
	 * deadlock on the lock they already hold */
	__cyg_profile_func_enter(NULL, NULL);
	__cyg_profile_func_exit(NULL, NULL);
}

static void test_hooks_tracer_under_lock(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_GIL);
	errbuf e = {{0}};
	assert_int_equal(trace_hooks_install(g, &e), 0);
	uint64_t before = trace_hooks_thread_calls();
	trace_hooks_set_tracer(record_event);
	__cyg_profile_func_enter(NULL, NULL); /* traced frame */
	__cyg_profile_func_enter(NULL, NULL); /* traced, nested */
	__cyg_profile_func_exit(NULL, NULL);
	trace_hooks_set_tracer(NULL);
	__cyg_profile_func_enter(NULL, NULL); /* untraced frame */
	__cyg_profile_func_exit(NULL, NULL);  /* no lock taken */
	__cyg_profile_func_exit(NULL, NULL);  /* traced at entry: takes it */
	__cyg_profile_func_exit(NULL, NULL);  /* unbalanced: ignored */
	trace_hooks_install(NULL, &e);
	assert_int_equal(traced_calls, 2);
	assert_int_equal(traced_returns, 1); /* tracer gone by the 2nd return */
	assert_int_equal(traced_unheld, 0);
	assert_int_equal(trace_hooks_thread_calls() - before, 5);
	assert_int_equal(stats(g).acquisitions, 5);
	gil_destroy(g);
}

struct hook_thread {
	int n;
	uint64_t calls;
};

static void *call_hooks(void *arg)
{
	struct hook_thread *h = arg;
	for (int i = 0; i < h->n; i++) {
		__cyg_profile_func_enter(NULL, NULL);
		__cyg_profile_func_exit(NULL, NULL);
	}
	h->calls = trace_hooks_thread_calls();
	return NULL;
}

static void test_hooks_from_threads(void **state)
{
	(void)state;
	enum { T = 3, N = 20000 };
	struct gil *g = make(LOCK_MODEL_GIL);
	errbuf e = {{0}};
	assert_int_equal(trace_hooks_install(g, &e), 0);
	struct hook_thread h[T];
	pthread_t th[T];
	for (int i = 0; i < T; i++) {
		h[i] = (struct hook_thread){.n = N};
		assert_int_equal(pthread_create(&th[i], NULL, call_hooks, &h[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(h[i].calls, N);
	}
	trace_hooks_install(NULL, &e);
	assert_int_equal(stats(g).acquisitions, (uint64_t)T * N);
	gil_destroy(g);
}

static void test_hooks_fork_rebuilds_the_lock(void **state)
{
	(void)state;
	struct gil *g = make(LOCK_MODEL_GIL);
	errbuf e = {{0}};
	assert_int_equal(trace_hooks_install(g, &e), 0);
	fork_while_held(g, 1); /* the pthread_atfork handlers do the work */
	trace_hooks_install(NULL, &e);
	gil_destroy(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_models),
		cmocka_unit_test(test_create_bad_input),
		cmocka_unit_test(test_switch_interval),
		cmocka_unit_test(test_exclusion_gil),
		cmocka_unit_test(test_exclusion_mutex),
		cmocka_unit_test(test_none_records_nothing),
		cmocka_unit_test(test_waits_recorded_gil),
		cmocka_unit_test(test_waits_recorded_mutex),
		cmocka_unit_test(test_no_starvation_under_gil),
		cmocka_unit_test(test_fork_explicit_gil),
		cmocka_unit_test(test_fork_explicit_mutex_unheld),
		cmocka_unit_test(test_hooks_idle_when_not_installed),
		cmocka_unit_test(test_hooks_take_the_model),
		cmocka_unit_test(test_hooks_tracer_under_lock),
		cmocka_unit_test(test_hooks_from_threads),
		cmocka_unit_test(test_hooks_fork_rebuilds_the_lock),
	};
	return cmocka_run_group_tests_name("gil", tests, NULL, NULL);
}
