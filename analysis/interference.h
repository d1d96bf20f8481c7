/* interference.h - was a configuration measured while other programs took
 * the machine, and can that explain a figure?
 *
 * The interference probe records, per repetition and per configuration,
 * the cores other programs took (config.interference.taken_cores). Here
 * that becomes a mark (config.interference.busy, set by summary.c) and
 * the test every verdict asks before blaming workers, locks or cores: a
 * slowdown, a super-linear speedup or a regression between two
 * configurations is explained by interference when either was busy.
 *
 * The threshold: an idle machine's daemons and the sweep itself take
 * about a hundredth of a core; /proc/stat's ticks blur a window by up to
 * a tick per CPU at each end. A configuration is busy when other programs
 * took at least INTERFERENCE_BUSY_CORES of a core over its repetitions
 * together AND more than the ticks' blur of those windows can make. */
#ifndef CONTEND_ANALYSIS_INTERFERENCE_H
#define CONTEND_ANALYSIS_INTERFERENCE_H

#include <jansson.h>
#include <stddef.h>

#define INTERFERENCE_BUSY_CORES 0.25

/* Cores taken by other programs during config's repetitions, NAN when the
 * document has no figure (an older contend, exec). */
double interference_taken(json_t *config);

/* Set config.interference.busy, .threshold_cores and .busy_reps (indices
 * of the repetitions that were busy on their own); idempotent. */
void interference_mark(json_t *config);

/* config.interference.busy. */
int interference_busy(json_t *config);

/* Either configuration (b may be NULL) was measured busy. */
int interference_explains(json_t *a, json_t *b);

/* "38 % of a core" / "1.2 cores" taken, into buf. */
void interference_phrase(json_t *config, char *buf, size_t len);

/* The busiest of a document's configurations' taken_cores (NAN: no
 * figure anywhere) and how many configurations were busy. */
double interference_document(json_t *doc, size_t *nbusy);

#endif
