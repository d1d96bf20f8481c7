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

/* Write text to a STREAM path (O_APPEND: a regular file reached through
 * /dev/stdout is not overwritten from its start). */
int outpath_write_stream(const char *path, const char *text, size_t len,
			 errbuf *e);

#endif
