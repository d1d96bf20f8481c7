/* test_counters.c - the counters and rusage probes and `contend probes`:
 * software counters really count (children and threads included), hardware
 * counters are a value or a reason but never a fake 0, bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "probes/counters.h"
#include "probes/rusage.h"
#include "tests/testutil.h"

#define PAGE 4096

/* ---- workloads with known effects ---- */

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the spin loops from being optimised away; written by several
 * threads at once, so atomically (a plain store is a data race). */
static uint64_t sink;

static void spin_cpu(double seconds)
{
	double t0 = thread_cpu_s();
	uint64_t x = 1;
	while (thread_cpu_s() - t0 < seconds)
		for (int i = 0; i < 10000; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	__atomic_store_n(&sink, x, __ATOMIC_RELAXED);
}

/* n fresh pages, small pages only (THP would fault 2 MiB at a time). */
static int touch_pages(size_t n)
{
	if (n == 0)
		return 0;
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, n * PAGE, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = (char)i;
	munmap(p, n * PAGE);
	return 0;
}

static void wait_child(pid_t pid)
{
	int st;
	assert_true(pid > 0);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static pid_t fork_spinner(double seconds)
{
	pid_t pid = fork();
	if (pid == 0) {
		spin_cpu(seconds);
		_exit(0);
	}
	return pid;
}

static pid_t fork_toucher(size_t pages)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(touch_pages(pages) ? 1 : 0);
	return pid;
}

/* perf mode, or skip when this kernel refuses perf events to everyone. */
static struct counter_set *start_perf_or_skip(void)
{
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	assert_int_equal(counters_start(COUNTERS_PERF, &s, &e), 0);
	assert_int_equal(counters_read(s, v, &e), 0);
	if (!v[CTR_TASK_CLOCK].available) {
		print_message("skip: %s\n", v[CTR_TASK_CLOCK].reason);
		assert_true(v[CTR_TASK_CLOCK].reason[0]);
		counters_free(s);
		skip();
	}
	return s;
}

static void stop_into(struct counter_set *s, struct counter_value v[CTR_COUNT])
{
	errbuf e;
	assert_int_equal(counters_stop(s, v, &e), 0);
	counters_free(s);
}

/* ---- modes ---- */

static void test_parse_mode_good(void **st)
{
	(void)st;
	enum counters_mode m;
	const char *names[] = {"auto", "papi", "perf", "none"};
	const enum counters_mode want[] = {COUNTERS_AUTO, COUNTERS_PAPI,
					   COUNTERS_PERF, COUNTERS_NONE};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(counters_parse_mode(names[i], &m, NULL), 0);
		assert_int_equal(m, want[i]);
		assert_string_equal(counters_mode_name(m), names[i]);
	}
}

static void test_parse_mode_bad(void **st)
{
	(void)st;
	const char *bad[] = {"", "PAPI", "perf,papi", "auto ", "hw", NULL};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		enum counters_mode m = COUNTERS_AUTO;
		errbuf e = {{0}};
		assert_int_equal(counters_parse_mode(bad[i], &m, &e), -1);
		assert_non_null(strstr(e.msg, "auto, papi, perf, none"));
		if (bad[i])
			assert_non_null(strstr(e.msg, bad[i]));
	}
	struct counter_set *s;
	errbuf e;
	assert_int_equal(counters_start((enum counters_mode)42, &s, &e), -1);
	assert_null(s);
}

static void test_probe_rejects_bad_mode(void **st)
{
	(void)st;
	struct probe_config c = {.counters = "fast"};
	void *state = NULL;
	errbuf e = {{0}};
	assert_int_equal(probe_counters.start(&c, &state, &e), -1);
	assert_null(state);
	assert_non_null(strstr(e.msg, "'fast'"));
}

/* ---- software counters count the whole process tree ---- */

static void test_task_clock_forked_spinner(void **st)
{
	(void)st;
	struct counter_set *s = start_perf_or_skip();
	wait_child(fork_spinner(0.08));
	struct counter_value v[CTR_COUNT];
	stop_into(s, v);
	assert_true(v[CTR_TASK_CLOCK].available);
	assert_string_equal(v[CTR_TASK_CLOCK].backend, "perf");
	/* only inheritance can bring the child's 80 ms back */
	assert_true(v[CTR_TASK_CLOCK].value >= 60000000ULL);
}

static uint64_t child_page_faults(size_t pages)
{
	struct counter_set *s = start_perf_or_skip();
	wait_child(fork_toucher(pages));
	struct counter_value v[CTR_COUNT];
	stop_into(s, v);
	assert_true(v[CTR_PAGE_FAULTS].available);
	return v[CTR_PAGE_FAULTS].value;
}

static void test_page_faults_grow_with_pages(void **st)
{
	(void)st;
	const size_t n = 4096;
	uint64_t none = child_page_faults(0), many = child_page_faults(n);
	print_message("page faults: child touching 0 pages %llu, %zu pages %llu\n",
		      (unsigned long long)none, n, (unsigned long long)many);
	assert_true(many >= n);
	assert_true(many > none && many - none >= n * 9 / 10);
}

static void *thread_work(void *arg)
{
	(void)arg;
	spin_cpu(0.06);
	touch_pages(1000);
	return NULL;
}

static void test_threads_counted(void **st)
{
	(void)st;
	struct counter_set *s = start_perf_or_skip();
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_work, NULL), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	struct counter_value v[CTR_COUNT];
	stop_into(s, v);
	assert_true(v[CTR_TASK_CLOCK].value >= 100000000ULL);
	assert_true(v[CTR_PAGE_FAULTS].value >= 2000);
	assert_true(v[CTR_CONTEXT_SWITCHES].available);
}

static void test_read_then_stop(void **st)
{
	(void)st;
	struct counter_set *s = start_perf_or_skip();
	struct counter_value a[CTR_COUNT], b[CTR_COUNT];
	errbuf e = {{0}};
	spin_cpu(0.01);
	assert_int_equal(counters_read(s, a, &e), 0);
	spin_cpu(0.01);
	assert_int_equal(counters_stop(s, b, &e), 0);
	assert_true(b[CTR_TASK_CLOCK].value >= a[CTR_TASK_CLOCK].value + 5000000);
	assert_int_equal(counters_stop(s, b, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(counters_read(s, b, &e), -1);
	counters_free(s);
}

/* ---- hardware counters: a value, or a reason, never a fake 0 ---- */

static void check_truthful(const struct counter_value *v, json_t *j,
			   int must_be_positive)
{
	assert_true(json_is_object(j));
	if (v->available) {
		assert_non_null(v->backend);
		assert_true(!strcmp(v->backend, "perf") || !strcmp(v->backend, "papi"));
		assert_true(json_is_integer(json_object_get(j, "value")));
		assert_null(json_object_get(j, "reason"));
		if (must_be_positive)
			assert_true(v->value > 0);
	} else {
		assert_true(strlen(v->reason) > 10);
		assert_null(json_object_get(j, "value"));
		assert_true(json_is_false(json_object_get(j, "available")));
		assert_string_equal(json_string_value(json_object_get(j, "reason")),
				    v->reason);
	}
}

static void test_hardware_value_or_reason(void **st)
{
	(void)st;
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	assert_int_equal(counters_start(COUNTERS_AUTO, &s, &e), 0);
	spin_cpu(0.02);
	touch_pages(256);
	stop_into(s, v);
	json_t *j = counters_to_json(v);
	assert_non_null(j);
	for (int i = 0; i < CTR_COUNT; i++) {
		if (!counter_defs[i].hardware)
			continue;
		int positive = i == CTR_CYCLES || i == CTR_INSTRUCTIONS;
		check_truthful(&v[i], json_object_get(j, counter_defs[i].name),
			       positive);
		print_message("%-18s %s\n", counter_defs[i].name,
			      v[i].available ? v[i].backend : v[i].reason);
	}
	json_decref(j);
}

static void test_l2_never_from_perf(void **st)
{
	(void)st;
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	assert_int_equal(counters_start(COUNTERS_PERF, &s, &e), 0);
	stop_into(s, v);
	assert_false(v[CTR_L2_MISSES].available);
	assert_non_null(strstr(v[CTR_L2_MISSES].reason, "perf:"));
	assert_non_null(strstr(v[CTR_L2_MISSES].reason, "PAPI only"));
}

static void test_papi_mode(void **st)
{
	(void)st;
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	assert_int_equal(counters_start(COUNTERS_PAPI, &s, &e), 0);
	spin_cpu(0.01);
	stop_into(s, v);
	for (int i = 0; i < CTR_COUNT; i++) {
		assert_true(v[i].wanted);
		if (v[i].available)
			assert_string_equal(v[i].backend, "papi");
		else
			assert_memory_equal(v[i].reason, "papi: ", 6);
	}
	assert_false(v[CTR_TASK_CLOCK].available);
	assert_non_null(strstr(v[CTR_TASK_CLOCK].reason, "no PAPI preset"));
}

static void test_none_mode(void **st)
{
	(void)st;
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	assert_int_equal(counters_start(COUNTERS_NONE, &s, &e), 0);
	stop_into(s, v);
	json_t *j = counters_to_json(v);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);

	struct probe_config c = {.counters = "none"};
	void *state;
	json_t *rep = json_object();
	assert_int_equal(probe_counters.start(&c, &state, &e), 0);
	assert_int_equal(probe_counters.stop(state, rep, &e), 0);
	probe_counters.release(state);
	assert_null(json_object_get(rep, "counters"));
	json_t *config = json_pack("{s:[o]}", "reps", rep);
	assert_int_equal(probe_counters.summarise(config, &e), 0);
	assert_null(json_object_get(config, "counters"));
	json_decref(config);
}

/* Multiplexing: far more hardware events than the PMU has slots, so not
 * every set can count all the time. A set that ran part of the time is
 * scaled; on a loaded machine the kernel may not rotate at all during the
 * spin, and then a set that never got a slot says so instead of 0. */
static void test_multiplexed_counts_are_scaled(void **st)
{
	(void)st;
	enum { NSETS = 8 };
	struct counter_set *s[NSETS];
	struct counter_value v[NSETS][CTR_COUNT];
	errbuf e;
	for (int i = 0; i < NSETS; i++)
		assert_int_equal(counters_start(COUNTERS_PERF, &s[i], &e), 0);
	spin_cpu(0.1);
	int scaled = 0, any = 0, left_out = 0;
	for (int i = 0; i < NSETS; i++) {
		stop_into(s[i], v[i]);
		const struct counter_value *c = &v[i][CTR_CYCLES];
		any |= c->available;
		if (!c->available && strstr(c->reason, "never got a PMU slot")) {
			left_out++;
			assert_int_equal(c->value, 0);
		}
		if (c->available && c->scaled) {
			scaled++;
			assert_true(c->running_fraction > 0 && c->running_fraction < 1);
			assert_true(c->value >= c->raw);
			json_t *j = counters_to_json(v[i]);
			json_t *cy = json_object_get(j, "cycles");
			assert_true(json_is_true(json_object_get(cy, "scaled")));
			assert_non_null(json_object_get(cy, "raw"));
			json_decref(j);
		}
	}
	if (!any)
		skip(); /* no PMU: nothing to multiplex */
	assert_true(scaled + left_out > 0);
}

/* ---- reasons ---- */

static void test_perf_reasons(void **st)
{
	(void)st;
	char b[COUNTER_REASON_MAX];
	struct cperf_env nopmu = {.paranoid = 2, .pmu = 0, .hypervisor = 1};
	struct cperf_env user = {.paranoid = 3, .pmu = 1};
	struct cperf_env root = {.paranoid = 3, .privileged = 1, .pmu = 1};

	cperf_reason(b, sizeof b, "cycles", 1, ENOENT, &nopmu);
	assert_non_null(strstr(b, "no PMU exposed"));
	assert_non_null(strstr(b, "ENOENT"));
	cperf_reason(b, sizeof b, "cycles", 1, EOPNOTSUPP, &user);
	assert_non_null(strstr(b, "not supported by this CPU/VM"));
	cperf_reason(b, sizeof b, "task-clock", 0, EACCES, &user);
	assert_non_null(strstr(b, "perf_event_paranoid=3"));
	assert_non_null(strstr(b, "EACCES"));
	cperf_reason(b, sizeof b, "task-clock", 0, EPERM, &root);
	assert_non_null(strstr(b, "seccomp"));
	cperf_reason(b, sizeof b, "cycles", 1, EMFILE, &user);
	assert_non_null(strstr(b, "EMFILE"));
	cperf_reason(b, sizeof b, "cycles", 1, ENOSYS, &user);
	assert_non_null(strstr(b, "ENOSYS"));
	cperf_reason(b, sizeof b, "cycles", 1, EIO, &user);
	assert_non_null(strstr(b, "EIO"));
	assert_non_null(strstr(cperf_paranoid_meaning(2), "user-space"));
	assert_non_null(strstr(cperf_paranoid_meaning(CPERF_PARANOID_UNKNOWN),
			       "unknown"));
}

/* Child: exhaust descriptors, then every perf counter must say EMFILE. */
static int emfile_child(void)
{
	struct rlimit rl = {32, 32};
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 10;
	while (open("/dev/null", O_RDONLY) >= 0)
		;
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	if (counters_start(COUNTERS_PERF, &s, &e) < 0)
		return 11;
	counters_stop(s, v, &e);
	for (int i = 0; i < CTR_COUNT; i++)
		if (counter_defs[i].has_perf &&
		    (v[i].available || !strstr(v[i].reason, "EMFILE")))
			return 20 + i;
	return 0;
}

static void test_out_of_descriptors(void **st)
{
	(void)st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(emfile_child());
	wait_child(pid);
}

/* Child: drop to nobody; paranoid then decides, and must be named. */
static int unprivileged_child(void)
{
	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	struct cperf_env env;
	cperf_env_probe(&env);
	struct counter_set *s;
	struct counter_value v[CTR_COUNT];
	errbuf e;
	if (counters_start(COUNTERS_PERF, &s, &e) < 0)
		return 11;
	spin_cpu(0.01);
	counters_stop(s, v, &e);
	const struct counter_value *tc = &v[CTR_TASK_CLOCK];
	if (env.paranoid >= 3)
		return !tc->available && strstr(tc->reason, "perf_event_paranoid=")
			       ? 0 : 12;
	if (env.paranoid == 2)
		return tc->available && tc->user_only ? 0 : 13;
	return tc->available && !tc->user_only ? 0 : 14;
}

static void test_unprivileged_user(void **st)
{
	(void)st;
	if (geteuid() != 0)
		skip(); /* this process is the unprivileged case already */
	pid_t pid = fork();
	if (pid == 0)
		_exit(unprivileged_child());
	wait_child(pid);
}

/* ---- the probe contract ---- */

static void test_probe_stop_json_shape(void **st)
{
	(void)st;
	struct probe_config c = {.counters = "perf"};
	void *state;
	errbuf e;
	json_t *rep = json_object();
	assert_int_equal(probe_counters.start(&c, &state, &e), 0);
	spin_cpu(0.01);
	assert_int_equal(probe_counters.stop(state, rep, &e), 0);
	probe_counters.release(state);
	json_t *cs = json_object_get(rep, "counters");
	assert_true(json_is_object(cs));
	assert_int_equal(json_object_size(cs), CTR_COUNT);
	json_t *tc = json_object_get(cs, "task-clock");
	if (json_object_get(tc, "value")) {
		assert_true(json_is_integer(json_object_get(tc, "value")));
		assert_string_equal(json_string_value(json_object_get(tc, "backend")),
				    "perf");
		assert_string_equal(json_string_value(json_object_get(tc, "unit")),
				    "ns");
		assert_string_equal(json_string_value(json_object_get(tc, "event")),
				    "PERF_COUNT_SW_TASK_CLOCK");
	}
	json_t *l2 = json_object_get(cs, "L2-cache-misses");
	assert_true(json_is_false(json_object_get(l2, "available")));
	assert_true(json_is_string(json_object_get(l2, "reason")));
	assert_null(json_object_get(l2, "value"));
	json_decref(rep);
}

static json_t *rep_with(json_int_t cycles, json_int_t faults)
{
	return json_pack("{s:{s:{s:I, s:s, s:s}, s:{s:I, s:s, s:s}, s:{s:b, s:s}}}",
			 "counters", "cycles", "value", cycles, "backend", "perf",
			 "unit", "events", "page-faults", "value", faults,
			 "backend", "perf", "unit", "events", "L2-cache-misses",
			 "available", 0, "reason", "perf: no generic event");
}

static void test_summarise_medians(void **st)
{
	(void)st;
	errbuf e;
	json_t *config = json_pack("{s:[o,o,o,{}]}", "reps", rep_with(10, 7),
				   rep_with(30, 8), rep_with(20, 9));
	/* one rep that lost cycles to multiplexing keeps its reason */
	json_object_set_new(json_object_get(json_array_get(
					json_object_get(config, "reps"), 1),
					    "counters"),
			    "cycles",
			    json_pack("{s:b, s:s}", "available", 0, "reason", "x"));
	assert_int_equal(probe_counters.summarise(config, &e), 0);
	json_t *s = json_object_get(config, "counters");
	json_t *cy = json_object_get(s, "cycles");
	assert_int_equal(json_number_value(json_object_get(cy, "value")) * 2, 30);
	assert_int_equal(json_integer_value(json_object_get(cy, "reps")), 2);
	assert_string_equal(json_string_value(json_object_get(cy, "backend")),
			    "perf");
	json_t *pf = json_object_get(s, "page-faults");
	assert_int_equal(json_integer_value(json_object_get(pf, "value")), 8);
	json_t *l2 = json_object_get(s, "L2-cache-misses");
	assert_true(json_is_false(json_object_get(l2, "available")));
	assert_string_equal(json_string_value(json_object_get(l2, "reason")),
			    "perf: no generic event");
	assert_null(json_object_get(l2, "value"));
	json_decref(config);
}

static void expect_summarise_error(json_t *config, const char *words)
{
	errbuf e = {{0}};
	assert_int_equal(probe_counters.summarise(config, &e), -1);
	assert_non_null(strstr(e.msg, words));
	assert_null(json_object_get(config, "counters"));
	json_decref(config);
}

static void test_summarise_bad_input(void **st)
{
	(void)st;
	expect_summarise_error(json_object(), "no \"reps\"");
	expect_summarise_error(json_pack("{s:s}", "reps", "x"), "no \"reps\"");
	expect_summarise_error(json_pack("{s:[{s:i}]}", "reps", "counters", 5),
			       "reps[0].counters is not an object");
	expect_summarise_error(
		json_pack("{s:[{s:{s:{s:s}}}]}", "reps", "counters", "cycles",
			  "value", "many"),
		"not a number");
	expect_summarise_error(json_pack("{s:[{s:{s:i}}]}", "reps", "counters",
					 "cycles", 3),
			       "not an object");
}

/* ---- rusage ---- */

static void test_rusage_counts_waited_children(void **st)
{
	(void)st;
	void *state;
	errbuf e;
	json_t *rep = json_object();
	assert_int_equal(probe_rusage.start(NULL, &state, &e), 0);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 20; i++)
			usleep(2000); /* each sleep gives the CPU up: voluntary */
		_exit(0);
	}
	wait_child(pid);
	assert_int_equal(probe_rusage.stop(state, rep, &e), 0);
	probe_rusage.release(state);
	json_t *r = json_object_get(rep, "rusage");
	assert_true(json_integer_value(json_object_get(r, "voluntary_csw")) >= 15);
	assert_true(json_is_integer(json_object_get(r, "involuntary_csw")));
	assert_true(json_is_integer(json_object_get(r, "minor_faults")));
	json_decref(rep);
}

static void test_rusage_summarise(void **st)
{
	(void)st;
	errbuf e = {{0}};
	json_t *config = json_pack(
		"{s:[{s:{s:i, s:i}}, {s:{s:i, s:i}}, {}]}", "reps", "rusage",
		"voluntary_csw", 4, "involuntary_csw", 1, "rusage",
		"voluntary_csw", 6, "involuntary_csw", 2);
	assert_int_equal(probe_rusage.summarise(config, &e), 0);
	json_t *r = json_object_get(config, "rusage");
	assert_int_equal(json_integer_value(json_object_get(r, "voluntary_csw")), 5);
	assert_true(json_real_value(json_object_get(r, "involuntary_csw")) == 1.5);
	json_decref(config);

	config = json_pack("{s:[{s:s}]}", "reps", "rusage", "x");
	assert_int_equal(probe_rusage.summarise(config, &e), -1);
	assert_non_null(strstr(e.msg, "not an object"));
	json_decref(config);
	config = json_object();
	assert_int_equal(probe_rusage.summarise(config, &e), -1);
	json_decref(config);
}

static void test_rusage_diff(void **st)
{
	(void)st;
	struct rusage s0 = {0}, c0 = {0}, s1 = {0}, c1 = {0};
	struct rusage_delta d;
	s0.ru_nvcsw = 10, s1.ru_nvcsw = 15, c0.ru_nvcsw = 100, c1.ru_nvcsw = 107;
	s1.ru_nivcsw = 3, c1.ru_minflt = 9;
	rusage_diff(&s0, &c0, &s1, &c1, &d);
	assert_int_equal(d.voluntary_csw, 12);
	assert_int_equal(d.involuntary_csw, 3);
	assert_int_equal(d.minor_faults, 9);
	assert_int_equal(d.major_faults, 0);
}

/* ---- machine description, cost, command ---- */

static void test_describe(void **st)
{
	(void)st;
	errbuf e;
	json_t *d = counters_describe(&e);
	assert_non_null(d);
	json_t *k = json_object_get(d, "kernel");
	assert_non_null(json_object_get(k, "perf_event_paranoid"));
	assert_true(json_is_boolean(json_object_get(k, "privileged")));
	json_t *p = json_object_get(d, "papi");
	assert_true(json_is_boolean(json_object_get(p, "available")));
	if (!json_is_true(json_object_get(p, "available")))
		assert_true(json_is_string(json_object_get(p, "reason")));
	json_t *cs = json_object_get(d, "counters"), *c;
	assert_int_equal(json_array_size(cs), CTR_COUNT);
	size_t i;
	json_array_foreach(cs, i, c) {
		json_t *a = json_object_get(c, "auto");
		if (json_is_true(json_object_get(a, "available")))
			assert_true(json_is_string(json_object_get(a, "backend")));
		else
			assert_true(strlen(json_string_value(
					    json_object_get(a, "reason"))) > 0);
	}
	json_decref(d);
}

static void test_cost(void **st)
{
	(void)st;
	double ss = -1, rd = -1;
	errbuf e = {{0}};
	assert_int_equal(counters_measure_cost(COUNTERS_AUTO, 20, &ss, &rd, &e), 0);
	print_message("cost: start+stop %.1f us, read %.2f us\n", ss, rd);
	assert_true(ss > 0 && rd > 0 && rd < ss * 10);
	assert_int_equal(counters_measure_cost(COUNTERS_AUTO, 0, &ss, &rd, &e), -1);
	assert_non_null(strstr(e.msg, "iteration"));
}

static void test_cmd_probes(void **st)
{
	(void)st;
	if (access(CONTEND_BIN, X_OK) != 0)
		skip(); /* bin/contend not built yet */
	struct cmd_result *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(tu_contend(r, "probes", NULL), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "perf_event_paranoid"));
	assert_non_null(strstr(r->out, "task-clock"));
	assert_int_equal(tu_contend(r, "probes", "--json", NULL), 0);
	assert_int_equal(r->status, 0);
	json_error_t je;
	json_t *j = json_loads(r->out, 0, &je);
	assert_non_null(j);
	assert_non_null(json_object_get(json_object_get(j, "kernel"),
					"perf_event_paranoid"));
	assert_true(json_is_number(json_object_get(json_object_get(j, "cost"),
						   "start_stop_us")));
	json_decref(j);
	assert_int_equal(tu_contend(r, "probes", "--bogus", NULL), 0);
	assert_int_equal(r->status, EXIT_USAGE);
	assert_non_null(strstr(r->out, "--bogus"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_mode_good),
		cmocka_unit_test(test_parse_mode_bad),
		cmocka_unit_test(test_probe_rejects_bad_mode),
		cmocka_unit_test(test_task_clock_forked_spinner),
		cmocka_unit_test(test_page_faults_grow_with_pages),
		cmocka_unit_test(test_threads_counted),
		cmocka_unit_test(test_read_then_stop),
		cmocka_unit_test(test_hardware_value_or_reason),
		cmocka_unit_test(test_l2_never_from_perf),
		cmocka_unit_test(test_papi_mode),
		cmocka_unit_test(test_none_mode),
		cmocka_unit_test(test_multiplexed_counts_are_scaled),
		cmocka_unit_test(test_perf_reasons),
		cmocka_unit_test(test_out_of_descriptors),
		cmocka_unit_test(test_unprivileged_user),
		cmocka_unit_test(test_probe_stop_json_shape),
		cmocka_unit_test(test_summarise_medians),
		cmocka_unit_test(test_summarise_bad_input),
		cmocka_unit_test(test_rusage_counts_waited_children),
		cmocka_unit_test(test_rusage_summarise),
		cmocka_unit_test(test_rusage_diff),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_cmd_probes),
	};
	return cmocka_run_group_tests_name("counters", tests, NULL, NULL);
}
