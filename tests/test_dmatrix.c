/* test_dmatrix.c - our quantile matrix against libxgboost's (same cuts,
 * same bins), bins consistent with cuts, one checksum for every order,
 * thread count and sharing mode, the /dev/shm files of the sharing modes,
 * the deferred release policy, and bad parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/dmatrix.h"
#include "probes/memsampler.h"

#define MiB (1024.0 * 1024.0)

/* libxgboost runs on libgomp, which ThreadSanitizer cannot see into: its
 * thread hand-offs look like races. Under TSan the libxgboost cases are
 * skipped; everything of ours still runs. */
static int xgb_testable(void)
{
#ifdef __SANITIZE_THREAD__
	return 0;
#else
	return xgb_available();
#endif
}

/* Input of each of the four feature kinds of the workload (normal,
 * log-normal, uniform, 50 integer levels), from the workload itself. */
static void *setup_ctx(const struct workload_ops *w, const char *text)
{
	struct params p;
	errbuf e = {{0}};
	void *ctx = NULL;
	if (params_parse(w->params, text, &p, &e) < 0 ||
	    w->setup(&p, &ctx, &e) < 0)
		print_error("setup %s: %s\n", text, e.msg);
	assert_non_null(ctx);
	return ctx;
}

static void build_task(const char *text, size_t task, int max_bin,
		       int nthread, struct qmatrix *m, float **x_out,
		       size_t *rows, size_t *cols)
{
	void *ctx = setup_ctx(&workload_dmatrix, text);
	float *x;
	const float *y;
	errbuf e = {{0}};
	assert_int_equal(dmatrix_task_input(ctx, task, &x, &y, rows, cols, &e), 0);
	int rc = qmatrix_build(x, y, *rows, *cols, max_bin, nthread, m, &e);
	if (rc)
		print_error("build: %s\n", e.msg);
	assert_int_equal(rc, 0);
	*x_out = x;
	workload_dmatrix.teardown(ctx);
}

/* Every value lies in its bin: lower(bin) <= v < cut[bin] (the first bin's
 * lower bound is below every value), and the bin is the first cut above
 * it; cuts rise strictly, the last is above the maximum. */
static void check_consistent(const struct qmatrix *m, const float *x)
{
	for (size_t f = 0; f < m->cols; f++) {
		const float *c = m->cut_values + m->cut_ptrs[f];
		uint32_t n = m->cut_ptrs[f + 1] - m->cut_ptrs[f];
		assert_true(n >= 1 && n <= (uint32_t)m->max_bin);
		for (uint32_t i = 1; i < n; i++)
			assert_true(c[i] > c[i - 1]);
		assert_true(m->min_vals[f] < c[0]);
	}
	for (size_t r = 0; r < m->rows; r++) {
		for (size_t f = 0; f < m->cols; f++) {
			float v = x[r * m->cols + f];
			uint32_t b = qmatrix_bin(m, r, f);
			const float *c = m->cut_values + m->cut_ptrs[f];
			assert_true(b < m->cut_ptrs[f + 1] - m->cut_ptrs[f]);
			assert_true(v < c[b]);
			if (b == 0)
				assert_true(v > m->min_vals[f]);
			else
				assert_true(v >= c[b - 1]);
			assert_int_equal(b, qmatrix_search_bin(m, f, v));
		}
	}
}

static void test_bins_consistent_with_cuts(void **state)
{
	(void)state;
	const struct {
		const char *params;
		int max_bin;
	} cases[] = {
		{"rows=131072,cols=1", 256},
		{"rows=20000,cols=4", 256},
		{"rows=100,cols=4", 256},	/* fewer rows than bins */
		{"rows=30000,cols=2", 1000},	/* uint16 bins */
		{"rows=5000,cols=4", 2},
		{"rows=1,cols=3", 256},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct qmatrix m;
		float *x;
		size_t rows, cols;
		build_task(cases[i].params, 3, cases[i].max_bin, 2, &m, &x,
			   &rows, &cols);
		assert_int_equal(m.index_width, cases[i].max_bin <= 256 ? 1 : 2);
		check_consistent(&m, x);
		free(x);
		qmatrix_free(&m);
	}
}

/* XGBoost's semantics on a case small enough to work out by hand: values
 * {1, 2, 3}: cuts are the values above the minimum, then max + |max| +
 * 1e-5; the minimum bound is min - |min| - 1e-5. */
static void test_cut_semantics_by_hand(void **state)
{
	(void)state;
	float x[9] = {3, 1, 2, 2, 3, 1, 1, 3, 2}, y[9] = {0};
	struct qmatrix m;
	errbuf e;
	assert_int_equal(qmatrix_build(x, y, 9, 1, 256, 1, &m, &e), 0);
	assert_int_equal(m.cut_ptrs[1], 3);
	assert_true(m.cut_values[0] == 2.0f);
	assert_true(m.cut_values[1] == 3.0f);
	assert_true(m.cut_values[2] == 3.0f + (3.0f + 1e-5f));
	assert_true(m.min_vals[0] == -1e-5f);
	assert_int_equal(qmatrix_bin(&m, 0, 0), 2); /* 3 */
	assert_int_equal(qmatrix_bin(&m, 1, 0), 0); /* 1 */
	assert_int_equal(qmatrix_bin(&m, 2, 0), 1); /* 2 */
	qmatrix_free(&m);

	/* many distinct values: exactly max_bin bins */
	struct qmatrix big;
	float *bx;
	size_t rows, cols;
	build_task("rows=100000,cols=1", 0, 64, 1, &big, &bx, &rows, &cols);
	assert_int_equal(big.cut_ptrs[1], 64);
	/* a quantile sketch: bins hold about rows / max_bin values each */
	size_t count[64] = {0};
	for (size_t r = 0; r < rows; r++)
		count[qmatrix_bin(&big, r, 0)]++;
	for (int b = 0; b < 64; b++)
		assert_true(count[b] > rows / 64 / 2 && count[b] < rows / 64 * 2);
	free(bx);
	qmatrix_free(&big);
}

/* The cross-check: bit-identical cuts and bins. Tolerance 0, because the
 * sketch is a port of XGBoost 1.7's (same chunking, same float rank
 * arithmetic). What cannot be compared: the last cut of each feature,
 * which libxgboost 1.7's C API does not show (its quantized values are
 * bin lower bounds); both sides make it from the maximum by the same
 * formula. A -0.0 next to 0.0 in one chunk is the one known divergence
 * (XGBoost keeps whichever std::sort puts first; we keep +0). */
static void test_cuts_match_xgboost(void **state)
{
	(void)state;
	if (!xgb_testable())
		skip();
	const struct {
		const char *params;
		int max_bin, nthread;
	} cases[] = {
		{"rows=131072,cols=1", 256, 1},
		{"rows=131072,cols=1", 256, 2},
		{"rows=50000,cols=8", 256, 2},
		{"rows=200,cols=4", 256, 1},
		{"rows=40000,cols=3", 1000, 2},
		{"rows=9000,cols=4", 16, 1},
		{"rows=3,cols=2", 2, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct qmatrix ours, theirs;
		float *x;
		size_t rows, cols;
		errbuf e = {{0}};
		build_task(cases[i].params, 6, cases[i].max_bin,
			   cases[i].nthread, &ours, &x, &rows, &cols);
		void *h;
		assert_int_equal(xgb_qdm_create(x, ours.label, rows, cols,
						cases[i].max_bin,
						cases[i].nthread, &h, &e), 0);
		float *xmax = malloc(cols * sizeof *xmax);
		for (size_t f = 0; f < cols; f++)
			xmax[f] = -INFINITY;
		for (size_t k = 0; k < rows * cols; k++)
			xmax[k % cols] = fmaxf(xmax[k % cols], x[k]);
		int rc = xgb_qdm_to_qmatrix(h, xmax, cases[i].max_bin, &theirs, &e);
		if (rc)
			print_error("%s\n", e.msg);
		assert_int_equal(rc, 0);
		assert_memory_equal(ours.cut_ptrs, theirs.cut_ptrs,
				    (cols + 1) * sizeof *ours.cut_ptrs);
		for (uint32_t k = 0; k < ours.cut_ptrs[cols]; k++)
			if (ours.cut_values[k] != theirs.cut_values[k])
				fail_msg("%s: cut %u: ours %.9g, xgboost %.9g",
					 cases[i].params, k, ours.cut_values[k],
					 theirs.cut_values[k]);
		assert_memory_equal(ours.min_vals, theirs.min_vals,
				    cols * sizeof *ours.min_vals);
		assert_memory_equal(ours.index, theirs.index,
				    rows * cols * (size_t)ours.index_width);
		assert_memory_equal(ours.label, theirs.label, rows * sizeof(float));
		assert_true(qmatrix_hash(&ours) == qmatrix_hash(&theirs));
		free(xmax);
		free(x);
		qmatrix_free(&ours);
		qmatrix_free(&theirs);
		xgb_qdm_free(h);
	}
}

/* ---- the workload ------------------------------------------------------ */

struct runner {
	const struct workload_ops *w;
	void *ctx;
	struct task_result *res;
	size_t n;
	size_t next; /* guarded by mu */
	pthread_mutex_t mu;
};

static void *run_worker(void *arg)
{
	struct runner *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		size_t t = r->next++;
		pthread_mutex_unlock(&r->mu);
		if (t >= r->n)
			return NULL;
		assert_int_equal(r->w->run_task(r->ctx, t, &r->res[t]), 0);
	}
}

/* Run every task (reverse order when serial and reverse is set, or from
 * `workers` threads taking the next index) and return the checksum. */
static uint64_t run_all(const struct workload_ops *w, void *ctx, int workers,
			int reverse)
{
	struct runner r = {w, ctx, NULL, w->ntasks(ctx), 0,
			   PTHREAD_MUTEX_INITIALIZER};
	r.res = calloc(r.n, sizeof *r.res);
	if (workers <= 1) {
		for (size_t i = 0; i < r.n; i++) {
			size_t t = reverse ? r.n - 1 - i : i;
			assert_int_equal(w->run_task(ctx, t, &r.res[t]), 0);
		}
	} else {
		pthread_t th[16];
		for (int i = 0; i < workers; i++)
			pthread_create(&th[i], NULL, run_worker, &r);
		for (int i = 0; i < workers; i++)
			pthread_join(th[i], NULL);
	}
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(r.res[i].status, TASK_OK);
	uint64_t sum = w->checksum(ctx, r.res, r.n);
	free(r.res);
	return sum;
}

static uint64_t checksum_of(const struct workload_ops *w, const char *text,
			    int workers, int reverse)
{
	void *ctx = setup_ctx(w, text);
	uint64_t sum = run_all(w, ctx, workers, reverse);
	w->teardown(ctx);
	return sum;
}

static void test_checksum_same_everywhere(void **state)
{
	(void)state;
	const char *base = "rows=20000,cols=3,tasks=12";
	uint64_t ref = checksum_of(&workload_dmatrix, base, 1, 0);
	assert_true(ref == checksum_of(&workload_dmatrix, base, 1, 1));
	assert_true(ref == checksum_of(&workload_dmatrix,
				       "rows=20000,cols=3,tasks=12,nthread=3",
				       4, 0));
	assert_true(ref == checksum_of(&workload_dmatrix,
				       "rows=20000,cols=3,tasks=12,"
				       "release=deferred:5,nthread=2",
				       3, 0));
	/* a different input is a different checksum */
	assert_true(ref != checksum_of(&workload_dmatrix,
				       "rows=20000,cols=3,tasks=12,seed=7", 1, 0));
	assert_true(ref != checksum_of(&workload_dmatrix,
				       "rows=20000,cols=3,tasks=12,max_bin=255",
				       1, 0));
	/* libxgboost's matrices digest to the same checksum */
	if (xgb_testable())
		assert_true(ref == checksum_of(&workload_dmatrix_xgb,
					       "rows=20000,cols=3,tasks=12,"
					       "nthread=2", 2, 0));
}

/* Every sharing mode hands the tasks the same values. */
static void test_checksum_same_for_every_share_mode(void **state)
{
	(void)state;
	static const char *const modes[] = {"inherit", "shm", "copy",
					    "shm-per-task"};
	uint64_t ref = checksum_of(&workload_dmatrix,
				   "rows=20000,cols=3,tasks=12", 1, 0);
	for (size_t i = 0; i < 4; i++) {
		char text[128];
		snprintf(text, sizeof text, "rows=20000,cols=3,tasks=12,share=%s",
			 modes[i]);
		assert_true(ref == checksum_of(&workload_dmatrix, text, 1, 1));
		snprintf(text, sizeof text, "rows=20000,cols=3,tasks=12,"
			 "share=%s,release=deferred:5,nthread=2", modes[i]);
		assert_true(ref == checksum_of(&workload_dmatrix, text, 3, 0));
	}
}

/* This process group's files under /dev/shm whose names go on with
 * `kind` ("input-", "task"); each must be a private regular file. */
static size_t shm_files(const char *kind)
{
	char pattern[96];
	glob_t g;
	size_t n = 0;
	snprintf(pattern, sizeof pattern, "/dev/shm/contend-%d-%s*",
		 (int)getpgrp(), kind);
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct stat st;
		assert_int_equal(lstat(g.gl_pathv[i], &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0600);
		n++;
	}
	globfree(&g);
	return n;
}

static void test_shm_one_input_file(void **state)
{
	(void)state;
	unsetenv("CONTEND_DMATRIX_INPUT");
	void *a = setup_ctx(&workload_dmatrix, "rows=3000,tasks=4,share=shm");
	assert_int_equal(shm_files("input-"), 1);
	/* a second setup of the same input in this group (a spawned worker)
	 * maps the same file; another input gets a file of its own */
	void *b = setup_ctx(&workload_dmatrix, "rows=3000,tasks=4,share=shm");
	assert_int_equal(shm_files("input-"), 1);
	void *c = setup_ctx(&workload_dmatrix, "rows=3001,tasks=4,share=shm");
	assert_int_equal(shm_files("input-"), 2);
	assert_true(run_all(&workload_dmatrix, b, 2, 0) ==
		    run_all(&workload_dmatrix, a, 1, 0));
	workload_dmatrix.teardown(b); /* not its file: stays */
	assert_int_equal(shm_files("input-"), 2);
	workload_dmatrix.teardown(a);
	workload_dmatrix.teardown(c);
	assert_int_equal(shm_files("input-"), 0);
	assert_null(getenv("CONTEND_DMATRIX_INPUT"));
	assert_int_equal(shm_files("task"), 0);
}

/* A file per task, kept after the task (whatever the release policy)
 * until teardown; RSS does not hold them under immediate release. */
static void test_shm_per_task_files_until_teardown(void **state)
{
	(void)state;
	void *ctx = setup_ctx(&workload_dmatrix,
			      "rows=3000,cols=2,tasks=9,share=shm-per-task");
	assert_int_equal(shm_files("task"), 0);
	run_all(&workload_dmatrix, ctx, 3, 0);
	assert_int_equal(shm_files("task"), 9);
	run_all(&workload_dmatrix, ctx, 1, 0); /* a second repetition */
	assert_int_equal(shm_files("task"), 18);
	workload_dmatrix.teardown(ctx);
	assert_int_equal(shm_files("task"), 0);
	assert_int_equal(shm_files("input-"), 0);
}

/* copy: the received copy is held with the rest under deferred release. */
static void test_copy_is_held_with_the_task(void **state)
{
	(void)state;
	struct dmatrix_stats inh, cp;
	void *ctx = setup_ctx(&workload_dmatrix,
			      "rows=1000,cols=2,tasks=3,release=deferred:10");
	run_all(&workload_dmatrix, ctx, 1, 0);
	dmatrix_stats(ctx, &inh);
	workload_dmatrix.teardown(ctx);
	ctx = setup_ctx(&workload_dmatrix, "rows=1000,cols=2,tasks=3,"
			"release=deferred:10,share=copy");
	run_all(&workload_dmatrix, ctx, 1, 0);
	dmatrix_stats(ctx, &cp);
	workload_dmatrix.teardown(ctx);
	/* per task: 1000 x 2 values and 1000 labels received */
	assert_int_equal(cp.live_bytes - inh.live_bytes, 3 * (2000 + 1000) * 4);
}

static void test_deferred_keeps_k_alive(void **state)
{
	(void)state;
	void *ctx = setup_ctx(&workload_dmatrix,
			      "rows=1000,cols=2,tasks=12,release=deferred:5");
	struct task_result r;
	struct dmatrix_stats st;
	for (size_t t = 0; t < 12; t++) {
		assert_int_equal(dmatrix_run_task(ctx, t, &r), 0);
		dmatrix_stats(ctx, &st);
		/* 1, 2, 3, 4, then the 5th triggers a collection */
		assert_int_equal(st.live, (t + 1) % 5);
		assert_int_equal(st.collections, (t + 1) / 5);
	}
	assert_int_equal(st.peak_live, 5);
	assert_int_equal(st.tasks_done, 12);
	/* each held task: its 1000 x 2 float copy and its matrix */
	assert_true(st.peak_live_bytes >= 5 * (1000 * 2 * 4 + 1000 * 2 + 1000 * 4));
	assert_true(st.live_bytes > 0);
	workload_dmatrix.teardown(ctx); /* frees the 2 still held */

	/* from four threads: never more than K alive, all accounted for */
	ctx = setup_ctx(&workload_dmatrix,
			"rows=2000,cols=1,tasks=40,release=deferred:7");
	run_all(&workload_dmatrix, ctx, 4, 0);
	dmatrix_stats(ctx, &st);
	assert_true(st.peak_live == 7);
	assert_int_equal(st.collections, 40 / 7);
	assert_int_equal(st.live, 40 % 7);
	assert_int_equal(st.tasks_done, 40);
	workload_dmatrix.teardown(ctx);

	ctx = setup_ctx(&workload_dmatrix, "rows=2000,cols=1,tasks=10");
	run_all(&workload_dmatrix, ctx, 2, 0);
	dmatrix_stats(ctx, &st);
	assert_int_equal(st.peak_live, 0);
	assert_int_equal(st.tasks_done, 10);
	workload_dmatrix.teardown(ctx);
}

/* What the story is about, seen by the memory probe: the same tasks with
 * deferred release hold K tasks' copies and matrices at once. */
static uint64_t peak_growth(const char *text)
{
	void *ctx = setup_ctx(&workload_dmatrix, text);
	struct memsampler_opts o = {0};
	struct memsampler *s;
	errbuf e;
	o.interval_s = 0.002;
	assert_int_equal(memsampler_start(&o, &s, &e), 0);
	run_all(&workload_dmatrix, ctx, 2, 0);
	assert_int_equal(memsampler_stop(s, &e), 0);
	struct memsampler_summary u;
	memsampler_summary(s, &u);
	memsampler_free(s);
	workload_dmatrix.teardown(ctx);
	return u.peak_rss - u.baseline_rss;
}

static void test_deferred_memory_is_visible(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* ASan's quarantine holds freed memory back (immediate release would
	 * look deferred) and TSan's shadow memory multiplies RSS */
	skip();
#endif
	/* per task: 2 MiB copy + 0.5 MiB bins + 2 MiB label copy */
	uint64_t imm = peak_growth("rows=524288,tasks=24");
	uint64_t def = peak_growth("rows=524288,tasks=24,release=deferred:12");
	print_message("peak growth: immediate %.1f MiB, deferred:12 %.1f MiB\n",
		      imm / MiB, def / MiB);
	assert_true(def >= 12 * 4 * MiB);
	assert_true(imm <= 6 * 4.5 * MiB);
}

/* nthread=auto follows OMP_NUM_THREADS, which --inner-threads sets. */
static void test_nthread_auto(void **state)
{
	(void)state;
	const char *saved = getenv("OMP_NUM_THREADS");
	char *keep = saved ? strdup(saved) : NULL;
	setenv("OMP_NUM_THREADS", "3", 1);
	void *ctx = setup_ctx(&workload_dmatrix, "rows=10,tasks=1");
	assert_int_equal(dmatrix_nthread(ctx), 3);
	workload_dmatrix.teardown(ctx);
	unsetenv("OMP_NUM_THREADS");
	ctx = setup_ctx(&workload_dmatrix, "rows=10,tasks=1");
	assert_int_equal(dmatrix_nthread(ctx), (int)sysconf(_SC_NPROCESSORS_ONLN));
	workload_dmatrix.teardown(ctx);
	ctx = setup_ctx(&workload_dmatrix, "rows=10,tasks=1,nthread=5");
	assert_int_equal(dmatrix_nthread(ctx), 5);
	workload_dmatrix.teardown(ctx);
	if (keep)
		setenv("OMP_NUM_THREADS", keep, 1);
	free(keep);
}

static void test_bad_params_rejected(void **state)
{
	(void)state;
	const char *bad[] = {
		"release=deferred:0", "release=deferred:", "release=deferred:x",
		"release=deferred", "release=later", "max_bin=1",
		"max_bin=100000", "rows=0", "cols=0", "nthread=0", "tasks=0",
		"nthread=automatic", "nthread=257",
		"rows=16777216,cols=32",
		"share=SHM", "share=mmap", "share=shm-per-tasks",
		"share=copy ", "share=Inherit", "share=shm:2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct params p;
		errbuf e = {{0}};
		void *ctx = NULL;
		assert_int_equal(params_parse(workload_dmatrix.params, bad[i],
					      &p, &e), 0);
		assert_int_equal(workload_dmatrix.setup(&p, &ctx, &e), -1);
		assert_null(ctx);
		assert_true(strlen(e.msg) > 0);
		if (!strncmp(bad[i], "share=", 6))
			assert_non_null(strstr(e.msg, "'share'"));
	}
	assert_int_equal(shm_files(""), 0);
	struct params p;
	errbuf e;
	assert_int_equal(params_parse(workload_dmatrix.params, "bins=3", &p, &e), -1);
	assert_int_equal(params_parse(workload_dmatrix.params, "share=", &p, &e), -1);

	/* the builder itself */
	float x[4] = {1, 2, NAN, 4}, y[4] = {0};
	struct qmatrix m;
	assert_int_equal(qmatrix_build(x, y, 4, 1, 256, 1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "row 2"));
	x[2] = INFINITY;
	assert_int_equal(qmatrix_build(x, y, 2, 2, 256, 2, &m, &e), -1);
	x[2] = 3;
	assert_int_equal(qmatrix_build(x, y, 0, 1, 256, 1, &m, &e), -1);
	assert_int_equal(qmatrix_build(x, y, 4, 1, 1, 1, &m, &e), -1);
	assert_int_equal(qmatrix_build(x, y, 4, 1, 70000, 1, &m, &e), -1);
	assert_int_equal(qmatrix_build(x, y, 4, 1, 256, 0, &m, &e), -1);
	assert_int_equal(qmatrix_build(NULL, y, 4, 1, 256, 1, &m, &e), -1);
	assert_int_equal(qmatrix_build(x, y, 4, 1, 256, 1, &m, &e), 0);
	qmatrix_free(&m);
	qmatrix_free(&m); /* twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bins_consistent_with_cuts),
		cmocka_unit_test(test_cut_semantics_by_hand),
		cmocka_unit_test(test_cuts_match_xgboost),
		cmocka_unit_test(test_checksum_same_everywhere),
		cmocka_unit_test(test_checksum_same_for_every_share_mode),
		cmocka_unit_test(test_shm_one_input_file),
		cmocka_unit_test(test_shm_per_task_files_until_teardown),
		cmocka_unit_test(test_copy_is_held_with_the_task),
		cmocka_unit_test(test_deferred_keeps_k_alive),
		cmocka_unit_test(test_deferred_memory_is_visible),
		cmocka_unit_test(test_nthread_auto),
		cmocka_unit_test(test_bad_params_rejected),
	};
	return cmocka_run_group_tests_name("dmatrix", tests, NULL, NULL);
}
