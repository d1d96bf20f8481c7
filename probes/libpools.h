/* libpools.h - the thread pools of native libraries loaded in this process
 * (OpenBLAS, BLIS, MKL, OpenMP runtimes), found at run time, threadpoolctl
 * style, so contend can name them, limit them and spot slow BLAS kernels. */
#ifndef CONTEND_LIBPOOLS_H
#define CONTEND_LIBPOOLS_H

#include <jansson.h>

#include "common/err.h"

#define LIBPOOLS_MAX 16

enum libpool_kind {
	LIBPOOL_OPENBLAS = 0,
	LIBPOOL_BLIS,
	LIBPOOL_MKL,
	LIBPOOL_OPENMP,
};

/* One loaded library that owns a thread pool. The function pointers are the
 * library's own API, resolved in that very object (not a dependency). */
struct libpool {
	enum libpool_kind kind;
	char path[512];	      /* the shared object, resolved (realpath) */
	char library[32];     /* "OpenBLAS", "BLIS", "MKL", "libgomp", ... */
	char version[64];     /* "0.3.21", or "" when the library cannot say */
	char config[160];     /* the library's build description, or "" */
	char threading[32];   /* "pthreads", "openmp", "sequential", "" */
	char corename[32];    /* OpenBLAS kernel set, e.g. "Haswell"; else "" */
	int threads;	      /* current limit as the library reports it */
	int (*get_threads)(void);
	void (*set_threads)(int);
};

struct libpools {
	size_t n;
	struct libpool pool[LIBPOOLS_MAX];
};

/* Walk the loaded objects (dl_iterate_phdr) and fill *out with every one
 * that defines a known thread-pool API. Finding none is not an error. */
int libpools_scan(struct libpools *out, errbuf *e);

/* Limit every loaded pool to n threads through its own API (OpenBLAS
 * openblas_set_num_threads, omp_set_num_threads, ...). Returns how many
 * libraries were limited (0 when none is loaded), -1 on bad n. Meant to be
 * called by each worker after it starts. OpenBLAS 0.3.21 facts that shape
 * its use: lowering the limit never ends threads already started; a fork
 * ends the pool in the parent (atfork) and the child inherits the limit
 * with no pool; openblas_set_num_threads in such a child starts a full
 * pool (cores - 1 threads) whatever n is. So the call is skipped when the
 * limit already equals n, and a limit set before fork costs no threads. */
int libpools_set_threads(int n, errbuf *e);

/* The first pool of a kind in lp, or NULL. */
const struct libpool *libpools_find(const struct libpools *lp,
				    enum libpool_kind kind);

const char *libpool_kind_name(enum libpool_kind kind);

/* The widest vector level a CPU offers, as far as BLAS kernels care. */
enum cpu_level {
	CPU_SSE = 0,	/* baseline x86-64 (and unknown machines) */
	CPU_AVX,	/* avx */
	CPU_AVX2,	/* avx2 + fma */
	CPU_AVX512,	/* avx512 f, cd, bw, dq, vl: what SkylakeX needs */
};

/* Level from a /proc/cpuinfo "flags" line (space separated words). */
enum cpu_level cpu_level_from_flags(const char *flags);
/* Level of this machine, from /proc/cpuinfo. */
int cpu_level_detect(enum cpu_level *out, errbuf *e);
const char *cpu_level_name(enum cpu_level l);

/* Verdict on an OpenBLAS kernel set against the CPU it runs on. */
struct kernel_advice {
	int applies;		/* 1: the kernels are below what the CPU can do */
	int known;		/* 0: core name not recognised, no verdict */
	enum cpu_level kernel_level;
	enum cpu_level cpu_level;
	char suggested[16];	/* OPENBLAS_CORETYPE value, "" when none */
	char forced[32];	/* OPENBLAS_CORETYPE already set, "" when not */
	char message[320];	/* one line for the user, "" when !applies */
};

/* Pure: judge corename (as openblas_get_corename gives it) on a CPU of
 * cpu_level. dynamic_arch says whether OPENBLAS_CORETYPE can take effect
 * (a DYNAMIC_ARCH build); otherwise the advice is to rebuild. env_coretype
 * is the OPENBLAS_CORETYPE in the environment (NULL or "" when unset): when
 * it is what holds the kernels back, the message says so. */
int libpools_kernel_check(const char *corename, enum cpu_level cpu_level,
			  int dynamic_arch, const char *env_coretype,
			  struct kernel_advice *out, errbuf *e);

/* Check the loaded OpenBLAS (if any) against this CPU. out->applies is 0
 * when there is no OpenBLAS. */
int libpools_kernel_check_loaded(const struct libpools *lp,
				 struct kernel_advice *out, errbuf *e);

/* The environment variables that size or steer these pools
 * (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE, OMP_NUM_THREADS, ...), those
 * set, as a JSON object name -> value. */
json_t *libpools_env_json(void);

/* Every pool as a JSON array of objects (library, kind, path, version,
 * config, threading, core_name, threads). */
json_t *libpools_json(const struct libpools *lp);

/* For the results document's context: {"library", "version", "threading",
 * "core_name", "threads", "path", "kernel_warning"} of the BLAS in use, or
 * {"library": null, "reason": ...} when none is loaded. */
json_t *libpools_blas_context(const struct libpools *lp);

#endif
