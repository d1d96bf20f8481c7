/* dashboard_fleet.c - machines side by side (see dashboard_fleet.h). */
#include "report/dashboard_fleet.h"

#include <math.h>
#include <string.h>

#include "document/doc.h"
#include "document/results.h"
#include "report/dashboard.h"

void dashboard_fmt_time(json_t *seconds, char *buf, size_t len)
{
	if (!json_is_number(seconds)) {
		snprintf(buf, len, "n/a");
		return;
	}
	double s = json_number_value(seconds);
	const char *unit = "s";
	if (fabs(s) < 1e-3) {
		s *= 1e6;
		unit = "us";
	} else if (fabs(s) < 1) {
		s *= 1e3;
		unit = "ms";
	}
	int dec = fabs(s) >= 100 ? 0 : fabs(s) >= 10 ? 1 : 2;
	snprintf(buf, len, "%.*f %s", dec, s, unit);
}

/* The latest document of w for each machine (null where it never ran w). */
static int latest_docs(history *h, const char *w, json_t *machines,
		       json_t *docs, size_t *nran, errbuf *e)
{
	json_t *m;
	size_t i;
	*nran = 0;
	json_array_foreach(machines, i, m) {
		int64_t id;
		json_t *doc = NULL;
		int rc = history_latest_run(h, w, json_string_value(m), &id, e);
		if (!rc && id)
			rc = history_get_run(h, id, &doc, e);
		if (rc)
			return rc;
		json_array_append_new(docs, doc ? doc : json_null());
		*nran += doc != NULL;
	}
	return 0;
}

static json_t *config_of(json_t *doc, json_t *like)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (json_equal(json_object_get(c, "id"), json_object_get(like, "id")) &&
		    results_same_params(c, like) &&
		    json_is_number(json_object_get(c, "median_wall_s")))
			return c;
	return NULL;
}

/* Fastest against slowest of the machines that ran c. */
static void verdict(FILE *f, json_t *machines, json_t *row)
{
	size_t i, fast = 0, slow = 0, n = 0;
	double tf = INFINITY, ts = -INFINITY;
	json_t *c;
	json_array_foreach(row, i, c) {
		if (json_is_null(c))
			continue;
		double t = doc_num(c, "median_wall_s", 0);
		n++;
		if (t < tf)
			tf = t, fast = i;
		if (t > ts)
			ts = t, slow = i;
	}
	fputs("<td>", f);
	if (n >= 2 && tf > 0) {
		char text[512];
		snprintf(text, sizeof text, "%s is %.2fx faster than %s",
			 json_string_value(json_array_get(machines, fast)),
			 ts / tf,
			 json_string_value(json_array_get(machines, slow)));
		html_escape(f, text);
	} else {
		fputs("one machine only", f);
	}
	fputs("</td>", f);
}

static void side_row(FILE *f, json_t *machines, json_t *docs, json_t *c,
		     const char *w)
{
	json_t *row = json_array(), *d;
	size_t i, have = 0;
	json_array_foreach(docs, i, d) {
		json_t *mc = json_is_null(d) ? NULL : config_of(d, c);
		json_array_append(row, mc ? mc : json_null());
		have += mc != NULL;
	}
	if (have >= 2) {
		const char *id = doc_str(c, "id", NULL);
		size_t n = strlen(w);
		fputs("<tr><td>", f);
		html_escape(f, !strncmp(id, w, n) && id[n] == '/' ? id + n + 1 : id);
		fputs("</td>", f);
		json_array_foreach(row, i, d) {
			char t[32];
			dashboard_fmt_time(json_object_get(d, "median_wall_s"), t,
					   sizeof t);
			fprintf(f, "<td class=\"num\">%s</td>", t);
		}
		verdict(f, machines, row);
		fputs("</tr>\n", f);
	}
	json_decref(row);
}

/* Rows: every configuration of the first machine that ran w that at
 * least one other machine ran with the same id and params. */
static void side_table(FILE *f, json_t *machines, json_t *docs,
		       const char *w)
{
	json_t *m, *first = NULL, *d, *c;
	size_t i;
	fputs("<table class=\"machines\"><thead><tr><th>configuration</th>", f);
	json_array_foreach(machines, i, m) {
		fputs("<th>", f);
		html_escape(f, json_string_value(m));
		fputs(" median</th>", f);
	}
	fputs("<th>side by side</th></tr></thead>\n<tbody>\n", f);
	json_array_foreach(docs, i, d)
		if (!first && !json_is_null(d))
			first = d;
	json_array_foreach(json_object_get(first, "configs"), i, c)
		side_row(f, machines, docs, c, w);
	fputs("</tbody></table>\n", f);
}

int dashboard_machines_side_by_side(FILE *f, history *h, const char *w,
				    json_t *machines, errbuf *e)
{
	json_t *docs = json_array();
	size_t nran;
	int rc = latest_docs(h, w, machines, docs, &nran, e);
	if (!rc && nran >= 2) {
		fputs("<h3>Machines side by side (latest run of each)</h3>\n", f);
		side_table(f, machines, docs, w);
	}
	json_decref(docs);
	return rc;
}
