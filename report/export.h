/* export.h - a results document as Markdown, CSV or Google Benchmark JSON.
 *
 * Tables go to notebooks, spreadsheets and pull requests; the Google
 * Benchmark form lets compare.py and existing dashboards read contend runs. */
#ifndef CONTEND_EXPORT_H
#define CONTEND_EXPORT_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"

/* format: "md", "csv" or "gbench-json". Every configuration becomes a row
 * (md, csv) or its repetitions and aggregates (gbench-json); figures a
 * configuration lacks are written "n/a" (md, csv) or left out (json). */
int export_doc(json_t *doc, const char *format, FILE *out, errbuf *e);

/* The formats above, NULL-terminated, for --help texts. */
extern const char *const export_formats[];

/* The table behind md and csv: an array of column names and an array of
 * rows (arrays of strings, "n/a" when absent). Caller owns both. */
int export_table(json_t *doc, json_t **columns, json_t **rows, errbuf *e);

/* The Google Benchmark form of doc. Caller owns it. */
json_t *export_gbench(json_t *doc, errbuf *e);

#endif
