/* results.h - the results document on disk (schema contend-results/1).
 *
 * Documents are written atomically (temp file in the same directory, fsync,
 * rename) so a crash mid-write leaves the previous version intact, and are
 * validated on load so a report never renders from a malformed file. */
#ifndef CONTEND_RESULTS_H
#define CONTEND_RESULTS_H

#include <jansson.h>

#include "common/err.h"
#include "document/outpath.h"

#define RESULTS_SCHEMA "contend-results/1"

/* A new, empty document: schema, status "running", context, configs []. */
json_t *results_new(json_t *context);

/* Fail early (before any measuring) if path's directory is not writable. */
int results_check_writable(const char *path, errbuf *e);

int results_write_atomic(const char *path, json_t *doc, errbuf *e);

/* Load and validate; on error *doc is NULL and e names the problem. */
int results_load(const char *path, json_t **doc, errbuf *e);

/* Validate an in-memory document (what results_load checks). */
int results_validate(json_t *doc, errbuf *e);

/* The machine a document was measured on: context.machine (run --machine,
 * default the host name), else context.host for documents from before
 * machines were named, else "unknown". The history and the dashboard
 * only compare runs of one machine. */
const char *results_machine(json_t *doc);

/* Default output path: results/<UTC time>-<host>.json */
void results_default_path(char *buf, size_t len);

/* The document a run writes, held from before the first measurement to
 * after the last write. */
struct results_out {
	char path[4096];
	int reserved;		  /* the default name, created by us */
	struct outpath_lock lock; /* fd -1: none (a stream) */
};
/* path checked writable and locked (outpath_lock: another running
 * contend writing it is refused); NULL: the default name, reserved
 * (outpath_reserve: "-2", "-3", ... when it exists), in results/. */
int results_out_open(struct results_out *o, const char *path, errbuf *e);
/* The lock let go; a reserved name never written to removed. */
void results_out_close(struct results_out *o);

/* Two configurations ran the same workload parameters ("params" equal).
 * Two without params (hand-made documents) match: json_equal(NULL, NULL)
 * alone would say they do not. */
int results_same_params(json_t *a, json_t *b);

#endif
