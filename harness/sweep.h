/* sweep.h - the execution of a run's plan (run_plan.c: every
 * configuration of the chosen dimensions), one runner process per
 * configuration.
 *
 * Order "random" (the default) interleaves repetitions: every
 * configuration's runner does its setup and warm-ups once, then the sweep
 * visits the runners once per round, each round in a new seeded random
 * order, so drift of the machine (another program starting, a hot CPU)
 * spreads over all configurations instead of landing on a few. At most
 * SWEEP_LIVE_MAX runners are alive at once (their inputs held in memory):
 * a larger plan is interleaved in blocks of that many, in plan order.
 * "sequential" runs each configuration's repetitions back to back.
 * The document is rewritten atomically after each round (random) or
 * configuration (sequential). */
#ifndef CONTEND_SWEEP_H
#define CONTEND_SWEEP_H

#include <jansson.h>

#include "harness/cli.h"
#include "common/err.h"

#define SWEEP_LIVE_MAX 16

struct sweep_opts {
	const char *workload;
	const char *params;	/* "k=v,..." as typed (validated already) */
	char pools[CLI_LIST_MAX][32];
	size_t npools;
	int workers[CLI_LIST_MAX];
	size_t nworkers;
	char builds[CLI_LIST_MAX][32];
	size_t nbuilds;
	long reps, warmup;
	const char *start;	/* "fork" | "spawn" */
	double task_timeout_s;
	const char *inject;	/* hidden fault injection, or NULL */
	const char *counters;	/* auto | papi | perf | none */
	char lock_models[CLI_LIST_MAX][32]; /* linetrace builds only */
	size_t nlock_models;
	double switch_interval_s; /* 0: the model's default */
	char inner[CLI_LIST_MAX][32]; /* library threads per process: "default" or N */
	size_t ninner;		      /* 0: dimension not swept */
	char share[CLI_LIST_MAX][32]; /* input sharing modes (the workload's
					 `share` parameter), a dimension */
	size_t nshare;
	const char *out_path;
	const char *machine;	/* --machine, or NULL: the host name */
	const char *order;	/* "random" (NULL too) or "sequential" */
	long long seed;		/* random order: the seed (seed_set), else one
				 * from the clock; recorded in the document */
	int seed_set;
	int progress;		/* draw a progress line on stderr */
};

/* Run the sweep into doc (already holding context). Returns 0, or
 * EXIT_INTERRUPTED after Ctrl-C/SIGTERM (doc holds what was measured),
 * or -1 with e set when results cannot be written. */
int sweep_run(const struct sweep_opts *o, json_t *doc, errbuf *e);

#endif
