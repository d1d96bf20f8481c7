/* cmd_scan.c - `contend scan`, the release gate for instrumented builds:
 * names the hooks compiled into binaries and wheels, and with --fail-on
 * turns a finding into exit status 1 so CI can stop the release. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/commands.h"
#include "harness/verb.h"
#include "common/err.h"
#include "probes/hookscan.h"

static const char usage_text[] =
	"usage: contend scan [--json] [--fail-on KINDS] [--all] PATH...\n"
	"       contend scan [options] --pid PID [PATH...]\n"
	"\n"
	"Find profiling and trace hooks compiled into ELF binaries: shared\n"
	"objects, executables, object files, directories (recursively; each\n"
	"file once; a symlink to a directory met inside a walk is noted and\n"
	"not followed) and wheel/zip archives (every ELF member, shown as\n"
	"archive.whl!member/path.so). --pid PID scans the files a running\n"
	"process has mapped (/proc/PID/maps), each once.\n"
	"\n"
	"kinds (from the .symtab and .dynsym symbol tables):\n"
	"  cython      Cython trace/profile hooks (__Pyx_TraceSetupAndCall,\n"
	"              __Pyx_call_return_trace_func, __Pyx_call_line_trace_func,\n"
	"              3.1+ __Pyx__TraceStartFunc, ...): linetrace/profile build\n"
	"  instrument  -finstrument-functions (__cyg_profile_func_enter/exit)\n"
	"  gprof       -pg (mcount, _mcount, __fentry__, a defined __gmon_start__;\n"
	"              the weak undefined __gmon_start__ of every binary is not)\n"
	"  coverage    gcov (__gcov_*), llvm (__llvm_profile_*), sanitizer coverage\n"
	"  sanitizer   __asan_*, __tsan_*, __ubsan_*, __msan_*, __hwasan_*\n"
	"\n"
	"verdict (from the code's structure, followed by disassembly on x86-64\n"
	"and aarch64; counts of PyGILState_Ensure/Release call sites decide\n"
	"nothing, since memoryview reference counts and `with gil:` blocks\n"
	"take the interpreter lock legitimately in every build):\n"
	"  harmful   a PyGILState_Ensure leads to a tracing test (or a trace\n"
	"            hook) and straight to the PyGILState_Release: hooks take\n"
	"            the interpreter lock on every call of nogil functions\n"
	"            (CYTHON_TRACE_NOGIL) and parallel calls serialise; the\n"
	"            functions that do so are listed (by .symtab name, or by\n"
	"            address when stripped)\n"
	"  unknown   interpreter-lock call sites that could not be judged:\n"
	"            \"unknown (stripped; N interpreter-lock call sites)\" for a\n"
	"            stripped binary with no trace shape to recognise, or lock\n"
	"            calls on an architecture the disassembler does not follow\n"
	"  harmless  hooks that do not take the lock (a linetrace build without\n"
	"            CYTHON_TRACE_NOGIL costs nothing without a tracer; trace\n"
	"            tests found by disassembly in a stripped one; -pg, ...)\n"
	"  none      no hooks found\n"
	"The table lists every binary that is not 'none' (all with --all);\n"
	"the summary line counts binaries, instrumented, stripped, skipped.\n"
	"\n"
	"Files that are not ELF, corrupt ELF or zip files and unreadable paths\n"
	"are skipped with a note. Inside directories, archives and a process's\n"
	"maps, files that are neither ELF nor named like a binary (.so, .o,\n"
	".pyd) are ignored.\n"
	"\n"
	"options:\n"
	"  --json           print a JSON document (every binary, its kinds,\n"
	"                   hook symbols (first 24), GIL call sites, verdict,\n"
	"                   lock-per-call functions, and the skipped files)\n"
	"  --fail-on KINDS  a release gate: exit 1 if any binary carries one of\n"
	"                   KINDS, a comma list of the kinds above, 'unknown'\n"
	"                   (a binary that could not be judged) or 'any' (all\n"
	"                   of them); exit 3 if a PATH (or the --pid process)\n"
	"                   gave no binary at all, only skips\n"
	"  --pid PID        scan what process PID has mapped (may be repeated)\n"
	"  --all            list binaries with nothing found too\n"
	"  -h, --help       show this help\n"
	"\n"
	"exit status: 0 scanned (no --fail-on kind found); 1 a --fail-on kind\n"
	"was found; 2 bad options, a PATH that does not exist or no process\n"
	"PID; 3 a runtime failure (maps unreadable, output not written) or,\n"
	"with --fail-on, a PATH of which nothing could be scanned.\n";

#define MAX_PIDS 16

struct scan_opts {
	int json, all;
	unsigned fail_mask;
	int fail_set;
	long pids[MAX_PIDS];
	int npids;
};

static int parse_pid(const char *arg, struct scan_opts *o)
{
	char *end;
	errno = 0;
	long pid = strtol(arg, &end, 10);
	if (errno || end == arg || *end || pid <= 0)
		return verb_error("scan", -1, "--pid: '%s' is not a process id",
				  arg);
	if (o->npids == MAX_PIDS)
		return verb_error("scan", -1, "--pid: at most %d processes",
				  MAX_PIDS);
	o->pids[o->npids++] = pid;
	return 0;
}

static int parse_opts(int argc, char **argv, struct scan_opts *o, int *exit_now)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"fail-on", required_argument, NULL, 'f'},
		{"pid", required_argument, NULL, 'p'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	errbuf e;
	int c;
	optind = 1;
	while ((c = verb_getopt("scan", argc, argv, "h", longopts)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'f':
			if (hook_kinds_parse(optarg, &o->fail_mask, &e)) {
				return verb_error("scan", -1, "--fail-on: %s",
						  e.msg);
			}
			o->fail_set = 1;
			break;
		case 'p':
			if (parse_pid(optarg, o))
				return -1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			*exit_now = 1;
			return 0;
		default:
			return -1;
		}
	}
	if (optind >= argc && !o->npids) {
		return verb_error("scan", -1, "no PATH or --pid given (see "
				  "'contend scan --help')");
	}
	return 0;
}

static void kinds_text(unsigned kinds, char *buf, size_t len)
{
	buf[0] = 0;
	for (int k = 0; k < HK_NKINDS; k++)
		if (kinds & HK_BIT(k)) {
			size_t n = strlen(buf);
			snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				 hook_kind_name((enum hook_kind)k));
		}
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* The first few hook symbols, so the row can be checked with nm. */
static void print_evidence(const struct hs_binary *b)
{
	if (!b->nsyms)
		return;
	printf("    hooks:");
	for (size_t i = 0; i < b->nsyms && i < 3; i++)
		printf("%s %s", i ? "," : "", b->syms[i].name);
	if (b->symbols_total > 3)
		printf(", ... (%zu symbols)", b->symbols_total);
	printf("\n");
}

/* The functions that take the lock per call, so a user knows where. */
static void print_lock_funcs(const struct hs_binary *b)
{
	const struct hs_lock_funcs *f = &b->lock_funcs;
	if (!f->count)
		return;
	printf("    lock per call:");
	for (size_t i = 0; i < f->shown && i < 4; i++)
		printf("%s %s", i ? "," : "", f->names[i]);
	if (f->count > 4)
		printf(", ... (%zu functions)", f->count);
	printf("\n");
}

static int shown(const struct hs_binary *b, int all)
{
	return all || b->kinds || b->verdict != HV_NONE;
}

/* A note many binaries share (every stripped module of a distribution
 * says the same) is said once under the table, numbered, instead of after
 * each of them: per binary, the number of its shared note (0: its note,
 * if any, is its own), and the notes in order of first appearance. */
struct shared_notes {
	unsigned *mark;	    /* per binary */
	const char **text;  /* mark k's note is text[k - 1] */
	size_t *count;	    /* and count[k - 1] binaries carry it */
	size_t n;
};

struct note_ref {
	const char *note;
	size_t bin;
};

static int cmp_note_ref(const void *a, const void *b)
{
	const struct note_ref *x = a, *y = b;
	int c = strcmp(x->note, y->note);
	return c ? c : (x->bin > y->bin) - (x->bin < y->bin);
}

static void shared_notes_free(struct shared_notes *s)
{
	free(s->mark);
	free(s->text);
	free(s->count);
}

struct note_group {
	size_t first, a, b; /* its first binary; its refs [a, b) */
};

static int cmp_group(const void *a, const void *b)
{
	const struct note_group *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* Group the shown binaries' notes by text (sorted: each group's refs are
 * adjacent, its first binary first), then number the groups of two or
 * more in the order their first binary is printed. */
static int shared_notes_find(const struct hs_report *r, int all,
			     struct shared_notes *s)
{
	size_t cap = r->nbins ? r->nbins : 1, m = 0, ng = 0;
	struct note_ref *refs = malloc(cap * sizeof *refs);
	struct note_group *g = malloc(cap * sizeof *g);
	s->mark = calloc(cap, sizeof *s->mark);
	s->text = malloc(cap * sizeof *s->text);
	s->count = malloc(cap * sizeof *s->count);
	s->n = 0;
	if (!refs || !g || !s->mark || !s->text || !s->count) {
		free(refs);
		free(g);
		shared_notes_free(s);
		return -1;
	}
	for (size_t i = 0; i < r->nbins; i++)
		if (shown(&r->bins[i], all) && r->bins[i].note[0])
			refs[m++] = (struct note_ref){r->bins[i].note, i};
	qsort(refs, m, sizeof *refs, cmp_note_ref);
	for (size_t a = 0, b; a < m; a = b) {
		for (b = a + 1; b < m && !strcmp(refs[b].note, refs[a].note); b++)
			;
		if (b - a > 1)
			g[ng++] = (struct note_group){refs[a].bin, a, b};
	}
	qsort(g, ng, sizeof *g, cmp_group);
	for (size_t k = 0; k < ng; k++) {
		s->text[k] = refs[g[k].a].note;
		s->count[k] = g[k].b - g[k].a;
		for (size_t j = g[k].a; j < g[k].b; j++)
			s->mark[refs[j].bin] = (unsigned)k + 1;
	}
	s->n = ng;
	free(refs);
	free(g);
	return 0;
}

static int path_width(const struct hs_report *r, int all)
{
	size_t w = 6;
	for (size_t i = 0; i < r->nbins; i++)
		if (shown(&r->bins[i], all)) {
			size_t n = strlen(r->bins[i].path);
			w = n > w ? n : w;
		}
	return (int)(w > 60 ? 60 : w);
}

static void print_table(const struct hs_report *r, int all)
{
	int w = path_width(r, all);
	size_t rows = 0;
	struct shared_notes sn;
	int grouped = shared_notes_find(r, all, &sn) == 0;
	for (size_t i = 0; i < r->nbins; i++) {
		const struct hs_binary *b = &r->bins[i];
		if (!shown(b, all))
			continue;
		if (!rows++)
			printf("%-*s  %-22s %9s  %s\n", w, "binary", "kinds",
			       "gil-calls", "verdict");
		char kinds[96], gil[24];
		kinds_text(b->kinds, kinds, sizeof kinds);
		if (b->gil_counted)
			snprintf(gil, sizeof gil, "%ld", b->gil_ensure + b->gil_release);
		else
			snprintf(gil, sizeof gil, "?");
		unsigned mark = grouped ? sn.mark[i] : 0;
		char ref[24] = "";
		if (mark)
			snprintf(ref, sizeof ref, "  [note %u]", mark);
		printf("%-*s  %-22s %9s  %s%s\n", w, b->path, kinds, gil,
		       hs_verdict_message(b), ref);
		print_evidence(b);
		print_lock_funcs(b);
		if (b->note[0] && !mark)
			printf("    note: %s\n", b->note);
	}
	for (size_t k = 0; grouped && k < sn.n; k++)
		printf("[note %zu] (%zu binaries): %s\n", k + 1, sn.count[k],
		       sn.text[k]);
	if (grouped)
		shared_notes_free(&sn);
	for (size_t i = 0; i < r->nskips; i++)
		printf("skipped: %s: %s\n", r->skips[i].path, r->skips[i].reason);
	printf("%zu binaries scanned, %zu with instrumentation, %zu stripped, "
	       "%zu skipped",
	       r->nbins, hs_report_instrumented(r), hs_report_stripped(r),
	       r->nskips);
	if (r->ignored)
		printf(" (%zu non-ELF files ignored)", r->ignored);
	printf("\n");
}

static int print_json(const struct hs_report *r)
{
	json_t *doc = hs_report_json(r);
	if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) < 0) {
		json_decref(doc);
		return verb_error("scan", -1, "cannot write the JSON "
				  "document");
	}
	printf("\n");
	json_decref(doc);
	return 0;
}

/* Every PATH and PID must exist before anything is scanned: a typo in a
 * release gate should fail loudly, not scan the rest. */
static int check_inputs(int argc, char **argv, const struct scan_opts *o)
{
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (lstat(argv[i], &st) && (errno == ENOENT || errno == ENOTDIR)) {
			return verb_error("scan", -1, "%s: no such file or "
					  "directory", argv[i]);
		}
	}
	for (int i = 0; i < o->npids; i++) {
		char dir[32];
		snprintf(dir, sizeof dir, "/proc/%ld", o->pids[i]);
		if (access(dir, F_OK))
			return verb_error("scan", -1, "--pid %ld: no such "
					  "process", o->pids[i]);
	}
	return 0;
}

/* Scan every input; `blank` counts those that gave no binary but skips
 * (named with their first skip on stderr), which a gate cannot pass. */
static int scan_inputs(int argc, char **argv, const struct scan_opts *o,
		       struct hs_report *r, int *blank)
{
	errbuf e;
	*blank = 0;
	for (int i = 0; i < o->npids + argc - optind; i++) {
		size_t bins = r->nbins, skips = r->nskips;
		char name[40];
		const char *what = name;
		int rc;
		if (i < o->npids) {
			snprintf(name, sizeof name, "--pid %ld", o->pids[i]);
			rc = hs_scan_pid(r, o->pids[i], &e);
		} else {
			what = argv[optind + i - o->npids];
			rc = hs_scan_path(r, what, &e);
		}
		if (rc)
			return verb_fail("scan", -1, &e);
		if (r->nbins == bins && r->nskips > skips) {
			(*blank)++;
			if (o->fail_set)
				fprintf(stderr, "contend scan: %s: nothing could "
					"be scanned (%s: %s)\n", what,
					r->skips[skips].path, r->skips[skips].reason);
		}
	}
	return 0;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_opts o = {0};
	int exit_now = 0, blank;
	if (parse_opts(argc, argv, &o, &exit_now) ||
	    check_inputs(argc, argv, &o))
		return EXIT_USAGE;
	if (exit_now)
		return EXIT_OK;
	struct hs_report r;
	hs_report_init(&r);
	if (scan_inputs(argc, argv, &o, &r, &blank)) {
		hs_report_free(&r);
		return EXIT_RUNTIME;
	}
	int rc = o.json ? print_json(&r) : (print_table(&r, o.all), 0);
	int tripped = o.fail_set && (hs_report_kinds(&r) & o.fail_mask);
	hs_report_free(&r);
	if (rc)
		return EXIT_RUNTIME;
	if (tripped)
		return EXIT_FOUND;
	return o.fail_set && blank ? EXIT_RUNTIME : EXIT_OK;
}
