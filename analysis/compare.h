/* compare.h - did a run get slower, or scale worse? The engine behind
 * `contend compare`: it judges two results documents and returns what it
 * found; printing (text or JSON) is the caller's.
 *
 * Configurations are paired by their series (doc_series_key) and worker
 * count, and must have run the same workload parameters: the same
 * configuration run with other params is listed as not compared, never
 * judged. A configuration regressed when its median wall time grew by
 * more than the threshold and a two-sided Mann-Whitney U test over the
 * repetitions gives p < alpha; a series regressed in scaling when its USL
 * peak worker count (the fits stored in the document) or its fastest
 * worker count fell. A regression whose configuration was measured while
 * other programs took the machine, in either run, is still one, and is
 * said to coincide with interference (busy_base, busy_new, tally.busy). */
#ifndef CONTEND_COMPARE_H
#define CONTEND_COMPARE_H

#include <jansson.h>
#include <stddef.h>

#include "analysis/mannwhitney.h"
#include "common/err.h"

struct compare_opts {
	double threshold; /* a fraction: 0.05 is 5 % */
	double alpha;
};

/* One configuration in both runs with the same params. */
struct compare_pair {
	json_t *base, *newer; /* borrowed from the documents */
	const char *id;       /* the new run's id (or its key) */
	char key[512];        /* series key and worker count */
	int judged;           /* 0: could not be judged; why says why */
	int busy_base, busy_new; /* measured while the machine was busy
				    (analysis/interference.h) */
	char why[600];
	struct change_verdict v; /* when judged */
};

/* The same configuration, run with other params. */
struct compare_differ {
	json_t *base, *newer;
	const char *id;
	char why[512]; /* "trees=50 vs trees=16" */
};

/* A series that scales worse; either or both of its reasons. */
struct compare_scaling {
	char series[512];
	int peak_fell;
	double peak_base, peak_new; /* INFINITY: no peak within reach */
	int best_fell;
	long long best_base, best_new;
	double old_best_slower; /* the old best count against the new best,
				   in the new run: 0.3 is 30 % slower */
	char why[600];
	size_t busy_rows; /* the series' rows, in both runs, measured busy */
};

struct compare_tally {
	size_t compared, regressed, improved, noise, untestable;
	size_t scaling;       /* series that scale worse */
	size_t params_differ; /* same configuration, other params */
	size_t min_reps;      /* fewest repetitions on a side of a test */
	double worst_min_p;   /* the largest "smallest possible p" seen */
	size_t busy;          /* regressions with a busy machine on a side */
};

struct compare_result {
	struct compare_pair *pairs; /* in the new run's order */
	size_t npairs;
	struct compare_differ *differ;
	size_t ndiffer;
	const char **only_base, **only_new; /* ids (or keys) in one run only */
	size_t nonly_base, nonly_new;
	struct compare_scaling *scaling;
	size_t nscaling;
	struct compare_tally tally;
	int machines_differ;
	int regression; /* a configuration or a series regressed */
};

/* Judge newer against base. Nothing to compare (no pair) is not an error
 * here: npairs is 0 and the caller says so. -1 only when memory ran out.
 * The result borrows from both documents: keep them until
 * compare_result_free. */
int compare_docs(json_t *base, json_t *newer, const struct compare_opts *o,
		 struct compare_result *r, errbuf *e);
void compare_result_free(struct compare_result *r);

/* "slower", "faster", "same", "noise", "untested" (a verdict with too few
 * repetitions for a test) or "untestable" (no ok repetition on a side). */
const char *compare_verdict(const struct compare_pair *p);

/* The result as JSON (docs/reports.md, "compare --json"): pairs,
 * params_differ, only_in_base, only_in_new, scaling, tally, regression. */
json_t *compare_result_json(const struct compare_result *r,
			    const struct compare_opts *o);

#endif
