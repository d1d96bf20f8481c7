/* causal_forest.h - honest causal forest (Athey & Imbens causal trees) on
 * synthetic uplift data, exposed beyond the workload ops table so tests can
 * check what it learns and micro-benchmarks can time one criterion call. */
#ifndef CONTEND_CAUSAL_FOREST_H
#define CONTEND_CAUSAL_FOREST_H

#include <stddef.h>
#include <stdint.h>

#include "bench/workload.h"
#include "common/err.h"

extern const struct workload_ops workload_causal_forest;

/* Synthetic uplift data: y = baseline(x) + w * tau(x) + N(0, 1) noise,
 * x ~ U[0,1]^p, w ~ Bernoulli(0.5). Column-major so that one feature's
 * values are contiguous, which is how split search reads them. */
struct cf_data {
	size_t n, p;
	double *x;	 /* x[f * n + i] */
	double *y;	 /* outcome */
	uint8_t *w;	 /* treatment, 0 or 1 */
	double *tau;	 /* true effect tau(x_i), for scoring only */
	uint32_t *order; /* order[f * n + k]: rows sorted by feature f */
};

/* Smallest p the data model needs (tau uses x0 and x1). */
#define CF_MIN_FEATURES 2
/* Row ids are 32-bit to keep per-feature sample arrays compact. */
#define CF_MAX_ROWS 10000000

int cf_data_make(struct cf_data *d, size_t n, size_t p, uint64_t seed,
		 errbuf *e);
void cf_data_free(struct cf_data *d);
/* The true effect at a point x with x[f * stride] = feature f:
 * 1 + 2 * sigmoid(12 * (x0 - 0.5)) + x1, in [1, 4]. */
double cf_true_tau(const double *x, size_t stride);

struct cf_config {
	size_t min_leaf;  /* splitting-half samples per child, at least */
	size_t min_group; /* treated and control samples per child, at least */
	int max_depth;
	double honesty;	  /* share of bootstrap rows that build structure */
	int penalty;	  /* 1: Athey-Imbens honest variance penalty (CT-H) */
	uint64_t seed;
};

/* Defaults of the workload's params table, for API users. */
void cf_config_default(struct cf_config *c);

struct cf_node {
	int32_t feature;   /* -1 for a leaf */
	int32_t left, right, parent; /* node indices, -1 for none */
	int32_t depth;
	double threshold;  /* x[feature] <= threshold goes left */
	double value;	   /* honest effect estimate (estimation half) */
	double split_value; /* effect on the splitting half (not honest) */
	uint32_t n_split, n_split_t, n_split_c; /* splitting-half samples */
	uint32_t n_est_t, n_est_c;		 /* estimation-half samples */
};

struct cf_tree {
	struct cf_node *nodes; /* preorder: a parent precedes its children */
	size_t n_nodes, n_leaves;
	uint64_t crit_calls; /* criterion function calls while building */
	uint64_t candidates; /* candidate splits whose criterion was updated */
};

/* Fit tree number `index` on its own bootstrap sample, which depends on
 * c->seed and index only. Reads d and c; safe to call concurrently. */
int cf_tree_fit(const struct cf_data *d, const struct cf_config *c,
		size_t index, struct cf_tree *t, errbuf *e);
void cf_tree_free(struct cf_tree *t);
/* Digest of structure, split features, threshold bits and leaf values. */
uint64_t cf_tree_hash(const struct cf_tree *t);
double cf_tree_predict(const struct cf_tree *t, const double *x,
		       size_t stride);

struct cf_forest {
	struct cf_tree *trees;
	size_t n;
};

int cf_forest_fit(const struct cf_data *d, const struct cf_config *c,
		  size_t ntrees, struct cf_forest *f, errbuf *e);
/* CATE for every row of `rows` (only x and p are read); out[rows->n]. */
int cf_forest_predict(const struct cf_forest *f, const struct cf_data *rows,
		      double *out, errbuf *e);
void cf_forest_free(struct cf_forest *f);

/* The split criterion, shaped like a Cython cdef class (sklearn/econml
 * Criterion): state plus a table of small functions that the splitter
 * calls for every candidate split. Each is noinline on purpose, so that
 * instrumentation (-finstrument-functions) sees one call per candidate. */
struct cf_arm {
	double sum, sq; /* sum of y and of y^2 */
	size_t n;
};

struct cf_criterion;

struct cf_criterion_vtable {
	/* Take the node's samples[start, end) and sum the node totals. */
	void (*init)(struct cf_criterion *c, const uint32_t *samples,
		     size_t start, size_t end);
	/* Empty left child: pos = start. */
	void (*reset)(struct cf_criterion *c);
	/* Move samples[pos, new_pos) into the left child. */
	void (*update)(struct cf_criterion *c, size_t new_pos);
	/* Both children have min_group treated and control samples. */
	int (*children_valid)(const struct cf_criterion *c);
	/* Larger is better; only comparable within one node. */
	double (*proxy_impurity_improvement)(const struct cf_criterion *c);
	/* Treated minus control mean over the node. */
	double (*node_value)(const struct cf_criterion *c);
};

struct cf_criterion {
	const struct cf_criterion_vtable *vt;
	const double *y;
	const uint8_t *w;
	const uint32_t *samples;
	size_t start, end, pos;
	size_t min_group;
	double penalty;	 /* variance penalty weight, 0 for none */
	double p_treat;	 /* treated share of the splitting half */
	struct cf_arm tot[2], left[2]; /* indexed by w */
};

/* The causal-tree (CT / CT-H) criterion. */
extern const struct cf_criterion_vtable cf_ct_criterion;

/* Ready c for d's outcomes. n_split / n_est: sizes of the two honest
 * halves (they weigh the variance penalty); p_treat: treated share. */
void cf_criterion_setup(struct cf_criterion *c, const struct cf_data *d,
			const struct cf_config *cfg, double n_split,
			double n_est, double p_treat);

#endif
