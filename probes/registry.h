/* registry.h - the probes a runner can start around each repetition.
 *
 * Adding a probe is one new probes/<name>.c with a probe_ops and one line
 * in registry.c; the runner and the sweep never name a probe. */
#ifndef CONTEND_PROBE_REGISTRY_H
#define CONTEND_PROBE_REGISTRY_H

#include "probes/probe.h"

/* NULL-terminated, in the order they are started. */
extern const struct probe_ops *const probes_all[];

/* Whether probe p runs under configuration c ("counters": "none" turns the
 * counter probe off, for instance). */
int probe_enabled(const struct probe_ops *p, const struct probe_config *c);

/* Every probe's worker report, each framed with its probe's index, into
 * buf (for pool_opts.worker_report); the runner gives each frame back to
 * its probe with probes_collect(states, ...), states indexed as probes_all. */
size_t probes_worker_report(void *buf, size_t max);
void probes_collect(void *const *states, const void *buf, size_t len);

#endif
