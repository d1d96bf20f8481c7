/* stats.c - medians and order-statistic confidence intervals.
 *
 * The interval [x(j), x(n+1-j)] covers the median with probability
 * 1 - 2 P(Bin(n, 1/2) <= j-1); we pick the largest j that keeps >= 95 %. */
#include "analysis/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* P(Bin(n, 1/2) <= k), summed in log space so large n does not overflow. */
static double binom_half_cdf(size_t n, size_t k)
{
	double sum = 0, logc = 0; /* log C(n, 0) */
	for (size_t i = 0; i <= k && i <= n; i++) {
		if (i > 0)
			logc += log((double)(n - i + 1)) - log((double)i);
		sum += exp(logc - (double)n * log(2.0));
	}
	return sum;
}

size_t stats_median_ci_rank(size_t n, double level, double *achieved)
{
	size_t best = 1;
	double cover = 1 - 2 * binom_half_cdf(n, 0);
	for (size_t j = 2; j <= (n + 1) / 2; j++) {
		double c = 1 - 2 * binom_half_cdf(n, j - 1);
		if (c < level)
			break;
		best = j;
		cover = c;
	}
	if (achieved)
		*achieved = n ? cover : NAN;
	return best;
}

double stats_median(const double *x, size_t n)
{
	if (!n)
		return NAN;
	double *s = malloc(n * sizeof *s);
	if (!s)
		return NAN;
	memcpy(s, x, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_double);
	double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

void stats_summarise(const double *x, size_t n, struct summary *s)
{
	s->n = n;
	s->median = s->min = s->max = s->ci_low = s->ci_high = NAN;
	s->ci_level = NAN;
	if (!n)
		return;
	double *v = malloc(n * sizeof *v);
	if (!v)
		return;
	memcpy(v, x, n * sizeof *v);
	qsort(v, n, sizeof *v, cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	size_t j = stats_median_ci_rank(n, 0.95, &s->ci_level);
	s->ci_low = v[j - 1];
	s->ci_high = v[n - j];
	free(v);
}

/* The scale the modified z-score divides by: MAD / 0.6745, or when MAD is
 * 0 the mean absolute deviation x 1.253314; 0 when every value ties. */
static double robust_scale(const double *x, size_t n, double med)
{
	double *d = malloc(n * sizeof *d), mean = 0;
	if (!d)
		return 0;
	for (size_t i = 0; i < n; i++) {
		d[i] = fabs(x[i] - med);
		mean += d[i] / (double)n;
	}
	double mad = stats_median(d, n);
	free(d);
	return mad > 0 ? mad / 0.6745 : 1.253314 * mean;
}

size_t stats_outliers(const double *x, size_t n, double *z)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		z[i] = NAN;
	if (n < 3)
		return 0;
	double med = stats_median(x, n), scale = robust_scale(x, n, med);
	if (!(scale > 0) || !isfinite(med))
		return 0;
	for (size_t i = 0; i < n; i++) {
		z[i] = (x[i] - med) / scale;
		k += fabs(z[i]) > STATS_OUTLIER_Z &&
		     fabs(x[i] - med) >= STATS_OUTLIER_MIN_REL * fabs(med);
	}
	return k;
}
