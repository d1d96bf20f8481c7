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

#include "analysis/interference.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_blur_is_not_busy),
		cmocka_unit_test(test_slower_is_blamed_on_interference),
		cmocka_unit_test(test_superlinear_from_a_busy_baseline),
		cmocka_unit_test(test_overlap_is_inconclusive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
