/* runner.h - how the sweep and the runner talk.
 *
 * Every configuration runs in its own child process (the runner), so a task
 * that crashes or hangs takes down only that child, and each configuration
 * starts with fresh memory. The runner reports one JSON line per event on a
 * pipe: {"type":"setup"|"rep"|"error"|"done", ...}. */
#ifndef CONTEND_RUNNER_H
#define CONTEND_RUNNER_H

#include <jansson.h>

/* The fd number the runner writes its report lines to. */
#define RUNNER_REPORT_FD 3
/* Paced runners (config "paced": true, interleaved sweeps) read one byte
 * here before each measured repetition: 'r' runs it; anything else, or
 * the pipe closing, ends the runner. Warm-ups run at once. */
#define RUNNER_CONTROL_FD 4
#define RUNNER_GO 'r'

/* Config object passed to `contend __runner --config JSON`:
 * {"workload", "params" (k=v,...), "pool", "workers", "start",
 *  "task_timeout_s", "reps", "warmup", "inject"?, "counters"?,
 *  "lock_model"?, "switch_interval_s"?, "inner_threads"?, "paced"?} */

#include "common/err.h"
#include "pools/pool.h"

/* In a spawned worker: set the process up as the runner that started it
 * (lock model and trace hooks from the runner's config text), and fill o's
 * worker_report. */
int runner_worker_setup(const char *config, struct pool_opts *o, errbuf *e);

#endif
