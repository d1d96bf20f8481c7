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
 *     "top_locks": [ { "kind", "name", "identity", "named_by", "site",
 *         "processes", "locks", "acquisitions", "contended", "timeouts",
 *         "wait_s", "max_wait_s",
 *         "module", "module_where", "module_share", "modules": [...],
 *         "stacks": [...], "stacked_wait_s", "other_stacks_count",
 *         "sites": [ { "where", "symbol", "object", "count", "wait_s",
 *                      "frames": [...] } ] } ],
 *     "census": null | { ... },
 *     "process_list": [ { "pid", "ppid", "argv0", "exe", "wall_s", "wait_s",
 *         "unwinder", "threads_created", "peak_threads", "threads_at_exit",
 *         "cores_allowed", "pools": [ { "library", "kind", "threads",
 *         "path" } ], "threads_by_creator": [ { "object", "where",
 *         "threads" } ] } ],
 *     "skipped": [ { "file", "reason" } ], "notes": [ "..." ] }
 * For kind "cond", contended counts every wait, acquisitions the waits
 * that were signalled, timeouts those that timed out.
 *
 * What a lock is (for the diagnosis; every field null when unknown):
 *   kind      the primitive: "mutex", "rwlock" or "cond" (unchanged).
 *   name      for people: "CPython interpreter lock (GIL)", "OpenBLAS
 *             thread server queue lock", "OpenBLAS memory allocator lock",
 *             "OpenBLAS thread pool lock", "OpenMP runtime (libgomp) lock",
 *             "glibc malloc arena lock", "jemalloc arena lock".
 *   identity  for programs, stable: "interpreter-lock", "openblas",
 *             "openmp", "malloc-arena".
 *   named_by  the evidence: "address inside _PyRuntime" (the lock lies in
 *             CPython's exported runtime object: 3.11's ceval.gil, 3.12's
 *             main interpreter), "call chain through PyEval_RestoreThread"
 *             (a wait made from python3.x or libpython within 4 frames of a GIL
 *             function: take_gil, drop_gil, PyEval_RestoreThread,
 *             PyEval_AcquireThread, PyEval_AcquireLock, PyGILState_Ensure,
 *             PyEval_SaveThread, PyEval_ReleaseThread), or "taken in
 *             libopenblas.so.0 by exec_blas_async" (the call site's object).
 *   The GIL's cond and its mutexes all carry the GIL's name: the cond is
 *   threads waiting for the GIL, the mutexes its internal hand-over.
 *   Not seen at all, whatever the name rules: glibc malloc's arena locks
 *   and libgomp's barriers (futexes inside libc/libgomp, never a pthread
 *   call), CPython's threading.Lock (a sem_t in 3.11).
 * Who takes it (from call stacks taken on contended waits only):
 *   module        path of the shared object (or program) of the first
 *                 frame outside the runtime (python*, libpython, libc,
 *                 libpthread, libdl, ld.so, the profiler) in the stacks
 *                 with the most wait: the code that keeps taking the lock,
 *                 e.g. ".../tracemod.cpython-311-x86_64-linux-gnu.so";
 *                 null when every frame was the runtime's (pure Python
 *                 threads) or no stack was taken.
 *   module_where  "function+0xoff (file)" of that frame, or "file+0xoff"
 *                 when the object has no symbols.
 *   module_share  that module's stacks' wait / the lock's wait_s (0..1).
 *   modules       [ { "object", "where", "symbol", "count", "wait_s",
 *                 "share" } ], every module seen, most waited first.
 *   stacks        top LOCKPROF_TOP_STACKS [ { "count", "wait_s", "frames":
 *                 ["where", ...] (call site first), "module": { "object",
 *                 "symbol", "offset", "where" } | null } ].
 *   stacked_wait_s  wait covered by stacks (< wait_s when more than 8
 *                 distinct stacks per lock per process: other_stacks_count).
 * The census (oversubscription evidence), merged over processes:
 *   { "processes" (that reported one), "programs_started" (those of them
 *     that began with an exec, not a fork: new programs, such as the
 *     interpreters a spawn or loky pool starts), "cores_online", "cores_allowed"
 *     (the smallest affinity mask seen), "threads_created" (through
 *     pthread_create, all processes), "max_peak_threads" (the largest
 *     number of live threads in one process),
 *     "pools": [ { "library" ("OpenBLAS", "libgomp", "MKL", "BLIS"),
 *         "kind" ("openblas", "openmp", "mkl", "blis"), "path", "version",
 *         "threading", "threads" (the largest size configured, asked from
 *         inside the process: openblas_get_num_threads,
 *         omp_get_max_threads, ...), "processes" (that loaded it) } ],
 *     "threads_by_creator": [ { "object" (path of the code that called
 *         pthread_create), "library" (its file name), "threads",
 *         "processes" } ] }, most threads first. */
#ifndef CONTEND_LOCKPROF_REPORT_H
#define CONTEND_LOCKPROF_REPORT_H

#include <jansson.h>

#include "common/err.h"

#define LOCKPROF_TOP_DEFAULT 10
#define LOCKPROF_TOP_STACKS 5
#define LOCKPROF_SCHEMA "contend-lockprof/1"
#define LOCKPROF_SUMMARY_SCHEMA "contend-lockprof-summary/1"
#define LOCKPROF_DIR_ENV "CONTEND_LOCKPROF_DIR"

/* Merge every report (*.json) in dir; top LOCKPROF_TOP_DEFAULT locks.
 * -1 only when dir itself cannot be read; an empty dir gives processes 0.
 * On success *summary is a new reference. */
int lockprof_merge_dir(const char *dir, json_t **summary, errbuf *e);

/* The same with the number of locks to list (top_n >= 1). */
int lockprof_merge_dir_top(const char *dir, int top_n, json_t **summary, errbuf *e);

/* For `exec`'s document: copy a merged lock's identity (name, identity,
 * named_by, module, module_where, module_share) and its top 3 stacks
 * ({count, wait_s, frames, module, module_where}) into entry. */
void lockprof_identity_fields(json_t *entry, const json_t *merged_lock);

/* The summary's census with a short process_list (at most 64 processes:
 * pid, ppid, argv0, exe, threads_created, peak_threads, threads_at_exit,
 * cores_allowed, pools, threads_by_creator) and a source; or {"available":
 * false, "reason"} when no process reported one. A new reference. */
json_t *lockprof_census_field(const json_t *summary);

/* 0 if doc has the shape of one process's report, else -1 with the reason. */
int lockprof_check_report(const json_t *doc, errbuf *e);

#endif
