/* cmd_run.c - `contend run`: parse the sweep, check every input before
 * measuring anything, run it, print the scaling table.
 * Bad input exits 2 with one line and writes nothing. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/workload.h"
#include "harness/shmstale.h"
#include "harness/verb.h"
#include "harness/commands.h"
#include "document/context.h"
#include "document/doc.h"
#include "pools/inject.h"
#include "pools/pool.h"
#include "document/results.h"
#include "harness/sweep.h"
#include "report/table.h"
#include "probes/counters.h"

static const char usage[] =
	"usage: contend run WORKLOAD [options]\n"
	"\n"
	"Runs WORKLOAD under every combination of pools and worker counts,\n"
	"prints a scaling table and writes a results document.\n"
	"\n"
	"  --pool LIST         pools: %s (default: all)\n"
	"  --workers LIST      worker counts, e.g. 1,2,4 or 1-8 (default 1,2,4;\n"
	"                      the serial pool always runs once, with 1)\n"
	"  --reps N            measured repetitions per configuration (default 5)\n"
	"  --warmup N          unmeasured runs before them (default 1)\n"
	"  --params K=V,...    workload parameters (see 'contend list')\n"
	"  --start fork|spawn  how process-pool workers start (default fork)\n"
	"  --build LIST        builds: release (default), linetrace (the same\n"
	"                      workloads compiled with -finstrument-functions,\n"
	"                      hooks taking an interpreter lock on every call)\n"
	"  --lock-model LIST   linetrace builds: gil (CPython's GIL, default),\n"
	"                      mutex, none (free-threaded)\n"
	"  --switch-interval S gil model: how long a waiter waits before asking\n"
	"                      the holder to drop the lock (default 0.005)\n"
	"  --inner-threads LIST threads of the libraries' own pools (OpenBLAS,\n"
	"                      OpenMP) in every process: default (the library\n"
	"                      decides) or N, e.g. default,1\n"
	"  --share LIST        how the input reaches the tasks, for workloads that\n"
	"                      have a `share` parameter (dmatrix): inherit, shm,\n"
	"                      copy, shm-per-task\n"
	"  --counters MODE     auto|papi|perf|none: hardware and software counters\n"
	"                      around each repetition (default auto; see\n"
	"                      'contend probes' for what this machine gives)\n"
	"  --task-timeout S    a task running longer than S seconds fails its\n"
	"                      configuration, which is reported (default 300);\n"
	"                      a spawned worker gets as long again to start\n"
	"  --order MODE        random (default): repetitions of all\n"
	"                      configurations interleaved, each round in a new\n"
	"                      seeded random order (warm-ups stay per\n"
	"                      configuration); sequential: each configuration's\n"
	"                      repetitions back to back\n"
	"  --seed N            the random order's seed (default: from the clock;\n"
	"                      the document records it, so an order can be rerun)\n"
	"  --out FILE          results document (default results/<UTC>-<host>.json,\n"
	"                      -2.json, -3.json, ... when a run of the same second\n"
	"                      has it); refused while another contend writes FILE\n"
	"  --machine NAME      the machine's name in the history (default: the\n"
	"                      host name); runs are only compared within one\n"
	"  --quiet             do not print the table\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: 0 all configurations ok; 1 some failed (crash, timeout,\n"
	"checksum mismatch: see the table); 2 bad input; 3 a runtime failure\n"
	"(the document could not be written); 130 interrupted (the document\n"
	"keeps what was measured).\n";

enum { OPT_POOL = 256, OPT_WORKERS, OPT_REPS, OPT_WARMUP, OPT_PARAMS,
       OPT_START, OPT_BUILD, OPT_COUNTERS, OPT_LOCK_MODEL, OPT_SWITCH, OPT_INNER, OPT_SHARE, OPT_TIMEOUT, OPT_OUT, OPT_QUIET, OPT_INJECT, OPT_MACHINE, OPT_ORDER, OPT_SEED };

static const struct option options[] = {
	{"pool", required_argument, NULL, OPT_POOL},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"reps", required_argument, NULL, OPT_REPS},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"params", required_argument, NULL, OPT_PARAMS},
	{"start", required_argument, NULL, OPT_START},
	{"build", required_argument, NULL, OPT_BUILD},
	{"counters", required_argument, NULL, OPT_COUNTERS},
	{"lock-model", required_argument, NULL, OPT_LOCK_MODEL},
	{"inner-threads", required_argument, NULL, OPT_INNER},
	{"share", required_argument, NULL, OPT_SHARE},
	{"switch-interval", required_argument, NULL, OPT_SWITCH},
	{"task-timeout", required_argument, NULL, OPT_TIMEOUT},
	{"out", required_argument, NULL, OPT_OUT},
	{"machine", required_argument, NULL, OPT_MACHINE},
	{"order", required_argument, NULL, OPT_ORDER},
	{"seed", required_argument, NULL, OPT_SEED},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"inject", required_argument, NULL, OPT_INJECT}, /* tests only */
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The registry's pool names, NULL-terminated, and the same joined by
 * commas (the --pool default: every pool). */
static void pool_names(const char *names[CLI_LIST_MAX + 1], char *all, size_t len)
{
	size_t n = 0, k = 0;
	for (; pools_all[n] && n < CLI_LIST_MAX; n++) {
		names[n] = pools_all[n]->name;
		k += (size_t)snprintf(all + k, k < len ? len - k : 0, "%s%s",
				      n ? "," : "", names[n]);
	}
	names[n] = NULL;
}

static const char *const build_names[] = {"release", "linetrace", NULL};
static const char *const start_names[] = {"fork", "spawn", NULL};
static const char *const lock_model_names[] = {"gil", "mutex", "none", NULL};

static int parse_option(int c, struct sweep_opts *o, int *quiet, errbuf *e)
{
	long v;
	size_t n;
	char one[CLI_LIST_MAX][32];
	switch (c) {
	case OPT_POOL: {
		const char *names[CLI_LIST_MAX + 1];
		char all[CLI_LIST_MAX * 32];
		pool_names(names, all, sizeof all);
		return cli_name_list("--pool", optarg, names, o->pools,
				     &o->npools, e);
	}
	case OPT_WORKERS:
		return cli_workers(optarg, o->workers, &o->nworkers, e);
	case OPT_REPS:
		return cli_reps(optarg, &o->reps, e);
	case OPT_WARMUP:
		return cli_warmup(optarg, &o->warmup, e);
	case OPT_PARAMS:
		o->params = optarg;
		return 0;
	case OPT_START:
		if (cli_name_list("--start", optarg, start_names, one, &n, e))
			return -1;
		if (n != 1)
			return errf(e, "--start: give one of fork, spawn");
		o->start = !strcmp(optarg, "spawn") ? "spawn" : "fork";
		return 0;
	case OPT_BUILD:
		return cli_name_list("--build", optarg, build_names, o->builds,
				     &o->nbuilds, e);
	case OPT_COUNTERS: {
		enum counters_mode m;
		o->counters = optarg;
		return counters_parse_mode(optarg, &m, e);
	}
	case OPT_LOCK_MODEL:
		return cli_name_list("--lock-model", optarg, lock_model_names,
				     o->lock_models, &o->nlock_models, e);
	case OPT_INNER:
		if (cli_name_list("--inner-threads", optarg, NULL, o->inner,
				  &o->ninner, e))
			return -1;
		for (size_t i = 0; i < o->ninner; i++)
			if (strcmp(o->inner[i], "default") &&
			    cli_int("--inner-threads", o->inner[i], 1, 1024, &v, e))
				return -1;
		return 0;
	case OPT_SHARE:
		return cli_name_list("--share", optarg, NULL, o->share,
				     &o->nshare, e);
	case OPT_SWITCH:
		return cli_double("--switch-interval", optarg, 1e-6, 10,
				  &o->switch_interval_s, e);
	case OPT_TIMEOUT:
		return cli_double("--task-timeout", optarg, 0.001, 1e6,
				  &o->task_timeout_s, e);
	case OPT_OUT:
		o->out_path = optarg;
		return 0;
	case OPT_QUIET:
		*quiet = 1;
		return 0;
	case OPT_ORDER:
		return cli_order(optarg, &o->order, e);
	case OPT_SEED:
		o->seed_set = 1;
		return cli_seed(optarg, &o->seed, e);
	case OPT_MACHINE:
		o->machine = optarg;
		return context_check_machine(optarg, e);
	case OPT_INJECT: {
		int kind;
		o->inject = optarg;
		return inject_parse(optarg, &kind, &v, e);
	}
	default:
		return errf(e, "unknown option (see 'contend run --help')");
	}
}

/* Setting the workload up once here turns a bad parameter into one line
 * and exit 2, instead of a table full of failed configurations. */
static int check_workload(const struct sweep_opts *o, errbuf *e)
{
	const struct workload_ops *w = workload_find(o->workload);
	if (!w)
		return errf(e, "unknown workload '%s' (see 'contend list')",
			    o->workload);
	struct params p;
	void *ctx = NULL;
	if (o->nshare && !params_get_spec(w->params, "share"))
		return errf(e, "--share: workload '%s' has no sharing modes", w->name);
	for (size_t i = 0; i < (o->nshare ? o->nshare : 1); i++) {
		char text[4096];
		const char *base = o->params ? o->params : "";
		if (o->nshare)
			snprintf(text, sizeof text, "%s%sshare=%s", base,
				 *base ? "," : "", o->share[i]);
		else
			snprintf(text, sizeof text, "%s", base);
		if (params_parse(w->params, text, &p, e) || w->setup(&p, &ctx, e)) {
			size_t len = strlen(w->name);
			if (strncmp(e->msg, w->name, len) || e->msg[len] != ':')
				errprefix(e, "%s", w->name);
			return -1;
		}
		w->teardown(ctx);
	}
	return 0;
}

static int any_failed(json_t *doc)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!doc_is_ok(c) || !doc_bool(c, "checksum_ok", 1))
			return 1;
	return 0;
}

/* What killed runs left in /dev/shm goes before this run makes its own
 * (harness/shmstale.h); said in one line, as it frees space. */
static void remove_stale_segments(void)
{
	struct shm_stale st;
	errbuf e;
	if (shmstale_sweep(SHMSTALE_DIR, &st, &e) || !st.files)
		return;
	fprintf(stderr, "contend run: removed %zu stale shared-memory file%s "
		"(%.1f MiB) of %zu killed run%s (process groups that no longer "
		"exist) from " SHMSTALE_DIR "\n", st.files, st.files == 1 ? "" : "s",
		(double)st.bytes / (1 << 20), st.groups, st.groups == 1 ? "" : "s");
}

int cmd_run(int argc, char **argv)
{
	struct sweep_opts o = {.reps = 5, .warmup = 1, .start = "fork",
			       .task_timeout_s = 300, .counters = "auto"};
	char all_pools[CLI_LIST_MAX * 32];
	struct results_out out;
	const char *names[CLI_LIST_MAX + 1];
	int quiet = 0, c;
	errbuf e = {{0}};
	pool_names(names, all_pools, sizeof all_pools);
	cli_name_list("--pool", all_pools, NULL, o.pools, &o.npools, NULL);
	cli_workers("1,2,4", o.workers, &o.nworkers, NULL);
	cli_name_list("--build", "release", NULL, o.builds, &o.nbuilds, NULL);
	cli_name_list("--lock-model", "gil", NULL, o.lock_models, &o.nlock_models, NULL);
	optind = 1;
	while ((c = verb_getopt("run", argc, argv, "h", options)) != -1) {
		if (c == 'h') {
			printf(usage, all_pools);
			return EXIT_OK;
		}
		if (c == '?' || parse_option(c, &o, &quiet, &e)) {
			if (c != '?')
				verb_fail("run", EXIT_USAGE, &e);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		return verb_error("run", EXIT_USAGE, "give exactly one workload "
				  "(see 'contend list')");
	}
	o.workload = argv[optind];
	o.progress = isatty(2);
	if (check_workload(&o, &e) || results_out_open(&out, o.out_path, &e))
		return verb_fail("run", EXIT_USAGE, &e);
	o.out_path = out.path;
	remove_stale_segments();
	json_t *doc = results_new(context_collect(o.machine, argc + 1, argv - 1));
	int rc = sweep_run(&o, doc, &e);
	if (rc < 0)
		verb_fail("run", EXIT_RUNTIME, &e);
	if (!quiet)
		table_render(doc, stdout);
	fflush(stdout); /* keep the table before this line in a shared log */
	if (rc >= 0) /* else the error says why it was not written */
		fprintf(stderr, "results: %s\n", o.out_path);
	results_out_close(&out);
	if (rc == 0 && any_failed(doc))
		rc = EXIT_FOUND;
	json_decref(doc);
	return rc < 0 ? EXIT_RUNTIME : rc;
}
