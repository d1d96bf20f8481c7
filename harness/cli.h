/* cli.h - parsing of command-line values shared by every verb.
 *
 * Worker lists, name lists and bounded numbers are parsed here once, with
 * the one-line errors the CLI promises ("workers: '0' must be 1..1024"). */
#ifndef CONTEND_CLI_H
#define CONTEND_CLI_H

#include <stddef.h>

#include "common/err.h"

#define CLI_LIST_MAX 64
#define WORKERS_MAX 1024

/* "1,2,4" or "1-4" (every value) or "1,2,4-8"; each in [min, max];
 * duplicates rejected; order kept. */
int cli_int_list(const char *what, const char *text, int min, int max,
		 int *out, size_t *n, errbuf *e);

/* "serial,thread" split on commas into at most CLI_LIST_MAX names, each
 * checked against allowed[] (NULL-terminated) when allowed is non-NULL. */
int cli_name_list(const char *what, const char *text,
		  const char *const *allowed, char out[][32], size_t *n,
		  errbuf *e);

/* The sweep options every measuring verb (run, exec) shares, with one set
 * of bounds: --workers 1..WORKERS_MAX, --reps 1..1000, --warmup 0..100. */
int cli_workers(const char *text, int *out, size_t *n, errbuf *e);
int cli_reps(const char *text, long *out, errbuf *e);
int cli_warmup(const char *text, long *out, errbuf *e);
/* --order: *out becomes the static string "random" or "sequential". */
int cli_order(const char *text, const char **out, errbuf *e);
/* --seed: 0..LONG_MAX. */
int cli_seed(const char *text, long long *out, errbuf *e);

int cli_int(const char *what, const char *text, long min, long max,
	    long *out, errbuf *e);
int cli_double(const char *what, const char *text, double min, double max,
	       double *out, errbuf *e);

#endif
