/* sidebyside.h - verdicts across every dimension but the worker count,
 * computed once into the document (summary_document calls it):
 *
 *   doc.sidebyside: every pair of ok configurations of one workload, pool
 *     and worker count (and the same workload parameters) whose
 *     dimensions differ in exactly one (build, lock_model, share,
 *     inner_threads, start, any other string dimension, exec's params and
 *     env; build and lock_model differing together count as the build):
 *     which is faster, by the ratio of median wall times, and whether the
 *     intervals of the medians separate (else "indistinguishable"); the
 *     same for peak RSS, whose per-repetition ranges must separate.
 *   doc.best: per workload and parameters, the fastest configuration
 *     across all dimensions, those indistinguishable from it (intervals
 *     overlapping), and the one with the least peak memory when that is
 *     another.
 *
 * Renderers print them (report/comparisons.c); nothing is recomputed there. */
#ifndef CONTEND_SIDEBYSIDE_H
#define CONTEND_SIDEBYSIDE_H

#include <jansson.h>
#include <stddef.h>

#define SBS_DIMS_MAX 48

/* One dimension of a configuration, as the sentences name it. */
struct sbs_dim {
	char name[72];	/* key: "inner_threads", "params.mode", "env.X" */
	char label[72];	/* as written: "inner-threads", "mode", "X" */
	char value[136];
};

/* Config's dimensions but workload, pool and workers, in a fixed order;
 * returns how many. */
size_t sidebyside_dims(json_t *config, struct sbs_dim *out, size_t cap);

/* Store doc.sidebyside and doc.best (replacing any). */
void sidebyside_document(json_t *doc);

#endif
