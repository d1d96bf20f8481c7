/* trace_hooks.h - the linetrace build's function-entry hooks: what Cython's
 * trace hooks do in a nogil function under CYTHON_TRACE_NOGIL (take the
 * interpreter lock, look for a tracer, release), on a lock model of ours. */
#ifndef CONTEND_TRACE_HOOKS_H
#define CONTEND_TRACE_HOOKS_H

#include <stdint.h>

#include "common/err.h"
#include "probes/gil.h"

/* Only the linetrace binary links trace_hooks.c. The entry points are
 * declared weak so code shared by both builds can ask
 * `if (trace_hooks_install) ...`: in the release binary they are NULL. */

/* Make g this process's interpreter lock for the hooks (NULL: none, the
 * hooks then do nothing, so start-up code runs untouched). Call it before
 * tasks start and uninstall after they end; g must outlive its use.
 * The first call registers pthread_atfork handlers, so a forked worker
 * inherits the installed lock already rebuilt unheld (gil_atfork_*): it
 * has its own lock, like each process of a multiprocessing pool. */
__attribute__((weak)) int trace_hooks_install(struct gil *g, errbuf *e);
__attribute__((weak)) struct gil *trace_hooks_installed(void);

/* The tracer: what tstate->c_profilefunc is to Cython. Normally none is
 * set (that is the whole story: the lock is taken to find nothing). Tests
 * set one to see that it is called with the lock held. */
enum trace_event { TRACE_CALL = 0, TRACE_RETURN = 1 };
typedef void (*trace_hook_fn)(enum trace_event ev, void *fn, void *site);
__attribute__((weak)) void trace_hooks_set_tracer(trace_hook_fn f);

/* Hook calls that took the lock, made by the calling thread so far. */
__attribute__((weak)) uint64_t trace_hooks_thread_calls(void);

#endif
