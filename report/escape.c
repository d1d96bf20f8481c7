/* escape.c - see escape.h. */
#include "report/escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of the control character at s, or 0 (jansson strings are valid
 * UTF-8, so a C1 control is always the pair C2 80..9F). */
static size_t control_at(const unsigned char *s)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

char *escape_controls_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, extra = 0;
	for (size_t i = 0; p[i];) {
		size_t k = control_at(p + i);
		extra += k ? 6 : 0;
		i += k ? k : 1;
		n = i;
	}
	if (!extra)
		return NULL;
	char *out = malloc(n + extra + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; p[i];) {
		size_t k = control_at(p + i);
		if (k == 1)
			o += sprintf(o, "\\x%02x", p[i]);
		else if (k == 2)
			o += sprintf(o, "\\u00%02x", p[i + 1]);
		else
			*o++ = (char)p[i];
		i += k ? k : 1;
	}
	*o = 0;
	return out;
}

static size_t escape_object(json_t *obj)
{
	size_t changed = 0;
	const char *key;
	json_t *v, *tmp;
	json_t *renamed = NULL;
	json_object_foreach_safe(obj, tmp, key, v) {
		changed += escape_controls(v);
		char *k = escape_controls_str(key);
		if (!k)
			continue;
		if (!renamed)
			renamed = json_object();
		json_object_set(renamed, k, v);
		json_object_del(obj, key);
		free(k);
		changed++;
	}
	if (renamed) {
		json_object_update(obj, renamed);
		json_decref(renamed);
	}
	return changed;
}

size_t escape_controls(json_t *doc)
{
	size_t changed = 0, i;
	json_t *v;
	if (json_is_object(doc))
		return escape_object(doc);
	if (json_is_array(doc)) {
		json_array_foreach(doc, i, v)
			changed += escape_controls(v);
		return changed;
	}
	if (json_is_string(doc)) {
		char *s = escape_controls_str(json_string_value(doc));
		if (s) {
			json_string_set(doc, s);
			free(s);
			changed++;
		}
	}
	return changed;
}
