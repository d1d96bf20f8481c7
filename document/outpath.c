/* outpath.c - see outpath.h. */
#include "document/outpath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* "NAME<suffix>" beside path, NAME shortened so the whole fits NAME_MAX;
 * the directory as given: "x.json" stays relative, like path. */
static void beside(const char *path, const char *suffix, char *buf, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX];
	split(path, dir, base, sizeof dir);
	long max = name_max(dir);
	size_t keep = strlen(base), n = strlen(suffix);
	if ((long)(keep + n) > max)
		keep = max > (long)n ? (size_t)max - n : 0;
	if (strchr(path, '/'))
		snprintf(buf, len, "%s/%.*s%s", dir, (int)keep, base, suffix);
	else
		snprintf(buf, len, "%.*s%s", (int)keep, base, suffix);
}

void outpath_temp_name(const char *path, const char *tag, char *buf,
		       size_t len)
{
	char suffix[128];
	snprintf(suffix, sizeof suffix, ".tmp.%s", tag);
	beside(path, suffix, buf, len);
}

int outpath_remove_stale_temps(const char *path)
{
	char dir[PATH_MAX], prefix[PATH_MAX], tmp[PATH_MAX];
	outpath_temp_name(path, "", tmp, sizeof tmp);
	split(tmp, dir, prefix, sizeof dir);
	size_t n = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *de;
	int removed = 0;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, n))
			continue;
		char *end;
		long pid = strtol(de->d_name + n, &end, 10);
		/* mkstemp's names carry no pid: whose they are is unknown */
		if (end == de->d_name + n || *end != '.' || pid <= 0 || pid == getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		removed += unlinkat(dirfd(d), de->d_name, 0) == 0;
	}
	if (d)
		closedir(d);
	return removed;
}

int outpath_reserve(char *path, size_t len, errbuf *e)
{
	char first[PATH_MAX], stem[PATH_MAX];
	const char *ext;
	snprintf(first, sizeof first, "%s", path);
	ext = strrchr(first, '.');
	if (!ext || strchr(ext, '/'))
		ext = first + strlen(first);
	snprintf(stem, sizeof stem, "%.*s", (int)(ext - first), first);
	for (unsigned n = 1; n <= 999; n++) {
		if (n > 1 && snprintf(path, len, "%s-%u%s", stem, n, ext) >= (int)len)
			break;
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			      O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return errf(e, "cannot write results to '%s': %s",
				    path, strerror(errno));
	}
	snprintf(path, len, "%s", first);
	return errf(e, "cannot write results to '%s': it and 998 names like "
		    "it exist already", first);
}

/* The pid the holder wrote into the lock, or 0. */
static long holder_of(int fd)
{
	char buf[32] = "";
	ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
	buf[k > 0 ? k : 0] = 0;
	return strtol(buf, NULL, 10);
}

int outpath_lock(const char *path, struct outpath_lock *l, errbuf *e)
{
	struct stat a, b;
	l->fd = -1;
	beside(path, ".lock", l->name, sizeof l->name);
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(l->name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			      0644);
		if (fd < 0)
			return errf(e, "cannot lock '%s' (%s): %s", path,
				    l->name, strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = errno;
			long pid = err == EWOULDBLOCK ? holder_of(fd) : 0;
			close(fd);
			if (err != EWOULDBLOCK)
				return errf(e, "cannot lock '%s' (%s): %s", path,
					    l->name, strerror(err));
			char who[48] = "";
			if (pid > 0)
				snprintf(who, sizeof who, " (pid %ld)", pid);
			return errf(e, "'%s' is being written by another contend%s "
				    "still running; give another --out, or wait "
				    "for it to finish", path, who);
		}
		/* the holder before us may have removed the name as we opened
		 * it: a lock on a removed file keeps nobody out */
		if (fstat(fd, &a) == 0 && stat(l->name, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			char pid[32];
			int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0)
				pid[0] = 0; /* the lock holds without it */
			l->fd = fd;
			return 0;
		}
		close(fd);
	}
	return errf(e, "cannot lock '%s' (%s): it keeps being replaced", path,
		    l->name);
}

void outpath_unlock(struct outpath_lock *l)
{
	if (l->fd < 0)
		return;
	unlink(l->name); /* while held: see outpath_lock */
	close(l->fd);
	l->fd = -1;
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
