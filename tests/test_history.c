/* test_history.c - the history on both backends: adding, deduplicating,
 * concurrency, matching params, machines, Google Benchmark import (a
 * SQLite file, then a PostgreSQL server: tests/testutil_pg.h); SQLite's
 * upgrades of old databases and refusal of foreign or damaged files;
 * PostgreSQL's schema refusals and upgrade, `history copy` between the
 * two, and a server that goes away mid-write.
 * Bad databases must give one clear line and stay byte-for-byte unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "document/hash.h"
#include "document/history.h"
#include "document/jsonfile.h"
#include "tests/testutil.h"
#include "tests/testutil_pg.h"

struct fx {
	char *dir;
	char db[1100];
	char pgdir[512]; /* a private server's, stopped by teardown */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->dir = tu_tempdir();
	snprintf(f->db, sizeof f->db, "%s/history.db", f->dir);
	*state = f;
	return f->dir ? 0 : -1;
}

/* The same fixture with a fresh PostgreSQL location as the history. */
static int setup_pg(void **state)
{
	if (setup(state))
		return -1;
	struct fx *f = *state;
	return tu_pg_fresh(f->db, sizeof f->db);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->pgdir[0]) {
		char *argv[] = {"tests/pg-server", "stop", f->pgdir, NULL};
		struct cmd_result *r = malloc(sizeof *r);
		tu_run(r, argv);
		free(r);
	}
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A results document: configs w1, w2 of one thread series, median `base`
 * at 1 worker; `tag` makes otherwise equal documents differ. */
static json_t *doc_make(const char *utc, const char *git, double base,
			const char *workload)
{
	json_t *cs = json_array();
	for (int w = 1; w <= 2; w++) {
		char id[128];
		snprintf(id, sizeof id, "%s/release/thread/w%d", workload, w);
		double m = base / w;
		json_array_append_new(cs, json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:[{s:f, s:f, s:s}, {s:f, s:f, s:s}],"
			" s:f, s:s}", "id", id, "workload", workload, "build",
			"release", "pool", "thread", "workers", w, "reps",
			"wall_s", m * 0.99, "cpu_s", m, "status", "ok", "wall_s",
			m * 1.01, "cpu_s", m, "status", "ok", "median_wall_s", m,
			"status", "ok"));
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:o}", "schema",
			 "contend-results/1", "status", "complete", "context",
			 "host", "ci", "cpu_model", "Test CPU", "git_rev", git,
			 "utc_time", utc, "configs", cs);
}

/* doc_make with workload parameters, as `contend run --params trees=N`
 * writes them: the same ids, another workload. */
static json_t *doc_params(const char *utc, const char *git, double base,
			  const char *trees)
{
	json_t *d = doc_make(utc, git, base, "cf"), *c;
	size_t i;
	json_array_foreach(json_object_get(d, "configs"), i, c)
		json_object_set_new(c, "params", json_pack("{s:s, s:s}", "trees",
							   trees, "rows", "12000"));
	return d;
}

static void write_doc(json_t *doc, const char *path, size_t flags)
{
	assert_int_equal(json_dump_file(doc, path, flags), 0);
}

static int64_t add(const char *db, json_t *doc, int *dup)
{
	history *h;
	errbuf e;
	int64_t id = -1;
	assert_int_equal(history_open(db, 1, &h, &e), 0);
	assert_int_equal(history_add(h, doc, "contend", "x.json", &id, dup, &e), 0);
	history_close(h);
	return id;
}

static size_t count_runs(const char *db)
{
	history *h;
	errbuf e;
	json_t *runs;
	assert_int_equal(history_open(db, 0, &h, &e), 0);
	assert_int_equal(history_list(h, &runs, &e), 0);
	size_t n = json_array_size(runs);
	json_decref(runs);
	history_close(h);
	return n;
}

static void test_sha256_vectors(void **state)
{
	(void)state;
	char out[65];
	hash_sha256_hex("abc", 3, out);
	assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	hash_sha256_hex("", 0, out);
	assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hash_sha256_hex(m, strlen(m), out);
	assert_string_equal(out, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
}

static void test_add_list_dedup(void **state)
{
	struct fx *f = *state;
	json_t *d = doc_make("2024-01-01T00:00:00Z", "abc123", 1.0, "cf");
	int dup;
	int64_t id = add(f->db, d, &dup);
	assert_false(dup);
	assert_true(id > 0);
	/* the same content again, even re-read from a file with another
	 * layout and key order, is found, not stored twice */
	char path[600];
	snprintf(path, sizeof path, "%s/same.json", f->dir);
	write_doc(d, path, JSON_INDENT(3) | JSON_SORT_KEYS);
	json_t *again;
	const char *src;
	errbuf e;
	assert_int_equal(history_load_file(path, &again, &src, &e), 0);
	assert_string_equal(src, "contend");
	assert_int_equal(add(f->db, again, &dup), id);
	assert_true(dup);
	assert_int_equal(count_runs(f->db), 1);

	history *h;
	json_t *runs, *back;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_list(h, &runs, &e), 0);
	json_t *r = json_array_get(runs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "host")), "ci");
	assert_string_equal(json_string_value(json_object_get(r, "git_rev")), "abc123");
	assert_string_equal(json_string_value(json_object_get(r, "builds")), "release");
	assert_string_equal(json_string_value(json_object_get(r, "cpu_model")), "Test CPU");
	assert_int_equal(json_integer_value(json_object_get(r, "configs")), 2);
	assert_int_equal(history_get_run(h, id, &back, &e), 0);
	assert_true(json_equal(back, d));
	json_decref(back);
	assert_int_equal(history_get_run(h, id + 100, &back, &e), -1);
	history_close(h);
	json_decref(runs);
	json_decref(again);
	json_decref(d);
}

static void test_trend_and_pair(void **state)
{
	struct fx *f = *state;
	int dup;
	/* added out of time order: the history orders by the run's time */
	json_t *d2 = doc_make("2024-01-02T00:00:00Z", "r2", 1.2, "cf");
	json_t *d1 = doc_make("2024-01-01T00:00:00Z", "r1", 1.0, "cf");
	json_t *d3 = doc_make("2024-01-03T00:00:00Z", "r3", 5.0, "other");
	json_t *d4 = doc_make("2024-01-04T00:00:00Z", "r4", 1.5, "cf");
	int64_t i2 = add(f->db, d2, &dup), i1 = add(f->db, d1, &dup);
	add(f->db, d3, &dup);
	int64_t i4 = add(f->db, d4, &dup);
	history *h;
	errbuf e;
	json_t *t, *names;
	int64_t base, newest;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	/* "other" shares no configuration with the newest run: skipped */
	assert_int_equal(history_pick_pair(h, NULL, 1, &base, &newest, &e), 0);
	assert_int_equal(newest, i4);
	assert_int_equal(base, i2);
	assert_int_equal(history_pick_pair(h, NULL, 2, &base, &newest, &e), 0);
	assert_int_equal(base, i1);
	assert_int_equal(history_pick_pair(h, NULL, 3, &base, &newest, &e), -1);
	assert_int_equal(history_workloads(h, &names, &e), 0);
	assert_int_equal(json_array_size(names), 2);
	assert_string_equal(json_string_value(json_array_get(names, 0)), "cf");
	assert_int_equal(history_latest_run(h, "other", "ci", &base, &e), 0);
	assert_true(base > 0);
	assert_int_equal(history_latest_run(h, "nope", "ci", &base, &e), 0);
	assert_int_equal(base, 0);
	assert_int_equal(history_trend(h, "cf", "ci", 2, &t, &e), 0);
	assert_int_equal(json_array_size(json_object_get(t, "runs")), 2);
	json_t *c = json_array_get(json_object_get(t, "configs"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "id")),
			    "cf/release/thread/w1");
	json_t *pts = json_object_get(c, "points");
	assert_int_equal(json_array_size(pts), 2);
	json_t *p0 = json_array_get(pts, 0), *p1 = json_array_get(pts, 1);
	assert_true(fabs(json_real_value(json_object_get(p0, "median_wall_s")) - 1.2) < 1e-12);
	assert_true(fabs(json_real_value(json_object_get(p1, "median_wall_s")) - 1.5) < 1e-12);
	assert_int_equal(json_array_size(json_object_get(p1, "walls")), 2);
	assert_true(fabs(json_real_value(json_array_get(json_object_get(p1, "walls"), 0)) -
			 1.5 * 0.99) < 1e-12);
	history_close(h);
	json_decref(t);
	json_decref(names);
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
	json_decref(d4);
}

/* WRITERS processes add DOCS documents in all at once, into a database
 * none has created yet; neighbouring writers share some documents, so the
 * same content arrives from two processes at the same time. Every
 * distinct document must be stored exactly once, and each writer must be
 * told which of its documents were already there. */
#define WRITERS 10
#define PER_WRITER 10
#define POOL 64

static int doc_index(int k, int j)
{
	return (k * 7 + j) % POOL;
}

static json_t *pool_doc(int i)
{
	char utc[64];
	snprintf(utc, sizeof utc, "2024-02-%02dT00:%02d:00Z", 1 + i / 60, i % 60);
	return doc_make(utc, "c", 1 + i, "cf");
}

/* A writer: waits on go, adds its documents, exits with how many it
 * added anew (or 100 on any failure). */
static void writer(const char *db, int k, int go)
{
	char c;
	if (read(go, &c, 1) < 0)
		_exit(100);
	history *h;
	errbuf e;
	if (history_open(db, 1, &h, &e))
		_exit(100);
	int added = 0, bad = 0;
	for (int j = 0; j < PER_WRITER; j++) {
		json_t *d = pool_doc(doc_index(k, j));
		int64_t id;
		int dup;
		bad |= history_add(h, d, "contend", NULL, &id, &dup, &e) != 0;
		added += !dup;
		json_decref(d);
	}
	history_close(h);
	_exit(bad ? 100 : added);
}

static void test_concurrent_adds(void **state)
{
	struct fx *f = *state;
	int go[2], distinct = 0, seen[POOL] = {0};
	pid_t kids[WRITERS];
	assert_int_equal(pipe(go), 0);
	for (int k = 0; k < WRITERS; k++) {
		for (int j = 0; j < PER_WRITER; j++)
			distinct += !seen[doc_index(k, j)]++;
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			close(go[1]);
			writer(f->db, k, go[0]);
		}
	}
	assert_true(distinct < WRITERS * PER_WRITER); /* duplicates exist */
	close(go[0]);
	close(go[1]); /* every writer's read returns: they start together */
	int added = 0;
	for (int k = 0; k < WRITERS; k++) {
		int st;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) <= PER_WRITER);
		added += WEXITSTATUS(st);
	}
	assert_int_equal(added, distinct);
	/* each distinct document once: its time is its identity here */
	history *h;
	errbuf e;
	json_t *runs, *r;
	size_t i;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_list(h, &runs, &e), 0);
	history_close(h);
	assert_int_equal(json_array_size(runs), distinct);
	int stored[POOL] = {0};
	json_array_foreach(runs, i, r) {
		const char *utc = json_string_value(json_object_get(r, "utc_time"));
		int day, min;
		assert_int_equal(sscanf(utc, "2024-02-%dT00:%d", &day, &min), 2);
		stored[(day - 1) * 60 + min]++;
	}
	for (int d = 0; d < POOL; d++)
		assert_int_equal(stored[d], seen[d] ? 1 : 0);
	printf("   %d writers added %d documents (%d distinct): %zu stored\n",
	       WRITERS, WRITERS * PER_WRITER, distinct, json_array_size(runs));
	json_decref(runs);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	*len = (size_t)ftell(fp);
	rewind(fp);
	char *b = malloc(*len + 1);
	*len = fread(b, 1, *len, fp);
	b[*len] = '\0'; /* callers read it as a string too */
	fclose(fp);
	return b;
}

/* history_open must fail with a message containing want, via the library
 * and via `contend history list/add` (exit 2, one line), and leave the file
 * exactly as it was. */
static void expect_refused(const char *db, const char *want)
{
	size_t l0, l1;
	char *before = slurp(db, &l0);
	history *h;
	errbuf e;
	assert_int_equal(history_open(db, 1, &h, &e), -1);
	assert_null(h);
	assert_non_null(strstr(e.msg, want));
	assert_null(strchr(e.msg, '\n'));
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "list", "--db", db, NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, want));
	assert_int_equal(strchr(r->out, '\n') - r->out + 1, (long)strlen(r->out));
	char file[] = "/dev/null";
	tu_contend(r, "history", "add", "--db", db, file, NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, want));
	char *after = slurp(db, &l1);
	assert_int_equal(l0, l1);
	assert_memory_equal(before, after, l0);
	free(before);
	free(after);
	free(r);
}

static void test_foreign_sqlite(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE customers(name TEXT);"
				      "INSERT INTO customers VALUES('ann');",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_refused(f->db, "SQLite database of something else");
}

static void test_not_sqlite(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(f->db, "w");
	fputs("this is a text file, not a database\n", fp);
	fclose(fp);
	expect_refused(f->db, "not a SQLite database");
}

static void test_corrupt(void **state)
{
	struct fx *f = *state;
	int dup;
	for (int i = 0; i < 40; i++) {
		char utc[64];
		snprintf(utc, sizeof utc, "2024-03-01T00:%02d:00Z", i);
		json_t *d = doc_make(utc, "c", 1 + i, "cf");
		add(f->db, d, &dup);
		json_decref(d);
	}
	/* scribble over the b-tree pages after the schema page */
	size_t len;
	char *b = slurp(f->db, &len);
	assert_true(len > 16384);
	for (size_t i = 4096; i < len - 4096; i += 7)
		b[i] = (char)(i * 31);
	FILE *fp = fopen(f->db, "wb");
	fwrite(b, 1, len, fp);
	fclose(fp);
	free(b);
	expect_refused(f->db, "damaged");
}

static void test_newer_schema(void **state)
{
	struct fx *f = *state;
	int dup;
	json_t *d = doc_make("2024-01-01T00:00:00Z", "x", 1, "cf");
	add(f->db, d, &dup);
	json_decref(d);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE contend_schema SET version=99",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	expect_refused(f->db, "newer");
}

static void test_missing_and_empty(void **state)
{
	struct fx *f = *state;
	history *h;
	errbuf e;
	assert_int_equal(history_open(f->db, 0, &h, &e), -1);
	assert_non_null(strstr(e.msg, "no history"));
	FILE *fp = fopen(f->db, "w");
	fclose(fp);
	assert_int_equal(history_open(f->db, 0, &h, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(history_open(f->db, 1, &h, &e), 0); /* initialised */
	history_close(h);
	assert_int_equal(count_runs(f->db), 0);
}

static void test_malformed_documents(void **state)
{
	struct fx *f = *state;
	const char *bodies[] = {
		"{ not json",
		"[1, 2, 3]",
		"{\"schema\": \"something-else/2\", \"configs\": []}",
		"{\"schema\": \"contend-results/1\", \"context\": {}, "
		"\"configs\": [{\"id\": \"x\"}]}",
		"{\"context\": {}, \"benchmarks\": [{\"run_type\": \"iteration\"}]}",
	};
	char path[600];
	snprintf(path, sizeof path, "%s/bad.json", f->dir);
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		FILE *fp = fopen(path, "w");
		fputs(bodies[i], fp);
		fclose(fp);
		json_t *d;
		const char *src;
		errbuf e;
		assert_int_equal(history_load_file(path, &d, &src, &e), -1);
		assert_null(d);
		assert_non_null(strstr(e.msg, "bad.json"));
		struct cmd_result *r = malloc(sizeof *r);
		tu_contend(r, "history", "add", "--db", f->db, path, NULL);
		assert_int_equal(r->status, 2);
		free(r);
	}
	json_t *d;
	const char *src;
	errbuf e;
	assert_int_equal(history_load_file("/nonexistent/x.json", &d, &src, &e), -1);
	assert_non_null(strstr(e.msg, "cannot read"));
}

/* A nightly trees=16 run between two trees=50 runs: --last 2 compares the
 * trees=50 runs, not the newest with a run it shares only ids with. */
static void test_pair_same_params(void **state)
{
	struct fx *f = *state;
	int dup;
	json_t *d1 = doc_params("2024-01-01T00:00:00Z", "r1", 1.0, "50");
	json_t *d2 = doc_params("2024-01-02T00:00:00Z", "r2", 0.3, "16");
	json_t *d3 = doc_params("2024-01-03T00:00:00Z", "r3", 1.0, "50");
	int64_t i1 = add(f->db, d1, &dup), i2 = add(f->db, d2, &dup);
	history *h;
	errbuf e;
	int64_t base, newest;
	/* nothing with trees=16 before: the run sharing ids, for compare to
	 * say which params differ */
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_pick_pair(h, NULL, 1, &base, &newest, &e), 0);
	assert_int_equal(newest, i2);
	assert_int_equal(base, i1);
	history_close(h);
	int64_t i3 = add(f->db, d3, &dup);
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_pick_pair(h, NULL, 1, &base, &newest, &e), 0);
	assert_int_equal(newest, i3);
	assert_int_equal(base, i1);
	/* one comparable run only: no second, and no fallback to ids */
	assert_int_equal(history_pick_pair(h, NULL, 2, &base, &newest, &e), -1);
	assert_non_null(strstr(e.msg, "in common"));
	history_close(h);

	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "compare", "--history", f->db, "--last", "2", NULL);
	assert_int_equal(r->status, 0);
	char want[64];
	snprintf(want, sizeof want, "base: run %lld", (long long)i1);
	assert_non_null(strstr(r->out, want));
	assert_null(strstr(r->out, "not compared"));
	free(r);
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
}

/* The trend follows each id at its newest params: the trees=16 run is
 * neither a point nor a column, so no step from 0.3 s to 1 s is judged. */
static void test_trend_same_params(void **state)
{
	struct fx *f = *state;
	int dup;
	json_t *d1 = doc_params("2024-01-01T00:00:00Z", "r1", 1.0, "50");
	json_t *d2 = doc_params("2024-01-02T00:00:00Z", "r2", 0.3, "16");
	json_t *d3 = doc_params("2024-01-03T00:00:00Z", "r3", 1.1, "50");
	int64_t i1 = add(f->db, d1, &dup);
	add(f->db, d2, &dup);
	int64_t i3 = add(f->db, d3, &dup);
	history *h;
	errbuf e;
	json_t *t;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_trend(h, "cf", "ci", 10, &t, &e), 0);
	json_t *runs = json_object_get(t, "runs");
	assert_int_equal(json_array_size(runs), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(runs, 0),
							    "run_id")), i1);
	json_t *c;
	size_t i;
	assert_int_equal(json_array_size(json_object_get(t, "configs")), 2);
	json_array_foreach(json_object_get(t, "configs"), i, c) {
		json_t *pts = json_object_get(c, "points");
		assert_int_equal(json_array_size(pts), 2);
		assert_int_equal(json_integer_value(json_object_get(
					 json_array_get(pts, 1), "run_id")), i3);
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(c, "params"), "trees")), "50");
	}
	json_decref(t);
	/* max_runs counts runs with points: the last one is i3 alone */
	assert_int_equal(history_trend(h, "cf", "ci", 1, &t, &e), 0);
	assert_int_equal(json_array_size(json_object_get(t, "runs")), 1);
	json_decref(t);
	history_close(h);
	/* a newer trees=16 run turns the trend to trees=16 */
	json_t *d4 = doc_params("2024-01-04T00:00:00Z", "r4", 0.31, "16");
	add(f->db, d4, &dup);
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_trend(h, "cf", "ci", 10, &t, &e), 0);
	assert_int_equal(json_array_size(json_object_get(t, "runs")), 2);
	c = json_array_get(json_object_get(t, "configs"), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(c, "params"), "trees")), "16");
	json_decref(t);
	history_close(h);
	json_decref(d1);
	json_decref(d2);
	json_decref(d3);
	json_decref(d4);
}

/* Two machines' nightly runs interleaved, vm-b 1.6x slower: each machine
 * is only ever compared with itself, so neither the trend nor compare
 * sees a sawtooth of false regressions and recoveries. */
static json_t *doc_machine(const char *utc, const char *machine, double base)
{
	json_t *d = doc_make(utc, "g", base, "cf");
	json_object_set_new(json_object_get(d, "context"), "machine",
			    json_string(machine));
	return d;
}

static void test_machines(void **state)
{
	struct fx *f = *state;
	int dup;
	int64_t ids[6];
	for (int i = 0; i < 6; i++) {
		char utc[32];
		snprintf(utc, sizeof utc, "2024-03-%02dT0%d:00:00Z", 1 + i / 2, i % 2);
		json_t *d = doc_machine(utc, i % 2 ? "vm-b" : "vm-a",
					i % 2 ? 1.6 : 1.0);
		ids[i] = add(f->db, d, &dup);
		json_decref(d);
	}
	history *h;
	errbuf e;
	json_t *names, *t, *runs;
	int64_t base, newest;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_machines(h, &names, &e), 0);
	assert_int_equal(json_array_size(names), 2);
	assert_string_equal(json_string_value(json_array_get(names, 1)), "vm-b");
	json_decref(names);
	/* the newest run is vm-b's: its base is vm-b's run before, not vm-a's */
	assert_int_equal(history_pick_pair(h, NULL, 1, &base, &newest, &e), 0);
	assert_int_equal(newest, ids[5]);
	assert_int_equal(base, ids[3]);
	assert_int_equal(history_pick_pair(h, "vm-a", 2, &base, &newest, &e), 0);
	assert_int_equal(newest, ids[4]);
	assert_int_equal(base, ids[0]);
	assert_int_equal(history_pick_pair(h, "vm-c", 1, &base, &newest, &e), -1);
	assert_non_null(strstr(e.msg, "vm-c"));
	assert_int_equal(history_latest_run(h, "cf", "vm-a", &base, &e), 0);
	assert_int_equal(base, ids[4]);
	/* vm-a's trend: its three runs, all at 1.0 s */
	assert_int_equal(history_trend(h, "cf", "vm-a", 10, &t, &e), 0);
	assert_int_equal(json_array_size(json_object_get(t, "runs")), 3);
	json_t *pts = json_object_get(json_array_get(json_object_get(t, "configs"),
						     0), "points");
	for (size_t i = 0; i < json_array_size(pts); i++)
		assert_true(fabs(json_number_value(json_object_get(
			json_array_get(pts, i), "median_wall_s")) - 1.0) < 1e-12);
	json_decref(t);
	assert_int_equal(history_list(h, &runs, &e), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(runs, 1), "machine")), "vm-b");
	json_decref(runs);
	history_close(h);

	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "compare", "--history", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "machine vm-b"));
	assert_null(strstr(r->out, "machine vm-a"));
	tu_contend(r, "history", "list", "--db", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "vm-a"));
	free(r);
}

/* run --machine names the machine in the document; a bad name is bad
 * input, refused before anything runs. */
static void test_run_machine(void **state)
{
	struct fx *f = *state;
	char out[600];
	snprintf(out, sizeof out, "%s/m.json", f->dir);
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "run", "spin", "--pool", "serial", "--reps", "1",
		   "--params", "tasks=10", "--quiet", "--machine", "vm-a",
		   "--out", out, NULL);
	assert_int_equal(r->status, 0);
	json_error_t je;
	json_t *d = jsonfile_load(out, 0, &je);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(d, "context"), "machine")), "vm-a");
	json_decref(d);
	unlink(out);
	tu_contend(r, "run", "spin", "--machine", "vm a/b", "--out", out, NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "--machine"));
	assert_int_not_equal(access(out, F_OK), 0);
	free(r);
}

/* ---- upgrading a version 1 database (no configs.params) ---- */

/* The tables as contend wrote them before configs.params existed. */
static const char *const schema_v1_sql =
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
	" detail TEXT, UNIQUE(run_id, config_id));"
	"CREATE INDEX configs_workload ON configs(workload, run_id);"
	"CREATE INDEX configs_config_id ON configs(config_id);"
	"CREATE TABLE reps(config_row INTEGER NOT NULL REFERENCES configs(id)"
	" ON DELETE CASCADE, idx INTEGER NOT NULL, wall_s REAL, cpu_s REAL,"
	" status TEXT, checksum TEXT, tasks_done INTEGER,"
	" PRIMARY KEY(config_row, idx));"
	"INSERT INTO contend_schema VALUES(1);";

static void sql(sqlite3 *db, const char *text)
{
	char *msg = NULL;
	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", text, msg);
}

/* f->db as a version 1 database holding docs (in that order): stored by
 * today's code into another file, then copied without params. */
static void make_v1(struct fx *f, json_t **docs, size_t n)
{
	char cur[600];
	int dup;
	snprintf(cur, sizeof cur, "%s/current.db", f->dir);
	for (size_t i = 0; i < n; i++)
		add(cur, docs[i], &dup);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sql(db, schema_v1_sql);
	char *attach = sqlite3_mprintf("ATTACH %Q AS cur", cur);
	sql(db, attach);
	sqlite3_free(attach);
	sql(db, "INSERT INTO runs SELECT id, content_sha256, source, file,"
		" added_utc, utc_time, host, cpu_model, logical_cores,"
		" physical_cores, kernel, compiler, cflags, contend_version,"
		" git_rev, command, status, builds, workloads, document"
		" FROM cur.runs;"
		"INSERT INTO configs SELECT id, run_id, config_id, series,"
		" workload, build, pool, workers, start, ntasks, median_wall_s,"
		" ci_low_s, ci_high_s, ci_level, median_cpu_s, speedup,"
		" efficiency, status, detail FROM cur.configs;"
		"INSERT INTO reps SELECT * FROM cur.reps;");
	sqlite3_close(db);
}

/* One text column of the first row of a query on db, or NULL. */
static char *query_text(const char *path, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *out = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static void expect_text(const char *path, const char *q, const char *want)
{
	char *got = query_text(path, q);
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
	free(got);
}

static void test_upgrade_v1(void **state)
{
	struct fx *f = *state;
	json_t *docs[] = {
		doc_params("2024-01-01T00:00:00Z", "r1", 1.0, "50"),
		doc_params("2024-01-02T00:00:00Z", "r2", 0.3, "16"),
		doc_make("2024-01-03T00:00:00Z", "r3", 2.0, "bare"),
	};
	make_v1(f, docs, 3);
	/* read-only use (list) upgrades it too: compare and dashboard open
	 * the history that way */
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "list", "--db", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "r2"));
	free(r);
	expect_text(f->db, "SELECT max(version) FROM contend_schema", "3");
	/* runs from before machines were named are their host's */
	expect_text(f->db, "SELECT count(*) FROM runs WHERE machine = 'ci'", "3");
	expect_text(f->db, "SELECT params FROM configs WHERE run_id=1 AND "
		    "config_id='cf/release/thread/w2'",
		    "{\"rows\":\"12000\",\"trees\":\"50\"}");
	expect_text(f->db, "SELECT params FROM configs WHERE run_id=2 AND "
		    "config_id='cf/release/thread/w1'",
		    "{\"rows\":\"12000\",\"trees\":\"16\"}");
	expect_text(f->db, "SELECT count(*) FROM configs WHERE run_id=3 AND "
		    "params IS NULL", "2");
	/* backfilled exactly as history_add writes it */
	char cur[600];
	snprintf(cur, sizeof cur, "%s/current.db", f->dir);
	expect_text(cur, "SELECT params FROM configs WHERE run_id=2 AND "
		    "config_id='cf/release/thread/w1'",
		    "{\"rows\":\"12000\",\"trees\":\"16\"}");
	assert_int_equal(count_runs(f->db), 3);

	/* and it keeps working: runs read back, new runs pair by params */
	int dup;
	json_t *d4 = doc_params("2024-01-04T00:00:00Z", "r4", 1.0, "50");
	int64_t i4 = add(f->db, d4, &dup), base, newest;
	history *h;
	errbuf e;
	json_t *back;
	assert_int_equal(history_open(f->db, 0, &h, &e), 0);
	assert_int_equal(history_get_run(h, 2, &back, &e), 0);
	assert_true(json_equal(back, docs[1]));
	json_decref(back);
	assert_int_equal(history_pick_pair(h, NULL, 1, &base, &newest, &e), 0);
	assert_int_equal(newest, i4);
	assert_int_equal(base, 1);
	history_close(h);
	for (size_t i = 0; i < 3; i++)
		json_decref(docs[i]);
	json_decref(d4);
}

/* An upgrade that cannot finish leaves the old file exactly as it was. */
static void test_upgrade_v1_damaged(void **state)
{
	struct fx *f = *state;
	json_t *docs[] = {
		doc_params("2024-01-01T00:00:00Z", "r1", 1.0, "50"),
		doc_params("2024-01-02T00:00:00Z", "r2", 0.3, "16"),
	};
	make_v1(f, docs, 2);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sql(db, "UPDATE runs SET document='{\"configs\": [' WHERE id=2");
	sqlite3_close(db);
	expect_refused(f->db, "cannot be upgraded");
	expect_text(f->db, "SELECT max(version) FROM contend_schema", "1");
	json_decref(docs[0]);
	json_decref(docs[1]);
}

/* Two processes opening a version 1 database at once, one to read and
 * one to add: it is upgraded once and every document lands. */
static void test_upgrade_v1_concurrent(void **state)
{
	struct fx *f = *state;
	json_t *d0 = doc_params("2024-01-01T00:00:00Z", "r0", 1.0, "50");
	make_v1(f, &d0, 1);
	json_decref(d0);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			int bad = 0;
			for (int i = 0; i < 8; i++) {
				char utc[64];
				snprintf(utc, sizeof utc, "2024-02-%02dT00:00:%02dZ",
					 k + 1, i);
				json_t *d = doc_params(utc, "c", 1 + i, "50");
				history *h;
				errbuf e;
				int64_t id;
				int dup;
				if (history_open(f->db, k, &h, &e) ||
				    history_add(h, d, "contend", NULL, &id, &dup, &e) || dup)
					bad++;
				history_close(h);
				json_decref(d);
			}
			_exit(bad ? 1 : 0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(count_runs(f->db), 17);
	expect_text(f->db, "SELECT count(*) FROM contend_schema", "1");
	expect_text(f->db, "SELECT count(*) FROM configs WHERE params IS NULL",
		    "0");
}

/* The shape Google Benchmark 1.7 writes with --benchmark_repetitions=3 and
 * two thread counts; times in ns. */
static const char *gbench_text =
	"{\"context\": {\"date\": \"2024-05-01T10:00:00+00:00\", \"host_name\":"
	" \"gbhost\", \"executable\": \"./bench\", \"num_cpus\": 2,"
	" \"mhz_per_cpu\": 2600, \"cpu_scaling_enabled\": false, \"caches\": [],"
	" \"load_avg\": [0.1], \"library_build_type\": \"release\"},"
	" \"benchmarks\": ["
	"{\"name\": \"BM_dot/64/repeats:3/threads:1\", \"family_index\": 0,"
	" \"per_family_instance_index\": 0, \"run_name\":"
	" \"BM_dot/64/repeats:3/threads:1\", \"run_type\": \"iteration\","
	" \"repetitions\": 3, \"repetition_index\": 0, \"threads\": 1,"
	" \"iterations\": 1000, \"real_time\": 2000.0, \"cpu_time\": 1990.0,"
	" \"time_unit\": \"ns\", \"items\": 5.0},"
	"{\"name\": \"BM_dot/64/repeats:3/threads:1\", \"family_index\": 0,"
	" \"per_family_instance_index\": 0, \"run_name\":"
	" \"BM_dot/64/repeats:3/threads:1\", \"run_type\": \"iteration\","
	" \"repetitions\": 3, \"repetition_index\": 1, \"threads\": 1,"
	" \"iterations\": 1000, \"real_time\": 2100.0, \"cpu_time\": 2090.0,"
	" \"time_unit\": \"ns\"},"
	"{\"name\": \"BM_dot/64/repeats:3/threads:1\", \"family_index\": 0,"
	" \"per_family_instance_index\": 0, \"run_name\":"
	" \"BM_dot/64/repeats:3/threads:1\", \"run_type\": \"iteration\","
	" \"repetitions\": 3, \"repetition_index\": 2, \"threads\": 1,"
	" \"iterations\": 1000, \"real_time\": 1900.0, \"cpu_time\": 1890.0,"
	" \"time_unit\": \"ns\"},"
	"{\"name\": \"BM_dot/64/repeats:3/threads:1_mean\", \"family_index\": 0,"
	" \"per_family_instance_index\": 0, \"run_name\":"
	" \"BM_dot/64/repeats:3/threads:1\", \"run_type\": \"aggregate\","
	" \"repetitions\": 3, \"threads\": 1, \"aggregate_name\": \"mean\","
	" \"aggregate_unit\": \"time\", \"iterations\": 3, \"real_time\": 2000.0,"
	" \"cpu_time\": 1990.0, \"time_unit\": \"ns\"},"
	"{\"name\": \"BM_dot/64/repeats:3/threads:2_median\", \"family_index\": 0,"
	" \"per_family_instance_index\": 1, \"run_name\":"
	" \"BM_dot/64/repeats:3/threads:2\", \"run_type\": \"aggregate\","
	" \"repetitions\": 3, \"threads\": 2, \"aggregate_name\": \"median\","
	" \"aggregate_unit\": \"time\", \"iterations\": 3, \"real_time\": 1.25,"
	" \"cpu_time\": 2.4, \"time_unit\": \"us\"}"
	"]}";

static void test_gbench_import(void **state)
{
	struct fx *f = *state;
	char path[600];
	snprintf(path, sizeof path, "%s/gb.json", f->dir);
	FILE *fp = fopen(path, "w");
	fputs(gbench_text, fp);
	fclose(fp);
	json_t *d;
	const char *src;
	errbuf e;
	assert_int_equal(history_load_file(path, &d, &src, &e), 0);
	assert_string_equal(src, "gbench");
	json_t *cs = json_object_get(d, "configs");
	assert_int_equal(json_array_size(cs), 2);
	json_t *c1 = json_array_get(cs, 0), *c2 = json_array_get(cs, 1);
	assert_string_equal(json_string_value(json_object_get(c1, "id")),
			    "BM_dot/64/repeats:3/threads:1");
	assert_string_equal(json_string_value(json_object_get(c1, "workload")), "BM_dot");
	assert_string_equal(json_string_value(json_object_get(c1, "args")), "64");
	assert_string_equal(json_string_value(json_object_get(c1, "build")), "release");
	assert_int_equal(json_integer_value(json_object_get(c1, "workers")), 1);
	assert_int_equal(json_integer_value(json_object_get(c2, "workers")), 2);
	/* 3 iterations (aggregate ignored), ns -> s, median of 2000,2100,1900 */
	assert_int_equal(json_array_size(json_object_get(c1, "reps")), 3);
	assert_true(fabs(json_real_value(json_object_get(c1, "median_wall_s")) - 2000e-9) < 1e-18);
	/* aggregates only: the median stands in as one repetition, us -> s */
	assert_int_equal(json_array_size(json_object_get(c2, "reps")), 1);
	assert_true(fabs(json_real_value(json_object_get(c2, "median_wall_s")) - 1.25e-6) < 1e-18);
	assert_true(fabs(json_real_value(json_object_get(c2, "speedup")) - 2000e-9 / 1.25e-6) < 1e-9);
	assert_string_equal(json_string_value(json_object_get(c2, "baseline")),
			    "BM_dot/64/repeats:3/threads:1");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(d, "context"), "host")), "gbhost");
	json_decref(d);

	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "add", "--db", f->db, path, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "Google Benchmark"));
	tu_contend(r, "history", "add", "--db", f->db, path, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "already in the history"));
	tu_contend(r, "history", "list", "--db", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "gbhost"));
	assert_non_null(strstr(r->out, "BM_dot"));
	free(r);
	assert_int_equal(count_runs(f->db), 1);
}

/* Google Benchmark writes a bare NaN for the cv of a counter whose mean
 * is 0 (seen with --benchmark_repetitions=9 on our own kernels): the file
 * must still import, the figure as null; strings stay as they are. */
static void test_gbench_nonfinite(void **state)
{
	struct fx *f = *state;
	size_t n;
	const char *in = "{\"a\": NaN, \"b\": [Infinity, -Infinity, 1e5],"
			 " \"NaN\": \"x NaN \\\" NaN\", \"c\": -1.5}";
	char *out = jsonfile_nonfinite_to_null(in, strlen(in), &n);
	assert_string_equal(out, "{\"a\": null, \"b\": [null, null, 1e5],"
				 " \"NaN\": \"x NaN \\\" NaN\", \"c\": -1.5}");
	assert_int_equal(n, strlen(out));
	free(out);
	/* glued to other characters: not a token, left for jansson to refuse */
	out = jsonfile_nonfinite_to_null("[NaNa, xNaN, 1.NaN]", 19, &n);
	assert_string_equal(out, "[NaNa, xNaN, 1.NaN]");
	free(out);

	char path[600];
	snprintf(path, sizeof path, "%s/gb-nan.json", f->dir);
	FILE *fp = fopen(path, "w");
	/* the first iteration entry, with a counter that came out NaN */
	const char *cut = strstr(gbench_text, "\"items\": 5.0");
	assert_non_null(cut);
	fprintf(fp, "%.*s\"items\": NaN%s", (int)(cut - gbench_text), gbench_text,
		cut + strlen("\"items\": 5.0"));
	fclose(fp);
	json_t *d;
	const char *src;
	errbuf e;
	assert_int_equal(history_load_file(path, &d, &src, &e), 0);
	assert_string_equal(src, "gbench");
	assert_int_equal(json_array_size(json_object_get(d, "configs")), 2);
	json_decref(d);
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "add", "--db", f->db, path, NULL);
	assert_int_equal(r->status, 0);
	free(r);
	/* a file that is broken for another reason still says why */
	fp = fopen(path, "w");
	fputs("{\"benchmarks\": [NaN,]}", fp);
	fclose(fp);
	assert_int_equal(history_load_file(path, &d, &src, &e), -1);
	assert_non_null(strstr(e.msg, "is not valid JSON"));
}

/* ---- PostgreSQL only ---- */

/* The one number sql returns on uri, or -1. */
static long pg_number(const char *uri, const char *sql)
{
	PGconn *c = PQconnectdb(uri);
	long n = -1;
	PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return n;
}

/* Refused as the SQLite file would be, and left as it was. */
static void test_pg_refusals(void **state)
{
	struct fx *f = *state;
	history *h;
	errbuf e;
	assert_int_equal(history_open(f->db, 0, &h, &e), -1);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(history_open(f->db, 1, &h, &e), 0);
	history_close(h);
	assert_int_equal(count_runs(f->db), 0);
	/* a table of something else beside ours */
	assert_int_equal(tu_pg_sql(f->db, "CREATE TABLE customers(name TEXT)"), 0);
	assert_int_equal(history_open(f->db, 1, &h, &e), -1);
	assert_non_null(strstr(e.msg, "something else (tables: customers)"));
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "list", "--db", f->db, NULL);
	assert_int_equal(r->status, 2);
	assert_int_equal(tu_lines(r->out), 1);
	assert_int_equal(tu_pg_sql(f->db, "DROP TABLE customers;"
				   "UPDATE contend_schema SET version=99"), 0);
	assert_int_equal(history_open(f->db, 1, &h, &e), -1);
	assert_non_null(strstr(e.msg, "newer than"));
	assert_int_equal(pg_number(f->db, "SELECT version FROM contend_schema"), 99);
	/* a password in the URI never appears in a message */
	tu_contend(r, "history", "list", "--db",
		   "postgresql://me:s3cret@/nodb?host=/nonexistent", NULL);
	assert_int_equal(r->status, 3);
	assert_null(strstr(r->out, "s3cret"));
	assert_non_null(strstr(r->out, "cannot connect"));
	free(r);
}

/* A version 2 schema (before runs.machine) is upgraded on open, the
 * machine read back from the stored documents, as SQLite's is. */
static void test_pg_upgrade(void **state)
{
	struct fx *f = *state;
	int dup;
	json_t *d = doc_make("2024-01-01T00:00:00Z", "r1", 1.0, "cf");
	add(f->db, d, &dup);
	assert_int_equal(tu_pg_sql(f->db, "ALTER TABLE runs DROP COLUMN machine;"
				   "UPDATE contend_schema SET version=2"), 0);
	assert_int_equal(count_runs(f->db), 1);
	assert_int_equal(pg_number(f->db, "SELECT version FROM contend_schema"),
			 HISTORY_SCHEMA_VERSION);
	assert_int_equal(pg_number(f->db, "SELECT count(*) FROM runs WHERE"
				   " machine = 'ci'"), 1);
	json_decref(d);
}

/* history copy: SQLite to PostgreSQL and back, twice; the documents come
 * through unchanged and nothing doubles. */
static void test_pg_copy(void **state)
{
	struct fx *f = *state;
	char file[600], back[600];
	snprintf(file, sizeof file, "%s/a.db", f->dir);
	snprintf(back, sizeof back, "%s/b.db", f->dir);
	int dup;
	json_t *d1 = doc_make("2024-01-01T00:00:00Z", "r1", 1.0, "cf");
	json_t *d2 = doc_params("2024-01-02T00:00:00Z", "r2", 1.1, "16");
	add(file, d1, &dup);
	add(file, d2, &dup);
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "copy", "--db", file, "--to", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "2 added"));
	tu_contend(r, "history", "copy", "--db", file, "--to", f->db, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "0 added, 2 already there"));
	tu_contend(r, "history", "copy", "--db", f->db, "--to", back, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "2 added"));
	assert_int_equal(count_runs(f->db), 2);
	history *h;
	errbuf e;
	json_t *runs, *got;
	assert_int_equal(history_open(back, 0, &h, &e), 0);
	assert_int_equal(history_list(h, &runs, &e), 0);
	assert_int_equal(json_array_size(runs), 2);
	assert_int_equal(history_get_run(h, json_integer_value(json_object_get(
			 json_array_get(runs, 1), "run_id")), &got, &e), 0);
	assert_true(json_equal(got, d2));
	json_decref(got);
	json_decref(runs);
	history_close(h);
	tu_contend(r, "history", "copy", "--db", file, NULL);
	assert_int_equal(r->status, 2);
	free(r);
	json_decref(d1);
	json_decref(d2);
}

static void pg_server(const char *verb, const char *dir)
{
	char *argv[] = {"tests/pg-server", (char *)verb, (char *)dir, NULL};
	struct cmd_result *r = malloc(sizeof *r);
	assert_int_equal(tu_run(r, argv), 0);
	if (r->status)
		fail_msg("pg-server %s: %s", verb, r->out);
	free(r);
}

/* `contend history add` in the background, its output into log. */
static pid_t add_in_background(const char *db, const char *file,
			       const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(CONTEND_BIN, CONTEND_BIN, "history", "add", "--db", db,
		      file, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Waits until a backend of uri waits for a lock (10 s at most). */
static int wait_for_lock_waiter(const char *uri)
{
	for (int i = 0; i < 1000; i++) {
		if (pg_number(uri, "SELECT count(*) FROM pg_stat_activity WHERE"
			      " wait_event_type = 'Lock'") > 0)
			return 0;
		tu_sleep_ms(10);
	}
	return -1;
}

/* A private server: a run stored, then the server stops while a second
 * run is half written (held on a lock of reps), then while it is down.
 * Each failure is one line and exit 3; afterwards the first run is there
 * and nothing of the second. */
static void test_pg_server_gone(void **state)
{
	struct fx *f = *state;
	char *dir = f->pgdir, uri[1024], a[600], b[600], log[600];
	if (tu_pg_start(dir, sizeof f->pgdir, uri, sizeof uri))
		fail_msg("no private server");
	snprintf(a, sizeof a, "%s/a.json", f->dir);
	snprintf(b, sizeof b, "%s/b.json", f->dir);
	snprintf(log, sizeof log, "%s/add.log", f->dir);
	json_t *da = doc_make("2024-01-01T00:00:00Z", "r1", 1.0, "cf");
	json_t *db = doc_make("2024-01-02T00:00:00Z", "r2", 1.0, "cf");
	write_doc(da, a, 0);
	write_doc(db, b, 0);
	struct cmd_result *r = malloc(sizeof *r);
	tu_contend(r, "history", "add", "--db", uri, a, NULL);
	assert_int_equal(r->status, 0);

	PGconn *locker = PQconnectdb(uri);
	assert_int_equal(PQstatus(locker), CONNECTION_OK);
	PQclear(PQexec(locker, "BEGIN; LOCK TABLE reps IN ACCESS EXCLUSIVE MODE"));
	pid_t pid = add_in_background(uri, b, log);
	assert_int_equal(wait_for_lock_waiter(uri), 0);
	pg_server("halt", dir);
	PQfinish(locker);
	int st;
	waitpid(pid, &st, 0);
	size_t len;
	char *out = slurp(log, &len);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_int_equal(tu_lines(out), 1);
	assert_non_null(strstr(out, "went away"));
	assert_non_null(strstr(out, "not stored"));
	free(out);

	/* while it is down: every verb says so in one line, exit 3 */
	tu_contend(r, "history", "add", "--db", uri, b, NULL);
	assert_int_equal(r->status, 3);
	assert_int_equal(tu_lines(r->out), 1);
	assert_non_null(strstr(r->out, "cannot connect to the PostgreSQL server"));
	tu_contend(r, "history", "list", "--db", uri, NULL);
	assert_int_equal(r->status, 3);
	tu_contend(r, "compare", "--history", uri, NULL);
	assert_int_equal(r->status, 3);
	tu_contend(r, "dashboard", "--history", uri, "--out",
		   tu_path(f->dir, "site"), NULL);
	assert_int_equal(r->status, 3);

	pg_server("resume", dir);
	assert_int_equal(count_runs(uri), 1);
	assert_int_equal(pg_number(uri, "SELECT count(*) FROM configs"), 2);
	assert_int_equal(pg_number(uri, "SELECT count(*) FROM reps"), 4);
	tu_contend(r, "history", "add", "--db", uri, b, NULL);
	assert_int_equal(r->status, 0);
	assert_int_equal(count_runs(uri), 2);
	free(r);
	json_decref(da);
	json_decref(db);
}

int main(void)
{
	/* Against either backend: the fixture's location is the backend. */
#define BOTH(setup_fn)                                                      \
	cmocka_unit_test_setup_teardown(test_add_list_dedup, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_trend_and_pair, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_concurrent_adds, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_pair_same_params, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_trend_same_params, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_machines, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_malformed_documents, setup_fn, teardown), \
	cmocka_unit_test_setup_teardown(test_gbench_import, setup_fn, teardown)
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		BOTH(setup),
		cmocka_unit_test_setup_teardown(test_run_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v1_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sqlite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gbench_nonfinite, setup, teardown),
	};
	const struct CMUnitTest pg_tests[] = {
		BOTH(setup_pg),
		cmocka_unit_test_setup_teardown(test_pg_refusals, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_upgrade, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_copy, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_pg_server_gone, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("history (sqlite)", sqlite_tests,
					     NULL, NULL);
	if (tu_pg_admin())
		rc |= cmocka_run_group_tests_name("history (postgresql)",
						  pg_tests, NULL, NULL);
	return rc;
}
