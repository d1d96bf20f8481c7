/* params.c - `--params key=value,...` parsing against a workload's table.
 *
 * Defaults come first so a document always records every parameter's
 * effective value, not just the ones the user typed. */
#include "bench/params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const struct params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->kv[i].key, key))
			return (int)i;
	return -1;
}

const struct param_spec *params_get_spec(const struct param_spec *spec,
					 const char *name)
{
	for (; spec && spec->name; spec++)
		if (!strcmp(spec->name, name))
			return spec;
	return NULL;
}

static int known(const struct param_spec *spec, const char *key)
{
	return params_get_spec(spec, key) != NULL;
}

static int set(struct params *p, const char *key, const char *val, errbuf *e)
{
	if (strlen(key) >= PARAM_KEY_MAX)
		return errf(e, "parameter name '%.40s...' is too long", key);
	if (strlen(val) >= PARAM_VAL_MAX)
		return errf(e, "value of parameter '%s' is too long", key);
	int i = find(p, key);
	if (i < 0) {
		if (p->n == PARAMS_MAX)
			return errf(e, "too many parameters");
		i = (int)p->n++;
		snprintf(p->kv[i].key, PARAM_KEY_MAX, "%s", key);
	}
	snprintf(p->kv[i].val, PARAM_VAL_MAX, "%s", val);
	return 0;
}

static int apply_pair(const struct param_spec *spec, char *pair,
		      struct params *out, unsigned long long *seen, errbuf *e)
{
	char *eq = strchr(pair, '=');
	if (!eq || eq == pair)
		return errf(e, "bad parameter '%s': expected key=value", pair);
	*eq = 0;
	const char *key = pair, *val = eq + 1;
	if (!known(spec, key))
		return errf(e, "unknown parameter '%s' (see 'contend list')", key);
	if (!*val)
		return errf(e, "parameter '%s' has an empty value", key);
	int before = find(out, key);
	if (before >= 0 && (*seen >> before & 1))
		return errf(e, "parameter '%s' given twice", key);
	if (set(out, key, val, e))
		return -1;
	*seen |= 1ULL << find(out, key);
	return 0;
}

int params_parse(const struct param_spec *spec, const char *text,
		 struct params *out, errbuf *e)
{
	memset(out, 0, sizeof *out);
	for (const struct param_spec *s = spec; s && s->name; s++)
		if (set(out, s->name, s->defval ? s->defval : "", e))
			return -1;
	if (!text || !*text)
		return 0;
	char *copy = strdup(text);
	if (!copy)
		return errf(e, "out of memory");
	unsigned long long seen = 0;
	int rc = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok && !rc;
	     tok = strtok_r(NULL, ",", &save))
		rc = apply_pair(spec, tok, out, &seen, e);
	free(copy);
	return rc;
}

const char *params_get(const struct params *p, const char *key)
{
	int i = find(p, key);
	return i < 0 ? NULL : p->kv[i].val;
}

int params_long(const struct params *p, const char *key, long min, long max,
		long *out, errbuf *e)
{
	const char *v = params_get(p, key);
	if (!v)
		return errf(e, "missing parameter '%s'", key);
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end)
		return errf(e, "parameter %s=%s is not a whole number", key, v);
	if (x < min || x > max)
		return errf(e, "parameter %s=%ld is out of range [%ld, %ld]",
			    key, x, min, max);
	*out = x;
	return 0;
}

int params_double(const struct params *p, const char *key, double min,
		  double max, double *out, errbuf *e)
{
	const char *v = params_get(p, key);
	if (!v)
		return errf(e, "missing parameter '%s'", key);
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x))
		return errf(e, "parameter %s=%s is not a number", key, v);
	if (x < min || x > max)
		return errf(e, "parameter %s=%g is out of range [%g, %g]", key,
			    x, min, max);
	*out = x;
	return 0;
}

int params_format(const struct params *p, char *buf, size_t len)
{
	size_t used = 0;
	if (len)
		buf[0] = 0;
	for (size_t i = 0; i < p->n; i++) {
		int k = snprintf(buf + used, len - used, "%s%s=%s",
				 i ? "," : "", p->kv[i].key, p->kv[i].val);
		if (k < 0 || (size_t)k >= len - used)
			return -1;
		used += (size_t)k;
	}
	return 0;
}
