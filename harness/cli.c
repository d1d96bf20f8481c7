/* cli.c - command-line value parsing (see cli.h).
 *
 * strtol/strtod with full-string checks: "4x", "", "1e99" and "-1" are
 * errors with the option's name in the message, never silently clamped. */
#include "harness/cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_int(const char *what, const char *text, long min, long max,
	    long *out, errbuf *e)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (!*text || errno == ERANGE || *end)
		return errf(e, "%s: '%s' is not a whole number", what, text);
	if (v < min || v > max)
		return errf(e, "%s: %ld is out of range (%ld..%ld)", what, v,
			    min, max);
	*out = v;
	return 0;
}

int cli_double(const char *what, const char *text, double min, double max,
	       double *out, errbuf *e)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (!*text || errno == ERANGE || *end || !isfinite(v))
		return errf(e, "%s: '%s' is not a number", what, text);
	if (v < min || v > max)
		return errf(e, "%s: %g is out of range (%g..%g)", what, v, min,
			    max);
	*out = v;
	return 0;
}

static int add_unique(const char *what, int v, int *out, size_t *n,
		      errbuf *e)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == v)
			return errf(e, "%s: %d given twice", what, v);
	if (*n == CLI_LIST_MAX)
		return errf(e, "%s: more than %d values", what, CLI_LIST_MAX);
	out[(*n)++] = v;
	return 0;
}

static int parse_item(const char *what, char *item, int min, int max,
		      int *out, size_t *n, errbuf *e)
{
	long lo, hi;
	char *dash = strchr(item + 1, '-'); /* item+1: allow "-3" to fail below */
	if (dash) {
		*dash = 0;
		if (cli_int(what, item, min, max, &lo, e) ||
		    cli_int(what, dash + 1, min, max, &hi, e))
			return -1;
		if (hi < lo)
			return errf(e, "%s: range %ld-%ld is backwards", what,
				    lo, hi);
	} else {
		if (cli_int(what, item, min, max, &lo, e))
			return -1;
		hi = lo;
	}
	for (long v = lo; v <= hi; v++)
		if (add_unique(what, (int)v, out, n, e))
			return -1;
	return 0;
}

int cli_int_list(const char *what, const char *text, int min, int max,
		 int *out, size_t *n, errbuf *e)
{
	*n = 0;
	if (!text || !*text)
		return errf(e, "%s: empty list", what);
	char *copy = strdup(text), *save = NULL;
	if (!copy)
		return errf(e, "out of memory");
	int rc = 0;
	if (text[strlen(text) - 1] == ',' || text[0] == ',' || strstr(text, ",,"))
		rc = errf(e, "%s: empty item in '%s'", what, text);
	for (char *t = strtok_r(copy, ",", &save); t && !rc;
	     t = strtok_r(NULL, ",", &save))
		rc = parse_item(what, t, min, max, out, n, e);
	free(copy);
	return rc;
}

static int allowed_name(const char *const *allowed, const char *name)
{
	if (!allowed)
		return 1;
	for (; *allowed; allowed++)
		if (!strcmp(*allowed, name))
			return 1;
	return 0;
}

int cli_name_list(const char *what, const char *text,
		  const char *const *allowed, char out[][32], size_t *n,
		  errbuf *e)
{
	*n = 0;
	if (!text || !*text)
		return errf(e, "%s: empty list", what);
	const char *p = text;
	for (;;) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= 32)
			return errf(e, "%s: bad item in '%s'", what, text);
		if (*n == CLI_LIST_MAX)
			return errf(e, "%s: too many items", what);
		memcpy(out[*n], p, len);
		out[*n][len] = 0;
		if (!allowed_name(allowed, out[*n]))
			return errf(e, "%s: unknown '%s'", what, out[*n]);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(out[i], out[*n]))
				return errf(e, "%s: '%s' given twice", what,
					    out[*n]);
		(*n)++;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int cli_workers(const char *text, int *out, size_t *n, errbuf *e)
{
	return cli_int_list("--workers", text, 1, WORKERS_MAX, out, n, e);
}

int cli_reps(const char *text, long *out, errbuf *e)
{
	return cli_int("--reps", text, 1, 1000, out, e);
}

int cli_warmup(const char *text, long *out, errbuf *e)
{
	return cli_int("--warmup", text, 0, 100, out, e);
}

int cli_order(const char *text, const char **out, errbuf *e)
{
	static const char *const modes[] = {"random", "sequential", NULL};
	char one[CLI_LIST_MAX][32];
	size_t n;
	if (cli_name_list("--order", text, modes, one, &n, e))
		return -1;
	if (n != 1)
		return errf(e, "--order: give one of random, sequential");
	*out = !strcmp(one[0], "sequential") ? modes[1] : modes[0];
	return 0;
}

int cli_seed(const char *text, long long *out, errbuf *e)
{
	long v;
	if (cli_int("--seed", text, 0, LONG_MAX, &v, e))
		return -1;
	*out = v;
	return 0;
}
