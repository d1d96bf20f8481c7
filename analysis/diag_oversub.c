/* diag_oversub.c - the oversubscription rule: more compute threads than
 * cores because every worker brings a library pool of its own (the
 * dueling-pools story).
 *
 * Evidence, run: workers x the threads the library reported in the
 * runner (library_threads, or what --inner-threads asked) > cores, for
 * workers that are processes; for threads of one process, which share its
 * pool, workers + the pool's helper threads > cores. exec:
 * the census each profiled process wrote of itself: processes that
 * started a pool (OpenBLAS, OpenMP, MKL, BLIS) of more than one thread,
 * leaving out a pool's parent that only waits for its workers; their pool
 * threads added up > cores, or one process's pool alone > cores. The
 * advice names the knob of the library found. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "pools/pool.h"

struct oversub {
	json_t *config;
	long threads;	   /* compute threads that can run at once */
	long processes;	   /* with a pool of more than one thread */
	long pool_threads; /* the largest pool */
	long all_threads;  /* every thread of every process, at their peaks */
	const char *library, *kind;
	int shared;	   /* run, in-process workers: one library pool for all */
};

/* The largest pool of a process (or census): its threads, library, kind. */
static long largest_pool(json_t *pools, const char **library, const char **kind)
{
	json_t *p;
	size_t i;
	long best = 0;
	json_array_foreach(pools, i, p) {
		long t = (long)doc_int(p, "threads", 0);
		if (t > best) {
			best = t;
			*library = doc_str(p, "library", "a library");
			*kind = doc_str(p, "kind", "");
		}
	}
	return best;
}

/* A process whose children (in the list) started pools: the parent of a
 * process pool, waiting for its workers. */
static int is_pool_parent(json_t *list, json_t *proc)
{
	json_t *o;
	size_t i;
	json_int_t pid = doc_int(proc, "pid", -1);
	json_array_foreach(list, i, o) {
		const char *l, *k;
		if (o != proc && doc_int(o, "ppid", -2) == pid &&
		    largest_pool(json_object_get(o, "pools"), &l, &k) > 1)
			return 1;
	}
	return 0;
}

static int exec_census(struct diag_ctx *ctx, json_t *config, struct oversub *o)
{
	json_t *rep = diag_median_rep(config, "wall_s"), *p;
	json_t *list = json_object_get(json_object_get(rep, "census"), "process_list");
	size_t i;
	memset(o, 0, sizeof *o);
	o->config = config;
	json_array_foreach(list, i, p) {
		const char *lib = NULL, *kind = NULL;
		long t = largest_pool(json_object_get(p, "pools"), &lib, &kind);
		o->all_threads += (long)doc_int(p, "peak_threads", 0);
		if (t <= 1 || is_pool_parent(list, p))
			continue;
		o->threads += t;
		o->processes++;
		if (t > o->pool_threads) {
			o->pool_threads = t;
			o->library = lib;
			o->kind = kind;
		}
	}
	return o->threads > ctx->cores &&
	       (o->processes >= 2 || o->pool_threads > ctx->cores);
}

static int run_inner(struct diag_ctx *ctx, json_t *config, struct oversub *o)
{
	const char *inner = doc_str(config, "inner_threads", "");
	json_t *blas = json_object_get(doc_context(ctx->doc), "blas");
	long t = json_is_integer(json_object_get(config, "library_threads"))
			 ? (long)doc_int(config, "library_threads", 0)
		 : !strcmp(inner, "default") ? (long)doc_int(blas, "threads", 0)
					     : atol(inner);
	long w = (long)doc_workers(config);
	/* Workers that are threads of one process share its library pool:
	 * each call runs on its caller plus the pool's t - 1 helpers, so the
	 * process has w + t - 1 compute threads, not w x t (a process pool's
	 * workers each start a pool of their own). The trait, never the
	 * pool's name, says which (pools/registry.c). */
	const struct pool_ops *pl = pool_find(doc_str(config, "pool", NULL));
	int shared = pl && pl->in_process;
	long threads = shared ? w + t - 1 : w * t;
	memset(o, 0, sizeof *o);
	if (!*inner || t <= 1 || w < 2 || threads <= ctx->cores)
		return 0;
	o->config = config;
	o->shared = shared;
	o->threads = threads;
	o->processes = w;
	o->pool_threads = t;
	o->library = doc_str(blas, "library", "the BLAS/OpenMP library");
	o->kind = "run";
	return 1;
}

static const char *knob(const char *kind)
{
	if (!kind)
		return "the library's thread count";
	if (!strcmp(kind, "openblas"))
		return "OPENBLAS_NUM_THREADS=1";
	if (!strcmp(kind, "openmp"))
		return "OMP_NUM_THREADS=1";
	if (!strcmp(kind, "mkl"))
		return "MKL_NUM_THREADS=1";
	if (!strcmp(kind, "blis"))
		return "BLIS_NUM_THREADS=1";
	return "OMP_NUM_THREADS=1 / OPENBLAS_NUM_THREADS=1";
}

static void report(struct diag_ctx *ctx, const struct oversub *o, json_t *configs)
{
	char ev[1200], adv[600], label[600];
	int run_doc = o->kind && !strcmp(o->kind, "run");
	diag_config_label(o->config, label, sizeof label);
	if (run_doc && o->shared)
		snprintf(ev, sizeof ev, "%s: the workers share the process's %s "
			 "pool of %ld threads: %ld workers and its %ld helper "
			 "thread%s, %ld compute threads on %d cores", label,
			 o->library, o->pool_threads, o->processes,
			 o->pool_threads - 1, o->pool_threads == 2 ? "" : "s",
			 o->threads, ctx->cores);
	else if (run_doc)
		snprintf(ev, sizeof ev, "%s: each worker runs %s with %ld threads "
			 "of its own: %ld compute threads on %d cores", label,
			 o->library, o->pool_threads, o->threads, ctx->cores);
	else
		snprintf(ev, sizeof ev, "%s: %ld process%s started a %s pool of "
			 "up to %ld threads: %ld compute threads on %d cores (%ld "
			 "threads in all)", label, o->processes,
			 o->processes == 1 ? "" : "es", o->library ? o->library : "library",
			 o->pool_threads, o->threads, ctx->cores, o->all_threads);
	if (run_doc)
		snprintf(adv, sizeof adv, "give each worker one library thread "
			 "(--inner-threads 1, i.e. OPENBLAS_NUM_THREADS=1 and "
			 "OMP_NUM_THREADS=1) or use one worker with the library's pool");
	else
		snprintf(adv, sizeof adv, "give each worker one library thread: %s in "
			 "the workers' environment, or threadpoolctl's "
			 "threadpool_limits(1) inside them; or use fewer workers "
			 "and let the library's pool use the cores", knob(o->kind));
	diag_evidence_from(diag_add(ctx, DC_OVERSUBSCRIPTION, configs, ev, adv,
				    NULL, NULL), o->config);
}

static int run(struct diag_ctx *ctx)
{
	struct oversub o, worst = {0};
	json_t *c, *configs = json_array();
	size_t i;
	doc_foreach_config(ctx->doc, i, c) {
		if (!doc_is_ok(c))
			continue;
		if (!exec_census(ctx, c, &o) && !run_inner(ctx, c, &o))
			continue;
		json_array_append_new(configs, json_string(doc_str(c, "id", "")));
		if (o.threads > worst.threads)
			worst = o;
	}
	if (!json_array_size(configs)) {
		json_decref(configs);
		return 0;
	}
	report(ctx, &worst, configs);
	return 1;
}

const struct diag_rule diag_rule_oversub = {
	.name = "oversubscription",
	.looked_at = "threads and library pools per process against the cores",
	.run = run,
};
