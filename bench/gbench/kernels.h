/* kernels.h - contend's C kernels registered as Google Benchmark
 * benchmarks through the C shim (cbench.h), with probe figures (lock wait
 * share, context switches) attached as user counters. */
#ifndef CONTEND_GBENCH_KERNELS_H
#define CONTEND_GBENCH_KERNELS_H

#include "common/err.h"

/* Build the shared inputs and register every kernel benchmark. */
int gbench_kernels_register(errbuf *e);
/* Free what gbench_kernels_register built (after the run). */
void gbench_kernels_free(void);

/* Family names of the criterion variants, for the hook-cost summary:
 * "criterion/release" and "criterion/linetrace-<model>". */
#define GBENCH_CRIT_RELEASE "criterion/release"
#define GBENCH_CRIT_LINETRACE "criterion/linetrace-"

#endif
