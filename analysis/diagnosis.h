/* diagnosis.h - the probes' evidence turned into named causes.
 *
 * A registry of rules (analysis/diag_*.c, listed in diag_registry.c) reads
 * a summarised results document and appends entries to its `diagnosis`
 * array: { cause, configs, evidence, advice, module?, lock? }. It is
 * computed once when the document is made (run's and exec's save, beside
 * the summary and fits) and read back by every renderer, never recomputed
 * there: a stored diagnosis is what the user saw, whatever a later contend
 * would conclude. When nothing explains what was measured the diagnosis
 * says so (cause "none", "no cause found: ..."), never a guess.
 *
 * Adding a rule: one file analysis/diag_<family>.c defining a const
 * struct diag_rule, and one line in diag_registry.c. */
#ifndef CONTEND_DIAGNOSIS_H
#define CONTEND_DIAGNOSIS_H

#include <jansson.h>
#include <stddef.h>

/* Stable names (the `cause` field), in the order renderers list them. */
enum diag_cause {
	DC_INTERPRETER_LOCK,	/* "interpreter-lock" */
	DC_LOCK,		/* "lock" */
	DC_TRACE_HOOKS,		/* "trace-hooks" */
	DC_OVERSUBSCRIPTION,	/* "oversubscription" */
	DC_SHM_GROWTH,		/* "shm-growth" */
	DC_PAGE_CACHE,		/* "page-cache" */
	DC_MEMORY_GROWTH,	/* "memory-growth" */
	DC_MEMORY_PER_WORKER,	/* "memory-per-worker" */
	DC_STARTUP,		/* "startup" */
	DC_SERIAL_WORK,		/* "serial-work" */
	DC_INTERFERENCE,	/* "interference": other load on the machine */
	DC_NONE,		/* "none": no cause found */
	DC_NCAUSES
};

const char *diag_cause_name(enum diag_cause c);
/* The cause of a name, or DC_NCAUSES when it is none of them. */
enum diag_cause diag_cause_of(const char *name);

/* What a rule sees and appends to. */
struct diag_ctx {
	json_t *doc;	  /* the summarised document (borrowed) */
	json_t *entries;  /* the diagnosis being built (borrowed) */
	int cores;	  /* context.logical_cores, >= 1 */
	int scan;	  /* rules may read files named in the document (the
			   * hook scan of a module); off for documents of
			   * unknown origin rendered after the fact */
	json_t *by_id;	  /* config id -> config, made once: every lookup is
			   * constant time, so 33k configurations stay fast */
	json_t *found;	  /* config id -> bit mask of the causes found */
};

/* A rule: one cause family. run() appends the entries its evidence
 * supports (none is fine) and returns how many. Rules run in registry
 * order, so a later rule can see what earlier ones found (serial-work
 * only speaks for configurations nothing more specific explained). */
struct diag_rule {
	const char *name;	/* the family, for docs and tests */
	const char *looked_at;	/* what it examines, for "no cause found" */
	int (*run)(struct diag_ctx *ctx);
};

/* The registry (diag_registry.c), NULL-terminated. */
extern const struct diag_rule *const diag_rules[];

/* ---- for rules ---- */

/* Append an entry. configs: an array of config ids (stolen; NULL: []);
 * module and lock may be NULL. Returns the entry (borrowed) for any
 * further fields, or NULL on no memory. */
json_t *diag_add(struct diag_ctx *ctx, enum diag_cause cause, json_t *configs,
		 const char *evidence, const char *advice, const char *module,
		 const char *lock);

/* The entry's evidence gives the figures of config (one of its configs,
 * the worst): recorded as `evidence_config`, so a renderer that shows the
 * entry beside other configurations can say whose figures they are. */
void diag_evidence_from(json_t *entry, json_t *config);

/* An entry of ctx for cause concerns config id (cause DC_NCAUSES: an
 * entry of any cause). */
int diag_found(struct diag_ctx *ctx, enum diag_cause cause, const char *id);

/* A configuration that gained less than half of what its extra cores
 * could give (speedup < 1 + (min(workers, cores) - 1) / 2), or that was
 * flagged slower than fewer workers: one worth explaining. Only ok
 * configurations of more than one worker. */
int diag_poor_scaling(struct diag_ctx *ctx, json_t *config);

/* Poor scaling that only the timing can speak for (serial work, start-up,
 * "no cause found"): not when the interference rule, run first, named the
 * configuration; what a busy machine did is not the code's. Rules with
 * evidence of their own (lock waits, thread counts) still speak. */
int diag_timing_to_explain(struct diag_ctx *ctx, json_t *config);

/* The 1-worker configuration of config's series (its baseline), or NULL. */
json_t *diag_baseline(struct diag_ctx *ctx, json_t *config);

/* The ok repetition whose figure at a dotted path is the (upper) median
 * of the repetitions that have it, or NULL. */
json_t *diag_median_rep(json_t *config, const char *path);

/* "2.50 GiB", "128.0 MiB", "512 KiB" into buf. */
void diag_fmt_bytes(double b, char *buf, size_t len);

/* "thread pool at 2 workers", or for exec's --param/--env dimensions
 * "exec (mode=thread, OPENBLAS_NUM_THREADS=1) at 2 workers": how an
 * entry names a configuration (doc_series_label and its workers). */
void diag_config_label(json_t *config, char *buf, size_t len);
/* How config scaled, after its label: "ran 0.55x as fast as 1 worker",
 * or without a 1-worker run, "was 1.31x slower than at 2 workers; no
 * 1-worker run to compare with" (its slower flag), else "had no 1-worker
 * run to compare with". */
void diag_scaling_words(json_t *config, char *buf, size_t len);

/* ---- the document ---- */

/* Compute the diagnosis of a summarised document and store it as
 * doc["diagnosis"] (replacing any), reading modules named in it for
 * their hooks. Returns it (borrowed), or NULL when doc is not an object. */
json_t *diagnosis_document(json_t *doc);

/* The diagnosis stored in doc (borrowed). A document made without one
 * (an older contend, by hand) gets it computed and stored here, once,
 * without reading files the document names. NULL when doc is not an
 * object. Renderers read it through this. */
json_t *diagnosis_of(json_t *doc);

/* The diagnosis by configuration, made once by a renderer: a new object
 * mapping each config id to the array of its entries, in order, and ""
 * to the entries about the document as a whole. NULL on no memory. */
json_t *diagnosis_index(json_t *doc);

#endif
