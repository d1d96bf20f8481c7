/* test_diagnosis.c - the diagnosis rules on crafted documents (each cause
 * fires on its evidence and not without it; nothing found says so), the
 * stored diagnosis read back rather than recomputed, and contend's own
 * workloads end to end (small: tiny parameters, 2 repetitions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/diagnosis.h"
#include "analysis/summary.h"
#include "report/export.h"
#include "report/table.h"
#include "report/verdict.h"
#include "testutil.h"

#define MiB 1048576.0

static struct cmd_result res;
static char *dir;

/* ---- crafted documents ---------------------------------------------- */

/* A configuration of `pool` with `workers` and 3 ok repetitions of wall
 * and cpu seconds; summary_document later gives it its figures. */
static json_t *config(const char *pool, int workers, double wall, double cpu)
{
	json_t *reps = json_array();
	for (int i = 0; i < 3; i++)
		json_array_append_new(reps, json_pack("{s:f, s:f, s:s}", "wall_s",
						      wall, "cpu_s", cpu, "status", "ok"));
	json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:o, s:s}", "workload",
			      !strcmp(pool, "exec") ? "exec" : "w", "build", "release",
			      "pool", pool, "workers", workers, "reps", reps,
			      "status", "ok");
	summary_set_id(c);
	return c;
}

/* Set rep[*][key] (a copy of v each) in every repetition of c. */
static void every_rep(json_t *c, const char *key, json_t *v)
{
	json_t *r;
	size_t i;
	json_array_foreach(json_object_get(c, "reps"), i, r)
		json_object_set_new(r, key, json_deep_copy(v));
	json_decref(v);
}

static json_t *document_on(json_t *configs, int cores)
{
	json_t *doc = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
				"contend-results/1", "status", "complete",
				"context", "logical_cores", cores, "configs", configs);
	summary_document(doc);
	diagnosis_document(doc);
	return doc;
}

static json_t *document(json_t *configs)
{
	return document_on(configs, 2);
}

/* The entry of a cause, or NULL. */
static json_t *entry(json_t *doc, const char *cause)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(doc, "diagnosis"), i, e)
		if (!strcmp(json_string_value(json_object_get(e, "cause")), cause))
			return e;
	return NULL;
}

static const char *field(json_t *e, const char *key)
{
	const char *s = json_string_value(json_object_get(e, key));
	return s ? s : "";
}

/* Every entry's fields are there and typed (docs/results-schema.md). */
static void check_shape(json_t *doc)
{
	json_t *e;
	size_t i;
	assert_true(json_array_size(json_object_get(doc, "diagnosis")) > 0);
	json_array_foreach(json_object_get(doc, "diagnosis"), i, e) {
		assert_int_not_equal(diag_cause_of(field(e, "cause")), DC_NCAUSES);
		assert_true(json_is_array(json_object_get(e, "configs")));
		assert_true(json_is_string(json_object_get(e, "evidence")));
		assert_true(json_is_string(json_object_get(e, "advice")));
	}
}

/* exec's lock figures of one repetition: the interpreter lock's cond and
 * mutex with `share` of wall x workers waited, taken from `module`. */
static json_t *gil_lock(double wall, int workers, double share,
			double acquisitions, const char *module)
{
	double wait = share * wall * workers;
	json_t *top = json_pack("[{s:s, s:f, s:f, s:f, s:s, s:s, s:s},"
				" {s:s, s:f, s:f, s:f, s:s, s:s, s:s}]",
				"kind", "cond", "wait_s", wait * 0.9, "contended", 1000.0,
				"acquisitions", 1000.0, "name", "CPython interpreter lock (GIL)",
				"identity", "interpreter-lock", "named_by", "address inside _PyRuntime",
				"kind", "mutex", "wait_s", wait * 0.1, "contended", 100.0,
				"acquisitions", acquisitions, "name", "CPython interpreter lock (GIL)",
				"identity", "interpreter-lock", "named_by", "address inside _PyRuntime");
	if (module) {
		json_t *l;
		size_t i;
		json_array_foreach(top, i, l) {
			json_object_set_new(l, "module", json_string(module));
			json_object_set_new(l, "module_where", json_string("f+0x10 (mod.so)"));
			json_object_set_new(l, "module_share", json_real(0.9));
		}
	}
	return json_pack("{s:f, s:f, s:o}", "wait_s", wait, "share", share, "top", top);
}

static void test_interpreter_lock(void **state)
{
	(void)state;
	/* 2 workers 1.8x slower, 40 % of worker time on the GIL */
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 1.8, 1.9);
	every_rep(one, "lock", gil_lock(1.0, 1, 0.01, 1e3, NULL));
	every_rep(two, "lock", gil_lock(1.8, 2, 0.40, 1e3, "/nonexistent/mod.so"));
	json_t *doc = document(json_pack("[o, o]", one, two));
	check_shape(doc);
	json_t *e = entry(doc, "interpreter-lock");
	assert_non_null(e);
	assert_string_equal(field(e, "lock"), "CPython interpreter lock (GIL)");
	assert_string_equal(field(e, "module"), "/nonexistent/mod.so");
	assert_non_null(strstr(field(e, "evidence"), "40.0 % of worker time"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(e, "configs"), 0)),
			    "exec/release/exec/w2");
	/* a module that is not there is not scanned: no trace-hooks guess */
	assert_null(entry(doc, "trace-hooks"));
	/* more specific than serial work */
	assert_null(entry(doc, "serial-work"));
	json_decref(doc);

	/* the same slowdown with 1 % waited, the lock taken rarely: not it */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 1.8, 3.6);
	every_rep(two, "lock", gil_lock(1.8, 2, 0.01, 1e3, NULL));
	doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "interpreter-lock"));
	json_decref(doc);

	/* a loaded machine: little waiting, but the lock taken per call
	 * (5 M/s) while 2 workers gained nothing */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 1.0, 1.0);
	every_rep(two, "lock", gil_lock(1.0, 2, 0.02, 5e6, "/nonexistent/mod.so"));
	doc = document(json_pack("[o, o]", one, two));
	assert_non_null(entry(doc, "interpreter-lock"));
	json_decref(doc);
}

/* run's linetrace build: the modelled interpreter lock, and the build's
 * own hooks taking it. */
static void test_linetrace_build(void **state)
{
	(void)state;
	json_t *one = config("thread", 1, 1.0, 1.0), *two = config("thread", 2, 2.0, 2.0);
	json_t *c;
	size_t i;
	json_t *configs = json_pack("[o, o]", one, two);
	json_array_foreach(configs, i, c) {
		json_object_set_new(c, "build", json_string("linetrace"));
		json_object_set_new(c, "lock_model", json_string("gil"));
		json_object_set_new(c, "hooks", json_pack("[s]", "instrument"));
		summary_set_id(c);
	}
	every_rep(two, "lock", json_pack("{s:s, s:f, s:f, s:f, s:s}", "name",
					 "interp-lock", "share", 0.5, "wait_s", 2.0,
					 "acquisitions", 6e5, "model", "gil"));
	json_t *doc = document(configs);
	assert_non_null(entry(doc, "interpreter-lock"));
	json_t *h = entry(doc, "trace-hooks");
	assert_non_null(h);
	assert_non_null(strstr(field(h, "evidence"), "hooks (instrument)"));
	assert_non_null(strstr(field(h, "advice"), "--build release"));
	json_decref(doc);
}

/* The census of exec: per process, the pools it started. */
static json_t *census(int processes, int pool_threads)
{
	json_t *list = json_array();
	json_array_append_new(list, json_pack("{s:i, s:i, s:i, s:[]}", "pid", 100,
					      "ppid", 1, "peak_threads", 1, "pools"));
	for (int p = 0; p < processes; p++)
		json_array_append_new(list, json_pack(
			"{s:i, s:i, s:i, s:[{s:s, s:s, s:i}]}", "pid", 101 + p,
			"ppid", 100, "peak_threads", pool_threads + 1, "pools",
			"library", "OpenBLAS", "kind", "openblas", "threads",
			pool_threads));
	return json_pack("{s:o}", "process_list", list);
}

static void test_oversubscription(void **state)
{
	(void)state;
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 1.2, 2.4);
	every_rep(one, "census", census(1, 2));
	every_rep(two, "census", census(2, 2));
	json_t *doc = document(json_pack("[o, o]", one, two));
	json_t *e = entry(doc, "oversubscription");
	assert_non_null(e);
	/* the pool's parent (pid 100) is not counted: 2 x 2 threads */
	assert_non_null(strstr(field(e, "evidence"), "4 compute threads on 2 cores"));
	assert_non_null(strstr(field(e, "advice"), "OPENBLAS_NUM_THREADS=1"));
	assert_non_null(strstr(field(e, "advice"), "threadpoolctl"));
	assert_int_equal(json_array_size(json_object_get(e, "configs")), 1);
	json_decref(doc);

	/* one thread per pool: not oversubscribed */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 1.2, 2.4);
	every_rep(two, "census", census(2, 1));
	doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "oversubscription"));
	json_decref(doc);

	/* run: workers x library threads against the cores */
	one = config("process", 1, 1.0, 1.8);
	two = config("process", 2, 1.3, 2.5);
	json_object_set_new(two, "inner_threads", json_string("default"));
	json_object_set_new(two, "library_threads", json_integer(2));
	doc = document(json_pack("[o, o]", one, two));
	e = entry(doc, "oversubscription");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "advice"), "--inner-threads 1"));
	json_decref(doc);
}

/* No 1-worker run (--workers 2,3 on 4 cores): a slower row is said as
 * slower than the row before it, never as "nanx as fast as 1 worker". */
static void test_no_baseline_says_slower(void **state)
{
	(void)state;
	json_t *doc = document_on(json_pack("[o, o]", config("thread", 2, 1.0, 2.0),
					    config("thread", 3, 1.5, 4.5)), 4);
	json_t *e = entry(doc, "none");
	assert_non_null(e);
	if (!strstr(field(e, "evidence"), "thread pool at 3 workers was 1.50x "
		    "slower than at 2 workers; no 1-worker run to compare with"))
		fail_msg("evidence: %s", field(e, "evidence"));
	assert_null(strstr(field(e, "evidence"), "nan"));
	json_decref(doc);
}

/* Slower beyond the cores (2 -> 4 workers on 2 cores) but still 1.75x as
 * fast as 1 worker: what more workers than cores cost, which the table's
 * slower note says; the diagnosis has nothing to explain. Slower within
 * the cores (1 -> 2), it does. */
static void test_slower_beyond_the_cores_is_not_poor(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o]", config("process", 1, 1.0, 1.0),
					 config("process", 2, 0.53, 1.0),
					 config("process", 4, 0.57, 1.0)));
	json_t *e = entry(doc, "none");
	assert_non_null(e);
	if (!strstr(field(e, "evidence"), "every configuration of more than one "
		    "worker scaled"))
		fail_msg("evidence: %s", field(e, "evidence"));
	json_decref(doc);
	doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 1.0),
				 config("thread", 2, 1.2, 1.2)));
	e = entry(doc, "serial-work");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "ran 0.83x as fast as 1 worker"));
	json_decref(doc);
}

static void test_serial_work_and_none(void **state)
{
	(void)state;
	/* no gain, cores busy as at 1 worker: serial work */
	json_t *doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 1.0),
					 config("thread", 2, 1.0, 1.0)));
	json_t *e = entry(doc, "serial-work");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "kept 1.00 cores busy"));
	assert_null(strstr(field(e, "evidence"), "mostly waited"));
	assert_non_null(strstr(field(e, "advice"), "one part at a time"));
	json_decref(doc);
	/* the same, but one worker was on a CPU a fifth of its time: the
	 * work mostly waited, and the advice looks for what it waits on */
	doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 0.2),
				 config("thread", 2, 1.0, 0.2)));
	e = entry(doc, "serial-work");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "on a CPU only 20 % of its "
			       "time, so the work mostly waited"));
	assert_non_null(strstr(field(e, "advice"), "what the work waits for"));
	json_decref(doc);
	/* no gain, but twice the CPU in one process: not serial work, and
	 * nothing else measured explains it */
	doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 1.0),
				 config("thread", 2, 1.0, 2.0)));
	assert_null(entry(doc, "serial-work"));
	e = entry(doc, "none");
	assert_non_null(e);
	assert_true(!strncmp(field(e, "evidence"), "no cause found: ", 16));
	assert_non_null(strstr(field(e, "evidence"), "lock waits"));
	json_decref(doc);
	/* scaled: nothing to explain, said once for the document */
	doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 1.0),
				 config("thread", 2, 0.52, 1.0)));
	assert_int_equal(json_array_size(json_object_get(doc, "diagnosis")), 1);
	e = entry(doc, "none");
	assert_non_null(strstr(field(e, "evidence"), "scaled (best 1.92x, thread pool at 2 workers)"));
	assert_int_equal(json_array_size(json_object_get(e, "configs")), 0);
	json_decref(doc);
}

/* exec's --param/--env configurations are named with their values, in
 * the evidence and in the doctor's verdict. */
static json_t *swept(json_t *c, const char *mode, const char *blas)
{
	json_object_set_new(c, "params", json_pack("{s:s, s:s}", "command", "p",
						   "mode", mode));
	json_object_set_new(c, "env", json_pack("{s:o}", "OPENBLAS_NUM_THREADS",
						blas ? json_string(blas) : json_null()));
	summary_set_id(c);
	return c;
}

static void test_exec_dimensions_named(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o, o, o]",
		swept(config("exec", 1, 1.0, 1.0), "thread", "1"),
		swept(config("exec", 2, 1.0, 1.0), "thread", "1"),
		swept(config("exec", 1, 1.0, 1.0), "process", NULL),
		swept(config("exec", 2, 1.1, 1.0), "process", NULL)));
	json_t *e = entry(doc, "serial-work");
	assert_non_null(e);
	assert_int_equal(json_array_size(json_object_get(e, "configs")), 2);
	if (!strstr(field(e, "evidence"), "exec (mode=process, "
		    "OPENBLAS_NUM_THREADS=default) at 2 workers ran 0.91x"))
		fail_msg("evidence: %s", field(e, "evidence"));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	verdict_render(doc, f);
	fclose(f);
	if (!strstr(buf, "serial-work (mode=thread, OPENBLAS_NUM_THREADS=1: "
		    "workers 2; mode=process, OPENBLAS_NUM_THREADS=default: "
		    "workers 2)"))
		fail_msg("verdict: %s", buf);
	free(buf);
	json_decref(doc);
	/* a run document: the pool, as before */
	doc = document(json_pack("[o, o, o, o]", config("thread", 1, 1.0, 1.0),
				 config("thread", 2, 1.0, 1.0),
				 config("process", 1, 1.0, 1.0),
				 config("process", 2, 1.0, 1.0)));
	e = entry(doc, "serial-work");
	assert_non_null(strstr(field(e, "evidence"), "thread pool at 2 workers ran"));
	buf = NULL;
	f = open_memstream(&buf, &len);
	verdict_render(doc, f);
	fclose(f);
	assert_non_null(strstr(buf, "serial-work (workers 2, 2)"));
	free(buf);
	json_decref(doc);
}

static void test_startup(void **state)
{
	(void)state;
	/* CPU 1.0 -> 2.0 s for the same work, 1 -> 3 processes */
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 1.6, 2.0);
	json_object_set_new(one, "memory", json_pack("{s:f}", "peak_processes", 1.0));
	json_object_set_new(two, "memory", json_pack("{s:f}", "peak_processes", 3.0));
	json_t *doc = document(json_pack("[o, o]", one, two));
	json_t *e = entry(doc, "startup");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "+1.00 s"));
	assert_null(entry(doc, "serial-work"));
	json_decref(doc);
	/* the same CPU time: not startup */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 1.6, 1.05);
	json_object_set_new(one, "memory", json_pack("{s:f}", "peak_processes", 1.0));
	json_object_set_new(two, "memory", json_pack("{s:f}", "peak_processes", 3.0));
	doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "startup"));
	json_decref(doc);
	/* more CPU but no more processes (threads spinning): not startup */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 1.6, 2.0);
	json_object_set_new(one, "memory", json_pack("{s:f}", "peak_processes", 1.0));
	json_object_set_new(two, "memory", json_pack("{s:f}", "peak_processes", 1.0));
	doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "startup"));
	json_decref(doc);
	/* the census counts programs started: +25 % CPU with 1 -> 3 new
	 * interpreters is startup (loky's story), +50 % with fork workers only
	 * (no more programs) is not (its fix on a loaded machine) */
	for (int grow = 0; grow < 2; grow++) {
		one = config("exec", 1, 1.0, 1.0);
		two = config("exec", 2, 1.6, grow ? 1.25 : 1.5);
		json_object_set_new(one, "memory", json_pack("{s:f}", "peak_processes", 1.0));
		json_object_set_new(two, "memory", json_pack("{s:f}", "peak_processes", 3.0));
		every_rep(one, "census", json_pack("{s:i}", "programs_started", 1));
		every_rep(two, "census", json_pack("{s:i}", "programs_started", grow ? 3 : 1));
		doc = document(json_pack("[o, o]", one, two));
		e = entry(doc, "startup");
		if (grow) {
			assert_non_null(e);
			if (!strstr(field(e, "evidence"), "more programs started (3 processes "
				    "that began with an exec, against 1)"))
				fail_msg("evidence: %s", field(e, "evidence"));
		} else {
			assert_null(e);
		}
		json_decref(doc);
	}
}

/* A memory series of n samples over 1 s: v(i) MiB of /dev/shm. */
static json_t *shm_series(size_t n, double (*v)(size_t i, size_t n))
{
	json_t *t = json_array(), *d = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(t, json_real((double)i / (double)(n - 1)));
		json_array_append_new(d, json_real(v(i, n) * MiB));
	}
	return json_pack("{s:{s:o, s:o}}", "series", "t_s", t, "devshm_bytes", d);
}
static double per_task(size_t i, size_t n) { return 40.0 * (double)i / (double)n; }
static double made_once(size_t i, size_t n) { (void)n; return i ? 40.0 : 0; }

static void test_shm_growth(void **state)
{
	(void)state;
	json_t *one = config("process", 1, 1.0, 1.0);
	every_rep(one, "memory", shm_series(50, per_task));
	json_t *doc = document(json_pack("[o]", one));
	json_t *e = entry(doc, "shm-growth");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "/dev/shm"));
	assert_non_null(strstr(field(e, "advice"), "one object"));
	json_decref(doc);
	/* one file made at the start and kept: not growth */
	one = config("process", 1, 1.0, 1.0);
	every_rep(one, "memory", shm_series(50, made_once));
	doc = document(json_pack("[o]", one));
	assert_null(entry(doc, "shm-growth"));
	json_decref(doc);
}

static void test_memory_per_worker(void **state)
{
	(void)state;
	json_t *one = config("process", 1, 1.0, 1.0), *two = config("process", 2, 0.55, 1.0);
	json_object_set_new(one, "memory", json_pack("{s:f}", "peak_rss_bytes", 100 * MiB));
	json_object_set_new(two, "memory", json_pack("{s:f}", "peak_rss_bytes", 400 * MiB));
	json_t *doc = document(json_pack("[o, o]", one, two));
	json_t *e = entry(doc, "memory-per-worker");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "300.0 MiB per added worker"));
	json_decref(doc);
	one = config("process", 1, 1.0, 1.0);
	two = config("process", 2, 0.55, 1.0);
	json_object_set_new(one, "memory", json_pack("{s:f}", "peak_rss_bytes", 100 * MiB));
	json_object_set_new(two, "memory", json_pack("{s:f}", "peak_rss_bytes", 110 * MiB));
	doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "memory-per-worker"));
	json_decref(doc);
}

/* The false alarms of the real stories (examples/stories, test_stories.c),
 * in figures like theirs. */

/* A memory series of n samples over 1 s: key at v(i) MiB. */
static json_t *series_of(size_t n, const char *key, double (*v)(size_t i, size_t n))
{
	json_t *t = json_array(), *d = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(t, json_real((double)i / (double)(n - 1)));
		json_array_append_new(d, json_real(v(i, n) * MiB));
	}
	return json_pack("{s:{s:o, s:o}}", "series", "t_s", t, key, d);
}
/* held per task to the end: the XGBoost bug */
static double steady(size_t i, size_t n) { return 20 + 120.0 * (double)i / (double)n; }
/* imports for 45 % of the run, then the working set: its gc.collect fix */
static double plateau(size_t i, size_t n)
{
	double x = (double)i / (double)n;
	return x < 0.45 ? 100 * x / 0.45 : 100;
}
/* interpreters starting in the workers until 80 % of the run: loky */
static double starting(size_t i, size_t n)
{
	double x = (double)i / (double)n;
	return x < 0.8 ? 150 * x / 0.8 : 150;
}
static double flat(size_t i, size_t n) { (void)i, (void)n; return 30; }

static json_t *exec_growth_doc(double (*v1)(size_t, size_t), double (*v2)(size_t, size_t))
{
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 0.6, 1.1);
	every_rep(one, "memory", series_of(50, "anon_bytes", v1));
	every_rep(two, "memory", series_of(50, "anon_bytes", v2));
	return document(json_pack("[o, o]", one, two));
}

static void test_exec_memory_growth(void **state)
{
	(void)state;
	/* climbing to the end at both worker counts: memory-growth, both */
	json_t *doc = exec_growth_doc(steady, steady);
	json_t *e = entry(doc, "memory-growth");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "anonymous memory"));
	assert_non_null(strstr(field(e, "advice"), "gc.collect()"));
	json_decref(doc);
	/* a level reached early and kept (the dmatrix fix): not growth; each
	 * sample is not a task */
	doc = exec_growth_doc(plateau, plateau);
	assert_null(entry(doc, "memory-growth"));
	json_decref(doc);
	/* a climb that levels off (workers starting, loky): not growth */
	doc = exec_growth_doc(flat, starting);
	assert_null(entry(doc, "memory-growth"));
	json_decref(doc);
	/* a steady climb only with more workers: the workers', not the tasks' */
	doc = exec_growth_doc(flat, steady);
	assert_null(entry(doc, "memory-growth"));
	json_decref(doc);
}

/* /dev/shm bytes and data files of one repetition over 1 s (50 samples). */
static json_t *shm_files(double bytes_mib, double files, double from, double until)
{
	json_t *t = json_array(), *b = json_array(), *f = json_array();
	for (int i = 0; i < 50; i++) {
		double x = i / 49.0, k = x < from ? 0 : x > until ? 0
			: fmin(1, (x - from) / (until - from) * 1.25);
		json_array_append_new(t, json_real(x));
		json_array_append_new(b, json_real(bytes_mib * MiB * (files > 1 ? k : k > 0)));
		json_array_append_new(f, json_integer((json_int_t)(files * (files > 1 ? k : k > 0))));
	}
	return json_pack("{s:{s:o, s:o, s:o}}", "series", "t_s", t, "devshm_bytes", b,
			 "devshm_files", f);
}

static void test_shm_files(void **state)
{
	(void)state;
	/* one 32 MiB memmap written after the workers started and kept to
	 * the end (the joblib fix): not a flood */
	json_t *two = config("exec", 2, 1.0, 1.0);
	every_rep(two, "memory", shm_files(32, 1, 0.3, 2));
	json_t *doc = document(json_pack("[o, o]", config("exec", 1, 1.0, 1.0), two));
	assert_null(entry(doc, "shm-growth"));
	json_decref(doc);
	/* 32 files, 250 MiB, made as the tasks ran and removed at the call's
	 * end (the bug): shm-growth, files counted */
	two = config("exec", 2, 1.0, 1.0);
	every_rep(two, "memory", shm_files(250, 32, 0.3, 0.9));
	doc = document(json_pack("[o, o]", config("exec", 1, 1.0, 1.0), two));
	json_t *e = entry(doc, "shm-growth");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "32 files made"));
	json_decref(doc);
}

static void test_memory_per_worker_pss(void **state)
{
	(void)state;
	/* forked workers (the loky fix): RSS 53 -> 165 MiB counts the shared
	 * pages in every process; PSS 49 -> 60 MiB does not */
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 0.6, 1.1);
	json_object_set_new(one, "memory", json_pack("{s:f, s:f}", "peak_rss_bytes",
						     53 * MiB, "peak_pss_bytes", 49 * MiB));
	json_object_set_new(two, "memory", json_pack("{s:f, s:f}", "peak_rss_bytes",
						     165 * MiB, "peak_pss_bytes", 60 * MiB));
	json_t *doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "memory-per-worker"));
	json_decref(doc);
	/* new interpreters per worker: PSS 50 -> 141 MiB */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 0.6, 1.1);
	json_object_set_new(one, "memory", json_pack("{s:f, s:f}", "peak_rss_bytes",
						     55 * MiB, "peak_pss_bytes", 50 * MiB));
	json_object_set_new(two, "memory", json_pack("{s:f, s:f}", "peak_rss_bytes",
						     224 * MiB, "peak_pss_bytes", 141 * MiB));
	doc = document(json_pack("[o, o]", one, two));
	json_t *e = entry(doc, "memory-per-worker");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "evidence"), "peak PSS 50.0 MiB"));
	json_decref(doc);
}

/* exec's lock figures: one lock waited `wait` s over `contended` waits. */
static json_t *one_lock(double wait, double contended)
{
	return json_pack("{s:f, s:[{s:s, s:f, s:f, s:f, s:s, s:s}]}", "wait_s", wait,
			 "top", "kind", "mutex", "wait_s", wait, "contended", contended,
			 "acquisitions", contended, "name", "OpenBLAS thread pool lock",
			 "identity", "openblas");
}

static void test_lock_needs_many_waits(void **state)
{
	(void)state;
	/* one 0.21 s wait of an idle OpenBLAS pool thread, 13 % of worker
	 * time (the loky fix): a thread parked, not contention */
	json_t *one = config("exec", 1, 1.0, 1.0), *two = config("exec", 2, 0.8, 1.0);
	every_rep(two, "lock", one_lock(0.21, 1));
	json_t *doc = document(json_pack("[o, o]", one, two));
	assert_null(entry(doc, "lock"));
	json_decref(doc);
	/* the same wait over 400 contended waits: a lock */
	one = config("exec", 1, 1.0, 1.0);
	two = config("exec", 2, 0.8, 1.0);
	every_rep(two, "lock", one_lock(0.21, 400));
	doc = document(json_pack("[o, o]", one, two));
	assert_non_null(entry(doc, "lock"));
	json_decref(doc);
}

/* Renderers read the stored diagnosis; a document without one gets it
 * once. */
static void test_stored_not_recomputed(void **state)
{
	(void)state;
	json_t *doc = document(json_pack("[o, o]", config("thread", 1, 1.0, 1.0),
					 config("thread", 2, 1.0, 1.0)));
	json_t *stored = json_object_get(doc, "diagnosis");
	json_object_set_new(json_array_get(stored, 0), "evidence",
			    json_string("what the user saw"));
	assert_ptr_equal(diagnosis_of(doc), stored);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_render(doc, f);
	fclose(f);
	assert_non_null(strstr(buf, "what the user saw"));
	free(buf);
	/* the markdown export renders the same stored entries */
	buf = NULL;
	f = open_memstream(&buf, &len);
	errbuf err;
	assert_int_equal(export_doc(doc, "md", f, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "## Diagnosis"));
	assert_non_null(strstr(buf, "- **serial-work** (w/release/thread/w2): what the user saw."));
	free(buf);
	/* an older document: computed on first read, then kept */
	json_object_del(doc, "diagnosis");
	json_t *d = diagnosis_of(doc);
	assert_non_null(entry(doc, "serial-work"));
	assert_ptr_equal(diagnosis_of(doc), d);
	json_decref(doc);
	assert_null(diagnosis_of(NULL));
}

/* ---- contend's own workloads, end to end ---------------------------- */

static json_t *run_doc(const char *name, const char *const *args)
{
	char out[512];
	char *argv[32];
	size_t n = 0;
	snprintf(out, sizeof out, "%s/%s.json", dir, name);
	argv[n++] = CONTEND_BIN;
	for (; *args && n < 28; args++)
		argv[n++] = (char *)*args;
	argv[n++] = "--out";
	argv[n++] = out;
	argv[n++] = "--quiet";
	argv[n] = NULL;
	assert_int_equal(tu_run(&res, argv), 0);
	if (res.status != 0)
		fail_msg("%s: status %d: %s", name, res.status, res.out);
	json_t *doc = json_load_file(out, 0, NULL);
	assert_non_null(doc);
	check_shape(doc);
	return doc;
}

/* run_doc until the diagnosis names cause, at most 3 times: other load
 * on a shared machine can keep two workers from ever meeting on a lock,
 * and then there is no evidence to find (the diagnosis must not guess). */
static json_t *run_until(const char *name, const char *const *args,
			 const char *cause)
{
	json_t *doc = NULL;
	for (int i = 0; i < 3; i++) {
		json_decref(doc);
		doc = run_doc(name, args);
		if (entry(doc, cause))
			break;
		print_message("%s: no %s this time: %s\n", name, cause,
			      field(json_array_get(json_object_get(doc, "diagnosis"), 0),
				    "evidence"));
	}
	return doc;
}

static void test_linetrace_causal_forest(void **state)
{
	(void)state;
	const char *args[] = {"run", "causal-forest", "--build", "linetrace",
			      "--pool", "thread", "--workers", "1,2", "--reps", "2",
			      "--warmup", "0", "--params", "trees=8,rows=6000", NULL};
	json_t *doc = run_until("cf", args, "interpreter-lock");
	assert_non_null(entry(doc, "interpreter-lock"));
	assert_non_null(entry(doc, "trace-hooks"));
	json_decref(doc);
}

static void test_blas_default_threads(void **state)
{
	(void)state;
	const char *args[] = {"run", "blas-dot", "--pool", "process", "--workers",
			      "1,2", "--inner-threads", "default", "--reps", "2",
			      "--warmup", "0", "--params", "n=200,tasks=6", NULL};
	json_t *doc = run_until("blas", args, "oversubscription");
	json_t *blas = json_object_get(json_object_get(doc, "context"), "blas");
	if (json_integer_value(json_object_get(blas, "threads")) < 2) {
		json_decref(doc);
		skip(); /* one core, or a single-threaded BLAS: nothing to duel */
	}
	assert_non_null(entry(doc, "oversubscription"));
	json_decref(doc);
}

/* Deferred release: each task's matrix kept until 40 have piled up. */
static void test_dmatrix_deferred_release(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* a sanitizer's quarantine and shadow memory change RSS */
#endif
	const char *bug[] = {"run", "dmatrix", "--pool", "thread", "--workers", "2",
			     "--reps", "2", "--warmup", "0", "--params",
			     "tasks=80,rows=262144,cols=4,release=deferred:40", NULL};
	json_t *doc = run_until("deferred", bug, "memory-growth");
	json_t *e = entry(doc, "memory-growth");
	assert_non_null(e);
	assert_non_null(strstr(field(e, "advice"), "gc.collect()"));
	json_decref(doc);
	const char *fix[] = {"run", "dmatrix", "--pool", "thread", "--workers", "2",
			     "--reps", "2", "--warmup", "0", "--params",
			     "tasks=80,rows=262144,cols=4,release=immediate", NULL};
	doc = run_doc("immediate", fix);
	assert_null(entry(doc, "memory-growth"));
	json_decref(doc);
}

/* A new /dev/shm file per task, kept: shm-growth; one made in setup: not.
 * One build thread per worker: the cause does not depend on it, and fork
 * workers of a multi-threaded runner that start threads are beyond
 * ThreadSanitizer ("dup thread"). */
static void test_shm_per_task(void **state)
{
	(void)state;
	const char *bug[] = {"run", "dmatrix", "--pool", "process", "--workers", "2",
			     "--share", "shm-per-task", "--reps", "2", "--warmup", "0",
			     "--params", "tasks=40,rows=65536,nthread=1", NULL};
	json_t *doc = run_until("shm-per-task", bug, "shm-growth");
	assert_non_null(entry(doc, "shm-growth"));
	json_decref(doc);
	const char *fix[] = {"run", "dmatrix", "--pool", "process", "--workers", "2",
			     "--share", "shm", "--reps", "2", "--warmup", "0",
			     "--params", "tasks=40,rows=65536,nthread=1", NULL};
	doc = run_doc("shm", fix);
	assert_null(entry(doc, "shm-growth"));
	json_decref(doc);
}

/* doctor on a pthread program with one contended mutex: the document on
 * stdout (--json) names the lock and the program taking it; the text
 * puts the diagnosis before the table. */
static void test_doctor_names_a_lock(void **state)
{
	(void)state;
	char out[512];
	snprintf(out, sizeof out, "%s/doctor.json", dir);
	char *argv[] = {CONTEND_BIN, "doctor", "--workers", "1,2", "--json", "--out",
			out, "--", CONTEND_BUILD_DIR "/tests/lockprof_target", "mutex",
			"{workers}", "200", "200", NULL};
	json_t *doc = NULL, *e = NULL;
	for (int i = 0; i < 3 && !e; i++) { /* see run_until */
		json_decref(doc);
		assert_int_equal(tu_run(&res, argv), 0);
		assert_int_equal(res.status, 0);
		doc = json_loads(strchr(res.out, '{'), JSON_DISABLE_EOF_CHECK, NULL);
		assert_non_null(doc);
		check_shape(doc);
		e = entry(doc, "lock");
	}
	assert_non_null(e);
	assert_non_null(strstr(field(e, "module"), "lockprof_target"));
	assert_null(entry(doc, "serial-work"));
	json_decref(doc);
	char *text[] = {CONTEND_BIN, "report", out, NULL};
	assert_int_equal(tu_run(&res, text), 0);
	assert_non_null(strstr(res.out, "! lock: at 2 workers"));
	tu_contend(&res, "doctor", "--no-lockprof", "--", "true", NULL);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.out, "contend doctor: --no-lockprof"));
}

static int setup(void **state)
{
	(void)state;
	dir = tu_tempdir();
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(dir);
	free(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpreter_lock),
		cmocka_unit_test(test_linetrace_build),
		cmocka_unit_test(test_oversubscription),
		cmocka_unit_test(test_serial_work_and_none),
		cmocka_unit_test(test_no_baseline_says_slower),
		cmocka_unit_test(test_slower_beyond_the_cores_is_not_poor),
		cmocka_unit_test(test_exec_dimensions_named),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_shm_growth),
		cmocka_unit_test(test_memory_per_worker),
		cmocka_unit_test(test_exec_memory_growth),
		cmocka_unit_test(test_shm_files),
		cmocka_unit_test(test_memory_per_worker_pss),
		cmocka_unit_test(test_lock_needs_many_waits),
		cmocka_unit_test(test_stored_not_recomputed),
		cmocka_unit_test(test_linetrace_causal_forest),
		cmocka_unit_test(test_blas_default_threads),
		cmocka_unit_test(test_dmatrix_deferred_release),
		cmocka_unit_test(test_shm_per_task),
		cmocka_unit_test(test_doctor_names_a_lock),
	};
	return cmocka_run_group_tests_name("diagnosis", tests, setup, teardown);
}
