/* history_sqlite.c - the SQLite backend of the history (history_backend.h).
 *
 * Every write is one BEGIN IMMEDIATE transaction under a busy timeout, so
 * concurrent `history add`s queue instead of failing; a file that is not
 * ours is diagnosed before anything is written to it. */
#include "document/doc.h"
#include "document/history.h"
#include "document/history_backend.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 30000

struct sqlh {
	sqlite3 *db;
	char path[4096];
};
typedef struct sqlh sqlh;

/* ---- statements ---- */

static int db_err(sqlh *h, errbuf *e, const char *what)
{
	int code = sqlite3_errcode(h->db);
	if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
		return errf(e, "history '%s' is damaged (%s) while %s; restore "
			    "it from a backup or move it aside", h->path,
			    sqlite3_errmsg(h->db), what);
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return errf(e, "history '%s' stayed locked by another process "
			    "for %d s while %s", h->path,
			    BUSY_TIMEOUT_MS / 1000, what);
	return errf(e, "history '%s': %s while %s", h->path,
		    sqlite3_errmsg(h->db), what);
}

static int exec(sqlh *h, const char *sql, errbuf *e)
{
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(h, e, "updating it");
	return 0;
}

static sqlite3_stmt *prep(sqlh *h, const char *sql, errbuf *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_err(h, e, "reading it");
		return NULL;
	}
	return st;
}

static void bind_json(sqlite3_stmt *st, int i, json_t *v)
{
	if (json_is_string(v))
		sqlite3_bind_text(st, i, json_string_value(v), -1,
				  SQLITE_TRANSIENT);
	else if (json_is_integer(v))
		sqlite3_bind_int64(st, i, json_integer_value(v));
	else if (json_is_real(v))
		sqlite3_bind_double(st, i, json_real_value(v));
	else if (json_is_boolean(v))
		sqlite3_bind_int(st, i, json_is_true(v));
	else
		sqlite3_bind_null(st, i);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		return json_string((const char *)sqlite3_column_text(st, i));
	default:
		return json_null();
	}
}

/* ---- schema ----
 *
 * Version 2 added configs.params, version 3 runs.machine; columns only
 * ever get appended, so a migrated database and a new one have the same
 * tables. */

static const char *const schema_sql =
	"CREATE TABLE contend_schema(version INTEGER NOT NULL);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY,"
	" content_sha256 TEXT NOT NULL UNIQUE, source TEXT NOT NULL,"
	" file TEXT, added_utc TEXT NOT NULL, utc_time TEXT, host TEXT,"
	" cpu_model TEXT, logical_cores INTEGER, physical_cores INTEGER,"
	" kernel TEXT, compiler TEXT, cflags TEXT, contend_version TEXT,"
	" git_rev TEXT, command TEXT, status TEXT, builds TEXT,"
	" workloads TEXT, document TEXT NOT NULL, machine TEXT);"
	"CREATE INDEX runs_machine ON runs(machine, utc_time);"
	"CREATE TABLE configs(id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	" config_id TEXT NOT NULL, series TEXT, workload TEXT, build TEXT,"
	" pool TEXT, workers INTEGER, start TEXT, ntasks INTEGER,"
	" median_wall_s REAL, ci_low_s REAL, ci_high_s REAL, ci_level REAL,"
	" median_cpu_s REAL, speedup REAL, efficiency REAL, status TEXT,"
	" detail TEXT, params TEXT, UNIQUE(run_id, config_id));"
	"CREATE INDEX configs_workload ON configs(workload, run_id);"
	"CREATE INDEX configs_config_id ON configs(config_id);"
	"CREATE TABLE reps(config_row INTEGER NOT NULL REFERENCES configs(id)"
	" ON DELETE CASCADE, idx INTEGER NOT NULL, wall_s REAL, cpu_s REAL,"
	" status TEXT, checksum TEXT, tasks_done INTEGER,"
	" PRIMARY KEY(config_row, idx));";

static const char *const our_tables[] = {"contend_schema", "runs", "configs",
					 "reps", NULL};

static int is_ours(const char *name)
{
	for (size_t i = 0; our_tables[i]; i++)
		if (!strcmp(name, our_tables[i]))
			return 1;
	return 0;
}

/* What tables the file holds: ours (all of them), none, or others. */
static int survey(sqlh *h, int *ours, int *none, char *others,
		  size_t olen, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT name FROM sqlite_master WHERE "
				"type='table' AND name NOT LIKE 'sqlite_%' "
				"ORDER BY name", e);
	if (!st)
		return -1;
	int count = 0, mine = 0, rc;
	others[0] = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);
		count++;
		if (is_ours(n)) {
			mine++;
		} else if (strlen(others) + strlen(n) + 3 < olen) {
			if (others[0])
				strcat(others, ", ");
			strcat(others, n);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(h, e, "reading its tables");
	*none = count == 0;
	*ours = mine == 4 && count == mine;
	if (!*none && !*ours && !others[0])
		snprintf(others, olen, "an incomplete set of contend tables");
	return 0;
}

static int check_version(sqlh *h, int *version, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT max(version) FROM contend_schema", e);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(h, e, "reading its schema version");
	if (v > HISTORY_SCHEMA_VERSION)
		return errf(e, "history '%s' has schema version %d, newer than "
			    "this contend understands (%d); use a newer "
			    "contend", h->path, v, HISTORY_SCHEMA_VERSION);
	if (v < 1)
		return errf(e, "history '%s' has no schema version; it is "
			    "damaged or not contend's", h->path);
	*version = v;
	return 0;
}

static int create_schema(sqlh *h, int *version, errbuf *e)
{
	if (exec(h, schema_sql, e))
		return -1;
	char sql[96];
	snprintf(sql, sizeof sql, "INSERT INTO contend_schema VALUES(%d)",
		 HISTORY_SCHEMA_VERSION);
	*version = HISTORY_SCHEMA_VERSION;
	return exec(h, sql, e);
}

/* *version: the schema version the file has (after creating it). */
static int check_schema(sqlh *h, int create, int *version, errbuf *e)
{
	int ours = 0, none = 0; /* set by survey(); -O1 cannot tell */
	char others[256];
	if (survey(h, &ours, &none, others, sizeof others, e))
		return -1;
	if (none && create)
		return create_schema(h, version, e);
	if (none)
		return errf(e, "history '%s' is empty: add runs with 'contend "
			    "history add'", h->path);
	if (!ours)
		return errf(e, "'%s' is a SQLite database of something else "
			    "(tables: %s); refusing to use it as contend's "
			    "history", h->path, others);
	return check_version(h, version, e);
}

/* ---- migration: version 1 had no configs.params ---- */

static int backfill_run(sqlh *h, sqlite3_stmt *up, sqlite3_int64 run,
			json_t *doc, errbuf *e)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		char *text = history_params_text(c);
		if (!text)
			continue;
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 2, run);
		bind_json(up, 3, json_object_get(c, "id"));
		free(text);
		if (sqlite3_step(up) != SQLITE_DONE)
			return db_err(h, e, "upgrading it");
	}
	return 0;
}

/* One row of SELECT id, document FROM runs. */
static int backfill_row(sqlh *h, sqlite3_stmt *st, sqlite3_stmt *up,
			errbuf *e)
{
	sqlite3_int64 run = sqlite3_column_int64(st, 0);
	json_t *doc = json_loads((const char *)sqlite3_column_text(st, 1), 0,
				 NULL);
	if (!doc)
		return errf(e, "history '%s': run %lld holds a damaged "
			    "document, so it cannot be upgraded", h->path,
			    (long long)run);
	int rc = backfill_run(h, up, run, doc, e);
	json_decref(doc);
	return rc;
}

/* The stored documents are the only record of the params: read them back
 * into the same canonical text history_add writes. */
static int backfill_params(sqlh *h, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT id, document FROM runs", e);
	if (!st)
		return -1;
	sqlite3_stmt *up = prep(h, "UPDATE configs SET params=?1 WHERE "
				"run_id=?2 AND config_id=?3", e);
	int rc = SQLITE_DONE, bad = !up;
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = backfill_row(h, st, up, e);
	if (!bad && rc != SQLITE_DONE)
		bad = db_err(h, e, "upgrading it");
	sqlite3_finalize(up);
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

/* Version 3: runs.machine, from the stored documents as results_machine
 * reads it (runs from before machines were named count as their host). */
static const char *const machine_sql =
	"ALTER TABLE runs ADD COLUMN machine TEXT;"
	"UPDATE runs SET machine = coalesce(nullif(json_extract(document,"
	" '$.context.machine'), ''), nullif(host, ''), 'unknown');"
	"CREATE INDEX runs_machine ON runs(machine, utc_time);";

/* Within the caller's write transaction, so a failed upgrade leaves the
 * file as it was and concurrent opens upgrade it once. */
static int migrate(sqlh *h, int version, errbuf *e)
{
	if (version == HISTORY_SCHEMA_VERSION)
		return 0;
	char sql[96];
	snprintf(sql, sizeof sql, "UPDATE contend_schema SET version=%d",
		 HISTORY_SCHEMA_VERSION);
	if (version < 2 &&
	    (exec(h, "ALTER TABLE configs ADD COLUMN params TEXT", e) ||
	     backfill_params(h, e)))
		return -1;
	if (version < 3 && exec(h, machine_sql, e))
		return -1;
	return exec(h, sql, e);
}

/* quick_check's report is many lines ("*** in database main ***", then
 * one line per problem): keep the first problem for a one-line error. */
static void first_problem(const char *report, char *buf, size_t len)
{
	const char *p = report ? report : "";
	if (!strncmp(p, "***", 3) && strchr(p, '\n'))
		p = strchr(p, '\n') + 1;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
}

static int quick_check(sqlh *h, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "PRAGMA quick_check", e);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	char first[160] = "";
	if (rc == SQLITE_ROW)
		first_problem((const char *)sqlite3_column_text(st, 0), first,
			      sizeof first);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(h, e, "checking it");
	if (strcmp(first, "ok"))
		return errf(e, "history '%s' is damaged (%s); restore it from a "
			    "backup or move it aside", h->path, first);
	return 0;
}

/* A non-empty file must start with SQLite's magic before SQLite opens it
 * (SQLite would otherwise report only "file is not a database" later). */
static int check_magic(const char *path, int create, errbuf *e)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT && create)
			return 0;
		if (errno == ENOENT)
			return errf(e, "no history at '%s' (add runs with "
				    "'contend history add')", path);
		return errf(e, "cannot open history '%s': %s", path,
			    strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return errf(e, "history '%s' is not a regular file", path);
	if (sb.st_size == 0)
		return 0;
	char magic[16] = {0};
	FILE *f = fopen(path, "rb");
	if (!f)
		return errf(e, "cannot open history '%s': %s", path,
			    strerror(errno));
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	if (n < sizeof magic || memcmp(magic, "SQLite format 3", 16))
		return errf(e, "'%s' is not a SQLite database; refusing to use "
			    "it as contend's history", path);
	return 0;
}

static int sq_schema(void *impl, int create, errbuf *e)
{
	sqlh *h = impl;
	int version = 0;
	/* Readers of a current database take no write lock (it may be
	 * read-only); creating or upgrading looks again under the lock, since
	 * another process may have done it meanwhile. */
	if (!create) {
		if (check_schema(h, 0, &version, e))
			return -1;
		if (version == HISTORY_SCHEMA_VERSION)
			return 0;
	}
	if (exec(h, "BEGIN IMMEDIATE", e))
		return -1;
	if (check_schema(h, create, &version, e) || migrate(h, version, e)) {
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return exec(h, "COMMIT", e);
}

static void sq_close(void *impl)
{
	sqlh *h = impl;
	if (!h)
		return;
	sqlite3_close(h->db);
	free(h);
}

static int sq_open(const char *path, int create, void **out, errbuf *e)
{
	*out = NULL;
	if (check_magic(path, create, e))
		return -1;
	sqlh *h = calloc(1, sizeof *h);
	if (!h)
		return errf(e, "out of memory");
	snprintf(h->path, sizeof h->path, "%s", path);
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
		errf(e, "cannot open history '%s': %s", path,
		     h->db ? sqlite3_errmsg(h->db) : "out of memory");
		sq_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
	if (exec(h, "PRAGMA foreign_keys=ON", e) || quick_check(h, e)) {
		sq_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

/* ---- adding a document ---- */

static int step_done(sqlh *h, sqlite3_stmt *st, errbuf *e, const char *w)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(h, e, w);
	return 0;
}

static void utc_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *const run_ctx_cols[] = {
	"utc_time", "host", "cpu_model", "logical_cores", "physical_cores",
	"kernel", "compiler", "cflags", "contend_version", "git_rev", "command",
	NULL};

static int insert_run(sqlh *h, const struct history_doc *d, errbuf *e)
{
	json_t *doc = d->doc;
	sqlite3_stmt *st = prep(h,
		"INSERT INTO runs(content_sha256, source, file, added_utc,"
		" utc_time, host, cpu_model, logical_cores, physical_cores,"
		" kernel, compiler, cflags, contend_version, git_rev, command,"
		" status, builds, workloads, document, machine) VALUES(?1,?2,?3,"
		"?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)",
		e);
	if (!st)
		return -1;
	char now[32], builds[512], workloads[1024];
	utc_now(now, sizeof now);
	history_distinct_field(doc, "build", builds, sizeof builds);
	history_distinct_field(doc, "workload", workloads, sizeof workloads);
	json_t *ctx = json_object_get(doc, "context");
	sqlite3_bind_text(st, 1, d->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d->source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, d->file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	for (int i = 0; run_ctx_cols[i]; i++)
		bind_json(st, 5 + i, json_object_get(ctx, run_ctx_cols[i]));
	bind_json(st, 16, json_object_get(doc, "status"));
	sqlite3_bind_text(st, 17, builds, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 18, workloads, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 19, d->text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 20, d->machine, -1, SQLITE_TRANSIENT);
	return step_done(h, st, e, "adding the run");
}

static const char *const config_cols[] = {
	"workload", "build", "pool", "workers", "start", "ntasks",
	"median_wall_s", "ci_low_s", "ci_high_s", "ci_level", "median_cpu_s",
	"speedup", "efficiency", "status", "detail", NULL};

static int insert_reps(sqlh *h, json_t *c, sqlite3_int64 row, errbuf *e)
{
	json_t *r;
	size_t i;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		sqlite3_stmt *st = prep(h, "INSERT INTO reps VALUES(?1,?2,?3,"
					"?4,?5,?6,?7)", e);
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, row);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_json(st, 3, json_object_get(r, "wall_s"));
		bind_json(st, 4, json_object_get(r, "cpu_s"));
		bind_json(st, 5, json_object_get(r, "status"));
		bind_json(st, 6, json_object_get(r, "checksum"));
		bind_json(st, 7, json_object_get(r, "tasks_done"));
		if (step_done(h, st, e, "adding repetitions"))
			return -1;
	}
	return 0;
}

static int insert_config(sqlh *h, json_t *c, sqlite3_int64 run,
			 errbuf *e)
{
	sqlite3_stmt *st = prep(h,
		"INSERT INTO configs(run_id, config_id, series, workload, build,"
		" pool, workers, start, ntasks, median_wall_s, ci_low_s,"
		" ci_high_s, ci_level, median_cpu_s, speedup, efficiency, status,"
		" detail, params) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
		"?13,?14,?15,?16,?17,?18,?19)", e);
	if (!st)
		return -1;
	char key[512];
	history_series_key(c, key, sizeof key);
	sqlite3_bind_int64(st, 1, run);
	bind_json(st, 2, json_object_get(c, "id"));
	sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
	for (int i = 0; config_cols[i]; i++)
		bind_json(st, 4 + i, json_object_get(c, config_cols[i]));
	char *params = history_params_text(c);
	sqlite3_bind_text(st, 19, params, -1, SQLITE_TRANSIENT);
	free(params);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return errf(e, "the document has configuration id '%s' more "
			    "than once", doc_str(c, "id", "?"));
	if (rc != SQLITE_DONE)
		return db_err(h, e, "adding a configuration");
	return insert_reps(h, c, sqlite3_last_insert_rowid(h->db), e);
}

static int find_hash(sqlh *h, const char *hash, int64_t *run_id,
		     int *found, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT id FROM runs WHERE "
				"content_sha256 = ?1", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*run_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(h, e, "looking for duplicates");
	return 0;
}

static int add_locked(sqlh *h, const struct history_doc *d, int64_t *run_id,
		      int *duplicate, errbuf *e)
{
	if (find_hash(h, d->sha256, run_id, duplicate, e) || *duplicate)
		return *duplicate ? 0 : -1;
	if (insert_run(h, d, e))
		return -1;
	*run_id = sqlite3_last_insert_rowid(h->db);
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(d->doc, "configs"), i, c)
		if (insert_config(h, c, *run_id, e))
			return -1;
	return 0;
}

static int sq_add(void *impl, const struct history_doc *d, int64_t *run_id,
		  int *duplicate, errbuf *e)
{
	sqlh *h = impl;
	int rc = exec(h, "BEGIN IMMEDIATE", e);
	if (!rc)
		rc = add_locked(h, d, run_id, duplicate, e);
	if (!rc)
		rc = exec(h, "COMMIT", e);
	else
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- reading ---- */

static int sq_list(void *impl, json_t **runs, errbuf *e)
{
	sqlh *h = impl;
	sqlite3_stmt *st = prep(h,
		"SELECT r.id, r.utc_time, r.host, r.cpu_model, r.git_rev,"
		" r.builds, r.workloads, (SELECT count(*) FROM configs c WHERE"
		" c.run_id = r.id), r.status, r.source, r.file, r.machine"
		" FROM runs r ORDER BY r.utc_time, r.id", e);
	static const char *const keys[] = {"run_id", "utc_time", "host",
					   "cpu_model", "git_rev", "builds",
					   "workloads", "configs", "status",
					   "source", "file", "machine"};
	if (!st)
		return -1;
	json_t *out = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < 12; i++)
			json_object_set_new(o, keys[i], col_json(st, i));
		json_array_append_new(out, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return db_err(h, e, "listing runs");
	}
	*runs = out;
	return 0;
}

static int sq_get_run(void *impl, int64_t run_id, char **text, errbuf *e)
{
	sqlh *h = impl;
	*text = NULL;
	sqlite3_stmt *st = prep(h, "SELECT document FROM runs WHERE id=?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	int rc = sqlite3_step(st);
	const char *t = rc == SQLITE_ROW
				? (const char *)sqlite3_column_text(st, 0)
				: NULL;
	char *copy = t ? strdup(t) : NULL;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return errf(e, "history '%s' has no run %lld", h->path,
			    (long long)run_id);
	if (rc != SQLITE_ROW)
		return db_err(h, e, "reading a run");
	if (!copy)
		return errf(e, "history '%s': run %lld holds a damaged "
			    "document", h->path, (long long)run_id);
	*text = copy;
	return 0;
}

static int one_id(sqlh *h, sqlite3_stmt *st, int64_t *id, int *found,
		  errbuf *e)
{
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(h, e, "reading runs");
	return 0;
}

/* The run `back` steps before newest among the earlier runs sharing a
 * configuration with it: same id and params, or with ids_only same id. */
static int earlier_run(sqlh *h, int64_t newest, int back, int ids_only,
		       int64_t *base, int *found, errbuf *e)
{
	sqlite3_stmt *st = prep(h,
		"SELECT r.id FROM runs r, runs n WHERE n.id = ?1 AND"
		" r.machine = n.machine AND (r.utc_time < n.utc_time OR (r.utc_time IS n.utc_time AND"
		" r.id < n.id) OR (r.utc_time IS NULL AND n.utc_time IS NOT NULL))"
		" AND EXISTS (SELECT 1 FROM configs a JOIN configs b ON"
		" a.config_id = b.config_id AND (?3 OR a.params IS b.params)"
		" WHERE a.run_id = r.id AND b.run_id = n.id)"
		" ORDER BY r.utc_time DESC, r.id DESC LIMIT 1 OFFSET ?2", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, newest);
	sqlite3_bind_int(st, 2, back - 1);
	sqlite3_bind_int(st, 3, ids_only);
	return one_id(h, st, base, found, e);
}

static int sq_pick_pair(void *impl, const char *machine, int back,
			int64_t *base, int64_t *newest, errbuf *e)
{
	sqlh *h = impl;
	int found, matching;
	sqlite3_stmt *st = prep(h, "SELECT id FROM runs WHERE ?1 IS NULL OR"
				" machine = ?1 ORDER BY utc_time DESC,"
				" id DESC LIMIT 1", e);
	if (st)
		sqlite3_bind_text(st, 1, machine, -1, SQLITE_TRANSIENT);
	if (!st || one_id(h, st, newest, &found, e))
		return -1;
	if (!found && machine)
		return errf(e, "history '%s' holds no runs of machine '%s'",
			    h->path, machine);
	if (!found)
		return errf(e, "history '%s' holds no runs", h->path);
	if (earlier_run(h, *newest, back, 0, base, &found, e))
		return -1;
	if (found)
		return 0;
	if (earlier_run(h, *newest, 1, 0, base, &matching, e))
		return -1;
	/* Nothing earlier ran any configuration with the newest run's params:
	 * a run sharing ids lets compare say which params differ, rather than
	 * only that nothing matches. */
	if (!matching && earlier_run(h, *newest, back, 1, base, &found, e))
		return -1;
	if (!found)
		return errf(e, "history '%s' has no earlier run of the same "
			    "machine with configurations in common with the "
			    "newest run (%lld) to compare with", h->path,
			    (long long)*newest);
	return 0;
}

static int names_of(sqlh *h, const char *sql, json_t **names, errbuf *e)
{
	sqlite3_stmt *st = prep(h, sql, e);
	if (!st)
		return -1;
	json_t *out = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(out, col_json(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return db_err(h, e, "listing names");
	}
	*names = out;
	return 0;
}

static int sq_workloads(void *impl, json_t **names, errbuf *e)
{
	return names_of(impl, "SELECT DISTINCT workload FROM configs WHERE"
			" workload IS NOT NULL ORDER BY workload", names, e);
}

static int sq_machines(void *impl, json_t **names, errbuf *e)
{
	return names_of(impl, "SELECT DISTINCT machine FROM runs WHERE"
			" machine IS NOT NULL ORDER BY machine", names, e);
}

static int sq_latest_run(void *impl, const char *workload,
			 const char *machine, int64_t *run_id, errbuf *e)
{
	sqlh *h = impl;
	int found;
	sqlite3_stmt *st = prep(h,
		"SELECT r.id FROM runs r WHERE r.machine = ?2 AND EXISTS"
		" (SELECT 1 FROM configs c WHERE c.run_id = r.id AND"
		" c.workload = ?1) ORDER BY r.utc_time DESC, r.id DESC LIMIT 1",
		e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, machine, -1, SQLITE_TRANSIENT);
	*run_id = 0;
	return one_id(h, st, run_id, &found, e);
}

static int trend_walls(sqlh *h, sqlite3_int64 row, json_t *walls,
		       errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT wall_s FROM reps WHERE config_row"
				"=?1 AND status='ok' AND wall_s IS NOT NULL "
				"ORDER BY idx", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, row);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(walls,
				      json_real(sqlite3_column_double(st, 0)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(h, e, "reading repetitions");
}

/* The params column as JSON: null when the configuration had none. */
static json_t *col_params(sqlite3_stmt *st, int i)
{
	const char *text = (const char *)sqlite3_column_text(st, i);
	json_t *p = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	return p ? p : json_null();
}

/* Appends a point to the config entry of its id (created on first use). */
static json_t *trend_config(json_t *trend, json_t *index, sqlite3_stmt *st)
{
	const char *id = (const char *)sqlite3_column_text(st, 5);
	json_t *c = json_object_get(index, id ? id : "?");
	if (c)
		return c;
	c = json_pack("{s:s, s:o, s:o, s:o, s:[]}", "id", id ? id : "?",
		      "series", col_json(st, 10), "workers", col_json(st, 11),
		      "params", col_params(st, 12), "points");
	json_object_set_new(index, id ? id : "?", c);
	json_array_append(json_object_get(trend, "configs"), c);
	return c;
}

static void trend_run(json_t *trend, json_t *seen, sqlite3_stmt *st)
{
	char key[32];
	snprintf(key, sizeof key, "%lld",
		 (long long)sqlite3_column_int64(st, 0));
	if (json_object_get(seen, key))
		return;
	json_object_set_new(seen, key, json_true());
	json_array_append_new(json_object_get(trend, "runs"),
			      json_pack("{s:o, s:o, s:o, s:o}", "run_id",
					col_json(st, 0), "utc_time",
					col_json(st, 1), "git_rev",
					col_json(st, 2), "host",
					col_json(st, 3)));
}

static int trend_rows(sqlh *h, sqlite3_stmt *st, json_t *trend,
		      errbuf *e)
{
	json_t *index = json_object(), *seen = json_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		trend_run(trend, seen, st);
		json_t *c = trend_config(trend, index, st), *walls = json_array();
		json_t *p = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				      "run_id", col_json(st, 0), "utc_time",
				      col_json(st, 1), "median_wall_s",
				      col_json(st, 6), "ci_low_s",
				      col_json(st, 7), "ci_high_s",
				      col_json(st, 8), "status",
				      col_json(st, 9), "walls", walls);
		json_array_append_new(json_object_get(c, "points"), p);
		if (trend_walls(h, sqlite3_column_int64(st, 4), walls, e)) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	json_decref(index);
	json_decref(seen);
	if (rc == SQLITE_ERROR)
		return -1;
	return rc == SQLITE_DONE ? 0 : db_err(h, e, "reading trends");
}

/* A trend line follows one configuration id at the params of its newest
 * run: points with other params (a nightly trees=16 between make report's
 * trees=50) are left out rather than joined, since the step between them
 * would be the parameter change, not the code's. `cur` is those rows;
 * the runs are the last max_runs runs holding any of them. */
static const char *const trend_sql =
	"WITH mine AS (SELECT c.* FROM configs c JOIN runs m ON"
	" m.id = c.run_id AND m.machine = ?3 WHERE c.workload = ?1),"
	" latest AS (SELECT c.config_id, c.params FROM mine c"
	" WHERE c.run_id = (SELECT r3.id FROM runs r3"
	" JOIN mine c3 ON c3.run_id = r3.id WHERE"
	" c3.config_id = c.config_id ORDER BY r3.utc_time DESC, r3.id DESC"
	" LIMIT 1)),"
	" cur AS (SELECT c.* FROM mine c JOIN latest l ON"
	" l.config_id = c.config_id AND c.params IS l.params),"
	" recent AS (SELECT r2.id FROM runs r2 WHERE r2.id IN (SELECT run_id"
	" FROM cur) ORDER BY r2.utc_time DESC, r2.id DESC LIMIT ?2)"
	" SELECT r.id, r.utc_time, r.git_rev, r.host, c.id, c.config_id,"
	" c.median_wall_s, c.ci_low_s, c.ci_high_s, c.status, c.series,"
	" c.workers, c.params FROM cur c JOIN runs r ON r.id = c.run_id"
	" WHERE r.id IN (SELECT id FROM recent) ORDER BY r.utc_time, r.id, c.id";

static int sq_trend(void *impl, const char *workload, const char *machine,
		    int max_runs, json_t **trend, errbuf *e)
{
	sqlh *h = impl;
	*trend = NULL;
	sqlite3_stmt *st = prep(h, trend_sql, e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, max_runs);
	sqlite3_bind_text(st, 3, machine, -1, SQLITE_TRANSIENT);
	json_t *t = json_pack("{s:s, s:s, s:[], s:[]}", "workload", workload,
			      "machine", machine, "runs", "configs");
	int rc = trend_rows(h, st, t, e);
	sqlite3_finalize(st);
	if (rc) {
		json_decref(t);
		return -1;
	}
	*trend = t;
	return 0;
}

static int sq_claims(const char *location)
{
	(void)location;
	return 1; /* any path; listed last, so other schemes are tried first */
}

const struct history_backend history_sqlite = {
	.name = "sqlite",
	.claims = sq_claims,
	.open = sq_open,
	.close = sq_close,
	.schema = sq_schema,
	.add = sq_add,
	.list = sq_list,
	.get_run = sq_get_run,
	.pick_pair = sq_pick_pair,
	.workloads = sq_workloads,
	.machines = sq_machines,
	.latest_run = sq_latest_run,
	.trend = sq_trend,
};
