/* rusage.c - context switches from getrusage (RUSAGE_SELF + RUSAGE_CHILDREN
 * deltas) for every repetition: threads count through SELF, worker
 * processes through CHILDREN once they have been waited for. */
#include "probes/rusage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rusage_state {
	struct rusage self, children;
};

static const char *const fields[] = {"voluntary_csw", "involuntary_csw",
				     "minor_faults", "major_faults"};
#define NFIELDS (sizeof fields / sizeof *fields)

void rusage_diff(const struct rusage *s0, const struct rusage *c0,
		 const struct rusage *s1, const struct rusage *c1,
		 struct rusage_delta *d)
{
	d->voluntary_csw = (s1->ru_nvcsw - s0->ru_nvcsw) +
			   (c1->ru_nvcsw - c0->ru_nvcsw);
	d->involuntary_csw = (s1->ru_nivcsw - s0->ru_nivcsw) +
			     (c1->ru_nivcsw - c0->ru_nivcsw);
	d->minor_faults = (s1->ru_minflt - s0->ru_minflt) +
			  (c1->ru_minflt - c0->ru_minflt);
	d->major_faults = (s1->ru_majflt - s0->ru_majflt) +
			  (c1->ru_majflt - c0->ru_majflt);
}

static int snapshot(struct rusage *self, struct rusage *children, errbuf *e)
{
	if (getrusage(RUSAGE_SELF, self) < 0 ||
	    getrusage(RUSAGE_CHILDREN, children) < 0)
		return errf(e, "getrusage failed: %s", strerror(errno));
	return 0;
}

static int rusage_start(const struct probe_config *c, void **state, errbuf *e)
{
	(void)c;
	struct rusage_state *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "out of memory for the rusage probe");
	if (snapshot(&s->self, &s->children, e) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int rusage_stop(void *state, json_t *rep, errbuf *e)
{
	struct rusage_state *s = state;
	struct rusage self, children;
	struct rusage_delta d;
	if (snapshot(&self, &children, e) < 0)
		return -1;
	rusage_diff(&s->self, &s->children, &self, &children, &d);
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", fields[0],
			      (json_int_t)d.voluntary_csw, fields[1],
			      (json_int_t)d.involuntary_csw, fields[2],
			      (json_int_t)d.minor_faults, fields[3],
			      (json_int_t)d.major_faults);
	if (!o || json_object_set_new(rep, "rusage", o) < 0)
		return errf(e, "out of memory writing rusage");
	return 0;
}

static void rusage_release(void *state)
{
	free(state);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static json_t *median_json(double *x, size_t n)
{
	qsort(x, n, sizeof *x, cmp_double);
	double m = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
	return m == (double)(json_int_t)m ? json_integer((json_int_t)m)
					  : json_real(m);
}

/* Median of one field over the reps that have it; NULL when none has. */
static int field_median(json_t *reps, const char *f, json_t **out, errbuf *e)
{
	size_t i, n = 0;
	json_t *rep;
	double *x = calloc(json_array_size(reps) + 1, sizeof *x);
	*out = NULL;
	if (!x)
		return errf(e, "out of memory");
	json_array_foreach(reps, i, rep) {
		json_t *r = json_object_get(rep, "rusage");
		json_t *v = json_object_get(r, f);
		if (r && !json_is_object(r)) {
			free(x);
			return errf(e, "rusage: reps[%zu].rusage is not an object", i);
		}
		if (v && !json_is_number(v)) {
			free(x);
			return errf(e, "rusage: reps[%zu].rusage.%s is not a number",
				    i, f);
		}
		if (v)
			x[n++] = json_number_value(v);
	}
	if (n)
		*out = median_json(x, n);
	free(x);
	return 0;
}

static int rusage_summarise(json_t *config, errbuf *e)
{
	json_t *reps = json_object_get(config, "reps");
	if (!json_is_array(reps))
		return errf(e, "rusage: configuration has no \"reps\" array");
	json_t *out = NULL;
	for (size_t k = 0; k < NFIELDS; k++) {
		json_t *m;
		if (field_median(reps, fields[k], &m, e) < 0) {
			json_decref(out);
			return -1;
		}
		if (m && !out)
			out = json_object();
		if (m)
			json_object_set_new(out, fields[k], m);
	}
	if (out && json_object_set_new(config, "rusage", out) < 0)
		return errf(e, "out of memory");
	return 0;
}

const struct probe_ops probe_rusage = {
	.name = "rusage",
	.start = rusage_start,
	.stop = rusage_stop,
	.release = rusage_release,
	.summarise = rusage_summarise,
};
