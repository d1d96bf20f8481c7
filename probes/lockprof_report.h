/* lockprof_report.h - reads the per-process reports that the LD_PRELOAD lock
 * profiler (bin/libcontend-lockprof.so) writes, and merges them into one
 * summary for `contend exec` and the results document.
 *
 * Merging across processes. Lock addresses mean nothing across processes
 * (ASLR), so locks are merged by lock class: kind plus the call site where
 * it waited most ("take_gil+0x5e (python3.11)"); every process of a pool
 * then adds to the same entry. A lock never contended has no call site and
 * is merged by kind, address and executable (right for fork children, which
 * share addresses with their parent). Call sites merge by their symbolic
 * location. A report that cannot be read or is not a lock profile is
 * skipped and named in "skipped", never fatal.
 *
 * Summary (all times in seconds):
 *   { "schema": "contend-lockprof-summary/1", "dir", "processes",
 *     "wait_s" (lock + cond), "lock_wait_s", "cond_wait_s", "acquisitions",
 *     "contended", "cond_waits", "locks", "untracked_ops",
 *     "top_locks": [ { "kind", "site", "processes", "locks", "acquisitions",
 *         "contended", "timeouts", "wait_s", "max_wait_s",
 *         "sites": [ { "where", "symbol", "object", "count", "wait_s",
 *                      "frames": [...] } ] } ],
 *     "process_list": [ { "pid", "ppid", "argv0", "wall_s", "wait_s" } ],
 *     "skipped": [ { "file", "reason" } ], "notes": [ "..." ] }
 * For kind "cond", contended counts every wait, acquisitions the waits
 * that were signalled, timeouts those that timed out. */
#ifndef CONTEND_LOCKPROF_REPORT_H
#define CONTEND_LOCKPROF_REPORT_H

#include <jansson.h>

#include "common/err.h"

#define LOCKPROF_TOP_DEFAULT 10
#define LOCKPROF_SCHEMA "contend-lockprof/1"
#define LOCKPROF_SUMMARY_SCHEMA "contend-lockprof-summary/1"
#define LOCKPROF_DIR_ENV "CONTEND_LOCKPROF_DIR"

/* Merge every report (*.json) in dir; top LOCKPROF_TOP_DEFAULT locks.
 * -1 only when dir itself cannot be read; an empty dir gives processes 0.
 * On success *summary is a new reference. */
int lockprof_merge_dir(const char *dir, json_t **summary, errbuf *e);

/* The same with the number of locks to list (top_n >= 1). */
int lockprof_merge_dir_top(const char *dir, int top_n, json_t **summary, errbuf *e);

/* 0 if doc has the shape of one process's report, else -1 with the reason. */
int lockprof_check_report(const json_t *doc, errbuf *e);

#endif
