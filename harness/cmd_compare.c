/* cmd_compare.c - `contend compare`: load two runs, judge them with the
 * compare engine (analysis/compare.h), print its result as text or JSON. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/interference.h"
#include "common/err.h"
#include "document/doc.h"
#include "document/history.h"
#include "document/results.h"
#include "harness/commands.h"
#include "harness/verb.h"

struct opts {
	struct compare_opts judge;
	const char *db;
	const char *machine; /* --machine, or NULL: the newest run's */
	int last;
	int json;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend compare [options] BASE.json NEW.json\n"
		"       contend compare [options] --db FILE [--last N]\n"
		"\n"
		"Compare two runs configuration by configuration, matched by\n"
		"series (workload, build, pool and every other dimension),\n"
		"worker count and workload parameters: a configuration whose\n"
		"params differ is listed as not compared, never as a regression.\n"
		"A configuration regressed when its median wall time grew by more\n"
		"than the threshold and a two-sided Mann-Whitney U test over the\n"
		"repetitions gives p < alpha. A series regressed in scaling when its\n"
		"USL peak worker count or its fastest worker count fell.\n"
		"Files may be contend results or Google Benchmark JSON.\n"
		"\n"
		"  --threshold PCT  smallest change that counts, in %% (default 5)\n"
		"  --alpha A        significance level (default 0.05)\n"
		"  --db FILE        take both runs from a history: a SQLite file or\n"
		"                   a postgresql://... URI (contend history --help;\n"
		"                   --history FILE is the same)\n"
		"  --last N         with --db: the newest run against the run\n"
		"                   N-1 runs before it that share a configuration\n"
		"                   (same id and params; default 2) on the same\n"
		"                   machine\n"
		"  --machine NAME   with --db: that machine's newest run\n"
		"                   (default: the machine that ran last)\n"
		"  --json           print the comparison as JSON (docs/reports.md)\n"
		"  -h, --help       this help\n"
		"\n"
		"exit status: 0 no regression, 1 a regression, 2 bad input or\n"
		"nothing to compare (no configuration with the same id and params\n"
		"in both runs), 3 a runtime failure (the history database, a\n"
		"PostgreSQL server that is down)\n");
}

/* ---- loading ---- */

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
	int rc = history_open(o->db, 0, &h, e);
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

/* ---- text ---- */

static void describe_doc(json_t *doc, const char *label, char *buf,
			 size_t len)
{
	json_t *ctx = doc_context(doc);
	snprintf(buf, len, "%s (machine %s, git %s, %s)", label,
		 results_machine(doc), doc_str(ctx, "git_rev", "?"),
		 doc_str(ctx, "utc_time", "time unknown"));
}

/* A regression measured while other programs took the machine, on
 * either side: said under its row. */
static void print_busy(const struct compare_pair *p)
{
	char tb[48], tn[48];
	interference_phrase(p->base, tb, sizeof tb);
	interference_phrase(p->newer, tn, sizeof tn);
	printf("  ~ coincides with interference: the machine was busy in ");
	if (p->busy_base && p->busy_new)
		printf("both runs (%s, then %s taken by other programs)", tb, tn);
	else
		printf("the %s run (%s taken by other programs)",
		       p->busy_base ? "base" : "new", p->busy_base ? tb : tn);
	printf(": other programs can explain it; measure again on an idle "
	       "machine\n");
}

static void print_pair(const struct compare_pair *p)
{
	const struct change_verdict *v = &p->v;
	char pv[32] = "-";
	if (!p->judged) {
		printf("%-44s cannot compare: %s\n", p->id, p->why);
		return;
	}
	if (v->tested && v->mw.p < 1e-4)
		snprintf(pv, sizeof pv, "<0.0001");
	else if (v->tested)
		snprintf(pv, sizeof pv, "%.4f", v->mw.p);
	printf("%-44s %11.4g s %11.4g s %+8.1f %%  %7s  %s\n", p->id,
	       v->base_median, v->new_median, 100 * v->change, pv,
	       change_kind_words(v->kind));
	if (v->kind == CHANGE_SLOWER && (p->busy_base || p->busy_new))
		print_busy(p);
}

static void print_pairs(const struct compare_result *r)
{
	printf("\nmedian wall times; change > 0 means slower; p from a two-sided "
	       "Mann-Whitney U test\n\n");
	printf("%-44s %13s %13s %10s  %7s  %s\n", "configuration",
	       "base median", "new median", "change", "p", "verdict");
	for (size_t i = 0; i < r->npairs; i++)
		print_pair(&r->pairs[i]);
}

static void print_ids(const char *const *ids, size_t n, const char *what)
{
	if (!n)
		return;
	printf("\nonly in %s (not compared):\n", what);
	for (size_t i = 0; i < n && i < 20; i++)
		printf("  %s\n", ids[i]);
	if (n > 20)
		printf("  ... and %zu more\n", n - 20);
}

static void print_not_compared(const struct compare_result *r)
{
	if (r->ndiffer)
		printf("\n");
	for (size_t i = 0; i < r->ndiffer && i < 20; i++)
		printf("not compared: %s: params differ (%s)\n",
		       r->differ[i].id, r->differ[i].why);
	if (r->ndiffer > 20)
		printf("not compared: %zu more configurations whose params "
		       "differ\n", r->ndiffer - 20);
	print_ids(r->only_base, r->nonly_base, "the base run");
	print_ids(r->only_new, r->nonly_new, "the new run");
}

static void print_scaling(const struct compare_result *r)
{
	if (r->nscaling)
		printf("\nscaling regressions:\n");
	for (size_t i = 0; i < r->nscaling; i++)
		printf("  %s: %s%s\n", r->scaling[i].series, r->scaling[i].why,
		       r->scaling[i].busy_rows ? "; coincides with interference "
		       "(rows of the series were measured busy)" : "");
}

static void print_summary(const struct compare_tally *t,
			  const struct compare_opts *o)
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
	if (t->busy)
		printf("%zu of the %zu regressions coincide with interference on "
		       "either side (the ~ lines): other programs can explain "
		       "them; measure again on an idle machine before believing "
		       "them.\n", t->busy, t->regressed);
	if (t->compared && t->worst_min_p >= o->alpha)
		printf("note: as few as %zu repetitions on a side can never "
		       "reach p < %g: the smallest possible p is %.3f, so no "
		       "change can be called a regression, however large; run "
		       "with --reps %zu or more.\n", t->min_reps, o->alpha,
		       t->worst_min_p, mw_reps_needed(o->alpha));
	else if (t->compared && t->min_reps < MW_GOOD_REPS)
		printf("note: %zu repetitions on a side make a weak U test; "
		       "%d or more are recommended.\n", t->min_reps,
		       MW_GOOD_REPS);
	if (!t->regressed && !t->scaling)
		printf("no regression.\n");
}

static void print_text(const struct compare_result *r, json_t *base,
		       json_t *newer, const char *lb, const char *ln,
		       const struct compare_opts *o)
{
	char db[512], dn[512];
	describe_doc(base, lb, db, sizeof db);
	describe_doc(newer, ln, dn, sizeof dn);
	printf("base: %s\nnew:  %s\n", db, dn);
	if (r->machines_differ)
		printf("note: the runs are from different machines (%s, %s): "
		       "differences may be the machines', not the code's\n",
		       results_machine(base), results_machine(newer));
	if (!r->npairs) {
		print_not_compared(r);
		return;
	}
	print_pairs(r);
	print_not_compared(r);
	print_scaling(r);
	print_summary(&r->tally, o);
}

/* ---- JSON ---- */

static json_t *side_json(json_t *doc, const char *label)
{
	json_t *ctx = doc_context(doc);
	const char *git = doc_str(ctx, "git_rev", NULL);
	const char *t = doc_str(ctx, "utc_time", NULL);
	return json_pack("{s:s, s:s, s:o, s:o}", "label", label, "machine",
			 results_machine(doc), "git_rev",
			 git ? json_string(git) : json_null(), "utc_time",
			 t ? json_string(t) : json_null());
}

static int print_json(const struct compare_result *r, json_t *base,
		      json_t *newer, const char *lb, const char *ln,
		      const struct compare_opts *o)
{
	json_t *result = compare_result_json(r, o);
	json_t *out = json_pack("{s:O, s:o, s:o}", "schema",
				json_object_get(result, "schema"), "base",
				side_json(base, lb), "new", side_json(newer, ln));
	json_object_update(out, result); /* the sides first, for a reader */
	json_decref(result);
	int rc = json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
	json_decref(out);
	printf("\n");
	return rc;
}

/* ---- options ---- */

static int parse_number(const char *what, const char *s, double lo, double hi,
			double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi))
		return verb_error("compare", -1, "%s '%s' must be a number in "
				  "[%g, %g]", what, s, lo, hi);
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"threshold", required_argument, NULL, 't'},
		{"alpha", required_argument, NULL, 'a'},
		{"db", required_argument, NULL, 'H'},
		{"history", required_argument, NULL, 'H'}, /* the old name */
		{"last", required_argument, NULL, 'l'},
		{"machine", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double last = 2;
	int c;
	optind = 1;
	while ((c = verb_getopt("compare", argc, argv, "h", lo)) != -1) {
		if (c == 't' && parse_number("--threshold", optarg, 0, 1000,
					     &o->judge.threshold))
			return EXIT_USAGE;
		if (c == 'a' && parse_number("--alpha", optarg, 1e-9, 1,
					     &o->judge.alpha))
			return EXIT_USAGE;
		if (c == 'l' && (parse_number("--last", optarg, 2, 100000, &last) ||
				 last != floor(last)))
			return EXIT_USAGE;
		if (c == 'H')
			o->db = optarg;
		if (c == 'm')
			o->machine = optarg;
		if (c == 'j')
			o->json = 1;
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == '?')
			return EXIT_USAGE;
	}
	o->judge.threshold /= 100;
	o->last = (int)last;
	return -1; /* go on */
}

static int judge_and_print(json_t *base, json_t *newer, const char *lb,
			   const char *ln, const struct opts *o)
{
	struct compare_result r;
	errbuf e;
	if (compare_docs(base, newer, &o->judge, &r, &e))
		return verb_error("compare", EXIT_RUNTIME, "%s", e.msg);
	if (o->json)
		print_json(&r, base, newer, lb, ln, &o->judge);
	else
		print_text(&r, base, newer, lb, ln, &o->judge);
	int rc = r.regression ? EXIT_FOUND : EXIT_OK;
	size_t npairs = r.npairs;
	compare_result_free(&r);
	if (!npairs) {
		fflush(stdout); /* keep the order in a combined log */
		return verb_error("compare", EXIT_USAGE, "nothing to compare: "
				  "no configuration has the same id and "
				  "params in both runs");
	}
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	struct opts o = {.judge = {.threshold = 5, .alpha = 0.05}, .last = 2};
	int rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	int nfiles = argc - optind;
	json_t *base, *newer;
	errbuf e;
	char lb[64], ln[64];
	if (o.db ? nfiles != 0 : nfiles != 2)
		return verb_error("compare", EXIT_USAGE, "give BASE.json "
				  "NEW.json, or --db FILE (see 'contend "
				  "compare --help')");
	rc = o.db ? load_pair_history(&o, &base, &newer, lb, ln, sizeof lb, &e)
		  : load_pair_files(argv[optind], argv[optind + 1], &base,
				    &newer, &e);
	if (rc) /* a history server that is down: a runtime failure */
		return verb_fail("compare", rc == HISTORY_UNAVAILABLE
				 ? EXIT_RUNTIME : EXIT_USAGE, &e);
	rc = judge_and_print(base, newer, o.db ? lb : argv[optind],
			     o.db ? ln : argv[optind + 1], &o);
	json_decref(base);
	json_decref(newer);
	return rc;
}
