/* hookscan.h - find profiling/trace hooks compiled into ELF binaries, because
 * a release built with linetrace, -pg, coverage or a sanitizer runs (slower)
 * and nothing says so. Reads files, directories and wheels. */
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

const char *hook_kind_name(enum hook_kind k);
/* "cython,gprof" or "any" -> bit mask; an unknown name is an error. */
int hook_kinds_parse(const char *list, unsigned *mask, errbuf *e);

/* The verdict on one binary, worst first. */
enum hs_verdict {
	HV_SERIALISES,	 /* Cython hooks + interpreter-lock call sites */
	HV_INSTRUMENTED, /* some hook kind, nothing worse known */
	HV_CLEAN,
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
	enum hs_verdict verdict;
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

/* Union of the kinds of every binary in the report. */
unsigned hs_report_kinds(const struct hs_report *r);
size_t hs_report_instrumented(const struct hs_report *r);

const char *hs_verdict_name(enum hs_verdict v);
/* A one-line explanation of the verdict for the user. */
const char *hs_verdict_message(const struct hs_binary *b);

/* The whole report as a JSON document (new reference, NULL on no memory). */
json_t *hs_report_json(const struct hs_report *r);

#endif
