/* context.h - what machine and build a run happened on.
 *
 * Every results document carries this, so numbers from different machines
 * or builds are never compared without saying so. */
#ifndef CONTEND_CONTEXT_H
#define CONTEND_CONTEXT_H

#include <jansson.h>

#include "common/err.h"

const char *contend_version(void);
const char *contend_git_rev(void);

/* Online logical CPUs and physical cores (hwloc; falls back to logical). */
int context_logical_cores(void);
int context_physical_cores(void);

/* The `context` object of a results document; argv is the command line.
 * machine: the name the fleet knows this machine by (--machine), or NULL
 * for the host name. */
json_t *context_collect(const char *machine, int argc, char **argv);

/* A machine name: 1-64 letters, digits, '.', '_' or '-' (it keys the
 * history and names dashboard sections); -1 with e set otherwise. */
int context_check_machine(const char *name, errbuf *e);

/* ISO 8601 UTC time of now, into buf (at least 21 bytes). */
void context_utc_now(char *buf, size_t len);

#endif
