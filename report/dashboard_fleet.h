/* dashboard_fleet.h - the dashboard's view across machines: the latest
 * run of every machine side by side, per workload ("vm-a is 1.60x faster
 * than vm-b"). Runs of different machines are only ever set side by
 * side here, never judged as regressions of one another. */
#ifndef CONTEND_DASHBOARD_FLEET_H
#define CONTEND_DASHBOARD_FLEET_H

#include <jansson.h>
#include <stdio.h>

#include "common/err.h"
#include "document/history.h"

/* A wall time with three significant digits in the unit that fits it
 * (us, ms or s): "96.3 ms", "1.23 s"; "n/a" for a non-number. */
void dashboard_fmt_time(json_t *seconds, char *buf, size_t len);

/* The side-by-side section for workload w over machines (sorted names);
 * writes nothing when fewer than two machines ran w. */
int dashboard_machines_side_by_side(FILE *f, history *h, const char *w,
				    json_t *machines, errbuf *e);

#endif
