/* outcheck.h - a verb's standard output really reached its destination.
 *
 * stdio buffers: `contend report R.json --format csv > /dev/full` fails
 * only at the final flush, after the verb has returned 0. main() checks
 * once for every verb, so no verb can forget. */
#ifndef CONTEND_OUTCHECK_H
#define CONTEND_OUTCHECK_H

/* Flush stdout; on a write error (now or earlier) print one line
 * "contend VERB: cannot write to standard output: REASON" and return
 * non-zero, else return rc unchanged. */
int outcheck_stdout(const char *verb, int rc);

#endif
