/* diag_memory.c - rules of the memory family: memory-growth, shm-growth,
 * page-cache and memory-per-worker.
 *
 * Evidence, per configuration (its median repetition's series):
 *   memory-growth  the heap (else RSS) climbed with the tasks finished,
 *                  not the workers (analysis/growth.c; needs ntasks, so
 *                  run documents); several climbs with memory freed in
 *                  between are a collector freeing in batches. Without
 *                  tasks (exec), the same climbs with each sample taken
 *                  as a task: a climb must outlast 4 x workers samples.
 *   shm-growth     /dev/shm grew with the tasks (as above), or by
 *                  SHM_MIN_BYTES or more mostly after the first quarter of
 *                  the repetition and still held at its end: files made
 *                  per task, not once.
 *   page-cache     Cached grew by PAGE_CACHE_MIN_BYTES and by more than the
 *                  tree's peak RSS during the repetition (system-wide:
 *                  others' files count too, so the bar is high).
 *   memory-per-worker  peak RSS per added worker against 1 worker of
 *                  PER_WORKER_MIN_BYTES and a quarter of the 1-worker peak.
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
#define PAGE_CACHE_MIN_BYTES (256.0 * MiB)
#define PER_WORKER_MIN_BYTES (64.0 * MiB)

/* exec has no tasks: its samples stand in for them (see above). */
static double tasks_of(json_t *c)
{
	double n = doc_num(c, "ntasks", NAN);
	json_t *s = growth_median_series(c);
	if (isfinite(n) && n > 0)
		return n;
	return (double)json_array_size(json_object_get(s, "t_s"));
}

static size_t growth_findings(json_t *c, struct growth_finding out[2])
{
	if (isfinite(doc_num(c, "ntasks", NAN)))
		return growth_of_config(c, out);
	/* exec: a copy with the sample count as its tasks */
	json_t *copy = json_copy(c);
	size_t n;
	if (!copy)
		return 0;
	json_object_set_new(copy, "ntasks", json_real(tasks_of(c)));
	n = growth_of_config(copy, out);
	/* the labels are static strings, nothing of copy is kept */
	json_decref(copy);
	return n;
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
 * quarter, and what was still held at the end. */
static int shm_over_run(json_t *c, double *grew, double *late, double *held)
{
	json_t *s = growth_median_series(c);
	double *t = malloc(2 * GROWTH_SERIES_MAX * sizeof *t), *v;
	size_t n;
	int ok = 0;
	if (!t)
		return 0;
	v = t + GROWTH_SERIES_MAX;
	n = growth_series_points(s, "devshm_bytes", t, v);
	if (n >= 3 && t[n - 1] > t[0]) {
		double peak = v[0], quarter = v[0];
		for (size_t i = 0; i < n; i++) {
			peak = fmax(peak, v[i]);
			if (t[i] <= t[0] + (t[n - 1] - t[0]) / 4)
				quarter = v[i];
		}
		*grew = peak - v[0];
		*late = peak - quarter;
		*held = v[n - 1] - v[0];
		ok = 1;
	}
	free(t);
	return ok;
}

static void shm_rule(struct diag_ctx *ctx, json_t *c)
{
	double grew, late, held;
	char ev[600], g[32], h[32];
	if (diag_found(ctx, DC_SHM_GROWTH, doc_str(c, "id", "")) ||
	    !shm_over_run(c, &grew, &late, &held) || grew < SHM_MIN_BYTES ||
	    late < grew / 2 || held < grew / 2)
		return;
	diag_fmt_bytes(grew, g, sizeof g);
	diag_fmt_bytes(held, h, sizeof h);
	snprintf(ev, sizeof ev, "%s pool, %lld worker%s: /dev/shm grew by %s during "
		 "the repetition, %.0f %% of it after the first quarter, and %s was "
		 "still held at its end (the whole machine's /dev/shm)",
		 doc_str(c, "pool", ""), (long long)doc_workers(c),
		 doc_workers(c) == 1 ? "" : "s", g, 100 * late / grew, h);
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

static void per_worker_rule(struct diag_ctx *ctx, json_t **worst, double *added,
			    json_t *configs, json_t *c)
{
	json_t *one = diag_baseline(ctx, c);
	double peak = doc_figure(c, "memory.peak_rss_bytes", NAN);
	double peak1 = one ? doc_figure(one, "memory.peak_rss_bytes", NAN) : NAN;
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
	diag_fmt_bytes(per, a, sizeof a);
	diag_fmt_bytes(doc_figure(one, "memory.peak_rss_bytes", NAN), p1, sizeof p1);
	diag_fmt_bytes(doc_figure(worst, "memory.peak_rss_bytes", NAN), p, sizeof p);
	snprintf(ev, sizeof ev, "%s pool: peak RSS %s at 1 worker, %s at %lld "
		 "workers: %s per added worker (RSS counts shared pages once per "
		 "process)", doc_str(worst, "pool", ""), p1, p,
		 (long long)doc_workers(worst), a);
	diag_add(ctx, DC_MEMORY_PER_WORKER, configs, ev,
		 "every worker holds its own copy of the input or its own large "
		 "objects: share the input (fork's copy-on-write, one memmap, "
		 "threads), make smaller objects per task, or use fewer workers",
		 NULL, NULL);
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
