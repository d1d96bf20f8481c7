/* census.c - threads and library pools of a profiled process (census.h).
 *
 * pthread_create is interposed to count threads and to remember which code
 * started them: the return address of the call, symbolised at exit, says
 * "libopenblas.so.0 started 7 threads". Live threads are counted through a
 * trampoline whose cleanup handler runs on return and on pthread_exit.
 * Threads made with a raw clone (no pthread_create) are not seen; the
 * census says how many threads the kernel listed at exit too.
 *
 * Global mutable state: counters and a small table of creators, lock-free
 * (atomics only) like the lock table, for the same reason: an interposer
 * has no caller to hand it a context. */
#include "probes/preload/census.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/libpools.h"

#define LP_EXPORT __attribute__((visibility("default")))
#define LP_CREATORS 32

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static _Atomic(create_fn) real_create;
static _Atomic int64_t created, live = 1, peak = 1; /* the main thread is live */
static struct {
	_Atomic uintptr_t pc;
	_Atomic uint64_t count;
} creators[LP_CREATORS];
static _Atomic uint64_t creators_other;

struct tramp {
	void *(*fn)(void *);
	void *arg;
};

static void live_dec(void *unused)
{
	(void)unused;
	atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
}

static void *trampoline(void *p)
{
	struct tramp t = *(struct tramp *)p;
	free(p);
	void *ret;
	pthread_cleanup_push(live_dec, NULL);
	ret = t.fn(t.arg);
	pthread_cleanup_pop(1);
	return ret;
}

static void creator_add(uintptr_t pc)
{
	for (int i = 0; i < LP_CREATORS; i++) {
		uintptr_t cur = atomic_load(&creators[i].pc);
		if (cur == 0) {
			uintptr_t expect = 0;
			cur = atomic_compare_exchange_strong(&creators[i].pc, &expect, pc) ? pc : expect;
		}
		if (cur == pc) {
			atomic_fetch_add_explicit(&creators[i].count, 1, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&creators_other, 1, memory_order_relaxed);
}

/* Resolved on first use: a library constructor may start threads before
 * the profiler's own constructor has run. */
static create_fn resolve_create(void)
{
	create_fn f = atomic_load(&real_create);
	if (f)
		return f;
	*(void **)&f = dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
	if (!f)
		*(void **)&f = dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.2.5");
	if (!f)
		*(void **)&f = dlsym(RTLD_NEXT, "pthread_create");
	atomic_store(&real_create, f);
	return f;
}

LP_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	create_fn real = resolve_create();
	struct tramp *t = real ? malloc(sizeof *t) : NULL;
	if (!t)
		return real ? real(th, attr, fn, arg) : EAGAIN;
	t->fn = fn;
	t->arg = arg;
	/* Counted live before it starts, so its exit can never go first. */
	int64_t now = atomic_fetch_add(&live, 1) + 1, p = atomic_load(&peak);
	while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
		;
	int rc = real(th, attr, trampoline, t);
	if (rc) {
		free(t);
		atomic_fetch_sub(&live, 1);
		return rc;
	}
	atomic_fetch_add_explicit(&created, 1, memory_order_relaxed);
	creator_add((uintptr_t)__builtin_return_address(0));
	return 0;
}

void lp_census_atfork_child(void)
{
	atomic_store(&created, 0);
	atomic_store(&live, 1);
	atomic_store(&peak, 1);
	for (int i = 0; i < LP_CREATORS; i++) {
		atomic_store(&creators[i].pc, 0);
		atomic_store(&creators[i].count, 0);
	}
	atomic_store(&creators_other, 0);
}

static int tasks_now(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return d ? n : -1;
}

static int cores_allowed(void)
{
	cpu_set_t set;
	return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
}

static json_t *creators_json(json_t *(*creator)(uintptr_t, uint64_t))
{
	json_t *a = json_array();
	for (int i = 0; i < LP_CREATORS; i++) {
		uintptr_t pc = atomic_load(&creators[i].pc);
		if (pc)
			json_array_append_new(a, creator(pc, atomic_load(&creators[i].count)));
	}
	return a;
}

json_t *lp_census_json(json_t *(*creator)(uintptr_t pc, uint64_t count))
{
	struct libpools lp;
	errbuf e;
	json_t *pools = libpools_scan(&lp, &e) == 0 ? libpools_json(&lp) : json_array();
	json_t *o = json_pack("{s:i, s:i, s:I, s:I, s:I, s:i, s:o, s:I, s:o, s:o}",
			      "cores_online", (int)sysconf(_SC_NPROCESSORS_ONLN),
			      "cores_allowed", cores_allowed(),
			      "threads_created", (json_int_t)atomic_load(&created),
			      "peak_threads", (json_int_t)atomic_load(&peak),
			      "threads_live", (json_int_t)atomic_load(&live),
			      "threads_at_exit", tasks_now(),
			      "threads_by_creator", creators_json(creator),
			      "threads_other_creators", (json_int_t)atomic_load(&creators_other),
			      "pools", pools, "pool_env", libpools_env_json());
	return o;
}
