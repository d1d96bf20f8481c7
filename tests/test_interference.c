/* test_interference.c - the busy mark and what the table says of busy
 * rows: /proc/stat parsing, the threshold and the ticks' blur, a slowdown
 * or a super-linear speedup explained by interference instead of blamed
 * on workers or cores, and the Next line's "inconclusive".
 * Documents are crafted; figures come from arithmetic on them. */
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

#include "analysis/compare.h"
#include "analysis/diagnosis.h"
#include "analysis/interference.h"
#include "analysis/usl.h"
#include "analysis/summary.h"
#include "probes/interference.h"
#include "report/table.h"

static void test_parse_stat(void **state)
{
	(void)state;
	struct cpu_ticks t;
	errbuf e;
	const char *text = "cpu  100 2 30 400 5 6 7 8 0 0\n"
			   "cpu0 50 1 15 200 2 3 3 4 0 0\nintr 1\n";
	assert_int_equal(interference_parse_stat(text, &t, &e), 0);
	assert_int_equal(t.busy, 100 + 2 + 30 + 6 + 7);
	assert_int_equal(t.steal, 8);
	assert_int_equal(t.total, 100 + 2 + 30 + 400 + 5 + 6 + 7 + 8);
	assert_int_equal(interference_parse_stat("cpu0 1 2 3\n", &t, &e), -1);
	assert_non_null(strstr(e.msg, "/proc/stat"));
}

/* A configuration of 3 repetitions of `wall` s, each with other
 * programs taking `taken` cores of a 2-CPU, 100 Hz machine. */
static json_t *config(int workers, double wall, double taken)
{
	char id[64];
	snprintf(id, sizeof id, "w/release/thread/w%d", workers);
	json_t *reps = json_array();
	for (int i = 0; i < 3; i++) {
		json_t *in = json_pack("{s:f, s:f, s:f, s:f, s:f}", "window_s", wall,
				       "other_cpu_s", taken * wall, "steal_s", 0.0,
				       "taken_cores", taken, "resolution_s", 0.02);
		json_array_append_new(reps, json_pack("{s:f, s:f, s:s, s:o}", "wall_s",
						      wall * (1 + 0.01 * i), "cpu_s", wall,
						      "status", "ok", "interference", in));
	}
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "id", id,
			      "workload", "w", "build", "release", "pool", "thread",
			      "workers", workers, "status", "ok", "reps", reps);
	json_object_set_new(c, "interference",
			    json_pack("{s:i, s:f, s:f, s:f, s:f, s:f}", "reps", 3,
				      "window_s", 3 * wall, "other_cpu_s",
				      3 * taken * wall, "steal_s", 0.0,
				      "taken_cores", taken, "resolution_s", 0.02));
	return c;
}

static json_t *document(json_t *configs)
{
	json_t *doc = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
				"contend-results/1", "status", "complete",
				"context", "logical_cores", 2, "configs", configs);
	summary_document(doc);
	return doc;
}

static char *render(json_t *doc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_render(doc, f);
	fclose(f);
	return buf;
}

static void test_threshold(void **state)
{
	(void)state;
	json_t *idle = config(1, 1.0, 0.02), *busy = config(1, 1.0, 0.4);
	interference_mark(idle);
	interference_mark(busy);
	assert_false(interference_busy(idle));
	assert_true(interference_busy(busy));
	/* every repetition is long enough to tell on its own */
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(busy, "interference"), "busy_reps")), 3);
	char s[48];
	interference_phrase(busy, s, sizeof s);
	assert_string_equal(s, "40 % of a core");
	json_decref(idle);
	json_decref(busy);
}

/* 10 ms repetitions: 0.5 cores "taken" is 15 ms in all, less than two
 * ticks on each of two CPUs at each end can make. Not busy. */
static void test_blur_is_not_busy(void **state)
{
	(void)state;
	json_t *c = config(1, 0.01, 0.5);
	interference_mark(c);
	assert_false(interference_busy(c));
	json_decref(c);
}

/* The case: 6 workers slower than 5 on 2 cores while another
 * program took a core. The flag stays; the cause said is interference,
 * never "more workers than the cores". */
static void test_slower_is_blamed_on_interference(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o]", config(1, 1.0, 0.0),
					 config(5, 0.5, 0.0), config(6, 1.2, 0.9)));
	json_t *six = json_array_get(json_object_get(doc, "configs"), 2);
	json_t *slower = json_object_get(six, "slower");
	assert_true(json_is_object(slower));
	assert_string_equal(json_string_value(json_object_get(slower, "cause")),
			    "interference");
	char *t = render(doc);
	assert_non_null(strstr(t, "6 workers are 2.40x slower than 5"));
	assert_non_null(strstr(t, "the machine was busy"));
	assert_null(strstr(t, "more workers than the 2 cores"));
	assert_non_null(strstr(t, "busy: 90 % of a core taken by other programs"));
	assert_non_null(strstr(t, "ok, busy") ? strstr(t, "ok, busy")
					      : strstr(t, "SLOWER than 5 workers, busy"));
	free(t);
	json_decref(doc);
	/* when the rows the Next line rests on were busy, it has no verdict */
	doc = document(json_pack("[o, o, o]", config(1, 1.0, 0.0),
				 config(2, 0.52, 0.6), config(4, 0.53, 0.0)));
	t = render(doc);
	assert_non_null(strstr(t, "Next: thread pool: inconclusive: the machine was busy"));
	assert_null(strstr(t, "keep --workers"));
	free(t);
	json_decref(doc);
	/* the same figures on an idle machine keep today's verdict */
	doc = document(json_pack("[o, o, o]", config(1, 1.0, 0.0),
				 config(5, 0.5, 0.0), config(6, 1.2, 0.0)));
	t = render(doc);
	assert_non_null(strstr(t, "more workers than the 2 cores"));
	assert_null(strstr(t, ", busy"));
	assert_null(strstr(t, "taken by other programs"));
	free(t);
	json_decref(doc);
}

/* A baseline slowed by another program: 2.46x on 2 workers is 123 %
 * efficiency, which the Fastest line must not sell as scaling. */
static void test_superlinear_from_a_busy_baseline(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o]", config(1, 1.0, 0.8),
					 config(2, 1.0 / 2.46, 0.0)));
	json_t *two = json_array_get(json_object_get(doc, "configs"), 1);
	assert_true(json_is_true(json_object_get(json_object_get(two, "interference"),
						  "superlinear")));
	char *t = render(doc);
	assert_non_null(strstr(t, "not real super-linear scaling"));
	free(t);
	json_decref(doc);
}

/* 4 workers faster than 2 by the medians but inside its interval: never
 * "gained nothing measurable" beside the larger figure. */
static void test_overlap_is_inconclusive(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o]", config(1, 1.0, 0.0),
					 config(2, 0.52, 0.0), config(4, 0.515, 0.0)));
	char *t = render(doc);
	assert_non_null(strstr(t, "Next: thread pool: inconclusive: intervals "
				  "overlap; add --reps"));
	assert_null(strstr(t, "gained nothing measurable"));
	free(t);
	json_decref(doc);
}

/* One slow repetition among five close ones is named, with its score,
 * and the median stays the others'. */
static void test_outlier_is_named(void **state)
{
	(void)state;
	json_t *c = config(1, 1.0, 0.0);
	json_t *reps = json_object_get(c, "reps");
	json_array_append_new(reps, json_pack("{s:f, s:f, s:s}", "wall_s", 1.005,
					      "cpu_s", 1.0, "status", "ok"));
	json_array_append_new(reps, json_pack("{s:f, s:f, s:s}", "wall_s", 1.6,
					      "cpu_s", 1.0, "status", "ok"));
	json_t *doc = document(json_pack("[o]", c));
	c = json_array_get(json_object_get(doc, "configs"), 0);
	json_t *out = json_object_get(json_object_get(c, "outliers"), "reps");
	assert_int_equal(json_array_size(out), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0),
							    "index")), 4);
	assert_true(json_number_value(json_object_get(json_array_get(out, 0), "z")) > 3.5);
	char *t = render(doc);
	assert_non_null(strstr(t, "repetition 5 is an outlier: 1.60 s against a "
				  "median of 1.01 s"));
	free(t);
	json_decref(doc);
	/* five near-identical repetitions: nothing to name */
	doc = document(json_pack("[o]", config(1, 1.0, 0.0)));
	assert_null(json_object_get(json_array_get(json_object_get(doc, "configs"), 0),
				    "outliers"));
	json_decref(doc);
}

/* 5 repetitions a side, 20 % slower: a regression; with the new run busy
 * it coincides with interference, which compare keeps and says. */
static json_t *five(double wall, double taken)
{
	json_t *c = config(2, wall, taken);
	json_t *reps = json_object_get(c, "reps");
	for (int i = 0; i < 2; i++)
		json_array_append_new(reps, json_pack("{s:f, s:f, s:s}", "wall_s",
						      wall * (1.005 + 0.01 * i),
						      "cpu_s", wall, "status", "ok"));
	return c;
}

static void test_compare_says_interference(void **state)
{
	(void)state;
	json_t *base = document(json_pack("[o]", five(1.0, 0.0)));
	json_t *newer = document(json_pack("[o]", five(1.2, 0.7)));
	struct compare_opts o = {0.05, 0.05};
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(base, newer, &o, &r, &e), 0);
	assert_int_equal(r.tally.regressed, 1);
	assert_int_equal(r.tally.busy, 1);
	assert_false(r.pairs[0].busy_base);
	assert_true(r.pairs[0].busy_new);
	json_t *j = compare_result_json(&r, &o);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tally"),
							    "busy_regressions")), 1);
	json_decref(j);
	compare_result_free(&r);
	json_decref(base);
	json_decref(newer);
	assert_int_equal(mw_reps_needed(0.05), 4);
}

/* A peak inside the measured range but far past the cores is the curve's,
 * and said to be an extrapolation; three points claim no peak at all. */
static void test_usl_says_extrapolation(void **state)
{
	(void)state;
	struct usl_fit f = {.sigma = 0.02, .kappa = 0.01, .npoints = 6};
	f.peak_n = 9.9;
	char s[256];
	usl_describe(&f, 12, 2, s, sizeof s);
	assert_non_null(strstr(s, "extrapolation far past the 2 cores"));
	usl_describe(&f, 12, 8, s, sizeof s);
	assert_non_null(strstr(s, "throughput peaks near 10 workers"));
	f.npoints = 3;
	usl_describe(&f, 12, 8, s, sizeof s);
	assert_null(strstr(s, "peaks near"));
	assert_non_null(strstr(s, "no peak or limit can be read"));
}

/* The diagnosis names interference for what a busy machine did and no
 * timing rule (serial work, start-up, "no cause found") speaks for those
 * rows; on an idle machine the same figures get the rules' causes. */
static int has_cause(json_t *diag, const char *cause, const char *id)
{
	json_t *e, *c;
	size_t i, k;
	json_array_foreach(diag, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "cause")), cause))
			continue;
		json_array_foreach(json_object_get(e, "configs"), k, c)
			if (!id || !strcmp(json_string_value(c), id))
				return 1;
	}
	return 0;
}

static void test_diagnosis_defers_to_interference(void **state)
{
	(void)state;
	const char *two = "w/release/thread/w2";
	json_t *doc = document(json_pack("[o, o]", config(1, 1.0, 0.0),
					 config(2, 1.0, 0.9)));
	json_t *d = diagnosis_document(doc);
	assert_true(has_cause(d, "interference", two));
	assert_false(has_cause(d, "serial-work", two));
	assert_false(has_cause(d, "none", two));
	assert_false(has_cause(d, "startup", two));
	json_decref(doc);
	doc = document(json_pack("[o, o]", config(1, 1.0, 0.0), config(2, 1.0, 0.0)));
	d = diagnosis_document(doc);
	assert_false(has_cause(d, "interference", NULL));
	assert_true(json_array_size(d) > 0); /* a timing rule, or "none", speaks */
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_blur_is_not_busy),
		cmocka_unit_test(test_slower_is_blamed_on_interference),
		cmocka_unit_test(test_superlinear_from_a_busy_baseline),
		cmocka_unit_test(test_overlap_is_inconclusive),
		cmocka_unit_test(test_outlier_is_named),
		cmocka_unit_test(test_compare_says_interference),
		cmocka_unit_test(test_usl_says_extrapolation),
		cmocka_unit_test(test_diagnosis_defers_to_interference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
