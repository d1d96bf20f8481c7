/* diag_memory.c - rules of the memory family: memory-growth, shm-growth,
 * page-cache and memory-per-worker.
 *
 * Evidence, per configuration (its median repetition's series):
 *   memory-growth  run (tasks known): the heap (else RSS) climbed with the
 *                  tasks finished, not the workers (analysis/growth.c);
 *                  several climbs with memory freed in between are a
 *                  collector freeing in batches. exec (no tasks): the
 *                  processes' own memory (anonymous RSS, else RSS) kept
 *                  climbing through the second half of the run (see
 *                  exec_growth below): imports, pools starting and a
 *                  working set reach a level and stay there; memory held
 *                  per task climbs until the work ends. At more than one
 *                  worker only where the 1-worker run grew too (the same
 *                  tasks): growth with the workers alone is theirs.
 *   shm-growth     /dev/shm grew with the tasks (run: the growth test on
 *                  its series), or, where the files are counted, by
 *                  SHM_MIN_FILES files or more and SHM_MIN_BYTES, mostly
 *                  after the first quarter: files made per task, not once.
 *                  Without file counts (older documents): by SHM_MIN_BYTES
 *                  mostly after the first quarter and still held at the
 *                  end.
 *   page-cache     Cached grew by PAGE_CACHE_MIN_BYTES and by more than the
 *                  tree's peak RSS during the repetition (system-wide:
 *                  others' files count too, so the bar is high).
 *   memory-per-worker  peak PSS (else RSS) per added worker against 1
 *                  worker of PER_WORKER_MIN_BYTES and a quarter of the
 *                  1-worker peak.
 * /dev/shm and the page cache are the whole machine's figures. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/growth.h"
#include "document/doc.h"

#define MiB (1024.0 * 1024)
#define SHM_MIN_BYTES (1.0 * MiB)
/* Data files made on /dev/shm (64 KiB or more: the sampler leaves out a
 * pool's semaphores; the most present at once, less those there at the
 * start) for shm-growth: one memmap of the input is the fix's one file; a
 * file per task is the bug's flood (joblib's slices: 32 files for 32
 * tasks). 8 keeps a program's handful of segments out and a flood of
 * even 8 tasks in. */
#define SHM_MIN_FILES 8.0
/* exec memory-growth (exec_growth): the rise through the second half of
 * the run must be EXEC_GROWTH_MIN_BYTES and EXEC_GROWTH_MIN_SHARE of the
 * memory held at its middle (a large program breathing a few MiB is not
 * piling up; a short program whose imports take most of its life climbs
 * up to ~16 MiB in its second half: numpy and joblib are 33 MiB of
 * anonymous memory, while the XGBoost story's 48 tasks hold 60 MiB or
 * more), and the last quarter must still carry EXEC_STEADY_SHARE of
 * that rise: memory held per task climbs steadily to the end (the
 * XGBoost story: 0.41-0.46 of it in the last quarter), while start-up
 * (interpreters importing in new workers) levels off (0.14 in loky's
 * story) and a working set is flat (0). The peak's end is the last
 * sample within EXEC_PEAK_TOL of it: the work ends there, what follows is
 * the program exiting. */
#define EXEC_GROWTH_MIN_BYTES (32.0 * MiB)
#define EXEC_GROWTH_MIN_SHARE 0.25
#define EXEC_STEADY_SHARE 0.30
#define EXEC_PEAK_TOL 0.05
#define EXEC_MIN_POINTS 8
#define PAGE_CACHE_MIN_BYTES (256.0 * MiB)
#define PER_WORKER_MIN_BYTES (64.0 * MiB)

/* run documents only: the tasks are known (exec's are found by
 * exec_growth below). */
static size_t growth_findings(json_t *c, struct growth_finding out[2])
{
	if (!isfinite(doc_num(c, "ntasks", NAN)))
		return 0;
	return growth_of_config(c, out);
}

/* The value of a series at time x: the last sample at or before it. */
static double value_at(const double *t, const double *v, size_t n, double x)
{
	size_t i = 0;
	while (i + 1 < n && t[i + 1] <= x)
		i++;
	return v[i];
}

/* exec: memory that kept climbing through the second half of the run. */
struct exec_growth {
	const char *label;  /* "anonymous memory" or "RSS" */
	double mid, peak;   /* held at the middle of the work, at its peak */
	double last;	    /* rise over the last quarter */
	double span;	    /* seconds from the start to the peak's end */
	int drops;	    /* falls of a quarter of the rise: freed in batches */
};

static int exec_growth(json_t *c, struct exec_growth *g)
{
	json_t *s = growth_median_series(c);
	const char *key = json_is_array(json_object_get(s, "anon_bytes"))
				  ? "anon_bytes" : "rss_bytes";
	double *t = malloc(3 * GROWTH_SERIES_MAX * sizeof *t), *v, *m;
	size_t n, end = 0;
	int ok = 0;
	if (!t)
		return 0;
	v = t + GROWTH_SERIES_MAX;
	m = v + GROWTH_SERIES_MAX;
	n = growth_series_points(s, key, t, v);
	if (n >= EXEC_MIN_POINTS) {
		double peak;
		growth_smooth(v, n, m);
		peak = m[0];
		for (size_t i = 0; i < n; i++)
			peak = fmax(peak, m[i]);
		for (size_t i = 0; i < n; i++)
			if (m[i] >= peak * (1 - EXEC_PEAK_TOL))
				end = i;
		double span = t[end] - t[0];
		double mid = value_at(t, m, end + 1, t[0] + span / 2);
		double q3 = value_at(t, m, end + 1, t[0] + span * 3 / 4);
		double rise = peak - mid;
		*g = (struct exec_growth){strcmp(key, "anon_bytes") ? "RSS"
				: "anonymous memory (RSS less file and shared pages)",
				mid, peak, peak - q3, span, 0};
		/* the saw of a collector: falls of a quarter of the rise in
		 * the second half */
		double high = mid;
		for (size_t i = 0; i <= end; i++) {
			if (t[i] < t[0] + span / 2)
				continue;
			if (m[i] < high - rise / 4 && rise > 0) {
				g->drops++;
				high = m[i];
			}
			high = fmax(high, m[i]);
		}
		ok = span > 0 && rise >= EXEC_GROWTH_MIN_BYTES &&
		     rise >= EXEC_GROWTH_MIN_SHARE * mid &&
		     g->last >= EXEC_STEADY_SHARE * rise;
	}
	free(t);
	return ok;
}

static void exec_growth_rule(struct diag_ctx *ctx, json_t *c)
{
	struct exec_growth g;
	char ev[600], mid[32], peak[32], rise[32], last[32], teeth[64] = "";
	json_t *one = diag_baseline(ctx, c);
	if (isfinite(doc_num(c, "ntasks", NAN)) || !exec_growth(c, &g))
		return;
	/* The same tasks run at every worker count: memory they hold grows at
	 * 1 worker too. Growth only with more workers is the workers' own
	 * (new interpreters importing as they start: memory-per-worker and
	 * startup speak for that). */
	if (one && one != c && !exec_growth(one, &(struct exec_growth){0}))
		return;
	diag_fmt_bytes(g.mid, mid, sizeof mid);
	diag_fmt_bytes(g.peak, peak, sizeof peak);
	diag_fmt_bytes(g.peak - g.mid, rise, sizeof rise);
	diag_fmt_bytes(g.last, last, sizeof last);
	if (g.drops)
		snprintf(teeth, sizeof teeth, ", falling %d time%s in between "
			 "(freed in batches)", g.drops, g.drops == 1 ? "" : "s");
	snprintf(ev, sizeof ev, "%s pool, %lld worker%s: memory kept growing "
		 "as the work went on: %s rose from %s at the middle of the "
		 "%.2f s of work to %s at its end (+%s, %s of it in the last "
		 "quarter%s), where start-up and a working set level off",
		 doc_str(c, "pool", ""), (long long)doc_workers(c),
		 doc_workers(c) == 1 ? "" : "s", g.label, mid, g.span, peak, rise,
		 last, teeth);
	diag_add(ctx, DC_MEMORY_GROWTH, json_pack("[s]", doc_str(c, "id", "")), ev,
		 "finished tasks' objects are kept (or freed only in batches by "
		 "a garbage collector): free each task's objects when it ends "
		 "(del them; gc.collect() per task), return less from each "
		 "task, or use fewer workers", NULL, NULL);
}

static void growth_sentence(json_t *c, const struct growth_finding *g,
			    char *buf, size_t len)
{
	char per[32], rise[32], teeth[48] = "";
	json_int_t w = doc_workers(c);
	diag_fmt_bytes(g->per_task, per, sizeof per);
	diag_fmt_bytes(g->over.rise, rise, sizeof rise);
	/* Several climbs, each ended by memory freed: their rises add up to
	 * more than the peak, so say so. */
	if (g->over.n > 1)
		snprintf(teeth, sizeof teeth, " in %d climbs (freed in between)",
			 g->over.n);
	snprintf(buf, len, "%s pool, %lld worker%s: memory grew with tasks, not "
		 "workers: %s rose %s%s while %.0f %s finished, %s per finished "
		 "%s still held", doc_str(c, "pool", ""), (long long)w,
		 w == 1 ? "" : "s", g->label, rise, teeth, g->over.tasks,
		 isfinite(doc_num(c, "ntasks", NAN)) ? "tasks" : "samples", per,
		 isfinite(doc_num(c, "ntasks", NAN)) ? "task" : "sample");
}

static void add_growth(struct diag_ctx *ctx, json_t *c,
		       const struct growth_finding *g)
{
	char ev[600];
	int shm = !strcmp(g->key, "devshm_bytes");
	growth_sentence(c, g, ev, sizeof ev);
	if (shm)
		diag_add(ctx, DC_SHM_GROWTH, json_pack("[s]", doc_str(c, "id", "")), ev,
			 "each task made a new shared-memory file and kept it: pass "
			 "one object made once (the whole array, not a new slice "
			 "per task; joblib memmaps each new object), or memmap one "
			 "file once (np.load(mmap_mode='r')) and free what a task "
			 "made when it ends", NULL, NULL);
	else
		diag_add(ctx, DC_MEMORY_GROWTH, json_pack("[s]", doc_str(c, "id", "")), ev,
			 g->over.n > 1
				 ? "finished tasks' objects are freed in batches (a "
				   "garbage collector): free each task's objects when "
				   "it ends (del them; gc.collect() per task), or use "
				   "fewer workers"
				 : "finished tasks' memory is kept: free each task's "
				   "objects when it ends (del them, gc.collect() per "
				   "task), or return less from each task",
			 NULL, NULL);
}

/* /dev/shm over the median repetition: growth, the part after the first
 * quarter, what was still held at the end, and the files made (the most
 * present at once less those at the start; NAN where not counted) and
 * still there at the end. */
struct shm_run {
	double grew, late, held, files, files_held;
};

static int shm_over_run(json_t *c, struct shm_run *r)
{
	json_t *s = growth_median_series(c);
	double *t = malloc(4 * GROWTH_SERIES_MAX * sizeof *t), *v, *ft, *fv;
	size_t n, nf;
	int ok = 0;
	if (!t)
		return 0;
	v = t + GROWTH_SERIES_MAX;
	ft = v + GROWTH_SERIES_MAX;
	fv = ft + GROWTH_SERIES_MAX;
	n = growth_series_points(s, "devshm_bytes", t, v);
	nf = growth_series_points(s, "devshm_files", ft, fv);
	if (n >= 3 && t[n - 1] > t[0]) {
		double peak = v[0], quarter = v[0], most = nf ? fv[0] : NAN;
		for (size_t i = 0; i < n; i++) {
			peak = fmax(peak, v[i]);
			if (t[i] <= t[0] + (t[n - 1] - t[0]) / 4)
				quarter = v[i];
		}
		for (size_t i = 0; i < nf; i++)
			most = fmax(most, fv[i]);
		*r = (struct shm_run){peak - v[0], peak - quarter, v[n - 1] - v[0],
				      nf ? most - fv[0] : NAN,
				      nf ? fv[nf - 1] - fv[0] : NAN};
		ok = 1;
	}
	free(t);
	return ok;
}

static void shm_rule(struct diag_ctx *ctx, json_t *c)
{
	struct shm_run r;
	char ev[600], g[32], h[32], files[160] = "";
	if (diag_found(ctx, DC_SHM_GROWTH, doc_str(c, "id", "")) ||
	    !shm_over_run(c, &r) || r.grew < SHM_MIN_BYTES || r.late < r.grew / 2)
		return;
	/* counted files decide; without them, bytes held to the end */
	if (isfinite(r.files) ? r.files < SHM_MIN_FILES : r.held < r.grew / 2)
		return;
	diag_fmt_bytes(r.grew, g, sizeof g);
	diag_fmt_bytes(r.held, h, sizeof h);
	if (isfinite(r.files))
		snprintf(files, sizeof files, "; %.0f files made (the most there "
			 "at once), %.0f of them still there at its end",
			 r.files, fmax(r.files_held, 0));
	snprintf(ev, sizeof ev, "%s pool, %lld worker%s: /dev/shm grew by %s during "
		 "the repetition, %.0f %% of it after the first quarter, and %s was "
		 "still held at its end%s (the whole machine's /dev/shm)",
		 doc_str(c, "pool", ""), (long long)doc_workers(c),
		 doc_workers(c) == 1 ? "" : "s", g, 100 * r.late / r.grew, h, files);
	diag_add(ctx, DC_SHM_GROWTH, json_pack("[s]", doc_str(c, "id", "")), ev,
		 "shared-memory files are made as the tasks run and kept: pass "
		 "one object made once (the whole array, not a new slice per "
		 "task; joblib memmaps each new object), or memmap one file "
		 "once, and remove what a task made when it ends", NULL, NULL);
}

static void page_cache_rule(struct diag_ctx *ctx, json_t *c)
{
	json_t *s = growth_median_series(c);
	double *t = malloc(2 * GROWTH_SERIES_MAX * sizeof *t), *v;
	char ev[600], g[32], r[32];
	if (!t)
		return;
	v = t + GROWTH_SERIES_MAX;
	size_t n = growth_series_points(s, "cached_bytes", t, v);
	double peak = n ? v[0] : NAN, rss = doc_figure(c, "memory.peak_rss_bytes", NAN);
	for (size_t i = 0; i < n; i++)
		peak = fmax(peak, v[i]);
	double grew = n ? peak - v[0] : NAN;
	free(t);
	if (!(grew >= PAGE_CACHE_MIN_BYTES) || !(grew > rss))
		return;
	diag_fmt_bytes(grew, g, sizeof g);
	diag_fmt_bytes(rss, r, sizeof r);
	snprintf(ev, sizeof ev, "%s pool, %lld workers: the page cache (Cached) "
		 "grew by %s during the repetition, more than the processes' "
		 "peak RSS (%s); it is the whole machine's figure",
		 doc_str(c, "pool", ""), (long long)doc_workers(c), g, r);
	diag_add(ctx, DC_PAGE_CACHE, json_pack("[s]", doc_str(c, "id", "")), ev,
		 "the program writes or maps files as it runs (temporary files, "
		 "memmaps, /dev/shm): write or map the input once, remove "
		 "temporary files when done", NULL, NULL);
}

/* PSS where both configurations have it: forked workers share their
 * parent's pages (copy-on-write), and RSS counts each shared page once per
 * process that maps it; PSS splits it among them. */
static const char *per_worker_key(json_t *c, json_t *one)
{
	return one && isfinite(doc_figure(c, "memory.peak_pss_bytes", NAN)) &&
			       isfinite(doc_figure(one, "memory.peak_pss_bytes", NAN))
		       ? "memory.peak_pss_bytes" : "memory.peak_rss_bytes";
}

static void per_worker_rule(struct diag_ctx *ctx, json_t **worst, double *added,
			    json_t *configs, json_t *c)
{
	json_t *one = diag_baseline(ctx, c);
	const char *key = per_worker_key(c, one);
	double peak = doc_figure(c, key, NAN);
	double peak1 = one ? doc_figure(one, key, NAN) : NAN;
	json_int_t w = doc_workers(c);
	if (!one || w < 2 || !isfinite(peak) || !isfinite(peak1))
		return;
	double per = (peak - peak1) / (double)(w - 1);
	if (per < PER_WORKER_MIN_BYTES || per < peak1 / 4)
		return;
	json_array_append_new(configs, json_string(doc_str(c, "id", "")));
	if (!*worst || per > *added)
		*worst = c, *added = per;
}

static void report_per_worker(struct diag_ctx *ctx, json_t *worst, double per,
			      json_t *configs)
{
	char ev[600], a[32], p1[32], p[32];
	json_t *one = diag_baseline(ctx, worst);
	const char *key = per_worker_key(worst, one);
	int pss = !strcmp(key, "memory.peak_pss_bytes");
	diag_fmt_bytes(per, a, sizeof a);
	diag_fmt_bytes(doc_figure(one, key, NAN), p1, sizeof p1);
	diag_fmt_bytes(doc_figure(worst, key, NAN), p, sizeof p);
	snprintf(ev, sizeof ev, "%s pool: peak %s %s at 1 worker, %s at %lld "
		 "workers: %s per added worker (%s)", doc_str(worst, "pool", ""),
		 pss ? "PSS" : "RSS", p1, p, (long long)doc_workers(worst), a,
		 pss ? "PSS shares each shared page among the processes that map it"
		     : "RSS counts shared pages once per process");
	diag_evidence_from(diag_add(ctx, DC_MEMORY_PER_WORKER, configs, ev,
		 "every worker holds its own copy of the input or its own large "
		 "objects: share the input (fork's copy-on-write, one memmap, "
		 "threads), make smaller objects per task, or use fewer workers",
		 NULL, NULL), worst);
}

static int run(struct diag_ctx *ctx)
{
	json_t *c, *worst = NULL, *configs = json_array();
	size_t i, before = json_array_size(ctx->entries);
	double per = 0;
	doc_foreach_config(ctx->doc, i, c) {
		struct growth_finding g[2];
		if (!doc_is_ok(c))
			continue;
		size_t n = growth_findings(c, g);
		for (size_t k = 0; k < n; k++)
			add_growth(ctx, c, &g[k]);
		exec_growth_rule(ctx, c);
		shm_rule(ctx, c);
		page_cache_rule(ctx, c);
		per_worker_rule(ctx, &worst, &per, configs, c);
	}
	if (worst)
		report_per_worker(ctx, worst, per, configs);
	else
		json_decref(configs);
	return (int)(json_array_size(ctx->entries) - before);
}

const struct diag_rule diag_rule_memory = {
	.name = "memory",
	.looked_at = "memory over each repetition (heap, RSS, /dev/shm, page "
		     "cache) and against the workers",
	.run = run,
};
