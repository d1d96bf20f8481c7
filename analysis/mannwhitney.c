/* mannwhitney.c - the Mann-Whitney U test over repetition wall times.
 *
 * Exact p-values by counting rank arrangements for small untied samples,
 * the tie-corrected normal approximation otherwise; no stats library. */
#include "analysis/mannwhitney.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double mw_min_p(size_t na, size_t nb)
{
	/* log C(na+nb, na) via lgamma: exact enough and never overflows */
	double lc = lgamma((double)(na + nb + 1)) - lgamma((double)na + 1) -
		    lgamma((double)nb + 1);
	return fmin(1.0, 2.0 * exp(-lc));
}

struct ranked {
	double v;
	int from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
	double a = ((const struct ranked *)x)->v;
	double b = ((const struct ranked *)y)->v;
	return (a > b) - (a < b);
}

/* Rank sum of sample a (mid-ranks for ties) and the tie term
 * sum(t^3 - t) over groups of tied values. */
static void rank_sum(struct ranked *all, size_t n, double *ra, double *tie)
{
	qsort(all, n, sizeof *all, cmp_ranked);
	*ra = 0;
	*tie = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && all[j + 1].v == all[i].v)
			j++;
		double t = (double)(j - i + 1), mid = (i + j) / 2.0 + 1;
		for (size_t k = i; k <= j; k++)
			if (all[k].from_a)
				*ra += mid;
		*tie += t * t * t - t;
		i = j + 1;
	}
}

/* P(U <= u) under H0 by counting: c(i, j, u) = c(i-1, j, u-j) + c(i, j-1, u),
 * kept as one layer per i of size (nb+1) x (na*nb+1). */
static double exact_cdf(size_t na, size_t nb, double u)
{
	size_t umax = na * nb, w = umax + 1;
	double *prev = calloc((nb + 1) * w, sizeof *prev);
	double *cur = calloc((nb + 1) * w, sizeof *cur);
	if (!prev || !cur) {
		free(prev);
		free(cur);
		return NAN;
	}
	for (size_t j = 0; j <= nb; j++)
		prev[j * w] = 1; /* no a values: U = 0 in one way */
	for (size_t i = 1; i <= na; i++) {
		memset(cur, 0, (nb + 1) * w * sizeof *cur);
		cur[0] = 1;
		for (size_t j = 1; j <= nb; j++)
			for (size_t k = 0; k <= i * j; k++)
				cur[j * w + k] =
					(k >= j ? prev[j * w + k - j] : 0) +
					cur[(j - 1) * w + k];
		double *t = prev;
		prev = cur;
		cur = t;
	}
	double below = 0, total = 0;
	for (size_t k = 0; k <= umax; k++) {
		total += prev[nb * w + k];
		if ((double)k <= u + 1e-9)
			below += prev[nb * w + k];
	}
	free(prev);
	free(cur);
	return below / total;
}

static double normal_p(size_t na, size_t nb, double u, double tie)
{
	double n = (double)(na + nb), mean = na * (double)nb / 2;
	double var = na * (double)nb / 12 * ((n + 1) - tie / (n * (n - 1)));
	if (!(var > 0))
		return 1; /* everything tied: no evidence either way */
	double z = fmax(0, fabs(u - mean) - 0.5) / sqrt(var);
	return fmin(1, erfc(z / sqrt(2)));
}

static int check_sample(const double *x, size_t n, const char *name,
			errbuf *e)
{
	if (n == 0)
		return errf(e, "Mann-Whitney test: sample %s is empty", name);
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return errf(e, "Mann-Whitney test: sample %s has a "
				    "value that is not a number", name);
	return 0;
}

int mw_test(const double *a, size_t na, const double *b, size_t nb,
	    struct mw_result *r, errbuf *e)
{
	if (check_sample(a, na, "a", e) || check_sample(b, nb, "b", e))
		return -1;
	struct ranked *all = malloc((na + nb) * sizeof *all);
	if (!all)
		return errf(e, "Mann-Whitney test: out of memory");
	for (size_t i = 0; i < na; i++)
		all[i] = (struct ranked){a[i], 1};
	for (size_t i = 0; i < nb; i++)
		all[na + i] = (struct ranked){b[i], 0};
	double ra, tie;
	rank_sum(all, na + nb, &ra, &tie);
	free(all);
	memset(r, 0, sizeof *r);
	r->na = na;
	r->nb = nb;
	r->u = ra - na * (na + 1) / 2.0;
	r->ties = tie > 0;
	r->min_p = mw_min_p(na, nb);
	r->exact = !r->ties && na <= MW_EXACT_MAX && nb <= MW_EXACT_MAX;
	if (r->exact) {
		double lo = fmin(r->u, na * (double)nb - r->u);
		r->p = fmin(1, 2 * exact_cdf(na, nb, lo));
		if (isnan(r->p))
			r->exact = 0;
	}
	if (!r->exact)
		r->p = normal_p(na, nb, r->u, tie);
	return 0;
}

static double median_of(const double *x, size_t n)
{
	double *c = malloc(n * sizeof *c);
	if (!c)
		return NAN;
	memcpy(c, x, n * sizeof *c);
	/* insertion sort: repetition counts are small */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && c[j - 1] > c[j]; j--) {
			double t = c[j];
			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

int mw_judge(const double *base, size_t nb, const double *newer, size_t nn,
	     double threshold, double alpha, struct change_verdict *v,
	     errbuf *e)
{
	memset(v, 0, sizeof *v);
	if (check_sample(base, nb, "base", e) ||
	    check_sample(newer, nn, "new", e))
		return -1;
	v->base_median = median_of(base, nb);
	v->new_median = median_of(newer, nn);
	if (!(v->base_median > 0))
		return errf(e, "base median wall time %g is not positive",
			    v->base_median);
	v->change = (v->new_median - v->base_median) / v->base_median;
	v->tested = nb >= 2 && nn >= 2;
	if (v->tested && mw_test(base, nb, newer, nn, &v->mw, e))
		return -1;
	if (fabs(v->change) <= threshold)
		v->kind = CHANGE_SAME;
	else if (!v->tested)
		v->kind = CHANGE_UNTESTED;
	else if (v->mw.p >= alpha)
		v->kind = CHANGE_NOISE;
	else
		v->kind = v->change > 0 ? CHANGE_SLOWER : CHANGE_FASTER;
	return 0;
}

const char *change_kind_words(enum change_kind k)
{
	switch (k) {
	case CHANGE_SAME:
		return "same";
	case CHANGE_SLOWER:
		return "REGRESSION: slower";
	case CHANGE_FASTER:
		return "faster";
	case CHANGE_NOISE:
		return "changed, but within noise";
	case CHANGE_UNTESTED:
		return "changed, too few repetitions to test";
	}
	return "?";
}

size_t mw_reps_needed(double alpha)
{
	size_t n = 1;
	while (n < 1000 && !(mw_min_p(n, n) < alpha))
		n++;
	return n;
}
