/* summary.h - turn repetitions into the figures a table shows.
 *
 * Everything here is recomputed from reps[] and is idempotent, so a
 * document can be summarised again after any change (or by `report`). */
#ifndef CONTEND_SUMMARY_H
#define CONTEND_SUMMARY_H

#include <jansson.h>

/* The dimensions that, with the workload parameters, define a series:
 * configurations that differ only in `workers`. */
extern const char *const summary_dimensions[];

/* {"key": "value", ...} of every parameter of the workload, defaults
 * included; NULL-safe (an empty object when the workload is unknown). */
json_t *summary_params_object(const char *workload, const char *params);

/* Set config["id"] from its dimensions: workload/build/pool[/...]/wN. */
void summary_set_id(json_t *config);

/* The series key of a config (caller frees). */
char *summary_series_key(json_t *config);

/* Per-config statistics, then speedup, efficiency, slower flags and
 * checksum agreement across the document. */
void summary_document(json_t *doc);

#endif
