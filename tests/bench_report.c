/* bench_report.c - `contend report` on large documents: load, summarise
 * and render the table of documents of 1k, 4k and 16k configurations
 * (series of 8 worker counts x 3 pools, as a sweep over many params
 * makes). The time per configuration must stay about flat (n log n at
 * worst): PASS when 16k configurations cost at most GROWTH_MAX times per
 * configuration what 1k cost. Before the series were grouped once
 * (document/groups.c) this grew with n (quadratic). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/summary.h"
#include "document/results.h"
#include "report/table.h"

#define GROWTH_MAX 2.5
#define ROUNDS 3 /* best of: other programs share the machine */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static json_t *make_rep(int k, double wall)
{
	return json_pack("{s:i, s:f, s:f, s:s, s:i, s:s}", "index", k,
			 "wall_s", wall * (1 + 0.01 * k), "cpu_s", wall,
			 "status", "ok", "tasks_done", 100, "checksum",
			 "0x00000000000000aa");
}

static json_t *make_config(size_t i)
{
	static const char *pools[] = {"serial", "thread", "process"};
	int workers = 1 + (int)(i % 8);
	const char *pool = pools[(i / 8) % 3];
	size_t series = i / 24;
	char id[128];
	snprintf(id, sizeof id, "spin/release/%s/w%d/tasks=%zu", pool, workers,
		 100 + series);
	double wall = 0.01 / workers + 0.001 * workers;
	json_t *reps = json_array();
	for (int k = 0; k < 3; k++)
		json_array_append_new(reps, make_rep(k, wall));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:{s:I}, s:o, s:s}",
			 "id", id, "workload", "spin", "build", "release",
			 "pool", pool, "workers", workers, "warmup", 0,
			 "params", "tasks", (json_int_t)(100 + series), "reps",
			 reps, "status", "ok");
}

static int write_doc(const char *path, size_t n)
{
	json_t *configs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(configs, make_config(i));
	json_t *doc = json_pack("{s:s, s:s, s:{s:i, s:s}, s:o}", "schema",
				RESULTS_SCHEMA, "status", "complete", "context",
				"logical_cores", 2, "hostname", "bench",
				"configs", configs);
	int rc = json_dump_file(doc, path, JSON_COMPACT);
	json_decref(doc);
	return rc;
}

/* What `contend report FILE` does, output to /dev/null. */
static double report_once(const char *path)
{
	errbuf e;
	json_t *doc;
	FILE *null = fopen("/dev/null", "w");
	double t0 = now_s();
	if (!null || results_load(path, &doc, &e)) {
		fprintf(stderr, "bench_report: %s\n", null ? e.msg : "no /dev/null");
		exit(2);
	}
	summary_document(doc);
	table_render(doc, null);
	double t = now_s() - t0;
	json_decref(doc);
	fclose(null);
	return t;
}

int main(void)
{
	static const size_t sizes[] = {1000, 4000, 16000};
	double per[3];
	char path[] = "/tmp/contend-bench-report-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 2;
	close(fd);
	for (size_t s = 0; s < 3; s++) {
		if (write_doc(path, sizes[s])) {
			fprintf(stderr, "bench_report: cannot write %s\n", path);
			unlink(path);
			return 2;
		}
		double best = 1e30;
		for (int r = 0; r < ROUNDS; r++) {
			double t = report_once(path);
			best = t < best ? t : best;
		}
		per[s] = best / (double)sizes[s];
		printf("report of %5zu configurations: %.3f s (%.1f us per configuration)\n",
		       sizes[s], best, per[s] * 1e6);
	}
	unlink(path);
	double growth = per[2] / per[0];
	printf("%s: time per configuration x%.2f from 1k to 16k (at most x%.1f)\n",
	       growth <= GROWTH_MAX ? "PASS" : "FAIL", growth, GROWTH_MAX);
	return growth <= GROWTH_MAX ? 0 : 1;
}
