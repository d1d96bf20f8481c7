/* spin.c - a synthetic workload: N tasks of a fixed amount of arithmetic.
 *
 * With work=0 a task does nothing, which is how `make bench` measures the
 * pools' own dispatch cost per task; tests use it for fast end-to-end runs. */
#include <stdlib.h>

#include "bench/workload.h"

struct spin {
	long tasks;
	long work; /* inner iterations per task */
	uint64_t seed;
};

static const struct param_spec spin_params[] = {
	{"tasks", "1000", "number of tasks"},
	{"work", "20000", "iterations of integer mixing per task (0: empty task)"},
	{"seed", "1", "seed of the per-task values"},
	{NULL, NULL, NULL},
};

static int spin_setup(const struct params *p, void **ctx, errbuf *e)
{
	struct spin s;
	long seed;
	if (params_long(p, "tasks", 0, 100000000, &s.tasks, e) ||
	    params_long(p, "work", 0, 1000000000, &s.work, e) ||
	    params_long(p, "seed", 0, 0x7fffffffL, &seed, e))
		return -1;
	s.seed = (uint64_t)seed;
	struct spin *c = malloc(sizeof *c);
	if (!c)
		return errf(e, "out of memory");
	*c = s;
	*ctx = c;
	return 0;
}

static size_t spin_ntasks(const void *ctx)
{
	return (size_t)((const struct spin *)ctx)->tasks;
}

static int spin_run(void *ctx, size_t task, struct task_result *out)
{
	const struct spin *s = ctx;
	uint64_t h = hash_u64(s->seed, task);
	for (long i = 0; i < s->work; i++)
		h = hash_u64(h, (uint64_t)i);
	out->hash = h;
	out->value = (double)s->work;
	return 0;
}

static void spin_teardown(void *ctx)
{
	free(ctx);
}

const struct workload_ops workload_spin = {
	.name = "spin",
	.describe = "synthetic tasks of fixed integer work (tests, pool overhead)",
	.value_name = "iterations",
	.params = spin_params,
	.setup = spin_setup,
	.ntasks = spin_ntasks,
	.run_task = spin_run,
	.checksum = checksum_task_hashes,
	.teardown = spin_teardown,
};
