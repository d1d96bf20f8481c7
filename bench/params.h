/* params.h - workload parameters given as `--params key=value,key=value`.
 *
 * Each workload declares its parameters (name, default, help) in a table;
 * parsing fills in defaults, rejects unknown keys, and typed getters check
 * ranges so every workload reports bad values the same way. */
#ifndef CONTEND_PARAMS_H
#define CONTEND_PARAMS_H

#include <stddef.h>

#include "common/err.h"

#define PARAMS_MAX 24
#define PARAM_KEY_MAX 32
#define PARAM_VAL_MAX 128

struct param_spec {
	const char *name;
	const char *defval;
	const char *help;
};

struct params {
	size_t n;
	struct {
		char key[PARAM_KEY_MAX];
		char val[PARAM_VAL_MAX];
	} kv[PARAMS_MAX];
};

/* Fill *out with every spec'd parameter at its default, then apply the
 * overrides in text ("a=1,b=2"; NULL or "" for none). Unknown keys,
 * duplicates and malformed pairs are errors. */
int params_parse(const struct param_spec *spec, const char *text,
		 struct params *out, errbuf *e);

/* The spec entry called name, or NULL. */
const struct param_spec *params_get_spec(const struct param_spec *spec,
					 const char *name);

/* Value of key, or NULL when absent. */
const char *params_get(const struct params *p, const char *key);

/* Typed getters: parse the whole value, check [min, max], name the key in
 * the error. */
int params_long(const struct params *p, const char *key, long min, long max,
		long *out, errbuf *e);
int params_double(const struct params *p, const char *key, double min,
		  double max, double *out, errbuf *e);

/* "a=1,b=2" in spec order (round-trips through params_parse). */
int params_format(const struct params *p, char *buf, size_t len);

#endif
