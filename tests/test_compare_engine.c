/* test_compare_engine.c - the compare engine (analysis/compare.h) on
 * documents made here, judged through its result structure and its JSON,
 * not through the text `contend compare` prints (test_compare.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/summary.h"
#include "document/doc.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static double noise(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
		       9007199254740992.0 * 2 - 1;
}

/* A series cf/release/thread at 1, 2, 4, 8 workers whose medians follow
 * the USL with (s, k); `slow` multiplies the wall times of the config
 * with `slow_workers`. Summarised, so its fits are stored. */
static json_t *make_doc(int reps, double s, double k, int slow_workers,
			double slow)
{
	json_t *cs = json_array();
	int ws[] = {1, 2, 4, 8};
	for (int i = 0; i < 4; i++) {
		double x = ws[i] / (1 + s * (ws[i] - 1) + k * ws[i] * (ws[i] - 1));
		double m = 10.0 / x * (ws[i] == slow_workers ? slow : 1);
		json_t *rs = json_array();
		for (int r = 0; r < reps; r++)
			json_array_append_new(rs, json_pack("{s:f, s:s}", "wall_s",
							    m * (1 + 0.02 * noise()),
							    "status", "ok"));
		json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:o, s:s}",
				      "workload", "cf", "build", "release",
				      "pool", "thread", "workers", ws[i],
				      "reps", rs, "status", "ok");
		summary_set_id(c);
		json_array_append_new(cs, c);
	}
	json_t *d = json_pack("{s:s, s:s, s:{s:s}, s:o}", "schema",
			      "contend-results/1", "status", "complete",
			      "context", "host", "ci", "configs", cs);
	summary_document(d);
	return d;
}

static json_t *config_w(json_t *doc, int w)
{
	json_t *c;
	size_t i;
	doc_foreach_config(doc, i, c)
		if (doc_workers(c) == w)
			return c;
	fail();
	return NULL;
}

static const struct compare_opts OPTS = {.threshold = 0.05, .alpha = 0.05};

static const struct compare_pair *pair_w(const struct compare_result *r,
					 int w)
{
	for (size_t i = 0; i < r->npairs; i++)
		if (doc_workers(r->pairs[i].newer) == w)
			return &r->pairs[i];
	fail();
	return NULL;
}

static void test_slowdown_judged(void **state)
{
	(void)state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.05, 0.001, 2, 1.2);
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	assert_int_equal(r.npairs, 4);
	const struct compare_pair *p = pair_w(&r, 2);
	assert_true(p->judged);
	assert_int_equal(p->v.kind, CHANGE_SLOWER);
	assert_string_equal(compare_verdict(p), "slower");
	assert_true(p->v.change > 0.15 && p->v.change < 0.25);
	assert_true(p->v.tested && p->v.mw.p < 0.05);
	assert_ptr_equal(p->base, config_w(b, 2));
	assert_int_not_equal(pair_w(&r, 1)->v.kind, CHANGE_SLOWER);
	assert_int_not_equal(pair_w(&r, 4)->v.kind, CHANGE_SLOWER);
	assert_int_equal(r.tally.compared, 4);
	assert_int_equal(r.tally.regressed, 1);
	assert_int_equal(r.tally.min_reps, 10);
	assert_true(r.regression);
	assert_false(r.machines_differ);
	compare_result_free(&r);
	/* a run against itself: nothing regressed */
	assert_int_equal(compare_docs(b, b, &OPTS, &r, &e), 0);
	assert_int_equal(r.tally.regressed, 0);
	assert_int_equal(r.nscaling, 0);
	assert_false(r.regression);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

/* Pairs are made by series and worker count: an id that was written
 * differently still pairs, a configuration of another series does not. */
static void test_paired_by_series(void **state)
{
	(void)state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.05, 0.001, 0, 1);
	json_object_set_new(config_w(n, 1), "id", json_string("renamed"));
	json_object_set_new(config_w(n, 2), "start", json_string("spawn"));
	json_object_set_new(config_w(b, 8), "pool", json_string("process"));
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	assert_int_equal(r.npairs, 2); /* w1 (renamed) and w4 */
	assert_string_equal(pair_w(&r, 1)->id, "renamed");
	assert_ptr_equal(pair_w(&r, 1)->base, config_w(b, 1));
	assert_int_equal(r.nonly_base, 2); /* w2 (no start), w8 (process) */
	assert_int_equal(r.nonly_new, 2);  /* w2 start=spawn, w8 thread */
	assert_string_equal(r.only_base[1], doc_str(config_w(b, 8), "id", ""));
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

static void test_params_differ(void **state)
{
	(void)state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.05, 0.001, 0, 1);
	json_object_set_new(config_w(b, 2), "params",
			    json_pack("{s:s}", "trees", "50"));
	json_object_set_new(config_w(n, 2), "params",
			    json_pack("{s:s, s:s}", "trees", "16", "depth", "3"));
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	assert_int_equal(r.npairs, 3);
	assert_int_equal(r.ndiffer, 1);
	assert_int_equal(r.tally.params_differ, 1);
	assert_ptr_equal(r.differ[0].newer, config_w(n, 2));
	assert_string_equal(r.differ[0].why,
			    "trees=50, depth unset vs trees=16, depth=3");
	assert_int_equal(r.nonly_base + r.nonly_new, 0);
	/* the series ran two sets of params: its scaling is not judged */
	assert_int_equal(r.nscaling, 0);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

static void test_untestable(void **state)
{
	(void)state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *c = config_w(n, 4);
	json_array_clear(json_object_get(c, "reps"));
	json_object_set_new(c, "status", json_string("crashed"));
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	const struct compare_pair *p = pair_w(&r, 4);
	assert_false(p->judged);
	assert_string_equal(compare_verdict(p), "untestable");
	assert_string_equal(p->why, "base ok, new crashed");
	assert_int_equal(r.tally.compared, 3);
	assert_int_equal(r.tally.untestable, 1);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

static void test_scaling_regression(void **state)
{
	(void)state;
	/* before: peak near 31 workers; after: near 2.6, so 4 and 8 workers
	 * are slower than 2 */
	json_t *b = make_doc(10, 0.02, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.3, 0.1, 0, 1);
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	assert_int_equal(r.nscaling, 1);
	const struct compare_scaling *s = &r.scaling[0];
	assert_string_equal(s->series, "cf/release/thread");
	assert_true(s->peak_fell);
	assert_true(s->peak_new < s->peak_base);
	assert_true(s->best_fell);
	assert_int_equal(s->best_base, 8);
	assert_int_equal(s->best_new, 2);
	assert_true(s->old_best_slower > OPTS.threshold);
	assert_non_null(strstr(s->why, "USL peak fell"));
	assert_true(r.regression);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

static void test_nothing_to_compare(void **state)
{
	(void)state;
	json_t *b = make_doc(5, 0.05, 0.001, 0, 1);
	json_t *n = json_pack("{s:s, s:[]}", "schema", "contend-results/1",
			      "configs");
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	assert_int_equal(r.npairs, 0);
	assert_int_equal(r.nonly_base, 4);
	assert_false(r.regression);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

static void test_json(void **state)
{
	(void)state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1);
	json_t *n = make_doc(10, 0.05, 0.001, 2, 1.2);
	json_object_set_new(config_w(n, 4), "params",
			    json_pack("{s:s}", "trees", "16"));
	struct compare_result r;
	errbuf e;
	assert_int_equal(compare_docs(b, n, &OPTS, &r, &e), 0);
	json_t *j = compare_result_json(&r, &OPTS);
	assert_string_equal(doc_str(j, "schema", ""), "contend-compare/1");
	assert_true(doc_bool(j, "regression", 0));
	json_t *cs = json_object_get(j, "configs");
	assert_int_equal(json_array_size(cs), 3);
	json_t *w2 = json_array_get(cs, 1);
	assert_int_equal(doc_int(w2, "workers", 0), 2);
	assert_string_equal(doc_str(w2, "verdict", ""), "slower");
	assert_true(doc_bool(w2, "regression", 0));
	assert_string_equal(doc_str(w2, "series", ""), "cf/release/thread");
	assert_true(doc_num(w2, "change", 0) > 0.15);
	assert_true(doc_num(w2, "p", 1) < 0.05);
	assert_int_equal(doc_int(w2, "base_reps", 0), 10);
	json_t *d = json_array_get(json_object_get(j, "params_differ"), 0);
	assert_string_equal(doc_str(d, "why", ""), "no params vs trees=16");
	assert_string_equal(doc_str(json_object_get(d, "new_params"), "trees",
				    ""), "16");
	json_t *t = json_object_get(j, "tally");
	assert_int_equal(doc_int(t, "compared", 0), 3);
	assert_int_equal(doc_int(t, "regressed", 0), 1);
	assert_int_equal(doc_int(t, "params_differ", 0), 1);
	assert_int_equal(json_array_size(json_object_get(j, "only_in_base")), 0);
	json_decref(j);
	compare_result_free(&r);
	json_decref(b);
	json_decref(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slowdown_judged),
		cmocka_unit_test(test_paired_by_series),
		cmocka_unit_test(test_params_differ),
		cmocka_unit_test(test_untestable),
		cmocka_unit_test(test_scaling_regression),
		cmocka_unit_test(test_nothing_to_compare),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
