/* rusage.h - the rusage probe: voluntary and involuntary context switches
 * (and page faults) from getrusage, on every row whatever --counters says,
 * because it needs no PMU and no permission. */
#ifndef CONTEND_RUSAGE_H
#define CONTEND_RUSAGE_H

#include <sys/resource.h>

#include "probes/probe.h"

/* The deltas between two (self, children) snapshots, summed. */
struct rusage_delta {
	long voluntary_csw;
	long involuntary_csw;
	long minor_faults;
	long major_faults;
};

void rusage_diff(const struct rusage *self0, const struct rusage *child0,
		 const struct rusage *self1, const struct rusage *child1,
		 struct rusage_delta *d);

extern const struct probe_ops probe_rusage;

#endif
