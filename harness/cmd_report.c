/* cmd_report.c - `contend report FILE`: re-render a run from its results
 * document alone (table, Markdown, CSV, Google Benchmark JSON, plots), so
 * any old run can be looked at again. Nothing is measured here. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/commands.h"
#include "harness/verb.h"
#include "report/escape.h"
#include "report/export.h"
#include "report/hotlocks.h"
#include "report/plots.h"
#include "document/results.h"
#include "analysis/summary.h"
#include "report/table.h"

/* The formats besides the table are export's: a new one in
 * export_formats shows up here without an edit. */
static void formats_text(const char *first, const char *sep, char *buf,
			 size_t len)
{
	size_t used = (size_t)snprintf(buf, len, "%s", first);
	for (size_t i = 0; export_formats[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? sep : "", export_formats[i]);
}

static void usage(void)
{
	char fmts[256], exports[256];
	formats_text("table", "|", fmts, sizeof fmts);
	formats_text("", ", ", exports, sizeof exports);
	printf("usage: contend report FILE [--format %s]\n"
	       "                      [--json] [--plots DIR]\n"
	       "\n"
	       "Renders a results document written by 'contend run' or 'contend\n"
	       "exec'.\n"
	       "\n"
	       "  --format F   table (default: the scaling table and its notes),\n"
	       "               or an export: %s (docs/reports.md)\n"
	       "  --json       the table's data: the document as the table reads\n"
	       "               it, summarised (speedups, slower flags, fits), as\n"
	       "               JSON (docs/results-schema.md)\n"
	       "  --plots DIR  also render gnuplot plots (PNG and SVG) into DIR\n"
	       "  -h, --help   this help\n"
	       "\n" VERB_EXIT_HELP, fmts, exports);
}

static int known_format(const char *f)
{
	if (!strcmp(f, "table"))
		return 1;
	for (size_t i = 0; export_formats[i]; i++)
		if (!strcmp(f, export_formats[i]))
			return 1;
	return 0;
}

static int print_json(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
	printf("\n");
	return rc;
}

static int render_plots(json_t *doc, const char *dir, errbuf *e)
{
	char **files = NULL;
	size_t n = 0;
	fflush(stdout); /* the table first, when both go to one stream */
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
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *format = "table", *plots = NULL;
	int c, as_json = 0;
	optind = 1;
	while ((c = verb_getopt("report", argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'p': plots = optarg; break;
		case 'j': as_json = 1; break;
		case 'h': usage(); return EXIT_OK;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		return verb_error("report", EXIT_USAGE,
				  "give one results document");
	if (!known_format(format)) {
		char fmts[256];
		formats_text("table", ", ", fmts, sizeof fmts);
		return verb_error("report", EXIT_USAGE, "--format: unknown '%s' "
				  "(%s)", format, fmts);
	}
	if (as_json && strcmp(format, "table"))
		return verb_error("report", EXIT_USAGE, "--json is the table's "
				  "data: give --json or --format %s, not both",
				  format);
	json_t *doc;
	errbuf e = {{0}};
	if (results_load(argv[optind], &doc, &e))
		return verb_fail("report", EXIT_USAGE, &e);
	if (!as_json) /* its text is outside input, bound for a terminal */
		escape_controls(doc);
	summary_document(doc);
	int rc = 0;
	if (as_json)
		rc = print_json(doc) ? errf(&e, "cannot write the JSON") : 0;
	else if (!strcmp(format, "table")) {
		table_render(doc, stdout);
		hotlocks_render(doc, stdout); /* exec documents: as exec did */
	} else
		rc = export_doc(doc, format, stdout, &e);
	if (!rc && plots)
		rc = render_plots(doc, plots, &e);
	if (rc)
		verb_fail("report", EXIT_RUNTIME, &e);
	json_decref(doc);
	return rc ? EXIT_RUNTIME : EXIT_OK;
}
