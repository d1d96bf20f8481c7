/* mannwhitney.h - two-sided Mann-Whitney U test and regression verdicts.
 *
 * Wall times are rarely normal (a slow outlier, a bimodal scheduler), so
 * compare and the dashboard judge changes by ranks, as Google Benchmark's
 * compare.py does, and say when too few repetitions make the test weak. */
#ifndef CONTEND_MANNWHITNEY_H
#define CONTEND_MANNWHITNEY_H

#include <stddef.h>

#include "common/err.h"

/* Above this size (per sample), or with ties, the normal approximation
 * (tie-corrected, continuity-corrected) replaces the exact distribution. */
#define MW_EXACT_MAX 50
/* compare.py's advice: fewer repetitions than this give weak tests. */
#define MW_GOOD_REPS 9

struct mw_result {
	size_t na, nb;
	double u;      /* U of sample a: pairs (a_i, b_j) with a_i > b_j, ties 1/2 */
	double p;      /* two-sided p-value */
	int exact;     /* 1: exact distribution, 0: normal approximation */
	int ties;      /* 1 when some values were tied */
	double min_p;  /* the smallest p these sample sizes can give */
};

/* Needs na, nb >= 1 and finite values. */
int mw_test(const double *a, size_t na, const double *b, size_t nb,
	    struct mw_result *r, errbuf *e);

/* 2 / C(na+nb, na): even a complete separation cannot do better. */
double mw_min_p(size_t na, size_t nb);

/* The fewest repetitions a side (the same on both) that can reach
 * p < alpha at all: 4 for 0.05, since 3 against 3 gives at best 0.1. */
size_t mw_reps_needed(double alpha);

enum change_kind {
	CHANGE_SAME,	 /* within the threshold */
	CHANGE_SLOWER,	 /* slower beyond threshold, p < alpha: a regression */
	CHANGE_FASTER,	 /* faster beyond threshold, p < alpha */
	CHANGE_NOISE,	 /* beyond threshold but not significant */
	CHANGE_UNTESTED, /* fewer than 2 repetitions on a side */
};

struct change_verdict {
	double base_median, new_median;
	double change;	/* (new - base) / base: +0.20 is 20 % slower */
	int tested;	/* the U test ran (both sides have >= 2 values) */
	struct mw_result mw;
	enum change_kind kind;
};

/* Judge base -> new wall times: threshold is a fraction (0.05 = 5 %). */
int mw_judge(const double *base, size_t nb, const double *newer, size_t nn,
	     double threshold, double alpha, struct change_verdict *v,
	     errbuf *e);

const char *change_kind_words(enum change_kind k);

#endif
