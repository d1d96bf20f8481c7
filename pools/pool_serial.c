/* pool_serial.c - the calling thread runs every task in order.
 *
 * The baseline every other pool is compared with: no dispatch at all. */
#include "pools/pool_common.h"

static int serial_run(const struct pool_opts *o, struct pool_job *job,
		      struct pool_outcome *out)
{
	struct pool_slot slot = {0};
	struct watchdog *wd = watchdog_start(o, &slot, 1);
	memset(out, 0, sizeof *out);
	out->task = -1;
	for (size_t i = 0; i < job->ntasks; i++) {
		struct task_result *r = &job->results[i];
		atomic_store(&slot.task, (long)i);
		atomic_store_explicit(&slot.start_ns, pool_now_ns(),
				      memory_order_release);
		pool_run_one(o, job->w, job->ctx, i, r);
		atomic_store_explicit(&slot.start_ns, 0, memory_order_release);
		r->worker = 0;
		if (!pool_result_valid(r)) {
			out->status = POOL_GARBAGE;
			out->task = (long)i;
			snprintf(out->detail, sizeof out->detail,
				 "task %zu returned a malformed result", i);
			break;
		}
		if (r->status != TASK_OK) {
			char why[160];
			task_error_take(why, sizeof why);
			out->status = POOL_TASK_FAILED;
			out->task = (long)i;
			snprintf(out->detail, sizeof out->detail,
				 "task %zu failed%s%s", i, *why ? ": " : "", why);
			break;
		}
		out->tasks_done++;
	}
	watchdog_stop(wd);
	return out->status == POOL_OK ? 0 : -1;
}

const struct pool_ops pool_serial = {
	.name = "serial",
	.describe = "the calling thread runs every task (workers is always 1)",
	.in_process = 1,
	.single_worker = 1,
	.shares_memory = 1,
	.run = serial_run,
};
