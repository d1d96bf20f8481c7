/* hotlocks.h - the most contended locks of a document, as a terminal
 * renderer: what `contend exec` prints after its table, and `contend
 * report` of an exec document prints the same way. */
#ifndef CONTEND_HOTLOCKS_H
#define CONTEND_HOTLOCKS_H

#include <jansson.h>
#include <stdio.h>

/* The most contended locks, with call sites, of the row that waited most
 * (largest lock share), from its repetition that waited longest; prints
 * nothing when no lock was waited on (a `run` document, or an exec run
 * without the lock profiler). */
void hotlocks_render(json_t *doc, FILE *out);

#endif
