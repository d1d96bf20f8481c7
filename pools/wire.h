/* wire.h - the process pool's pipe protocol.
 *
 * Parent -> worker: task indices as uint32. Worker -> parent: from a
 * spawned worker first WIRE_READY, then one fixed-size record per finished
 * task, in the order the tasks were sent. Records are < PIPE_BUF, so each
 * write is atomic. */
#ifndef CONTEND_WIRE_H
#define CONTEND_WIRE_H

#include <stdint.h>

#include "bench/workload.h"
#include "pools/pool.h"

#define WIRE_MAGIC 0x434e5444u /* "CNTD" */
#define WIRE_REPORT 0x434e5452u /* "CNTR": a worker's final report */
#define WIRE_ERROR 0x434e5445u	/* "CNTE": why the next result failed */
#define WIRE_READY 0x434e5459u	/* "CNTY": a spawned worker is set up */
#define WIRE_BATCH 256	       /* task indices read per read() */

struct wire_result {
	uint32_t magic;
	uint32_t task;
	struct task_result r;
};

/* Sent just before the result of a failed task that said why. */
struct wire_error {
	uint32_t magic;
	uint32_t task;
	char msg[160];
};

/* After the last task: the worker's report record (header, then len
 * bytes of payload, len <= POOL_REPORT_MAX), sent once before exit. */
struct wire_report {
	uint32_t magic;
	uint32_t len;
	unsigned char payload[POOL_REPORT_MAX];
};

/* A spawned worker sends the bare WIRE_READY magic once its exec and
 * workload setup are done: its first task's clock starts there. */
int worker_send_ready(const struct pool_opts *o, int result_fd);

/* Send the report of o->worker_report, if any. */
void worker_send_report(const struct pool_opts *o, int result_fd);

/* The worker's loop: read tasks from task_fd until EOF, run each and write
 * its record to result_fd. Returns the process exit status to use. */
int worker_loop(const struct pool_opts *o, const struct workload_ops *w,
		void *ctx, int task_fd, int result_fd);

#endif
