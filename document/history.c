/* history.c - every run kept in one database (see history.h): what must be
 * the same whatever the storage (validating, canonical encoding, content
 * hash, reading input files), over a backend that stores and queries
 * (history_backend.h). */
#include "document/history.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "document/gbench_import.h"
#include "document/hash.h"
#include "document/history_backend.h"
#include "document/jsonfile.h"
#include "document/doc.h"
#include "document/results.h"

struct history {
	const struct history_backend *ops;
	void *impl;
	char location[4096]; /* for messages */
};

/* Tried in order; the first that claims a location serves it. SQLite
 * claims every location, so it stays last. */
static const struct history_backend *const backends[] = {
	&history_pg,
	&history_sqlite,
	NULL,
};

static const struct history_backend *backend_for(const char *location)
{
	for (size_t i = 0; backends[i]; i++)
		if (backends[i]->claims(location))
			return backends[i];
	return NULL;
}

int history_open(const char *path, int create, history **out, errbuf *e)
{
	*out = NULL;
	const struct history_backend *ops = backend_for(path);
	if (!ops)
		return errf(e, "no history backend serves '%s'", path);
	int rc;
	history *h = calloc(1, sizeof *h);
	if (!h)
		return errf(e, "out of memory");
	h->ops = ops;
	history_location_display(path, h->location, sizeof h->location);
	if ((rc = ops->open(path, create, &h->impl, e)) ||
	    (rc = ops->schema(h->impl, create, e))) {
		history_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

void history_close(history *h)
{
	if (!h)
		return;
	if (h->impl)
		h->ops->close(h->impl);
	free(h);
}

int history_add(history *h, json_t *doc, const char *source,
		const char *file, int64_t *run_id, int *duplicate, errbuf *e)
{
	*duplicate = 0;
	*run_id = 0;
	if (results_validate(doc, e))
		return -1;
	/* Sorted keys and full precision: the same content always hashes the
	 * same, whatever the key order or layout of the file. */
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT |
					     JSON_REAL_PRECISION(17));
	if (!text)
		return errf(e, "cannot encode the document");
	char hash[65];
	hash_sha256_hex(text, strlen(text), hash);
	struct history_doc d = {doc, text, hash, source ? source : "contend",
				file, results_machine(doc)};
	int rc = h->ops->add(h->impl, &d, run_id, duplicate, e);
	free(text);
	return rc;
}

int history_list(history *h, json_t **runs, errbuf *e)
{
	return h->ops->list(h->impl, runs, e);
}

int history_get_run(history *h, int64_t run_id, json_t **doc, errbuf *e)
{
	*doc = NULL;
	char *text;
	if (h->ops->get_run(h->impl, run_id, &text, e))
		return -1;
	json_t *d = json_loads(text, 0, NULL);
	free(text);
	errbuf ignored;
	if (!d || results_validate(d, &ignored)) {
		json_decref(d);
		return errf(e, "history '%s': run %lld holds a damaged "
			    "document", h->location, (long long)run_id);
	}
	*doc = d;
	return 0;
}

int history_pick_pair(history *h, const char *machine, int back,
		      int64_t *base, int64_t *newest, errbuf *e)
{
	return h->ops->pick_pair(h->impl, machine, back, base, newest, e);
}

int history_workloads(history *h, json_t **names, errbuf *e)
{
	return h->ops->workloads(h->impl, names, e);
}

int history_machines(history *h, json_t **names, errbuf *e)
{
	return h->ops->machines(h->impl, names, e);
}

int history_latest_run(history *h, const char *workload, const char *machine,
		       int64_t *run_id, errbuf *e)
{
	return h->ops->latest_run(h->impl, workload, machine, run_id, e);
}

int history_trend(history *h, const char *workload, const char *machine,
		  int max_runs, json_t **trend, errbuf *e)
{
	return h->ops->trend(h->impl, workload, machine, max_runs, trend, e);
}

/* ---- helpers the backends share (history_backend.h) ---- */

char *history_params_text(json_t *c)
{
	json_t *p = json_object_get(c, "params");
	return p ? json_dumps(p, JSON_SORT_KEYS | JSON_COMPACT |
				      JSON_ENCODE_ANY)
		 : NULL;
}

void history_series_key(json_t *c, char *buf, size_t len)
{
	doc_series_key(c, DOC_KEY_ALL, buf, len);
}

/* Copies s into buf with the bytes [from, to) of s replaced by "***". */
static void mask(const char *s, size_t from, size_t to, char *buf,
		 size_t len)
{
	snprintf(buf, len, "%.*s***%s", (int)from, s, s + to);
}

/* The password of postgresql://user:PASSWORD@host/... and of a
 * password=... parameter. */
void history_location_display(const char *loc, char *buf, size_t len)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", loc);
	const char *auth = strstr(tmp, "://");
	if (auth) {
		auth += 3;
		size_t span = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', span);
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth))
				       : NULL;
		if (colon && at - colon > 1) {
			char out[4096];
			mask(tmp, (size_t)(colon + 1 - tmp), (size_t)(at - tmp),
			     out, sizeof out);
			snprintf(tmp, sizeof tmp, "%s", out);
		}
	}
	const char *pw = strstr(tmp, "password=");
	if (pw && pw[9] && pw[9] != '&') {
		size_t from = (size_t)(pw + 9 - tmp);
		mask(tmp, from, from + strcspn(pw + 9, "&"), buf, len);
		return;
	}
	snprintf(buf, len, "%s", tmp);
}

void history_distinct_field(json_t *doc, const char *field, char *buf,
			    size_t len)
{
	json_t *seen = json_object(), *c;
	size_t i;
	buf[0] = 0;
	json_array_foreach(json_object_get(doc, "configs"), i, c) {
		const char *v = doc_str(c, field, NULL);
		if (!v || json_object_get(seen, v))
			continue;
		json_object_set_new(seen, v, json_true());
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", used ? "," : "", v);
	}
	json_decref(seen);
}

/* ---- input files ---- */

int history_load_file(const char *path, json_t **doc, const char **source,
		      errbuf *e)
{
	json_error_t je;
	*doc = NULL;
	int fd = jsonfile_open_regular(path, e); /* a FIFO would block */
	if (fd < 0)
		return -1;
	close(fd);
	json_t *d = jsonfile_load(path, JSON_REJECT_DUPLICATES, &je);
	if (!d)
		return errf(e, "'%s' is not valid JSON: %s (line %d)", path,
			    je.text, je.line);
	if (json_is_object(d) && !json_object_get(d, "schema") &&
	    json_object_get(d, "benchmarks")) {
		json_t *m = gbench_import(d, e);
		json_decref(d);
		/* The import maps fields, it does not judge them: a negative
		 * thread count becomes a negative worker count, which the
		 * document's own validation rejects like any other. */
		if (!m || results_validate(m, e)) {
			json_decref(m);
			return errprefix(e, "'%s'", path);
		}
		*source = "gbench";
		*doc = m;
		return 0;
	}
	if (results_validate(d, e)) {
		json_decref(d);
		return errprefix(e, "'%s'", path);
	}
	*source = "contend";
	*doc = d;
	return 0;
}
