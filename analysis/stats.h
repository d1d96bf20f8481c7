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

/* Outliers by the modified z-score (Iglewicz and Hoaglin):
 * z_i = 0.6745 (x_i - median) / MAD, an outlier when |z_i| > 3.5, and,
 * so that jitter between near-identical repetitions is not named, at
 * least STATS_OUTLIER_MIN_REL of the median away. When more than half the
 * values tie (MAD 0) the mean absolute deviation stands in (z_i =
 * (x_i - median) / (1.253314 MeanAD)). Needs 3 values. z[0..n-1] gets
 * every score (NAN when it cannot be told); returns how many are
 * outliers. */
#define STATS_OUTLIER_Z 3.5
#define STATS_OUTLIER_MIN_REL 0.05
size_t stats_outliers(const double *x, size_t n, double *z);

#endif
