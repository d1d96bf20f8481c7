/* verdict.h - the document's diagnosis in words, for `contend doctor`:
 * every stored entry (analysis/diagnosis.h), causes first, then what was
 * not found. Nothing is worked out here. */
#ifndef CONTEND_VERDICT_H
#define CONTEND_VERDICT_H

#include <jansson.h>
#include <stdio.h>

void verdict_render(json_t *doc, FILE *out);

#endif
