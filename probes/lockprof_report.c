/* lockprof_report.c - merges the per-process JSON reports of the LD_PRELOAD
 * lock profiler into one summary (see lockprof_report.h for the shape and
 * for how locks of different processes are matched up). */
#include "probes/lockprof_report.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_REPORT_BYTES (64L << 20) /* a real report is kilobytes */
#define MAX_PROCESS_LIST 256

/* ---- validation --------------------------------------------------------- */

static int is_count(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static int check_counts(const json_t *o, const char *const *keys, const char *what,
			errbuf *e)
{
	for (; *keys; keys++)
		if (!is_count(o, *keys))
			return errf(e, "%s: '%s' is missing or not a count", what, *keys);
	return 0;
}

static int check_site(const json_t *s, errbuf *e)
{
	static const char *const counts[] = {"count", "wait_ns", NULL};
	if (!json_is_object(s) || !json_is_string(json_object_get(s, "where")))
		return errf(e, "a call site has no 'where'");
	const json_t *frames = json_object_get(s, "frames");
	if (frames && !json_is_array(frames))
		return errf(e, "a call site's 'frames' is not a list");
	return check_counts(s, counts, "call site", e);
}

static int check_lock(const json_t *l, errbuf *e)
{
	static const char *const counts[] = {"acquisitions", "contended", "wait_ns",
					     "max_wait_ns", "timeouts", NULL};
	if (!json_is_object(l))
		return errf(e, "a lock entry is not an object");
	const char *kind = json_string_value(json_object_get(l, "kind"));
	if (!kind || (strcmp(kind, "mutex") && strcmp(kind, "rwlock") && strcmp(kind, "cond")))
		return errf(e, "a lock has an unknown kind");
	if (!json_is_string(json_object_get(l, "address")))
		return errf(e, "a lock has no address");
	if (check_counts(l, counts, "lock", e) < 0)
		return -1;
	const json_t *sites = json_object_get(l, "sites");
	if (!json_is_array(sites))
		return errf(e, "a lock has no 'sites' list");
	size_t i;
	const json_t *s;
	json_array_foreach(sites, i, s)
		if (check_site(s, e) < 0)
			return -1;
	return 0;
}

int lockprof_check_report(const json_t *doc, errbuf *e)
{
	static const char *const totals[] = {"locks", "acquisitions", "contended",
					     "lock_wait_ns", "cond_waits", "cond_wait_ns", NULL};
	if (!json_is_object(doc))
		return errf(e, "not a JSON object");
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, LOCKPROF_SCHEMA))
		return errf(e, "not a lock profile (schema is not %s)", LOCKPROF_SCHEMA);
	const json_t *proc = json_object_get(doc, "process");
	if (!json_is_object(proc) || !is_count(proc, "pid"))
		return errf(e, "no process pid");
	if (!is_count(doc, "wall_ns"))
		return errf(e, "no wall_ns");
	const json_t *t = json_object_get(doc, "totals");
	if (!json_is_object(t))
		return errf(e, "no totals");
	if (check_counts(t, totals, "totals", e) < 0)
		return -1;
	const json_t *locks = json_object_get(doc, "locks");
	if (!json_is_array(locks))
		return errf(e, "no 'locks' list");
	size_t i;
	const json_t *l;
	json_array_foreach(locks, i, l)
		if (check_lock(l, e) < 0)
			return -1;
	return 0;
}

/* ---- merging ------------------------------------------------------------ */

struct merge {
	json_t *classes;  /* lock class key -> merged lock, times in ns */
	json_t *procs;	  /* process_list */
	json_t *skipped;
	int processes;
	json_int_t acquisitions, contended, lock_wait_ns, cond_waits, cond_wait_ns;
	json_int_t locks, untracked;
};

static json_int_t geti(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void addi(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new(o, key, json_integer(geti(o, key) + v));
}

static void maxi(json_t *o, const char *key, json_int_t v)
{
	if (v > geti(o, key))
		json_object_set_new(o, key, json_integer(v));
}

static double secs(json_int_t ns)
{
	return (double)ns / 1e9;
}

/* Kind plus the site where it waited most: the report lists sites most
 * waited first. Without a site: kind, address and executable. */
static char *class_key(const json_t *lock, const json_t *proc)
{
	const char *kind = json_string_value(json_object_get(lock, "kind"));
	const json_t *top = json_array_get(json_object_get(lock, "sites"), 0);
	char *key = NULL;
	int n;
	if (top)
		n = asprintf(&key, "%s %s", kind, json_string_value(json_object_get(top, "where")));
	else
		n = asprintf(&key, "%s @%s %s", kind,
			     json_string_value(json_object_get(lock, "address")),
			     json_string_value(json_object_get(proc, "exe")) ?: "?");
	return n < 0 ? NULL : key;
}

static json_t *new_class(const json_t *lock)
{
	const json_t *top = json_array_get(json_object_get(lock, "sites"), 0);
	return json_pack("{s:O, s:s?, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:i}",
			 "kind", json_object_get(lock, "kind"),
			 "site", top ? json_string_value(json_object_get(top, "where")) : NULL,
			 "processes", 0, "locks", 0, "acquisitions", (json_int_t)0,
			 "contended", (json_int_t)0, "timeouts", (json_int_t)0,
			 "wait_ns", (json_int_t)0, "max_wait_ns", (json_int_t)0,
			 "sites", json_object(), "_report", -1);
}

static int merge_site(json_t *sites, const json_t *s)
{
	const char *where = json_string_value(json_object_get(s, "where"));
	json_t *m = json_object_get(sites, where);
	if (!m) {
		json_t *frames = json_object_get(s, "frames");
		m = json_pack("{s:s, s:O?, s:O?, s:I, s:I, s:o}", "where", where,
			      "symbol", json_object_get(s, "symbol"),
			      "object", json_object_get(s, "object"), "count", (json_int_t)0,
			      "wait_ns", (json_int_t)0,
			      "frames", frames ? json_incref(frames) : json_array());
		if (!m || json_object_set_new(sites, where, m) < 0)
			return -1;
	}
	addi(m, "count", geti(s, "count"));
	addi(m, "wait_ns", geti(s, "wait_ns"));
	return 0;
}

static int merge_lock(struct merge *mg, const json_t *lock, const json_t *proc, int report)
{
	char *key = class_key(lock, proc);
	if (!key)
		return -1;
	json_t *c = json_object_get(mg->classes, key);
	if (!c) {
		c = new_class(lock);
		if (!c || json_object_set_new(mg->classes, key, c) < 0) {
			free(key);
			return -1;
		}
	}
	free(key);
	if (geti(c, "_report") != report) {
		addi(c, "processes", 1);
		json_object_set_new(c, "_report", json_integer(report));
	}
	addi(c, "locks", 1);
	static const char *const sums[] = {"acquisitions", "contended", "timeouts", "wait_ns", NULL};
	for (const char *const *k = sums; *k; k++)
		addi(c, *k, geti(lock, *k));
	maxi(c, "max_wait_ns", geti(lock, "max_wait_ns"));
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(lock, "sites"), i, s)
		if (merge_site(json_object_get(c, "sites"), s) < 0)
			return -1;
	return 0;
}

static void merge_process(struct merge *mg, const json_t *doc)
{
	const json_t *t = json_object_get(doc, "totals"), *p = json_object_get(doc, "process");
	mg->acquisitions += geti(t, "acquisitions");
	mg->contended += geti(t, "contended");
	mg->lock_wait_ns += geti(t, "lock_wait_ns");
	mg->cond_waits += geti(t, "cond_waits");
	mg->cond_wait_ns += geti(t, "cond_wait_ns");
	mg->locks += geti(t, "locks");
	mg->untracked += geti(t, "untracked_ops");
	if (json_array_size(mg->procs) < MAX_PROCESS_LIST)
		json_array_append_new(
			mg->procs,
			json_pack("{s:O, s:O?, s:O?, s:f, s:f}", "pid", json_object_get(p, "pid"),
				  "ppid", json_object_get(p, "ppid"),
				  "argv0", json_object_get(p, "argv0"),
				  "wall_s", secs(geti(doc, "wall_ns")),
				  "wait_s", secs(geti(t, "lock_wait_ns") + geti(t, "cond_wait_ns"))));
}

static void skip(struct merge *mg, const char *file, const char *reason)
{
	json_array_append_new(mg->skipped, json_pack("{s:s, s:s}", "file", file, "reason", reason));
}

/* Read, check and merge one file; problems with the file go to "skipped". */
static int merge_file(struct merge *mg, const char *dir, const char *name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -1;
	struct stat sb;
	json_error_t jerr;
	errbuf why;
	json_t *doc = NULL;
	if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		skip(mg, name, "not a regular file");
	else if (sb.st_size > MAX_REPORT_BYTES)
		skip(mg, name, "too large to be a report");
	else if (!(doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)))
		skip(mg, name, jerr.text);
	else if (lockprof_check_report(doc, &why) < 0)
		skip(mg, name, why.msg);
	else {
		int report = mg->processes++;
		merge_process(mg, doc);
		size_t i;
		const json_t *l;
		json_array_foreach(json_object_get(doc, "locks"), i, l)
			if (merge_lock(mg, l, json_object_get(doc, "process"), report) < 0) {
				json_decref(doc);
				free(path);
				return -1;
			}
	}
	json_decref(doc);
	free(path);
	return 0;
}

static int by_wait(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t wx = geti(x, "wait_ns"), wy = geti(y, "wait_ns");
	if (wx != wy)
		return (wx < wy) - (wx > wy);
	json_int_t cx = geti(x, "contended"), cy = geti(y, "contended");
	if (cx != cy)
		return (cx < cy) - (cx > cy);
	json_int_t ax = geti(x, "acquisitions"), ay = geti(y, "acquisitions");
	return (ax < ay) - (ax > ay);
}

/* The values of obj, most waited first, as a new array of borrowed refs. */
static json_t **sorted_values(json_t *obj, size_t *n)
{
	*n = json_object_size(obj);
	json_t **v = calloc(*n ? *n : 1, sizeof *v);
	if (!v)
		return NULL;
	size_t i = 0;
	const char *k;
	json_t *x;
	json_object_foreach(obj, k, x)
		v[i++] = x;
	qsort(v, *n, sizeof *v, by_wait);
	return v;
}

/* ns -> s for one entry, in place: the summary speaks seconds. */
static void to_seconds(json_t *o, const char *ns_key, const char *s_key)
{
	json_object_set_new(o, s_key, json_real(secs(geti(o, ns_key))));
	json_object_del(o, ns_key);
}

static json_t *finish_class(json_t *c)
{
	size_t n;
	json_t **sites = sorted_values(json_object_get(c, "sites"), &n);
	json_t *list = json_array();
	for (size_t i = 0; sites && i < n; i++) {
		json_t *s = json_deep_copy(sites[i]);
		to_seconds(s, "wait_ns", "wait_s");
		json_array_append_new(list, s);
	}
	free(sites);
	json_t *out = json_deep_copy(c);
	json_object_del(out, "_report");
	to_seconds(out, "wait_ns", "wait_s");
	to_seconds(out, "max_wait_ns", "max_wait_s");
	json_object_set_new(out, "sites", list);
	return out;
}

static json_t *top_locks(struct merge *mg, int top_n)
{
	size_t n;
	json_t **v = sorted_values(mg->classes, &n);
	json_t *arr = json_array();
	for (size_t i = 0; v && i < n && i < (size_t)top_n; i++)
		json_array_append_new(arr, finish_class(v[i]));
	free(v);
	return arr;
}

static json_t *summary_of(struct merge *mg, const char *dir, int top_n)
{
	json_t *notes = json_array();
	size_t nskip = json_array_size(mg->skipped);
	if (nskip) {
		char buf[128];
		snprintf(buf, sizeof buf, "%zu report file%s skipped (unreadable or corrupt)",
			 nskip, nskip == 1 ? "" : "s");
		json_array_append_new(notes, json_string(buf));
	}
	if (mg->processes > MAX_PROCESS_LIST)
		json_array_append_new(notes, json_string("process_list truncated"));
	if (mg->untracked)
		json_array_append_new(notes, json_string("lock table full in some process: "
							 "untracked_ops were not measured"));
	return json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:O, s:O, s:o}",
			 "schema", LOCKPROF_SUMMARY_SCHEMA, "dir", dir,
			 "processes", mg->processes,
			 "wait_s", secs(mg->lock_wait_ns + mg->cond_wait_ns),
			 "lock_wait_s", secs(mg->lock_wait_ns), "cond_wait_s", secs(mg->cond_wait_ns),
			 "acquisitions", mg->acquisitions, "contended", mg->contended,
			 "cond_waits", mg->cond_waits, "locks", mg->locks,
			 "untracked_ops", mg->untracked, "top_locks", top_locks(mg, top_n),
			 "process_list", mg->procs, "skipped", mg->skipped, "notes", notes);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Report names in dir, sorted so the merge is deterministic; hidden files
 * (reports still being written) and non-.json files are not ours. */
static char **list_reports(const char *dir, size_t *n, errbuf *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return errf(e, "cannot read lock profile directory %s: %s", dir, strerror(errno)),
		       NULL;
	size_t cap = 16;
	char **names = malloc(cap * sizeof *names);
	*n = 0;
	struct dirent *de;
	while (names && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (*n == cap) {
			char **grown = realloc(names, (cap *= 2) * sizeof *names);
			if (!grown)
				break;
			names = grown;
		}
		if (!(names[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	closedir(d);
	if (names)
		qsort(names, *n, sizeof *names, name_cmp);
	else
		errf(e, "out of memory listing %s", dir);
	return names;
}

int lockprof_merge_dir_top(const char *dir, int top_n, json_t **summary, errbuf *e)
{
	*summary = NULL;
	if (!dir || !*dir)
		return errf(e, "no lock profile directory given");
	if (top_n < 1)
		return errf(e, "top lock count must be at least 1, not %d", top_n);
	size_t n;
	char **names = list_reports(dir, &n, e);
	if (!names)
		return -1;
	struct merge mg = {.classes = json_object(), .procs = json_array(),
			   .skipped = json_array()};
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && merge_file(&mg, dir, names[i]) < 0)
			rc = errf(e, "out of memory merging lock profiles in %s", dir);
		free(names[i]);
	}
	free(names);
	if (rc == 0 && !(*summary = summary_of(&mg, dir, top_n)))
		rc = errf(e, "out of memory building the lock profile summary");
	json_decref(mg.classes);
	json_decref(mg.procs);
	json_decref(mg.skipped);
	return rc;
}

int lockprof_merge_dir(const char *dir, json_t **summary, errbuf *e)
{
	return lockprof_merge_dir_top(dir, LOCKPROF_TOP_DEFAULT, summary, e);
}
