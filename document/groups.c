/* groups.c - configurations bucketed by a key (groups.h). */
#include "document/groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"

char *doc_series_id(json_t *config, unsigned omit, int with_params)
{
	char key[512];
	if (doc_series_key(config, omit, key, sizeof key))
		return NULL;
	json_t *p = json_object_get(config, "params");
	/* without exec's dimensions, its params are its command alone (as
	 * doc_same_series compares them) */
	if ((omit & DOC_KEY_NO_SWEPT) && doc_is_exec(config))
		p = json_object_get(p, "command");
	/* params as results_same_params compares them: absent, null and an
	 * object are all different */
	char *ptext = !with_params ? NULL :
		      p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS |
					 JSON_ENCODE_ANY) : strdup("");
	if (with_params && !ptext)
		return NULL;
	char *id = NULL;
	if (asprintf(&id, "%s%s%s", key, with_params ? "\x1f" : "",
		     ptext ? ptext : "") < 0)
		id = NULL;
	free(ptext);
	return id;
}

static int alloc_groups(struct doc_groups *g, size_t n)
{
	g->order = malloc((n + 1) * sizeof *g->order);
	g->start = malloc((n + 2) * sizeof *g->start);
	g->group_of = malloc((n + 1) * sizeof *g->group_of);
	return g->order && g->start && g->group_of ? 0 : -1;
}

/* Number the groups in order of first appearance (the hash table maps a
 * key to its group), then place members by counting. */
static int number_groups(struct doc_groups *g)
{
	json_t *seen = json_object();
	if (!seen)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		g->group_of[i] = DOC_NO_GROUP;
		if (!g->key[i])
			continue;
		json_t *v = json_object_get(seen, g->key[i]);
		if (v) {
			g->group_of[i] = (size_t)json_integer_value(v);
			continue;
		}
		g->group_of[i] = g->ngroups++;
		if (json_object_set_new(seen, g->key[i],
					json_integer((json_int_t)g->group_of[i]))) {
			json_decref(seen);
			return -1;
		}
	}
	json_decref(seen);
	return 0;
}

static void place_members(struct doc_groups *g)
{
	memset(g->start, 0, (g->ngroups + 2) * sizeof *g->start);
	for (size_t i = 0; i < g->n; i++)
		if (g->group_of[i] != DOC_NO_GROUP)
			g->start[g->group_of[i] + 1]++;
	for (size_t k = 0; k < g->ngroups; k++)
		g->start[k + 1] += g->start[k];
	size_t *fill = calloc(g->ngroups + 1, sizeof *fill);
	for (size_t i = 0; fill && i < g->n; i++) {
		size_t k = g->group_of[i];
		if (k != DOC_NO_GROUP)
			g->order[g->start[k] + fill[k]++] = i;
	}
	free(fill);
}

int doc_groups_build(char **keys, size_t n, struct doc_groups *g)
{
	memset(g, 0, sizeof *g);
	g->n = n;
	g->key = keys;
	if (alloc_groups(g, n) || number_groups(g)) {
		doc_groups_free(g);
		return -1;
	}
	place_members(g);
	return 0;
}

int doc_groups_series(json_t *configs, unsigned omit, int with_params,
		      struct doc_groups *g)
{
	size_t n = json_array_size(configs);
	char **keys = calloc(n + 1, sizeof *keys);
	if (!keys) {
		memset(g, 0, sizeof *g);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = doc_series_id(json_array_get(configs, i), omit,
					with_params);
	return doc_groups_build(keys, n, g);
}

size_t doc_group_size(const struct doc_groups *g, size_t group)
{
	return g->start[group + 1] - g->start[group];
}

size_t doc_group_member(const struct doc_groups *g, size_t group, size_t k)
{
	return g->order[g->start[group] + k];
}

void doc_groups_free(struct doc_groups *g)
{
	for (size_t i = 0; g->key && i < g->n; i++)
		free(g->key[i]);
	free(g->key);
	free(g->order);
	free(g->start);
	free(g->group_of);
	memset(g, 0, sizeof *g);
}
