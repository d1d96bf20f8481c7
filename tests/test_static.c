/* test_static.c - bin/contend-static (make static) runs where only the C
 * library is installed: in a mount namespace holding just the binary and
 * libc's files (tests/isolated), it lists its probes, runs a sweep on all
 * three pools and adds the result to a SQLite history and to a real
 * PostgreSQL server (tests/pg-server's, through its socket directory, the
 * only thing of the host's file system the root is given). The dynamic
 * bin/contend, in the same place, must fail to start: otherwise the
 * isolation proves nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sys/stat.h>

#include "document/jsonfile.h"
#include "document/results.h"
#include "tests/testutil.h"
#include "tests/testutil_pg.h"

#define STATIC_BIN "bin/contend-static"

struct fx {
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->dir = tu_tempdir();
	*state = f;
	return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Run bin with args inside the isolated root; 77: no namespaces here. */
static void isolated(struct cmd_result *r, const char *dir, const char *bin,
		     char *const args[])
{
	char *argv[32] = {"tests/isolated", (char *)dir, (char *)bin};
	int n = 3;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(tu_run(r, argv), 0);
	if (r->status == 77) {
		printf("   skipped: %s", r->out);
		skip();
	}
}

static void test_dynamic_binary_cannot_start(void **state)
{
	struct fx *f = *state;
	struct cmd_result *r = malloc(sizeof *r);
	char *args[] = {"probes", NULL};
	isolated(r, f->dir, CONTEND_BIN, args);
	assert_int_equal(r->status, 127);
	assert_non_null(strstr(r->out, "error while loading shared libraries"));
	free(r);
}

static void test_static_probes(void **state)
{
	struct fx *f = *state;
	struct cmd_result *r = malloc(sizeof *r);
	char *args[] = {"probes", NULL};
	isolated(r, f->dir, STATIC_BIN, args);
	if (r->status)
		printf("%s\n", r->out);
	assert_int_equal(r->status, 0);
	/* hwloc, PAPI and perf answered from inside the static binary */
	assert_non_null(strstr(r->out, "rusage"));
	assert_non_null(strstr(r->out, "papi"));
	free(r);
}

static void test_static_run_and_history(void **state)
{
	struct fx *f = *state;
	struct cmd_result *r = malloc(sizeof *r);
	char *run[] = {"run", "spin", "--pool", "serial,thread,process",
		       "--workers", "1,2", "--reps", "2", "--params",
		       "tasks=200", "--quiet", "--out", "/out/spin.json", NULL};
	isolated(r, f->dir, STATIC_BIN, run);
	if (r->status)
		printf("%s\n", r->out);
	assert_int_equal(r->status, 0);

	char path[600];
	snprintf(path, sizeof path, "%s/spin.json", f->dir);
	json_error_t je;
	json_t *doc = jsonfile_load(path, 0, &je);
	assert_non_null(doc);
	errbuf e;
	assert_int_equal(results_validate(doc, &e), 0);
	json_t *c;
	size_t i, ok = 0;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		ok += !strcmp(json_string_value(json_object_get(c, "status")),
			      "ok");
	/* serial w1, thread w1 w2, process w1 w2 */
	assert_int_equal(ok, 5);
	assert_non_null(json_object_get(json_object_get(doc, "context"),
					"cpu_model"));
	json_decref(doc);

	char *add[] = {"history", "add", "--db", "/out/h.db", "/out/spin.json",
		       NULL};
	isolated(r, f->dir, STATIC_BIN, add);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "added as run 1"));
	free(r);
}

/* The socket directory named by host= in a libpq URI. */
static int uri_host(const char *uri, char *dir, size_t len)
{
	const char *h = strstr(uri, "host=");
	if (!h)
		return -1;
	h += 5;
	size_t n = strcspn(h, "&");
	if (n == 0 || n >= len)
		return -1;
	memcpy(dir, h, n);
	dir[n] = 0;
	return 0;
}

/* A fleet machine without the packages adds its run to the team's
 * server: the static binary's libpq (GSSAPI and LDAP stubbed) connects
 * through the server's socket, and the dynamic contend reads it back. */
static void test_static_postgresql(void **state)
{
	struct fx *f = *state;
	char uri[768], sock[512];
	if (tu_pg_fresh(uri, sizeof uri))
		skip();
	assert_int_equal(uri_host(uri, sock, sizeof sock), 0);
	struct cmd_result *r = malloc(sizeof *r);
	char *run[] = {"run", "spin", "--pool", "thread", "--workers", "1,2",
		       "--reps", "2", "--params", "tasks=200", "--quiet",
		       "--machine", "fleet-static", "--out", "/out/pg.json",
		       NULL};
	isolated(r, f->dir, STATIC_BIN, run);
	assert_int_equal(r->status, 0);
	setenv("ISOLATED_BIND", sock, 1);
	char *add[] = {"history", "add", "--db", uri, "/out/pg.json", NULL};
	isolated(r, f->dir, STATIC_BIN, add);
	unsetenv("ISOLATED_BIND");
	if (strstr(r->out, "built without PostgreSQL")) {
		/* made where postgresql-server-dev's archives are missing
		 * (Makefile): it must say so in one line, exit 3 */
		assert_int_equal(r->status, 3);
		printf("   skipped: this static build has no PostgreSQL "
		       "(install postgresql-server-dev-all and make static)\n");
		free(r);
		skip();
	}
	if (r->status)
		printf("%s\n", r->out);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "added as run 1"));
	tu_contend(r, "history", "list", "--db", uri, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "fleet-static"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dynamic_binary_cannot_start,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_postgresql, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_run_and_history, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
