/* wire.h - the process pool's pipe protocol.
 *
 * Parent -> worker: task indices as uint32. Worker -> parent: one
 * fixed-size record per finished task, in the order the tasks were sent.
 * Records are < PIPE_BUF, so each write is atomic. */
#ifndef CONTEND_WIRE_H
#define CONTEND_WIRE_H

#include <stdint.h>

#include "bench/workload.h"
#include "harness/pool.h"

#define WIRE_MAGIC 0x434e5444u /* "CNTD" */
#define WIRE_BATCH 256	       /* task indices read per read() */

struct wire_result {
	uint32_t magic;
	uint32_t task;
	struct task_result r;
};

/* The worker's loop: read tasks from task_fd until EOF, run each and write
 * its record to result_fd. Returns the process exit status to use. */
int worker_loop(const struct pool_opts *o, const struct workload_ops *w,
		void *ctx, int task_fd, int result_fd);

#endif
