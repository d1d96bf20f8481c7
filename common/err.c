/* err.c - formatting of the shared error buffer (see err.h). */
#include "common/err.h"

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
		char joined[2 * sizeof e->msg];
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(joined, sizeof e->msg, fmt, ap);
		va_end(ap);
		size_t used = k < 0 ? 0 : (size_t)k;
		if (used > sizeof e->msg - 1)
			used = sizeof e->msg - 1;
		memcpy(joined + used, ": ", 2);
		memcpy(joined + used + 2, e->msg, sizeof e->msg);
		joined[sizeof e->msg - 1] = 0; /* truncate to the buffer */
		memcpy(e->msg, joined, sizeof e->msg);
	}
	return -1;
}
