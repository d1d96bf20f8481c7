/* outpath.c - see outpath.h. */
#include "document/outpath.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void split(const char *path, char *dir, char *base, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof a, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	snprintf(dir, len, "%s", dirname(a));
	snprintf(base, len, "%s", basename(b));
}

static int has_prefix_dir(const char *p, const char *d)
{
	size_t n = strlen(d);
	return !strncmp(p, d, n) && (p[n] == 0 || p[n] == '/');
}

/* Names in /dev and /proc are the system's, whatever they point at
 * (/dev/stdout may reach a regular file): never replaced. */
static int system_dir(const char *dir)
{
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return 0;
	return has_prefix_dir(real, "/dev") || has_prefix_dir(real, "/proc");
}

static long name_max(const char *dir)
{
	long n = pathconf(dir, _PC_NAME_MAX);
	return n > 0 ? n : NAME_MAX;
}

int outpath_kind(const char *path, errbuf *e)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct stat st;
	split(path, dir, base, sizeof dir);
	long max = name_max(dir);
	if ((long)strlen(base) > max)
		return errf(e, "cannot write results to '%s': the file name is "
			    "%zu bytes long, the file system allows %ld",
			    path, strlen(base), max);
	if (stat(path, &st) == 0) {
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return OUTPATH_STREAM;
		if (S_ISBLK(st.st_mode))
			return errf(e, "cannot write results to '%s': it is a "
				    "block device", path);
		if (S_ISSOCK(st.st_mode))
			return errf(e, "cannot write results to '%s': it is a "
				    "socket", path);
	}
	return system_dir(dir) ? OUTPATH_STREAM : OUTPATH_FILE;
}

void outpath_temp_name(const char *path, const char *tag, char *buf,
		       size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX];
	split(path, dir, base, sizeof dir);
	size_t suffix = strlen(".tmp.") + strlen(tag);
	long max = name_max(dir);
	size_t keep = strlen(base);
	if ((long)(keep + suffix) > max)
		keep = max > (long)suffix ? (size_t)max - suffix : 0;
	/* the directory as given: "x.json" stays relative, like path */
	if (strchr(path, '/'))
		snprintf(buf, len, "%s/%.*s.tmp.%s", dir, (int)keep, base, tag);
	else
		snprintf(buf, len, "%.*s.tmp.%s", (int)keep, base, tag);
}

int outpath_write_stream(const char *path, const char *text, size_t len,
			 errbuf *e)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errf(e, "cannot write results to '%s': %s", path,
			    strerror(errno));
	int err = 0;
	while (len && !err) {
		ssize_t k = write(fd, text, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			err = errno;
		else {
			text += k;
			len -= (size_t)k;
		}
	}
	if (close(fd) < 0 && !err && errno != EINTR)
		err = errno;
	if (err)
		return errf(e, "cannot write results to '%s': %s", path,
			    strerror(err));
	return 0;
}
