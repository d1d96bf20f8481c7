/* test_sidebyside.c - verdicts across dimensions on synthetic documents:
 * a pair differing in one dimension gets a sentence (faster where the
 * intervals separate, else indistinguishable), pairs differing in two
 * get none, the build with its lock model counts as one, the output is
 * capped, the overall best names its indistinguishable alternatives and
 * the least memory; a pool without a 1-worker row takes the serial run
 * as its baseline. Expected figures come from arithmetic on the
 * repetitions written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/sidebyside.h"
#include "analysis/summary.h"
#include "report/table.h"
#include "report/comparisons.h"

#define MiB 1048576.0
#define NREPS 5 /* the interval of the median is then [min, max] */

/* An ok config of workload spin; its repetitions take wall * (1 + k *
 * spread) for k = 0..4 and peak at rss MiB (+ k * 0.1 MiB). dims: "key",
 * "value", ... NULL. */
static json_t *config(const char *pool, int workers, double wall, double spread,
		      double rss, ...)
{
	json_t *reps = json_array();
	for (int k = 0; k < NREPS; k++)
		json_array_append_new(reps, json_pack("{s:f, s:f, s:s, s:{s:f}}", "wall_s",
			wall * (1 + k * spread), "cpu_s", wall, "status", "ok", "memory",
			"peak_rss_bytes", (rss + 0.1 * k) * MiB));
	json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:{s:s}, s:o, s:s, s:{s:f}}",
			      "workload", "spin", "build", "release", "pool", pool,
			      "workers", workers, "params", "tasks", "10", "reps", reps,
			      "status", "ok", "memory", "peak_rss_bytes", (rss + 0.2) * MiB);
	va_list ap;
	va_start(ap, rss);
	for (const char *k; (k = va_arg(ap, const char *));)
		json_object_set_new(c, k, json_string(va_arg(ap, const char *)));
	va_end(ap);
	summary_set_id(c);
	return c;
}

static json_t *document(json_t *configs)
{
	json_t *doc = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
				"contend-results/1", "status", "complete", "context",
				"logical_cores", 2, "configs", configs);
	summary_document(doc);
	return doc;
}

static char *render(json_t *doc, int table)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (table)
		table_render(doc, f);
	else
		comparisons_render(doc, f, COMPARISONS_TEXT);
	fclose(f);
	return buf;
}

static json_t *pairs(json_t *doc)
{
	return json_object_get(json_object_get(doc, "sidebyside"), "pairs");
}

static const char *s(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v ? v : "";
}

static void has(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		fprintf(stderr, "%s\n", text); /* whole: fail_msg cuts it */
		fail_msg("missing '%s' (the text is above)", want);
	}
}

/* Separated intervals: a difference, with its ratio of medians. */
static void test_separated(void **state)
{
	(void)state;
	/* medians: the third of five, wall * (1 + 2 * spread) */
	json_t *doc = document(json_pack("[o, o]",
		config("thread", 2, 0.240, 0.01, 44, "inner_threads", "default", NULL),
		config("thread", 2, 0.126, 0.01, 40, "inner_threads", "1", NULL)));
	json_t *p = json_array_get(pairs(doc), 0);
	assert_int_equal(json_array_size(pairs(doc)), 1);
	assert_string_equal(s(p, "dimension"), "inner_threads");
	assert_string_equal(s(p, "wall"), "faster");
	assert_string_equal(s(p, "faster"), "b");
	assert_string_equal(s(json_object_get(p, "b"), "value"), "1");
	assert_true(fabs(json_real_value(json_object_get(p, "wall_ratio")) -
			 (0.240 * 1.02) / (0.126 * 1.02)) < 1e-9);
	/* reps peak 40.0..40.4 against 44.0..44.4 MiB: apart */
	assert_string_equal(s(p, "memory"), "less");
	char *t = render(doc, 0), want[200];
	snprintf(want, sizeof want, "inner-threads=1: thread pool, 2 workers, 128.5 ms "
		 "is %.2fx faster than inner-threads=default (244.8 ms)", 0.240 / 0.126);
	has(t, want);
	has(t, "peak RSS 40.2 MiB, 1.10x less (44.2 MiB)");
	free(t);
	json_decref(doc);
}

/* Overlapping intervals: indistinguishable, whatever the medians say. */
static void test_overlapping(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o]",
		config("process", 4, 0.100, 0.05, 50, "share", "inherit", NULL),
		config("process", 4, 0.105, 0.05, 50, "share", "shm", NULL)));
	json_t *p = json_array_get(pairs(doc), 0);
	assert_string_equal(s(p, "wall"), "indistinguishable");
	assert_string_equal(s(p, "memory"), "indistinguishable");
	char *t = render(doc, 0);
	has(t, "share=inherit and share=shm: process pool, 4 workers, 110.0 ms and "
	       "115.5 ms are indistinguishable (the intervals overlap)");
	/* one comparison: no summary line above it */
	assert_null(strstr(t, "against"));
	free(t);
	json_decref(doc);
}

/* Two dimensions differ: no sentence; another worker count or pool: not
 * comparable. The build and its lock model differ together: the build. */
static void test_which_pairs(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o, o, o]",
		config("thread", 2, 0.2, 0.01, 40, "inner_threads", "1", "share", "inherit", NULL),
		config("thread", 2, 0.2, 0.01, 40, "inner_threads", "2", "share", "shm", NULL),
		config("thread", 4, 0.2, 0.01, 40, "inner_threads", "2", "share", "inherit", NULL),
		config("process", 2, 0.2, 0.01, 40, "inner_threads", "2", "share", "inherit", NULL),
		config("thread", 2, 0.9, 0.01, 40, "inner_threads", "1", "share", "inherit",
		       "build", "linetrace", "lock_model", "gil", NULL)));
	assert_int_equal(json_array_size(pairs(doc)), 1);
	json_t *p = json_array_get(pairs(doc), 0);
	assert_string_equal(s(p, "dimension"), "build");
	assert_string_equal(s(json_object_get(p, "b"), "value"), "linetrace (lock-model=gil)");
	char *t = render(doc, 1);
	/* the builds' sentence replaces the old builds note */
	has(t, "build=release: thread pool, share=inherit, inner-threads=1, 2 workers");
	has(t, "4.50x faster than build=linetrace (lock-model=gil)");
	assert_null(strstr(t, "Builds side by side"));
	free(t);
	json_decref(doc);
}

/* Many pairs of values: bounded output, the rest counted. */
static void test_capped(void **state)
{
	(void)state;
	json_t *configs = json_array();
	for (int v = 1; v <= 10; v++) {
		char val[8];
		snprintf(val, sizeof val, "%d", v);
		for (int w = 1; w <= 8; w *= 2)
			json_array_append_new(configs, config("thread", w, 0.1 * v, 0.01, 40,
							      "inner_threads", val, NULL));
	}
	json_t *doc = document(configs);
	/* 10 values: 45 pairs of values, 4 worker counts each */
	assert_int_equal(json_array_size(pairs(doc)), 45 * 4);
	char *t = render(doc, 0);
	has(t, "and 39 more pairs of values (156 comparisons)");
	has(t, "inner-threads=1 against inner-threads=2, 4 comparisons: inner-threads=1 "
	       "faster in 4 (2.00x);");
	has(t, "    and 1 more.\n");
	size_t lines = 0;
	for (const char *c = t; *c; c++)
		lines += *c == '\n';
	assert_true(lines < 40);
	free(t);
	json_decref(doc);
}

/* The best across every dimension, its indistinguishable alternatives and
 * the least memory when another configuration has it. */
static void test_best(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o, o]",
		config("serial", 1, 0.124, 0.01, 60, "inner_threads", "default", NULL),
		config("thread", 2, 0.127, 0.01, 70, "inner_threads", "1", NULL),
		config("thread", 2, 0.300, 0.01, 90, "inner_threads", "default", NULL),
		config("serial", 1, 0.500, 0.01, 30, "inner_threads", "1", NULL)));
	json_t *b = json_array_get(json_object_get(doc, "best"), 0);
	assert_string_equal(s(b, "fastest"), s(json_array_get(json_object_get(doc, "configs"), 0), "id"));
	assert_int_equal(json_array_size(json_object_get(b, "indistinguishable")), 1);
	assert_string_equal(s(b, "least_memory"), s(json_array_get(json_object_get(doc, "configs"), 3), "id"));
	char *t = render(doc, 1);
	has(t, "Best of 4 configurations: serial pool, inner-threads=default, 1 worker, "
	       "126.5 ms; indistinguishable: thread pool, inner-threads=1, 2 workers (129.5 ms).");
	has(t, "Least memory: serial pool, inner-threads=1, 1 worker, peak RSS 30.2 MiB "
	       "against 60.2 MiB (510.0 ms).");
	free(t);
	json_decref(doc);
	/* clearly fastest: said so */
	doc = document(json_pack("[o, o]",
		config("serial", 1, 0.1, 0.01, 60, "inner_threads", "default", NULL),
		config("serial", 1, 0.5, 0.01, 60, "inner_threads", "1", NULL)));
	t = render(doc, 0);
	has(t, "measurably faster than every other.");
	assert_null(strstr(t, "Least memory"));
	free(t);
	json_decref(doc);
}

/* exec's params and env are dimensions like any other. */
static void test_exec_dims(void **state)
{
	(void)state;
	json_t *a = config("exec", 2, 0.2, 0.01, 40, NULL), *b = config("exec", 2, 0.6, 0.01, 40, NULL);
	json_t *c = config("exec", 2, 0.2, 0.01, 40, NULL);
	json_t *all[] = {a, b, c};
	const char *mode[] = {"thread", "thread", "process"};
	for (int i = 0; i < 3; i++) {
		json_object_set_new(all[i], "workload", json_string("exec"));
		json_object_set_new(all[i], "params", json_pack("{s:s, s:s}", "command",
								"prog {mode}", "mode", mode[i]));
		json_object_set_new(all[i], "env", json_pack("{s:o}", "OPENBLAS_NUM_THREADS",
							     i == 1 ? json_null() : json_string("1")));
		summary_set_id(all[i]);
	}
	json_t *doc = document(json_pack("[o, o, o]", a, b, c));
	assert_int_equal(json_array_size(pairs(doc)), 2);
	char *t = render(doc, 0);
	has(t, "OPENBLAS_NUM_THREADS=1: mode=thread, 2 workers, 204.0 ms is 3.00x faster "
	       "than OPENBLAS_NUM_THREADS=default (612.0 ms)");
	has(t, "mode=thread and mode=process: OPENBLAS_NUM_THREADS=1, 2 workers");
	free(t);
	json_decref(doc);
}

/* No 1-worker row of a pool: speedups against the serial run of the same
 * other dimensions, and the table says so. */
static void test_serial_baseline(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o, o]",
		config("serial", 1, 1.0, 0.01, 40, NULL),
		config("thread", 2, 0.55, 0.01, 40, NULL),
		config("thread", 4, 0.30, 0.01, 40, NULL),
		config("process", 1, 1.1, 0.01, 40, NULL)));
	json_t *configs = json_object_get(doc, "configs");
	json_t *s1 = json_array_get(configs, 0), *t2 = json_array_get(configs, 1);
	json_t *t4 = json_array_get(configs, 2), *p1 = json_array_get(configs, 3);
	assert_string_equal(s(t2, "baseline"), s(s1, "id"));
	assert_string_equal(s(t2, "baseline_kind"), "serial");
	assert_true(fabs(json_real_value(json_object_get(t4, "speedup")) - 1.0 / 0.30) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(t2, "efficiency")) - 1.0 / 0.55 / 2) < 1e-9);
	/* a pool with its own 1-worker row keeps it */
	assert_string_equal(s(p1, "baseline"), s(p1, "id"));
	assert_null(json_object_get(p1, "baseline_kind"));
	char *t = render(doc, 1);
	has(t, "thread pool has no 1-worker row: its speedup and efficiency are "
	       "against the serial pool's run.");
	has(t, "Fastest: thread pool with 4 workers, 306.0 ms (3.33x the serial pool's run");
	assert_null(strstr(t, "process pool has no 1-worker row"));
	free(t);
	json_decref(doc);
	/* no serial run either: no speedup, as before */
	doc = document(json_pack("[o]", config("thread", 2, 0.55, 0.01, 40, NULL)));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(doc, "configs"), 0), "speedup")));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_separated),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_which_pairs),
		cmocka_unit_test(test_capped),
		cmocka_unit_test(test_best),
		cmocka_unit_test(test_exec_dims),
		cmocka_unit_test(test_serial_baseline),
	};
	return cmocka_run_group_tests_name("sidebyside", tests, NULL, NULL);
}
