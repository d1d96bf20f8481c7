/* plan.h - the configurations of a sweep, built once from a table of
 * dimensions (run: build, lock model, share, inner threads, pool, start,
 * workers; exec: its --param and --env names, workers) and enumerated in
 * this one place. The sweep, its progress line and the document's configs
 * all read the same entries.
 *
 * A dimension is a name, its values in the order given, and optionally a
 * rule saying which of them apply once the earlier dimensions of an entry
 * are chosen (the serial pool takes only 1 worker; the lock model applies
 * only to instrumented builds). The first dimension added varies slowest.
 *
 * Execution order: the sweep runs plan_at(p, 0..size-1), which follows
 * p->order, a permutation of the enumeration order (identity after
 * plan_build). To run in another order (e.g. a seeded random interleaving),
 * permute p->order[0..p->n-1] after plan_build and before the sweep runs;
 * plan_entry(p, i) still gives entries in enumeration order. Each entry is
 * one configuration, its repetitions all in one runner process; the sweep
 * interleaves repetitions by visiting each runner once per round, in the
 * order plan_shuffle gives that round (sweep.c). */
#ifndef CONTEND_PLAN_H
#define CONTEND_PLAN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PLAN_DIMS_MAX 32
#define PLAN_VALUES_MAX 64
/* A sweep of more configurations than this is refused before anything
 * runs (at a second each it would take more than a day). */
#define PLAN_CONFIGS_MAX 100000

struct plan;

struct plan_entry {
	size_t index;	/* in enumeration order */
	/* Per dimension, in the order they were added: the value, or NULL
	 * where the dimension does not apply to this entry. */
	const char *value[PLAN_DIMS_MAX];
};

/* Which of a dimension's values apply to entry e (whose earlier
 * dimensions are set): NULL every value; PLAN_NONE none (the dimension
 * does not apply); otherwise the one value the entry takes. */
typedef const char *(*plan_rule_fn)(const struct plan *p,
				    const struct plan_entry *e, void *arg);
extern const char PLAN_NONE[];

/* PLAN_DEFAULT_NULL: a string, except the value "default", written as
 * null (exec's --env: the variable removed). */
enum plan_json { PLAN_STRING = 0, PLAN_INTEGER, PLAN_DEFAULT_NULL };

struct plan_dim {
	const char *name;	/* key in the config object */
	enum plan_json as;	/* how plan_config writes it */
	const char *group;	/* NULL: config[name]; else config[group][name] */
	plan_rule_fn rule;	/* NULL: every value applies */
	void *rule_arg;
	char *values[PLAN_VALUES_MAX];
	size_t n;
};

struct plan {
	struct plan_dim dim[PLAN_DIMS_MAX];
	size_t ndims;
	struct plan_entry *entries; /* enumeration order */
	size_t n;
	size_t *order;		    /* execution order: indices into entries */
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/* Add a dimension; returns its index, or -1 with e set. A dimension with
 * no values does not apply to any entry (the option was not given). */
int plan_add_dim(struct plan *p, const char *name, enum plan_json as,
		 const char *group, plan_rule_fn rule, void *rule_arg,
		 errbuf *e);
int plan_add_value(struct plan *p, int dim, const char *value, errbuf *e);

/* Enumerate every entry: the cartesian product of the dimensions, each
 * narrowed by its rule. */
int plan_build(struct plan *p, errbuf *e);

/* The i-th entry to run (follows p->order) / in enumeration order. */
const struct plan_entry *plan_at(const struct plan *p, size_t i);
const struct plan_entry *plan_entry(const struct plan *p, size_t i);

/* A seeded generator (splitmix64): the same seed, the same orders. */
uint64_t plan_random(uint64_t *state);

/* A seed for a random order when none was given: the clock's nanoseconds
 * mixed with the pid, below 2^63 (a JSON integer). */
uint64_t plan_clock_seed(void);

/* Shuffle p->order[lo..hi-1] in place (Fisher-Yates over plan_random). */
void plan_shuffle(struct plan *p, size_t lo, size_t hi, uint64_t *state);

/* Entry e's value of the dimension named name, or NULL. */
const char *plan_get(const struct plan *p, const struct plan_entry *e,
		     const char *name);

/* Entry e's value of the dimension name in group (NULL: top level), or
 * NULL. */
const char *plan_get_in(const struct plan *p, const struct plan_entry *e,
			const char *group, const char *name);

/* Set entry e's dimensions into config (a JSON object): config[name] or
 * config[group][name], integers as numbers. */
void plan_config(const struct plan *p, const struct plan_entry *e,
		 json_t *config);

#endif
