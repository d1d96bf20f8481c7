/* gil.c - the interpreter-lock models. The gil model follows CPython's
 * Python/ceval_gil.c (take_gil/drop_gil, FORCE_SWITCHING), so its cost under
 * contention is real futex and condvar traffic, not a simulated delay. */
#include "probes/gil.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reachable from the linetrace hooks: never instrument (see lockstat.c). */
#define NOINSTR __attribute__((no_instrument_function))

struct gil {
	enum lock_model model;
	int cls;			/* lockstat class of the lock as a whole */
	_Atomic uint64_t interval_ns;	/* the switch interval */

	/* mutex model */
	struct lockstat_mutex plain;
	atomic_uint holder;		/* thread id holding plain, 0 if none */

	/* gil model: CPython's struct _gil_runtime_state. `locked` is the GIL;
	 * `mutex` guards it and switch_number and is what `cond` waits with.
	 * `switch_mutex`/`switch_cond` let a releaser asked to drop wait until
	 * another thread has really taken the GIL (FORCE_SWITCHING). */
	struct lockstat_mutex mutex;
	pthread_cond_t cond;
	struct lockstat_mutex switch_mutex;
	pthread_cond_t switch_cond;
	atomic_int locked;
	atomic_uint last_holder;	/* thread id holding or last holding it */
	unsigned long switch_number;	/* hand-overs so far; under mutex */
	atomic_int drop_request;	/* gil_drop_request (and eval_breaker) */
};

static const char *const model_names[] = {
	[LOCK_MODEL_GIL] = "gil",
	[LOCK_MODEL_MUTEX] = "mutex",
	[LOCK_MODEL_NONE] = "none",
};
#define NMODELS (sizeof model_names / sizeof model_names[0])

int lock_model_parse(const char *name, enum lock_model *out, errbuf *e)
{
	for (size_t i = 0; name && i < NMODELS; i++)
		if (strcmp(name, model_names[i]) == 0) {
			*out = (enum lock_model)i;
			return 0;
		}
	return errf(e, "unknown lock model '%s' (choose gil, mutex or none)",
		    name ? name : "");
}

const char *lock_model_name(enum lock_model m)
{
	return (unsigned)m < NMODELS ? model_names[m] : "unknown";
}

/* --- the gil model ---------------------------------------------------- */


#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static NOINSTR struct timespec deadline_after(uint64_t ns)
{
	uint64_t t = lockstat_now_ns() + ns;
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u),
			      .tv_nsec = (long)(t % 1000000000u)};
	return ts;
}

/* With g->mutex held and the GIL taken by someone else: wait on cond, and
 * each time a whole interval passes without any switch, ask the holder to
 * drop it (SET_GIL_DROP_REQUEST). */
static NOINSTR void wait_for_gil(struct gil *g)
{
	while (LOAD(g->locked)) {
		unsigned long saved = g->switch_number;
		struct timespec dl = deadline_after(LOAD(g->interval_ns));
		int rc = lockstat_cond_wait(&g->cond, &g->mutex, &dl);
		if (rc == ETIMEDOUT && LOAD(g->locked) &&
		    g->switch_number == saved) {
			STORE(g->drop_request, 1);
			lockstat_record_drop_request(g->cls);
		}
	}
}

static NOINSTR void take_gil(struct gil *g)
{
	uint32_t me = lockstat_thread_id();
	uint64_t waited = lockstat_lock(&g->mutex);
	if (LOAD(g->locked)) {
		uint64_t t0 = lockstat_now_ns();
		wait_for_gil(g);
		waited += lockstat_now_ns() - t0 + 1;
	}
	/* switch_mutex orders last_holder against a releaser in drop_gil
	 * that waits for the hand-over. */
	waited += lockstat_lock(&g->switch_mutex);
	STORE(g->locked, 1);
	uint32_t prev = LOAD(g->last_holder);
	if (prev != me) {
		STORE(g->last_holder, me);
		g->switch_number++;
	}
	pthread_cond_signal(&g->switch_cond);
	lockstat_unlock(&g->switch_mutex);
	/* Whoever takes the GIL answers every pending drop request; a waiter
	 * still left asks again after its next interval. */
	if (LOAD(g->drop_request))
		STORE(g->drop_request, 0);
	lockstat_unlock(&g->mutex);
	lockstat_record_acquire(g->cls, waited, waited != 0,
				prev != 0 && prev != me);
}

static NOINSTR void drop_gil(struct gil *g)
{
	uint32_t me = lockstat_thread_id();
	STORE(g->last_holder, me);
	uint64_t blocked = lockstat_lock(&g->mutex);
	STORE(g->locked, 0);
	pthread_cond_signal(&g->cond);
	lockstat_unlock(&g->mutex);
	if (!LOAD(g->drop_request)) {
		lockstat_record_release_wait(g->cls, blocked);
		return;
	}
	/* Asked to drop: do not race the waiter for the GIL we just let go
	 * (on a multi-core machine we would win and keep it); wait until
	 * somebody else has taken it. */
	blocked += lockstat_lock(&g->switch_mutex);
	if (LOAD(g->last_holder) == me) {
		STORE(g->drop_request, 0);
		lockstat_record_forced_switch(g->cls);
		uint64_t t0 = lockstat_now_ns();
		lockstat_cond_wait(&g->switch_cond, &g->switch_mutex, NULL);
		blocked += lockstat_now_ns() - t0;
	}
	lockstat_unlock(&g->switch_mutex);
	lockstat_record_release_wait(g->cls, blocked);
}

/* --- every model ------------------------------------------------------ */

NOINSTR void gil_acquire(struct gil *g)
{
	switch (g->model) {
	case LOCK_MODEL_GIL:
		take_gil(g);
		break;
	case LOCK_MODEL_MUTEX:
		lockstat_lock(&g->plain);
		STORE(g->holder, lockstat_thread_id());
		break;
	case LOCK_MODEL_NONE:
		break;
	}
}

NOINSTR void gil_release(struct gil *g)
{
	switch (g->model) {
	case LOCK_MODEL_GIL:
		drop_gil(g);
		break;
	case LOCK_MODEL_MUTEX:
		STORE(g->holder, 0);
		lockstat_unlock(&g->plain);
		break;
	case LOCK_MODEL_NONE:
		break;
	}
}

NOINSTR int gil_yield_if_requested(struct gil *g)
{
	if (g->model != LOCK_MODEL_GIL || !LOAD(g->drop_request))
		return 0;
	drop_gil(g);
	take_gil(g);
	return 1;
}

int gil_held(const struct gil *g)
{
	uint32_t me = lockstat_thread_id();
	switch (g->model) {
	case LOCK_MODEL_GIL:
		return LOAD(g->locked) && LOAD(g->last_holder) == me;
	case LOCK_MODEL_MUTEX:
		return LOAD(g->holder) == me;
	case LOCK_MODEL_NONE:
		break;
	}
	return 1;
}

enum lock_model gil_model(const struct gil *g)
{
	return g->model;
}

int gil_set_switch_interval(struct gil *g, double seconds, errbuf *e)
{
	if (!(seconds >= GIL_MIN_SWITCH_INTERVAL_S &&
	      seconds <= GIL_MAX_SWITCH_INTERVAL_S))
		return errf(e, "switch interval %g s is out of range [%g, %g] s",
			    seconds, GIL_MIN_SWITCH_INTERVAL_S,
			    GIL_MAX_SWITCH_INTERVAL_S);
	STORE(g->interval_ns, (uint64_t)llround(seconds * 1e9));
	return 0;
}

double gil_switch_interval(const struct gil *g)
{
	return (double)LOAD(g->interval_ns) / 1e9;
}

void gil_stats(const struct gil *g, struct lockstat_summary *out)
{
	lockstat_snapshot_class(g->cls, out);
}

/* --- life cycle ------------------------------------------------------- */

/* Timed waits must not jump when the wall clock is set. */
static int init_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);
	if (rc == 0)
		rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return rc;
}

static int sub_mutex(struct lockstat_mutex *m, const char *name,
		     const char *suffix, errbuf *e)
{
	char full[LOCKSTAT_NAME_MAX];
	snprintf(full, sizeof full, "%s%s", name, suffix);
	return lockstat_mutex_init(m, full, e);
}

static int create_gil_parts(struct gil *g, const char *name, errbuf *e)
{
	g->cls = lockstat_class(name, e);
	if (g->cls < 0 || sub_mutex(&g->mutex, name, ".mutex", e) < 0)
		return -1;
	if (sub_mutex(&g->switch_mutex, name, ".switch", e) < 0)
		goto no_switch;
	int rc = init_cond(&g->cond);
	if (rc != 0)
		goto no_cond;
	rc = init_cond(&g->switch_cond);
	if (rc == 0)
		return 0;
	pthread_cond_destroy(&g->cond);
no_cond:
	errf(e, "lock '%s': %s", name, strerror(rc));
	lockstat_mutex_destroy(&g->switch_mutex);
no_switch:
	lockstat_mutex_destroy(&g->mutex);
	return -1;
}

static int create_parts(struct gil *g, const char *name, errbuf *e)
{
	switch (g->model) {
	case LOCK_MODEL_GIL:
		return create_gil_parts(g, name, e);
	case LOCK_MODEL_MUTEX:
		if (lockstat_mutex_init(&g->plain, name, e) < 0)
			return -1;
		g->cls = (int)g->plain.cls;
		return 0;
	case LOCK_MODEL_NONE:
		/* A class all the same, so reports show an explicit zero. */
		g->cls = lockstat_class(name, e);
		return g->cls < 0 ? -1 : 0;
	}
	return errf(e, "unknown lock model %d", (int)g->model);
}

int gil_create(struct gil **out, enum lock_model model, const char *name,
	       errbuf *e)
{
	if ((unsigned)model >= NMODELS)
		return errf(e, "unknown lock model %d", (int)model);
	if (!name)
		name = GIL_DEFAULT_NAME;
	if (!*name || strlen(name) > GIL_NAME_MAX)
		return errf(e, "lock name '%s' must be 1 to %d bytes", name,
			    GIL_NAME_MAX);
	struct gil *g = calloc(1, sizeof *g);
	if (!g)
		return errf(e, "out of memory creating the %s lock",
			    lock_model_name(model));
	g->model = model;
	STORE(g->interval_ns,
	      (uint64_t)(GIL_DEFAULT_SWITCH_INTERVAL_S * 1e9 + 0.5));
	if (create_parts(g, name, e) < 0) {
		free(g);
		return -1;
	}
	*out = g;
	return 0;
}

void gil_destroy(struct gil *g)
{
	if (!g)
		return;
	if (g->model == LOCK_MODEL_GIL) {
		/* condvars before their mutexes, as CPython's destroy_gil */
		pthread_cond_destroy(&g->cond);
		pthread_cond_destroy(&g->switch_cond);
		lockstat_mutex_destroy(&g->mutex);
		lockstat_mutex_destroy(&g->switch_mutex);
	} else if (g->model == LOCK_MODEL_MUTEX) {
		lockstat_mutex_destroy(&g->plain);
	}
	free(g);
}

/* --- fork ------------------------------------------------------------- */

void gil_atfork_prepare(struct gil *g)
{
	if (g->model == LOCK_MODEL_GIL) {
		lockstat_lock(&g->mutex); /* same order as take_gil */
		lockstat_lock(&g->switch_mutex);
	} else if (g->model == LOCK_MODEL_MUTEX) {
		lockstat_lock(&g->plain);
	}
}

void gil_atfork_parent(struct gil *g)
{
	if (g->model == LOCK_MODEL_GIL) {
		lockstat_unlock(&g->switch_mutex);
		lockstat_unlock(&g->mutex);
	} else if (g->model == LOCK_MODEL_MUTEX) {
		lockstat_unlock(&g->plain);
	}
}

void gil_atfork_child(struct gil *g)
{
	if (g->model == LOCK_MODEL_GIL) {
		/* Re-initialise rather than destroy: a condvar with waiters that
		 * vanished in the fork cannot be destroyed. */
		lockstat_mutex_reinit_child(&g->mutex);
		lockstat_mutex_reinit_child(&g->switch_mutex);
		init_cond(&g->cond);
		init_cond(&g->switch_cond);
		STORE(g->locked, 0);
		STORE(g->last_holder, 0);
		STORE(g->drop_request, 0);
	} else if (g->model == LOCK_MODEL_MUTEX) {
		lockstat_mutex_reinit_child(&g->plain);
		STORE(g->holder, 0);
	}
}
