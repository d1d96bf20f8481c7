/* execsweep.c - runs an arbitrary command per worker count and repetition
 * (posix_spawnp, own process group led by a guard that ends it if contend
 * dies, output captured through a pipe) and records time, rusage, lock
 * profile and memory in a results document. */
#include "harness/execsweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "document/results.h"
#include "harness/procguard.h"
#include "analysis/diagnosis.h"
#include "harness/exec_plan.h"
#include "analysis/summary.h"
#include "probes/interference.h"
#include "probes/lockprof_report.h"
#include "probes/memsampler.h"
#include "probes/registry.h"
#include "probes/rusage.h"

#define TOP_LOCKS 5	   /* locks kept per repetition */
#define TOP_SITES 3	   /* call sites kept per lock */
#define DRAIN_MS 200	   /* how long to wait for output after the exit */
#define POLL_CAP_MS 250	   /* a signal just before poll is seen this late */
#define NO_PIDFD_POLL_MS 5 /* exit detection latency without a pidfd */

extern char **environ;

/* Set by the handler of the stop signals (SIGINT, SIGTERM, SIGHUP,
 * SIGPIPE); the only global, because a signal handler can reach nothing
 * else. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static const char *stop_detail(void)
{
	if (stop_signal == SIGHUP)
		return "stopped by SIGHUP (the terminal went away); completed "
		       "repetitions are kept";
	if (stop_signal == SIGPIPE)
		return "stopped by SIGPIPE (its output was closed); completed "
		       "repetitions are kept";
	return "stopped by the user; completed repetitions are kept";
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the command line and environment of one repetition ------------- */

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* One plan entry: its argv, and the workers it asks for. */
struct point {
	const struct plan *plan;
	const struct plan_entry *entry;
	int workers;
	size_t index;		/* in execution order, for the progress line */
};

static char **argv_for(const struct exec_opts *o, const struct point *pt)
{
	char **v = calloc((size_t)o->argc + 1, sizeof *v);
	for (int i = 0; v && i < o->argc; i++)
		if (!(v[i] = exec_substitute(o->argv[i], pt->plan, pt->entry))) {
			free_strv(v);
			return NULL;
		}
	return v;
}

/* /bin/sh -c CMD for --setup and --prepare, placeholders replaced. */
static char **hook_argv(const char *cmd, const struct point *pt)
{
	char **v = calloc(4, sizeof *v);
	if (!v)
		return NULL;
	v[0] = strdup("/bin/sh");
	v[1] = strdup("-c");
	v[2] = exec_substitute(cmd, pt->plan, pt->entry);
	if (!v[0] || !v[1] || !v[2])
		return free_strv(v), NULL;
	return v;
}

static int is_var(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(entry, name, n) && entry[n] == '=';
}

/* environ with the entry's --env applied, without the variables we set,
 * plus ours. LD_PRELOAD keeps what the user preloads and appends the
 * profiler (NULL: none, as for --setup and --prepare, whose locks are
 * not the command's). Built before fork: the child only calls execvpe. */
static char **env_for(const char *preload, const char *lockdir,
		      const struct point *pt)
{
	char **base = exec_environ(environ, pt->plan, pt->entry);
	size_t n = 0, k = 0;
	while (base && base[n])
		n++;
	char **v = base ? calloc(n + 4, sizeof *v) : NULL;
	const char *old_preload = NULL;
	for (size_t i = 0; v && i < n; i++) {
		if (preload && is_var(base[i], "LD_PRELOAD"))
			old_preload = base[i] + strlen("LD_PRELOAD=");
		else if (!is_var(base[i], "CONTEND_WORKERS") &&
			 !(preload && is_var(base[i], LOCKPROF_DIR_ENV)))
			v[k++] = strdup(base[i]);
	}
	if (!v || asprintf(&v[k++], "CONTEND_WORKERS=%d", pt->workers) < 0)
		return free_strv(base), free_strv(v), NULL;
	if (preload && (asprintf(&v[k++], "LD_PRELOAD=%s%s%s",
				 old_preload && *old_preload ? old_preload : "",
				 old_preload && *old_preload ? ":" : "", preload) < 0 ||
			asprintf(&v[k++], "%s=%s", LOCKPROF_DIR_ENV, lockdir) < 0))
		return free_strv(base), free_strv(v), NULL;
	free_strv(base);
	for (size_t i = 0; i < k; i++)
		if (!v[i])
			return free_strv(v), NULL;
	return v;
}

/* --- output capture --------------------------------------------------- */

/* The last EXEC_TAIL_MAX bytes; twice that much room so trimming is one
 * memmove per EXEC_TAIL_MAX bytes read. */
struct tail {
	char buf[2 * EXEC_TAIL_MAX];
	size_t len;
};

static void tail_add(struct tail *t, const char *p, size_t n)
{
	if (n >= EXEC_TAIL_MAX) {
		p += n - EXEC_TAIL_MAX;
		n = EXEC_TAIL_MAX;
	}
	if (t->len + n > sizeof t->buf) {
		size_t keep = EXEC_TAIL_MAX - n;
		memmove(t->buf, t->buf + t->len - keep, keep);
		t->len = keep;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 :
		   (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!n || n > left || (n == 2 && p[0] < 0xc2))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* JSON strings must be UTF-8 without NULs: a binary byte, or a character
 * cut by a tail or a truncation, becomes '?'. out has room for n + 1. */
static void utf8_clean(const char *in, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		size_t len = p[i] ? utf8_seq(p + i, n - i) : 0;
		if (!len) {
			out[k++] = '?';
			i++;
			continue;
		}
		memcpy(out + k, p + i, len);
		k += len;
		i += len;
	}
	out[k] = 0;
}

static json_t *clean_json(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (!c)
		return json_null();
	utf8_clean(s, n, c);
	json_t *j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *tail_json(const struct tail *t)
{
	size_t start = t->len > EXEC_TAIL_MAX ? t->len - EXEC_TAIL_MAX : 0;
	return clean_json(t->buf + start, t->len - start);
}

/* The last non-empty line of the output, for a failure's detail. */
static void last_line(const struct tail *t, char *buf, size_t len)
{
	size_t end = t->len;
	while (end && (t->buf[end - 1] == '\n' || t->buf[end - 1] == ' '))
		end--;
	size_t start = end;
	while (start && t->buf[start - 1] != '\n')
		start--;
	size_t n = end - start < len - 1 ? end - start : len - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t->buf[start + i];
		buf[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	buf[n] = 0;
}

/* --- one repetition: start, watch, reap ------------------------------- */

struct proc {
	pid_t pid;
	pid_t pgid;	/* the guard's group, the command's too (procguard.h) */
	int out_fd;	/* read end of the command's stdout+stderr */
	int pidfd;	/* readable when the child exits; -1: poll instead */
};

struct outcome {
	double wall_s;
	struct rusage ru;
	int wstatus;
	int timed_out, interrupted;
	int show_broken;	/* --show-output's stderr failed: stop copying */
	int exec_errno;		/* the command could not be started */
	struct tail tail;
	json_t *memory;
};

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
		       int out_w, pid_t pgid)
{
	return posix_spawn_file_actions_init(fa) ||
	       posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) ||
	       posix_spawn_file_actions_adddup2(fa, out_w, 1) ||
	       posix_spawn_file_actions_adddup2(fa, out_w, 2) ||
	       posix_spawnattr_init(at) ||
	       posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP) ||
	       posix_spawnattr_setpgroup(at, pgid); /* the guard's group */
}

/* posix_spawnp, not fork: glibc's vfork-style clone never copies our
 * memory, so the child's ru_maxrss is the command's own, and it returns
 * after the exec, so an exec failure comes back as an error number. */
static int spawn(char **argv, char **envp, struct proc *p, int *exec_errno)
{
	int out[2];
	if ((*exec_errno = procguard_start(&p->pgid)))
		return -1;
	if (pipe2(out, O_CLOEXEC)) {
		*exec_errno = errno;
		procguard_end(p->pgid);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc = spawn_setup(&fa, &at, out[1], p->pgid);
	if (!rc)
		rc = posix_spawnp(&p->pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(out[1]);
	if (rc) {
		close(out[0]);
		procguard_end(p->pgid);
		*exec_errno = rc;
		return -1;
	}
	p->out_fd = out[0];
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	return 0;
}

static int has_exited(const struct proc *p)
{
	siginfo_t si = {0};
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == p->pid;
}

static void read_output(struct proc *p, struct outcome *o, int show)
{
	char buf[4096];
	ssize_t k = read(p->out_fd, buf, sizeof buf);
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k <= 0) {
		close(p->out_fd);
		p->out_fd = -1;
		return;
	}
	tail_add(&o->tail, buf, (size_t)k);
	/* a closed stderr (`2>&1 | head`) stops the copy; its SIGPIPE stops
	 * the run like SIGTERM */
	if (show && !o->show_broken && write(2, buf, (size_t)k) < 0)
		o->show_broken = 1;
}

static int poll_ms(const struct proc *p, const struct outcome *o,
		   double deadline)
{
	double ms = p->pidfd >= 0 ? POLL_CAP_MS : NO_PIDFD_POLL_MS;
	if (deadline > 0 && !o->timed_out && !o->interrupted) {
		double left = (deadline - now_s()) * 1e3;
		if (left < ms)
			ms = left < 0 ? 0 : left + 1;
	}
	return (int)ms;
}

/* Until the command exits: collect its output, enforce the timeout, and
 * kill its group on Ctrl-C. */
static void watch(struct proc *p, struct outcome *o, double t0,
		  double timeout_s, int show)
{
	double deadline = timeout_s > 0 ? t0 + timeout_s : 0;
	for (;;) {
		struct pollfd fds[2] = {{p->pidfd, POLLIN, 0}, {p->out_fd, POLLIN, 0}};
		poll(fds, 2, poll_ms(p, o, deadline));
		if (stop_signal && !o->interrupted && !o->timed_out) {
			o->interrupted = 1;
			kill(-p->pgid, SIGKILL);
		}
		if (deadline > 0 && !o->timed_out && !o->interrupted &&
		    now_s() >= deadline) {
			o->timed_out = 1;
			kill(-p->pgid, SIGKILL);
		}
		if (p->out_fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_output(p, o, show);
		if (has_exited(p))
			break;
	}
	o->wall_s = now_s() - t0;
}

/* The command is gone; what else of its group is left goes too (the
 * guard keeps the group id ours until it is reaped). Then take
 * what is still in the pipe, unless an escaped process holds it open. */
static void drain(struct proc *p, struct outcome *o, int show)
{
	kill(-p->pgid, SIGKILL);
	double end = now_s() + DRAIN_MS / 1e3;
	while (p->out_fd >= 0 && now_s() < end) {
		struct pollfd fd = {p->out_fd, POLLIN, 0};
		if (poll(&fd, 1, 10) > 0)
			read_output(p, o, show);
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
}

static json_t *memory_start(pid_t pid, struct memsampler **ms)
{
	struct memsampler_opts mo = {.root = pid, .pss = 1};
	errbuf e;
	*ms = NULL;
	if (memsampler_start(&mo, ms, &e) == 0)
		return NULL;
	return json_string(e.msg);
}

static void memory_stop(struct memsampler *ms, struct outcome *o)
{
	errbuf e;
	if (ms && memsampler_stop(ms, &e) == 0)
		o->memory = memsampler_json(ms);
	memsampler_free(ms);
}

/* sample: watch the memory of the command's tree (not for the hooks). */
static void run_command(char **argv, char **envp, double timeout_s, int show,
			int sample, struct outcome *o)
{
	struct proc p = {.pid = -1, .pgid = -1, .out_fd = -1, .pidfd = -1};
	double t0 = now_s();
	if (spawn(argv, envp, &p, &o->exec_errno))
		return;
	struct memsampler *ms = NULL;
	json_t *why = sample ? memory_start(p.pid, &ms) : NULL;
	watch(&p, o, t0, timeout_s, show);
	drain(&p, o, show);
	memory_stop(ms, o);
	if (!o->memory && why)
		o->memory = json_pack("{s:o}", "sampler_error", why);
	else
		json_decref(why);
	while (wait4(p.pid, &o->wstatus, 0, &o->ru) < 0 && errno == EINTR)
		;
	procguard_end(p.pgid);
	if (p.pidfd >= 0)
		close(p.pidfd);
}

/* --- the repetition's figures ----------------------------------------- */

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static json_t *rusage_json(const struct rusage *ru)
{
	/* ru_maxrss of a waited child is the largest single process of its
	 * (waited) tree, in KiB: not the tree's sum, hence its own name. It
	 * is never below contend's own peak, which Linux carries across the
	 * exec that started the command. */
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "voluntary_csw",
			 (json_int_t)ru->ru_nvcsw, "involuntary_csw",
			 (json_int_t)ru->ru_nivcsw, "minor_faults",
			 (json_int_t)ru->ru_minflt, "major_faults",
			 (json_int_t)ru->ru_majflt, "max_single_process_rss_bytes",
			 (json_int_t)ru->ru_maxrss * 1024);
}

static void set_status(json_t *rep, const struct outcome *o, const char *cmd,
		       double timeout_s)
{
	char detail[400], line[160];
	const char *status = "ok";
	int ws = o->wstatus;
	last_line(&o->tail, line, sizeof line);
	detail[0] = 0;
	/* 127: what a shell says when it cannot run a command */
	json_object_set_new(rep, "exit_status", o->exec_errno ? json_integer(127) :
			    WIFEXITED(ws) ? json_integer(WEXITSTATUS(ws)) : json_null());
	if (o->timed_out) {
		status = "timeout";
		snprintf(detail, sizeof detail, "ran longer than %g s; its "
			 "process group was killed", timeout_s);
	} else if (o->exec_errno) {
		status = "exited";
		snprintf(detail, sizeof detail, "cannot execute '%s': %s", cmd,
			 strerror(o->exec_errno));
	} else if (WIFSIGNALED(ws)) {
		status = "crashed";
		json_object_set_new(rep, "signal", json_string(sigabbrev_np(WTERMSIG(ws))));
		snprintf(detail, sizeof detail, "killed by SIG%s%s%s",
			 sigabbrev_np(WTERMSIG(ws)), *line ? "; last output: " : "", line);
	} else if (WEXITSTATUS(ws)) {
		status = "exited";
		snprintf(detail, sizeof detail, "exited with status %d%s%s",
			 WEXITSTATUS(ws), *line ? "; last output: " : "", line);
	}
	json_object_set_new(rep, "status", json_string(status));
	if (*detail)
		json_object_set_new(rep, "detail", clean_json(detail, strlen(detail)));
}

static json_t *top_entry(json_t *cls)
{
	json_t *sites = json_array(), *s;
	size_t i;
	json_array_foreach(json_object_get(cls, "sites"), i, s) {
		if (i == TOP_SITES)
			break;
		json_array_append_new(sites, json_pack("{s:O, s:O, s:O}", "where",
			json_object_get(s, "where"), "count", json_object_get(s, "count"),
			"wait_s", json_object_get(s, "wait_s")));
	}
	json_t *site = json_object_get(cls, "site");
	json_t *top = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "kind",
			 json_object_get(cls, "kind"), "site", site ? site : json_null(),
			 "wait_s", json_object_get(cls, "wait_s"), "contended",
			 json_object_get(cls, "contended"), "acquisitions",
			 json_object_get(cls, "acquisitions"), "processes",
			 json_object_get(cls, "processes"), "sites", sites);
	lockprof_identity_fields(top, cls);
	return top;
}

/* The lock figures of a repetition, in the shape `run` writes ("wait_s",
 * "share", ...) plus the most contended locks with their call sites. */
static json_t *lock_json(json_t *sum, double wall_s, int workers)
{
	if (json_integer_value(json_object_get(sum, "processes")) == 0)
		return json_pack("{s:b, s:s}", "available", 0, "reason",
				 "no process of the command reported: LD_PRELOAD "
				 "does not reach static or setuid executables");
	double wait = json_number_value(json_object_get(sum, "wait_s"));
	json_t *top = json_array(), *cls;
	size_t i;
	json_array_foreach(json_object_get(sum, "top_locks"), i, cls)
		if (json_array_size(top) < TOP_LOCKS &&
		    json_number_value(json_object_get(cls, "wait_s")) > 0)
			json_array_append_new(top, top_entry(cls));
	const char *const keys[] = {"wait_s", "lock_wait_s", "cond_wait_s",
				    "acquisitions", "contended", "cond_waits",
				    "processes", NULL};
	json_t *o = json_object();
	for (size_t k = 0; keys[k]; k++)
		json_object_set(o, keys[k], json_object_get(sum, keys[k]));
	json_object_set_new(o, "share", wall_s > 0 ? json_real(wait / (wall_s * workers))
						  : json_null());
	json_object_set_new(o, "source", json_string("LD_PRELOAD libcontend-lockprof.so"));
	json_object_set_new(o, "top", top);
	return o;
}

static json_t *memory_json(struct outcome *o)
{
	json_t *m = o->memory;
	o->memory = NULL;
	if (m && json_object_get(m, "peak_rss_bytes")) {
		json_object_set_new(m, "source", json_string("memsampler: the command's process tree"));
		return m;
	}
	/* No sampler: the best wait4 gives, and it says what it is. */
	json_t *f = json_pack("{s:I, s:s}", "peak_rss_bytes",
			      (json_int_t)o->ru.ru_maxrss * 1024, "source",
			      "ru_maxrss (wait4): the largest single process, not the "
			      "tree, and at least contend's own size");
	if (m)
		json_object_set(f, "sampler_error", json_object_get(m, "sampler_error"));
	json_decref(m);
	return f;
}

/* A command that never started has no figures: none is written as 0. */
static json_t *rep_json(const struct exec_opts *o, struct outcome *out,
			char **argv)
{
	json_t *rep = json_pack("{s:f}", "wall_s", out->wall_s);
	set_status(rep, out, argv[0], o->timeout_s);
	if (out->exec_errno)
		return rep;
	json_object_set_new(rep, "cpu_s", json_real(tv_s(out->ru.ru_utime) +
						    tv_s(out->ru.ru_stime)));
	json_object_set_new(rep, "output_tail", tail_json(&out->tail));
	json_object_set_new(rep, "rusage", rusage_json(&out->ru));
	json_object_set_new(rep, "memory", memory_json(out));
	return rep;
}

/* --- the lock profiler's private directory --------------------------- */

static int make_lockdir(char *buf, size_t len, errbuf *e)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, len, "%s/contend-exec-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(buf))
		return errf(e, "cannot create a directory for the lock profiler "
			    "(%s): %s", buf, strerror(errno));
	return 0;
}

static void remove_lockdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

/* A killed command writes no report: its repetition then has no lock
 * figures rather than an "unavailable" that would hide the others'. */
static void add_lock_figures(json_t *rep, const char *dir, int workers)
{
	json_t *sum = NULL;
	errbuf e;
	int ok = !strcmp(json_string_value(json_object_get(rep, "status")), "ok");
	if (lockprof_merge_dir(dir, &sum, &e))
		json_object_set_new(rep, "lock", json_pack("{s:b, s:s}", "available",
							   0, "reason", e.msg));
	else if (ok || json_integer_value(json_object_get(sum, "processes")) > 0) {
		json_object_set_new(rep, "lock", lock_json(sum,
			json_number_value(json_object_get(rep, "wall_s")), workers));
		json_object_set_new(rep, "census", lockprof_census_field(sum));
	}
	json_decref(sum);
}

/* One repetition, start to figures; NULL when interrupted (a partial
 * repetition is not kept, as in `run`). */
static json_t *run_rep(const struct exec_opts *o, const struct point *pt)
{
	char dir[4096] = "";
	errbuf e;
	if (o->preload && make_lockdir(dir, sizeof dir, &e))
		return json_pack("{s:f, s:s, s:s}", "wall_s", 0.0, "status",
				 "error", "detail", e.msg);
	char **argv = argv_for(o, pt);
	char **envp = env_for(o->preload, dir, pt);
	struct outcome *out = calloc(1, sizeof *out);
	json_t *rep = NULL;
	if (argv && envp && out) {
		/* The command is this process's waited-for child: the meter's
		 * getrusage counts it as ours, the rest of the machine not. */
		struct interference_meter im;
		int have = interference_meter_start(&im, &e) == 0;
		run_command(argv, envp, o->timeout_s, o->show_output, 1, out);
		if (!out->interrupted)
			rep = rep_json(o, out, argv);
		json_t *in = rep && have && !out->exec_errno
				     ? interference_meter_json(&im, &e) : NULL;
		if (in)
			json_object_set_new(rep, "interference", in);
		if (rep && o->preload && !out->exec_errno)
			add_lock_figures(rep, dir, pt->workers);
		json_decref(out->memory);
	} else if (!stop_signal) {
		rep = json_pack("{s:f, s:s, s:s}", "wall_s", 0.0, "status",
				"error", "detail", "out of memory");
	}
	if (*dir)
		remove_lockdir(dir);
	free(out);
	free_strv(argv);
	free_strv(envp);
	return rep;
}

/* --setup or --prepare (what) through /bin/sh -c, not measured: 0 when it
 * exited 0; else 1 with why in detail (-1: interrupted). */
static int run_hook(const struct exec_opts *o, const struct point *pt,
		    const char *what, const char *cmd, char *detail, size_t len)
{
	char **argv = hook_argv(cmd, pt), **envp = env_for(NULL, NULL, pt);
	struct outcome *out = calloc(1, sizeof *out);
	int rc = 1;
	if (!argv || !envp || !out) {
		snprintf(detail, len, "%s: out of memory", what);
	} else {
		run_command(argv, envp, o->timeout_s, o->show_output, 0, out);
		json_decref(out->memory);
		json_t *st = json_object();
		set_status(st, out, argv[0], o->timeout_s);
		if (out->interrupted)
			rc = -1;
		else if (!strcmp(json_string_value(json_object_get(st, "status")), "ok"))
			rc = 0;
		else
			snprintf(detail, len, "%s '%s' failed: %s", what, cmd,
				 json_string_value(json_object_get(st, "detail")));
		json_decref(st);
	}
	free(out);
	free_strv(argv);
	free_strv(envp);
	return rc;
}

/* --- the sweep -------------------------------------------------------- */

#define COMMAND_LINE_MAX 160 /* of the one-line form in the table header */

/* One argument on one line, for reading (not for pasting): quoted when it
 * has blanks or specials, a newline shown as \n. */
static void append_arg(char *out, size_t cap, size_t *n, const char *a)
{
	int quote = !*a || strpbrk(a, " \t\n'\"$&|;<>()*?`\\") != NULL;
	if (quote && *n + 1 < cap)
		out[(*n)++] = '\'';
	for (; *a && *n + 2 < cap; a++) {
		if (*a == '\n' || *a == '\'') {
			out[(*n)++] = '\\';
			out[(*n)++] = *a == '\n' ? 'n' : '\'';
		} else {
			out[(*n)++] = *a;
		}
	}
	if (quote && *n + 1 < cap)
		out[(*n)++] = '\'';
	out[*n] = 0;
}

static void command_line(char **argv, int argc, char *out, size_t cap)
{
	char all[4096];
	size_t n = 0;
	all[0] = 0;
	for (int i = 0; i < argc && n + 2 < sizeof all; i++) {
		if (i)
			all[n++] = ' ';
		append_arg(all, sizeof all, &n, argv[i]);
	}
	if (n >= cap) { /* cut, and say so */
		snprintf(all + cap - 4, 4, "...");
		n = cap - 1;
	}
	utf8_clean(all, n, out);
}

/* A config that summary.c and table.c treat like any other: the command
 * is the "workload", shown through params; the entry's --param values are
 * params too, its --env values the env object. build "release" (not
 * "n/a") because ids are slash-separated. */
static json_t *new_config(const struct exec_opts *o, const struct point *pt)
{
	json_t *cmd = json_array(), *argv = json_array();
	char **sub = argv_for(o, pt);
	for (int i = 0; i < o->argc; i++) {
		json_array_append_new(cmd, clean_json(o->argv[i], strlen(o->argv[i])));
		json_array_append_new(argv, clean_json(sub ? sub[i] : o->argv[i],
						  strlen(sub ? sub[i] : o->argv[i])));
	}
	free_strv(sub);
	char line[COMMAND_LINE_MAX + 1];
	command_line(o->argv, o->argc, line, sizeof line);
	json_t *c = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:{s:s}, s:I, "
			      "s:[], s:[], s:s, s:b}",
			      "workload", "exec", "build", "release", "pool", "exec",
			      "workers", pt->workers, "command", cmd, "argv", argv,
			      "params", "command", line, "warmup",
			      (json_int_t)o->warmup, "reps", "failed_warmups",
			      "status", "ok", "lockprof", o->preload != NULL);
	plan_config(pt->plan, pt->entry, c);
	if (o->prepare)
		json_object_set_new(c, "prepare", clean_json(o->prepare, strlen(o->prepare)));
	if (o->setup)
		json_object_set_new(c, "setup", clean_json(o->setup, strlen(o->setup)));
	if (o->timeout_s > 0)
		json_object_set_new(c, "timeout_s", json_real(o->timeout_s));
	summary_set_id(c);
	return c;
}

static int has_rep_field(json_t *config, const char *name)
{
	json_t *rep;
	size_t i;
	json_array_foreach(json_object_get(config, "reps"), i, rep)
		if (json_is_object(json_object_get(rep, name)))
			return 1;
	return 0;
}

static int save(const struct exec_opts *o, json_t *doc, const char *status,
		errbuf *e)
{
	json_t *c;
	size_t i;
	errbuf pe;
	/* The same probes as `run`, from the registry: each summarises the
	 * figures its name holds in the reps. */
	json_array_foreach(json_object_get(doc, "configs"), i, c)
		for (size_t k = 0; probes_all[k]; k++)
			if (probes_all[k]->summarise && has_rep_field(c, probes_all[k]->name))
				probes_all[k]->summarise(c, &pe);
	summary_document(doc);
	diagnosis_document(doc); /* once, with the document: renderers read it */
	json_object_set_new(doc, "status", json_string(status));
	return results_write_atomic(o->out_path, doc, e);
}

static void progress(const struct exec_opts *o, const struct point *pt,
		     long done)
{
	if (!o->progress)
		return;
	int warm = done < o->warmup;
	fprintf(stderr, "\r\033[K[exec %zu/%zu w%d] %s %ld/%ld", pt->index + 1,
		pt->plan->n, pt->workers, warm ? "warm-up" : "rep",
		warm ? done + 1 : done - o->warmup + 1, warm ? o->warmup : o->reps);
	fflush(stderr);
}

/* The configuration failed before its command ran (a hook): status
 * "error" and why; summary_document keeps a status that is not ok. */
static void config_error(json_t *config, const char *detail)
{
	json_object_set_new(config, "status", json_string("error"));
	json_object_set_new(config, "detail", clean_json(detail, strlen(detail)));
}

/* 1 when the hook stopped the configuration (failed or interrupted). */
static int hook(const struct exec_opts *o, const struct point *pt,
		json_t *config, const char *what, const char *cmd, long rep)
{
	char detail[600], with[640];
	if (!cmd)
		return 0;
	int rc = run_hook(o, pt, what, cmd, detail, sizeof detail);
	if (rc > 0) {
		if (rep >= 0)
			snprintf(with, sizeof with, "%s (before run %ld)", detail, rep + 1);
		else
			snprintf(with, sizeof with, "%s", detail);
		config_error(config, with);
	}
	return rc != 0;
}

/* One configuration while the sweep runs it: its document object, and
 * whether a hook stopped it. */
struct config_run {
	struct point pt;
	json_t *config;
	int stopped;
	long measured; /* repetitions run to their end */
};

/* The configuration's object in the document, and its --setup. */
static void config_begin(const struct exec_opts *o, json_t *doc,
			 struct config_run *cr)
{
	cr->config = new_config(o, &cr->pt);
	json_array_append_new(json_object_get(doc, "configs"), cr->config);
	cr->stopped = hook(o, &cr->pt, cr->config, "--setup", o->setup, -1);
}

/* Run i of the configuration (warm-ups first: i < o->warmup), after its
 * --prepare; the document saved after it. -1: it could not be saved. */
static int config_step(const struct exec_opts *o, json_t *doc,
		       struct config_run *cr, long i, long *sequence, errbuf *e)
{
	if (cr->stopped || stop_signal)
		return 0;
	progress(o, &cr->pt, i);
	if ((cr->stopped = hook(o, &cr->pt, cr->config, "--prepare", o->prepare, i)))
		return stop_signal ? 0 : save(o, doc, "running", e);
	json_t *rep = run_rep(o, &cr->pt);
	if (!rep) /* interrupted */
		return 0;
	int warm = i < o->warmup;
	const char *st = json_string_value(json_object_get(rep, "status"));
	json_object_set_new(rep, "index", json_integer(warm ? i : i - o->warmup));
	if (!warm) {
		json_object_set_new(rep, "sequence", json_integer((*sequence)++));
		cr->measured++;
	}
	if (!warm || strcmp(st, "ok"))
		json_array_append(json_object_get(cr->config, warm ?
				  "failed_warmups" : "reps"), rep);
	json_decref(rep);
	return save(o, doc, "running", e);
}

/* After a stop, a configuration with runs still to do is interrupted,
 * unless a hook had already failed it. */
static void config_end(const struct exec_opts *o, struct config_run *cr)
{
	const char *st = json_string_value(json_object_get(cr->config, "status"));
	if (stop_signal && cr->measured < o->reps && !(st && !strcmp(st, "error"))) {
		json_object_set_new(cr->config, "status", json_string("interrupted"));
		json_object_set_new(cr->config, "detail", json_string(stop_detail()));
	}
}

static int run_sequential(const struct exec_opts *o, json_t *doc,
			  struct config_run *cr, errbuf *e)
{
	long sequence = 0;
	for (size_t k = 0; k < o->plan->n && !stop_signal; k++) {
		config_begin(o, doc, &cr[k]);
		if (cr[k].stopped && save(o, doc, "running", e))
			return -1;
		for (long i = 0; i < o->warmup + o->reps && !cr[k].stopped &&
				 !stop_signal; i++)
			if (config_step(o, doc, &cr[k], i, &sequence, e))
				return -1;
		config_end(o, &cr[k]);
	}
	return 0;
}

/* Every configuration's --setup and warm-ups first, in plan order; then
 * one round per repetition, each visiting every configuration once in a
 * new order drawn from o->seed, so a machine that drifts (another program
 * starts, a CPU throttles) slows a little of every row instead of the
 * last rows whole. */
static int run_interleaved(const struct exec_opts *o, json_t *doc,
			   struct plan *plan, struct config_run *cr, errbuf *e)
{
	long sequence = 0;
	size_t begun = 0;
	for (size_t k = 0; k < plan->n && !stop_signal; k++, begun++) {
		config_begin(o, doc, &cr[k]);
		if (cr[k].stopped && save(o, doc, "running", e))
			return -1;
		for (long i = 0; i < o->warmup && !cr[k].stopped && !stop_signal; i++)
			if (config_step(o, doc, &cr[k], i, &sequence, e))
				return -1;
	}
	uint64_t rng = o->seed;
	for (long r = 0; r < o->reps && !stop_signal; r++) {
		plan_shuffle(plan, 0, plan->n, &rng);
		for (size_t j = 0; j < plan->n && !stop_signal; j++) {
			struct config_run *c = &cr[plan->order[j]];
			c->pt.index = j;
			if (config_step(o, doc, c, o->warmup + r, &sequence, e))
				return -1;
		}
	}
	for (size_t k = 0; k < begun; k++)
		config_end(o, &cr[k]);
	return 0;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])

int exec_sweep_run(const struct exec_opts *o, json_t *doc, errbuf *e)
{
	struct plan *plan = o->plan;
	struct config_run *cr = calloc(plan->n ? plan->n : 1, sizeof *cr);
	if (!cr)
		return errf(e, "out of memory");
	for (size_t k = 0; k < plan->n; k++) {
		const struct plan_entry *en = plan_entry(plan, k);
		cr[k].pt = (struct point){plan, en, exec_entry_workers(plan, en), k};
	}
	json_object_set_new(doc, "order", o->sequential
		? json_pack("{s:s}", "mode", "sequential")
		: json_pack("{s:s, s:I}", "mode", "random", "seed",
			    (json_int_t)o->seed));
	struct sigaction sa = {.sa_handler = on_signal}, old[NSTOP];
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	for (size_t k = 0; k < NSTOP; k++)
		sigaction(stop_signals[k], &sa, &old[k]);
	int rc = o->sequential ? run_sequential(o, doc, cr, e)
			       : run_interleaved(o, doc, plan, cr, e);
	free(cr);
	if (o->progress)
		fprintf(stderr, "\r\033[K");
	for (size_t k = 0; k < NSTOP; k++)
		sigaction(stop_signals[k], &old[k], NULL);
	if (stop_signal == SIGPIPE) /* what is left to say must not kill us */
		signal(SIGPIPE, SIG_IGN);
	if (rc)
		return -1;
	if (save(o, doc, stop_signal ? "interrupted" : "complete", e))
		return -1;
	return stop_signal ? EXIT_INTERRUPTED : 0;
}

/* --- checks before anything runs -------------------------------------- */

int exec_find_preload(char *buf, size_t len, errbuf *e)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return errf(e, "cannot find contend's own executable: %s",
			    strerror(errno));
	self[k] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, len, "%s/libcontend-lockprof.so", self);
	if (access(buf, R_OK))
		return errf(e, "the lock profiler %s is missing (run 'make', or "
			    "use --no-lockprof)", buf);
	return 0;
}

static int executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

int exec_check_command(const char *cmd, errbuf *e)
{
	int ok = 0;
	if (strchr(cmd, '/')) {
		ok = executable_file(cmd);
	} else {
		const char *path = getenv("PATH");
		char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
		char *save = NULL, full[4096];
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !ok;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(full, sizeof full, "%s/%s", *d ? d : ".", cmd);
			ok = executable_file(full);
		}
		free(copy);
	}
	if (!ok)
		return errf(e, strchr(cmd, '/') ? "command '%s' is not an executable file"
					 : "command '%s' not found in PATH", cmd);
	return 0;
}
