/* bench_lockprobe.c - what the lock probe and the lock models cost: ns
 * added by lockstat to an uncontended lock/unlock pair (target: <= 25 ns,
 * PASS/FAIL), and the price of one interpreter-lock pair per model. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "probes/gil.h"
#include "probes/lockstat.h"

#define TARGET_NS 25.0
#define PAIRS 2000000L
#define ROUNDS 7 /* best of: other programs share the machine */

static double now_s(void)
{
	return (double)lockstat_now_ns() / 1e9;
}

static double plain_pair_ns(pthread_mutex_t *m)
{
	double t0 = now_s();
	for (long i = 0; i < PAIRS; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
	return (now_s() - t0) * 1e9 / PAIRS;
}

static double lockstat_pair_ns(struct lockstat_mutex *m)
{
	double t0 = now_s();
	for (long i = 0; i < PAIRS; i++) {
		lockstat_lock(m);
		lockstat_unlock(m);
	}
	return (now_s() - t0) * 1e9 / PAIRS;
}

static double gil_pair_ns(struct gil *g, long pairs)
{
	double t0 = now_s();
	for (long i = 0; i < pairs; i++) {
		gil_acquire(g);
		gil_release(g);
	}
	return (now_s() - t0) * 1e9 / (double)pairs;
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

/* Interleaved rounds, so a noisy moment hurts both sides alike. */
static int measure_overhead(void)
{
	pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
	struct lockstat_mutex lm;
	errbuf e;
	if (lockstat_mutex_init(&lm, "bench.overhead", &e) < 0) {
		fprintf(stderr, "bench_lockprobe: %s\n", e.msg);
		return -1;
	}
	double plain = 1e9, inst = 1e9;
	for (int r = 0; r < ROUNDS; r++) {
		plain = min2(plain, plain_pair_ns(&pm));
		inst = min2(inst, lockstat_pair_ns(&lm));
	}
	double added = inst - plain;
	printf("uncontended lock/unlock pair: pthread %.1f ns, lockstat %.1f ns, "
	       "added %.1f ns (target <= %.0f ns)\n", plain, inst, added, TARGET_NS);
	printf("%s: lockstat overhead %.1f ns per uncontended pair\n",
	       added <= TARGET_NS ? "PASS" : "FAIL", added);
	lockstat_mutex_destroy(&lm);
	return added <= TARGET_NS ? 0 : 1;
}

struct contender {
	struct gil *g;
	long pairs;
	int work; /* loop iterations outside the lock, like code between calls */
	pthread_barrier_t go; /* start together, not one after the other */
	/* Each thread's own start and end: the main thread can wake from the
	 * barrier after the workers have done most of a short run. */
	_Atomic double first_start, last_end;
};

static void record_span(struct contender *c, double t0, double t1)
{
	double v = atomic_load(&c->first_start);
	while (t0 < v && !atomic_compare_exchange_weak(&c->first_start, &v, t0))
		;
	v = atomic_load(&c->last_end);
	while (t1 > v && !atomic_compare_exchange_weak(&c->last_end, &v, t1))
		;
}

static _Atomic double sink; /* keeps the work loop from being optimised out */

static void *contend_loop(void *arg)
{
	struct contender *c = arg;
	double s = 0;
	pthread_barrier_wait(&c->go);
	double t0 = now_s();
	for (long i = 0; i < c->pairs; i++) {
		gil_acquire(c->g);
		gil_release(c->g);
		for (int k = 0; k < c->work; k++)
			s += k * 0.5;
	}
	atomic_store_explicit(&sink, s, memory_order_relaxed);
	record_span(c, t0, now_s());
	return NULL;
}

/* Wall seconds for `threads` threads sharing `total` pairs. */
static double run_threads(struct gil *g, int threads, long total, int work)
{
	pthread_t th[8];
	struct contender c = {.g = g, .pairs = total / threads, .work = work,
			      .first_start = 1e300, .last_end = 0};
	if (threads > 8 || pthread_barrier_init(&c.go, NULL, (unsigned)threads + 1))
		return -1;
	int started = 0;
	while (started < threads &&
	       pthread_create(&th[started], NULL, contend_loop, &c) == 0)
		started++;
	if (started < threads)
		abort(); /* the barrier would never open */
	pthread_barrier_wait(&c.go);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double wall = c.last_end - c.first_start;
	pthread_barrier_destroy(&c.go);
	return wall;
}

static void report_stats(struct gil *g, double wall, int threads)
{
	struct lockstat_summary s;
	gil_stats(g, &s);
	printf("    acquisitions %lu, contended %lu, handovers %lu, drop requests %lu, "
	       "forced switches %lu, wait share %.2f\n",
	       (unsigned long)s.acquisitions, (unsigned long)s.contended,
	       (unsigned long)s.handovers, (unsigned long)s.drop_requests,
	       (unsigned long)s.forced_switches,
	       wall > 0 ? (double)s.wait_ns / 1e9 / (wall * threads) : 0.0);
}

static int measure_models(void)
{
	const long pairs = 400000;
	for (int m = LOCK_MODEL_GIL; m <= LOCK_MODEL_NONE; m++) {
		struct gil *g;
		errbuf e;
		if (gil_create(&g, (enum lock_model)m, NULL, &e) < 0) {
			fprintf(stderr, "bench_lockprobe: %s\n", e.msg);
			return -1;
		}
		double one = 1e9;
		for (int r = 0; r < ROUNDS; r++)
			one = min2(one, gil_pair_ns(g, pairs));
		lockstat_reset();
		double wall2 = run_threads(g, 2, 2 * pairs, 0);
		printf("%-5s acquire/release pair: uncontended %.1f ns; 2 threads "
		       "contending %.1f ns per pair (wall / all pairs)\n",
		       lock_model_name((enum lock_model)m), one,
		       wall2 * 1e9 / (2.0 * pairs));
		report_stats(g, wall2, 2);
		gil_destroy(g);
	}
	return 0;
}

/* The n_jobs story in miniature: a fixed amount of work split over 1, 2
 * and 4 threads, one lock pair per small "criterion call". */
static int measure_scaling(void)
{
	const long calls = getenv("C") ? atol(getenv("C")) : 2000000;
	const int work = getenv("W") ? atoi(getenv("W")) : 5;
	printf("scaling: %ld calls of ~%d loop iterations, one pair per call\n",
	       calls, work);
	for (int m = LOCK_MODEL_GIL; m <= LOCK_MODEL_NONE; m++) {
		struct gil *g;
		errbuf e;
		if (gil_create(&g, (enum lock_model)m, NULL, &e) < 0) {
			fprintf(stderr, "bench_lockprobe: %s\n", e.msg);
			return -1;
		}
		double w[3];
		for (int i = 0, n = 1; i < 3; i++, n *= 2)
			w[i] = run_threads(g, n, calls, work);
		printf("%-5s 1/2/4 threads: %.3f / %.3f / %.3f s  (x%.2f / x%.2f vs 1 thread)\n",
		       lock_model_name((enum lock_model)m), w[0], w[1], w[2],
		       w[1] / w[0], w[2] / w[0]);
		gil_destroy(g);
	}
	return 0;
}

int main(void)
{
	int verdict = measure_overhead();
	if (verdict < 0 || measure_models() < 0 || measure_scaling() < 0)
		return 2;
	return verdict;
}
