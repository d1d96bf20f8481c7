/* pool_common.h - internals shared by the pool implementations.
 *
 * Per-worker slots live on their own cache lines so that workers updating
 * their counters never share a line (will-it-scale's lesson). */
#ifndef CONTEND_POOL_COMMON_H
#define CONTEND_POOL_COMMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "pools/pool.h"

struct pool_slot {
	_Atomic uint64_t start_ns; /* 0 when idle: read by the watchdog */
	_Atomic long task;
	uint64_t tasks_done;
	uint64_t busy_ns;
} __attribute__((aligned(64)));

uint64_t pool_now_ns(void);
/* 1 when a task that started at start_ns (0 = idle) has run longer than
 * timeout_ns by now_ns. A start stamped after now_ns was read is not
 * overdue: unsigned now - start would wrap to ~584 years. */
int pool_slot_overdue(uint64_t start_ns, uint64_t now_ns, uint64_t timeout_ns);
int pool_result_valid(const struct task_result *r);

struct watchdog;
/* NULL when no timeout is set (nothing to watch). */
struct watchdog *watchdog_start(const struct pool_opts *o,
				struct pool_slot *slots, int nslots);
void watchdog_stop(struct watchdog *wd);

#endif
