/* dashboard.c - the static HTML dashboard (see dashboard.h).
 *
 * One index.html with a section per workload, written atomically; plots
 * live in one directory per workload. A missing gnuplot costs the images,
 * never the tables: the page says why they are missing. */
#include "report/dashboard.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "document/doc.h"
#include "document/history.h"
#include "analysis/interference.h"
#include "analysis/mannwhitney.h"
#include "report/dashboard_fleet.h"
#include "report/dashboard_notes.h"
#include "report/plots.h"
#include "report/safefile.h"
#include "report/table.h"
#include "analysis/diagnosis.h"
#include "analysis/summary.h"

#define TREND_TABLE_RUNS 10

struct page {
	FILE *f;
	const struct dashboard_opts *o;
	struct dashboard_summary *s;
	history *h;
	json_t *machines; /* sorted names */
	errbuf *e;
};

void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Write escaped printf-formatted text. */
static void esc(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void esc(FILE *f, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	html_escape(f, buf);
}

/* A configuration id without its workload: "release/thread/w2". */
static const char *short_id(const char *id, const char *w)
{
	size_t n = strlen(w);
	return strncmp(id, w, n) || id[n] != '/' ? id : id + n + 1;
}

static void cell_na(FILE *f)
{
	fputs("<td class=\"na\">n/a</td>", f);
}

/* fmt applied to v (times scale), or n/a when v is not a number. */
static void cell_fmt(FILE *f, double v, const char *fmt, double scale)
{
	if (!isfinite(v)) {
		cell_na(f);
		return;
	}
	fputs("<td class=\"num\">", f);
	fprintf(f, fmt, v * scale);
	fputs("</td>", f);
}

/* Seconds as the terminal writes them: "812 us", "12.3 ms", "1.23 s". */
static void cell_seconds(FILE *f, double s)
{
	char b[32];
	if (!isfinite(s)) {
		cell_na(f);
		return;
	}
	table_fmt_seconds(s, b, sizeof b);
	fprintf(f, "<td class=\"num\">%s</td>", b);
}

/* ---- page frame ---- */

static const char *const style =
	"body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0 1em}"
	"th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
	"th{background:#f0f0f0}td.num{text-align:right}td.na{color:#999}"
	"tr.slower td,td.regression{background:#fde2e2}"
	"td.regression{font-weight:bold;color:#a00}"
	"tr.failed td{background:#fff3cd}"
	"img{max-width:100%;border:1px solid #ddd;margin:.3em 0}"
	"figure{margin:1em 0}.note{color:#555}.warn{color:#a00}"
	"pre.terminal{background:#f7f7f7;border:1px solid #ddd;padding:.6em;"
	"overflow-x:auto;font-size:85%}ul.diagnosis li{margin:.2em 0}"
	"section{border-top:2px solid #444;margin-top:2em}";

static void page_head(struct page *p, size_t nworkloads, size_t nruns)
{
	size_t nm = json_array_size(p->machines);
	char now[32];
	time_t t = time(NULL);
	strftime(now, sizeof now, "%Y-%m-%d %H:%M UTC", gmtime(&t));
	fprintf(p->f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\""
		"script-src 'none'; connect-src 'none'; object-src 'none'\">\n"
		"<title>contend dashboard</title>\n<style>%s</style>\n"
		"</head>\n<body>\n<h1>contend dashboard</h1>\n<p class=\"note\">",
		style);
	char loc[4096];
	history_location_display(p->o->history, loc, sizeof loc);
	esc(p->f, "Built %s from %s: %zu run%s of %zu machine%s, %zu "
	    "workload%s. A regression is a median wall time more than %.0f %% "
	    "above the previous run's of the same machine with Mann-Whitney "
	    "p < %g.", now, loc, nruns, nruns == 1 ? "" : "s", nm,
	    nm == 1 ? "" : "s", nworkloads, nworkloads == 1 ? "" : "s",
	    100 * p->o->threshold, p->o->alpha);
	fputs("</p>\n", p->f);
}

static void page_nav(struct page *p, json_t *workloads)
{
	json_t *w;
	size_t i;
	fputs("<nav><ul>\n", p->f);
	json_array_foreach(workloads, i, w) {
		char slug[80];
		plots_slug(json_string_value(w), slug, sizeof slug);
		fprintf(p->f, "<li><a href=\"#w-%s\">", slug);
		html_escape(p->f, json_string_value(w));
		fputs("</a></li>\n", p->f);
	}
	fputs("</ul></nav>\n", p->f);
}

/* ---- latest run ---- */

static void run_context(struct page *p, json_t *doc, int64_t run_id)
{
	json_t *c = json_object_get(doc, "context");
	const char *t = doc_str(c, "utc_time", ""), *cpu = doc_str(c, "cpu_model", "");
	const char *git = doc_str(c, "git_rev", ""), *st = doc_str(doc, "status", "");
	fputs("<p class=\"note\">", p->f);
	const char *host = doc_str(c, "host", "");
	esc(p->f, "Latest run: %lld, %s on host %s", (long long)run_id,
	    t[0] ? t : "time unknown", host[0] ? host : "?");
	if (json_is_integer(json_object_get(c, "logical_cores")))
		esc(p->f, ", %lld logical cores",
		    (long long)doc_int(c, "logical_cores", 0));
	if (cpu[0])
		esc(p->f, " (%s)", cpu);
	esc(p->f, ", git %s, %s.", git[0] ? git : "unknown",
	    st[0] ? st : "status unknown");
	if (doc_str(c, "command", "")[0]) {
		fputs(" Command: <code>", p->f);
		html_escape(p->f, doc_str(c, "command", ""));
		fputs("</code>", p->f);
	}
	fputs("</p>\n", p->f);
}

static void scaling_row(struct page *p, json_t *c, const char *w)
{
	const char *st = doc_str(c, "status", "");
	json_t *slower = json_object_get(c, "slower");
	const char *cls = strcmp(st, "ok") ? " class=\"failed\""
			  : json_is_object(slower) ? " class=\"slower\"" : "";
	char lo[32], hi[32];
	fprintf(p->f, "<tr%s><td>", cls);
	html_escape(p->f, short_id(doc_str(c, "id", ""), w));
	fprintf(p->f, "</td><td class=\"num\">%lld</td>",
		(long long)doc_int(c, "workers", 0));
	cell_seconds(p->f, doc_num(c, "median_wall_s", NAN));
	if (json_is_number(json_object_get(c, "ci_low_s"))) {
		table_fmt_seconds(doc_num(c, "ci_low_s", 0), lo, sizeof lo);
		table_fmt_seconds(doc_num(c, "ci_high_s", 0), hi, sizeof hi);
		fprintf(p->f, "<td class=\"num\">%s &ndash; %s</td>", lo, hi);
	} else {
		cell_na(p->f);
	}
	cell_fmt(p->f, doc_num(c, "speedup", NAN), "%.2fx", 1);
	cell_fmt(p->f, doc_num(c, "efficiency", NAN), "%.0f %%", 100);
	cell_fmt(p->f, doc_num(c, "cpu_util", NAN), "%.2f", 1);
	cell_fmt(p->f, doc_figure(c, "lock.share", NAN), "%.0f %%", 100);
	cell_fmt(p->f, doc_figure(c, "memory.peak_threads", NAN), "%.0f", 1);
	fputs("<td>", p->f);
	html_escape(p->f, st);
	if (doc_str(c, "detail", "")[0])
		esc(p->f, ": %s", doc_str(c, "detail", ""));
	if (json_is_object(slower))
		esc(p->f, "; %.2fx slower than %s",
		    doc_num(slower, "ratio", 0),
		    doc_str(slower, "than", ""));
	fputs("</td></tr>\n", p->f);
}

static void scaling_table(struct page *p, json_t *configs, const char *w)
{
	json_t *c;
	size_t i;
	fputs("<h4>Scaling in the latest run</h4>\n<table class=\"scaling\">"
	      "<thead><tr><th>configuration</th><th>workers</th>"
	      "<th>median wall</th><th>confidence interval</th>"
	      "<th>speedup</th><th>efficiency</th><th>cores busy</th>"
	      "<th>lock wait</th><th>threads</th><th>status</th></tr></thead>"
	      "\n<tbody>\n", p->f);
	json_array_foreach(configs, i, c)
		scaling_row(p, c, w);
	fputs("</tbody></table>\n", p->f);
}

static void fits_list(struct page *p, json_t *doc)
{
	json_t *fits = summary_derived(doc), *f;
	size_t i;
	if (json_array_size(fits))
		fputs("<ul class=\"fits\">\n", p->f);
	json_array_foreach(fits, i, f) {
		fputs("<li><b>", p->f);
		html_escape(p->f, doc_str(f, "series", ""));
		fputs("</b>: ", p->f);
		html_escape(p->f, doc_str(f, "summary", ""));
		fputs("</li>\n", p->f);
	}
	if (json_array_size(fits))
		fputs("</ul>\n", p->f);
}

/* An entry about the document as a whole, or about a configuration of
 * the workload's part wd. */
static int entry_in(json_t *e, json_t *wd)
{
	json_t *id, *c;
	size_t i, j;
	if (!json_array_size(json_object_get(e, "configs")))
		return 1;
	json_array_foreach(json_object_get(e, "configs"), i, id)
		doc_foreach_config(wd, j, c)
			if (json_is_string(id) &&
			    !strcmp(doc_str(c, "id", ""), json_string_value(id)))
				return 1;
	return 0;
}

/* The run's stored diagnosis, the entries of this workload. */
static void diagnosis_list(struct page *p, json_t *doc, json_t *wd)
{
	json_t *e;
	size_t i;
	int n = 0;
	json_array_foreach(diagnosis_of(doc), i, e) {
		if (!entry_in(e, wd))
			continue;
		if (!n++)
			fputs("<h4>Diagnosis</h4>\n<ul class=\"diagnosis\">\n", p->f);
		fputs("<li><b>", p->f);
		html_escape(p->f, doc_str(e, "cause", "?"));
		fputs("</b>: ", p->f);
		html_escape(p->f, doc_str(e, "evidence", ""));
		if (*doc_str(e, "advice", "")) {
			fputs(". <i>", p->f);
			html_escape(p->f, doc_str(e, "advice", ""));
			fputs("</i>", p->f);
		}
		fputs("</li>\n", p->f);
	}
	if (n)
		fputs("</ul>\n", p->f);
}

/* ---- plots ---- */

static void note_plot_error(struct page *p, const char *msg)
{
	if (p->s->plots_ok) {
		p->s->plots_ok = 0;
		snprintf(p->s->plots_error, sizeof p->s->plots_error, "%s", msg);
	}
	fputs("<p class=\"warn\">Plots unavailable: ", p->f);
	html_escape(p->f, msg);
	fputs("</p>\n", p->f);
}

/* <img> for every PNG, linking its SVG; paths relative to index.html. */
static void images(struct page *p, const char *slug, char **files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(files[i], '/');
		base = base ? base + 1 : files[i];
		size_t len = strlen(base);
		if (len < 5 || strcmp(base + len - 4, ".png"))
			continue;
		fprintf(p->f, "<figure><a href=\"%s/%.*s.svg\"><img src=\"%s/",
			slug, (int)(len - 4), base, slug);
		html_escape(p->f, base);
		fprintf(p->f, "\" alt=\"%.*s\"></a></figure>\n", (int)(len - 4),
			base);
	}
}

static void latest_plots(struct page *p, json_t *doc, const char *slug)
{
	char **files = NULL;
	size_t n = 0;
	errbuf e;
	fputs("<h4>Plots of the latest run</h4>\n", p->f);
	if (plots_render(doc, p->o->outdir, slug, &files, &n, &e))
		note_plot_error(p, e.msg);
	else
		images(p, slug, files, n);
	plots_free(files, n);
}

/* ---- trend ---- */

static size_t walls_of(json_t *pt, double *w, size_t cap)
{
	json_t *a = json_object_get(pt, "walls");
	size_t n = 0;
	for (; n < json_array_size(a) && n < cap; n++)
		w[n] = json_number_value(json_array_get(a, n));
	return n;
}

/* Judge pt against the point before it; 1 when it regressed. */
static int judge_point(json_t *prev, json_t *pt,
		       const struct dashboard_opts *o)
{
	static double wa[4096], wb[4096];
	size_t na = walls_of(prev, wa, 4096), nb = walls_of(pt, wb, 4096);
	struct change_verdict v;
	errbuf e;
	if (!na || !nb ||
	    mw_judge(wa, na, wb, nb, o->threshold, o->alpha, &v, &e))
		return 0;
	json_object_set_new(pt, "change", json_real(v.change));
	if (v.tested) {
		json_object_set_new(pt, "p", json_real(v.mw.p));
		json_object_set_new(pt, "min_p", json_real(v.mw.min_p));
		json_object_set_new(pt, "min_reps", json_integer(
			(json_int_t)(na < nb ? na : nb)));
	}
	if (v.kind != CHANGE_SLOWER)
		return 0;
	json_object_set_new(pt, "regression", json_true());
	return 1;
}

/* Mark every regression in the trend; returns how many are at the
 * newest run. */
static size_t mark_regressions(json_t *trend, const struct dashboard_opts *o)
{
	json_t *c, *runs = json_object_get(trend, "runs");
	json_t *newest = json_object_get(
		json_array_get(runs, json_array_size(runs) - 1), "run_id");
	size_t i, latest = 0;
	json_array_foreach(json_object_get(trend, "configs"), i, c) {
		json_t *pts = json_object_get(c, "points");
		for (size_t k = 1; k < json_array_size(pts); k++) {
			json_t *pt = json_array_get(pts, k);
			if (judge_point(json_array_get(pts, k - 1), pt, o))
				latest += json_equal(json_object_get(pt, "run_id"),
						     newest);
		}
	}
	return latest;
}

/* Configuration id of a stored run, its documents cached by run id. */
static json_t *run_config(struct page *p, json_t *cache, json_t *run_id,
			  const char *id)
{
	char key[32];
	json_t *doc, *c;
	size_t i;
	errbuf e;
	snprintf(key, sizeof key, "%lld", (long long)json_integer_value(run_id));
	doc = json_object_get(cache, key);
	if (!doc && !history_get_run(p->h, json_integer_value(run_id), &doc, &e))
		json_object_set_new(cache, key, doc);
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!strcmp(doc_str(c, "id", ""), id))
			return c;
	return NULL;
}

/* Each regression whose run, or the run before, measured its
 * configuration busy: pt.interference names which ("previous run",
 * "this run", "both runs"). */
static void mark_interference(struct page *p, json_t *trend)
{
	json_t *cache = json_object(), *c;
	size_t i;
	json_array_foreach(json_object_get(trend, "configs"), i, c) {
		json_t *pts = json_object_get(c, "points");
		for (size_t k = 1; k < json_array_size(pts); k++) {
			json_t *pt = json_array_get(pts, k), *prev = json_array_get(pts, k - 1);
			if (!doc_bool(pt, "regression", 0))
				continue;
			const char *id = doc_str(c, "id", "");
			int a = interference_busy(run_config(p, cache, json_object_get(prev, "run_id"), id));
			int b = interference_busy(run_config(p, cache, json_object_get(pt, "run_id"), id));
			if (a || b)
				json_object_set_new(pt, "interference", json_string(
					a && b ? "both runs" : a ? "previous run" : "this run"));
		}
	}
	json_decref(cache);
}

/* Repetitions so few that the U test can never reach alpha: said above
 * the trend, since a trend without regressions would otherwise read as
 * "no regression" when none could ever have been shown. */
static void note_too_few(struct page *p, json_t *trend)
{
	json_t *c, *pt;
	size_t i, k, fewest = 0;
	double worst = 0;
	json_array_foreach(json_object_get(trend, "configs"), i, c)
		json_array_foreach(json_object_get(c, "points"), k, pt)
			if (doc_num(pt, "min_p", 0) >= p->o->alpha &&
			    doc_num(pt, "min_p", 0) > worst) {
				worst = doc_num(pt, "min_p", 0);
				fewest = (size_t)doc_int(pt, "min_reps", 0);
			}
	if (!fewest)
		return;
	fputs("<p class=\"note\">", p->f);
	esc(p->f, "Too few repetitions to call anything significant: %zu "
	    "repetitions against %zu can never reach p < %g (the smallest "
	    "possible p is %.3f), so no regression can show here, however "
	    "large; run with --reps %zu or more.", fewest, fewest,
	    p->o->alpha, worst, mw_reps_needed(p->o->alpha));
	fputs("</p>\n", p->f);
}

static json_t *point_of_run(json_t *c, json_t *run_id)
{
	json_t *pt;
	size_t i;
	json_array_foreach(json_object_get(c, "points"), i, pt)
		if (json_equal(json_object_get(pt, "run_id"), run_id))
			return pt;
	return NULL;
}

static void trend_cell(FILE *f, json_t *pt)
{
	json_t *m = json_object_get(pt, "median_wall_s");
	if (!pt || !json_is_number(m)) {
		fputs("<td class=\"na\">", f);
		if (pt)
			html_escape(f, doc_str(pt, "status", ""));
		else
			fputs("&ndash;", f);
		fputs("</td>", f);
		return;
	}
	int reg = doc_bool(pt, "regression", 0);
	char t[32];
	table_fmt_seconds(json_number_value(m), t, sizeof t);
	fprintf(f, "<td class=\"num%s\">%s", reg ? " regression" : "", t);
	json_t *ch = json_object_get(pt, "change");
	if (json_is_number(ch))
		fprintf(f, " (%+.1f %%)", 100 * json_number_value(ch));
	if (reg)
		fprintf(f, " REGRESSION, p=%.2g",
			doc_num(pt, "p", 0));
	if (reg && *doc_str(pt, "interference", ""))
		fprintf(f, ", coincides with interference (%s busy)",
			doc_str(pt, "interference", ""));
	fputs("</td>", f);
}

static void trend_head(struct page *p, json_t *r)
{
	const char *git = doc_str(r, "git_rev", "");
	fputs("<th>", p->f);
	esc(p->f, "run %lld",
	    (long long)doc_int(r, "run_id", 0));
	fputs("<br>", p->f);
	esc(p->f, "%.10s", doc_str(r, "utc_time", ""));
	fputs("<br>", p->f);
	esc(p->f, "git %s", git[0] ? git : "?");
	fputs("</th>", p->f);
}

/* Configurations down, the last TREND_TABLE_RUNS runs across. */
static void trend_table(struct page *p, json_t *trend, const char *w)
{
	json_t *runs = json_object_get(trend, "runs"), *c;
	size_t nr = json_array_size(runs), i;
	size_t first = nr > TREND_TABLE_RUNS ? nr - TREND_TABLE_RUNS : 0;
	fputs("<table class=\"trend\"><thead><tr><th>configuration</th>", p->f);
	for (i = first; i < nr; i++)
		trend_head(p, json_array_get(runs, i));
	fputs("</tr></thead>\n<tbody>\n", p->f);
	json_array_foreach(json_object_get(trend, "configs"), i, c) {
		fputs("<tr><td>", p->f);
		html_escape(p->f, short_id(doc_str(c, "id", ""), w));
		fputs("</td>", p->f);
		for (size_t k = first; k < nr; k++) {
			json_t *id = json_object_get(json_array_get(runs, k), "run_id");
			trend_cell(p->f, point_of_run(c, id));
		}
		fputs("</tr>\n", p->f);
	}
	fputs("</tbody></table>\n", p->f);
}

static int trend_section(struct page *p, const char *w, const char *m,
			 const char *slug)
{
	json_t *trend;
	char **files = NULL;
	size_t n = 0;
	errbuf e;
	int rc = history_trend(p->h, w, m, p->o->runs, &trend, p->e);
	if (rc)
		return rc; /* HISTORY_UNAVAILABLE stays a runtime failure */
	size_t latest = mark_regressions(trend, p->o);
	p->s->regressions += latest;
	mark_interference(p, trend);
	fputs("<h4>Trend over recent runs of this machine</h4>\n", p->f);
	note_too_few(p, trend);
	esc(p->f, "%zu regression%s in the latest run.", latest,
	    latest == 1 ? "" : "s");
	if (plots_render_trend(trend, p->o->outdir, slug, &files, &n, &e))
		note_plot_error(p, e.msg);
	else
		images(p, slug, files, n);
	plots_free(files, n);
	trend_table(p, trend, w);
	json_decref(trend);
	return 0;
}

/* ---- sections ---- */

static json_t *workload_doc(json_t *doc, const char *w)
{
	json_t *out = json_pack("{s:O, s:O, s:O, s:[]}", "schema",
				json_object_get(doc, "schema"), "status",
				json_object_get(doc, "status"), "context",
				json_object_get(doc, "context"), "configs");
	/* the run's diagnosis and fits come along (dashboard_notes) */
	static const char *const keep[] = {"diagnosis", "fits", NULL};
	for (size_t k = 0; keep[k]; k++)
		if (json_object_get(doc, keep[k]))
			json_object_set(out, keep[k], json_object_get(doc, keep[k]));
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!strcmp(doc_str(c, "workload", ""), w))
			json_array_append(json_object_get(out, "configs"), c);
	return out;
}

/* Workload w as machine m ran it: nothing when m never did. Plots go to
 * <workload slug>/<machine slug>/. */
static int machine_part(struct page *p, const char *w, const char *wslug,
			const char *m)
{
	int64_t run_id;
	json_t *doc;
	char mslug[80], slug[200];
	int rc = history_latest_run(p->h, w, m, &run_id, p->e);
	if (rc || !run_id)
		return rc;
	if ((rc = history_get_run(p->h, run_id, &doc, p->e)))
		return rc;
	plots_slug(m, mslug, sizeof mslug);
	snprintf(slug, sizeof slug, "%s/%s", wslug, mslug);
	json_t *wd = workload_doc(doc, w);
	fprintf(p->f, "<div class=\"machine\" id=\"w-%s-m-%s\">\n<h3>", wslug,
		mslug);
	esc(p->f, "%s on machine %s", w, m);
	fputs("</h3>\n", p->f);
	run_context(p, doc, run_id);
	scaling_table(p, json_object_get(wd, "configs"), w);
	fits_list(p, wd);
	diagnosis_list(p, doc, wd);
	dashboard_notes(p->f, wd);
	latest_plots(p, wd, slug);
	rc = trend_section(p, w, m, slug);
	fputs("</div>\n", p->f);
	json_decref(wd);
	json_decref(doc);
	return rc;
}

static int workload_section(struct page *p, const char *w)
{
	char slug[80];
	json_t *m;
	size_t i;
	plots_slug(w, slug, sizeof slug);
	fprintf(p->f, "<section id=\"w-%s\">\n<h2>", slug);
	html_escape(p->f, w);
	fputs("</h2>\n", p->f);
	int rc = dashboard_machines_side_by_side(p->f, p->h, w, p->machines,
						 p->e);
	json_array_foreach(p->machines, i, m)
		if (!rc)
			rc = machine_part(p, w, slug, json_string_value(m));
	fputs("</section>\n", p->f);
	return rc;
}

/* index.html replaced atomically by a file we created (report/safefile.h):
 * the site directory may be shared. */
static int write_atomic(const char *dir, const char *name, const char *text,
			size_t len, errbuf *e)
{
	int dirfd;
	struct safefile sf;
	if (safefile_opendir(dir, NULL, &dirfd, e))
		return -1;
	if (safefile_create(dirfd, name, &sf, e)) {
		close(dirfd);
		return errprefix(e, "%s", dir);
	}
	size_t done = 0;
	while (done < len) {
		ssize_t k = write(sf.fd, text + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int err = k < 0 ? errno : EIO;
			safefile_discard(&sf);
			close(dirfd);
			return errf(e, "cannot write '%s/%s': %s", dir, name,
				    strerror(err));
		}
		done += (size_t)k;
	}
	int rc = safefile_commit(&sf, e) ? errprefix(e, "%s", dir) : 0;
	close(dirfd);
	return rc;
}

static int build_page(struct page *p)
{
	json_t *workloads, *runs, *w;
	size_t i;
	int rc = history_workloads(p->h, &workloads, p->e);
	if (rc)
		return rc;
	p->machines = runs = NULL;
	if ((rc = history_machines(p->h, &p->machines, p->e)) ||
	    (rc = history_list(p->h, &runs, p->e))) {
		json_decref(p->machines);
		json_decref(workloads);
		return rc;
	}
	p->s->workloads = json_array_size(workloads);
	p->s->runs = json_array_size(runs);
	page_head(p, p->s->workloads, p->s->runs);
	page_nav(p, workloads);
	rc = 0;
	json_array_foreach(workloads, i, w)
		if (!rc)
			rc = workload_section(p, json_string_value(w));
	if (!json_array_size(workloads))
		fputs("<p>The history holds no runs yet.</p>\n", p->f);
	fputs("</body>\n</html>\n", p->f);
	json_decref(workloads);
	json_decref(runs);
	json_decref(p->machines);
	return rc;
}

int dashboard_build(const struct dashboard_opts *o,
		    struct dashboard_summary *s, errbuf *e)
{
	memset(s, 0, sizeof *s);
	s->plots_ok = 1;
	struct page p = {.o = o, .s = s, .e = e};
	int dirfd;
	if (safefile_opendir(o->outdir, NULL, &dirfd, e))
		return -1;
	close(dirfd);
	int orc = history_open(o->history, 0, &p.h, e);
	if (orc)
		return orc;
	char *text = NULL;
	size_t len = 0;
	p.f = open_memstream(&text, &len);
	int rc = p.f ? build_page(&p) : errf(e, "out of memory");
	if (p.f)
		fclose(p.f);
	history_close(p.h);
	snprintf(s->index, sizeof s->index, "%s/index.html", o->outdir);
	if (!rc)
		rc = write_atomic(o->outdir, "index.html", text, len, e);
	free(text);
	return rc ? DASHBOARD_FAILED : 0; /* the inputs were fine */
}
