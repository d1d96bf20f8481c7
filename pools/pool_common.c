/* pool_common.c - what every pool shares: status names, fault
 * injection and the hang watchdog of in-process pools.
 * One definition of each so a fault means the same thing in every pool. */
#include "pools/pool_common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *pool_status_name(enum pool_status s)
{
	static const char *const names[] = {
		[POOL_OK] = "ok",	     [POOL_CRASHED] = "crashed",
		[POOL_EXITED] = "exited",    [POOL_TIMEOUT] = "timeout",
		[POOL_TASK_FAILED] = "task-failed",
		[POOL_GARBAGE] = "garbage", [POOL_INTERRUPTED] = "interrupted",
		[POOL_ERROR] = "error",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

uint64_t pool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void inject(const struct pool_opts *o, struct task_result *r)
{
	switch (o->inject_kind) {
	case INJECT_SEGV:
		/* Die by the signal as a crashing task does, even where a
		 * sanitizer runtime handles SIGSEGV (it would exit instead). */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		break;
	case INJECT_ABORT:
		abort();
	case INJECT_KILL:
		raise(SIGKILL);
		break;
	case INJECT_EXIT:
		_exit(3);
	case INJECT_EXIT0:
		_exit(0);
	case INJECT_HANG:
		for (;;)
			pause();
	case INJECT_GARBAGE:
		r->status = 0x7eadbeef;
		break;
	case INJECT_FAIL:
		r->status = TASK_FAILED;
		task_error("injected failure");
		break;
	default:
		break;
	}
}

int pool_run_one(const struct pool_opts *o, const struct workload_ops *w,
		 void *ctx, size_t task, struct task_result *r)
{
	memset(r, 0, sizeof *r);
	uint64_t t0 = pool_now_ns();
	int rc = w->run_task(ctx, task, r);
	r->elapsed_ns = pool_now_ns() - t0;
	if (rc)
		r->status = TASK_FAILED;
	if (o->inject_kind != INJECT_NONE && o->inject_task == (long)task)
		inject(o, r);
	return rc;
}

int pool_result_valid(const struct task_result *r)
{
	return r->status == TASK_OK || r->status == TASK_FAILED;
}

/* --- hang watchdog for in-process pools ------------------------------ */

struct watchdog {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	struct pool_slot *slots;
	int nslots;
	uint64_t timeout_ns;
	const struct pool_opts *o;
};

int pool_slot_overdue(uint64_t start_ns, uint64_t now_ns, uint64_t timeout_ns)
{
	return start_ns && now_ns > start_ns && now_ns - start_ns > timeout_ns;
}

static int check_slots(struct watchdog *wd, struct pool_outcome *out)
{
	uint64_t now = pool_now_ns();
	for (int i = 0; i < wd->nslots; i++) {
		uint64_t t0 = atomic_load_explicit(&wd->slots[i].start_ns,
						   memory_order_acquire);
		if (pool_slot_overdue(t0, now, wd->timeout_ns)) {
			memset(out, 0, sizeof *out);
			out->status = POOL_TIMEOUT;
			out->task = atomic_load(&wd->slots[i].task);
			snprintf(out->detail, sizeof out->detail,
				 "task %ld ran longer than %.3g s on worker %d",
				 out->task, wd->o->task_timeout_s, i);
			return 1;
		}
	}
	return 0;
}

static void *watchdog_main(void *arg)
{
	struct watchdog *wd = arg;
	pthread_mutex_lock(&wd->mu);
	while (!wd->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000; /* 10 ms: coarse is fine for hangs */
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
		struct pool_outcome out;
		if (!wd->stop && check_slots(wd, &out)) {
			pthread_mutex_unlock(&wd->mu);
			/* A hung thread cannot be stopped safely: the owner
			 * reports and ends the process (it does not return). */
			wd->o->on_hang(&out, wd->o->on_hang_arg);
			_exit(EXIT_FAILURE);
		}
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

struct watchdog *watchdog_start(const struct pool_opts *o,
				struct pool_slot *slots, int nslots)
{
	if (o->task_timeout_s <= 0 || !o->on_hang)
		return NULL;
	struct watchdog *wd = calloc(1, sizeof *wd);
	if (!wd)
		return NULL;
	pthread_mutex_init(&wd->mu, NULL);
	pthread_cond_init(&wd->cv, NULL);
	wd->slots = slots;
	wd->nslots = nslots;
	wd->timeout_ns = (uint64_t)(o->task_timeout_s * 1e9);
	wd->o = o;
	if (pthread_create(&wd->thread, NULL, watchdog_main, wd)) {
		free(wd);
		return NULL;
	}
	return wd;
}

void watchdog_stop(struct watchdog *wd)
{
	if (!wd)
		return;
	pthread_mutex_lock(&wd->mu);
	wd->stop = 1;
	pthread_cond_signal(&wd->cv);
	pthread_mutex_unlock(&wd->mu);
	pthread_join(wd->thread, NULL);
	pthread_mutex_destroy(&wd->mu);
	pthread_cond_destroy(&wd->cv);
	free(wd);
}
