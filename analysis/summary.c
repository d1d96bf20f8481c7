/* summary.c - statistics, speedups and "slower" flags of a document.
 *
 * A row is flagged slower only when its median's confidence interval lies
 * wholly above the previous worker count's: noise never raises a flag. */
#include "analysis/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "document/doc.h"
#include "document/groups.h"
#include "analysis/interference.h"
#include "analysis/sidebyside.h"
#include "analysis/stats.h"
#include "analysis/usl.h"

const char *const summary_dimensions[] = {
	"workload", "build", "pool", "start", "lock_model", "inner_threads",
	"share", "backend", NULL,
};

json_t *summary_params_object(const char *workload, const char *params)
{
	json_t *o = json_object();
	const struct workload_ops *w = workload ? workload_find(workload) : NULL;
	struct params p;
	if (!w || params_parse(w->params, params, &p, NULL))
		return o;
	for (size_t i = 0; i < p.n; i++)
		json_object_set_new(o, p.kv[i].key, json_string(p.kv[i].val));
	return o;
}

static int listed_dim(const char *key)
{
	for (const char *const *d = summary_dimensions; *d; d++)
		if (!strcmp(*d, key))
			return 1;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Dimensions summary_dimensions does not name (one a new plan table entry
 * adds), in name order, as doc_series_key orders them: two
 * configurations that differ only there must not share an id. */
static size_t other_dims(json_t *config, const char **names, size_t cap)
{
	const char *key;
	json_t *v;
	size_t n = 0;
	json_object_foreach(config, key, v)
		if (json_is_string(v) && doc_is_dim(key, v) &&
		    !listed_dim(key) && n < cap)
			names[n++] = key;
	qsort(names, n, sizeof names[0], cmp_name);
	return n;
}

static void id_part(char *id, size_t len, size_t *used, const char *v)
{
	if (v && *used < len)
		*used += (size_t)snprintf(id + *used, len - *used, "%s%s",
					  *used ? "/" : "", v);
}

void summary_set_id(json_t *config)
{
	char id[512] = "";
	size_t used = 0;
	const char *others[32];
	for (const char *const *d = summary_dimensions; *d; d++)
		id_part(id, sizeof id, &used, doc_str(config, *d, NULL));
	size_t n = other_dims(config, others, 32);
	for (size_t i = 0; i < n; i++)
		id_part(id, sizeof id, &used, doc_str(config, others[i], NULL));
	struct doc_swept d[DOC_SWEPT_MAX];
	n = doc_swept_dims(config, d, DOC_SWEPT_MAX);
	for (size_t i = 0; i < n && used < sizeof id; i++)
		used += (size_t)snprintf(id + used, sizeof id - used, "/%s%s=%s",
					 d[i].env ? "env." : "", d[i].name, d[i].value);
	if (used < sizeof id)
		snprintf(id + used, sizeof id - used, "/w%lld",
			 (long long)doc_int(config, "workers", 0));
	json_object_set_new(config, "id", json_string(id));
}

static void set_real(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, isfinite(v) ? json_real(v) : json_null());
}

/* config[name] = median over ok reps of every numeric field of
 * reps[*][name]; string fields are copied from the first rep. Used for the
 * lock figures, which the runner (not a probe) records. */
static void median_object(json_t *c, const char *name)
{
	json_t *reps = json_object_get(c, "reps"), *rep, *first = NULL;
	size_t i, n = json_array_size(reps);
	json_array_foreach(reps, i, rep)
		if (json_is_object(json_object_get(rep, name))) {
			first = json_object_get(rep, name);
			break;
		}
	if (!first)
		return;
	json_t *out = json_object(), *v;
	const char *key;
	double *x = calloc(n + 1, sizeof *x);
	json_object_foreach(first, key, v) {
		if (json_is_string(v)) {
			json_object_set(out, key, v);
			continue;
		}
		if (!json_is_number(v))
			continue;
		size_t k = 0;
		json_array_foreach(reps, i, rep) {
			json_t *f = json_object_get(json_object_get(rep, name), key);
			if (json_is_number(f))
				x[k++] = json_number_value(f);
		}
		set_real(out, key, stats_median(x, k));
	}
	free(x);
	json_object_set_new(c, name, out);
}

/* Status of a config: the first failing repetition's, or its own. */
static void config_status(json_t *c)
{
	json_t *rep;
	size_t i;
	const char *cur = doc_str(c, "status", NULL);
	if (cur && strcmp(cur, "ok"))
		return;
	json_array_foreach(json_object_get(c, "failed_warmups"), i, rep)
		goto failed;
	json_array_foreach(json_object_get(c, "reps"), i, rep) {
		const char *st = doc_str(rep, "status", NULL);
		if (st && strcmp(st, "ok"))
			goto failed;
	}
	return;
failed:
	json_object_set(c, "status", json_object_get(rep, "status"));
	json_object_set(c, "detail", json_object_get(rep, "detail"));
}

/* Repetitions far from the others (stats_outliers' rule), named in
 * config.outliers with their index, time, score and whether the machine
 * was busy during them; the median and its interval keep them (a median
 * is robust to a few), so the table names them instead of widening
 * anything silently. */
static void config_outliers(json_t *c)
{
	json_t *reps = json_object_get(c, "reps"), *rep;
	size_t n = json_array_size(reps), i, k = 0;
	double *x = calloc(n + 1, sizeof *x), *z = calloc(n + 1, sizeof *z);
	size_t *at = calloc(n + 1, sizeof *at);
	json_object_del(c, "outliers");
	if (!x || !z || !at)
		goto out;
	json_array_foreach(reps, i, rep)
		if (!strcmp(doc_str(rep, "status", ""), "ok")) {
			at[k] = i;
			x[k++] = doc_num(rep, "wall_s", NAN);
		}
	if (!stats_outliers(x, k, z))
		goto out;
	json_t *list = json_array();
	double med = stats_median(x, k);
	for (i = 0; i < k; i++) {
		if (!(fabs(z[i]) > STATS_OUTLIER_Z) ||
		    fabs(x[i] - med) < STATS_OUTLIER_MIN_REL * fabs(med))
			continue;
		json_t *r = json_array_get(reps, at[i]);
		json_array_append_new(list, json_pack(
			"{s:I, s:f, s:f, s:b}", "index", (json_int_t)at[i], "wall_s",
			x[i], "z", z[i], "busy",
			doc_num(json_object_get(r, "interference"), "taken_cores", 0) >=
				INTERFERENCE_BUSY_CORES));
	}
	json_object_set_new(c, "outliers", json_pack("{s:s, s:f, s:o}", "rule",
		"modified z-score", "threshold", STATS_OUTLIER_Z, "reps", list));
out:
	free(x);
	free(z);
	free(at);
}

static void config_stats(json_t *c)
{
	json_t *reps = json_object_get(c, "reps"), *rep;
	size_t n = json_array_size(reps), i, k = 0;
	double *wall = calloc(n + 1, sizeof *wall), *cpu = calloc(n + 1, sizeof *cpu);
	const char *sum = NULL;
	int agree = 1;
	json_array_foreach(reps, i, rep) {
		const char *st = doc_str(rep, "status", NULL);
		if (!st || strcmp(st, "ok"))
			continue;
		wall[k] = doc_num(rep, "wall_s", 0);
		cpu[k++] = doc_num(rep, "cpu_s", 0);
		const char *cs = doc_str(rep, "checksum", NULL);
		if (cs && sum && strcmp(cs, sum))
			agree = 0;
		if (cs && !sum)
			sum = cs;
	}
	struct summary s;
	stats_summarise(wall, k, &s);
	set_real(c, "median_wall_s", s.median);
	set_real(c, "min_wall_s", s.min);
	set_real(c, "max_wall_s", s.max);
	set_real(c, "ci_low_s", s.ci_low);
	set_real(c, "ci_high_s", s.ci_high);
	set_real(c, "ci_level", s.ci_level);
	double mcpu = stats_median(cpu, k);
	set_real(c, "median_cpu_s", mcpu);
	set_real(c, "cpu_util", k ? mcpu / s.median : NAN);
	json_object_set_new(c, "checksum", sum ? json_string(sum) : json_null());
	json_object_set_new(c, "checksum_ok", json_boolean(agree));
	free(wall);
	free(cpu);
	median_object(c, "lock");
	interference_mark(c);
	config_outliers(c);
	config_status(c);
}

/* More than one worker's worth per worker, with a busy row on either end
 * of the ratio: a slowed baseline inflates the speedup. Said in
 * config.interference.superlinear, for the table and the diagnosis. */
static void mark_superlinear(json_t *c, json_t *base)
{
	json_t *in = json_object_get(c, "interference");
	if (!json_is_object(in))
		return;
	int sl = doc_num(c, "efficiency", NAN) > 1.0 && base && base != c &&
		 interference_explains(c, base);
	json_object_set_new(in, "superlinear", json_boolean(sl));
}

/* serial: base is the serial pool's run, not the series' own 1-worker
 * row (the config then says so: baseline_kind "serial"). */
static void set_relations(json_t *c, json_t *base, json_t *prev, int serial)
{
	json_int_t w = doc_workers(c);
	double m = doc_num(c, "median_wall_s", NAN);
	json_object_del(c, "baseline_kind");
	if (base && isfinite(m) && serial)
		json_object_set_new(c, "baseline_kind", json_string("serial"));
	if (base && isfinite(m)) {
		double sp = doc_num(base, "median_wall_s", NAN) / m;
		set_real(c, "speedup", sp);
		set_real(c, "efficiency", sp / (double)w);
		/* the speedup's range over this median's interval: plots
		 * draw it as error bars, without refitting anything */
		double t1 = doc_num(base, "median_wall_s", NAN);
		set_real(c, "speedup_low", t1 / doc_num(c, "ci_high_s", m));
		set_real(c, "speedup_high", t1 / doc_num(c, "ci_low_s", m));
		json_object_set(c, "baseline", json_object_get(base, "id"));
	} else {
		json_object_set_new(c, "speedup", json_null());
		json_object_set_new(c, "speedup_low", json_null());
		json_object_set_new(c, "speedup_high", json_null());
		json_object_set_new(c, "efficiency", json_null());
		json_object_set_new(c, "baseline", json_null());
	}
	json_t *slower = json_null();
	if (prev && doc_num(c, "ci_low_s", NAN) > doc_num(prev, "ci_high_s", NAN))
		slower = json_pack("{s:O, s:I, s:f}", "than",
				   json_object_get(prev, "id"), "than_workers",
				   doc_workers(prev), "ratio",
				   m / doc_num(prev, "median_wall_s", NAN));
	/* Other programs on the machine slow a row down by themselves: the
	 * flag stays (the intervals do not overlap), its cause is said. */
	if (json_is_object(slower) && interference_explains(c, prev))
		json_object_set_new(slower, "cause", json_string("interference"));
	json_object_set_new(c, "slower", slower);
	mark_superlinear(c, base);
}

struct member {
	json_t *c;
	json_int_t workers;
	size_t index;
};

static int by_workers(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->workers != y->workers)
		return x->workers < y->workers ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The serial pool's measured 1-worker runs by their series without the
 * pool (doc_series_id, DOC_KEY_NO_POOL): the baseline of a series that
 * has no 1-worker row of its own (--pool serial,thread --workers 2,4). */
static json_t *serial_runs(json_t *configs)
{
	json_t *by = json_object(), *c;
	size_t i;
	json_array_foreach(configs, i, c) {
		if (strcmp(doc_str(c, "pool", ""), "serial") || doc_workers(c) != 1 ||
		    !isfinite(doc_num(c, "median_wall_s", NAN)))
			continue;
		char *key = doc_series_id(c, DOC_KEY_NO_POOL, 1);
		if (key && !json_object_get(by, key))
			json_object_set(by, key, c);
		free(key);
	}
	return by;
}

static json_t *serial_run_of(json_t *serial, json_t *c)
{
	char *key = doc_series_id(c, DOC_KEY_NO_POOL, 1);
	json_t *s = key ? json_object_get(serial, key) : NULL;
	free(key);
	return s;
}

/* One series, members sorted by worker count: the baseline is its
 * (last measured) 1-worker configuration, else the serial run of the
 * same other dimensions; a configuration's previous one the first
 * measured configuration of the next smaller worker count. */
static void series_relations(struct member *m, size_t k, json_t *serial)
{
	json_t *base = NULL, *prev = NULL;
	qsort(m, k, sizeof *m, by_workers);
	for (size_t i = 0; i < k; i++)
		if (m[i].workers == 1 && isfinite(doc_num(m[i].c, "median_wall_s", NAN)))
			base = m[i].c;
	int from_serial = !base && k && (base = serial_run_of(serial, m[0].c));
	for (size_t a = 0, b; a < k; a = b) {
		json_t *first_ok = NULL;
		for (b = a; b < k && m[b].workers == m[a].workers; b++) {
			int ok = isfinite(doc_num(m[b].c, "median_wall_s", NAN));
			int own1 = m[b].workers == 1 && ok;
			set_relations(m[b].c, own1 ? m[b].c : base, prev,
				      !own1 && from_serial);
			if (ok && !first_ok)
				first_ok = m[b].c;
		}
		if (first_ok)
			prev = first_ok;
	}
}

/* Speedup against the 1-worker config of the same series (else the
 * serial run); slower flag against the next smaller worker count of the
 * series. Grouped once
 * (document/groups.h), so this is n log n, not a pass over every pair. */
static void config_relations(json_t *configs)
{
	struct doc_groups g;
	size_t n = json_array_size(configs);
	struct member *m = malloc((n + 1) * sizeof *m);
	if (!m || doc_groups_series(configs, DOC_KEY_ALL, 1, &g)) {
		free(m);
		return;
	}
	json_t *serial = serial_runs(configs);
	for (size_t i = 0; i < n; i++)
		if (g.group_of[i] == DOC_NO_GROUP) {
			json_t *c = json_array_get(configs, i);
			int own = doc_workers(c) == 1 && isfinite(doc_num(c, "median_wall_s", NAN));
			set_relations(c, own ? c : NULL, NULL, 0);
		}
	for (size_t k = 0; k < g.ngroups; k++) {
		size_t size = doc_group_size(&g, k);
		for (size_t j = 0; j < size; j++) {
			size_t i = doc_group_member(&g, k, j);
			json_t *c = json_array_get(configs, i);
			m[j] = (struct member){c, doc_workers(c), i};
		}
		series_relations(m, size, serial);
	}
	json_decref(serial);
	free(m);
	doc_groups_free(&g);
}

/* A configuration's workload and params: what must give one checksum. */
static char *checksum_key(json_t *c)
{
	const char *w = doc_str(c, "workload", NULL);
	json_t *p = json_object_get(c, "params");
	char *pt = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
		     : strdup("");
	char *key = NULL;
	if (w && pt && asprintf(&key, "%s\x1f%s", w, pt) < 0)
		key = NULL;
	free(pt);
	return key;
}

/* Configs of one workload with the same parameters must agree on the
 * checksum whatever the pool, worker count or build: in a group with two
 * different checksums, every configuration with one disagrees with some
 * other. */
static void checksum_agreement(json_t *configs)
{
	size_t n = json_array_size(configs);
	char **keys = calloc(n + 1, sizeof *keys);
	struct doc_groups g;
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		keys[i] = checksum_key(json_array_get(configs, i));
	if (doc_groups_build(keys, n, &g))
		return;
	for (size_t k = 0; k < g.ngroups; k++) {
		const char *first = NULL;
		int differ = 0;
		for (size_t j = 0; j < doc_group_size(&g, k); j++) {
			json_t *c = json_array_get(configs, doc_group_member(&g, k, j));
			const char *cs = doc_str(c, "checksum", NULL);
			if (cs && first && strcmp(cs, first))
				differ = 1;
			if (cs && !first)
				first = cs;
		}
		for (size_t j = 0; differ && j < doc_group_size(&g, k); j++) {
			json_t *c = json_array_get(configs, doc_group_member(&g, k, j));
			if (json_is_string(json_object_get(c, "checksum")))
				json_object_set_new(c, "checksum_ok", json_false());
		}
	}
	doc_groups_free(&g);
}

void summary_document(json_t *doc)
{
	json_t *configs = json_object_get(doc, "configs"), *c;
	size_t i;
	json_array_foreach(configs, i, c)
		config_stats(c);
	config_relations(configs);
	checksum_agreement(configs);
	sidebyside_document(doc);
	json_t *fits = usl_fit_document(doc);
	if (fits)
		json_object_set_new(doc, "fits", fits);
}

/* summary_document gives every configuration a speedup field (null when
 * there is no baseline): its absence says the relations were never made. */
static int has_relations(json_t *configs)
{
	json_t *c;
	size_t i;
	json_array_foreach(configs, i, c)
		if (!json_object_get(c, "speedup"))
			return 0;
	return 1;
}

json_t *summary_derived(json_t *doc)
{
	json_t *configs = json_object_get(doc, "configs");
	if (json_is_array(configs) && !has_relations(configs))
		config_relations(configs);
	return summary_fits(doc);
}

json_t *summary_fits(json_t *doc)
{
	json_t *fits = doc_fits(doc);
	if (fits || !json_is_object(doc))
		return fits;
	fits = usl_fit_document(doc);
	json_object_set_new(doc, "fits", fits);
	return fits;
}
