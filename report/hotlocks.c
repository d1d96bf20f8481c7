/* hotlocks.c - the most contended locks of a document (see hotlocks.h). */
#include "report/hotlocks.h"

#include <math.h>
#include <string.h>

#include "document/doc.h"
#include "report/table.h"

static json_t *worst_config(json_t *doc)
{
	json_t *c, *worst = NULL;
	size_t i;
	doc_foreach_config(doc, i, c) {
		double s = doc_figure(c, "lock.share", NAN);
		if (isfinite(s) && s > 0 &&
		    (!worst || s > doc_figure(worst, "lock.share", NAN)))
			worst = c;
	}
	return worst;
}

static json_t *worst_rep(json_t *config)
{
	json_t *rep, *worst = NULL;
	size_t i;
	json_array_foreach(json_object_get(config, "reps"), i, rep)
		if (json_array_size(json_object_get(json_object_get(rep, "lock"),
						    "top")) &&
		    (!worst || doc_figure(rep, "lock.wait_s", NAN) >
				       doc_figure(worst, "lock.wait_s", NAN)))
			worst = rep;
	return worst;
}

static void print_lock(json_t *l, FILE *out)
{
	char t[32];
	json_t *s;
	size_t i;
	const char *kind = doc_str(l, "kind", NULL);
	int cond = kind && !strcmp(kind, "cond");
	table_fmt_seconds(doc_num(l, "wait_s", 0), t, sizeof t);
	fprintf(out, "    %-6s %9s  %6lld %-9s  %s\n", kind ? kind : "?", t,
		(long long)doc_int(l, "contended", 0),
		cond ? "waits" : "contended",
		doc_str(l, "site", "(no call site)"));
	json_t *sites = json_object_get(l, "sites");
	if (json_array_size(sites) < 2)
		return;
	json_array_foreach(sites, i, s) {
		table_fmt_seconds(doc_num(s, "wait_s", 0), t, sizeof t);
		fprintf(out, "           %9s  %6lld            at %s\n", t,
			(long long)doc_int(s, "count", 0),
			doc_str(s, "where", "?"));
	}
}

void hotlocks_render(json_t *doc, FILE *out)
{
	json_t *c = worst_config(doc), *rep = c ? worst_rep(c) : NULL, *l;
	size_t i;
	if (!rep)
		return;
	json_int_t w = doc_workers(c);
	fprintf(out, "\n  Most contended locks at %lld worker%s, where %.0f %% of "
		"worker time waited (repetition %lld of %zu):\n",
		(long long)w, w == 1 ? "" : "s",
		doc_figure(c, "lock.share", NAN) * 100,
		(long long)doc_int(rep, "index", 0) + 1, doc_nreps(c));
	fprintf(out, "    %-6s %9s  %6s %-9s  %s\n", "kind", "waited", "count", "",
		"call site (cond: waiting on a condition variable)");
	json_array_foreach(json_object_get(json_object_get(rep, "lock"), "top"),
			   i, l)
		print_lock(l, out);
}
