/* history.h - every run kept in one database, for trends and comparisons.
 *
 * Results documents (and Google Benchmark JSON) go into tables of runs,
 * configurations and repetitions. The handle is opaque; the storage is a
 * backend (history_backend.h: SQLite today, chosen by the location), so a
 * PostgreSQL server for a fleet serves the same calls: a location is a
 * file path, or a postgresql:// (postgres://) URI. */
#ifndef CONTEND_HISTORY_H
#define CONTEND_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "common/err.h"

#define HISTORY_DEFAULT_PATH "results/history.db"
#define HISTORY_SCHEMA_VERSION 3 /* 2: configs.params; 3: runs.machine */

typedef struct history history;

/* Every call returns 0 or fails with a one-line reason. -1: the location
 * or input is not usable (bad input); HISTORY_UNAVAILABLE: the database
 * could not be reached or failed while working (a PostgreSQL server that
 * is down or went away: a runtime failure; nothing half-written is kept). */
#define HISTORY_UNAVAILABLE (-2)

/* create: make the file (or a server database's tables) when missing
 * (for adding). Without it a
 * missing or empty database is an error. A file that is not SQLite, a
 * SQLite file of something else, a corrupt one or one from a newer
 * contend is refused with a one-line reason; it is never modified. One
 * from an older contend is upgraded in place, in one transaction. */
int history_open(const char *path, int create, history **out, errbuf *e);

/* location as messages and pages show it: a URI's password replaced by
 * "***" (postgresql://user:***@host/db, password=***). */
void history_location_display(const char *location, char *buf, size_t len);
void history_close(history *h);

/* Read a file as a results document: a contend results document as is, or
 * Google Benchmark JSON mapped onto one. *source is "contend" or "gbench". */
int history_load_file(const char *path, json_t **doc, const char **source,
		      errbuf *e);

/* Store doc in one transaction. A document whose content is already stored
 * is not stored again: *duplicate = 1 and *run_id names the stored run. */
int history_add(history *h, json_t *doc, const char *source,
		const char *file, int64_t *run_id, int *duplicate, errbuf *e);

/* Runs, oldest first: [{run_id, utc_time, machine, host, cpu_model,
 * git_rev, builds, workloads, configs, status, source, file}]. */
int history_list(history *h, json_t **runs, errbuf *e);

/* The stored document of a run. */
int history_get_run(history *h, int64_t run_id, json_t **doc, errbuf *e);

/* Runs are only ever compared with runs of the same machine
 * (results_machine: context.machine, else the host name). */

/* The newest run of machine (NULL: of whichever machine ran last), and
 * the run of that machine `back` steps before it that shares at least one
 * configuration with it, same id and same params (back = 1: the previous
 * comparable run). When no earlier run shares one with equal params, the
 * run `back` steps before it sharing only ids, so that compare can list
 * what differs. */
int history_pick_pair(history *h, const char *machine, int back,
		      int64_t *base, int64_t *newest, errbuf *e);

/* Workload names, sorted. */
int history_workloads(history *h, json_t **names, errbuf *e);

/* Machine names, sorted. */
int history_machines(history *h, json_t **names, errbuf *e);

/* The newest run of machine that measured workload; *run_id = 0 when
 * that machine never ran it. */
int history_latest_run(history *h, const char *workload, const char *machine,
		       int64_t *run_id, errbuf *e);

/* The trend of a workload on one machine, each configuration id at the
 * params of its newest run there (points with other params are left out,
 * never joined): the last max_runs runs holding such points, {workload,
 * machine, runs: [{run_id, utc_time, git_rev, host}], configs: [{id,
 * series, workers, params, points: [{run_id, utc_time, median_wall_s,
 * ci_low_s, ci_high_s, status, walls: [ok repetition wall times]}]}]},
 * oldest point first. */
int history_trend(history *h, const char *workload, const char *machine,
		  int max_runs, json_t **trend, errbuf *e);

#endif
