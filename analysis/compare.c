/* compare.c - judge two results documents (see compare.h). */
#include "analysis/compare.h"
#include "analysis/interference.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/summary.h"
#include "document/doc.h"
#include "document/results.h"

/* ---- pairing ----
 *
 * A configuration's key is its series and worker count; one without a
 * series (a hand-made document lacking workload, build or pool) is keyed
 * by its id, as it is named. */

static int config_key(json_t *c, char *buf, size_t len)
{
	char s[480];
	if (!doc_series_key(c, DOC_KEY_ALL, s, sizeof s)) {
		snprintf(buf, len, "%s w%lld", s, (long long)doc_workers(c));
		return 0;
	}
	const char *id = doc_str(c, "id", NULL);
	if (!id)
		return -1;
	snprintf(buf, len, "id %s", id);
	return 0;
}

static const char *name_of(json_t *c, const char *key)
{
	return doc_str(c, "id", key);
}

/* The first configuration of doc with key; with same_params, also with
 * c's params. */
static json_t *find_keyed(json_t *doc, const char *key, json_t *c,
			  int same_params)
{
	json_t *o;
	size_t i;
	char k[512];
	doc_foreach_config(doc, i, o) {
		if (config_key(o, k, sizeof k) || strcmp(k, key))
			continue;
		if (!same_params || results_same_params(o, c))
			return o;
	}
	return NULL;
}

/* ---- workload parameters ----
 *
 * The same configuration run with other parameters (trees=16 against
 * trees=50) is a different workload: judging it would blame the parameter
 * change on the code. */

static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* The keys whose values differ, those of a first, then those only in b. */
static json_t *differing_keys(json_t *pa, json_t *pb)
{
	json_t *keys = json_array(), *v;
	const char *k;
	json_object_foreach(pa, k, v)
		if (!json_equal(v, json_object_get(pb, k)))
			json_array_append_new(keys, json_string(k));
	json_object_foreach(pb, k, v)
		if (!json_object_get(pa, k))
			json_array_append_new(keys, json_string(k));
	return keys;
}

/* "trees=16, depth unset": one side's values of the differing keys. */
static void describe_side(json_t *p, json_t *keys, char *buf, size_t len)
{
	json_t *k;
	size_t i;
	if (!json_object_size(p)) {
		appendf(buf, len, "no params");
		return;
	}
	json_array_foreach(keys, i, k) {
		const char *key = json_string_value(k);
		json_t *v = json_object_get(p, key);
		char *text = v && !json_is_string(v)
				     ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)
				     : NULL;
		appendf(buf, len, "%s", i ? ", " : "");
		if (!v)
			appendf(buf, len, "%s unset", key);
		else
			appendf(buf, len, "%s=%s", key,
				text ? text : json_string_value(v));
		free(text);
	}
}

/* "trees=50 vs trees=16" */
static void describe_params_diff(json_t *b, json_t *n, char *buf, size_t len)
{
	json_t *pb = json_object_get(b, "params");
	json_t *pn = json_object_get(n, "params");
	json_t *keys = differing_keys(pb, pn);
	buf[0] = 0;
	describe_side(pb, keys, buf, len);
	appendf(buf, len, " vs ");
	describe_side(pn, keys, buf, len);
	json_decref(keys);
}

/* ---- growing arrays ---- */

static int grow(void **arr, size_t *n, size_t size)
{
	void *p = realloc(*arr, (*n + 1) * size);
	if (!p)
		return -1;
	*arr = p;
	memset((char *)p + *n * size, 0, size);
	++*n;
	return 0;
}

#define PUSH(arr, n) grow((void **)&(arr), &(n), sizeof *(arr))

/* ---- one pair ---- */

static void note_test(struct compare_tally *t, const struct change_verdict *v)
{
	if (!v->tested)
		return;
	size_t m = v->mw.na < v->mw.nb ? v->mw.na : v->mw.nb;
	if (t->compared == 0 || m < t->min_reps)
		t->min_reps = m;
	if (v->mw.min_p > t->worst_min_p)
		t->worst_min_p = v->mw.min_p;
}

static void judge(struct compare_pair *p, const struct compare_opts *o,
		  struct compare_tally *t)
{
	double wb[4096], wn[4096];
	size_t nb = doc_ok_walls(p->base, wb, 4096);
	size_t nn = doc_ok_walls(p->newer, wn, 4096);
	errbuf e;
	if (!nb || !nn) {
		snprintf(p->why, sizeof p->why, "base %s, new %s",
			 doc_str(p->base, "status", "unknown"),
			 doc_str(p->newer, "status", "unknown"));
		t->untestable++;
		return;
	}
	if (mw_judge(wb, nb, wn, nn, o->threshold, o->alpha, &p->v, &e)) {
		snprintf(p->why, sizeof p->why, "%s", e.msg);
		t->untestable++;
		return;
	}
	p->judged = 1;
	p->busy_base = interference_busy(p->base);
	p->busy_new = interference_busy(p->newer);
	t->busy += p->v.kind == CHANGE_SLOWER && (p->busy_base || p->busy_new);
	note_test(t, &p->v);
	t->compared++;
	t->regressed += p->v.kind == CHANGE_SLOWER;
	t->improved += p->v.kind == CHANGE_FASTER;
	t->noise += p->v.kind == CHANGE_NOISE;
	t->untestable += p->v.kind == CHANGE_UNTESTED;
}

static int pair_configs(json_t *base, json_t *newer,
			const struct compare_opts *o, struct compare_result *r)
{
	json_t *c;
	size_t i;
	char key[512];
	doc_foreach_config(newer, i, c) {
		if (config_key(c, key, sizeof key))
			continue;
		json_t *b = find_keyed(base, key, c, 1);
		if (b) {
			if (PUSH(r->pairs, r->npairs))
				return -1;
			struct compare_pair *p = &r->pairs[r->npairs - 1];
			p->base = b;
			p->newer = c;
			snprintf(p->key, sizeof p->key, "%s", key);
			p->id = name_of(c, p->key);
			judge(p, o, &r->tally);
		} else if ((b = find_keyed(base, key, c, 0))) {
			if (PUSH(r->differ, r->ndiffer))
				return -1;
			struct compare_differ *d = &r->differ[r->ndiffer - 1];
			d->base = b;
			d->newer = c;
			d->id = doc_str(c, "id", "?");
			describe_params_diff(b, c, d->why, sizeof d->why);
			r->tally.params_differ++;
		}
	}
	return 0;
}

/* Configurations of from whose key other lacks. */
static int list_unmatched(json_t *from, json_t *other, const char ***out,
			  size_t *n)
{
	json_t *c;
	size_t i;
	char key[512];
	doc_foreach_config(from, i, c) {
		if (config_key(c, key, sizeof key) ||
		    find_keyed(other, key, c, 0))
			continue;
		if (PUSH(*out, *n))
			return -1;
		(*out)[*n - 1] = doc_str(c, "id", "?");
	}
	return 0;
}

/* ---- scaling ---- */

/* The worker count with the lowest median wall time in a series; *wall
 * receives that time. 0 when the series has no ok configuration. */
static json_int_t best_workers(json_t *doc, const char *series, double *wall)
{
	json_t *c;
	size_t i;
	json_int_t best = 0;
	char key[512];
	doc_foreach_config(doc, i, c) {
		double m = doc_median_wall(c);
		if (doc_series_key(c, DOC_KEY_ALL, key, sizeof key) ||
		    strcmp(key, series) || !doc_is_ok(c) || isnan(m))
			continue;
		if (!best || m < *wall) {
			best = doc_workers(c);
			*wall = m;
		}
	}
	return best;
}

static double wall_at(json_t *doc, const char *series, json_int_t workers)
{
	json_t *c;
	size_t i;
	char key[512];
	doc_foreach_config(doc, i, c) {
		double m = doc_median_wall(c);
		if (!doc_series_key(c, DOC_KEY_ALL, key, sizeof key) &&
		    !strcmp(key, series) && doc_workers(c) == workers &&
		    doc_is_ok(c) && !isnan(m))
			return m;
	}
	return NAN;
}

static double peak_of(json_t *fit)
{
	if (!doc_bool(fit, "fitted", 0))
		return NAN;
	return doc_num(fit, "peak_workers", INFINITY);
}

static int peak_regressed(json_t *fb, json_t *fn, const struct compare_opts *o,
			  struct compare_scaling *s)
{
	double pb = peak_of(fb), pn = peak_of(fn);
	if (isnan(pb) || isnan(pn) || !isfinite(pn))
		return 0;
	if (isfinite(pb) && !(pn < pb * (1 - o->threshold) && pb - pn >= 0.5))
		return 0;
	s->peak_fell = 1;
	s->peak_base = pb;
	s->peak_new = pn;
	return 1;
}

/* The fastest worker count fell, and in the new run the old best count
 * is slower than the new best by more than the threshold (not a tie). */
static int best_regressed(json_t *base, json_t *newer,
			  const struct compare_opts *o,
			  struct compare_scaling *s)
{
	double wb = 0, wn = 0;
	json_int_t bb = best_workers(base, s->series, &wb);
	json_int_t bn = best_workers(newer, s->series, &wn);
	if (!bb || !bn || bn >= bb)
		return 0;
	double old_best_now = wall_at(newer, s->series, bb);
	if (!(old_best_now > wn * (1 + o->threshold)))
		return 0;
	s->best_fell = 1;
	s->best_base = bb;
	s->best_new = bn;
	s->old_best_slower = old_best_now / wn - 1;
	return 1;
}

static void scaling_words(struct compare_scaling *s)
{
	char *w = s->why;
	size_t len = sizeof s->why;
	w[0] = 0;
	if (s->peak_fell && isfinite(s->peak_base))
		appendf(w, len, "the USL peak fell from %.1f to %.1f workers",
			s->peak_base, s->peak_new);
	else if (s->peak_fell)
		appendf(w, len, "it now peaks near %.1f workers (before: no "
			"peak within reach)", s->peak_new);
	if (s->peak_fell && s->best_fell)
		appendf(w, len, "; ");
	if (s->best_fell)
		appendf(w, len, "the fastest worker count fell from %lld to "
			"%lld (%lld workers are now %.0f %% slower than %lld)",
			s->best_base, s->best_new, s->best_base,
			100 * s->old_best_slower, s->best_new);
}

/* A series' scaling is judged only when all its configurations, in both
 * runs, ran with the same params. */
static int series_params_agree(json_t *base, json_t *newer, const char *series)
{
	json_t *docs[] = {base, newer}, *c, *first = NULL;
	char key[512];
	size_t i;
	for (int d = 0; d < 2; d++)
		doc_foreach_config(docs[d], i, c) {
			if (doc_series_key(c, DOC_KEY_ALL, key, sizeof key) ||
			    strcmp(key, series))
				continue;
			if (!first)
				first = c;
			else if (!results_same_params(first, c))
				return 0;
		}
	return 1;
}

/* Rows of a series measured while the machine was busy. */
static size_t series_busy(json_t *doc, const char *series)
{
	json_t *c;
	size_t i, n = 0;
	char key[512];
	doc_foreach_config(doc, i, c)
		if (!doc_series_key(c, DOC_KEY_ALL, key, sizeof key) &&
		    !strcmp(key, series))
			n += interference_busy(c) != 0;
	return n;
}

static int compare_scaling(json_t *base, json_t *newer,
			   const struct compare_opts *o,
			   struct compare_result *r)
{
	json_t *fn = summary_fits(newer), *f;
	size_t i;
	summary_fits(base);
	json_array_foreach(fn, i, f) {
		const char *series = doc_str(f, "series", NULL);
		json_t *old = series ? doc_fit(base, series) : NULL;
		struct compare_scaling s = {0};
		if (!old || !series_params_agree(base, newer, series))
			continue;
		snprintf(s.series, sizeof s.series, "%s", series);
		int p = peak_regressed(old, f, o, &s);
		int b = best_regressed(base, newer, o, &s);
		if (!p && !b)
			continue;
		scaling_words(&s);
		s.busy_rows = series_busy(base, series) + series_busy(newer, series);
		if (PUSH(r->scaling, r->nscaling))
			return -1;
		r->scaling[r->nscaling - 1] = s;
		r->tally.scaling++;
	}
	return 0;
}

/* ---- the engine ---- */

int compare_docs(json_t *base, json_t *newer, const struct compare_opts *o,
		 struct compare_result *r, errbuf *e)
{
	memset(r, 0, sizeof *r);
	r->machines_differ =
		strcmp(results_machine(base), results_machine(newer)) != 0;
	if (pair_configs(base, newer, o, r) ||
	    list_unmatched(base, newer, &r->only_base, &r->nonly_base) ||
	    list_unmatched(newer, base, &r->only_new, &r->nonly_new) ||
	    (r->npairs && compare_scaling(base, newer, o, r))) {
		compare_result_free(r);
		return errf(e, "out of memory comparing the runs");
	}
	r->regression = r->tally.regressed || r->tally.scaling;
	return 0;
}

void compare_result_free(struct compare_result *r)
{
	free(r->pairs);
	free(r->differ);
	free(r->only_base);
	free(r->only_new);
	free(r->scaling);
	memset(r, 0, sizeof *r);
}

const char *compare_verdict(const struct compare_pair *p)
{
	if (!p->judged)
		return "untestable";
	switch (p->v.kind) {
	case CHANGE_SAME:
		return "same";
	case CHANGE_SLOWER:
		return "slower";
	case CHANGE_FASTER:
		return "faster";
	case CHANGE_NOISE:
		return "noise";
	case CHANGE_UNTESTED:
		return "untested";
	}
	return "?";
}

/* ---- as JSON ---- */

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *pair_json(const struct compare_pair *p)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:b}", "id", p->id, "workers",
			      doc_workers(p->newer), "verdict",
			      compare_verdict(p), "regression",
			      p->judged && p->v.kind == CHANGE_SLOWER);
	char series[512];
	if (!doc_series_key(p->newer, DOC_KEY_ALL, series, sizeof series))
		json_object_set_new(o, "series", json_string(series));
	else
		json_object_set_new(o, "series", json_null());
	if (!p->judged) {
		json_object_set_new(o, "why", json_string(p->why));
		return o;
	}
	const struct change_verdict *v = &p->v;
	json_object_set_new(o, "base_median_s", real_or_null(v->base_median));
	json_object_set_new(o, "new_median_s", real_or_null(v->new_median));
	json_object_set_new(o, "change", real_or_null(v->change));
	json_object_set_new(o, "base_reps", json_integer((json_int_t)v->mw.na));
	json_object_set_new(o, "new_reps", json_integer((json_int_t)v->mw.nb));
	json_object_set_new(o, "p", v->tested ? real_or_null(v->mw.p)
					      : json_null());
	json_object_set_new(o, "min_p", v->tested ? real_or_null(v->mw.min_p)
						  : json_null());
	json_object_set_new(o, "exact", json_boolean(v->tested && v->mw.exact));
	json_object_set_new(o, "interference", json_pack("{s:b, s:b}", "base",
			    p->busy_base, "new", p->busy_new));
	return o;
}

static json_t *differ_json(const struct compare_differ *d)
{
	json_t *pb = json_object_get(d->base, "params");
	json_t *pn = json_object_get(d->newer, "params");
	return json_pack("{s:s, s:s, s:O, s:O}", "id", d->id, "why", d->why,
			 "base_params", pb ? pb : json_null(), "new_params",
			 pn ? pn : json_null());
}

static json_t *scaling_json(const struct compare_scaling *s)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "series", s->series,
			      "why", s->why, "peak_fell", s->peak_fell,
			      "best_fell", s->best_fell);
	json_object_set_new(o, "busy_rows", json_integer((json_int_t)s->busy_rows));
	if (s->peak_fell) {
		json_object_set_new(o, "base_peak_workers",
				    real_or_null(s->peak_base));
		json_object_set_new(o, "new_peak_workers",
				    real_or_null(s->peak_new));
	}
	if (s->best_fell) {
		json_object_set_new(o, "base_best_workers",
				    json_integer(s->best_base));
		json_object_set_new(o, "new_best_workers",
				    json_integer(s->best_new));
	}
	return o;
}

static json_t *ids_json(const char *const *ids, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

static json_t *tally_json(const struct compare_tally *t)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I}",
			 "compared", (json_int_t)t->compared, "regressed",
			 (json_int_t)t->regressed, "improved",
			 (json_int_t)t->improved, "noise", (json_int_t)t->noise,
			 "untestable", (json_int_t)t->untestable, "scaling",
			 (json_int_t)t->scaling, "params_differ",
			 (json_int_t)t->params_differ, "min_reps",
			 (json_int_t)t->min_reps, "worst_min_p",
			 t->compared ? real_or_null(t->worst_min_p) : json_null(),
			 "busy_regressions", (json_int_t)t->busy);
}

json_t *compare_result_json(const struct compare_result *r,
			    const struct compare_opts *o)
{
	json_t *pairs = json_array(), *differ = json_array();
	json_t *scaling = json_array();
	for (size_t i = 0; i < r->npairs; i++)
		json_array_append_new(pairs, pair_json(&r->pairs[i]));
	for (size_t i = 0; i < r->ndiffer; i++)
		json_array_append_new(differ, differ_json(&r->differ[i]));
	for (size_t i = 0; i < r->nscaling; i++)
		json_array_append_new(scaling, scaling_json(&r->scaling[i]));
	return json_pack("{s:s, s:f, s:f, s:b, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:b}", "schema", "contend-compare/1", "threshold",
			 o->threshold, "alpha", o->alpha, "machines_differ",
			 r->machines_differ, "configs", pairs, "params_differ",
			 differ, "only_in_base",
			 ids_json(r->only_base, r->nonly_base), "only_in_new",
			 ids_json(r->only_new, r->nonly_new), "scaling",
			 scaling, "tally", tally_json(&r->tally), "regression",
			 r->regression);
}
