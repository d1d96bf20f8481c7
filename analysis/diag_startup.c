/* diag_startup.c - the startup rule: CPU time that grows with the workers
 * while the work does not (every worker count does the same work), paid
 * by each new process: interpreter start, imports, a pool starting.
 *
 * Evidence: median CPU seconds at N workers exceed the 1-worker run's by
 * STARTUP_MIN_RATIO (and STARTUP_MIN_S), the process tree had more
 * processes than at 1 worker (or the pool starts processes) -- or, where
 * the census counts programs started, more of them and a smaller growth
 * (STARTUP_EXEC_MIN_RATIO) -- and the
 * configuration scaled poorly. Configurations oversubscribed are left to
 * that rule: spinning library threads burn CPU too. Unlike the other
 * timing rules it speaks for configurations measured while other programs
 * were busy (the interference rule): its evidence is the process tree's
 * own CPU time, which others' load does not add to. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>

#include "document/doc.h"
#include "pools/pool.h"

/* Extra CPU over the 1-worker run's CPU. New interpreters importing numpy
 * and joblib (loky's story) added 50-58 % at 2 workers on the shared
 * 2-core VM; fork workers that inherit the modules (its fix) 9-26 %, the
 * upper end on a loaded machine, where two processes' CPU time swells
 * with the switching: the bar sits between them. */
#define STARTUP_MIN_RATIO 0.35
#define STARTUP_MIN_S 0.02
/* Where the lock profiler's census counts the programs started (processes
 * that began with an exec, not a fork), the cause is seen directly: more
 * new programs at N workers than at 1. Then a smaller CPU growth is
 * enough (loky's story: +25-58 %), and none at all is startup when no
 * more programs were started (fork workers inherit the interpreter and
 * its imports; their extra CPU on a loaded machine is switching). */
#define STARTUP_EXEC_MIN_RATIO 0.15

/* Programs started in the median repetition's process tree; -1 unknown. */
static long programs_started(json_t *config)
{
	json_t *census = json_object_get(diag_median_rep(config, "wall_s"), "census");
	json_t *n = json_object_get(census, "programs_started");
	return json_is_integer(n) ? (long)json_integer_value(n) : -1;
}

static int more_processes(json_t *c, json_t *one)
{
	double p = doc_figure(c, "memory.peak_processes", NAN);
	double p1 = doc_figure(one, "memory.peak_processes", NAN);
	if (isfinite(p) && isfinite(p1))
		return p > p1;
	/* no counts recorded: the pool's trait says whether its workers are
	 * processes of their own (never its name: pools/registry.c) */
	const struct pool_ops *pl = pool_find(doc_str(c, "pool", NULL));
	return pl && !pl->in_process;
}

static double extra_cpu(struct diag_ctx *ctx, json_t *c)
{
	json_t *one = diag_baseline(ctx, c);
	double cpu = doc_num(c, "median_cpu_s", NAN);
	double cpu1 = one ? doc_num(one, "median_cpu_s", NAN) : NAN;
	if (!diag_poor_scaling(ctx, c) || !isfinite(cpu) || !isfinite(cpu1) ||
	    !more_processes(c, one) ||
	    diag_found(ctx, DC_OVERSUBSCRIPTION, doc_str(c, "id", "")))
		return NAN;
	double extra = cpu - cpu1, ratio = STARTUP_MIN_RATIO;
	long progs = programs_started(c), progs1 = programs_started(one);
	if (progs >= 0 && progs1 >= 0) {
		if (progs <= progs1)
			return NAN;
		ratio = STARTUP_EXEC_MIN_RATIO;
	}
	return extra >= ratio * cpu1 && extra >= STARTUP_MIN_S ? extra : NAN;
}

static int run(struct diag_ctx *ctx)
{
	json_t *c, *worst = NULL, *configs = json_array();
	size_t i;
	double worst_extra = 0;
	doc_foreach_config(ctx->doc, i, c) {
		double extra = extra_cpu(ctx, c);
		if (!isfinite(extra))
			continue;
		json_array_append_new(configs, json_string(doc_str(c, "id", "")));
		if (!worst || extra > worst_extra)
			worst = c, worst_extra = extra;
	}
	if (!worst) {
		json_decref(configs);
		return 0;
	}
	json_t *one = diag_baseline(ctx, worst);
	json_int_t w = doc_workers(worst);
	double wall = doc_median_wall(worst);
	double cores = (double)(w < ctx->cores ? w : ctx->cores);
	double p = doc_figure(worst, "memory.peak_processes", NAN);
	double p1 = doc_figure(one, "memory.peak_processes", NAN);
	char ev[1200], procs[128] = " in a process pool";
	long progs = programs_started(worst), progs1 = programs_started(one);
	if (progs >= 0 && progs1 >= 0)
		snprintf(procs, sizeof procs, ", with more programs started (%ld "
			 "processes that began with an exec, against %ld)", progs, progs1);
	else if (isfinite(p) && isfinite(p1))
		snprintf(procs, sizeof procs, ", with more processes (%.0f against %.0f)",
			 p, p1);
	char series[512];
	doc_series_label(worst, series, sizeof series);
	snprintf(ev, sizeof ev, "%s: CPU time %.2f s at 1 worker, %.2f s at %lld "
		 "workers (+%.2f s, %.2f s per added worker) for the same "
		 "work%s: the extra is %.0f %% of the %lld-worker run's wall "
		 "time on its cores", series, doc_num(one, "median_cpu_s", NAN),
		 doc_num(worst, "median_cpu_s", NAN), (long long)w, worst_extra,
		 worst_extra / (double)(w - 1), procs,
		 100 * worst_extra / (wall * cores), (long long)w);
	diag_evidence_from(diag_add(ctx, DC_STARTUP, configs, ev,
		 "each worker process starts an interpreter, imports and a pool "
		 "of its own: start the pool once and reuse it, give it fewer, "
		 "longer tasks (joblib: batch_size, one Parallel for all "
		 "calls), fork instead of spawn, or threads where the work "
		 "releases the interpreter lock", NULL, NULL), worst);
	return 1;
}

const struct diag_rule diag_rule_startup = {
	.name = "startup",
	.looked_at = "CPU time against 1 worker and processes started",
	.run = run,
};
