/* test_usl.c - the USL fit recovers known parameters.
 *
 * Data are generated from X(N) = N / (1 + s(N-1) + k N(N-1)) with chosen s
 * and k (plus seeded noise), so every expectation comes from the model. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "analysis/usl.h"

static uint64_t rng_state;

/* xorshift64*: fixed seed, so the "noise" is the same on every run. */
static double rng_uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) /
	       9007199254740992.0;
}

static double model(double s, double k, double n)
{
	return n / (1 + s * (n - 1) + k * n * (n - 1));
}

static void make_points(double s, double k, const double *n, double *x,
			size_t m, double noise)
{
	for (size_t i = 0; i < m; i++)
		x[i] = model(s, k, n[i]) *
		       (1 + noise * (2 * rng_uniform() - 1));
}

static void test_exact_recovery(void **state)
{
	(void)state;
	double n[] = {1, 2, 4, 8, 16, 32}, x[6];
	make_points(0.05, 0.002, n, x, 6, 0);
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 6, &f, &e), 0);
	assert_true(fabs(f.sigma - 0.05) < 1e-6);
	assert_true(fabs(f.kappa - 0.002) < 1e-7);
	assert_true(f.r2 > 0.999999);
	assert_true(fabs(f.peak_n - sqrt(0.95 / 0.002)) < 1e-3);
	assert_true(fabs(f.peak_x - model(0.05, 0.002, f.peak_n)) < 1e-9);
}

static void test_noisy_recovery(void **state)
{
	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	double n[] = {1, 2, 3, 4, 6, 8, 12, 16}, x[8];
	/* 1 % noise on X moves the parameters by about that fraction of
	 * their own effect; the bounds below allow several times that. */
	make_points(0.10, 0.01, n, x, 8, 0.01);
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 8, &f, &e), 0);
	assert_true(fabs(f.sigma - 0.10) < 0.03);
	assert_true(fabs(f.kappa - 0.01) < 0.003);
	double peak = sqrt(0.9 / 0.01);
	assert_true(fabs(f.peak_n - peak) < 0.2 * peak);
	assert_true(f.r2 > 0.98);
}

static void test_amdahl_no_peak(void **state)
{
	(void)state;
	double n[] = {1, 2, 4, 8}, x[4];
	make_points(0.05, 0, n, x, 4, 0);
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 4, &f, &e), 0);
	assert_true(fabs(f.sigma - 0.05) < 1e-6);
	assert_true(f.kappa < 1e-9);
	char s[256];
	if (f.kappa == 0) {
		assert_true(isinf(f.peak_n));
		assert_true(fabs(f.peak_x - 20) < 1e-3);
	}
	usl_describe(&f, 8, 0, s, sizeof s);
	assert_non_null(strstr(s, "no peak within reach"));
	assert_non_null(strstr(s, "sigma=0.05"));
	assert_non_null(strstr(s, "20x"));
}

static void test_retrograde_sentence(void **state)
{
	(void)state;
	double n[] = {1, 2, 3, 4, 6}, x[5];
	make_points(0.3, 0.1, n, x, 5, 0);
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 5, &f, &e), 0);
	assert_true(fabs(f.peak_n - sqrt(0.7 / 0.1)) < 1e-3);
	char s[256];
	usl_describe(&f, 6, 0, s, sizeof s);
	assert_non_null(strstr(s, "throughput peaks near 3 workers"));
	assert_non_null(strstr(s, "each worker makes it slower"));
}

static void test_slower_from_the_start(void **state)
{
	(void)state;
	/* The traced build of story 1: 29.4 s at 1 worker, 190.9 s at 4. */
	double n[] = {1, 2, 4}, x[] = {1, 29.4 / 80.0, 29.4 / 190.9};
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 3, &f, &e), 0);
	char s[256];
	usl_describe(&f, 4, 0, s, sizeof s);
	assert_non_null(strstr(s, "no speedup at all"));
}

static void test_superlinear_clamps_to_zero(void **state)
{
	(void)state;
	/* Faster than ideal would need negative sigma/kappa: the bounds hold. */
	double n[] = {1, 2, 4}, x[] = {1, 2.2, 4.8};
	struct usl_fit f;
	errbuf e;
	assert_int_equal(usl_fit(n, x, 3, &f, &e), 0);
	assert_true(f.sigma == 0 && f.kappa == 0);
	assert_true(isinf(f.peak_n));
	char s[256];
	usl_describe(&f, 4, 0, s, sizeof s);
	/* three points: no claim of linear scaling either */
	assert_non_null(strstr(s, "3 worker counts fit any two-parameter curve"));
	assert_null(strstr(s, "linearly"));
}

static void test_bad_input(void **state)
{
	(void)state;
	struct usl_fit f;
	errbuf e;
	double n2[] = {1, 2}, x2[] = {1, 1.9};
	assert_int_equal(usl_fit(n2, x2, 2, &f, &e), -1);
	assert_non_null(strstr(e.msg, "3 or more"));
	double nd[] = {1, 2, 2}, xd[] = {1, 1.9, 1.8};
	assert_int_equal(usl_fit(nd, xd, 3, &f, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	double nz[] = {1, 2, 4}, xz[] = {1, 0, 2};
	assert_int_equal(usl_fit(nz, xz, 3, &f, &e), -1);
	double nn[] = {1, 2, 4}, xn[] = {1, NAN, 2};
	assert_int_equal(usl_fit(nn, xn, 3, &f, &e), -1);
	double n0[] = {0, 2, 4}, x0[] = {1, 1, 2};
	assert_int_equal(usl_fit(n0, x0, 3, &f, &e), -1);
}

static json_t *config(const char *pool, const char *start, int workers,
		      double wall, const char *status)
{
	char id[128];
	snprintf(id, sizeof id, "cf/release/%s/w%d", pool, workers);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:s, s:[]}",
			      "id", id, "workload", "cf", "build", "release",
			      "pool", pool, "workers", workers,
			      "median_wall_s", wall, "status", status, "reps");
	if (start)
		json_object_set_new(c, "start", json_string(start));
	return c;
}

static json_t *find_series(json_t *fits, const char *key)
{
	json_t *f;
	size_t i;
	json_array_foreach(fits, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "series")),
			    key))
			return f;
	return NULL;
}

static void test_document_series(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s, s:{}, s:[]}", "schema",
				"contend-results/1", "context", "configs");
	json_t *cs = json_object_get(doc, "configs");
	int ws[] = {1, 2, 4, 8};
	for (int i = 0; i < 4; i++) /* T(N) = T(1) / X(N) */
		json_array_append_new(cs, config("thread", NULL, ws[i],
						 10.0 / model(0.2, 0.02, ws[i]),
						 "ok"));
	json_array_append_new(cs, config("thread", NULL, 16, 99, "crashed"));
	json_array_append_new(cs, config("process", "fork", 1, 10, "ok"));
	json_array_append_new(cs, config("process", "fork", 2, 6, "ok"));
	json_array_append_new(cs, config("process", "spawn", 2, 6, "ok"));
	json_array_append_new(cs, config("process", "spawn", 4, 4, "ok"));
	json_array_append_new(cs, config("process", "spawn", 8, 3, "ok"));
	json_t *fits = usl_fit_document(doc);
	assert_int_equal(json_array_size(fits), 3);

	json_t *t = find_series(fits, "cf/release/thread");
	assert_non_null(t);
	assert_true(json_is_true(json_object_get(t, "fitted")));
	assert_true(fabs(json_real_value(json_object_get(t, "sigma")) - 0.2) <
		    1e-5);
	assert_true(fabs(json_real_value(json_object_get(t, "kappa")) - 0.02) <
		    1e-6);
	double peak = json_real_value(json_object_get(t, "peak_workers"));
	assert_true(fabs(peak - sqrt(0.8 / 0.02)) < 1e-2);
	assert_int_equal(json_integer_value(json_object_get(t, "points")), 4);

	json_t *f = find_series(fits, "cf/release/process start=fork");
	assert_non_null(f);
	assert_true(json_is_false(json_object_get(f, "fitted")));
	assert_non_null(strstr(json_string_value(json_object_get(f, "reason")),
			       "2 worker counts"));
	assert_string_equal(json_string_value(json_object_get(f, "start")),
			    "fork");

	json_t *s = find_series(fits, "cf/release/process start=spawn");
	assert_non_null(s);
	assert_true(json_is_false(json_object_get(s, "fitted")));
	assert_non_null(strstr(json_string_value(json_object_get(s, "reason")),
			       "1-worker"));
	json_decref(fits);
	json_decref(doc);
}

static void test_document_malformed(void **state)
{
	(void)state;
	/* No configs, configs of the wrong type: empty fits, no crash. */
	json_t *doc = json_pack("{s:s}", "schema", "contend-results/1");
	json_t *fits = usl_fit_document(doc);
	assert_int_equal(json_array_size(fits), 0);
	json_decref(fits);
	json_object_set_new(doc, "configs", json_pack("[i, s, {}]", 1, "x"));
	fits = usl_fit_document(doc);
	assert_int_equal(json_array_size(fits), 0);
	json_decref(fits);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_recovery),
		cmocka_unit_test(test_noisy_recovery),
		cmocka_unit_test(test_amdahl_no_peak),
		cmocka_unit_test(test_retrograde_sentence),
		cmocka_unit_test(test_slower_from_the_start),
		cmocka_unit_test(test_superlinear_clamps_to_zero),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_document_series),
		cmocka_unit_test(test_document_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
