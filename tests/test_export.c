/* test_export.c - Markdown, CSV and Google Benchmark JSON exports.
 *
 * A hand-made document with probe figures, a failure and awkward text is
 * exported; CSV is read back by Python's csv module, the gbench form is
 * checked field by field against what compare.py reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "report/export.h"
#include "tests/testutil.h"

static json_t *rep(double wall, double cpu, const char *status,
		   json_t *probe)
{
	json_t *r = json_pack("{s:f, s:f, s:s, s:s, s:i}", "wall_s", wall,
			      "cpu_s", cpu, "status", status, "checksum",
			      "0xabc", "tasks_done", 10);
	if (probe)
		json_object_set_new(r, "lock", probe);
	return r;
}

static json_t *fixture(void)
{
	json_t *t1 = json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:{s:s}, s:i, s:i, s:[ooo],"
		" s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:n, s:s}",
		"id", "cf/release/thread/w1", "workload", "cf", "build",
		"release", "pool", "thread", "workers", 1, "params", "trees",
		"50", "ntasks", 10, "warmup", 1, "reps",
		rep(1.0, 0.9, "ok", json_pack("{s:f}", "share", 0.1)),
		rep(1.1, 1.0, "ok", json_pack("{s:f}", "share", 0.1)),
		rep(1.2, 1.1, "ok", json_pack("{s:f}", "share", 0.1)),
		"median_wall_s", 1.1, "min_wall_s", 1.0, "max_wall_s", 1.2,
		"ci_low_s", 1.0, "ci_high_s", 1.2, "ci_level", 0.75, "speedup",
		1.0, "efficiency", 1.0, "baseline", "status", "ok");
	json_object_set_new(t1, "lock", json_pack("{s:f, s:f}", "share", 0.1,
						  "wait_s", 0.11));
	json_object_set_new(t1, "memory", json_pack("{s:i, s:[[f,i]]}",
						    "peak_rss_bytes", 1048576,
						    "series", 0.0, 1000));
	json_object_set_new(t1, "counters",
			    json_pack("{s:{s:b, s:s}, s:{s:f, s:s}}",
				      "cache_misses", "available", 0, "reason",
				      "no PMU", "context_switches", "value",
				      42.0, "unit", "count"));
	json_t *t2 = json_pack(
		"{s:s, s:s, s:s, s:s, s:i, s:[ooo], s:f, s:f, s:s, s:s}",
		"id", "cf/release/thread/w2", "workload", "cf", "build",
		"release", "pool", "thread", "workers", 2, "reps",
		rep(0.5, 0.9, "ok", NULL), rep(0.6, 1.0, "ok", NULL),
		rep(0.7, 1.1, "ok", NULL), "median_wall_s", 0.6, "speedup",
		1.1 / 0.6, "baseline", "cf/release/thread/w1", "status", "ok");
	json_t *p1 = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:i, s:[o], s:f, s:s}", "id",
		"cf|odd,\"name\"/release/process/w1", "workload",
		"cf|odd,\"name\"", "build", "release", "pool", "process",
		"start", "fork", "workers", 1, "reps",
		rep(2.0, 2.0, "ok", NULL), "median_wall_s", 2.0, "status", "ok");
	json_t *crash = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:i, s:[o], s:s, s:s}", "id",
		"cf/release/process/w2", "workload", "cf", "build", "release",
		"pool", "process", "start", "fork", "workers", 2, "reps",
		rep(0.1, 0.1, "crashed", NULL), "status", "crashed", "detail",
		"worker 1 killed by SIGSEGV in task 3");
	return json_pack("{s:s, s:s, s:{s:s, s:i, s:s}, s:[oooo]}", "schema",
			 "contend-results/1", "status", "complete", "context",
			 "host", "ci", "logical_cores", 2, "utc_time",
			 "2024-05-01T00:00:00Z", "configs", t1, t2, p1, crash);
}

static long col_index(json_t *cols, const char *name)
{
	json_t *v;
	size_t i;
	json_array_foreach(cols, i, v)
		if (!strcmp(json_string_value(v), name))
			return (long)i;
	return -1;
}

static const char *cell(json_t *rows, json_t *cols, size_t row,
			const char *name)
{
	long c = col_index(cols, name);
	assert_true(c >= 0);
	return json_string_value(json_array_get(json_array_get(rows, row),
						(size_t)c));
}

static void test_table_columns(void **state)
{
	(void)state;
	json_t *doc = fixture(), *cols, *rows;
	errbuf e;
	assert_int_equal(export_table(doc, &cols, &rows, &e), 0);
	assert_int_equal(json_array_size(rows), 4);
	const char *must[] = {"id", "workload", "build", "pool", "workers",
			      "start", "params.trees", "median_wall_s",
			      "ci_low_s", "ci_level", "speedup", "efficiency",
			      "lock.share", "lock.wait_s",
			      "memory.peak_rss_bytes",
			      "counters.cache_misses",
			      "counters.context_switches", "status", "detail"};
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
		assert_true(col_index(cols, must[i]) >= 0);
	assert_true(col_index(cols, "memory.series") < 0); /* plots only */
	assert_string_equal(cell(rows, cols, 0, "lock.share"), "0.1");
	assert_string_equal(cell(rows, cols, 0, "memory.peak_rss_bytes"),
			    "1048576");
	assert_string_equal(cell(rows, cols, 0, "counters.cache_misses"),
			    "n/a");
	assert_string_equal(cell(rows, cols, 0, "counters.context_switches"),
			    "42");
	assert_string_equal(cell(rows, cols, 2, "lock.share"), "n/a");
	assert_string_equal(cell(rows, cols, 0, "start"), "n/a");
	assert_string_equal(cell(rows, cols, 2, "start"), "fork");
	assert_string_equal(cell(rows, cols, 0, "reps"), "3");
	assert_string_equal(cell(rows, cols, 3, "ok_reps"), "0");
	assert_string_equal(cell(rows, cols, 0, "baseline"), "n/a");
	assert_string_equal(cell(rows, cols, 1, "baseline"),
			    "cf/release/thread/w1");
	json_decref(cols);
	json_decref(rows);
	json_decref(doc);
}

static char *export_string(json_t *doc, const char *fmt, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	errbuf e;
	*rc = export_doc(doc, fmt, f, &e);
	fclose(f);
	return buf;
}

static void test_markdown(void **state)
{
	(void)state;
	json_t *doc = fixture();
	int rc;
	char *md = export_string(doc, "md", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(md, "| id | workload | build | pool | workers |"));
	assert_non_null(strstr(md, "cf\\|odd,\"name\""));
	/* header + separator + 4 rows, each a line starting with '|' */
	int lines = 0;
	for (char *p = md; (p = strstr(p, "\n|")); p++)
		lines++;
	assert_int_equal(lines, 6);
	assert_non_null(strstr(md, "| --- |"));
	assert_non_null(strstr(md, "n/a"));
	free(md);
	json_decref(doc);
}

static void test_csv_roundtrip(void **state)
{
	(void)state;
	json_t *doc = fixture(), *cols, *rows;
	errbuf e;
	char *dir = tu_tempdir(), path[512];
	snprintf(path, sizeof path, "%s/t.csv", dir);
	FILE *f = fopen(path, "w");
	assert_int_equal(export_doc(doc, "csv", f, &e), 0);
	fclose(f);
	char *argv[] = {"python3", "-c",
			"import csv,json,sys; print(json.dumps(list("
			"csv.reader(open(sys.argv[1], newline='')))))",
			path, NULL};
	struct cmd_result *r = malloc(sizeof *r);
	assert_int_equal(tu_run(r, argv), 0);
	assert_int_equal(r->status, 0);
	json_error_t je;
	json_t *back = json_loads(r->out, 0, &je);
	assert_non_null(back);
	assert_int_equal(export_table(doc, &cols, &rows, &e), 0);
	assert_true(json_equal(json_array_get(back, 0), cols));
	for (size_t i = 0; i < json_array_size(rows); i++)
		assert_true(json_equal(json_array_get(back, i + 1),
				       json_array_get(rows, i)));
	assert_int_equal(json_array_size(back), 5);
	json_decref(back);
	json_decref(cols);
	json_decref(rows);
	json_decref(doc);
	free(r);
	tu_rmtree(dir);
	free(dir);
}

static int one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

/* The fields Google Benchmark writes and tools/gbench (compare.py,
 * report.py, util.py) read, with their types. */
static void check_gbench_entry(json_t *b)
{
	static const char *const types[] = {"iteration", "aggregate", NULL};
	static const char *const units[] = {"ns", "us", "ms", "s", NULL};
	static const char *const aggs[] = {"mean", "median", "stddev", NULL};
	assert_true(json_is_string(json_object_get(b, "name")));
	assert_true(json_is_string(json_object_get(b, "run_name")));
	assert_true(json_is_integer(json_object_get(b, "family_index")));
	assert_true(json_is_integer(json_object_get(b, "per_family_instance_index")));
	assert_true(json_is_integer(json_object_get(b, "repetitions")));
	assert_true(json_is_integer(json_object_get(b, "threads")));
	assert_true(json_is_integer(json_object_get(b, "iterations")));
	assert_true(json_is_number(json_object_get(b, "real_time")));
	assert_true(json_is_number(json_object_get(b, "cpu_time")));
	const char *rt = json_string_value(json_object_get(b, "run_type"));
	assert_true(one_of(rt, types));
	assert_true(one_of(json_string_value(json_object_get(b, "time_unit")),
			   units));
	if (!strcmp(rt, "aggregate")) {
		const char *an =
			json_string_value(json_object_get(b, "aggregate_name"));
		assert_true(one_of(an, aggs));
		char want[600];
		snprintf(want, sizeof want, "%s_%s",
			 json_string_value(json_object_get(b, "run_name")), an);
		assert_string_equal(json_string_value(json_object_get(b, "name")),
				    want);
		assert_null(json_object_get(b, "repetition_index"));
	} else {
		json_int_t ri = json_integer_value(json_object_get(b, "repetition_index"));
		assert_true(json_is_integer(json_object_get(b, "repetition_index")));
		assert_true(ri >= 0);
		assert_true(ri < json_integer_value(json_object_get(b, "repetitions")) ||
			    json_is_true(json_object_get(b, "error_occurred")));
		assert_string_equal(json_string_value(json_object_get(b, "name")),
				    json_string_value(json_object_get(b, "run_name")));
	}
}

static json_t *find_entry(json_t *list, const char *name, long rep)
{
	json_t *b;
	size_t i;
	json_array_foreach(list, i, b) {
		json_t *ri = json_object_get(b, "repetition_index");
		if (!strcmp(json_string_value(json_object_get(b, "name")), name) &&
		    (rep < 0 || json_integer_value(ri) == rep))
			return b;
	}
	return NULL;
}

static double num(json_t *b, const char *k)
{
	return json_number_value(json_object_get(b, k));
}

static void test_gbench(void **state)
{
	(void)state;
	json_t *doc = fixture();
	errbuf e;
	char *dir = tu_tempdir(), path[512];
	snprintf(path, sizeof path, "%s/gb.json", dir);
	FILE *f = fopen(path, "w");
	assert_int_equal(export_doc(doc, "gbench-json", f, &e), 0);
	fclose(f);
	json_error_t je;
	json_t *g = json_load_file(path, 0, &je);
	assert_non_null(g);
	assert_true(json_is_object(json_object_get(g, "context")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(g, "context"), "host_name")),
			    "ci");
	json_t *list = json_object_get(g, "benchmarks"), *b;
	size_t i;
	/* 3+3 (w1), 3+3 (w2), 1 (single rep, no aggregates), 1 (error) */
	assert_int_equal(json_array_size(list), 14);
	json_array_foreach(list, i, b)
		check_gbench_entry(b);

	/* w2: 0.5, 0.6, 0.7 s -> ms; mean 600, median 600, stddev 100 */
	b = find_entry(list, "cf/release/thread/w2", 1);
	assert_non_null(b);
	assert_true(fabs(num(b, "real_time") - 600) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(b, "time_unit")), "ms");
	assert_int_equal(json_integer_value(json_object_get(b, "threads")), 2);
	assert_true(fabs(num(find_entry(list, "cf/release/thread/w2_mean", -1),
			     "real_time") - 600) < 1e-9);
	assert_true(fabs(num(find_entry(list, "cf/release/thread/w2_median", -1),
			     "real_time") - 600) < 1e-9);
	assert_true(fabs(num(find_entry(list, "cf/release/thread/w2_stddev", -1),
			     "real_time") - 100) < 1e-9);
	assert_true(fabs(num(find_entry(list, "cf/release/thread/w2_mean", -1),
			     "speedup") - 1.1 / 0.6) < 1e-9);

	/* probe figures as user counters */
	b = find_entry(list, "cf/release/thread/w1", 0);
	assert_true(fabs(num(b, "lock.share") - 0.1) < 1e-12);
	b = find_entry(list, "cf/release/thread/w1_median", -1);
	assert_true(fabs(num(b, "memory.peak_rss_bytes") - 1048576) < 1e-6);
	assert_null(json_object_get(b, "counters.cache_misses"));

	/* one family per series, instances numbered within it */
	json_t *w1 = find_entry(list, "cf/release/thread/w1", 0);
	json_t *w2 = find_entry(list, "cf/release/thread/w2", 0);
	json_t *crash = find_entry(list, "cf/release/process/w2", -1);
	assert_int_equal(json_integer_value(json_object_get(w1, "family_index")),
			 json_integer_value(json_object_get(w2, "family_index")));
	assert_int_not_equal(json_integer_value(json_object_get(w1, "per_family_instance_index")),
			     json_integer_value(json_object_get(w2, "per_family_instance_index")));
	assert_int_not_equal(json_integer_value(json_object_get(w1, "family_index")),
			     json_integer_value(json_object_get(crash, "family_index")));
	assert_true(json_is_true(json_object_get(crash, "error_occurred")));
	assert_non_null(strstr(json_string_value(json_object_get(crash, "error_message")),
			       "SIGSEGV"));
	json_decref(g);
	json_decref(doc);
	tu_rmtree(dir);
	free(dir);
}

static void test_bad_input(void **state)
{
	(void)state;
	errbuf e;
	json_t *doc = fixture();
	FILE *f = fopen("/dev/null", "w");
	assert_int_equal(export_doc(doc, "xml", f, &e), -1);
	assert_non_null(strstr(e.msg, "unknown export format"));
	json_t *empty = json_pack("{s:s}", "schema", "contend-results/1");
	assert_int_equal(export_doc(empty, "csv", f, &e), -1);
	assert_int_equal(export_doc(empty, "gbench-json", f, &e), -1);
	json_t *junk = json_pack("{s:[i]}", "configs", 3);
	assert_int_equal(export_doc(junk, "md", f, &e), -1);
	assert_non_null(strstr(e.msg, "configs[0]"));
	json_t *arr = json_array();
	assert_int_equal(export_doc(arr, "md", f, &e), -1);
	fclose(f);
	json_decref(arr);
	json_decref(junk);
	json_decref(empty);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_columns),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_csv_roundtrip),
		cmocka_unit_test(test_gbench),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
