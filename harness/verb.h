/* verb.h - the one command-line convention every verb follows.
 *
 * Like git's parse-options: the same behaviour for the same situation in
 * every verb, so a user (or a script) learns it once.
 *   - errors are one line on stderr: "contend VERB: message";
 *   - an unknown option or a missing option value is bad input (exit 2),
 *     reported by verb_getopt, never by getopt's own "prog: ..." text;
 *   - bad input (options, files, values) exits EXIT_USAGE (2); a failure
 *     while doing the work (a database, a write, a program that could not
 *     start) exits EXIT_RUNTIME (3); see common/err.h;
 *   - every --help lists "-h, --help" and an "exit status" section
 *     (VERB_EXIT_HELP is the common part). */
#ifndef CONTEND_VERB_H
#define CONTEND_VERB_H

#include <getopt.h>

#include "common/err.h"

#define VERB_EXIT_HELP                                                       \
	"exit status: 0 ok; 2 bad input (options, files, values); 3 a "      \
	"runtime failure\n"                                                  \
	"(I/O, database, a program that could not start); 130 interrupted\n"

/* getopt_long with the convention's messages: returns what getopt_long
 * returns; on an unknown option or a missing value it prints
 * "contend VERB: ..." and returns '?'. Resets optind on the first call
 * for argv (callers set optind = 1 before the loop as before). */
int verb_getopt(const char *verb, int argc, char **argv, const char *shorts,
		const struct option *longopts);

/* Print "contend VERB: message" and return code. */
int verb_error(const char *verb, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print "contend VERB: e->msg" and return code. */
int verb_fail(const char *verb, int code, const errbuf *e);

#endif
