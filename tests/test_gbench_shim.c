/* test_gbench_shim.c - the C shim over Google Benchmark: benchmarks
 * registered from C run through the real library, its JSON output read
 * back (names, iterations, counters, threads); bad configuration fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/gbench/cbench.h"

/* ---- benchmark bodies ----------------------------------------------- */

static void bm_noop(cb_state *st, void *arg)
{
	(void)arg;
	while (cb_keep_running(st))
		;
}

/* Counters that say what the body saw: its argument, thread index and
 * count, and whether the shim's guards held (pause twice, bad range). */
static void bm_counted(cb_state *st, void *arg)
{
	(void)arg;
	double guards = 0;
	int64_t bad = cb_range(st, 1); /* arity 1: an error, 0 */
	guards += bad == 0 && strstr(cb_last_error(), "argument 1");
	while (cb_keep_running(st)) {
		if (cb_iterations(st) == 1) {
			cb_pause_timing(st);
			cb_pause_timing(st); /* ignored, not an abort */
			guards += strstr(cb_last_error(), "pause") != NULL;
			cb_resume_timing(st);
		}
	}
	cb_set_items_processed(st, cb_iterations(st));
	cb_counter(st, "answer", 42, CB_AVG_THREADS);
	cb_counter(st, "arg", (double)cb_range(st, 0), CB_AVG_THREADS);
	cb_counter(st, "threads_seen", cb_threads(st), CB_AVG_THREADS);
	cb_counter(st, "index_sum", cb_thread_index(st), 0);
	cb_counter(st, "guards", guards, CB_AVG_THREADS);
	cb_counter(st, "per_iter", (double)cb_iterations(st),
		   CB_AVG_ITERATIONS);
}

static void bm_failing(cb_state *st, void *arg)
{
	(void)arg;
	cb_skip_with_error(st, "no input today");
	while (cb_keep_running(st))
		fail_msg("keep_running after skip_with_error");
}

/* ---- helpers -------------------------------------------------------- */

struct seen {
	int runs, errors, aggregates;
	double answer;
	char error_message[64];
};

static void collect(const struct cb_result *r, void *arg)
{
	struct seen *s = arg;
	s->runs++;
	s->aggregates += *r->aggregate != 0;
	if (r->error) {
		s->errors++;
		snprintf(s->error_message, sizeof s->error_message, "%s",
			 r->error_message);
	} else if (!strncmp(r->family, "shim_counted", 12)) {
		assert_int_equal(cb_result_counter(r, "answer", &s->answer), 0);
		assert_true(r->real_ns > 0);
	}
	double x;
	assert_int_equal(cb_result_counter(r, "no such counter", &x), -1);
}

/* Run the benchmarks matching filter with --benchmark_out to a temp
 * file; the parsed JSON document. */
static json_t *run_to_json(const char *filter, struct seen *s)
{
	char path[] = "/tmp/test_gbench_shim.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char f[128], out[128];
	snprintf(f, sizeof f, "--benchmark_filter=%s", filter);
	snprintf(out, sizeof out, "--benchmark_out=%s", path);
	char *argv[] = {"test_gbench_shim", f, out,
			"--benchmark_out_format=json", NULL};
	int argc = 4;
	assert_int_equal(cb_initialize(&argc, argv), 0);
	assert_int_equal(argc, 1);
	assert_true(cb_run_specified_with(collect, s) > 0);
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	unlink(path);
	if (!doc)
		fail_msg("JSON from --benchmark_out: %s", err.text);
	return doc;
}

static json_t *find_run(json_t *runs, const char *needle, const char *type)
{
	size_t i;
	json_t *r;
	json_array_foreach(runs, i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *rt = json_string_value(json_object_get(r, "run_type"));
		if (name && strstr(name, needle) && rt && !strcmp(rt, type))
			return r;
	}
	return NULL;
}

static double num(json_t *r, const char *key)
{
	json_t *v = json_object_get(r, key);
	if (!json_is_number(v))
		fail_msg("no number '%s' in a run", key);
	return json_number_value(v);
}

/* ---- tests ---------------------------------------------------------- */

/* Ranges, two threads, counters and pause/resume, through the library. */
static void test_range_threads_counters(void **state)
{
	(void)state;
	cb_bench *b = cb_register("shim_counted", bm_counted, NULL);
	assert_non_null(b);
	assert_int_equal(cb_bench_range_multiplier(b, 8), 0);
	assert_int_equal(cb_bench_range(b, 8, 64), 0);
	assert_int_equal(cb_bench_threads(b, 2), 0);
	assert_int_equal(cb_bench_use_real_time(b), 0);
	assert_int_equal(cb_bench_min_time(b, 0.01), 0);
	struct seen s = {0};
	json_t *doc = run_to_json("^shim_counted", &s);
	json_t *runs = json_object_get(doc, "benchmarks");
	assert_int_equal(json_array_size(runs), 2);
	static const int64_t args[] = {8, 64};
	for (int i = 0; i < 2; i++) {
		char needle[32];
		snprintf(needle, sizeof needle, "shim_counted/%lld/",
			 (long long)args[i]);
		json_t *r = find_run(runs, needle, "iteration");
		assert_non_null(r);
		const char *name = json_string_value(json_object_get(r, "name"));
		assert_non_null(strstr(name, "/real_time/threads:2"));
		assert_true(num(r, "iterations") > 0);
		assert_int_equal((int)num(r, "threads"), 2);
		assert_true(num(r, "answer") == 42.0);
		assert_true(num(r, "arg") == (double)args[i]);
		assert_true(num(r, "threads_seen") == 2.0);
		assert_true(num(r, "index_sum") == 1.0); /* 0 + 1 */
		assert_true(num(r, "guards") == 2.0);
		assert_true(num(r, "items_per_second") > 0);
		/* iterations are summed over threads, per-thread counts too */
		assert_true(num(r, "per_iter") == 1.0);
	}
	assert_int_equal(s.runs, 2);
	assert_int_equal(s.errors, 0);
	assert_true(s.answer == 42.0);
	json_decref(doc);
	cb_shutdown();
}

/* Fixed iterations, repetitions with their aggregates, a unit, a failing
 * run reported as such, and context in the JSON. */
static void test_repetitions_unit_errors(void **state)
{
	(void)state;
	cb_bench *b = cb_register("shim_rep", bm_noop, NULL);
	cb_bench *f = cb_register("shim_fail", bm_failing, NULL);
	assert_non_null(b);
	assert_non_null(f);
	const int64_t pair[] = {3, 5};
	const char *const names[] = {"x", "y"};
	assert_int_equal(cb_bench_args(b, pair, 2), 0);
	assert_int_equal(cb_bench_arg_names(b, names, 2), 0);
	assert_int_equal(cb_bench_iterations(b, 100), 0);
	assert_int_equal(cb_bench_repetitions(b, 3), 0);
	assert_int_equal(cb_bench_unit(b, CB_US), 0);
	assert_int_equal(cb_bench_measure_process_cpu_time(b), 0);
	assert_int_equal(cb_add_context("shim", "yes"), 0);
	struct seen s = {0};
	json_t *doc = run_to_json("^shim_(rep|fail)", &s);
	json_t *runs = json_object_get(doc, "benchmarks");
	json_t *r = find_run(runs, "shim_rep/x:3/y:5/", "iteration");
	assert_non_null(r);
	assert_int_equal((int)num(r, "iterations"), 100);
	assert_string_equal(json_string_value(json_object_get(r, "time_unit")),
			    "us");
	assert_non_null(find_run(runs, "shim_rep/x:3/y:5/", "aggregate"));
	size_t i, reps = 0;
	json_array_foreach(runs, i, r) {
		const char *rt = json_string_value(json_object_get(r, "run_type"));
		reps += rt && !strcmp(rt, "iteration") &&
			strstr(json_string_value(json_object_get(r, "name")),
			       "shim_rep");
	}
	assert_int_equal(reps, 3);
	json_t *bad = find_run(runs, "shim_fail", "iteration");
	assert_non_null(bad);
	assert_true(json_is_true(json_object_get(bad, "error_occurred")));
	assert_int_equal(s.errors, 1);
	assert_string_equal(s.error_message, "no input today");
	assert_true(s.aggregates >= 3); /* mean, median, stddev (cv) */
	json_t *ctx = json_object_get(doc, "context");
	assert_string_equal(json_string_value(json_object_get(ctx, "shim")),
			    "yes");
	json_decref(doc);
	cb_shutdown();
}

/* What Google Benchmark would abort on is an error here, and leaves the
 * benchmark usable. */
static void test_bad_configuration(void **state)
{
	(void)state;
	assert_null(cb_register(NULL, bm_noop, NULL));
	assert_null(cb_register("x", NULL, NULL));
	assert_non_null(strstr(cb_last_error(), "name"));
	cb_bench *b = cb_register("shim_bad", bm_noop, NULL);
	assert_non_null(b);
	assert_int_equal(cb_bench_range(b, 10, 1), -1);
	assert_non_null(strstr(cb_last_error(), "lo <= hi"));
	assert_int_equal(cb_bench_threads(b, 0), -1);
	assert_int_equal(cb_bench_thread_range(b, 4, 2), -1);
	assert_int_equal(cb_bench_dense_thread_range(b, 1, 4, 0), -1);
	assert_int_equal(cb_bench_range_multiplier(b, 1), -1);
	assert_int_equal(cb_bench_repetitions(b, 0), -1);
	assert_int_equal(cb_bench_unit(b, (enum cb_unit)9), -1);
	assert_int_equal(cb_bench_arg(b, 1), 0);
	const int64_t two[] = {1, 2};
	assert_int_equal(cb_bench_args(b, two, 2), -1);
	assert_non_null(strstr(cb_last_error(), "argument"));
	assert_int_equal(cb_bench_min_time(b, 0.01), 0);
	assert_int_equal(cb_bench_iterations(b, 10), -1);
	assert_int_equal(cb_bench_arg(NULL, 1), -1);
	char *argv[] = {"t", "--no-such-flag", NULL};
	int argc = 2;
	assert_int_equal(cb_initialize(&argc, argv), -1);
	assert_non_null(strstr(cb_last_error(), "--no-such-flag"));
	cb_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_threads_counters),
		cmocka_unit_test(test_repetitions_unit_errors),
		cmocka_unit_test(test_bad_configuration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
