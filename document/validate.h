/* validate.h - the values of a results document make sense.
 *
 * results_validate checks the shape (keys and types); this checks what
 * the numbers say, so a hand-edited or corrupted document is refused with
 * a reason instead of being rendered ("Fastest: -5000000 us") or stored
 * in the history: times are finite and not negative, a repetition that
 * succeeded took some time, worker counts are at least 1. */
#ifndef CONTEND_VALIDATE_H
#define CONTEND_VALIDATE_H

#include <jansson.h>

#include "common/err.h"

/* 0, or -1 with e naming the first bad value ("configs[2].reps[0]:
 * 'wall_s' is -5: ..."). The document's shape is checked already. */
int validate_values(json_t *doc, errbuf *e);

#endif
