/* cmd_exec.c - `contend exec [options] -- COMMAND...`: any program, run per
 * worker count under the LD_PRELOAD lock profiler, rendered as the same
 * scaling table as `run`. Bad input exits 2 with one line, running nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/verb.h"
#include "harness/commands.h"
#include "harness/exec_cli.h"
#include "document/context.h"
#include "harness/execsweep.h"
#include "document/results.h"
#include "report/hotlocks.h"
#include "report/table.h"
#include "report/verdict.h"

static const char usage[] =
	"usage: contend exec [options] -- COMMAND [ARG...]\n"
	"\n"
	"Runs COMMAND once per configuration and repetition, with the lock\n"
	"profiler preloaded, prints a scaling table (speedup, lock wait,\n"
	"context switches, peak RSS) and the most contended locks, and writes\n"
	"a results document ('contend report' re-renders it).\n"
	"\n"
	"A configuration is one worker count and one value of every --param and\n"
	"--env (their cartesian product). '{workers}' in any argument becomes\n"
	"the worker count, which is also in the environment as CONTEND_WORKERS;\n"
	"'{NAME}' becomes the value of --param NAME. COMMAND is run directly (no\n"
	"shell), in its own process group, with stdin from /dev/null.\n"
	"\n"
	"  --workers LIST  worker counts, e.g. 1,2,4 or 1-8 (default 1,2,4)\n"
	"  --param NAME=V1,V2,...\n"
	"                  one more dimension: {NAME} in the command (and in\n"
	"                  --prepare/--setup) takes each value; repeatable. A\n"
	"                  comma inside a value is written \\,\n"
	"  --env NAME=V1,V2,...\n"
	"                  the command runs with NAME set to each value; the\n"
	"                  value 'default' removes NAME from its environment\n"
	"                  (e.g. OPENBLAS_NUM_THREADS=default,1); repeatable\n"
	"  --setup CMD     run CMD (/bin/sh -c, not measured) once per\n"
	"                  configuration, before its runs\n"
	"  --prepare CMD   run CMD (/bin/sh -c, not measured) before every run,\n"
	"                  warm-ups included (e.g. dropping caches). A failing\n"
	"                  --setup or --prepare fails its configuration (status\n"
	"                  error, the table says why) and the sweep goes on\n"
	"  --reps N        measured repetitions per configuration (default 3)\n"
	"  --warmup N      unmeasured runs before them (default 0)\n"
	"  --order MODE    random: every configuration's --setup and warm-ups\n"
	"                  first, then one repetition of each per round, each\n"
	"                  round in a new seeded random order (the default, but\n"
	"                  with --setup, whose configurations may share what it\n"
	"                  makes); sequential: each configuration's runs back to\n"
	"                  back, its --setup just before them\n"
	"  --seed N        the random order's seed (default: from the clock; the\n"
	"                  document records it, so an order can be rerun)\n"
	"  --timeout S     a repetition (or a --setup/--prepare) running longer\n"
	"                  than S seconds is killed (its whole process group)\n"
	"                  and recorded as timeout (default: no limit)\n"
	"  --no-lockprof   do not preload the lock profiler\n"
	"  --show-output   copy the command's output to stderr as it runs (it is\n"
	"                  always captured: the last 2 KiB of each repetition are\n"
	"                  kept in the document as output_tail)\n"
	"  --out FILE      results document (default results/<UTC>-<host>.json,\n"
	"                  -2.json, -3.json, ... when a run of the same second\n"
	"                  has it); refused while another contend writes FILE\n"
	"  --machine NAME  the machine's name in the history (default: the host\n"
	"                  name); runs are only compared within one machine\n"
	"  --quiet         do not print the table\n"
	"  --json          print the results document (with its diagnosis) on\n"
	"                  stdout instead of the table\n"
	"  -h, --help      this help\n"
	"\n"
	"A warning is printed when no argument has {workers} or a --param\n"
	"placeholder (then only a program that reads CONTEND_WORKERS itself runs\n"
	"differently per worker count), and for a {name} that is neither (it is\n"
	"passed as written).\n"
	"\n"
	"Exit status: 0 every repetition exited 0; 1 some failed (non-zero exit,\n"
	"signal, timeout, a failed --setup or --prepare: see the table); 2 bad\n"
	"input; 3 a runtime failure (the document could not be written); 130\n"
	"interrupted by SIGINT, SIGTERM, SIGHUP or SIGPIPE (the document keeps\n"
	"what was measured). The command's process group dies with contend,\n"
	"also on kill -9.\n";

enum { OPT_WORKERS = 256, OPT_REPS, OPT_WARMUP, OPT_TIMEOUT, OPT_NO_LOCKPROF,
       OPT_SHOW, OPT_OUT, OPT_QUIET, OPT_MACHINE, OPT_PARAM, OPT_ENV,
       OPT_PREPARE, OPT_SETUP, OPT_JSON, OPT_ORDER, OPT_SEED };

static const struct option options[] = {
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"param", required_argument, NULL, OPT_PARAM},
	{"env", required_argument, NULL, OPT_ENV},
	{"prepare", required_argument, NULL, OPT_PREPARE},
	{"setup", required_argument, NULL, OPT_SETUP},
	{"reps", required_argument, NULL, OPT_REPS},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"order", required_argument, NULL, OPT_ORDER},
	{"seed", required_argument, NULL, OPT_SEED},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"no-lockprof", no_argument, NULL, OPT_NO_LOCKPROF},
	{"show-output", no_argument, NULL, OPT_SHOW},
	{"out", required_argument, NULL, OPT_OUT},
	{"machine", required_argument, NULL, OPT_MACHINE},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct exec_cli {
	struct exec_opts o;
	int lockprof, quiet, json;
	const char *order; /* --order, or NULL: random unless --setup */
	int seed_set;
	const char *machine;
	const struct exec_verb *v;
};

static int parse_option(int c, struct exec_cli *cl, errbuf *e)
{
	struct exec_opts *o = &cl->o;
	const char *verb = cl->v->name;
	if (c == OPT_NO_LOCKPROF && cl->v->doctor)
		return errf(e, "--no-lockprof: doctor runs every probe (use "
			    "'contend exec --no-lockprof')");
	switch (c) {
	case OPT_WORKERS:
		return cli_workers(optarg, o->workers, &o->nworkers, e);
	case OPT_PARAM:
		return exec_dims_add(&o->dims, optarg, 0, e);
	case OPT_ENV:
		return exec_dims_add(&o->dims, optarg, 1, e);
	case OPT_PREPARE:
		o->prepare = optarg;
		return 0;
	case OPT_SETUP:
		o->setup = optarg;
		return 0;
	case OPT_REPS:
		return cli_reps(optarg, &o->reps, e);
	case OPT_WARMUP:
		return cli_warmup(optarg, &o->warmup, e);
	case OPT_ORDER:
		return cli_order(optarg, &cl->order, e);
	case OPT_SEED: {
		long long v;
		if (cli_seed(optarg, &v, e))
			return -1;
		o->seed = (uint64_t)v;
		cl->seed_set = 1;
		return 0;
	}
	case OPT_TIMEOUT:
		return cli_double("--timeout", optarg, 0.001, 1e6, &o->timeout_s, e);
	case OPT_NO_LOCKPROF:
		cl->lockprof = 0;
		return 0;
	case OPT_SHOW:
		o->show_output = 1;
		return 0;
	case OPT_OUT:
		o->out_path = optarg;
		return 0;
	case OPT_QUIET:
		cl->quiet = 1;
		return 0;
	case OPT_JSON:
		cl->json = 1;
		return 0;
	case OPT_MACHINE:
		cl->machine = optarg;
		return context_check_machine(optarg, e);
	default:
		return errf(e, "unknown option (see 'contend %s --help')", verb);
	}
}

/* Every configuration's command must be there: a --param may name it. */
static int check_commands(const struct exec_opts *o, errbuf *e)
{
	for (size_t i = 0; i < o->plan->n; i++) {
		char *cmd = exec_substitute(o->argv[0], o->plan, plan_entry(o->plan, i));
		int rc = cmd ? exec_check_command(cmd, e) : errf(e, "out of memory");
		free(cmd);
		if (rc)
			return -1;
	}
	return 0;
}

/* Everything that can be wrong before anything runs: the plan, the
 * command, the profiler. The output file is results_out_open's, which
 * also picks the default name (out_path may be NULL here). */
static int check_inputs(struct exec_cli *cl, struct plan *plan, char *preload,
			size_t len, errbuf *e)
{
	struct exec_opts *o = &cl->o;
	if (exec_plan_build(&o->dims, o->workers, o->nworkers, plan, e))
		return -1;
	o->plan = plan;
	if (check_commands(o, e))
		return -1;
	if (cl->lockprof) {
		if (exec_find_preload(preload, len, e))
			return -1;
		o->preload = preload;
	}
	return 0;
}

/* What the user may not have meant; the run goes on. */
static void warn_placeholders(const char *verb, const struct exec_opts *o)
{
	char name[EXEC_NAME_MAX + 2];
	int at = exec_unknown_placeholder(o->argv, o->argc, &o->dims, name, sizeof name);
	if (at >= 0)
		fprintf(stderr, "contend %s: warning: %s in argument %d is neither "
			"{workers} nor a --param; it is passed as written\n", verb,
			name, at + 1);
	if (o->nworkers > 1 && !exec_has_placeholder(o->argv, o->argc, &o->dims))
		fprintf(stderr, "contend %s: warning: no argument has {workers} or "
			"a --param placeholder, so every worker count runs the same "
			"command line; only CONTEND_WORKERS, which is exported to it, "
			"says the count. Unless the program reads it, the rows differ "
			"by noise alone.\n", verb);
}

static int any_failed(json_t *doc)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		if (st && strcmp(st, "ok") && strcmp(st, "interrupted"))
			return 1;
	}
	return 0;
}

/* What a verb prints of the finished document. */
static void print_results(const struct exec_cli *cl, json_t *doc)
{
	if (cl->json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (!cl->quiet) {
		if (cl->v->doctor)
			verdict_render(doc, stdout);
		table_render(doc, stdout);
		hotlocks_render(doc, stdout);
	}
	fflush(stdout); /* keep the table before this line in a shared log */
}

int exec_cli_main(const struct exec_verb *v, int argc, char **argv)
{
	struct exec_cli cl = {.o = {.reps = v->reps, .warmup = 0}, .lockprof = 1,
			      .v = v};
	char preload[4200];
	struct results_out out;
	errbuf e = {{0}};
	int c;
	cli_workers(v->workers, cl.o.workers, &cl.o.nworkers, NULL);
	optind = 1;
	/* '+': stop at the command, so its own options are left alone. */
	while ((c = verb_getopt(v->name, argc, argv, "+h", options)) != -1) {
		if (c == 'h') {
			fputs(v->usage, stdout);
			return EXIT_OK;
		}
		if (c == '?' || parse_option(c, &cl, &e)) {
			if (c != '?')
				verb_fail(v->name, EXIT_USAGE, &e);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		return verb_error(v->name, EXIT_USAGE, "give a command after -- "
				  "(e.g. contend %s --workers 1,2 -- ./prog "
				  "{workers})", v->name);
	}
	cl.o.sequential = cl.order ? !strcmp(cl.order, "sequential")
				   : cl.o.setup != NULL;
	if (!cl.seed_set)
		cl.o.seed = plan_clock_seed();
	cl.o.argv = argv + optind;
	cl.o.argc = argc - optind;
	cl.o.progress = isatty(2) && !cl.o.show_output;
	struct plan plan;
	plan_init(&plan);
	if (check_inputs(&cl, &plan, preload, sizeof preload, &e) ||
	    results_out_open(&out, cl.o.out_path, &e)) {
		plan_free(&plan);
		exec_dims_free(&cl.o.dims);
		return verb_fail(v->name, EXIT_USAGE, &e);
	}
	cl.o.out_path = out.path;
	warn_placeholders(v->name, &cl.o);
	json_t *doc = results_new(context_collect(cl.machine, argc + 1, argv - 1));
	int rc = exec_sweep_run(&cl.o, doc, &e);
	plan_free(&plan);
	exec_dims_free(&cl.o.dims);
	if (rc < 0)
		verb_fail(v->name, EXIT_RUNTIME, &e);
	print_results(&cl, doc);
	fprintf(stderr, "results: %s\n", cl.o.out_path);
	results_out_close(&out);
	if (rc == 0 && any_failed(doc))
		rc = EXIT_FOUND;
	json_decref(doc);
	return rc < 0 ? EXIT_RUNTIME : rc;
}

int cmd_exec(int argc, char **argv)
{
	static const struct exec_verb exec = {
		.name = "exec", .usage = usage, .workers = "1,2,4", .reps = 3,
	};
	return exec_cli_main(&exec, argc, argv);
}
