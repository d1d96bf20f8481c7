/* jsonfile.c - see jsonfile.h. */
#include "document/jsonfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int jsonfile_open_regular(const char *path, errbuf *e)
{
	/* O_NONBLOCK: opening a FIFO with no writer returns at once */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errf(e, "cannot read '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errf(e, "cannot read '%s': not a regular file", path);
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static char *read_all(int fd, size_t *len)
{
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *more = realloc(buf, cap *= 2);
		if (!more)
			free(buf);
		buf = more;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* A bare word at text[i]: not glued to a letter, digit or dot before or
 * after (so "xNaN" or "NaNa" are left for jansson to refuse). */
static size_t token_at(const char *text, size_t len, size_t i, const char *word)
{
	size_t w = strlen(word);
	if (len - i < w || memcmp(text + i, word, w))
		return 0;
	if (i > 0 && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '.'))
		return 0;
	if (i + w < len && (isalnum((unsigned char)text[i + w]) || text[i + w] == '.'))
		return 0;
	return w;
}

char *jsonfile_nonfinite_to_null(const char *text, size_t len, size_t *out_len)
{
	static const char *const words[] = {"-Infinity", "Infinity", "NaN"};
	/* "NaN" -> "null" is the only growth: one byte per three */
	char *out = malloc(len + len / 3 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	int in_string = 0;
	for (size_t i = 0; i < len;) {
		char ch = text[i];
		if (in_string) {
			out[o++] = text[i++];
			if (ch == '\\' && i < len)
				out[o++] = text[i++];
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		size_t w = 0;
		for (size_t k = 0; k < 3 && !w; k++)
			w = token_at(text, len, i, words[k]);
		if (w) {
			memcpy(out + o, "null", 4);
			o += 4;
			i += w;
			continue;
		}
		in_string = ch == '"';
		out[o++] = text[i++];
	}
	out[o] = 0;
	*out_len = o;
	return out;
}

json_t *jsonfile_load(const char *path, size_t flags, json_error_t *je)
{
	size_t len = 0, fixed_len = 0;
	errbuf e;
	int fd = jsonfile_open_regular(path, &e);
	if (fd < 0) {
		memset(je, 0, sizeof *je);
		/* jansson's text is short: the reason, not the path */
		const char *why = strstr(e.msg, "': ");
		snprintf(je->text, sizeof je->text, "%.150s", why ? why + 3 : e.msg);
		return NULL;
	}
	char *text = read_all(fd, &len);
	if (!text) {
		memset(je, 0, sizeof *je);
		snprintf(je->text, sizeof je->text, "read error");
		return NULL;
	}
	json_t *d = json_loadb(text, len, flags, je);
	if (!d) {
		json_error_t again;
		char *fixed = jsonfile_nonfinite_to_null(text, len, &fixed_len);
		if (fixed)
			d = json_loadb(fixed, fixed_len, flags, &again);
		free(fixed);
	}
	free(text);
	return d;
}
