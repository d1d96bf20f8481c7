/* testutil.h - helpers shared by the cmocka tests: run the contend binary
 * (or any program) capturing its output, and make private temp dirs.
 * Header-only so each test binary stays one file. */
#ifndef CONTEND_TESTUTIL_H
#define CONTEND_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where the binaries under test live. A sanitizer build (make test-asan)
 * passes its own dirs, so its tests exec the sanitized contend. */
#ifndef CONTEND_BIN_DIR
#define CONTEND_BIN_DIR "bin"
#endif
#ifndef CONTEND_BIN
#define CONTEND_BIN CONTEND_BIN_DIR "/contend"
#endif
#ifndef CONTEND_BUILD_DIR
#define CONTEND_BUILD_DIR "build/release"
#endif

/* A test that cannot run under ThreadSanitizer skips itself, saying why
 * (cmocka's skip(); include cmocka.h first). Two reasons recur: TSan runs
 * a thread of its own in every process, so thread counts are off by one;
 * and it cannot follow a fork of a multi-threaded process whose child
 * starts threads (it dies with "dup thread"). */
#ifdef __SANITIZE_THREAD__
#define TU_SKIP_UNDER_TSAN(why)                                            \
	do {                                                               \
		printf("   skipped under ThreadSanitizer: %s\n", why);      \
		skip();                                                    \
	} while (0)
#else
#define TU_SKIP_UNDER_TSAN(why) \
	do {                    \
	} while (0)
#endif

struct cmd_result {
	int status;	/* exit status, or 128+signal */
	char out[65536]; /* stdout and stderr together, NUL-terminated */
};

/* Run argv (NULL-terminated) with stdout+stderr captured into r->out. */
static inline int tu_run(struct cmd_result *r, char *const argv[])
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	for (;;) {
		ssize_t k = read(p[0], r->out + n, sizeof r->out - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == sizeof r->out - 1) { /* drain the rest */
			char sink[4096];
			while (read(p[0], sink, sizeof sink) > 0)
				;
			break;
		}
	}
	r->out[n] = 0;
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* Start argv (argv[0] a path) in the background, its stdout and stderr
 * to /dev/null, in directory cwd (NULL: ours); returns its pid. */
static inline pid_t tu_spawn_quiet(const char *cwd, char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (!cwd || chdir(cwd) == 0)
			execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Variadic convenience: tu_contend(&r, "run", "x", NULL). */
static inline int tu_contend(struct cmd_result *r, ...)
{
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)CONTEND_BIN;
	va_list ap;
	va_start(ap, r);
	char *a;
	while ((a = va_arg(ap, char *)) && n < 63)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return tu_run(r, argv);
}

/* A fresh private directory under $TMPDIR or /tmp; caller frees. */
static inline char *tu_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/contend-test-XXXXXX", base ? base : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

/* dir/name, in one of 8 rotating buffers so a call may use several. */
static inline const char *tu_path(const char *dir, const char *name)
{
	static char buf[8][1024];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
	return buf[k];
}

/* Newlines in s: "one-line error" checks. */
static inline size_t tu_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Occurrences of needle in hay (overlapping ones too). */
static inline size_t tu_count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static inline void tu_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Poll until thread tid of this process sleeps in the kernel (blocked on a
 * lock's futex), so a contention test does not depend on how fast threads
 * start. 0 when it did, -1 after about 5 s. */
static inline int tu_wait_until_blocked(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	for (int i = 0; i < 5000; i++) {
		char buf[512] = {0};
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof buf - 1, f);
			fclose(f);
			buf[n] = 0;
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				return 0;
		}
		tu_sleep_ms(1);
	}
	return -1;
}

/* rm -rf dir (test scratch only). */
static inline void tu_rmtree(const char *dir)
{
	char *argv[] = {"rm", "-rf", (char *)dir, NULL};
	struct cmd_result *r = malloc(sizeof *r);
	if (r) {
		tu_run(r, argv);
		free(r);
	}
}

#endif
