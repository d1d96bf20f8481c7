/* test_lockprof.c - tests of the LD_PRELOAD lock profiler and its report
 * merger: figures checked against lockprof_target's own measurements, fork
 * children, bad directories, corrupt reports, a real CPython's GIL, and the
 * cost of an uncontended lock with the profiler loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>

#include "probes/lockprof_report.h"
#include "tests/testutil.h"

static char so_path[PATH_MAX];	   /* absolute bin/libcontend-lockprof.so */
static char target_path[PATH_MAX]; /* lockprof_target beside this binary */

/* ---- helpers ------------------------------------------------------------ */

/* Run lockprof_target under the profiler: `env LD_PRELOAD=... DIR=... target
 * args`. dir NULL: the variable is removed. extra: one more VAR=value. */
static void run_target(struct cmd_result *r, const char *dir, const char *extra,
		       const char *mode, const char *threads, const char *iters,
		       const char *hold)
{
	char preload[PATH_MAX + 16], dirvar[PATH_MAX + 32];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", so_path);
	snprintf(dirvar, sizeof dirvar, "CONTEND_LOCKPROF_DIR=%s", dir ? dir : "");
	char *argv[16];
	int n = 0;
	argv[n++] = "env";
	argv[n++] = "-u";
	argv[n++] = "CONTEND_LOCKPROF_STDERR";
	if (!dir) { /* env takes its options before any VAR=value */
		argv[n++] = "-u";
		argv[n++] = "CONTEND_LOCKPROF_DIR";
	}
	argv[n++] = preload;
	if (dir)
		argv[n++] = dirvar;
	if (extra)
		argv[n++] = (char *)extra;
	argv[n++] = target_path;
	argv[n++] = (char *)mode;
	if (threads)
		argv[n++] = (char *)threads;
	if (iters)
		argv[n++] = (char *)iters;
	if (hold)
		argv[n++] = (char *)hold;
	argv[n] = NULL;
	assert_int_equal(tu_run(r, argv), 0);
}

/* The target's own line for process pid (pid 0: the first line). */
struct truth {
	int pid;
	unsigned long long lock, acquisitions, wait_ns;
};

static int parse_truths(const char *out, struct truth *t, int max)
{
	int n = 0;
	for (const char *p = strstr(out, "pid="); p && n < max; p = strstr(p + 1, "pid=")) {
		if (p != out && p[-1] != '\n')
			continue;
		if (sscanf(p, "pid=%d lock=%llx acquisitions=%llu wait_ns=%llu", &t[n].pid,
			   &t[n].lock, &t[n].acquisitions, &t[n].wait_ns) == 4)
			n++;
	}
	return n;
}

/* Load every lockprof-*.json report in dir; returns how many. */
static int load_reports(const char *dir, json_t **docs, int max)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, "lockprof-", 9))
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		struct stat sb;
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600); /* private to the user */
		json_error_t jerr;
		docs[n] = json_load_file(path, 0, &jerr);
		assert_non_null(docs[n]);
		assert_int_equal(lockprof_check_report(docs[n], NULL), 0);
		n++;
	}
	closedir(d);
	return n;
}

static json_t *report_of_pid(json_t **docs, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (json_integer_value(json_object_get(json_object_get(docs[i], "process"),
						       "pid")) == pid)
			return docs[i];
	return NULL;
}

static json_t *lock_at(json_t *doc, unsigned long long addr)
{
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(doc, "locks"), i, l) {
		unsigned long long a = strtoull(json_string_value(json_object_get(l, "address")),
						NULL, 16);
		if (a == addr)
			return l;
	}
	return NULL;
}

static json_int_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void free_docs(json_t **docs, int n)
{
	for (int i = 0; i < n; i++)
		json_decref(docs[i]);
}

/* Check one lock of one report against the program's own figures. */
static void check_against_truth(json_t *lock, const struct truth *t, const char *kind,
				const char *func)
{
	assert_non_null(lock);
	assert_string_equal(json_string_value(json_object_get(lock, "kind")), kind);
	assert_int_equal(geti(lock, "acquisitions"), t->acquisitions);
	double got = (double)geti(lock, "wait_ns"), want = (double)t->wait_ns;
	printf("   %s: program waited %.1f ms, profiler says %.1f ms (%+.1f %%)\n", kind,
	       want / 1e6, got / 1e6, 100.0 * (got - want) / want);
	assert_true(want > 0);
	assert_true(got >= 0.8 * want && got <= 1.2 * want);
	json_t *site = json_array_get(json_object_get(lock, "sites"), 0);
	assert_non_null(site);
	assert_string_equal(json_string_value(json_object_get(site, "symbol")), func);
}

/* ---- the preload library against ground truth ---------------------------- */

static void test_mutex_matches_program(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	struct cmd_result *r = malloc(sizeof *r);
	run_target(r, dir, NULL, "mutex", "4", "100", "200");
	assert_int_equal(r->status, 0);
	struct truth t[2];
	assert_int_equal(parse_truths(r->out, t, 2), 1);
	json_t *docs[4];
	int n = load_reports(dir, docs, 4);
	assert_int_equal(n, 1);
	json_t *doc = report_of_pid(docs, n, t[0].pid);
	assert_non_null(doc);
	check_against_truth(lock_at(doc, t[0].lock), &t[0], "mutex", "contend_worker");
	free_docs(docs, n);
	tu_rmtree(dir);
	free(dir);
	free(r);
}

static void test_rwlock_matches_program(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	struct cmd_result *r = malloc(sizeof *r);
	run_target(r, dir, NULL, "rwlock", "3", "80", "200");
	assert_int_equal(r->status, 0);
	struct truth t[2];
	assert_int_equal(parse_truths(r->out, t, 2), 1);
	json_t *docs[4];
	int n = load_reports(dir, docs, 4);
	assert_int_equal(n, 1);
	check_against_truth(lock_at(docs[0], t[0].lock), &t[0], "rwlock", "contend_worker");
	free_docs(docs, n);
	tu_rmtree(dir);
	free(dir);
	free(r);
}

static void test_cond_waits_reported(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	struct cmd_result *r = malloc(sizeof *r);
	run_target(r, dir, NULL, "cond", NULL, NULL, NULL);
	assert_int_equal(r->status, 0);
	unsigned long long addr = 0;
	const char *p = strstr(r->out, "lock=");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "lock=%llx", &addr), 1);
	json_t *docs[4];
	int n = load_reports(dir, docs, 4);
	assert_int_equal(n, 1);
	json_t *lock = lock_at(docs[0], addr);
	assert_non_null(lock);
	assert_string_equal(json_string_value(json_object_get(lock, "kind")), "cond");
	assert_true(geti(lock, "contended") > 0);
	assert_true(geti(lock, "wait_ns") > 0);
	json_t *site = json_array_get(json_object_get(lock, "sites"), 0);
	assert_string_equal(json_string_value(json_object_get(site, "symbol")), "cond_pinger");
	json_t *totals = json_object_get(docs[0], "totals");
	assert_int_equal(geti(totals, "cond_waits"), geti(lock, "contended"));
	free_docs(docs, n);
	tu_rmtree(dir);
	free(dir);
	free(r);
}

/* The child of a fork reports separately, under its own pid, and only what
 * it did itself (it did half the iterations of its parent), whether it ends
 * with exit() or with _exit(). */
static void check_fork_child(const char *mode)
{
	char *dir = tu_tempdir();
	struct cmd_result *r = malloc(sizeof *r);
	run_target(r, dir, NULL, mode, "3", "60", "150");
	assert_int_equal(r->status, 0);
	struct truth t[3];
	assert_int_equal(parse_truths(r->out, t, 3), 2);
	json_t *docs[4];
	int n = load_reports(dir, docs, 4);
	assert_int_equal(n, 2);
	json_t *parent = report_of_pid(docs, n, t[0].pid), *child = report_of_pid(docs, n, t[1].pid);
	assert_non_null(parent);
	assert_non_null(child);
	json_t *cp = json_object_get(child, "process");
	assert_int_equal(geti(cp, "ppid"), t[0].pid);
	assert_true(json_is_true(json_object_get(cp, "forked")));
	assert_int_equal(t[1].acquisitions, t[0].acquisitions / 2);
	check_against_truth(lock_at(parent, t[0].lock), &t[0], "mutex", "contend_worker");
	check_against_truth(lock_at(child, t[1].lock), &t[1], "mutex", "contend_worker");
	free_docs(docs, n);
	tu_rmtree(dir);
	free(dir);
	free(r);
}

static void test_fork_child_writes_own_report(void **state)
{
	(void)state;
	check_fork_child("fork");
	check_fork_child("fork_exit");
}

/* A directory that is missing or is not a directory: the program still
 * runs to the end and exits 0; the profiler says so in one line. */
static void test_bad_directory_does_not_crash(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	char missing[PATH_MAX], file[PATH_MAX];
	snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
	snprintf(file, sizeof file, "%s/plainfile", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	const char *bad[] = {missing, file};
	struct cmd_result *r = malloc(sizeof *r);
	for (int i = 0; i < 2; i++) {
		run_target(r, bad[i], NULL, "mutex", "2", "20", "50");
		assert_int_equal(r->status, 0);
		assert_non_null(strstr(r->out, "acquisitions=40"));
		assert_non_null(strstr(r->out, "contend-lockprof: cannot write report"));
	}
	tu_rmtree(dir);
	free(dir);
	free(r);
}

static void test_unset_directory_writes_nothing(void **state)
{
	(void)state;
	struct cmd_result *r = malloc(sizeof *r);
	run_target(r, NULL, NULL, "mutex", "2", "20", "50");
	assert_int_equal(r->status, 0);
	assert_null(strstr(r->out, "contend-lockprof"));
	run_target(r, NULL, "CONTEND_LOCKPROF_STDERR=1", "mutex", "2", "20", "50");
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "\"schema\": \"contend-lockprof/1\""));
	free(r);
}

/* ---- the merger --------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A minimal valid report with one lock. site NULL: no call sites. */
static char *fake_report(int pid, const char *addr, const char *kind, long acq, long cont,
			 long wait, const char *site)
{
	char sites[512] = "";
	if (site)
		snprintf(sites, sizeof sites,
			 "{\"where\": \"%s\", \"symbol\": \"f\", \"object\": \"/bin/prog\", "
			 "\"count\": %ld, \"wait_ns\": %ld, \"frames\": [\"main+0x1 (prog)\"]}",
			 site, cont, wait);
	char *s = NULL;
	int n = asprintf(&s,
			 "{\"schema\": \"contend-lockprof/1\", \"process\": {\"pid\": %d, "
			 "\"ppid\": 1, \"argv0\": \"prog\", \"exe\": \"/bin/prog\"}, "
			 "\"wall_ns\": 1000000000, \"totals\": {\"locks\": 1, \"acquisitions\": %ld, "
			 "\"contended\": %ld, \"lock_wait_ns\": %ld, \"cond_waits\": 0, "
			 "\"cond_wait_ns\": 0, \"untracked_ops\": 0}, \"locks\": [{\"address\": "
			 "\"%s\", \"kind\": \"%s\", \"acquisitions\": %ld, \"contended\": %ld, "
			 "\"wait_ns\": %ld, \"max_wait_ns\": %ld, \"timeouts\": 0, \"sites\": [%s]}]}",
			 pid, acq, cont, wait, addr, kind, acq, cont, wait, wait / 2, sites);
	assert_true(n > 0);
	return s;
}

static void put_report(const char *dir, const char *name, char *text)
{
	write_file(dir, name, text);
	free(text);
}

/* Same call site in three processes, at different addresses: one entry. */
static void test_merge_sums_across_processes(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	put_report(dir, "lockprof-1-a.json", fake_report(1, "0x1000", "mutex", 100, 10, 2000000000, "f+0x10 (prog)"));
	put_report(dir, "lockprof-2-b.json", fake_report(2, "0x2000", "mutex", 50, 5, 1000000000, "f+0x10 (prog)"));
	put_report(dir, "lockprof-3-c.json", fake_report(3, "0x3000", "mutex", 7, 1, 500000000, "g+0x4 (prog)"));
	put_report(dir, "lockprof-4-d.json", fake_report(4, "0x4000", "mutex", 9, 0, 0, NULL));
	json_t *s = NULL;
	errbuf e = {{0}};
	assert_int_equal(lockprof_merge_dir(dir, &s, &e), 0);
	assert_int_equal(geti(s, "processes"), 4);
	assert_int_equal(geti(s, "acquisitions"), 166);
	assert_int_equal(geti(s, "contended"), 16);
	assert_true(fabs(json_real_value(json_object_get(s, "wait_s")) - 3.5) < 1e-9);
	json_t *top = json_object_get(s, "top_locks");
	assert_int_equal(json_array_size(top), 3);
	json_t *first = json_array_get(top, 0);
	assert_string_equal(json_string_value(json_object_get(first, "site")), "f+0x10 (prog)");
	assert_int_equal(geti(first, "processes"), 2);
	assert_int_equal(geti(first, "acquisitions"), 150);
	assert_true(fabs(json_real_value(json_object_get(first, "wait_s")) - 3.0) < 1e-9);
	assert_true(fabs(json_real_value(json_object_get(first, "max_wait_s")) - 1.0) < 1e-9);
	json_t *site = json_array_get(json_object_get(first, "sites"), 0);
	assert_int_equal(geti(site, "count"), 15);
	assert_int_equal(json_array_size(json_object_get(site, "frames")), 1);
	assert_int_equal(json_array_size(json_object_get(s, "skipped")), 0);
	json_decref(s);
	assert_int_equal(lockprof_merge_dir_top(dir, 1, &s, &e), 0);
	assert_int_equal(json_array_size(json_object_get(s, "top_locks")), 1);
	json_decref(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_merge_skips_corrupt_reports(void **state)
{
	(void)state;
	char *dir = tu_tempdir();
	char *good = fake_report(11, "0x1000", "cond", 3, 4, 5000, "take_gil+0x5 (python3)");
	put_report(dir, "lockprof-11-a.json", good);
	good = fake_report(12, "0x1000", "cond", 3, 4, 5000, "take_gil+0x5 (python3)");
	good[strlen(good) / 2] = 0; /* a report cut short */
	put_report(dir, "lockprof-12-b.json", good);
	write_file(dir, "garbage.json", "\x01\x02 not json at all");
	write_file(dir, "other.json", "{\"schema\": \"something-else\"}");
	write_file(dir, "negative.json", "{\"schema\": \"contend-lockprof/1\", \"process\": "
					  "{\"pid\": 5}, \"wall_ns\": -1}");
	write_file(dir, "notes.txt", "not a report, not looked at");
	write_file(dir, ".lockprof-13-c.json.tmp", "{ half");
	json_t *s = NULL;
	errbuf e = {{0}};
	assert_int_equal(lockprof_merge_dir(dir, &s, &e), 0);
	assert_int_equal(geti(s, "processes"), 1);
	assert_int_equal(geti(s, "cond_waits"), 0); /* fake totals say 0 */
	json_t *skipped = json_object_get(s, "skipped");
	assert_int_equal(json_array_size(skipped), 4);
	json_t *notes = json_object_get(s, "notes");
	assert_true(json_array_size(notes) >= 1);
	assert_non_null(strstr(json_string_value(json_array_get(notes, 0)), "4 report files skipped"));
	json_t *first = json_array_get(json_object_get(s, "top_locks"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "kind")), "cond");
	json_decref(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_merge_bad_arguments(void **state)
{
	(void)state;
	json_t *s = (json_t *)1;
	errbuf e = {{0}};
	assert_int_equal(lockprof_merge_dir("/nonexistent/contend/dir", &s, &e), -1);
	assert_null(s);
	assert_non_null(strstr(e.msg, "/nonexistent/contend/dir"));
	assert_int_equal(lockprof_merge_dir("", &s, &e), -1);
	assert_int_equal(lockprof_merge_dir(NULL, &s, &e), -1);
	char *dir = tu_tempdir();
	assert_int_equal(lockprof_merge_dir_top(dir, 0, &s, &e), -1);
	assert_int_equal(lockprof_merge_dir(dir, &s, &e), 0); /* empty: not an error */
	assert_int_equal(geti(s, "processes"), 0);
	assert_int_equal(json_array_size(json_object_get(s, "top_locks")), 0);
	json_decref(s);
	tu_rmtree(dir);
	free(dir);
}

static void test_check_report_rejects_bad_shapes(void **state)
{
	(void)state;
	const char *bad[] = {
		"[]",
		"{\"schema\": \"contend-lockprof/2\"}",
		"{\"schema\": \"contend-lockprof/1\", \"process\": {}}",
		"{\"schema\": \"contend-lockprof/1\", \"process\": {\"pid\": 1}, \"wall_ns\": 1}",
		"{\"schema\": \"contend-lockprof/1\", \"process\": {\"pid\": 1}, \"wall_ns\": 1,"
		" \"totals\": {\"locks\": 0, \"acquisitions\": 0, \"contended\": 0, "
		"\"lock_wait_ns\": 0, \"cond_waits\": 0, \"cond_wait_ns\": 0}, \"locks\": "
		"[{\"kind\": \"spinlock\"}]}",
	};
	errbuf e = {{0}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *doc = json_loads(bad[i], 0, NULL);
		assert_non_null(doc);
		e.msg[0] = 0;
		assert_int_equal(lockprof_check_report(doc, &e), -1);
		assert_true(e.msg[0] != 0);
		json_decref(doc);
	}
	char *good = fake_report(1, "0x10", "rwlock", 1, 1, 1, "x+0x1 (y)");
	json_t *doc = json_loads(good, 0, NULL);
	assert_int_equal(lockprof_check_report(doc, &e), 0);
	json_decref(doc);
	free(good);
}

/* ---- end to end on real programs ---------------------------------------- */

/* /usr/bin/python3 -c program under the profiler, which must print "ok";
 * the merged summary of its reports. Skips where there is no python3. */
static json_t *profile_python(const char *program)
{
	if (access("/usr/bin/python3", X_OK) != 0)
		skip();
	char *dir = tu_tempdir();
	char preload[PATH_MAX + 16], dirvar[PATH_MAX + 32];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", so_path);
	snprintf(dirvar, sizeof dirvar, "CONTEND_LOCKPROF_DIR=%s", dir);
	char *argv[] = {"env", preload, dirvar, "/usr/bin/python3", "-c",
			(char *)program, NULL};
	struct cmd_result *r = malloc(sizeof *r);
	assert_int_equal(tu_run(r, argv), 0);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "ok"));
	json_t *s = NULL;
	errbuf e = {{0}};
	assert_int_equal(lockprof_merge_dir(dir, &s, &e), 0);
	tu_rmtree(dir);
	free(dir);
	free(r);
	return s;
}

/* The census tells programs started from forks: python starts a new
 * python (fork and exec) and forks once (no exec): 3 processes, 2 of them
 * programs of their own (the startup rule's evidence). */
static void test_census_counts_programs_started(void **state)
{
	(void)state;
	json_t *s = profile_python(
		"import os, subprocess\n"
		"subprocess.run(['/usr/bin/python3', '-c', 'pass'], check=True)\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    os._exit(0)\n"
		"os.waitpid(pid, 0)\n"
		"print('ok')\n");
	json_t *census = json_object_get(s, "census");
	assert_int_equal(geti(census, "processes"), 3);
	assert_int_equal(geti(census, "programs_started"), 2);
	json_decref(s);
}

/* CPython 3.11's GIL is a mutex plus a condition variable: CPU-bound
 * threads must show up as cond waits. */
static void test_cpython_gil_shows_as_cond_waits(void **state)
{
	(void)state;
	json_t *s = profile_python(
		"import threading\n"
		"def spin():\n"
		"    x = 0\n"
		"    for i in range(2_000_000): x += i\n"
		"ts = [threading.Thread(target=spin) for _ in range(3)]\n"
		"[t.start() for t in ts]; [t.join() for t in ts]\n"
		"print('ok')\n");
	assert_int_equal(geti(s, "processes"), 1);
	double cond_s = json_real_value(json_object_get(s, "cond_wait_s"));
	json_t *first = json_array_get(json_object_get(s, "top_locks"), 0);
	printf("   python3: cond waits %lld, %.3f s; top lock %s at %s\n",
	       (long long)geti(s, "cond_waits"), cond_s,
	       json_string_value(json_object_get(first, "kind")),
	       json_string_value(json_object_get(first, "site")));
	assert_true(geti(s, "cond_waits") > 0);
	assert_true(cond_s > 0.001);
	assert_string_equal(json_string_value(json_object_get(first, "kind")), "cond");
	json_decref(s);
}

/* Best of five runs: the cost of one uncontended lock/unlock pair. */
static double pair_ns(int preload, const char *threads)
{
	double best = 1e9;
	struct cmd_result *r = malloc(sizeof *r);
	char pre[PATH_MAX + 16];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", preload ? so_path : "");
	for (int i = 0; i < 5; i++) {
		char *argv[] = {"env", "-u", "CONTEND_LOCKPROF_DIR", pre, target_path,
				"bench", (char *)threads, "5000000", NULL};
		assert_int_equal(tu_run(r, argv), 0);
		assert_int_equal(r->status, 0);
		double ns = 0;
		const char *p = strstr(r->out, "pair_ns=");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "pair_ns=%lf", &ns), 1);
		if (ns < best)
			best = ns;
	}
	free(r);
	return best;
}

static void test_uncontended_overhead(void **state)
{
	(void)state;
	for (int mt = 0; mt < 2; mt++) {
		const char *threads = mt ? "2" : "1";
		double base = pair_ns(0, threads), with = pair_ns(1, threads);
		printf("   uncontended lock+unlock (%s): %.1f ns without, %.1f ns with "
		       "the profiler (+%.1f ns)\n",
		       mt ? "multi-threaded process" : "single-threaded process", base, with,
		       with - base);
		assert_true(with - base < 250.0); /* generous: sanitizer/VM noise */
	}
}

static int find_paths(const char *argv0)
{
	if (!realpath(CONTEND_BIN_DIR "/libcontend-lockprof.so", so_path)) {
		fprintf(stderr, "test_lockprof: " CONTEND_BIN_DIR "/libcontend-lockprof.so not found "
				"(run from the repository root after make)\n");
		return -1;
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", argv0);
	snprintf(target_path, sizeof target_path, "%s/lockprof_target", dirname(tmp));
	if (access(target_path, X_OK) != 0) {
		fprintf(stderr, "test_lockprof: %s not found\n", target_path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (find_paths(argv[0]) < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_matches_program),
		cmocka_unit_test(test_rwlock_matches_program),
		cmocka_unit_test(test_cond_waits_reported),
		cmocka_unit_test(test_fork_child_writes_own_report),
		cmocka_unit_test(test_bad_directory_does_not_crash),
		cmocka_unit_test(test_unset_directory_writes_nothing),
		cmocka_unit_test(test_merge_sums_across_processes),
		cmocka_unit_test(test_census_counts_programs_started),
		cmocka_unit_test(test_merge_skips_corrupt_reports),
		cmocka_unit_test(test_merge_bad_arguments),
		cmocka_unit_test(test_check_report_rejects_bad_shapes),
		cmocka_unit_test(test_cpython_gil_shows_as_cond_waits),
		cmocka_unit_test(test_uncontended_overhead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
