/* test_table.c - the terminal table rendered from crafted documents: the
 * memory-per-worker column, the USL line's honesty about few points, the
 * advice on workers beyond the cores, and the note on memory that grew
 * with the tasks.
 * Expected figures come from arithmetic on the document. */
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

#include "report/table.h"
#include "analysis/usl.h"
#include "tests/testutil.h"

#define MiB 1048576.0

/* One ok configuration of a thread pool whose 1-worker run takes 1 s;
 * memory figures in MiB, or baseline < 0 for a document without one. */
static json_t *config(int workers, double wall, double peak, double baseline)
{
	char id[64];
	snprintf(id, sizeof id, "w/release/thread/w%d", workers);
	json_t *reps = json_array();
	for (int i = 0; i < 3; i++)
		json_array_append_new(reps, json_pack("{s:f, s:f, s:s}", "wall_s",
						      wall, "cpu_s", wall, "status", "ok"));
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o, s:f, s:f, s:f, s:f, s:s}",
			      "id", id, "workload", "w", "build", "release",
			      "pool", "thread", "workers", workers, "reps", reps,
			      "median_wall_s", wall, "min_wall_s", wall,
			      "max_wall_s", wall, "speedup", 1.0 / wall, "status", "ok");
	/* intervals of the median 2 % either side */
	json_object_set_new(c, "ci_low_s", json_real(wall * 0.98));
	json_object_set_new(c, "ci_high_s", json_real(wall * 1.02));
	json_t *m = json_pack("{s:f}", "peak_rss_bytes", peak * MiB);
	if (baseline >= 0)
		json_object_set_new(m, "baseline_rss_bytes", json_real(baseline * MiB));
	json_object_set_new(c, "memory", m);
	return c;
}

/* The table of a document of configs (stolen) and, unless NULL, a stored
 * diagnosis (stolen). */
static char *render_with(json_t *configs, json_t *diagnosis)
{
	json_t *doc = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
				"contend-results/1", "status", "complete",
				"context", "logical_cores", 2, "configs", configs);
	json_object_set_new(doc, "fits", usl_fit_document(doc));
	if (diagnosis)
		json_object_set_new(doc, "diagnosis", diagnosis);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_render(doc, f);
	fclose(f);
	json_decref(doc);
	return buf;
}

static char *render(json_t *configs)
{
	return render_with(configs, NULL);
}

/* The table line of the thread pool row with `workers` workers. */
static const char *row(const char *text, int workers, char *line, size_t len)
{
	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		char pool[32];
		int w;
		size_t n = strcspn(p, "\n");
		if (sscanf(p, "%31s %d", pool, &w) == 2 && !strcmp(pool, "thread") &&
		    w == workers) {
			snprintf(line, len, "%.*s", (int)(n < len ? n : len - 1), p);
			return line;
		}
	}
	fail_msg("no row for %d workers in:\n%s", workers, text);
	return NULL;
}

/* config() whose repetitions all carry one memory series: mib[i] MiB of
 * heap in use at sample i, samples evenly spread over ntasks tasks. */
static json_t *growth_config(int workers, int ntasks, const double *mib,
			     size_t n)
{
	json_t *c = config(workers, 1.0, 50, 20), *r;
	json_t *t = json_array(), *v = json_array();
	size_t i;
	for (i = 0; i < n; i++) {
		json_array_append_new(t, json_real(0.01 * (double)i));
		json_array_append_new(v, json_real(mib[i] * MiB));
	}
	json_object_set_new(c, "ntasks", json_integer(ntasks));
	json_array_foreach(json_object_get(c, "reps"), i, r)
		json_object_set_new(r, "memory", json_pack("{s:{s:O, s:O}}", "series",
							   "t_s", t, "heap_bytes", v));
	json_decref(t);
	json_decref(v);
	return c;
}

/* The held-per-finished-task figure of the growth note, in MiB, or NAN
 * when there is no note. */
static double held_mib(const char *text)
{
	const char *end = strstr(text, " per finished task still held");
	const char *p = end;
	double x;
	char unit[8];
	if (!end)
		return NAN;
	while (p > text && strncmp(p, ", ", 2))
		p--;
	assert_int_equal(sscanf(p, ", %lf %7s", &x, unit), 2);
	assert_string_equal(unit, "MiB");
	return x;
}

/* Jitter of +-2 MiB, a task's own buffers coming and going. */
static double jitter(size_t i)
{
	return (double)((i * 7) % 5) - 2.0;
}

/* One entry over two tables (lock models gil and mutex): its figures are
 * the gil row's, so under the mutex table it says whose they are, and
 * under the gil table it does not. */
static void test_entry_spanning_tables_names_its_figures(void **state)
{
	(void)state;
	json_t *configs = json_array();
	const char *models[] = {"gil", "mutex"};
	for (int m = 0; m < 2; m++)
		for (int w = 1; w <= 2; w++) {
			json_t *c = config(w, w == 1 ? 1.0 : 2.0, 10, 10);
			char id[64];
			snprintf(id, sizeof id, "w/linetrace/thread/%s/w%d", models[m], w);
			json_object_set_new(c, "id", json_string(id));
			json_object_set_new(c, "build", json_string("linetrace"));
			json_object_set_new(c, "lock_model", json_string(models[m]));
			json_array_append_new(configs, c);
		}
	char *buf = render_with(configs, json_pack(
		"[{s:s, s:[s, s], s:s, s:s, s:s}]", "cause", "interpreter-lock",
		"configs", "w/linetrace/thread/gil/w2", "w/linetrace/thread/mutex/w2",
		"evidence", "at 2 workers 60 % waited", "advice", "use processes",
		"evidence_config", "w/linetrace/thread/gil/w2"));
	const char *mutex = strstr(buf, "lock-model=mutex");
	assert_non_null(mutex);
	const char *note = "(figures of w/linetrace/thread/gil/w2, in another table";
	assert_int_equal(tu_count(buf, "! interpreter-lock: at 2 workers 60 % waited"), 2);
	assert_int_equal(tu_count(buf, note), 1);
	assert_true(strstr(buf, note) > mutex);
	free(buf);
}

static void test_memory_per_worker(void **state)
{
	(void)state;
	/* 20 MiB before the pool; 4 workers take it to 100: 20 MiB each */
	char *t = render(json_pack("[o, o]", config(1, 1.0, 50, 20),
				   config(4, 0.5, 100, 20)));
	char line[512];
	assert_non_null(strstr(t, "per worker"));
	assert_non_null(strstr(row(t, 1, line, sizeof line), "30.0 MiB"));
	assert_non_null(strstr(row(t, 4, line, sizeof line), "20.0 MiB"));
	free(t);
	/* a peak below the baseline (pages given back) is no negative cost */
	t = render(json_pack("[o]", config(2, 1.0, 10, 20)));
	assert_non_null(strstr(row(t, 2, line, sizeof line), "0.0 MiB"));
	free(t);
	/* no baseline anywhere (an older document): no column */
	t = render(json_pack("[o]", config(2, 1.0, 10, -1)));
	assert_null(strstr(t, "per worker"));
	free(t);
}

/* Three worker counts leave two speedups for two parameters: the table
 * must not present that fit's R^2 as evidence; five may be tested. */
static void test_usl_line_says_when_points_are_few(void **state)
{
	(void)state;
	char *t = render(json_pack("[o, o, o]", config(1, 1.0, 50, 20),
				   config(2, 0.55, 50, 20), config(4, 0.4, 50, 20)));
	assert_non_null(strstr(t, "USL thread (3 worker counts, too few to test the model"));
	free(t);
	t = render(json_pack("[o, o, o, o, o]", config(1, 1.0, 50, 20),
			     config(2, 0.55, 50, 20), config(3, 0.42, 50, 20),
			     config(4, 0.4, 50, 20), config(6, 0.41, 50, 20)));
	assert_non_null(strstr(t, "USL thread (5 worker counts, R^2="));
	assert_null(strstr(t, "too few"));
	free(t);
}

/* An exec configuration of --param mode and --env FOO (NULL: removed). */
static json_t *exec_config(const char *mode, const char *foo, int workers)
{
	json_t *c = config(workers, 1.0 / workers, 50, 20);
	char id[128];
	snprintf(id, sizeof id, "exec/%s/%s/w%d", mode, foo ? foo : "-", workers);
	json_object_set_new(c, "id", json_string(id));
	json_object_set_new(c, "workload", json_string("exec"));
	json_object_set_new(c, "pool", json_string("exec"));
	json_object_set_new(c, "params", json_pack("{s:s, s:s}", "command", "x",
						   "mode", mode));
	json_object_set_new(c, "env", json_pack("{s:o}", "FOO", foo ?
						json_string(foo) : json_null()));
	return c;
}

/* Series not fitted for one reason: one line, the series named (up to
 * three) or counted, never the same line once per series. */
static void test_unfitted_series_said_once(void **state)
{
	(void)state;
	const char *why = "not fitted: 2 worker counts measured, a USL fit needs 3 or more.";
	json_t *cs = json_array();
	const char *modes[] = {"a", "b"}, *foos[] = {"1", NULL};
	for (int m = 0; m < 2; m++)
		for (int f = 0; f < 2; f++)
			for (int w = 1; w <= 2; w++)
				json_array_append_new(cs, exec_config(modes[m], foos[f], w));
	char *t = render(cs);
	assert_int_equal(tu_count(t, "\n  USL"), 1);
	assert_non_null(strstr(t, "USL, all 4 series of this table: "));
	assert_non_null(strstr(t, why));
	free(t);
	t = render(json_pack("[o, o, o, o]", exec_config("a", "1", 1),
			     exec_config("a", "1", 2), exec_config("b", "1", 1),
			     exec_config("b", "1", 2)));
	assert_int_equal(tu_count(t, "\n  USL"), 1);
	assert_non_null(strstr(t, "USL exec (mode=a, FOO=1) and exec (mode=b, FOO=1): "));
	free(t);
	/* a fitted series keeps its own line; the others share theirs */
	t = render(json_pack("[o, o, o, o, o, o, o]", exec_config("a", "1", 1),
			     exec_config("a", "1", 2), exec_config("a", "1", 4),
			     exec_config("b", "1", 1), exec_config("b", "1", 2),
			     exec_config("b", NULL, 1), exec_config("b", NULL, 2)));
	assert_int_equal(tu_count(t, "\n  USL"), 2);
	assert_non_null(strstr(t, "USL exec (mode=a, FOO=1) (3 worker counts"));
	assert_non_null(strstr(t, "USL exec (mode=b, FOO=1) and exec (mode=b, FOO=default): "));
	free(t);
}

/* 2 cores: a 4-worker row whose interval overlaps the 2-worker row's
 * earns the advice to stop at 2; one measurably faster (an I/O-bound
 * task) does not. */
static void test_next_step_on_workers_beyond_cores(void **state)
{
	(void)state;
	char *t = render(json_pack("[o, o, o]", config(1, 1.0, 50, 20),
				   config(2, 0.52, 50, 20), config(4, 0.53, 50, 20)));
	assert_non_null(strstr(t, "Next: thread pool: more workers than the 2 "
				  "cores gained nothing measurable (1.89x at best, against "
				  "1.92x within them); keep --workers at 2"));
	free(t);
	t = render(json_pack("[o, o, o]", config(1, 1.0, 50, 20),
			     config(2, 0.52, 50, 20), config(4, 0.3, 50, 20)));
	assert_null(strstr(t, "Next:"));
	free(t);
	/* the n_jobs shape: nothing gained anywhere, the cores are not it */
	t = render(json_pack("[o, o, o]", config(1, 1.0, 50, 20),
			     config(2, 1.0 / 1.05, 50, 20), config(4, 1.5, 50, 20)));
	assert_non_null(strstr(t, "Next: thread pool: no worker count gained 10 % "
				  "(1.05x at best): something serialises the work"));
	assert_null(strstr(t, "keep --workers"));
	free(t);
	/* the dueling-pools shape: one worker's own threads (a BLAS pool)
	 * already kept both cores busy */
	json_t *one = config(1, 1.0, 50, 20);
	json_object_set_new(one, "cpu_util", json_real(1.9));
	t = render(json_pack("[o, o, o]", one, config(2, 1.0 / 1.05, 50, 20),
			     config(4, 1.5, 50, 20)));
	assert_non_null(strstr(t, "Next: thread pool: no worker count gained 10 % "
				  "(1.05x at best): one worker already kept 1.9 "
				  "of the 2 cores busy with threads of its own"));
	assert_null(strstr(t, "serialises"));
	free(t);
}

/* A deferred release: 6 MiB held per task, all freed every 10 tasks but
 * for 2 MiB the allocator keeps, so each tooth starts a little higher.
 * The largest rise (first tooth's low to the last one's high) spans
 * nine collections; the figure must be the teeth's own rate. */
static void test_growth_note_on_a_sawtooth(void **state)
{
	(void)state;
	double mib[201];
	for (size_t i = 0; i <= 100; i++)	/* one sample per task */
		mib[i] = 2.0 * (double)(i / 10) + 6.0 * (double)(i % 10);
	char *t = render(json_pack("[o]", growth_config(1, 100, mib, 101)));
	assert_true(fabs(held_mib(t) - 6.0) <= 0.15 * 6.0);
	assert_non_null(strstr(t, "climbs (freed in between) while"));
	free(t);
	/* 2 workers, freed every 30 tasks, two samples per task, jitter */
	for (size_t i = 0; i <= 200; i++) {
		size_t task = i / 2;
		mib[i] = 2.0 * (double)(task / 30) + 6.0 * (double)(task % 30) +
			 3.0 * (double)(i % 2) + jitter(i);
	}
	t = render(json_pack("[o]", growth_config(2, 100, mib, 201)));
	assert_true(fabs(held_mib(t) - 6.0) <= 0.15 * 6.0);
	free(t);
}

/* Memory held for good: 3 MiB per task over 80 tasks on 4 workers, with
 * jitter: the figure is the slope. */
static void test_growth_note_on_linear_growth(void **state)
{
	(void)state;
	double mib[161];
	for (size_t i = 0; i <= 160; i++)	/* two samples per task */
		mib[i] = 1.5 * (double)i + jitter(i);
	char *t = render(json_pack("[o]", growth_config(4, 80, mib, 161)));
	assert_non_null(strstr(t, "thread pool, 4 workers: memory grew with tasks"));
	assert_true(fabs(held_mib(t) - 3.0) <= 0.05 * 3.0);
	free(t);
}

/* Memory freed as tasks end: the workers' working set, reached in the
 * first tasks, then breathing by a task's worth: no note. */
static void test_no_growth_note_on_a_flat_series(void **state)
{
	(void)state;
	double mib[121];
	for (size_t i = 0; i <= 120; i++)
		mib[i] = (i < 4 ? 6.0 * (double)i : 24.0) + 3.0 * jitter(i);
	char *t = render(json_pack("[o]", growth_config(2, 60, mib, 121)));
	assert_null(strstr(t, "grew with tasks"));
	assert_true(isnan(held_mib(t)));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_per_worker),
		cmocka_unit_test(test_entry_spanning_tables_names_its_figures),
		cmocka_unit_test(test_usl_line_says_when_points_are_few),
		cmocka_unit_test(test_next_step_on_workers_beyond_cores),
		cmocka_unit_test(test_growth_note_on_a_sawtooth),
		cmocka_unit_test(test_growth_note_on_linear_growth),
		cmocka_unit_test(test_no_growth_note_on_a_flat_series),
		cmocka_unit_test(test_unfitted_series_said_once),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
