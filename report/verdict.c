/* verdict.c - `contend doctor`'s first lines: the stored diagnosis, one
 * numbered paragraph per entry (cause, the worker counts it concerns,
 * evidence, module and lock where known, advice). */
#include "report/verdict.h"

#include <stdio.h>
#include <string.h>

#include "analysis/diagnosis.h"
#include "document/doc.h"

/* " (workers 2, 4)" from the entry's configuration ids (by_id: id ->
 * config, made once); exec's --param/--env configurations by series,
 * " (mode=thread, OPENBLAS_NUM_THREADS=1: workers 2; mode=process, ...:
 * workers 2, 4)". */
static void workers_of(json_t *by_id, json_t *entry, char *buf, size_t len)
{
	json_t *id, *c;
	size_t i, used = 0;
	char prev[512] = "";
	buf[0] = '\0';
	json_array_foreach(json_object_get(entry, "configs"), i, id) {
		char swept[512];
		c = json_is_string(id) ? json_object_get(by_id, json_string_value(id)) : NULL;
		if (!c || used >= len)
			continue;
		doc_swept_label(c, swept, sizeof swept);
		if (!used || strcmp(swept, prev))
			used += (size_t)snprintf(buf + used, len - used, "%s%s%sworkers ",
						 used ? "; " : " (", swept,
						 *swept ? ": " : "");
		else
			used += (size_t)snprintf(buf + used, len - used, ", ");
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%lld",
						 (long long)doc_workers(c));
		snprintf(prev, sizeof prev, "%s", swept);
	}
	if (used && used < len)
		snprintf(buf + used, len - used, ")");
}

static void entry(FILE *out, json_t *by_id, json_t *e, int n)
{
	char w[1024];
	workers_of(by_id, e, w, sizeof w);
	fprintf(out, "  %d. %s%s: %s.\n", n, doc_str(e, "cause", "?"), w,
		doc_str(e, "evidence", ""));
	if (doc_str(e, "lock", NULL))
		fprintf(out, "     lock: %s\n", doc_str(e, "lock", ""));
	if (doc_str(e, "module", NULL))
		fprintf(out, "     module: %s\n", doc_str(e, "module", ""));
	if (*doc_str(e, "advice", ""))
		fprintf(out, "     Advice: %s.\n", doc_str(e, "advice", ""));
}

void verdict_render(json_t *doc, FILE *out)
{
	json_t *d = diagnosis_of(doc), *e, *c, *by_id = json_object();
	size_t i;
	int n = 0;
	doc_foreach_config(doc, i, c)
		if (doc_str(c, "id", NULL))
			json_object_set(by_id, doc_str(c, "id", ""), c);
	fputs("Diagnosis:\n", out);
	/* named causes first, "none" last */
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(d, i, e)
			if ((strcmp(doc_str(e, "cause", ""), "none") != 0) == !pass)
				entry(out, by_id, e, ++n);
	if (!n)
		fputs("  (no diagnosis in this document)\n", out);
	json_decref(by_id);
}
