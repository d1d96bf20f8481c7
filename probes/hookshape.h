/* hookshape.h - the code shapes that tell a Cython trace hook that takes
 * the interpreter lock on every call (CYTHON_TRACE_NOGIL) from one that
 * costs nothing without a tracer, read from machine code by following
 * branches with Capstone. Internal to the scanner (hookscan.c); symbols
 * are not needed, so stripped binaries are judged the same way.
 *
 * The shapes, as Cython 0.29/3.0 emit them for CPython 3.10/3.11:
 *   harmful:  PyGILState_Ensure -> PyThreadState_Get ->
 *             test tstate->cframe->use_tracing (or a call of a named trace
 *             hook) -> PyGILState_Release, on the entry of nogil functions
 *   harmless: the same tracing test with the lock already held (no Ensure)
 * A lock region without the test (memoryview reference counts, `with gil`
 * blocks, prange start-up) is legitimate and never counts. */
#ifndef CONTEND_HOOKSHAPE_H
#define CONTEND_HOOKSHAPE_H

#include <capstone/capstone.h>
#include <stddef.h>
#include <stdint.h>

/* What a call (or tail jump) reaches. */
enum hs_role {
	HR_NONE,    /* unresolved, or a function of no interest */
	HR_ENSURE,  /* PyGILState_Ensure */
	HR_RELEASE, /* PyGILState_Release */
	HR_TSTATE,  /* PyThreadState_Get and friends: returns the thread state */
	HR_HOOK,    /* a named trace hook (__Pyx_TraceSetupAndCall, ...) */
	HR_NORETURN, /* abort, __stack_chk_fail, ...: the path ends */
	HR_NROLES
};

struct hs_span {
	uint64_t addr, size;
	const uint8_t *bytes;
};

/* The executable code of one binary and how to resolve its calls. */
struct hs_code {
	csh cs; /* opened with CS_OPT_DETAIL on */
	int x86; /* 1: x86-64, 0: aarch64 */
	const struct hs_span *spans; /* sorted by addr, disjoint */
	size_t nspans;
	enum hs_role (*role)(void *ctx, const cs_insn *in);
	void *ctx;
};

enum hs_walk {
	HW_BENIGN,     /* every path reached the Release without a tracing test */
	HW_HARMFUL,    /* a path: lock taken, tracing test or hook, Release */
	HW_UNRESOLVED, /* a path could not be followed to the Release */
};

/* From just after a PyGILState_Ensure call at `start`. */
enum hs_walk hs_walk_region(const struct hs_code *c, uint64_t start);

/* 1 when the thread state returned by a call ending at `start` is
 * tested for tracing (the two-level narrow load of use_tracing). */
int hs_walk_trace_test(const struct hs_code *c, uint64_t start);

/* 1 when the first call on a path from the function entry `fn` is a
 * PyGILState_Ensure whose region is harmful: the lock is taken on every
 * call of the function, before anything else it does. */
int hs_walk_entry(const struct hs_code *c, uint64_t fn);

#endif
