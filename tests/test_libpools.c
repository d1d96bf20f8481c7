/* test_libpools.c - library thread-pool discovery (OpenBLAS, OpenMP), the
 * slow-kernel verdict, the thread census (checked against threads and
 * processes the test makes itself and against `ls /proc/PID/task`), and
 * `contend pools`. */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cblas.h>
#include <jansson.h>

#include "probes/libpools.h"
#include "probes/threads.h"
#include "tests/testutil.h"

/* ---- discovery ---- */

static void test_scan_finds_openblas(void **state)
{
	(void)state;
	struct libpools lp;
	errbuf e = {{0}};
	assert_int_equal(libpools_scan(&lp, &e), 0);
	const struct libpool *ob = libpools_find(&lp, LIBPOOL_OPENBLAS);
	assert_non_null(ob);
	/* What the library says through its own API, called directly. */
	assert_int_equal(ob->threads, openblas_get_num_threads());
	assert_string_equal(ob->corename, openblas_get_corename());
	assert_string_equal(ob->library, "OpenBLAS");
	assert_true(strncmp(ob->config, "OpenBLAS ", 9) == 0);
	assert_true(ob->version[0] >= '0' && ob->version[0] <= '9');
	assert_string_equal(ob->threading, "pthreads");
	assert_int_equal(access(ob->path, R_OK), 0);
	size_t count = 0;
	for (size_t i = 0; i < lp.n; i++)
		count += lp.pool[i].kind == LIBPOOL_OPENBLAS;
	assert_int_equal(count, 1);
}

static void test_set_threads(void **state)
{
	(void)state;
	errbuf e = {{0}};
	assert_true(libpools_set_threads(1, &e) >= 1);
	assert_int_equal(openblas_get_num_threads(), 1);
	assert_true(libpools_set_threads(2, &e) >= 1);
	assert_int_equal(openblas_get_num_threads(), 2);
	struct libpools lp;
	libpools_scan(&lp, &e);
	assert_int_equal(libpools_find(&lp, LIBPOOL_OPENBLAS)->threads, 2);
}

/* A limit set before fork is inherited; setting the same limit again in
 * the child must not start threads (OpenBLAS would restart its pool). */
static void test_set_threads_in_forked_child(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("counts the threads of processes");
	assert_true(libpools_set_threads(1, NULL) >= 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long before = 0, after = 0;
		threads_count(getpid(), &before, NULL);
		libpools_set_threads(1, NULL);
		threads_count(getpid(), &after, NULL);
		_exit(before == 1 && after == 1 && openblas_get_num_threads() == 1
			      ? 0 : 10 + (int)after);
	}
	int st;
	waitpid(pid, &st, 0);
	libpools_set_threads(2, NULL);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_set_threads_bad(void **state)
{
	(void)state;
	int bad[] = {0, -1, 5000};
	for (size_t i = 0; i < 3; i++) {
		errbuf e = {{0}};
		assert_int_equal(libpools_set_threads(bad[i], &e), -1);
		assert_non_null(strstr(e.msg, "1..4096"));
	}
	assert_int_equal(libpools_scan(NULL, NULL), -1);
}

/* Load an OpenMP runtime by hand: it must be found as openmp, limited by
 * set_threads, and not confused with OpenBLAS (or vice versa). */
static void check_openmp_runtime(const char *soname, const char *library)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		print_message("skipping %s: %s\n", soname, dlerror());
		return;
	}
	struct libpools lp;
	errbuf e = {{0}};
	assert_int_equal(libpools_scan(&lp, &e), 0);
	const struct libpool *omp = NULL;
	for (size_t i = 0; i < lp.n; i++)
		if (lp.pool[i].kind == LIBPOOL_OPENMP &&
		    !strcmp(lp.pool[i].library, library))
			omp = &lp.pool[i];
	assert_non_null(omp);
	assert_string_equal(omp->threading, "openmp");
	assert_true(libpools_set_threads(3, &e) >= 2);
	int (*get)(void) = (int (*)(void))dlsym(h, "omp_get_max_threads");
	assert_non_null(get);
	assert_int_equal(get(), 3);
	assert_int_equal(openblas_get_num_threads(), 3);
	libpools_set_threads(2, &e);
	dlclose(h);
}

static void test_openmp_runtimes(void **state)
{
	(void)state;
	check_openmp_runtime("libgomp.so.1", "libgomp");
	check_openmp_runtime("libomp.so.5", "libomp");
}

static void test_json(void **state)
{
	(void)state;
	struct libpools lp;
	libpools_scan(&lp, NULL);
	json_t *a = libpools_json(&lp);
	assert_int_equal(json_array_size(a), lp.n);
	json_decref(a);
	json_t *b = libpools_blas_context(&lp);
	assert_string_equal(json_string_value(json_object_get(b, "library")),
			    "OpenBLAS");
	assert_string_equal(json_string_value(json_object_get(b, "core_name")),
			    openblas_get_corename());
	assert_non_null(json_object_get(b, "kernel_warning"));
	json_decref(b);
	struct libpools none = {0};
	b = libpools_blas_context(&none);
	assert_true(json_is_null(json_object_get(b, "library")));
	json_decref(b);
}

/* ---- CPU level and the kernel verdict ---- */

static void test_cpu_level_from_flags(void **state)
{
	(void)state;
	const char *avx512 = "fpu sse2 avx avx2 fma avx512f avx512dq avx512cd "
			     "avx512bw avx512vl";
	assert_int_equal(cpu_level_from_flags(avx512), CPU_AVX512);
	assert_int_equal(cpu_level_from_flags("avx avx2 fma avx512f"), CPU_AVX2);
	assert_int_equal(cpu_level_from_flags("sse avx avx2 fma"), CPU_AVX2);
	assert_int_equal(cpu_level_from_flags("sse avx avx2"), CPU_AVX);
	assert_int_equal(cpu_level_from_flags("avx\n"), CPU_AVX);
	assert_int_equal(cpu_level_from_flags("fpu sse sse2"), CPU_SSE);
	assert_int_equal(cpu_level_from_flags("avx2x fmax avxx"), CPU_SSE);
	assert_int_equal(cpu_level_from_flags(""), CPU_SSE);
	assert_int_equal(cpu_level_from_flags(NULL), CPU_SSE);
	enum cpu_level l;
	assert_int_equal(cpu_level_detect(&l, NULL), 0);
}

struct verdict_case {
	const char *core;
	enum cpu_level cpu;
	int dynamic;
	const char *env; /* OPENBLAS_CORETYPE in the environment */
	int applies, known;
	const char *suggested, *needle;
};

static void test_kernel_verdicts(void **state)
{
	(void)state;
	static const struct verdict_case cases[] = {
		{"Prescott", CPU_AVX2, 1, NULL, 1, 1, "Haswell", "OPENBLAS_CORETYPE=Haswell"},
		{"Prescott", CPU_AVX512, 1, "", 1, 1, "SkylakeX", "OPENBLAS_CORETYPE=SkylakeX"},
		{"Haswell", CPU_AVX512, 1, NULL, 1, 1, "SkylakeX", "Haswell kernels (AVX2)"},
		{"haswell", CPU_AVX512, 1, NULL, 1, 1, "SkylakeX", "AVX-512"},
		{"Haswell", CPU_AVX512, 1, "Haswell", 1, 1, "SkylakeX",
		 "because the environment sets OPENBLAS_CORETYPE=Haswell"},
		{"generic", CPU_AVX, 1, NULL, 1, 1, "Sandybridge", "Sandybridge"},
		{"Prescott", CPU_AVX512, 0, NULL, 1, 1, "SkylakeX", "TARGET=SkylakeX"},
		{"SkylakeX", CPU_AVX512, 1, NULL, 0, 1, "", ""},
		{"Cooperlake", CPU_AVX512, 1, NULL, 0, 1, "", ""},
		{"Haswell", CPU_AVX2, 1, "Haswell", 0, 1, "", ""},
		{"Zen", CPU_AVX2, 1, NULL, 0, 1, "", ""},
		{"generic", CPU_SSE, 1, NULL, 0, 1, "", ""},
		{"Mystery9000", CPU_AVX512, 1, NULL, 0, 0, "", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct verdict_case *c = &cases[i];
		struct kernel_advice a;
		assert_int_equal(libpools_kernel_check(c->core, c->cpu, c->dynamic,
						       c->env, &a, NULL), 0);
		const char *forced = a.applies && c->env ? c->env : "";
		if (a.applies != c->applies || a.known != c->known ||
		    strcmp(a.suggested, c->suggested) ||
		    !strstr(a.message, c->needle) || strcmp(a.forced, forced))
			fail_msg("%s on %s: applies %d known %d suggested '%s' '%s'",
				 c->core, cpu_level_name(c->cpu), a.applies,
				 a.known, a.suggested, a.message);
	}
}

static void test_kernel_check_bad(void **state)
{
	(void)state;
	struct kernel_advice a;
	errbuf e = {{0}};
	assert_int_equal(libpools_kernel_check(NULL, CPU_AVX2, 1, NULL, &a, &e), -1);
	assert_int_equal(libpools_kernel_check("", CPU_AVX2, 1, NULL, &a, &e), -1);
	assert_int_equal(libpools_kernel_check("Haswell", (enum cpu_level)9, 1,
					       NULL, &a, &e), -1);
	assert_non_null(strstr(e.msg, "CPU level"));
	assert_int_equal(libpools_kernel_check("Haswell", CPU_AVX2, 1, NULL, NULL, &e), -1);
}

/* The loaded library against this machine's CPU, whatever they are. */
static void test_kernel_check_loaded(void **state)
{
	(void)state;
	struct libpools lp;
	struct kernel_advice a;
	enum cpu_level cpu;
	libpools_scan(&lp, NULL);
	assert_int_equal(cpu_level_detect(&cpu, NULL), 0);
	assert_int_equal(libpools_kernel_check_loaded(&lp, &a, NULL), 0);
	assert_int_equal(a.cpu_level, cpu);
	if (a.known)
		assert_int_equal(a.applies, a.kernel_level < cpu);
	print_message("OpenBLAS core %s on %s: %s\n", openblas_get_corename(),
		      cpu_level_name(cpu), a.applies ? a.message : "no warning");
	struct libpools none = {0};
	assert_int_equal(libpools_kernel_check_loaded(&none, &a, NULL), 0);
	assert_int_equal(a.applies, 0);
}

/* ---- thread census ---- */

static int hold[2]; /* threads and children block until this closes */

static void *blocker(void *arg)
{
	(void)arg;
	char c;
	while (read(hold[0], &c, 1) > 0)
		;
	return NULL;
}

static long ls_task_count(pid_t pid)
{
	static struct cmd_result r;
	char cmd[96];
	snprintf(cmd, sizeof cmd, "ls /proc/%ld/task | wc -l", (long)pid);
	char *argv[] = {"sh", "-c", cmd, NULL};
	assert_int_equal(tu_run(&r, argv), 0);
	return strtol(r.out, NULL, 10);
}

/* Child: forks a grandchild (one thread), then starts 2 threads. */
static void child_body(int ready_fd)
{
	pid_t g = fork();
	if (g == 0) {
		blocker(NULL);
		_exit(0);
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, blocker, NULL);
	char c = 'r';
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	waitpid(g, NULL, 0);
	_exit(0);
}

static void census_expect(enum threads_walk w, long procs, long threads)
{
	struct thread_census c;
	errbuf e = {{0}};
	if (threads_census(getpid(), w, &c, &e) < 0)
		fail_msg("census walk %d: %s", (int)w, e.msg);
	assert_int_equal(c.processes, procs);
	assert_int_equal(c.threads, threads);
}

static void test_census(void **state)
{
	(void)state;
	TU_SKIP_UNDER_TSAN("counts the threads of processes");
	long base, now;
	errbuf e = {{0}};
	/* OpenBLAS shuts its pool down in the parent at every fork (an atfork
	 * handler) and restarts it at the next BLAS call; fork once first so
	 * the counts below do not move under us. */
	ls_task_count(getpid());
	assert_int_equal(pipe(hold), 0);
	assert_int_equal(threads_count(getpid(), &base, &e), 0);
	assert_int_equal(base, ls_task_count(getpid()));

	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, blocker, NULL), 0);
	assert_int_equal(threads_count(getpid(), &now, &e), 0);
	assert_int_equal(now, base + 3);
	assert_int_equal(now, ls_task_count(getpid()));

	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		close(hold[1]);
		child_body(ready[1]);
	}
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	long kid_threads;
	assert_int_equal(threads_count(kid, &kid_threads, &e), 0);
	assert_int_equal(kid_threads, 3);
	assert_int_equal(kid_threads, ls_task_count(kid));
	pid_t parent;
	assert_int_equal(threads_parent(kid, &parent, &e), 0);
	assert_int_equal(parent, getpid());

	/* Us (base + 3), the child (3) and the grandchild (1). */
	census_expect(THREADS_WALK_AUTO, 3, base + 3 + 3 + 1);
	census_expect(THREADS_WALK_SCAN, 3, base + 3 + 3 + 1);
	if (access("/proc/thread-self/children", R_OK) == 0)
		census_expect(THREADS_WALK_CHILDREN, 3, base + 3 + 3 + 1);

	pid_t *kids = NULL;
	size_t nk = 0;
	assert_int_equal(threads_children(getpid(), THREADS_WALK_SCAN, &kids,
					  &nk, &e), 0);
	assert_int_equal(nk, 1);
	assert_int_equal(kids[0], kid);
	free(kids);

	close(hold[1]);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	int st;
	waitpid(kid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
	census_expect(THREADS_WALK_AUTO, 1, base);
}

static void test_census_bad(void **state)
{
	(void)state;
	long n;
	pid_t p;
	struct thread_census c;
	pid_t *kids;
	size_t nk;
	errbuf e = {{0}};
	assert_int_equal(threads_count(0, &n, &e), -1);
	assert_int_equal(threads_count(-4, &n, &e), -1);
	assert_int_equal(threads_count(0x7ffffff0, &n, &e), -1);
	assert_non_null(strstr(e.msg, "no process 2147483632"));
	assert_int_equal(threads_parent(-1, &p, &e), -1);
	assert_int_equal(threads_parent(0x7ffffff0, &p, &e), -1);
	assert_int_equal(threads_census(0x7ffffff0, THREADS_WALK_AUTO, &c, &e), -1);
	assert_int_equal(threads_children(0, THREADS_WALK_AUTO, &kids, &nk, &e), -1);
	assert_int_equal(threads_children(1, (enum threads_walk)42, &kids, &nk,
					  &e), -1);
	assert_non_null(strstr(e.msg, "walk"));
}

/* ---- contend pools ---- */

static void test_cmd_pools(void **state)
{
	(void)state;
	static struct cmd_result r;
	assert_int_equal(tu_contend(&r, "pools", NULL), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "OpenBLAS"));
	assert_non_null(strstr(r.out, "pthreads"));

	assert_int_equal(tu_contend(&r, "pools", "--json", NULL), 0);
	assert_int_equal(r.status, 0);
	json_error_t je;
	json_t *j = json_loads(r.out, 0, &je);
	if (!j)
		fail_msg("pools --json: %s: %s", je.text, r.out);
	json_t *blas = json_object_get(j, "blas");
	assert_string_equal(json_string_value(json_object_get(blas, "library")),
			    "OpenBLAS");
	assert_true(json_array_size(json_object_get(j, "pools")) >= 1);
	json_decref(j);

	assert_int_equal(tu_contend(&r, "pools", "--threads", "1", NULL), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "before"));
}

/* The warning follows the kernels: forcing the best ones silences it. */
static void test_cmd_pools_warning(void **state)
{
	(void)state;
	enum cpu_level cpu;
	static struct cmd_result r;
	assert_int_equal(cpu_level_detect(&cpu, NULL), 0);
	if (cpu < CPU_AVX2)
		skip();
	setenv("OPENBLAS_CORETYPE", "Prescott", 1);
	assert_int_equal(tu_contend(&r, "pools", NULL), 0);
	assert_non_null(strstr(r.out, "warning: OpenBLAS runs Prescott kernels"));
	setenv("OPENBLAS_CORETYPE", cpu == CPU_AVX512 ? "SkylakeX" : "Haswell", 1);
	assert_int_equal(tu_contend(&r, "pools", NULL), 0);
	unsetenv("OPENBLAS_CORETYPE");
	assert_null(strstr(r.out, "warning:"));
}

static void test_cmd_pools_bad(void **state)
{
	(void)state;
	static struct cmd_result r;
	const char *bad[][2] = {{"--bogus", NULL}, {"--threads", "0"},
				{"--threads", "x"}, {"--threads", NULL}};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(tu_contend(&r, "pools", bad[i][0], bad[i][1], NULL), 0);
		assert_int_equal(r.status, EXIT_USAGE);
		assert_non_null(strstr(r.out, "contend pools:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_finds_openblas),
		cmocka_unit_test(test_set_threads),
		cmocka_unit_test(test_set_threads_in_forked_child),
		cmocka_unit_test(test_set_threads_bad),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_cpu_level_from_flags),
		cmocka_unit_test(test_kernel_verdicts),
		cmocka_unit_test(test_kernel_check_bad),
		cmocka_unit_test(test_kernel_check_loaded),
		cmocka_unit_test(test_census),
		cmocka_unit_test(test_census_bad),
		cmocka_unit_test(test_cmd_pools),
		cmocka_unit_test(test_cmd_pools_warning),
		cmocka_unit_test(test_cmd_pools_bad),
		/* last: LLVM's libomp cannot be unloaded, and every process
		 * forked after it is loaded that then execs (the tests' popen)
		 * leaves a /dev/shm/__KMP_REGISTERED_LIB_<pid>_0 behind */
		cmocka_unit_test(test_openmp_runtimes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
