/* plan.c - a sweep's configurations, enumerated once (see plan.h). */
#include "harness/plan.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char PLAN_NONE[] = "";

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof *p);
}

void plan_free(struct plan *p)
{
	for (size_t d = 0; d < p->ndims; d++)
		for (size_t i = 0; i < p->dim[d].n; i++)
			free(p->dim[d].values[i]);
	free(p->entries);
	free(p->order);
	plan_init(p);
}

int plan_add_dim(struct plan *p, const char *name, enum plan_json as,
		 const char *group, plan_rule_fn rule, void *rule_arg,
		 errbuf *e)
{
	if (p->ndims >= PLAN_DIMS_MAX)
		return errf(e, "more than %d dimensions", PLAN_DIMS_MAX);
	for (size_t d = 0; d < p->ndims; d++)
		if (!strcmp(p->dim[d].name, name) &&
		    (p->dim[d].group == group ||
		     (group && p->dim[d].group && !strcmp(p->dim[d].group, group))))
			return errf(e, "%s is given twice", name);
	p->dim[p->ndims] = (struct plan_dim){.name = name, .as = as,
					     .group = group, .rule = rule,
					     .rule_arg = rule_arg};
	return (int)p->ndims++;
}

int plan_add_value(struct plan *p, int dim, const char *value, errbuf *e)
{
	struct plan_dim *d = &p->dim[dim];
	if (d->n >= PLAN_VALUES_MAX)
		return errf(e, "%s: more than %d values", d->name, PLAN_VALUES_MAX);
	if (!(d->values[d->n] = strdup(value)))
		return errf(e, "out of memory");
	d->n++;
	return 0;
}

/* Append every completion of `partial` from dimension d on; with `out`
 * NULL only count them. */
static size_t expand(struct plan *p, size_t d, struct plan_entry *partial,
		     struct plan_entry *out, size_t at, size_t limit)
{
	if (d == p->ndims) {
		if (out) {
			out[at] = *partial;
			out[at].index = at;
		}
		return 1;
	}
	const struct plan_dim *dim = &p->dim[d];
	const char *only = dim->rule ? dim->rule(p, partial, dim->rule_arg) : NULL;
	size_t n = 0;
	if (!dim->n || only == PLAN_NONE) {
		partial->value[d] = NULL;
		return expand(p, d + 1, partial, out, at, limit);
	}
	if (only) {
		partial->value[d] = only;
		return expand(p, d + 1, partial, out, at, limit);
	}
	for (size_t i = 0; i < dim->n && n <= limit; i++) {
		partial->value[d] = dim->values[i];
		n += expand(p, d + 1, partial, out, at + n, limit);
	}
	return n;
}

int plan_build(struct plan *p, errbuf *e)
{
	struct plan_entry partial = {0};
	/* counted up to the cap only: 17 lists of 64 values would otherwise
	 * be counted for ever */
	size_t n = expand(p, 0, &partial, NULL, 0, PLAN_CONFIGS_MAX);
	if (n > PLAN_CONFIGS_MAX)
		return errf(e, "more than %d configurations (the product of the "
			    "lists given); give fewer values", PLAN_CONFIGS_MAX);
	free(p->entries);
	free(p->order);
	p->entries = calloc(n ? n : 1, sizeof *p->entries);
	p->order = calloc(n ? n : 1, sizeof *p->order);
	if (!p->entries || !p->order)
		return errf(e, "out of memory for a plan of %zu configurations", n);
	memset(&partial, 0, sizeof partial);
	p->n = expand(p, 0, &partial, p->entries, 0, SIZE_MAX);
	for (size_t i = 0; i < p->n; i++)
		p->order[i] = i;
	return 0;
}

const struct plan_entry *plan_at(const struct plan *p, size_t i)
{
	return i < p->n ? &p->entries[p->order[i]] : NULL;
}

const struct plan_entry *plan_entry(const struct plan *p, size_t i)
{
	return i < p->n ? &p->entries[i] : NULL;
}

const char *plan_get_in(const struct plan *p, const struct plan_entry *e,
			const char *group, const char *name)
{
	for (size_t d = 0; d < p->ndims; d++) {
		const char *g = p->dim[d].group;
		if ((group ? g && !strcmp(g, group) : !g) &&
		    !strcmp(p->dim[d].name, name))
			return e->value[d];
	}
	return NULL;
}

const char *plan_get(const struct plan *p, const struct plan_entry *e,
		     const char *name)
{
	return plan_get_in(p, e, NULL, name);
}

static json_t *value_json(enum plan_json as, const char *v)
{
	if (as == PLAN_INTEGER)
		return json_integer(strtoll(v, NULL, 10));
	if (as == PLAN_DEFAULT_NULL && !strcmp(v, "default"))
		return json_null();
	return json_string(v);
}

void plan_config(const struct plan *p, const struct plan_entry *e,
		 json_t *config)
{
	for (size_t d = 0; d < p->ndims; d++) {
		const struct plan_dim *dim = &p->dim[d];
		const char *v = e->value[d];
		if (!v)
			continue;
		json_t *to = config;
		if (dim->group) {
			to = json_object_get(config, dim->group);
			if (!json_is_object(to)) {
				to = json_object();
				json_object_set_new(config, dim->group, to);
			}
		}
		json_object_set_new(to, dim->name, value_json(dim->as, v));
	}
}

uint64_t plan_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t plan_clock_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t st = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		      ((uint64_t)getpid() << 40);
	return plan_random(&st) >> 1;
}

void plan_shuffle(struct plan *p, size_t lo, size_t hi, uint64_t *state)
{
	if (hi > p->n)
		hi = p->n;
	for (size_t i = hi; i > lo + 1; i--) {
		size_t j = lo + (size_t)(plan_random(state) % (i - lo));
		size_t t = p->order[i - 1];
		p->order[i - 1] = p->order[j];
		p->order[j] = t;
	}
}
