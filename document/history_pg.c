/* history_pg.c - the PostgreSQL backend of the history (history_backend.h),
 * for a fleet: many machines add their runs to one server.
 *
 * A location is a libpq URI (postgresql://... or postgres://...). The
 * tables are SQLite's, typed for PostgreSQL. Every write is one
 * transaction; the run row is inserted with ON CONFLICT DO NOTHING on the
 * unique content hash, so two writers adding the same document at once
 * store it once (the second waits for the first to commit, then sees it).
 * Creating or upgrading the schema holds a transaction-scoped advisory
 * lock, so it happens once when several processes open a new database
 * together. A server that cannot be reached, or that goes away, fails the
 * call with HISTORY_UNAVAILABLE; the open transaction dies with the
 * connection, so nothing half-written is ever kept. */
#include "document/history.h"
#include "document/history_backend.h"

#ifdef CONTEND_NO_LIBPQ
/* A static build (Makefile, STATIC=1) made where postgresql-server-dev's
 * libpgcommon/libpgport archives, which libpq.a needs, are missing: it
 * claims PostgreSQL URIs only to say it cannot serve them. Such a machine
 * keeps a SQLite history and `contend history copy` moves it to the
 * server. */
#include <string.h>

static int pg_claims(const char *location)
{
	return !strncmp(location, "postgresql://", 13) ||
	       !strncmp(location, "postgres://", 11);
}

static int pg_open(const char *location, int create, void **out, errbuf *e)
{
	(void)create;
	*out = NULL;
	char loc[4096];
	history_location_display(location, loc, sizeof loc);
	errf(e, "history '%s': this contend was built without PostgreSQL (the "
	     "static build); keep a SQLite history here and move it with "
	     "'contend history copy'", loc);
	return HISTORY_UNAVAILABLE;
}

const struct history_backend history_pg = {
	.name = "postgresql",
	.claims = pg_claims,
	.open = pg_open,
};
#else

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Type OIDs of the columns we read (pg_type.h is a server header). */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

/* Key of the advisory lock serialising schema creation and upgrades
 * ("cont" in ASCII). */
#define SCHEMA_LOCK_KEY "1668247156"

struct pgh {
	PGconn *c;
	int adding;     /* within an add's transaction */
	char loc[4096]; /* for messages: the password masked */
};
typedef struct pgh pgh;

/* ---- errors ---- */

/* libpq's messages span lines ("...failed: ...\n\tIs the server
 * running...?"): one line, blanks collapsed. */
static void one_line(const char *msg, char *buf, size_t len)
{
	size_t n = 0;
	int blank = 1;
	for (const char *p = msg ? msg : ""; *p && n + 1 < len; p++) {
		int sp = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
		if (sp && blank)
			continue;
		buf[n++] = sp ? ' ' : *p;
		blank = sp;
	}
	while (n && buf[n - 1] == ' ')
		n--;
	buf[n] = 0;
}

/* Fails a call: the connection lost (or never made) is the server's
 * absence, HISTORY_UNAVAILABLE; any other server error is a runtime
 * failure of the work, reported the same way. */
static int pg_fail(pgh *h, const PGresult *r, const char *what, errbuf *e)
{
	char msg[400];
	one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(h->c), msg,
		 sizeof msg);
	if (!msg[0])
		one_line(PQerrorMessage(h->c), msg, sizeof msg);
	if (PQstatus(h->c) == CONNECTION_BAD)
		errf(e, "history '%s': the PostgreSQL server went away while "
		     "%s (%s)%s", h->loc, what, msg,
		     h->adding ? "; the run was not stored" : "");
	else
		errf(e, "history '%s': %s while %s", h->loc, msg, what);
	return HISTORY_UNAVAILABLE;
}

/* ---- statements ---- */

/* Parameters of one statement as text (libpq's text format). */
struct params {
	int n;
	const char *v[24];
	char num[24][32];
};

static void p_str(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void p_int(struct params *p, long long x)
{
	snprintf(p->num[p->n], sizeof p->num[0], "%lld", x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* A JSON value for a numeric column: numbers and booleans, else NULL. */
static void p_num(struct params *p, json_t *v)
{
	char *b = p->num[p->n];
	const char *out = b;
	if (json_is_integer(v))
		snprintf(b, 32, "%" PRId64, (int64_t)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(b, 32, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(b, 32, "%d", json_is_true(v));
	else
		out = NULL;
	p->v[p->n++] = out;
}

/* A JSON value for a text column: strings as they are, numbers as text. */
static void p_text(struct params *p, json_t *v)
{
	if (json_is_string(v))
		p_str(p, json_string_value(v));
	else
		p_num(p, v);
}

/* Runs sql with p; *out is the result (PQclear it) unless NULL is
 * passed, in which case it is cleared here. */
static int q(pgh *h, const char *sql, const struct params *p,
	     PGresult **out, const char *what, errbuf *e)
{
	/* Without parameters, the simple protocol: sql may hold several
	 * statements (the schema). */
	PGresult *r = p ? PQexecParams(h->c, sql, p->n, NULL, p->v, NULL,
				       NULL, 0)
			: PQexec(h->c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = pg_fail(h, r, what, e);
		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static void rollback(pgh *h)
{
	if (PQstatus(h->c) == CONNECTION_OK)
		PQclear(PQexec(h->c, "ROLLBACK"));
}

static json_t *col_json(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return json_null();
	const char *v = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return json_integer(strtoll(v, NULL, 10));
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return json_real(strtod(v, NULL));
	case OID_BOOL:
		return json_boolean(v[0] == 't');
	default:
		return json_string(v);
	}
}

static int64_t col_int(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- schema ----
 *
 * SQLite's tables, column for column (history_sqlite.c), with COLLATE "C"
 * on the text that is ordered or compared, so order is SQLite's byte
 * order whatever the server's locale. */

static const char *const schema_sql =
	"CREATE TABLE contend_schema(version INTEGER NOT NULL);"
	"CREATE TABLE runs(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	" PRIMARY KEY, content_sha256 TEXT NOT NULL UNIQUE,"
	" source TEXT NOT NULL, file TEXT, added_utc TEXT NOT NULL,"
	" utc_time TEXT COLLATE \"C\", host TEXT, cpu_model TEXT,"
	" logical_cores BIGINT, physical_cores BIGINT, kernel TEXT,"
	" compiler TEXT, cflags TEXT, contend_version TEXT, git_rev TEXT,"
	" command TEXT, status TEXT, builds TEXT, workloads TEXT,"
	" document TEXT NOT NULL, machine TEXT COLLATE \"C\");"
	"CREATE INDEX runs_machine ON runs(machine, utc_time);"
	"CREATE TABLE configs(id BIGINT GENERATED BY DEFAULT AS IDENTITY"
	" PRIMARY KEY, run_id BIGINT NOT NULL REFERENCES runs(id)"
	" ON DELETE CASCADE, config_id TEXT COLLATE \"C\" NOT NULL,"
	" series TEXT, workload TEXT COLLATE \"C\", build TEXT, pool TEXT,"
	" workers BIGINT, start TEXT, ntasks BIGINT,"
	" median_wall_s DOUBLE PRECISION, ci_low_s DOUBLE PRECISION,"
	" ci_high_s DOUBLE PRECISION, ci_level DOUBLE PRECISION,"
	" median_cpu_s DOUBLE PRECISION, speedup DOUBLE PRECISION,"
	" efficiency DOUBLE PRECISION, status TEXT, detail TEXT, params TEXT,"
	" UNIQUE(run_id, config_id));"
	"CREATE INDEX configs_workload ON configs(workload, run_id);"
	"CREATE INDEX configs_config_id ON configs(config_id);"
	"CREATE TABLE reps(config_row BIGINT NOT NULL REFERENCES configs(id)"
	" ON DELETE CASCADE, idx INTEGER NOT NULL, wall_s DOUBLE PRECISION,"
	" cpu_s DOUBLE PRECISION, status TEXT, checksum TEXT,"
	" tasks_done BIGINT, PRIMARY KEY(config_row, idx));";

static const char *const our_tables[] = {"configs", "contend_schema", "reps",
					 "runs", NULL};

/* What the current schema (search_path's first) holds: all our tables,
 * none, or others (listed). */
static int survey(pgh *h, int *ours, int *none, char *others, size_t olen,
		  errbuf *e)
{
	PGresult *r = NULL;
	if (q(h, "SELECT table_name::text FROM information_schema.tables"
		 " WHERE table_schema = current_schema() ORDER BY 1", NULL, &r,
	      "reading its tables", e))
		return HISTORY_UNAVAILABLE;
	int n = PQntuples(r), mine = 0;
	others[0] = 0;
	for (int i = 0; i < n; i++) {
		const char *t = PQgetvalue(r, i, 0);
		int found = 0;
		for (size_t k = 0; our_tables[k]; k++)
			found |= !strcmp(t, our_tables[k]);
		if (found) {
			mine++;
		} else if (strlen(others) + strlen(t) + 3 < olen) {
			if (others[0])
				strcat(others, ", ");
			strcat(others, t);
		}
	}
	PQclear(r);
	*none = n == 0;
	*ours = mine == 4 && n == mine;
	if (!*none && !*ours && !others[0])
		snprintf(others, olen, "an incomplete set of contend tables");
	return 0;
}

static int read_version(pgh *h, int *version, errbuf *e)
{
	PGresult *r = NULL;
	if (q(h, "SELECT max(version) FROM contend_schema", NULL, &r,
	      "reading its schema version", e))
		return HISTORY_UNAVAILABLE;
	int v = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (v > HISTORY_SCHEMA_VERSION)
		return errf(e, "history '%s' has schema version %d, newer than "
			    "this contend understands (%d); use a newer "
			    "contend", h->loc, v, HISTORY_SCHEMA_VERSION);
	if (v < 1)
		return errf(e, "history '%s' has no schema version; it is "
			    "damaged or not contend's", h->loc);
	*version = v;
	return 0;
}

static int create_schema(pgh *h, int *version, errbuf *e)
{
	char sql[96];
	snprintf(sql, sizeof sql, "INSERT INTO contend_schema VALUES(%d)",
		 HISTORY_SCHEMA_VERSION);
	*version = HISTORY_SCHEMA_VERSION;
	int rc = q(h, schema_sql, NULL, NULL, "creating its tables", e);
	return rc ? rc : q(h, sql, NULL, NULL, "creating its tables", e);
}

static int check_schema(pgh *h, int create, int *version, errbuf *e)
{
	int ours = 0, none = 0, rc;
	char others[256];
	if ((rc = survey(h, &ours, &none, others, sizeof others, e)))
		return rc;
	if (none && create)
		return create_schema(h, version, e);
	if (none)
		return errf(e, "history '%s' is empty: add runs with 'contend "
			    "history add'", h->loc);
	if (!ours)
		return errf(e, "'%s' is a PostgreSQL database of something "
			    "else (tables: %s); refusing to use it as "
			    "contend's history", h->loc, others);
	return read_version(h, version, e);
}

/* ---- upgrades: the same steps as SQLite's ---- */

/* Version 2 added configs.params: the canonical text history_add writes,
 * read back from the stored documents. */
static int backfill_params(pgh *h, errbuf *e)
{
	PGresult *r = NULL;
	int rc = q(h, "SELECT id, document FROM runs", NULL, &r,
		   "upgrading it", e);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		json_t *doc = json_loads(PQgetvalue(r, i, 1), 0, NULL), *c;
		size_t k;
		if (!doc) {
			rc = errf(e, "history '%s': run %s holds a damaged "
				  "document, so it cannot be upgraded", h->loc,
				  PQgetvalue(r, i, 0));
			break;
		}
		json_array_foreach(json_object_get(doc, "configs"), k, c) {
			char *text = history_params_text(c);
			struct params p = {0};
			if (!text)
				continue;
			p_str(&p, text);
			p_str(&p, PQgetvalue(r, i, 0));
			p_text(&p, json_object_get(c, "id"));
			rc = q(h, "UPDATE configs SET params = $1 WHERE run_id ="
			       " $2 AND config_id = $3", &p, NULL,
			       "upgrading it", e);
			free(text);
			if (rc)
				break;
		}
		json_decref(doc);
	}
	PQclear(r);
	return rc;
}

/* Version 3: runs.machine, as results_machine reads it. */
static const char *const machine_sql =
	"ALTER TABLE runs ADD COLUMN machine TEXT COLLATE \"C\";"
	"UPDATE runs SET machine = coalesce(nullif(document::jsonb"
	" #>> '{context,machine}', ''), nullif(host, ''), 'unknown');"
	"CREATE INDEX runs_machine ON runs(machine, utc_time);";

static int migrate(pgh *h, int version, errbuf *e)
{
	if (version == HISTORY_SCHEMA_VERSION)
		return 0;
	int rc = 0;
	if (version < 2)
		rc = q(h, "ALTER TABLE configs ADD COLUMN params TEXT", NULL,
		       NULL, "upgrading it", e);
	if (!rc && version < 2)
		rc = backfill_params(h, e);
	if (!rc && version < 3)
		rc = q(h, machine_sql, NULL, NULL, "upgrading it", e);
	char sql[96];
	snprintf(sql, sizeof sql, "UPDATE contend_schema SET version=%d",
		 HISTORY_SCHEMA_VERSION);
	return rc ? rc : q(h, sql, NULL, NULL, "upgrading it", e);
}

static int pg_schema(void *impl, int create, errbuf *e)
{
	pgh *h = impl;
	int version = 0, rc;
	/* Readers of a current schema take no lock; creating or upgrading
	 * looks again under the lock, as another process may have done it. */
	if (!create) {
		if ((rc = check_schema(h, 0, &version, e)))
			return rc;
		if (version == HISTORY_SCHEMA_VERSION)
			return 0;
	}
	if ((rc = q(h, "BEGIN", NULL, NULL, "opening it", e)) ||
	    (rc = q(h, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY ")",
		    NULL, NULL, "opening it", e)) ||
	    (rc = check_schema(h, create, &version, e)) ||
	    (rc = migrate(h, version, e)) ||
	    (rc = q(h, "COMMIT", NULL, NULL, "updating its schema", e))) {
		rollback(h);
		return rc;
	}
	return 0;
}

/* ---- connecting ---- */

static int pg_claims(const char *location)
{
	return !strncmp(location, "postgresql://", 13) ||
	       !strncmp(location, "postgres://", 11);
}

static void quiet(void *arg, const char *message)
{
	(void)arg; /* a backend never prints (history_backend.h) */
	(void)message;
}

static void pg_close(void *impl)
{
	pgh *h = impl;
	if (!h)
		return;
	PQfinish(h->c);
	free(h);
}

static int pg_open(const char *location, int create, void **out, errbuf *e)
{
	(void)create; /* a server's database is made by its administrator */
	*out = NULL;
	pgh *h = calloc(1, sizeof *h);
	if (!h)
		return errf(e, "out of memory");
	history_location_display(location, h->loc, sizeof h->loc);
	/* The URI comes last so that its own connect_timeout wins; without
	 * one a server that does not answer fails in 10 s, not minutes. */
	const char *keys[] = {"connect_timeout", "application_name", "dbname",
			      NULL};
	const char *vals[] = {"10", "contend", location, NULL};
	h->c = PQconnectdbParams(keys, vals, 1);
	if (!h->c || PQstatus(h->c) != CONNECTION_OK) {
		char msg[400];
		one_line(h->c ? PQerrorMessage(h->c) : "out of memory", msg,
			 sizeof msg);
		errf(e, "history '%s': cannot connect to the PostgreSQL "
		     "server: %s", h->loc, msg);
		pg_close(h);
		return HISTORY_UNAVAILABLE;
	}
	PQsetNoticeProcessor(h->c, quiet, NULL);
	*out = h;
	return 0;
}

/* ---- adding a document ---- */

static const char *const run_ctx_cols[] = {
	"utc_time", "host", "cpu_model", "logical_cores", "physical_cores",
	"kernel", "compiler", "cflags", "contend_version", "git_rev", "command",
	NULL};
static const int run_ctx_numeric[] = {0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};

/* The run row, unless a run with the same content is stored (then
 * *inserted = 0 and nothing is written). */
static int insert_run(pgh *h, const struct history_doc *d, int64_t *run_id,
		      int *inserted, errbuf *e)
{
	json_t *doc = d->doc, *ctx = json_object_get(doc, "context");
	char now[32], builds[512], workloads[1024];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	history_distinct_field(doc, "build", builds, sizeof builds);
	history_distinct_field(doc, "workload", workloads, sizeof workloads);
	struct params p = {0};
	p_str(&p, d->sha256);
	p_str(&p, d->source);
	p_str(&p, d->file);
	p_str(&p, now);
	for (int i = 0; run_ctx_cols[i]; i++) {
		json_t *v = json_object_get(ctx, run_ctx_cols[i]);
		if (run_ctx_numeric[i])
			p_num(&p, v);
		else
			p_text(&p, v);
	}
	p_text(&p, json_object_get(doc, "status"));
	p_str(&p, builds);
	p_str(&p, workloads);
	p_str(&p, d->text);
	p_str(&p, d->machine);
	PGresult *r = NULL;
	int rc = q(h,
		"INSERT INTO runs(content_sha256, source, file, added_utc,"
		" utc_time, host, cpu_model, logical_cores, physical_cores,"
		" kernel, compiler, cflags, contend_version, git_rev, command,"
		" status, builds, workloads, document, machine) VALUES($1,$2,$3,"
		"$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)"
		" ON CONFLICT (content_sha256) DO NOTHING RETURNING id", &p, &r,
		"adding the run", e);
	if (rc)
		return rc;
	*inserted = PQntuples(r) == 1;
	if (*inserted)
		*run_id = col_int(r, 0, 0);
	PQclear(r);
	return 0;
}

static const char *const config_cols[] = {
	"workload", "build", "pool", "workers", "start", "ntasks",
	"median_wall_s", "ci_low_s", "ci_high_s", "ci_level", "median_cpu_s",
	"speedup", "efficiency", "status", "detail", NULL};
static const int config_numeric[] = {0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1,
				     0, 0};

static int insert_reps(pgh *h, json_t *c, const char *row, errbuf *e)
{
	json_t *rep;
	size_t i;
	json_array_foreach(json_object_get(c, "reps"), i, rep) {
		struct params p = {0};
		p_str(&p, row);
		p_int(&p, (long long)i);
		p_num(&p, json_object_get(rep, "wall_s"));
		p_num(&p, json_object_get(rep, "cpu_s"));
		p_text(&p, json_object_get(rep, "status"));
		p_text(&p, json_object_get(rep, "checksum"));
		p_num(&p, json_object_get(rep, "tasks_done"));
		int rc = q(h, "INSERT INTO reps VALUES($1,$2,$3,$4,$5,$6,$7)",
			   &p, NULL, "adding repetitions", e);
		if (rc)
			return rc;
	}
	return 0;
}

static int insert_config(pgh *h, json_t *c, int64_t run, errbuf *e)
{
	char key[512];
	history_series_key(c, key, sizeof key);
	char *params = history_params_text(c);
	struct params p = {0};
	p_int(&p, (long long)run);
	p_text(&p, json_object_get(c, "id"));
	p_str(&p, key);
	for (int i = 0; config_cols[i]; i++) {
		json_t *v = json_object_get(c, config_cols[i]);
		if (config_numeric[i])
			p_num(&p, v);
		else
			p_text(&p, v);
	}
	p_str(&p, params);
	PGresult *r = NULL;
	int rc = q(h,
		"INSERT INTO configs(run_id, config_id, series, workload, build,"
		" pool, workers, start, ntasks, median_wall_s, ci_low_s,"
		" ci_high_s, ci_level, median_cpu_s, speedup, efficiency, status,"
		" detail, params) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,"
		"$13,$14,$15,$16,$17,$18,$19) ON CONFLICT (run_id, config_id)"
		" DO NOTHING RETURNING id", &p, &r, "adding a configuration", e);
	free(params);
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return errf(e, "the document has configuration id '%s' more "
			    "than once",
			    json_string_value(json_object_get(c, "id")));
	}
	rc = insert_reps(h, c, PQgetvalue(r, 0, 0), e);
	PQclear(r);
	return rc;
}

/* *found: a run with that content is stored (its id in *run_id). */
static int find_hash(pgh *h, const char *hash, int64_t *run_id, int *found,
		     errbuf *e)
{
	struct params p = {0};
	PGresult *r = NULL;
	p_str(&p, hash);
	int rc = q(h, "SELECT id FROM runs WHERE content_sha256 = $1", &p, &r,
		   "looking for duplicates", e);
	if (rc)
		return rc;
	*found = PQntuples(r) == 1;
	if (*found)
		*run_id = col_int(r, 0, 0);
	PQclear(r);
	return 0;
}

static int add_in_tx(pgh *h, const struct history_doc *d, int64_t *run_id,
		     int *duplicate, errbuf *e)
{
	int inserted = 0, rc = find_hash(h, d->sha256, run_id, &inserted, e);
	if (rc || inserted) { /* already stored: the common re-add */
		*duplicate = inserted;
		return rc;
	}
	if ((rc = insert_run(h, d, run_id, &inserted, e)))
		return rc;
	/* Another writer's committed run of the same content: ON CONFLICT
	 * waited for it, and read committed sees it now. */
	if (!inserted) {
		*duplicate = 1;
		if ((rc = find_hash(h, d->sha256, run_id, &inserted, e)))
			return rc;
		return inserted ? 0 : errf(e, "history '%s': a run with the "
					   "same content was being added and "
					   "vanished", h->loc);
	}
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(d->doc, "configs"), i, c)
		if ((rc = insert_config(h, c, *run_id, e)))
			return rc;
	return 0;
}

static int pg_add(void *impl, const struct history_doc *d, int64_t *run_id,
		  int *duplicate, errbuf *e)
{
	pgh *h = impl;
	h->adding = 1;
	int rc = q(h, "BEGIN", NULL, NULL, "adding the run", e);
	if (!rc)
		rc = add_in_tx(h, d, run_id, duplicate, e);
	if (!rc)
		rc = q(h, "COMMIT", NULL, NULL, "committing the run", e);
	else
		rollback(h);
	h->adding = 0;
	return rc;
}

/* ---- reading ---- */

static int pg_list(void *impl, json_t **runs, errbuf *e)
{
	pgh *h = impl;
	static const char *const keys[] = {"run_id", "utc_time", "host",
					   "cpu_model", "git_rev", "builds",
					   "workloads", "configs", "status",
					   "source", "file", "machine"};
	PGresult *r = NULL;
	int rc = q(h,
		"SELECT r.id, r.utc_time, r.host, r.cpu_model, r.git_rev,"
		" r.builds, r.workloads, (SELECT count(*) FROM configs c WHERE"
		" c.run_id = r.id), r.status, r.source, r.file, r.machine"
		" FROM runs r ORDER BY r.utc_time NULLS FIRST, r.id", NULL, &r,
		"listing runs", e);
	if (rc)
		return rc;
	json_t *out = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_object();
		for (int k = 0; k < 12; k++)
			json_object_set_new(o, keys[k], col_json(r, i, k));
		json_array_append_new(out, o);
	}
	PQclear(r);
	*runs = out;
	return 0;
}

static int pg_get_run(void *impl, int64_t run_id, char **text, errbuf *e)
{
	pgh *h = impl;
	struct params p = {0};
	PGresult *r = NULL;
	*text = NULL;
	p_int(&p, (long long)run_id);
	int rc = q(h, "SELECT document FROM runs WHERE id = $1", &p, &r,
		   "reading a run", e);
	if (rc)
		return rc;
	if (PQntuples(r) == 1)
		*text = strdup(PQgetvalue(r, 0, 0));
	else
		rc = errf(e, "history '%s' has no run %lld", h->loc,
			  (long long)run_id);
	PQclear(r);
	if (!rc && !*text)
		return errf(e, "out of memory");
	return rc;
}

/* One id from sql, *found = 0 when no row. */
static int one_id(pgh *h, const char *sql, const struct params *p,
		  int64_t *id, int *found, errbuf *e)
{
	PGresult *r = NULL;
	int rc = q(h, sql, p, &r, "reading runs", e);
	if (rc)
		return rc;
	*found = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
	if (*found)
		*id = col_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* The run `back` steps before newest among the earlier runs of its
 * machine sharing a configuration with it (history_sqlite.c's). */
static int earlier_run(pgh *h, int64_t newest, int back, int ids_only,
		       int64_t *base, int *found, errbuf *e)
{
	struct params p = {0};
	p_int(&p, (long long)newest);
	p_int(&p, back - 1);
	p_str(&p, ids_only ? "true" : "false");
	return one_id(h,
		"SELECT r.id FROM runs r, runs n WHERE n.id = $1 AND"
		" r.machine = n.machine AND (r.utc_time < n.utc_time OR"
		" (r.utc_time IS NOT DISTINCT FROM n.utc_time AND r.id < n.id)"
		" OR (r.utc_time IS NULL AND n.utc_time IS NOT NULL))"
		" AND EXISTS (SELECT 1 FROM configs a JOIN configs b ON"
		" a.config_id = b.config_id AND ($3::boolean OR"
		" a.params IS NOT DISTINCT FROM b.params)"
		" WHERE a.run_id = r.id AND b.run_id = n.id)"
		" ORDER BY r.utc_time DESC NULLS LAST, r.id DESC"
		" LIMIT 1 OFFSET $2", &p, base, found, e);
}

static int pg_pick_pair(void *impl, const char *machine, int back,
			int64_t *base, int64_t *newest, errbuf *e)
{
	pgh *h = impl;
	int found, matching, rc;
	struct params p = {0};
	p_str(&p, machine);
	if ((rc = one_id(h, "SELECT id FROM runs WHERE $1::text IS NULL OR"
			 " machine = $1 ORDER BY utc_time DESC NULLS LAST,"
			 " id DESC LIMIT 1", &p, newest, &found, e)))
		return rc;
	if (!found && machine)
		return errf(e, "history '%s' holds no runs of machine '%s'",
			    h->loc, machine);
	if (!found)
		return errf(e, "history '%s' holds no runs", h->loc);
	if ((rc = earlier_run(h, *newest, back, 0, base, &found, e)))
		return rc;
	if (found)
		return 0;
	if ((rc = earlier_run(h, *newest, 1, 0, base, &matching, e)))
		return rc;
	if (!matching &&
	    (rc = earlier_run(h, *newest, back, 1, base, &found, e)))
		return rc;
	if (!found)
		return errf(e, "history '%s' has no earlier run of the same "
			    "machine with configurations in common with the "
			    "newest run (%lld) to compare with", h->loc,
			    (long long)*newest);
	return 0;
}

static int names_of(pgh *h, const char *sql, json_t **names, errbuf *e)
{
	PGresult *r = NULL;
	int rc = q(h, sql, NULL, &r, "listing names", e);
	if (rc)
		return rc;
	json_t *out = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(out, col_json(r, i, 0));
	PQclear(r);
	*names = out;
	return 0;
}

static int pg_workloads(void *impl, json_t **names, errbuf *e)
{
	return names_of(impl, "SELECT DISTINCT workload FROM configs WHERE"
			" workload IS NOT NULL ORDER BY workload", names, e);
}

static int pg_machines(void *impl, json_t **names, errbuf *e)
{
	return names_of(impl, "SELECT DISTINCT machine FROM runs WHERE"
			" machine IS NOT NULL ORDER BY machine", names, e);
}

static int pg_latest_run(void *impl, const char *workload,
			 const char *machine, int64_t *run_id, errbuf *e)
{
	int found;
	struct params p = {0};
	p_str(&p, workload);
	p_str(&p, machine);
	*run_id = 0;
	return one_id(impl,
		"SELECT r.id FROM runs r WHERE r.machine = $2 AND EXISTS"
		" (SELECT 1 FROM configs c WHERE c.run_id = r.id AND"
		" c.workload = $1) ORDER BY r.utc_time DESC NULLS LAST, r.id DESC"
		" LIMIT 1", &p, run_id, &found, e);
}

/* history_sqlite.c's trend query; the ok repetitions' walls come along
 * as one array per point. */
static const char *const trend_sql =
	"WITH mine AS (SELECT c.* FROM configs c JOIN runs m ON"
	" m.id = c.run_id AND m.machine = $3 WHERE c.workload = $1),"
	" latest AS (SELECT c.config_id, c.params FROM mine c"
	" WHERE c.run_id = (SELECT r3.id FROM runs r3"
	" JOIN mine c3 ON c3.run_id = r3.id WHERE"
	" c3.config_id = c.config_id ORDER BY r3.utc_time DESC NULLS LAST,"
	" r3.id DESC LIMIT 1)),"
	" cur AS (SELECT c.* FROM mine c JOIN latest l ON"
	" l.config_id = c.config_id AND c.params IS NOT DISTINCT FROM"
	" l.params),"
	" recent AS (SELECT r2.id FROM runs r2 WHERE r2.id IN (SELECT run_id"
	" FROM cur) ORDER BY r2.utc_time DESC NULLS LAST, r2.id DESC"
	" LIMIT $2)"
	" SELECT r.id, r.utc_time, r.git_rev, r.host, c.id, c.config_id,"
	" c.median_wall_s, c.ci_low_s, c.ci_high_s, c.status, c.series,"
	" c.workers, c.params, (SELECT coalesce(json_agg(p.wall_s ORDER BY"
	" p.idx), '[]')::text FROM reps p WHERE p.config_row = c.id AND"
	" p.status = 'ok' AND p.wall_s IS NOT NULL) FROM cur c JOIN runs r"
	" ON r.id = c.run_id WHERE r.id IN (SELECT id FROM recent)"
	" ORDER BY r.utc_time NULLS FIRST, r.id, c.id";

static json_t *col_params(const PGresult *r, int row, int col)
{
	json_t *p = PQgetisnull(r, row, col)
			    ? NULL
			    : json_loads(PQgetvalue(r, row, col),
					 JSON_DECODE_ANY, NULL);
	return p ? p : json_null();
}

/* The walls array as reals (json_agg writes 1 for 1.0). */
static json_t *col_walls(const PGresult *r, int row, int col)
{
	json_t *a = json_loads(PQgetvalue(r, row, col), 0, NULL), *out, *v;
	size_t i;
	out = json_array();
	json_array_foreach(a, i, v)
		json_array_append_new(out, json_real(json_number_value(v)));
	json_decref(a);
	return out;
}

static json_t *trend_config(json_t *trend, json_t *index, const PGresult *r,
			    int i)
{
	const char *id = PQgetvalue(r, i, 5);
	json_t *c = json_object_get(index, id);
	if (c)
		return c;
	c = json_pack("{s:s, s:o, s:o, s:o, s:[]}", "id", id, "series",
		      col_json(r, i, 10), "workers", col_json(r, i, 11),
		      "params", col_params(r, i, 12), "points");
	json_object_set_new(index, id, c);
	json_array_append(json_object_get(trend, "configs"), c);
	return c;
}

static void trend_run(json_t *trend, json_t *seen, const PGresult *r, int i)
{
	const char *key = PQgetvalue(r, i, 0);
	if (json_object_get(seen, key))
		return;
	json_object_set_new(seen, key, json_true());
	json_array_append_new(json_object_get(trend, "runs"),
			      json_pack("{s:o, s:o, s:o, s:o}", "run_id",
					col_json(r, i, 0), "utc_time",
					col_json(r, i, 1), "git_rev",
					col_json(r, i, 2), "host",
					col_json(r, i, 3)));
}

static int pg_trend(void *impl, const char *workload, const char *machine,
		    int max_runs, json_t **trend, errbuf *e)
{
	pgh *h = impl;
	struct params p = {0};
	PGresult *r = NULL;
	*trend = NULL;
	p_str(&p, workload);
	p_int(&p, max_runs);
	p_str(&p, machine);
	int rc = q(h, trend_sql, &p, &r, "reading trends", e);
	if (rc)
		return rc;
	json_t *t = json_pack("{s:s, s:s, s:[], s:[]}", "workload", workload,
			      "machine", machine, "runs", "configs");
	json_t *index = json_object(), *seen = json_object();
	for (int i = 0; i < PQntuples(r); i++) {
		trend_run(t, seen, r, i);
		json_t *c = trend_config(t, index, r, i);
		json_array_append_new(
			json_object_get(c, "points"),
			json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				  "run_id", col_json(r, i, 0), "utc_time",
				  col_json(r, i, 1), "median_wall_s",
				  col_json(r, i, 6), "ci_low_s",
				  col_json(r, i, 7), "ci_high_s",
				  col_json(r, i, 8), "status",
				  col_json(r, i, 9), "walls",
				  col_walls(r, i, 13)));
	}
	json_decref(index);
	json_decref(seen);
	PQclear(r);
	*trend = t;
	return 0;
}

const struct history_backend history_pg = {
	.name = "postgresql",
	.claims = pg_claims,
	.open = pg_open,
	.close = pg_close,
	.schema = pg_schema,
	.add = pg_add,
	.list = pg_list,
	.get_run = pg_get_run,
	.pick_pair = pg_pick_pair,
	.workloads = pg_workloads,
	.machines = pg_machines,
	.latest_run = pg_latest_run,
	.trend = pg_trend,
};
#endif /* CONTEND_NO_LIBPQ */
