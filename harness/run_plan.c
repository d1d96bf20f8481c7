/* run_plan.c - the dimensions of `contend run`, as one table.
 *
 * Adding a dimension is one row here (its name in the configs, its values
 * from the options, which entries it applies to) plus its own code where it
 * takes effect (in the runner, or in the sweep before the runner starts).
 * Rows run slowest first: builds outermost, worker counts innermost. */
#include "harness/run_plan.h"

#include <stdio.h>
#include <string.h>

#include "pools/pool.h"

static int names(struct plan *p, int dim, const char (*list)[32], size_t n,
		 errbuf *e)
{
	for (size_t i = 0; i < n; i++)
		if (plan_add_value(p, dim, list[i], e))
			return -1;
	return 0;
}

static int builds(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return names(p, d, o->builds, o->nbuilds, e);
}
static int lock_models(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return names(p, d, o->lock_models, o->nlock_models, e);
}
static int shares(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return names(p, d, o->share, o->nshare, e);
}
static int inners(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return names(p, d, o->inner, o->ninner, e);
}
static int pools(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return names(p, d, o->pools, o->npools, e);
}
static int starts(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	return plan_add_value(p, d, o->start ? o->start : "fork", e);
}
static int workers(const struct sweep_opts *o, struct plan *p, int d, errbuf *e)
{
	for (size_t i = 0; i < o->nworkers; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", o->workers[i]);
		if (plan_add_value(p, d, v, e))
			return -1;
	}
	return 0;
}

/* The lock model only exists where hooks take it: instrumented builds. */
static const char *traced_only(const struct plan *p, const struct plan_entry *e,
			       void *arg)
{
	(void)arg;
	const char *b = plan_get(p, e, "build");
	return b && strcmp(b, "release") ? NULL : PLAN_NONE;
}

static const struct pool_ops *pool_of(const struct plan *p,
				      const struct plan_entry *e)
{
	return pool_find(plan_get(p, e, "pool"));
}

static const char *with_start(const struct plan *p, const struct plan_entry *e,
			      void *arg)
{
	(void)arg;
	const struct pool_ops *pl = pool_of(p, e);
	return pl && pl->has_start ? NULL : PLAN_NONE;
}

static const char *worker_counts(const struct plan *p,
				 const struct plan_entry *e, void *arg)
{
	(void)arg;
	const struct pool_ops *pl = pool_of(p, e);
	return pl && pl->single_worker ? "1" : NULL;
}

static const struct run_dim {
	const char *name;
	enum plan_json as;
	plan_rule_fn rule;
	int (*values)(const struct sweep_opts *o, struct plan *p, int dim,
		      errbuf *e);
} run_dims[] = {
	{"build", PLAN_STRING, NULL, builds},
	{"lock_model", PLAN_STRING, traced_only, lock_models},
	{"share", PLAN_STRING, NULL, shares},
	{"inner_threads", PLAN_STRING, NULL, inners},
	{"pool", PLAN_STRING, NULL, pools},
	{"start", PLAN_STRING, with_start, starts},
	{"workers", PLAN_INTEGER, worker_counts, workers},
};

int run_plan_build(const struct sweep_opts *o, struct plan *p, errbuf *e)
{
	plan_init(p);
	for (size_t i = 0; i < sizeof run_dims / sizeof run_dims[0]; i++) {
		const struct run_dim *r = &run_dims[i];
		int d = plan_add_dim(p, r->name, r->as, NULL, r->rule, NULL, e);
		if (d < 0 || r->values(o, p, d, e))
			return -1;
	}
	return plan_build(p, e);
}
