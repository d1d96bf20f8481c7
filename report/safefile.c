/* safefile.c - files created by us, never through a planted link
 * (safefile.h). */
#include "report/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *dir, errbuf *e)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
		return errf(e, "cannot create '%s': name too long", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return errf(e, "cannot create '%s': %s", tmp,
				    strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return errf(e, "cannot create '%s': %s", tmp, strerror(errno));
	return 0;
}

/* One component below an open directory: made if missing, then opened
 * with O_NOFOLLOW so a planted symlink is refused, not followed. */
static int open_below(int at, const char *base, const char *comp, int *out,
		      errbuf *e)
{
	if (mkdirat(at, comp, 0755) < 0 && errno != EEXIST)
		return errf(e, "cannot create '%s/%s': %s", base, comp,
			    strerror(errno));
	int fd = openat(at, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		struct stat st;
		if (fstatat(at, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			return errf(e, "refusing '%s/%s': it is a symbolic link "
				    "(plots would land outside '%s')", base,
				    comp, base);
		return errf(e, "cannot open '%s/%s': %s", base, comp,
			    err == ENOTDIR ? "not a directory" : strerror(err));
	}
	*out = fd;
	return 0;
}

int safefile_opendir(const char *base, const char *below, int *dirfd,
		     errbuf *e)
{
	if (mkdir_p(base, e))
		return -1;
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errf(e, "cannot open '%s': %s", base, strerror(errno));
	char rest[PATH_MAX], *save = NULL;
	snprintf(rest, sizeof rest, "%s", below ? below : "");
	for (char *c = strtok_r(rest, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = -1;
		if (!strcmp(c, ".") || !strcmp(c, "..")) {
			close(fd);
			return errf(e, "refusing '%s' below '%s'", below, base);
		}
		if (open_below(fd, base, c, &next, e)) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	*dirfd = fd;
	return 0;
}

/* A name nobody can guess: ".NAME.tmp.XXXXXXXX" (shortened to fit). */
static void tmp_name(const char *name, char *out, size_t len)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned counter;
	unsigned char r[8] = {0};
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		/* O_EXCL makes any name safe; this only keeps them apart */
		uint64_t v = ((uint64_t)getpid() << 20) ^ ++counter;
		memcpy(r, &v, sizeof r);
	}
	char suffix[9];
	for (size_t i = 0; i < 8; i++)
		suffix[i] = digits[r[i] % (sizeof digits - 1)];
	suffix[8] = 0;
	int keep = (int)(len - 1 - strlen(".") - strlen(".tmp.") - 8);
	snprintf(out, len, ".%.*s.tmp.%s", keep, name, suffix);
}

int safefile_create(int dirfd, const char *name, struct safefile *sf,
		    errbuf *e)
{
	sf->dirfd = dirfd;
	sf->fd = -1;
	if (snprintf(sf->name, sizeof sf->name, "%s", name) >= (int)sizeof sf->name ||
	    strchr(name, '/'))
		return errf(e, "bad file name '%s'", name);
	for (int tries = 0; tries < 100; tries++) {
		tmp_name(name, sf->tmp, sizeof sf->tmp);
		sf->fd = openat(dirfd, sf->tmp, O_WRONLY | O_CREAT | O_EXCL |
				O_NOFOLLOW | O_CLOEXEC, 0644);
		if (sf->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return errf(e, "cannot create a file for '%s': %s", name, strerror(errno));
}

int safefile_commit(struct safefile *sf, errbuf *e)
{
	int rc = close(sf->fd);
	sf->fd = -1;
	if (rc == 0 && renameat(sf->dirfd, sf->tmp, sf->dirfd, sf->name) == 0)
		return 0;
	int err = errno;
	unlinkat(sf->dirfd, sf->tmp, 0);
	return errf(e, "cannot write '%s': %s", sf->name, strerror(err));
}

void safefile_discard(struct safefile *sf)
{
	if (sf->fd < 0)
		return;
	close(sf->fd);
	sf->fd = -1;
	unlinkat(sf->dirfd, sf->tmp, 0);
}

int safefile_fresh(int dirfd, const char *name, errbuf *e)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return errf(e, "cannot replace '%s': %s", name, strerror(errno));
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, 0644);
	if (fd < 0)
		return errf(e, "cannot write '%s': %s", name, strerror(errno));
	return fd;
}
