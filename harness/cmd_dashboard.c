/* cmd_dashboard.c - `contend dashboard`: the history as a static HTML site.
 *
 * Meant for a nightly job after `contend history add`: open
 * DIR/index.html in any browser, or publish DIR as plain files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/verb.h"
#include "report/dashboard.h"
#include "common/err.h"
#include "document/history.h"

#define DEFAULT_OUT "plots/dashboard"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend dashboard [--db FILE] [--out DIR] [--runs N]\n"
		"                         [--threshold PCT] [--alpha A]\n"
		"\n"
		"Build a static HTML dashboard from the history: per workload the\n"
		"latest scaling table, its plots, and the trend over the last runs\n"
		"with regressions marked. Needs no server; fetches nothing.\n"
		"\n"
		"  --db FILE        the history (default %s): a SQLite\n"
		"                   file or a postgresql://... URI (contend history\n"
		"                   --help; --history FILE is the same)\n"
		"  --out DIR        site directory (default %s)\n"
		"  --runs N         runs shown in each trend (default 30)\n"
		"  --threshold PCT  regression: slower by more than PCT %% (default 5)\n"
		"  --alpha A        ... with Mann-Whitney p below A (default 0.05)\n"
		"  -h, --help       this help\n"
		"\n" VERB_EXIT_HELP,
		HISTORY_DEFAULT_PATH, DEFAULT_OUT);
}

static int number(const char *what, const char *s, double lo, double hi,
		  double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi)) {
		return verb_error("dashboard", -1, "%s '%s' must be a number "
				  "in [%g, %g]", what, s, lo, hi);
	}
	*out = v;
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int parse(int argc, char **argv, struct dashboard_opts *o)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, 'H'},
		{"history", required_argument, NULL, 'H'}, /* the old name */
		{"out", required_argument, NULL, 'o'},
		{"runs", required_argument, NULL, 'r'},
		{"threshold", required_argument, NULL, 't'},
		{"alpha", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double runs = o->runs, pct = 100 * o->threshold;
	int c;
	optind = 1;
	while ((c = verb_getopt("dashboard", argc, argv, "h", lo)) != -1) {
		int bad = 0;
		if (c == 'H')
			o->history = optarg;
		else if (c == 'o')
			o->outdir = optarg;
		else if (c == 'r')
			bad = number("--runs", optarg, 2, 100000, &runs);
		else if (c == 't')
			bad = number("--threshold", optarg, 0, 1000, &pct);
		else if (c == 'a')
			bad = number("--alpha", optarg, 1e-9, 1, &o->alpha);
		else if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		} else {
			return EXIT_USAGE;
		}
		if (bad)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return verb_error("dashboard", EXIT_USAGE, "unexpected '%s'",
				  argv[optind]);
	o->runs = (int)runs;
	o->threshold = pct / 100;
	return -1;
}

int cmd_dashboard(int argc, char **argv)
{
	struct dashboard_opts o = {.history = HISTORY_DEFAULT_PATH,
				   .outdir = DEFAULT_OUT, .runs = 30,
				   .threshold = 0.05, .alpha = 0.05};
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	struct dashboard_summary s;
	errbuf e;
	rc = dashboard_build(&o, &s, &e);
	if (rc) /* a history server that is down, or the work failed */
		return verb_fail("dashboard", rc == DASHBOARD_FAILED ||
				 rc == HISTORY_UNAVAILABLE
				 ? EXIT_RUNTIME : EXIT_USAGE, &e);
	printf("dashboard written to %s (%zu workload%s, %zu run%s, %zu "
	       "regression%s in the latest runs)\n", s.index, s.workloads,
	       s.workloads == 1 ? "" : "s", s.runs, s.runs == 1 ? "" : "s",
	       s.regressions, s.regressions == 1 ? "" : "s");
	if (!s.plots_ok)
		printf("note: plots are missing: %s\n", s.plots_error);
	return EXIT_OK;
}
