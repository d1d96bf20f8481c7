/* cmd_report.c - `contend report FILE`: re-render a run from its results
 * document alone (table, Markdown, CSV, Google Benchmark JSON, plots), so
 * any old run can be looked at again. Nothing is measured here. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/commands.h"
#include "harness/execsweep.h"
#include "harness/verb.h"
#include "report/escape.h"
#include "report/export.h"
#include "report/plots.h"
#include "document/results.h"
#include "analysis/summary.h"
#include "report/table.h"

static const char usage[] =
	"usage: contend report FILE [--format table|md|csv|gbench-json] [--plots DIR]\n"
	"\n"
	"Renders a results document written by 'contend run'.\n"
	"\n"
	"  --format F   table (default: the scaling table and its notes), md,\n"
	"               csv, or gbench-json (Google Benchmark's JSON, for\n"
	"               compare.py and dashboards)\n"
	"  --plots DIR  also render gnuplot plots (PNG and SVG) into DIR\n"
	"  -h, --help   this help\n"
	"\n" VERB_EXIT_HELP;

static int render_plots(json_t *doc, const char *dir, errbuf *e)
{
	char **files = NULL;
	size_t n = 0;
	if (plots_render(doc, dir, NULL, &files, &n, e))
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "plot: %s\n", files[i]);
	plots_free(files, n);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"plots", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *format = "table", *plots = NULL;
	int c;
	optind = 1;
	while ((c = verb_getopt("report", argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'p': plots = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return verb_error("report", EXIT_USAGE,
				  "give one results document");
	if (strcmp(format, "table") && strcmp(format, "md") &&
	    strcmp(format, "csv") && strcmp(format, "gbench-json")) {
		return verb_error("report", EXIT_USAGE, "--format: unknown '%s' "
				  "(table, md, csv, gbench-json)", format);
	}
	json_t *doc;
	errbuf e = {{0}};
	if (results_load(argv[optind], &doc, &e))
		return verb_fail("report", EXIT_USAGE, &e);
	escape_controls(doc); /* its text is outside input, bound for a terminal */
	summary_document(doc);
	int rc = 0;
	if (!strcmp(format, "table")) {
		table_render(doc, stdout);
		exec_print_hot_locks(doc, stdout); /* exec documents: as exec did */
	} else
		rc = export_doc(doc, format, stdout, &e);
	if (!rc && plots)
		rc = render_plots(doc, plots, &e);
	if (rc)
		verb_fail("report", EXIT_RUNTIME, &e);
	json_decref(doc);
	return rc ? EXIT_RUNTIME : EXIT_OK;
}
