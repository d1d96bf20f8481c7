/* dashboard_notes.c - the terminal's account of a run on the dashboard
 * (see dashboard_notes.h).
 *
 * The notes are table_render's own text, not a second wording of them:
 * what a user reads in the terminal and on the page can never disagree,
 * and a note added to the report (the diagnosis's Next lines among them)
 * appears here without a change here. The stored diagnosis itself, entry
 * by entry, is the diagnosis module's to render. */
#include "report/dashboard_notes.h"

#include <stdlib.h>
#include <string.h>

#include "report/dashboard.h"
#include "report/table.h"

void dashboard_notes(FILE *f, json_t *doc)
{
	char *text = NULL;
	size_t len = 0;
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
