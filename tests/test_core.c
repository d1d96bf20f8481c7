/* test_core.c - unit tests of the harness's small parts: value parsing,
 * workload parameters, statistics and the results document on disk.
 * Expected figures come from arithmetic, not from running the code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/params.h"
#include "harness/cli.h"
#include "pools/pool_common.h"
#include "document/results.h"
#include "analysis/stats.h"
#include "tests/testutil.h"

static void test_int_list(void **state)
{
	(void)state;
	int v[CLI_LIST_MAX];
	size_t n;
	errbuf e;
	assert_int_equal(cli_int_list("--workers", "1,2,4", 1, 1024, v, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[2], 4);
	assert_int_equal(cli_int_list("--workers", "2-5,8", 1, 1024, v, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_int_equal(v[3], 5);
	assert_int_equal(v[4], 8);
	const char *bad[] = {"0", "-1", "abc", "4x", "", "1,,2", "1,", "5-2",
			     "100000", "2,2", "1-100"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.msg[0] = 0;
		assert_int_equal(cli_int_list("--workers", bad[i], 1, 64, v, &n, &e), -1);
		assert_non_null(strstr(e.msg, "--workers"));
	}
}

static void test_name_list_and_numbers(void **state)
{
	(void)state;
	static const char *const pools[] = {"serial", "thread", NULL};
	char names[CLI_LIST_MAX][32];
	size_t n;
	errbuf e;
	long l;
	double d;
	assert_int_equal(cli_name_list("--pool", "thread,serial", pools, names, &n, &e), 0);
	assert_string_equal(names[1], "serial");
	assert_int_equal(cli_name_list("--pool", "fiber", pools, names, &n, &e), -1);
	assert_non_null(strstr(e.msg, "fiber"));
	assert_int_equal(cli_name_list("--pool", "thread,thread", pools, names, &n, &e), -1);
	assert_int_equal(cli_int("--reps", "7", 1, 10, &l, &e), 0);
	assert_int_equal(l, 7);
	assert_int_equal(cli_int("--reps", "11", 1, 10, &l, &e), -1);
	assert_int_equal(cli_double("--task-timeout", "0.5", 0.001, 10, &d, &e), 0);
	assert_int_equal(cli_double("--task-timeout", "nan", 0.001, 10, &d, &e), -1);
	assert_int_equal(cli_double("--task-timeout", "1e999", 0.001, 10, &d, &e), -1);
}

static const struct param_spec spec[] = {
	{"rows", "100", "rows"},
	{"mode", "fast", "mode"},
	{NULL, NULL, NULL},
};

static void test_params(void **state)
{
	(void)state;
	struct params p;
	errbuf e;
	long rows;
	char buf[256];
	assert_int_equal(params_parse(spec, NULL, &p, &e), 0);
	assert_string_equal(params_get(&p, "mode"), "fast");
	assert_int_equal(params_parse(spec, "rows=7", &p, &e), 0);
	assert_int_equal(params_long(&p, "rows", 1, 10, &rows, &e), 0);
	assert_int_equal(rows, 7);
	assert_int_equal(params_long(&p, "rows", 8, 10, &rows, &e), -1);
	assert_non_null(strstr(e.msg, "rows"));
	assert_int_equal(params_format(&p, buf, sizeof buf), 0);
	assert_string_equal(buf, "rows=7,mode=fast");
	const char *bad[] = {"cols=1", "rows", "=3", "rows=", "rows=1,rows=2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(params_parse(spec, bad[i], &p, &e), -1);
	assert_int_equal(params_parse(spec, "rows=abc", &p, &e), 0);
	assert_int_equal(params_long(&p, "rows", 0, 10, &rows, &e), -1);
	assert_non_null(strstr(e.msg, "not a whole number"));
}

/* Coverage of [x(j), x(n+1-j)] is 1 - 2 P(Bin(n,1/2) <= j-1). */
static void test_median_ci(void **state)
{
	(void)state;
	double level;
	assert_int_equal(stats_median_ci_rank(5, 0.95, &level), 1);
	assert_true(fabs(level - (1 - 2.0 / 32)) < 1e-12);
	assert_int_equal(stats_median_ci_rank(10, 0.95, &level), 2);
	assert_true(fabs(level - (1 - 2 * 11.0 / 1024)) < 1e-12);
	/* n = 20: P(B<=5) = 21700/2^20 -> 0.9586 ok; P(B<=6) -> 0.8847 no */
	assert_int_equal(stats_median_ci_rank(20, 0.95, &level), 6);
	assert_true(fabs(level - (1 - 2 * 21700.0 / 1048576)) < 1e-9);
	double x[] = {5, 1, 4, 2, 3};
	struct summary s;
	stats_summarise(x, 5, &s);
	assert_true(s.median == 3 && s.min == 1 && s.max == 5);
	assert_true(s.ci_low == 1 && s.ci_high == 5);
	double y[] = {4, 1, 3, 2};
	assert_true(stats_median(y, 4) == 2.5);
	stats_summarise(y, 0, &s);
	assert_true(isnan(s.median));
}

static void test_results_roundtrip(void **state)
{
	(void)state;
	char *dir = tu_tempdir(), path[512], bad[512];
	errbuf e;
	json_t *doc = results_new(json_pack("{s:s}", "host", "t"));
	json_array_append_new(json_object_get(doc, "configs"),
		json_pack("{s:s,s:s,s:s,s:s,s:i,s:[{s:f,s:s}],s:s}", "id", "x",
			  "workload", "spin", "build", "release", "pool", "thread",
			  "workers", 2, "reps", "wall_s", 0.5, "status", "ok",
			  "status", "ok"));
	snprintf(path, sizeof path, "%s/r.json", dir);
	assert_int_equal(results_write_atomic(path, doc, &e), 0);
	json_t *back;
	assert_int_equal(results_load(path, &back, &e), 0);
	assert_true(json_equal(doc, back));
	json_decref(back);
	/* no temp files left behind */
	char *ls[] = {"sh", "-c", NULL, NULL};
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls %s | wc -l", dir);
	ls[2] = cmd;
	struct cmd_result *r = malloc(sizeof *r);
	tu_run(r, ls);
	assert_int_equal(atoi(r->out), 1);
	free(r);
	/* malformed inputs: each a clear error */
	const char *cases[][2] = {
		{"{", "not valid JSON"},
		{"[]", "not an object"},
		{"{\"schema\":\"other/9\"}", "unsupported schema"},
		{"{\"schema\":\"contend-results/1\",\"context\":{},\"configs\":[{}]}", "configs[0]"},
		{"{\"schema\":\"contend-results/1\",\"context\":{}}", "configs"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(bad, sizeof bad, "%s/bad%zu.json", dir, i);
		FILE *f = fopen(bad, "w");
		fputs(cases[i][0], f);
		fclose(f);
		assert_int_equal(results_load(bad, &back, &e), -1);
		assert_null(back);
		assert_non_null(strstr(e.msg, cases[i][1]));
	}
	assert_int_equal(results_load("/nonexistent/x.json", &back, &e), -1);
	assert_int_equal(results_check_writable("/nonexistent/dir/x.json", &e), -1);
	assert_int_equal(results_check_writable(dir, &e), -1); /* a directory */
	json_decref(doc);
	tu_rmtree(dir);
	free(dir);
}

/* The hang watchdog reads the clock, then each slot's start stamp: a task
 * that starts in between has a stamp later than "now". Unsigned
 * subtraction made that a 584-year-old task and a spurious timeout
 * (seen under TSan in CI). */
/* A reserved name is created at once, and a taken one gets "-2", "-3";
 * a lock is exclusive while held and free again after unlock. */
static void test_reserve_and_lock(void **state)
{
	(void)state;
	char *dir = tu_tempdir(), p[600], first[600];
	errbuf e;
	struct outpath_lock a, b;
	snprintf(first, sizeof first, "%s/20260101T000000Z-h.json", dir);
	for (int i = 1; i <= 3; i++) {
		snprintf(p, sizeof p, "%s", first);
		assert_int_equal(outpath_reserve(p, sizeof p, &e), 0);
		char want[600];
		if (i == 1)
			snprintf(want, sizeof want, "%s", first);
		else
			snprintf(want, sizeof want, "%s/20260101T000000Z-h-%d.json", dir, i);
		assert_string_equal(p, want);
		assert_int_equal(access(p, F_OK), 0);
	}
	assert_int_equal(outpath_lock(first, &a, &e), 0);
	assert_int_equal(outpath_lock(first, &b, &e), -1);
	assert_non_null(strstr(e.msg, "being written by another contend (pid"));
	assert_int_equal(b.fd, -1);
	outpath_unlock(&a);
	assert_int_equal(access(a.name, F_OK), -1); /* removed */
	assert_int_equal(outpath_lock(first, &b, &e), 0);
	outpath_unlock(&b);
	tu_rmtree(dir);
	free(dir);
}

/* A temp name of a writer that is gone is removed; a live writer's, and
 * a mkstemp name (no pid in it), are left. */
static void test_stale_temps(void **state)
{
	(void)state;
	char *dir = tu_tempdir(), out[600], name[700];
	snprintf(out, sizeof out, "%s/r.json", dir);
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	const long pids[] = {(long)dead, (long)getppid()};
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "%s.tmp.%ld.0", out, pids[i]);
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	snprintf(name, sizeof name, "%s.tmp.Ab3xYz", out);
	close(open(name, O_CREAT | O_WRONLY, 0644));
	snprintf(name, sizeof name, "%s/other.json.tmp.%ld.0", dir, (long)dead);
	close(open(name, O_CREAT | O_WRONLY, 0644));
	assert_int_equal(outpath_remove_stale_temps(out), 1);
	snprintf(name, sizeof name, "%s.tmp.%ld.0", out, (long)dead);
	assert_int_equal(access(name, F_OK), -1);
	snprintf(name, sizeof name, "%s.tmp.%ld.0", out, (long)getppid());
	assert_int_equal(access(name, F_OK), 0);
	snprintf(name, sizeof name, "%s.tmp.Ab3xYz", out);
	assert_int_equal(access(name, F_OK), 0);
	snprintf(name, sizeof name, "%s/other.json.tmp.%ld.0", dir, (long)dead);
	assert_int_equal(access(name, F_OK), 0); /* another document's */
	assert_int_equal(outpath_remove_stale_temps(out), 0);
	tu_rmtree(dir);
	free(dir);
}

static void test_slot_overdue(void **state)
{
	(void)state;
	const uint64_t s = 1000000000ull, t = 5 * s;
	assert_false(pool_slot_overdue(0, 100 * s, t));	    /* idle */
	assert_false(pool_slot_overdue(10 * s, 12 * s, t)); /* running 2 s */
	assert_false(pool_slot_overdue(10 * s, 15 * s, t)); /* exactly at it */
	assert_true(pool_slot_overdue(10 * s, 15 * s + 1, t));
	assert_false(pool_slot_overdue(10 * s + 1, 10 * s, t)); /* started after */
	assert_false(pool_slot_overdue(UINT64_MAX, 1, t));
}

/* Every pool is found by its own name, names are unique, and exactly the
 * pools that run in this process share its memory without a start method
 * (the traits the sweep and the reports rely on). */
static void test_pool_registry(void **state)
{
	(void)state;
	size_t n = 0, single = 0;
	for (; pools_all[n]; n++) {
		const struct pool_ops *p = pools_all[n];
		assert_ptr_equal(pool_find(p->name), p);
		for (size_t j = 0; j < n; j++)
			assert_string_not_equal(pools_all[j]->name, p->name);
		assert_false(p->in_process && p->has_start);
		single += p->single_worker != 0;
	}
	assert_true(n >= 2);
	assert_int_equal(single, 1); /* the one baseline speedups are taken against */
	assert_null(pool_find("exec"));
	assert_null(pool_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_list),
		cmocka_unit_test(test_name_list_and_numbers),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_median_ci),
		cmocka_unit_test(test_results_roundtrip),
		cmocka_unit_test(test_reserve_and_lock),
		cmocka_unit_test(test_stale_temps),
		cmocka_unit_test(test_slot_overdue),
		cmocka_unit_test(test_pool_registry),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
