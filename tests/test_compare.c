/* test_compare.c - the Mann-Whitney test and `contend compare`.
 *
 * p-values are checked against counting arguments and the textbook normal
 * approximation; compare runs on documents generated here with noise from
 * a fixed PRNG, one with a 20 % slowdown that must be caught. compare
 * --history runs against both history backends (a SQLite file, then a
 * PostgreSQL server: tests/testutil_pg.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>

#include "analysis/mannwhitney.h"
#include "tests/testutil.h"
#include "tests/testutil_pg.h"

/* ---- Mann-Whitney ---- */

static double choose(int n, int k)
{
	double c = 1;
	for (int i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return c;
}

static void test_exact_separated(void **state)
{
	(void)state;
	struct mw_result r;
	errbuf e;
	/* complete separation: only 1 of C(6,3) arrangements is that
	 * extreme on each side */
	double a[] = {1, 2, 3}, b[] = {4, 5, 6};
	assert_int_equal(mw_test(a, 3, b, 3, &r, &e), 0);
	assert_true(r.exact);
	assert_true(r.u == 0);
	assert_true(fabs(r.p - 2 / choose(6, 3)) < 1e-12);
	assert_true(fabs(r.min_p - 2 / choose(6, 3)) < 1e-12);
	double a5[] = {6, 7, 8, 9, 10}, b5[] = {1, 2, 3, 4, 5};
	assert_int_equal(mw_test(a5, 5, b5, 5, &r, &e), 0);
	assert_true(r.u == 25);
	assert_true(fabs(r.p - 2 / choose(10, 5)) < 1e-12);
}

static void test_exact_one_swap(void **state)
{
	(void)state;
	struct mw_result r;
	errbuf e;
	/* U = 1: arrangements with U <= 1 are the extreme one and the one
	 * with a single swap: P(U <= 1) = 2 / C(8,4) */
	double a[] = {1, 2, 3, 5}, b[] = {4, 6, 7, 8};
	assert_int_equal(mw_test(a, 4, b, 4, &r, &e), 0);
	assert_true(r.u == 1);
	assert_true(fabs(r.p - 2 * 2 / choose(8, 4)) < 1e-12);
	/* symmetric in the samples */
	struct mw_result s;
	assert_int_equal(mw_test(b, 4, a, 4, &s, &e), 0);
	assert_true(s.u == 15);
	assert_true(fabs(s.p - r.p) < 1e-15);
}

static void test_normal_with_ties(void **state)
{
	(void)state;
	struct mw_result r;
	errbuf e;
	/* ranks: 1,1,1 -> 2; 2,2 -> 4.5; 3,3,3 -> 7. R_a = 10.5, U = 0.5.
	 * tie groups 3,2,3: sum(t^3 - t) = 24 + 6 + 24 = 54, n = 8 */
	double a[] = {1, 1, 1, 2}, b[] = {2, 3, 3, 3};
	assert_int_equal(mw_test(a, 4, b, 4, &r, &e), 0);
	assert_false(r.exact);
	assert_true(r.ties);
	assert_true(fabs(r.u - 0.5) < 1e-12);
	double var = 16.0 / 12 * (9 - 54.0 / 56);
	double z = (fabs(0.5 - 8) - 0.5) / sqrt(var);
	assert_true(fabs(r.p - erfc(z / sqrt(2))) < 1e-12);
}

static void test_normal_large(void **state)
{
	(void)state;
	/* beyond MW_EXACT_MAX: normal approximation, no ties */
	enum { N = 60 };
	double a[N], b[N];
	for (int i = 0; i < N; i++) {
		a[i] = i;
		b[i] = i + 0.5 + 10;
	}
	struct mw_result r;
	errbuf e;
	assert_int_equal(mw_test(a, N, b, N, &r, &e), 0);
	assert_false(r.exact);
	/* U: a_i > b_j  <=>  i > j + 10.5: pairs = sum_{j} (N - 11 - j)+ */
	double u = 0;
	for (int j = 0; j < N; j++)
		u += fmax(0, N - 11 - j);
	assert_true(fabs(r.u - u) < 1e-9);
	double mean = N * N / 2.0, sd = sqrt(N * N * (2 * N + 1) / 12.0);
	double z = (fabs(u - mean) - 0.5) / sd;
	assert_true(fabs(r.p - erfc(z / sqrt(2))) < 1e-12);
}

static void test_all_tied_and_bad(void **state)
{
	(void)state;
	struct mw_result r;
	errbuf e;
	double a[] = {2, 2, 2}, b[] = {2, 2};
	assert_int_equal(mw_test(a, 3, b, 2, &r, &e), 0);
	assert_true(r.p == 1);
	assert_int_equal(mw_test(a, 0, b, 2, &r, &e), -1);
	double n[] = {1, NAN};
	assert_int_equal(mw_test(n, 2, b, 2, &r, &e), -1);
}

static void test_judge(void **state)
{
	(void)state;
	struct change_verdict v;
	errbuf e;
	double base[] = {1.00, 1.01, 0.99, 1.02, 0.98, 1.00};
	double slow[] = {1.20, 1.21, 1.19, 1.22, 1.18, 1.20};
	double same[] = {1.01, 1.00, 0.99, 1.02, 0.98, 1.00};
	assert_int_equal(mw_judge(base, 6, slow, 6, 0.05, 0.05, &v, &e), 0);
	assert_int_equal(v.kind, CHANGE_SLOWER);
	assert_true(fabs(v.change - 0.2) < 1e-12);
	assert_int_equal(mw_judge(slow, 6, base, 6, 0.05, 0.05, &v, &e), 0);
	assert_int_equal(v.kind, CHANGE_FASTER);
	assert_int_equal(mw_judge(base, 6, same, 6, 0.05, 0.05, &v, &e), 0);
	assert_int_equal(v.kind, CHANGE_SAME);
	/* 3 vs 3 can never reach p < 0.05 (min p = 0.1): not a regression */
	assert_int_equal(mw_judge(base, 3, slow, 3, 0.05, 0.05, &v, &e), 0);
	assert_int_equal(v.kind, CHANGE_NOISE);
	assert_int_equal(mw_judge(base, 1, slow, 1, 0.05, 0.05, &v, &e), 0);
	assert_int_equal(v.kind, CHANGE_UNTESTED);
	double zero[] = {0, 0};
	assert_int_equal(mw_judge(zero, 2, slow, 2, 0.05, 0.05, &v, &e), -1);
}

/* ---- contend compare ---- */

static uint64_t rng;

static double noise(void) /* uniform in [-1, 1), fixed sequence */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
		       9007199254740992.0 * 2 - 1;
}

/* A series thread/w1,w2,w4 whose medians follow the USL with (s, k);
 * `slow` multiplies the wall times of the config with `slow_workers`. */
static json_t *make_doc(int reps, double s, double k, int slow_workers,
			double slow, const char *git)
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
		char id[64];
		snprintf(id, sizeof id, "cf/release/thread/w%d", ws[i]);
		json_array_append_new(cs, json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:o, s:f, s:s}", "id", id,
			"workload", "cf", "build", "release", "pool", "thread",
			"workers", ws[i], "reps", rs, "median_wall_s", m,
			"status", "ok"));
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "schema",
			 "contend-results/1", "status", "complete", "context",
			 "host", "ci", "git_rev", git, "utc_time",
			 git, "configs", cs);
}

struct fx {
	char *dir;
	char base[512], newer[512];
	char db[1100]; /* the history: a file in dir, or a server's schema */
	struct cmd_result r;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->dir = tu_tempdir();
	snprintf(f->base, sizeof f->base, "%s/base.json", f->dir);
	snprintf(f->newer, sizeof f->newer, "%s/new.json", f->dir);
	snprintf(f->db, sizeof f->db, "%s/h.db", f->dir);
	rng = 0x2545F4914F6CDD1DULL;
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	setup(state);
	struct fx *f = *state;
	return tu_pg_fresh(f->db, sizeof f->db);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void save(json_t *d, const char *path)
{
	assert_int_equal(json_dump_file(d, path, JSON_INDENT(1)), 0);
	json_decref(d);
}

/* The output line of one configuration. */
static const char *line_of(const char *out, const char *id, char *buf,
			   size_t len)
{
	const char *p = strstr(out, id);
	assert_non_null(p);
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/* Set params (a JSON object text) on every configuration of doc. */
static json_t *with_params(json_t *doc, const char *params)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		json_object_set_new(c, "params", json_loads(params, 0, NULL));
	return doc;
}

/* The configuration of doc with w workers. */
static json_t *config_w(json_t *doc, int w)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (json_integer_value(json_object_get(c, "workers")) == w)
			return c;
	fail();
	return NULL;
}

/* Multiply the wall times of c (repetitions and median) by f. */
static void scale_walls(json_t *c, double f)
{
	json_t *r;
	size_t i;
	json_array_foreach(json_object_get(c, "reps"), i, r)
		json_object_set_new(r, "wall_s", json_real(f * json_number_value(
				json_object_get(r, "wall_s"))));
	json_object_set_new(c, "median_wall_s", json_real(f * json_number_value(
			json_object_get(c, "median_wall_s"))));
}

static void test_slowdown_caught(void **state)
{
	struct fx *f = *state;
	save(make_doc(10, 0.05, 0.001, 0, 1, "aaa"), f->base);
	save(make_doc(10, 0.05, 0.001, 2, 1.2, "bbb"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 1);
	char l[512];
	assert_non_null(strstr(line_of(f->r.out, "thread/w2", l, sizeof l),
			       "REGRESSION"));
	assert_non_null(strstr(l, "+20."));
	assert_null(strstr(line_of(f->r.out, "thread/w1", l, sizeof l), "REGRESSION"));
	assert_null(strstr(line_of(f->r.out, "thread/w4", l, sizeof l), "REGRESSION"));
	assert_non_null(strstr(f->r.out, "1 regressed"));
}

static void test_identical_pass(void **state)
{
	struct fx *f = *state;
	save(make_doc(10, 0.05, 0.001, 0, 1, "aaa"), f->base);
	tu_contend(&f->r, "compare", f->base, f->base, NULL);
	assert_int_equal(f->r.status, 0);
	assert_non_null(strstr(f->r.out, "no regression"));
	/* and a fresh sample of the same distribution */
	save(make_doc(10, 0.05, 0.001, 0, 1, "ccc"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 0);
}

static void test_few_reps_weak(void **state)
{
	struct fx *f = *state;
	save(make_doc(3, 0.05, 0.001, 0, 1, "aaa"), f->base);
	save(make_doc(3, 0.05, 0.001, 2, 1.2, "bbb"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 0);
	assert_non_null(strstr(f->r.out, "smallest possible p"));
	assert_non_null(strstr(f->r.out, "within noise"));
}

static void test_mismatched_configs(void **state)
{
	struct fx *f = *state;
	json_t *b = make_doc(10, 0.05, 0.001, 0, 1, "aaa");
	json_t *n = make_doc(10, 0.05, 0.001, 0, 1, "bbb");
	json_array_remove(json_object_get(b, "configs"), 3); /* w8 */
	json_t *c = json_array_get(json_object_get(n, "configs"), 0);
	/* a configuration of another series (pairs are made by series and
	 * worker count, not by the id's text) */
	json_object_set_new(c, "id", json_string("cf/release/process/w1"));
	json_object_set_new(c, "pool", json_string("process"));
	json_object_set_new(c, "status", json_string("crashed"));
	json_t *c1 = json_array_get(json_object_get(n, "configs"), 1);
	json_array_clear(json_object_get(c1, "reps")); /* nothing to test */
	save(b, f->base);
	save(n, f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 0);
	assert_non_null(strstr(f->r.out, "only in the base run"));
	assert_non_null(strstr(f->r.out, "only in the new run"));
	assert_non_null(strstr(f->r.out, "cf/release/process/w1"));
	assert_non_null(strstr(f->r.out, "cannot compare"));
}

static void test_scaling_regression(void **state)
{
	struct fx *f = *state;
	/* before: peak sqrt(0.98/0.001) ~ 31 workers; after: sqrt(0.7/0.1)
	 * ~ 2.6, so 4 and 8 workers are now slower than 2 */
	save(make_doc(10, 0.02, 0.001, 0, 1, "aaa"), f->base);
	save(make_doc(10, 0.3, 0.1, 0, 1, "bbb"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 1);
	assert_non_null(strstr(f->r.out, "scaling regressions"));
	assert_non_null(strstr(f->r.out, "USL peak fell"));
	assert_non_null(strstr(f->r.out, "fastest worker count fell from 8 to 2"));
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	save(make_doc(3, 0.05, 0.001, 0, 1, "aaa"), f->base);
	tu_contend(&f->r, "compare", f->base, "/nonexistent.json", NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "cannot read"));
	tu_contend(&f->r, "compare", f->base, NULL);
	assert_int_equal(f->r.status, 2);
	tu_contend(&f->r, "compare", "--threshold", "abc", f->base, f->base, NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "--threshold"));
	FILE *fp = fopen(f->newer, "w");
	fputs("{\"schema\": \"contend-results/1\", \"configs\": 3}", fp);
	fclose(fp);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 2);
	tu_contend(&f->r, "compare", "--history", f->newer, NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "not a SQLite database"));
}

static void test_from_history(void **state)
{
	struct fx *f = *state;
	const char *db = f->db;
	save(make_doc(10, 0.05, 0.001, 0, 1, "2024-01-01T00:00:00Z"), f->base);
	save(make_doc(10, 0.05, 0.001, 4, 1.3, "2024-01-02T00:00:00Z"), f->newer);
	tu_contend(&f->r, "history", "add", "--db", db, f->newer, f->base, NULL);
	assert_int_equal(f->r.status, 0);
	tu_contend(&f->r, "compare", "--db", db, "--last", "2", NULL);
	assert_int_equal(f->r.status, 1);
	char l[512];
	assert_non_null(strstr(line_of(f->r.out, "thread/w4", l, sizeof l),
			       "REGRESSION"));
	assert_non_null(strstr(f->r.out, "run 2"));
	/* --history is the old name of --db */
	tu_contend(&f->r, "compare", "--history", db, "--last", "3", NULL);
	assert_int_equal(f->r.status, 2);
}

/* --json prints the engine's result, and exits as the text does. */
static void test_json_output(void **state)
{
	struct fx *f = *state;
	save(make_doc(10, 0.05, 0.001, 0, 1, "aaa"), f->base);
	save(make_doc(10, 0.05, 0.001, 2, 1.2, "bbb"), f->newer);
	tu_contend(&f->r, "compare", "--json", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 1);
	json_error_t je;
	json_t *j = json_loads(f->r.out, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "schema")),
			    "contend-compare/1");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "base"), "label")), f->base);
	json_t *cs = json_object_get(j, "configs"), *c;
	size_t i, slower = 0;
	assert_int_equal(json_array_size(cs), 4);
	json_array_foreach(cs, i, c) {
		int w = (int)json_integer_value(json_object_get(c, "workers"));
		const char *v = json_string_value(json_object_get(c, "verdict"));
		slower += !strcmp(v, "slower");
		if (w == 2)
			assert_string_equal(v, "slower");
	}
	assert_int_equal(slower, 1);
	assert_true(json_is_true(json_object_get(j, "regression")));
	json_decref(j);
	tu_contend(&f->r, "compare", "--json", f->base, f->base, NULL);
	assert_int_equal(f->r.status, 0);
	j = json_loads(f->r.out, 0, &je);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "regression")));
	json_decref(j);
}

/* Same ids, other workload parameters (a nightly trees=16 run against a
 * `make report` trees=50 run): a 2x slowdown and worse scaling are the
 * parameters' doing, not regressions, and with nothing comparable left
 * compare says so and exits 2. */
static void test_params_differ_not_compared(void **state)
{
	struct fx *f = *state;
	save(with_params(make_doc(10, 0.02, 0.001, 0, 1, "aaa"),
			 "{\"trees\": \"50\", \"rows\": \"12000\"}"), f->base);
	save(with_params(make_doc(10, 0.3, 0.1, 2, 2.0, "bbb"),
			 "{\"trees\": \"16\", \"rows\": \"12000\"}"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "not compared: cf/release/thread/w2: "
				       "params differ (trees=50 vs trees=16)"));
	assert_non_null(strstr(f->r.out, "cf/release/thread/w8: params differ"));
	assert_null(strstr(f->r.out, "REGRESSION"));
	assert_null(strstr(f->r.out, "scaling regressions"));
	assert_null(strstr(f->r.out, "no regression"));
	assert_non_null(strstr(f->r.out, "nothing to compare"));
	/* w1 alone comparable: the series' worse scaling is not judged */
	json_t *n = with_params(make_doc(10, 0.3, 0.1, 0, 1, "bbb"),
				"{\"trees\": \"16\", \"rows\": \"12000\"}");
	json_object_set_new(config_w(n, 1), "params", json_pack("{s:s, s:s}",
			    "trees", "50", "rows", "12000"));
	save(n, f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 0);
	assert_null(strstr(f->r.out, "scaling regressions"));
	assert_non_null(strstr(f->r.out, "1 configuration compared"));
	assert_non_null(strstr(f->r.out, "3 configurations not compared"));
}

/* One configuration ran with other params: it alone is left out, and a
 * real regression next to it is still caught. */
static void test_params_differ_partly(void **state)
{
	struct fx *f = *state;
	json_t *n = with_params(make_doc(10, 0.05, 0.001, 4, 1.3, "bbb"),
				"{\"trees\": \"50\"}");
	scale_walls(config_w(n, 2), 2);
	json_object_set_new(config_w(n, 2), "params",
			    json_pack("{s:s, s:s}", "trees", "50", "depth", "3"));
	save(with_params(make_doc(10, 0.05, 0.001, 0, 1, "aaa"),
			 "{\"trees\": \"50\"}"), f->base);
	save(n, f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 1);
	char l[512];
	line_of(f->r.out, "thread/w2", l, sizeof l);
	assert_non_null(strstr(l, "params differ (depth unset vs depth=3)"));
	assert_null(strstr(l, "REGRESSION"));
	assert_non_null(strstr(line_of(f->r.out, "thread/w4", l, sizeof l),
			       "REGRESSION"));
	assert_non_null(strstr(f->r.out, "3 configurations compared: 1 regressed"));
	assert_non_null(strstr(f->r.out, "1 configuration not compared"));
	/* the series is not judged on scaling across different params */
	assert_null(strstr(f->r.out, "scaling regressions"));
}

/* Equal params (in another key order) are compared as before. */
static void test_params_equal_compared(void **state)
{
	struct fx *f = *state;
	save(with_params(make_doc(10, 0.05, 0.001, 0, 1, "aaa"),
			 "{\"trees\": \"50\", \"rows\": \"12000\"}"), f->base);
	save(with_params(make_doc(10, 0.05, 0.001, 2, 2.0, "bbb"),
			 "{\"rows\": \"12000\", \"trees\": \"50\"}"), f->newer);
	tu_contend(&f->r, "compare", f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 1);
	char l[512];
	assert_non_null(strstr(line_of(f->r.out, "thread/w2", l, sizeof l),
			       "REGRESSION"));
	assert_non_null(strstr(l, "+100."));
	assert_null(strstr(f->r.out, "params differ"));
	assert_non_null(strstr(f->r.out, "4 configurations compared: 1 regressed"));
}

/* --history reads params from the stored documents the same way. */
static void test_history_params_differ(void **state)
{
	struct fx *f = *state;
	const char *db = f->db;
	char third[600];
	snprintf(third, sizeof third, "%s/third.json", f->dir);
	save(with_params(make_doc(10, 0.05, 0.001, 0, 1, "2024-01-01T00:00:00Z"),
			 "{\"trees\": \"50\"}"), f->base);
	save(with_params(make_doc(10, 0.05, 0.001, 2, 2.0, "2024-01-02T00:00:00Z"),
			 "{\"trees\": \"16\"}"), f->newer);
	tu_contend(&f->r, "history", "add", "--db", db, f->base, f->newer, NULL);
	assert_int_equal(f->r.status, 0);
	tu_contend(&f->r, "compare", "--history", db, "--last", "2", NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "not compared: cf/release/thread/w2: "
				       "params differ (trees=50 vs trees=16)"));
	assert_null(strstr(f->r.out, "REGRESSION"));
	assert_non_null(strstr(f->r.out, "nothing to compare"));
	/* a third run with the second's params: compared against it */
	save(with_params(make_doc(10, 0.05, 0.001, 4, 1.3, "2024-01-03T00:00:00Z"),
			 "{\"trees\": \"16\"}"), third);
	tu_contend(&f->r, "history", "add", "--db", db, third, NULL);
	assert_int_equal(f->r.status, 0);
	tu_contend(&f->r, "compare", "--history", db, "--last", "2", NULL);
	assert_int_equal(f->r.status, 1);
	char l[512];
	assert_non_null(strstr(line_of(f->r.out, "thread/w4", l, sizeof l),
			       "REGRESSION"));
	assert_null(strstr(f->r.out, "params differ"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_separated),
		cmocka_unit_test(test_exact_one_swap),
		cmocka_unit_test(test_normal_with_ties),
		cmocka_unit_test(test_normal_large),
		cmocka_unit_test(test_all_tied_and_bad),
		cmocka_unit_test(test_judge),
		cmocka_unit_test_setup_teardown(test_slowdown_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identical_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_few_reps_weak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatched_configs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scaling_regression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_differ_not_compared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_differ_partly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_equal_compared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_params_differ, setup, teardown),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_from_history, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_history_params_differ, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("compare (sqlite history)", tests,
					     NULL, NULL);
	if (tu_pg_admin())
		rc |= cmocka_run_group_tests_name("compare (postgresql history)",
						  pg_tests, NULL, NULL);
	return rc;
}
