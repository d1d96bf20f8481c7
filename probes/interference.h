/* interference.h - the interference probe: how much of the machine other
 * programs took while a repetition ran.
 *
 * Per repetition: the machine's busy CPU time from /proc/stat (every CPU,
 * user+nice+system+irq+softirq) minus the CPU time of the measured process
 * tree (getrusage of the runner and its reaped workers) is the CPU other
 * programs used; steal (a hypervisor running someone else on our virtual
 * CPUs) is kept apart and added to what was taken. Also the load average
 * and, where /sys has it, the cpufreq governor and boost state. The
 * judgement (is a configuration "busy"?) is analysis/interference.c's. */
#ifndef CONTEND_PROBE_INTERFERENCE_H
#define CONTEND_PROBE_INTERFERENCE_H

#include "probes/probe.h"

/* The all-CPU line of /proc/stat, in clock ticks. */
struct cpu_ticks {
	unsigned long long busy;  /* user nice system irq softirq */
	unsigned long long steal;
	unsigned long long total; /* everything, idle and iowait included */
};

/* Parse the "cpu " line of /proc/stat text; -1 with e set when the text
 * has none. Guest time is already inside user and nice. */
int interference_parse_stat(const char *text, struct cpu_ticks *t, errbuf *e);

extern const struct probe_ops probe_interference;

#endif
