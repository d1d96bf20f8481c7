/* trace_hooks.c - __cyg_profile_func_enter/exit for the linetrace build:
 * on every instrumented call, take the interpreter-lock model, find no
 * tracer, release it - the cost Cython's CYTHON_TRACE_NOGIL hooks add. */
#include "probes/hooks/trace_hooks.h"

#include <pthread.h>
#include <stdatomic.h>

#define NOINSTR __attribute__((no_instrument_function))

void __cyg_profile_func_enter(void *fn, void *site) NOINSTR;
void __cyg_profile_func_exit(void *fn, void *site) NOINSTR;

/* The process's installed lock model, NULL for none. A global because the
 * compiler calls the hooks with a fixed signature: there is no way to hand
 * them a context. Set by the runner (trace_hooks_install) before tasks run;
 * a forked child keeps it, rebuilt by the atfork handlers below. */
static _Atomic(struct gil *) active;

/* The tracer, NULL in every real run (Cython's tstate->c_profilefunc). */
static _Atomic(trace_hook_fn) tracer;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_failed; /* written once under atfork_once */

/* Per thread: `busy` stops recursion should the lock code or a tracer be
 * instrumented; `traced` is a stack of one bit per open frame, Cython's
 * __Pyx_use_tracing, so the exit hook runs only for frames whose entry
 * found a tracer (frames deeper than 64 lose theirs); `forking` is the lock
 * the prepare handler took, for the parent/child handlers of that fork. */
static __thread struct {
	int busy;
	uint32_t depth;
	uint64_t traced;
	uint64_t calls;
	struct gil *forking;
} t;

static NOINSTR void push_traced(int traced)
{
	t.traced = t.traced << 1 | (uint64_t)(traced != 0);
	t.depth++;
}

static NOINSTR int pop_traced(void)
{
	if (t.depth == 0)
		return 0; /* a frame entered before the model was installed */
	t.depth--;
	int traced = (int)(t.traced & 1);
	t.traced >>= 1;
	return traced;
}

/* PyGILState_Ensure; look at the tracer; PyGILState_Release. Returns
 * whether a tracer was there. */
static NOINSTR int locked_trace(struct gil *g, enum trace_event ev, void *fn,
				void *site)
{
	t.busy = 1;
	t.calls++;
	gil_acquire(g);
	trace_hook_fn f = atomic_load_explicit(&tracer, memory_order_relaxed);
	if (f)
		f(ev, fn, site);
	gil_release(g);
	t.busy = 0;
	return f != NULL;
}

NOINSTR void __cyg_profile_func_enter(void *fn, void *site)
{
	struct gil *g = atomic_load_explicit(&active, memory_order_acquire);
	if (!g || t.busy)
		return;
	push_traced(locked_trace(g, TRACE_CALL, fn, site));
}

/* Cython's __Pyx_TraceReturn takes the lock only when the call was traced;
 * with no tracer, a return costs nothing. */
NOINSTR void __cyg_profile_func_exit(void *fn, void *site)
{
	struct gil *g = atomic_load_explicit(&active, memory_order_acquire);
	if (!g || t.busy || !pop_traced())
		return;
	locked_trace(g, TRACE_RETURN, fn, site);
}

/* --- fork ------------------------------------------------------------- */

static void fork_prepare(void)
{
	t.forking = atomic_load_explicit(&active, memory_order_acquire);
	if (t.forking)
		gil_atfork_prepare(t.forking);
}

static void fork_parent(void)
{
	if (t.forking)
		gil_atfork_parent(t.forking);
	t.forking = NULL;
}

static void fork_child(void)
{
	if (t.forking)
		gil_atfork_child(t.forking);
	t.forking = NULL;
}

static void register_atfork(void)
{
	atfork_failed = pthread_atfork(fork_prepare, fork_parent, fork_child) != 0;
}

/* --- API -------------------------------------------------------------- */

int trace_hooks_install(struct gil *g, errbuf *e)
{
	pthread_once(&atfork_once, register_atfork);
	if (atfork_failed)
		return errf(e, "cannot register the fork handlers of the trace hooks");
	atomic_store_explicit(&active, g, memory_order_release);
	return 0;
}

struct gil *trace_hooks_installed(void)
{
	return atomic_load_explicit(&active, memory_order_acquire);
}

void trace_hooks_set_tracer(trace_hook_fn f)
{
	atomic_store_explicit(&tracer, f, memory_order_relaxed);
}

uint64_t trace_hooks_thread_calls(void)
{
	return t.calls;
}
