/* cmd_list.c - `contend list`: the workloads, their parameters with
 * defaults, and the pools, so a user can build a `run` line without
 * reading the source. */
#include <stdio.h>
#include <string.h>

#include "bench/workload.h"
#include "harness/commands.h"
#include "pools/pool.h"

int cmd_list(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			puts("usage: contend list\n\nLists workloads (with their "
			     "--params and defaults) and pools.");
			return EXIT_OK;
		}
		fprintf(stderr, "contend list: takes no arguments\n");
		return EXIT_USAGE;
	}
	puts("workloads:");
	for (size_t i = 0; workloads[i]; i++) {
		const struct workload_ops *w = workloads[i];
		printf("  %-15s %s\n", w->name, w->describe);
		for (const struct param_spec *p = w->params; p && p->name; p++)
			printf("      %-12s %-10s %s\n", p->name, p->defval,
			       p->help);
	}
	puts("\npools:");
	for (size_t i = 0; pools_all[i]; i++)
		printf("  %-15s %s\n", pools_all[i]->name, pools_all[i]->describe);
	return EXIT_OK;
}
