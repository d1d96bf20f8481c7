/* counters_papi.c - the PAPI backend of the counters probe: one event set of
 * presets (PAPI_TOT_CYC, PAPI_L1_DCM, ...) inherited by child threads and
 * processes, with PAPI's own words for every event it cannot count. */
#include "probes/counters.h"

#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Global state, by necessity: PAPI_library_init may run once per process.
 * Written once under pthread_once, read-only afterwards. */
static pthread_once_t papi_once = PTHREAD_ONCE_INIT;
static int papi_init_rc;

static void papi_init(void)
{
	papi_init_rc = PAPI_library_init(PAPI_VER_CURRENT);
}

static int papi_ready(char *reason, size_t n)
{
	pthread_once(&papi_once, papi_init);
	if (papi_init_rc == PAPI_VER_CURRENT)
		return 0;
	if (papi_init_rc > 0)
		snprintf(reason, n, "papi: library version %d.%d differs from "
			 "the headers contend was built with",
			 PAPI_VERSION_MAJOR(papi_init_rc),
			 PAPI_VERSION_MINOR(papi_init_rc));
	else
		snprintf(reason, n, "papi: library init failed: %s",
			 PAPI_strerror(papi_init_rc));
	return -1;
}

/* The CPU component (perf_event on Linux) holds the presets; libpfm4 not
 * knowing this CPU disables it, and its disabled_reason says so. */
static int cpu_component(char *reason, size_t n)
{
	int cid = PAPI_get_component_index("perf_event");
	if (cid < 0) {
		snprintf(reason, n, "papi: no perf_event component in this PAPI build");
		return -1;
	}
	const PAPI_component_info_t *ci = PAPI_get_component_info(cid);
	if (!ci) {
		snprintf(reason, n, "papi: perf_event component has no info");
		return -1;
	}
	if (ci->disabled) {
		const PAPI_hw_info_t *hw = PAPI_get_hardware_info();
		/* A CPU newer than the distribution's libpfm4: say which, and
		 * that the kernel's generic events still count. */
		if (hw && strstr(ci->disabled_reason, "no default PMU"))
			snprintf(reason, n, "papi: component perf_event disabled: "
				 "%.120s (libpfm4 does not know this CPU, %.40s "
				 "family %d model %d; --counters perf counts the "
				 "kernel's generic events)", ci->disabled_reason,
				 hw->vendor_string, hw->cpuid_family, hw->cpuid_model);
		else
			snprintf(reason, n, "papi: component perf_event disabled: %.200s",
				 ci->disabled_reason);
		return -1;
	}
	return cid;
}

struct cpapi_set {
	int es;
	int slot[CTR_COUNT];	/* index in the event set, -1 not in it */
	int n;
	int running;
	int user_only;
};

static void set_reason_all(const int want[CTR_COUNT],
			   char reason[CTR_COUNT][COUNTER_REASON_MAX],
			   const char *why)
{
	for (int i = 0; i < CTR_COUNT; i++)
		if (want[i])
			snprintf(reason[i], COUNTER_REASON_MAX, "%s", why);
}

/* Kernel and user, like perf; PAPI's default is user only. */
static int try_domain_all(int es)
{
	PAPI_option_t opt;
	memset(&opt, 0, sizeof opt);
	opt.domain.eventset = es;
	opt.domain.domain = PAPI_DOM_ALL;
	return PAPI_set_opt(PAPI_DOMAIN, &opt) == PAPI_OK ? 0 : -1;
}

static int make_eventset(int cid, struct cpapi_set *s, char *reason, size_t n)
{
	int rc;
	s->es = PAPI_NULL;
	if ((rc = PAPI_create_eventset(&s->es)) != PAPI_OK ||
	    (rc = PAPI_assign_eventset_component(s->es, cid)) != PAPI_OK) {
		snprintf(reason, n, "papi: cannot make an event set: %s",
			 PAPI_strerror(rc));
		return -1;
	}
	PAPI_option_t opt;
	memset(&opt, 0, sizeof opt);
	opt.inherit.eventset = s->es;
	opt.inherit.inherit = PAPI_INHERIT_ALL;
	if ((rc = PAPI_set_opt(PAPI_INHERIT, &opt)) != PAPI_OK) {
		snprintf(reason, n, "papi: cannot count child threads and "
			 "processes (PAPI_INHERIT: %s)", PAPI_strerror(rc));
		return -1;
	}
	s->user_only = try_domain_all(s->es) < 0;
	return 0;
}

static int add_preset(struct cpapi_set *s, const char *preset, char *reason,
		      size_t n)
{
	int code, rc;
	if ((rc = PAPI_event_name_to_code(preset, &code)) != PAPI_OK ||
	    (rc = PAPI_query_event(code)) != PAPI_OK) {
		snprintf(reason, n, "papi: %s not available on this CPU (%s)",
			 preset, PAPI_strerror(rc));
		return -1;
	}
	if ((rc = PAPI_add_event(s->es, code)) != PAPI_OK) {
		snprintf(reason, n, "papi: %s cannot be counted with the others "
			 "(%s)", preset, PAPI_strerror(rc));
		return -1;
	}
	return 0;
}

static void destroy_eventset(struct cpapi_set *s)
{
	if (s->es == PAPI_NULL)
		return;
	if (s->running) {
		long long sink[CTR_COUNT];
		PAPI_stop(s->es, sink);
	}
	PAPI_cleanup_eventset(s->es);
	PAPI_destroy_eventset(&s->es);
}

static void add_wanted(struct cpapi_set *s, const int want[CTR_COUNT],
		       int got[CTR_COUNT],
		       char reason[CTR_COUNT][COUNTER_REASON_MAX])
{
	for (int i = 0; i < CTR_COUNT; i++) {
		s->slot[i] = -1;
		if (!want[i] || !counter_defs[i].papi)
			continue;
		if (add_preset(s, counter_defs[i].papi, reason[i],
			       COUNTER_REASON_MAX) == 0) {
			s->slot[i] = s->n++;
			got[i] = 1;
		}
	}
}

int cpapi_open(const int want[CTR_COUNT], int got[CTR_COUNT],
	       char reason[CTR_COUNT][COUNTER_REASON_MAX],
	       struct cpapi_set **out, errbuf *e)
{
	char why[COUNTER_REASON_MAX];
	int cid;
	*out = NULL;
	memset(got, 0, sizeof(int) * CTR_COUNT);
	if (papi_ready(why, sizeof why) < 0 ||
	    (cid = cpu_component(why, sizeof why)) < 0) {
		set_reason_all(want, reason, why);
		return 0;
	}
	struct cpapi_set *s = calloc(1, sizeof *s);
	if (!s)
		return errf(e, "out of memory for the PAPI event set");
	if (make_eventset(cid, s, why, sizeof why) < 0) {
		set_reason_all(want, reason, why);
		destroy_eventset(s);
		free(s);
		return 0;
	}
	add_wanted(s, want, got, reason);
	if (s->n == 0) {
		destroy_eventset(s);
		free(s);
		return 0;
	}
	*out = s;
	return 0;
}

int cpapi_start(struct cpapi_set *s, char *reason, size_t n)
{
	int rc = PAPI_start(s->es);
	if (rc != PAPI_OK) {
		snprintf(reason, n, "papi: cannot start counting: %s",
			 PAPI_strerror(rc));
		return -1;
	}
	s->running = 1;
	return 0;
}

static int fill(struct cpapi_set *s, const long long *vals, int rc,
		struct counter_value v[CTR_COUNT])
{
	for (int i = 0; i < CTR_COUNT; i++) {
		if (s->slot[i] < 0)
			continue;
		if (rc != PAPI_OK) {
			snprintf(v[i].reason, sizeof v[i].reason,
				 "papi: read failed: %s", PAPI_strerror(rc));
			continue;
		}
		long long x = vals[s->slot[i]];
		v[i].raw = v[i].value = x < 0 ? 0 : (uint64_t)x;
		v[i].running_fraction = 1.0;
		v[i].user_only = s->user_only;
		v[i].available = 1;
		v[i].backend = "papi";
		v[i].event = counter_defs[i].papi;
	}
	return rc == PAPI_OK ? 0 : -1;
}

int cpapi_read(struct cpapi_set *s, struct counter_value v[CTR_COUNT])
{
	long long vals[CTR_COUNT] = {0};
	return fill(s, vals, PAPI_read(s->es, vals), v);
}

int cpapi_stop(struct cpapi_set *s, struct counter_value v[CTR_COUNT])
{
	long long vals[CTR_COUNT] = {0};
	int rc = PAPI_stop(s->es, vals);
	s->running = 0;
	return fill(s, vals, rc, v);
}

void cpapi_free(struct cpapi_set *s)
{
	if (!s)
		return;
	destroy_eventset(s);
	free(s);
}

static json_t *describe_component(int cid)
{
	const PAPI_component_info_t *ci = PAPI_get_component_info(cid);
	if (!ci)
		return NULL;
	json_t *c = json_pack("{s:s, s:s, s:b, s:i, s:i}", "name", ci->name,
			      "description", ci->description, "active",
			      !ci->disabled, "counters", ci->num_cntrs,
			      "presets", ci->num_preset_events);
	if (c && ci->disabled)
		json_object_set_new(c, "reason", json_string(ci->disabled_reason));
	return c;
}

json_t *cpapi_describe(void)
{
	char why[COUNTER_REASON_MAX];
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (papi_ready(why, sizeof why) < 0) {
		json_object_set_new(o, "available", json_false());
		json_object_set_new(o, "reason", json_string(why));
		return o;
	}
	int v = PAPI_get_opt(PAPI_LIB_VERSION, NULL);
	char ver[32];
	snprintf(ver, sizeof ver, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(v),
		 PAPI_VERSION_MINOR(v), PAPI_VERSION_REVISION(v),
		 PAPI_VERSION_INCREMENT(v));
	json_object_set_new(o, "version", json_string(ver));
	json_t *comps = json_array();
	for (int i = 0; i < PAPI_num_components(); i++) {
		json_t *c = describe_component(i);
		if (c)
			json_array_append_new(comps, c);
	}
	json_object_set_new(o, "components", comps);
	int cpu = cpu_component(why, sizeof why);
	json_object_set_new(o, "available", json_boolean(cpu >= 0));
	if (cpu < 0)
		json_object_set_new(o, "reason", json_string(why));
	return o;
}
