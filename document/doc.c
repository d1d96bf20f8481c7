/* doc.c - typed reads of a results document (see doc.h). */
#include "document/doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document/results.h"

const char *doc_str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : dflt;
}

double doc_num(json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

json_int_t doc_int(json_t *o, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int doc_bool(json_t *o, const char *key, int dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

double doc_figure(json_t *o, const char *path, double dflt)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", path);
	char *save = NULL;
	for (char *t = strtok_r(buf, ".", &save); t && o;
	     t = strtok_r(NULL, ".", &save))
		o = json_object_get(o, t);
	return json_is_number(o) ? json_number_value(o) : dflt;
}

int doc_is_exec(json_t *config)
{
	return !strcmp(doc_str(config, "workload", ""), "exec");
}

json_t *doc_context(json_t *doc)
{
	return json_object_get(doc, "context");
}

size_t doc_nconfigs(json_t *doc)
{
	return json_array_size(json_object_get(doc, "configs"));
}

json_t *doc_config(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "configs"), i);
}

int doc_is_ok(json_t *config)
{
	return !strcmp(doc_str(config, "status", ""), "ok");
}

json_int_t doc_workers(json_t *config)
{
	return doc_int(config, "workers", 0);
}

double doc_median_wall(json_t *config)
{
	return doc_num(config, "median_wall_s", NAN);
}

size_t doc_nreps(json_t *config)
{
	return json_array_size(json_object_get(config, "reps"));
}

size_t doc_ok_walls(json_t *config, double *out, size_t cap)
{
	json_t *r;
	size_t i, n = 0;
	json_array_foreach(json_object_get(config, "reps"), i, r) {
		json_t *w = json_object_get(r, "wall_s");
		if (n < cap && doc_is_ok(r) && json_is_number(w))
			out[n++] = json_number_value(w);
	}
	return n;
}

/* ---- series ---- */

static const char *const named_dims[] = {"start", "inner_threads",
					 "lock_model", "share", NULL};
const char *const doc_not_dims[] = {"id", "workload", "build", "pool",
				    "status", "detail", "checksum",
				    "baseline", "baseline_kind", "prepare", "setup",
				    NULL};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

static void append_dim(char *buf, size_t len, const char *key, json_t *v)
{
	size_t used = strlen(buf);
	if (used >= len)
		return;
	if (json_is_string(v))
		snprintf(buf + used, len - used, " %s=%s", key,
			 json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf + used, len - used, " %s=%lld", key,
			 (long long)json_integer_value(v));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int doc_is_dim(const char *key, json_t *v)
{
	return !strcmp(key, "workload") || !strcmp(key, "build") ||
	       !strcmp(key, "pool") || in_list(named_dims, key) ||
	       (json_is_string(v) && !in_list(doc_not_dims, key));
}

/* In name order, so the key does not depend on the order fields were
 * written in. */
static void append_other_dims(json_t *config, char *buf, size_t len)
{
	const char *names[64];
	size_t count = 0;
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v) {
		if (json_is_string(v) && !in_list(doc_not_dims, key) &&
		    !in_list(named_dims, key) && count < 64)
			names[count++] = key;
	}
	qsort(names, count, sizeof names[0], cmp_str);
	for (size_t i = 0; i < count; i++)
		append_dim(buf, len, names[i],
			   json_object_get(config, names[i]));
}

static int cmp_swept(const void *a, const void *b)
{
	return strcmp(((const struct doc_swept *)a)->name,
		      ((const struct doc_swept *)b)->name);
}

static size_t swept_of(json_t *o, int env, struct doc_swept *out, size_t cap)
{
	const char *key;
	json_t *v;
	size_t n = 0;
	json_object_foreach(o, key, v) {
		if (n == cap || (!env && !strcmp(key, "command")))
			continue;
		if (json_is_string(v) || (env && json_is_null(v)))
			out[n++] = (struct doc_swept){key, json_is_string(v) ?
						      json_string_value(v) : "default", env};
	}
	qsort(out, n, sizeof *out, cmp_swept);
	return n;
}

size_t doc_swept_dims(json_t *config, struct doc_swept *out, size_t cap)
{
	if (!doc_is_exec(config))
		return 0;
	size_t n = swept_of(json_object_get(config, "params"), 0, out, cap);
	return n + swept_of(json_object_get(config, "env"), 1, out + n, cap - n);
}

size_t doc_swept_label(json_t *c, char *buf, size_t len)
{
	struct doc_swept d[DOC_SWEPT_MAX];
	size_t n = doc_swept_dims(c, d, DOC_SWEPT_MAX), used = 0;
	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s",
					 i ? ", " : "", d[i].name, d[i].value);
	return n;
}

void doc_series_label(json_t *c, char *buf, size_t len)
{
	char swept[512];
	if (doc_swept_label(c, swept, sizeof swept))
		snprintf(buf, len, "%s (%s)", doc_str(c, "pool", ""), swept);
	else
		snprintf(buf, len, "%s pool", doc_str(c, "pool", ""));
}

static void append_swept(json_t *config, char *buf, size_t len)
{
	struct doc_swept d[DOC_SWEPT_MAX];
	size_t n = doc_swept_dims(config, d, DOC_SWEPT_MAX);
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		if (used < len)
			snprintf(buf + used, len - used, " %s%s=%s",
				 d[i].env ? "env." : "", d[i].name, d[i].value);
	}
}

static int omitted(const char *dim, unsigned omit)
{
	if (omit & DOC_KEY_NO_POOL)
		if (!strcmp(dim, "pool") || !strcmp(dim, "start"))
			return 1;
	if (omit & DOC_KEY_NO_BUILD)
		if (!strcmp(dim, "build") || !strcmp(dim, "lock_model"))
			return 1;
	return 0;
}

int doc_series_key(json_t *config, unsigned omit, char *buf, size_t len)
{
	const char *w = doc_str(config, "workload", NULL);
	const char *b = doc_str(config, "build", NULL);
	const char *p = doc_str(config, "pool", NULL);
	if (len)
		buf[0] = 0;
	if (!w || !b || !p)
		return -1;
	snprintf(buf, len, "%s/%s/%s", w, omitted("build", omit) ? "*" : b,
		 omitted("pool", omit) ? "*" : p);
	for (size_t i = 0; named_dims[i]; i++)
		if (!omitted(named_dims[i], omit))
			append_dim(buf, len, named_dims[i],
				   json_object_get(config, named_dims[i]));
	append_other_dims(config, buf, len);
	if (!(omit & DOC_KEY_NO_SWEPT))
		append_swept(config, buf, len);
	return 0;
}

/* Without exec's dimensions, the params that remain: exec's command. */
static int same_unswept_params(json_t *a, json_t *b)
{
	if (!doc_is_exec(a))
		return results_same_params(a, b);
	return !strcmp(doc_str(json_object_get(a, "params"), "command", ""),
		       doc_str(json_object_get(b, "params"), "command", ""));
}

int doc_same_series(json_t *a, json_t *b, unsigned omit)
{
	char ka[1024], kb[1024];
	return !doc_series_key(a, omit, ka, sizeof ka) &&
	       !doc_series_key(b, omit, kb, sizeof kb) && !strcmp(ka, kb) &&
	       (omit & DOC_KEY_NO_SWEPT ? same_unswept_params(a, b)
					: results_same_params(a, b));
}

/* ---- derived figures ---- */

json_t *doc_fits(json_t *doc)
{
	json_t *f = json_object_get(doc, "fits");
	return json_is_array(f) ? f : NULL;
}

json_t *doc_fit(json_t *doc, const char *series)
{
	json_t *f;
	size_t i;
	json_array_foreach(doc_fits(doc), i, f)
		if (!strcmp(doc_str(f, "series", ""), series))
			return f;
	return NULL;
}
