/* doc.h - typed reads of a results document (docs/results-schema.md).
 *
 * Every reader of a document (table, plots, dashboard, export, compare,
 * history, usl) goes through these instead of raw json_t lookups, so a
 * missing or mistyped field means the same thing everywhere: the caller's
 * explicit default. None of them fails or allocates; returned strings and
 * objects are borrowed from the document. */
#ifndef CONTEND_DOC_H
#define CONTEND_DOC_H

#include <jansson.h>
#include <stddef.h>

/* ---- fields ---- */

/* o[key] when it is a string, else dflt (which may be NULL). */
const char *doc_str(json_t *o, const char *key, const char *dflt);
/* o[key] when it is a number (integer or real), else dflt. */
double doc_num(json_t *o, const char *key, double dflt);
/* o[key] when it is an integer, else dflt. */
json_int_t doc_int(json_t *o, const char *key, json_int_t dflt);
/* o[key] when it is true or false, else dflt. */
int doc_bool(json_t *o, const char *key, int dflt);
/* The number at a dotted path ("lock.share", "memory.peak_rss_bytes"),
 * else dflt: how probe figures are read. */
double doc_figure(json_t *o, const char *path, double dflt);

/* ---- the document ---- */

/* 1 when config was measured by `contend exec` (any command, workload
 * "exec"): its params are its command and --param values, and its pool is
 * the command's own, none of contend's. */
int doc_is_exec(json_t *config);

json_t *doc_context(json_t *doc);
size_t doc_nconfigs(json_t *doc);
/* Configuration i, or NULL past the end. */
json_t *doc_config(json_t *doc, size_t i);
#define doc_foreach_config(doc, i, c) \
	json_array_foreach(json_object_get((doc), "configs"), (i), (c))

/* ---- a configuration ---- */

/* status "ok". */
int doc_is_ok(json_t *config);
json_int_t doc_workers(json_t *config);
/* median_wall_s, NaN when there is none. */
double doc_median_wall(json_t *config);
size_t doc_nreps(json_t *config);
/* The wall times of the repetitions with status "ok", in order, at most
 * cap of them; returns how many. */
size_t doc_ok_walls(json_t *config, double *out, size_t cap);

/* ---- series: ONE definition ----
 *
 * A configuration's series is every dimension of it except the worker
 * count: workload, build, pool, then start, inner_threads, lock_model,
 * share, then any other string field not in doc_not_dims, in name order
 * (a dimension a hand-made or imported document adds, such as Google
 * Benchmark's args). Fields that makers of a document add to a
 * configuration and that are not dimensions must not be strings, or must
 * be listed in doc_not_dims.
 *
 * The key text names the series ("causal-forest/release/process
 * start=fork"): fits, the history's series column and plots use it. Two
 * configurations are of one series when their keys are equal AND they
 * ran the same params (results_same_params); doc_same_series says both. */
extern const char *const doc_not_dims[];

/* Field key (of value v) is a series dimension. */
int doc_is_dim(const char *key, json_t *v);

/* exec's own dimensions, its --param and --env values: exec configs
 * (workload "exec") keep them in params (every entry but "command", the
 * command line) and in env (a removed variable is null). They are part
 * of the key, after the others: " NAME=value" for a param, " env.NAME=
 * value" for a variable ("default" when removed), each in name order. */
struct doc_swept {
	const char *name;
	const char *value;	/* "default": an env variable removed */
	int env;
};
#define DOC_SWEPT_MAX 32
/* Config's exec dimensions into out (params, then env); returns how many. */
size_t doc_swept_dims(json_t *config, struct doc_swept *out, size_t cap);

/* "thread pool", or exec's "exec (mode=thread, OPENBLAS_NUM_THREADS=1)"
 * (its params, then its env, as doc_swept_dims): what a note or a
 * diagnosis calls the series of a config, apart from its worker count. */
void doc_series_label(json_t *config, char *buf, size_t len);
/* The dimensions alone, "mode=thread, OPENBLAS_NUM_THREADS=1" ("" when
 * none); returns how many. */
size_t doc_swept_label(json_t *config, char *buf, size_t len);

/* Leave dimensions out of a key: the table's groups hold every pool, the
 * builds-side-by-side note every build. */
enum {
	DOC_KEY_ALL = 0,
	DOC_KEY_NO_POOL = 1,  /* pool and start */
	DOC_KEY_NO_BUILD = 2, /* build and lock_model */
	DOC_KEY_NO_SWEPT = 4, /* exec's params and env (table columns) */
};

/* Returns 0, or -1 (buf "") when workload, build or pool is missing. */
int doc_series_key(json_t *config, unsigned omit, char *buf, size_t len);
int doc_same_series(json_t *a, json_t *b, unsigned omit);

/* ---- derived figures stored when the document is made ---- */

/* The USL fits (summary_document stores them): an array, or NULL. */
json_t *doc_fits(json_t *doc);
/* The fit object of one series key, or NULL. */
json_t *doc_fit(json_t *doc, const char *series);

#endif
