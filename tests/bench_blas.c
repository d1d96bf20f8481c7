/* bench_blas.c - dgemm GFLOP/s at n=1500 with the kernels OpenBLAS picked,
 * side by side with a better kernel set (OPENBLAS_CORETYPE), which is only
 * read at library load, so we re-execute ourselves with it set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/workload.h"
#include "probes/libpools.h"

#define CHILD_ENV "CONTEND_BENCH_BLAS_CHILD"
#define REPS 5

extern const struct workload_ops workload_blas_dot;
extern char **environ;

struct figures {
	char core[32];
	int threads;	   /* the library's default */
	double gflops_1;   /* median, 1 library thread */
	double gflops_n;   /* median, default library threads */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median GFLOP/s of REPS dgemm tasks (after one warm-up) at `threads`. */
static int median_gflops(void *ctx, int threads, double *out, errbuf *e)
{
	if (libpools_set_threads(threads, e) < 1)
		return errf(e, "no OpenBLAS loaded to set threads on");
	double g[REPS];
	struct task_result r;
	if (workload_blas_dot.run_task(ctx, 0, &r) < 0)
		return errf(e, "dgemm task failed (out of memory?)");
	for (int i = 0; i < REPS; i++) {
		if (workload_blas_dot.run_task(ctx, 0, &r) < 0)
			return errf(e, "dgemm task failed (out of memory?)");
		g[i] = r.value;
	}
	qsort(g, REPS, sizeof g[0], cmp_double);
	*out = g[REPS / 2];
	return 0;
}

static int measure(struct figures *f, errbuf *e)
{
	struct libpools lp;
	if (libpools_scan(&lp, e) < 0)
		return -1;
	const struct libpool *ob = libpools_find(&lp, LIBPOOL_OPENBLAS);
	if (!ob)
		return errf(e, "OpenBLAS is not loaded");
	snprintf(f->core, sizeof f->core, "%s", ob->corename);
	f->threads = ob->threads;
	struct params p;
	void *ctx = NULL;
	if (params_parse(workload_blas_dot.params, "kernel=dgemm,n=1500,tasks=1",
			 &p, e) < 0 ||
	    workload_blas_dot.setup(&p, &ctx, e) < 0)
		return -1;
	int rc = median_gflops(ctx, 1, &f->gflops_1, e);
	if (rc == 0)
		rc = median_gflops(ctx, f->threads, &f->gflops_n, e);
	workload_blas_dot.teardown(ctx);
	return rc;
}

/* Copy of environ without OPENBLAS_CORETYPE, plus our own entries. */
static char **child_env(const char *coretype_entry)
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 3, sizeof *env);
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18))
			env[k++] = environ[i];
	if (coretype_entry)
		env[k++] = (char *)coretype_entry;
	env[k] = CHILD_ENV "=1";
	return env;
}

/* Run ourselves with OPENBLAS_CORETYPE=core (NULL: unset, so OpenBLAS
 * detects the CPU itself) and read its figures back. */
static int measure_in_child(const char *argv0, const char *core,
			    struct figures *f, errbuf *e)
{
	char coretype[64];
	snprintf(coretype, sizeof coretype, "OPENBLAS_CORETYPE=%s", core ? core : "");
	char **env = child_env(core ? coretype : NULL);
	int p[2];
	if (!env)
		return errf(e, "out of memory");
	if (pipe(p) < 0) {
		free(env);
		return errf(e, "pipe: %s", strerror(errno));
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		char *const args[] = {(char *)argv0, NULL};
		execve("/proc/self/exe", args, env);
		_exit(127);
	}
	free(env);
	close(p[1]);
	FILE *in = fdopen(p[0], "r");
	int got = in ? fscanf(in, "core=%31s threads=%d g1=%lf gn=%lf", f->core,
			      &f->threads, &f->gflops_1, &f->gflops_n)
		     : 0;
	if (in)
		fclose(in);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (pid < 0 || got != 4)
		return errf(e, "the run with OPENBLAS_CORETYPE=%s gave no figures "
			       "(status 0x%x)", core ? core : "(unset)", st);
	return 0;
}

/* The kernel set worth comparing with, or NULL: never one the CPU lacks. */
static const char *comparison_core(const char *core, struct kernel_advice *adv)
{
	struct libpools lp;
	enum cpu_level cpu = CPU_SSE;
	libpools_scan(&lp, NULL);
	if (libpools_kernel_check_loaded(&lp, adv, NULL) == 0 && adv->applies)
		return adv->suggested;
	cpu_level_detect(&cpu, NULL);
	if (cpu == CPU_AVX512 && strcasecmp(core, "SkylakeX"))
		return "SkylakeX";
	return NULL;
}

static void print_row(const char *label, const struct figures *f,
		      const struct figures *first)
{
	printf("  %-48s %9.1f %10.1f   %.2fx / %.2fx\n", label, f->gflops_1,
	       f->gflops_n, f->gflops_1 / first->gflops_1,
	       f->gflops_n / first->gflops_n);
}

int main(int argc, char **argv)
{
	(void)argc;
	struct figures rows[3];
	char label[160];
	errbuf e = {{0}};
	if (measure(&rows[0], &e) < 0) {
		fprintf(stderr, "bench_blas: %s\n", e.msg);
		return 1;
	}
	if (getenv(CHILD_ENV)) {
		printf("core=%s threads=%d g1=%.3f gn=%.3f\n", rows[0].core,
		       rows[0].threads, rows[0].gflops_1, rows[0].gflops_n);
		return 0;
	}
	const char *forced = getenv("OPENBLAS_CORETYPE");
	printf("dgemm n=1500 (blas-dot task), GFLOP/s, median of %d calls\n", REPS);
	char nt[32];
	snprintf(nt, sizeof nt, "%d threads", rows[0].threads);
	printf("  %-48s %9s %10s   ratio to row 1 (1 / %d threads)\n",
	       "kernels", "1 thread", nt, rows[0].threads);
	if (forced && *forced)
		snprintf(label, sizeof label, "%s (OPENBLAS_CORETYPE=%.20s, from env)",
			 rows[0].core, forced);
	else
		snprintf(label, sizeof label, "%s (detected)", rows[0].core);
	print_row(label, &rows[0], &rows[0]);
	size_t n = 1;
	/* What OpenBLAS picks by itself when the environment does not force. */
	if (forced && *forced) {
		if (measure_in_child(argv[0], NULL, &rows[n], &e) < 0) {
			fprintf(stderr, "bench_blas: %s\n", e.msg);
			return 1;
		}
		snprintf(label, sizeof label, "%s (detected, OPENBLAS_CORETYPE unset)",
			 rows[n].core);
		print_row(label, &rows[n], &rows[0]);
		n++;
	}
	struct kernel_advice adv;
	const char *core = comparison_core(rows[0].core, &adv);
	for (size_t i = 0; core && i < n; i++)
		if (!strcasecmp(rows[i].core, core))
			core = NULL; /* already measured */
	if (core) {
		if (measure_in_child(argv[0], core, &rows[n], &e) < 0) {
			fprintf(stderr, "bench_blas: %s\n", e.msg);
			return 1;
		}
		snprintf(label, sizeof label, "%s (OPENBLAS_CORETYPE=%s)",
			 rows[n].core, core);
		print_row(label, &rows[n], &rows[0]);
		printf("by hand: OPENBLAS_CORETYPE=%s bin/contend run blas-dot ...\n",
		       core);
	}
	if (adv.applies)
		printf("warning: %s\n", adv.message);
	return 0;
}
