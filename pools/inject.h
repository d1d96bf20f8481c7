/* inject.h - the hidden `--inject KIND@TASK` option used by the fault tests.
 *
 * Kinds: segv, abort, kill, exit, exit0, hang, garbage, fail. The fault fires in
 * whichever worker runs task TASK, in any pool. slowstart@MS is the odd one:
 * a spawned process-pool worker sleeps MS milliseconds after its setup,
 * before it says it is ready (the start-up is not a task's time). */
#ifndef CONTEND_INJECT_H
#define CONTEND_INJECT_H

#include "common/err.h"

int inject_parse(const char *text, int *kind, long *task, errbuf *e);
const char *inject_name(int kind);

#endif
