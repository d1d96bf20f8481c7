/* stats.h - summaries of repeated measurements.
 *
 * Medians and a distribution-free confidence interval of the median from
 * order statistics: no normality assumption, exact coverage reported. */
#ifndef CONTEND_STATS_H
#define CONTEND_STATS_H

#include <stddef.h>

struct summary {
	size_t n;
	double median, min, max;
	double ci_low, ci_high;
	double ci_level; /* exact coverage of [ci_low, ci_high] */
};

/* Summarise x[0..n-1] (order not required; x is not modified).
 * n == 0 gives a summary with n == 0 and NaN figures. */
void stats_summarise(const double *x, size_t n, struct summary *s);

/* Ranks (1-based) j and n+1-j of the widest-needed order statistics for a
 * confidence >= level; sets *achieved to the exact coverage. */
size_t stats_median_ci_rank(size_t n, double level, double *achieved);

double stats_median(const double *x, size_t n);

#endif
