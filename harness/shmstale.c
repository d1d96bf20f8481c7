/* shmstale.c - removes /dev/shm files of killed runs (shmstale.h). */
#include "harness/shmstale.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_GROUPS 4096 /* distinct groups counted; more are still removed */

/* "contend-<pgid>-..." -> pgid, else 0. */
static pid_t owner_group(const char *name)
{
	static const char prefix[] = "contend-";
	if (strncmp(name, prefix, sizeof prefix - 1))
		return 0;
	char *end;
	long v = strtol(name + sizeof prefix - 1, &end, 10);
	if (end == name + sizeof prefix - 1 || *end != '-' || v <= 1 || v > 1L << 30)
		return 0;
	return (pid_t)v;
}

/* No process is left in the group: kill() finds none. EPERM means one
 * lives (another user's): not stale. */
static int group_gone(pid_t pgid)
{
	return kill(-pgid, 0) < 0 && errno == ESRCH;
}

static void count_group(pid_t *seen, size_t *n, pid_t g)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i] == g)
			return;
	if (*n < MAX_GROUPS)
		seen[(*n)++] = g;
}

int shmstale_sweep(const char *dir, struct shm_stale *out, errbuf *e)
{
	memset(out, 0, sizeof *out);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	pid_t *seen = malloc(MAX_GROUPS * sizeof *seen);
	if (!seen) {
		closedir(d);
		return errf(e, "out of memory");
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		pid_t g = owner_group(de->d_name);
		struct stat st;
		if (!g || !group_gone(g) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    unlinkat(dirfd(d), de->d_name, 0) < 0)
			continue;
		out->files++;
		out->bytes += (unsigned long long)st.st_size;
		count_group(seen, &out->groups, g);
	}
	free(seen);
	closedir(d);
	return 0;
}
