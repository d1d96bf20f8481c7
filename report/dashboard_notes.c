/* dashboard_notes.c - the terminal's account of a run on the dashboard
 * (see dashboard_notes.h).
 *
 * The notes are table_render's own text, not a second wording of them:
 * what a user reads in the terminal and on the page can never disagree,
 * and a note added to the report appears here without a change. */
#include "report/dashboard_notes.h"

#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "report/dashboard.h"
#include "report/table.h"

/* The text of one diagnosis entry: a string, or the first of the usual
 * text fields of an object. */
static const char *entry_text(json_t *d)
{
	static const char *const keys[] = {"message", "text", "summary",
					   "finding", "title", NULL};
	if (json_is_string(d))
		return json_string_value(d);
	for (size_t i = 0; keys[i]; i++)
		if (json_is_string(json_object_get(d, keys[i])))
			return json_string_value(json_object_get(d, keys[i]));
	return NULL;
}

/* The entry's kind or severity, shown before its text. */
static const char *entry_kind(json_t *d)
{
	static const char *const keys[] = {"kind", "severity", "level",
					   "cause", NULL};
	for (size_t i = 0; json_is_object(d) && keys[i]; i++)
		if (json_is_string(json_object_get(d, keys[i])))
			return json_string_value(json_object_get(d, keys[i]));
	return NULL;
}

static void diagnosis(FILE *f, json_t *doc)
{
	json_t *list = json_object_get(doc, "diagnosis"), *d;
	size_t i;
	if (!json_array_size(list))
		return;
	fputs("<h4>Diagnosis</h4>\n<ul class=\"diagnosis\">\n", f);
	json_array_foreach(list, i, d) {
		const char *text = entry_text(d), *kind = entry_kind(d);
		if (!text)
			continue;
		fputs("<li>", f);
		if (kind) {
			fputs("<b>", f);
			html_escape(f, kind);
			fputs("</b>: ", f);
		}
		html_escape(f, text);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

void dashboard_notes(FILE *f, json_t *doc)
{
	char *text = NULL;
	size_t len = 0;
	diagnosis(f, doc);
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return;
	table_render(doc, m);
	fclose(m);
	if (len) {
		fputs("<h4>Tables and notes, as the terminal reports them</h4>\n"
		      "<pre class=\"terminal\">", f);
		html_escape(f, text);
		fputs("</pre>\n", f);
	}
	free(text);
}
