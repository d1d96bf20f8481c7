/* lockprobe.c - lock figures of a repetition as a probe (see lockprobe.h).
 *
 * Process-pool workers send their own figures after their last task
 * (worker_report, run in the worker); the runner hands each to collect().
 * Shares are of the workers' wall time: wall_s x workers. */
#include "probes/lockprobe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/gil.h"
#include "probes/hooks/trace_hooks.h"
#include "probes/lockstat.h"

struct lock_state {
	int workers;
	struct lockstat_summary from_workers;
};

/* Only the linetrace binary links the hooks (weak symbols elsewhere). */
static struct gil *interpreter_lock(void)
{
	return trace_hooks_installed ? trace_hooks_installed() : NULL;
}

/* The lock figures of this process: the interpreter lock of a linetrace
 * build, else every instrumented lock of the workload merged. */
static void own_locks(struct lockstat_summary *s)
{
	struct gil *g = interpreter_lock();
	memset(s, 0, sizeof *s);
	if (g) {
		gil_stats(g, s);
		return;
	}
	struct lockstat_summary all[LOCKSTAT_MAX_CLASSES];
	size_t n = lockstat_snapshot_all(all, LOCKSTAT_MAX_CLASSES);
	for (size_t i = 0; i < n && i < LOCKSTAT_MAX_CLASSES; i++)
		lockstat_merge(s, &all[i]);
	snprintf(s->name, sizeof s->name, "%s", n == 1 ? all[0].name : "workload locks");
}

static int lock_start(const struct probe_config *c, void **state, errbuf *e)
{
	struct lock_state *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "out of memory for the lock probe");
	s->workers = c && c->workers > 0 ? c->workers : 1;
	lockstat_reset();
	*state = s;
	return 0;
}

static int lock_stop(void *state, json_t *rep, errbuf *e)
{
	struct lock_state *st = state;
	struct lockstat_summary s;
	struct gil *g = interpreter_lock();
	(void)e;
	own_locks(&s);
	lockstat_merge(&s, &st->from_workers);
	if (!g && !s.acquisitions)
		return 0; /* the workload took no instrumented lock */
	double wall = json_number_value(json_object_get(rep, "wall_s"));
	json_t *j = lockstat_summary_json(&s, wall * st->workers);
	if (j) {
		if (g)
			json_object_set_new(j, "model",
					    json_string(lock_model_name(gil_model(g))));
		json_object_set_new(rep, "lock", j);
	}
	return 0;
}

static void lock_release(void *state)
{
	free(state);
}

/* buf may be unaligned (it follows a frame header): copy, not cast. */
static size_t lock_worker_report(void *buf, size_t max)
{
	struct lockstat_summary s;
	if (sizeof s > max)
		return 0;
	own_locks(&s);
	memcpy(buf, &s, sizeof s);
	return sizeof s;
}

static void lock_collect(void *state, const void *buf, size_t len)
{
	struct lock_state *st = state;
	struct lockstat_summary s;
	if (len != sizeof s)
		return;
	memcpy(&s, buf, sizeof s);
	lockstat_merge(&st->from_workers, &s);
}

/* config["lock"] (the medians) is made with the other rep fields by
 * summary.c; nothing of its own to summarise. */
const struct probe_ops probe_lock = {
	.name = "lock",
	.start = lock_start,
	.stop = lock_stop,
	.release = lock_release,
	.worker_report = lock_worker_report,
	.collect = lock_collect,
};
