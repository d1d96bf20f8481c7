/* main.c - contend's entry point: a table of subcommands.
 *
 * Adding a verb means one cmd_<verb>.c, one line in commands.h and one line
 * in the table below; nothing else here changes. */
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/outcheck.h"
#include "document/context.h"
#include "common/err.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* NULL: internal, not listed */
};

static const struct command commands[] = {
	{"list", cmd_list, "list workloads, pools and their parameters"},
	{"run", cmd_run, "run a workload sweep and print the scaling table"},
	{"exec", cmd_exec, "run any command per worker count with the lock profiler preloaded"},
	{"doctor", cmd_doctor, "run any command briefly with every probe on and name the cause"},
	{"report", cmd_report, "re-render tables from a results document"},
	{"probes", cmd_probes, "what this machine can measure, and why not the rest"},
	{"pools", cmd_pools, "library thread pools loaded (OpenBLAS, OpenMP) and their threads"},
	{"scan", cmd_scan, "find profiling/trace hooks compiled into binaries"},
	{"history", cmd_history, "keep runs in a history (a SQLite file or a PostgreSQL server)"},
	{"compare", cmd_compare, "compare two runs; exit 1 on a significant regression"},
	{"dashboard", cmd_dashboard, "build a static HTML dashboard from the history"},
	{"__runner", cmd_runner, NULL},
	{"__worker", cmd_worker, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: contend <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].help)
			fprintf(f, "  %-10s %s\n", commands[i].name,
				commands[i].help);
	fprintf(f, "\n'contend <command> --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("contend %s (%s)\n", contend_version(), contend_git_rev());
		return outcheck_stdout("--version", EXIT_OK);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			int rc = commands[i].fn(argc - 1, argv + 1);
			/* internal verbs talk to the harness, which checks */
			return commands[i].help ? outcheck_stdout(commands[i].name, rc)
						: rc;
		}
	fprintf(stderr, "contend: unknown command '%s' (see 'contend --help')\n",
		argv[1]);
	return EXIT_USAGE;
}
