/* causal_forest.c - the `causal-forest` workload: honest causal trees on
 * synthetic uplift data, one tree per task, with the split criterion behind
 * a table of small per-candidate functions as in sklearn/econml's Cython. */
#include "bench/causal_forest.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Helpers called per sample or per candidate that are not criterion
 * methods. The `linetrace` build instruments every function; exempting
 * these keeps its hooks on the criterion table (as Cython's trace hooks sit
 * on the criterion methods), so criterion calls counted here are the hook
 * calls there. */
#define CF_UNTRACED __attribute__((no_instrument_function))

/* ---- deterministic random numbers (splitmix64 seeds xoshiro256**) ---- */

struct rng {
	uint64_t s[4];
};

CF_UNTRACED static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

CF_UNTRACED static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

CF_UNTRACED static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1) with 53 random bits. */
CF_UNTRACED static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n) by multiply-high: no modulo bias worth caring about
 * and no division. */
CF_UNTRACED static size_t rng_below(struct rng *r, size_t n)
{
	return (size_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Standard normal by Box-Muller; one value per call keeps the stream
 * independent of how many values a caller takes. */
static double rng_normal(struct rng *r)
{
	double u = 1.0 - rng_unit(r), v = rng_unit(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* A tree's stream depends on the seed and its index only, never on which
 * worker runs it. */
static uint64_t tree_seed(uint64_t seed, size_t index)
{
	uint64_t x = seed ^ 0x5bd1e9955bd1e995ULL;
	uint64_t a = splitmix64(&x);
	x = a + (uint64_t)index * 0xd6e8feb86659fd93ULL;
	return splitmix64(&x);
}

/* ---- synthetic uplift data ---- */

static double sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

double cf_true_tau(const double *x, size_t stride)
{
	return 1.0 + 2.0 * sigmoid(12.0 * (x[0] - 0.5)) + x[stride];
}

/* The baseline uses features 2..5 when they exist (wrapping otherwise), so
 * with the default 10 features it is confounding noise the tree must not
 * mistake for effect heterogeneity. */
static double baseline(const double *x, size_t stride, size_t p)
{
	double a = x[(2 % p) * stride], b = x[(3 % p) * stride];
	double c = x[(4 % p) * stride], d = x[(5 % p) * stride];
	return 3.0 * sin(M_PI * a * b) + 2.0 * (c - 0.5) * (c - 0.5) + d;
}

struct keyed {
	double v;
	uint32_t row;
};

CF_UNTRACED static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return (a->row > b->row) - (a->row < b->row);
}

/* Sort rows by each feature once; every tree then walks these orders
 * instead of sorting at each node. */
static int presort(struct cf_data *d, errbuf *e)
{
	struct keyed *k = malloc(d->n * sizeof *k);
	if (!k)
		return errf(e, "causal-forest: out of memory presorting %zu rows",
			    d->n);
	for (size_t f = 0; f < d->p; f++) {
		for (size_t i = 0; i < d->n; i++)
			k[i] = (struct keyed){d->x[f * d->n + i], (uint32_t)i};
		qsort(k, d->n, sizeof *k, cmp_keyed);
		for (size_t i = 0; i < d->n; i++)
			d->order[f * d->n + i] = k[i].row;
	}
	free(k);
	return 0;
}

int cf_data_make(struct cf_data *d, size_t n, size_t p, uint64_t seed,
		 errbuf *e)
{
	memset(d, 0, sizeof *d);
	if (n < 1 || n > CF_MAX_ROWS || p < CF_MIN_FEATURES)
		return errf(e, "causal-forest: bad data shape %zu x %zu", n, p);
	d->n = n;
	d->p = p;
	d->x = malloc(n * p * sizeof *d->x);
	d->y = malloc(n * sizeof *d->y);
	d->w = malloc(n * sizeof *d->w);
	d->tau = malloc(n * sizeof *d->tau);
	d->order = malloc(n * p * sizeof *d->order);
	if (!d->x || !d->y || !d->w || !d->tau || !d->order) {
		cf_data_free(d);
		return errf(e, "causal-forest: out of memory for %zu x %zu data",
			    n, p);
	}
	struct rng r;
	rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < p; f++)
			d->x[f * n + i] = rng_unit(&r);
		d->w[i] = (uint8_t)(rng_next(&r) >> 63);
		d->tau[i] = cf_true_tau(d->x + i, n);
		d->y[i] = baseline(d->x + i, n, p) + d->w[i] * d->tau[i] +
			  rng_normal(&r);
	}
	if (presort(d, e) < 0) {
		cf_data_free(d);
		return -1;
	}
	return 0;
}

void cf_data_free(struct cf_data *d)
{
	free(d->x);
	free(d->y);
	free(d->w);
	free(d->tau);
	free(d->order);
	memset(d, 0, sizeof *d);
}

void cf_config_default(struct cf_config *c)
{
	c->min_leaf = 10;
	c->min_group = 5;
	c->max_depth = 32;
	c->honesty = 0.5;
	c->penalty = 1;
	c->seed = 42;
}

/* ---- the causal-tree criterion (per-candidate hot functions) ---- */

CF_UNTRACED static void arm_add(struct cf_arm *a, double y)
{
	a->sum += y;
	a->sq += y * y;
	a->n++;
}

__attribute__((noinline)) static void ct_init(struct cf_criterion *c,
					      const uint32_t *samples,
					      size_t start, size_t end)
{
	c->samples = samples;
	c->start = c->pos = start;
	c->end = end;
	memset(c->tot, 0, sizeof c->tot);
	memset(c->left, 0, sizeof c->left);
	for (size_t i = start; i < end; i++) {
		uint32_t r = samples[i];
		arm_add(&c->tot[c->w[r]], c->y[r]);
	}
}

__attribute__((noinline)) static void ct_reset(struct cf_criterion *c)
{
	c->pos = c->start;
	memset(c->left, 0, sizeof c->left);
}

__attribute__((noinline)) static void ct_update(struct cf_criterion *c,
						size_t new_pos)
{
	const uint32_t *s = c->samples;
	for (size_t i = c->pos; i < new_pos; i++)
		arm_add(&c->left[c->w[s[i]]], c->y[s[i]]);
	c->pos = new_pos;
}

__attribute__((noinline)) static int
ct_children_valid(const struct cf_criterion *c)
{
	size_t g = c->min_group;
	return c->left[0].n >= g && c->left[1].n >= g &&
	       c->tot[0].n - c->left[0].n >= g &&
	       c->tot[1].n - c->left[1].n >= g;
}

/* Within-arm variance; arms here always hold min_group >= 1 samples. */
CF_UNTRACED static double arm_var(double sum, double sq, double n)
{
	double m = sum / n, v = sq / n - m * m;
	return v > 0.0 ? v : 0.0;
}

/* One child's share of Athey & Imbens' -EMSE (scaled by N_split):
 * n * tau^2 minus the honest variance term
 * (1 + N_split/N_est) * (S2_treated/p + S2_control/(1-p)). */
CF_UNTRACED static double child_score(const struct cf_criterion *c,
				      double st, double qt, double nt,
				      double sc, double qc, double nc)
{
	double tau = st / nt - sc / nc, score = (nt + nc) * tau * tau;
	if (c->penalty > 0.0)
		score -= c->penalty * (arm_var(st, qt, nt) / c->p_treat +
				       arm_var(sc, qc, nc) / (1.0 - c->p_treat));
	return score;
}

__attribute__((noinline)) static double
ct_proxy_impurity_improvement(const struct cf_criterion *c)
{
	const struct cf_arm *lt = &c->left[1], *lc = &c->left[0];
	const struct cf_arm *tt = &c->tot[1], *tc = &c->tot[0];
	double left = child_score(c, lt->sum, lt->sq, (double)lt->n, lc->sum,
				  lc->sq, (double)lc->n);
	double right = child_score(c, tt->sum - lt->sum, tt->sq - lt->sq,
				   (double)(tt->n - lt->n), tc->sum - lc->sum,
				   tc->sq - lc->sq, (double)(tc->n - lc->n));
	return left + right;
}

__attribute__((noinline)) static double
ct_node_value(const struct cf_criterion *c)
{
	if (!c->tot[0].n || !c->tot[1].n)
		return 0.0;
	return c->tot[1].sum / (double)c->tot[1].n -
	       c->tot[0].sum / (double)c->tot[0].n;
}

const struct cf_criterion_vtable cf_ct_criterion = {
	.init = ct_init,
	.reset = ct_reset,
	.update = ct_update,
	.children_valid = ct_children_valid,
	.proxy_impurity_improvement = ct_proxy_impurity_improvement,
	.node_value = ct_node_value,
};

void cf_criterion_setup(struct cf_criterion *c, const struct cf_data *d,
			const struct cf_config *cfg, double n_split,
			double n_est, double p_treat)
{
	memset(c, 0, sizeof *c);
	c->vt = &cf_ct_criterion;
	c->y = d->y;
	c->w = d->w;
	c->min_group = cfg->min_group ? cfg->min_group : 1;
	c->penalty = cfg->penalty && n_est > 0 ? 1.0 + n_split / n_est : 0.0;
	c->p_treat = p_treat > 0.0 && p_treat < 1.0 ? p_treat : 0.5;
}

/* ---- one honest tree ---- */

/* Per-task scratch: everything a tree build writes lives here. */
struct builder {
	const struct cf_data *d;
	const struct cf_config *cfg;
	struct cf_criterion crit;
	uint32_t *counts;    /* bootstrap multiplicity per row */
	uint8_t *in_split;   /* 1: row belongs to the splitting half */
	uint8_t *goes_left;  /* per row, for the node being partitioned */
	uint32_t *sorted;    /* sorted[f * m + k]: splitting samples by f */
	uint32_t *tmp;	     /* partition buffer, m entries */
	size_t m;	     /* splitting-half samples (with multiplicity) */
	struct cf_node *nodes;
	size_t n_nodes, cap;
	uint64_t calls, candidates;
};

struct split {
	double score;
	size_t feature, pos;
	double threshold;
	int found;
};

static void builder_free(struct builder *b)
{
	free(b->counts);
	free(b->in_split);
	free(b->goes_left);
	free(b->sorted);
	free(b->tmp);
	free(b->nodes);
}

/* Bootstrap n draws, then give each drawn row (all its copies) to one
 * half, so no row informs both the structure and the leaf values. */
static void draw_sample(struct builder *b, size_t index)
{
	size_t n = b->d->n;
	struct rng r;
	rng_seed(&r, tree_seed(b->cfg->seed, index));
	for (size_t k = 0; k < n; k++)
		b->counts[rng_below(&r, n)]++;
	b->m = 0;
	for (size_t i = 0; i < n; i++) {
		b->in_split[i] = rng_unit(&r) < b->cfg->honesty;
		if (b->in_split[i])
			b->m += b->counts[i];
	}
}

/* Walk the global presorted order per feature, emitting each splitting
 * row as many times as it was drawn: sorted without sorting. */
static void emit_sorted(struct builder *b)
{
	size_t n = b->d->n;
	for (size_t f = 0; f < b->d->p; f++) {
		const uint32_t *ord = b->d->order + f * n;
		uint32_t *out = b->sorted + f * b->m;
		size_t k = 0;
		for (size_t j = 0; j < n; j++) {
			uint32_t r = ord[j];
			if (!b->in_split[r])
				continue;
			for (uint32_t c = 0; c < b->counts[r]; c++)
				out[k++] = r;
		}
	}
}

static int builder_init(struct builder *b, const struct cf_data *d,
			const struct cf_config *cfg, size_t index, errbuf *e)
{
	memset(b, 0, sizeof *b);
	b->d = d;
	b->cfg = cfg;
	b->counts = calloc(d->n, sizeof *b->counts);
	b->in_split = malloc(d->n);
	b->goes_left = malloc(d->n);
	if (!b->counts || !b->in_split || !b->goes_left)
		goto oom;
	draw_sample(b, index);
	b->sorted = malloc((b->m ? b->m : 1) * d->p * sizeof *b->sorted);
	b->tmp = malloc((b->m ? b->m : 1) * sizeof *b->tmp);
	if (!b->sorted || !b->tmp)
		goto oom;
	emit_sorted(b);
	size_t treated = 0;
	for (size_t k = 0; k < b->m; k++)
		treated += d->w[b->sorted[k]];
	double p_treat = b->m ? (double)treated / (double)b->m : 0.5;
	cf_criterion_setup(&b->crit, d, cfg, (double)b->m,
			   (double)(d->n - b->m), p_treat);
	return 0;
oom:
	builder_free(b);
	return errf(e, "causal-forest: out of memory building a tree on %zu rows",
		    d->n);
}

static int32_t new_node(struct builder *b, int32_t parent, int depth)
{
	if (b->n_nodes == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct cf_node *nn = realloc(b->nodes, cap * sizeof *nn);
		if (!nn)
			return -1;
		b->nodes = nn;
		b->cap = cap;
	}
	struct cf_node *nd = &b->nodes[b->n_nodes];
	memset(nd, 0, sizeof *nd);
	nd->feature = nd->left = nd->right = -1;
	nd->parent = parent;
	nd->depth = depth;
	return (int32_t)b->n_nodes++;
}

/* sklearn's midpoint rule, falling back to the lower value when the
 * midpoint rounds up onto the upper one. */
CF_UNTRACED static double midpoint(double lo, double hi)
{
	double t = lo / 2.0 + hi / 2.0;
	return (t == hi || isinf(t)) ? lo : t;
}

/* Scan one feature's candidate positions in the node. The criterion is
 * called per candidate through its table, as the Cython splitter does. */
static void search_feature(struct builder *b, size_t f, size_t start,
			   size_t end, struct split *best)
{
	struct cf_criterion *c = &b->crit;
	const struct cf_criterion_vtable *vt = c->vt;
	const uint32_t *s = b->sorted + f * b->m;
	const double *x = b->d->x + f * b->d->n;
	size_t lo = start + b->cfg->min_leaf, hi = end - b->cfg->min_leaf;
	uint64_t calls = 1, cand = 0;

	c->samples = s;
	vt->reset(c);
	for (size_t p = lo; p <= hi; p++) {
		double xl = x[s[p - 1]], xr = x[s[p]];
		if (xr <= xl)
			continue; /* a tie cannot be split */
		vt->update(c, p);
		cand++;
		calls += 2;
		if (!vt->children_valid(c))
			continue;
		calls++;
		double v = vt->proxy_impurity_improvement(c);
		if (!best->found || v > best->score) {
			*best = (struct split){v, f, p, midpoint(xl, xr), 1};
		}
	}
	b->calls += calls;
	b->candidates += cand;
}

/* Move the node's rows, in every feature's order, to left then right
 * while keeping each side sorted. */
static void partition(struct builder *b, const struct split *sp,
		      size_t start, size_t end)
{
	const uint32_t *sb = b->sorted + sp->feature * b->m;
	for (size_t k = start; k < end; k++)
		b->goes_left[sb[k]] = k < sp->pos;
	for (size_t f = 0; f < b->d->p; f++) {
		if (f == sp->feature)
			continue;
		uint32_t *s = b->sorted + f * b->m;
		size_t l = start, r = 0;
		for (size_t k = start; k < end; k++) {
			if (b->goes_left[s[k]])
				s[l++] = s[k];
			else
				b->tmp[r++] = s[k];
		}
		memcpy(s + l, b->tmp, r * sizeof *s);
	}
}

static int is_leaf_node(const struct builder *b, size_t n, int depth)
{
	const struct cf_criterion *c = &b->crit;
	size_t g = c->min_group;
	return depth >= b->cfg->max_depth || n < 2 * b->cfg->min_leaf ||
	       c->tot[0].n < 2 * g || c->tot[1].n < 2 * g;
}

static int32_t build(struct builder *b, size_t start, size_t end, int depth,
		     int32_t parent)
{
	int32_t id = new_node(b, parent, depth);
	if (id < 0)
		return -1;
	struct cf_criterion *c = &b->crit;
	c->vt->init(c, b->sorted, start, end);
	b->calls += 2;
	struct cf_node *nd = &b->nodes[id];
	nd->split_value = nd->value = c->vt->node_value(c);
	nd->n_split = (uint32_t)(end - start);
	nd->n_split_t = (uint32_t)c->tot[1].n;
	nd->n_split_c = (uint32_t)c->tot[0].n;

	struct split best = {0};
	if (!is_leaf_node(b, end - start, depth))
		for (size_t f = 0; f < b->d->p; f++)
			search_feature(b, f, start, end, &best);
	if (!best.found)
		return id;
	partition(b, &best, start, end);
	int32_t l = build(b, start, best.pos, depth + 1, id);
	int32_t r = l < 0 ? -1 : build(b, best.pos, end, depth + 1, id);
	if (r < 0)
		return -1;
	nd = &b->nodes[id]; /* the array may have moved */
	nd->feature = (int32_t)best.feature;
	nd->threshold = best.threshold;
	nd->left = l;
	nd->right = r;
	return id;
}

static int32_t leaf_of(const struct cf_node *nodes, const double *x,
		       size_t stride)
{
	int32_t k = 0;
	while (nodes[k].feature >= 0)
		k = x[(size_t)nodes[k].feature * stride] <= nodes[k].threshold
			    ? nodes[k].left
			    : nodes[k].right;
	return k;
}

/* Honest leaf values: route the estimation half down the finished tree,
 * summing per arm at every node on the path; a node with too few treated
 * or control estimation samples inherits its parent's value. */
static int estimate(struct builder *b)
{
	const struct cf_data *d = b->d;
	double *sum = calloc(2 * b->n_nodes, sizeof *sum);
	if (!sum)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		if (!b->counts[i] || b->in_split[i])
			continue;
		double y = d->y[i] * b->counts[i];
		int a = d->w[i];
		int32_t k = 0;
		for (;;) {
			struct cf_node *nd = &b->nodes[k];
			sum[2 * k + a] += y;
			if (a)
				nd->n_est_t += b->counts[i];
			else
				nd->n_est_c += b->counts[i];
			if (nd->feature < 0)
				break;
			k = d->x[(size_t)nd->feature * d->n + i] <= nd->threshold
				    ? nd->left
				    : nd->right;
		}
	}
	for (size_t k = 0; k < b->n_nodes; k++) {
		struct cf_node *nd = &b->nodes[k];
		if (nd->n_est_t >= b->crit.min_group &&
		    nd->n_est_c >= b->crit.min_group)
			nd->value = sum[2 * k + 1] / nd->n_est_t -
				    sum[2 * k] / nd->n_est_c;
		else if (nd->parent >= 0)
			nd->value = b->nodes[nd->parent].value;
	}
	free(sum);
	return 0;
}

int cf_tree_fit(const struct cf_data *d, const struct cf_config *c,
		size_t index, struct cf_tree *t, errbuf *e)
{
	memset(t, 0, sizeof *t);
	if (c->min_leaf < 1 || c->max_depth < 0 || !(c->honesty > 0.0) ||
	    !(c->honesty < 1.0))
		return errf(e, "causal-forest: bad tree configuration");
	struct builder b;
	if (builder_init(&b, d, c, index, e) < 0)
		return -1;
	if (build(&b, 0, b.m, 0, -1) < 0 || estimate(&b) < 0) {
		builder_free(&b);
		return errf(e, "causal-forest: out of memory growing tree %zu",
			    index);
	}
	t->nodes = b.nodes;
	t->n_nodes = b.n_nodes;
	b.nodes = NULL;
	for (size_t k = 0; k < t->n_nodes; k++)
		t->n_leaves += t->nodes[k].feature < 0;
	t->crit_calls = b.calls;
	t->candidates = b.candidates;
	builder_free(&b);
	return 0;
}

void cf_tree_free(struct cf_tree *t)
{
	free(t->nodes);
	memset(t, 0, sizeof *t);
}

static uint64_t double_bits(double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	return u;
}

uint64_t cf_tree_hash(const struct cf_tree *t)
{
	uint64_t h = hash_u64(HASH_SEED, t->n_nodes);
	for (size_t k = 0; k < t->n_nodes; k++) {
		const struct cf_node *nd = &t->nodes[k];
		h = hash_u64(h, (uint64_t)(int64_t)nd->feature);
		if (nd->feature >= 0) {
			h = hash_u64(h, (uint64_t)(int64_t)nd->left);
			h = hash_u64(h, (uint64_t)(int64_t)nd->right);
			h = hash_u64(h, double_bits(nd->threshold));
		} else {
			h = hash_u64(h, double_bits(nd->value));
		}
	}
	return h;
}

double cf_tree_predict(const struct cf_tree *t, const double *x,
		       size_t stride)
{
	return t->nodes[leaf_of(t->nodes, x, stride)].value;
}

/* ---- forest ---- */

int cf_forest_fit(const struct cf_data *d, const struct cf_config *c,
		  size_t ntrees, struct cf_forest *f, errbuf *e)
{
	f->n = 0;
	f->trees = calloc(ntrees ? ntrees : 1, sizeof *f->trees);
	if (!f->trees)
		return errf(e, "causal-forest: out of memory for %zu trees",
			    ntrees);
	for (size_t i = 0; i < ntrees; i++) {
		if (cf_tree_fit(d, c, i, &f->trees[i], e) < 0) {
			cf_forest_free(f);
			return -1;
		}
		f->n++;
	}
	return 0;
}

int cf_forest_predict(const struct cf_forest *f, const struct cf_data *rows,
		      double *out, errbuf *e)
{
	if (!f->n)
		return errf(e, "causal-forest: cannot predict with no trees");
	for (size_t i = 0; i < rows->n; i++) {
		double s = 0.0;
		for (size_t k = 0; k < f->n; k++)
			s += cf_tree_predict(&f->trees[k], rows->x + i, rows->n);
		out[i] = s / (double)f->n;
	}
	return 0;
}

void cf_forest_free(struct cf_forest *f)
{
	for (size_t i = 0; i < f->n; i++)
		cf_tree_free(&f->trees[i]);
	free(f->trees);
	f->trees = NULL;
	f->n = 0;
}

/* ---- the workload ops table ---- */

static const struct param_spec cf_params[] = {
	{"trees", "50", "number of trees (one task each)"},
	{"rows", "12000", "rows of synthetic uplift data"},
	{"features", "10", "features per row (>= 2; tau uses x0, x1)"},
	{"min_leaf", "10",
	 "min splitting-half samples per leaf (>= 2*min_group binds anyway)"},
	{"min_group", "5", "min treated and control samples per child"},
	{"depth", "32", "max tree depth"},
	{"honesty", "0.5", "share of bootstrap rows that choose splits"},
	{"penalty", "1", "1: honest variance penalty (CT-H), 0: plain CT"},
	{"seed", "42", "seed of the data and of every tree's sample"},
	{NULL, NULL, NULL},
};

struct cf_ctx {
	struct cf_data d;
	struct cf_config c;
	size_t ntrees;
};

struct cf_settings {
	long trees, rows, features, min_leaf, min_group, depth, penalty, seed;
	double honesty;
};

static int read_settings(const struct params *p, struct cf_settings *s,
			 errbuf *e)
{
	if (params_long(p, "trees", 1, 1000000, &s->trees, e) < 0 ||
	    params_long(p, "rows", 1, CF_MAX_ROWS, &s->rows, e) < 0 ||
	    params_long(p, "features", CF_MIN_FEATURES, 1000, &s->features,
			e) < 0 ||
	    params_long(p, "min_leaf", 1, CF_MAX_ROWS, &s->min_leaf, e) < 0 ||
	    params_long(p, "min_group", 1, CF_MAX_ROWS, &s->min_group, e) < 0 ||
	    params_long(p, "depth", 0, 64, &s->depth, e) < 0 ||
	    params_double(p, "honesty", 0.05, 0.95, &s->honesty, e) < 0 ||
	    params_long(p, "penalty", 0, 1, &s->penalty, e) < 0 ||
	    params_long(p, "seed", 0, LONG_MAX, &s->seed, e) < 0)
		return -1;
	if (s->rows < 2 * s->min_leaf)
		return errf(e,
			    "min_leaf=%ld is too large for rows=%ld: rows must "
			    "be at least 2*min_leaf",
			    s->min_leaf, s->rows);
	if (s->min_group > s->min_leaf)
		return errf(e, "min_group=%ld must not exceed min_leaf=%ld",
			    s->min_group, s->min_leaf);
	if (s->rows * s->features > 200000000L)
		return errf(e,
			    "rows=%ld x features=%ld is too large (at most 2e8 "
			    "values)",
			    s->rows, s->features);
	return 0;
}

static int cf_setup(const struct params *p, void **ctx, errbuf *e)
{
	struct cf_settings s;
	*ctx = NULL;
	if (read_settings(p, &s, e) < 0)
		return -1;
	struct cf_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return errf(e, "causal-forest: out of memory");
	c->ntrees = (size_t)s.trees;
	c->c = (struct cf_config){
		.min_leaf = (size_t)s.min_leaf,
		.min_group = (size_t)s.min_group,
		.max_depth = (int)s.depth,
		.honesty = s.honesty,
		.penalty = (int)s.penalty,
		.seed = (uint64_t)s.seed,
	};
	if (cf_data_make(&c->d, (size_t)s.rows, (size_t)s.features,
			 (uint64_t)s.seed, e) < 0) {
		free(c);
		return -1;
	}
	*ctx = c;
	return 0;
}

static size_t cf_ntasks(const void *ctx)
{
	return ((const struct cf_ctx *)ctx)->ntrees;
}

static int cf_run_task(void *ctx, size_t task, struct task_result *out)
{
	const struct cf_ctx *c = ctx;
	struct cf_tree t;
	errbuf e;
	if (task >= c->ntrees || cf_tree_fit(&c->d, &c->c, task, &t, &e) < 0)
		return -1;
	out->hash = cf_tree_hash(&t);
	out->value = (double)t.n_leaves;
	cf_tree_free(&t);
	return 0;
}

static void cf_teardown(void *ctx)
{
	struct cf_ctx *c = ctx;
	if (!c)
		return;
	cf_data_free(&c->d);
	free(c);
}

const struct workload_ops workload_causal_forest = {
	.name = "causal-forest",
	.describe = "honest causal trees on synthetic uplift data, one tree "
		    "per task",
	.value_name = "leaves",
	.params = cf_params,
	.setup = cf_setup,
	.ntasks = cf_ntasks,
	.run_task = cf_run_task,
	.checksum = checksum_task_hashes,
	.teardown = cf_teardown,
};
