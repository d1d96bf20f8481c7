/* test_dashboard.c - `contend dashboard` end to end, down to a real browser.
 *
 * A history with a known regression and a workload named like an HTML
 * injection is turned into a site; the page is checked as text and, when
 * Debian's chromium is installed, rendered headless (else skipped). The
 * site is built from a SQLite history, then from a PostgreSQL one
 * (tests/testutil_pg.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <jansson.h>
#include <sys/stat.h>

#include "document/history.h"
#include "report/plots.h"
#include "tests/testutil.h"
#include "tests/testutil_pg.h"

#define CHROMIUM "/usr/bin/chromium"
#define EVIL_WORKLOAD "<script>alert(1)</script>"
#define EVIL_HOST "<script>host</script>"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static double noise(void) /* uniform in [-1, 1), fixed sequence */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
		       9007199254740992.0 * 2 - 1;
}

/* workload w, 1..4 workers (Amdahl sigma 0.1), 10 repetitions with 2 %
 * noise; the config with slow_w workers is `slow` times slower. */
static json_t *run_doc(const char *w, const char *host, const char *utc,
		       int slow_w, double slow)
{
	json_t *cs = json_array();
	for (int n = 1; n <= 4; n *= 2) {
		double m = 8.0 * (1 + 0.1 * (n - 1)) / n * (n == slow_w ? slow : 1);
		json_t *reps = json_array();
		for (int r = 0; r < 10; r++)
			json_array_append_new(reps, json_pack("{s:f, s:s}", "wall_s",
							      m * (1 + 0.02 * noise()),
							      "status", "ok"));
		char id[256];
		snprintf(id, sizeof id, "%s/release/thread/w%d", w, n);
		double m1 = 8.0 * (1 + 0.1 * (1 == slow_w ? slow : 1) - 0.1);
		json_array_append_new(cs, json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:o, s:f, s:f, s:f, s:s,"
			" s:f, s:f, s:f, s:{s:f}, s:{s:i}}", "id",
			id, "workload", w, "build", "release", "pool", "thread",
			"workers", n, "reps", reps, "median_wall_s", m, "ci_low_s",
			m * 0.98, "ci_high_s", m * 1.02, "status", "ok",
			"speedup", m1 / m, "efficiency", m1 / m / n, "cpu_util",
			0.9 * n, "lock", "share", 0.05 * n, "memory",
			"peak_threads", n + 1));
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i}, s:o}", "schema",
			 "contend-results/1", "status", "complete", "context",
			 "host", host, "utc_time", utc, "git_rev", "abc",
			 "logical_cores", 2, "configs", cs);
}

struct fx {
	char *dir;
	char db[1100], site[512], index[600];
	char db2[1100]; /* a second, empty history (a file or a schema) */
	struct cmd_result r;
};

static void add(const char *db, json_t *doc)
{
	history *h;
	errbuf e;
	int64_t id;
	int dup;
	assert_int_equal(history_open(db, 1, &h, &e), 0);
	assert_int_equal(history_add(h, doc, "contend", NULL, &id, &dup, &e), 0);
	history_close(h);
	json_decref(doc);
}

/* pg: the histories are schemas on the test server, not files. */
static int setup_on(void **state, int pg)
{
	struct fx *f = calloc(1, sizeof *f);
	f->dir = tu_tempdir();
	*state = f;
	snprintf(f->db, sizeof f->db, "%s/history.db", f->dir);
	snprintf(f->db2, sizeof f->db2, "%s/fleet.db", f->dir);
	if (pg && (tu_pg_fresh(f->db, sizeof f->db) ||
		   tu_pg_fresh(f->db2, sizeof f->db2)))
		return -1;
	snprintf(f->site, sizeof f->site, "%s/site", f->dir);
	snprintf(f->index, sizeof f->index, "%s/index.html", f->site);
	add(f->db, run_doc("cf", "ci", "2024-01-01T00:00:00Z", 0, 1));
	add(f->db, run_doc("cf", "ci", "2024-01-02T00:00:00Z", 0, 1));
	add(f->db, run_doc("cf", "ci", "2024-01-03T00:00:00Z", 2, 1.25));
	add(f->db, run_doc(EVIL_WORKLOAD, EVIL_HOST, "2024-01-04T00:00:00Z", 0, 1));
	return 0;
}

static int setup(void **state)
{
	return setup_on(state, 0);
}

static int setup_pg(void **state)
{
	return setup_on(state, 1);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	rewind(fp);
	char *b = malloc((size_t)n + 1);
	b[fread(b, 1, (size_t)n, fp)] = 0;
	fclose(fp);
	return b;
}

static int has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return 0;
}

/* Every <img src="..."> names a file that exists in the site. */
static size_t check_images(const char *html, const char *site)
{
	size_t n = 0;
	for (const char *p = html; (p = strstr(p, "<img src=\"")); n++) {
		p += 10;
		char path[1200];
		snprintf(path, sizeof path, "%s/%.*s", site, (int)strcspn(p, "\""), p);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size > 1000);
	}
	return n;
}

static void build(struct fx *f)
{
	tu_contend(&f->r, "dashboard", "--history", f->db, "--out", f->site, NULL);
	assert_int_equal(f->r.status, 0);
}

static void test_site(void **state)
{
	struct fx *f = *state;
	build(f);
	assert_non_null(strstr(f->r.out, "1 regression"));
	assert_null(strstr(f->r.out, "plots are missing"));
	char *html = slurp(f->index);
	assert_non_null(html);
	assert_false(has_ci(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&lt;script&gt;host&lt;/script&gt;"));
	assert_non_null(strstr(html, "<table class=\"scaling\">"));
	assert_non_null(strstr(html, "<table class=\"trend\">"));
	/* what the terminal shows: cores busy, lock wait, threads, efficiency
	 * as %, times with their unit, and the report's notes */
	assert_non_null(strstr(html, "<th>cores busy</th><th>lock wait</th>"
				     "<th>threads</th>"));
	assert_non_null(strstr(html, "<td class=\"num\">8.00 s</td>"));
	assert_non_null(strstr(html, "<td class=\"num\">100 %</td>"));
	assert_non_null(strstr(html, "<td class=\"num\">1.80</td>"
				     "<td class=\"num\">10 %</td>"
				     "<td class=\"num\">3</td>"));
	assert_non_null(strstr(html, "<pre class=\"terminal\">"));
	assert_non_null(strstr(html, "Fastest: thread pool with 4 workers"));
	/* the regression is marked on the w2 row of cf, and only there */
	const char *cf = strstr(html, "<section id=\"w-cf\">");
	assert_non_null(cf);
	const char *row = strstr(strstr(cf, "<table class=\"trend\">"),
				 "<td>release/thread/w2</td>");
	assert_non_null(row);
	const char *end = strstr(row, "</tr>");
	const char *mark = strstr(row, "regression");
	assert_true(mark && mark < end);
	const char *first = strstr(html, "class=\"num regression\"");
	assert_true(first == strstr(row, "class=\"num regression\""));
	/* speedup, wall time and trend charts for both workloads */
	assert_true(check_images(html, f->site) >= 6);
	free(html);
}

/* run_doc with `reps` repetitions, and every configuration measured
 * with `taken` cores taken by other programs (busy from 0.25). */
static json_t *run_doc_busy(const char *utc, int reps, double slow, double taken)
{
	json_t *d = run_doc("cf", "ci", utc, 2, slow), *c;
	size_t i;
	json_array_foreach(json_object_get(d, "configs"), i, c) {
		json_t *r = json_object_get(c, "reps");
		while (json_array_size(r) > (size_t)reps)
			json_array_remove(r, 0);
		json_object_set_new(c, "interference", json_pack(
			"{s:f, s:b}", "taken_cores", taken, "busy", taken >= 0.25));
	}
	return d;
}

/* A regression whose newer run was busy says it coincides with
 * interference; 3 repetitions against 3 say no test could ever reach
 * significance. */
static void test_interference_and_too_few(void **state)
{
	struct fx *f = *state;
	snprintf(f->db, sizeof f->db, "%s/busy.db", f->dir);
	add(f->db, run_doc_busy("2024-02-01T00:00:00Z", 10, 1, 0.0));
	add(f->db, run_doc_busy("2024-02-02T00:00:00Z", 10, 1.25, 0.6));
	build(f);
	char *html = slurp(f->index);
	assert_non_null(strstr(html, "REGRESSION"));
	assert_non_null(strstr(html, "coincides with interference (this run busy)"));
	assert_null(strstr(html, "Too few repetitions"));
	free(html);
	snprintf(f->db, sizeof f->db, "%s/few.db", f->dir);
	add(f->db, run_doc_busy("2024-02-01T00:00:00Z", 3, 1, 0.0));
	add(f->db, run_doc_busy("2024-02-02T00:00:00Z", 3, 1.25, 0.0));
	build(f);
	html = slurp(f->index);
	assert_null(strstr(html, "REGRESSION"));
	assert_non_null(strstr(html, "Too few repetitions to call anything "
				     "significant: 3 repetitions against 3 can "
				     "never reach p &lt; 0.05"));
	assert_non_null(strstr(html, "--reps 4 or more"));
	free(html);
}

static int have_chromium(void)
{
	return access(CHROMIUM, X_OK) == 0;
}

static void chromium(struct fx *f, const char *mode, const char *profile)
{
	char url[700], prof[600];
	snprintf(url, sizeof url, "file://%s", f->index);
	snprintf(prof, sizeof prof, "--user-data-dir=%s", profile);
	char *argv[] = {"timeout", "120", CHROMIUM, "--headless", "--no-sandbox",
			"--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync",
			"--no-first-run", prof, "--window-size=1280,2000",
			(char *)mode, url, NULL};
	assert_int_equal(tu_run(&f->r, argv), 0);
}

static void test_chromium(void **state)
{
	struct fx *f = *state;
	if (!have_chromium())
		skip();
	build(f);
	char profile[600], shot[600], arg[700];
	snprintf(profile, sizeof profile, "%s/profile", f->dir);
	snprintf(shot, sizeof shot, "%s/shot.png", f->dir);
	chromium(f, "--dump-dom", profile);
	assert_int_equal(f->r.status, 0);
	assert_non_null(strstr(f->r.out, "<table class=\"scaling\">"));
	assert_non_null(strstr(f->r.out, "<table class=\"trend\">"));
	assert_non_null(strstr(f->r.out, "<img src=\""));
	assert_non_null(strstr(f->r.out, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_false(has_ci(f->r.out, "<script"));

	snprintf(arg, sizeof arg, "--screenshot=%s", shot);
	chromium(f, arg, profile);
	assert_int_equal(f->r.status, 0);
	char *png = slurp(shot);
	assert_non_null(png);
	assert_memory_equal(png, "\x89PNG", 4);
	struct stat st;
	assert_int_equal(stat(shot, &st), 0);
	assert_true(st.st_size > 20000);
	free(png);
}

/* ---- layout: legends outside, images loaded, nothing overlapping ---- */

/* Every gnuplot key is outside the plot area (right of it or below), so a
 * legend never hides a line; the speedup plot marks the core count. */
static void test_plot_keys_outside(void **state)
{
	(void)state;
	static const char *const gp[] = {"builds", "lockshare", "memory",
					 "speedup", "trend", "walltime"};
	for (size_t i = 0; i < sizeof gp / sizeof gp[0]; i++) {
		char path[64];
		snprintf(path, sizeof path, "plots/%s.gp", gp[i]);
		char *t = slurp(path);
		assert_non_null(t);
		size_t keys = 0;
		for (const char *k = t; (k = strstr(k, "\nset key")); k++, keys++) {
			size_t n = strcspn(k + 1, "\n");
			char line[256];
			snprintf(line, sizeof line, "%.*s", (int)n, k + 1);
			if (!strstr(line, "outside") && !strstr(line, "below") &&
			    !strstr(line, "off"))
				fail_msg("%s: '%s' puts the key inside the plot",
					 path, line);
		}
		assert_true(keys >= 1);
		if (!strcmp(gp[i], "speedup"))
			assert_non_null(strstr(t, "cores"));
		free(t);
	}
}

/* The page with its content security policy removed and a script that
 * measures it after loading: images that did not load (naturalWidth 0),
 * and pairs of boxes (figures, tables, headings, paragraphs, notes) that
 * overlap without one holding the other. */
static const char *const probe_js =
	"<script>window.addEventListener('load', function () {"
	"var im = document.images, broken = 0, i, j;"
	"for (i = 0; i < im.length; i++)"
	" if (!im[i].complete || im[i].naturalWidth === 0) broken++;"
	"var els = document.querySelectorAll('figure,table,pre,h1,h2,h3,h4,p,"
	"ul.diagnosis'), b = [];"
	"for (i = 0; i < els.length; i++) { var r = els[i].getBoundingClientRect();"
	" if (r.width > 0 && r.height > 0) b.push([els[i], r]); }"
	"var over = 0, first = '';"
	"for (i = 0; i < b.length; i++) for (j = i + 1; j < b.length; j++) {"
	" var x = b[i], y = b[j];"
	" if (x[0].contains(y[0]) || y[0].contains(x[0])) continue;"
	" if (x[1].left < y[1].right - 1 && y[1].left < x[1].right - 1 &&"
	" x[1].top < y[1].bottom - 1 && y[1].top < x[1].bottom - 1) {"
	" over++; if (!first) first = x[0].tagName + '/' + y[0].tagName; } }"
	"var o = document.createElement('pre'); o.id = 'layout';"
	"o.textContent = 'LAYOUT images=' + im.length + ' broken=' + broken +"
	" ' overlaps=' + over + ' first=' + first + ' END';"
	"document.body.appendChild(o); });</script>";

static void write_probe_page(struct fx *f, char *path, size_t len)
{
	char *html = slurp(f->index);
	assert_non_null(html);
	char *csp = strstr(html, "<meta http-equiv=\"Content-Security-Policy\"");
	char *body = strstr(html, "</body>");
	assert_non_null(csp);
	assert_non_null(body);
	char *csp_end = strchr(csp, '>') + 1;
	snprintf(path, len, "%s/layout.html", f->site);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%.*s%.*s%s%s", (int)(csp - html), html,
		(int)(body - csp_end), csp_end, probe_js, body);
	fclose(fp);
	free(html);
}

static void test_layout(void **state)
{
	struct fx *f = *state;
	if (!have_chromium())
		skip();
	build(f);
	char page[700], url[720], prof[700];
	write_probe_page(f, page, sizeof page);
	snprintf(url, sizeof url, "file://%s", page);
	snprintf(prof, sizeof prof, "--user-data-dir=%s/profile", f->dir);
	char *argv[] = {"timeout", "120", CHROMIUM, "--headless", "--no-sandbox",
			"--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync",
			"--no-first-run", prof, "--window-size=1280,2000",
			"--virtual-time-budget=10000", "--dump-dom", url, NULL};
	assert_int_equal(tu_run(&f->r, argv), 0);
	assert_int_equal(f->r.status, 0);
	const char *l = strstr(f->r.out, "<pre id=\"layout\">");
	if (!l)
		fail_msg("the probe did not run: %.300s", f->r.out);
	l += strlen("<pre id=\"layout\">");
	int images = -1, broken = -1, overlaps = -1;
	assert_int_equal(sscanf(l, "LAYOUT images=%d broken=%d overlaps=%d",
				&images, &broken, &overlaps), 3);
	printf("   layout: %d images, %d not loaded, %d overlapping boxes\n",
	       images, broken, overlaps);
	assert_true(images >= 6);
	assert_int_equal(broken, 0);
	if (overlaps)
		fail_msg("overlapping boxes: %.80s", l);
}

static void scale_key(json_t *o, const char *k, double by)
{
	json_object_set_new(o, k, json_real(json_number_value(json_object_get(o, k)) * by));
}

static void scale(json_t *c, double by)
{
	json_t *r;
	size_t i;
	scale_key(c, "median_wall_s", by);
	scale_key(c, "ci_low_s", by);
	scale_key(c, "ci_high_s", by);
	json_array_foreach(json_object_get(c, "reps"), i, r)
		scale_key(r, "wall_s", by);
}

/* Two machines' nights interleaved, vm-b 1.6x slower: no regression is
 * seen (each machine is compared with itself), each machine has its own
 * part per workload, and the side by side says which is faster. */
static void test_machines(void **state)
{
	struct fx *f = *state;
	const char *db = f->db2;
	for (int i = 0; i < 6; i++) {
		char utc[32];
		snprintf(utc, sizeof utc, "2024-02-%02dT0%d:00:00Z", 1 + i / 2, i % 2);
		json_t *d = run_doc("cf", i % 2 ? "vm-b" : "vm-a", utc, 0, 1), *c;
		size_t k;
		json_array_foreach(json_object_get(d, "configs"), k, c)
			if (i % 2)
				scale(c, 1.6);
		add(db, d);
	}
	tu_contend(&f->r, "dashboard", "--history", db, "--out", f->site, NULL);
	assert_int_equal(f->r.status, 0);
	assert_non_null(strstr(f->r.out, " 0 regressions"));
	char *html = slurp(f->index);
	assert_non_null(html);
	assert_non_null(strstr(html, "<table class=\"machines\">"));
	assert_non_null(strstr(html, "vm-a is 1.60x faster than vm-b"));
	assert_non_null(strstr(html, "id=\"w-cf-m-vm-a\""));
	assert_non_null(strstr(html, "id=\"w-cf-m-vm-b\""));
	assert_null(strstr(html, "class=\"num regression\""));
	check_images(html, f->site);
	free(html);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	char missing[600], foreign[600];
	snprintf(missing, sizeof missing, "%s/none.db", f->dir);
	tu_contend(&f->r, "dashboard", "--history", missing, "--out", f->site, NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "no history"));
	snprintf(foreign, sizeof foreign, "%s/notes.txt", f->dir);
	FILE *fp = fopen(foreign, "w");
	fputs("hello\n", fp);
	fclose(fp);
	tu_contend(&f->r, "dashboard", "--history", foreign, "--out", f->site, NULL);
	assert_int_equal(f->r.status, 2);
	assert_non_null(strstr(f->r.out, "not a SQLite database"));
	tu_contend(&f->r, "dashboard", "--history", f->db, "--out", foreign, NULL);
	assert_int_equal(f->r.status, 2);
	tu_contend(&f->r, "dashboard", "--runs", "many", NULL);
	assert_int_equal(f->r.status, 2);
}

/* ---- plots_render on its own ---- */

#define INJECT "cf'; system(\"touch PWNED\"); x='`touch PWNED2`"

static json_t *plot_config(const char *w, const char *build, const char *pool,
			   int n, double median, double share)
{
	char id[512];
	snprintf(id, sizeof id, "%s/%s/%s/w%d", w, build, pool, n);
	json_t *rep = json_pack("{s:f, s:s, s:{s:{s:[f,f,f], s:[i,i,i]}}}",
				"wall_s", median, "status", "ok", "memory",
				"series", "t_s", 0.0, 0.5, 1.0, "rss_bytes",
				1048576, 2097152 * n, 1048576);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i, s:[o], s:f, s:s,"
			      " s:{s:f}}", "id", id, "workload", w, "build",
			      build, "pool", pool, "workers", n, "reps", rep,
			      "median_wall_s", median, "status", "ok", "lock",
			      "share", share);
	if (!strcmp(build, "linetrace"))
		json_object_set_new(c, "lock_model", json_string("gil"));
	return c;
}

static int listed_file(char **files, size_t n, const char *dir,
		       const char *name)
{
	char want[700];
	snprintf(want, sizeof want, "%s/%s", dir, name);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(files[i], want))
			return 1;
	return 0;
}

static void test_plots_charts(void **state)
{
	struct fx *f = *state;
	json_t *cs = json_array();
	for (int n = 1; n <= 4; n *= 2) {
		/* release halves its time with each doubling; linetrace
		 * doubles it, with a growing lock share */
		json_array_append_new(cs, plot_config("cf", "release", "thread", n,
						      4.0 / n, 0.01));
		json_array_append_new(cs, plot_config("cf", "linetrace", "thread", n,
						      4.0 * n, 0.2 * n));
	}
	json_array_append_new(cs, plot_config(INJECT, "release", "thread", 1, 1, 0));
	json_array_append_new(cs, plot_config(INJECT, "release", "thread", 2, 0.6, 0));
	json_t *doc = json_pack("{s:s, s:{}, s:o}", "schema", "contend-results/1",
				"context", "configs", cs);
	char dir[600], **files;
	size_t n;
	errbuf e;
	snprintf(dir, sizeof dir, "%s/plots", f->dir);
	assert_int_equal(plots_render(doc, dir, NULL, &files, &n, &e), 0);
	const char *kinds[] = {"speedup", "walltime", "lockshare", "builds", "memory"};
	for (size_t k = 0; k < 5; k++) {
		char name[64];
		snprintf(name, sizeof name, "%s-cf.png", kinds[k]);
		assert_true(listed_file(files, n, dir, name));
		snprintf(name, sizeof name, "%s-cf.svg", kinds[k]);
		assert_true(listed_file(files, n, dir, name));
	}
	for (size_t i = 0; i < n; i++) {
		char *body = slurp(files[i]);
		assert_non_null(body);
		if (strstr(files[i], ".png"))
			assert_memory_equal(body, "\x89PNG", 4);
		else
			assert_non_null(strstr(body, "<svg"));
		free(body);
	}
	/* speedups T(1)/T(N) of the release series: 1, 2, 4 */
	char path[700];
	snprintf(path, sizeof path, "%s/speedup-cf.dat", dir);
	char *dat = slurp(path);
	assert_non_null(strstr(dat, "\"release/thread\"\n1 1 1 1\n2 2 2 2\n4 4 4 4\n"));
	free(dat);
	/* the injected name reached gnuplot only as data and a safe title */
	snprintf(path, sizeof path, "%s/PWNED", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof path, "%s/PWNED2", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	plots_free(files, n);
	assert_int_equal(plots_render(json_object_get(doc, "context"), dir, NULL,
				      &files, &n, &e), -1);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_site, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interference_and_too_few, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chromium, setup, teardown),
		cmocka_unit_test(test_plot_keys_outside),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plots_charts, setup, teardown),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_site, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_machines, setup_pg, teardown),
	};
	int rc = cmocka_run_group_tests_name("dashboard (sqlite history)",
					     tests, NULL, NULL);
	if (tu_pg_admin())
		rc |= cmocka_run_group_tests_name("dashboard (postgresql history)",
						  pg_tests, NULL, NULL);
	return rc;
}
