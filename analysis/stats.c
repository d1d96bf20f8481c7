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
