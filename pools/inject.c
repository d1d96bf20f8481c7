/* inject.c - parsing of fault-injection requests (see inject.h).
 *
 * Kept out of the pools so the pools only see an enum and a task index. */
#include "pools/inject.h"

#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <stdlib.h>
#include "pools/pool.h"

static const char *const kinds[] = {
	[INJECT_NONE] = "none",	  [INJECT_SEGV] = "segv",
	[INJECT_ABORT] = "abort", [INJECT_KILL] = "kill",
	[INJECT_EXIT] = "exit",	  [INJECT_EXIT0] = "exit0",
	[INJECT_HANG] = "hang",	  [INJECT_GARBAGE] = "garbage",
	[INJECT_FAIL] = "fail",	  [INJECT_SLOWSTART] = "slowstart",
};

const char *inject_name(int kind)
{
	return kind >= 0 && (size_t)kind < sizeof kinds / sizeof kinds[0]
		       ? kinds[kind]
		       : "?";
}

int inject_parse(const char *text, int *kind, long *task, errbuf *e)
{
	const char *at = strchr(text, '@');
	if (!at)
		return errf(e, "--inject: expected KIND@TASK, got '%s'", text);
	size_t len = (size_t)(at - text);
	for (size_t k = 1; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (strlen(kinds[k]) == len && !strncmp(kinds[k], text, len)) {
			*kind = (int)k;
			char *end;
			errno = 0;
			long v = strtol(at + 1, &end, 10);
			if (!at[1] || errno == ERANGE || *end)
				return errf(e, "--inject task: '%s' is not a "
					       "whole number", at + 1);
			if (v < 0 || v > (1L << 31))
				return errf(e, "--inject task: %ld is out of "
					       "range (0..%ld)", v, 1L << 31);
			*task = v;
			return 0;
		}
	}
	return errf(e, "--inject: unknown fault '%.*s'", (int)len, text);
}
