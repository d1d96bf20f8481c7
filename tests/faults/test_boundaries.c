/* test_boundaries.c - the fault suite, second part: contend at its
 * boundaries (docs/reliability.md, cases 29 on). Where results go (device
 * nodes, FIFOs, /dev/stdout, names at NAME_MAX), what a document may say
 * (impossible values, control characters), what report may be given (a
 * FIFO), output that cannot be written (/dev/full), plot files through
 * planted symlinks, the measured command of exec when contend dies,
 * stale /dev/shm segments, a report of 33k configurations and what
 * "cores busy" counts. Each case failed before its fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/err.h"
#include "document/results.h"
#include "tests/testutil.h"

static char *dir;
static struct cmd_result *r;
static char seed[32]; /* "seed=<our pid>": marks our contend processes */
static int cases;

static int setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	r = malloc(sizeof *r);
	snprintf(seed, sizeof seed, "seed=%d", (int)getpid());
	return dir && r ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	printf("boundaries: %d cases passed\n", cases);
	tu_rmtree(dir);
	free(dir);
	free(r);
	return 0;
}

static const char *path(const char *name)
{
	return tu_path(dir, name);
}

/* A case leaves no temp file of a document beside it. */
static void end_case(const char *name)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (dp && (de = readdir(dp)))
		if (strstr(de->d_name, ".tmp.")) {
			printf("   left behind: %s\n", de->d_name);
			n++;
		}
	if (dp)
		closedir(dp);
	if (n)
		fail_msg("%s: %d temp files left", name, n);
	cases++;
	printf("   case %-44s passed\n", name);
}

/* The smallest real run, output to `out`. */
static int small_run(const char *out)
{
	char params[96];
	snprintf(params, sizeof params, "tasks=20,%s", seed);
	return tu_contend(r, "run", "spin", "--params", params, "--pool",
			  "serial", "--reps", "1", "--warmup", "0", "--quiet",
			  "--out", out, NULL);
}

static int is_kind(const char *p, mode_t kind)
{
	struct stat st;
	return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

/* ---- 29-33: --out that is not a plain file --------------------------- */

/* A reader for a FIFO: copies what it gets to `to` (gives up after 60 s,
 * so a writer that never comes cannot hang the suite). */
static pid_t fifo_reader(const char *fifo, const char *to)
{
	pid_t pid = fork();
	if (pid == 0) {
		alarm(60);
		int in = open(fifo, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[65536];
		ssize_t k;
		while (in >= 0 && (k = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)k) != k)
				_exit(1);
		_exit(in < 0);
	}
	return pid;
}

static void assert_document(const char *file, const char *status)
{
	json_t *doc;
	errbuf e = {{0}};
	if (results_load(file, &doc, &e))
		fail_msg("%s", e.msg);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), status);
	json_decref(doc);
}

static void test_out_not_a_plain_file(void **state)
{
	(void)state;
	/* a device node of our own (the repro): as root only */
	const char *node = path("null");
	if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		assert_int_equal(small_run(node), 0);
		assert_int_equal(r->status, 0);
		assert_true(is_kind(node, S_IFCHR));
		const char *blk = path("blk"); /* a loop minor nobody uses */
		if (mknod(blk, S_IFBLK | 0600, makedev(7, 250)) == 0) {
			assert_int_equal(small_run(blk), 0);
			assert_int_equal(r->status, 2);
			assert_non_null(strstr(r->out, "block device"));
			assert_int_equal(tu_lines(r->out), 1); /* before measuring */
			assert_true(is_kind(blk, S_IFBLK));
		}
	} else
		printf("   (no mknod here: %s; the symlink cases stand in)\n",
		       strerror(errno));
	/* a symlink to /dev/null: written through, not replaced */
	const char *link = path("null.json");
	assert_int_equal(symlink("/dev/null", link), 0);
	assert_int_equal(small_run(link), 0);
	assert_int_equal(r->status, 0);
	assert_true(is_kind(link, S_IFLNK));
	assert_true(is_kind("/dev/null", S_IFCHR));
	/* exec too */
	assert_int_equal(tu_contend(r, "exec", "--no-lockprof", "--reps", "1",
				    "--workers", "1", "--quiet", "--out", link,
				    "--", "true", NULL), 0);
	assert_int_equal(r->status, 0);
	assert_true(is_kind(link, S_IFLNK));
	/* /dev/full: one line, exit 2, nothing replaced */
	const char *full = path("full.json");
	assert_int_equal(symlink("/dev/full", full), 0);
	assert_int_equal(small_run(full), 0);
	assert_int_equal(r->status, EXIT_RUNTIME);
	assert_non_null(strstr(r->out, "No space left on device"));
	assert_int_equal(tu_lines(r->out), 1);
	assert_true(is_kind(full, S_IFLNK));
	/* a FIFO: the reader gets the final document, once */
	const char *fifo = path("fifo"), *got = path("from-fifo.json");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	pid_t rd = fifo_reader(fifo, got);
	assert_int_equal(small_run(fifo), 0);
	assert_int_equal(r->status, 0);
	int st;
	assert_int_equal(waitpid(rd, &st, 0), rd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(is_kind(fifo, S_IFIFO));
	assert_document(got, "complete");
	/* standard output, through a link like /dev/stdout's */
	const char *out = path("stdout.json");
	assert_int_equal(symlink("/proc/self/fd/1", out), 0);
	assert_int_equal(small_run(out), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "\"schema\": \"" RESULTS_SCHEMA "\""));
	assert_true(is_kind(out, S_IFLNK));
	end_case("--out a device, a FIFO, standard output");
}

/* ---- 34: a long, legal --out name ------------------------------------ */

static void test_out_long_name(void **state)
{
	(void)state;
	char name[400];
	long max = pathconf(dir, _PC_NAME_MAX);
	if (max <= 0 || max > 300)
		max = 255;
	memset(name, 'n', (size_t)max);
	memcpy(name + max - 5, ".json", 6); /* exactly NAME_MAX bytes */
	const char *ok = path(name);
	assert_int_equal(small_run(ok), 0);
	assert_int_equal(r->status, 0);
	assert_document(ok, "complete");
	memset(name, 'm', (size_t)max + 20);
	memcpy(name + max + 15, ".json", 6); /* longer: refused at once */
	assert_int_equal(small_run(path(name)), 0);
	assert_int_equal(r->status, 2);
	assert_int_equal(tu_lines(r->out), 1);
	assert_non_null(strstr(r->out, "file name is"));
	end_case("--out name of NAME_MAX bytes, and longer");
}

/* ---- 35: standard output that cannot be written ---------------------- */

/* Run contend with stdout on `out` and stderr captured in r. */
static int run_stdout_to(const char *out, const char *const *args)
{
	char *argv[32];
	int n = 0;
	argv[n++] = (char *)CONTEND_BIN;
	for (; *args && n < 31; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY);
		dup2(fd, 1);
		dup2(p[1], 2);
		close(p[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	ssize_t k, len = 0;
	while ((k = read(p[0], r->out + len, sizeof r->out - 1 - (size_t)len)) > 0)
		len += k;
	r->out[len] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

static void test_stdout_write_error(void **state)
{
	(void)state;
	const char *doc = path("small.json"), *db = path("small.db");
	assert_int_equal(small_run(doc), 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(tu_contend(r, "history", "add", "--db", db, doc, NULL), 0);
	assert_int_equal(r->status, 0);
	const char *const verbs[][8] = {
		{"list", NULL},
		{"report", doc, NULL},
		{"report", doc, "--format", "csv", NULL},
		{"report", doc, "--format", "md", NULL},
		{"history", "list", "--db", db, NULL},
		{"scan", "--json", CONTEND_BIN, NULL},
		{"probes", "--json", NULL},
	};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		assert_int_equal(run_stdout_to("/dev/full", verbs[i]), 0);
		if (r->status == 0 || r->status == 1 || tu_lines(r->out) != 1 ||
		    !strstr(r->out, "cannot write to standard output"))
			fail_msg("contend %s %s > /dev/full: exit %d, '%s'",
				 verbs[i][0], verbs[i][1] ? verbs[i][1] : "",
				 r->status, r->out);
	}
	end_case("stdout on /dev/full, 7 verbs");
}

/* ---- 36-37: what documents may say ----------------------------------- */

static json_t *small_doc(void)
{
	const char *doc = path("base.json");
	assert_int_equal(small_run(doc), 0);
	assert_int_equal(r->status, 0);
	json_error_t je;
	json_t *d = json_load_file(doc, 0, &je);
	assert_non_null(d);
	return d;
}

static const char *write_doc(json_t *d, const char *name)
{
	const char *p = path(name);
	assert_int_equal(json_dump_file(d, p, JSON_INDENT(1)), 0);
	return p;
}

static json_t *first_config(json_t *d)
{
	return json_array_get(json_object_get(d, "configs"), 0);
}

static json_t *first_rep(json_t *d)
{
	return json_array_get(json_object_get(first_config(d), "reps"), 0);
}

/* report, history add and compare all refuse it with the reason; the
 * history stays empty. */
static void refused_everywhere(const char *file, const char *why)
{
	const char *db = path("refused.db");
	unlink(db);
	assert_int_equal(tu_contend(r, "report", file, NULL), 0);
	if (r->status != 2 || !strstr(r->out, why) || tu_lines(r->out) != 1)
		fail_msg("report %s: exit %d, '%s' (wanted '%s')", file,
			 r->status, r->out, why);
	assert_int_equal(tu_contend(r, "history", "add", "--db", db, file, NULL), 0);
	if (r->status != 2 || !strstr(r->out, why))
		fail_msg("history add %s: exit %d, '%s'", file, r->status, r->out);
	assert_int_equal(tu_contend(r, "history", "list", "--db", db, "--json", NULL), 0);
	assert_null(strstr(r->out, "run_id"));
	assert_int_equal(tu_contend(r, "compare", file, file, NULL), 0);
	if (r->status != 2 || !strstr(r->out, why))
		fail_msg("compare %s: exit %d, '%s'", file, r->status, r->out);
}

static void test_impossible_values(void **state)
{
	(void)state;
	json_t *d = small_doc();
	json_t *rep = first_rep(d), *c = first_config(d);
	json_t *wall = json_deep_copy(json_object_get(rep, "wall_s"));
	json_object_set_new(rep, "wall_s", json_real(-5.0));
	refused_everywhere(write_doc(d, "negative.json"), "'wall_s' is -5");
	json_object_set_new(rep, "wall_s", json_real(0.0));
	refused_everywhere(write_doc(d, "zero.json"), "'wall_s' is 0");
	json_object_set_new(rep, "wall_s", wall);
	json_object_set_new(rep, "cpu_s", json_real(-1.0));
	refused_everywhere(write_doc(d, "negcpu.json"), "'cpu_s' is -1");
	json_object_set_new(rep, "cpu_s", json_real(0.001));
	json_object_set_new(c, "workers", json_integer(-3));
	refused_everywhere(write_doc(d, "workers.json"), "'workers' is -3");
	json_object_set_new(c, "workers", json_integer(1));
	/* non-finite: jansson cannot write it, so by hand */
	FILE *f = fopen(path("huge.json"), "w");
	char *text = json_dumps(d, 0);
	char *w = strstr(text, "\"wall_s\": ");
	assert_non_null(w);
	fprintf(f, "%.*s\"wall_s\": -Infinity, \"x\": %s", (int)(w - text),
		text, w + strlen("\"wall_s\": "));
	fclose(f);
	free(text);
	assert_int_equal(tu_contend(r, "history", "add", "--db",
				    path("inf.db"), path("huge.json"), NULL), 0);
	assert_int_equal(r->status, 2);
	/* a killed run's document: rendered, and said to be incomplete */
	json_object_set_new(d, "status", json_string("running"));
	assert_int_equal(tu_contend(r, "report", write_doc(d, "running.json"), NULL), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "Incomplete"));
	json_decref(d);
	end_case("impossible values; a killed run's document");
}

/* ---- 38-39: report and control characters, FIFOs --------------------- */

static void test_report_escapes_and_fifo(void **state)
{
	(void)state;
	json_t *d = small_doc();
	json_t *c = first_config(d);
	json_object_set_new(c, "workload", json_string("spin\033[2J\033]0;owned\007"));
	json_object_set_new(json_object_get(c, "params"), "k\033[31m",
			    json_string("v\xc2\x9b" "1m\n"));
	const char *file = write_doc(d, "esc.json");
	const char *formats[] = {"table", "md", "csv"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(tu_contend(r, "report", file, "--format",
					    formats[i], NULL), 0);
		assert_int_equal(r->status, 0);
		assert_null(strchr(r->out, '\033'));
		assert_null(strchr(r->out, '\007'));
		assert_null(strstr(r->out, "\xc2\x9b"));
		assert_non_null(strstr(r->out, "spin\\x1b[2J"));
	}
	json_decref(d);
	/* a FIFO nobody writes: refused at once, not waited on */
	const char *fifo = path("report.fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	char *argv[] = {"timeout", "20", (char *)CONTEND_BIN, "report",
			(char *)fifo, NULL};
	assert_int_equal(tu_run(r, argv), 0);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "not a regular file"));
	argv[4] = "/dev/zero";
	assert_int_equal(tu_run(r, argv), 0);
	assert_int_equal(r->status, 2);
	end_case("control characters in a document; report on a FIFO");
}

/* ---- 40-41: plot images through planted links ------------------------ */

static void write_victim(const char *v)
{
	FILE *f = fopen(v, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
}

static void assert_victim(const char *v)
{
	char buf[64] = "";
	FILE *f = fopen(v, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	if (n != 9 || memcmp(buf, "precious\n", 9))
		fail_msg("'%s' was written through (%zu bytes)", v, n);
}

/* Replace every image in d by a link to the victim: symbolic links, and
 * one hard link (O_NOFOLLOW alone does not stop that one). */
static int plant_image_links(const char *d, const char *v)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int planted = 0;
	while (dp && (de = readdir(dp))) {
		char f[1400];
		if (!strstr(de->d_name, ".png") && !strstr(de->d_name, ".svg"))
			continue;
		snprintf(f, sizeof f, "%s/%s", d, de->d_name);
		assert_int_equal(unlink(f), 0);
		if (planted++ == 0 && link(v, f) == 0)
			continue;
		assert_int_equal(symlink(v, f), 0);
	}
	if (dp)
		closedir(dp);
	return planted;
}

static void assert_images_ours(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	while (dp && (de = readdir(dp))) {
		char f[1400];
		struct stat st;
		if (!strstr(de->d_name, ".png") && !strstr(de->d_name, ".svg"))
			continue;
		snprintf(f, sizeof f, "%s/%s", d, de->d_name);
		assert_int_equal(lstat(f, &st), 0);
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_size < 100)
			fail_msg("'%s' is not a fresh image of ours", f);
		assert_null(strstr(de->d_name, ".tmp."));
	}
	if (dp)
		closedir(dp);
}

static void test_plots_through_links(void **state)
{
	(void)state;
	const char *doc = path("plots.json"), *v = path("victim");
	char plots[700];
	snprintf(plots, sizeof plots, "%s", path("plots"));
	write_victim(v);
	assert_int_equal(small_run(doc), 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(tu_contend(r, "report", doc, "--plots", plots, NULL), 0);
	if (r->status == 2 && strstr(r->out, "gnuplot not found")) {
		printf("   (no gnuplot: nothing to plant)\n");
		end_case("plot images through planted links (skipped)");
		return;
	}
	assert_int_equal(r->status, 0);
	assert_true(plant_image_links(plots, v) >= 4);
	assert_int_equal(tu_contend(r, "report", doc, "--plots", plots, NULL), 0);
	assert_int_equal(r->status, 0);
	assert_victim(v);
	assert_images_ours(plots);
	end_case("plot images through planted links");
}

/* The dashboard: images under site/WORKLOAD/MACHINE planted the same way;
 * then site/WORKLOAD itself a link to a directory outside the site. */
static void test_dashboard_through_links(void **state)
{
	(void)state;
	const char *doc = path("dash.json"), *db = path("dash.db"), *v = path("victim2");
	char site[700], outside[700], wdir[1400], mdir[2200];
	snprintf(site, sizeof site, "%s", path("site"));
	snprintf(outside, sizeof outside, "%s", path("outside"));
	snprintf(wdir, sizeof wdir, "%s/spin", site);
	write_victim(v);
	assert_int_equal(small_run(doc), 0);
	assert_int_equal(tu_contend(r, "history", "add", "--db", db, doc, NULL), 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(tu_contend(r, "dashboard", "--history", db, "--out",
				    site, NULL), 0);
	assert_int_equal(r->status, 0);
	if (strstr(r->out, "gnuplot not found")) {
		printf("   (no gnuplot: nothing to plant)\n");
		end_case("dashboard images through planted links (skipped)");
		return;
	}
	DIR *dp = opendir(wdir);
	struct dirent *de;
	mdir[0] = 0;
	while (dp && (de = readdir(dp)))
		if (de->d_name[0] != '.')
			snprintf(mdir, sizeof mdir, "%s/%s", wdir, de->d_name);
	if (dp)
		closedir(dp);
	assert_true(mdir[0] && plant_image_links(mdir, v) >= 4);
	assert_int_equal(tu_contend(r, "dashboard", "--history", db, "--out",
				    site, NULL), 0);
	assert_int_equal(r->status, 0);
	assert_null(strstr(r->out, "plots are missing"));
	assert_victim(v);
	assert_images_ours(mdir);
	/* the workload's directory a link out of the site: refused */
	assert_int_equal(mkdir(outside, 0700), 0);
	tu_rmtree(wdir);
	assert_int_equal(symlink(outside, wdir), 0);
	assert_int_equal(tu_contend(r, "dashboard", "--history", db, "--out",
				    site, NULL), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "symbolic link"));
	dp = opendir(outside);
	int n = 0;
	while (dp && (de = readdir(dp)))
		n += de->d_name[0] != '.';
	if (dp)
		closedir(dp);
	assert_int_equal(n, 0);
	end_case("dashboard images and directories through links");
}

/* ---- 42: report on a document of 33k configurations ------------------ */

/* A sweep over many params: series of 8 worker counts x 3 pools. */
static json_t *big_config(size_t i)
{
	static const char *pools[] = {"serial", "thread", "process"};
	int w = 1 + (int)(i % 8);
	char id[128];
	snprintf(id, sizeof id, "spin/release/%s/w%d/tasks=%zu",
		 pools[(i / 8) % 3], w, 100 + i / 24);
	json_t *reps = json_array();
	for (int k = 0; k < 3; k++)
		json_array_append_new(reps, json_pack(
			"{s:i, s:f, s:f, s:s, s:s}", "index", k, "wall_s",
			(0.01 / w + 0.001 * w) * (1 + 0.01 * k), "cpu_s", 0.01,
			"status", "ok", "checksum", "0x00000000000000aa"));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:{s:I}, s:o, s:s}",
			 "id", id, "workload", "spin", "build", "release",
			 "pool", pools[(i / 8) % 3], "workers", w, "warmup", 0,
			 "params", "tasks", (json_int_t)(100 + i / 24), "reps",
			 reps, "status", "ok");
}

static void test_report_of_33k_configurations(void **state)
{
	(void)state;
	json_t *configs = json_array();
	for (size_t i = 0; i < 33000; i++)
		json_array_append_new(configs, big_config(i));
	json_t *d = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
			      RESULTS_SCHEMA, "status", "complete", "context",
			      "logical_cores", 2, "configs", configs);
	const char *file = path("33k.json");
	assert_int_equal(json_dump_file(d, file, JSON_COMPACT), 0);
	json_decref(d);
	/* a few seconds since the series are grouped once; before, over
	 * 5 minutes (pairs of configurations compared) */
	char *argv[] = {"timeout", "120", (char *)CONTEND_BIN, "report",
			(char *)file, NULL};
	assert_int_equal(tu_run(r, argv), 0);
	if (r->status != 0)
		fail_msg("report of 33k configurations: exit %d", r->status);
	assert_non_null(strstr(r->out, "spin"));
	unlink(file);
	end_case("report of 33k configurations");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_not_a_plain_file),
		cmocka_unit_test(test_out_long_name),
		cmocka_unit_test(test_stdout_write_error),
		cmocka_unit_test(test_impossible_values),
		cmocka_unit_test(test_report_escapes_and_fifo),
		cmocka_unit_test(test_plots_through_links),
		cmocka_unit_test(test_dashboard_through_links),
		cmocka_unit_test(test_report_of_33k_configurations),
	};
	return cmocka_run_group_tests_name("boundaries", tests, setup, teardown);
}
