/* probe.h - the contract of a probe: something measured while a
 * configuration's repetition runs (lock waits, counters, memory).
 *
 * The runner (the child process that runs one configuration) starts every
 * enabled probe before a repetition and stops it after; stop() adds the
 * probe's figures to the repetition's JSON object under the probe's name.
 * summarise() later turns reps[*].<name> into one figure set for the whole
 * configuration. A figure the machine cannot give is written as
 * {"available": false, "reason": "..."}, never as 0. */
#ifndef CONTEND_PROBE_H
#define CONTEND_PROBE_H

#include <jansson.h>
#include <sys/types.h>

#include "common/err.h"

struct probe_config {
	const char *counters;	  /* "auto", "papi", "perf", "none" */
	double mem_interval_s;	  /* memory sampler period, e.g. 0.020 */
	pid_t root_pid;		  /* process whose tree is measured */
	int in_process;		  /* the workload runs in this process (serial,
				   * thread pools): malloc's own figures apply */
	int workers;		  /* of the configuration: shares of wall x workers */
};

struct probe_ops {
	const char *name; /* key in the JSON: "lock", "counters", "memory" */
	int (*start)(const struct probe_config *c, void **state, errbuf *e);
	/* Stop measuring; add figures to rep under `name`. */
	int (*stop)(void *state, json_t *rep, errbuf *e);
	void (*release)(void *state);
	/* Summarise config["reps"][*][name] into config[name]. NULL: none. */
	int (*summarise)(json_t *config, errbuf *e);
	/* Worker processes: after its last task a worker writes what it
	 * measured of itself into buf (at most max bytes; returns the length,
	 * 0 nothing), and the runner hands it to collect() with the state of
	 * the running repetition. NULL: the probe sees every worker itself. */
	size_t (*worker_report)(void *buf, size_t max);
	void (*collect)(void *state, const void *buf, size_t len);
	/* CPU seconds the probe's own threads have used since start() (their
	 * per-thread CPU clocks), read while it runs: the runner takes it out
	 * of the repetition's CPU time, which is the workload's. NULL: the
	 * probe runs no thread of its own. */
	double (*own_cpu_s)(void *state);
};

#endif
