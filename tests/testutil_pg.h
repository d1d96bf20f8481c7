/* testutil_pg.h - a PostgreSQL server for the history tests.
 *
 * Tests that run against both history backends take a fresh location from
 * tu_pg_fresh(): a schema of its own on the server that tests/run-all
 * started (its URI in CONTEND_TEST_PG); a test binary run on its own
 * starts a private server with tests/pg-server and stops it at exit.
 * Where Debian's postgresql is not installed (or CONTEND_TEST_PG=off)
 * tu_pg_admin() is NULL and says so once, so the PostgreSQL half of a
 * test skips visibly.
 * Header-only, like testutil.h (include that first). */
#ifndef CONTEND_TESTUTIL_PG_H
#define CONTEND_TESTUTIL_PG_H

#include <libpq-fe.h>

static char tu_pg_uri_buf[512];
static char tu_pg_dir[512];	/* a private server's, stopped at exit */
static int tu_pg_state;		/* 0 unknown, 1 ready, -1 none */

static inline void tu_pg_stop_private(void)
{
	if (!tu_pg_dir[0])
		return;
	char *argv[] = {"tests/pg-server", "stop", tu_pg_dir, NULL};
	struct cmd_result *r = malloc(sizeof *r);
	tu_run(r, argv);
	free(r);
	tu_pg_dir[0] = 0;
}

/* Starts a server with tests/pg-server: its dir into dir, its URI into
 * uri. 77: PostgreSQL is not installed. */
static inline int tu_pg_start(char *dir, size_t dlen, char *uri, size_t ulen)
{
	char *argv[] = {"tests/pg-server", "start", NULL};
	struct cmd_result *r = malloc(sizeof *r);
	int rc = tu_run(r, argv) ? -1 : r->status;
	if (rc == 0 && sscanf(r->out, "%511s %511s", dir, uri) == 2) {
		(void)dlen;
		(void)ulen;
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc && rc != 77)
		fprintf(stderr, "tests/pg-server start failed: %s\n", r->out);
	free(r);
	return rc;
}

/* The URI of the server's `postgres` database, or NULL (said once). */
static inline const char *tu_pg_admin(void)
{
	if (tu_pg_state)
		return tu_pg_state > 0 ? tu_pg_uri_buf : NULL;
	const char *env = getenv("CONTEND_TEST_PG");
	if (env && !strcmp(env, "off")) { /* asked to leave them out */
		printf("note: PostgreSQL tests skipped: CONTEND_TEST_PG=off\n");
		tu_pg_state = -1;
		return NULL;
	}
	if (env && *env) {
		snprintf(tu_pg_uri_buf, sizeof tu_pg_uri_buf, "%s", env);
		tu_pg_state = 1;
		return tu_pg_uri_buf;
	}
	int rc = tu_pg_start(tu_pg_dir, sizeof tu_pg_dir, tu_pg_uri_buf,
			     sizeof tu_pg_uri_buf);
	if (rc) {
		tu_pg_dir[0] = 0;
		printf("note: PostgreSQL tests skipped: %s\n",
		       rc == 77 ? "no PostgreSQL server installed (Debian "
				  "postgresql, .ci/packages)"
				: "tests/pg-server could not start a server");
		tu_pg_state = -1;
		return NULL;
	}
	atexit(tu_pg_stop_private);
	tu_pg_state = 1;
	return tu_pg_uri_buf;
}

static inline void tu_pg_quiet(void *arg, const char *message)
{
	(void)arg; /* NOTICEs such as "... does not exist, skipping" */
	(void)message;
}

/* Runs sql on uri; 0 or -1 (the server's message on stderr). */
static inline int tu_pg_sql(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	int rc = -1;
	if (PQstatus(c) == CONNECTION_OK) {
		PQsetNoticeProcessor(c, tu_pg_quiet, NULL);
		PGresult *r = PQexec(c, sql);
		ExecStatusType st = PQresultStatus(r);
		rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
		if (rc)
			fprintf(stderr, "tu_pg_sql: %s", PQerrorMessage(c));
		PQclear(r);
	} else {
		fprintf(stderr, "tu_pg_sql: %s", PQerrorMessage(c));
	}
	PQfinish(c);
	return rc;
}

/* base with a schema of its own first on the search path. */
static inline void tu_pg_with_schema(const char *base, const char *schema,
				     char *uri, size_t len)
{
	snprintf(uri, len, "%s%coptions=-csearch_path%%3D%s", base,
		 strchr(base, '?') ? '&' : '?', schema);
}

/* A fresh, empty history location on the test server (a new schema), or
 * -1 when there is no server. */
static inline int tu_pg_fresh(char *uri, size_t len)
{
	static int n;
	const char *admin = tu_pg_admin();
	if (!admin)
		return -1;
	char schema[64], sql[128];
	snprintf(schema, sizeof schema, "t%ld_%d", (long)getpid(), ++n);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
	if (tu_pg_sql(admin, sql))
		return -1;
	tu_pg_with_schema(admin, schema, uri, len);
	return 0;
}

#endif
