/* test_table.c - the terminal table rendered from crafted documents: the
 * memory-per-worker column, the USL line's honesty about few points, and
 * the advice on workers beyond the cores.
 * Expected figures come from arithmetic on the document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/table.h"
#include "harness/usl.h"

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

static char *render(json_t *configs)
{
	json_t *doc = json_pack("{s:s, s:s, s:{s:i}, s:o}", "schema",
				"contend-results/1", "status", "complete",
				"context", "logical_cores", 2, "configs", configs);
	json_object_set_new(doc, "fits", usl_fit_document(doc));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	table_render(doc, f);
	fclose(f);
	json_decref(doc);
	return buf;
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_per_worker),
		cmocka_unit_test(test_usl_line_says_when_points_are_few),
		cmocka_unit_test(test_next_step_on_workers_beyond_cores),
	};
	return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
