/* cmd_report.c - `contend report FILE`: re-render a run's tables from its
 * results document alone, so any old run can be looked at again.
 * Nothing is measured here. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/results.h"
#include "harness/summary.h"
#include "harness/table.h"

static const char usage[] =
	"usage: contend report FILE\n"
	"\n"
	"Prints the scaling table of a results document written by 'contend run'.\n"
	"\n"
	"  -h, --help   this help\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "contend report: give one results document\n");
		return EXIT_USAGE;
	}
	json_t *doc;
	errbuf e = {{0}};
	if (results_load(argv[optind], &doc, &e)) {
		fprintf(stderr, "contend report: %s\n", e.msg);
		return EXIT_USAGE;
	}
	summary_document(doc);
	table_render(doc, stdout);
	json_decref(doc);
	return EXIT_OK;
}
