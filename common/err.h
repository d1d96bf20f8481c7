/* err.h - one error type for the whole code base.
 *
 * Functions that can fail return -1 and fill an errbuf with a one-line,
 * user-facing message; only the command layer (cmd_*.c) prints it. This
 * keeps deep code free of fprintf(stderr) and makes errors testable. */
#ifndef CONTEND_ERR_H
#define CONTEND_ERR_H

#include <stddef.h>

typedef struct errbuf {
	char msg[512];
} errbuf;

/* Format a message into e (if non-NULL) and return -1, so callers can write
 * `return errf(e, "bad value '%s'", v);`. */
int errf(errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message: "context: old message". Returns -1. */
int errprefix(errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Exit statuses shared by every command. */
enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,	  /* a gate tripped: regression, hook found, ... */
	EXIT_USAGE = 2,	  /* bad input: options, files, values */
	EXIT_RUNTIME = 3, /* the work failed: I/O, database, a program */
	EXIT_INTERRUPTED = 130,
};

#endif
