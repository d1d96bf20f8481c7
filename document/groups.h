/* groups.h - configurations grouped by a key in linear time.
 *
 * Readers of a document relate each configuration to the others of its
 * series (speedup against the 1-worker run, the table of a group, the
 * points of a fit, checksums of one workload and params). Comparing every
 * pair made `report` quadratic in the number of configurations; instead
 * each configuration's key is computed once and configurations are
 * bucketed through a hash table (jansson's), so a group is a slice. */
#ifndef CONTEND_GROUPS_H
#define CONTEND_GROUPS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DOC_NO_GROUP SIZE_MAX

struct doc_groups {
	size_t n;	 /* configurations */
	size_t ngroups;
	size_t *order;	 /* the grouped configurations' indices, group by group */
	size_t *start;	 /* group g is order[start[g] .. start[g + 1]) */
	size_t *group_of; /* each configuration's group, or DOC_NO_GROUP */
	char **key;	 /* each configuration's key, or NULL (owned) */
};

/* Group n configurations by keys[i] (taken over: freed by
 * doc_groups_free; NULL = in no group). Groups come in the order of their
 * first configuration, members in document order. Returns 0, or -1 (out
 * of memory; keys freed). */
int doc_groups_build(char **keys, size_t n, struct doc_groups *g);

/* Group the configurations of `configs` by series (doc_series_key with
 * `omit`), and by params too when with_params (doc_same_series). */
int doc_groups_series(json_t *configs, unsigned omit, int with_params,
		      struct doc_groups *g);

/* The series id used above: the key, then the params (compact, sorted
 * keys) when with_params. NULL when the configuration has no key. */
char *doc_series_id(json_t *config, unsigned omit, int with_params);

/* Members of group g: count and the k-th configuration's index. */
size_t doc_group_size(const struct doc_groups *g, size_t group);
size_t doc_group_member(const struct doc_groups *g, size_t group, size_t k);

void doc_groups_free(struct doc_groups *g);

#endif
