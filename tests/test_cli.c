/* test_cli.c - end-to-end tests of the contend binary: the commands a user
 * types, bad input, injected worker faults, Ctrl-C, and checksums that
 * must agree across pools, worker counts and start methods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <math.h>

#include "tests/testutil.h"

static char *dir;
static struct cmd_result *r;

static int setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	r = malloc(sizeof *r);
	return dir && r ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(dir);
	free(r);
	return 0;
}

static const char *path(const char *name)
{
	return tu_path(dir, name);
}

static json_t *load(const char *file)
{
	json_t *d = json_load_file(file, 0, NULL);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "schema")),
			    "contend-results/1");
	return d;
}

static json_t *config(json_t *doc, const char *pool, int workers)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "pool")), pool) &&
		    json_integer_value(json_object_get(c, "workers")) == workers)
			return c;
	fail_msg("no config %s/%d", pool, workers);
	return NULL;
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void test_list_and_help(void **state)
{
	(void)state;
	tu_contend(r, "list", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "causal-forest"));
	assert_non_null(strstr(r->out, "trees"));
	assert_non_null(strstr(r->out, "process"));
	tu_contend(r, "run", "--help", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "--workers"));
	tu_contend(r, "--help", NULL);
	assert_int_equal(r->status, 0);
	tu_contend(r, "frobnicate", NULL);
	assert_int_equal(r->status, 2);
}

/* One convention for every verb (harness/verb.h): an unknown option is
 * one line "contend VERB: ..." and exit 2; every --help lists -h, --help
 * and the exit statuses. */
/* The verbs `contend --help` lists (the table in harness/main.c), so a
 * new verb is held to the convention without an edit here. */
static size_t listed_verbs(char verbs[][32], size_t cap)
{
	tu_contend(r, "--help", NULL);
	assert_int_equal(r->status, 0);
	const char *p = strstr(r->out, "commands:\n");
	size_t n = 0;
	assert_non_null(p);
	for (p = strchr(p, '\n') + 1; p && !strncmp(p, "  ", 2) && n < cap;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (sscanf(p, " %31s", verbs[n]) == 1)
			n++;
	return n;
}

static void test_verb_convention(void **state)
{
	(void)state;
	char verbs[32][32];
	size_t nverbs = listed_verbs(verbs, 32);
	assert_true(nverbs >= 10);
	char prefix[64];
	for (size_t i = 0; i < nverbs; i++) {
		snprintf(prefix, sizeof prefix, "contend %s: ", verbs[i]);
		tu_contend(r, verbs[i], "--no-such-option", NULL);
		if (r->status != 2 || strncmp(r->out, prefix, strlen(prefix)) ||
		    tu_lines(r->out) != 1)
			fail_msg("%s: status %d, '%s'", verbs[i], r->status,
				 r->out);
		tu_contend(r, verbs[i], "--help", NULL);
		assert_int_equal(r->status, 0);
		if (!strstr(r->out, "-h, --help") ||
		    !strcasestr(r->out, "exit status"))
			fail_msg("%s --help lacks -h, --help or exit status",
				 verbs[i]);
	}
	tu_contend(r, "history", "list", "--no-such-option", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "contend history: unknown option"));
	tu_contend(r, "history", "--help", NULL);
	assert_non_null(strstr(r->out, "-h, --help"));
	/* one name for the history database in every verb that reads it */
	const char *db_verbs[] = {"history", "compare", "dashboard"};
	for (size_t i = 0; i < 3; i++) {
		tu_contend(r, db_verbs[i], "--help", NULL);
		if (!strstr(r->out, "--db FILE"))
			fail_msg("%s --help lacks --db FILE", db_verbs[i]);
	}
	tu_contend(r, "report", "x.json", "--format", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "contend report: option '--format' "
					"needs a value"));
	/* A named database that does not exist is bad input (2). */
	tu_contend(r, "history", "list", "--db", "/proc/nonexistent/h.db",
		   NULL);
	assert_int_equal(r->status, 2);
	tu_contend(r, "list", "--json", NULL);
	assert_int_equal(r->status, 0);
	json_t *j = json_loads(r->out, 0, NULL);
	assert_non_null(j);
	assert_true(json_array_size(json_object_get(j, "workloads")) > 0);
	assert_true(json_array_size(json_object_get(j, "pools")) > 0);
	json_decref(j);
}

/* Every bad input: exit 2, exactly one line, nothing written. */
static void test_bad_input(void **state)
{
	(void)state;
	const char *out = path("bad.json");
	const char *cases[][4] = {
		{"nosuch", "--workers", "1", "unknown workload"},
		{"spin", "--pool", "fiber", "unknown 'fiber'"},
		{"spin", "--workers", "0", "out of range"},
		{"spin", "--workers", "-2", "--workers"},
		{"spin", "--workers", "two", "not a whole number"},
		{"spin", "--workers", "100000", "out of range"},
		{"spin", "--reps", "0", "--reps"},
		{"spin", "--params", "bogus=1", "unknown parameter 'bogus'"},
		{"spin", "--params", "tasks=-4", "tasks"},
		{"causal-forest", "--params", "rows=0", "rows"},
		{"spin", "--start", "vfork", "vfork"},
		/* lists where one value is meant (once written past a
		 * one-name buffer) */
		{"spin", "--start", "fork,spawn", "give one of fork, spawn"},
		{"spin", "--order", "random,sequential", "give one of random"},
		{"spin", "--order", "shuffled", "unknown 'shuffled'"},
		{"spin", "--seed", "-1", "--seed"},
		{"spin", "--task-timeout", "0", "--task-timeout"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tu_contend(r, "run", cases[i][0], cases[i][1], cases[i][2],
			   "--out", out, NULL);
		assert_int_equal(r->status, 2);
		assert_int_equal(tu_lines(r->out), 1);
		if (!strstr(r->out, cases[i][3]))
			fail_msg("case %zu: '%s' lacks '%s'", i, r->out, cases[i][3]);
		assert_int_equal(access(out, F_OK), -1);
	}
	tu_contend(r, "run", "spin", "--out", "/nonexistent/dir/x.json", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "does not exist"));
	tu_contend(r, "report", path("missing.json"), NULL);
	assert_int_equal(r->status, 2);
	assert_int_equal(tu_lines(r->out), 1);
	FILE *f = fopen(path("garbage.json"), "w");
	fputs("{\"schema\": \"contend-results/1\", \"configs\": 3", f);
	fclose(f);
	tu_contend(r, "report", path("garbage.json"), NULL);
	assert_int_equal(r->status, 2);
	assert_int_equal(tu_lines(r->out), 1);
	assert_non_null(strstr(r->out, "not valid JSON"));
}

static void test_run_and_report(void **state)
{
	(void)state;
	const char *out = path("spin.json");
	tu_contend(r, "run", "spin", "--pool", "serial,thread,process",
		   "--workers", "1,2", "--reps", "3", "--warmup", "1",
		   "--params", "tasks=200,work=2000", "--out", out, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "speedup"));
	char table[65536];
	assert_non_null(strstr(r->out, "spin  build="));
	snprintf(table, sizeof table, "%s", strstr(r->out, "spin  build="));
	assert_non_null(strstr(table, "results:"));
	*strstr(table, "results:") = 0;
	json_t *doc = load(out);
	assert_string_equal(sget(doc, "status"), "complete");
	json_t *ctx = json_object_get(doc, "context");
	assert_true(json_integer_value(json_object_get(ctx, "logical_cores")) >= 1);
	assert_non_null(json_object_get(ctx, "git_rev"));
	json_t *configs = json_object_get(doc, "configs");
	assert_int_equal(json_array_size(configs), 5); /* serial once */
	const char *sum = sget(json_array_get(configs, 0), "checksum");
	assert_true(strlen(sum) == 18);
	json_t *c;
	size_t i;
	json_array_foreach(configs, i, c) {
		assert_string_equal(sget(c, "status"), "ok");
		assert_string_equal(sget(c, "checksum"), sum);
		assert_int_equal(json_array_size(json_object_get(c, "reps")), 3);
		double lo = json_number_value(json_object_get(c, "ci_low_s"));
		double med = json_number_value(json_object_get(c, "median_wall_s"));
		double hi = json_number_value(json_object_get(c, "ci_high_s"));
		assert_true(lo <= med && med <= hi && lo > 0);
	}
	c = config(doc, "thread", 2);
	double sp = json_number_value(json_object_get(c, "speedup"));
	double t1 = json_number_value(json_object_get(config(doc, "thread", 1), "median_wall_s"));
	double t2 = json_number_value(json_object_get(c, "median_wall_s"));
	assert_true(fabs(sp - t1 / t2) < 1e-6);
	assert_string_equal(sget(c, "baseline"), sget(config(doc, "thread", 1), "id"));
	json_decref(doc);
	/* report renders the same table from the document alone */
	tu_contend(r, "report", out, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, table));
	/* and its data as JSON: the summarised document */
	char cmd[1024];
	const char *js = path("spin.report.json"); /* larger than r->out */
	snprintf(cmd, sizeof cmd, "%s report '%s' --json > '%s'", CONTEND_BIN,
		 out, js);
	char *sh[] = {"sh", "-c", cmd, NULL};
	tu_run(r, sh);
	assert_int_equal(r->status, 0);
	doc = load(js);
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 5);
	assert_true(fabs(json_number_value(json_object_get(config(doc, "thread", 2),
				"speedup")) - sp) < 1e-6);
	assert_true(json_is_array(json_object_get(doc, "fits")));
	json_decref(doc);
	/* the format list is export's */
	tu_contend(r, "report", out, "--format", "xls", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "table, md, csv, gbench-json"));
}

static void test_checksums_agree_causal_forest(void **state)
{
	(void)state;
	const char *out = path("cf.json"), *out2 = path("cf2.json");
	tu_contend(r, "run", "causal-forest", "--params", "trees=6,rows=3000",
		   "--pool", "serial,thread,process", "--workers", "1,2,3",
		   "--reps", "1", "--warmup", "0", "--out", out, NULL);
	assert_int_equal(r->status, 0);
	tu_contend(r, "run", "causal-forest", "--params", "trees=6,rows=3000",
		   "--pool", "process", "--start", "spawn", "--workers", "2",
		   "--reps", "1", "--warmup", "0", "--out", out2, NULL);
	assert_int_equal(r->status, 0);
	json_t *a = load(out), *b = load(out2), *c;
	const char *sum = sget(json_array_get(json_object_get(a, "configs"), 0), "checksum");
	size_t i;
	json_array_foreach(json_object_get(a, "configs"), i, c) {
		assert_string_equal(sget(c, "checksum"), sum);
		assert_true(json_is_true(json_object_get(c, "checksum_ok")));
	}
	c = json_array_get(json_object_get(b, "configs"), 0);
	assert_string_equal(sget(c, "start"), "spawn");
	assert_string_equal(sget(c, "checksum"), sum);
	/* another seed computes something else */
	tu_contend(r, "run", "causal-forest", "--params", "trees=6,rows=3000,seed=7",
		   "--pool", "serial", "--reps", "1", "--warmup", "0", "--out", out2, NULL);
	json_decref(b);
	b = load(out2);
	assert_string_not_equal(sget(json_array_get(json_object_get(b, "configs"), 0), "checksum"), sum);
	json_decref(a);
	json_decref(b);
}

/* A seed no other contend on this machine uses, so leftovers of *our*
 * runs can be told from other people's. */
static char unique_params[64];
static const char *params_with(const char *base)
{
	snprintf(unique_params, sizeof unique_params, "%s,seed=%d", base,
		 (int)getpid());
	return unique_params;
}

/* No process of ours may outlive a run. */
static void assert_no_leftovers(void)
{
	char pattern[96];
	snprintf(pattern, sizeof pattern, "contend __.*seed=%d", (int)getpid());
	char *argv[] = {"pgrep", "-f", pattern, NULL};
	struct cmd_result *p = malloc(sizeof *p);
	tu_run(p, argv);
	assert_int_equal(p->status, 1); /* pgrep: nothing matched */
	free(p);
}

/* The fault tests' task timeout. A spawned worker's start-up gets the same
 * allowance as a task, and under ThreadSanitizer that start-up alone takes
 * longer than 0.5 s. */
#ifdef __SANITIZE_THREAD__
#define FAULT_TIMEOUT "5"
#else
#define FAULT_TIMEOUT "0.5"
#endif

static void check_fault(const char *inject, const char *pool, const char *start,
			const char *status, const char *words)
{
	const char *out = path("fault.json");
	tu_contend(r, "run", "spin", "--pool", pool, "--start", start,
		   "--workers", "2", "--reps", "2", "--params",
		   params_with("tasks=40,work=100"),
		   "--inject", inject, "--task-timeout", FAULT_TIMEOUT, "--out", out, NULL);
	if (r->status != 1)
		fail_msg("%s on %s/%s: exit %d: %s", inject, pool, start, r->status, r->out);
	json_t *doc = load(out);
	json_t *c = config(doc, pool, strcmp(pool, "serial") ? 2 : 1);
	if (strcmp(sget(c, "status"), status) || !strstr(sget(c, "detail"), words))
		fail_msg("%s on %s/%s: status %s, detail '%s'", inject, pool,
			 start, sget(c, "status"), sget(c, "detail"));
	assert_string_equal(sget(doc, "status"), "complete");
	json_decref(doc);
	assert_no_leftovers();
}

static void test_faults(void **state)
{
	(void)state;
	const char *pools[][2] = {{"process", "fork"}, {"process", "spawn"},
				  {"thread", "fork"}, {"serial", "fork"}};
	for (size_t p = 0; p < 4; p++) {
		const char *pool = pools[p][0], *start = pools[p][1];
		int proc = !strcmp(pool, "process");
		check_fault("segv@7", pool, start, "crashed", "SIGSEGV");
		check_fault("abort@7", pool, start, "crashed", "SIGABRT");
		check_fault("kill@7", pool, start, "crashed", "SIGKILL");
		check_fault("exit@7", pool, start, "exited", "status 3");
		check_fault("exit0@7", pool, start, "exited", "status 0");
		check_fault("garbage@7", pool, start, "garbage", "malformed");
		check_fault("hang@7", pool, start, "timeout",
			    "longer than " FAULT_TIMEOUT " s");
		check_fault("fail@7", pool, start, "task-failed",
			    "task 7 failed: injected failure");
		if (proc) /* the pool names the worker and the task */
			check_fault("segv@7", pool, start, "crashed", "task 7");
	}
}

/* After a fault in one configuration, the next ones still run. */
static void test_sweep_goes_on(void **state)
{
	(void)state;
	const char *out = path("goes-on.json");
	tu_contend(r, "run", "spin", "--pool", "process,thread", "--workers", "1,2",
		   "--reps", "1", "--params", "tasks=20,work=10", "--inject", "segv@3",
		   "--out", out, NULL);
	if (r->status != 1)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load(out);
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 4);
	assert_non_null(strstr(r->out, "the sweep went on"));
	json_decref(doc);
}

/* A spawned worker's exec and setup have their own allowance: a 1.5 s
 * start-up plus a 0.6 s first task pass a 2 s timeout (they used to add
 * up and fail it, however idle the machine), and a start-up that never
 * finishes is named as such. The margins leave room for a loaded machine:
 * 0.5 s for exec, the task 3x its idle time. */
static void test_spawn_startup_is_not_task_time(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("a spawned worker's exec alone takes about 0.5 s");
	const char *out = path("startup.json");
	/* spin runs about 2.5e8 iterations per second: a 0.6 s task each */
	tu_contend(r, "run", "spin", "--pool", "process", "--start", "spawn",
		   "--workers", "2", "--reps", "1", "--warmup", "0", "--params",
		   params_with("tasks=2,work=150000000"), "--inject",
		   "slowstart@1500", "--task-timeout", "2", "--out", out, NULL);
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load(out);
	json_t *c = config(doc, "process", 2);
	assert_string_equal(sget(c, "status"), "ok");
	json_decref(doc);

	tu_contend(r, "run", "spin", "--pool", "process", "--start", "spawn",
		   "--workers", "2", "--reps", "1", "--warmup", "0", "--params",
		   params_with("tasks=2,work=10"), "--inject", "slowstart@3000",
		   "--task-timeout", "1", "--out", out, NULL);
	assert_int_equal(r->status, 1);
	doc = load(out);
	c = config(doc, "process", 2);
	assert_string_equal(sget(c, "status"), "timeout");
	assert_non_null(strstr(sget(c, "detail"), "was not ready within 1 s"));
	json_decref(doc);
	assert_no_leftovers();
}

static void test_interrupt_keeps_results(void **state)
{
	(void)state;
	const char *out = path("int.json");
	const char *params = params_with("tasks=20,work=200000"); /* our pid */
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(CONTEND_BIN, CONTEND_BIN, "run", "spin", "--pool", "serial,thread",
		      "--workers", "1,2,3,4", "--reps", "50", "--warmup", "0",
		      "--params", params, "--order", "sequential", "--out", out,
		      (char *)NULL);
		_exit(127);
	}
	/* wait until the first configuration is on disk, then Ctrl-C (the
	 * sequential order: configurations end one by one) */
	struct timespec ts = {0, 20 * 1000 * 1000};
	for (int i = 0; i < 1500 && access(out, F_OK); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(access(out, F_OK), 0);
	/* The document appears as the first configuration ends: let the
	 * second one start, so the signal lands inside a configuration and
	 * not in the gap between two (slow under a sanitizer). */
	struct timespec gap = {0, 300 * 1000 * 1000};
	nanosleep(&gap, NULL);
	kill(pid, SIGINT);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 130);
	json_t *doc = load(out);
	assert_string_equal(sget(doc, "status"), "interrupted");
	json_t *first = json_array_get(json_object_get(doc, "configs"), 0);
	assert_string_equal(sget(first, "status"), "ok");
	assert_int_equal(json_array_size(json_object_get(first, "reps")), 50);
	json_t *last = json_array_get(json_object_get(doc, "configs"),
				      json_array_size(json_object_get(doc, "configs")) - 1);
	assert_string_equal(sget(last, "status"), "interrupted");
	json_decref(doc);
	assert_no_leftovers();
	tu_contend(r, "report", out, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "Interrupted"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_help),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_verb_convention),
		cmocka_unit_test(test_run_and_report),
		cmocka_unit_test(test_checksums_agree_causal_forest),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_sweep_goes_on),
		cmocka_unit_test(test_spawn_startup_is_not_task_time),
		cmocka_unit_test(test_interrupt_keeps_results),
	};
	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
