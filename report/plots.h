/* plots.h - gnuplot charts (PNG and SVG) of a results document or history.
 *
 * Data files are written from the document alone and drawn by the gnuplot
 * templates in plots/ (one .gp per chart), run by fork/exec with no shell,
 * so any old run can be re-plotted and the looks change without a rebuild. */
#ifndef CONTEND_PLOTS_H
#define CONTEND_PLOTS_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* Per workload: speedup vs workers per series (ideal line, USL curves),
 * wall time per configuration with CI error bars, lock-wait share against
 * compute (when lock data exist), release vs linetrace (when both builds
 * exist), memory over time (when memory.series exist). Each chart is
 * written as NAME.png and NAME.svg in outdir/below (created if missing;
 * below may be NULL; a component of below that is a symbolic link is
 * refused, so nothing lands outside outdir); every file is created by
 * contend, never written through a planted link (report/safefile.h);
 * *files lists the images written (caller frees with plots_free). */
int plots_render(json_t *doc, const char *outdir, const char *below,
		 char ***files, size_t *nfiles, errbuf *e);

/* Trend of median wall time over runs for one workload, from
 * history_trend(): trend-<workload>.png/.svg, added to *files. */
int plots_render_trend(json_t *trend, const char *outdir, const char *below,
		       char ***files, size_t *nfiles, errbuf *e);

void plots_free(char **files, size_t nfiles);

/* A file-name-safe form of s ([A-Za-z0-9._-], others '_', plus a short hash
 * when anything was replaced so distinct names stay distinct). */
void plots_slug(const char *s, char *out, size_t len);

#endif
