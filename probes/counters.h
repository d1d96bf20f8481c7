/* counters.h - hardware and software event counters (cycles, cache misses,
 * task clock, page faults, ...) from PAPI or perf_event_open behind one
 * interface; a counter the machine cannot give carries its reason, never 0. */
#ifndef CONTEND_COUNTERS_H
#define CONTEND_COUNTERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "probes/probe.h"

/* --counters auto|papi|perf|none. auto: PAPI where it can give a counter,
 * perf_event_open for the rest. */
enum counters_mode {
	COUNTERS_NONE = 0,
	COUNTERS_AUTO,
	COUNTERS_PAPI,
	COUNTERS_PERF,
};

int counters_parse_mode(const char *s, enum counters_mode *m, errbuf *e);
const char *counters_mode_name(enum counters_mode m);

/* The logical counters; their JSON keys are counter_defs[id].name. */
enum counter_id {
	CTR_CYCLES = 0,
	CTR_INSTRUCTIONS,
	CTR_CACHE_REFERENCES,
	CTR_CACHE_MISSES,
	CTR_L1D_MISSES,
	CTR_L2_MISSES,
	CTR_L3_MISSES,
	CTR_TASK_CLOCK,
	CTR_CONTEXT_SWITCHES,
	CTR_CPU_MIGRATIONS,
	CTR_PAGE_FAULTS,
	CTR_COUNT
};

struct counter_def {
	const char *name;	/* JSON key, perf-style: "cycles" */
	const char *unit;	/* "events" or "ns" */
	int hardware;		/* needs a PMU */
	const char *papi;	/* PAPI preset, or NULL when PAPI has none */
	int has_perf;		/* perf_event_open can count it */
	uint32_t perf_type;	/* PERF_TYPE_* */
	uint64_t perf_config;	/* PERF_COUNT_* */
	const char *perf_event; /* the exact perf event, for the record */
	const char *no_perf;	/* why perf cannot, when !has_perf */
};
extern const struct counter_def counter_defs[CTR_COUNT];

#define COUNTER_REASON_MAX 320

struct counter_value {
	int wanted;		/* the mode asked for it (none: nothing) */
	int available;
	const char *backend;	/* "papi" or "perf" when available */
	const char *event;	/* backend's event name when available */
	uint64_t value;		/* scaled up when multiplexed */
	uint64_t raw;		/* as counted */
	int scaled;		/* value = raw * enabled / running */
	double running_fraction; /* running / enabled time, 1 unless scaled */
	int user_only;		/* kernel part excluded (perf_event_paranoid) */
	char reason[COUNTER_REASON_MAX]; /* when !available */
};

/* A counter set counts the calling process and every thread and process
 * it creates after counters_start (inherited counters); a child's counts
 * arrive when it exits, so stop after the workers have been waited for.
 * Unavailable counters are not an error: their value carries the reason. */
struct counter_set;
int counters_start(enum counters_mode m, struct counter_set **out, errbuf *e);
/* Current totals since start, without stopping (cost: one read per counter). */
int counters_read(struct counter_set *s, struct counter_value v[CTR_COUNT],
		  errbuf *e);
/* Final totals; afterwards the set can only be freed. */
int counters_stop(struct counter_set *s, struct counter_value v[CTR_COUNT],
		  errbuf *e);
void counters_free(struct counter_set *s);

/* {"cycles": {"value": N, "backend": "perf", ...}, "x": {"available":
 * false, "reason": "..."}}, wanted counters only. NULL on allocation failure. */
json_t *counters_to_json(const struct counter_value v[CTR_COUNT]);

/* What this machine can measure: kernel settings, PAPI status, and per
 * counter what each backend gives (by really opening it). For `contend
 * probes`. */
json_t *counters_describe(errbuf *e);

/* Median cost in microseconds of counters_start+counters_stop, and of one
 * counters_read of the whole set, over `iterations` tries. */
int counters_measure_cost(enum counters_mode m, int iterations,
			  double *start_stop_us, double *read_us, errbuf *e);

extern const struct probe_ops probe_counters;

/* ---- backends; used by counters.c only (and the tests) ---- */

/* perf_event_open (counters_perf.c) */
struct cperf_env {
	int probed;		/* filled in; cperf_open fills it on demand */
	int paranoid;		/* /proc/sys/kernel/perf_event_paranoid, or
				 * CPERF_PARANOID_UNKNOWN */
	int privileged;		/* root, CAP_PERFMON or CAP_SYS_ADMIN */
	int pmu;		/* a hardware PMU is exposed */
	char pmu_name[64];	/* its /sys/bus/event_source/devices name */
	int hypervisor;		/* /proc/cpuinfo has the hypervisor flag */
};
#define CPERF_PARANOID_UNKNOWN (-1000)

void cperf_env_probe(struct cperf_env *env);
const char *cperf_paranoid_meaning(int paranoid);
/* The one-line reason a perf_event_open of `event` failed with errno `err`. */
void cperf_reason(char *buf, size_t n, const char *event, int hardware,
		  int err, const struct cperf_env *env);

struct cperf_counter {
	int fd;
	int user_only;
};
/* env is only needed to explain a failure: zeroed, it is probed then. */
int cperf_open(const struct counter_def *d, struct cperf_env *env,
	       struct cperf_counter *c, char *reason, size_t n);
int cperf_enable(struct cperf_counter *c);
int cperf_disable(struct cperf_counter *c);
int cperf_read(const struct cperf_counter *c, struct counter_value *v);
void cperf_close(struct cperf_counter *c);
json_t *cperf_describe(const struct cperf_env *env);

/* PAPI (counters_papi.c): one inherited event set for the PAPI counters. */
struct cpapi_set;
/* Adds every counter with want[i] set that PAPI can count (got[i] = 1);
 * the others get a reason. *out is NULL when PAPI can count none. */
int cpapi_open(const int want[CTR_COUNT], int got[CTR_COUNT],
	       char reason[CTR_COUNT][COUNTER_REASON_MAX],
	       struct cpapi_set **out, errbuf *e);
int cpapi_start(struct cpapi_set *s, char *reason, size_t n);
/* Fills v[i] for the counters in the set; stop also stops counting. */
int cpapi_read(struct cpapi_set *s, struct counter_value v[CTR_COUNT]);
int cpapi_stop(struct cpapi_set *s, struct counter_value v[CTR_COUNT]);
void cpapi_free(struct cpapi_set *s);
json_t *cpapi_describe(void);

#endif
