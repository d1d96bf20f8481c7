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

static int is_str_or_null(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return !v || json_is_null(v) || json_is_string(v);
}

static int check_strings(const json_t *a)
{
	size_t i;
	const json_t *v;
	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return -1;
	return 0;
}

/* A stack: counts, frames as "where" strings, and the module (the first
 * frame outside the runtime) as an object with object and where, or null. */
static int check_stack(const json_t *s, errbuf *e)
{
	static const char *const counts[] = {"count", "wait_ns", NULL};
	if (!json_is_object(s) || check_strings(json_object_get(s, "frames")) < 0)
		return errf(e, "a stack has no list of frames");
	const json_t *m = json_object_get(s, "module");
	if (m && !json_is_null(m) &&
	    (!json_is_object(m) || !json_is_string(json_object_get(m, "object")) ||
	     !json_is_string(json_object_get(m, "where")) || !is_str_or_null(m, "symbol")))
		return errf(e, "a stack's module is not an object with object and where");
	return check_counts(s, counts, "stack", e);
}

static int check_lock_names(const json_t *l, errbuf *e)
{
	if (!is_str_or_null(l, "name") || !is_str_or_null(l, "identity") ||
	    !is_str_or_null(l, "named_by"))
		return errf(e, "a lock's name, identity or named_by is not a string");
	const json_t *stacks = json_object_get(l, "stacks");
	if (stacks && !json_is_array(stacks))
		return errf(e, "a lock's 'stacks' is not a list");
	size_t i;
	const json_t *s;
	json_array_foreach(stacks, i, s)
		if (check_stack(s, e) < 0)
			return -1;
	return 0;
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
	if (check_lock_names(l, e) < 0)
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

/* The census is optional (older reports have none); where present, every
 * field the merge reads has its type. */
static int check_census(const json_t *c, errbuf *e)
{
	static const char *const ints[] = {"cores_online", "cores_allowed", "threads_created",
					   "peak_threads", "threads_at_exit", NULL};
	if (!c)
		return 0;
	if (!json_is_object(c))
		return errf(e, "the census is not an object");
	for (const char *const *k = ints; *k; k++)
		if (json_object_get(c, *k) && !json_is_integer(json_object_get(c, *k)))
			return errf(e, "census: '%s' is not a number", *k);
	const json_t *pools = json_object_get(c, "pools"), *by = json_object_get(c, "threads_by_creator");
	size_t i;
	const json_t *v;
	if ((pools && !json_is_array(pools)) || (by && !json_is_array(by)))
		return errf(e, "census: pools or threads_by_creator is not a list");
	json_array_foreach(pools, i, v)
		if (!json_is_object(v) || !json_is_string(json_object_get(v, "library")) ||
		    !json_is_string(json_object_get(v, "path")) ||
		    !json_is_integer(json_object_get(v, "threads")))
			return errf(e, "census: a pool has no library, path or threads");
	json_array_foreach(by, i, v)
		if (!json_is_object(v) || !json_is_string(json_object_get(v, "object")) ||
		    !is_count(v, "count"))
			return errf(e, "census: a thread creator has no object or count");
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
	if (check_census(json_object_get(doc, "census"), e) < 0)
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
	json_t *pools;	  /* census: pool path -> merged pool */
	json_t *creators; /* census: creating object -> merged count */
	json_int_t census_procs, threads_created, peak_threads, cores_online, cores_allowed;
	json_int_t programs; /* census processes that began with an exec, not a fork */
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
	return json_pack("{s:O, s:n, s:n, s:n, s:s?, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o, "
			 "s:o, s:i}",
			 "kind", json_object_get(lock, "kind"), "name", "identity", "named_by",
			 "site", top ? json_string_value(json_object_get(top, "where")) : NULL,
			 "processes", 0, "locks", 0, "acquisitions", (json_int_t)0,
			 "contended", (json_int_t)0, "timeouts", (json_int_t)0,
			 "wait_ns", (json_int_t)0, "max_wait_ns", (json_int_t)0,
			 "sites", json_object(), "stacks", json_object(), "_report", -1);
}

/* The first process that recognised the lock names the class. */
static void merge_name(json_t *c, const json_t *lock)
{
	const json_t *name = json_object_get(lock, "name");
	if (!json_is_string(name) || json_is_string(json_object_get(c, "name")))
		return;
	static const char *const keys[] = {"name", "identity", "named_by", NULL};
	for (const char *const *k = keys; *k; k++) {
		const json_t *v = json_object_get(lock, *k);
		json_object_set_new(c, *k, json_is_string(v) ? json_incref((json_t *)v) : json_null());
	}
}

/* Stacks of different processes are one when their frames agree up to
 * the module (the first frame outside the runtime), as in the profiler. */
static char *stack_key(const json_t *st)
{
	const json_t *frames = json_object_get(st, "frames"), *f;
	const char *mod = json_string_value(json_object_get(json_object_get(st, "module"), "where"));
	size_t len = 1, i;
	json_array_foreach(frames, i, f)
		len += strlen(json_string_value(f)) + 1;
	char *key = malloc(len);
	if (!key)
		return NULL;
	key[0] = 0;
	json_array_foreach(frames, i, f) {
		strcat(key, json_string_value(f));
		strcat(key, "\n");
		if (mod && !strcmp(mod, json_string_value(f)))
			break;
	}
	return key;
}

static int merge_stack(json_t *stacks, const json_t *st)
{
	char *key = stack_key(st);
	if (!key)
		return -1;
	json_t *m = json_object_get(stacks, key);
	if (!m) {
		const json_t *mod = json_object_get(st, "module");
		m = json_pack("{s:I, s:I, s:O, s:O}", "count", (json_int_t)0, "wait_ns",
			      (json_int_t)0, "frames", json_object_get(st, "frames"), "module",
			      json_is_object(mod) ? mod : json_null());
		if (!m || json_object_set_new(stacks, key, m) < 0) {
			free(key);
			return -1;
		}
	}
	free(key);
	addi(m, "count", geti(st, "count"));
	addi(m, "wait_ns", geti(st, "wait_ns"));
	return 0;
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
	json_array_foreach(json_object_get(lock, "stacks"), i, s)
		if (merge_stack(json_object_get(c, "stacks"), s) < 0)
			return -1;
	merge_name(c, lock);
	addi(c, "other_stacks_count", geti(json_object_get(lock, "other_stacks"), "count"));
	return 0;
}

/* ---- the census ------------------------------------------------------- */

static const char *base_of(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;
	return b ? b + 1 : path;
}

/* One pool entry per library file: how many processes loaded it and the
 * largest size any of them was configured for. */
static void merge_pools(struct merge *mg, const json_t *pools)
{
	size_t i;
	const json_t *p;
	json_array_foreach(pools, i, p) {
		const char *path = json_string_value(json_object_get(p, "path"));
		json_t *m = json_object_get(mg->pools, path);
		if (!m) {
			m = json_pack("{s:O, s:O?, s:s, s:O?, s:O?, s:i, s:I}", "library",
				      json_object_get(p, "library"), "kind", json_object_get(p, "kind"),
				      "path", path, "version", json_object_get(p, "version"),
				      "threading", json_object_get(p, "threading"), "processes", 0,
				      "threads", (json_int_t)0);
			if (!m || json_object_set_new(mg->pools, path, m) < 0)
				continue;
		}
		addi(m, "processes", 1);
		maxi(m, "threads", geti(p, "threads"));
	}
}

static void merge_creators(struct merge *mg, const json_t *by)
{
	size_t i;
	const json_t *c;
	json_array_foreach(by, i, c) {
		const char *obj = json_string_value(json_object_get(c, "object"));
		json_t *m = json_object_get(mg->creators, obj);
		if (!m) {
			m = json_pack("{s:s, s:s, s:I, s:i, s:i}", "object", obj, "library",
				      base_of(obj), "threads", (json_int_t)0, "processes", 0,
				      "_report", -1);
			if (!m || json_object_set_new(mg->creators, obj, m) < 0)
				continue;
		}
		addi(m, "threads", geti(c, "count"));
		if (geti(m, "_report") != mg->processes) {
			addi(m, "processes", 1);
			json_object_set_new(m, "_report", json_integer(mg->processes));
		}
	}
}

static void merge_census(struct merge *mg, const json_t *c)
{
	if (!json_is_object(c))
		return;
	mg->census_procs++;
	mg->threads_created += geti(c, "threads_created");
	if (geti(c, "peak_threads") > mg->peak_threads)
		mg->peak_threads = geti(c, "peak_threads");
	if (geti(c, "cores_online") > mg->cores_online)
		mg->cores_online = geti(c, "cores_online");
	json_int_t allowed = geti(c, "cores_allowed");
	if (allowed > 0 && (!mg->cores_allowed || allowed < mg->cores_allowed))
		mg->cores_allowed = allowed;
	merge_pools(mg, json_object_get(c, "pools"));
	merge_creators(mg, json_object_get(c, "threads_by_creator"));
}

/* A process's own line: its threads and pools, in short. */
static json_t *process_census(const json_t *c)
{
	json_t *pools = json_array(), *by = json_array();
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(c, "pools"), i, v)
		json_array_append_new(pools, json_pack("{s:O, s:O?, s:O, s:O}", "library",
						       json_object_get(v, "library"), "kind",
						       json_object_get(v, "kind"), "threads",
						       json_object_get(v, "threads"), "path",
						       json_object_get(v, "path")));
	json_array_foreach(json_object_get(c, "threads_by_creator"), i, v)
		json_array_append_new(by, json_pack("{s:O, s:O?, s:O}", "object",
						    json_object_get(v, "object"), "where",
						    json_object_get(v, "where"), "threads",
						    json_object_get(v, "count")));
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "threads_created",
			 geti(c, "threads_created"), "peak_threads", geti(c, "peak_threads"),
			 "threads_at_exit", geti(c, "threads_at_exit"), "cores_allowed",
			 geti(c, "cores_allowed"), "pools", pools, "threads_by_creator", by);
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
	const json_t *census = json_object_get(doc, "census");
	merge_census(mg, census);
	if (json_is_object(census) && !json_is_true(json_object_get(p, "forked")))
		mg->programs++;
	if (json_array_size(mg->procs) >= MAX_PROCESS_LIST)
		return;
	json_t *line = json_pack("{s:O, s:O?, s:O?, s:O?, s:f, s:f, s:O?}", "pid",
				 json_object_get(p, "pid"), "ppid", json_object_get(p, "ppid"),
				 "argv0", json_object_get(p, "argv0"), "exe",
				 json_object_get(p, "exe"), "wall_s", secs(geti(doc, "wall_ns")),
				 "wait_s", secs(geti(t, "lock_wait_ns") + geti(t, "cond_wait_ns")),
				 "unwinder", json_object_get(doc, "unwinder"));
	if (line && json_is_object(census))
		json_object_update_missing_new(line, process_census(census));
	json_array_append_new(mg->procs, line);
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

/* The stacks most waited in, seconds, and the modules they came through:
 * per module (shared object) the wait of its stacks and the function of
 * its most waited stack. The class's "module" is the top one. */
static json_t *finish_stacks(json_t *c, json_t *out)
{
	size_t n;
	json_t **st = sorted_values(json_object_get(c, "stacks"), &n);
	json_t *list = json_array(), *mods = json_object();
	json_int_t stacked = 0;
	for (size_t i = 0; st && i < n; i++) {
		stacked += geti(st[i], "wait_ns");
		if (i < LOCKPROF_TOP_STACKS) {
			json_t *x = json_deep_copy(st[i]);
			to_seconds(x, "wait_ns", "wait_s");
			json_array_append_new(list, x);
		}
		const json_t *mod = json_object_get(st[i], "module");
		const char *obj = json_string_value(json_object_get(mod, "object"));
		if (!obj)
			continue;
		json_t *m = json_object_get(mods, obj);
		if (!m) {
			m = json_pack("{s:s, s:O, s:O?, s:I, s:I}", "object", obj, "where",
				      json_object_get(mod, "where"), "symbol",
				      json_object_get(mod, "symbol"), "count", (json_int_t)0,
				      "wait_ns", (json_int_t)0);
			json_object_set_new(mods, obj, m);
		}
		addi(m, "count", geti(st[i], "count"));
		addi(m, "wait_ns", geti(st[i], "wait_ns"));
	}
	free(st);
	json_t **mv = sorted_values(mods, &n);
	json_t *mlist = json_array();
	json_int_t total = geti(c, "wait_ns");
	for (size_t i = 0; mv && i < n; i++) {
		json_t *x = json_deep_copy(mv[i]);
		json_object_set_new(x, "share", json_real(total > 0 ? (double)geti(x, "wait_ns") /
								     (double)total : 0.0));
		to_seconds(x, "wait_ns", "wait_s");
		json_array_append_new(mlist, x);
	}
	free(mv);
	json_decref(mods);
	const json_t *top = json_array_get(mlist, 0);
	json_object_set_new(out, "module", top ? json_incref(json_object_get(top, "object"))
					       : json_null());
	json_object_set_new(out, "module_where",
			    top ? json_incref(json_object_get(top, "where")) : json_null());
	json_object_set_new(out, "module_share",
			    top ? json_incref(json_object_get(top, "share")) : json_null());
	json_object_set_new(out, "stacked_wait_s", json_real(secs(stacked)));
	json_object_set_new(out, "modules", mlist);
	return list;
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
	json_object_set_new(out, "stacks", finish_stacks(c, out));
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

static int by_threads(const void *a, const void *b)
{
	json_int_t x = geti(*(json_t *const *)a, "threads"), y = geti(*(json_t *const *)b, "threads");
	return (x < y) - (x > y);
}

static json_t *values_by_threads(json_t *obj, int drop_report)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		json_t *x = json_deep_copy(v);
		if (drop_report)
			json_object_del(x, "_report");
		json_array_append_new(arr, x);
	}
	size_t n = json_array_size(arr);
	json_t **tmp = malloc((n ? n : 1) * sizeof *tmp);
	if (!tmp)
		return arr;
	for (size_t i = 0; i < n; i++)
		tmp[i] = json_incref(json_array_get(arr, i));
	qsort(tmp, n, sizeof *tmp, by_threads);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, tmp[i]);
	free(tmp);
	return arr;
}

static json_t *census_of(struct merge *mg)
{
	if (!mg->census_procs)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "processes", mg->census_procs,
			 "programs_started", mg->programs, "cores_online", mg->cores_online, "cores_allowed", mg->cores_allowed,
			 "threads_created", mg->threads_created, "max_peak_threads",
			 mg->peak_threads, "pools", values_by_threads(mg->pools, 0),
			 "threads_by_creator", values_by_threads(mg->creators, 1));
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
	return json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:O, s:O, s:o, s:o}",
			 "schema", LOCKPROF_SUMMARY_SCHEMA, "dir", dir,
			 "processes", mg->processes,
			 "wait_s", secs(mg->lock_wait_ns + mg->cond_wait_ns),
			 "lock_wait_s", secs(mg->lock_wait_ns), "cond_wait_s", secs(mg->cond_wait_ns),
			 "acquisitions", mg->acquisitions, "contended", mg->contended,
			 "cond_waits", mg->cond_waits, "locks", mg->locks,
			 "untracked_ops", mg->untracked, "top_locks", top_locks(mg, top_n),
			 "process_list", mg->procs, "skipped", mg->skipped, "notes", notes,
			 "census", census_of(mg));
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
			   .skipped = json_array(), .pools = json_object(),
			   .creators = json_object()};
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
	json_decref(mg.pools);
	json_decref(mg.creators);
	return rc;
}

int lockprof_merge_dir(const char *dir, json_t **summary, errbuf *e)
{
	return lockprof_merge_dir_top(dir, LOCKPROF_TOP_DEFAULT, summary, e);
}

/* ---- fields for the results document ----------------------------------- */

#define DOC_STACKS 3
#define DOC_PROCESSES 64

static json_t *or_null(const json_t *v)
{
	return v ? json_incref((json_t *)v) : json_null();
}

static json_t *doc_stack(const json_t *st)
{
	const json_t *mod = json_object_get(st, "module");
	return json_pack("{s:O, s:O, s:O, s:o, s:o}", "count", json_object_get(st, "count"),
			 "wait_s", json_object_get(st, "wait_s"), "frames",
			 json_object_get(st, "frames"), "module",
			 or_null(json_object_get(mod, "object")), "module_where",
			 or_null(json_object_get(mod, "where")));
}

void lockprof_identity_fields(json_t *entry, const json_t *cls)
{
	static const char *const keys[] = {"name", "identity", "named_by", "module",
					   "module_where", "module_share", NULL};
	if (!entry)
		return;
	for (const char *const *k = keys; *k; k++)
		json_object_set_new(entry, *k, or_null(json_object_get(cls, *k)));
	json_t *stacks = json_array();
	size_t i;
	const json_t *st;
	json_array_foreach(json_object_get(cls, "stacks"), i, st)
		if (i < DOC_STACKS)
			json_array_append_new(stacks, doc_stack(st));
	json_object_set_new(entry, "stacks", stacks);
}

static json_t *doc_process(const json_t *p)
{
	static const char *const keys[] = {"pid", "ppid", "argv0", "exe", "threads_created",
					   "peak_threads", "threads_at_exit", "cores_allowed",
					   "pools", "threads_by_creator", NULL};
	json_t *o = json_object();
	for (const char *const *k = keys; *k; k++)
		if (json_object_get(p, *k))
			json_object_set(o, *k, json_object_get(p, *k));
	return o;
}

json_t *lockprof_census_field(const json_t *summary)
{
	const json_t *c = json_object_get(summary, "census");
	if (!json_is_object(c))
		return json_pack("{s:b, s:s}", "available", 0, "reason",
				 "no process reported a census (no process of the command "
				 "was profiled, or the profiler predates it)");
	json_t *o = json_deep_copy(c), *procs = json_array();
	size_t i;
	const json_t *p;
	json_array_foreach(json_object_get(summary, "process_list"), i, p)
		if (i < DOC_PROCESSES && json_object_get(p, "peak_threads"))
			json_array_append_new(procs, doc_process(p));
	json_object_set_new(o, "process_list", procs);
	json_object_set_new(o, "source", json_string("LD_PRELOAD libcontend-lockprof.so "
						     "(pthread_create and the pools' own APIs)"));
	return o;
}
