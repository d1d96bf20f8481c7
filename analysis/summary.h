/* summary.h - turn repetitions into the figures a table shows.
 *
 * Everything here is recomputed from reps[] and is idempotent, so a
 * document can be summarised again after any change (or by `report`). */
#ifndef CONTEND_SUMMARY_H
#define CONTEND_SUMMARY_H

#include <jansson.h>

/* The dimensions a configuration's id is made of (its series is
 * doc_series_key). */
extern const char *const summary_dimensions[];

/* {"key": "value", ...} of every parameter of the workload, defaults
 * included; NULL-safe (an empty object when the workload is unknown). */
json_t *summary_params_object(const char *workload, const char *params);

/* Set config["id"] from its dimensions: workload/build/pool[/...]/wN,
 * those of summary_dimensions in its order, then any other dimension (a
 * string field doc_is_dim accepts) in name order. */
void summary_set_id(json_t *config);

/* Per-config statistics, then speedup, efficiency, slower flags and
 * checksum agreement across the document. */
void summary_document(json_t *doc);

/* The USL fits summary_document stored in doc (borrowed). A document made
 * without them (an older contend, by hand, an import) gets them computed
 * and stored here, once; renderers and compare read them through this,
 * never fitting again. NULL when doc is not an object. */
json_t *summary_fits(json_t *doc);

/* Like summary_fits, for every derived figure: a document whose
 * configurations lack the speedups and slower flags (made by hand, by an
 * older contend, an import) gets them from its stored statistics, once,
 * and its fits; a summarised document is only read. Returns the fits. */
json_t *summary_derived(json_t *doc);

#endif
