/* test_causal_forest.c - the causal-forest workload learns the effect it
 * was given, is deterministic whatever order or thread runs its tasks,
 * keeps its leaf-size rules, and rejects bad params by name. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/causal_forest.h"

static const struct workload_ops *W = &workload_causal_forest;

/* A small job keeps the determinism tests quick; size is not the point. */
#define SMALL "trees=12,rows=3000"
#define NT 12

static void *setup_or_fail(const char *text)
{
	struct params p;
	errbuf e = {{0}};
	void *ctx = NULL;
	if (params_parse(W->params, text, &p, &e) < 0)
		fail_msg("params_parse(%s): %s", text, e.msg);
	if (W->setup(&p, &ctx, &e) < 0)
		fail_msg("setup(%s): %s", text, e.msg);
	return ctx;
}

static uint64_t run_in_order(void *ctx, const size_t *order,
			     struct task_result *res)
{
	size_t n = W->ntasks(ctx);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(W->run_task(ctx, order[k], &res[order[k]]), 0);
	return W->checksum(ctx, res, n);
}

static double pearson(const double *a, const double *b, size_t n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	for (size_t i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= (double)n;
	mb /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return sab / sqrt(saa * sbb);
}

/* The default-size forest recovers tau(x) on rows it never saw. */
static void test_cate_correlates_with_true_tau(void **state)
{
	(void)state;
	struct cf_config c;
	struct cf_data train, held;
	struct cf_forest f;
	errbuf e;
	cf_config_default(&c);
	assert_int_equal(cf_data_make(&train, 12000, 10, c.seed, &e), 0);
	assert_int_equal(cf_data_make(&held, 2000, 10, c.seed + 1000, &e), 0);
	assert_int_equal(cf_forest_fit(&train, &c, 50, &f, &e), 0);
	assert_int_equal(f.n, 50);
	double *pred = malloc(held.n * sizeof *pred);
	assert_non_null(pred);
	assert_int_equal(cf_forest_predict(&f, &held, pred, &e), 0);
	double r = pearson(pred, held.tau, held.n);
	print_message("held-out corr(pred, tau) = %.3f\n", r);
	assert_true(r > 0.8);
	/* and not by luck of the baseline: y alone tracks tau far less */
	assert_true(fabs(pearson(held.y, held.tau, held.n)) < r);
	free(pred);
	cf_forest_free(&f);
	cf_data_free(&held);
	cf_data_free(&train);
}

static void test_checksum_independent_of_order(void **state)
{
	(void)state;
	void *ctx = setup_or_fail(SMALL);
	size_t n = W->ntasks(ctx);
	assert_int_equal(n, NT);
	size_t fwd[NT], rev[NT], odd[NT];
	for (size_t i = 0; i < NT; i++) {
		fwd[i] = i;
		rev[i] = n - 1 - i;
		odd[i] = (i * 5) % n; /* 5 is coprime to 12: a permutation */
	}
	struct task_result a[NT], b[NT], c[NT];
	uint64_t ha = run_in_order(ctx, fwd, a);
	uint64_t hb = run_in_order(ctx, rev, b);
	uint64_t hc = run_in_order(ctx, odd, c);
	assert_true(ha == hb);
	assert_true(ha == hc);
	for (size_t i = 0; i < n; i++) {
		assert_true(a[i].hash == b[i].hash);
		assert_true(a[i].value == c[i].value);
		assert_true(a[i].value >= 1);
	}
	/* different bootstrap samples make different trees */
	assert_true(a[0].hash != a[1].hash);
	W->teardown(ctx);
}

struct pool {
	void *ctx;
	size_t n;
	atomic_size_t next;
	struct task_result *res;
	atomic_int failures;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			return NULL;
		if (W->run_task(p->ctx, i, &p->res[i]) < 0)
			atomic_fetch_add(&p->failures, 1);
	}
}

/* Several threads call run_task on one ctx at once. */
static void test_checksum_same_from_threads(void **state)
{
	(void)state;
	void *ctx = setup_or_fail(SMALL);
	size_t n = W->ntasks(ctx), order[NT];
	assert_int_equal(n, NT);
	for (size_t i = 0; i < NT; i++)
		order[i] = i;
	struct task_result serial[NT], par[NT];
	uint64_t want = run_in_order(ctx, order, serial);
	for (int rep = 0; rep < 2; rep++) {
		struct pool p = {.ctx = ctx, .n = n, .res = par};
		atomic_init(&p.next, 0);
		atomic_init(&p.failures, 0);
		memset(par, 0, sizeof par);
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			assert_int_equal(pthread_create(&th[t], NULL, worker, &p),
					 0);
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		assert_int_equal(atomic_load(&p.failures), 0);
		assert_true(W->checksum(ctx, par, n) == want);
	}
	W->teardown(ctx);
}

static uint64_t checksum_of(const char *text)
{
	void *ctx = setup_or_fail(text);
	size_t n = W->ntasks(ctx), order[64];
	struct task_result res[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	uint64_t h = run_in_order(ctx, order, res);
	W->teardown(ctx);
	return h;
}

static void test_seed_changes_checksum(void **state)
{
	(void)state;
	uint64_t a = checksum_of(SMALL ",seed=1");
	uint64_t b = checksum_of(SMALL ",seed=2");
	uint64_t a2 = checksum_of(SMALL ",seed=1");
	assert_true(a != b);
	assert_true(a == a2);
	/* the tree-shaping params reach the trees too */
	assert_true(checksum_of(SMALL ",seed=1,min_leaf=40") != a);
	assert_true(checksum_of(SMALL ",seed=1,penalty=0") != a);
}

static void expect_rejected(const char *text, const char *name)
{
	struct params p;
	errbuf e = {{0}};
	void *ctx = NULL;
	int rc = params_parse(W->params, text, &p, &e);
	if (rc == 0)
		rc = W->setup(&p, &ctx, &e);
	if (rc == 0) {
		W->teardown(ctx);
		fail_msg("'%s' was accepted", text);
	}
	assert_null(ctx);
	if (!strstr(e.msg, name))
		fail_msg("'%s': error '%s' does not name %s", text, e.msg, name);
}

static void test_bad_params_rejected(void **state)
{
	(void)state;
	expect_rejected("rows=0", "rows");
	expect_rejected("rows=-5", "rows");
	expect_rejected("rows=100,min_leaf=500", "min_leaf");
	expect_rejected("rows=100,min_leaf=51", "min_leaf");
	expect_rejected("features=0", "features");
	expect_rejected("features=1", "features");
	expect_rejected("trees=0", "trees");
	expect_rejected("rows=abc", "rows");
	expect_rejected("trees=12x", "trees");
	expect_rejected("min_leaf=", "min_leaf");
	expect_rejected("min_group=20,min_leaf=10", "min_group");
	expect_rejected("honesty=1.5", "honesty");
	expect_rejected("honesty=half", "honesty");
	expect_rejected("penalty=2", "penalty");
	expect_rejected("depth=-1", "depth");
	expect_rejected("seed=-1", "seed");
	expect_rejected("rows=10000000,features=1000", "rows");
}

/* Every leaf keeps min_leaf splitting samples and min_group of each arm;
 * children partition their parent; thresholds separate the rows. */
static void check_tree(const struct cf_tree *t, const struct cf_config *c)
{
	size_t leaves = 0;
	assert_true(t->n_nodes >= 1);
	for (size_t k = 0; k < t->n_nodes; k++) {
		const struct cf_node *nd = &t->nodes[k];
		assert_int_equal(nd->n_split, nd->n_split_t + nd->n_split_c);
		assert_true(nd->depth <= c->max_depth);
		if (nd->feature < 0) {
			leaves++;
			if (k > 0) {
				assert_true(nd->n_split >= c->min_leaf);
				assert_true(nd->n_split_t >= c->min_group);
				assert_true(nd->n_split_c >= c->min_group);
			}
			assert_true(isfinite(nd->value));
			continue;
		}
		const struct cf_node *l = &t->nodes[nd->left];
		const struct cf_node *r = &t->nodes[nd->right];
		assert_true((size_t)nd->left > k && (size_t)nd->right > k);
		assert_int_equal(l->parent, (int32_t)k);
		assert_int_equal(r->parent, (int32_t)k);
		assert_int_equal(l->n_split + r->n_split, nd->n_split);
		assert_int_equal(l->n_est_t + r->n_est_t, nd->n_est_t);
		assert_int_equal(l->n_est_c + r->n_est_c, nd->n_est_c);
	}
	assert_int_equal(leaves, t->n_leaves);
	assert_int_equal(2 * leaves - 1, t->n_nodes); /* binary tree */
}

static void test_leaves_respect_min_leaf(void **state)
{
	(void)state;
	struct cf_data d;
	errbuf e;
	assert_int_equal(cf_data_make(&d, 4000, 6, 7, &e), 0);
	size_t min_leafs[] = {10, 37, 200};
	int depths[] = {32, 32, 3};
	for (size_t i = 0; i < 3; i++) {
		struct cf_config c;
		cf_config_default(&c);
		c.min_leaf = min_leafs[i];
		c.max_depth = depths[i];
		for (size_t tree = 0; tree < 3; tree++) {
			struct cf_tree t;
			assert_int_equal(cf_tree_fit(&d, &c, tree, &t, &e), 0);
			assert_true(t.n_leaves > 1);
			check_tree(&t, &c);
			cf_tree_free(&t);
		}
	}
	cf_data_free(&d);
}

/* The same tree through the API and through run_task. */
static void test_api_matches_run_task(void **state)
{
	(void)state;
	void *ctx = setup_or_fail("trees=3,rows=2000,features=4,seed=9");
	struct task_result r;
	assert_int_equal(W->run_task(ctx, 2, &r), 0);
	assert_int_equal(W->run_task(ctx, 3, &r) < 0, 1); /* out of range */
	assert_int_equal(W->run_task(ctx, 2, &r), 0);

	struct cf_config c;
	struct cf_data d;
	struct cf_tree t;
	errbuf e;
	cf_config_default(&c);
	c.seed = 9;
	assert_int_equal(cf_data_make(&d, 2000, 4, 9, &e), 0);
	assert_int_equal(cf_tree_fit(&d, &c, 2, &t, &e), 0);
	assert_true(cf_tree_hash(&t) == r.hash);
	assert_true((double)t.n_leaves == r.value);
	assert_true(t.crit_calls > t.candidates);
	cf_tree_free(&t);
	/* the forest seed, not only the data, picks each tree's sample */
	c.seed = 10;
	assert_int_equal(cf_tree_fit(&d, &c, 2, &t, &e), 0);
	assert_true(cf_tree_hash(&t) != r.hash);
	cf_tree_free(&t);
	cf_data_free(&d);
	W->teardown(ctx);
}

/* The criterion against sums computed here from the definitions. */
static void test_criterion_matches_definition(void **state)
{
	(void)state;
	struct cf_data d;
	struct cf_config cfg;
	errbuf e;
	assert_int_equal(cf_data_make(&d, 300, 2, 3, &e), 0);
	cf_config_default(&cfg);
	cfg.penalty = 0;
	cfg.min_group = 3;
	struct cf_criterion c;
	cf_criterion_setup(&c, &d, &cfg, 300, 300, 0.5);
	const uint32_t *s = d.order; /* rows sorted by x0 */
	size_t start = 40, end = 260;
	c.vt->init(&c, s, start, end);
	c.vt->reset(&c);
	int seen_invalid = 0, seen_valid = 0;
	for (size_t pos = start + 1; pos < end; pos += 7) {
		c.vt->update(&c, pos);
		double sum[2][2] = {{0}}, cnt[2][2] = {{0}};
		for (size_t k = start; k < end; k++) {
			int side = k >= pos, a = d.w[s[k]];
			sum[side][a] += d.y[s[k]];
			cnt[side][a] += 1;
		}
		int valid = 1;
		double want = 0;
		for (int side = 0; side < 2; side++) {
			if (cnt[side][0] < 3 || cnt[side][1] < 3)
				valid = 0;
			double n = cnt[side][0] + cnt[side][1];
			double tau = sum[side][1] / cnt[side][1] -
				     sum[side][0] / cnt[side][0];
			want += n * tau * tau;
		}
		assert_int_equal(!!c.vt->children_valid(&c), valid);
		if (!valid) {
			seen_invalid = 1;
			continue;
		}
		seen_valid = 1;
		double got = c.vt->proxy_impurity_improvement(&c);
		assert_true(fabs(got - want) <= 1e-9 * (1 + fabs(want)));
	}
	assert_true(seen_valid && seen_invalid);

	/* the penalty only ever lowers the score */
	double plain = c.vt->proxy_impurity_improvement(&c);
	cfg.penalty = 1;
	struct cf_criterion cp;
	cf_criterion_setup(&cp, &d, &cfg, 300, 300, 0.5);
	cp.vt->init(&cp, s, start, end);
	cp.vt->reset(&cp);
	cp.vt->update(&cp, c.pos);
	assert_true(cp.vt->proxy_impurity_improvement(&cp) < plain);

	double t1 = 0, t0 = 0, n1 = 0, n0 = 0;
	for (size_t k = start; k < end; k++) {
		if (d.w[s[k]]) {
			t1 += d.y[s[k]];
			n1++;
		} else {
			t0 += d.y[s[k]];
			n0++;
		}
	}
	assert_true(fabs(c.vt->node_value(&c) - (t1 / n1 - t0 / n0)) < 1e-9);
	cf_data_free(&d);
}

static void test_data_and_bad_shapes(void **state)
{
	(void)state;
	struct cf_data d;
	errbuf e = {{0}};
	assert_int_equal(cf_data_make(&d, 100, 1, 1, &e), -1);
	assert_true(strlen(e.msg) > 0);
	assert_int_equal(cf_data_make(&d, 0, 5, 1, &e), -1);
	assert_int_equal(cf_data_make(&d, 500, 3, 1, &e), 0);
	for (size_t f = 0; f < d.p; f++)
		for (size_t k = 1; k < d.n; k++)
			assert_true(d.x[f * d.n + d.order[f * d.n + k - 1]] <=
				    d.x[f * d.n + d.order[f * d.n + k]]);
	size_t treated = 0;
	for (size_t i = 0; i < d.n; i++) {
		treated += d.w[i];
		assert_true(d.w[i] <= 1);
		assert_true(d.tau[i] >= 1.0 && d.tau[i] <= 4.0);
	}
	assert_true(treated > 150 && treated < 350);
	cf_data_free(&d);

	struct cf_forest f = {0};
	double out;
	assert_int_equal(cf_data_make(&d, 10, 2, 1, &e), 0);
	assert_int_equal(cf_forest_predict(&f, &d, &out, &e), -1);
	cf_data_free(&d);
}

static void test_ops_table(void **state)
{
	(void)state;
	assert_string_equal(W->name, "causal-forest");
	assert_string_equal(W->value_name, "leaves");
	assert_non_null(W->describe);
	const char *keys[] = {"trees", "rows", "features", "min_leaf",
			      "depth", "seed", "honesty"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		int found = 0;
		for (const struct param_spec *s = W->params; s->name; s++)
			found |= !strcmp(s->name, keys[i]);
		if (!found)
			fail_msg("no param %s", keys[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_table),
		cmocka_unit_test(test_data_and_bad_shapes),
		cmocka_unit_test(test_criterion_matches_definition),
		cmocka_unit_test(test_bad_params_rejected),
		cmocka_unit_test(test_leaves_respect_min_leaf),
		cmocka_unit_test(test_api_matches_run_task),
		cmocka_unit_test(test_checksum_independent_of_order),
		cmocka_unit_test(test_checksum_same_from_threads),
		cmocka_unit_test(test_seed_changes_checksum),
		cmocka_unit_test(test_cate_correlates_with_true_tau),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
