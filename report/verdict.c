/* verdict.c - `contend doctor`'s first lines: the stored diagnosis, one
 * numbered paragraph per entry (cause, the worker counts it concerns,
 * evidence, module and lock where known, advice). */
#include "report/verdict.h"

#include <string.h>

#include "analysis/diagnosis.h"
#include "document/doc.h"

/* " at 2, 4 workers" from the entry's configuration ids. */
static void workers_of(json_t *doc, json_t *entry, char *buf, size_t len)
{
	json_t *id, *c;
	size_t i, j, used = 0;
	buf[0] = '\0';
	json_array_foreach(json_object_get(entry, "configs"), i, id)
		doc_foreach_config(doc, j, c)
			if (json_is_string(id) && used < len &&
			    !strcmp(doc_str(c, "id", ""), json_string_value(id)))
				used += (size_t)snprintf(buf + used, len - used, "%s%lld",
							 used ? ", " : " (workers ",
							 (long long)doc_workers(c));
	if (used && used < len)
		snprintf(buf + used, len - used, ")");
}

static void entry(FILE *out, json_t *doc, json_t *e, int n)
{
	char w[160];
	workers_of(doc, e, w, sizeof w);
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
	json_t *d = diagnosis_of(doc), *e;
	size_t i;
	int n = 0;
	fputs("Diagnosis:\n", out);
	/* named causes first, "none" last */
	for (int pass = 0; pass < 2; pass++)
		json_array_foreach(d, i, e)
			if ((strcmp(doc_str(e, "cause", ""), "none") != 0) == !pass)
				entry(out, doc, e, ++n);
	if (!n)
		fputs("  (no diagnosis in this document)\n", out);
}
