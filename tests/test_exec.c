/* test_exec.c - end-to-end tests of `contend exec`: lock waits and call
 * sites of a real contended program and of CPython's GIL, {workers} and
 * CONTEND_WORKERS, failures, timeouts, Ctrl-C, and no temp dirs left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <jansson.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/testutil.h"

#define TARGET CONTEND_BUILD_DIR "/tests/lockprof_target"
#define PYTHON "/usr/bin/python3"

static char *dir;
static char tmpdir[600];
static struct cmd_result *r;

/* TMPDIR points into the scratch dir, so leftovers of ours are visible. */
static int setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	r = malloc(sizeof *r);
	if (!dir || !r)
		return -1;
	snprintf(tmpdir, sizeof tmpdir, "%s/tmp", dir);
	return mkdir(tmpdir, 0700) || setenv("TMPDIR", tmpdir, 1) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(dir);
	free(r);
	return 0;
}

static const char *path(const char *name)
{
	return tu_path(dir, name);
}

static json_t *load(const char *file)
{
	json_t *d = json_load_file(file, 0, NULL);
	if (!d)
		fail_msg("no document %s: %s", file, r->out);
	assert_string_equal(json_string_value(json_object_get(d, "schema")),
			    "contend-results/1");
	return d;
}

static json_t *config(json_t *doc, int workers)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (json_integer_value(json_object_get(c, "workers")) == workers)
			return c;
	fail_msg("no config with %d workers", workers);
	return NULL;
}

static json_t *doc_config_at(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "configs"), i);
}

static const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static double nget(json_t *o, const char *a, const char *b)
{
	return json_number_value(json_object_get(json_object_get(o, a), b));
}

/* Every lock profiler directory was merged and removed. */
static void assert_no_lockdirs(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "contend-exec-", 13))
			fail_msg("left behind: %s/%s", tmpdir, de->d_name);
	closedir(d);
}

static void test_lock_contention(void **state)
{
	(void)state;
	const char *out = path("mutex.json");
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "2", "--out", out,
		   "--", TARGET, "mutex", "{workers}", "200", "200", NULL);
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	assert_non_null(strstr(r->out, "exec  build=release"));
	assert_non_null(strstr(r->out, "lock wait"));
	assert_non_null(strstr(r->out, "Most contended locks at 2 workers"));
	assert_non_null(strstr(r->out, "contend_worker"));
	json_t *doc = load(out), *c2 = config(doc, 2), *c1 = config(doc, 1);
	assert_string_equal(sget(doc, "status"), "complete");
	assert_string_equal(sget(c2, "workload"), "exec");
	assert_string_equal(sget(c2, "pool"), "exec");
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(c2, "command"), 2)), "{workers}");
	assert_true(nget(c2, "lock", "wait_s") > 0);
	assert_true(nget(c2, "lock", "share") > 0);
	assert_true(nget(c2, "rusage", "voluntary_csw") >= 0);
	assert_true(nget(c2, "memory", "peak_rss_bytes") > 0);
	assert_string_equal(sget(c2, "baseline"), sget(c1, "id"));
	json_t *rep = json_array_get(json_object_get(c2, "reps"), 0);
	json_t *top = json_array_get(json_object_get(json_object_get(rep, "lock"), "top"), 0);
	assert_string_equal(sget(top, "kind"), "mutex");
	assert_non_null(strstr(sget(top, "site"), "contend_worker"));
	assert_non_null(strstr(sget(rep, "output_tail"), "acquisitions=400"));
	json_decref(doc);
	assert_no_lockdirs();
	/* report renders the same table, locks included, from the document */
	tu_contend(r, "report", out, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "exec  build=release"));
	assert_non_null(strstr(r->out, "Most contended locks at 2 workers"));
	assert_non_null(strstr(r->out, "contend_worker"));
}

static void test_substitution_and_environment(void **state)
{
	(void)state;
	const char *out = path("env.json");
	tu_contend(r, "exec", "--workers", "1,3", "--reps", "1", "--out", out, "--",
		   "sh", "-c", "echo w=$CONTEND_WORKERS arg={workers} x{workers}y "
		   "pre=$LD_PRELOAD dir=${CONTEND_LOCKPROF_DIR:+set}", NULL);
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load(out);
	const char *tail = sget(json_array_get(json_object_get(config(doc, 3), "reps"), 0),
				"output_tail");
	assert_non_null(strstr(tail, "w=3 arg=3 x3y"));
	assert_non_null(strstr(tail, "libcontend-lockprof.so"));
	assert_non_null(strstr(tail, "dir=set"));
	tail = sget(json_array_get(json_object_get(config(doc, 1), "reps"), 0), "output_tail");
	assert_non_null(strstr(tail, "w=1 arg=1 x1y"));
	json_decref(doc);
	/* --no-lockprof: nothing preloaded, no lock figures */
	tu_contend(r, "exec", "--workers", "2", "--reps", "1", "--no-lockprof",
		   "--out", out, "--", "sh", "-c", "echo pre=$LD_PRELOAD.", NULL);
	assert_int_equal(r->status, 0);
	doc = load(out);
	json_t *c = config(doc, 2);
	assert_null(json_object_get(c, "lock"));
	assert_non_null(strstr(sget(json_array_get(json_object_get(c, "reps"), 0),
				    "output_tail"), "pre=."));
	json_decref(doc);
	assert_no_lockdirs();
}

static void test_failing_command(void **state)
{
	(void)state;
	const char *out = path("false.json");
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "2", "--out", out,
		   "--", "false", NULL);
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->out, "the sweep went on"));
	json_t *doc = load(out), *rep;
	size_t i;
	for (int w = 1; w <= 2; w++) {
		json_t *c = config(doc, w);
		assert_string_equal(sget(c, "status"), "exited");
		assert_int_equal(json_array_size(json_object_get(c, "reps")), 2);
		json_array_foreach(json_object_get(c, "reps"), i, rep) {
			assert_string_equal(sget(rep, "status"), "exited");
			assert_int_equal(json_integer_value(json_object_get(rep, "exit_status")), 1);
		}
	}
	json_decref(doc);
	/* a crash names its signal; the output tail explains a failure */
	tu_contend(r, "exec", "--workers", "1", "--reps", "1", "--out", out, "--",
		   "sh", "-c", "echo about to die; kill -SEGV $$", NULL);
	assert_int_equal(r->status, 1);
	assert_non_null(strstr(r->out, "killed by SIGSEGV"));
	assert_non_null(strstr(r->out, "about to die"));
	/* executable but not a program: recorded as 127 with the reason */
	const char *bogus = path("bogus");
	FILE *f = fopen(bogus, "w");
	fputs("\x7f" "ELF not really\n", f);
	fclose(f);
	chmod(bogus, 0755);
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "1", "--out", out,
		   "--", bogus, NULL);
	assert_int_equal(r->status, 1);
	doc = load(out);
	rep = json_array_get(json_object_get(config(doc, 2), "reps"), 0);
	assert_int_equal(json_integer_value(json_object_get(rep, "exit_status")), 127);
	assert_non_null(strstr(sget(rep, "detail"), "cannot execute"));
	json_decref(doc);
	assert_no_lockdirs();
}

static json_t *config_where(json_t *doc, const char *mode, int workers)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!strcmp(sget(json_object_get(c, "params"), "mode"), mode) &&
		    json_integer_value(json_object_get(c, "workers")) == workers)
			return c;
	fail_msg("no config mode=%s w%d", mode, workers);
	return NULL;
}

/* --param x --env x --workers: every combination runs, with {mode}
 * replaced and the variable set, or removed for "default" (the caller's
 * own value must not leak through). */
static void test_params_and_env(void **state)
{
	(void)state;
	const char *out = path("dims.json");
	setenv("CONTEND_TEST_X", "outer", 1);
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "1", "--param", "mode=a,b",
		   "--env", "CONTEND_TEST_X=default,in\\,side", "--out", out, "--", "sh",
		   "-c", "echo mode={mode} w={workers} x=${CONTEND_TEST_X-unset}", NULL);
	unsetenv("CONTEND_TEST_X");
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load(out), *c;
	size_t i, removed = 0, set = 0;
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 2 * 2 * 2);
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		const char *mode = sget(json_object_get(c, "params"), "mode");
		json_t *x = json_object_get(json_object_get(c, "env"), "CONTEND_TEST_X");
		const char *tail = sget(json_array_get(json_object_get(c, "reps"), 0),
					"output_tail");
		char want[96];
		snprintf(want, sizeof want, "mode=%s w=%lld x=%s", mode,
			 (long long)json_integer_value(json_object_get(c, "workers")),
			 json_is_null(x) ? "unset" : "in,side");
		if (!strstr(tail, want))
			fail_msg("config %zu: '%s' lacks '%s'", i, tail, want);
		removed += json_is_null(x);
		set += json_is_string(x);
		/* ids unique: the dimensions are in them */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(sget(c, "id"), sget(doc_config_at(doc, j), "id"));
	}
	assert_int_equal(removed, 4);
	assert_int_equal(set, 4);
	/* one table, the dimensions as columns; report renders the same */
	assert_non_null(strstr(r->out, "$CONTEND_TEST_X"));
	assert_non_null(strstr(r->out, "mode"));
	assert_int_equal(tu_count(r->out, "CI of median"), 1);
	c = config_where(doc, "b", 2);
	assert_string_equal(sget(json_object_get(c, "params"), "command"),
			    "sh -c 'echo mode={mode} w={workers} x=${CONTEND_TEST_X-unset}'");
	json_decref(doc);
	tu_contend(r, "report", out, NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "$CONTEND_TEST_X"));
	assert_non_null(strstr(r->out, "in,side"));
	assert_int_equal(tu_count(r->out, "CI of median"), 1);
	assert_no_lockdirs();
}

/* --setup once per configuration, --prepare before every run (warm-ups
 * too), both before the command; a failing one fails its configuration
 * only. */
static void test_prepare_and_setup(void **state)
{
	(void)state;
	const char *out = path("hooks.json"), *log = path("hooks.log");
	char setup[700], prepare[700], cmd[700];
	snprintf(setup, sizeof setup, "echo S{mode}{workers} >> %s; test {mode} != bad", log);
	snprintf(prepare, sizeof prepare, "echo P{mode} >> %s", log);
	snprintf(cmd, sizeof cmd, "echo C{mode} >> %s", log);
	tu_contend(r, "exec", "--workers", "1", "--reps", "2", "--warmup", "1",
		   "--param", "mode=ok,bad,fine", "--setup", setup, "--prepare", prepare,
		   "--out", out, "--", "sh", "-c", cmd, NULL);
	assert_int_equal(r->status, 1);
	FILE *f = fopen(log, "r");
	char got[400] = "", line[64];
	while (f && fgets(line, sizeof line, f))
		strncat(got, strtok(line, "\n"), sizeof got - strlen(got) - 2), strcat(got, " ");
	if (f)
		fclose(f);
	assert_string_equal(got, "Sok1 Pok Cok Pok Cok Pok Cok Sbad1 Sfine1 "
			    "Pfine Cfine Pfine Cfine Pfine Cfine ");
	json_t *doc = load(out);
	json_t *bad = config_where(doc, "bad", 1);
	assert_string_equal(sget(bad, "status"), "error");
	assert_non_null(strstr(sget(bad, "detail"), "--setup"));
	assert_non_null(strstr(sget(bad, "detail"), "exited with status 1"));
	assert_int_equal(json_array_size(json_object_get(bad, "reps")), 0);
	assert_string_equal(sget(config_where(doc, "fine", 1), "status"), "ok");
	assert_int_equal(json_array_size(json_object_get(config_where(doc, "fine", 1), "reps")), 2);
	assert_non_null(strstr(r->out, "the sweep went on"));
	json_decref(doc);
	/* a failing --prepare: its configuration stops, the next one runs */
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "2", "--prepare",
		   "test {workers} = 2 || { echo nope; exit 3; }", "--out", out, "--",
		   "true", NULL);
	assert_int_equal(r->status, 1);
	doc = load(out);
	assert_string_equal(sget(config(doc, 1), "status"), "error");
	assert_non_null(strstr(sget(config(doc, 1), "detail"), "--prepare"));
	assert_non_null(strstr(sget(config(doc, 1), "detail"), "before run 1"));
	assert_non_null(strstr(sget(config(doc, 1), "detail"), "nope"));
	assert_string_equal(sget(config(doc, 2), "status"), "ok");
	json_decref(doc);
	assert_no_lockdirs();
}

/* The sequence numbers of a configuration's repetitions, by index. */
static void sequences(json_t *c, long *seq, size_t n)
{
	json_t *rep;
	size_t i;
	assert_int_equal(json_array_size(json_object_get(c, "reps")), n);
	json_array_foreach(json_object_get(c, "reps"), i, rep)
		seq[json_integer_value(json_object_get(rep, "index"))] =
			(long)json_integer_value(json_object_get(rep, "sequence"));
}

/* Repetitions interleaved by default: round r holds repetition r of every
 * configuration, in an order the seed decides (the same seed, the same
 * order); --order sequential runs each configuration's back to back, and
 * so does --setup unless --order random is given. */
static void test_order_interleaves(void **state)
{
	(void)state;
	const char *a = path("ordera.json"), *b = path("orderb.json");
	enum { NC = 4, REPS = 3 };
	long sa[NC][REPS], sb[NC][REPS];
	const char *outs[] = {a, b};
	for (int k = 0; k < 2; k++) {
		tu_contend(r, "exec", "--workers", "1,2", "--param", "x=p,q",
			   "--reps", "3", "--seed", "12345", "--no-lockprof",
			   "--quiet", "--out", outs[k], "--", "true", "{x}", NULL);
		assert_int_equal(r->status, 0);
	}
	json_t *da = load(a), *db = load(b);
	json_t *ord = json_object_get(da, "order");
	assert_string_equal(sget(ord, "mode"), "random");
	assert_int_equal(json_integer_value(json_object_get(ord, "seed")), 12345);
	int moved = 0;
	for (size_t c = 0; c < NC; c++) {
		sequences(doc_config_at(da, c), sa[c], REPS);
		sequences(doc_config_at(db, c), sb[c], REPS);
		for (int i = 0; i < REPS; i++) {
			assert_int_equal(sa[c][i] / NC, i); /* one per round */
			assert_int_equal(sa[c][i], sb[c][i]);
			moved |= sa[c][i] % NC != (long)c;
		}
	}
	assert_true(moved); /* not plan order in every round */
	json_decref(da);
	json_decref(db);
	const char *const seq_args[][2] = {{"--order", "sequential"},
					   {"--setup", "true"}};
	for (int k = 0; k < 2; k++) {
		tu_contend(r, "exec", "--workers", "1,2", "--param", "x=p,q",
			   "--reps", "3", seq_args[k][0], seq_args[k][1],
			   "--no-lockprof", "--quiet", "--out", a, "--", "true",
			   "{x}", NULL);
		assert_int_equal(r->status, 0);
		da = load(a);
		assert_string_equal(sget(json_object_get(da, "order"), "mode"),
				    "sequential");
		for (size_t c = 0; c < NC; c++) {
			sequences(doc_config_at(da, c), sa[c], REPS);
			for (int i = 0; i < REPS; i++)
				assert_int_equal(sa[c][i], (long)c * REPS + i);
		}
		json_decref(da);
	}
	tu_contend(r, "exec", "--order", "sideways", "--", "true", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "--order"));
}

/* No {workers} and no --param in the command: every row runs the same
 * command line, and contend says so; a {name} that is no placeholder
 * too. */
static void test_placeholder_warnings(void **state)
{
	(void)state;
	const char *out = path("warn.json");
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "1", "--out", out, "--",
		   "true", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "warning: no argument has {workers}"));
	assert_non_null(strstr(r->out, "CONTEND_WORKERS"));
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "1", "--param", "mode=a",
		   "--out", out, "--", "echo", "{mdoe}", "{workers}", NULL);
	assert_int_equal(r->status, 0);
	assert_null(strstr(r->out, "warning: no argument"));
	assert_non_null(strstr(r->out, "{mdoe} in argument 2 is neither"));
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "1", "--out", out, "--",
		   "echo", "{workers}", NULL);
	assert_null(strstr(r->out, "warning"));
}

/* Bad input: exit 2, one line, nothing written. */
static void test_bad_input(void **state)
{
	(void)state;
	const char *out = path("bad.json");
	const char *cases[][4] = {
		{"--workers", "1", "no-such-command-xyz", "not found in PATH"},
		{"--workers", "1", "./no/such/file", "not an executable file"},
		{"--workers", "1,x", "true", "--workers"},
		{"--workers", "0", "true", "out of range"},
		{"--reps", "0", "true", "--reps"},
		{"--timeout", "-1", "true", "--timeout"},
		{"--param", "bad-name=1", "true", "not a valid parameter name"},
		{"--param", "mode", "true", "NAME=V1,V2"},
		{"--env", "A B=1", "true", "not a valid environment variable name"},
		{"--env", "CONTEND_WORKERS=1,2", "true", "sets CONTEND_WORKERS itself"},
		{"--param", "bin=true,no-such-command-xyz", "{bin}", "not found in PATH"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tu_contend(r, "exec", cases[i][0], cases[i][1], "--out", out, "--",
			   cases[i][2], NULL);
		assert_int_equal(r->status, 2);
		assert_int_equal(tu_lines(r->out), 1);
		if (!strstr(r->out, cases[i][3]))
			fail_msg("case %zu: '%s' lacks '%s'", i, r->out, cases[i][3]);
		assert_int_equal(access(out, F_OK), -1);
	}
	tu_contend(r, "exec", "--out", out, "--", NULL);
	assert_int_equal(r->status, 2);
	assert_non_null(strstr(r->out, "give a command after --"));
	tu_contend(r, "exec", "--help", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "{workers}"));
}

/* Our own sleeps, told from anyone else's by a unique duration. */
static int count_sleeps(const char *arg)
{
	char pattern[64];
	snprintf(pattern, sizeof pattern, "^sleep %s$", arg);
	char *argv[] = {"pgrep", "-f", pattern, NULL};
	struct cmd_result *p = malloc(sizeof *p);
	tu_run(p, argv);
	int n = (int)tu_lines(p->out);
	free(p);
	return n;
}

static void test_timeout_kills_the_group(void **state)
{
	(void)state;
	const char *out = path("timeout.json");
	char dur[32], script[96];
	snprintf(dur, sizeof dur, "30.%d", (int)getpid());
	snprintf(script, sizeof script, "sleep %s & sleep %s; wait", dur, dur);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_contend(r, "exec", "--workers", "1", "--reps", "1", "--timeout", "0.3",
		   "--out", out, "--", "sh", "-c", script, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(r->status, 1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	json_t *doc = load(out), *c = config(doc, 1);
	assert_string_equal(sget(c, "status"), "timeout");
	assert_non_null(strstr(sget(c, "detail"), "longer than 0.3 s"));
	json_decref(doc);
	assert_int_equal(count_sleeps(dur), 0); /* the background one too */
	assert_no_lockdirs();
}

static const char gil_script[] =
	"import sys, threading\n"
	"def spin(n):\n"
	"    x = 0\n"
	"    for i in range(n):\n"
	"        x += i\n"
	"w = int(sys.argv[1])\n"
	"ts = [threading.Thread(target=spin, args=(3000000 // w,)) for _ in range(w)]\n"
	"[t.start() for t in ts]\n"
	"[t.join() for t in ts]\n"
	"print('done', w)\n";

static void test_python_gil(void **state)
{
	(void)state;
	if (access(PYTHON, X_OK)) {
		skip();
		return;
	}
	const char *out = path("gil.json");
	tu_contend(r, "exec", "--workers", "1,2", "--reps", "2", "--out", out,
		   "--", PYTHON, "-c", gil_script, "{workers}", NULL);
	if (r->status != 0)
		fail_msg("exit %d: %s", r->status, r->out);
	json_t *doc = load(out), *c = config(doc, 2), *rep, *l;
	size_t i, k;
	assert_true(nget(c, "lock", "cond_wait_s") > 0);
	assert_true(nget(c, "lock", "cond_waits") > 0);
	int cond_top = 0;
	json_array_foreach(json_object_get(c, "reps"), i, rep) {
		assert_non_null(strstr(sget(rep, "output_tail"), "done 2"));
		json_array_foreach(json_object_get(json_object_get(rep, "lock"), "top"), k, l)
			cond_top |= !strcmp(sget(l, "kind"), "cond");
	}
	assert_true(cond_top);
	assert_non_null(strstr(r->out, "Most contended locks"));
	json_decref(doc);
	assert_no_lockdirs();
}

static void test_interrupt_keeps_results(void **state)
{
	(void)state;
	const char *out = path("int.json");
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(CONTEND_BIN, CONTEND_BIN, "exec", "--workers", "1,2",
		      "--reps", "20", "--out", out, "--", "sleep", "0.05",
		      (char *)NULL);
		_exit(127);
	}
	/* the document is written after every repetition */
	struct timespec ts = {0, 20 * 1000 * 1000};
	for (int i = 0; i < 1500 && access(out, F_OK); i++)
		nanosleep(&ts, NULL);
	ts.tv_nsec = 300 * 1000 * 1000;
	nanosleep(&ts, NULL);
	kill(pid, SIGINT);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 130);
	json_t *doc = load(out), *c = config(doc, 1);
	assert_string_equal(sget(doc, "status"), "interrupted");
	assert_string_equal(sget(c, "status"), "interrupted");
	assert_true(json_array_size(json_object_get(c, "reps")) >= 1);
	json_decref(doc);
	assert_no_lockdirs();
}

/* Default names: runs started in one second each get a file of their
 * own (outpath_reserve), every one a complete document. */
static void test_default_names_never_collide(void **state)
{
	(void)state;
	enum { N = 3 };
	char sub[1024], res[1100], bin[PATH_MAX];
	assert_non_null(realpath(CONTEND_BIN, bin)); /* run from sub */
	snprintf(sub, sizeof sub, "%s", path("names"));
	snprintf(res, sizeof res, "%s/results", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now); /* start just after a second ticks */
	tu_sleep_ms(1000 - now.tv_nsec / 1000000 + 20);
	char *argv[] = {bin, "exec", "--workers", "1", "--reps", "1", "--quiet",
			"--", "true", NULL};
	pid_t pid[N];
	for (int i = 0; i < N; i++)
		pid[i] = tu_spawn_quiet(sub, argv);
	for (int i = 0; i < N; i++) {
		int st;
		waitpid(pid[i], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	DIR *d = opendir(res);
	struct dirent *de;
	int files = 0, suffixed = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char f[1400];
		snprintf(f, sizeof f, "%s/results/%s", sub, de->d_name);
		assert_non_null(strstr(de->d_name, ".json"));
		assert_null(strstr(de->d_name, ".lock"));
		json_t *doc = load(f);
		assert_string_equal(sget(doc, "status"), "complete");
		json_decref(doc);
		files++;
		suffixed += strstr(de->d_name, "-2.json") != NULL;
	}
	closedir(d);
	assert_int_equal(files, N);
	/* all in one second, unless the machine stalled a whole one */
	if (!suffixed)
		printf("   (the runs fell in different seconds: no name was taken)\n");
}

/* A second run naming the --out a running one writes is refused with one
 * line; the first's document is complete; once it finished, the same
 * --out may be replaced. */
static void test_out_in_use_is_refused(void **state)
{
	(void)state;
	const char *out = path("busy.json");
	char lock[1100];
	snprintf(lock, sizeof lock, "%s.lock", out);
	char *argv[] = {CONTEND_BIN, "exec", "--workers", "1,2", "--reps", "4",
			"--quiet", "--out", (char *)out, "--", "sleep", "0.2", NULL};
	pid_t pid = tu_spawn_quiet(NULL, argv);
	for (int i = 0; i < 1500 && access(out, F_OK); i++)
		tu_sleep_ms(20);
	assert_int_equal(access(lock, F_OK), 0);
	tu_contend(r, "exec", "--workers", "1", "--reps", "1", "--out", out, "--",
		   "true", NULL);
	assert_int_equal(r->status, 2);
	assert_int_equal(tu_lines(r->out), 1);
	char want[1200];
	snprintf(want, sizeof want, "'%s' is being written by another contend "
		 "(pid %d) still running", out, (int)pid);
	if (!strstr(r->out, want))
		fail_msg("expected \"%s\" in: %s", want, r->out);
	/* doctor shares the hold */
	tu_contend(r, "doctor", "--workers", "1", "--reps", "1", "--out", out,
		   "--", "true", NULL);
	assert_int_equal(r->status, 2);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	json_t *doc = load(out);
	assert_string_equal(sget(doc, "status"), "complete");
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 2);
	assert_int_equal(json_array_size(json_object_get(config(doc, 2), "reps")), 4);
	json_decref(doc);
	assert_int_equal(access(lock, F_OK), -1);
	/* finished: replacing it is allowed */
	tu_contend(r, "exec", "--workers", "1", "--reps", "1", "--quiet", "--out",
		   out, "--", "true", NULL);
	assert_int_equal(r->status, 0);
	doc = load(out);
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 1);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_contention),
		cmocka_unit_test(test_substitution_and_environment),
		cmocka_unit_test(test_failing_command),
		cmocka_unit_test(test_params_and_env),
		cmocka_unit_test(test_prepare_and_setup),
		cmocka_unit_test(test_order_interleaves),
		cmocka_unit_test(test_placeholder_warnings),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_timeout_kills_the_group),
		cmocka_unit_test(test_python_gil),
		cmocka_unit_test(test_interrupt_keeps_results),
		cmocka_unit_test(test_default_names_never_collide),
		cmocka_unit_test(test_out_in_use_is_refused),
	};
	return cmocka_run_group_tests_name("exec", tests, setup, teardown);
}
