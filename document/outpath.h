/* outpath.h - what an --out path is, before anything is measured.
 *
 * A results document normally replaces its path atomically (a temp file
 * in the same directory, then rename). That must never happen to a path
 * that is not a plain file: renaming over /dev/null as root replaces the
 * device for every user of the machine. Character devices, FIFOs and
 * anything under /dev or /proc (/dev/stdout, /dev/fd/N) are written as a
 * stream instead, once, when the document is final; other non-regular
 * files (block devices, sockets) are refused. */
#ifndef CONTEND_OUTPATH_H
#define CONTEND_OUTPATH_H

#include <stddef.h>

#include "common/err.h"

enum outpath_kind {
	OUTPATH_FILE,	/* replaced atomically */
	OUTPATH_STREAM, /* opened and written, never created or replaced */
};

/* The kind of path, or -1 (e refused: a block device, a socket, a name
 * longer than the file system allows). A path that does not exist is a
 * FILE unless it is under /dev or /proc. */
int outpath_kind(const char *path, errbuf *e);

/* A temp name beside path ("NAME.tmp.TAG"), NAME shortened when needed
 * so the whole name fits NAME_MAX. */
void outpath_temp_name(const char *path, const char *tag, char *buf,
		       size_t len);

/* Remove the temp names beside path ("NAME.tmp.PID.N") that a writer
 * killed between naming its finished replacement and renaming it left
 * behind: only those whose PID no longer runs (a live one may be
 * writing). Call with path's lock held. Returns how many it removed. */
int outpath_remove_stale_temps(const char *path);

/* Create path as a new, empty file (O_CREAT|O_EXCL), so no other run
 * can pick the name: when it exists, "STEM-2.EXT", "STEM-3.EXT", ... is
 * created instead and written back to path (len bytes). Two runs started
 * in the same second get two files. The atomic write later renames the
 * document over the reserved name. */
int outpath_reserve(char *path, size_t len, errbuf *e);

/* A run's hold on a FILE path: flock on "NAME.lock" beside it, taken
 * before the first write and kept to the last, so a second contend
 * naming the same --out is refused ("'x.json' is being written by
 * another contend (pid N) still running; ...") instead of each
 * replacing the other's document. A finished document may be replaced:
 * its run let go. The lock file holds the holder's pid and is removed on
 * unlock; one a killed run left behind is locked again as if new. */
struct outpath_lock {
	int fd;
	char name[4200];
};
int outpath_lock(const char *path, struct outpath_lock *l, errbuf *e);
void outpath_unlock(struct outpath_lock *l);

/* Write text to a STREAM path (O_APPEND: a regular file reached through
 * /dev/stdout is not overwritten from its start). */
int outpath_write_stream(const char *path, const char *text, size_t len,
			 errbuf *e);

#endif
