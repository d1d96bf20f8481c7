/* cmd_compare.c - `contend compare`: did a run get slower, or scale worse?
 *
 * Configurations are matched by id and workload parameters; a regression
 * is a median change beyond --threshold that a Mann-Whitney U test over the
 * repetitions confirms; a series whose USL peak or best worker count fell
 * is a scaling regression. */
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/verb.h"
#include "harness/commands.h"
#include "common/err.h"
#include "document/history.h"
#include "analysis/mannwhitney.h"
#include "document/results.h"
#include "document/doc.h"
#include "analysis/summary.h"

struct opts {
	double threshold; /* fraction */
	double alpha;
	const char *history;
	const char *machine; /* --machine, or NULL: the newest run's */
	int last;
};

struct tally {
	size_t compared, regressed, improved, noise, untestable, scaling;
	size_t params_differ; /* same id, other workload parameters */
	size_t min_reps;  /* fewest repetitions on either side of a test */
	double worst_min_p; /* largest "smallest possible p" seen */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend compare [options] BASE.json NEW.json\n"
		"       contend compare [options] --history DB [--last N]\n"
		"\n"
		"Compare two runs configuration by configuration, matched by id\n"
		"and workload parameters: a configuration whose params differ is\n"
		"listed as not compared, never as a regression.\n"
		"A configuration regressed when its median wall time grew by more\n"
		"than the threshold and a two-sided Mann-Whitney U test over the\n"
		"repetitions gives p < alpha. A series regressed in scaling when its\n"
		"USL peak worker count or its fastest worker count fell.\n"
		"Files may be contend results or Google Benchmark JSON.\n"
		"\n"
		"  --threshold PCT  smallest change that counts, in %% (default 5)\n"
		"  --alpha A        significance level (default 0.05)\n"
		"  --history DB     take both runs from a history: a SQLite file or\n"
		"                   a postgresql://... URI (contend history --help)\n"
		"  --last N         with --history: the newest run against the run\n"
		"                   N-1 runs before it that share a configuration\n"
		"                   (same id and params; default 2) on the same\n"
		"                   machine\n"
		"  --machine NAME   with --history: that machine's newest run\n"
		"                   (default: the machine that ran last)\n"
		"  -h, --help       this help\n"
		"\n"
		"exit status: 0 no regression, 1 a regression, 2 bad input or\n"
		"nothing to compare (no configuration with the same id and params\n"
		"in both runs), 3 a runtime failure (the history database, a\n"
		"PostgreSQL server that is down)\n");
}

/* ---- loading ---- */

static void describe_doc(json_t *doc, const char *label, char *buf,
			 size_t len)
{
	json_t *ctx = json_object_get(doc, "context");
	const char *git = json_string_value(json_object_get(ctx, "git_rev"));
	const char *t = json_string_value(json_object_get(ctx, "utc_time"));
	snprintf(buf, len, "%s (machine %s, git %s, %s)", label,
		 results_machine(doc), git ? git : "?", t ? t : "time unknown");
}

static int load_pair_files(const char *a, const char *b, json_t **base,
			   json_t **newer, errbuf *e)
{
	const char *src;
	*base = *newer = NULL;
	if (history_load_file(a, base, &src, e))
		return -1;
	if (history_load_file(b, newer, &src, e)) {
		json_decref(*base);
		*base = NULL;
		return -1;
	}
	return 0;
}

static int load_pair_history(const struct opts *o, json_t **base,
			     json_t **newer, char *lb, char *ln, size_t len,
			     errbuf *e)
{
	history *h;
	int64_t ib, in;
	*base = *newer = NULL;
	int rc = history_open(o->history, 0, &h, e);
	if (rc)
		return rc;
	rc = history_pick_pair(h, o->machine, o->last - 1, &ib, &in, e);
	if (!rc)
		rc = history_get_run(h, ib, base, e);
	if (!rc)
		rc = history_get_run(h, in, newer, e);
	history_close(h);
	if (rc) {
		json_decref(*base);
		*base = NULL;
		return rc;
	}
	snprintf(lb, len, "run %lld", (long long)ib);
	snprintf(ln, len, "run %lld", (long long)in);
	return 0;
}

/* ---- workload parameters ----
 *
 * The same id run with other parameters (trees=16 against trees=50) is a
 * different workload: judging it would blame the parameter change on the
 * code. Two configurations without params (hand-made documents) match, as
 * in the report's tables. */

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

/* ---- per configuration ---- */

static json_t *find_config(json_t *doc, const char *id)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		const char *cid = json_string_value(json_object_get(c, "id"));
		if (cid && !strcmp(cid, id))
			return c;
	}
	return NULL;
}

/* The configuration of doc that c can be judged against: same id and
 * params. */
static json_t *find_match(json_t *doc, json_t *c)
{
	const char *id = json_string_value(json_object_get(c, "id"));
	json_t *m = id ? find_config(doc, id) : NULL;
	return m && results_same_params(m, c) ? m : NULL;
}

static size_t count_matches(json_t *base, json_t *newer)
{
	json_t *c;
	size_t i, n = 0;
	json_array_foreach(json_object_get(newer, "configs"), i, c)
		n += find_match(base, c) != NULL;
	return n;
}

static size_t ok_walls(json_t *c, double *out, size_t cap)
{
	json_t *r;
	size_t i, n = 0;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		const char *st = json_string_value(json_object_get(r, "status"));
		json_t *w = json_object_get(r, "wall_s");
		if (st && !strcmp(st, "ok") && json_is_number(w) && n < cap)
			out[n++] = json_number_value(w);
	}
	return n;
}

static const char *status_of(json_t *c)
{
	const char *s = json_string_value(json_object_get(c, "status"));
	return s ? s : "unknown";
}

static void print_row(const char *id, const struct change_verdict *v)
{
	char p[32] = "-";
	if (v->tested && v->mw.p < 1e-4)
		snprintf(p, sizeof p, "<0.0001");
	else if (v->tested)
		snprintf(p, sizeof p, "%.4f", v->mw.p);
	printf("%-44s %11.4g s %11.4g s %+8.1f %%  %7s  %s\n", id,
	       v->base_median, v->new_median, 100 * v->change, p,
	       change_kind_words(v->kind));
}

static void note_test(struct tally *t, const struct change_verdict *v)
{
	if (!v->tested)
		return;
	size_t m = v->mw.na < v->mw.nb ? v->mw.na : v->mw.nb;
	if (t->compared == 0 || m < t->min_reps)
		t->min_reps = m;
	if (v->mw.min_p > t->worst_min_p)
		t->worst_min_p = v->mw.min_p;
}

static void compare_one(json_t *b, json_t *n, const char *id,
			const struct opts *o, struct tally *t)
{
	double wb[4096], wn[4096];
	size_t nb = ok_walls(b, wb, 4096), nn = ok_walls(n, wn, 4096);
	if (!nb || !nn) {
		printf("%-44s cannot compare: base %s, new %s\n", id,
		       status_of(b), status_of(n));
		t->untestable++;
		return;
	}
	struct change_verdict v;
	errbuf e;
	if (mw_judge(wb, nb, wn, nn, o->threshold, o->alpha, &v, &e)) {
		printf("%-44s cannot compare: %s\n", id, e.msg);
		t->untestable++;
		return;
	}
	print_row(id, &v);
	note_test(t, &v);
	t->compared++;
	t->regressed += v.kind == CHANGE_SLOWER;
	t->improved += v.kind == CHANGE_FASTER;
	t->noise += v.kind == CHANGE_NOISE;
	t->untestable += v.kind == CHANGE_UNTESTED;
}

static void list_unmatched(json_t *from, json_t *other, const char *what)
{
	json_t *c;
	size_t i, shown = 0, total = 0;
	json_array_foreach(json_object_get(from, "configs"), i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		if (!id || find_config(other, id))
			continue;
		if (total++ == 0)
			printf("\nonly in %s (not compared):\n", what);
		if (shown < 20) {
			printf("  %s\n", id);
			shown++;
		}
	}
	if (total > shown)
		printf("  ... and %zu more\n", total - shown);
}

static void list_params_differ(json_t *base, json_t *newer, struct tally *t)
{
	json_t *c;
	size_t i, shown = 0;
	json_array_foreach(json_object_get(newer, "configs"), i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *b = id ? find_config(base, id) : NULL;
		if (!b || results_same_params(b, c))
			continue;
		if (t->params_differ++ == 0)
			printf("\n");
		if (shown < 20) {
			char why[512];
			describe_params_diff(b, c, why, sizeof why);
			printf("not compared: %s: params differ (%s)\n", id, why);
			shown++;
		}
	}
	if (t->params_differ > shown)
		printf("not compared: %zu more configurations whose params "
		       "differ\n", t->params_differ - shown);
}

static void compare_configs(json_t *base, json_t *newer, const struct opts *o,
			    struct tally *t)
{
	json_t *c;
	size_t i;
	printf("\nmedian wall times; change > 0 means slower; p from a two-sided "
	       "Mann-Whitney U test\n\n");
	printf("%-44s %13s %13s %10s  %7s  %s\n", "configuration",
	       "base median", "new median", "change", "p", "verdict");
	json_array_foreach(json_object_get(newer, "configs"), i, c) {
		json_t *b = find_match(base, c);
		if (b)
			compare_one(b, c, json_string_value(json_object_get(c,
					"id")), o, t);
	}
}

static void list_not_compared(json_t *base, json_t *newer, struct tally *t)
{
	list_params_differ(base, newer, t);
	list_unmatched(base, newer, "the base run");
	list_unmatched(newer, base, "the new run");
}

/* ---- scaling ---- */

static json_t *find_fit(json_t *fits, const char *series)
{
	json_t *f;
	size_t i;
	json_array_foreach(fits, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "series")),
			    series))
			return f;
	return NULL;
}

/* The worker count with the lowest median wall time in a series; *wall
 * receives that time. 0 when the series has no ok configuration. */
static json_int_t best_workers(json_t *doc, const char *series, double *wall)
{
	json_t *c;
	size_t i;
	json_int_t best = 0;
	char key[512];
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		json_t *m = json_object_get(c, "median_wall_s");
		if (doc_series_key(c, DOC_KEY_ALL, key, sizeof key) || strcmp(key, series) ||
		    strcmp(status_of(c), "ok") || !json_is_number(m))
			continue;
		if (!best || json_number_value(m) < *wall) {
			best = json_integer_value(json_object_get(c, "workers"));
			*wall = json_number_value(m);
		}
	}
	return best;
}

static double wall_at(json_t *doc, const char *series, json_int_t workers)
{
	json_t *c;
	size_t i;
	char key[512];
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		json_t *m = json_object_get(c, "median_wall_s");
		if (!doc_series_key(c, DOC_KEY_ALL, key, sizeof key) && !strcmp(key, series) &&
		    json_integer_value(json_object_get(c, "workers")) == workers &&
		    !strcmp(status_of(c), "ok") && json_is_number(m))
			return json_number_value(m);
	}
	return NAN;
}

static double peak_of(json_t *fit)
{
	json_t *p = json_object_get(fit, "peak_workers");
	if (!json_is_true(json_object_get(fit, "fitted")))
		return NAN;
	return json_is_number(p) ? json_number_value(p) : INFINITY;
}

static int peak_regressed(json_t *fb, json_t *fn, const struct opts *o,
			  char *why, size_t len)
{
	double pb = peak_of(fb), pn = peak_of(fn);
	if (isnan(pb) || isnan(pn) || !isfinite(pn))
		return 0;
	if (isfinite(pb) && !(pn < pb * (1 - o->threshold) && pb - pn >= 0.5))
		return 0;
	if (isfinite(pb))
		snprintf(why, len, "the USL peak fell from %.1f to %.1f workers",
			 pb, pn);
	else
		snprintf(why, len, "it now peaks near %.1f workers (before: no "
			 "peak within reach)", pn);
	return 1;
}

/* The fastest worker count fell, and in the new run the old best count
 * is slower than the new best by more than the threshold (not a tie). */
static int best_regressed(json_t *base, json_t *newer, const char *series,
			  const struct opts *o, char *why, size_t len)
{
	double wb = 0, wn = 0;
	json_int_t bb = best_workers(base, series, &wb);
	json_int_t bn = best_workers(newer, series, &wn);
	if (!bb || !bn || bn >= bb)
		return 0;
	double old_best_now = wall_at(newer, series, bb);
	if (!(old_best_now > wn * (1 + o->threshold)))
		return 0;
	snprintf(why, len, "the fastest worker count fell from %lld to %lld "
		 "(%lld workers are now %.0f %% slower than %lld)",
		 (long long)bb, (long long)bn, (long long)bb,
		 100 * (old_best_now / wn - 1), (long long)bn);
	return 1;
}

/* A series' scaling is judged only when all its configurations, in both
 * runs, ran with the same params. */
static int series_params_agree(json_t *base, json_t *newer, const char *series)
{
	json_t *docs[] = {base, newer}, *c, *first = NULL;
	char key[512];
	size_t i;
	for (int d = 0; d < 2; d++)
		json_array_foreach(json_object_get(docs[d], "configs"), i, c) {
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

static void compare_scaling(json_t *base, json_t *newer, const struct opts *o,
			    struct tally *t)
{
	json_t *fb = summary_fits(base), *fn = summary_fits(newer), *f;
	size_t i;
	int header = 0;
	json_array_foreach(fn, i, f) {
		const char *s = json_string_value(json_object_get(f, "series"));
		json_t *old = find_fit(fb, s);
		char why[2][256];
		if (!old || !series_params_agree(base, newer, s))
			continue;
		int p = peak_regressed(old, f, o, why[0], sizeof why[0]);
		int b = best_regressed(base, newer, s, o, why[1], sizeof why[1]);
		if (!p && !b)
			continue;
		if (!header++)
			printf("\nscaling regressions:\n");
		printf("  %s: %s%s%s\n", s, p ? why[0] : "",
		       p && b ? "; " : "", b ? why[1] : "");
		t->scaling++;
	}
}

/* ---- summary ---- */

static void print_summary(const struct tally *t, const struct opts *o)
{
	printf("\n%zu configuration%s compared: %zu regressed (slower by more "
	       "than %.0f %% with p < %g), %zu faster, %zu changed within "
	       "noise, %zu could not be judged.\n", t->compared,
	       t->compared == 1 ? "" : "s", t->regressed, 100 * o->threshold,
	       o->alpha, t->improved, t->noise, t->untestable);
	if (t->params_differ)
		printf("%zu configuration%s not compared: same id, other params.\n",
		       t->params_differ, t->params_differ == 1 ? "" : "s");
	if (t->scaling)
		printf("%zu series scale worse than before.\n", t->scaling);
	if (t->compared && t->worst_min_p >= o->alpha)
		printf("note: with as few as %zu repetitions on a side the "
		       "smallest possible p is %.3f, so no change can be called "
		       "significant at alpha %g; run with more repetitions "
		       "(--reps).\n", t->min_reps, t->worst_min_p, o->alpha);
	else if (t->compared && t->min_reps < MW_GOOD_REPS)
		printf("note: %zu repetitions on a side make a weak U test; "
		       "%d or more are recommended.\n", t->min_reps,
		       MW_GOOD_REPS);
	if (!t->regressed && !t->scaling)
		printf("no regression.\n");
}

/* ---- options ---- */

static int parse_number(const char *what, const char *s, double lo, double hi,
			double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi)) {
		return verb_error("compare", -1, "%s '%s' must be a number in "
				  "[%g, %g]", what, s, lo, hi);
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"threshold", required_argument, NULL, 't'},
		{"alpha", required_argument, NULL, 'a'},
		{"history", required_argument, NULL, 'H'},
		{"last", required_argument, NULL, 'l'},
		{"machine", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double last = 2;
	int c;
	optind = 1;
	while ((c = verb_getopt("compare", argc, argv, "h", lo)) != -1) {
		if (c == 't' && parse_number("--threshold", optarg, 0, 1000,
					     &o->threshold))
			return EXIT_USAGE;
		if (c == 'a' && parse_number("--alpha", optarg, 1e-9, 1,
					     &o->alpha))
			return EXIT_USAGE;
		if (c == 'l' && (parse_number("--last", optarg, 2, 100000, &last) ||
				 last != floor(last)))
			return EXIT_USAGE;
		if (c == 'H')
			o->history = optarg;
		if (c == 'm')
			o->machine = optarg;
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == '?')
			return EXIT_USAGE;
	}
	o->threshold /= 100;
	o->last = (int)last;
	return -1; /* go on */
}

static int run(json_t *base, json_t *newer, const char *lb, const char *ln,
	       const struct opts *o)
{
	char db[512], dn[512];
	struct tally t = {0};
	describe_doc(base, lb, db, sizeof db);
	describe_doc(newer, ln, dn, sizeof dn);
	printf("base: %s\nnew:  %s\n", db, dn);
	if (strcmp(results_machine(base), results_machine(newer)))
		printf("note: the runs are from different machines (%s, %s): "
		       "differences may be the machines', not the code's\n",
		       results_machine(base), results_machine(newer));
	if (!count_matches(base, newer)) {
		list_not_compared(base, newer, &t);
		fflush(stdout); /* keep the order in a combined log */
		return verb_error("compare", EXIT_USAGE, "nothing to compare: "
				  "no configuration has the same id and "
				  "params in both runs");
	}
	compare_configs(base, newer, o, &t);
	list_not_compared(base, newer, &t);
	compare_scaling(base, newer, o, &t);
	print_summary(&t, o);
	return t.regressed || t.scaling ? EXIT_FOUND : EXIT_OK;
}

int cmd_compare(int argc, char **argv)
{
	struct opts o = {.threshold = 5, .alpha = 0.05, .last = 2};
	int rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	int nfiles = argc - optind;
	json_t *base, *newer;
	errbuf e;
	char lb[64], ln[64];
	if (o.history ? nfiles != 0 : nfiles != 2) {
		return verb_error("compare", EXIT_USAGE, "give BASE.json "
				  "NEW.json, or --history DB (see 'contend "
				  "compare --help')");
	}
	rc = o.history ? load_pair_history(&o, &base, &newer, lb, ln, sizeof lb,
					   &e)
		       : load_pair_files(argv[optind], argv[optind + 1], &base,
					 &newer, &e);
	if (rc) /* a history server that is down: a runtime failure */
		return verb_fail("compare", rc == HISTORY_UNAVAILABLE
				 ? EXIT_RUNTIME : EXIT_USAGE, &e);
	rc = run(base, newer, o.history ? lb : argv[optind],
		 o.history ? ln : argv[optind + 1], &o);
	json_decref(base);
	json_decref(newer);
	return rc;
}
