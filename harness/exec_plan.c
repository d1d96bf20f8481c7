/* exec_plan.c - exec's dimensions as a plan, and an entry's command line
 * and environment (see exec_plan.h). */
#include "harness/exec_plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKERS_NAME "workers"

/* --- parsing NAME=V1,V2,... ------------------------------------------- */

static int is_identifier(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

static int check_name(const char *opt, const char *name, size_t n, int env,
		      errbuf *e)
{
	if (n >= EXEC_NAME_MAX)
		return errf(e, "%s: the name '%.*s...' is longer than %d characters",
			    opt, 16, name, EXEC_NAME_MAX - 1);
	if (!is_identifier(name, n))
		return errf(e, "%s: '%.*s' is not a valid %s name (letters, digits "
			    "and '_', not starting with a digit)", opt, (int)n, name,
			    env ? "environment variable" : "parameter");
	if (!env && !strncmp(name, WORKERS_NAME, n) && n == strlen(WORKERS_NAME))
		return errf(e, "--param: 'workers' is --workers' own placeholder");
	if (env && ((n == 15 && !strncmp(name, "CONTEND_WORKERS", n)) ||
		    (n == 20 && !strncmp(name, "CONTEND_LOCKPROF_DIR", n))))
		return errf(e, "--env: contend sets %.*s itself (use --workers)",
			    (int)n, name);
	return 0;
}

/* The next value of list at *at into out (unescaped); 1 when there was
 * one, 0 at the end, -1 on a dangling backslash. */
static int next_value(const char **at, char *out, size_t cap, int *too_long)
{
	const char *s = *at;
	size_t k = 0;
	if (!s)
		return 0;
	for (; *s && *s != ','; s++) {
		if (*s == '\\') {
			if (s[1] != ',' && s[1] != '\\')
				return -1;
			s++;
		}
		if (k + 1 < cap)
			out[k++] = *s;
		else
			*too_long = 1;
	}
	out[k] = 0;
	*at = *s ? s + 1 : NULL;
	return 1;
}

static int add_value(const char *opt, struct exec_dim *d, const char *v,
		     errbuf *e)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->values[i], v))
			return errf(e, "%s %s: the value '%s' is given twice", opt,
				    d->name, v);
	if (d->n >= PLAN_VALUES_MAX)
		return errf(e, "%s %s: more than %d values", opt, d->name,
			    PLAN_VALUES_MAX);
	if (!(d->values[d->n] = strdup(v)))
		return errf(e, "out of memory");
	d->n++;
	return 0;
}

static int parse_values(const char *opt, struct exec_dim *d, const char *list,
			errbuf *e)
{
	char v[4096];
	int too_long = 0, rc;
	while ((rc = next_value(&list, v, sizeof v, &too_long)) == 1) {
		if (too_long)
			return errf(e, "%s %s: a value is longer than %zu bytes", opt,
				    d->name, sizeof v - 1);
		if (add_value(opt, d, v, e))
			return -1;
	}
	if (rc < 0)
		return errf(e, "%s %s: a backslash must be followed by ',' or '\\' "
			    "(write a comma inside a value as '\\,')", opt, d->name);
	return 0;
}

int exec_dims_add(struct exec_dims *d, const char *arg, int env, errbuf *e)
{
	const char *opt = env ? "--env" : "--param";
	const char *eq = strchr(arg, '=');
	struct exec_dim *list = env ? d->env : d->param;
	size_t *n = env ? &d->nenv : &d->nparam;
	if (!eq || eq == arg || !eq[1])
		return errf(e, "%s wants NAME=V1,V2,... (got '%s')", opt, arg);
	if (check_name(opt, arg, (size_t)(eq - arg), env, e))
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (strlen(list[i].name) == (size_t)(eq - arg) &&
		    !strncmp(list[i].name, arg, (size_t)(eq - arg)))
			return errf(e, "%s %s is given twice (give every value in "
				    "one list)", opt, list[i].name);
	if (*n >= EXEC_DIMS_MAX)
		return errf(e, "more than %d %s options", EXEC_DIMS_MAX, opt);
	struct exec_dim *dim = &list[*n];
	memset(dim, 0, sizeof *dim);
	memcpy(dim->name, arg, (size_t)(eq - arg));
	(*n)++;
	return parse_values(opt, dim, eq + 1, e);
}

void exec_dims_free(struct exec_dims *d)
{
	for (size_t i = 0; i < d->nparam; i++)
		for (size_t k = 0; k < d->param[i].n; k++)
			free(d->param[i].values[k]);
	for (size_t i = 0; i < d->nenv; i++)
		for (size_t k = 0; k < d->env[i].n; k++)
			free(d->env[i].values[k]);
	memset(d, 0, sizeof *d);
}

/* --- the plan ----------------------------------------------------------- */

static int add_dims(struct plan *p, const struct exec_dim *list, size_t n,
		    const char *group, enum plan_json as, errbuf *e)
{
	for (size_t i = 0; i < n; i++) {
		int dim = plan_add_dim(p, list[i].name, as, group, NULL, NULL, e);
		if (dim < 0)
			return -1;
		for (size_t k = 0; k < list[i].n; k++)
			if (plan_add_value(p, dim, list[i].values[k], e))
				return -1;
	}
	return 0;
}

int exec_plan_build(const struct exec_dims *d, const int *workers,
		    size_t nworkers, struct plan *p, errbuf *e)
{
	plan_init(p);
	if (add_dims(p, d->param, d->nparam, "params", PLAN_STRING, e) ||
	    add_dims(p, d->env, d->nenv, "env", PLAN_DEFAULT_NULL, e))
		return -1;
	int dim = plan_add_dim(p, WORKERS_NAME, PLAN_INTEGER, NULL, NULL, NULL, e);
	if (dim < 0)
		return -1;
	for (size_t i = 0; i < nworkers; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", workers[i]);
		if (plan_add_value(p, dim, v, e))
			return -1;
	}
	return plan_build(p, e);
}

int exec_entry_workers(const struct plan *p, const struct plan_entry *en)
{
	const char *w = plan_get(p, en, WORKERS_NAME);
	return w ? atoi(w) : 0;
}

/* --- an entry's command line and environment --------------------------- */

/* The value {name} (len bytes at name) stands for in entry en, or NULL. */
static const char *placeholder_value(const struct plan *p,
				     const struct plan_entry *en,
				     const char *name, size_t len)
{
	char key[EXEC_NAME_MAX];
	if (len >= sizeof key)
		return NULL;
	memcpy(key, name, len);
	key[len] = 0;
	if (!strcmp(key, WORKERS_NAME))
		return plan_get(p, en, WORKERS_NAME);
	return plan_get_in(p, en, "params", key);
}

char *exec_substitute(const char *arg, const struct plan *p,
		      const struct plan_entry *en)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	if (!f)
		return NULL;
	for (const char *s = arg; *s;) {
		const char *close = *s == '{' ? strchr(s + 1, '}') : NULL;
		const char *v = close ? placeholder_value(p, en, s + 1,
							   (size_t)(close - s - 1))
				      : NULL;
		if (v) {
			fputs(v, f);
			s = close + 1;
		} else {
			fputc(*s++, f);
		}
	}
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

static int is_var(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(entry, name, n) && entry[n] == '=';
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Whether entry `var` is one the plan sweeps (so the base's is dropped). */
static int swept(const struct plan *p, const char *var)
{
	for (size_t d = 0; d < p->ndims; d++)
		if (p->dim[d].group && !strcmp(p->dim[d].group, "env") &&
		    is_var(var, p->dim[d].name))
			return 1;
	return 0;
}

char **exec_environ(char *const *base, const struct plan *p,
		    const struct plan_entry *en)
{
	size_t n = 0, k = 0;
	while (base[n])
		n++;
	char **v = calloc(n + p->ndims + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		if (!swept(p, base[i]) && !(v[k++] = strdup(base[i])))
			return free_strv(v), NULL;
	for (size_t d = 0; v && d < p->ndims; d++) {
		const struct plan_dim *dim = &p->dim[d];
		const char *val = en->value[d];
		if (!dim->group || strcmp(dim->group, "env") || !val ||
		    !strcmp(val, "default"))
			continue;
		if (asprintf(&v[k++], "%s=%s", dim->name, val) < 0) {
			v[k - 1] = NULL;
			return free_strv(v), NULL;
		}
	}
	return v;
}

/* --- placeholder checks ------------------------------------------------ */

static int is_param(const struct exec_dims *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->nparam; i++)
		if (strlen(d->param[i].name) == len &&
		    !strncmp(d->param[i].name, name, len))
			return 1;
	return 0;
}

/* Calls found(name, len) for every {identifier} of arg; stops at the
 * first for which it returns nonzero, returning that. */
static int each_placeholder(const char *arg, const struct exec_dims *d,
			    int want_known, const char **name, size_t *len)
{
	for (const char *s = strchr(arg, '{'); s; s = strchr(s + 1, '{')) {
		const char *close = strchr(s + 1, '}');
		size_t n = close ? (size_t)(close - s - 1) : 0;
		if (!close || !is_identifier(s + 1, n))
			continue;
		int known = (n == strlen(WORKERS_NAME) &&
			     !strncmp(s + 1, WORKERS_NAME, n)) ||
			    is_param(d, s + 1, n);
		if (known == want_known) {
			*name = s + 1;
			*len = n;
			return 1;
		}
	}
	return 0;
}

int exec_has_placeholder(char *const *argv, int argc, const struct exec_dims *d)
{
	const char *name;
	size_t len;
	for (int i = 0; i < argc; i++)
		if (each_placeholder(argv[i], d, 1, &name, &len))
			return 1;
	return 0;
}

int exec_unknown_placeholder(char *const *argv, int argc,
			     const struct exec_dims *d, char *buf, size_t len)
{
	const char *name;
	size_t n;
	for (int i = 0; i < argc; i++)
		if (each_placeholder(argv[i], d, 0, &name, &n)) {
			snprintf(buf, len, "{%.*s}", (int)n, name);
			return i;
		}
	return -1;
}
