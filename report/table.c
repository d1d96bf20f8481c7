/* table.c - scaling tables and their notes, in the terminal.
 *
 * Columns are a table of (header, formatter, present?) so a probe's figure
 * is one more entry here, and columns with no data anywhere are left out. */
#include "report/table.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/diagnosis.h"
#include "analysis/interference.h"
#include "analysis/stats.h"
#include "bench/workload.h"
#include "document/doc.h"
#include "document/groups.h"
#include "pools/pool.h"
#include "report/comparisons.h"

void table_fmt_seconds(double s, char *buf, size_t len)
{
	if (!isfinite(s))
		snprintf(buf, len, "-");
	else if (s >= 100)
		snprintf(buf, len, "%.0f s", s);
	else if (s >= 1)
		snprintf(buf, len, "%.2f s", s);
	else if (s >= 1e-3)
		snprintf(buf, len, "%.1f ms", s * 1e3);
	else
		snprintf(buf, len, "%.0f us", s * 1e6);
}

void table_fmt_bytes(double b, char *buf, size_t len)
{
	if (!isfinite(b))
		snprintf(buf, len, "n/a");
	else if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, len, "%.1f MiB", b / (1024.0 * 1024));
}

/* --- columns ---------------------------------------------------------- */

typedef void (*cell_fn)(json_t *c, char *buf, size_t len);

static void c_pool(json_t *c, char *b, size_t n)
{
	const char *start = doc_str(c, "start", "");
	snprintf(b, n, "%s%s%s", doc_str(c, "pool", ""), *start ? "/" : "", start);
}
static void c_workers(json_t *c, char *b, size_t n)
{
	snprintf(b, n, "%lld", (long long)doc_int(c, "workers", 0));
}
static void c_median(json_t *c, char *b, size_t n)
{
	table_fmt_seconds(doc_num(c, "median_wall_s", NAN), b, n);
}
static void c_ci(json_t *c, char *b, size_t n)
{
	char lo[32], hi[32];
	if (!isfinite(doc_num(c, "ci_low_s", NAN))) {
		snprintf(b, n, "-");
		return;
	}
	table_fmt_seconds(doc_num(c, "ci_low_s", NAN), lo, sizeof lo);
	table_fmt_seconds(doc_num(c, "ci_high_s", NAN), hi, sizeof hi);
	snprintf(b, n, "%s .. %s", lo, hi);
}
static void c_speedup(json_t *c, char *b, size_t n)
{
	double s = doc_num(c, "speedup", NAN);
	snprintf(b, n, isfinite(s) ? "%.2fx" : "-", s);
}
static void c_eff(json_t *c, char *b, size_t n)
{
	double s = doc_num(c, "efficiency", NAN);
	snprintf(b, n, isfinite(s) ? "%.0f%%" : "-", s * 100);
}
static void c_cores(json_t *c, char *b, size_t n)
{
	double s = doc_num(c, "cpu_util", NAN);
	snprintf(b, n, isfinite(s) ? "%.2f" : "-", s);
}
static void c_lock(json_t *c, char *b, size_t n)
{
	double s = doc_figure(c, "lock.share", NAN);
	snprintf(b, n, isfinite(s) ? "%.0f%%" : "n/a", s * 100);
}
static void c_ctxsw(json_t *c, char *b, size_t n)
{
	double v = doc_figure(c, "rusage.voluntary_csw", NAN);
	double iv = doc_figure(c, "rusage.involuntary_csw", NAN);
	if (isfinite(v) && isfinite(iv))
		snprintf(b, n, "%.0f/%.0f", v, iv);
	else
		snprintf(b, n, "n/a");
}
static void c_rss(json_t *c, char *b, size_t n)
{
	table_fmt_bytes(doc_figure(c, "memory.peak_rss_bytes", NAN), b, n);
}
/* What each worker added: the pool's peak over the RSS the runner had
 * before the pool started (its inputs included), shared out. Memory that
 * multiplies with every worker shows up here, not in the total. */
static void c_per_worker(json_t *c, char *b, size_t n)
{
	double peak = doc_figure(c, "memory.peak_rss_bytes", NAN);
	double base = doc_figure(c, "memory.baseline_rss_bytes", NAN);
	double w = doc_num(c, "workers", NAN);
	if (!isfinite(peak) || !isfinite(base) || !(w >= 1))
		snprintf(b, n, "n/a");
	else
		table_fmt_bytes(fmax(peak - base, 0) / w, b, n);
}
static void c_threads(json_t *c, char *b, size_t n)
{
	double v = doc_figure(c, "memory.peak_threads", NAN);
	snprintf(b, n, isfinite(v) ? "%.0f" : "n/a", v);
}
/* /dev/shm is one figure for the whole system: what a repetition added
 * is its peak minus the sample the probe took as it started (the series'
 * first point); the median over the repetitions. NAN without a series. */
static double devshm_growth(json_t *c)
{
	double v[512];
	size_t k = 0, i;
	json_t *r;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		json_t *m = json_object_get(r, "memory");
		json_t *s = json_object_get(json_object_get(m, "series"), "devshm_bytes");
		double peak = doc_num(m, "peak_devshm_bytes", NAN);
		if (isfinite(peak) && json_is_number(json_array_get(s, 0)) && k < 512)
			v[k++] = peak - json_number_value(json_array_get(s, 0));
	}
	return stats_median(v, k);
}
/* "+X": growth during the repetition; a bare figure: the absolute peak
 * (a document without series). */
static void c_devshm(json_t *c, char *b, size_t n)
{
	char t[32];
	double g = devshm_growth(c);
	if (!isfinite(g)) {
		table_fmt_bytes(doc_figure(c, "memory.peak_devshm_bytes", NAN), b, n);
		return;
	}
	table_fmt_bytes(g, t, sizeof t);
	snprintf(b, n, "+%s", t);
}
static void c_taken(json_t *c, char *b, size_t n)
{
	double t = interference_taken(c);
	snprintf(b, n, isfinite(t) ? "%.2f" : "n/a", t);
}
/* A busy row says so where the eye lands: its status. */
static void c_status(json_t *c, char *b, size_t n)
{
	const char *st = doc_str(c, "status", "");
	const char *busy = interference_busy(c) ? ", busy" : "";
	json_t *slower = json_object_get(c, "slower");
	if (strcmp(st, "ok"))
		snprintf(b, n, "%s%s", st, busy);
	else if (json_is_false(json_object_get(c, "checksum_ok")))
		snprintf(b, n, "CHECKSUM MISMATCH");
	else if (json_is_object(slower))
	{
		long long w = (long long)doc_int(slower, "than_workers", 0);
		snprintf(b, n, "SLOWER than %lld worker%s%s", w, w == 1 ? "" : "s", busy);
	}
	else
		snprintf(b, n, "ok%s", busy);
}

struct column {
	const char *header;
	cell_fn cell;
	const char *needs; /* dotted path that must exist in some config */
	int right;
	int (*wanted)(json_t *c); /* and, if set, true for some config */
};

/* /dev/shm is the whole system's: worth a column only when this run used
 * it (a sharing mode was swept, or a repetition added a MiB or more). */
static int devshm_wanted(json_t *c)
{
	return json_is_string(json_object_get(c, "share")) ||
	       devshm_growth(c) >= 1024.0 * 1024;
}

/* exec's rows name no pool of the registry: exec has no "before the
 * pool", its baseline is the program's first sample, and its workers are
 * whatever the program made of {workers}. */
static int per_worker_wanted(json_t *c)
{
	return pool_find(doc_str(c, "pool", "")) != NULL;
}

/* Cores other programs took: a column only when some row was busy (an
 * idle machine's hundredths would be clutter). */
static int busy_wanted(json_t *c)
{
	return interference_busy(c);
}

static const struct column columns[] = {
	{"pool", c_pool, NULL, 0, NULL},
	{"workers", c_workers, NULL, 1, NULL},
	{"median", c_median, NULL, 1, NULL},
	{"CI of median", c_ci, NULL, 1, NULL},
	{"speedup", c_speedup, NULL, 1, NULL},
	{"efficiency", c_eff, NULL, 1, NULL},
	{"cores busy", c_cores, NULL, 1, NULL},
	{"lock wait", c_lock, "lock.share", 1, NULL},
	{"ctx sw vol/invol", c_ctxsw, "rusage.voluntary_csw", 1, NULL},
	{"peak RSS", c_rss, "memory.peak_rss_bytes", 1, NULL},
	{"per worker", c_per_worker, "memory.baseline_rss_bytes", 1, per_worker_wanted},
	{"threads", c_threads, "memory.peak_threads", 1, NULL},
	{"/dev/shm", c_devshm, "memory.peak_devshm_bytes", 1, devshm_wanted},
	{"others' cores", c_taken, "interference.taken_cores", 1, busy_wanted},
	{"status", c_status, NULL, 0, NULL},
};
#define NCOLS (sizeof columns / sizeof columns[0])

static int column_present(const struct column *col, json_t **rows, size_t n)
{
	if (!col->needs)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (isfinite(doc_figure(rows[i], col->needs, NAN)) &&
		    (!col->wanted || col->wanted(rows[i])))
			return 1;
	return 0;
}

/* exec's --param and --env dimensions of the rows, as columns after the
 * pool: a param by its name, a variable as $NAME. */
struct swept_cols {
	struct doc_swept col[DOC_SWEPT_MAX];
	size_t n;
};

static void swept_columns(json_t **rows, size_t n, struct swept_cols *sc)
{
	struct doc_swept d[DOC_SWEPT_MAX];
	sc->n = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = doc_swept_dims(rows[i], d, DOC_SWEPT_MAX);
		for (size_t j = 0; j < k; j++) {
			size_t m = 0;
			while (m < sc->n && !(sc->col[m].env == d[j].env &&
					      !strcmp(sc->col[m].name, d[j].name)))
				m++;
			if (m == sc->n && sc->n < DOC_SWEPT_MAX)
				sc->col[sc->n++] = d[j];
		}
	}
}

static void swept_cell(json_t *c, const struct doc_swept *col, char *b, size_t n)
{
	struct doc_swept d[DOC_SWEPT_MAX];
	size_t k = doc_swept_dims(c, d, DOC_SWEPT_MAX);
	snprintf(b, n, "-");
	for (size_t j = 0; j < k; j++)
		if (d[j].env == col->env && !strcmp(d[j].name, col->name))
			snprintf(b, n, "%s", d[j].value);
}

/* Column k of the table: the pool, then the swept columns, then the rest
 * of columns[]. */
static void any_cell(const struct swept_cols *sc, size_t k, json_t *c,
		     char *b, size_t n)
{
	if (k == 0)
		columns[0].cell(c, b, n);
	else if (k <= sc->n)
		swept_cell(c, &sc->col[k - 1], b, n);
	else
		columns[k - sc->n].cell(c, b, n);
}

static void any_header(const struct swept_cols *sc, size_t k, char *b, size_t n)
{
	if (k && k <= sc->n)
		snprintf(b, n, "%s%s", sc->col[k - 1].env ? "$" : "", sc->col[k - 1].name);
	else
		snprintf(b, n, "%s", columns[k ? k - sc->n : 0].header);
}

static void print_rows(FILE *out, json_t **rows, size_t n)
{
	struct swept_cols sc;
	swept_columns(rows, n, &sc);
	size_t ncols = NCOLS + sc.n;
	int show[NCOLS + DOC_SWEPT_MAX], right[NCOLS + DOC_SWEPT_MAX];
	size_t width[NCOLS + DOC_SWEPT_MAX];
	char cell[256];
	for (size_t k = 0; k < ncols; k++) {
		const struct column *col = k && k <= sc.n ? NULL : &columns[k ? k - sc.n : 0];
		show[k] = !col || column_present(col, rows, n);
		right[k] = col && col->right;
		any_header(&sc, k, cell, sizeof cell);
		width[k] = strlen(cell);
		for (size_t i = 0; i < n && show[k]; i++) {
			any_cell(&sc, k, rows[i], cell, sizeof cell);
			if (strlen(cell) > width[k])
				width[k] = strlen(cell);
		}
	}
	for (size_t k = 0; k < ncols; k++)
		if (show[k]) {
			any_header(&sc, k, cell, sizeof cell);
			fprintf(out, "  %*s", right[k] ? (int)width[k] : -(int)width[k], cell);
		}
	fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < ncols; k++) {
			if (!show[k])
				continue;
			any_cell(&sc, k, rows[i], cell, sizeof cell);
			fprintf(out, "  %*s", right[k] ? (int)width[k] : -(int)width[k], cell);
		}
		fputc('\n', out);
	}
}

/* --- notes ------------------------------------------------------------ */

static void note_slower(FILE *out, json_t *c, int cores)
{
	json_t *s = json_object_get(c, "slower");
	json_int_t w = doc_int(c, "workers", 0);
	char label[256];
	doc_series_label(c, label, sizeof label);
	fprintf(out, "  ! %s: %lld workers are %.2fx slower than %lld "
		"(the confidence intervals do not overlap)",
		label, (long long)w, doc_num(s, "ratio", NAN),
		(long long)doc_int(s, "than_workers", 0));
	double lock = doc_figure(c, "lock.share", NAN);
	if (!strcmp(doc_str(s, "cause", ""), "interference"))
		fputs(": the machine was busy (other programs' notes below), "
		      "which can explain it; not the workers, locks or cores: "
		      "measure again on an idle machine", out);
	else if (isfinite(lock) && lock > 0.2)
		fprintf(out, ": %.0f %% of worker time waited on %s", lock * 100,
			*doc_str(c, "lock_model", "") ? "the interpreter lock" : "locks");
	else if (w > cores)
		fprintf(out, ": more workers than the %d cores", cores);
	fputs(".\n", out);
}

/* A row measured while other programs took the machine. */
static void note_busy(FILE *out, json_t *c)
{
	char taken[48];
	json_int_t w = json_integer_value(json_object_get(c, "workers"));
	json_t *in = json_object_get(c, "interference");
	size_t nb = json_array_size(json_object_get(in, "busy_reps"));
	interference_phrase(c, taken, sizeof taken);
	char label[256];
	doc_series_label(c, label, sizeof label);
	fprintf(out, "  ~ %s, %lld worker%s: busy: %s taken by other "
		"programs", label, (long long)w, w == 1 ? "" : "s", taken);
	if (doc_num(in, "steal_s", 0) > 0)
		fprintf(out, " (%.0f %% of it steal: the hypervisor's)",
			100 * doc_num(in, "steal_s", 0) /
				(doc_num(in, "steal_s", 0) + doc_num(in, "other_cpu_s", 0)));
	/* A repetition shorter than a few ticks cannot be told busy on its
	 * own; its configuration's repetitions together can. */
	if (nb)
		fprintf(out, " in %zu of %zu repetition%s", nb, doc_nreps(c),
			doc_nreps(c) == 1 ? "" : "s");
	else
		fprintf(out, " over its %zu repetitions together (each too "
			"short to tell on its own)", doc_nreps(c));
	if (isfinite(doc_num(in, "load_avg_1m", NAN)))
		fprintf(out, ", load average %.1f", doc_num(in, "load_avg_1m", NAN));
	fputs(": its time is the machine's, not the code's alone.\n", out);
}

/* Repetitions the outlier rule named (summary.c, config.outliers). */
static void note_outliers(FILE *out, json_t *c)
{
	json_t *o = json_object_get(c, "outliers"), *r;
	size_t i;
	json_int_t w = doc_workers(c);
	char label[256];
	doc_series_label(c, label, sizeof label);
	json_array_foreach(json_object_get(o, "reps"), i, r) {
		char t[32], m[32];
		table_fmt_seconds(doc_num(r, "wall_s", NAN), t, sizeof t);
		table_fmt_seconds(doc_num(c, "median_wall_s", NAN), m, sizeof m);
		fprintf(out, "  ~ %s, %lld worker%s: repetition %lld is an "
			"outlier: %s against a median of %s (modified z-score "
			"%.1f > %.1f)%s; the median and its interval keep it.\n",
			label, (long long)w, w == 1 ? "" : "s",
			(long long)doc_int(r, "index", 0) + 1, t, m,
			fabs(doc_num(r, "z", NAN)), doc_num(o, "threshold", NAN),
			doc_bool(r, "busy", 0) ? ", measured while other programs "
			"took the machine" : "");
	}
}

static void note_failure(FILE *out, json_t *c)
{
	json_int_t w = doc_int(c, "workers", 0);
	char label[256];
	doc_series_label(c, label, sizeof label);
	fprintf(out, "  ! %s, %lld worker%s: %s", label,
		(long long)w, w == 1 ? "" : "s", doc_str(c, "status", ""));
	if (*doc_str(c, "detail", ""))
		fprintf(out, ": %s", doc_str(c, "detail", ""));
	fputs(" (the sweep went on).\n", out);
}

static void note_best(FILE *out, json_t **rows, size_t n)
{
	json_t *best = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(doc_str(rows[i], "status", ""), "ok") &&
		    isfinite(doc_num(rows[i], "median_wall_s", NAN)) &&
		    (!best || doc_num(rows[i], "median_wall_s", NAN) < doc_num(best, "median_wall_s", NAN)))
			best = rows[i];
	if (!best)
		return;
	char t[32], label[256];
	table_fmt_seconds(doc_num(best, "median_wall_s", NAN), t, sizeof t);
	doc_series_label(best, label, sizeof label);
	json_int_t w = doc_int(best, "workers", 0);
	fprintf(out, "  Fastest: %s with %lld worker%s, %s", label,
		(long long)w, w == 1 ? "" : "s", t);
	if (isfinite(doc_num(best, "speedup", NAN)) && w > 1)
		fprintf(out, " (%.2fx %s, %.0f %% efficiency)",
			doc_num(best, "speedup", NAN),
			!strcmp(doc_str(best, "baseline_kind", ""), "serial")
				? "the serial pool's run" : "its 1-worker run",
			doc_num(best, "efficiency", NAN) * 100);
	if (doc_bool(json_object_get(best, "interference"), "superlinear", 0))
		fputs(": more than one worker's worth per worker because the "
		      "machine was busy while one side of the ratio ran, not "
		      "real super-linear scaling", out);
	fputs(".\n", out);
}

/* The fastest of the ok rows of row like's series (keys: each row's
 * series id) with lo <= workers <= hi, or NULL. */
static json_t *fastest_row(json_t **rows, char **keys, size_t n, size_t like,
			   json_int_t lo, json_int_t hi)
{
	json_t *best = NULL;
	for (size_t i = 0; i < n; i++) {
		json_int_t w = doc_int(rows[i], "workers", 0);
		double s = doc_num(rows[i], "speedup", NAN);
		if (!keys[i] || strcmp(keys[i], keys[like]) ||
		    !doc_is_ok(rows[i]) || !isfinite(s) || w < lo || w > hi)
			continue;
		if (!best || s > doc_num(best, "speedup", NAN))
			best = rows[i];
	}
	return best;
}

/* `a` measurably faster than `b`: its interval of the median lies below
 * b's (the test the slower flag uses), or, without intervals, by 5 %. */
static int measurably_faster(json_t *a, json_t *b)
{
	double hi = doc_num(a, "ci_high_s", NAN), lo = doc_num(b, "ci_low_s", NAN);
	if (isfinite(hi) && isfinite(lo))
		return hi < lo;
	return doc_num(a, "speedup", NAN) > doc_num(b, "speedup", NAN) * 1.05;
}

static json_t *named_cause(json_t *dx, json_t **rows, char **keys, size_t n,
			   size_t like);

/* No worker count gained: either one worker already kept the cores busy
 * with threads of its own (a BLAS or OpenMP pool: the dueling-pools
 * case), or something serialises the workers (a lock, the n_jobs case). */
static void next_no_gain(FILE *out, const char *pool, double best, json_t *one,
			 json_t *top, int cores, json_t *cause)
{
	double busy = one ? doc_num(one, "cpu_util", NAN) : NAN;
	int exec = one && doc_is_exec(one);
	if (cause)
		fprintf(out, "  Next: %s: no worker count gained 10 %% "
			"(%.2fx at best): %s (above): %s.\n", pool, best,
			doc_str(cause, "cause", ""), doc_str(cause, "advice", ""));
	else if (isfinite(busy) && busy >= 0.75 * cores)
		fprintf(out, "  Next: %s: no worker count gained 10 %% "
			"(%.2fx at best): one worker already kept %.1f of the "
			"%d cores busy with threads of its own; more workers "
			"only compete for them: give each fewer inner threads "
			"(%s) or use no pool.\n", pool, best, busy, cores,
			exec ? "e.g. --env OPENBLAS_NUM_THREADS=1" : "--inner-threads 1");
	else if (exec && one && top &&
		 json_equal(json_object_get(one, "argv"), json_object_get(top, "argv")))
		fprintf(out, "  Next: %s: no worker count gained 10 %% "
			"(%.2fx at best): every worker count ran the same command "
			"line (no {workers} in it); unless the program reads "
			"CONTEND_WORKERS, it did the same work each time.\n", pool,
			best);
	else
		fprintf(out, "  Next: %s: no worker count gained 10 %% "
			"(%.2fx at best): something serialises the work; the "
			"lock wait column and the notes say what.\n", pool, best);
}

/* The rows a verdict rests on were measured busy: no verdict. */
static void next_busy(FILE *out, const char *label, json_t **rows,
		      char **keys, size_t n, size_t like)
{
	size_t busy = 0, all = 0;
	double most = 0;
	for (size_t i = 0; i < n; i++) {
		if (!keys[i] || strcmp(keys[i], keys[like]) || !doc_is_ok(rows[i]))
			continue;
		all++;
		if (interference_busy(rows[i])) {
			busy++;
			most = fmax(most, interference_taken(rows[i]));
		}
	}
	fprintf(out, "  Next: %s: inconclusive: the machine was busy "
		"during %zu of its %zu rows (up to %.2f cores taken by other "
		"programs); measure again on an idle machine before choosing a "
		"worker count.\n", label, busy, all, most);
}

/* What to do next about the worker count, per series: when no worker count
 * gained 10 %, the work is serialised and more workers will not help;
 * otherwise workers beyond the cores that were not measurably faster than
 * the best within them are time the user can stop spending. */
static void note_next(FILE *out, json_t *dx, json_t **rows, size_t n, int cores)
{
	json_t *seen = json_object(); /* once per series */
	char **keys = calloc(n + 1, sizeof *keys);
	for (size_t i = 0; keys && i < n; i++)
		keys[i] = doc_series_id(rows[i], DOC_KEY_ALL, 1);
	for (size_t i = 0; keys && i < n; i++) {
		json_t *like = rows[i];
		char pool[256];
		if (!keys[i] || json_object_get(seen, keys[i]))
			continue;
		json_object_set_new(seen, keys[i], json_true());
		json_t *in = fastest_row(rows, keys, n, i, 1, cores);
		json_t *beyond = fastest_row(rows, keys, n, i, cores + 1, INT64_MAX);
		json_t *best = fastest_row(rows, keys, n, i, 2, INT64_MAX);
		json_t *one = fastest_row(rows, keys, n, i, 1, 1);
		if (!best)
			continue;
		doc_series_label(like, pool, sizeof pool);
		if (interference_explains(best, one) ||
		    (in && beyond && interference_explains(in, beyond)))
			next_busy(out, pool, rows, keys, n, i);
		else if (doc_num(best, "speedup", NAN) < 1.1)
			next_no_gain(out, pool, doc_num(best, "speedup", NAN),
				     one, best, cores, named_cause(dx, rows, keys, n, i));
		else if (in && beyond && !measurably_faster(beyond, in) &&
			 doc_num(beyond, "speedup", NAN) > doc_num(in, "speedup", NAN))
			fprintf(out, "  Next: %s: inconclusive: intervals "
				"overlap; add --reps (%.2fx beyond the %d cores "
				"against %.2fx within them, not measurably "
				"faster).\n", pool, doc_num(beyond, "speedup", NAN),
				cores, doc_num(in, "speedup", NAN));
		else if (in && beyond && !measurably_faster(beyond, in))
			fprintf(out, "  Next: %s: more workers than the %d cores "
				"gained nothing measurable (%.2fx at best, against "
				"%.2fx within them); keep --workers at %d or fewer "
				"here.\n", pool, cores, doc_num(beyond, "speedup", NAN),
				doc_num(in, "speedup", NAN), cores);
	}
	for (size_t i = 0; keys && i < n; i++)
		free(keys[i]);
	free(keys);
	json_decref(seen);
}

/* Speedup is relative to the 1-worker run, so 3 worker counts give two
 * speedups for two parameters: the curve can pass through both, and an
 * R^2 near 1 then says nothing about the model. The line says so. */
static void fit_line(FILE *out, const char *pool, json_t *f)
{
	json_int_t pts = doc_int(f, "points", 0);
	fprintf(out, "  USL %s (%lld worker counts%s, R^2=%.2f): %s.\n", pool,
		(long long)pts, pts <= 3 ? ", too few to test the model" : "",
		doc_num(f, "r2", NAN), doc_str(f, "summary", ""));
}

/* A one-worker pool has no curve to fit: no reason is worth printing. */
static int single_worker(json_t *c)
{
	const struct pool_ops *p = pool_find(doc_str(c, "pool", ""));
	return p && p->single_worker;
}

/* The document's fits by series key (an object of arrays): note_fits looks
 * a series up instead of reading every fit for every row. */
static json_t *fits_by_series(json_t *doc)
{
	json_t *by = json_object(), *f;
	size_t k;
	json_array_foreach(doc_fits(doc), k, f) {
		const char *key = doc_str(f, "series", "");
		json_t *list = json_object_get(by, key);
		if (!list)
			json_object_set_new(by, key, list = json_array());
		json_array_append(list, f);
	}
	return by;
}

/* The series a fit could not be made for, with one reason: named up to
 * three, else counted (a table of every mode x variable would say the
 * same reason once per series). */
static void unfitted_line(FILE *out, const char *reason, json_t *labels,
			  size_t nseries)
{
	size_t n = json_array_size(labels);
	const char *l0 = json_string_value(json_array_get(labels, 0));
	if (n == 1)
		fprintf(out, "  USL %s: %s.\n", l0, reason);
	else if (n <= 3)
		fprintf(out, "  USL %s%s%s and %s: %s.\n", l0, n == 3 ? ", " : "",
			n == 3 ? json_string_value(json_array_get(labels, 1)) : "",
			json_string_value(json_array_get(labels, n - 1)), reason);
	else if (n == nseries)
		fprintf(out, "  USL, all %zu series of this table: %s.\n", n, reason);
	else
		fprintf(out, "  USL, %zu series (%s, %s and %zu more): %s.\n", n, l0,
			json_string_value(json_array_get(labels, 1)), n - 2, reason);
}

/* The scalability-law fit of each pool's series in this table; the
 * series not fitted after them, one line a reason. */
static void note_fits(FILE *out, json_t *fits, json_t **rows, size_t n)
{
	json_t *f, *unfitted = json_object(); /* reason -> [label]: in order */
	size_t k, nseries = 0;
	char key[512], prev[512] = "";
	for (size_t i = 0; i < n; i++) {
		if (doc_series_key(rows[i], DOC_KEY_ALL, key, sizeof key) || !strcmp(key, prev))
			continue;
		snprintf(prev, sizeof prev, "%s", key);
		nseries++;
		/* the pool alone, as before, where it names the series */
		char label[256];
		struct doc_swept d[1];
		if (doc_swept_dims(rows[i], d, 1))
			doc_series_label(rows[i], label, sizeof label);
		else
			snprintf(label, sizeof label, "%s", doc_str(rows[i], "pool", ""));
		json_array_foreach(json_object_get(fits, key), k, f) {
			const char *reason = doc_str(f, "reason", "");
			if (doc_bool(f, "fitted", 0))
				fit_line(out, label, f);
			else if (*reason && !single_worker(rows[i])) {
				if (!json_object_get(unfitted, reason))
					json_object_set_new(unfitted, reason, json_array());
				json_array_append_new(json_object_get(unfitted, reason),
						      json_string(label));
			}
		}
	}
	const char *reason;
	json_t *labels;
	json_object_foreach(unfitted, reason, labels)
		unfitted_line(out, reason, labels, nseries);
	json_decref(unfitted);
}

/* --- the diagnosis ----------------------------------------------------
 *
 * Read from the document (analysis/diagnosis.c made it with the
 * document), never worked out here: each entry once per table, under the
 * first of its rows, its evidence then its advice. */

/* elsewhere: the entry's figures are of a configuration in another table
 * (an entry may span tables: one cause over two lock models), so say
 * whose they are rather than let them pass for this table's rows. */
static void print_entry(FILE *out, json_t *e, const char *elsewhere)
{
	const char *cause = doc_str(e, "cause", "");
	const char *ev = doc_str(e, "evidence", "");
	const char *adv = doc_str(e, "advice", "");
	char from[400] = "";
	if (elsewhere)
		snprintf(from, sizeof from, " (figures of %.250s, in another "
			 "table; it concerns this table's rows too)", elsewhere);
	if (!strcmp(cause, "none"))
		fprintf(out, "  Diagnosis: %s%s.\n", ev, from);
	else
		fprintf(out, "  ! %s: %s%s.\n", cause, ev, from);
	if (*adv)
		fprintf(out, "    Advice: %s.\n", adv);
}

/* The entries of row c not printed yet in this table (shown: a set of
 * the entries printed, by address; ids: this table's rows' ids). dx:
 * diagnosis_index of the document. */
static void note_diagnosis(FILE *out, json_t *dx, json_t *c, json_t *shown,
			   json_t *ids)
{
	json_t *e;
	size_t i;
	char key[32];
	json_array_foreach(json_object_get(dx, doc_str(c, "id", "")), i, e) {
		snprintf(key, sizeof key, "%p", (void *)e);
		if (json_object_get(shown, key))
			continue;
		json_object_set_new(shown, key, json_true());
		const char *from = doc_str(e, "evidence_config", NULL);
		print_entry(out, e, from && !json_object_get(ids, from) ? from : NULL);
	}
}

/* Entries about no configuration (the document as a whole). */
static void note_document_diagnosis(FILE *out, json_t *dx)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(dx, ""), i, e)
		print_entry(out, e, NULL);
}

/* The first named cause (not "none") of any row of the series of
 * rows[like] (keys: the rows' series ids), or NULL. */
static json_t *named_cause(json_t *dx, json_t **rows, char **keys, size_t n,
			   size_t like)
{
	json_t *e;
	size_t k;
	for (size_t i = 0; i < n; i++) {
		if (!keys[i] || !keys[like] || strcmp(keys[i], keys[like]))
			continue;
		json_array_foreach(json_object_get(dx, doc_str(rows[i], "id", "")), k, e)
			if (strcmp(doc_str(e, "cause", "none"), "none"))
				return e;
	}
	return NULL;
}

/* The probes' own threads are left out of cores busy; when they cost a
 * tenth of the work or more, the reader should know. */
static void note_probes(FILE *out, json_t *c)
{
	double own = doc_num(c, "median_probes_cpu_s", NAN);
	double work = doc_num(c, "median_cpu_s", NAN);
	if (isfinite(own) && isfinite(work) && work > 0 && own >= 0.1 * work)
		fprintf(out, "  Note: %s: the probes' own threads used %.2f ms of "
			"CPU per repetition (%.0f %% of the work's), not counted "
			"in cores busy.\n", doc_str(c, "id", ""), own * 1e3,
			own / work * 100);
}

/* Series of the table whose speedups are against the serial pool's run
 * (they have no 1-worker row): once each. */
static void note_serial_baseline(FILE *out, json_t **rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int first = 1;
		for (size_t j = 0; j < i; j++)
			first &= !doc_same_series(rows[j], rows[i], DOC_KEY_ALL) ||
				 strcmp(doc_str(rows[j], "baseline_kind", ""), "serial");
		if (!first || strcmp(doc_str(rows[i], "baseline_kind", ""), "serial"))
			continue;
		char label[256];
		doc_series_label(rows[i], label, sizeof label);
		fprintf(out, "  %s has no 1-worker row: its speedup and efficiency "
			"are against the serial pool's run.\n", label);
	}
}

static void print_notes(FILE *out, json_t *dx, json_t **rows, size_t n,
			int cores)
{
	json_t *shown = json_object(), *ids = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(ids, doc_str(rows[i], "id", ""), json_true());
	note_serial_baseline(out, rows, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(doc_str(rows[i], "status", ""), "ok"))
			note_failure(out, rows[i]);
		else if (json_is_false(json_object_get(rows[i], "checksum_ok")))
			fprintf(out, "  ! %s: CHECKSUM MISMATCH: this configuration "
				"computed a different result; its time means "
				"nothing.\n", doc_str(rows[i], "id", ""));
		else if (json_is_object(json_object_get(rows[i], "slower")))
			note_slower(out, rows[i], cores);
		if (interference_busy(rows[i]))
			note_busy(out, rows[i]);
		note_outliers(out, rows[i]);
		note_diagnosis(out, dx, rows[i], shown, ids);
		if (!strcmp(doc_str(rows[i], "status", ""), "ok"))
			note_probes(out, rows[i]);
	}
	note_best(out, rows, n);
	note_next(out, dx, rows, n, cores);
	json_decref(shown);
	json_decref(ids);
}

/* --- groups ----------------------------------------------------------- */

static void print_header(FILE *out, json_t *c, int reps, double level)
{
	fprintf(out, "\n%s  build=%s", doc_str(c, "workload", ""), doc_str(c, "build", ""));
	static const char *const dims[][2] = {
		{"lock_model", "lock-model"}, {"inner_threads", "inner-threads"},
		{"share", "share"}, {"backend", "backend"}};
	for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
		if (*doc_str(c, dims[d][0], ""))
			fprintf(out, "  %s=%s", dims[d][1], doc_str(c, dims[d][0], ""));
	json_t *hooks = json_object_get(c, "hooks"), *h;
	size_t k;
	if (json_is_array(hooks)) {
		fputs("  hooks in binary:", out);
		json_array_foreach(hooks, k, h)
			fprintf(out, "%s%s", k ? "," : " ", json_string_value(h));
		if (!json_array_size(hooks))
			fputs(" none", out);
	}
	const char *key;
	json_t *v;
	struct doc_swept d[DOC_SWEPT_MAX];
	size_t nd = doc_swept_dims(c, d, DOC_SWEPT_MAX);
	fputs("  params:", out);
	json_object_foreach(json_object_get(c, "params"), key, v) {
		int swept = 0;
		for (size_t j = 0; j < nd; j++)
			swept |= !d[j].env && !strcmp(d[j].name, key);
		if (!swept)
			fprintf(out, " %s=%s", key, json_string_value(v));
	}
	fprintf(out, "\n  %d rep%s after %lld warm-up; interval: [", reps,
		reps == 1 ? "" : "s",
		(long long)doc_int(c, "warmup", 0));
	if (isfinite(level))
		fprintf(out, "order statistics, %.1f %% coverage", level * 100);
	else
		fputs("none", out);
	fputs("]\n", out);
}

static int uses_blas(json_t *c)
{
	const struct workload_ops *w = workload_find(doc_str(c, "workload", ""));
	return w && w->uses_blas;
}

/* One table per combination of every dimension but the pool, the worker
 * count and exec's params and env (columns of it), in run order: the
 * groups of document/groups.h, made once. */
void table_render(json_t *doc, FILE *out)
{
	json_t *configs = json_object_get(doc, "configs");
	size_t n = json_array_size(configs);
	int cores = (int)doc_int(
		json_object_get(doc, "context"), "logical_cores", 0);
	json_t **rows = calloc(n + 1, sizeof *rows), *fits = fits_by_series(doc);
	json_t *dx = diagnosis_index(doc); /* the stored diagnosis, by config */
	struct doc_groups g;
	if (!rows || doc_groups_series(configs, DOC_KEY_NO_POOL | DOC_KEY_NO_SWEPT, 1, &g)) {
		free(rows);
		json_decref(fits);
		json_decref(dx);
		return;
	}
	for (size_t k = 0; k < g.ngroups; k++) {
		size_t m = doc_group_size(&g, k);
		for (size_t j = 0; j < m; j++)
			rows[j] = json_array_get(configs, doc_group_member(&g, k, j));
		json_t *head = rows[0];
		print_header(out, head, (int)json_array_size(json_object_get(head, "reps")),
			     doc_num(head, "ci_level", NAN));
		print_rows(out, rows, m);
		print_notes(out, dx, rows, m, cores > 0 ? cores : 1);
		note_fits(out, fits, rows, m);
	}
	doc_groups_free(&g);
	json_decref(fits);
	comparisons_render(doc, out, COMPARISONS_TEXT);
	note_document_diagnosis(out, dx);
	json_decref(dx);
	json_t *kw = json_object_get(json_object_get(json_object_get(doc, "context"),
						      "blas"), "kernel_warning");
	for (size_t i = 0; i < n && json_is_object(kw); i++)
		if (uses_blas(json_array_get(configs, i))) {
			fprintf(out, "\n  ! BLAS: %s.\n", doc_str(kw, "message", ""));
			break;
		}
	const char *st = doc_str(doc, "status", "");
	if (!strcmp(st, "interrupted"))
		fputs("\n  Interrupted: the table shows what was measured before "
		      "the stop.\n", out);
	else if (!strcmp(st, "running"))
		fputs("\n  Incomplete: the run never finished (status 'running': "
		      "its harness was killed, or it is still going); the table "
		      "shows the configurations written so far.\n", out);
	free(rows);
}
