/* dashboard_notes.h - what the terminal tells about a run, on the
 * dashboard: the report's tables with their notes (Next lines,
 * oversubscription, side by side, interference, failures), as
 * `contend report` prints them. */
#ifndef CONTEND_DASHBOARD_NOTES_H
#define CONTEND_DASHBOARD_NOTES_H

#include <jansson.h>
#include <stdio.h>

/* The terminal report of doc, escaped into f. */
void dashboard_notes(FILE *f, json_t *doc);

#endif
