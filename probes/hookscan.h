/* hookscan.h - find profiling/trace hooks compiled into ELF binaries, because
 * a release built with linetrace, -pg, coverage or a sanitizer runs (slower)
 * and nothing says so. Reads files, directories, wheels and the shared
 * objects a running process has mapped.
 *
 * For other parts of contend (the diagnosis asks whether the module that
 * takes the interpreter lock has trace hooks), one call answers for one
 * path:
 *
 *     enum hs_verdict v;
 *     struct hs_lock_funcs f;
 *     errbuf e;
 *     if (hookscan_verdict_of("/path/mod.so", &v, &f, &e) == 0 &&
 *         v == HV_HARMFUL)
 *             printf("%zu functions take the lock per call, e.g. %s\n",
 *                    f.count, f.shown ? f.names[0] : "?");
 *
 * The verdict comes from the code's structure (probes/hookshape.h), not
 * from counting interpreter-lock calls: memoryview reference counts and
 * `with gil` blocks take the lock legitimately in every build. */
#ifndef CONTEND_HOOKSCAN_H
#define CONTEND_HOOKSCAN_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

enum hook_kind {
	HK_CYTHON,     /* Cython trace/profile hooks (linetrace, profile) */
	HK_INSTRUMENT, /* -finstrument-functions: __cyg_profile_func_* */
	HK_GPROF,      /* -pg: mcount, __fentry__, gcrt start-up */
	HK_COVERAGE,   /* gcov, llvm profile, sanitizer coverage */
	HK_SANITIZER,  /* asan, tsan, ubsan, msan, hwasan */
	HK_NKINDS
};
#define HK_BIT(k) (1u << (k))
#define HK_ALL ((1u << HK_NKINDS) - 1)

/* Not a hook kind: the --fail-on bit for binaries that could not be
 * judged (HV_UNKNOWN). "any" includes it. */
#define HS_FAIL_UNKNOWN (1u << HK_NKINDS)

const char *hook_kind_name(enum hook_kind k);
/* "cython,gprof", "unknown" or "any" -> bit mask; an unknown name is an
 * error. */
int hook_kinds_parse(const char *list, unsigned *mask, errbuf *e);

/* The verdict on one binary, worst first. */
enum hs_verdict {
	HV_HARMFUL,  /* hooks take the interpreter lock on every call of nogil
		      * functions: parallel calls serialise */
	HV_UNKNOWN,  /* interpreter-lock calls that could not be judged
		      * (stripped with no recognisable trace shape, or an
		      * architecture the disassembler does not follow) */
	HV_HARMLESS, /* hooks found that do not take the lock (a Cython
		      * linetrace/profile build without CYTHON_TRACE_NOGIL
		      * costs nothing without a tracer; -pg, coverage, ...) */
	HV_NONE,     /* no hooks found */
};

/* Functions that take the interpreter lock on every call, by symbol
 * (.symtab) or, stripped, by address ("0x1a2b0"). */
#define HS_MAX_FUNCS 16
struct hs_lock_funcs {
	size_t count; /* all of them */
	size_t shown; /* names kept, <= HS_MAX_FUNCS */
	char names[HS_MAX_FUNCS][96];
};

/* Shown symbols are capped; symbols_total says how many there were. */
#define HS_MAX_SYMS 24

struct hs_symbol {
	char *name;
	enum hook_kind kind;
	int defined; /* 1: the binary provides it; 0: it calls/references it */
};

struct hs_binary {
	char *path;	   /* file path, or archive.whl!member/path.so */
	char arch[16];	   /* "x86-64", "aarch64", "i386", "machine-183" */
	char type[16];	   /* "shared object", "executable", "object" */
	unsigned kinds;	   /* HK_BIT mask */
	struct hs_symbol syms[HS_MAX_SYMS];
	size_t nsyms;	   /* shown (<= HS_MAX_SYMS) */
	size_t symbols_total; /* distinct hook symbols found */
	int stripped;	   /* no .symtab: local hook symbols cannot be seen */
	/* Call sites of PyGILState_Ensure/Release in the binary's own code.
	 * gil_counted is 0 when they could not be counted (see note). */
	int gil_counted;
	long gil_ensure, gil_release;
	/* What the Ensure sites lead to (hookshape.h): a tracing test before
	 * the Release (harmful), the Release only (legitimate), or a path
	 * that could not be followed. trace_tests: tracing-flag tests of the
	 * thread state anywhere, the mark of trace hooks without symbols. */
	long regions_harmful, regions_benign, regions_unresolved;
	long trace_tests;
	int shape_found; /* hooks seen by structure, not by symbol */
	struct hs_lock_funcs lock_funcs;
	enum hs_verdict verdict;
	char message[160]; /* the verdict in words */
	char note[200]; /* why something was not counted, or "" */
};

struct hs_skip {
	char *path;
	char *reason;
};

struct hs_report {
	struct hs_binary *bins;
	size_t nbins, capbins;
	struct hs_skip *skips;
	size_t nskips, capskips;
	size_t ignored; /* non-ELF files met inside directories and archives */
};

void hs_report_init(struct hs_report *r);
void hs_report_free(struct hs_report *r);

/* Scan a file, a directory (recursively, symlink loops noted and skipped)
 * or a wheel/zip archive. Files that cannot be read or parsed become
 * skips with a reason. Returns -1 only when path does not exist or memory
 * runs out. */
int hs_scan_path(struct hs_report *r, const char *path, errbuf *e);

/* Scan one ELF image held in memory, reported under `name` (used for
 * archive members). A non-ELF or corrupt image becomes a skip. libelf may
 * rewrite the buffer in place, hence not const. */
int hs_scan_image(struct hs_report *r, const char *name, void *buf,
		  size_t len, errbuf *e);

/* The shared objects and executable a running process has mapped
 * (/proc/PID/maps), each scanned as a file. -1 when the process does
 * not exist or its maps cannot be read. */
int hs_scan_pid(struct hs_report *r, long pid, errbuf *e);

/* Union of the kinds of every binary in the report, plus HS_FAIL_UNKNOWN
 * when one could not be judged. */
unsigned hs_report_kinds(const struct hs_report *r);
size_t hs_report_instrumented(const struct hs_report *r);
size_t hs_report_stripped(const struct hs_report *r);
size_t hs_report_count(const struct hs_report *r, enum hs_verdict v);

/* The worst verdict over everything under `path` (a file, directory or
 * wheel) and, for a harmful one, the functions that take the lock per
 * call (of the first harmful binary; `functions` may be NULL). -1 with a
 * reason when nothing under path could be scanned. */
int hookscan_verdict_of(const char *path, enum hs_verdict *verdict,
			struct hs_lock_funcs *functions, errbuf *e);

const char *hs_verdict_name(enum hs_verdict v);
/* A one-line explanation of the verdict for the user, with its counts. */
const char *hs_verdict_message(const struct hs_binary *b);

/* The whole report as a JSON document (new reference, NULL on no memory). */
json_t *hs_report_json(const struct hs_report *r);

#endif
