/* outcheck.c - see outcheck.h. */
#include "harness/outcheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

int outcheck_stdout(const char *verb, int rc)
{
	errno = 0;
	int flush_failed = fflush(stdout) == EOF;
	int err = errno;
	if (!flush_failed && !ferror(stdout))
		return rc;
	/* an earlier write failed: its errno is gone, a flush of nothing
	 * reports nothing */
	fprintf(stderr, "contend %s: cannot write to standard output: %s\n",
		verb, flush_failed && err ? strerror(err) : "write error");
	return rc != EXIT_OK && rc != EXIT_FOUND ? rc : EXIT_RUNTIME;
}
