/* cmd_list.c - `contend list`: the workloads, their parameters with
 * defaults, and the pools, so a user can build a `run` line without
 * reading the source. `--json` gives the same to scripts. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "bench/workload.h"
#include "harness/commands.h"
#include "harness/verb.h"
#include "pools/pool.h"

static const char usage[] =
	"usage: contend list [--json]\n\n"
	"Lists workloads (with their --params and defaults) and pools.\n\n"
	"  --json       print the same as one JSON object\n"
	"  -h, --help   this help\n\n" VERB_EXIT_HELP;

static json_t *list_json(void)
{
	json_t *ws = json_array(), *ps = json_array();
	for (size_t i = 0; workloads[i]; i++) {
		const struct workload_ops *w = workloads[i];
		json_t *params = json_array();
		for (const struct param_spec *p = w->params; p && p->name; p++)
			json_array_append_new(params,
					      json_pack("{s:s, s:s, s:s}", "name",
							p->name, "default",
							p->defval, "help",
							p->help));
		json_array_append_new(ws, json_pack("{s:s, s:s, s:o}", "name",
						    w->name, "describe",
						    w->describe, "params",
						    params));
	}
	for (size_t i = 0; pools_all[i]; i++)
		json_array_append_new(ps, json_pack("{s:s, s:s}", "name",
						    pools_all[i]->name,
						    "describe",
						    pools_all[i]->describe));
	return json_pack("{s:o, s:o}", "workloads", ws, "pools", ps);
}

static void list_text(void)
{
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
		printf("  %-15s %s\n", pools_all[i]->name,
		       pools_all[i]->describe);
}

int cmd_list(int argc, char **argv)
{
	int as_json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			as_json = 1;
			continue;
		}
		return verb_error("list", EXIT_USAGE, "%s '%s' (see 'contend "
				  "list --help')",
				  argv[i][0] == '-' ? "unknown option"
						    : "unexpected argument",
				  argv[i]);
	}
	if (!as_json) {
		list_text();
		return EXIT_OK;
	}
	json_t *j = list_json();
	int bad = !j || json_dumpf(j, stdout, JSON_INDENT(2)) < 0;
	json_decref(j);
	if (bad)
		return verb_error("list", EXIT_RUNTIME, "cannot write the JSON "
				  "document");
	putchar('\n');
	return EXIT_OK;
}
