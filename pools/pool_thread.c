/* pool_thread.c - N pthreads taking task indices from a shared counter.
 *
 * One atomic fetch-add per task is the whole dispatch cost; each worker's
 * bookkeeping sits in its own cache-line-aligned slot. */
#include <stdlib.h>

#include "pools/pool_common.h"

struct tp {
	_Atomic size_t next __attribute__((aligned(64)));
	_Atomic int stop __attribute__((aligned(64)));
	const struct pool_opts *o;
	struct pool_job *job;
	struct pool_slot *slots;
	_Atomic long bad_task; /* first failed/garbage task, -1 none */
	_Atomic int bad_status;
	char bad_why[160];     /* written once, by the thread that set bad_task */
};

struct tp_arg {
	struct tp *tp;
	int id;
};

static void note_bad(struct tp *tp, size_t task, enum pool_status st)
{
	long none = -1;
	if (atomic_compare_exchange_strong(&tp->bad_task, &none, (long)task)) {
		task_error_take(tp->bad_why, sizeof tp->bad_why);
		atomic_store(&tp->bad_status, (int)st);
	}
	atomic_store(&tp->stop, 1);
}

static void *tp_worker(void *arg)
{
	struct tp_arg *a = arg;
	struct tp *tp = a->tp;
	struct pool_slot *slot = &tp->slots[a->id];
	struct pool_job *job = tp->job;
	while (!atomic_load_explicit(&tp->stop, memory_order_relaxed)) {
		size_t i = atomic_fetch_add_explicit(&tp->next, 1,
						     memory_order_relaxed);
		if (i >= job->ntasks)
			break;
		struct task_result *r = &job->results[i];
		atomic_store_explicit(&slot->task, (long)i,
				      memory_order_relaxed);
		atomic_store_explicit(&slot->start_ns, pool_now_ns(),
				      memory_order_release);
		pool_run_one(tp->o, job->w, job->ctx, i, r);
		atomic_store_explicit(&slot->start_ns, 0, memory_order_release);
		r->worker = a->id;
		slot->tasks_done++;
		slot->busy_ns += r->elapsed_ns;
		if (!pool_result_valid(r))
			note_bad(tp, i, POOL_GARBAGE);
		else if (r->status != TASK_OK)
			note_bad(tp, i, POOL_TASK_FAILED);
	}
	return NULL;
}

static int tp_finish(struct tp *tp, int started, struct pool_outcome *out)
{
	long bad = atomic_load(&tp->bad_task);
	for (int i = 0; i < started; i++)
		out->tasks_done += tp->slots[i].tasks_done;
	if (bad >= 0) {
		out->status = (enum pool_status)atomic_load(&tp->bad_status);
		out->task = bad;
		snprintf(out->detail, sizeof out->detail, "task %ld %s%s%s", bad,
			 out->status == POOL_GARBAGE
				 ? "returned a malformed result"
				 : "failed",
			 *tp->bad_why ? ": " : "", tp->bad_why);
	}
	return out->status == POOL_OK ? 0 : -1;
}

static int thread_run(const struct pool_opts *o, struct pool_job *job,
		      struct pool_outcome *out)
{
	int n = o->workers;
	struct tp tp = {.o = o, .job = job, .bad_task = -1};
	pthread_t *th = calloc((size_t)n, sizeof *th);
	struct tp_arg *args = calloc((size_t)n, sizeof *args);
	tp.slots = aligned_alloc(64, sizeof *tp.slots * (size_t)n);
	memset(out, 0, sizeof *out);
	out->task = -1;
	if (!th || !args || !tp.slots) {
		free(th), free(args), free(tp.slots);
		out->status = POOL_ERROR;
		snprintf(out->detail, sizeof out->detail, "out of memory");
		return -1;
	}
	memset(tp.slots, 0, sizeof *tp.slots * (size_t)n);
	struct watchdog *wd = watchdog_start(o, tp.slots, n);
	int started = 0;
	for (; started < n; started++) {
		args[started] = (struct tp_arg){&tp, started};
		if (pthread_create(&th[started], NULL, tp_worker,
				   &args[started]))
			break;
	}
	if (started < n) {
		atomic_store(&tp.stop, 1);
		out->status = POOL_ERROR;
		snprintf(out->detail, sizeof out->detail,
			 "could only start %d of %d threads", started, n);
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	watchdog_stop(wd);
	int rc = out->status == POOL_OK ? tp_finish(&tp, started, out) : -1;
	free(th);
	free(args);
	free(tp.slots);
	return rc;
}

const struct pool_ops pool_thread = {
	.name = "thread",
	.describe = "N threads of this process take tasks from a shared counter",
	.in_process = 1,
	.shares_memory = 1,
	.run = thread_run,
};
