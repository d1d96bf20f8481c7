/* dashboard.h - a static HTML site built from the history database.
 *
 * For nightly use: per workload the latest scaling table, its plots and
 * the trend over recent runs with regressions marked; plain files, no
 * server, nothing fetched from the network, every text HTML-escaped. */
#ifndef CONTEND_DASHBOARD_H
#define CONTEND_DASHBOARD_H

#include <stdio.h>

#include "common/err.h"

struct dashboard_opts {
	const char *history;  /* SQLite history */
	const char *outdir;   /* site directory (created) */
	int runs;	      /* runs per trend */
	double threshold;     /* regression: slower by more than this fraction */
	double alpha;	      /* ... with Mann-Whitney p below this */
};

struct dashboard_summary {
	size_t workloads, runs, regressions;
	int plots_ok;	      /* 0 when gnuplot could not draw */
	char plots_error[512];
	char index[4096];     /* path of index.html */
};

/* Returns 0; -1 (e set) when the inputs are unusable: the site directory
 * or the history database; DASHBOARD_FAILED (e set) when building or
 * writing the site failed after that; HISTORY_UNAVAILABLE (the same
 * value) when the history's server is down or went away. */
#define DASHBOARD_FAILED (-2)
int dashboard_build(const struct dashboard_opts *o,
		    struct dashboard_summary *s, errbuf *e);

/* s with & < > " ' replaced by entities. */
void html_escape(FILE *f, const char *s);

#endif
