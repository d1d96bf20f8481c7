/* history_backend.h - the storage behind history.h, one implementation per
 * database (SQLite in history_sqlite.c; a PostgreSQL server for a fleet).
 *
 * history.c owns what must be the same whatever the storage: it validates
 * a document, encodes it canonically, hashes it, picks the backend that
 * claims a location and turns the calls of history.h into the calls
 * below. A backend only stores and queries. Its contract, per call:
 *
 * - Every call returns 0, or -1 (bad input: not a usable history) or
 *   HISTORY_UNAVAILABLE (the server cannot be reached or failed) with a
 *   one-line reason in e that names the location ("history 'LOC' ...",
 *   history_location_display: no password); a backend never prints.
 * - Returned JSON is new (the caller decrefs it) and has exactly the shape
 *   history.h documents for the matching history_* call.
 * - Runs are ordered by (utc_time, run id); a run without utc_time is older
 *   than any with one. "Same params" means equal canonical params text
 *   (history_params_text), a configuration without params matching only one
 *   without params.
 * - Runs are compared only within one machine (runs.machine).
 * - Concurrent writers (several `history add` at once) queue; none fails
 *   because another holds the database for a while.
 *
 * Adding a backend: write its file, define a `const struct history_backend`
 * and list it in history.c's backends[] before the SQLite one (which
 * claims every location, so it is the fallback). */
#ifndef CONTEND_HISTORY_BACKEND_H
#define CONTEND_HISTORY_BACKEND_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"

/* What history.c hands a backend for one document to add. */
struct history_doc {
	json_t *doc;          /* validated results document */
	const char *text;     /* its canonical encoding: what get_run returns */
	const char *sha256;   /* hash of text (hex): the duplicate key */
	const char *source;   /* "contend" or "gbench" */
	const char *file;     /* the file it came from, or NULL */
	const char *machine;  /* results_machine(doc): the comparison key */
};

struct history_backend {
	const char *name; /* "sqlite", "postgresql" */

	/* 1 when this backend serves location (a path, or a URL of its
	 * scheme such as "postgresql://..."). */
	int (*claims)(const char *location);

	/* Connect to location. create: make the database when missing;
	 * without it a missing or empty one is an error. Something that is
	 * not a contend history is refused and never modified. */
	int (*open)(const char *location, int create, void **impl, errbuf *e);
	void (*close)(void *impl);

	/* After open: check the schema; with create make it when there is
	 * none; upgrade an older one in place in one transaction (and once,
	 * when several processes open it together); refuse a newer one. */
	int (*schema)(void *impl, int create, errbuf *e);

	/* Store d in one transaction: the run, each configuration (its id,
	 * history_series_key, params text, figures) and each repetition. A
	 * stored run with the same sha256 is not stored again: *duplicate = 1
	 * and *run_id names it. */
	int (*add)(void *impl, const struct history_doc *d, int64_t *run_id,
		   int *duplicate, errbuf *e);

	/* history_list: the runs, oldest first. */
	int (*list)(void *impl, json_t **runs, errbuf *e);

	/* The stored text of a run (malloc'd; history.c parses and checks
	 * it). */
	int (*get_run)(void *impl, int64_t run_id, char **text, errbuf *e);

	/* history_pick_pair, history_workloads, history_latest_run and
	 * history_trend: the queries of compare and the dashboard. */
	int (*pick_pair)(void *impl, const char *machine, int back,
			 int64_t *base, int64_t *newest, errbuf *e);
	int (*workloads)(void *impl, json_t **names, errbuf *e);
	int (*machines)(void *impl, json_t **names, errbuf *e);
	int (*latest_run)(void *impl, const char *workload,
			  const char *machine, int64_t *run_id, errbuf *e);
	int (*trend)(void *impl, const char *workload, const char *machine,
		     int max_runs, json_t **trend, errbuf *e);
};

extern const struct history_backend history_sqlite;
extern const struct history_backend history_pg;

/* ---- helpers every backend stores the same way ---- */

/* The canonical text of a configuration's params (sorted keys, compact),
 * malloc'd, or NULL when it has none. */
char *history_params_text(json_t *config);

/* The series a configuration belongs to, as stored in its row. */
void history_series_key(json_t *config, char *buf, size_t len);

/* The distinct values of one configuration field, comma-separated in
 * document order (a run's "builds" and "workloads" columns). */
void history_distinct_field(json_t *doc, const char *field, char *buf,
			    size_t len);

#endif
