/* bench_dmatrix.c - our quantile matrix build against libxgboost's
 * QuantileDMatrix on the same data and threads (target: ours / xgboost <=
 * 1.0), then story 3's memory: immediate vs deferred release, sampled. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/dmatrix.h"
#include "probes/memsampler.h"

#define MiB (1024.0 * 1024.0)

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *setup(const char *text, errbuf *e)
{
	struct params p;
	void *ctx = NULL;
	if (params_parse(workload_dmatrix.params, text, &p, e) < 0 ||
	    workload_dmatrix.setup(&p, &ctx, e) < 0)
		return NULL;
	return ctx;
}

/* Best of `reps` builds each, alternating ours and libxgboost's so drift
 * from other load on the machine hits both alike. */
static int compare(size_t rows, size_t cols, int nthread, int reps,
		   double *ours, double *xgb, errbuf *e)
{
	char text[96];
	snprintf(text, sizeof text, "rows=%zu,cols=%zu", rows, cols);
	void *ctx = setup(text, e);
	if (!ctx)
		return -1;
	float *x;
	const float *y;
	size_t r, c;
	if (dmatrix_task_input(ctx, 0, &x, &y, &r, &c, e) < 0)
		return -1;
	*ours = *xgb = INFINITY;
	int rc = 0;
	for (int i = 0; i < reps && rc == 0; i++) {
		struct qmatrix m;
		double t0 = now_s();
		rc = qmatrix_build(x, y, r, c, 256, nthread, &m, e);
		double t1 = now_s();
		if (rc == 0)
			qmatrix_free(&m);
		if (t1 - t0 < *ours)
			*ours = t1 - t0;
		if (rc || !xgb_available())
			continue;
		void *h;
		t0 = now_s();
		rc = xgb_qdm_create(x, y, r, c, 256, nthread, &h, e);
		t1 = now_s();
		xgb_qdm_free(h);
		if (t1 - t0 < *xgb)
			*xgb = t1 - t0;
	}
	free(x);
	workload_dmatrix.teardown(ctx);
	return rc;
}

struct pool {
	void *ctx;
	size_t n, next;
	pthread_mutex_t mu;
	int failed;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t t = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (t >= p->n)
			return NULL;
		struct task_result r;
		if (dmatrix_run_task(p->ctx, t, &r) < 0)
			p->failed = 1; /* benign race: only ever set to 1 */
	}
}

/* The story's thread pool: `workers` threads over one ctx, sampled, in a
 * child process so that no run inherits the heap another one grew. */
static int memory_run_here(const char *text, int workers, errbuf *e)
{
	void *ctx = setup(text, e);
	if (!ctx)
		return -1;
	struct memsampler_opts o = {0};
	struct memsampler *s;
	o.pss = 1;
	if (memsampler_start(&o, &s, e) < 0)
		return -1;
	struct pool p = {ctx, dmatrix_ntasks(ctx), 0, PTHREAD_MUTEX_INITIALIZER, 0};
	pthread_t th[64];
	double t0 = now_s();
	for (int i = 0; i < workers; i++)
		pthread_create(&th[i], NULL, worker, &p);
	for (int i = 0; i < workers; i++)
		pthread_join(th[i], NULL);
	double wall = now_s() - t0;
	memsampler_stop(s, e);
	struct memsampler_summary u;
	struct dmatrix_stats st;
	memsampler_summary(s, &u);
	dmatrix_stats(ctx, &st);
	printf("  %-30s workers %2d  %5.2f s  RSS %6.1f -> peak %6.1f MiB  "
	       "held <= %3zu tasks (%5.1f MiB)  threads %2u  sampler %.2f%% "
	       "of a core (%.0f us/sample, %llu samples)\n",
	       text, workers, wall, (double)u.baseline_rss / MiB,
	       (double)u.peak_rss / MiB, st.peak_live,
	       (double)st.peak_live_bytes / MiB, u.peak_threads,
	       100.0 * u.cpu_fraction, u.mean_sample_us,
	       (unsigned long long)u.samples);
	fflush(stdout);
	memsampler_free(s);
	workload_dmatrix.teardown(ctx);
	return p.failed ? errf(e, "a task failed") : 0;
}

static int memory_run(const char *text, int workers, errbuf *e)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return errf(e, "fork failed");
	if (pid == 0) {
		errbuf ce;
		int rc = memory_run_here(text, workers, &ce);
		if (rc < 0)
			fprintf(stderr, "bench_dmatrix: %s\n", ce.msg);
		_exit(rc < 0 ? 1 : 0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return errf(e, "memory run '%s' failed", text);
	return 0;
}

int main(void)
{
	errbuf e = {{0}};
	const struct {
		size_t rows, cols;
		int reps;
	} shapes[] = {{131072, 1, 15}, {1000000, 16, 3}};
	int verdict = 0;
	/* memory first, while this process's heap is still small: the runs'
	 * children inherit it */
	printf("memory under a thread pool: 300 tasks of 131072 x 1, each "
	       "copying the input (data * i)\n");
	const char *runs[] = {"tasks=300,nthread=1",
			      "tasks=300,nthread=1,release=deferred:100"};
	const int workers[] = {2, 30};
	for (int w = 0; w < 2; w++)
		for (int r = 0; r < 2; r++)
			if (memory_run(runs[r], workers[w], &e) < 0) {
				fprintf(stderr, "bench_dmatrix: %s\n", e.msg);
				return 2;
			}
	printf("quantile matrix build, max_bin 256, best of N "
	       "(ours vs libxgboost QuantileDMatrix%s)\n",
	       xgb_available() ? "" : ": not built in");
	for (size_t i = 0; i < 2; i++) {
		for (int nt = 1; nt <= 2; nt++) {
			double ours, xgb;
			if (compare(shapes[i].rows, shapes[i].cols, nt,
				    shapes[i].reps, &ours, &xgb, &e) < 0) {
				fprintf(stderr, "bench_dmatrix: %s\n", e.msg);
				return 2;
			}
			double ratio = xgb_available() ? ours / xgb : NAN;
			printf("  %7zu x %-2zu nthread %d: ours %8.2f ms  "
			       "xgboost %8.2f ms  ours/xgboost %.3f%s\n",
			       shapes[i].rows, shapes[i].cols, nt, ours * 1e3,
			       xgb * 1e3, ratio,
			       ratio > 1.0 ? "  ABOVE TARGET 1.0" : "");
			if (ratio > 1.0)
				verdict = 1;
		}
	}
	return verdict;
}
