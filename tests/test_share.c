/* test_share.c - the dmatrix sharing modes end to end through bin/contend:
 * one checksum for every mode, /dev/shm growing with the tasks only for
 * shm-per-task, no file left behind (a killed runner included), a full
 * /dev/shm failing the task instead of crashing it, the "memory grew with
 * tasks" note, and --share refused where a workload has no share param. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testutil.h"

#define MiB (1024.0 * 1024.0)

static char *dir;
static struct cmd_result r;

static int group_setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	return dir ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(dir);
	return 0;
}

static json_t *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	json_t *d = json_load_file(path, 0, NULL);
	assert_non_null(d);
	return d;
}

static double dbl(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* Median over a configuration's repetitions of what /dev/shm grew by
 * during each: its peak minus the sample taken as it started. */
static double devshm_growth(json_t *c)
{
	double v[64];
	size_t n = 0, i;
	json_t *rep;
	json_array_foreach(json_object_get(c, "reps"), i, rep) {
		json_t *m = json_object_get(rep, "memory");
		json_t *s = json_object_get(json_object_get(m, "series"), "devshm_bytes");
		if (json_is_number(json_object_get(m, "peak_devshm_bytes")) && n < 64)
			v[n++] = dbl(m, "peak_devshm_bytes") -
				 json_number_value(json_array_get(s, 0));
	}
	assert_true(n > 0);
	for (size_t a = 1; a < n; a++) /* insertion sort: a handful */
		for (size_t b = a; b > 0 && v[b] < v[b - 1]; b--) {
			double t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	return v[n / 2];
}

/* Names contend-<pgid>-... in /dev/shm, one per line into buf. */
static void list_segments(char *buf, size_t len)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	size_t n = 0;
	buf[0] = 0;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "contend-", 8) && n + strlen(de->d_name) + 2 < len)
			n += (size_t)snprintf(buf + n, len - n, "%s\n", de->d_name);
	if (d)
		closedir(d);
}

/* Files in /dev/shm not in `before` whose process group is gone: left
 * behind by us (a live group is someone else's run still going). */
static int leaked_since(const char *before)
{
	static char now[65536];
	int leaked = 0;
	list_segments(now, sizeof now);
	for (char *line = strtok(now, "\n"); line; line = strtok(NULL, "\n")) {
		int pgid = atoi(line + 8);
		char needle[300];
		snprintf(needle, sizeof needle, "%s\n", line);
		if (!strstr(before, needle) && pgid > 0 && kill(-pgid, 0) != 0) {
			print_message("left behind: /dev/shm/%s\n", line);
			leaked++;
		}
	}
	return leaked;
}

/* No file of any runner of the document (root_pid is the runner, whose
 * pid is its group) nor of this process's group is left. */
static void assert_no_segments(json_t *doc)
{
	json_t *c, *rep;
	size_t i, k;
	char prefix[64];
	static char now[65536];
	list_segments(now, sizeof now);
	snprintf(prefix, sizeof prefix, "contend-%d-", (int)getpgrp());
	assert_null(strstr(now, prefix));
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		json_array_foreach(json_object_get(c, "reps"), k, rep) {
			json_t *pid = json_object_get(json_object_get(rep, "memory"), "root_pid");
			if (!json_is_integer(pid))
				continue;
			snprintf(prefix, sizeof prefix, "contend-%lld-",
				 (long long)json_integer_value(pid));
			assert_null(strstr(now, prefix));
		}
}

static json_t *config_by_share(json_t *doc, const char *share)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "share")), share))
			return c;
	fail_msg("no configuration with share=%s", share);
	return NULL;
}

static void test_every_mode_one_checksum(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("fork workers of a multi-threaded runner start threads");
	char out[512];
	snprintf(out, sizeof out, "%s/modes.json", dir);
	tu_contend(&r, "run", "dmatrix", "--pool", "process", "--share",
		   "inherit,shm,copy,shm-per-task", "--workers", "2",
		   "--params", "tasks=40,rows=65536", "--out", out, NULL);
	if (r.status)
		print_error("%s\n", r.out);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "/dev/shm"));
	json_t *doc = load("modes.json"), *c;
	size_t i;
	const char *sum = NULL;
	assert_int_equal(json_array_size(json_object_get(doc, "configs")), 4);
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		assert_string_equal(json_string_value(json_object_get(c, "status")), "ok");
		assert_true(json_is_true(json_object_get(c, "checksum_ok")));
		const char *s = json_string_value(json_object_get(c, "checksum"));
		assert_non_null(s);
		if (sum)
			assert_string_equal(s, sum);
		sum = s;
	}
	/* 40 task files of 65536 floats each; the one input file is made
	 * before the repetitions, so it is not growth */
	double slice = 65536 * 4, per_task = devshm_growth(config_by_share(doc, "shm-per-task"));
	double shm = devshm_growth(config_by_share(doc, "shm"));
	print_message("/dev/shm growth: shm-per-task %.1f MiB, shm %.1f MiB\n",
		      per_task / MiB, shm / MiB);
	assert_true(per_task >= 0.9 * 40 * slice && per_task <= 1.5 * 40 * slice);
	assert_true(shm < 0.25 * 40 * slice);
	assert_no_segments(doc);
	json_decref(doc);
}

/* A runner killed mid-repetition (thread and serial pools: the task
 * kills the runner itself) or a worker killed (process pool) leaves no
 * file: the sweep removes what the dead group made. */
static void test_killed_runner_leaves_nothing(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("fork workers of a multi-threaded runner start threads");
	static const char *const pools[] = {"thread", "serial", "process"};
	static const char *const faults[] = {"kill@5", "segv@7"};
	static char before[65536];
	char out[512];
	snprintf(out, sizeof out, "%s/killed.json", dir);
	for (size_t p = 0; p < 3; p++)
		for (size_t f = 0; f < 2; f++) {
			list_segments(before, sizeof before);
			tu_contend(&r, "run", "dmatrix", "--pool", pools[p],
				   "--share", "shm-per-task,shm", "--workers", "2",
				   "--reps", "2", "--warmup", "0", "--inject",
				   faults[f], "--params", "tasks=40,rows=65536",
				   "--out", out, "--quiet", NULL);
			assert_int_equal(r.status, 1);
			json_t *doc = load("killed.json"), *c;
			size_t i;
			json_array_foreach(json_object_get(doc, "configs"), i, c)
				assert_string_equal(json_string_value(json_object_get(c, "status")),
						    "crashed");
			assert_int_equal(leaked_since(before), 0);
			assert_no_segments(doc);
			json_decref(doc);
		}
}

/* 1 MiB of /dev/shm in a mount namespace of its own: the fifth 256 KiB
 * task file does not fit, which must fail the task, not SIGBUS it. */
static void test_full_devshm_fails_the_task(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("fork workers of a multi-threaded runner start threads");
	char *probe[] = {"unshare", "--mount", "sh", "-c",
			 "mount -t tmpfs -o size=1m tmpfs /dev/shm", NULL};
	if (tu_run(&r, probe) || r.status) {
		print_message("skipped: no private mount namespace here (%s)\n",
			      r.out);
		skip();
	}
	char script[1024];
	snprintf(script, sizeof script,
		 "mount -t tmpfs -o size=1m tmpfs /dev/shm && exec %s run dmatrix "
		 "--pool thread,process --share shm-per-task --workers 2 --reps 1 "
		 "--warmup 0 --params tasks=40,rows=65536 --out %s/full.json",
		 CONTEND_BIN, dir);
	char *argv[] = {"unshare", "--mount", "sh", "-c", script, NULL};
	assert_int_equal(tu_run(&r, argv), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "/dev/shm is full"));
	assert_null(strstr(r.out, "SIGBUS"));
	json_t *doc = load("full.json"), *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		assert_string_equal(json_string_value(json_object_get(c, "status")),
				    "task-failed");
	json_decref(doc);
}

/* The note: deferred release holds finished tasks (20 of 40, 6 MiB each);
 * immediate release does not. */
static void test_growth_note(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* a sanitizer's quarantine and shadow memory change RSS */
#endif
	char out[512];
	snprintf(out, sizeof out, "%s/growth.json", dir);
	tu_contend(&r, "run", "dmatrix", "--pool", "thread,process",
		   "--workers", "2", "--reps", "3", "--warmup", "0", "--params",
		   "tasks=80,rows=262144,cols=4,release=deferred:40", "--out",
		   out, NULL);
	assert_int_equal(r.status, 0);
	print_message("%s", strstr(r.out, "  ! ") ? strstr(r.out, "  ! ") : r.out);
	assert_non_null(strstr(r.out, "thread pool, 2 workers: memory grew with tasks"));
	assert_non_null(strstr(r.out, "process pool, 2 workers: memory grew with tasks"));
	assert_non_null(strstr(r.out, "per finished task still held"));
	tu_contend(&r, "run", "dmatrix", "--pool", "thread,process",
		   "--workers", "2", "--reps", "3", "--warmup", "0", "--params",
		   "tasks=80,rows=262144,cols=4,release=immediate", "--out",
		   out, NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "memory grew with tasks"));
}

static void test_share_needs_a_share_param(void **state)
{
	(void)state;
	tu_contend(&r, "run", "spin", "--share", "shm", "--reps", "1", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.out, "has no sharing modes"));
	tu_contend(&r, "run", "dmatrix", "--share", "inherit,mmap", "--reps",
		   "1", NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.out, "bad value 'mmap' for 'share'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_mode_one_checksum),
		cmocka_unit_test(test_killed_runner_leaves_nothing),
		cmocka_unit_test(test_full_devshm_fails_the_task),
		cmocka_unit_test(test_growth_note),
		cmocka_unit_test(test_share_needs_a_share_param),
	};
	return cmocka_run_group_tests_name("share", tests, group_setup,
					   group_teardown);
}
