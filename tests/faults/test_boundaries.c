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

/* Built with ASan/UBSan or TSan (make test-asan, test-tsan). */
static int sanitized(void)
{
	return strstr(CONTEND_BUILD_DIR, "san") != NULL;
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
	/* a sanitizer build is 10-30x slower: the bound is about growth,
	 * not the sanitizer's constant */
	char *argv[] = {"timeout", sanitized() ? "900" : "120",
			(char *)CONTEND_BIN, "report", (char *)file, NULL};
	assert_int_equal(tu_run(r, argv), 0);
	if (r->status != 0)
		fail_msg("report of 33k configurations: exit %d", r->status);
	assert_non_null(strstr(r->out, "spin"));
	unlink(file);
	end_case("report of 33k configurations");
}

/* ---- 43-45: exec's command dies with contend ------------------------- */

/* Processes (not contend, not us) whose command line holds `mark`; their
 * pids into pids (up to max). */
static int marked(const char *mark, pid_t *pids, int max)
{
	DIR *dp = opendir("/proc");
	struct dirent *de;
	int n = 0;
	while (dp && (de = readdir(dp))) {
		char f[300], buf[4096];
		pid_t pid = (pid_t)atoi(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(f, sizeof f, "/proc/%s/cmdline", de->d_name);
		FILE *fp = fopen(f, "r");
		size_t k = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
		if (fp)
			fclose(fp);
		for (size_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k] = 0;
		if (!strstr(buf, mark) || strstr(buf, " exec "))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	if (dp)
		closedir(dp);
	return n;
}

/* Poll (10 s at most) until at least `least` marked processes run, or,
 * with least 0, until none does; returns how many run. */
static int wait_marked(const char *mark, int least)
{
	pid_t none[1];
	for (int i = 0; i < 1000; i++) {
		int n = marked(mark, none, 0);
		if (least ? n >= least : n == 0)
			return n;
		tu_sleep_ms(10);
	}
	return marked(mark, none, 0);
}

/* What a failed case left: killed one by one, by pid. */
static void kill_marked(const char *mark)
{
	pid_t pids[64];
	int n = marked(mark, pids, 64);
	for (int i = 0; i < n && i < 64; i++)
		kill(pids[i], SIGKILL);
}

/* contend exec --reps 3 ... -- sh -c SCRIPT sh MARK, its stdout and
 * stderr on fd `to` (-1: /dev/null). */
static pid_t start_exec(const char *out, const char *script, const char *mark,
			int show, int to)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(to >= 0 ? to : null, 1);
		dup2(to >= 0 ? to : null, 2);
		close_range(3, ~0U, 0); /* the pipe's read end stays ours only */
		char *argv[] = {(char *)CONTEND_BIN, "exec", "--no-lockprof",
				"--reps", "3", "--warmup", "0", "--workers", "1",
				"--out", (char *)out,
				show ? "--show-output" : "--quiet", "--", "sh",
				"-c", (char *)script, "sh", (char *)mark, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void assert_none_left(const char *mark, const char *what)
{
	int left = wait_marked(mark, 0);
	kill_marked(mark);
	if (left)
		fail_msg("%s left %d processes of its command", what, left);
}

/* Stopped by `sig`: exit 130 and the document kept, as for SIGTERM. */
static void assert_stopped(pid_t pid, const char *doc, const char *what)
{
	int st = 0;
	pid_t got = 0;
	for (int i = 0; i < 2000 && got == 0; i++) { /* 20 s at most */
		got = waitpid(pid, &st, WNOHANG);
		if (got == 0)
			tu_sleep_ms(10);
	}
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("%s: contend did not stop", what);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != EXIT_INTERRUPTED)
		fail_msg("%s: contend %s %d", what,
			 WIFEXITED(st) ? "exited" : "was killed by signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	assert_document(doc, "interrupted");
}

static void test_exec_kill9_takes_the_command(void **state)
{
	(void)state;
	char mark[64];
	/* the command's own child (sleep) is what used to be left */
	snprintf(mark, sizeof mark, "30.%d", (int)getpid());
	pid_t pid = start_exec(path("k9.json"), "sleep \"$1\" & wait", mark, 0, -1);
	if (wait_marked(mark, 2) < 2) {
		kill(pid, SIGKILL);
		kill_marked(mark);
		fail_msg("the command never started");
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_none_left(mark, "kill -9 of exec");
	end_case("kill -9 of exec: the command and its child go");
}

static void test_exec_hup_keeps_the_document(void **state)
{
	(void)state;
	char mark[64];
	const char *doc = path("hup.json");
	snprintf(mark, sizeof mark, "31.%d", (int)getpid());
	pid_t pid = start_exec(doc, "sleep \"$1\"", mark, 0, -1);
	if (!wait_marked(mark, 1)) {
		kill(pid, SIGKILL);
		fail_msg("the command never started");
	}
	kill(pid, SIGHUP);
	assert_stopped(pid, doc, "SIGHUP");
	assert_none_left(mark, "SIGHUP to exec");
	end_case("SIGHUP to exec: document kept, command gone");
}

static void test_exec_output_closed(void **state)
{
	(void)state;
	char mark[64];
	const char *doc = path("pipe.json");
	int p[2];
	snprintf(mark, sizeof mark, "pipe%d", (int)getpid());
	assert_int_equal(pipe(p), 0);
	/* `contend exec --show-output ... 2>&1 | head -c 100` */
	pid_t pid = start_exec(doc, "while :; do echo tick; sleep 0.01; done",
			       mark, 1, p[1]);
	close(p[1]);
	char buf[100];
	size_t got = 0;
	ssize_t k;
	while (got < sizeof buf && (k = read(p[0], buf + got, sizeof buf - got)) > 0)
		got += (size_t)k;
	close(p[0]);
	assert_int_equal(got, sizeof buf);
	assert_stopped(pid, doc, "SIGPIPE");
	assert_none_left(mark, "a closed output of exec");
	end_case("exec --show-output | head -c 100");
}

/* ---- 46-47: /dev/shm files of killed runs ---------------------------- */

/* A process group id nobody has: a child's, once it is reaped. */
static pid_t dead_group(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void plant_segment(const char *name, size_t len)
{
	char p[300];
	snprintf(p, sizeof p, "/dev/shm/%s", name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	close(fd);
}

static int segment_exists(const char *name)
{
	char p[2200];
	snprintf(p, sizeof p, "/dev/shm/%s", name);
	return access(p, F_OK) == 0;
}

static void test_stale_segments_removed(void **state)
{
	(void)state;
	if (access("/dev/shm", W_OK)) {
		printf("   (no writable /dev/shm)\n");
		end_case("stale /dev/shm files (skipped)");
		return;
	}
	char dead1[128], dead2[128], live[128];
	snprintf(dead1, sizeof dead1, "contend-%d-task3-t%d", (int)dead_group(),
		 (int)getpid());
	snprintf(dead2, sizeof dead2, "contend-%d-input-t%d", (int)dead_group(),
		 (int)getpid());
	/* our own group lives: a run going on */
	snprintf(live, sizeof live, "contend-%d-task0-t%d", (int)getpgrp(),
		 (int)getpid());
	plant_segment(dead1, 65536);
	plant_segment(dead2, 4096);
	plant_segment(live, 4096);
	int rc = small_run(path("stale.json"));
	int gone = !segment_exists(dead1) && !segment_exists(dead2);
	int kept = segment_exists(live);
	char p[400];
	snprintf(p, sizeof p, "/dev/shm/%s", live);
	unlink(p);
	snprintf(p, sizeof p, "/dev/shm/%s", dead1);
	unlink(p);
	snprintf(p, sizeof p, "/dev/shm/%s", dead2);
	unlink(p);
	assert_int_equal(rc, 0);
	assert_int_equal(r->status, 0);
	if (!gone || !kept)
		fail_msg("stale removed: %d, live kept: %d", gone, kept);
	const char *line = strstr(r->out, "removed 2 stale");
	if (!line || !strstr(line, "2 killed runs"))
		fail_msg("no report of the removal: '%s'", r->out);
	assert_int_equal(tu_lines(r->out), 2); /* that line, "results: ..." */
	end_case("stale /dev/shm files removed, a live run's kept");
}

/* The runner of sweep `pid` (its child), or 0. */
static pid_t runner_of(pid_t pid)
{
	char p[64];
	long child = 0;
	snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int)pid, (int)pid);
	FILE *f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%ld", &child) != 1)
			child = 0;
		fclose(f);
	}
	return (pid_t)child;
}

/* Names of /dev/shm/contend-<pgid>-task* files, up to max. */
static int task_files(pid_t pgid, char names[][128], int max)
{
	char prefix[64];
	int n = 0;
	snprintf(prefix, sizeof prefix, "contend-%d-task", (int)pgid);
	DIR *dp = opendir("/dev/shm");
	struct dirent *de;
	while (dp && (de = readdir(dp)) && n < max)
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			snprintf(names[n++], 128, "%.127s", de->d_name);
	if (dp)
		closedir(dp);
	return n;
}

/* The case: kill -9 of run with share=shm-per-task leaves the
 * task files of its (killed) runner; the next run removes them. */
static void test_kill9_shm_per_task(void **state)
{
	(void)state;
	char params[96], names[16][128];
	/* nthread=1: fork workers of a multi-threaded runner that start
	 * threads are beyond ThreadSanitizer ("dup thread"). */
	snprintf(params, sizeof params, "tasks=2000,rows=4096,nthread=1,%s", seed);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		char *argv[] = {(char *)CONTEND_BIN, "run", "dmatrix", "--pool",
				"process", "--workers", "2", "--share",
				"shm-per-task", "--reps", "50", "--warmup", "0",
				"--params", params, "--quiet", "--out",
				(char *)path("k9shm.json"), NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	pid_t runner = 0;
	int n = 0;
	for (int i = 0; i < 2000 && n < 4; i++) { /* 20 s at most */
		if (!runner)
			runner = runner_of(pid);
		n = runner ? task_files(runner, names, 16) : 0;
		if (n < 4)
			tu_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 500 && runner && kill(-runner, 0) == 0; i++)
		tu_sleep_ms(10); /* its runner and workers die with it */
	if (n < 4)
		fail_msg("the run made no task files (runner %d)", (int)runner);
	int left = 0;
	for (int i = 0; i < n; i++)
		left += segment_exists(names[i]);
	assert_true(left > 0); /* what the issue saw */
	assert_int_equal(small_run(path("after.json")), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "stale shared-memory files"));
	for (int i = 0; i < n; i++)
		if (segment_exists(names[i]))
			fail_msg("'%s' is still there", names[i]);
	end_case("kill -9 of run with share=shm-per-task");
}

/* ---- 48: cores busy of a serial pool --------------------------------- */

/* A single-threaded serial pool with ~2 ms repetitions, run as its own
 * runner several times (what spins at a runner's start shows in its
 * first repetitions): cores busy at most 1.1, and the probes' own CPU
 * given apart, per repetition. */
static void test_serial_cores_busy(void **state)
{
	(void)state;
	char params[96];
	snprintf(params, sizeof params, "tasks=20,%s", seed);
	const char *doc = path("busy.json");
	for (int round = 0; round < 6; round++) {
		assert_int_equal(tu_contend(r, "run", "spin", "--params", params,
					    "--pool", "serial", "--reps", "9",
					    "--warmup", "0", "--quiet", "--out",
					    doc, NULL), 0);
		assert_int_equal(r->status, 0);
		json_t *d;
		errbuf e = {{0}};
		if (results_load(doc, &d, &e))
			fail_msg("%s", e.msg);
		json_t *c = first_config(d), *rep;
		double busy = json_number_value(json_object_get(c, "cpu_util"));
		size_t i;
		json_array_foreach(json_object_get(c, "reps"), i, rep)
			assert_true(json_number_value(json_object_get(rep, "probes_cpu_s")) >= 0 &&
				    json_is_number(json_object_get(rep, "probes_cpu_s")));
		json_decref(d);
		/* a sanitizer's runtime threads take CPU of their own */
		if (busy > (sanitized() ? 1.25 : 1.1))
			fail_msg("round %d: cores busy %.2f for one serial worker",
				 round, busy);
	}
	end_case("cores busy of a serial pool, 2 ms repetitions");
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
		cmocka_unit_test(test_exec_kill9_takes_the_command),
		cmocka_unit_test(test_exec_hup_keeps_the_document),
		cmocka_unit_test(test_exec_output_closed),
		cmocka_unit_test(test_stale_segments_removed),
		cmocka_unit_test(test_kill9_shm_per_task),
		cmocka_unit_test(test_serial_cores_busy),
	};
	return cmocka_run_group_tests_name("boundaries", tests, setup, teardown);
}
