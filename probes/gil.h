/* gil.h - models of an interpreter lock (--lock-model gil|mutex|none), the
 * lock Cython's nogil trace hooks re-take on every traced call: CPython's
 * GIL, a plain mutex, or nothing at all (free-threaded, PEP 703). */
#ifndef CONTEND_GIL_H
#define CONTEND_GIL_H

#include "common/err.h"
#include "probes/lockstat.h"

enum lock_model {
	LOCK_MODEL_GIL = 0, /* CPython's GIL: mutex + condvars, forced switching */
	LOCK_MODEL_MUTEX,   /* one instrumented pthread mutex */
	LOCK_MODEL_NONE,    /* no lock: acquire and release do nothing */
};

/* "gil", "mutex" or "none" (exactly); anything else is an error naming the
 * choices. */
int lock_model_parse(const char *name, enum lock_model *out, errbuf *e);
const char *lock_model_name(enum lock_model m);

/* CPython's default, sys.getswitchinterval() == 0.005. */
#define GIL_DEFAULT_SWITCH_INTERVAL_S 0.005
#define GIL_MIN_SWITCH_INTERVAL_S 1e-6 /* CPython's granularity: 1 us */
#define GIL_MAX_SWITCH_INTERVAL_S 10.0

#define GIL_DEFAULT_NAME "interp-lock"
#define GIL_NAME_MAX (LOCKSTAT_NAME_MAX - 1 - 7) /* room for ".switch" */

struct gil;

/* A new, unheld lock. name is its lockstat class (NULL: GIL_DEFAULT_NAME;
 * at most GIL_NAME_MAX bytes); the gil model also registers
 * "<name>.mutex" and "<name>.switch" for its two internal mutexes, so their
 * futex traffic shows up separately. Locks of the same name share figures. */
int gil_create(struct gil **out, enum lock_model model, const char *name,
	       errbuf *e);
/* Only once no thread holds or waits for it. */
void gil_destroy(struct gil *g);
enum lock_model gil_model(const struct gil *g);

/* Not recursive: a thread must not acquire a lock it holds. */
void gil_acquire(struct gil *g);
void gil_release(struct gil *g);
/* What CPython's eval loop does between bytecodes: if a waiter has asked
 * for the lock (a drop request, gil model only), release it and take it
 * back, the forced switch letting the waiter run first. The holder must
 * hold g. Returns 1 when it yielded, 0 otherwise (always 0 for mutex and
 * none, which have no such request). */
int gil_yield_if_requested(struct gil *g);
/* 1 when the calling thread holds g (always 1 for none, as
 * PyGILState_Check() is without a GIL), else 0. */
int gil_held(const struct gil *g);

/* How long a waiter waits before asking the holder to drop the lock
 * (gil model only; stored for the others). Rejects values outside
 * [GIL_MIN_SWITCH_INTERVAL_S, GIL_MAX_SWITCH_INTERVAL_S] and NaN. */
int gil_set_switch_interval(struct gil *g, double seconds, errbuf *e);
double gil_switch_interval(const struct gil *g);

/* Figures of the lock as a whole (its lockstat class): waits, acquisitions,
 * hand-overs, and for the gil model drop requests and forced switches.
 * All zero for none. */
void gil_stats(const struct gil *g, struct lockstat_summary *out);

/* fork() support, for pthread_atfork or explicit use around fork():
 * prepare takes the internal mutexes so the child cannot inherit them
 * mid-update; the child then rebuilds the lock unheld, as CPython's
 * _PyEval_ReInitThreads does (the holder may be a thread that does not
 * exist in the child). */
void gil_atfork_prepare(struct gil *g);
void gil_atfork_parent(struct gil *g);
void gil_atfork_child(struct gil *g);

#endif
