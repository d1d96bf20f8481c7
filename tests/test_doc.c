/* test_doc.c - typed reads of a results document and the one definition
 * of a configuration's series (document/doc.h), on documents made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "document/doc.h"
#include "document/groups.h"
#include "analysis/summary.h"

static void test_fields_and_defaults(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:s, s:i, s:f, s:b, s:{s:{s:f}}, s:s}", "s",
			      "x", "i", 7, "r", 2.5, "b", 1, "lock", "wait",
			      "share", 0.25, "n", "not a number");
	assert_string_equal(doc_str(o, "s", "d"), "x");
	assert_string_equal(doc_str(o, "i", "d"), "d"); /* mistyped */
	assert_null(doc_str(o, "missing", NULL));
	assert_true(doc_num(o, "i", NAN) == 7);
	assert_true(doc_num(o, "r", NAN) == 2.5);
	assert_true(isnan(doc_num(o, "n", NAN)));
	assert_true(doc_num(o, "missing", -1) == -1);
	assert_int_equal(doc_int(o, "i", 0), 7);
	assert_int_equal(doc_int(o, "r", -3), -3); /* a real is not an int */
	assert_int_equal(doc_bool(o, "b", 0), 1);
	assert_int_equal(doc_bool(o, "i", 0), 0);
	assert_true(doc_figure(o, "lock.wait.share", NAN) == 0.25);
	assert_true(isnan(doc_figure(o, "lock.none.share", NAN)));
	assert_true(doc_figure(NULL, "lock", 3) == 3);
	json_decref(o);
}

static json_t *config(const char *pool, int workers, double wall,
		      const char *trees)
{
	json_t *reps = json_pack("[{s:f, s:s}, {s:f, s:s}, {s:f, s:s}]",
				 "wall_s", wall, "status", "ok", "wall_s",
				 wall * 3, "status", "error", "wall_s",
				 wall * 1.1, "status", "ok");
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:{s:s}}", "id",
			 pool, "workload", "cf", "build", "release", "pool",
			 pool, "workers", workers, "reps", reps, "status",
			 "ok", "params", "trees", trees);
}

static void test_configs_and_reps(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s, s:{s:s}, s:[o, o]}", "schema",
				"contend-results/1", "context", "host", "h",
				"configs", config("thread", 2, 1.0, "8"),
				config("process", 4, 2.0, "8"));
	assert_string_equal(doc_str(doc_context(doc), "host", ""), "h");
	assert_int_equal(doc_nconfigs(doc), 2);
	assert_null(doc_config(doc, 2));
	json_t *c = doc_config(doc, 1), *it;
	assert_int_equal(doc_workers(c), 4);
	assert_true(doc_is_ok(c));
	assert_true(isnan(doc_median_wall(c)));
	assert_int_equal(doc_nreps(c), 3);
	double w[4];
	assert_int_equal(doc_ok_walls(c, w, 4), 2); /* the error one left out */
	assert_true(w[0] == 2.0 && fabs(w[1] - 2.2) < 1e-12);
	assert_int_equal(doc_ok_walls(c, w, 1), 1);
	size_t i, n = 0;
	doc_foreach_config(doc, i, it)
		n += doc_workers(it);
	assert_int_equal(n, 6);
	json_decref(doc);
}

static void test_series_key(void **state)
{
	(void)state;
	char k1[256], k2[256];
	json_t *a = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s}", "workload",
			      "w", "build", "b", "pool", "p", "workers", 2,
			      "zeta", "1", "alpha", "x", "id", "w/b/p/w2");
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "alpha",
			      "x", "zeta", "1", "pool", "p", "build", "b",
			      "workers", 8, "workload", "w");
	assert_int_equal(doc_series_key(a, DOC_KEY_ALL, k1, sizeof k1), 0);
	assert_int_equal(doc_series_key(b, DOC_KEY_ALL, k2, sizeof k2), 0);
	assert_string_equal(k1, k2);
	assert_string_equal(k1, "w/b/p alpha=x zeta=1");
	assert_true(doc_same_series(a, b, DOC_KEY_ALL));
	json_object_set_new(b, "inner_threads", json_integer(1));
	assert_int_equal(doc_series_key(b, DOC_KEY_ALL, k2, sizeof k2), 0);
	assert_string_not_equal(k1, k2);
	assert_false(doc_same_series(a, b, DOC_KEY_ALL));
	json_object_del(b, "pool");
	assert_int_equal(doc_series_key(b, DOC_KEY_ALL, k2, sizeof k2), -1);
	assert_false(doc_same_series(a, b, DOC_KEY_ALL));
	json_decref(a);
	json_decref(b);
}

/* An id names every dimension: the known ones in their order, then one a
 * new plan table entry adds, so configurations differing only there do
 * not share an id. */
static void test_id_names_every_dimension(void **state)
{
	(void)state;
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "workload",
			      "w", "pool", "process", "build", "release",
			      "start", "spawn", "workers", 4, "status", "ok",
			      "affinity", "compact");
	summary_set_id(c);
	assert_string_equal(doc_str(c, "id", ""),
			    "w/release/process/spawn/compact/w4");
	json_object_set_new(c, "affinity", json_string("scatter"));
	json_object_set_new(c, "numa", json_string("0"));
	summary_set_id(c);
	assert_string_equal(doc_str(c, "id", ""),
			    "w/release/process/spawn/scatter/0/w4");
	json_decref(c);
}

/* Pools share a table; builds share the builds-side-by-side note; params
 * always separate series. */
static void test_series_omit_and_params(void **state)
{
	(void)state;
	json_t *t = config("thread", 2, 1, "8"), *p = config("process", 2, 1, "8");
	json_t *q = config("process", 2, 1, "16");
	json_object_set_new(p, "start", json_string("fork"));
	assert_false(doc_same_series(t, p, DOC_KEY_ALL));
	assert_true(doc_same_series(t, p, DOC_KEY_NO_POOL));
	assert_false(doc_same_series(p, q, DOC_KEY_ALL)); /* params differ */
	assert_false(doc_same_series(p, q, DOC_KEY_NO_POOL));
	json_t *lt = config("thread", 2, 1, "8");
	json_object_set_new(lt, "build", json_string("linetrace"));
	json_object_set_new(lt, "lock_model", json_string("gil"));
	assert_false(doc_same_series(t, lt, DOC_KEY_ALL));
	assert_true(doc_same_series(t, lt, DOC_KEY_NO_BUILD));
	char k[256];
	assert_int_equal(doc_series_key(lt, DOC_KEY_NO_BUILD, k, sizeof k), 0);
	assert_string_equal(k, "cf/*/thread");
	json_decref(t);
	json_decref(p);
	json_decref(q);
	json_decref(lt);
}

/* exec's --param and --env values are dimensions: in the key (so fits
 * and history keep them apart), and left out together for a table. */
static json_t *exec_config(const char *mode, const char *blas, int workers)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:s}, s:{s:o}}",
			      "workload", "exec", "build", "release", "pool", "exec",
			      "workers", workers, "params", "command", "prog {mode}",
			      "mode", mode, "env", "OPENBLAS_NUM_THREADS",
			      blas ? json_string(blas) : json_null());
	return c;
}

static void test_series_exec_dims(void **state)
{
	(void)state;
	json_t *a = exec_config("thread", NULL, 1), *b = exec_config("thread", NULL, 4);
	json_t *c = exec_config("process", NULL, 1), *d = exec_config("thread", "1", 1);
	char k[256];
	assert_int_equal(doc_series_key(a, DOC_KEY_ALL, k, sizeof k), 0);
	assert_string_equal(k, "exec/release/exec mode=thread env.OPENBLAS_NUM_THREADS=default");
	assert_int_equal(doc_series_key(d, DOC_KEY_ALL, k, sizeof k), 0);
	assert_string_equal(k, "exec/release/exec mode=thread env.OPENBLAS_NUM_THREADS=1");
	assert_true(doc_same_series(a, b, DOC_KEY_ALL));
	assert_false(doc_same_series(a, c, DOC_KEY_ALL));
	assert_false(doc_same_series(a, d, DOC_KEY_ALL));
	assert_true(doc_same_series(a, c, DOC_KEY_NO_SWEPT));
	assert_true(doc_same_series(a, d, DOC_KEY_NO_SWEPT | DOC_KEY_NO_POOL));
	assert_int_equal(doc_series_key(c, DOC_KEY_NO_SWEPT, k, sizeof k), 0);
	assert_string_equal(k, "exec/release/exec");
	/* another command is another table */
	json_object_set_new(json_object_get(c, "params"), "command", json_string("other"));
	assert_false(doc_same_series(a, c, DOC_KEY_NO_SWEPT));
	struct doc_swept sw[4];
	assert_int_equal(doc_swept_dims(d, sw, 4), 2);
	assert_string_equal(sw[0].name, "mode");
	assert_false(sw[0].env);
	assert_string_equal(sw[1].value, "1");
	assert_true(sw[1].env);
	/* run's params are the workload's: no dimension */
	json_t *r = config("thread", 2, 1, "8");
	assert_int_equal(doc_swept_dims(r, sw, 4), 0);
	json_decref(r);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
}

/* Fits are stored once; a document without them gets them once. */
static void test_fits_stored_once(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s, s:{}, s:[o, o, o]}", "schema",
				"contend-results/1", "context", "configs",
				config("thread", 1, 4.0, "8"),
				config("thread", 2, 2.2, "8"),
				config("thread", 4, 1.4, "8"));
	json_t *c;
	size_t i;
	doc_foreach_config(doc, i, c) /* the failed repetition fails it */
		json_array_remove(json_object_get(c, "reps"), 1);
	assert_null(doc_fits(doc));
	summary_document(doc);
	json_t *fits = doc_fits(doc);
	assert_non_null(fits);
	assert_ptr_equal(summary_fits(doc), fits); /* read back, not refitted */
	json_t *f = doc_fit(doc, "cf/release/thread");
	assert_non_null(f);
	assert_true(json_is_true(json_object_get(f, "fitted")));
	assert_null(doc_fit(doc, "cf/release/process"));
	json_object_del(doc, "fits");
	fits = summary_fits(doc);
	assert_ptr_equal(fits, doc_fits(doc));
	assert_int_equal(json_array_size(fits), 1);
	json_decref(doc);
}

/* Groups come in the order of their first configuration, members in
 * document order; params separate series; a configuration without a key
 * is in no group. */
static void test_groups(void **state)
{
	(void)state;
	json_t *configs = json_pack("[o, o, o, o, o]",
				    config("thread", 2, 1, "8"),
				    config("process", 1, 1, "8"),
				    config("thread", 1, 1, "8"),
				    config("thread", 1, 1, "16"),
				    config("process", 4, 1, "8"));
	json_object_del(json_array_get(configs, 3), "pool");
	struct doc_groups g;
	assert_int_equal(doc_groups_series(configs, DOC_KEY_ALL, 1, &g), 0);
	assert_int_equal(g.ngroups, 2);
	assert_int_equal(doc_group_size(&g, 0), 2);
	assert_int_equal(doc_group_member(&g, 0, 0), 0);
	assert_int_equal(doc_group_member(&g, 0, 1), 2);
	assert_int_equal(doc_group_member(&g, 1, 0), 1);
	assert_int_equal(doc_group_member(&g, 1, 1), 4);
	assert_true(g.group_of[3] == DOC_NO_GROUP);
	doc_groups_free(&g);
	json_object_set_new(json_array_get(configs, 3), "pool", json_string("thread"));
	assert_int_equal(doc_groups_series(configs, DOC_KEY_NO_POOL, 1, &g), 0);
	assert_int_equal(g.ngroups, 2); /* the pools together; 16 apart */
	assert_int_equal(doc_group_size(&g, 0), 4);
	assert_int_equal(doc_group_member(&g, 1, 0), 3);
	doc_groups_free(&g);
	assert_int_equal(doc_groups_series(configs, DOC_KEY_ALL, 0, &g), 0);
	assert_int_equal(g.ngroups, 2); /* without params: 16 joins thread */
	assert_int_equal(doc_group_size(&g, 0), 3);
	doc_groups_free(&g);
	json_decref(configs);
}

/* Relations as the pairwise definition gave them: speedup against the
 * series' 1-worker run, slower than the next smaller worker count, in
 * any document order. */
static void test_relations_any_order(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s, s:{}, s:[o, o, o, o]}", "schema",
				"contend-results/1", "context", "configs",
				config("thread", 4, 3.0, "8"),
				config("thread", 2, 2.0, "8"),
				config("thread", 1, 4.0, "8"),
				config("thread", 2, 9.0, "16"));
	json_t *c;
	size_t i;
	doc_foreach_config(doc, i, c)
		json_array_remove(json_object_get(c, "reps"), 1);
	summary_document(doc);
	json_t *w4 = doc_config(doc, 0), *w2 = doc_config(doc, 1), *other = doc_config(doc, 3);
	assert_true(fabs(doc_num(w4, "speedup", NAN) - 4.0 / 3.0) < 1e-9);
	assert_true(fabs(doc_num(w2, "speedup", NAN) - 2.0) < 1e-9);
	json_t *slower = json_object_get(w4, "slower");
	assert_true(json_is_object(slower)); /* 3.0 s against 2.0 s */
	assert_int_equal(json_integer_value(json_object_get(slower, "than_workers")), 2);
	assert_true(json_is_null(json_object_get(w2, "slower")));
	assert_true(json_is_null(json_object_get(other, "speedup"))); /* no 1-worker run */
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_and_defaults),
		cmocka_unit_test(test_configs_and_reps),
		cmocka_unit_test(test_series_key),
		cmocka_unit_test(test_id_names_every_dimension),
		cmocka_unit_test(test_series_omit_and_params),
		cmocka_unit_test(test_series_exec_dims),
		cmocka_unit_test(test_fits_stored_once),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_relations_any_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
