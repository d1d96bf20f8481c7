/* diagnosis.c - the rule engine: runs the registry's rules over a
 * summarised document and stores what they found as doc["diagnosis"].
 *
 * The engine itself only adds the honest remainder: a configuration that
 * scaled poorly and that no rule explained gets a "none" entry saying
 * what was looked at, and a document with nothing to explain says that. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stats.h"
#include "document/doc.h"

static const char *const cause_names[DC_NCAUSES] = {
	[DC_INTERPRETER_LOCK] = "interpreter-lock",
	[DC_LOCK] = "lock",
	[DC_TRACE_HOOKS] = "trace-hooks",
	[DC_OVERSUBSCRIPTION] = "oversubscription",
	[DC_SHM_GROWTH] = "shm-growth",
	[DC_PAGE_CACHE] = "page-cache",
	[DC_MEMORY_GROWTH] = "memory-growth",
	[DC_MEMORY_PER_WORKER] = "memory-per-worker",
	[DC_STARTUP] = "startup",
	[DC_SERIAL_WORK] = "serial-work",
	[DC_INTERFERENCE] = "interference",
	[DC_NONE] = "none",
};

const char *diag_cause_name(enum diag_cause c)
{
	return c < DC_NCAUSES ? cause_names[c] : "?";
}

enum diag_cause diag_cause_of(const char *name)
{
	for (int c = 0; name && c < DC_NCAUSES; c++)
		if (!strcmp(cause_names[c], name))
			return (enum diag_cause)c;
	return DC_NCAUSES;
}

json_t *diag_add(struct diag_ctx *ctx, enum diag_cause cause, json_t *configs,
		 const char *evidence, const char *advice, const char *module,
		 const char *lock)
{
	json_t *e = json_pack("{s:s, s:o, s:s, s:s}", "cause", diag_cause_name(cause),
			      "configs", configs ? configs : json_array(),
			      "evidence", evidence ? evidence : "",
			      "advice", advice ? advice : "");
	if (!e)
		return NULL;
	json_t *id;
	size_t i;
	json_array_foreach(json_object_get(e, "configs"), i, id) {
		const char *k = json_string_value(id);
		if (k)
			json_object_set_new(ctx->found, k, json_integer(
				doc_int(ctx->found, k, 0) | (1 << cause)));
	}
	if (module)
		json_object_set_new(e, "module", json_string(module));
	if (lock)
		json_object_set_new(e, "lock", json_string(lock));
	json_array_append_new(ctx->entries, e);
	return e;
}

int diag_found(struct diag_ctx *ctx, enum diag_cause cause, const char *id)
{
	json_int_t mask = id ? doc_int(ctx->found, id, 0) : 0;
	return cause == DC_NCAUSES ? mask != 0 : (mask >> cause) & 1;
}

int diag_poor_scaling(struct diag_ctx *ctx, json_t *config)
{
	json_int_t w = doc_workers(config);
	double sp = doc_num(config, "speedup", NAN);
	if (!doc_is_ok(config) || w < 2)
		return 0;
	/* slower than fewer workers that did not yet fill the cores; beyond
	 * them a little loss is what more workers than cores cost, and the
	 * table's slower note says so (the speedup test below still catches
	 * a large one) */
	json_t *slower = json_object_get(config, "slower");
	if (json_is_object(slower) && doc_int(slower, "than_workers", 0) < ctx->cores)
		return 1;
	double could = (double)(w < ctx->cores ? w : ctx->cores);
	return isfinite(sp) && could > 1 && sp < 1 + (could - 1) / 2;
}

int diag_timing_to_explain(struct diag_ctx *ctx, json_t *config)
{
	return diag_poor_scaling(ctx, config) &&
	       !diag_found(ctx, DC_INTERFERENCE, doc_str(config, "id", ""));
}

json_t *diag_baseline(struct diag_ctx *ctx, json_t *config)
{
	const char *id = doc_str(config, "baseline", NULL);
	return id ? json_object_get(ctx->by_id, id) : NULL;
}

json_t *diag_median_rep(json_t *config, const char *path)
{
	json_t *reps = json_object_get(config, "reps"), *r, *best = NULL;
	size_t i, n = 0, below;
	double med;
	double *x = calloc(json_array_size(reps) + 1, sizeof *x);
	if (!x)
		return NULL;
	json_array_foreach(reps, i, r)
		if (!strcmp(doc_str(r, "status", "ok"), "ok") &&
		    isfinite(doc_figure(r, path, NAN)))
			x[n++] = doc_figure(r, path, NAN);
	if (!n) {
		free(x);
		return NULL;
	}
	/* the upper median: a figure one repetition really had (of two, the
	 * larger: the smaller is the one a loaded machine more likely spoilt
	 * by keeping the workers apart) */
	for (i = 1; i < n; i++)
		for (size_t j = i; j > 0 && x[j - 1] > x[j]; j--) {
			double t = x[j];
			x[j] = x[j - 1];
			x[j - 1] = t;
		}
	med = x[n / 2];
	free(x);
	below = 0;
	json_array_foreach(reps, i, r)
		if (!strcmp(doc_str(r, "status", "ok"), "ok") &&
		    doc_figure(r, path, NAN) == med && !below++)
			best = r;
	return best;
}

void diag_fmt_bytes(double b, char *buf, size_t len)
{
	double a = fabs(b);
	if (!isfinite(b))
		snprintf(buf, len, "n/a");
	else if (a >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else if (a >= 1024.0 * 1024)
		snprintf(buf, len, "%.1f MiB", b / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.0f KiB", b / 1024.0);
}

void diag_config_label(json_t *config, char *buf, size_t len)
{
	char series[512];
	json_int_t w = doc_workers(config);
	doc_series_label(config, series, sizeof series);
	snprintf(buf, len, "%s at %lld worker%s", series, (long long)w,
		 w == 1 ? "" : "s");
}

void diag_evidence_from(json_t *entry, json_t *config)
{
	const char *id = doc_str(config, "id", NULL);
	if (entry && id)
		json_object_set_new(entry, "evidence_config", json_string(id));
}

void diag_scaling_words(json_t *config, char *buf, size_t len)
{
	double sp = doc_num(config, "speedup", NAN);
	json_t *slower = json_object_get(config, "slower");
	if (isfinite(sp))
		snprintf(buf, len, "ran %.2fx as fast as 1 worker", sp);
	else if (json_is_object(slower))
		snprintf(buf, len, "was %.2fx slower than at %lld workers; no "
			 "1-worker run to compare with", doc_num(slower, "ratio", NAN),
			 (long long)doc_int(slower, "than_workers", 0));
	else
		snprintf(buf, len, "had no 1-worker run to compare with");
}

/* "lock waits, threads against cores, ..." of every rule. */
static void looked_at(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t k = 0; diag_rules[k] && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 k ? ", " : "", diag_rules[k]->looked_at);
}

/* a scaled worse than b: the lower speedup; one without a speedup (no
 * 1-worker run) only where b has none either. */
static int worse(json_t *a, json_t *b)
{
	double x = doc_num(a, "speedup", NAN), y = doc_num(b, "speedup", NAN);
	return isfinite(x) ? !isfinite(y) || x < y : 0;
}

/* Poor configurations nothing explained: one "none" entry for them all,
 * with the figures of the one that scaled worst. */
static void unexplained(struct diag_ctx *ctx, const char *what)
{
	json_t *c, *worst = NULL, *ids = json_array();
	size_t i;
	char ev[2048], label[600];
	doc_foreach_config(ctx->doc, i, c) {
		const char *id = doc_str(c, "id", "");
		if (!diag_timing_to_explain(ctx, c) || diag_found(ctx, DC_NCAUSES, id))
			continue;
		json_array_append_new(ids, json_string(id));
		if (!worst || worse(c, worst))
			worst = c;
	}
	if (!worst) {
		json_decref(ids);
		return;
	}
	char how[160];
	diag_config_label(worst, label, sizeof label);
	diag_scaling_words(worst, how, sizeof how);
	snprintf(ev, sizeof ev, "no cause found: %s %s%s; looked at %s", label,
		 how, json_array_size(ids) > 1 ? " (the worst of those that "
						 "scaled poorly)" : "", what);
	diag_evidence_from(diag_add(ctx, DC_NONE, ids, ev,
		 "measure with more repetitions, or look for what contend does "
		 "not see (I/O, a queue, a lock taken through a futex or "
		 "semaphore)", NULL, NULL), worst);
}

/* Nothing found and nothing to explain: say what was looked at. */
static void nothing_found(struct diag_ctx *ctx, const char *what)
{
	json_t *c, *best = NULL;
	size_t i;
	char ev[2048], label[600];
	if (json_array_size(ctx->entries))
		return;
	doc_foreach_config(ctx->doc, i, c)
		if (doc_is_ok(c) && doc_workers(c) > 1 &&
		    isfinite(doc_num(c, "speedup", NAN)) &&
		    (!best || doc_num(c, "speedup", NAN) > doc_num(best, "speedup", NAN)))
			best = c;
	if (best) {
		diag_config_label(best, label, sizeof label);
		snprintf(ev, sizeof ev, "no cause found: every configuration of more "
			 "than one worker scaled (best %.2fx, %s); looked at %s",
			 doc_num(best, "speedup", NAN), label, what);
	} else
		snprintf(ev, sizeof ev, "no cause found: no configuration of more "
			 "than one worker to compare with 1; looked at %s", what);
	diag_add(ctx, DC_NONE, NULL, ev, "", NULL, NULL);
}

static json_t *compute(json_t *doc, int scan)
{
	if (!json_is_object(doc))
		return NULL;
	json_int_t cores = doc_int(doc_context(doc), "logical_cores", 1);
	struct diag_ctx ctx = {doc, json_array(), cores >= 1 ? (int)cores : 1, scan,
			       json_object(), json_object()};
	json_t *c;
	size_t i;
	char what[768];
	if (!ctx.entries || !ctx.by_id || !ctx.found) {
		json_decref(ctx.entries);
		json_decref(ctx.by_id);
		json_decref(ctx.found);
		return NULL;
	}
	doc_foreach_config(doc, i, c)
		if (doc_str(c, "id", NULL))
			json_object_set(ctx.by_id, doc_str(c, "id", ""), c);
	for (size_t k = 0; diag_rules[k]; k++)
		diag_rules[k]->run(&ctx);
	looked_at(what, sizeof what);
	unexplained(&ctx, what);
	nothing_found(&ctx, what);
	json_decref(ctx.by_id);
	json_decref(ctx.found);
	json_object_set_new(doc, "diagnosis", ctx.entries);
	return ctx.entries;
}

json_t *diagnosis_document(json_t *doc)
{
	return compute(doc, 1);
}

json_t *diagnosis_of(json_t *doc)
{
	json_t *d = json_object_get(doc, "diagnosis");
	if (json_is_array(d) || !json_is_object(doc))
		return json_is_array(d) ? d : NULL;
	return compute(doc, 0);
}

json_t *diagnosis_index(json_t *doc)
{
	json_t *index = json_object(), *e, *id;
	size_t i, k;
	if (!index)
		return NULL;
	json_object_set_new(index, "", json_array());
	json_array_foreach(diagnosis_of(doc), i, e) {
		if (!json_array_size(json_object_get(e, "configs")))
			json_array_append(json_object_get(index, ""), e);
		json_array_foreach(json_object_get(e, "configs"), k, id) {
			const char *key = json_string_value(id);
			if (!key || !*key)
				continue;
			if (!json_object_get(index, key))
				json_object_set_new(index, key, json_array());
			json_array_append(json_object_get(index, key), e);
		}
	}
	return index;
}
