/* main.c - bin/contend-gbench: contend's kernels under Google Benchmark's
 * own flags (--benchmark_filter, _out, _repetitions ...), then the figure
 * the runs only give by difference: the trace hook's cost per call. */
#include <stdio.h>
#include <string.h>

#include "bench/gbench/cbench.h"
#include "bench/gbench/kernels.h"

#define MAX_THREADS 4
#define N_MODELS 3

static const char *const models[N_MODELS] = {"gil", "mutex", "none"};

/* One criterion variant at one thread count: the median when repeated,
 * else the (last) measured run. */
struct crit_fig {
	int have, is_median;
	double real_ns;	   /* per candidate, all threads together */
	double hook_calls; /* per candidate */
};

struct collected {
	struct crit_fig release[MAX_THREADS + 1];
	struct crit_fig traced[N_MODELS][MAX_THREADS + 1];
	int errors;
};

static struct crit_fig *crit_slot(struct collected *c, const char *family,
				  int threads)
{
	if (threads < 1 || threads > MAX_THREADS)
		return NULL;
	if (!strcmp(family, GBENCH_CRIT_RELEASE))
		return &c->release[threads];
	size_t k = strlen(GBENCH_CRIT_LINETRACE);
	if (strncmp(family, GBENCH_CRIT_LINETRACE, k))
		return NULL;
	for (int m = 0; m < N_MODELS; m++)
		if (!strcmp(family + k, models[m]))
			return &c->traced[m][threads];
	return NULL;
}

static void collect(const struct cb_result *r, void *arg)
{
	struct collected *c = arg;
	if (r->error) {
		c->errors++;
		return;
	}
	int median = !strcmp(r->aggregate, "median");
	struct crit_fig *f = crit_slot(c, r->family, r->threads);
	if (!f || (*r->aggregate && !median) || (f->is_median && !median))
		return;
	f->have = 1;
	f->is_median = median;
	f->real_ns = r->real_ns;
	if (cb_result_counter(r, "hook_calls", &f->hook_calls) < 0)
		f->hook_calls = 0;
}

/* Two views of one difference. wall: Google Benchmark's time per
 * iteration, the wall time divided by every thread's iterations (what a
 * whole job pays). thread: that times the thread count, what one thread
 * waits per call; past the core count it includes waiting for a CPU. */
static void print_model(const struct collected *c, int m)
{
	for (int t = 1; t <= MAX_THREADS; t++) {
		const struct crit_fig *rel = &c->release[t];
		const struct crit_fig *lt = &c->traced[m][t];
		if (!rel->have || !lt->have || lt->hook_calls <= 0)
			continue;
		double wall = (lt->real_ns - rel->real_ns) / lt->hook_calls;
		printf("  %-6s %7d %12.2f %12.2f %10.2f %12.2f %12.2f\n",
		       models[m], t, rel->real_ns, lt->real_ns, lt->hook_calls,
		       wall, wall * t);
	}
}

static void print_hook_cost(const struct collected *c)
{
	int any = 0;
	for (int m = 0; m < N_MODELS; m++)
		for (int t = 1; t <= MAX_THREADS; t++)
			any |= c->traced[m][t].have && c->release[t].have;
	if (!any)
		return;
	printf("\ntrace hook cost: criterion/linetrace-<model> minus "
	       "criterion/release\n");
	printf("  %-6s %7s %12s %12s %10s %12s %12s\n", "model", "threads",
	       "release", "linetrace", "hooks", "hook", "hook");
	printf("  %-6s %7s %12s %12s %10s %12s %12s\n", "", "",
	       "ns/cand", "ns/cand", "per cand", "ns (wall)", "ns (thread)");
	for (int m = 0; m < N_MODELS; m++)
		print_model(c, m);
}

int main(int argc, char **argv)
{
	errbuf e;
	if (cb_initialize(&argc, argv) < 0) {
		fprintf(stderr, "contend-gbench: %s\n", cb_last_error());
		return 2;
	}
	if (gbench_kernels_register(&e) < 0) {
		fprintf(stderr, "contend-gbench: %s\n", e.msg);
		gbench_kernels_free();
		return 1;
	}
	struct collected c = {0};
	size_t ran = cb_run_specified_with(collect, &c);
	print_hook_cost(&c);
	cb_shutdown();
	gbench_kernels_free();
	if (c.errors)
		fprintf(stderr, "contend-gbench: %d run(s) failed\n", c.errors);
	return ran == 0 || c.errors ? 1 : 0;
}
