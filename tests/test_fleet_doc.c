/* test_fleet_doc.c - docs/nightly.md's fleet setup, run as written against
 * a throwaway PostgreSQL server (tests/testutil_pg.h).
 *
 * The blocks marked <!-- test: fleet-... --> are taken from the document
 * itself: the server block runs with PGHOST/PGUSER naming the test server;
 * the script is installed in a temporary /srv/contend and run for two
 * machines over two nights (MACHINE and a small SWEEP, the knobs the
 * script documents); each cron line's command runs with only the site's
 * addresses replaced. Then the shared history holds both machines' runs
 * and the dashboard shows them side by side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "tests/testutil.h"
#include "tests/testutil_pg.h"

#define DOC "docs/nightly.md"
#define SWEEP "spin --pool thread --workers 1,2 --reps 3 --params tasks=200"

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	rewind(fp);
	char *b = malloc((size_t)n + 1);
	b[fread(b, 1, (size_t)n, fp)] = 0;
	fclose(fp);
	return b;
}

/* The ```sh block after the marker, malloc'd, or NULL. */
static char *block(const char *md, const char *marker)
{
	const char *m = strstr(md, marker);
	const char *start = m ? strstr(m, "```sh\n") : NULL;
	const char *end = start ? strstr(start + 6, "\n```") : NULL;
	if (!end)
		return NULL;
	return strndup(start + 6, (size_t)(end - start - 6) + 1);
}

/* s with every `from` replaced by `to`, malloc'd. */
static char *replace(const char *s, const char *from, const char *to)
{
	size_t n = 0, lf = strlen(from), lt = strlen(to);
	for (const char *p = s; (p = strstr(p, from)); p += lf)
		n++;
	char *out = malloc(strlen(s) + n * lt + 1), *o = out;
	for (const char *p = s, *q; ; p = q + lf) {
		q = strstr(p, from);
		size_t k = q ? (size_t)(q - p) : strlen(p);
		memcpy(o, p, k);
		o += k;
		if (!q)
			break;
		memcpy(o, to, lt);
		o += lt;
	}
	*o = 0;
	return out;
}

static int sh(struct cmd_result *r, const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	assert_int_equal(tu_run(r, argv), 0);
	return r->status;
}

/* host=DIR of the test server's URI. */
static void server_dir(const char *uri, char *dir, size_t len)
{
	const char *h = strstr(uri, "host=");
	assert_non_null(h);
	snprintf(dir, len, "%.*s", (int)strcspn(h + 5, "&"), h + 5);
}

/* The command of a cron line (after its five time fields). */
static const char *cron_command(const char *line)
{
	const char *p = line;
	for (int f = 0; f < 5; f++) {
		p += strcspn(p, " ");
		if (*p != ' ')
			return NULL;
		p += strspn(p, " ");
	}
	return p;
}

static void test_fleet_setup(void **state)
{
	(void)state;
	const char *admin = tu_pg_admin();
	if (!admin)
		skip();
	char *md = slurp(DOC), *server = block(md, "<!-- test: fleet-server -->");
	char *script = block(md, "<!-- test: fleet-script -->");
	char *cron = block(md, "<!-- test: fleet-cron -->");
	assert_non_null(server);
	assert_non_null(script);
	assert_non_null(cron);
	struct cmd_result *r = malloc(sizeof *r);
	char dir[512], cwd[512], *tmp = tu_tempdir(), cmd[4096];
	server_dir(admin, dir, sizeof dir);
	assert_non_null(getcwd(cwd, sizeof cwd));

	/* the database host: the block as written, as the superuser */
	assert_int_equal(tu_pg_sql(admin, "DROP DATABASE IF EXISTS contend"), 0);
	assert_int_equal(tu_pg_sql(admin, "DROP ROLE IF EXISTS bench"), 0);
	snprintf(cmd, sizeof cmd, "PGHOST='%s' PGUSER=contend PGDATABASE=postgres"
		 " && export PGHOST PGUSER PGDATABASE && set -e && %s", dir, server);
	if (sh(r, cmd))
		fail_msg("server block: %s", r->out);

	/* a machine's checkout: the script, and the contend under test */
	char srv[600], uri[1024], site[600], log[600];
	snprintf(srv, sizeof srv, "%s/srv-contend", tmp);
	snprintf(site, sizeof site, "%s/www", tmp);
	snprintf(log, sizeof log, "%s/nightly.log", tmp);
	snprintf(uri, sizeof uri, "postgresql://bench@/contend?host=%s", dir);
	assert_int_equal(mkdir(srv, 0755), 0);
	snprintf(cmd, sizeof cmd, "%s/" CONTEND_BIN_DIR, cwd);
	assert_int_equal(symlink(cmd, tu_path(srv, "bin")), 0);
	FILE *fp = fopen(tu_path(srv, "nightly-fleet.sh"), "w");
	assert_non_null(fp);
	fputs(script, fp);
	fclose(fp);
	assert_int_equal(chmod(tu_path(srv, "nightly-fleet.sh"), 0755), 0);

	/* the cron lines, addresses replaced, nothing else */
	char *c1 = replace(cron, "postgresql://bench@db.example/contend", uri);
	char *c2 = replace(c1, "/srv/contend", srv);
	char *c3 = replace(c2, "/var/www/contend", site);
	char *lines = replace(c3, "/var/log/contend-nightly.log", log);
	char *nl = strchr(lines, '\n');
	assert_non_null(nl);
	*nl = 0;
	const char *machine = cron_command(lines), *dash = cron_command(nl + 1);
	assert_non_null(machine);
	assert_non_null(dash);
	assert_non_null(strstr(machine, "nightly-fleet.sh"));
	/* two machines, two nights each: the first night has nothing to
	 * compare with (2), the second compares with the first (0 or 1) */
	const char *names[] = {"vm-a", "vm-b"};
	for (int night = 0; night < 2; night++)
		for (int m = 0; m < 2; m++) {
			snprintf(cmd, sizeof cmd, "MACHINE=%s SWEEP='" SWEEP
				 "'; export MACHINE SWEEP; %s", names[m], machine);
			int st = sh(r, cmd);
			char *out = slurp(log);
			if (night == 0 ? st != 2 : st > 1)
				fail_msg("night %d, %s: exit %d: %s", night + 1,
					 names[m], st, out);
			free(out);
		}
	if (sh(r, dash))
		fail_msg("dashboard line: %s", r->out);

	tu_contend(r, "history", "list", "--db", uri, NULL);
	assert_int_equal(r->status, 0);
	assert_int_equal(tu_lines(r->out), 5); /* a header and 4 runs */
	assert_non_null(strstr(r->out, "vm-a"));
	assert_non_null(strstr(r->out, "vm-b"));
	char *html = slurp(tu_path(site, "index.html"));
	assert_non_null(html);
	assert_non_null(strstr(html, "<table class=\"machines\">"));
	assert_non_null(strstr(html, "spin on machine vm-a"));
	assert_non_null(strstr(html, "spin on machine vm-b"));
	free(html);
	free(c1);
	free(c2);
	free(c3);
	free(lines);
	free(md);
	free(server);
	free(script);
	free(cron);
	free(r);
	tu_rmtree(tmp);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_setup),
	};
	int rc = cmocka_run_group_tests_name("fleet setup (docs/nightly.md)",
					     tests, NULL, NULL);
	return rc;
}
