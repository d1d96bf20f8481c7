/* enospc.c - LD_PRELOAD shim for the fault suite: write() to a regular
 * file under $FAULT_ENOSPC_DIR fails with ENOSPC, as on a full disk.
 *
 * The fallback where a small tmpfs cannot be mounted (no root, no mount
 * namespace). Only write() is wrapped: contend writes its results
 * document with write(2) itself (document/results.c); everything else
 * (pipes, terminals, files elsewhere) goes to the real write. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

/* Is fd a regular file inside dir? /proc/self/fd names it, also when it
 * is an unnamed O_TMPFILE ("dir/#123 (deleted)"). */
static int in_full_dir(int fd, const char *dir)
{
	char link[64], target[PATH_MAX];
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n <= 0)
		return 0;
	target[n] = 0;
	size_t len = strlen(dir);
	return !strncmp(target, dir, len) && target[len] == '/';
}

ssize_t write(int fd, const void *buf, size_t count)
{
	static write_fn real;
	if (!real)
		real = (write_fn)dlsym(RTLD_NEXT, "write");
	const char *dir = getenv("FAULT_ENOSPC_DIR");
	if (dir && *dir && in_full_dir(fd, dir)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, count);
}
