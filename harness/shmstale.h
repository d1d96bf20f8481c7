/* shmstale.h - /dev/shm files of runs that were killed.
 *
 * A runner names its shared-memory files after its process group
 * (/dev/shm/contend-<pgid>-..., bench/dmatrix.c), and the sweep removes
 * them when it reaps the runner (sweep.c). A kill -9 of the sweep leaves
 * them behind: its runners die with it and nobody reaps them. So every
 * run first removes such files whose process group no longer exists; a
 * live group's files (a run going on, maybe another user's: only our own
 * files are touched) are never removed. */
#ifndef CONTEND_SHMSTALE_H
#define CONTEND_SHMSTALE_H

#include <stddef.h>

#include "common/err.h"

#define SHMSTALE_DIR "/dev/shm"

struct shm_stale {
	size_t files;	    /* removed */
	size_t groups;	    /* distinct dead process groups they came from */
	unsigned long long bytes;
};

/* Remove dir/contend-<pgid>-* regular files of ours whose group pgid has
 * no process left. A directory that cannot be read is not an error (no
 * /dev/shm: nothing to clean). */
int shmstale_sweep(const char *dir, struct shm_stale *out, errbuf *e);

#endif
