/* plots.c - data files from a results document, drawn by gnuplot templates.
 *
 * gnuplot runs by fork/exec in the output directory; only file names we
 * made and numbers reach its command line, and titles are reduced to a
 * safe character set, so no user text is ever evaluated as gnuplot code.
 * The output directory may be shared: every file is created by us
 * (report/safefile.h) and gnuplot writes its images into descriptors we
 * opened (/proc/self/fd/N), never into a name it opens itself. */
#include "report/plots.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "document/doc.h"
#include "analysis/summary.h"
#include "analysis/usl.h"
#include "report/safefile.h"

struct plot_ctx {
	char outdir[PATH_MAX]; /* for messages and the list of files */
	int dirfd;	       /* where every file is made */
	char tpldir[PATH_MAX];
	char ***files;
	size_t *nfiles;
	json_t *fits; /* the document's, stored when it was made */
	int cores;    /* the machine's logical cores (0: unknown) */
	errbuf *e;
};

/* ---- names and text ---- */

void plots_slug(const char *s, char *out, size_t len)
{
	size_t n = 0;
	int changed = 0;
	uint32_t h = 2166136261u;
	for (const char *p = s; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = s; *p && n + 10 < len && n < 60; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			 (c == '.' && n > 0);
		out[n++] = ok ? c : '_';
		changed |= !ok;
	}
	changed |= s[n] != 0 || n == 0;
	out[n] = 0;
	if (changed)
		snprintf(out + n, len - n, "-%08x", h);
}

/* Titles go into a single-quoted gnuplot string on the command line:
 * keep letters, digits and harmless punctuation only. */
static void safe_title(const char *s, char *out, size_t len)
{
	static const char ok[] = " -_./:,=+()%#<>[]";
	size_t n = 0;
	for (; *s && n + 1 < len; s++) {
		char c = *s;
		int good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c && strchr(ok, c));
		out[n++] = good ? c : '?';
	}
	out[n] = 0;
}

/* Labels in data files are double-quoted strings: no quotes, backslashes
 * or line breaks inside. */
static void put_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fputc(*s == '"' || *s == '\\' || (unsigned char)*s < 32 ? '\'' : *s,
		      f);
	fputc('"', f);
}

/* The configuration without its workload: "release/thread/w2". */
static const char *short_label(const char *id, const char *workload)
{
	size_t n = strlen(workload);
	if (!strncmp(id, workload, n) && id[n] == '/')
		return id + n + 1;
	return id;
}

/* ---- files and gnuplot ---- */

static int has_templates(const char *dir)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/speedup.gp", dir);
	return access(p, R_OK) == 0;
}

/* $CONTEND_PLOTS_DIR, then plots/ next to the binary's tree (bin/contend,
 * build/<variant>/tests/x), then ./plots. */
static int find_templates(char *out, size_t len, errbuf *e)
{
	const char *env = getenv("CONTEND_PLOTS_DIR");
	char exe[PATH_MAX], cand[PATH_MAX];
	const char *ups[] = {"/../plots", "/../../plots", "/../../../plots"};
	if (env && has_templates(env) && realpath(env, out))
		return 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *d = dirname(exe);
		for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
			snprintf(cand, sizeof cand, "%s%s", d, ups[i]);
			if (has_templates(cand) && realpath(cand, out))
				return 0;
		}
	}
	if (has_templates("plots") && realpath("plots", out))
		return 0;
	(void)len;
	return errf(e, "gnuplot templates (plots/*.gp) not found; set "
		    "CONTEND_PLOTS_DIR to the directory that holds them");
}

static FILE *open_data(const struct plot_ctx *p, const char *name)
{
	int fd = safefile_fresh(p->dirfd, name, p->e);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f && fd >= 0) {
		errf(p->e, "cannot write '%s/%s': %s", p->outdir, name,
		     strerror(errno));
		close(fd);
	}
	return f;
}

/* gnuplot wrote into img's descriptor: put it under its name and list it. */
static int add_file(const struct plot_ctx *p, struct safefile *img)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", p->outdir, img->name);
	if (fstat(img->fd, &st) < 0 || st.st_size == 0) {
		safefile_discard(img);
		return errf(p->e, "gnuplot did not write '%s'", path);
	}
	if (safefile_commit(img, p->e))
		return errprefix(p->e, "%s", p->outdir);
	char **grown = realloc(*p->files, (*p->nfiles + 1) * sizeof *grown);
	if (!grown || !(grown[*p->nfiles] = strdup(path)))
		return errf(p->e, "out of memory");
	*p->files = grown;
	(*p->nfiles)++;
	return 0;
}

static void last_line(char *buf)
{
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	char *nl = strrchr(buf, '\n');
	if (nl)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
}

/* In the child: the images' descriptors stay open across exec (they are
 * O_CLOEXEC in contend), the data files are read from the output
 * directory's descriptor. */
static void exec_gnuplot(const struct plot_ctx *p, const char *script,
			 const char *vars, int errfd, const int *imgfd)
{
	int null = open("/dev/null", O_RDWR);
	if (fchdir(p->dirfd) < 0 || null < 0 ||
	    fcntl(imgfd[0], F_SETFD, 0) < 0 || fcntl(imgfd[1], F_SETFD, 0) < 0)
		_exit(126);
	dup2(null, 0);
	dup2(null, 1);
	dup2(errfd, 2);
	execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
	_exit(127);
}

static int wait_gnuplot(const struct plot_ctx *p, pid_t pid, int errfd,
			const char *tpl)
{
	char msg[4096] = "";
	size_t got = 0;
	ssize_t k;
	char chunk[1024];
	while ((k = read(errfd, chunk, sizeof chunk)) > 0 || (k < 0 && errno == EINTR))
		if (k > 0 && got + (size_t)k < sizeof msg) {
			memcpy(msg + got, chunk, (size_t)k);
			got += (size_t)k;
		}
	close(errfd);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	last_line(msg);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return errf(p->e, "gnuplot not found: install gnuplot-nox to "
			    "draw plots");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return errf(p->e, "gnuplot failed on %s: %s", tpl,
			    msg[0] ? msg : "no message");
	return 0;
}

static int fork_gnuplot(const struct plot_ctx *p, const char *tpl,
			const char *vars, const int *imgfd)
{
	char script[PATH_MAX + 64];
	int fd[2];
	snprintf(script, sizeof script, "%s/%s", p->tpldir, tpl);
	if (pipe2(fd, O_CLOEXEC) < 0)
		return errf(p->e, "cannot run gnuplot: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return errf(p->e, "cannot run gnuplot: %s", strerror(errno));
	}
	if (pid == 0)
		exec_gnuplot(p, script, vars, fd[1], imgfd);
	close(fd[1]);
	return wait_gnuplot(p, pid, fd[0], tpl);
}

/* base.png and base.svg: files we made, handed to gnuplot as pngout and
 * svgout, renamed over their names once gnuplot succeeded. */
static int run_gnuplot(const struct plot_ctx *p, const char *tpl,
		       const char *vars, const char *base)
{
	struct safefile img[2];
	char name[NAME_MAX + 1], all[4096];
	snprintf(name, sizeof name, "%s.png", base);
	if (safefile_create(p->dirfd, name, &img[0], p->e))
		return errprefix(p->e, "%s", p->outdir);
	snprintf(name, sizeof name, "%s.svg", base);
	if (safefile_create(p->dirfd, name, &img[1], p->e)) {
		safefile_discard(&img[0]);
		return errprefix(p->e, "%s", p->outdir);
	}
	snprintf(all, sizeof all, "%s; pngout='/proc/self/fd/%d'; "
		 "svgout='/proc/self/fd/%d'", vars, img[0].fd, img[1].fd);
	int fds[2] = {img[0].fd, img[1].fd};
	int rc = fork_gnuplot(p, tpl, all, fds);
	if (rc || add_file(p, &img[0])) {
		safefile_discard(&img[0]);
		safefile_discard(&img[1]);
		return -1;
	}
	return add_file(p, &img[1]);
}

/* Common variables: dat (the data file), ttl; run_gnuplot adds pngout and
 * svgout. */
static int draw(const struct plot_ctx *p, const char *tpl, const char *base,
		const char *title, const char *more)
{
	char ttl[512], vars[2048];
	safe_title(title, ttl, sizeof ttl);
	snprintf(vars, sizeof vars, "dat='%s.dat'; ttl='%s'%s%s", base, ttl,
		 more[0] ? "; " : "", more);
	return run_gnuplot(p, tpl, vars, base);
}

/* ---- configurations ---- */

static int is_ok(json_t *c)
{
	const char *s = doc_str(c, "status", NULL);
	json_t *m = json_object_get(c, "median_wall_s");
	return s && !strcmp(s, "ok") && json_is_number(m) &&
	       json_number_value(m) > 0;
}

struct point {
	double n, s, lo, hi;
};

static int cmp_point(const void *a, const void *b)
{
	double x = ((const struct point *)a)->n, y = ((const struct point *)b)->n;
	return (x > y) - (x < y);
}

/* The speedups summary_document stored for one series (and their range
 * over each median's interval, the error bars); 0 points when the series
 * has no baseline. A document summarised before the range was stored
 * gets bars of zero width. */
static size_t series_points(json_t *configs, const char *key, struct point *pt,
			    size_t cap)
{
	json_t *c;
	size_t i, n = 0;
	char k[512];
	json_array_foreach(configs, i, c) {
		double s = doc_num(c, "speedup", NAN);
		if (doc_series_key(c, DOC_KEY_ALL, k, sizeof k) || strcmp(k, key) ||
		    !is_ok(c) || !isfinite(s) || n == cap)
			continue;
		pt[n++] = (struct point){doc_num(c, "workers", 1), s,
					 doc_num(c, "speedup_low", s),
					 doc_num(c, "speedup_high", s)};
	}
	qsort(pt, n, sizeof *pt, cmp_point);
	return n;
}

static void write_usl_block(FILE *f, json_t *fit, const char *label,
			    double xmax, int color)
{
	double s = doc_num(fit, "sigma", 0), k = doc_num(fit, "kappa", 0);
	fputc('"', f);
	fprintf(f, "%s USL fit", label);
	fputs("\"\n", f);
	for (int i = 0; i <= 60; i++) {
		double n = 1 + (xmax - 1) * i / 60.0;
		fprintf(f, "%g %g %d\n", n, usl_predict(s, k, n), color);
	}
	fputs("\n\n", f);
}

static json_t *fit_of(json_t *fits, const char *key)
{
	json_t *f;
	size_t i;
	json_array_foreach(fits, i, f)
		if (!strcmp(doc_str(f, "series", ""), key) &&
		    doc_bool(f, "fitted", 0))
			return f;
	return NULL;
}

static void distinct_series(json_t *configs, json_t *keys)
{
	json_t *c, *seen = json_object();
	size_t i;
	char k[512];
	json_array_foreach(configs, i, c)
		if (!doc_series_key(c, DOC_KEY_ALL, k, sizeof k) && !json_object_get(seen, k)) {
			json_object_set_new(seen, k, json_true());
			json_array_append_new(keys, json_string(k));
		}
	json_decref(seen);
}

static double max_workers(json_t *configs)
{
	json_t *c;
	size_t i;
	double m = 2;
	json_array_foreach(configs, i, c)
		m = fmax(m, doc_num(c, "workers", 1));
	return m;
}

static int write_speedup_data(const struct plot_ctx *p, const char *base,
			      const char *w, json_t *configs, int *nser,
			      int *nusl)
{
	char name[PATH_MAX];
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(p, name), *u;
	snprintf(name, sizeof name, "%s-usl.dat", base);
	if (!f || !(u = open_data(p, name))) {
		if (f)
			fclose(f);
		return -1;
	}
	json_t *keys = json_array(), *k;
	size_t i;
	struct point pt[256];
	double xmax = max_workers(configs);
	distinct_series(configs, keys);
	*nser = *nusl = 0;
	json_array_foreach(keys, i, k) {
		size_t n = series_points(configs, json_string_value(k), pt, 256);
		const char *label = short_label(json_string_value(k), w);
		if (!n)
			continue;
		put_label(f, label);
		fputc('\n', f);
		for (size_t j = 0; j < n; j++)
			fprintf(f, "%g %g %g %g\n", pt[j].n, pt[j].s, pt[j].lo, pt[j].hi);
		fputs("\n\n", f);
		json_t *fit = fit_of(p->fits, json_string_value(k));
		++*nser; /* the USL curve takes its series' colour */
		if (fit) {
			write_usl_block(u, fit, label, xmax, *nser);
			++*nusl;
		}
	}
	fclose(f);
	fclose(u);
	json_decref(keys);
	return 0;
}

static int chart_speedup(const struct plot_ctx *p, const char *w,
			 const char *slug, json_t *configs)
{
	char base[128], title[600], more[512];
	int nser, nusl;
	snprintf(base, sizeof base, "speedup-%s", slug);
	if (write_speedup_data(p, base, w, configs, &nser, &nusl))
		return -1;
	if (!nser)
		return 0;
	snprintf(title, sizeof title, "%s: speedup against workers (1 worker = 1)", w);
	/* cores: the template marks the machine's core count, where adding
	 * workers stops adding hardware. */
	snprintf(more, sizeof more, "usl='%s-usl.dat'; nser=%d; nusl=%d; xmax=%g;"
		 " cores=%d", base, nser, nusl, max_workers(configs), p->cores);
	return draw(p, "speedup.gp", base, title, more);
}

static int chart_walltime(const struct plot_ctx *p, const char *w,
			  const char *slug, json_t *configs)
{
	char base[128], name[160], title[600];
	snprintf(base, sizeof base, "walltime-%s", slug);
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(p, name);
	if (!f)
		return -1;
	json_t *c;
	size_t i, rows = 0;
	fputs("\"configuration\" \"median\" \"low\" \"high\"\n", f);
	json_array_foreach(configs, i, c) {
		if (!is_ok(c))
			continue;
		double m = doc_num(c, "median_wall_s", 0);
		put_label(f, short_label(doc_str(c, "id", ""), w));
		fprintf(f, " %g %g %g\n", m, doc_num(c, "ci_low_s", m),
			doc_num(c, "ci_high_s", m));
		rows++;
	}
	fclose(f);
	if (!rows)
		return 0;
	snprintf(title, sizeof title, "%s: wall time per configuration", w);
	return draw(p, "walltime.gp", base, title, "");
}

static int chart_lockshare(const struct plot_ctx *p, const char *w,
			   const char *slug, json_t *configs)
{
	char base[128], name[160], title[600];
	json_t *c;
	size_t i, rows = 0;
	json_array_foreach(configs, i, c)
		rows += json_is_number(json_object_get(json_object_get(c, "lock"), "share"));
	if (!rows)
		return 0;
	snprintf(base, sizeof base, "lockshare-%s", slug);
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(p, name);
	if (!f)
		return -1;
	fputs("\"configuration\" \"locks\" \"compute\"\n", f);
	json_array_foreach(configs, i, c) {
		json_t *s = json_object_get(json_object_get(c, "lock"), "share");
		if (!json_is_number(s))
			continue;
		double share = fmin(1, fmax(0, json_number_value(s)));
		put_label(f, short_label(doc_str(c, "id", ""), w));
		fprintf(f, " %g %g\n", 100 * share, 100 * (1 - share));
	}
	fclose(f);
	snprintf(title, sizeof title, "%s: worker time waiting on locks vs computing", w);
	return draw(p, "lockshare.gp", base, title, "");
}

/* The series of c without its build (and the linetrace-only lock model),
 * so a release configuration finds its linetrace counterparts. */
static void build_free_key(json_t *c, char *buf, size_t len)
{
	json_t *x = json_deep_copy(c);
	json_object_set_new(x, "build", json_string("*"));
	json_object_del(x, "lock_model");
	doc_series_key(x, DOC_KEY_ALL, buf, len);
	json_decref(x);
}

static json_t *partner(json_t *configs, json_t *c, const char *model)
{
	json_t *x;
	size_t i;
	char k1[512], k2[512];
	build_free_key(c, k1, sizeof k1);
	json_array_foreach(configs, i, x)
		if (!strcmp(doc_str(x, "build", ""), "linetrace") &&
		    !strcmp(doc_str(x, "lock_model", ""), model) && is_ok(x) &&
		    doc_num(x, "workers", 0) == doc_num(c, "workers", -1)) {
			build_free_key(x, k2, sizeof k2);
			if (!strcmp(k1, k2))
				return x;
		}
	return NULL;
}

/* The lock models the linetrace configurations ran with ("" for none). */
static json_t *linetrace_variants(json_t *configs)
{
	json_t *out = json_array(), *c, *v;
	size_t i, j;
	json_array_foreach(configs, i, c) {
		if (strcmp(doc_str(c, "build", ""), "linetrace"))
			continue;
		int seen = 0;
		json_array_foreach(out, j, v)
			seen |= !strcmp(json_string_value(v), doc_str(c, "lock_model", ""));
		if (!seen)
			json_array_append_new(out, json_string(doc_str(c, "lock_model", "")));
	}
	return out;
}

static size_t write_builds_rows(FILE *f, json_t *configs, json_t *variants,
				const char *w)
{
	json_t *c, *v;
	size_t i, j, rows = 0;
	char key[512], label[600];
	json_array_foreach(configs, i, c) {
		if (strcmp(doc_str(c, "build", ""), "release") || !is_ok(c))
			continue;
		int any = 0;
		json_array_foreach(variants, j, v)
			any |= partner(configs, c, json_string_value(v)) != NULL;
		if (!any)
			continue;
		build_free_key(c, key, sizeof key);
		const char *rest = short_label(key, w);
		rest += strncmp(rest, "*/", 2) ? 0 : 2;
		snprintf(label, sizeof label, "%s/w%lld", rest,
			 (long long)doc_num(c, "workers", 0));
		put_label(f, label);
		fprintf(f, " %g", doc_num(c, "median_wall_s", 0));
		json_array_foreach(variants, j, v) {
			json_t *lt = partner(configs, c, json_string_value(v));
			if (lt)
				fprintf(f, " %g", doc_num(lt, "median_wall_s", 0));
			else
				fputs(" ?", f);
		}
		fputc('\n', f);
		rows++;
	}
	return rows;
}

static int chart_builds(const struct plot_ctx *p, const char *w,
			const char *slug, json_t *configs)
{
	char base[128], name[160], title[600], more[64];
	json_t *variants = linetrace_variants(configs), *v;
	size_t i;
	if (!json_array_size(variants)) {
		json_decref(variants);
		return 0;
	}
	snprintf(base, sizeof base, "builds-%s", slug);
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(p, name);
	if (!f) {
		json_decref(variants);
		return -1;
	}
	fputs("\"configuration\" \"release build\"", f);
	json_array_foreach(variants, i, v) {
		char head[160];
		snprintf(head, sizeof head, "linetrace build%s%s",
			 json_string_value(v)[0] ? ", lock model " : "",
			 json_string_value(v));
		fputc(' ', f);
		put_label(f, head);
	}
	fputc('\n', f);
	size_t rows = write_builds_rows(f, configs, variants, w);
	fclose(f);
	snprintf(more, sizeof more, "ncol=%zu", json_array_size(variants) + 2);
	json_decref(variants);
	if (!rows)
		return 0;
	snprintf(title, sizeof title, "%s: release vs linetrace build", w);
	return draw(p, "builds.gp", base, title, more);
}

/* Memory samples of one repetition: columns {"t_s": [..], "rss_bytes":
 * [..]} as the memory probe writes them, or a list of [t, rss] pairs. */
static size_t mem_points(json_t *series, double *t, double *rss, size_t cap)
{
	size_t n = 0, i;
	json_t *ts = json_object_get(series, "t_s");
	json_t *rs = json_object_get(series, "rss_bytes"), *s;
	if (json_is_array(ts) && json_is_array(rs)) {
		for (i = 0; i < json_array_size(ts) && n < cap; i++) {
			json_t *a = json_array_get(ts, i), *b = json_array_get(rs, i);
			if (json_is_number(a) && json_is_number(b)) {
				t[n] = json_number_value(a);
				rss[n++] = json_number_value(b);
			}
		}
		return n;
	}
	json_array_foreach(series, i, s) {
		json_t *a = json_array_get(s, 0), *b = json_array_get(s, 1);
		if (n < cap && json_is_number(a) && json_is_number(b)) {
			t[n] = json_number_value(a);
			rss[n++] = json_number_value(b);
		}
	}
	return n;
}

/* The series of the repetition with the median wall time among those that
 * have one (the configuration-level memory holds only peaks). */
static json_t *median_series(json_t *c)
{
	json_t *r, *best = NULL;
	size_t i, n = 0, k = 0;
	double walls[512];
	json_array_foreach(json_object_get(c, "reps"), i, r)
		if (json_object_get(json_object_get(r, "memory"), "series") && n < 512)
			walls[n++] = doc_num(r, "wall_s", 0);
	for (size_t a = 0; a < n; a++) { /* the median's rank: count below */
		size_t below = 0;
		for (size_t b = 0; b < n; b++)
			below += walls[b] < walls[a] || (walls[b] == walls[a] && b < a);
		if (below == n / 2)
			k = a;
	}
	n = 0;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		json_t *s = json_object_get(json_object_get(r, "memory"), "series");
		if (s && n++ == k)
			best = s;
	}
	if (!best) /* a document that keeps the series per configuration */
		best = json_object_get(json_object_get(c, "memory"), "series");
	return best;
}

static int write_memory_block(FILE *f, json_t *c, const char *w)
{
	static double t[4096], rss[4096];
	size_t n = mem_points(median_series(c), t, rss, 4096);
	if (n < 2)
		return 0;
	put_label(f, short_label(doc_str(c, "id", ""), w));
	fputc('\n', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%g %g\n", t[i], rss[i] / 1048576.0);
	fputs("\n\n", f);
	return 1;
}

static int chart_memory(const struct plot_ctx *p, const char *w,
			const char *slug, json_t *configs)
{
	char base[128], name[160], title[600], more[64];
	json_t *c;
	size_t i;
	int any = 0, nser = 0;
	json_array_foreach(configs, i, c)
		any |= median_series(c) != NULL;
	if (!any)
		return 0;
	snprintf(base, sizeof base, "memory-%s", slug);
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(p, name);
	if (!f)
		return -1;
	json_array_foreach(configs, i, c)
		nser += write_memory_block(f, c, w);
	fclose(f);
	if (!nser)
		return 0;
	snprintf(title, sizeof title, "%s: resident memory over time", w);
	snprintf(more, sizeof more, "nser=%d", nser);
	return draw(p, "memory.gp", base, title, more);
}

/* ---- entry points ---- */

static int begin(struct plot_ctx *p, const char *outdir, const char *below,
		 char ***files, size_t *nfiles, errbuf *e)
{
	snprintf(p->outdir, sizeof p->outdir, "%s%s%s", outdir,
		 below && below[0] ? "/" : "", below ? below : "");
	p->dirfd = -1;
	p->files = files;
	p->nfiles = nfiles;
	p->fits = NULL;
	p->e = e;
	return find_templates(p->tpldir, sizeof p->tpldir, e) ||
	       safefile_opendir(outdir, below, &p->dirfd, e) ? -1 : 0;
}

static int end(struct plot_ctx *p, int rc)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
	return rc;
}

static json_t *configs_of(json_t *configs, const char *w)
{
	json_t *out = json_array(), *c;
	size_t i;
	json_array_foreach(configs, i, c)
		if (json_is_object(c) && !strcmp(doc_str(c, "workload", ""), w))
			json_array_append(out, c);
	return out;
}

static int render_workload(const struct plot_ctx *p, json_t *all, const char *w)
{
	char slug[80];
	json_t *configs = configs_of(all, w);
	plots_slug(w, slug, sizeof slug);
	int rc = chart_speedup(p, w, slug, configs) ||
		 chart_walltime(p, w, slug, configs) ||
		 chart_lockshare(p, w, slug, configs) ||
		 chart_builds(p, w, slug, configs) ||
		 chart_memory(p, w, slug, configs);
	json_decref(configs);
	return rc ? -1 : 0;
}

int plots_render(json_t *doc, const char *outdir, const char *below,
		 char ***files, size_t *nfiles, errbuf *e)
{
	struct plot_ctx p;
	*files = NULL;
	*nfiles = 0;
	json_t *configs = json_object_get(doc, "configs"), *c;
	if (!json_is_array(configs))
		return errf(e, "not a results document: no 'configs' array");
	if (begin(&p, outdir, below, files, nfiles, e))
		return end(&p, -1);
	p.fits = summary_derived(doc);
	p.cores = (int)doc_int(json_object_get(doc, "context"), "logical_cores",
			       0);
	json_t *seen = json_object();
	size_t i;
	int rc = 0;
	json_array_foreach(configs, i, c) {
		const char *w = doc_str(c, "workload", "");
		if (rc || !w[0] || json_object_get(seen, w))
			continue;
		json_object_set_new(seen, w, json_true());
		rc = render_workload(&p, configs, w);
	}
	json_decref(seen);
	return end(&p, rc);
}

/* ISO 8601 "2024-05-01T10:00:00..." cut to what the template's timefmt
 * reads; 0 when the time is missing or malformed. */
static int trend_time(json_t *pt, char *buf, size_t len)
{
	const char *t = doc_str(pt, "utc_time", "");
	if (strlen(t) < 19 || t[10] != 'T')
		return 0;
	snprintf(buf, len, "%.19s", t);
	for (int i = 0; i < 19; i++)
		if (!strchr("0123456789-:T", buf[i]))
			return 0;
	return 1;
}

static int write_trend_block(FILE *f, FILE *reg, json_t *c, const char *w,
			     int *nreg)
{
	json_t *pt;
	size_t i, n = 0;
	char t[32];
	json_array_foreach(json_object_get(c, "points"), i, pt)
		n += trend_time(pt, t, sizeof t) &&
		     json_is_number(json_object_get(pt, "median_wall_s"));
	if (!n)
		return 0;
	put_label(f, short_label(doc_str(c, "id", ""), w));
	fputc('\n', f);
	json_array_foreach(json_object_get(c, "points"), i, pt) {
		double m = doc_num(pt, "median_wall_s", NAN);
		if (!trend_time(pt, t, sizeof t) || !isfinite(m))
			continue;
		fprintf(f, "%s %g %g %g\n", t, m, doc_num(pt, "ci_low_s", m),
			doc_num(pt, "ci_high_s", m));
		if (doc_bool(pt, "regression", 0)) {
			fprintf(reg, "%s %g\n", t, m);
			*nreg = 1;
		}
	}
	fputs("\n\n", f);
	return 1;
}

int plots_render_trend(json_t *trend, const char *outdir, const char *below,
		       char ***files, size_t *nfiles, errbuf *e)
{
	struct plot_ctx p;
	const char *w = doc_str(trend, "workload", "");
	char slug[80], base[128], name[160], title[600], more[512];
	if (begin(&p, outdir, below, files, nfiles, e))
		return end(&p, -1);
	plots_slug(w, slug, sizeof slug);
	snprintf(base, sizeof base, "trend-%s", slug);
	snprintf(name, sizeof name, "%s.dat", base);
	FILE *f = open_data(&p, name), *reg;
	snprintf(name, sizeof name, "%s-reg.dat", base);
	if (!f || !(reg = open_data(&p, name))) {
		if (f)
			fclose(f);
		return end(&p, -1);
	}
	fputs("\"time\" \"median\"\n", reg);
	json_t *c;
	size_t i;
	int nser = 0, nreg = 0;
	json_array_foreach(json_object_get(trend, "configs"), i, c)
		nser += write_trend_block(f, reg, c, w, &nreg);
	fclose(f);
	fclose(reg);
	if (!nser)
		return end(&p, 0);
	snprintf(title, sizeof title, "%s: median wall time over runs", w);
	snprintf(more, sizeof more, "reg='%s-reg.dat'; nser=%d; nreg=%d", base,
		 nser, nreg);
	return end(&p, draw(&p, "trend.gp", base, title, more));
}

void plots_free(char **files, size_t nfiles)
{
	for (size_t i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
}
