/* test_scan_cython.c - the verdicts of `contend scan` on real Cython
 * builds, checked against what those builds measurably do.
 *
 * tests/scan/splitcrit.pyx (typed memoryviews, `with nogil` around calls
 * of cdef nogil functions, a prange loop with OpenMP, a `with gil` block
 * inside a nogil function, a cdef class) is built here with Debian's
 * cython3 and gcc four ways: clean, the linetrace directive only,
 * -DCYTHON_TRACE=1, and -DCYTHON_TRACE=1 -DCYTHON_TRACE_NOGIL=1; and a
 * stripped copy (strip --strip-all) of each. tests/scan/drive.py then
 * times every build from /usr/bin/python3, so the test proves which
 * builds serialise instead of assuming it: the one the scanner calls
 * harmful must be the one whose nogil code needs the interpreter lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/hookscan.h"
#include "tests/testutil.h"

/* The four builds, in the order of docs/scan.md's table. */
enum build { B_CLEAN, B_DIRECTIVE, B_TRACE, B_NOGIL, B_N };

static const char *const build_dir[B_N] = {"clean", "directive", "trace",
					   "tracenogil"};

/* Which source (plain, or with `# cython: linetrace=True`) and macros. */
static const struct {
	const char *src, *macros;
} build_how[B_N] = {
	{"plain", ""},
	{"lt", ""},
	{"lt", "-DCYTHON_TRACE=1"},
	{"lt", "-DCYTHON_TRACE=1 -DCYTHON_TRACE_NOGIL=1"},
};

struct fixture {
	char *dir;
	char missing[160]; /* why the builds could not be made, or "" */
	char ext[64];	   /* the extension suffix: .cpython-311-x86_64-... */
};

__attribute__((format(printf, 3, 4))) static int sh(const struct fixture *fx,
						    struct cmd_result *r,
						    const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&full, "cd '%s' && %s", fx->dir, cmd) < 0) {
		free(cmd);
		return -1;
	}
	char *argv[] = {"sh", "-c", full, NULL};
	int st = tu_run(r, argv) == 0 ? r->status : -1;
	if (st)
		fprintf(stderr, "command failed (%d): %s\n%s\n", st, cmd, r->out);
	free(cmd);
	free(full);
	return st;
}

/* What the builds need, each looked for so the skip note can say. */
static int have_tools(struct fixture *fx, struct cmd_result *r)
{
	static const char *const need[][2] = {
		{"command -v cython3", "cython3 is not installed"},
		{"test -x /usr/bin/python3-config", "python3-dev is not installed"},
		{"test -f \"$(/usr/bin/python3-config --includes | "
		 "sed 's/^-I//; s/ .*//')/Python.h\"",
		 "Python.h is missing (python3-dev)"},
		{"command -v strip", "strip (binutils) is not installed"},
		{"printf 'int main(void){return 0;}' | gcc -fopenmp -x c - -o omp",
		 "gcc cannot build with -fopenmp"},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		char *argv[] = {"sh", "-c", (char *)need[i][0], NULL};
		char *cmd = NULL;
		if (asprintf(&cmd, "cd '%s' && %s", fx->dir, need[i][0]) < 0)
			return -1;
		argv[2] = cmd;
		int ok = tu_run(r, argv) == 0 && r->status == 0;
		free(cmd);
		if (!ok) {
			snprintf(fx->missing, sizeof fx->missing, "%s", need[i][1]);
			return 1;
		}
	}
	return 0;
}

/* cython3 once for both sources, then the four gcc builds two at a time
 * (the machine has two cores; each build is a few seconds of -O2), then
 * the stripped copies. */
static int build_all(struct fixture *fx, struct cmd_result *r)
{
	char src[PATH_MAX];
	if (!realpath("tests/scan/splitcrit.pyx", src))
		return -1;
	if (sh(fx, r, "mkdir -p plain lt && cp '%s' plain/splitcrit.pyx && "
		      "{ echo '# cython: linetrace=True'; cat '%s'; } > "
		      "lt/splitcrit.pyx && cython3 -3 plain/splitcrit.pyx "
		      "lt/splitcrit.pyx 2>/dev/null && "
		      "/usr/bin/python3-config --extension-suffix > ext.txt",
	       src, src))
		return -1;
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/ext.txt", fx->dir);
	FILE *f = fopen(p, "r");
	if (!f || !fgets(fx->ext, sizeof fx->ext, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	fx->ext[strcspn(fx->ext, "\n")] = 0;
	for (int b = 0; b < B_N; b += 2) {
		/* Debian's own flags for extensions: -O2 -fwrapv, OpenMP for
		 * prange. */
		const char *cc = "gcc -O2 -fwrapv -fPIC -shared -fopenmp -w "
				 "$(/usr/bin/python3-config --includes)";
		if (sh(fx, r,
		       "mkdir -p %s %s && "
		       "{ %s %s %s/splitcrit.c -o %s/splitcrit%s & a=$!; "
		       "%s %s %s/splitcrit.c -o %s/splitcrit%s; b=$?; "
		       "wait $a && test $b = 0; }",
		       build_dir[b], build_dir[b + 1], cc, build_how[b].macros,
		       build_how[b].src, build_dir[b], fx->ext, cc,
		       build_how[b + 1].macros, build_how[b + 1].src,
		       build_dir[b + 1], fx->ext))
			return -1;
	}
	for (int b = 0; b < B_N; b++)
		if (sh(fx, r, "mkdir -p %s_stripped && strip --strip-all -o "
			      "%s_stripped/splitcrit%s %s/splitcrit%s",
		       build_dir[b], build_dir[b], fx->ext, build_dir[b], fx->ext))
			return -1;
	return 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct cmd_result *r = malloc(sizeof *r);
	if (!fx || !r || !(fx->dir = tu_tempdir())) {
		free(r);
		return -1;
	}
	int rc = have_tools(fx, r);
	if (rc == 0)
		rc = build_all(fx, r);
	free(r);
	if (rc < 0) /* the tools are there and a build failed: a failure */
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	tu_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Without the tools the tests skip, saying why where it can be seen. */
static void need_builds(const struct fixture *fx)
{
	if (fx->missing[0]) {
		printf("   skipped: %s; the real Cython builds are not tested\n",
		       fx->missing);
		skip();
	}
}

static void module_path(const struct fixture *fx, enum build b, int stripped,
			char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%s/splitcrit%s", fx->dir, build_dir[b],
		 stripped ? "_stripped" : "", fx->ext);
}

/* The scanner's verdict on one build; the whole entry stays in `r`. */
static const struct hs_binary *scan_build(const struct fixture *fx,
					  enum build b, int stripped,
					  struct hs_report *r)
{
	char p[PATH_MAX];
	errbuf e;
	module_path(fx, b, stripped, p, sizeof p);
	hs_report_init(r);
	if (hs_scan_path(r, p, &e))
		fail_msg("%s: %s", p, e.msg);
	assert_int_equal(r->nbins, 1);
	assert_int_equal(r->nskips, 0);
	return &r->bins[0];
}

static int named(const struct hs_lock_funcs *f, const char *name)
{
	for (size_t i = 0; i < f->shown; i++)
		if (!strcmp(f->names[i], name))
			return 1;
	return 0;
}

/* What each build is, by its structure, with and without symbols. */
static void test_verdicts(void **state)
{
	const struct fixture *fx = *state;
	need_builds(fx);
	static const enum hs_verdict want[B_N][2] = {
		[B_CLEAN] = {HV_NONE, HV_UNKNOWN},
		[B_DIRECTIVE] = {HV_HARMLESS, HV_HARMLESS},
		[B_TRACE] = {HV_HARMLESS, HV_HARMLESS},
		[B_NOGIL] = {HV_HARMFUL, HV_HARMFUL},
	};
	for (int b = 0; b < B_N; b++)
		for (int s = 0; s < 2; s++) {
			struct hs_report r;
			const struct hs_binary *x = scan_build(fx, b, s, &r);
			print_message("%-10s %-8s %4ld lock call sites  %s\n",
				      build_dir[b], s ? "stripped" : "", x->gil_ensure +
				      x->gil_release, hs_verdict_message(x));
			if (x->verdict != want[b][s])
				fail_msg("%s%s: verdict %s, want %s (%s)", build_dir[b],
					 s ? " stripped" : "", hs_verdict_name(x->verdict),
					 hs_verdict_name(want[b][s]), x->note);
			assert_int_equal(x->stripped, s);
			/* Every build calls the lock legitimately (memoryview
			 * reference counts, the `with gil` raise): counting the
			 * call sites could not have told them apart. */
			assert_true(x->gil_counted);
			assert_true(x->gil_ensure > 0 && x->gil_release > 0);
			if (b != B_CLEAN)
				assert_true(x->kinds & HK_BIT(HK_CYTHON));
			hs_report_free(&r);
		}
}

/* The harmful build names the functions that take the lock per call:
 * the cdef nogil criterion by its symbol, by address once stripped. */
static void test_lock_functions(void **state)
{
	const struct fixture *fx = *state;
	need_builds(fx);
	struct hs_report r;
	const struct hs_binary *x = scan_build(fx, B_NOGIL, 0, &r);
	assert_true(x->lock_funcs.count >= 1);
	assert_true(named(&x->lock_funcs, "__pyx_f_9splitcrit_crit"));
	assert_non_null(strstr(hs_verdict_message(x), "serialise"));
	size_t with_symbols = x->lock_funcs.count;
	hs_report_free(&r);
	x = scan_build(fx, B_NOGIL, 1, &r);
	assert_true(x->lock_funcs.count >= 1);
	assert_true(x->lock_funcs.count <= with_symbols);
	assert_memory_equal(x->lock_funcs.names[0], "0x", 2);
	hs_report_free(&r);
	x = scan_build(fx, B_CLEAN, 0, &r);
	assert_int_equal(x->lock_funcs.count, 0);
	hs_report_free(&r);
}

/* The release gate on the same builds: the stripped harmful copy no
 * longer passes --fail-on cython, and an unjudged one fails --fail-on
 * unknown with its count of call sites in the default output. */
static void test_gate(void **state)
{
	const struct fixture *fx = *state;
	need_builds(fx);
	char p[PATH_MAX];
	struct cmd_result *c = malloc(sizeof *c);
	module_path(fx, B_NOGIL, 1, p, sizeof p);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "cython", p, NULL), 0);
	assert_int_equal(c->status, 1);
	assert_non_null(strstr(c->out, "harmful"));
	module_path(fx, B_CLEAN, 1, p, sizeof p);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "unknown", p, NULL), 0);
	assert_int_equal(c->status, 1);
	assert_non_null(strstr(c->out, "unknown (stripped; "));
	assert_non_null(strstr(c->out, " interpreter-lock call sites)"));
	assert_non_null(strstr(c->out, "1 stripped"));
	module_path(fx, B_CLEAN, 0, p, sizeof p);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "any", p, NULL), 0);
	assert_int_equal(c->status, 0);
	free(c);
}

/* ---- measured behaviour ------------------------------------------------ */

struct measured {
	double pool_1, pool_2, pool_ratio, pool_2_cpus, progress;
	long reps;
};

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_number(v))
		fail_msg("drive.py: no number '%s'", k);
	return json_number_value(v);
}

static void drive(const struct fixture *fx, enum build b, struct measured *m)
{
	char dir[PATH_MAX], drv[PATH_MAX];
	if (!realpath("tests/scan/drive.py", drv))
		fail_msg("tests/scan/drive.py: not found");
	snprintf(dir, sizeof dir, "%s/%s", fx->dir, build_dir[b]);
	struct cmd_result *c = malloc(sizeof *c);
	char *argv[] = {"/usr/bin/python3", drv, dir, NULL};
	assert_int_equal(tu_run(c, argv), 0);
	if (c->status)
		fail_msg("drive.py %s: exit %d: %s", build_dir[b], c->status, c->out);
	json_error_t je;
	json_t *o = json_loads(c->out, 0, &je);
	if (!o)
		fail_msg("drive.py %s: not JSON: %.300s", build_dir[b], c->out);
	*m = (struct measured){num(o, "pool_1"), num(o, "pool_2"),
			       num(o, "pool_ratio"), num(o, "pool_2_cpus"),
			       num(o, "progress"), (long)num(o, "reps")};
	json_decref(o);
	free(c);
}

/* Below this share of its CPU time while another thread holds the
 * interpreter lock, a build's nogil loop needs the lock on every call
 * (measured: about 0.05; parallel builds: 1.0 idle, 0.5 on a machine
 * busy with other work). */
#define SERIALISES_PROGRESS 0.2
/* At 2 threads with the same work per thread: serialised code takes
 * about 2x as long, parallel code 1.0-1.4x when two CPUs are free
 * (measured on a 2-vCPU virtual machine). */
#define SERIALISES_POOL 1.6
/* Process CPU per wall second at 2 threads that shows two CPUs ran the
 * pool, so a parallel build's pool ratio can be held to account. */
#define TWO_CPUS 1.7

/* The verdict on a build and its stripped copy against its measured
 * behaviour; returns 1 when a parallel build's pool ratio could not be
 * checked because the machine did not give it two CPUs. */
static int check_build(const struct fixture *fx, enum build b,
		       const struct measured *m)
{
	struct hs_report r;
	int harmful = scan_build(fx, b, 0, &r)->verdict == HV_HARMFUL;
	hs_report_free(&r);
	int harmful_stripped = scan_build(fx, b, 1, &r)->verdict == HV_HARMFUL;
	hs_report_free(&r);
	int serialises = m->progress < SERIALISES_PROGRESS;
	if (harmful != serialises || harmful_stripped != serialises)
		fail_msg("%s: scanned %s (stripped: %s), but measured it %s (%.2f "
			 "of its CPU while another thread held the lock)",
			 build_dir[b], harmful ? "harmful" : "not harmful",
			 harmful_stripped ? "harmful" : "not harmful",
			 serialises ? "serialising" : "running in parallel",
			 m->progress);
	/* Serialised code cannot look parallel, however busy the machine. */
	if (serialises && m->pool_ratio < SERIALISES_POOL)
		fail_msg("%s: serialises, yet only %.2fx slower at 2 threads",
			 build_dir[b], m->pool_ratio);
	if (serialises)
		return 0;
	if (m->pool_2_cpus < TWO_CPUS)
		return 1;
	if (m->pool_ratio >= SERIALISES_POOL)
		fail_msg("%s: runs in parallel by its progress, but %.2fx slower "
			 "at 2 threads with two CPUs busy (%.2f)",
			 build_dir[b], m->pool_ratio, m->pool_2_cpus);
	return 0;
}

static void test_measured(void **state)
{
	const struct fixture *fx = *state;
	need_builds(fx);
	struct measured m[B_N];
	for (int b = 0; b < B_N; b++)
		drive(fx, b, &m[b]);
	print_message("build       pool: 1 thread  2 threads  ratio  CPUs   "
		      "progress while the lock is held elsewhere\n");
	for (int b = 0; b < B_N; b++)
		print_message("%-10s  %13.4f s  %7.4f s  %5.2f  %4.2f   %.2f\n",
			      build_dir[b], m[b].pool_1, m[b].pool_2,
			      m[b].pool_ratio, m[b].pool_2_cpus, m[b].progress);
	int unchecked = 0;
	for (int b = 0; b < B_N; b++)
		unchecked += check_build(fx, b, &m[b]);
	if (unchecked)
		printf("   note: the machine was busy (%d parallel build%s ran at "
		       "2 threads on less than two CPUs); their pool ratios "
		       "were not checked, their progress was\n",
		       unchecked, unchecked == 1 ? "" : "s");
}

/* Cython 3.1's hook names (sys.monitoring) stay recognised: the Debian
 * cython3 is 0.29, so a synthetic object carries them. */
static void test_cython3_names(void **state)
{
	const struct fixture *fx = *state;
	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(sh(fx, c,
			    "printf '%%s\\n' "
			    "'extern int PyGILState_Ensure(void);' "
			    "'extern void PyGILState_Release(int);' "
			    "'__attribute__((noinline)) int __Pyx__TraceStartFunc(int x) { return x + 1; }' "
			    "'__attribute__((noinline)) int __Pyx__TraceLine(int x) { return x + 2; }' "
			    "'int crit(int x) { int s = PyGILState_Ensure(); "
			    "x = __Pyx__TraceStartFunc(x); PyGILState_Release(s); return x; }' "
			    "'int line(int x) { return __Pyx__TraceLine(x); }' > cy3.c && "
			    "gcc -O2 -fPIC -shared -w cy3.c -o cy3.so"),
			 0);
	free(c);
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/cy3.so", fx->dir);
	enum hs_verdict v;
	struct hs_lock_funcs f;
	errbuf e;
	assert_int_equal(hookscan_verdict_of(p, &v, &f, &e), 0);
	assert_int_equal(v, HV_HARMFUL);
	assert_true(named(&f, "crit"));
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_path(&r, p, &e), 0);
	assert_int_equal(r.bins[0].kinds, HK_BIT(HK_CYTHON));
	int start = 0, line = 0;
	for (size_t i = 0; i < r.bins[0].nsyms; i++) {
		start += !strcmp(r.bins[0].syms[i].name, "__Pyx__TraceStartFunc");
		line += !strcmp(r.bins[0].syms[i].name, "__Pyx__TraceLine");
	}
	assert_int_equal(start + line, 2);
	hs_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_lock_functions),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_measured),
		cmocka_unit_test(test_cython3_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
