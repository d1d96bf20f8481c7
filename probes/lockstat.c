/* lockstat.c - the instrumented lock: per-thread statistics blocks that
 * are summed only when someone asks, so measuring a lock never makes it
 * (or anything else) more contended than it already is. */
#include "probes/lockstat.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The lock hot path is reachable from the linetrace hooks; should this file
 * ever be compiled with -finstrument-functions, the hooks must not recurse
 * into themselves through it. */
#define NOINSTR __attribute__((no_instrument_function))

/* Counters are written only by their owning thread, read by snapshots from
 * any thread: relaxed atomic loads and stores compile to plain moves (no
 * locked instruction), yet keep concurrent readers well defined. */
typedef _Atomic uint64_t counter;

struct counters {
	counter acquisitions, contended, wait_ns, max_wait_ns, handovers;
	counter drop_requests, forced_switches, release_wait_ns;
	counter hist[LOCKSTAT_HIST_BUCKETS];
};

/* One per live thread, aligned so no two threads ever share a cache line. */
struct tblock {
	_Alignas(64) struct counters c[LOCKSTAT_MAX_CLASSES];
	struct tblock *next; /* registry list; under reg_mu */
	int in_use;	     /* owned by a live thread; under reg_mu */
};

/* Process-global registry (this probe's documented global state): the class
 * names and the list of every thread's block. Blocks are never freed: a
 * thread that exits gives its block back for reuse, its counts staying in
 * it, so snapshots still see the work of finished threads. Everything here
 * is guarded by reg_mu, which the lock hot path never takes. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static pthread_key_t reg_key; /* runs give_back() at thread exit */
static int reg_key_ok;
static char class_names[LOCKSTAT_MAX_CLASSES][LOCKSTAT_NAME_MAX];
static int nclasses;
static struct tblock *blocks;
/* Shared by threads that could not allocate a block of their own: their
 * updates may then be lost to each other, but never undefined. */
static struct tblock fallback_block;
static atomic_uint next_thread_id = 1;

/* The calling thread's block and id; set on its first lock operation. */
static __thread struct {
	struct tblock *b;
	uint32_t tid;
} me;

static NOINSTR void bump(counter *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static NOINSTR uint64_t get(const counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void zero_block(struct tblock *b)
{
	for (int k = 0; k < LOCKSTAT_MAX_CLASSES; k++) {
		struct counters *c = &b->c[k];
		counter *all[] = {&c->acquisitions, &c->contended, &c->wait_ns,
				  &c->max_wait_ns, &c->handovers,
				  &c->drop_requests, &c->forced_switches,
				  &c->release_wait_ns};
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			atomic_store_explicit(all[i], 0, memory_order_relaxed);
		for (int i = 0; i < LOCKSTAT_HIST_BUCKETS; i++)
			atomic_store_explicit(&c->hist[i], 0, memory_order_relaxed);
	}
}

/* --- fork: the child must not inherit a registry lock held by a thread
 * that does not exist there, and reports only its own work. */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&reg_mu);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&reg_mu);
}

static void atfork_child(void)
{
	pthread_mutex_init(&reg_mu, NULL);
	for (struct tblock *b = blocks; b; b = b->next) {
		if (b != me.b && b != &fallback_block)
			b->in_use = 0; /* its thread did not survive the fork */
		zero_block(b);
	}
}

static void give_back(void *p)
{
	struct tblock *b = p;
	pthread_mutex_lock(&reg_mu);
	b->in_use = 0;
	pthread_mutex_unlock(&reg_mu);
	me.b = NULL;
}

static void reg_init(void)
{
	/* Without the key, blocks of exited threads are merely not reused. */
	reg_key_ok = pthread_key_create(&reg_key, give_back) == 0;
	fallback_block.in_use = 1;
	blocks = &fallback_block;
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static struct tblock *find_free_block(void)
{
	for (struct tblock *b = blocks; b; b = b->next)
		if (!b->in_use)
			return b;
	struct tblock *b = aligned_alloc(_Alignof(struct tblock), sizeof *b);
	if (!b)
		return NULL;
	memset(b, 0, sizeof *b);
	b->next = blocks;
	blocks = b;
	return b;
}

static NOINSTR __attribute__((noinline)) struct tblock *adopt_block(void)
{
	pthread_once(&reg_once, reg_init);
	if (me.tid == 0)
		me.tid = atomic_fetch_add(&next_thread_id, 1);
	pthread_mutex_lock(&reg_mu);
	struct tblock *b = find_free_block();
	if (b)
		b->in_use = 1;
	pthread_mutex_unlock(&reg_mu);
	if (!b)
		b = &fallback_block;
	else if (reg_key_ok)
		pthread_setspecific(reg_key, b);
	me.b = b;
	return b;
}

static inline NOINSTR struct tblock *my_block(void)
{
	struct tblock *b = me.b;
	return __builtin_expect(b != NULL, 1) ? b : adopt_block();
}

uint32_t lockstat_thread_id(void)
{
	my_block();
	return me.tid;
}

NOINSTR uint64_t lockstat_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- recording -------------------------------------------------------- */

static NOINSTR int bucket_of(uint64_t ns)
{
	if (ns < 2)
		return 0;
	int b = 63 - __builtin_clzll(ns);
	return b < LOCKSTAT_HIST_BUCKETS ? b : LOCKSTAT_HIST_BUCKETS - 1;
}

static NOINSTR void record_wait(struct counters *c, uint64_t ns)
{
	bump(&c->contended, 1);
	bump(&c->wait_ns, ns);
	if (ns > get(&c->max_wait_ns))
		atomic_store_explicit(&c->max_wait_ns, ns, memory_order_relaxed);
	bump(&c->hist[bucket_of(ns)], 1);
}

/* Called with m held, so last_owner needs no further protection. */
static inline NOINSTR void note_acquired(struct lockstat_mutex *m,
					 struct counters *c)
{
	bump(&c->acquisitions, 1);
	uint32_t tid = me.tid;
	if (m->last_owner != tid) {
		if (m->last_owner)
			bump(&c->handovers, 1);
		m->last_owner = tid;
	}
}

static NOINSTR int valid_class(int cls)
{
	return cls >= 0 && cls < LOCKSTAT_MAX_CLASSES;
}

NOINSTR void lockstat_record_acquire(int cls, uint64_t wait_ns, int contended,
				     int handover)
{
	if (!valid_class(cls))
		return;
	struct counters *c = &my_block()->c[cls];
	bump(&c->acquisitions, 1);
	if (contended)
		record_wait(c, wait_ns);
	if (handover)
		bump(&c->handovers, 1);
}

NOINSTR void lockstat_record_drop_request(int cls)
{
	if (valid_class(cls))
		bump(&my_block()->c[cls].drop_requests, 1);
}

NOINSTR void lockstat_record_forced_switch(int cls)
{
	if (valid_class(cls))
		bump(&my_block()->c[cls].forced_switches, 1);
}

NOINSTR void lockstat_record_release_wait(int cls, uint64_t wait_ns)
{
	if (valid_class(cls) && wait_ns)
		bump(&my_block()->c[cls].release_wait_ns, wait_ns);
}

/* --- classes and locks ------------------------------------------------ */

int lockstat_class(const char *name, errbuf *e)
{
	if (!name || !*name)
		return errf(e, "lock name is empty");
	if (strlen(name) >= LOCKSTAT_NAME_MAX)
		return errf(e, "lock name '%s' is longer than %d bytes", name,
			    LOCKSTAT_NAME_MAX - 1);
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_mu);
	int k;
	for (k = 0; k < nclasses; k++)
		if (strcmp(class_names[k], name) == 0)
			break;
	if (k == nclasses && nclasses < LOCKSTAT_MAX_CLASSES)
		strcpy(class_names[nclasses++], name);
	pthread_mutex_unlock(&reg_mu);
	if (k == LOCKSTAT_MAX_CLASSES)
		return errf(e, "too many lock names (at most %d): cannot add '%s'",
			    LOCKSTAT_MAX_CLASSES, name);
	return k;
}

int lockstat_mutex_init(struct lockstat_mutex *m, const char *name, errbuf *e)
{
	int cls = lockstat_class(name, e);
	if (cls < 0)
		return -1;
	int rc = pthread_mutex_init(&m->mu, NULL);
	if (rc != 0)
		return errf(e, "lock '%s': %s", name, strerror(rc));
	m->cls = (uint32_t)cls;
	m->last_owner = 0;
	return 0;
}

void lockstat_mutex_destroy(struct lockstat_mutex *m)
{
	pthread_mutex_destroy(&m->mu);
}

void lockstat_mutex_reinit_child(struct lockstat_mutex *m)
{
	pthread_mutex_init(&m->mu, NULL);
	m->last_owner = 0;
}

static NOINSTR __attribute__((noinline)) uint64_t
lock_slow(struct lockstat_mutex *m)
{
	uint64_t t0 = lockstat_now_ns();
	pthread_mutex_lock(&m->mu);
	uint64_t w = lockstat_now_ns() - t0;
	return w ? w : 1;
}

NOINSTR uint64_t lockstat_lock(struct lockstat_mutex *m)
{
	struct counters *c = &my_block()->c[m->cls];
	uint64_t waited = 0;
	if (__builtin_expect(pthread_mutex_trylock(&m->mu) != 0, 0)) {
		waited = lock_slow(m);
		record_wait(c, waited);
	}
	note_acquired(m, c);
	return waited;
}

NOINSTR int lockstat_trylock(struct lockstat_mutex *m)
{
	struct counters *c = &my_block()->c[m->cls];
	if (pthread_mutex_trylock(&m->mu) != 0)
		return EBUSY;
	note_acquired(m, c);
	return 0;
}

NOINSTR void lockstat_unlock(struct lockstat_mutex *m)
{
	pthread_mutex_unlock(&m->mu);
}

NOINSTR int lockstat_cond_wait(pthread_cond_t *cv, struct lockstat_mutex *m,
			       const struct timespec *abstime)
{
	struct counters *c = &my_block()->c[m->cls];
	int rc = abstime ? pthread_cond_timedwait(cv, &m->mu, abstime)
			 : pthread_cond_wait(cv, &m->mu);
	note_acquired(m, c);
	return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

/* --- reading ---------------------------------------------------------- */

static void add_counters(struct lockstat_summary *s, const struct counters *c)
{
	s->acquisitions += get(&c->acquisitions);
	s->contended += get(&c->contended);
	s->wait_ns += get(&c->wait_ns);
	uint64_t mx = get(&c->max_wait_ns);
	if (mx > s->max_wait_ns)
		s->max_wait_ns = mx;
	s->handovers += get(&c->handovers);
	s->drop_requests += get(&c->drop_requests);
	s->forced_switches += get(&c->forced_switches);
	s->release_wait_ns += get(&c->release_wait_ns);
	for (int i = 0; i < LOCKSTAT_HIST_BUCKETS; i++)
		s->hist[i] += get(&c->hist[i]);
}

/* Caller holds reg_mu. */
static void sum_class(int cls, struct lockstat_summary *out)
{
	memset(out, 0, sizeof *out);
	if (cls < 0 || cls >= nclasses)
		return;
	memcpy(out->name, class_names[cls], LOCKSTAT_NAME_MAX);
	for (const struct tblock *b = blocks; b; b = b->next)
		add_counters(out, &b->c[cls]);
}

void lockstat_snapshot_class(int cls, struct lockstat_summary *out)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_mu);
	sum_class(cls, out);
	pthread_mutex_unlock(&reg_mu);
}

int lockstat_snapshot(const char *name, struct lockstat_summary *out,
		      errbuf *e)
{
	if (!name)
		return errf(e, "lock name is empty");
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_mu);
	int k;
	for (k = 0; k < nclasses; k++)
		if (strcmp(class_names[k], name) == 0)
			break;
	int found = k < nclasses;
	if (found)
		sum_class(k, out);
	pthread_mutex_unlock(&reg_mu);
	if (!found)
		return errf(e, "no lock named '%s'", name);
	return 0;
}

size_t lockstat_snapshot_all(struct lockstat_summary *out, size_t max)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_mu);
	size_t n = (size_t)nclasses;
	for (size_t k = 0; k < n && k < max; k++)
		sum_class((int)k, &out[k]);
	pthread_mutex_unlock(&reg_mu);
	return n;
}

void lockstat_reset(void)
{
	pthread_once(&reg_once, reg_init);
	pthread_mutex_lock(&reg_mu);
	for (struct tblock *b = blocks; b; b = b->next)
		zero_block(b);
	pthread_mutex_unlock(&reg_mu);
}

void lockstat_merge(struct lockstat_summary *into,
		    const struct lockstat_summary *from)
{
	if (!into->name[0]) {
		memcpy(into->name, from->name, LOCKSTAT_NAME_MAX);
		into->name[LOCKSTAT_NAME_MAX - 1] = 0;
	}
	into->acquisitions += from->acquisitions;
	into->contended += from->contended;
	into->wait_ns += from->wait_ns;
	if (from->max_wait_ns > into->max_wait_ns)
		into->max_wait_ns = from->max_wait_ns;
	into->handovers += from->handovers;
	into->drop_requests += from->drop_requests;
	into->forced_switches += from->forced_switches;
	into->release_wait_ns += from->release_wait_ns;
	for (int i = 0; i < LOCKSTAT_HIST_BUCKETS; i++)
		into->hist[i] += from->hist[i];
}

/* --- JSON ------------------------------------------------------------- */

static json_t *hist_json(const struct lockstat_summary *s)
{
	int used = LOCKSTAT_HIST_BUCKETS;
	while (used > 0 && s->hist[used - 1] == 0)
		used--; /* trailing empty buckets say nothing */
	json_t *counts = json_array();
	for (int i = 0; counts && i < used; i++)
		if (json_array_append_new(counts, json_integer((json_int_t)s->hist[i]))) {
			json_decref(counts);
			return NULL;
		}
	return json_pack("{s:s, s:o*}", "unit", "log2_ns", "counts", counts);
}

json_t *lockstat_summary_json(const struct lockstat_summary *s,
			      double worker_seconds)
{
	char name[LOCKSTAT_NAME_MAX];
	memcpy(name, s->name, sizeof name);
	name[sizeof name - 1] = 0; /* it came over a pipe: trust nothing */
	double wait_s = (double)s->wait_ns / 1e9;
	double release_s = (double)s->release_wait_ns / 1e9;
	json_t *o = json_pack(
		"{s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:I, s:o*}", "name", name,
		"acquisitions", (json_int_t)s->acquisitions, "contended",
		(json_int_t)s->contended, "wait_s", wait_s, "release_wait_s", release_s,
		"max_wait_s",
		(double)s->max_wait_ns / 1e9, "handovers",
		(json_int_t)s->handovers, "drop_requests",
		(json_int_t)s->drop_requests, "forced_switches",
		(json_int_t)s->forced_switches, "histogram", hist_json(s));
	if (!o)
		return NULL;
	int bad;
	if (worker_seconds > 0 && worker_seconds < 1e300) {
		bad = json_object_set_new(o, "share",
					  json_real((wait_s + release_s) / worker_seconds));
	} else {
		bad = json_object_set_new(o, "share", json_null()) ||
		      json_object_set_new(o, "share_reason",
					  json_string("no worker time to compare with"));
	}
	if (bad || !json_object_get(o, "histogram")) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *lockstat_summaries_json(const struct lockstat_summary *s, size_t n,
				double worker_seconds)
{
	json_t *all = json_object();
	for (size_t i = 0; all && i < n; i++) {
		json_t *one = lockstat_summary_json(&s[i], worker_seconds);
		const char *name = one ? json_string_value(json_object_get(one, "name")) : NULL;
		if (!name || json_object_set_new(all, name, one)) {
			json_decref(one);
			json_decref(all);
			return NULL;
		}
	}
	return all;
}
