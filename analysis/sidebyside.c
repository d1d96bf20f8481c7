/* sidebyside.c - one-dimension comparisons and the overall best of a
 * document (see sidebyside.h).
 *
 * A difference is claimed only where the intervals say so: wall time by
 * the confidence intervals of the medians (the test the slower flag
 * uses), peak memory by the ranges over the repetitions. */
#include "analysis/sidebyside.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "document/groups.h"

/* --- a configuration's dimensions ------------------------------------- */

static const char *const fixed_dims[][2] = {
	{"build", "build"}, {"lock_model", "lock-model"}, {"share", "share"},
	{"inner_threads", "inner-threads"}, {"start", "start"}};
#define NFIXED (sizeof fixed_dims / sizeof fixed_dims[0])

static int is_fixed(const char *key)
{
	for (size_t i = 0; i < NFIXED; i++)
		if (!strcmp(fixed_dims[i][0], key))
			return 1;
	return 0;
}

/* A value as text: strings as they are, integers in decimal. */
static int value_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		return 0;
	return 1;
}

static void add_dim(struct sbs_dim *out, size_t *n, size_t cap,
		    const char *name, const char *label, const char *value)
{
	if (*n >= cap)
		return;
	snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
	snprintf(out[*n].label, sizeof out[*n].label, "%s", label);
	snprintf(out[*n].value, sizeof out[*n].value, "%s", value);
	(*n)++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Any further string dimension (an imported document's), by name. */
static void other_dims(json_t *config, struct sbs_dim *out, size_t *n,
		       size_t cap)
{
	const char *names[SBS_DIMS_MAX], *key;
	size_t k = 0;
	json_t *v;
	json_object_foreach(config, key, v)
		if (doc_is_dim(key, v) && json_is_string(v) && !is_fixed(key) &&
		    strcmp(key, "workload") && strcmp(key, "pool") && k < SBS_DIMS_MAX)
			names[k++] = key;
	qsort(names, k, sizeof names[0], cmp_str);
	for (size_t i = 0; i < k; i++)
		add_dim(out, n, cap, names[i], names[i],
			json_string_value(json_object_get(config, names[i])));
}

size_t sidebyside_dims(json_t *config, struct sbs_dim *out, size_t cap)
{
	size_t n = 0;
	char text[136];
	for (size_t i = 0; i < NFIXED; i++)
		if (value_text(json_object_get(config, fixed_dims[i][0]), text, sizeof text))
			add_dim(out, &n, cap, fixed_dims[i][0], fixed_dims[i][1], text);
	other_dims(config, out, &n, cap);
	struct doc_swept sw[DOC_SWEPT_MAX];
	size_t k = doc_swept_dims(config, sw, DOC_SWEPT_MAX);
	for (size_t i = 0; i < k; i++) {
		char name[72];
		snprintf(name, sizeof name, "%s.%s", sw[i].env ? "env" : "params",
			 sw[i].name);
		add_dim(out, &n, cap, name, sw[i].name, sw[i].value);
	}
	return n;
}

static const char *dim_value(const struct sbs_dim *d, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return d[i].value;
	return "";
}

/* --- pairs ------------------------------------------------------------- */

/* What a configuration brings to a comparison. */
struct row {
	json_t *c;
	struct sbs_dim dim[SBS_DIMS_MAX];
	size_t ndims;
	double rss_lo, rss_hi;	/* peak RSS over the ok repetitions */
};

static int usable(json_t *c)
{
	return doc_is_ok(c) && isfinite(doc_median_wall(c));
}

static void rss_range(json_t *c, double *lo, double *hi)
{
	json_t *r;
	size_t i;
	*lo = INFINITY;
	*hi = -INFINITY;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		double v = doc_figure(r, "memory.peak_rss_bytes", NAN);
		if (doc_is_ok(r) && isfinite(v)) {
			*lo = fmin(*lo, v);
			*hi = fmax(*hi, v);
		}
	}
	/* a document with the summary figure only: a point */
	double med = doc_figure(c, "memory.peak_rss_bytes", NAN);
	if (!isfinite(*lo) && isfinite(med))
		*lo = *hi = med;
}

/* The name of the one dimension a and b differ in, or NULL: none, or
 * more than one. build and lock_model differing together are the build. */
static const char *one_difference(const struct row *a, const struct row *b)
{
	const char *diff[2] = {NULL, NULL};
	size_t n = 0;
	const struct row *side[2] = {a, b};
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < side[s]->ndims; i++) {
			const char *name = side[s]->dim[i].name;
			const struct row *o = side[1 - s];
			if (!strcmp(side[s]->dim[i].value, dim_value(o->dim, o->ndims, name)))
				continue;
			if ((diff[0] && !strcmp(diff[0], name)) ||
			    (diff[1] && !strcmp(diff[1], name)))
				continue;
			if (n == 2)
				return NULL;
			diff[n++] = name;
		}
	if (n == 1)
		return diff[0];
	if (n == 2 && ((!strcmp(diff[0], "build") && !strcmp(diff[1], "lock_model")) ||
		       (!strcmp(diff[1], "build") && !strcmp(diff[0], "lock_model"))))
		return "build";
	return NULL;
}

/* The value of dimension name as a sentence shows it; the build carries
 * its lock model. */
static void shown_value(const struct row *r, const char *name, char *buf,
			size_t len)
{
	const char *v = dim_value(r->dim, r->ndims, name);
	const char *model = dim_value(r->dim, r->ndims, "lock_model");
	if (!strcmp(name, "build") && *model)
		snprintf(buf, len, "%s (lock-model=%s)", v, model);
	else
		snprintf(buf, len, "%s", *v ? v : "(none)");
}

static const char *label_of(const struct row *r, const char *name)
{
	for (size_t i = 0; i < r->ndims; i++)
		if (!strcmp(r->dim[i].name, name))
			return r->dim[i].label;
	return name;
}

static json_t *side_json(const struct row *r, const char *dim)
{
	char v[2 * sizeof r->dim[0].value + 16];
	shown_value(r, dim, v, sizeof v);
	return json_pack("{s:O, s:s}", "id", json_object_get(r->c, "id"), "value", v);
}

static void set_num(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

/* Faster (lower median) first; its memory against the other's. */
static json_t *pair_json(const struct row *a, const struct row *b,
			 const char *dim)
{
	const struct row *f = doc_median_wall(a->c) <= doc_median_wall(b->c) ? a : b;
	const struct row *s = f == a ? b : a;
	double apart = doc_num(f->c, "ci_high_s", NAN) < doc_num(s->c, "ci_low_s", NAN);
	const char *label = label_of(a, dim);
	if (!strcmp(dim, "build"))
		label = "build";
	json_t *p = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:I}", "dimension",
			      dim, "label", label, "a", side_json(a, dim), "b",
			      side_json(b, dim), "faster", f == a ? "a" : "b",
			      "pool", doc_str(a->c, "pool", ""),
			      "workers", (json_int_t)doc_workers(a->c));
	set_num(p, "wall_ratio", doc_median_wall(s->c) / doc_median_wall(f->c));
	json_object_set_new(p, "wall", json_string(apart ? "faster" : "indistinguishable"));
	double mf = doc_figure(f->c, "memory.peak_rss_bytes", NAN);
	double ms = doc_figure(s->c, "memory.peak_rss_bytes", NAN);
	set_num(p, "rss_ratio", ms / mf);
	/* apart, and by 1 % or more: less would print as a ratio of 1.00x */
	const char *mem = NULL;
	if (isfinite(mf) && isfinite(ms) && isfinite(f->rss_lo) && isfinite(s->rss_lo))
		mem = f->rss_hi < s->rss_lo && ms >= mf * 1.01 ? "less"
		      : s->rss_hi < f->rss_lo && mf >= ms * 1.01 ? "more"
								 : "indistinguishable";
	json_object_set_new(p, "memory", mem ? json_string(mem) : json_null());
	return p;
}

/* Dimensions whose value is not the same in every configuration (or that
 * some lack): the sentences name these, and only these, besides the
 * compared one. One pass: per name its first value, how many have it and
 * whether another value was seen; names in order of first appearance. */
static json_t *varying(json_t **cs, size_t n)
{
	json_t *seen = json_object(), *order = json_array(), *names = json_array(), *x;
	struct row *r = malloc(sizeof *r);
	size_t i;
	for (i = 0; r && i < n; i++) {
		r->ndims = sidebyside_dims(cs[i], r->dim, SBS_DIMS_MAX);
		for (size_t d = 0; d < r->ndims; d++) {
			const struct sbs_dim *dim = &r->dim[d];
			json_t *s = json_object_get(seen, dim->name);
			if (!s) {
				json_object_set_new(seen, dim->name, json_pack(
					"{s:s, s:I, s:b}", "first", dim->value, "count",
					(json_int_t)1, "differs", 0));
				json_array_append_new(order, json_string(dim->name));
				continue;
			}
			json_object_set_new(s, "count", json_integer(doc_int(s, "count", 0) + 1));
			if (strcmp(doc_str(s, "first", ""), dim->value))
				json_object_set_new(s, "differs", json_true());
		}
	}
	free(r);
	json_array_foreach(order, i, x) {
		json_t *s = json_object_get(seen, json_string_value(x));
		if (doc_bool(s, "differs", 0) || doc_int(s, "count", 0) != (json_int_t)n)
			json_array_append(names, x);
	}
	json_decref(seen);
	json_decref(order);
	return names;
}

/* What must be equal for two configurations to be compared: workload,
 * parameters (exec: the command) and, unless only_params, pool and
 * worker count. Owned; NULL when out of memory. */
static char *bucket_key(json_t *c, int only_params)
{
	json_t *p = json_object_get(c, "params");
	if (doc_is_exec(c))
		p = json_object_get(p, "command");
	char *ptext = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
			: strdup("");
	char *key = NULL;
	if (ptext && asprintf(&key, "%s\x1f%s\x1f%lld\x1f%s", doc_str(c, "workload", ""),
			      only_params ? "" : doc_str(c, "pool", ""),
			      only_params ? 0LL : (long long)doc_workers(c), ptext) < 0)
		key = NULL;
	free(ptext);
	return key;
}

/* The configurations bucketed by bucket_key: linear, so a document of
 * many parameter sets costs each set its own pairs only. */
static int buckets(json_t **cs, size_t n, int only_params, struct doc_groups *g)
{
	char **keys = calloc(n + 1, sizeof *keys);
	if (!keys)
		return -1;
	for (size_t i = 0; i < n; i++)
		keys[i] = bucket_key(cs[i], only_params);
	return doc_groups_build(keys, n, g);
}

/* The pairs of one bucket; its rows are made here, one bucket at a time,
 * so memory follows the largest bucket, not the document. */
static void bucket_pairs(json_t **cs, const struct doc_groups *g, size_t k,
			 json_t *out)
{
	size_t m = doc_group_size(g, k);
	struct row *rows = m > 1 ? calloc(m, sizeof *rows) : NULL;
	for (size_t i = 0; rows && i < m; i++) {
		rows[i].c = cs[doc_group_member(g, k, i)];
		rows[i].ndims = sidebyside_dims(rows[i].c, rows[i].dim, SBS_DIMS_MAX);
		rss_range(rows[i].c, &rows[i].rss_lo, &rows[i].rss_hi);
	}
	for (size_t i = 0; rows && i < m; i++)
		for (size_t j = i + 1; j < m; j++) {
			const char *dim = one_difference(&rows[i], &rows[j]);
			if (dim)
				json_array_append_new(out, pair_json(&rows[i], &rows[j], dim));
		}
	free(rows);
}

static json_t *pairs(json_t **cs, size_t n)
{
	json_t *out = json_array();
	struct doc_groups g;
	if (buckets(cs, n, 0, &g))
		return out;
	for (size_t k = 0; k < g.ngroups; k++)
		bucket_pairs(cs, &g, k, out);
	doc_groups_free(&g);
	return out;
}

/* --- the overall best --------------------------------------------------- */

static int overlaps(json_t *a, json_t *b)
{
	double alo = doc_num(a, "ci_low_s", NAN), ahi = doc_num(a, "ci_high_s", NAN);
	double blo = doc_num(b, "ci_low_s", NAN), bhi = doc_num(b, "ci_high_s", NAN);
	if (!isfinite(alo) || !isfinite(blo))
		return doc_median_wall(a) == doc_median_wall(b);
	return alo <= bhi && blo <= ahi;
}

static int by_median(const void *x, const void *y)
{
	double a = doc_median_wall(*(json_t *const *)x);
	double b = doc_median_wall(*(json_t *const *)y);
	return (a > b) - (a < b);
}

/* The best of one set: rows sharing workload and parameters. */
static json_t *best_of(json_t **set, size_t n)
{
	qsort(set, n, sizeof *set, by_median);
	json_t *fast = set[0], *alts = json_array(), *least = NULL;
	for (size_t i = 0; i < n; i++) {
		double m = doc_figure(set[i], "memory.peak_rss_bytes", NAN);
		if (i && overlaps(fast, set[i]))
			json_array_append(alts, json_object_get(set[i], "id"));
		if (isfinite(m) && (!least || m < doc_figure(least, "memory.peak_rss_bytes", NAN)))
			least = set[i];
	}
	json_t *b = json_pack("{s:s, s:O, s:o, s:I}", "workload",
			      doc_str(fast, "workload", ""), "fastest",
			      json_object_get(fast, "id"), "indistinguishable", alts,
			      "configs", (json_int_t)n);
	json_object_set(b, "least_memory", least && least != fast
			    ? json_object_get(least, "id") : json_null());
	return b;
}

static json_t *best(json_t **cs, size_t n)
{
	json_t *out = json_array();
	json_t **set = calloc(n + 1, sizeof *set);
	struct doc_groups g;
	if (!set || buckets(cs, n, 1, &g)) {
		free(set);
		return out;
	}
	for (size_t k = 0; k < g.ngroups; k++) {
		size_t m = doc_group_size(&g, k);
		for (size_t j = 0; j < m; j++)
			set[j] = cs[doc_group_member(&g, k, j)];
		if (m > 1)
			json_array_append_new(out, best_of(set, m));
	}
	doc_groups_free(&g);
	free(set);
	return out;
}

void sidebyside_document(json_t *doc)
{
	size_t n = doc_nconfigs(doc), k = 0, i;
	json_t **cs = calloc(n + 1, sizeof *cs), *c;
	if (!cs)
		return;
	doc_foreach_config(doc, i, c)
		if (usable(c))
			cs[k++] = c;
	json_object_set_new(doc, "sidebyside", json_pack("{s:o, s:o}", "varying",
		varying(cs, k), "pairs", pairs(cs, k)));
	json_object_set_new(doc, "best", best(cs, k));
	free(cs);
}
