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

/* The probe's measurement for any stretch of code (make bench's timed
 * targets): start, run, then the cores other programs took meanwhile. */
struct interference_meter {
	struct cpu_ticks t0;
	double tree0;	/* CPU seconds of this process and its reaped children */
	double clock0;	/* monotonic seconds */
};

int interference_meter_start(struct interference_meter *m, errbuf *e);
/* Cores taken by other programs (and steal) since start; NAN when
 * /proc/stat cannot be read. */
double interference_meter_taken(const struct interference_meter *m);
/* The figures of one repetition since start (the fields the probe writes
 * under reps[].interference); NULL with e set when /proc/stat or getrusage
 * fail. */
json_t *interference_meter_json(const struct interference_meter *m, errbuf *e);

extern const struct probe_ops probe_interference;

#endif
