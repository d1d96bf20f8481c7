/* workload.h - the contract between a workload and everything else.
 *
 * In the spirit of fio's ioengine_ops: a workload fills one ops table and
 * knows nothing of pools; pools know nothing of workloads. A task is one
 * unit of work (one tree, one dgemm, one matrix build) identified by its
 * index, and returns a fixed-size result so it can cross a pipe. */
#ifndef CONTEND_WORKLOAD_H
#define CONTEND_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "bench/params.h"
#include "common/err.h"

enum task_status {
	TASK_OK = 0,
	TASK_FAILED = 1,   /* run_task returned an error */
	TASK_GARBAGE = 2,  /* a result that could not be decoded */
	TASK_MISSING = 3,  /* never came back (worker died, timeout, stop) */
};

struct task_result {
	uint64_t hash;	     /* digest of what the task built: feeds checksum */
	double value;	     /* one figure of the task (leaves, GFLOP, ...) */
	uint64_t elapsed_ns; /* filled by the pool: time inside run_task */
	int32_t status;	     /* enum task_status */
	int32_t worker;	     /* filled by the pool: which worker ran it */
};

struct workload_ops {
	const char *name;
	const char *describe; /* one line for `contend list` */
	const char *value_name; /* what task_result.value means, or NULL */
	const struct param_spec *params; /* ends with a {NULL} entry */
	int uses_blas; /* its time is the BLAS's: reports show BLAS warnings */

	/* Build the inputs once, deterministically from the params (seed).
	 * Called in every process that runs tasks (spawned workers too). */
	int (*setup)(const struct params *p, void **ctx, errbuf *e);
	size_t (*ntasks)(const void *ctx);
	/* Must be safe to call concurrently for different tasks on one ctx. */
	int (*run_task)(void *ctx, size_t task, struct task_result *out);
	/* Digest of all task results, in task order. Identical for every pool,
	 * worker count and build: a run whose checksum differs is wrong. */
	uint64_t (*checksum)(const void *ctx, const struct task_result *res,
			     size_t n);
	void (*teardown)(void *ctx);
};

/* A run_task that fails may say why in one line; the pool running it puts
 * the words into the configuration's detail (process workers send them
 * over the pipe). Kept per thread, so concurrent tasks do not mix. */
void task_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The calling thread's last task_error message ("" if none), cleared. */
void task_error_take(char *buf, size_t len);

/* The registry (bench/registry.c): NULL-terminated list of workloads. */
extern const struct workload_ops *const workloads[];
const struct workload_ops *workload_find(const char *name);

/* FNV-1a style mixing helpers for checksums. */
uint64_t hash_bytes(uint64_t h, const void *data, size_t len);
uint64_t hash_u64(uint64_t h, uint64_t v);
#define HASH_SEED 0xcbf29ce484222325ULL
/* Default checksum: the task hashes in task order. */
uint64_t checksum_task_hashes(const void *ctx, const struct task_result *res,
			      size_t n);

#endif
