/* usl.h - Universal Scalability Law fits of measured scaling series.
 *
 * X(N) = N / (1 + sigma (N-1) + kappa N (N-1)) explains a speedup curve with
 * two numbers (contention, coherency) and predicts where adding workers
 * stops helping; reports, compare and the dashboard all read these fits. */
#ifndef CONTEND_USL_H
#define CONTEND_USL_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define USL_MIN_POINTS 3

struct usl_fit {
	double sigma;	  /* contention: serialised fraction, >= 0 */
	double kappa;	  /* coherency: crosstalk cost per worker pair, >= 0 */
	double r2;	  /* coefficient of determination on X(N); NaN if undefined */
	double peak_n;	  /* sqrt((1-sigma)/kappa); INFINITY when kappa == 0 */
	double peak_x;	  /* X(peak_n); 1/sigma (or INFINITY) when no peak */
	size_t npoints;
};

/* Relative throughput X at n workers under the model. */
double usl_predict(double sigma, double kappa, double n);

/* Least-squares fit of x[i] = X(n[i]) with sigma, kappa >= 0. Needs
 * USL_MIN_POINTS points with distinct n >= 1 and finite x > 0. */
int usl_fit(const double *n, const double *x, size_t count,
	    struct usl_fit *out, errbuf *e);

/* One plain sentence on what the fit means; max_n is the largest measured
 * worker count, cores the machine's (0: unknown). It never claims a peak
 * or a limit from USL_MIN_POINTS points (two speedups, two parameters: the
 * curve passes through them whatever the truth), and says "extrapolation"
 * of a peak beyond the measured range or beyond twice the cores (past the
 * cores workers only share them: the measured rows decide there). */
void usl_describe(const struct usl_fit *f, double max_n, int cores,
		  char *buf, size_t len);

/* Fits for every series (doc_series_key) of a results document: an array
 * with one object per series (fitted or not, with the reason). The caller
 * owns it. summary_document stores it in the document; readers take it
 * from there (summary_fits), not from here. */
json_t *usl_fit_document(json_t *doc);

#endif
