/* jsonfile.h - reading JSON files other tools wrote.
 *
 * Google Benchmark writes NaN (the cv of a counter whose mean is 0) and
 * Infinity as bare tokens. JSON has no such values and jansson refuses
 * them, so a whole night's benchmark file would be unreadable. */
#ifndef CONTEND_JSONFILE_H
#define CONTEND_JSONFILE_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

/* Open path for reading, refusing what is not a regular file: a FIFO
 * would block a report forever, a device would be read without end.
 * The fd (O_CLOEXEC), or -1 with e saying why. */
int jsonfile_open_regular(const char *path, errbuf *e);

/* Parse `path` with jansson `flags`. A file jansson refuses is parsed once
 * more with every bare NaN, Infinity and -Infinity outside a string read
 * as null (a figure the writer could not compute). NULL on failure, with
 * je as jansson set it on the first attempt (or the reason the file could
 * not be opened: not a regular file). */
json_t *jsonfile_load(const char *path, size_t flags, json_error_t *je);

/* The rewrite itself: a malloc'd copy of text[0..len) with those tokens
 * replaced by null, its length in *out_len; NULL when out of memory. */
char *jsonfile_nonfinite_to_null(const char *text, size_t len, size_t *out_len);

#endif
