/* test_plan.c - the sweep's plan: the cartesian product of the dimensions,
 * narrowed by their rules, enumerated once; configs made from entries.
 * Expected counts come from arithmetic on the options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "harness/cli.h"
#include "harness/run_plan.h"

static void opts(struct sweep_opts *o, const char *pools, const char *workers,
		 const char *builds, const char *models)
{
	memset(o, 0, sizeof *o);
	o->workload = "spin";
	o->start = "spawn";
	assert_int_equal(cli_name_list("--pool", pools, NULL, o->pools, &o->npools, NULL), 0);
	assert_int_equal(cli_workers(workers, o->workers, &o->nworkers, NULL), 0);
	assert_int_equal(cli_name_list("--build", builds, NULL, o->builds, &o->nbuilds, NULL), 0);
	assert_int_equal(cli_name_list("--lock-model", models, NULL, o->lock_models,
				       &o->nlock_models, NULL), 0);
}

/* serial runs once; the lock model multiplies only instrumented builds;
 * only the process pool has a start method. */
static void test_run_plan_rules(void **state)
{
	(void)state;
	struct sweep_opts o;
	struct plan p;
	errbuf e;
	opts(&o, "serial,thread,process", "1,2,4", "release,linetrace", "gil,none");
	assert_int_equal(run_plan_build(&o, &p, &e), 0);
	size_t per_build = 1 + o.nworkers * 2;
	assert_int_equal(p.n, per_build + per_build * o.nlock_models);
	size_t serial = 0, starts = 0, models = 0;
	for (size_t i = 0; i < p.n; i++) {
		const struct plan_entry *en = plan_at(&p, i);
		const char *pool = plan_get(&p, en, "pool");
		const char *w = plan_get(&p, en, "workers");
		assert_non_null(pool);
		assert_non_null(w);
		if (!strcmp(pool, "serial")) {
			serial++;
			assert_string_equal(w, "1");
		}
		if (plan_get(&p, en, "start")) {
			starts++;
			assert_string_equal(pool, "process");
			assert_string_equal(plan_get(&p, en, "start"), "spawn");
		}
		if (plan_get(&p, en, "lock_model")) {
			models++;
			assert_string_not_equal(plan_get(&p, en, "build"), "release");
		}
		assert_null(plan_get(&p, en, "share")); /* not swept */
	}
	assert_int_equal(serial, 1 + o.nlock_models);
	assert_int_equal(starts, o.nworkers * (1 + o.nlock_models));
	assert_int_equal(models, per_build * o.nlock_models);
	/* builds vary slowest, workers fastest */
	assert_string_equal(plan_get(&p, plan_at(&p, 0), "build"), "release");
	assert_string_equal(plan_get(&p, plan_at(&p, p.n - 1), "build"), "linetrace");
	assert_string_equal(plan_get(&p, plan_at(&p, 1), "workers"), "1");
	assert_string_equal(plan_get(&p, plan_at(&p, 2), "workers"), "2");
	plan_free(&p);
}

/* A permuted order changes what plan_at gives, never the entries. */
static void test_plan_order(void **state)
{
	(void)state;
	struct sweep_opts o;
	struct plan p;
	errbuf e;
	opts(&o, "thread", "1,2,3", "release", "gil");
	assert_int_equal(run_plan_build(&o, &p, &e), 0);
	assert_int_equal(p.n, 3);
	p.order[0] = 2, p.order[2] = 0;
	assert_string_equal(plan_get(&p, plan_at(&p, 0), "workers"), "3");
	assert_string_equal(plan_get(&p, plan_entry(&p, 0), "workers"), "1");
	assert_int_equal(plan_at(&p, 0)->index, 2);
	assert_null(plan_at(&p, 3));
	plan_free(&p);
}

/* Dimensions in a group land in config[group]; integers as numbers; a
 * dimension with no values applies to no entry. */
static void test_plan_config(void **state)
{
	(void)state;
	struct plan p;
	errbuf e;
	plan_init(&p);
	int a = plan_add_dim(&p, "N", PLAN_STRING, "params", NULL, NULL, &e);
	int b = plan_add_dim(&p, "unused", PLAN_STRING, NULL, NULL, NULL, &e);
	int w = plan_add_dim(&p, "workers", PLAN_INTEGER, NULL, NULL, NULL, &e);
	assert_true(a >= 0 && b >= 0 && w >= 0);
	assert_int_equal(plan_add_dim(&p, "N", PLAN_STRING, "params", NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(plan_add_value(&p, a, "x,y", &e), 0);
	assert_int_equal(plan_add_value(&p, a, "z", &e), 0);
	assert_int_equal(plan_add_value(&p, w, "8", &e), 0);
	assert_int_equal(plan_build(&p, &e), 0);
	assert_int_equal(p.n, 2);
	json_t *c = json_object();
	plan_config(&p, plan_at(&p, 1), c);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "params"), "N")), "z");
	assert_int_equal(json_integer_value(json_object_get(c, "workers")), 8);
	assert_null(json_object_get(c, "unused"));
	assert_null(plan_get(&p, plan_at(&p, 0), "N")); /* grouped: not top level */
	json_decref(c);
	plan_free(&p);
}

/* Up to PLAN_CONFIGS_MAX configurations are built; more are refused at
 * once (17 lists of 64 values were counted for ever before). */
static void test_plan_too_big(void **state)
{
	(void)state;
	struct plan p;
	errbuf e;
	/* the plan keeps the names it is given (not copies) */
	static const char *const names[] = {"d0", "d1", "d2", "d3", "d4", "d5",
		"d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15", "d16"};
	char value[16];
	plan_init(&p);
	for (int d = 0; d < 17; d++) {
		int k = plan_add_dim(&p, names[d], PLAN_STRING, NULL, NULL, NULL, &e);
		assert_true(k >= 0);
		for (int v = 0; v < 64; v++) {
			snprintf(value, sizeof value, "v%d", v);
			assert_int_equal(plan_add_value(&p, k, value, &e), 0);
		}
	}
	assert_int_equal(plan_build(&p, &e), -1);
	assert_non_null(strstr(e.msg, "more than 100000 configurations"));
	plan_free(&p);
	/* 10^5 = PLAN_CONFIGS_MAX exactly: built */
	plan_init(&p);
	const int sizes[] = {10, 10, 10, 10, 10};
	for (int d = 0; d < 5; d++) {
		int k = plan_add_dim(&p, names[d], PLAN_STRING, NULL, NULL, NULL, &e);
		for (int v = 0; v < sizes[d]; v++) {
			snprintf(value, sizeof value, "v%d", v);
			assert_int_equal(plan_add_value(&p, k, value, &e), 0);
		}
	}
	assert_int_equal(plan_build(&p, &e), 0);
	assert_int_equal(p.n, PLAN_CONFIGS_MAX);
	plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_plan_rules),
		cmocka_unit_test(test_plan_order),
		cmocka_unit_test(test_plan_config),
		cmocka_unit_test(test_plan_too_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
