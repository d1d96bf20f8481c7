/* kernels.c - micro-benchmarks of contend's hot kernels through the C shim:
 * the causal criterion per candidate (release vs linetrace hooks), BLAS,
 * pool dispatch, the lock probe, bin lookup; probe figures as counters. */
#include "bench/gbench/kernels.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/causal_forest.h"
#include "bench/dmatrix.h"
#include "bench/gbench/cbench.h"
#include "pools/pool.h"
#include "probes/gil.h"
#include "probes/hooks/trace_hooks.h"
#include "probes/lockstat.h"
#include "probes/rusage.h"

/* The linetrace criterion: bench/causal_forest.c compiled with
 * -finstrument-functions, its global symbols prefixed with lt_ (Makefile,
 * objcopy), so both builds of one vtable live in this binary. Weak: a
 * binary linked without it simply has no linetrace variants. */
extern const struct cf_criterion_vtable lt_cf_ct_criterion
	__attribute__((weak));

/* What benchmark::DoNotOptimize does: make v look used. */
static inline void escape(double v)
{
	__asm__ volatile("" : : "g"(v) : "memory");
}

/* ---- probe figures as user counters ------------------------------------ */

/* Total nanoseconds waited on the lock a benchmark watches. */
typedef uint64_t (*wait_fn)(const void *src);

/* Taken by thread 0 only, before its first keep_running (all threads are
 * still at the start barrier) and after its last (all have finished), so
 * the figures cover exactly the timed loops of every thread. */
struct probe {
	struct rusage self, children;
	uint64_t t0_ns, wait0_ns;
	wait_fn wait;
	const void *src;
};

static void probe_begin(struct probe *p, wait_fn wait, const void *src)
{
	p->wait = wait;
	p->src = src;
	p->wait0_ns = wait ? wait(src) : 0;
	getrusage(RUSAGE_SELF, &p->self);
	getrusage(RUSAGE_CHILDREN, &p->children);
	p->t0_ns = lockstat_now_ns();
}

/* Context switches as rates (per second of the run), and the lock wait
 * share as lockstat defines it: waited / worker seconds (threads x wall).
 * No lock watched: no share counter, rather than a zero that means
 * "not measured". Returns the wall nanoseconds of the run. */
static uint64_t probe_end(cb_state *st, const struct probe *p)
{
	struct rusage self, children;
	struct rusage_delta d;
	uint64_t dt = lockstat_now_ns() - p->t0_ns;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	rusage_diff(&p->self, &p->children, &self, &children, &d);
	cb_counter(st, "vol_csw", (double)d.voluntary_csw, CB_IS_RATE);
	cb_counter(st, "invol_csw", (double)d.involuntary_csw, CB_IS_RATE);
	if (p->wait && dt > 0) {
		double waited = (double)(p->wait(p->src) - p->wait0_ns);
		cb_counter(st, "lock_wait_share",
			   waited / ((double)cb_threads(st) * (double)dt), 0);
	}
	return dt ? dt : 1;
}

static uint64_t gil_wait(const void *src)
{
	struct lockstat_summary s;
	gil_stats(src, &s);
	return s.wait_ns;
}

static uint64_t class_wait(const void *src)
{
	struct lockstat_summary s;
	return lockstat_snapshot(src, &s, NULL) < 0 ? 0 : s.wait_ns;
}

/* ---- shim calibration -------------------------------------------------- */

/* The loop alone: what cb_keep_running adds to every other figure. */
static void bm_empty(cb_state *st, void *arg)
{
	(void)arg;
	struct probe p;
	probe_begin(&p, NULL, NULL);
	while (cb_keep_running(st))
		;
	probe_end(st, &p);
}

/* ---- the causal split criterion, per candidate ------------------------- */

struct crit_variant {
	const char *name;
	const struct cf_criterion_vtable *vt; /* release or lt_ */
	int traced;			      /* install the hooks' lock */
	enum lock_model model;
};

static struct cf_data crit_data;
static struct cf_config crit_cfg;

static uint64_t hook_calls(void)
{
	return trace_hooks_thread_calls ? trace_hooks_thread_calls() : 0;
}

/* Thread 0: make this run's interpreter lock and hand it to the hooks. */
static int crit_install(const struct crit_variant *v, struct gil **g,
			errbuf *e)
{
	*g = NULL;
	if (!v->traced)
		return 0;
	if (!trace_hooks_install)
		return errf(e, "this binary has no trace hooks");
	if (gil_create(g, v->model, "gbench-interp", e) < 0)
		return -1;
	if (trace_hooks_install(*g, e) < 0) {
		gil_destroy(*g);
		*g = NULL;
		return -1;
	}
	return 0;
}

static void crit_uninstall(struct gil *g)
{
	if (!g)
		return;
	trace_hooks_install(NULL, NULL);
	gil_destroy(g);
}

/* One iteration is one candidate split, as the splitter makes it: move one
 * sample left, check both children, score. Each thread sweeps its own
 * criterion over the whole node (all rows, feature 0) and starts over. */
static double crit_loop(cb_state *st, struct cf_criterion *cr)
{
	const struct cf_criterion_vtable *vt = cr->vt;
	size_t n = crit_data.n, pos = n;
	const uint32_t *samples = crit_data.order;
	int fresh = 1;
	double sink = 0;
	while (cb_keep_running(st)) {
		if (pos >= n) {
			if (fresh)
				vt->init(cr, samples, 0, n);
			else
				vt->reset(cr);
			fresh = 0;
			pos = 1;
		}
		vt->update(cr, pos++);
		if (vt->children_valid(cr))
			sink += vt->proxy_impurity_improvement(cr);
	}
	return sink;
}

static void bm_criterion(cb_state *st, void *arg)
{
	const struct crit_variant *v = arg;
	struct cf_criterion cr;
	double half = (double)crit_data.n / 2;
	cf_criterion_setup(&cr, &crit_data, &crit_cfg, half, half, 0.5);
	cr.vt = v->vt;
	struct gil *g = NULL;
	struct probe p;
	int lead = cb_thread_index(st) == 0;
	if (lead) {
		errbuf e;
		if (crit_install(v, &g, &e) < 0) {
			cb_skip_with_error(st, e.msg);
			return;
		}
		probe_begin(&p, g ? gil_wait : NULL, g);
	}
	uint64_t calls0 = hook_calls();
	escape(crit_loop(st, &cr));
	/* Summed over threads, divided by all iterations: hook calls per
	 * candidate, so hook ns per call = extra ns per candidate / this. */
	cb_counter(st, "hook_calls", (double)(hook_calls() - calls0),
		   CB_AVG_ITERATIONS);
	if (lead) {
		probe_end(st, &p);
		crit_uninstall(g);
	}
}

static struct crit_variant crit_variants[] = {
	{GBENCH_CRIT_RELEASE, &cf_ct_criterion, 0, LOCK_MODEL_NONE},
	{GBENCH_CRIT_LINETRACE "gil", NULL, 1, LOCK_MODEL_GIL},
	{GBENCH_CRIT_LINETRACE "mutex", NULL, 1, LOCK_MODEL_MUTEX},
	{GBENCH_CRIT_LINETRACE "none", NULL, 1, LOCK_MODEL_NONE},
};

/* ---- BLAS -------------------------------------------------------------- */

static double *filled(size_t n, double scale)
{
	double *v = malloc(n * sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = scale * (double)(i % 17 + 1);
	return v;
}

static void bm_ddot(cb_state *st, void *arg)
{
	(void)arg;
	int64_t n = cb_range(st, 0);
	double *x = filled((size_t)n, 0.5), *y = filled((size_t)n, 0.25);
	if (!x || !y) {
		cb_skip_with_error(st, "out of memory for ddot vectors");
		free(x);
		free(y);
		return;
	}
	struct probe p;
	probe_begin(&p, NULL, NULL);
	while (cb_keep_running(st))
		escape(cblas_ddot((int)n, x, 1, y, 1));
	probe_end(st, &p);
	cb_set_bytes_processed(st, cb_iterations(st) * n * 16);
	cb_counter(st, "flops", 2.0 * (double)n,
		   CB_IS_ITERATION_INVARIANT_RATE);
	free(x);
	free(y);
}

static void bm_dgemm(cb_state *st, void *arg)
{
	(void)arg;
	int n = (int)cb_range(st, 0);
	size_t nn = (size_t)n * (size_t)n;
	double *a = filled(nn, 1e-3), *b = filled(nn, 2e-3), *c = filled(nn, 0);
	if (!a || !b || !c) {
		cb_skip_with_error(st, "out of memory for dgemm matrices");
		goto done;
	}
	struct probe p;
	probe_begin(&p, NULL, NULL);
	while (cb_keep_running(st)) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
			    1.0, a, n, b, n, 0.0, c, n);
		escape(c[0]);
	}
	probe_end(st, &p);
	cb_counter(st, "flops", 2.0 * (double)nn * n,
		   CB_IS_ITERATION_INVARIANT_RATE);
	cb_counter(st, "blas_threads", openblas_get_num_threads(), 0);
done:
	free(a);
	free(b);
	free(c);
}

/* ---- the harness's own dispatch cost ----------------------------------- */

/* Each iteration runs the spin workload with work=0 (empty tasks) through
 * a pool: thread start and join included, as a user of n_jobs pays. */
static int pool_job_make(struct pool_job *job, long tasks, errbuf *e)
{
	const struct workload_ops *w = workload_find("spin");
	struct params prm;
	char text[64];
	if (!w)
		return errf(e, "no spin workload");
	snprintf(text, sizeof text, "tasks=%ld,work=0", tasks);
	memset(job, 0, sizeof *job);
	if (params_parse(w->params, text, &prm, e) < 0 ||
	    w->setup(&prm, &job->ctx, e) < 0)
		return -1;
	job->w = w;
	job->ntasks = w->ntasks(job->ctx);
	job->results = calloc(job->ntasks, sizeof *job->results);
	if (!job->results) {
		w->teardown(job->ctx);
		return errf(e, "out of memory for %ld results", tasks);
	}
	return 0;
}

static void bm_pool(cb_state *st, void *arg)
{
	const struct pool_ops *pool = arg;
	long tasks = (long)cb_range(st, 0);
	struct pool_opts o = {.workers = (int)cb_range(st, 1),
			      .inject_task = -1};
	struct pool_job job;
	errbuf e;
	if (pool_job_make(&job, tasks, &e) < 0) {
		cb_skip_with_error(st, e.msg);
		return;
	}
	struct probe p;
	probe_begin(&p, NULL, NULL);
	while (cb_keep_running(st)) {
		struct pool_outcome out = {.task = -1};
		if (pool->run(&o, &job, &out) < 0) {
			cb_skip_with_error(st, out.detail);
			break;
		}
	}
	uint64_t dt = probe_end(st, &p);
	int64_t done = cb_iterations(st) * tasks;
	cb_set_items_processed(st, done);
	if (done > 0)
		cb_counter(st, "ns_per_task", (double)dt / (double)done, 0);
	job.w->teardown(job.ctx);
	free(job.results);
}

/* ---- the lock probe's overhead ----------------------------------------- */

static pthread_mutex_t plain_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lockstat_mutex probed_mu;
static int probed_ready; /* probed_mu was initialised */
#define PROBED_CLASS "gbench.lock"

static void bm_pthread_lock(cb_state *st, void *arg)
{
	(void)arg;
	struct probe p;
	if (cb_thread_index(st) == 0)
		probe_begin(&p, NULL, NULL);
	while (cb_keep_running(st)) {
		pthread_mutex_lock(&plain_mu);
		pthread_mutex_unlock(&plain_mu);
	}
	if (cb_thread_index(st) == 0)
		probe_end(st, &p);
}

static void bm_lockstat_lock(cb_state *st, void *arg)
{
	(void)arg;
	struct probe p;
	if (cb_thread_index(st) == 0)
		probe_begin(&p, class_wait, PROBED_CLASS);
	while (cb_keep_running(st)) {
		lockstat_lock(&probed_mu);
		lockstat_unlock(&probed_mu);
	}
	if (cb_thread_index(st) == 0)
		probe_end(st, &p);
}

/* ---- dmatrix bin lookup ------------------------------------------------ */

#define BIN_ROWS 16384 /* a power of two: the query index is a mask */

/* One lookup per iteration (XGBoost's SearchBin) over a one-feature
 * quantile matrix with max_bin bins, queried with its own values. */
static void bm_search_bin(cb_state *st, void *arg)
{
	(void)arg;
	float *x = malloc(BIN_ROWS * sizeof *x);
	float *label = calloc(BIN_ROWS, sizeof *label);
	struct qmatrix m = {0};
	errbuf e;
	uint64_t s = 88172645463325252ULL;
	for (size_t i = 0; x && i < BIN_ROWS; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		x[i] = (float)(s >> 40) / (float)(1 << 24);
	}
	if (!x || !label ||
	    qmatrix_build(x, label, BIN_ROWS, 1, (int)cb_range(st, 0), 1, &m,
			  &e) < 0) {
		cb_skip_with_error(st, x && label ? e.msg : "out of memory");
		goto done;
	}
	struct probe p;
	probe_begin(&p, NULL, NULL);
	size_t i = 0;
	uint64_t sum = 0;
	while (cb_keep_running(st))
		sum += qmatrix_search_bin(&m, 0, x[i++ & (BIN_ROWS - 1)]);
	escape((double)sum);
	probe_end(st, &p);
	qmatrix_free(&m);
done:
	free(x);
	free(label);
}

/* ---- registration ------------------------------------------------------ */

static int ok(int rc, const char *what, errbuf *e)
{
	return rc < 0 ? errf(e, "%s: %s", what, cb_last_error()) : 0;
}

static cb_bench *reg(const char *name, cb_fn fn, void *arg, errbuf *e)
{
	cb_bench *b = cb_register(name, fn, arg);
	if (!b)
		errf(e, "%s: %s", name, cb_last_error());
	return b;
}

/* Thread counts 1..4 (2x the cores here): past the cores on purpose. */
static int reg_threaded(const char *name, cb_fn fn, void *arg, errbuf *e)
{
	cb_bench *b = reg(name, fn, arg, e);
	if (!b)
		return -1;
	if (ok(cb_bench_thread_range(b, 1, 4), name, e) ||
	    ok(cb_bench_use_real_time(b), name, e))
		return -1;
	return 0;
}

static int reg_criterion(errbuf *e)
{
	if (cf_data_make(&crit_data, 12000, 2, 7, e) < 0)
		return -1;
	cf_config_default(&crit_cfg);
	for (size_t i = 0; i < sizeof crit_variants / sizeof *crit_variants;
	     i++) {
		struct crit_variant *v = &crit_variants[i];
		if (v->traced)
			v->vt = &lt_cf_ct_criterion;
		if (!v->vt || (v->traced && !trace_hooks_install))
			continue; /* built without the linetrace object */
		if (reg_threaded(v->name, bm_criterion, v, e) < 0)
			return -1;
	}
	return 0;
}

static int reg_blas(errbuf *e)
{
	static const int64_t sizes[] = {64, 128, 256, 512, 1024};
	cb_bench *dot = reg("blas/ddot", bm_ddot, NULL, e);
	cb_bench *mm = reg("blas/dgemm", bm_dgemm, NULL, e);
	if (!dot || !mm)
		return -1;
	if (ok(cb_bench_range(dot, 1 << 10, 1 << 20), "ddot", e) ||
	    ok(cb_bench_unit(dot, CB_US), "ddot", e) ||
	    ok(cb_bench_unit(mm, CB_MS), "dgemm", e))
		return -1;
	/* OpenBLAS runs its own threads: process CPU time shows them. */
	cb_bench *both[] = {dot, mm};
	for (int i = 0; i < 2; i++)
		if (ok(cb_bench_use_real_time(both[i]), "blas", e) ||
		    ok(cb_bench_measure_process_cpu_time(both[i]), "blas", e))
			return -1;
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		if (ok(cb_bench_arg(mm, sizes[i]), "dgemm", e))
			return -1;
	return 0;
}

static int reg_pool(const char *name, const struct pool_ops *pool,
		    int max_workers, errbuf *e)
{
	static const char *const names[] = {"tasks", "workers"};
	cb_bench *b = reg(name, bm_pool, (void *)pool, e);
	/* process CPU time: the workers' time, not only the caller's */
	if (!b || ok(cb_bench_use_real_time(b), name, e) ||
	    ok(cb_bench_measure_process_cpu_time(b), name, e) ||
	    ok(cb_bench_unit(b, CB_US), name, e))
		return -1;
	for (int64_t w = 1; w <= max_workers; w *= 2) {
		int64_t args[] = {10000, w};
		if (ok(cb_bench_args(b, args, 2), name, e))
			return -1;
	}
	return ok(cb_bench_arg_names(b, names, 2), name, e);
}

static int reg_locks(errbuf *e)
{
	if (lockstat_mutex_init(&probed_mu, PROBED_CLASS, e) < 0)
		return -1;
	probed_ready = 1;
	if (reg_threaded("lock/pthread", bm_pthread_lock, NULL, e) < 0 ||
	    reg_threaded("lock/lockstat", bm_lockstat_lock, NULL, e) < 0)
		return -1;
	return 0;
}

static int reg_dmatrix(errbuf *e)
{
	cb_bench *b = reg("dmatrix/search_bin", bm_search_bin, NULL, e);
	if (!b || ok(cb_bench_arg_names(b, (const char *const[]){"max_bin"}, 1),
		     "search_bin", e))
		return -1;
	static const int64_t bins[] = {16, 256, 4096};
	for (size_t i = 0; i < sizeof bins / sizeof *bins; i++)
		if (ok(cb_bench_arg(b, bins[i]), "search_bin", e))
			return -1;
	return 0;
}

int gbench_kernels_register(errbuf *e)
{
	if (!reg("shim/empty", bm_empty, NULL, e) || reg_criterion(e) < 0 ||
	    reg_blas(e) < 0 || reg_pool("pool/serial", &pool_serial, 1, e) < 0 ||
	    reg_pool("pool/thread", &pool_thread, 4, e) < 0 ||
	    reg_locks(e) < 0 || reg_dmatrix(e) < 0)
		return -1;
	cb_add_context("openblas_corename", openblas_get_corename());
	cb_add_context("openblas_config", openblas_get_config());
	return 0;
}

void gbench_kernels_free(void)
{
	cf_data_free(&crit_data);
	memset(&crit_data, 0, sizeof crit_data);
	if (probed_ready)
		lockstat_mutex_destroy(&probed_mu);
	probed_ready = 0;
}
