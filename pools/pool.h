/* pool.h - the contract of a worker pool (serial, thread, process).
 *
 * A pool runs tasks 0..ntasks-1 of one workload with N workers and fills one
 * result per task. It never names a workload; the workload never sees the
 * pool. Crashes and timeouts are returned in the outcome, never fatal. */
#ifndef CONTEND_POOL_H
#define CONTEND_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "bench/workload.h"

enum pool_start { POOL_START_FORK = 0, POOL_START_SPAWN = 1 };

struct pool_outcome;

struct pool_opts {
	int workers;
	enum pool_start start;	/* process pool only */
	double task_timeout_s;	/* 0 = none */
	const char *self_exe;	/* for spawn: the binary to re-execute */
	/* Fault injection (tests): task index whose worker misbehaves, -1 none */
	long inject_task;
	int inject_kind;	/* enum inject_kind */
	/* In-process pools cannot stop a hung thread: on a task timeout they
	 * call on_hang from a watchdog thread, which must not return (the
	 * runner reports the timeout and ends its process). */
	void (*on_hang)(const struct pool_outcome *out, void *arg);
	void *on_hang_arg;
	/* Called in every worker process right after it starts (process
	 * pool), e.g. to apply library thread limits. NULL: nothing. */
	void (*worker_init)(void *arg);
	void *worker_init_arg;
	/* Process pool: after its last task each worker may send a report of
	 * at most POOL_REPORT_MAX bytes (e.g. its lock figures); the runner
	 * receives each in collect(). NULL: no reports. */
	size_t (*worker_report)(void *buf, size_t max);
	void (*collect)(const void *buf, size_t len, void *arg);
	void *collect_arg;
	/* Spawned workers: opaque text handed to `__worker --config`, so the
	 * worker can set itself up as the runner is (lock model, hooks). */
	const char *worker_config;
};

#define POOL_REPORT_MAX 2048

enum inject_kind {
	INJECT_NONE = 0,
	INJECT_SEGV,	/* raise SIGSEGV inside the task */
	INJECT_ABORT,	/* abort() inside the task */
	INJECT_KILL,	/* SIGKILL itself */
	INJECT_EXIT,	/* exit(3) inside the task */
	INJECT_EXIT0,	/* exit(0) without a result */
	INJECT_HANG,	/* never return */
	INJECT_GARBAGE, /* send a malformed result */
	INJECT_FAIL,	/* the task fails, saying why */
	INJECT_SLOWSTART, /* a spawned worker sleeps TASK ms before it is ready */
};

/* What became of one pool run. */
enum pool_status {
	POOL_OK = 0,
	POOL_CRASHED,	/* a worker died on a signal */
	POOL_EXITED,	/* a worker exited (non-zero, or zero without results) */
	POOL_TIMEOUT,	/* a task exceeded task_timeout_s */
	POOL_TASK_FAILED,
	POOL_GARBAGE,	/* a worker sent something that is not a result */
	POOL_INTERRUPTED,
	POOL_ERROR,	/* could not start: fork/pipe/thread failed */
};

struct pool_outcome {
	enum pool_status status;
	int signal;	   /* POOL_CRASHED */
	int exit_code;	   /* POOL_EXITED */
	long task;	   /* the task involved, -1 if unknown */
	size_t tasks_done;
	char detail[320];  /* plain words, e.g. "worker 2 killed by SIGSEGV" */
};

struct pool_job {
	const struct workload_ops *w;
	void *ctx;		    /* from w->setup in this process */
	const struct params *params; /* to rebuild ctx in spawned workers */
	size_t ntasks;
	struct task_result *results; /* ntasks entries */
};

/* What a pool is, as the sweep, the runner and the reports need to know
 * it: they ask these fields, never the pool's name. */
struct pool_ops {
	const char *name;
	const char *describe;
	/* The workload runs in the runner's own process: malloc's figures
	 * are the workload's, and a hung task cannot be stopped. */
	int in_process;
	/* Always one worker whatever --workers says: it runs once per
	 * configuration, and its row is the baseline of the others. */
	int single_worker;
	/* Workers start by fork or spawn (--start is a dimension of it). */
	int has_start;
	/* Workers see the runner's memory without copying or mapping. */
	int shares_memory;
	int (*run)(const struct pool_opts *o, struct pool_job *job,
		   struct pool_outcome *out);
};

extern const struct pool_ops pool_serial, pool_thread, pool_process;
/* Every pool, NULL-terminated, in the order `contend list` shows them and
 * a sweep runs them (pools/registry.c). Adding a pool is one new
 * pools/pool_NAME.c and one line there. */
extern const struct pool_ops *const pools_all[];
/* The pool named name, or NULL (exec's rows name none of them). */
const struct pool_ops *pool_find(const char *name);
const char *pool_status_name(enum pool_status s);

/* Runs one task with fault injection applied; shared by every pool so the
 * same fault means the same thing everywhere. */
int pool_run_one(const struct pool_opts *o, const struct workload_ops *w,
		 void *ctx, size_t task, struct task_result *r);

#endif
