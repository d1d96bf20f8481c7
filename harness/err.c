/* err.c - formatting of the shared error buffer (see err.h). */
#include "harness/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errf(errbuf *e, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof e->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int errprefix(errbuf *e, const char *fmt, ...)
{
	if (e) {
		char prefix[256], old[sizeof e->msg];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(prefix, sizeof prefix, fmt, ap);
		va_end(ap);
		memcpy(old, e->msg, sizeof old);
		snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
	}
	return -1;
}
