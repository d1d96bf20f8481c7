/* threads.h - a thread census from /proc: the threads of one process and
 * of a whole process tree, so the dueling-pools story can be counted
 * (every OpenBLAS in every worker process starts its own pool). */
#ifndef CONTEND_THREADS_H
#define CONTEND_THREADS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* How descendants are found. /proc/<pid>/task/<tid>/children needs
 * CONFIG_PROC_CHILDREN; scanning every /proc/<pid>/stat for its parent
 * works everywhere but costs one read per process on the machine. */
enum threads_walk {
	THREADS_WALK_AUTO = 0,	   /* children files if present, else scan */
	THREADS_WALK_CHILDREN,
	THREADS_WALK_SCAN,
};

struct thread_census {
	long processes; /* root plus descendants still alive */
	long threads;	/* their threads, summed */
};

/* Threads of one process: the entries of /proc/<pid>/task. */
int threads_count(pid_t pid, long *out, errbuf *e);

/* Parent of pid from /proc/<pid>/stat. */
int threads_parent(pid_t pid, pid_t *out, errbuf *e);

/* Direct children of pid, found by `walk`; *kids is malloc'd (free it).
 * THREADS_WALK_CHILDREN fails when the kernel lacks the children files. */
int threads_children(pid_t pid, enum threads_walk walk, pid_t **kids,
		     size_t *n, errbuf *e);

/* root and every descendant: how many processes, how many threads.
 * Processes that exit during the walk are skipped, not errors; only a
 * missing root is. */
int threads_census(pid_t root, enum threads_walk walk,
		   struct thread_census *out, errbuf *e);

#endif
