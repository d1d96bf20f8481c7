/* execsweep.h - `contend exec`: any command run once per worker count and
 * repetition, in its own process group, with the LD_PRELOAD lock profiler,
 * recorded as a contend-results/1 document that table.c renders unchanged. */
#ifndef CONTEND_EXECSWEEP_H
#define CONTEND_EXECSWEEP_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "harness/cli.h"
#include "harness/exec_plan.h"
#include "common/err.h"

#define EXEC_WORKERS_TOKEN "{workers}"
#define EXEC_TAIL_MAX 2048 /* bytes of stdout+stderr kept per repetition */

struct exec_opts {
	char **argv;		/* the command as given ({workers} unreplaced) */
	int argc;
	int workers[CLI_LIST_MAX];
	size_t nworkers;
	struct exec_dims dims;	/* --param, --env */
	struct plan *plan;	/* every configuration (exec_plan_build); the
				 * sweep permutes its order */
	const char *prepare;	/* /bin/sh -c before every repetition, or NULL */
	const char *setup;	/* /bin/sh -c once per configuration, or NULL */
	long reps, warmup;
	double timeout_s;	/* per repetition; 0: none */
	const char *preload;	/* the lock profiler .so, or NULL: none */
	int show_output;	/* copy the command's output to our stderr */
	const char *out_path;
	int progress;		/* draw a progress line on stderr */
	int sequential;		/* each configuration's runs back to back;
				 * else interleaved in rounds from seed */
	uint64_t seed;
};

/* The lock profiler beside this executable, into buf; -1 with e set when
 * it is not there. */
int exec_find_preload(char *buf, size_t len, errbuf *e);

/* 0 when cmd (argv[0], placeholders replaced) names an executable file,
 * directly or through PATH; else -1 with a one-line reason. */
int exec_check_command(const char *cmd, errbuf *e);

/* Run the sweep of o->plan into doc (already holding context): per
 * configuration --setup and its warm-ups, then per repetition --prepare
 * and the command; repetitions interleaved in seeded random rounds
 * unless o->sequential (the plan's order is permuted for that; the
 * document's configs stay in plan order). A failing --setup or --prepare
 * fails that configuration (status "error", its detail says which and
 * why) and the sweep goes on. Returns 0, or
 * EXIT_INTERRUPTED after Ctrl-C/SIGTERM (doc keeps what was measured), or
 * -1 with e set when the document cannot be written. */
int exec_sweep_run(const struct exec_opts *o, json_t *doc, errbuf *e);

#endif
