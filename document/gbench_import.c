/* gbench_import.c - Google Benchmark JSON as a contend results document
 * (see gbench_import.h). */
#include "document/gbench_import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "document/results.h"
#include "analysis/stats.h"

static double unit_seconds(const char *unit)
{
	if (!unit || !strcmp(unit, "ns"))
		return 1e-9; /* Google Benchmark's default */
	if (!strcmp(unit, "us"))
		return 1e-6;
	if (!strcmp(unit, "ms"))
		return 1e-3;
	if (!strcmp(unit, "s"))
		return 1;
	return NAN;
}

/* "BM_x/8/repeats:3/threads:2" -> args "8": the name's own arguments,
 * without the parts Google Benchmark adds for repetitions and threads. */
static void gb_args(const char *run_name, char *args, size_t len)
{
	const char *slash = strchr(run_name, '/');
	args[0] = 0;
	char part[256];
	while (slash) {
		const char *next = strchr(slash + 1, '/');
		size_t n = next ? (size_t)(next - slash - 1) : strlen(slash + 1);
		snprintf(part, sizeof part, "%.*s", (int)n, slash + 1);
		if (strncmp(part, "repeats:", 8) && strncmp(part, "threads:", 8) &&
		    strcmp(part, "real_time") && strcmp(part, "process_time") &&
		    strncmp(part, "min_time:", 9) && strncmp(part, "iterations:", 11)) {
			size_t used = strlen(args);
			int k = snprintf(args + used, len - used, "%s%s",
					 used ? "/" : "", part);
			if (k < 0 || (size_t)k >= len - used)
				break; /* keep what fits */
		}
		slash = next;
	}
}

static json_t *gb_new_config(json_t *b, const char *run_name,
			     const char *build)
{
	char workload[256], args[256];
	snprintf(workload, sizeof workload, "%.*s",
		 (int)strcspn(run_name, "/"), run_name);
	gb_args(run_name, args, sizeof args);
	json_t *threads = json_object_get(b, "threads");
	json_int_t w = json_is_integer(threads) ? json_integer_value(threads)
						 : 1;
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:{}, s:[]}", "id",
			      run_name, "workload", workload, "build", build,
			      "pool", "gbench", "workers", w, "params", "reps");
	if (args[0])
		json_object_set_new(c, "args", json_string(args));
	return c;
}

static json_t *gb_rep(json_t *b)
{
	double scale = unit_seconds(doc_str(b, "time_unit", NULL));
	json_t *rt = json_object_get(b, "real_time");
	json_t *ct = json_object_get(b, "cpu_time");
	const char *why = doc_str(b, "error_message", NULL);
	if (doc_bool(b, "error_occurred", 0))
		return json_pack("{s:f, s:s, s:s}", "wall_s", 0.0, "status",
				 "error", "detail", why ? why : "error");
	if (!json_is_number(rt) || !isfinite(scale))
		return NULL;
	json_t *r = json_pack("{s:f, s:s}", "wall_s",
			      json_number_value(rt) * scale, "status", "ok");
	if (json_is_number(ct))
		json_object_set_new(r, "cpu_s",
				    json_real(json_number_value(ct) * scale));
	json_object_set(r, "iterations", json_object_get(b, "iterations"));
	return r;
}

static void gb_summarise(json_t *c)
{
	json_t *reps = json_object_get(c, "reps"), *r;
	size_t i, n = 0;
	double *w = calloc(json_array_size(reps) + 1, sizeof *w);
	if (!w)
		return;
	json_array_foreach(reps, i, r)
		if (!strcmp(doc_str(r, "status", NULL), "ok"))
			w[n++] = doc_num(r, "wall_s", 0);
	struct summary s;
	stats_summarise(w, n, &s);
	free(w);
	json_object_set_new(c, "status", json_string(n ? "ok" : "error"));
	if (!n)
		return;
	json_object_set_new(c, "median_wall_s", json_real(s.median));
	json_object_set_new(c, "min_wall_s", json_real(s.min));
	json_object_set_new(c, "max_wall_s", json_real(s.max));
	json_object_set_new(c, "ci_low_s", json_real(s.ci_low));
	json_object_set_new(c, "ci_high_s", json_real(s.ci_high));
	json_object_set_new(c, "ci_level", json_real(s.ci_level));
}

static json_int_t workers_of(json_t *c)
{
	return doc_int(c, "workers", 0);
}

/* The 1-thread configuration of c's series, or NULL. */
static json_t *gb_baseline(json_t *configs, json_t *c)
{
	json_t *b;
	size_t i;
	char k1[512], k2[512];
	doc_series_key(c, DOC_KEY_ALL, k1, sizeof k1);
	json_array_foreach(configs, i, b) {
		doc_series_key(b, DOC_KEY_ALL, k2, sizeof k2);
		if (!strcmp(k1, k2) && workers_of(b) == 1 &&
		    json_is_number(json_object_get(b, "median_wall_s")))
			return b;
	}
	return NULL;
}

/* speedup and efficiency against the 1-thread run of the same series */
static void gb_speedups(json_t *configs)
{
	json_t *c, *b;
	size_t i;
	json_array_foreach(configs, i, c) {
		json_t *m = json_object_get(c, "median_wall_s");
		if (!json_is_number(m) || !(b = gb_baseline(configs, c)))
			continue;
		double sp = doc_num(b, "median_wall_s", 0) /
			    json_number_value(m);
		json_object_set(c, "baseline", json_object_get(b, "id"));
		json_object_set_new(c, "speedup", json_real(sp));
		json_object_set_new(c, "efficiency",
				    json_real(sp / (double)workers_of(c)));
	}
}

static json_t *gb_context(json_t *ctx)
{
	json_t *o = json_object();
	struct { const char *from, *to; } map[] = {
		{"host_name", "host"}, {"date", "utc_time"},
		{"num_cpus", "logical_cores"}, {"executable", "command"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		json_t *v = json_object_get(ctx, map[i].from);
		if (v)
			json_object_set(o, map[i].to, v);
	}
	json_object_set_new(o, "source", json_string("google-benchmark"));
	return o;
}

/* Aggregates are recomputed from the repetitions; a file written with
 * only aggregates contributes its median as one repetition. */
static int gb_wanted(json_t *b, json_t *index)
{
	const char *rt = doc_str(b, "run_type", NULL);
	const char *agg = doc_str(b, "aggregate_name", NULL);
	if (!rt || !strcmp(rt, "iteration"))
		return 1;
	const char *run = doc_str(b, "run_name", NULL);
	json_t *c = run ? json_object_get(index, run) : NULL;
	return !strcmp(rt, "aggregate") && agg && !strcmp(agg, "median") &&
	       (!c || json_array_size(json_object_get(c, "reps")) == 0);
}

static int gb_entry_into(json_t *b, json_t *configs, json_t *index,
			 const char *build, errbuf *e)
{
	const char *name = doc_str(b, "name", NULL), *run = doc_str(b, "run_name", NULL);
	if (!name)
		return errf(e, "a Google Benchmark entry has no 'name'");
	if (!run)
		run = name;
	if (!gb_wanted(b, index))
		return 0;
	json_t *c = json_object_get(index, run);
	if (!c) {
		c = gb_new_config(b, run, build);
		json_object_set_new(index, run, c);
		json_array_append(configs, c);
	}
	json_t *r = gb_rep(b);
	if (!r)
		return errf(e, "Google Benchmark entry '%s' has no usable "
			    "real_time/time_unit", name);
	json_array_append_new(json_object_get(c, "reps"), r);
	return 0;
}

json_t *gbench_import(json_t *gb, errbuf *e)
{
	json_t *list = json_object_get(gb, "benchmarks");
	json_t *ctx = json_object_get(gb, "context");
	if (!json_is_array(list) || !json_is_object(ctx)) {
		errf(e, "not Google Benchmark JSON (needs 'context' and "
		     "'benchmarks')");
		return NULL;
	}
	const char *build = doc_str(ctx, "library_build_type", NULL);
	json_t *configs = json_array(), *index = json_object(), *b;
	size_t i;
	json_array_foreach(list, i, b) {
		int bad = !json_is_object(b)
				  ? errf(e, "benchmarks[%zu] is not an object", i)
				  : gb_entry_into(b, configs, index,
						  build ? build : "unknown", e);
		if (bad) {
			json_decref(configs);
			json_decref(index);
			return NULL;
		}
	}
	json_decref(index);
	json_array_foreach(configs, i, b)
		gb_summarise(b);
	gb_speedups(configs);
	return json_pack("{s:s, s:s, s:o, s:o}", "schema", RESULTS_SCHEMA,
			 "status", "complete", "context", gb_context(ctx),
			 "configs", configs);
}
