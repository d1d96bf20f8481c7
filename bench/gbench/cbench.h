/* cbench.h - a C API over Google Benchmark (libbenchmark has none), so
 * contend's C kernels can be timed by the same library, flags and JSON as
 * C++ code. Opaque handles only: no C++ type ever reaches a C file. */
#ifndef CONTEND_CBENCH_H
#define CONTEND_CBENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One running benchmark thread (wraps benchmark::State). Valid only inside
 * the benchmark function it was handed to. */
typedef struct cb_state cb_state;
/* A registered benchmark family (wraps benchmark::internal::Benchmark);
 * owned by the shim until cb_shutdown(). */
typedef struct cb_bench cb_bench;

/* The benchmark body: set up, `while (cb_keep_running(st)) { ... }`, tear
 * down. arg is what was given to cb_register. Called once per thread. */
typedef void (*cb_fn)(cb_state *st, void *arg);

/* --- errors ------------------------------------------------------------ */

/* Every call that can fail returns -1 (or NULL) and leaves the benchmark
 * as it was; this is the calling thread's last message, or "" when none.
 * The shim checks what Google Benchmark would abort on (lo > hi, threads
 * < 1, ...) so a bad configuration is an error, never a crash. */
const char *cb_last_error(void);

/* --- life cycle -------------------------------------------------------- */

/* Parse and remove the --benchmark_* flags from argv (--help prints usage
 * and exits). Returns -1 when arguments the library does not know remain
 * (they are printed), 0 otherwise. */
int cb_initialize(int *argc, char **argv);
/* Record key=value in the "context" of every report (JSON included). */
int cb_add_context(const char *key, const char *value);
/* Run the benchmarks --benchmark_filter selects, reporting as the
 * --benchmark_* flags say. Returns how many ran. */
size_t cb_run_specified(void);
/* Forget and free every registration; cb_register, cb_initialize and the
 * runs may follow again. Context from cb_add_context is kept. */
void cb_shutdown(void);

/* --- registration ------------------------------------------------------ */

/* name: the family name shown in reports (args and threads are appended:
 * "name/64/real_time/threads:2"). NULL on a NULL/empty name or fn. */
cb_bench *cb_register(const char *name, cb_fn fn, void *arg);

/* Arguments, read back with cb_range(). Every argument list of one
 * benchmark must have the same length (its arity). */
int cb_bench_arg(cb_bench *b, int64_t x);
int cb_bench_args(cb_bench *b, const int64_t *xs, size_t n);
/* lo, the powers of m between lo and hi, and hi (m: the multiplier set
 * before, default 8): [1000, 100000] gives 1000, 4096, 32768, 100000. */
int cb_bench_range(cb_bench *b, int64_t lo, int64_t hi);
int cb_bench_dense_range(cb_bench *b, int64_t lo, int64_t hi, int step);
int cb_bench_range_multiplier(cb_bench *b, int m); /* m >= 2 */
/* Names shown before each argument ("tasks:1000"); n must be the arity. */
int cb_bench_arg_names(cb_bench *b, const char *const *names, size_t n);

/* Threads running the body at once: exactly n; min, 2*min, ..., max; or
 * min, min+stride, ..., max. Several calls add several thread counts. */
int cb_bench_threads(cb_bench *b, int n);
int cb_bench_thread_range(cb_bench *b, int min, int max);
int cb_bench_dense_thread_range(cb_bench *b, int min, int max, int stride);

/* Time by the wall clock instead of the main thread's CPU time (what a
 * multi-threaded benchmark wants). */
int cb_bench_use_real_time(cb_bench *b);
/* CPU time of the whole process (library threads included, e.g. BLAS). */
int cb_bench_measure_process_cpu_time(cb_bench *b);
int cb_bench_repetitions(cb_bench *b, int n);	     /* n >= 1 */
int cb_bench_min_time(cb_bench *b, double seconds); /* > 0 */
int cb_bench_iterations(cb_bench *b, int64_t n);    /* fixed, > 0 */

enum cb_unit { CB_NS = 0, CB_US, CB_MS, CB_S };
int cb_bench_unit(cb_bench *b, enum cb_unit u);

/* --- inside the benchmark body ----------------------------------------- */

/* 1 while the timed loop should go on. The first call starts the clock
 * (after every thread arrived), the last stops it (before any leaves):
 * code before the loop and after it is setup and teardown, untimed.
 * Called with timing paused, it resumes timing first (the library would
 * abort) and says so in cb_last_error. */
int cb_keep_running(cb_state *st);
/* The same, n iterations per 1 (fewer calls for very short bodies); may
 * overshoot by up to n-1 iterations. */
int cb_keep_running_batch(cb_state *st, int64_t n);
/* Argument pos of this run; 0 (and a cb_last_error) when pos is beyond
 * the benchmark's arity. */
int64_t cb_range(const cb_state *st, size_t pos);
int cb_thread_index(const cb_state *st); /* 0 .. cb_threads()-1 */
int cb_threads(const cb_state *st);
int64_t cb_iterations(const cb_state *st); /* this thread's, so far */
/* Inside the loop only; a pause while paused (or a resume while running)
 * is ignored with a cb_last_error, where the library would abort. */
void cb_pause_timing(cb_state *st);
void cb_resume_timing(cb_state *st);
void cb_set_items_processed(cb_state *st, int64_t items);
void cb_set_bytes_processed(cb_state *st, int64_t bytes);
int cb_set_label(cb_state *st, const char *label);
/* Stop this run and report msg instead of figures; keep_running then
 * returns 0. */
void cb_skip_with_error(cb_state *st, const char *msg);

/* User counters (benchmark::Counter::Flags). Each thread has its own
 * counters; the reported value is the sum over threads, then: */
enum cb_counter_flags {
	CB_COUNTER_DEFAULT = 0,
	CB_IS_RATE = 1 << 0,		/* divided by the run's seconds */
	CB_AVG_THREADS = 1 << 1,	/* divided by the thread count */
	CB_IS_ITERATION_INVARIANT = 1 << 2, /* multiplied by iterations */
	CB_AVG_ITERATIONS = 1 << 3,	/* divided by iterations */
	CB_INVERT = 1 << 4,		/* 1/x, last */
	CB_ONE_K_1024 = 1 << 5,		/* k = 1024 when printed */
	CB_AVG_THREADS_RATE = CB_IS_RATE | CB_AVG_THREADS,
	CB_IS_ITERATION_INVARIANT_RATE = CB_IS_RATE | CB_IS_ITERATION_INVARIANT,
	CB_AVG_ITERATIONS_RATE = CB_IS_RATE | CB_AVG_ITERATIONS,
};
/* Set (not add) counter name of this thread. -1 on a bad name or flags. */
int cb_counter(cb_state *st, const char *name, double value, unsigned flags);

/* --- reading results from C -------------------------------------------- */

/* One reported run, as a custom reporter sees it. Strings and arrays live
 * only during the callback. */
struct cb_result {
	const char *name;      /* full: "crit/release/real_time/threads:2" */
	const char *family;    /* as registered: "crit/release" */
	const char *aggregate; /* "" for a measured run, else "mean", ... */
	int64_t iterations;    /* summed over threads */
	int threads;
	int64_t repetition;    /* index, -1 for aggregates */
	double real_ns, cpu_ns; /* per iteration (for "cv": the ratio) */
	int error;	       /* 1: skipped with error_message */
	const char *error_message;
	size_t n_counters;
	const char *const *counter_names;
	const double *counter_values; /* final values (rates applied) */
};
typedef void (*cb_result_fn)(const struct cb_result *r, void *arg);

/* cb_run_specified, but every run (repetitions and aggregates) is also
 * handed to fn after being printed to the console. --benchmark_out still
 * writes its file. */
size_t cb_run_specified_with(cb_result_fn fn, void *arg);
/* Value of counter name in r: 0 and *out set, or -1 when absent. */
int cb_result_counter(const struct cb_result *r, const char *name,
		      double *out);

#ifdef __cplusplus
}
#endif

#endif
