/* bench_causal_forest.c - speed of the causal-forest workload: the default
 * job single-threaded (target: at most 1.3 s), how many criterion calls it
 * makes, and the cost of one per-candidate criterion call in isolation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/causal_forest.h"

#define TARGET_S 1.3

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The default job through the ops table, as the serial pool runs it. */
static int time_job(double *setup_s, double *run_s, double *leaves)
{
	const struct workload_ops *w = &workload_causal_forest;
	struct params p;
	errbuf e;
	void *ctx;
	if (params_parse(w->params, NULL, &p, &e) < 0) {
		fprintf(stderr, "params: %s\n", e.msg);
		return -1;
	}
	double t0 = now_s();
	if (w->setup(&p, &ctx, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	double t1 = now_s();
	size_t n = w->ntasks(ctx);
	*leaves = 0;
	for (size_t i = 0; i < n; i++) {
		struct task_result r = {0};
		if (w->run_task(ctx, i, &r) < 0) {
			fprintf(stderr, "task %zu failed\n", i);
			w->teardown(ctx);
			return -1;
		}
		*leaves += r.value;
	}
	*run_s = now_s() - t1;
	*setup_s = t1 - t0;
	w->teardown(ctx);
	return 0;
}

static double correlation(const double *a, const double *b, size_t n)
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

/* Criterion calls and accuracy of the default forest via the API. */
static int count_calls(void)
{
	struct cf_config c;
	struct cf_data d, held;
	struct cf_forest f;
	errbuf e;
	cf_config_default(&c);
	if (cf_data_make(&d, 12000, 10, c.seed, &e) < 0 ||
	    cf_data_make(&held, 2000, 10, c.seed + 1, &e) < 0 ||
	    cf_forest_fit(&d, &c, 50, &f, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	uint64_t calls = 0, cand = 0;
	size_t nodes = 0, leaves = 0;
	for (size_t i = 0; i < f.n; i++) {
		calls += f.trees[i].crit_calls;
		cand += f.trees[i].candidates;
		nodes += f.trees[i].n_nodes;
		leaves += f.trees[i].n_leaves;
	}
	double *pred = malloc(held.n * sizeof *pred);
	if (pred && cf_forest_predict(&f, &held, pred, &e) == 0)
		printf("held-out corr(pred, tau)    %.3f (2000 rows)\n",
		       correlation(pred, held.tau, held.n));
	printf("criterion calls per job     %llu (%.1f M)\n",
	       (unsigned long long)calls, (double)calls / 1e6);
	printf("candidate splits per job    %llu\n", (unsigned long long)cand);
	printf("each 10 ns of hook per call %.2f s more per job\n",
	       (double)calls * 10e-9);
	printf("nodes / leaves per job      %zu / %zu\n", nodes, leaves);
	free(pred);
	cf_forest_free(&f);
	cf_data_free(&held);
	cf_data_free(&d);
	return 0;
}

/* One candidate step (update by one sample + validity + proxy) on a node
 * holding every row, repeated over the whole node. */
static void time_criterion(void)
{
	struct cf_config c;
	struct cf_data d;
	errbuf e;
	cf_config_default(&c);
	if (cf_data_make(&d, 12000, 2, 7, &e) < 0)
		return;
	struct cf_criterion cr;
	cf_criterion_setup(&cr, &d, &c, (double)d.n / 2, (double)d.n / 2, 0.5);
	const struct cf_criterion_vtable *vt = cr.vt;
	int reps = 200;
	double sink = 0, t0 = now_s();
	for (int r = 0; r < reps; r++) {
		vt->init(&cr, d.order, 0, d.n);
		vt->reset(&cr);
		for (size_t p = 1; p < d.n; p++) {
			vt->update(&cr, p);
			if (vt->children_valid(&cr))
				sink += vt->proxy_impurity_improvement(&cr);
		}
	}
	double dt = now_s() - t0;
	double steps = (double)reps * (double)(d.n - 1);
	printf("criterion step (3 calls)    %.1f ns (sink %g)\n",
	       1e9 * dt / steps, sink > 0 ? 1.0 : 0.0);
	cf_data_free(&d);
}

int main(void)
{
	double setup_s, run_s = 0, best = INFINITY, leaves = 0;
	for (int rep = 0; rep < 3; rep++) {
		if (time_job(&setup_s, &run_s, &leaves) < 0)
			return 1;
		if (run_s < best)
			best = run_s;
		printf("default job rep %d            %.3f s (setup %.3f s, "
		       "%.0f leaves)\n",
		       rep, run_s, setup_s, leaves);
	}
	printf("default job best of 3       %.3f s (target <= %.1f s)\n", best,
	       TARGET_S);
	if (count_calls() < 0)
		return 1;
	time_criterion();
	return best <= TARGET_S ? 0 : 1;
}
