/* run_plan.h - the plan of `contend run` from its options (run_plan.c
 * holds the table of its dimensions). */
#ifndef CONTEND_RUN_PLAN_H
#define CONTEND_RUN_PLAN_H

#include "harness/plan.h"
#include "harness/sweep.h"

/* p is initialised here; plan_free it. */
int run_plan_build(const struct sweep_opts *o, struct plan *p, errbuf *e);

#endif
