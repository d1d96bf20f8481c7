/* history.c - the SQLite history of runs (see history.h).
 *
 * Every write is one BEGIN IMMEDIATE transaction under a busy timeout, so
 * concurrent `history add`s queue instead of failing; a file that is not
 * ours is diagnosed before anything is written to it. */
#include "document/history.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "document/jsonfile.h"
#include "document/results.h"
#include "analysis/stats.h"
#include "analysis/usl.h"

#define BUSY_TIMEOUT_MS 30000

struct history {
	sqlite3 *db;
	char path[4096];
};

/* ---- SHA-256 (FIPS 180-4): the duplicate-document key ---- */

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
			      ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
			      ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

void history_sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t full = len / 64 * 64;
	for (size_t i = 0; i < full; i += 64)
		sha_block(h, p + i);
	unsigned char tail[128] = {0};
	size_t rest = len - full, tl = rest < 56 ? 64 : 128;
	memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < tl; i += 64)
		sha_block(h, tail + i);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}

/* ---- statements ---- */

static int db_err(history *h, errbuf *e, const char *what)
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

static int exec(history *h, const char *sql, errbuf *e)
{
	if (sqlite3_exec(h->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(h, e, "updating it");
	return 0;
}

static sqlite3_stmt *prep(history *h, const char *sql, errbuf *e)
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

/* The canonical text of a configuration's params (sorted keys, no
 * spaces), so that SQL can match parameter sets with `IS`; NULL when the
 * configuration has none, which only matches none (as in compare). */
static char *params_text(json_t *c)
{
	json_t *p = json_object_get(c, "params");
	return p ? json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT |
				      JSON_ENCODE_ANY)
		 : NULL;
}

/* ---- schema ----
 *
 * Version 2 added configs.params; columns only ever get appended, so a
 * migrated database and a new one have the same tables. */

static const char *const schema_sql =
	"CREATE TABLE contend_schema(version INTEGER NOT NULL);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY,"
	" content_sha256 TEXT NOT NULL UNIQUE, source TEXT NOT NULL,"
	" file TEXT, added_utc TEXT NOT NULL, utc_time TEXT, host TEXT,"
	" cpu_model TEXT, logical_cores INTEGER, physical_cores INTEGER,"
	" kernel TEXT, compiler TEXT, cflags TEXT, contend_version TEXT,"
	" git_rev TEXT, command TEXT, status TEXT, builds TEXT,"
	" workloads TEXT, document TEXT NOT NULL);"
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
static int survey(history *h, int *ours, int *none, char *others,
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

static int check_version(history *h, int *version, errbuf *e)
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

static int create_schema(history *h, int *version, errbuf *e)
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
static int check_schema(history *h, int create, int *version, errbuf *e)
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

static int backfill_run(history *h, sqlite3_stmt *up, sqlite3_int64 run,
			json_t *doc, errbuf *e)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		char *text = params_text(c);
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
static int backfill_row(history *h, sqlite3_stmt *st, sqlite3_stmt *up,
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
static int backfill_params(history *h, errbuf *e)
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

/* Within the caller's write transaction, so a failed upgrade leaves the
 * file as it was and concurrent opens upgrade it once. */
static int migrate(history *h, int version, errbuf *e)
{
	if (version == HISTORY_SCHEMA_VERSION)
		return 0;
	char sql[96];
	snprintf(sql, sizeof sql, "UPDATE contend_schema SET version=%d",
		 HISTORY_SCHEMA_VERSION);
	if (exec(h, "ALTER TABLE configs ADD COLUMN params TEXT", e) ||
	    backfill_params(h, e))
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

static int quick_check(history *h, errbuf *e)
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

static int setup(history *h, int create, errbuf *e)
{
	int version = 0;
	sqlite3_busy_timeout(h->db, BUSY_TIMEOUT_MS);
	if (exec(h, "PRAGMA foreign_keys=ON", e) || quick_check(h, e))
		return -1;
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

int history_open(const char *path, int create, history **out, errbuf *e)
{
	*out = NULL;
	if (check_magic(path, create, e))
		return -1;
	history *h = calloc(1, sizeof *h);
	if (!h)
		return errf(e, "out of memory");
	snprintf(h->path, sizeof h->path, "%s", path);
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
		errf(e, "cannot open history '%s': %s", path,
		     h->db ? sqlite3_errmsg(h->db) : "out of memory");
		history_close(h);
		return -1;
	}
	if (setup(h, create, e)) {
		history_close(h);
		return -1;
	}
	*out = h;
	return 0;
}

void history_close(history *h)
{
	if (!h)
		return;
	sqlite3_close(h->db);
	free(h);
}

/* ---- adding a document ---- */

static int step_done(history *h, sqlite3_stmt *st, errbuf *e, const char *w)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(h, e, w);
	return 0;
}

/* Distinct values of one config field, comma-separated, for the run row. */
static void distinct_field(json_t *doc, const char *field, char *buf,
			   size_t len)
{
	json_t *seen = json_object(), *c;
	size_t i;
	buf[0] = 0;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		const char *v = json_string_value(json_object_get(c, field));
		if (!v || json_object_get(seen, v))
			continue;
		json_object_set_new(seen, v, json_true());
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", used ? "," : "", v);
	}
	json_decref(seen);
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

static int insert_run(history *h, json_t *doc, const char *hash,
		      const char *source, const char *file, const char *text,
		      errbuf *e)
{
	sqlite3_stmt *st = prep(h,
		"INSERT INTO runs(content_sha256, source, file, added_utc,"
		" utc_time, host, cpu_model, logical_cores, physical_cores,"
		" kernel, compiler, cflags, contend_version, git_rev, command,"
		" status, builds, workloads, document) VALUES(?1,?2,?3,?4,?5,"
		"?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)", e);
	if (!st)
		return -1;
	char now[32], builds[512], workloads[1024];
	utc_now(now, sizeof now);
	distinct_field(doc, "build", builds, sizeof builds);
	distinct_field(doc, "workload", workloads, sizeof workloads);
	json_t *ctx = json_object_get(doc, "context");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, file, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	for (int i = 0; run_ctx_cols[i]; i++)
		bind_json(st, 5 + i, json_object_get(ctx, run_ctx_cols[i]));
	bind_json(st, 16, json_object_get(doc, "status"));
	sqlite3_bind_text(st, 17, builds, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 18, workloads, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 19, text, -1, SQLITE_TRANSIENT);
	return step_done(h, st, e, "adding the run");
}

static const char *const config_cols[] = {
	"workload", "build", "pool", "workers", "start", "ntasks",
	"median_wall_s", "ci_low_s", "ci_high_s", "ci_level", "median_cpu_s",
	"speedup", "efficiency", "status", "detail", NULL};

static int insert_reps(history *h, json_t *c, sqlite3_int64 row, errbuf *e)
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

static int insert_config(history *h, json_t *c, sqlite3_int64 run,
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
	usl_series_key(c, key, sizeof key);
	sqlite3_bind_int64(st, 1, run);
	bind_json(st, 2, json_object_get(c, "id"));
	sqlite3_bind_text(st, 3, key, -1, SQLITE_TRANSIENT);
	for (int i = 0; config_cols[i]; i++)
		bind_json(st, 4 + i, json_object_get(c, config_cols[i]));
	char *params = params_text(c);
	sqlite3_bind_text(st, 19, params, -1, SQLITE_TRANSIENT);
	free(params);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return errf(e, "the document has configuration id '%s' more "
			    "than once", json_string_value(json_object_get(c, "id")));
	if (rc != SQLITE_DONE)
		return db_err(h, e, "adding a configuration");
	return insert_reps(h, c, sqlite3_last_insert_rowid(h->db), e);
}

static int find_hash(history *h, const char *hash, int64_t *run_id,
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

static int add_locked(history *h, json_t *doc, const char *source,
		      const char *file, const char *text, int64_t *run_id,
		      int *duplicate, errbuf *e)
{
	char hash[65];
	history_sha256_hex(text, strlen(text), hash);
	if (find_hash(h, hash, run_id, duplicate, e) || *duplicate)
		return *duplicate ? 0 : -1;
	if (insert_run(h, doc, hash, source, file, text, e))
		return -1;
	*run_id = sqlite3_last_insert_rowid(h->db);
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (insert_config(h, c, *run_id, e))
			return -1;
	return 0;
}

int history_add(history *h, json_t *doc, const char *source,
		const char *file, int64_t *run_id, int *duplicate, errbuf *e)
{
	*duplicate = 0;
	*run_id = 0;
	if (results_validate(doc, e))
		return -1;
	/* Sorted keys and full precision: the same content always hashes the
	 * same, whatever the key order or layout of the file. */
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT |
					     JSON_REAL_PRECISION(17));
	if (!text)
		return errf(e, "cannot encode the document");
	int rc = exec(h, "BEGIN IMMEDIATE", e);
	if (!rc)
		rc = add_locked(h, doc, source ? source : "contend", file, text,
				run_id, duplicate, e);
	if (!rc)
		rc = exec(h, "COMMIT", e);
	else
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	free(text);
	return rc;
}

/* ---- reading ---- */

int history_list(history *h, json_t **runs, errbuf *e)
{
	sqlite3_stmt *st = prep(h,
		"SELECT r.id, r.utc_time, r.host, r.cpu_model, r.git_rev,"
		" r.builds, r.workloads, (SELECT count(*) FROM configs c WHERE"
		" c.run_id = r.id), r.status, r.source, r.file FROM runs r"
		" ORDER BY r.utc_time, r.id", e);
	static const char *const keys[] = {"run_id", "utc_time", "host",
					   "cpu_model", "git_rev", "builds",
					   "workloads", "configs", "status",
					   "source", "file"};
	if (!st)
		return -1;
	json_t *out = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < 11; i++)
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

int history_get_run(history *h, int64_t run_id, json_t **doc, errbuf *e)
{
	*doc = NULL;
	sqlite3_stmt *st = prep(h, "SELECT document FROM runs WHERE id=?1", e);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	int rc = sqlite3_step(st);
	json_t *d = NULL;
	if (rc == SQLITE_ROW)
		d = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return errf(e, "history '%s' has no run %lld", h->path,
			    (long long)run_id);
	if (rc != SQLITE_ROW)
		return db_err(h, e, "reading a run");
	if (!d || results_validate(d, e)) {
		json_decref(d);
		return errf(e, "history '%s': run %lld holds a damaged "
			    "document", h->path, (long long)run_id);
	}
	*doc = d;
	return 0;
}

static int one_id(history *h, sqlite3_stmt *st, int64_t *id, int *found,
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
static int earlier_run(history *h, int64_t newest, int back, int ids_only,
		       int64_t *base, int *found, errbuf *e)
{
	sqlite3_stmt *st = prep(h,
		"SELECT r.id FROM runs r, runs n WHERE n.id = ?1 AND"
		" (r.utc_time < n.utc_time OR (r.utc_time IS n.utc_time AND"
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

int history_pick_pair(history *h, int back, int64_t *base, int64_t *newest,
		      errbuf *e)
{
	int found, matching;
	sqlite3_stmt *st = prep(h, "SELECT id FROM runs ORDER BY utc_time DESC,"
				" id DESC LIMIT 1", e);
	if (!st || one_id(h, st, newest, &found, e))
		return -1;
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
		return errf(e, "history '%s' has no earlier run with "
			    "configurations in common with the newest run "
			    "(%lld) to compare with", h->path,
			    (long long)*newest);
	return 0;
}

int history_workloads(history *h, json_t **names, errbuf *e)
{
	sqlite3_stmt *st = prep(h, "SELECT DISTINCT workload FROM configs "
				"WHERE workload IS NOT NULL ORDER BY workload",
				e);
	if (!st)
		return -1;
	json_t *out = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(out, col_json(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return db_err(h, e, "listing workloads");
	}
	*names = out;
	return 0;
}

int history_latest_run(history *h, const char *workload, int64_t *run_id,
		       errbuf *e)
{
	int found;
	sqlite3_stmt *st = prep(h,
		"SELECT r.id FROM runs r WHERE EXISTS (SELECT 1 FROM configs c"
		" WHERE c.run_id = r.id AND c.workload = ?1)"
		" ORDER BY r.utc_time DESC, r.id DESC LIMIT 1", e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_TRANSIENT);
	if (one_id(h, st, run_id, &found, e))
		return -1;
	return found ? 0 : errf(e, "history '%s' has no run of workload '%s'",
				h->path, workload);
}

static int trend_walls(history *h, sqlite3_int64 row, json_t *walls,
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

static int trend_rows(history *h, sqlite3_stmt *st, json_t *trend,
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
	"WITH latest AS (SELECT c.config_id, c.params FROM configs c"
	" WHERE c.workload = ?1 AND c.run_id = (SELECT r3.id FROM runs r3"
	" JOIN configs c3 ON c3.run_id = r3.id WHERE c3.workload = ?1 AND"
	" c3.config_id = c.config_id ORDER BY r3.utc_time DESC, r3.id DESC"
	" LIMIT 1)),"
	" cur AS (SELECT c.* FROM configs c JOIN latest l ON"
	" l.config_id = c.config_id AND c.params IS l.params"
	" WHERE c.workload = ?1),"
	" recent AS (SELECT r2.id FROM runs r2 WHERE r2.id IN (SELECT run_id"
	" FROM cur) ORDER BY r2.utc_time DESC, r2.id DESC LIMIT ?2)"
	" SELECT r.id, r.utc_time, r.git_rev, r.host, c.id, c.config_id,"
	" c.median_wall_s, c.ci_low_s, c.ci_high_s, c.status, c.series,"
	" c.workers, c.params FROM cur c JOIN runs r ON r.id = c.run_id"
	" WHERE r.id IN (SELECT id FROM recent) ORDER BY r.utc_time, r.id, c.id";

int history_trend(history *h, const char *workload, int max_runs,
		  json_t **trend, errbuf *e)
{
	*trend = NULL;
	sqlite3_stmt *st = prep(h, trend_sql, e);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, workload, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, max_runs);
	json_t *t = json_pack("{s:s, s:[], s:[]}", "workload", workload, "runs",
			      "configs");
	int rc = trend_rows(h, st, t, e);
	sqlite3_finalize(st);
	if (rc) {
		json_decref(t);
		return -1;
	}
	*trend = t;
	return 0;
}

/* ---- Google Benchmark JSON ---- */

static double unit_seconds(const char *unit)
{
	if (!unit || !strcmp(unit, "ns"))
		return 1e-9; /* Google Benchmark's default */
	if (!strcmp(unit, "us"))
		return 1e-6;
	if (!strcmp(unit, "ms"))
		return 1e-3;
	if (!strcmp(unit, "s"))
		return 1;
	return NAN;
}

/* "BM_x/8/repeats:3/threads:2" -> args "8": the name's own arguments,
 * without the parts Google Benchmark adds for repetitions and threads. */
static void gb_args(const char *run_name, char *args, size_t len)
{
	const char *slash = strchr(run_name, '/');
	args[0] = 0;
	char part[256];
	while (slash) {
		const char *next = strchr(slash + 1, '/');
		size_t n = next ? (size_t)(next - slash - 1) : strlen(slash + 1);
		snprintf(part, sizeof part, "%.*s", (int)n, slash + 1);
		if (strncmp(part, "repeats:", 8) && strncmp(part, "threads:", 8) &&
		    strcmp(part, "real_time") && strcmp(part, "process_time") &&
		    strncmp(part, "min_time:", 9) && strncmp(part, "iterations:", 11)) {
			size_t used = strlen(args);
			int k = snprintf(args + used, len - used, "%s%s",
					 used ? "/" : "", part);
			if (k < 0 || (size_t)k >= len - used)
				break; /* keep what fits */
		}
		slash = next;
	}
}

static json_t *gb_new_config(json_t *b, const char *run_name,
			     const char *build)
{
	char workload[256], args[256];
	snprintf(workload, sizeof workload, "%.*s",
		 (int)strcspn(run_name, "/"), run_name);
	gb_args(run_name, args, sizeof args);
	json_t *threads = json_object_get(b, "threads");
	json_int_t w = json_is_integer(threads) ? json_integer_value(threads)
						 : 1;
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:{}, s:[]}", "id",
			      run_name, "workload", workload, "build", build,
			      "pool", "gbench", "workers", w, "params", "reps");
	if (args[0])
		json_object_set_new(c, "args", json_string(args));
	return c;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *gb_rep(json_t *b)
{
	double scale = unit_seconds(jstr(b, "time_unit"));
	json_t *rt = json_object_get(b, "real_time");
	json_t *ct = json_object_get(b, "cpu_time");
	const char *why = jstr(b, "error_message");
	if (json_is_true(json_object_get(b, "error_occurred")))
		return json_pack("{s:f, s:s, s:s}", "wall_s", 0.0, "status",
				 "error", "detail", why ? why : "error");
	if (!json_is_number(rt) || !isfinite(scale))
		return NULL;
	json_t *r = json_pack("{s:f, s:s}", "wall_s",
			      json_number_value(rt) * scale, "status", "ok");
	if (json_is_number(ct))
		json_object_set_new(r, "cpu_s",
				    json_real(json_number_value(ct) * scale));
	json_object_set(r, "iterations", json_object_get(b, "iterations"));
	return r;
}

static void gb_summarise(json_t *c)
{
	json_t *reps = json_object_get(c, "reps"), *r;
	size_t i, n = 0;
	double *w = calloc(json_array_size(reps) + 1, sizeof *w);
	if (!w)
		return;
	json_array_foreach(reps, i, r)
		if (!strcmp(json_string_value(json_object_get(r, "status")), "ok"))
			w[n++] = json_number_value(json_object_get(r, "wall_s"));
	struct summary s;
	stats_summarise(w, n, &s);
	free(w);
	json_object_set_new(c, "status", json_string(n ? "ok" : "error"));
	if (!n)
		return;
	json_object_set_new(c, "median_wall_s", json_real(s.median));
	json_object_set_new(c, "min_wall_s", json_real(s.min));
	json_object_set_new(c, "max_wall_s", json_real(s.max));
	json_object_set_new(c, "ci_low_s", json_real(s.ci_low));
	json_object_set_new(c, "ci_high_s", json_real(s.ci_high));
	json_object_set_new(c, "ci_level", json_real(s.ci_level));
}

static json_int_t workers_of(json_t *c)
{
	return json_integer_value(json_object_get(c, "workers"));
}

/* The 1-thread configuration of c's series, or NULL. */
static json_t *gb_baseline(json_t *configs, json_t *c)
{
	json_t *b;
	size_t i;
	char k1[512], k2[512];
	usl_series_key(c, k1, sizeof k1);
	json_array_foreach(configs, i, b) {
		usl_series_key(b, k2, sizeof k2);
		if (!strcmp(k1, k2) && workers_of(b) == 1 &&
		    json_is_number(json_object_get(b, "median_wall_s")))
			return b;
	}
	return NULL;
}

/* speedup and efficiency against the 1-thread run of the same series */
static void gb_speedups(json_t *configs)
{
	json_t *c, *b;
	size_t i;
	json_array_foreach(configs, i, c) {
		json_t *m = json_object_get(c, "median_wall_s");
		if (!json_is_number(m) || !(b = gb_baseline(configs, c)))
			continue;
		double sp = json_number_value(json_object_get(b, "median_wall_s")) /
			    json_number_value(m);
		json_object_set(c, "baseline", json_object_get(b, "id"));
		json_object_set_new(c, "speedup", json_real(sp));
		json_object_set_new(c, "efficiency",
				    json_real(sp / (double)workers_of(c)));
	}
}

static json_t *gb_context(json_t *ctx)
{
	json_t *o = json_object();
	struct { const char *from, *to; } map[] = {
		{"host_name", "host"}, {"date", "utc_time"},
		{"num_cpus", "logical_cores"}, {"executable", "command"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		json_t *v = json_object_get(ctx, map[i].from);
		if (v)
			json_object_set(o, map[i].to, v);
	}
	json_object_set_new(o, "source", json_string("google-benchmark"));
	return o;
}

/* Aggregates are recomputed from the repetitions; a file written with
 * only aggregates contributes its median as one repetition. */
static int gb_wanted(json_t *b, json_t *index)
{
	const char *rt = jstr(b, "run_type"), *agg = jstr(b, "aggregate_name");
	if (!rt || !strcmp(rt, "iteration"))
		return 1;
	const char *run = jstr(b, "run_name");
	json_t *c = run ? json_object_get(index, run) : NULL;
	return !strcmp(rt, "aggregate") && agg && !strcmp(agg, "median") &&
	       (!c || json_array_size(json_object_get(c, "reps")) == 0);
}

static int gb_entry_into(json_t *b, json_t *configs, json_t *index,
			 const char *build, errbuf *e)
{
	const char *name = jstr(b, "name"), *run = jstr(b, "run_name");
	if (!name)
		return errf(e, "a Google Benchmark entry has no 'name'");
	if (!run)
		run = name;
	if (!gb_wanted(b, index))
		return 0;
	json_t *c = json_object_get(index, run);
	if (!c) {
		c = gb_new_config(b, run, build);
		json_object_set_new(index, run, c);
		json_array_append(configs, c);
	}
	json_t *r = gb_rep(b);
	if (!r)
		return errf(e, "Google Benchmark entry '%s' has no usable "
			    "real_time/time_unit", name);
	json_array_append_new(json_object_get(c, "reps"), r);
	return 0;
}

json_t *history_from_gbench(json_t *gb, errbuf *e)
{
	json_t *list = json_object_get(gb, "benchmarks");
	json_t *ctx = json_object_get(gb, "context");
	if (!json_is_array(list) || !json_is_object(ctx)) {
		errf(e, "not Google Benchmark JSON (needs 'context' and "
		     "'benchmarks')");
		return NULL;
	}
	const char *build = jstr(ctx, "library_build_type");
	json_t *configs = json_array(), *index = json_object(), *b;
	size_t i;
	json_array_foreach(list, i, b) {
		int bad = !json_is_object(b)
				  ? errf(e, "benchmarks[%zu] is not an object", i)
				  : gb_entry_into(b, configs, index,
						  build ? build : "unknown", e);
		if (bad) {
			json_decref(configs);
			json_decref(index);
			return NULL;
		}
	}
	json_decref(index);
	json_array_foreach(configs, i, b)
		gb_summarise(b);
	gb_speedups(configs);
	return json_pack("{s:s, s:s, s:o, s:o}", "schema", RESULTS_SCHEMA,
			 "status", "complete", "context", gb_context(ctx),
			 "configs", configs);
}

int history_load_file(const char *path, json_t **doc, const char **source,
		      errbuf *e)
{
	json_error_t je;
	*doc = NULL;
	int fd = jsonfile_open_regular(path, e); /* a FIFO would block */
	if (fd < 0)
		return -1;
	close(fd);
	json_t *d = jsonfile_load(path, JSON_REJECT_DUPLICATES, &je);
	if (!d)
		return errf(e, "'%s' is not valid JSON: %s (line %d)", path,
			    je.text, je.line);
	if (json_is_object(d) && !json_object_get(d, "schema") &&
	    json_object_get(d, "benchmarks")) {
		json_t *m = history_from_gbench(d, e);
		json_decref(d);
		if (!m)
			return errprefix(e, "'%s'", path);
		*source = "gbench";
		*doc = m;
		return 0;
	}
	if (results_validate(d, e)) {
		json_decref(d);
		return errprefix(e, "'%s'", path);
	}
	*source = "contend";
	*doc = d;
	return 0;
}
