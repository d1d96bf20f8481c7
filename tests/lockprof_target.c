/* lockprof_target.c - a pthread program with a known contended lock, run by
 * test_lockprof under LD_PRELOAD=libcontend-lockprof.so: it measures its own
 * lock waits so the profiler's figures can be checked against ground truth.
 *
 * usage: lockprof_target MODE [threads] [iterations] [hold_us]
 *   mutex   threads fight over one mutex, each holding it hold_us per turn
 *   rwlock  the same with a rwlock taken for writing
 *   cond    a ping-pong over a condition variable (waits are cond waits)
 *   fork    "mutex" in the parent, then a child (fork, exit()) runs it again
 *           with half the iterations and prints its own line
 *   fork_exit  the same, but the child ends with _exit()
 *   bench   one thread, `iterations` uncontended lock/unlock pairs; prints
 *           the cost of one pair in ns (threads > 1: after a thread has
 *           existed, so libc is in its multi-threaded mode)
 * Output, one line per process:
 *   pid=P lock=0xADDR acquisitions=N wait_ns=W
 * bench prints: pair_ns=X */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t the_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t the_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t the_cond = PTHREAD_COND_INITIALIZER;

struct job {
	int iterations;
	int hold_us;
	int use_rwlock;
	uint64_t waited_ns; /* this thread's own measurement */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy, not sleeping: a holder that sleeps would let the others run, and
 * the point is a lock held for a known stretch of work. */
static void spin_us(int us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000u;
	while (now_ns() < end)
		;
}

/* The function the profiler must name as the call site. */
__attribute__((noinline)) void *contend_worker(void *arg)
{
	struct job *j = arg;
	for (int i = 0; i < j->iterations; i++) {
		uint64_t t0 = now_ns();
		if (j->use_rwlock)
			pthread_rwlock_wrlock(&the_rwlock);
		else
			pthread_mutex_lock(&the_mutex);
		j->waited_ns += now_ns() - t0;
		spin_us(j->hold_us);
		if (j->use_rwlock)
			pthread_rwlock_unlock(&the_rwlock);
		else
			pthread_mutex_unlock(&the_mutex);
		spin_us(j->hold_us / 4); /* a little work outside the lock */
	}
	return NULL;
}

static int run_threads(int nthreads, int iterations, int hold_us, int use_rwlock)
{
	pthread_t tid[64];
	struct job jobs[64];
	if (nthreads < 1 || nthreads > 64)
		return -1;
	for (int i = 0; i < nthreads; i++) {
		jobs[i] = (struct job){iterations, hold_us, use_rwlock, 0};
		if (pthread_create(&tid[i], NULL, contend_worker, &jobs[i]))
			return -1;
	}
	uint64_t waited = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		waited += jobs[i].waited_ns;
	}
	printf("pid=%d lock=%p acquisitions=%llu wait_ns=%llu\n", (int)getpid(),
	       use_rwlock ? (void *)&the_rwlock : (void *)&the_mutex,
	       (unsigned long long)nthreads * (unsigned long long)iterations,
	       (unsigned long long)waited);
	fflush(stdout);
	return 0;
}

static int turn;

__attribute__((noinline)) void *cond_pinger(void *arg)
{
	int me = (int)(intptr_t)arg, rounds = 200;
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&the_mutex);
		while (turn != me)
			pthread_cond_wait(&the_cond, &the_mutex);
		turn = !me;
		pthread_cond_broadcast(&the_cond);
		pthread_mutex_unlock(&the_mutex);
	}
	return NULL;
}

static int run_cond(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, cond_pinger, (void *)0);
	pthread_create(&b, NULL, cond_pinger, (void *)1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("pid=%d lock=%p cond done\n", (int)getpid(), (void *)&the_cond);
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/* threads > 1: start (and join) a thread first, so that glibc takes its
 * multi-threaded path (atomic instructions) as it would in a real pool. */
static int run_bench(int threads, int pairs)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	if (threads > 1) {
		pthread_t t;
		if (pthread_create(&t, NULL, nothing, NULL))
			return -1;
		pthread_join(t, NULL);
	}
	for (int i = 0; i < 1000; i++) { /* warm up: resolve, claim the slot */
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	uint64_t t0 = now_ns();
	for (int i = 0; i < pairs; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	uint64_t t1 = now_ns();
	printf("pair_ns=%.2f\n", (double)(t1 - t0) / (pairs > 0 ? pairs : 1));
	return 0;
}

/* use_exit_: the child ends with _exit(), as fork-based pool workers do. */
static int run_fork(int nthreads, int iterations, int hold_us, int use_exit_)
{
	if (run_threads(nthreads, iterations, hold_us, 0) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int code = run_threads(nthreads, iterations / 2, hold_us, 0) < 0 ? 1 : 0;
		if (use_exit_)
			_exit(code);
		exit(code);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s mutex|rwlock|cond|fork|fork_exit|bench [threads] "
				"[iterations] [hold_us]\n", argv[0]);
		return 2;
	}
	int threads = argc > 2 ? atoi(argv[2]) : 4;
	int iterations = argc > 3 ? atoi(argv[3]) : 100;
	int hold_us = argc > 4 ? atoi(argv[4]) : 200;
	int rc;
	if (!strcmp(argv[1], "mutex"))
		rc = run_threads(threads, iterations, hold_us, 0);
	else if (!strcmp(argv[1], "rwlock"))
		rc = run_threads(threads, iterations, hold_us, 1);
	else if (!strcmp(argv[1], "cond"))
		rc = run_cond();
	else if (!strcmp(argv[1], "fork") || !strcmp(argv[1], "fork_exit"))
		rc = run_fork(threads, iterations, hold_us, !strcmp(argv[1], "fork_exit"));
	else if (!strcmp(argv[1], "bench"))
		rc = run_bench(threads, iterations);
	else
		rc = -1;
	return rc < 0 ? 1 : 0;
}
