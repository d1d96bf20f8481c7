/* safefile.h - files written into directories someone else may write to
 * (a --plots directory, a dashboard site).
 *
 * A planted symlink or hard link under one of our names must never be
 * written through: every file is created by us with O_CREAT|O_EXCL|
 * O_NOFOLLOW relative to a directory descriptor, under a temporary name,
 * and renamed over its name only when complete (rename replaces a planted
 * link itself, never what it points to). Programs that write the content
 * (gnuplot) are handed the open descriptor, never a name to open. */
#ifndef CONTEND_SAFEFILE_H
#define CONTEND_SAFEFILE_H

#include <limits.h>

#include "common/err.h"

struct safefile {
	int dirfd; /* borrowed */
	int fd;	   /* the temporary file, O_CLOEXEC; -1 once committed */
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
};

/* Open base (created if missing; base itself may be a symlink: it is the
 * user's choice) and below it each component of `below` ("a/b", or NULL
 * or "" for base itself), creating each, refusing any that is a symlink or
 * not a directory, so nothing lands outside base. *dirfd is O_DIRECTORY |
 * O_CLOEXEC; the caller closes it. */
int safefile_opendir(const char *base, const char *below, int *dirfd,
		     errbuf *e);

/* Create a fresh temporary file in dirfd for `name` (a plain name, no '/'). */
int safefile_create(int dirfd, const char *name, struct safefile *sf,
		    errbuf *e);

/* Close the temporary file and rename it over its name. On failure the
 * temporary file is removed. */
int safefile_commit(struct safefile *sf, errbuf *e);

/* Close and remove the temporary file (no-op once committed). */
void safefile_discard(struct safefile *sf);

/* Create `name` in dirfd afresh for writing: whatever is under the name
 * (a file, a planted link) is unlinked first, then the name is created
 * with O_EXCL|O_NOFOLLOW, so a link planted in between fails the open
 * instead of being followed. For intermediate files a reader takes by
 * name (gnuplot's data files), where atomic replacement is not needed.
 * Returns the fd (O_CLOEXEC) or -1 with e set. */
int safefile_fresh(int dirfd, const char *name, errbuf *e);

#endif
