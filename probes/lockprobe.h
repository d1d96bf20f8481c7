/* lockprobe.h - the lock probe: waits on every instrumented lock of the
 * workload (lockstat), or the interpreter lock of a linetrace build, in
 * the runner's threads and in every worker process, per repetition. */
#ifndef CONTEND_LOCKPROBE_H
#define CONTEND_LOCKPROBE_H

#include "probes/probe.h"

extern const struct probe_ops probe_lock;

#endif
