/* blas_dot.c - the dueling-pools workload: each task is one OpenBLAS dgemm
 * (n x n doubles, NumPy's `a @ b`) or one long ddot, so the library's own
 * thread pool runs inside whatever pool contend puts around it.
 *
 * Checksum without a tolerance: every input is a multiple of 1/16 in
 * [-8, 8] and alpha is a small integer, so each product is a multiple of
 * 2^-8 below 2^6 and every partial sum of a dot product of length k is a
 * multiple of 2^-8 below 2^8 * k. For k <= 2^35 that needs fewer than 53
 * bits: every intermediate value is exactly representable, so the result
 * is exact whatever order, blocking, FMA use, thread count or kernel set
 * (Prescott, Haswell, SkylakeX) the library picks. We then hash the raw
 * bits. Rounding real-valued results to fewer bits before hashing would
 * not be safe: a value near a rounding boundary flips with a 1-ulp change,
 * and among millions of entries some always are. The data's values do not
 * change the speed of dgemm/ddot (no denormals, no data-dependent paths). */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/workload.h"

/* Tasks differ cheaply: task i uses A shifted down by (i % VARIANTS) rows
 * of one taller buffer (or x shifted by that many elements for ddot), and
 * alpha = 1 + (i / VARIANTS) % 4. */
#define VARIANTS 16
#define TASKS_PER_CORE 3 /* the story: 3 x ncores multiplications */

enum kernel { K_DGEMM, K_DDOT };

struct blas_dot {
	enum kernel kernel;
	long n;	    /* dgemm: matrix order */
	long len;   /* ddot: vector length */
	long tasks;
	double *a;  /* dgemm: (n + VARIANTS - 1) x n; ddot: len + VARIANTS - 1 */
	double *b;  /* dgemm: n x n; ddot: len */
};

static const struct param_spec blas_dot_params[] = {
	{"kernel", "dgemm", "dgemm (C = alpha A B, n x n) or ddot (x . y, len)"},
	{"n", "1500", "dgemm matrix order (the story's 1500 x 1500)"},
	{"len", "4000000", "ddot vector length"},
	{"tasks", "auto", "number of tasks; auto = 3 x online cores, as in the story"},
	{"seed", "1", "seed of the input values"},
	{NULL, NULL, NULL},
};

/* splitmix64: a deterministic stream from the seed, same on every libc. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* k/16 with k in [-128, 128]: see the exactness argument at the top. */
static void fill(double *v, size_t count, uint64_t *state)
{
	for (size_t i = 0; i < count; i++)
		v[i] = (double)((long)(next_u64(state) % 257) - 128) / 16.0;
}

static int parse_tasks(const struct params *p, long *out, errbuf *e)
{
	const char *v = params_get(p, "tasks");
	if (v && !strcmp(v, "auto")) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		*out = TASKS_PER_CORE * (cores > 0 ? cores : 1);
		return 0;
	}
	return params_long(p, "tasks", 1, 1000000, out, e);
}

static int parse(const struct params *p, struct blas_dot *c, long *seed,
		 errbuf *e)
{
	const char *k = params_get(p, "kernel");
	if (!k || (strcmp(k, "dgemm") && strcmp(k, "ddot")))
		return errf(e, "parameter kernel=%s: expected dgemm or ddot",
			    k ? k : "");
	c->kernel = strcmp(k, "dgemm") ? K_DDOT : K_DGEMM;
	/* Limits keep blasint (32-bit) indices and the exactness bound safe. */
	if (params_long(p, "n", 1, 16384, &c->n, e) ||
	    params_long(p, "len", 1, 1L << 28, &c->len, e) ||
	    parse_tasks(p, &c->tasks, e) ||
	    params_long(p, "seed", 0, 0x7fffffffL, seed, e))
		return -1;
	return 0;
}

static int blas_dot_setup(const struct params *p, void **ctx, errbuf *e)
{
	struct blas_dot *c = calloc(1, sizeof *c);
	long seed;
	if (!c)
		return errf(e, "out of memory");
	if (parse(p, c, &seed, e) < 0) {
		free(c);
		return -1;
	}
	size_t na, nb;
	if (c->kernel == K_DGEMM) {
		na = (size_t)(c->n + VARIANTS - 1) * (size_t)c->n;
		nb = (size_t)c->n * (size_t)c->n;
	} else {
		na = (size_t)c->len + VARIANTS - 1;
		nb = (size_t)c->len;
	}
	c->a = malloc(na * sizeof *c->a);
	c->b = malloc(nb * sizeof *c->b);
	if (!c->a || !c->b) {
		free(c->a);
		free(c->b);
		free(c);
		return errf(e, "blas-dot: out of memory for %zu doubles", na + nb);
	}
	uint64_t st = (uint64_t)seed;
	fill(c->a, na, &st);
	fill(c->b, nb, &st);
	*ctx = c;
	return 0;
}

static size_t blas_dot_ntasks(const void *ctx)
{
	return (size_t)((const struct blas_dot *)ctx)->tasks;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Order-dependent digest of exact doubles. Four lanes so the multiply
 * chain does not dominate; "+ 0.0" turns a -0 (an all-negative-zero sum,
 * possible in principle) into +0 so the bits depend on the value only. */
static uint64_t digest(const double *v, size_t count)
{
	uint64_t h[4] = {1, 2, 3, 4};
	size_t i = 0;
	for (; i + 4 <= count; i += 4)
		for (int l = 0; l < 4; l++) {
			double x = v[i + l] + 0.0;
			uint64_t bits;
			memcpy(&bits, &x, sizeof bits);
			h[l] = (h[l] ^ bits) * 0x100000001b3ULL;
		}
	uint64_t out = HASH_SEED;
	for (; i < count; i++) {
		double x = v[i] + 0.0;
		uint64_t bits;
		memcpy(&bits, &x, sizeof bits);
		out = hash_u64(out, bits);
	}
	for (int l = 0; l < 4; l++)
		out = hash_u64(out, h[l]);
	return out;
}

static int run_dgemm(const struct blas_dot *c, size_t task,
		     struct task_result *out)
{
	size_t n = (size_t)c->n;
	double *m = malloc(n * n * sizeof *m);
	if (!m)
		return -1;
	/* Touch the output first so the timed call measures the kernel, not
	 * first-touch page faults. */
	memset(m, 0, n * n * sizeof *m);
	const double *a = c->a + (task % VARIANTS) * n;
	double alpha = (double)(1 + (task / VARIANTS) % 4);
	double t0 = now_s();
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n,
		    (int)n, alpha, a, (int)n, c->b, (int)n, 0.0, m, (int)n);
	double dt = now_s() - t0;
	out->hash = hash_u64(hash_u64(HASH_SEED, task), digest(m, n * n));
	out->value = dt > 0 ? 2.0 * (double)n * (double)n * (double)n / dt / 1e9 : 0;
	free(m);
	return 0;
}

static int run_ddot(const struct blas_dot *c, size_t task,
		    struct task_result *out)
{
	const double *x = c->a + task % VARIANTS;
	double alpha = (double)(1 + (task / VARIANTS) % 4);
	double t0 = now_s();
	double d = alpha * cblas_ddot((int)c->len, x, 1, c->b, 1);
	double dt = now_s() - t0;
	out->hash = hash_u64(hash_u64(HASH_SEED, task), digest(&d, 1));
	out->value = dt > 0 ? 2.0 * (double)c->len / dt / 1e9 : 0;
	return 0;
}

static int blas_dot_run(void *ctx, size_t task, struct task_result *out)
{
	const struct blas_dot *c = ctx;
	if (task >= (size_t)c->tasks)
		return -1;
	return c->kernel == K_DGEMM ? run_dgemm(c, task, out)
				    : run_ddot(c, task, out);
}

static void blas_dot_teardown(void *ctx)
{
	struct blas_dot *c = ctx;
	if (!c)
		return;
	free(c->a);
	free(c->b);
	free(c);
}

const struct workload_ops workload_blas_dot = {
	.name = "blas-dot",
	.describe = "OpenBLAS dgemm/ddot per task: the library's pool inside ours",
	.uses_blas = 1,
	.value_name = "gflops",
	.params = blas_dot_params,
	.setup = blas_dot_setup,
	.ntasks = blas_dot_ntasks,
	.run_task = blas_dot_run,
	.checksum = checksum_task_hashes,
	.teardown = blas_dot_teardown,
};
