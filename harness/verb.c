/* verb.c - the command-line convention shared by every verb (verb.h). */
#include "harness/verb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int verb_error(const char *verb, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "contend %s: ", verb);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return code;
}

int verb_fail(const char *verb, int code, const errbuf *e)
{
	return verb_error(verb, code, "%s", e->msg);
}

/* The option as the user typed it: a long option's name up to '=', or the
 * short letter getopt left in optopt. */
static void bad_option(const char *verb, int argc, char **argv, int missing)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	char name[128];
	if (optopt && (!arg || strncmp(arg, "--", 2)))
		snprintf(name, sizeof name, "-%c", optopt);
	else
		snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
	if (missing)
		verb_error(verb, EXIT_USAGE, "option '%s' needs a value (see "
			   "'contend %s --help')", name, verb);
	else
		verb_error(verb, EXIT_USAGE, "unknown option '%s' (see "
			   "'contend %s --help')", name, verb);
}

int verb_getopt(const char *verb, int argc, char **argv, const char *shorts,
		const struct option *longopts)
{
	opterr = 0;
	/* A leading ':' (after a '+', which keeps POSIX order) makes getopt
	 * tell a missing value (':') from an unknown option ('?'). */
	char spec[64];
	const char *s = shorts;
	size_t k = 0;
	if (*s == '+')
		spec[k++] = *s++;
	spec[k++] = ':';
	snprintf(spec + k, sizeof spec - k, "%s", s);
	optopt = 0;
	int c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c == '?' || c == ':') {
		bad_option(verb, argc, argv, c == ':');
		return '?';
	}
	return c;
}
