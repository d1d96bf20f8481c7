/* validate.c - see validate.h. */
#include "document/validate.h"

#include <math.h>
#include <string.h>

/* A time in seconds: finite and >= 0; > 0 when `positive`. Absent or
 * null is fine (a figure that could not be computed). */
static int check_time(json_t *o, const char *key, int positive,
		      const char *where, errbuf *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return errf(e, "%s: '%s' is not a number", where, key);
	double t = json_number_value(v);
	if (!isfinite(t) || t < 0 || (positive && t == 0))
		return errf(e, "%s: '%s' is %g: a time must be a %s finite "
			    "number of seconds", where, key, t,
			    positive ? "positive" : "non-negative");
	return 0;
}

static int check_rep(json_t *rep, const char *where, errbuf *e)
{
	const char *st = json_string_value(json_object_get(rep, "status"));
	/* a failed repetition may record 0 s: it never really ran */
	int ok = st && !strcmp(st, "ok");
	return check_time(rep, "wall_s", ok, where, e) ||
	       check_time(rep, "cpu_s", 0, where, e);
}

static int check_config(json_t *c, size_t i, errbuf *e)
{
	static const char *const times[] = {"median_wall_s", "min_wall_s",
					    "max_wall_s", "ci_low_s",
					    "ci_high_s", "median_cpu_s",
					    "setup_s"};
	char where[64];
	snprintf(where, sizeof where, "configs[%zu]", i);
	json_int_t w = json_integer_value(json_object_get(c, "workers"));
	if (w < 1)
		return errf(e, "%s: 'workers' is %lld: a worker count is at "
			    "least 1", where, (long long)w);
	for (size_t k = 0; k < sizeof times / sizeof times[0]; k++)
		if (check_time(c, times[k], 0, where, e))
			return -1;
	json_t *rep;
	size_t k;
	json_array_foreach(json_object_get(c, "reps"), k, rep) {
		char rw[96];
		snprintf(rw, sizeof rw, "%s.reps[%zu]", where, k);
		if (check_rep(rep, rw, e))
			return -1;
	}
	return 0;
}

int validate_values(json_t *doc, errbuf *e)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (check_config(c, i, e))
			return -1;
	return 0;
}
