/* results.c - writing, loading and validating results documents.
 *
 * Writes never truncate the previous document in place: a reader or a crash
 * sees either the old complete file or the new complete file. */
#include "document/results.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "document/context.h"
#include "document/doc.h"
#include "document/jsonfile.h"
#include "document/outpath.h"
#include "document/validate.h"

json_t *results_new(json_t *context)
{
	return json_pack("{s:s, s:s, s:o, s:[]}", "schema", RESULTS_SCHEMA,
			 "status", "running", "context", context, "configs");
}

static void dir_of(const char *path, char *dir, size_t len)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	snprintf(dir, len, "%s", dirname(tmp));
}

/* A stream (a device, a FIFO, /dev/stdout) is opened, never created. */
static int check_stream(const char *path, errbuf *e)
{
	if (access(path, W_OK) < 0)
		return errf(e, "cannot write results to '%s': %s", path,
			    errno == ENOENT ? "it does not exist (names under "
			    "/dev and /proc are written to, never created)" :
			    strerror(errno));
	return 0;
}

int results_check_writable(const char *path, errbuf *e)
{
	char dir[4096];
	struct stat st;
	int kind = outpath_kind(path, e);
	if (kind < 0)
		return -1;
	if (kind == OUTPATH_STREAM)
		return check_stream(path, e);
	dir_of(path, dir, sizeof dir);
	if (stat(dir, &st) < 0)
		return errf(e, "cannot write results to '%s': directory '%s' "
			    "does not exist", path, dir);
	if (!S_ISDIR(st.st_mode))
		return errf(e, "cannot write results to '%s': '%s' is not a "
			    "directory", path, dir);
	if (access(dir, W_OK) < 0)
		return errf(e, "cannot write results to '%s': directory '%s' "
			    "is not writable", path, dir);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return errf(e, "cannot write results to '%s': it is a "
			    "directory", path);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t k = write(fd, buf, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The replacement is written to an unnamed file (O_TMPFILE) that gets a
 * name (path.tmp.PID.N) only when complete, just before the rename: a
 * kill -9 while writing leaves nothing behind. linkat() through /proc
 * needs no privilege; without /proc or O_TMPFILE (some file systems), a
 * mkstemp() file is written instead. Either way O_EXCL semantics: an
 * existing name is never opened or followed. */
static int open_unnamed(const char *dir)
{
	if (access("/proc/self/fd", X_OK))
		return -1;
	return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
}

static int name_unnamed(int fd, const char *path, char *tmp, size_t len)
{
	static unsigned serial;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	for (int i = 0; i < 100; i++) {
		char tag[48];
		snprintf(tag, sizeof tag, "%d.%u", (int)getpid(), serial++);
		outpath_temp_name(path, tag, tmp, len);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* A stream gets the document once, when it is final: the sweep's saves
 * after each configuration ("running") would be concatenated. */
static int write_stream(const char *path, json_t *doc, errbuf *e)
{
	const char *status = doc_str(doc, "status", NULL);
	if (status && !strcmp(status, "running"))
		return 0;
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
	if (!text)
		return errf(e, "cannot encode results document");
	size_t n = strlen(text);
	text[n] = '\n'; /* json_dumps's NUL: the stream gets no NUL */
	int rc = outpath_write_stream(path, text, n + 1, e);
	free(text);
	return rc;
}

int results_write_atomic(const char *path, json_t *doc, errbuf *e)
{
	char dir[4096], tmp[4200];
	int kind = outpath_kind(path, e);
	if (kind < 0)
		return -1;
	if (kind == OUTPATH_STREAM)
		return write_stream(path, doc, e);
	dir_of(path, dir, sizeof dir);
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
	if (!text)
		return errf(e, "cannot encode results document");
	int named = 0, fd = open_unnamed(dir);
	if (fd < 0) {
		outpath_temp_name(path, "XXXXXX", tmp, sizeof tmp);
		fd = mkstemp(tmp);
		named = 1;
	}
	if (fd < 0) {
		int err = errno;
		free(text);
		return errf(e, "cannot write results to '%s': %s", path,
			    strerror(err));
	}
	int rc = write_all(fd, text, strlen(text)) | write_all(fd, "\n", 1);
	int err = errno;
	free(text);
	if (!rc && fsync(fd) < 0) {
		rc = -1;
		err = errno;
	}
	fchmod(fd, 0644);
	if (!rc && !named) {
		rc = name_unnamed(fd, path, tmp, sizeof tmp);
		err = errno;
		named = !rc;
	}
	if (close(fd) < 0 && !rc) {
		rc = -1;
		err = errno;
	}
	if (!rc && rename(tmp, path) < 0) {
		rc = -1;
		err = errno;
	}
	if (rc) {
		if (named)
			unlink(tmp);
		return errf(e, "cannot write results to '%s': %s", path,
			    strerror(err));
	}
	fsync_dir(dir);
	return 0;
}

static int need(json_t *obj, const char *key, int type, const char *where,
		errbuf *e)
{
	json_t *v = json_object_get(obj, key);
	static const char *names[] = {"an object", "an array", "a string",
				      "an integer", "a number", "true",
				      "false", "null"};
	if (!v)
		return errf(e, "%s has no '%s'", where, key);
	int t = json_typeof(v);
	if (t == type || (type == JSON_REAL && t == JSON_INTEGER))
		return 0;
	return errf(e, "%s: '%s' is not %s", where, key, names[type]);
}

static int validate_config(json_t *c, size_t i, errbuf *e)
{
	char where[64];
	snprintf(where, sizeof where, "configs[%zu]", i);
	if (!json_is_object(c))
		return errf(e, "%s is not an object", where);
	if (need(c, "id", JSON_STRING, where, e) ||
	    need(c, "workload", JSON_STRING, where, e) ||
	    need(c, "build", JSON_STRING, where, e) ||
	    need(c, "pool", JSON_STRING, where, e) ||
	    need(c, "workers", JSON_INTEGER, where, e) ||
	    need(c, "reps", JSON_ARRAY, where, e) ||
	    need(c, "status", JSON_STRING, where, e))
		return -1;
	json_t *rep;
	size_t k;
	json_array_foreach(json_object_get(c, "reps"), k, rep) {
		char rw[96];
		snprintf(rw, sizeof rw, "%s.reps[%zu]", where, k);
		if (!json_is_object(rep))
			return errf(e, "%s is not an object", rw);
		if (need(rep, "wall_s", JSON_REAL, rw, e) ||
		    need(rep, "status", JSON_STRING, rw, e))
			return -1;
	}
	return 0;
}

int results_validate(json_t *doc, errbuf *e)
{
	if (!json_is_object(doc))
		return errf(e, "not a contend results document (top level is "
			    "not an object)");
	json_t *schema = json_object_get(doc, "schema");
	if (!json_is_string(schema))
		return errf(e, "not a contend results document (no 'schema')");
	if (strcmp(json_string_value(schema), RESULTS_SCHEMA))
		return errf(e, "unsupported schema '%s' (expected '%s')",
			    json_string_value(schema), RESULTS_SCHEMA);
	if (need(doc, "context", JSON_OBJECT, "document", e) ||
	    need(doc, "configs", JSON_ARRAY, "document", e))
		return -1;
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		if (validate_config(c, i, e))
			return -1;
	return validate_values(doc, e);
}

static int read_all(int fd, char **text, size_t *len)
{
	size_t cap = 1 << 16;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	char *buf = malloc(cap);
	*text = buf;
	*len = 0;
	for (;;) {
		if (!buf)
			return -1;
		if (*len == cap) {
			char *grown = realloc(buf, cap *= 2);
			if (!grown)
				return -1;
			*text = buf = grown;
		}
		ssize_t k = read(fd, buf + *len, cap - *len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			return 0;
		*len += (size_t)k;
	}
}

int results_load(const char *path, json_t **doc, errbuf *e)
{
	json_error_t je;
	*doc = NULL;
	int fd = jsonfile_open_regular(path, e);
	if (fd < 0)
		return -1;
	/* read whole, then parsed from memory: json_loadfd reads one byte
	 * per read(2), which made loading a 20 MB document take seconds */
	char *text = NULL;
	size_t len = 0;
	int rc = read_all(fd, &text, &len), err = errno;
	close(fd);
	if (rc) {
		free(text);
		return errf(e, "cannot read '%s': %s", path, strerror(err));
	}
	json_t *d = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!d)
		return errf(e, "'%s' is not valid JSON: %s (line %d)", path,
			    je.text, je.line);
	if (results_validate(d, e)) {
		json_decref(d);
		return errprefix(e, "'%s'", path);
	}
	*doc = d;
	return 0;
}

void results_default_path(char *buf, size_t len)
{
	char host[128] = "host", now[32];
	gethostname(host, sizeof host - 1);
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "results/%s-%s.json", now, host);
}

int results_out_open(struct results_out *o, const char *path, errbuf *e)
{
	o->reserved = 0;
	o->lock.fd = -1;
	if (path)
		snprintf(o->path, sizeof o->path, "%s", path);
	else {
		results_default_path(o->path, sizeof o->path);
		mkdir("results", 0755);
	}
	if (results_check_writable(o->path, e))
		return -1;
	if (!path) {
		if (outpath_reserve(o->path, sizeof o->path, e))
			return -1;
		o->reserved = 1;
	}
	if (outpath_kind(o->path, NULL) != OUTPATH_FILE)
		return 0;
	if (outpath_lock(o->path, &o->lock, e)) {
		if (o->reserved)
			unlink(o->path);
		return -1;
	}
	outpath_remove_stale_temps(o->path);
	return 0;
}

void results_out_close(struct results_out *o)
{
	struct stat st;
	/* a reserved name nothing was written to (the run failed first) */
	if (o->reserved && stat(o->path, &st) == 0 && st.st_size == 0)
		unlink(o->path);
	outpath_unlock(&o->lock);
}

int results_same_params(json_t *a, json_t *b)
{
	json_t *pa = json_object_get(a, "params"), *pb = json_object_get(b, "params");
	return pa == pb || json_equal(pa, pb);
}

const char *results_machine(json_t *doc)
{
	json_t *ctx = json_object_get(doc, "context");
	const char *m = doc_str(ctx, "machine", NULL);
	if (!m || !*m)
		m = doc_str(ctx, "host", NULL);
	return m && *m ? m : "unknown";
}
