/* escape.h - document text made safe for a terminal.
 *
 * A results document is outside input: a workload name, a parameter or a
 * command line holding ESC sequences would reach the user's terminal raw
 * (clear the screen, retitle the window, fake a table line). Reports
 * render from a copy whose strings show such characters as visible
 * escapes instead. */
#ifndef CONTEND_ESCAPE_H
#define CONTEND_ESCAPE_H

#include <jansson.h>

/* Rewrite, in place, every string and object key of doc that holds a C0
 * control character (newline and tab included), DEL or a C1 control
 * (U+0080..U+009F): each becomes "\xHH" (C1: "\u00HH"). Returns how
 * many strings and keys changed. */
size_t escape_controls(json_t *doc);

/* The escaped form of s (malloc'd), or NULL when s needs none. */
char *escape_controls_str(const char *s);

#endif
