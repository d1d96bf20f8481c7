/* diag_lock.c - rules of the lock family: interpreter-lock, lock and
 * trace-hooks.
 *
 * Evidence: the share of worker time (wall x workers) spent waiting on a
 * lock. exec documents carry the LD_PRELOAD profiler's named locks per
 * repetition (lock.top[]: name, identity, module taking it); run documents
 * carry the workload's one instrumented lock (the linetrace build's
 * modelled interpreter lock, or a workload's own). A lock is a cause where
 * its waits took LOCK_SHARE_MIN of worker time at some configuration of
 * more than one worker. The module taking the interpreter lock is then
 * scanned (contend scan's verdict): hooks that take the lock per call are
 * the trace-hooks cause, the n_jobs story. */
#include "analysis/diagnosis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "document/doc.h"
#include "probes/hookscan.h"

#define LOCK_SHARE_MIN 0.10  /* of worker time: a cause */
#define HOOKS_SHARE_MIN 0.02 /* enough waits to attribute them to hooks */
/* Interpreter-lock acquisitions per second of wall time beyond which the
 * lock is taken per call, not per switch interval (5 ms: a few hundred a
 * second per thread): even on a machine too loaded for the threads to
 * meet, code that takes the lock this often serialises them. */
#define GIL_RATE_MIN 1e5
#define GIL_SHARE_FLOOR 0.005 /* some of the wait must be there */
/* A lock other than the interpreter lock counts only with this many
 * contended waits in the repetition: contention is threads meeting on a
 * lock again and again. One long wait is a thread parked until work comes
 * (OpenBLAS's pool waiting 0.21 s, once, in a joblib worker that never
 * called BLAS: 13 % of worker time from a single wait); the mutex programs
 * that do serialise wait hundreds of times a second. */
#define LOCK_MIN_CONTENDED 20

/* One lock's figures at one configuration (its median repetition). */
struct finding {
	json_t *config;
	double share, wait_s, acquisitions, contended;
	double rate; /* acquisitions per second of the repetition */
	const char *name, *identity, *named_by;
	const char *module, *module_where;
	double module_share;
	int gil;
	int run_hooks; /* run's instrumented build: its hooks take the lock */
};

/* Figures of one lock over a configuration, merged into one finding. */
struct family {
	struct finding worst;	/* the configuration with the largest share */
	json_t *configs;	/* ids where the share reached the minimum */
	int found;
};

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

static void fmt_count(double v, char *buf, size_t len)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.1f M", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.0f k", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

/* exec: the interpreter lock's entries of the median repetition, summed
 * (its cond is the threads waiting for it, its mutexes the hand-over);
 * module and name from the most waited of them. 0 when none. */
static int exec_gil(json_t *config, struct finding *f)
{
	json_t *rep = diag_median_rep(config, "lock.wait_s"), *l, *hot = NULL;
	size_t i;
	double w = (double)doc_workers(config), wall = doc_num(rep, "wall_s", NAN);
	memset(f, 0, sizeof *f);
	json_array_foreach(json_object_get(json_object_get(rep, "lock"), "top"), i, l) {
		if (strcmp(doc_str(l, "identity", ""), "interpreter-lock"))
			continue;
		f->wait_s += doc_num(l, "wait_s", 0);
		f->contended += doc_num(l, "contended", 0);
		if (!strcmp(doc_str(l, "kind", ""), "mutex"))
			f->acquisitions += doc_num(l, "acquisitions", 0);
		if (!hot || doc_num(l, "wait_s", 0) > doc_num(hot, "wait_s", 0))
			hot = l;
	}
	if (!hot || !(wall > 0) || !(w >= 1))
		return 0;
	f->config = config;
	f->gil = 1;
	f->share = f->wait_s / (wall * w);
	f->rate = f->acquisitions / wall;
	f->name = doc_str(hot, "name", "CPython interpreter lock (GIL)");
	f->identity = "interpreter-lock";
	f->named_by = doc_str(hot, "named_by", NULL);
	/* the module of the most waited entry that names one */
	json_array_foreach(json_object_get(json_object_get(rep, "lock"), "top"), i, l)
		if (!strcmp(doc_str(l, "identity", ""), "interpreter-lock") &&
		    doc_str(l, "module", NULL) && !f->module) {
			f->module = doc_str(l, "module", NULL);
			f->module_where = doc_str(l, "module_where", NULL);
			f->module_share = doc_num(l, "module_share", NAN);
		}
	return 1;
}

/* exec: the most waited lock that is not the interpreter lock, of those
 * waited on LOCK_MIN_CONTENDED times. */
static int exec_other(json_t *config, struct finding *f)
{
	json_t *rep = diag_median_rep(config, "lock.wait_s"), *l, *hot = NULL;
	size_t i;
	double w = (double)doc_workers(config), wall = doc_num(rep, "wall_s", NAN);
	memset(f, 0, sizeof *f);
	json_array_foreach(json_object_get(json_object_get(rep, "lock"), "top"), i, l)
		if (strcmp(doc_str(l, "identity", ""), "interpreter-lock") &&
		    doc_num(l, "contended", 0) >= LOCK_MIN_CONTENDED &&
		    (!hot || doc_num(l, "wait_s", 0) > doc_num(hot, "wait_s", 0)))
			hot = l;
	if (!hot || !(wall > 0) || !(w >= 1))
		return 0;
	f->config = config;
	f->wait_s = doc_num(hot, "wait_s", 0);
	f->share = f->wait_s / (wall * w);
	f->acquisitions = doc_num(hot, "acquisitions", 0);
	f->rate = f->acquisitions / wall;
	f->contended = doc_num(hot, "contended", 0);
	f->name = doc_str(hot, "name", NULL);
	if (!f->name)
		f->name = doc_str(hot, "site", "a lock with no call site");
	f->identity = doc_str(hot, "identity", NULL);
	f->named_by = doc_str(hot, "named_by", NULL);
	f->module = doc_str(hot, "module", NULL);
	f->module_where = doc_str(hot, "module_where", NULL);
	f->module_share = doc_num(hot, "module_share", NAN);
	return 1;
}

/* run: the workload's instrumented lock; the linetrace build's is the
 * modelled interpreter lock. */
static int run_lock(json_t *config, struct finding *f)
{
	json_t *l = json_object_get(config, "lock");
	memset(f, 0, sizeof *f);
	if (!json_is_object(l) || json_object_get(l, "source") ||
	    !isfinite(doc_num(l, "share", NAN)))
		return 0;
	const char *model = doc_str(config, "lock_model", "");
	f->config = config;
	f->share = doc_num(l, "share", NAN);
	f->wait_s = doc_num(l, "wait_s", 0);
	f->acquisitions = doc_num(l, "acquisitions", 0);
	f->contended = doc_num(l, "contended", 0);
	f->rate = f->acquisitions / doc_median_wall(config);
	f->gil = *model && strcmp(model, "none");
	f->name = f->gil ? (!strcmp(model, "gil")
				    ? "the interpreter lock (gil model)"
				    : "the interpreter lock (mutex model)")
			 : doc_str(l, "name", "the workload's lock");
	f->identity = f->gil ? "interpreter-lock" : NULL;
	f->named_by = f->gil ? "the build's lock model" : NULL;
	f->run_hooks = f->gil && strcmp(doc_str(config, "build", "release"), "release");
	return 1;
}

static void merge(struct family *fam, const struct finding *f, int holds)
{
	if (!holds)
		return;
	if (!fam->configs)
		fam->configs = json_array();
	json_array_append_new(fam->configs, json_string(doc_str(f->config, "id", "")));
	if (!fam->found || f->share > fam->worst.share)
		fam->worst = *f;
	fam->found = 1;
}

/* The interpreter lock is a cause: its waits took LOCK_SHARE_MIN of the
 * worker time, or the configuration scaled poorly while the lock was
 * taken per call (GIL_RATE_MIN) with some waiting. */
static int gil_holds(const struct finding *f, int poor)
{
	return f->share >= LOCK_SHARE_MIN ||
	       (poor && f->rate >= GIL_RATE_MIN && f->share >= GIL_SHARE_FLOOR);
}

static void lock_evidence(const struct finding *f, char *buf, size_t len)
{
	char wait[32], n[32], acq[32], rate[32];
	size_t used;
	fmt_count(f->rate, rate, sizeof rate);
	snprintf(wait, sizeof wait, "%.3f s", f->wait_s);
	fmt_count(f->contended, n, sizeof n);
	fmt_count(f->acquisitions, acq, sizeof acq);
	char how[160];
	double sp = doc_num(f->config, "speedup", NAN);
	if (isfinite(sp))
		snprintf(how, sizeof how, "%.2fx as fast as 1", sp);
	else
		diag_scaling_words(f->config, how, sizeof how);
	used = (size_t)snprintf(buf, len, "at %lld workers (%s) "
				"%.1f %% of worker time waited on %s (%s over %s "
				"contended waits; %s acquisitions in one repetition, "
				"%s/s)", (long long)doc_workers(f->config), how,
				f->share * 100, f->name, wait, n, acq, rate);
	if (f->named_by && used < len)
		used += (size_t)snprintf(buf + used, len - used, "; named by %s",
					 f->named_by);
	if (f->module && used < len)
		snprintf(buf + used, len - used, "; %.0f %% of that wait was taken "
			 "from %s", isfinite(f->module_share) ? f->module_share * 100 : 0,
			 f->module_where ? f->module_where : base_name(f->module));
}

/* The module's hooks, by contend scan: 1 harmful (sentence in buf), 0 not,
 * -1 not scanned (not a file here, or scanning off). */
static int module_hooks(struct diag_ctx *ctx, const char *module, char *buf,
			size_t len)
{
	struct stat st;
	enum hs_verdict v;
	struct hs_lock_funcs fn;
	errbuf e;
	if (!ctx->scan || !module || stat(module, &st) || !S_ISREG(st.st_mode) ||
	    hookscan_verdict_of(module, &v, &fn, &e))
		return -1;
	if (v != HV_HARMFUL) {
		snprintf(buf, len, "contend scan %s: %s", base_name(module),
			 hs_verdict_name(v));
		return 0;
	}
	snprintf(buf, len, "contend scan %s: its trace hooks take the interpreter "
		 "lock on every call of %zu functions (e.g. %s): calls that "
		 "release the lock (nogil) take it again, so parallel calls "
		 "serialise", base_name(module), fn.count,
		 fn.shown ? fn.names[0] : "?");
	return 1;
}

static void report_gil(struct diag_ctx *ctx, struct family *gil,
		       struct family *hooks)
{
	char ev[1400], scan[400], adv[600];
	const char *mod = hooks->found ? hooks->worst.module
			  : gil->found ? gil->worst.module : NULL;
	int h = module_hooks(ctx, mod, scan, sizeof scan);
	if (gil->found) {
		const struct finding *f = &gil->worst;
		lock_evidence(f, ev, sizeof ev);
		if (h == 0) {
			size_t u = strlen(ev);
			snprintf(ev + u, sizeof ev - u, " (%s)", scan);
		}
		if (f->run_hooks)
			snprintf(adv, sizeof adv, "the %s build's hooks take the "
				 "interpreter lock on every call (trace-hooks): use "
				 "the release build, or processes (each has a lock "
				 "of its own)", doc_str(f->config, "build", ""));
		else if (f->module)
			snprintf(adv, sizeof adv, "%s keeps taking the interpreter lock: "
				 "release it around the hot code (nogil, no trace "
				 "hooks), or run the work in processes",
				 base_name(f->module));
		else
			snprintf(adv, sizeof adv, "the threads run Python code, which holds "
				 "the interpreter lock: run the work in processes, or "
				 "move the hot loop into code that releases the lock");
		json_incref(gil->configs);
		diag_evidence_from(diag_add(ctx, DC_INTERPRETER_LOCK, gil->configs,
					    ev, adv, f->module, f->name), f->config);
	}
	if (h == 1 && hooks->found) {
		const struct finding *f = &hooks->worst;
		char acq[32], rate[32];
		fmt_count(f->acquisitions, acq, sizeof acq);
		fmt_count(f->rate, rate, sizeof rate);
		snprintf(ev, sizeof ev, "%s; the interpreter lock was taken %s times "
			 "in one repetition at %lld workers (%s/s), %.1f %% of "
			 "worker time waiting, %.0f %% of that wait from %s", scan,
			 acq, (long long)doc_workers(f->config), rate,
			 f->share * 100, f->module_share * 100, base_name(f->module));
		json_incref(hooks->configs);
		diag_evidence_from(diag_add(ctx, DC_TRACE_HOOKS, hooks->configs, ev,
			 "rebuild the module without line tracing (no "
			 "CYTHON_TRACE / CYTHON_TRACE_NOGIL, linetrace=False): a "
			 "release build's nogil calls run in parallel", f->module,
			 f->name), f->config);
	}
}

/* The linetrace build of run: its hooks take the modelled interpreter
 * lock on every call, by construction. */
static void report_build_hooks(struct diag_ctx *ctx, struct family *hooks)
{
	const struct finding *f = &hooks->worst;
	json_t *kinds = json_object_get(f->config, "hooks"), *k;
	size_t i;
	char ev[800], list[128] = "";
	if (!hooks->found || !json_array_size(kinds) ||
	    !strcmp(doc_str(f->config, "build", "release"), "release"))
		return;
	json_array_foreach(kinds, i, k)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
			 i ? "," : "", json_string_value(k) ? json_string_value(k) : "?");
	char acq[32];
	fmt_count(f->acquisitions, acq, sizeof acq);
	snprintf(ev, sizeof ev, "the %s build's hooks (%s) take the interpreter lock "
		 "on every call: %s acquisitions in one repetition at %lld workers, "
		 "%.0f %% of worker time waiting", doc_str(f->config, "build", ""),
		 list, acq, (long long)doc_workers(f->config), f->share * 100);
	json_incref(hooks->configs);
	diag_evidence_from(diag_add(ctx, DC_TRACE_HOOKS, hooks->configs, ev,
		 "use a build without the hooks (--build release): its tasks "
		 "run in parallel", NULL, f->name), f->config);
}

static void report_other(struct diag_ctx *ctx, struct family *fam)
{
	const struct finding *f = &fam->worst;
	char ev[1400], adv[600];
	if (!fam->found)
		return;
	lock_evidence(f, ev, sizeof ev);
	if (f->identity && !strcmp(f->identity, "malloc-arena"))
		snprintf(adv, sizeof adv, "threads share malloc's arenas: allocate "
			 "less in the hot loop, raise MALLOC_ARENA_MAX, or use a "
			 "thread-caching allocator (jemalloc, tcmalloc)");
	else if (f->identity && (!strcmp(f->identity, "openblas") ||
				 !strcmp(f->identity, "openmp")))
		snprintf(adv, sizeof adv, "the library's own pool is shared by the "
			 "workers: give each one thread (OPENBLAS_NUM_THREADS=1, "
			 "OMP_NUM_THREADS=1, threadpoolctl) or use fewer workers");
	else
		snprintf(adv, sizeof adv, "%s%s takes this lock in every task: hold it "
			 "for less, take it less often (batch the updates), or give "
			 "each worker its own and merge at the end",
			 f->module ? "the code in " : "the workload",
			 f->module ? base_name(f->module) : "");
	json_incref(fam->configs);
	diag_evidence_from(diag_add(ctx, DC_LOCK, fam->configs, ev, adv, f->module,
				    f->name), f->config);
}

static int run(struct diag_ctx *ctx)
{
	struct family gil = {0}, hooks = {0}, other = {0}, build = {0};
	struct finding f;
	json_t *c;
	size_t i, before = json_array_size(ctx->entries);
	doc_foreach_config(ctx->doc, i, c) {
		if (!doc_is_ok(c) || doc_workers(c) < 2)
			continue;
		int poor = diag_poor_scaling(ctx, c);
		if (exec_gil(c, &f)) {
			merge(&gil, &f, gil_holds(&f, poor));
			merge(&hooks, &f, f.module && f.module_share >= 0.25 &&
				    (f.share >= HOOKS_SHARE_MIN || f.rate >= GIL_RATE_MIN));
		}
		if (exec_other(c, &f))
			merge(&other, &f, f.share >= LOCK_SHARE_MIN);
		if (run_lock(c, &f)) {
			merge(f.gil ? &gil : &other, &f,
			      f.gil ? gil_holds(&f, poor) : f.share >= LOCK_SHARE_MIN);
			if (f.gil)
				merge(&build, &f, gil_holds(&f, poor));
		}
	}
	report_gil(ctx, &gil, &hooks);
	report_build_hooks(ctx, &build);
	report_other(ctx, &other);
	json_decref(gil.configs);
	json_decref(hooks.configs);
	json_decref(other.configs);
	json_decref(build.configs);
	return (int)(json_array_size(ctx->entries) - before);
}

const struct diag_rule diag_rule_lock = {
	.name = "lock",
	.looked_at = "lock waits (the interpreter lock and named locks, and "
		     "the module taking them)",
	.run = run,
};
