/* lockstat.h - the instrumented lock used for every lock inside contend's
 * workloads and lock models: how often it was taken, how often and how long
 * threads waited for it, and how often it changed hands between threads. */
#ifndef CONTEND_LOCKSTAT_H
#define CONTEND_LOCKSTAT_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

/* Statistics are kept per lock *class*: every lock created with the same
 * name adds to the same figures (like lockdep classes), so a lock per tree
 * node is one line in a report, not thousands. */
#define LOCKSTAT_MAX_CLASSES 32
#define LOCKSTAT_NAME_MAX 32	     /* bytes, including the NUL */
#define LOCKSTAT_HIST_BUCKETS 40     /* log2(ns): the last bucket is >= 2^39 ns */

/* Embed by value. Fields are private: use the functions below. */
struct lockstat_mutex {
	pthread_mutex_t mu;
	uint32_t cls;	     /* statistics slot (class id) */
	uint32_t last_owner; /* lockstat_thread_id() of the last holder; under mu */
};

/* Fixed-size, pointer-free figures for one lock class, so a worker process
 * can write() it to its parent and the parent can merge it. */
struct lockstat_summary {
	char name[LOCKSTAT_NAME_MAX];
	uint64_t acquisitions;
	uint64_t contended;	  /* acquisitions that could not take it at once */
	uint64_t wait_ns;	  /* total time spent waiting, contended only */
	uint64_t max_wait_ns;
	uint64_t handovers;	  /* taken by a thread other than the last holder */
	uint64_t drop_requests;	  /* GIL model: waiter asked the holder to drop */
	uint64_t forced_switches; /* GIL model: releaser waited for a taker */
	uint64_t release_wait_ns; /* composite locks: time releasers were blocked
				   * (internal mutex, forced hand-over) */
	/* hist[i] counts contended waits in [2^i, 2^(i+1)) ns (hist[0]: < 2 ns);
	 * the sum of hist equals contended. */
	uint64_t hist[LOCKSTAT_HIST_BUCKETS];
};

/* --- locks ------------------------------------------------------------ */

/* name: the class, 1..LOCKSTAT_NAME_MAX-1 bytes. Fails on a bad name, when
 * LOCKSTAT_MAX_CLASSES distinct names are in use, or if pthread fails. */
int lockstat_mutex_init(struct lockstat_mutex *m, const char *name,
			errbuf *e);
void lockstat_mutex_destroy(struct lockstat_mutex *m);

/* Take the lock. Returns the nanoseconds waited: 0 when it was free at
 * once, otherwise at least 1, so callers can tell the two apart. */
uint64_t lockstat_lock(struct lockstat_mutex *m);
/* 0 when taken (counted as an uncontended acquisition), EBUSY otherwise. */
int lockstat_trylock(struct lockstat_mutex *m);
void lockstat_unlock(struct lockstat_mutex *m);

/* Wait on c with m held, like pthread_cond_(timed)wait (abstime on the
 * clock c was created with; NULL waits without limit). Getting m back is
 * counted as an acquisition (hand-over included) but not as a wait: time
 * on a condition variable is waiting for a condition, not for the lock.
 * Returns 0 or ETIMEDOUT. */
int lockstat_cond_wait(pthread_cond_t *c, struct lockstat_mutex *m,
		       const struct timespec *abstime);

/* In a fork child, for a lock the parent's prepare handler had locked (or
 * that a vanished thread may hold): make it a fresh, unlocked mutex. */
void lockstat_mutex_reinit_child(struct lockstat_mutex *m);

/* --- composite locks (the GIL model) record into a class of their own -- */

/* The class id for name, registering it if new; -1 on error. */
int lockstat_class(const char *name, errbuf *e);
void lockstat_record_acquire(int cls, uint64_t wait_ns, int contended,
			     int handover);
void lockstat_record_drop_request(int cls);
void lockstat_record_forced_switch(int cls);
/* A releaser was blocked wait_ns letting go of a composite lock (its
 * internal mutex, a forced hand-over): time lost to the lock, so it counts
 * in the share. */
void lockstat_record_release_wait(int cls, uint64_t wait_ns);

/* A small, non-zero id of the calling thread, unique in this process. */
uint32_t lockstat_thread_id(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t lockstat_now_ns(void);

/* --- reading the figures ---------------------------------------------- */

/* Sum of every thread's figures for the class called name. Fails when no
 * lock of that name exists. */
int lockstat_snapshot(const char *name, struct lockstat_summary *out,
		      errbuf *e);
void lockstat_snapshot_class(int cls, struct lockstat_summary *out);
/* One summary per registered class, in registration order; returns how
 * many classes exist (may exceed max: only max are written). */
size_t lockstat_snapshot_all(struct lockstat_summary *out, size_t max);

/* Zero every thread's figures. Call it while no instrumented lock is in
 * use (e.g. before a repetition's tasks start): an increment racing with
 * it may survive the reset. After fork() the child starts from zero by
 * itself, so what a worker process reports is its own work only. */
void lockstat_reset(void);

/* into += from: sums, maximum of max_wait_ns, histograms added. The name
 * of into is kept (from's is taken when into has none). */
void lockstat_merge(struct lockstat_summary *into,
		    const struct lockstat_summary *from);

/* {"name", "acquisitions", "contended", "wait_s", "share", "max_wait_s",
 *  "handovers", "drop_requests", "forced_switches",
 *  "histogram": {"unit": "log2_ns", "counts": [...]}}.
 * share = (wait_s + release_wait_s) / worker_seconds (the workers' summed
 * time: waiting to take the lock, or to let it go); when
 * worker_seconds is not positive, share is null and "share_reason" says
 * why. NULL on allocation failure. */
json_t *lockstat_summary_json(const struct lockstat_summary *s,
			      double worker_seconds);
/* An object keyed by lock name holding lockstat_summary_json of each; the
 * names must be distinct (merge summaries of one lock first). */
json_t *lockstat_summaries_json(const struct lockstat_summary *s, size_t n,
				double worker_seconds);

#endif
