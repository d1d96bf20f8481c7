/* test_blas_dot.c - the blas-dot workload: its checksum must not depend on
 * OpenBLAS's thread count, kernel set, task order or process, yet must
 * change with the inputs; bad parameters are refused with their name. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cblas.h>
#include <inttypes.h>

#include "bench/workload.h"
#include "probes/libpools.h"
#include "tests/testutil.h"

extern const struct workload_ops workload_blas_dot;
static const struct workload_ops *W = &workload_blas_dot;

#define CHILD_ENV "CONTEND_TEST_BLAS_DOT_CHILD"

static void *setup_or_fail(const char *text)
{
	struct params p;
	errbuf e = {{0}};
	void *ctx = NULL;
	if (params_parse(W->params, text, &p, &e) < 0 || W->setup(&p, &ctx, &e) < 0)
		fail_msg("setup '%s': %s", text, e.msg);
	return ctx;
}

/* Run every task in the given order; return the checksum. */
static uint64_t run_all(void *ctx, struct task_result *res, int reverse)
{
	size_t n = W->ntasks(ctx);
	for (size_t k = 0; k < n; k++) {
		size_t i = reverse ? n - 1 - k : k;
		memset(&res[i], 0, sizeof res[i]);
		assert_int_equal(W->run_task(ctx, i, &res[i]), 0);
	}
	return W->checksum(ctx, res, n);
}

static uint64_t checksum_with_threads(const char *text, int threads)
{
	assert_true(libpools_set_threads(threads, NULL) >= 1);
	void *ctx = setup_or_fail(text);
	struct task_result res[64];
	assert_true(W->ntasks(ctx) <= 64);
	uint64_t h = run_all(ctx, res, 0);
	W->teardown(ctx);
	return h;
}

static void test_defaults(void **state)
{
	(void)state;
	void *ctx = setup_or_fail("");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	assert_int_equal(W->ntasks(ctx), (size_t)(3 * cores));
	W->teardown(ctx);
	assert_string_equal(W->name, "blas-dot");
	assert_string_equal(W->value_name, "gflops");
}

static void test_threads_1_vs_2_dgemm(void **state)
{
	(void)state;
	const char *cfg = "n=600,tasks=6";
	uint64_t one = checksum_with_threads(cfg, 1);
	uint64_t two = checksum_with_threads(cfg, 2);
	assert_int_equal(one, two);
	libpools_set_threads(2, NULL);
}

static void test_threads_1_vs_2_ddot(void **state)
{
	(void)state;
	const char *cfg = "kernel=ddot,len=2000000,tasks=20";
	uint64_t one = checksum_with_threads(cfg, 1);
	uint64_t two = checksum_with_threads(cfg, 2);
	assert_int_equal(one, two);
	libpools_set_threads(2, NULL);
}

struct half {
	void *ctx;
	struct task_result *res;
	size_t from, step;
};

static void *run_half(void *arg)
{
	struct half *h = arg;
	for (size_t i = h->from; i < W->ntasks(h->ctx); i += h->step)
		if (W->run_task(h->ctx, i, &h->res[i]) < 0)
			h->res[i].status = TASK_FAILED;
	return NULL;
}

/* Serial forwards, serial backwards, and two threads interleaved. */
static void test_task_order_and_concurrency(void **state)
{
	(void)state;
	void *ctx = setup_or_fail("n=200,tasks=40");
	struct task_result a[40], b[40], c[40];
	uint64_t fwd = run_all(ctx, a, 0);
	uint64_t rev = run_all(ctx, b, 1);
	memset(c, 0, sizeof c);
	pthread_t t[2];
	struct half h[2] = {{ctx, c, 0, 2}, {ctx, c, 1, 2}};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run_half, &h[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(fwd, rev);
	assert_int_equal(fwd, W->checksum(ctx, c, 40));
	for (size_t i = 0; i < 40; i++) {
		assert_int_equal(a[i].hash, b[i].hash);
		assert_true(a[i].value > 0);
		for (size_t j = 0; j < i; j++) /* every task differs */
			assert_true(a[i].hash != a[j].hash);
	}
	W->teardown(ctx);
}

/* A forked child starts its own OpenBLAS pool and must agree. */
static void test_forked_child_agrees(void **state)
{
	(void)state;
	void *ctx = setup_or_fail("n=300,tasks=5");
	struct task_result res[5];
	uint64_t here = run_all(ctx, res, 0);
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct task_result r[5];
		uint64_t h = run_all(ctx, r, 1);
		_exit(write(p[1], &h, sizeof h) == sizeof h ? 0 : 1);
	}
	close(p[1]);
	uint64_t there = 0;
	assert_int_equal(read(p[0], &there, sizeof there), sizeof there);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(here, there);
	W->teardown(ctx);
}

static void test_inputs_change_checksum(void **state)
{
	(void)state;
	struct task_result r1[4], r2[4];
	void *c1 = setup_or_fail("n=100,tasks=4,seed=1");
	void *c2 = setup_or_fail("n=100,tasks=4,seed=2");
	assert_true(run_all(c1, r1, 0) != run_all(c2, r2, 0));
	W->teardown(c1);
	W->teardown(c2);
}

static void expect_bad(const char *text, const char *needle)
{
	struct params p;
	errbuf e = {{0}};
	void *ctx = NULL;
	int rc = params_parse(W->params, text, &p, &e);
	if (rc == 0)
		rc = W->setup(&p, &ctx, &e);
	assert_int_equal(rc, -1);
	if (!strstr(e.msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", text, e.msg, needle);
}

static void test_bad_params(void **state)
{
	(void)state;
	expect_bad("kernel=dsyrk", "kernel");
	expect_bad("kernel=", "kernel");
	expect_bad("n=0", "n=0");
	expect_bad("n=100000", "n=100000");
	expect_bad("n=12x", "n=12x");
	expect_bad("len=0", "len");
	expect_bad("tasks=0", "tasks");
	expect_bad("tasks=many", "tasks");
	expect_bad("seed=-1", "seed");
	expect_bad("rows=5", "rows");
}

static void test_task_out_of_range(void **state)
{
	(void)state;
	void *ctx = setup_or_fail("n=10,tasks=2");
	struct task_result r;
	assert_int_equal(W->run_task(ctx, 2, &r), -1);
	W->teardown(ctx);
}

/* ---- across kernel sets: each child runs under its own OPENBLAS_CORETYPE
 * (read once at library load, so it needs a fresh process). ---- */

/* Digest of a dgemm on real-valued data: the control that shows a naive
 * hash of BLAS output does change between kernel sets. */
static uint64_t real_valued_digest(void)
{
	enum { N = 300 };
	static double a[N * N], b[N * N], c[N * N];
	uint64_t s = 42;
	for (size_t i = 0; i < N * N; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		a[i] = (double)(s >> 11) / 9007199254740992.0;
		b[i] = 1.0 / (double)(i % 97 + 3);
	}
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a,
		    N, b, N, 0.0, c, N);
	return hash_bytes(HASH_SEED, c, sizeof c);
}

static int child_main(void)
{
	libpools_set_threads(1, NULL);
	struct libpools lp;
	libpools_scan(&lp, NULL);
	const struct libpool *ob = libpools_find(&lp, LIBPOOL_OPENBLAS);
	struct params p;
	void *ctx = NULL;
	if (!ob || params_parse(W->params, "n=1500,tasks=2", &p, NULL) < 0 ||
	    W->setup(&p, &ctx, NULL) < 0)
		return 1;
	struct task_result r[2];
	for (size_t i = 0; i < 2; i++)
		if (W->run_task(ctx, i, &r[i]) < 0)
			return 1;
	printf("core=%s checksum=%016" PRIx64 " real=%016" PRIx64 "\n",
	       ob->corename, W->checksum(ctx, r, 2), real_valued_digest());
	W->teardown(ctx);
	return 0;
}

struct child_out {
	char core[32];
	uint64_t checksum, real;
};

static void run_child(const char *coretype, struct child_out *o)
{
	static struct cmd_result r;
	char *argv[] = {"/proc/self/exe", NULL};
	setenv(CHILD_ENV, "1", 1);
	setenv("OPENBLAS_CORETYPE", coretype, 1);
	assert_int_equal(tu_run(&r, argv), 0);
	unsetenv(CHILD_ENV);
	unsetenv("OPENBLAS_CORETYPE");
	if (r.status != 0 ||
	    sscanf(r.out, "core=%31s checksum=%" SCNx64 " real=%" SCNx64,
		   o->core, &o->checksum, &o->real) != 3)
		fail_msg("child with OPENBLAS_CORETYPE=%s: status %d: %s",
			 coretype, r.status, r.out);
}

static void test_checksum_across_kernel_sets(void **state)
{
	(void)state;
	enum cpu_level lvl;
	assert_int_equal(cpu_level_detect(&lvl, NULL), 0);
	/* Never ask for kernels the CPU cannot run (SIGILL). */
	const char *types[] = {"Prescott", "Haswell", "SkylakeX"};
	size_t ntypes = lvl >= CPU_AVX512 ? 3 : lvl >= CPU_AVX2 ? 2 : 1;
	struct child_out o[3];
	for (size_t i = 0; i < ntypes; i++) {
		run_child(types[i], &o[i]);
		assert_string_equal(o[i].core, types[i]); /* the switch worked */
		assert_int_equal(o[i].checksum, o[0].checksum);
	}
	/* The control: on real-valued data an SSE kernel (no FMA) and an FMA
	 * kernel give different bits, which is why the inputs are exact. */
	if (ntypes > 1)
		assert_true(o[1].real != o[0].real);
}

int main(void)
{
	if (getenv(CHILD_ENV))
		return child_main();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_threads_1_vs_2_dgemm),
		cmocka_unit_test(test_threads_1_vs_2_ddot),
		cmocka_unit_test(test_task_order_and_concurrency),
		cmocka_unit_test(test_forked_child_agrees),
		cmocka_unit_test(test_inputs_change_checksum),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_task_out_of_range),
		cmocka_unit_test(test_checksum_across_kernel_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
