/* export.c - Markdown, CSV and Google Benchmark JSON from a results document.
 *
 * The table is built once (every schema column, probe figures flattened to
 * dotted names) and then printed in either text form, so md and csv never
 * disagree; the gbench form follows what Google Benchmark itself writes. */
#include "report/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "analysis/diagnosis.h"
#include "analysis/summary.h"
#include "report/comparisons.h"

const char *const export_formats[] = {"md", "csv", "gbench-json", NULL};

static const char *const head_cols[] = {"id", "workload", "build", "pool",
					"workers", NULL};
static const char *const stat_cols[] = {
	"ntasks", "warmup", "reps", "ok_reps", "median_wall_s", "min_wall_s",
	"max_wall_s", "ci_low_s", "ci_high_s", "ci_level", "median_cpu_s",
	"cpu_util", "speedup", "speedup_low", "speedup_high", "efficiency",
	"baseline", "checksum", "checksum_ok", "slower_than", "slower_ratio",
	"status", "detail", NULL};
/* Fields that are neither dimensions nor probe figures. */
static const char *const not_probe[] = {"params", "slower", NULL};
/* Words about a probe figure, not figures: where it came from, its unit. */
static const char *const probe_meta[] = {"available", "reason", "unit",
					 "backend", "event", "statistic",
					 "share_reason", NULL};

static int listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* ---- flattening: one config -> groups of name -> scalar ---- */

/* Probe figures: objects become dotted names; {"available": false} and
 * {"value": v} collapse to their figure; arrays (time series) are left to
 * the plots. */
static void flatten(json_t *flat, const char *prefix, json_t *v, int depth)
{
	if (depth > 6 || json_is_array(v))
		return;
	if (!json_is_object(v)) {
		json_object_set(flat, prefix, v);
		return;
	}
	json_t *val = json_object_get(v, "value");
	if (json_is_false(json_object_get(v, "available"))) {
		json_object_set_new(flat, prefix, json_null());
		return;
	}
	if (val && (json_is_number(val) || json_is_null(val))) {
		json_object_set(flat, prefix, val);
		return;
	}
	const char *k;
	json_t *x;
	json_object_foreach(v, k, x) {
		if (listed(probe_meta, k))
			continue;
		char name[256];
		snprintf(name, sizeof name, "%s.%s", prefix, k);
		flatten(flat, name, x, depth + 1);
	}
}

static size_t ok_reps(json_t *c)
{
	json_t *r;
	size_t i, n = 0;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		const char *st = doc_str(r, "status", NULL);
		n += st && !strcmp(st, "ok");
	}
	return n;
}

static void stat_group(json_t *c, json_t *g)
{
	for (size_t i = 0; stat_cols[i]; i++) {
		json_t *v = json_object_get(c, stat_cols[i]);
		if (v && !json_is_array(v) && !json_is_object(v))
			json_object_set(g, stat_cols[i], v);
	}
	json_t *reps = json_object_get(c, "reps");
	if (json_is_array(reps)) {
		json_object_set_new(g, "reps",
				    json_integer((json_int_t)json_array_size(reps)));
		json_object_set_new(g, "ok_reps",
				    json_integer((json_int_t)ok_reps(c)));
	}
	json_t *slower = json_object_get(c, "slower");
	if (json_is_object(slower)) {
		json_object_set(g, "slower_than", json_object_get(slower, "than"));
		json_object_set(g, "slower_ratio",
				json_object_get(slower, "ratio"));
	}
}

static int is_dim(const char *k, json_t *v)
{
	return (json_is_string(v) || json_is_integer(v)) &&
	       !listed(head_cols, k) && !listed(stat_cols, k);
}

/* A list of names (e.g. the hooks found in the binary) as one cell. */
static json_t *joined(json_t *arr)
{
	char buf[1024] = "";
	json_t *v;
	size_t i;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return NULL;
		size_t used = strlen(buf);
		snprintf(buf + used, sizeof buf - used, "%s%s", used ? "," : "",
			 json_string_value(v));
	}
	return json_string(buf);
}

/* groups[0] head, [1] other dimensions, [2] statistics, [3] params,
 * [4] probe figures: columns are ordered group by group. */
#define NGROUPS 5
static void flat_config(json_t *c, json_t *groups[NGROUPS])
{
	for (int i = 0; i < NGROUPS; i++)
		groups[i] = json_object();
	for (size_t i = 0; head_cols[i]; i++)
		json_object_set(groups[0], head_cols[i],
				json_object_get(c, head_cols[i]));
	const char *k;
	json_t *v;
	stat_group(c, groups[2]);
	json_object_foreach(c, k, v) {
		json_t *list = json_is_array(v) && strcmp(k, "reps") ? joined(v) : NULL;
		if (is_dim(k, v))
			json_object_set(groups[1], k, v);
		else if (list)
			json_object_set(groups[1], k, list);
		else if (json_is_real(v) && !listed(stat_cols, k))
			json_object_set(groups[2], k, v);
		else if (json_is_object(v) && !listed(not_probe, k))
			flatten(groups[4], k, v, 0);
		json_decref(list);
	}
	json_object_foreach(json_object_get(c, "params"), k, v) {
		char name[256];
		snprintf(name, sizeof name, "params.%s", k);
		json_object_set(groups[3], name, v);
	}
}

static void cell_text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v) && isfinite(json_real_value(v)))
		snprintf(buf, len, "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "n/a");
}

static void add_columns(json_t *cols, json_t *seen, json_t *group)
{
	const char *k;
	json_t *v;
	json_object_foreach(group, k, v) {
		if (!json_object_get(seen, k)) {
			json_object_set_new(seen, k, json_true());
			json_array_append_new(cols, json_string(k));
		}
	}
}

static void add_fixed(json_t *cols, json_t *seen, const char *const *names)
{
	for (size_t k = 0; names[k]; k++) {
		json_object_set_new(seen, names[k], json_true());
		json_array_append_new(cols, json_string(names[k]));
	}
}

int export_table(json_t *doc, json_t **columns, json_t **rows, errbuf *e)
{
	json_t *configs = json_object_get(doc, "configs");
	if (!json_is_array(configs))
		return errf(e, "not a results document: no 'configs' array");
	json_t *flat = json_array(), *cols = json_array(), *seen = json_object();
	json_t *c;
	size_t i;
	json_array_foreach(configs, i, c) {
		if (!json_is_object(c)) {
			json_decref(flat);
			json_decref(cols);
			json_decref(seen);
			return errf(e, "configs[%zu] is not an object", i);
		}
		json_t *g[NGROUPS];
		flat_config(c, g);
		json_array_append_new(flat, json_pack("[ooooo]", g[0], g[1],
						      g[2], g[3], g[4]));
	}
	for (int gi = 0; gi < NGROUPS; gi++) {
		if (gi == 0 || gi == 2) { /* always, even when absent */
			add_fixed(cols, seen, gi ? stat_cols : head_cols);
			continue;
		}
		json_array_foreach(flat, i, c)
			add_columns(cols, seen, json_array_get(c, gi));
	}
	json_t *out = json_array();
	json_array_foreach(flat, i, c) {
		json_t *row = json_array(), *name;
		size_t k;
		json_array_foreach(cols, k, name) {
			json_t *v = NULL;
			for (int gi = 0; gi < NGROUPS && !v; gi++)
				v = json_object_get(json_array_get(c, gi),
						    json_string_value(name));
			char cell[1024];
			cell_text(v, cell, sizeof cell);
			json_array_append_new(row, json_string(cell));
		}
		json_array_append_new(out, row);
	}
	json_decref(flat);
	json_decref(seen);
	*columns = cols;
	*rows = out;
	return 0;
}

/* ---- text forms ---- */

/* Pipes would end a table cell and newlines a row. */
static void md_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

static void md_cell(FILE *out, const char *s)
{
	fputc(' ', out);
	md_text(out, s);
	fputs(" |", out);
}

static void md_row(FILE *out, json_t *cells)
{
	json_t *v;
	size_t i;
	fputc('|', out);
	json_array_foreach(cells, i, v)
		md_cell(out, json_string_value(v));
	fputc('\n', out);
}

static void md_context(FILE *out, json_t *doc)
{
	json_t *ctx = json_object_get(doc, "context");
	const char *keys[] = {"host", "cpu_model", "utc_time", "git_rev",
			      "command"};
	fprintf(out, "# contend results\n\n");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(ctx, keys[i]);
		char cell[1024];
		if (!v)
			continue;
		cell_text(v, cell, sizeof cell);
		fprintf(out, "- %s: ", keys[i]);
		md_text(out, cell);
		fputc('\n', out);
	}
	fputc('\n', out);
}

static void md_fits(FILE *out, json_t *doc)
{
	json_t *fits = summary_fits(doc);
	json_t *f;
	size_t i;
	if (json_array_size(fits))
		fprintf(out, "\n## Scaling (Universal Scalability Law)\n\n");
	json_array_foreach(fits, i, f) {
		fprintf(out, "- ");
		md_text(out, doc_str(f, "series", NULL)
				     ?: "?");
		fprintf(out, ": ");
		md_text(out, doc_str(f, "summary", NULL)
				     ?: "");
		fputc('\n', out);
	}
}

/* The stored diagnosis (analysis/diagnosis.h), one item per entry. */
static void md_diagnosis(FILE *out, json_t *doc)
{
	json_t *d = diagnosis_of(doc), *e, *id;
	size_t i, k;
	if (json_array_size(d))
		fprintf(out, "\n## Diagnosis\n\n");
	json_array_foreach(d, i, e) {
		fputs("- **", out);
		md_text(out, doc_str(e, "cause", "?"));
		fputs("**", out);
		json_array_foreach(json_object_get(e, "configs"), k, id) {
			fputs(k ? ", " : " (", out);
			md_text(out, json_is_string(id) ? json_string_value(id) : "?");
		}
		fputs(json_array_size(json_object_get(e, "configs")) ? "): " : ": ", out);
		md_text(out, doc_str(e, "evidence", ""));
		fputc('.', out);
		if (*doc_str(e, "advice", "")) {
			fputs(" Advice: ", out);
			md_text(out, doc_str(e, "advice", ""));
			fputc('.', out);
		}
		fputc('\n', out);
	}
}

static int export_md(json_t *doc, FILE *out, errbuf *e)
{
	json_t *cols, *rows, *r;
	size_t i;
	if (export_table(doc, &cols, &rows, e))
		return -1;
	md_context(out, doc);
	md_row(out, cols);
	fputc('|', out);
	for (i = 0; i < json_array_size(cols); i++)
		fputs(" --- |", out);
	fputc('\n', out);
	json_array_foreach(rows, i, r)
		md_row(out, r);
	md_fits(out, doc);
	md_diagnosis(out, doc);
	comparisons_render(doc, out, COMPARISONS_MD);
	json_decref(cols);
	json_decref(rows);
	return 0;
}

/* RFC 4180: quote when needed, double the quotes. */
static void csv_cell(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_row(FILE *out, json_t *cells)
{
	json_t *v;
	size_t i;
	json_array_foreach(cells, i, v) {
		if (i)
			fputc(',', out);
		csv_cell(out, json_string_value(v));
	}
	fputs("\r\n", out);
}

static int export_csv(json_t *doc, FILE *out, errbuf *e)
{
	json_t *cols, *rows, *r;
	size_t i;
	if (export_table(doc, &cols, &rows, e))
		return -1;
	csv_row(out, cols);
	json_array_foreach(rows, i, r)
		csv_row(out, r);
	json_decref(cols);
	json_decref(rows);
	return 0;
}

/* ---- Google Benchmark JSON ---- */

#define GB_UNIT "ms"
#define GB_SCALE 1e3 /* seconds -> GB_UNIT */

static json_t *gb_context(json_t *ctx)
{
	json_t *g = json_object();
	struct { const char *from, *to; } map[] = {
		{"utc_time", "date"}, {"host", "host_name"},
		{"logical_cores", "num_cpus"}, {"cpu_model", "cpu_model"},
		{"kernel", "kernel"}, {"compiler", "compiler"},
		{"contend_version", "contend_version"}, {"git_rev", "git_rev"},
		{"command", "command"},
	};
	json_object_set_new(g, "executable", json_string("contend"));
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		json_t *v = json_object_get(ctx, map[i].from);
		if (v)
			json_object_set(g, map[i].to, v);
	}
	json_object_set_new(g, "library_build_type", json_string("release"));
	json_object_set_new(g, "caches", json_array());
	return g;
}

/* Numbers only: Google Benchmark user counters are doubles. */
static void add_counters(json_t *entry, json_t *src, const char *const *keys)
{
	for (size_t i = 0; keys && keys[i]; i++) {
		json_t *v = json_object_get(src, keys[i]);
		if (json_is_number(v))
			json_object_set_new(entry, keys[i],
					    json_real(json_number_value(v)));
	}
	json_t *flat = json_object(), *v;
	const char *k;
	json_object_foreach(src, k, v)
		if (json_is_object(v) && !listed(not_probe, k))
			flatten(flat, k, v, 0);
	json_object_foreach(flat, k, v)
		if (json_is_number(v) && !json_object_get(entry, k))
			json_object_set_new(entry, k,
					    json_real(json_number_value(v)));
	json_decref(flat);
}

struct gb_ids {
	const char *id;
	json_int_t family, instance, threads, nreps;
};

static json_t *gb_entry(const struct gb_ids *ids, const char *suffix,
			const char *run_type)
{
	char name[600];
	snprintf(name, sizeof name, "%s%s", ids->id, suffix);
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:I}", "name", name,
			 "family_index", ids->family,
			 "per_family_instance_index", ids->instance,
			 "run_name", ids->id, "run_type", run_type,
			 "repetitions", ids->nreps, "threads", ids->threads);
}

static void gb_times(json_t *entry, json_int_t iterations, double real_s,
		     double cpu_s)
{
	json_object_set_new(entry, "iterations", json_integer(iterations));
	json_object_set_new(entry, "real_time", json_real(real_s * GB_SCALE));
	json_object_set_new(entry, "cpu_time", json_real(cpu_s * GB_SCALE));
	json_object_set_new(entry, "time_unit", json_string(GB_UNIT));
}

static int rep_ok(json_t *r)
{
	const char *st = doc_str(r, "status", NULL);
	return st && !strcmp(st, "ok") &&
	       json_is_number(json_object_get(r, "wall_s"));
}

static const char *const rep_counters[] = {"tasks_done", NULL};
static const char *const cfg_counters[] = {"speedup", "efficiency",
					   "cpu_util", NULL};

static size_t gb_iterations(json_t *list, json_t *c, const struct gb_ids *ids,
			    double *wall, double *cpu)
{
	json_t *r;
	size_t i, n = 0;
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		if (!rep_ok(r))
			continue;
		wall[n] = doc_num(r, "wall_s", 0);
		cpu[n] = doc_num(r, "cpu_s", 0);
		json_t *en = gb_entry(ids, "", "iteration");
		json_object_set_new(en, "repetition_index",
				    json_integer((json_int_t)n));
		gb_times(en, 1, wall[n], cpu[n]);
		if (wall[n] > 0 && json_is_number(json_object_get(r, "cpu_s")))
			json_object_set_new(en, "cpu_util",
					    json_real(cpu[n] / wall[n]));
		add_counters(en, r, rep_counters);
		json_array_append_new(list, en);
		n++;
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void moments(double *x, size_t n, double *mean, double *median,
		    double *sd)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	*mean = s / n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - *mean) * (x[i] - *mean);
	*sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
	qsort(x, n, sizeof *x, cmp_double);
	*median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

static void gb_aggregates(json_t *list, json_t *c, const struct gb_ids *ids,
			  double *wall, double *cpu, size_t n)
{
	double wm[3], cm[3]; /* mean, median, stddev */
	moments(wall, n, &wm[0], &wm[1], &wm[2]);
	moments(cpu, n, &cm[0], &cm[1], &cm[2]);
	const char *names[] = {"mean", "median", "stddev"};
	for (int k = 0; k < 3; k++) {
		char suffix[16];
		snprintf(suffix, sizeof suffix, "_%s", names[k]);
		json_t *en = gb_entry(ids, suffix, "aggregate");
		json_object_set_new(en, "aggregate_name",
				    json_string(names[k]));
		json_object_set_new(en, "aggregate_unit", json_string("time"));
		gb_times(en, (json_int_t)n, wm[k], cm[k]);
		if (k < 2)
			add_counters(en, c, cfg_counters);
		json_array_append_new(list, en);
	}
}

/* A configuration with no ok repetition is reported the way Google
 * Benchmark reports a failed benchmark. */
static void gb_error(json_t *list, json_t *c, const struct gb_ids *ids)
{
	json_t *en = gb_entry(ids, "", "iteration");
	const char *why = doc_str(c, "detail", NULL);
	if (!why)
		why = doc_str(c, "status", NULL);
	json_object_set_new(en, "repetition_index", json_integer(0));
	json_object_set_new(en, "error_occurred", json_true());
	json_object_set_new(en, "error_message",
			    json_string(why ? why : "no ok repetition"));
	gb_times(en, 0, 0, 0);
	json_array_append_new(list, en);
}

static void gb_config(json_t *list, json_t *c, json_t *families,
		      json_t *instances)
{
	char key[512];
	if (doc_series_key(c, DOC_KEY_ALL, key, sizeof key))
		snprintf(key, sizeof key, "?");
	json_t *fam = json_object_get(families, key);
	if (!fam) {
		fam = json_integer((json_int_t)json_object_size(families));
		json_object_set_new(families, key, fam);
		json_object_set_new(instances, key, json_integer(0));
	}
	json_t *inst = json_object_get(instances, key);
	struct gb_ids ids = {
		.id = doc_str(c, "id", NULL) ?: "?",
		.family = json_integer_value(fam),
		.instance = json_integer_value(inst),
		.threads = doc_int(c, "workers", 0),
		.nreps = (json_int_t)ok_reps(c),
	};
	json_integer_set(inst, ids.instance + 1);
	size_t cap = json_array_size(json_object_get(c, "reps")) + 1;
	double *wall = calloc(cap, sizeof *wall), *cpu = calloc(cap, sizeof *cpu);
	size_t n = wall && cpu ? gb_iterations(list, c, &ids, wall, cpu) : 0;
	if (n == 0)
		gb_error(list, c, &ids);
	else if (n >= 2) /* Google Benchmark aggregates repeated runs only */
		gb_aggregates(list, c, &ids, wall, cpu, n);
	free(wall);
	free(cpu);
}

json_t *export_gbench(json_t *doc, errbuf *e)
{
	json_t *configs = json_object_get(doc, "configs");
	if (!json_is_array(configs)) {
		errf(e, "not a results document: no 'configs' array");
		return NULL;
	}
	json_t *list = json_array(), *families = json_object();
	json_t *instances = json_object(), *c;
	size_t i;
	json_array_foreach(configs, i, c)
		if (json_is_object(c))
			gb_config(list, c, families, instances);
	json_decref(families);
	json_decref(instances);
	return json_pack("{s:o, s:o}", "context",
			 gb_context(json_object_get(doc, "context")),
			 "benchmarks", list);
}

static int export_gbench_json(json_t *doc, FILE *out, errbuf *e)
{
	json_t *g = export_gbench(doc, e);
	if (!g)
		return -1;
	int rc = json_dumpf(g, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	fputc('\n', out);
	json_decref(g);
	return rc ? errf(e, "cannot write the Google Benchmark JSON") : 0;
}

int export_doc(json_t *doc, const char *format, FILE *out, errbuf *e)
{
	if (!json_is_object(doc))
		return errf(e, "not a results document");
	if (!format || !strcmp(format, "md"))
		return export_md(doc, out, e);
	if (!strcmp(format, "csv"))
		return export_csv(doc, out, e);
	if (!strcmp(format, "gbench-json"))
		return export_gbench_json(doc, out, e);
	return errf(e, "unknown export format '%s' (use md, csv or "
		    "gbench-json)", format);
}
