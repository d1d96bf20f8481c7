/* gbench_import.h - Google Benchmark JSON read as a results document, so
 * that history, compare and the dashboard treat kernel micro-benchmarks
 * like contend's own runs. */
#ifndef CONTEND_GBENCH_IMPORT_H
#define CONTEND_GBENCH_IMPORT_H

#include <jansson.h>

#include "common/err.h"

/* Google Benchmark JSON (as Google Benchmark writes it) as a contend
 * results document: one configuration per run_name, workers = threads,
 * aggregates recomputed from the repetitions, speedups against the
 * 1-thread run of the same series. NULL with a reason in e when gb is not
 * Google Benchmark JSON. */
json_t *gbench_import(json_t *gb, errbuf *e);

#endif
