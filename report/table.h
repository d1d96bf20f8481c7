/* table.h - the terminal scaling table, rendered from a results document
 * alone (so `report` on an old file prints what `run` printed), followed
 * by plain-words notes: where adding workers made it slower, and why. */
#ifndef CONTEND_TABLE_H
#define CONTEND_TABLE_H

#include <jansson.h>
#include <stdio.h>

void table_render(json_t *doc, FILE *out);

/* Human formatting shared with other renderers. */
void table_fmt_seconds(double s, char *buf, size_t len);
void table_fmt_bytes(double b, char *buf, size_t len);

#endif
