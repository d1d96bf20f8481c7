/* comparisons.c - the side-by-side sentences and the overall best, from what
 * analysis/sidebyside.c stored in the document (see comparisons.h). */
#include "report/comparisons.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/sidebyside.h"
#include "document/doc.h"
#include "document/groups.h"
#include "report/table.h"

#define GROUPS_MAX 6	  /* pairs of values shown */
#define SENTENCES_MAX 3	  /* sentences per pair of values */
#define ALTERNATIVES_MAX 3 /* indistinguishable alternatives named */

/* The document and what rendering looks up in it, made once. */
struct view {
	json_t *doc;
	json_t *by_id;	/* config id -> its index */
	json_t *vary;	/* names of the dimensions that vary */
};

static json_t *config_by_id(const struct view *v, const char *id)
{
	json_t *i = json_object_get(v->by_id, id);
	return i ? doc_config(v->doc, (size_t)json_integer_value(i)) : NULL;
}

static int listed(json_t *names, const char *name)
{
	json_t *x;
	size_t i;
	json_array_foreach(names, i, x)
		if (!strcmp(json_string_value(x), name))
			return 1;
	return 0;
}

/* "thread pool, inner-threads=1, 2 workers": the pool (exec has none to
 * name), the dimensions that vary in the document but `skip`, workers. */
static void context(const struct view *v, json_t *c, const char *skip,
		    char *buf, size_t len)
{
	json_t *vary = v->vary;
	struct sbs_dim d[SBS_DIMS_MAX];
	size_t n = sidebyside_dims(c, d, SBS_DIMS_MAX), used = 0;
	const char *pool = doc_str(c, "pool", "");
	buf[0] = 0;
	if (!doc_is_exec(c))
		used = (size_t)snprintf(buf, len, "%s pool", pool);
	for (size_t i = 0; i < n && used < len; i++) {
		if (!listed(vary, d[i].name) || (skip && !strcmp(d[i].name, skip)) ||
		    (skip && !strcmp(skip, "build") && !strcmp(d[i].name, "lock_model")))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s",
					 used ? ", " : "", d[i].label, d[i].value);
	}
	json_int_t w = doc_workers(c);
	if (used < len)
		snprintf(buf + used, len - used, "%s%lld worker%s", used ? ", " : "",
			 (long long)w, w == 1 ? "" : "s");
}

static void seconds(json_t *c, char *buf, size_t len)
{
	table_fmt_seconds(doc_median_wall(c), buf, len);
}

static double rss(json_t *c)
{
	return doc_figure(c, "memory.peak_rss_bytes", NAN);
}

/* "; peak RSS 40.0 MiB, 1.10x less (44.0 MiB)" */
static void memory_clause(json_t *p, json_t *f, json_t *s, char *buf, size_t len)
{
	const char *m = doc_str(p, "memory", "");
	char a[32], b[32];
	double r = doc_num(p, "rss_ratio", NAN);
	table_fmt_bytes(rss(f), a, sizeof a);
	table_fmt_bytes(rss(s), b, sizeof b);
	buf[0] = 0;
	if (!strcmp(m, "less"))
		snprintf(buf, len, "; peak RSS %s, %.2fx less (%s)", a, r, b);
	else if (!strcmp(m, "more"))
		snprintf(buf, len, "; but peak RSS %s, %.2fx more (%s)", a, 1 / r, b);
	else if (*m)
		snprintf(buf, len, "; peak RSS %s and %s, indistinguishable", a, b);
}

/* Why, where the figures say it plainly: cores kept busy, lock wait. */
static void why_clause(json_t *p, json_t *f, json_t *s, char *buf, size_t len)
{
	double cf = doc_num(f, "cpu_util", NAN), cs = doc_num(s, "cpu_util", NAN);
	double lf = doc_figure(f, "lock.share", NAN), ls = doc_figure(s, "lock.share", NAN);
	const char *label = doc_str(p, "label", "");
	const char *sv = doc_str(json_object_get(p, strcmp(doc_str(p, "faster", "a"), "a")
						       ? "a" : "b"), "value", "");
	buf[0] = 0;
	if (isfinite(lf) && isfinite(ls) && ls - lf >= 0.1)
		snprintf(buf, len, "; %s=%s waited %.0f %% of worker time on locks, "
			 "against %.0f %%", label, sv, ls * 100, lf * 100);
	else if (isfinite(cf) && isfinite(cs) && cf > 0 && (cs / cf >= 1.25 || cs / cf <= 0.8))
		snprintf(buf, len, "; %s=%s kept %.1f cores busy, against %.1f",
			 label, sv, cs, cf);
}

static void sentence(const struct view *v, json_t *p, FILE *out, const char *lead)
{
	int b = !strcmp(doc_str(p, "faster", "a"), "b");
	json_t *fs = json_object_get(p, b ? "b" : "a"), *ss = json_object_get(p, b ? "a" : "b");
	json_t *f = config_by_id(v, doc_str(fs, "id", ""));
	json_t *s = config_by_id(v, doc_str(ss, "id", ""));
	if (!f || !s)
		return;
	const char *label = doc_str(p, "label", "");
	char ctx[400], tf[32], ts[32], mem[160], why[160];
	context(v, f, doc_str(p, "dimension", ""), ctx, sizeof ctx);
	seconds(f, tf, sizeof tf);
	seconds(s, ts, sizeof ts);
	memory_clause(p, f, s, mem, sizeof mem);
	if (!strcmp(doc_str(p, "wall", ""), "faster")) {
		why_clause(p, f, s, why, sizeof why);
		fprintf(out, "%s%s=%s: %s, %s is %.2fx faster than %s=%s (%s)%s%s.\n",
			lead, label, doc_str(fs, "value", ""), ctx, tf,
			doc_num(p, "wall_ratio", NAN), label, doc_str(ss, "value", ""),
			ts, mem, why);
	} else {
		fprintf(out, "%s%s=%s and %s=%s: %s, %s and %s are indistinguishable "
			"(the intervals overlap)%s.\n", lead, label,
			doc_str(fs, "value", ""), label, doc_str(ss, "value", ""), ctx,
			tf, ts, mem);
	}
}

/* The pairs of one dimension and pair of values, in document order. */
static char *group_key(json_t *p)
{
	const char *a = doc_str(json_object_get(p, "a"), "value", "");
	const char *b = doc_str(json_object_get(p, "b"), "value", "");
	char *key = NULL;
	if (strcmp(a, b) > 0) {
		const char *t = a;
		a = b;
		b = t;
	}
	if (asprintf(&key, "%s\x1f%s\x1f%s", doc_str(p, "dimension", ""), a, b) < 0)
		return NULL;
	return key;
}

/* "inner-threads=1 against inner-threads=default, 4 comparisons:
 * inner-threads=1 faster in 3 (1.52x to 1.90x); indistinguishable in 1;" */
static void group_line(json_t *pairs, const struct doc_groups *g, size_t k,
		       FILE *out, const char *lead)
{
	json_t *head = json_array_get(pairs, doc_group_member(g, k, 0));
	const char *label = doc_str(head, "label", "");
	const char *val[2] = {doc_str(json_object_get(head, "a"), "value", ""),
			      doc_str(json_object_get(head, "b"), "value", "")};
	size_t n = doc_group_size(g, k), cnt[2] = {0, 0};
	double lo[2] = {INFINITY, INFINITY}, hi[2] = {0, 0};
	for (size_t j = 0; j < n; j++) {
		json_t *p = json_array_get(pairs, doc_group_member(g, k, j));
		if (strcmp(doc_str(p, "wall", ""), "faster"))
			continue;
		json_t *fs = json_object_get(p, doc_str(p, "faster", "a"));
		int b = strcmp(doc_str(fs, "value", ""), val[0]) != 0;
		double r = doc_num(p, "wall_ratio", NAN);
		cnt[b]++;
		lo[b] = fmin(lo[b], r);
		hi[b] = fmax(hi[b], r);
	}
	fprintf(out, "%s%s=%s against %s=%s, %zu comparison%s:", lead, label, val[0],
		label, val[1], n, n == 1 ? "" : "s");
	for (int b = 0; b < 2; b++) {
		if (!cnt[b])
			continue;
		fprintf(out, " %s=%s faster in %zu (%.2fx", label, val[b], cnt[b], lo[b]);
		if (hi[b] > lo[b])
			fprintf(out, " to %.2fx", hi[b]);
		fputs(");", out);
	}
	if (n - cnt[0] - cnt[1])
		fprintf(out, " indistinguishable in %zu;", n - cnt[0] - cnt[1]);
	fputs("\n", out);
}

/* The measured differences first, then the rest; at most SENTENCES_MAX. */
static void group_sentences(const struct view *v, json_t *pairs,
			    const struct doc_groups *g, size_t k, FILE *out,
			    const char *lead)
{
	size_t shown = 0, n = doc_group_size(g, k);
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; j < n; j++) {
			json_t *p = json_array_get(pairs, doc_group_member(g, k, j));
			int apart = !strcmp(doc_str(p, "wall", ""), "faster");
			if (apart != !pass || shown == SENTENCES_MAX)
				continue;
			sentence(v, p, out, lead);
			shown++;
		}
	if (n > shown)
		fprintf(out, "%sand %zu more.\n", lead, n - shown);
}

static void side_by_side(const struct view *v, FILE *out, enum comparisons_style st)
{
	json_t *pairs = json_object_get(json_object_get(v->doc, "sidebyside"), "pairs");
	size_t n = json_array_size(pairs), more = 0;
	char **keys = calloc(n + 1, sizeof *keys);
	struct doc_groups g;
	if (!n || !keys) {
		free(keys);
		return;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = group_key(json_array_get(pairs, i));
	if (doc_groups_build(keys, n, &g))
		return;
	if (st == COMPARISONS_MD)
		fputs("\n## Side by side\n\nOne dimension differs in each comparison; "
		      "a difference is claimed only where the intervals separate.\n\n", out);
	else
		fputs("\nSide by side (one dimension differs; a difference only where "
		      "the intervals separate):\n", out);
	for (size_t k = 0; k < g.ngroups; k++) {
		if (k >= GROUPS_MAX) {
			more += doc_group_size(&g, k);
			continue;
		}
		/* one comparison is its own summary */
		int alone = doc_group_size(&g, k) == 1;
		if (!alone)
			group_line(pairs, &g, k, out, st == COMPARISONS_MD ? "- " : "  ");
		group_sentences(v, pairs, &g, k, out, alone ? (st == COMPARISONS_MD ? "- " : "  ")
					   : st == COMPARISONS_MD ? "  - " : "    ");
	}
	if (g.ngroups > GROUPS_MAX)
		fprintf(out, "%sand %zu more pairs of values (%zu comparisons), all in "
			"the document's sidebyside.pairs.\n",
			st == COMPARISONS_MD ? "- " : "  ", g.ngroups - GROUPS_MAX, more);
	doc_groups_free(&g);
}

/* "Best: thread pool, inner-threads=1, 2 workers, 126 ms; ..." */
static void best_line(const struct view *v, json_t *b, FILE *out, const char *lead)
{
	json_t *f = config_by_id(v, doc_str(b, "fastest", "")), *id;
	json_t *alts = json_object_get(b, "indistinguishable");
	char ctx[400], t[32];
	size_t i;
	if (!f)
		return;
	context(v, f, NULL, ctx, sizeof ctx);
	seconds(f, t, sizeof t);
	fprintf(out, "%sBest of %lld configurations: %s, %s", lead,
		(long long)doc_int(b, "configs", 0), ctx, t);
	if (!json_array_size(alts))
		fputs(", measurably faster than every other", out);
	json_array_foreach(alts, i, id) {
		json_t *c = config_by_id(v, json_string_value(id));
		if (i == ALTERNATIVES_MAX) {
			fprintf(out, " and %zu more", json_array_size(alts) - i);
			break;
		}
		if (!c)
			continue;
		context(v, c, NULL, ctx, sizeof ctx);
		seconds(c, t, sizeof t);
		/* "a, b and c", or "a, b, c and 2 more" */
		int last = i + 1 == json_array_size(alts) && i < ALTERNATIVES_MAX;
		fprintf(out, "%s%s (%s)", !i ? "; indistinguishable: " : last ? " and " : ", ",
			ctx, t);
	}
	fputs(".", out);
	json_t *m = config_by_id(v, doc_str(b, "least_memory", ""));
	if (m) {
		char a[32], z[32];
		context(v, m, NULL, ctx, sizeof ctx);
		seconds(m, t, sizeof t);
		table_fmt_bytes(rss(m), a, sizeof a);
		table_fmt_bytes(rss(f), z, sizeof z);
		fprintf(out, " Least memory: %s, peak RSS %s against %s (%s).", ctx, a, z, t);
	}
	fputs("\n", out);
}

void comparisons_render(json_t *doc, FILE *out, enum comparisons_style style)
{
	json_t *best = json_object_get(doc, "best"), *b, *c;
	struct view v = {doc, json_object(), json_object_get(
		json_object_get(doc, "sidebyside"), "varying")};
	size_t i;
	doc_foreach_config(doc, i, c)
		json_object_set_new(v.by_id, doc_str(c, "id", ""), json_integer((json_int_t)i));
	side_by_side(&v, out, style);
	if (json_array_size(best))
		fputs(style == COMPARISONS_MD ? "\n## Best\n\n" : "\n", out);
	json_array_foreach(best, i, b)
		best_line(&v, b, out, style == COMPARISONS_MD ? "- " : "");
	json_decref(v.by_id);
}
