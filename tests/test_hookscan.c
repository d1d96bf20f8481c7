/* test_hookscan.c - `contend scan` finds the hooks real toolchains emit:
 * every binary is built here with gcc (cython3, clang when present) in a
 * private temp dir, so expectations come from real compiler output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "probes/hookscan.h"
#include "tests/testutil.h"

struct fixture {
	char *dir;
	int have_asan, have_cython, have_a64;
	char cyinc[512]; /* -I flags for Python.h */
};

/* Run a shell command in the fixture dir, output captured (and shown
 * only if it failed, to explain a broken build). */
__attribute__((format(printf, 3, 4))) static int sh(const struct fixture *fx,
						    int quiet, const char *fmt, ...)
{
	char *cmd = NULL, *full = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || asprintf(&full, "cd '%s' && %s", fx->dir, cmd) < 0)
		return -1;
	struct cmd_result *r = malloc(sizeof *r);
	char *argv[] = {"sh", "-c", full, NULL};
	int st = r && tu_run(r, argv) == 0 ? r->status : -1;
	if (st && !quiet && r)
		fprintf(stderr, "command failed (%d): %s\n%s\n", st, cmd, r->out);
	free(r);
	free(cmd);
	free(full);
	return st;
}

static int write_file(const struct fixture *fx, const char *name,
		      const char *text)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", fx->dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

static const char *at(const struct fixture *fx, const char *name, char *buf)
{
	snprintf(buf, 4096, "%s/%s", fx->dir, name);
	return buf;
}

static const char plain_c[] = "int twice(int x) { return 2 * x; }\n"
			      "int main(void) { return twice(0); }\n";

/* Calls the interpreter lock through the PLT around a defined Cython
 * hook name, as a CYTHON_TRACE_NOGIL build does. */
static const char fake_harm_c[] =
	"extern int PyGILState_Ensure(void);\n"
	"extern void PyGILState_Release(int);\n"
	"__attribute__((noinline)) int __Pyx_TraceSetupAndCall(int x)\n"
	"{ return x + 1; }\n"
	"int crit(int x) { int s = PyGILState_Ensure();\n"
	"  x = __Pyx_TraceSetupAndCall(x); PyGILState_Release(s); return x; }\n";

/* The interpreter lock taken around real work, as a clean module does. */
static const char legit_c[] =
	"extern int PyGILState_Ensure(void);\n"
	"extern void PyGILState_Release(int);\n"
	"extern int work(int);\n"
	"int f(int x) { int s = PyGILState_Ensure(); x = work(x);\n"
	"  PyGILState_Release(s); return x; }\n";

static const char fake_harmless_c[] =
	"__attribute__((noinline)) int __Pyx_TraceSetupAndCall(int x)\n"
	"{ return x + 1; }\n"
	"int crit(int x) { return __Pyx_TraceSetupAndCall(x) * 2; }\n";

/* Only the weak reference that crti.o puts in nearly every binary. */
static const char gmon_c[] =
	"extern void __gmon_start__(void) __attribute__((weak));\n"
	"int f(void) { if (__gmon_start__) __gmon_start__(); return 1; }\n";

static const char tiny_pyx[] =
	"# cython: language_level=3\n"
	"cdef double crit(double a, double b) nogil:\n"
	"    return a * b + 1.0\n"
	"cdef double split(double* x, int n) nogil:\n"
	"    cdef double s = 0\n"
	"    cdef int i\n"
	"    for i in range(n):\n"
	"        s += crit(x[i], x[i])\n"
	"    return s\n"
	"def run(int n):\n"
	"    cdef double buf[16]\n"
	"    cdef int i\n"
	"    for i in range(16):\n"
	"        buf[i] = i\n"
	"    cdef double r\n"
	"    with nogil:\n"
	"        r = split(buf, n if n < 16 else 16)\n"
	"    return r\n";

#define GCC "gcc -O2 -fPIC -w "

/* Fixture builds: -1 if a build that must work did not (group setup
 * then fails and every test with it). */
static int build_c(struct fixture *fx)
{
	static const char *const builds[] = {
		GCC "-shared plain.c -o plain.so",
		"gcc -O2 plain.c -o plain_exe",
		GCC "-shared gmon.c -o gmon.so",
		GCC "-c gmon.c -o gmon.o",
		GCC "-shared -finstrument-functions plain.c -o instrument.so",
		GCC "-shared -pg plain.c -o pg.so",
		"gcc -O2 -pg plain.c -o pg_exe",
		GCC "-shared --coverage plain.c -o cov.so",
		GCC "-shared harm.c -o harm.so",
		GCC "-shared -fno-plt harm.c -o harm_noplt.so",
		GCC "-c harm.c -o harm.o",
		GCC "-shared harmless.c -o harmless.so",
		"head -c 3000 harm.so > truncated.so",
		"{ printf '\\177ELF\\002\\001\\001'; head -c 400 /dev/zero | "
		"tr '\\0' x; } > garbage.so",
		"head -c 100 /dev/zero | tr '\\0' z > corrupt.whl",
	};
	if (write_file(fx, "plain.c", plain_c) ||
	    write_file(fx, "harm.c", fake_harm_c) ||
	    write_file(fx, "harmless.c", fake_harmless_c) ||
	    write_file(fx, "gmon.c", gmon_c) ||
	    write_file(fx, "notelf.txt", "just text, not a binary\n"))
		return -1;
	for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
		if (sh(fx, 0, "%s", builds[i]))
			return -1;
	fx->have_asan = sh(fx, 1, GCC "-shared -fsanitize=address plain.c "
				     "-o asan.so") == 0;
	return 0;
}

/* Real Cython, three ways: harmful (CYTHON_TRACE_NOGIL), harmless
 * linetrace, and no tracing at all. */
static void build_cython(struct fixture *fx)
{
	if (sh(fx, 1, "command -v cython3") != 0)
		return;
	const char *pycfg = access("/usr/bin/python3-config", X_OK) == 0
				    ? "/usr/bin/python3-config"
				    : "python3-config";
	if (sh(fx, 1, "%s --includes > inc.txt", pycfg) != 0)
		return;
	char p[4096];
	FILE *f = fopen(at(fx, "inc.txt", p), "r");
	if (!f || !fgets(fx->cyinc, sizeof fx->cyinc, f)) {
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	fx->cyinc[strcspn(fx->cyinc, "\n")] = 0;
	char lt[2048];
	snprintf(lt, sizeof lt, "# cython: linetrace=True\n%s", tiny_pyx);
	if (write_file(fx, "tiny_lt.pyx", lt) ||
	    write_file(fx, "tiny_plain.pyx", tiny_pyx) ||
	    sh(fx, 1, "cython3 -3 tiny_lt.pyx -o tiny_lt.c && "
		      "cython3 -3 tiny_plain.pyx -o tiny_plain.c") != 0)
		return;
	fx->have_cython =
		sh(fx, 0, GCC "-shared %s -DCYTHON_TRACE=1 -DCYTHON_TRACE_NOGIL=1 "
			      "tiny_lt.c -o cy_harm.so", fx->cyinc) == 0 &&
		sh(fx, 0, GCC "-shared %s -DCYTHON_TRACE=1 tiny_lt.c "
			      "-o cy_harmless.so", fx->cyinc) == 0 &&
		sh(fx, 0, GCC "-shared %s tiny_plain.c -o cy_plain.so",
		   fx->cyinc) == 0;
}

static void build_a64(struct fixture *fx)
{
	if (sh(fx, 1, "command -v clang && command -v aarch64-linux-gnu-ld") != 0)
		return;
	fx->have_a64 =
		sh(fx, 0, "clang --target=aarch64-linux-gnu -O2 -fPIC -c harm.c "
			  "-o harm_a64.o && aarch64-linux-gnu-ld -shared "
			  "harm_a64.o -o harm_a64.so") == 0;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	if (!fx || !(fx->dir = tu_tempdir()))
		return -1;
	if (build_c(fx)) {
		tu_rmtree(fx->dir);
		free(fx->dir);
		free(fx);
		return -1;
	}
	build_cython(fx);
	build_a64(fx);
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

/* Scan one path; it must give exactly one binary. */
static struct hs_binary *scan_one(struct hs_report *r, const char *path)
{
	errbuf e;
	hs_report_init(r);
	assert_int_equal(hs_scan_path(r, path, &e), 0);
	assert_int_equal(r->nskips, 0);
	assert_int_equal(r->nbins, 1);
	return &r->bins[0];
}

static int has_sym(const struct hs_binary *b, const char *name)
{
	for (size_t i = 0; i < b->nsyms; i++)
		if (!strcmp(b->syms[i].name, name))
			return 1;
	return 0;
}

static void expect_kinds(const struct fixture *fx, const char *file,
			 unsigned kinds, enum hs_verdict v)
{
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, file, p));
	if (b->kinds != kinds || b->verdict != v)
		fail_msg("%s: kinds %#x verdict %s, want %#x %s", file, b->kinds,
			 hs_verdict_name(b->verdict), kinds, hs_verdict_name(v));
	hs_report_free(&r);
}

static void test_kinds_parse(void **state)
{
	(void)state;
	unsigned m = 0;
	errbuf e;
	assert_int_equal(hook_kinds_parse("cython,gprof", &m, &e), 0);
	assert_int_equal(m, HK_BIT(HK_CYTHON) | HK_BIT(HK_GPROF));
	assert_int_equal(hook_kinds_parse("any", &m, &e), 0);
	assert_int_equal(m, HK_ALL | HS_FAIL_UNKNOWN);
	assert_int_equal(hook_kinds_parse("sanitizer", &m, &e), 0);
	assert_int_equal(m, HK_BIT(HK_SANITIZER));
	assert_int_equal(hook_kinds_parse("cython,bogus", &m, &e), -1);
	assert_non_null(strstr(e.msg, "bogus"));
	assert_int_equal(hook_kinds_parse("", &m, &e), -1);
	assert_int_equal(hook_kinds_parse("cython,", &m, &e), -1);
	assert_int_equal(hook_kinds_parse("cyth", &m, &e), -1);
}

static void test_clean_binaries(void **state)
{
	const struct fixture *fx = *state;
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "plain.so", p));
	assert_int_equal(b->kinds, 0);
	assert_int_equal(b->verdict, HV_NONE);
	assert_int_equal(b->symbols_total, 0);
	assert_true(b->gil_counted);
	assert_int_equal(b->gil_ensure + b->gil_release, 0);
	assert_string_equal(b->arch, "x86-64");
	hs_report_free(&r);
	expect_kinds(fx, "plain_exe", 0, HV_NONE);
}

static void test_weak_gmon_start_is_not_gprof(void **state)
{
	const struct fixture *fx = *state;
	expect_kinds(fx, "gmon.so", 0, HV_NONE);
	expect_kinds(fx, "gmon.o", 0, HV_NONE);
	/* ... while gcrt1's definition in a -pg executable is. */
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "pg_exe", p));
	assert_int_equal(b->kinds, HK_BIT(HK_GPROF));
	assert_true(has_sym(b, "__gmon_start__"));
	assert_true(has_sym(b, "mcount"));
	hs_report_free(&r);
}

static void test_compiler_instrumentation(void **state)
{
	const struct fixture *fx = *state;
	expect_kinds(fx, "instrument.so", HK_BIT(HK_INSTRUMENT), HV_HARMLESS);
	expect_kinds(fx, "pg.so", HK_BIT(HK_GPROF), HV_HARMLESS);
	expect_kinds(fx, "cov.so", HK_BIT(HK_COVERAGE), HV_HARMLESS);
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "instrument.so", p));
	assert_true(has_sym(b, "__cyg_profile_func_enter"));
	assert_true(has_sym(b, "__cyg_profile_func_exit"));
	assert_false(b->syms[0].defined);
	hs_report_free(&r);
}

static void test_sanitizer(void **state)
{
	const struct fixture *fx = *state;
	if (!fx->have_asan)
		skip();
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "asan.so", p));
	assert_true(b->kinds & HK_BIT(HK_SANITIZER));
	assert_int_equal(b->kinds & HK_BIT(HK_CYTHON), 0);
	hs_report_free(&r);
}

static void expect_harm(const struct fixture *fx, const char *file)
{
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, file, p));
	if (b->verdict != HV_HARMFUL || b->gil_ensure != 1 ||
	    b->gil_release != 1)
		fail_msg("%s: verdict %s, ensure %ld release %ld (%s)", file,
			 hs_verdict_name(b->verdict), b->gil_ensure,
			 b->gil_release, b->note);
	assert_int_equal(b->kinds, HK_BIT(HK_CYTHON));
	assert_true(has_sym(b, "__Pyx_TraceSetupAndCall"));
	assert_non_null(strstr(hs_verdict_message(b), "serialise"));
	hs_report_free(&r);
}

static void test_fake_cython_harmful(void **state)
{
	const struct fixture *fx = *state;
	expect_harm(fx, "harm.so");	  /* through the PLT */
	expect_harm(fx, "harm_noplt.so"); /* call *[rip+GOT], GLOB_DAT */
	expect_harm(fx, "harm.o");	  /* relocations in an object file */
}

static void test_fake_cython_harmless(void **state)
{
	const struct fixture *fx = *state;
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "harmless.so", p));
	assert_int_equal(b->kinds, HK_BIT(HK_CYTHON));
	assert_int_equal(b->verdict, HV_HARMLESS);
	assert_true(b->gil_counted);
	assert_int_equal(b->gil_ensure + b->gil_release, 0);
	hs_report_free(&r);
}

static void test_aarch64(void **state)
{
	const struct fixture *fx = *state;
	if (!fx->have_a64)
		skip();
	expect_harm(fx, "harm_a64.o");
	expect_harm(fx, "harm_a64.so");
}

static void test_real_cython(void **state)
{
	const struct fixture *fx = *state;
	if (!fx->have_cython)
		skip();
	char p[4096];
	struct hs_report r;
	struct hs_binary *b = scan_one(&r, at(fx, "cy_harm.so", p));
	assert_int_equal(b->kinds, HK_BIT(HK_CYTHON));
	assert_int_equal(b->verdict, HV_HARMFUL);
	assert_true(b->gil_ensure > 0);
	assert_true(b->gil_release >= b->gil_ensure);
	assert_true(has_sym(b, "__Pyx_call_return_trace_func"));
	print_message("real Cython CYTHON_TRACE_NOGIL module: %ld PyGILState_Ensure"
		      " + %ld PyGILState_Release call sites\n",
		      b->gil_ensure, b->gil_release);
	hs_report_free(&r);

	b = scan_one(&r, at(fx, "cy_harmless.so", p));
	assert_int_equal(b->kinds, HK_BIT(HK_CYTHON));
	assert_int_equal(b->verdict, HV_HARMLESS);
	assert_int_equal(b->gil_ensure + b->gil_release, 0);
	hs_report_free(&r);

	expect_kinds(fx, "cy_plain.so", 0, HV_NONE);
}

/* A wheel built with libzip: the instrumented member is found under
 * archive!member, text members are ignored, a fake .so is noted. */
static void make_wheel(const struct fixture *fx, const char *whl)
{
	char p[4096], so[4096];
	int err;
	zip_t *z = zip_open(at(fx, whl, p), ZIP_CREATE | ZIP_TRUNCATE, &err);
	assert_non_null(z);
	zip_source_t *s = zip_source_file(z, at(fx, "instrument.so", so), 0, -1);
	assert_non_null(s);
	assert_true(zip_file_add(z, "pkg/_core.cpython-311-x86_64-linux-gnu.so",
				 s, 0) >= 0);
	static const char py[] = "from ._core import *\n";
	s = zip_source_buffer(z, py, sizeof py - 1, 0);
	assert_true(zip_file_add(z, "pkg/__init__.py", s, 0) >= 0);
	static const char fake[] = "not really a shared object";
	s = zip_source_buffer(z, fake, sizeof fake - 1, 0);
	assert_true(zip_file_add(z, "pkg/_fake.so", s, 0) >= 0);
	assert_int_equal(zip_close(z), 0);
}

static void test_wheel(void **state)
{
	const struct fixture *fx = *state;
	make_wheel(fx, "pkg-1.0-cp311-cp311-linux_x86_64.whl");
	char p[4096], want[4200];
	errbuf e;
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_path(&r, at(fx, "pkg-1.0-cp311-cp311-linux_x86_64.whl", p),
				      &e), 0);
	assert_int_equal(r.nbins, 1);
	snprintf(want, sizeof want, "%s!pkg/_core.cpython-311-x86_64-linux-gnu.so", p);
	assert_string_equal(r.bins[0].path, want);
	assert_int_equal(r.bins[0].kinds, HK_BIT(HK_INSTRUMENT));
	assert_int_equal(r.nskips, 1);
	assert_non_null(strstr(r.skips[0].path, "!pkg/_fake.so"));
	assert_int_equal(r.ignored, 1);
	hs_report_free(&r);

	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "instrument", p, NULL), 0);
	assert_int_equal(c->status, 1);
	assert_non_null(strstr(c->out, "!pkg/_core.cpython-311-x86_64-linux-gnu.so"));
	free(c);
}

static void test_bad_files_are_skipped(void **state)
{
	const struct fixture *fx = *state;
	const char *files[] = {"truncated.so", "garbage.so", "notelf.txt",
			       "corrupt.whl"};
	const char *reasons[] = {"corrupt ELF", "corrupt ELF", "not an ELF",
				 "corrupt zip"};
	char p[4096];
	errbuf e;
	for (size_t i = 0; i < 4; i++) {
		struct hs_report r;
		hs_report_init(&r);
		assert_int_equal(hs_scan_path(&r, at(fx, files[i], p), &e), 0);
		assert_int_equal(r.nbins, 0);
		assert_int_equal(r.nskips, 1);
		if (!strstr(r.skips[0].reason, reasons[i]))
			fail_msg("%s: reason '%s'", files[i], r.skips[0].reason);
		hs_report_free(&r);
	}
	/* An in-memory image: not ELF, and every truncation of a real one. */
	char text[] = "hello";
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_image(&r, "mem", text, sizeof text, &e), 0);
	assert_int_equal(r.nskips, 1);
	hs_report_free(&r);
	FILE *f = fopen(at(fx, "harm.so", p), "rb");
	assert_non_null(f);
	static unsigned char img[1 << 16], copy[1 << 16];
	size_t n = fread(img, 1, sizeof img, f);
	fclose(f);
	for (size_t len = 0; len < n; len += 97) {
		memcpy(copy, img, len);
		hs_report_init(&r);
		assert_int_equal(hs_scan_image(&r, "cut", copy, len, &e), 0);
		assert_int_equal(r.nbins + r.nskips, 1);
		hs_report_free(&r);
	}
	/* The CLI goes on past them and says so. */
	struct cmd_result *c = malloc(sizeof *c);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", fx->dir);
	assert_int_equal(tu_contend(c, "scan", at(fx, "garbage.so", p), dir, NULL), 0);
	assert_int_equal(c->status, 0);
	assert_non_null(strstr(c->out, "skipped: "));
	assert_non_null(strstr(c->out, "garbage.so: corrupt ELF"));
	assert_non_null(strstr(c->out, "binaries scanned"));
	free(c);
}

static void test_directory_and_links(void **state)
{
	const struct fixture *fx = *state;
	assert_int_equal(sh(fx, 0, "mkdir -p tree/a/b && cp harm.so tree/a/b/ && "
				   "cp plain.so tree/a/ && cp notelf.txt tree/ && "
				   "ln -sfn ../.. tree/a/b/up && ln -sfn / tree/a/root && "
				   "ln -sf harm.so tree/a/b/link.so && "
				   "ln -sf missing tree/dangling && "
				   "ln -sfn tree/a tree_link"), 0);
	char p[4096];
	errbuf e;
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_path(&r, at(fx, "tree", p), &e), 0);
	assert_int_equal(r.nbins, 2); /* harm.so once, though linked twice */
	assert_int_equal(hs_report_instrumented(&r), 1);
	/* The links to directories (a loop, and /) are noted, not walked. */
	int notfollowed = 0, dangling = 0;
	for (size_t i = 0; i < r.nskips; i++) {
		notfollowed += strstr(r.skips[i].reason, "symlink to a directory: "
					 "not followed") != NULL;
		dangling += strstr(r.skips[i].reason, "broken symlink") != NULL;
	}
	assert_int_equal(notfollowed, 2);
	assert_int_equal(dangling, 1);
	assert_int_equal(r.nskips, 3);
	assert_int_equal(r.ignored, 1);
	hs_report_free(&r);
	/* A PATH named by the user is followed, though it is a link. */
	hs_report_init(&r);
	assert_int_equal(hs_scan_path(&r, at(fx, "tree_link", p), &e), 0);
	assert_int_equal(r.nbins, 2);
	hs_report_free(&r);
}

/* /proc/self is full of links to / and to the working directory: the
 * walk must stay inside it (and so finish at once). */
static void test_proc_self(void **state)
{
	(void)state;
	errbuf e;
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_path(&r, "/proc/self", &e), 0);
	int root = 0;
	for (size_t i = 0; i < r.nskips; i++)
		root += strstr(r.skips[i].path, "/root") &&
			strstr(r.skips[i].reason, "not followed");
	assert_true(root >= 1);
	for (size_t i = 0; i < r.nbins; i++)
		if (strncmp(r.bins[i].path, "/proc/self/", 11))
			fail_msg("left /proc/self: %s", r.bins[i].path);
	hs_report_free(&r);
}

/* The test process maps instrument.so itself, then asks for its own
 * maps: the library is found, once. */
static void test_pid(void **state)
{
	const struct fixture *fx = *state;
	char p[4096], pid[32];
	void *h = dlopen(at(fx, "instrument.so", p), RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "instrument", "--pid",
				    pid, NULL), 0);
	assert_int_equal(c->status, 1);
	const char *hit = strstr(c->out, p);
	assert_non_null(hit);
	assert_null(strstr(hit + 1, p)); /* mapped several times, listed once */
	errbuf e;
	struct hs_report r;
	hs_report_init(&r);
	assert_int_equal(hs_scan_pid(&r, (long)getpid(), &e), 0);
	int found = 0;
	for (size_t i = 0; i < r.nbins; i++)
		found += !strcmp(r.bins[i].path, p) &&
			 r.bins[i].kinds == HK_BIT(HK_INSTRUMENT);
	assert_int_equal(found, 1);
	hs_report_free(&r);
	dlclose(h);

	/* No such process: bad input, one line. */
	assert_int_equal(tu_contend(c, "scan", "--pid", "999999999", NULL), 0);
	assert_int_equal(c->status, 2);
	assert_non_null(strstr(c->out, "no such process"));
	assert_int_equal(tu_lines(c->out), 1);
	assert_int_equal(tu_contend(c, "scan", "--pid", "12x", NULL), 0);
	assert_int_equal(c->status, 2);
	assert_int_equal(hs_scan_pid(&r, 999999999, &e), -1);
	assert_non_null(strstr(e.msg, "no process"));
	free(c);
}

/* Another user's process: its maps are not ours to read. As root, the
 * scan runs as nobody against this (root) process. */
static void test_pid_permission(void **state)
{
	(void)state;
	char pid[32];
	struct cmd_result *c = malloc(sizeof *c);
	assert_non_null(c);
	if (geteuid() == 0) {
		if (access("/usr/bin/setpriv", X_OK)) {
			free(c);
			skip();
		}
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
				"--clear-groups", (char *)CONTEND_BIN, "scan", "--pid",
				pid, NULL};
		assert_int_equal(tu_run(c, argv), 0);
	} else {
		snprintf(pid, sizeof pid, "1");
		assert_int_equal(tu_contend(c, "scan", "--pid", pid, NULL), 0);
	}
	assert_int_equal(c->status, 3);
	assert_non_null(strstr(c->out, "permission denied"));
	assert_int_equal(tu_lines(c->out), 1);
	free(c);
}

/* Root reads everything, so as root the scan runs as nobody (setpriv):
 * the private temp dir (mode 0700) is then unreadable. */
static void test_unreadable(void **state)
{
	const struct fixture *fx = *state;
	char p[4096];
	at(fx, "plain.so", p);
	struct cmd_result *c = malloc(sizeof *c);
	assert_non_null(c);
	if (geteuid() == 0) {
		if (access("/usr/bin/setpriv", X_OK)) {
			free(c);
			skip();
		}
		char *argv[] = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
				"--clear-groups", (char *)CONTEND_BIN, "scan", p,
				fx->dir, NULL};
		assert_int_equal(tu_run(c, argv), 0);
	} else {
		assert_int_equal(chmod(fx->dir, 0), 0);
		assert_int_equal(tu_contend(c, "scan", p, fx->dir, NULL), 0);
		assert_int_equal(chmod(fx->dir, 0700), 0);
	}
	assert_int_equal(c->status, 0); /* noted, not an error */
	assert_non_null(strstr(c->out, "plain.so: Permission denied"));
	assert_non_null(strstr(c->out, "0 binaries scanned, 0 with instrumentation, 0 stripped, 2 skipped"));
	free(c);
}

/* A gate cannot pass what it could not read: with --fail-on, a PATH
 * that gave no binary at all exits 3 and says which. */
static void test_fail_on_unscannable(void **state)
{
	const struct fixture *fx = *state;
	char g[4096], a[4096], t[4096];
	at(fx, "garbage.so", g);
	at(fx, "plain.so", a);
	at(fx, "notelf.txt", t);
	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "any", g, NULL), 0);
	assert_int_equal(c->status, 3);
	assert_non_null(strstr(c->out, "nothing could be scanned"));
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "cython", a, t, NULL), 0);
	assert_int_equal(c->status, 3);
	assert_non_null(strstr(c->out, "notelf.txt: nothing could be scanned"));
	/* a found kind wins: 1 */
	at(fx, "instrument.so", a);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "any", a, g, NULL), 0);
	assert_int_equal(c->status, 1);
	/* without a gate it is only noted */
	assert_int_equal(tu_contend(c, "scan", g, NULL), 0);
	assert_int_equal(c->status, 0);
	free(c);
}

static void test_cli_exit_codes(void **state)
{
	const struct fixture *fx = *state;
	char a[4096], b[4096];
	struct cmd_result *c = malloc(sizeof *c);
	at(fx, "instrument.so", a);
	at(fx, "plain.so", b);

	assert_int_equal(tu_contend(c, "scan", a, b, NULL), 0);
	assert_int_equal(c->status, 0);
	assert_non_null(strstr(c->out, "instrument.so"));
	assert_null(strstr(c->out, "plain.so")); /* clean: only with --all */
	assert_non_null(strstr(c->out, "2 binaries scanned, 1 with instrumentation, 0 stripped, 0 skipped"));

	assert_int_equal(tu_contend(c, "scan", "--all", a, b, NULL), 0);
	assert_non_null(strstr(c->out, "plain.so"));

	assert_int_equal(tu_contend(c, "scan", "--fail-on", "instrument", a, b, NULL), 0);
	assert_int_equal(c->status, 1);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "cython,gprof", a, b, NULL), 0);
	assert_int_equal(c->status, 0);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "any", b, NULL), 0);
	assert_int_equal(c->status, 0);
	assert_int_equal(tu_contend(c, "scan", "--fail-on", "any", a, NULL), 0);
	assert_int_equal(c->status, 1);

	assert_int_equal(tu_contend(c, "scan", "--fail-on", "cython,typo", a, NULL), 0);
	assert_int_equal(c->status, 2);
	assert_non_null(strstr(c->out, "typo"));
	int lines = 0;
	for (const char *q = c->out; *q; q++)
		lines += *q == '\n';
	assert_int_equal(lines, 1); /* a one-line error */

	assert_int_equal(tu_contend(c, "scan", a, "/nonexistent/contend-scan", NULL), 0);
	assert_int_equal(c->status, 2);
	assert_non_null(strstr(c->out, "/nonexistent/contend-scan"));
	assert_null(strstr(c->out, "binaries scanned")); /* nothing scanned */

	assert_int_equal(tu_contend(c, "scan", NULL), 0);
	assert_int_equal(c->status, 2);
	assert_int_equal(tu_contend(c, "scan", "--frobnicate", a, NULL), 0);
	assert_int_equal(c->status, 2);

	assert_int_equal(tu_contend(c, "scan", "--help", NULL), 0);
	assert_int_equal(c->status, 0);
	const char *words[] = {"--json", "--fail-on", "--all", "cython",
			       "instrument", "gprof", "coverage", "sanitizer",
			       "any", "PyGILState_Ensure", "exit status",
			       "harmful", "harmless", "unknown (stripped; N "
			       "interpreter-lock call sites)", "--pid",
			       "not followed", "3 "};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strstr(c->out, words[i]))
			fail_msg("--help does not mention %s", words[i]);
	free(c);
}

/* A note that several binaries share is said once under the table,
 * numbered, and marked on their rows; a binary's own note stays under
 * it. Stripped modules whose lock calls cannot be judged all share one. */
static void test_cli_shared_note(void **state)
{
	const struct fixture *fx = *state;
	assert_int_equal(write_file(fx, "legit.c", legit_c), 0);
	assert_int_equal(sh(fx, 0, GCC "-shared legit.c -o legit.so && "
			    "strip --strip-all legit.so -o legit1.so && "
			    "strip --strip-all legit.so -o legit2.so"), 0);
	char a[4096], b[4096], h[4096];
	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(tu_contend(c, "scan", at(fx, "legit1.so", a),
				    at(fx, "legit2.so", b), at(fx, "harm.so", h),
				    NULL), 0);
	assert_int_equal(c->status, 0);
	assert_int_equal(tu_count(c->out, "unknown (stripped; 2 "
				  "interpreter-lock call sites)  [note 1]"), 2);
	assert_int_equal(tu_count(c->out, "[note 1] (2 binaries): stripped"), 1);
	assert_int_equal(tu_count(c->out, "    note: stripped"), 0);
	assert_non_null(strstr(c->out, "3 binaries scanned, 1 with instrumentation, "
			       "2 stripped"));
	/* one of them alone: its note under it, as before */
	assert_int_equal(tu_contend(c, "scan", a, NULL), 0);
	assert_int_equal(tu_count(c->out, "    note: stripped"), 1);
	assert_null(strstr(c->out, "[note"));
	free(c);
}

static void test_cli_json(void **state)
{
	const struct fixture *fx = *state;
	char a[4096], g[4096];
	struct cmd_result *c = malloc(sizeof *c);
	assert_int_equal(tu_contend(c, "scan", "--json", at(fx, "harm.so", a),
				    at(fx, "garbage.so", g), NULL), 0);
	assert_int_equal(c->status, 0);
	json_error_t je;
	json_t *doc = json_loads(c->out, 0, &je);
	if (!doc)
		fail_msg("not JSON (%s): %.200s", je.text, c->out);
	json_t *bins = json_object_get(doc, "binaries");
	assert_int_equal(json_array_size(bins), 1);
	json_t *b = json_array_get(bins, 0);
	assert_string_equal(json_string_value(json_object_get(b, "verdict")),
			    "harmful");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(b, "kinds"), 0)), "cython");
	json_t *gil = json_object_get(b, "gil_call_sites");
	assert_int_equal(json_integer_value(json_object_get(gil, "PyGILState_Ensure")), 1);
	assert_int_equal(json_integer_value(json_object_get(gil, "total")), 2);
	assert_true(json_array_size(json_object_get(b, "symbols")) >= 1);
	json_t *skipped = json_object_get(doc, "skipped");
	assert_int_equal(json_array_size(skipped), 1);
	assert_non_null(strstr(json_string_value(json_object_get(
				       json_array_get(skipped, 0), "reason")),
			       "corrupt ELF"));
	json_t *sum = json_object_get(doc, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "scanned")), 1);
	assert_int_equal(json_integer_value(json_object_get(sum, "skipped")), 1);
	json_decref(doc);
	free(c);
}

/* The one-call API the diagnosis uses. */
static void test_verdict_of(void **state)
{
	const struct fixture *fx = *state;
	char p[4096];
	enum hs_verdict v = HV_NONE;
	struct hs_lock_funcs f;
	errbuf e;
	assert_int_equal(hookscan_verdict_of(at(fx, "harm.so", p), &v, &f, &e), 0);
	assert_int_equal(v, HV_HARMFUL);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.shown, 1);
	assert_string_equal(f.names[0], "crit");
	assert_int_equal(hookscan_verdict_of(at(fx, "harmless.so", p), &v, NULL, &e), 0);
	assert_int_equal(v, HV_HARMLESS);
	assert_int_equal(hookscan_verdict_of(at(fx, "plain.so", p), &v, &f, &e), 0);
	assert_int_equal(v, HV_NONE);
	assert_int_equal(f.count, 0);
	assert_int_equal(hookscan_verdict_of(at(fx, "garbage.so", p), &v, &f, &e), -1);
	assert_non_null(strstr(e.msg, "corrupt ELF"));
	assert_int_equal(hookscan_verdict_of("/nonexistent/x.so", &v, &f, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_parse),
		cmocka_unit_test(test_clean_binaries),
		cmocka_unit_test(test_weak_gmon_start_is_not_gprof),
		cmocka_unit_test(test_compiler_instrumentation),
		cmocka_unit_test(test_sanitizer),
		cmocka_unit_test(test_fake_cython_harmful),
		cmocka_unit_test(test_fake_cython_harmless),
		cmocka_unit_test(test_aarch64),
		cmocka_unit_test(test_real_cython),
		cmocka_unit_test(test_wheel),
		cmocka_unit_test(test_bad_files_are_skipped),
		cmocka_unit_test(test_directory_and_links),
		cmocka_unit_test(test_proc_self),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_pid_permission),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_fail_on_unscannable),
		cmocka_unit_test(test_cli_exit_codes),
		cmocka_unit_test(test_cli_shared_note),
		cmocka_unit_test(test_cli_json),
		cmocka_unit_test(test_verdict_of),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
