/* comparisons.h - the side-by-side sentences and the overall best of a
 * document, which analysis/sidebyside.c stored in it, as lines: the
 * terminal table and the Markdown export print the same words.
 *
 * Output is bounded: per pair of values a summary line and at most a few
 * sentences, a few pairs of values, then "and N more" (the document keeps
 * every comparison). A document without them (summarised by an older
 * contend) prints nothing here. */
#ifndef CONTEND_COMPARISONS_H
#define CONTEND_COMPARISONS_H

#include <jansson.h>
#include <stdio.h>

enum comparisons_style {
	COMPARISONS_TEXT,	/* the terminal: indented lines */
	COMPARISONS_MD,	/* Markdown: a heading and bullets */
};

void comparisons_render(json_t *doc, FILE *out, enum comparisons_style style);

#endif
