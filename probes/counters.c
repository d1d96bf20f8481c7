/* counters.c - the counters probe: picks a backend per counter (PAPI or
 * perf_event_open), counts the runner and every worker it creates, and
 * writes figures or reasons into the results; summarise takes medians. */
#include "probes/counters.h"

#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HWC(id) PERF_TYPE_HARDWARE, PERF_COUNT_HW_##id, "PERF_COUNT_HW_" #id
#define SWC(id) PERF_TYPE_SOFTWARE, PERF_COUNT_SW_##id, "PERF_COUNT_SW_" #id
#define CACHE(c, op, res)                                                   \
	PERF_TYPE_HW_CACHE,                                                 \
		(PERF_COUNT_HW_CACHE_##c | (PERF_COUNT_HW_CACHE_OP_##op << 8) | \
		 (PERF_COUNT_HW_CACHE_RESULT_##res << 16)),                    \
		"PERF_COUNT_HW_CACHE_" #c ":" #op ":" #res

/* The perf fallbacks for the PAPI cache presets are near, not identical:
 * perf's generic L1D/LL events count read misses only; "event" in the
 * JSON says which one was counted. */
const struct counter_def counter_defs[CTR_COUNT] = {
	[CTR_CYCLES] = {"cycles", "events", 1, "PAPI_TOT_CYC", 1, HWC(CPU_CYCLES), NULL},
	[CTR_INSTRUCTIONS] = {"instructions", "events", 1, "PAPI_TOT_INS", 1,
			      HWC(INSTRUCTIONS), NULL},
	[CTR_CACHE_REFERENCES] = {"cache-references", "events", 1, NULL, 1,
				  HWC(CACHE_REFERENCES), NULL},
	[CTR_CACHE_MISSES] = {"cache-misses", "events", 1, NULL, 1,
			      HWC(CACHE_MISSES), NULL},
	[CTR_L1D_MISSES] = {"L1-dcache-misses", "events", 1, "PAPI_L1_DCM", 1,
			    CACHE(L1D, READ, MISS), NULL},
	[CTR_L2_MISSES] = {"L2-cache-misses", "events", 1, "PAPI_L2_TCM", 0, 0, 0,
			   NULL, "no generic perf event for L2 misses (PAPI only)"},
	[CTR_L3_MISSES] = {"L3-cache-misses", "events", 1, "PAPI_L3_TCM", 1,
			   CACHE(LL, READ, MISS), NULL},
	[CTR_TASK_CLOCK] = {"task-clock", "ns", 0, NULL, 1, SWC(TASK_CLOCK), NULL},
	[CTR_CONTEXT_SWITCHES] = {"context-switches", "events", 0, NULL, 1,
				  SWC(CONTEXT_SWITCHES), NULL},
	[CTR_CPU_MIGRATIONS] = {"cpu-migrations", "events", 0, NULL, 1,
				SWC(CPU_MIGRATIONS), NULL},
	[CTR_PAGE_FAULTS] = {"page-faults", "events", 0, NULL, 1,
			     SWC(PAGE_FAULTS), NULL},
};

static const char *const mode_names[] = {
	[COUNTERS_NONE] = "none",
	[COUNTERS_AUTO] = "auto",
	[COUNTERS_PAPI] = "papi",
	[COUNTERS_PERF] = "perf",
};

int counters_parse_mode(const char *s, enum counters_mode *m, errbuf *e)
{
	for (size_t i = 0; s && i < sizeof mode_names / sizeof *mode_names; i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum counters_mode)i;
			return 0;
		}
	return errf(e, "unknown --counters mode '%s' (auto, papi, perf, none)",
		    s ? s : "(null)");
}

const char *counters_mode_name(enum counters_mode m)
{
	return (unsigned)m < sizeof mode_names / sizeof *mode_names
		       ? mode_names[m]
		       : "?";
}

enum backend { B_NONE = 0, B_PAPI, B_PERF };

struct counter_set {
	enum counters_mode mode;
	int wanted;
	int stopped;
	enum backend backend[CTR_COUNT];
	struct cperf_counter perf[CTR_COUNT];
	struct cpapi_set *papi;
	char reason[CTR_COUNT][COUNTER_REASON_MAX];
};

static int uses_papi(enum counters_mode m)
{
	return m == COUNTERS_AUTO || m == COUNTERS_PAPI;
}

static int uses_perf(enum counters_mode m)
{
	return m == COUNTERS_AUTO || m == COUNTERS_PERF;
}

static int plan_papi(struct counter_set *s, errbuf *e)
{
	int want[CTR_COUNT], got[CTR_COUNT];
	for (int i = 0; i < CTR_COUNT; i++) {
		want[i] = counter_defs[i].papi != NULL;
		if (!want[i])
			snprintf(s->reason[i], COUNTER_REASON_MAX,
				 "papi: no PAPI preset for this counter "
				 "(perf only)");
	}
	if (cpapi_open(want, got, s->reason, &s->papi, e) < 0)
		return -1;
	char why[COUNTER_REASON_MAX];
	if (s->papi && cpapi_start(s->papi, why, sizeof why) < 0) {
		/* one failure for the whole set: every member shares it */
		for (int i = 0; i < CTR_COUNT; i++)
			if (got[i])
				memcpy(s->reason[i], why, COUNTER_REASON_MAX);
		cpapi_free(s->papi);
		s->papi = NULL;
		memset(got, 0, sizeof got);
	}
	for (int i = 0; i < CTR_COUNT; i++)
		if (got[i])
			s->backend[i] = B_PAPI;
	return 0;
}

static void append(char dst[COUNTER_REASON_MAX], const char *src)
{
	size_t l = strlen(dst);
	size_t k = strnlen(src, COUNTER_REASON_MAX - 1 - l);
	memcpy(dst + l, src, k);
	dst[l + k] = 0;
}

/* auto: the reason names what PAPI said too, unless PAPI never had it. */
static void join_reasons(char *dst, const char *papi, const char *perf,
			 int had_papi)
{
	char tmp[COUNTER_REASON_MAX] = "";
	if (had_papi && papi[0]) {
		append(tmp, papi);
		append(tmp, "; ");
	}
	append(tmp, perf);
	memcpy(dst, tmp, COUNTER_REASON_MAX);
}

static void plan_perf(struct counter_set *s, struct cperf_env *env)
{
	for (int i = 0; i < CTR_COUNT; i++) {
		if (s->backend[i] != B_NONE)
			continue;
		char why[COUNTER_REASON_MAX];
		if (cperf_open(&counter_defs[i], env, &s->perf[i], why,
			       sizeof why) == 0) {
			s->backend[i] = B_PERF;
			s->reason[i][0] = 0;
		} else {
			join_reasons(s->reason[i], s->reason[i], why,
				     uses_papi(s->mode) && counter_defs[i].papi);
		}
	}
}

static void enable_perf(struct counter_set *s)
{
	for (int i = 0; i < CTR_COUNT; i++)
		if (s->backend[i] == B_PERF && cperf_enable(&s->perf[i]) < 0) {
			snprintf(s->reason[i], COUNTER_REASON_MAX,
				 "perf: cannot enable %s", counter_defs[i].name);
			cperf_close(&s->perf[i]);
			s->backend[i] = B_NONE;
		}
}

int counters_start(enum counters_mode m, struct counter_set **out, errbuf *e)
{
	*out = NULL;
	if (counters_mode_name(m)[0] == '?')
		return errf(e, "bad counters mode %d", (int)m);
	struct counter_set *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "out of memory for the counter set");
	s->mode = m;
	s->wanted = m != COUNTERS_NONE;
	for (int i = 0; i < CTR_COUNT; i++)
		s->perf[i].fd = -1;
	if (uses_papi(m) && plan_papi(s, e) < 0) {
		free(s);
		return -1;
	}
	if (uses_perf(m)) {
		struct cperf_env env = {0};
		plan_perf(s, &env);
		enable_perf(s);
	}
	*out = s;
	return 0;
}

static void init_values(const struct counter_set *s,
			struct counter_value v[CTR_COUNT])
{
	memset(v, 0, sizeof(struct counter_value) * CTR_COUNT);
	for (int i = 0; i < CTR_COUNT; i++) {
		v[i].wanted = s->wanted;
		memcpy(v[i].reason, s->reason[i], COUNTER_REASON_MAX);
	}
}

static void read_perf(struct counter_set *s, struct counter_value v[CTR_COUNT])
{
	for (int i = 0; i < CTR_COUNT; i++)
		if (s->backend[i] == B_PERF &&
		    cperf_read(&s->perf[i], &v[i]) == 0) {
			v[i].event = counter_defs[i].perf_event;
			v[i].reason[0] = 0;
		}
}

int counters_read(struct counter_set *s, struct counter_value v[CTR_COUNT],
		  errbuf *e)
{
	if (s->stopped)
		return errf(e, "counters read after stop");
	init_values(s, v);
	if (s->papi)
		cpapi_read(s->papi, v);
	read_perf(s, v);
	return 0;
}

int counters_stop(struct counter_set *s, struct counter_value v[CTR_COUNT],
		  errbuf *e)
{
	if (s->stopped)
		return errf(e, "counters stopped twice");
	init_values(s, v);
	for (int i = 0; i < CTR_COUNT; i++)
		if (s->backend[i] == B_PERF)
			cperf_disable(&s->perf[i]);
	if (s->papi)
		cpapi_stop(s->papi, v);
	read_perf(s, v);
	for (int i = 0; i < CTR_COUNT; i++)
		cperf_close(&s->perf[i]);
	cpapi_free(s->papi);
	s->papi = NULL;
	s->stopped = 1;
	return 0;
}

void counters_free(struct counter_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < CTR_COUNT; i++)
		cperf_close(&s->perf[i]);
	cpapi_free(s->papi);
	free(s);
}

static json_t *value_json(const struct counter_def *d,
			  const struct counter_value *v)
{
	if (!v->available)
		return json_pack("{s:b, s:s}", "available", 0, "reason",
				 v->reason[0] ? v->reason : "not counted");
	json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "value",
			      (json_int_t)v->value, "unit", d->unit, "backend",
			      v->backend, "event", v->event ? v->event : "?");
	if (o && v->scaled) {
		json_object_set_new(o, "scaled", json_true());
		json_object_set_new(o, "raw", json_integer((json_int_t)v->raw));
		json_object_set_new(o, "running_fraction",
				    json_real(v->running_fraction));
	}
	if (o && v->user_only)
		json_object_set_new(o, "user_only", json_true());
	return o;
}

json_t *counters_to_json(const struct counter_value v[CTR_COUNT])
{
	json_t *o = json_object();
	for (int i = 0; o && i < CTR_COUNT; i++) {
		if (!v[i].wanted)
			continue;
		json_t *c = value_json(&counter_defs[i], &v[i]);
		if (!c || json_object_set_new(o, counter_defs[i].name, c) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* ---- what this machine can measure ---- */

static int what_mode_gives(enum counters_mode m,
			   struct counter_value v[CTR_COUNT], errbuf *e)
{
	struct counter_set *s;
	if (counters_start(m, &s, e) < 0)
		return -1;
	int rc = counters_stop(s, v, e);
	counters_free(s);
	return rc;
}

static json_t *availability(const struct counter_value *v)
{
	if (!v->available)
		return json_pack("{s:b, s:s}", "available", 0, "reason", v->reason);
	json_t *o = json_pack("{s:b, s:s, s:s}", "available", 1, "backend",
			      v->backend, "event", v->event ? v->event : "?");
	if (o && v->user_only)
		json_object_set_new(o, "user_only", json_true());
	return o;
}

static json_t *describe_counters(errbuf *e)
{
	static const enum counters_mode modes[] = {COUNTERS_PAPI, COUNTERS_PERF,
						   COUNTERS_AUTO};
	struct counter_value v[3][CTR_COUNT];
	for (int k = 0; k < 3; k++)
		if (what_mode_gives(modes[k], v[k], e) < 0)
			return NULL;
	json_t *arr = json_array();
	for (int i = 0; arr && i < CTR_COUNT; i++) {
		const struct counter_def *d = &counter_defs[i];
		json_t *c = json_pack("{s:s, s:s, s:b, s:s?}", "name", d->name,
				      "unit", d->unit, "hardware", d->hardware,
				      "papi_preset", d->papi);
		if (!c)
			break;
		json_object_set_new(c, "papi", availability(&v[0][i]));
		json_object_set_new(c, "perf", availability(&v[1][i]));
		json_object_set_new(c, "auto", availability(&v[2][i]));
		json_array_append_new(arr, c);
	}
	return arr;
}

json_t *counters_describe(errbuf *e)
{
	struct cperf_env env;
	cperf_env_probe(&env);
	json_t *counters = describe_counters(e);
	if (!counters)
		return NULL;
	json_t *o = json_object();
	if (!o) {
		json_decref(counters);
		errf(e, "out of memory");
		return NULL;
	}
	json_object_set_new(o, "kernel", cperf_describe(&env));
	json_object_set_new(o, "papi", cpapi_describe());
	json_object_set_new(o, "counters", counters);
	return o;
}

/* ---- cost ---- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(double *x, size_t n)
{
	qsort(x, n, sizeof *x, cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

static int time_one(enum counters_mode m, double *ss, double *rd, errbuf *e)
{
	struct counter_value v[CTR_COUNT];
	struct counter_set *s;
	double t0 = now_us();
	if (counters_start(m, &s, e) < 0)
		return -1;
	double t1 = now_us();
	counters_read(s, v, e);
	double t2 = now_us();
	int rc = counters_stop(s, v, e);
	double t3 = now_us();
	counters_free(s);
	*ss = (t1 - t0) + (t3 - t2);
	*rd = t2 - t1;
	return rc;
}

int counters_measure_cost(enum counters_mode m, int iterations,
			  double *start_stop_us, double *read_us, errbuf *e)
{
	if (iterations < 1)
		return errf(e, "cost needs at least one iteration, not %d",
			    iterations);
	double *ss = calloc((size_t)iterations, sizeof *ss);
	double *rd = calloc((size_t)iterations, sizeof *rd);
	int rc = ss && rd ? 0 : errf(e, "out of memory");
	for (int i = 0; rc == 0 && i < iterations; i++)
		rc = time_one(m, &ss[i], &rd[i], e);
	if (rc == 0) {
		*start_stop_us = median_of(ss, (size_t)iterations);
		*read_us = median_of(rd, (size_t)iterations);
	}
	free(ss);
	free(rd);
	return rc;
}

/* ---- the probe ---- */

static int probe_start(const struct probe_config *c, void **state, errbuf *e)
{
	enum counters_mode m;
	if (counters_parse_mode(c && c->counters ? c->counters : "auto", &m,
				e) < 0)
		return -1;
	struct counter_set *s;
	if (counters_start(m, &s, e) < 0)
		return -1;
	*state = s;
	return 0;
}

static int probe_stop(void *state, json_t *rep, errbuf *e)
{
	struct counter_set *s = state;
	struct counter_value v[CTR_COUNT];
	if (counters_stop(s, v, e) < 0)
		return -1;
	if (!s->wanted)
		return 0; /* --counters none: no figures, not even reasons */
	json_t *o = counters_to_json(v);
	if (!o || json_object_set_new(rep, "counters", o) < 0)
		return errf(e, "out of memory writing counters");
	return 0;
}

static void probe_release(void *state)
{
	counters_free(state);
}

/* One counter across repetitions: median of the reps that had a value. */
struct collect {
	double *vals;
	size_t n;
	const char *backend, *unit, *event, *reason;
	int scaled, mixed;
};

static int collect_one(json_t *c, struct collect *k, size_t i, errbuf *e)
{
	if (!json_is_object(c))
		return errf(e, "reps[%zu].counters entry is not an object", i);
	json_t *val = json_object_get(c, "value");
	if (!val) {
		if (!k->reason)
			k->reason = json_string_value(json_object_get(c, "reason"));
		return 0;
	}
	if (!json_is_number(val))
		return errf(e, "reps[%zu].counters value is not a number", i);
	const char *b = json_string_value(json_object_get(c, "backend"));
	if (k->backend && b && strcmp(k->backend, b))
		k->mixed = 1;
	if (!k->backend)
		k->backend = b;
	if (!k->unit)
		k->unit = json_string_value(json_object_get(c, "unit"));
	if (!k->event)
		k->event = json_string_value(json_object_get(c, "event"));
	k->scaled |= json_is_true(json_object_get(c, "scaled"));
	k->vals[k->n++] = json_number_value(val);
	return 0;
}

static json_t *number(double x)
{
	return x == (double)(json_int_t)x ? json_integer((json_int_t)x)
					  : json_real(x);
}

static json_t *summary_of(struct collect *k)
{
	if (k->n == 0)
		return json_pack("{s:b, s:s}", "available", 0, "reason",
				 k->reason ? k->reason : "no repetition counted it");
	json_t *o = json_pack("{s:o, s:s, s:I}", "value",
			      number(median_of(k->vals, k->n)), "backend",
			      k->mixed ? "mixed" : (k->backend ? k->backend : "?"),
			      "reps", (json_int_t)k->n);
	if (o && k->unit)
		json_object_set_new(o, "unit", json_string(k->unit));
	if (o && k->event && !k->mixed)
		json_object_set_new(o, "event", json_string(k->event));
	if (o && k->scaled)
		json_object_set_new(o, "scaled", json_true());
	return o;
}

static json_t *summarise_counter(json_t *reps, const char *name, errbuf *e)
{
	struct collect k = {0};
	k.vals = calloc(json_array_size(reps) + 1, sizeof *k.vals);
	if (!k.vals) {
		errf(e, "out of memory");
		return NULL;
	}
	size_t i;
	json_t *rep, *out = NULL;
	json_array_foreach(reps, i, rep) {
		json_t *c = json_object_get(json_object_get(rep, "counters"), name);
		if (c && collect_one(c, &k, i, e) < 0)
			goto done;
	}
	out = summary_of(&k);
	if (!out)
		errf(e, "out of memory");
done:
	free(k.vals);
	return out;
}

static int check_reps(json_t *config, json_t **reps, errbuf *e)
{
	*reps = json_object_get(config, "reps");
	if (!json_is_array(*reps))
		return errf(e, "counters: configuration has no \"reps\" array");
	size_t i;
	json_t *rep;
	json_array_foreach(*reps, i, rep) {
		json_t *c = json_object_get(rep, "counters");
		if (c && !json_is_object(c))
			return errf(e, "counters: reps[%zu].counters is not an object", i);
	}
	return 0;
}

static int probe_summarise(json_t *config, errbuf *e)
{
	json_t *reps, *out = NULL, *rep;
	size_t i;
	if (check_reps(config, &reps, e) < 0)
		return -1;
	json_array_foreach(reps, i, rep) {
		const char *name;
		json_t *c;
		json_object_foreach(json_object_get(rep, "counters"), name, c) {
			if (out && json_object_get(out, name))
				continue;
			json_t *s = summarise_counter(reps, name, e);
			if (!s || (!out && !(out = json_object()))) {
				json_decref(s);
				json_decref(out);
				return s ? errf(e, "out of memory") : -1;
			}
			json_object_set_new(out, name, s);
		}
	}
	if (out && json_object_set_new(config, "counters", out) < 0)
		return errf(e, "out of memory");
	return 0;
}

const struct probe_ops probe_counters = {
	.name = "counters",
	.start = probe_start,
	.stop = probe_stop,
	.release = probe_release,
	.summarise = probe_summarise,
};
