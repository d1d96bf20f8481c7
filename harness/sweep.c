/* sweep.c - runs every configuration of a sweep in its own runner process,
 * collects the runner's report lines, and keeps the results document on
 * disk current: a crash or Ctrl-C loses at most the configuration running. */
#include "harness/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "document/doc.h"
#include "document/results.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "analysis/summary.h"
#include "probes/hookscan.h"
#include "probes/registry.h"

/* Set by the SIGINT/SIGTERM handler; the only global the sweep keeps,
 * because a signal handler can reach nothing else. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_handlers(struct sigaction *old_int,
			     struct sigaction *old_term)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static int exe_for_build(const char *build, char *buf, size_t len)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return -1;
	self[k] = 0;
	if (!strcmp(build, "release")) {
		snprintf(buf, len, "%s", self);
		return 0;
	}
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(buf, len, "%s/contend-%s", self, build);
	return access(buf, X_OK);
}

/* The workload parameters a runner gets: the user's, plus the sharing
 * mode when that dimension is swept (it is a parameter of the workload). */
static void runner_params(const struct sweep_opts *o, const char *share,
			  char *buf, size_t len)
{
	const char *p = o->params ? o->params : "";
	if (share)
		snprintf(buf, len, "%s%sshare=%s", p, *p ? "," : "", share);
	else
		snprintf(buf, len, "%s", p);
}

/* The config object the runner gets: the entry's dimensions and how to
 * measure them. */
static json_t *runner_config(const struct sweep_opts *o, const struct plan *p,
			     const struct plan_entry *en)
{
	char params[4096];
	runner_params(o, plan_get(p, en, "share"), params, sizeof params);
	json_t *c = json_pack("{s:s, s:s, s:f, s:I, s:I}",
			      "workload", o->workload, "params", params,
			      "task_timeout_s", o->task_timeout_s,
			      "reps", (json_int_t)o->reps,
			      "warmup", (json_int_t)o->warmup);
	plan_config(p, en, c);
	if (o->inject)
		json_object_set_new(c, "inject", json_string(o->inject));
	json_object_set_new(c, "counters", json_string(o->counters));
	if (plan_get(p, en, "lock_model") && o->switch_interval_s > 0)
		json_object_set_new(c, "switch_interval_s",
				    json_real(o->switch_interval_s));
	return c;
}

struct child {
	pid_t pid;
	int fd;
	char *buf;
	size_t len, cap;
};

/* Library thread pools (OpenBLAS, OpenMP, MKL, BLIS) size themselves from
 * the environment when they load, in the runner and in every worker it
 * forks or spawns: the one place that reaches them all before they start.
 * "default" removes the variables, so the library picks for itself. */
static void apply_inner_threads(json_t *cfg)
{
	static const char *const vars[] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
					   "MKL_NUM_THREADS", "BLIS_NUM_THREADS"};
	const char *inner = doc_str(cfg, "inner_threads", NULL);
	if (!inner)
		return;
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		if (!strcmp(inner, "default"))
			unsetenv(vars[i]);
		else
			setenv(vars[i], inner, 1);
	}
}

static int spawn_runner(const char *exe, json_t *cfg, struct child *ch,
			errbuf *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return errf(e, "pipe: %s", strerror(errno));
	char *text = json_dumps(cfg, JSON_COMPACT);
	pid_t sweep = getpid();
	ch->pid = fork();
	if (ch->pid < 0) {
		free(text);
		close(p[0]), close(p[1]);
		return errf(e, "fork: %s", strerror(errno));
	}
	if (ch->pid == 0) {
		setpgid(0, 0); /* its own group: Ctrl-C reaches only us */
		/* ...so nothing reaches it when we die: make it die with us
		 * (kept across exec), also if we are gone already. Its pool
		 * workers see their pipes close and exit. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != sweep)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(p[1], RUNNER_REPORT_FD) < 0)
			_exit(127);
		apply_inner_threads(cfg);
		execl(exe, exe, "__runner", "--config", text, (char *)NULL);
		_exit(127);
	}
	setpgid(ch->pid, ch->pid);
	free(text);
	close(p[1]);
	ch->fd = p[0];
	ch->len = 0;
	return 0;
}

/* Read what is available; returns 0 on data, 1 on EOF, -1 on error. */
static int read_more(struct child *ch)
{
	if (ch->cap - ch->len < 65536) {
		size_t cap = ch->cap ? ch->cap * 2 : 131072;
		char *b = realloc(ch->buf, cap);
		if (!b)
			return -1;
		ch->buf = b;
		ch->cap = cap;
	}
	ssize_t k = read(ch->fd, ch->buf + ch->len, ch->cap - ch->len - 1);
	if (k < 0)
		return errno == EINTR ? 0 : -1;
	if (k == 0)
		return 1;
	ch->len += (size_t)k;
	return 0;
}

struct progress {
	int on;
	size_t index, total;
	const char *label;
	long reps, warmup, done;
};

static void progress_draw(const struct progress *p)
{
	if (!p->on)
		return;
	/* p->done runs have finished; show the one now running (or the last
	 * one while the runner winds down). */
	long warm = p->done < p->warmup;
	long k = warm ? p->done + 1 : p->done - p->warmup + 1;
	if (!warm && k > p->reps)
		k = p->reps;
	fprintf(stderr, "\r\033[K[%zu/%zu] %s  %s %ld/%ld", p->index + 1,
		p->total, p->label, warm ? "warm-up" : "rep", k,
		warm ? p->warmup : p->reps);
	fflush(stderr);
}

/* Apply one report line from the runner to the config object. */
static void take_line(json_t *config, const char *line, struct progress *pg)
{
	json_t *m = json_loads(line, 0, NULL);
	const char *type = doc_str(m, "type", NULL);
	if (!type) {
		json_decref(m);
		return;
	}
	if (!strcmp(type, "setup")) {
		json_object_set(config, "ntasks", json_object_get(m, "ntasks"));
		json_object_set(config, "setup_s", json_object_get(m, "setup_s"));
		if (json_object_get(m, "library_threads"))
			json_object_set(config, "library_threads",
					json_object_get(m, "library_threads"));
	} else if (!strcmp(type, "error")) {
		json_object_set_new(config, "status", json_string("error"));
		json_object_set(config, "detail", json_object_get(m, "message"));
	} else if (!strcmp(type, "rep")) {
		int warm = doc_bool(m, "warmup", 0);
		const char *st = doc_str(m, "status", NULL);
		json_object_del(m, "type");
		json_object_del(m, "warmup");
		if (!warm || (st && strcmp(st, "ok")))
			json_array_append(json_object_get(config, warm ? "failed_warmups" : "reps"), m);
		pg->done++;
		progress_draw(pg);
	} else if (!strcmp(type, "done")) {
		json_object_set_new(config, "_done", json_true());
	}
	json_decref(m);
}

static void take_lines(json_t *config, struct child *ch, struct progress *pg)
{
	char *start = ch->buf, *nl;
	ch->buf[ch->len] = 0;
	while ((nl = memchr(start, '\n', ch->len - (size_t)(start - ch->buf)))) {
		*nl = 0;
		take_line(config, start, pg);
		start = nl + 1;
	}
	ch->len -= (size_t)(start - ch->buf);
	memmove(ch->buf, start, ch->len);
}

/* Shared-memory files a runner's group made are named after the group
 * (contend-<pgid>-...): remove whatever a crash or a kill left behind. */
static void remove_segments(pid_t pgid)
{
	char pattern[64];
	glob_t g;
	snprintf(pattern, sizeof pattern, "/dev/shm/contend-%d-*", (int)pgid);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

/* After the runner is gone: say what happened if it did not say it. */
static void reap(json_t *config, struct child *ch, int interrupted)
{
	int st = 0;
	kill(-ch->pid, SIGKILL); /* leftover pool workers of its group */
	while (waitpid(ch->pid, &st, 0) < 0 && errno == EINTR)
		;
	close(ch->fd);
	remove_segments(ch->pid);
	if (interrupted) {
		json_object_set_new(config, "status", json_string("interrupted"));
		json_object_set_new(config, "detail",
				    json_string("stopped by the user; completed "
						"repetitions are kept"));
		return;
	}
	if (json_object_get(config, "_done") ||
	    json_object_get(config, "detail"))
		return;
	json_t *reps = json_object_get(config, "reps");
	json_t *last = json_array_get(reps, json_array_size(reps) - 1);
	const char *ls = doc_str(last, "status", NULL);
	if (ls && strcmp(ls, "ok"))
		return; /* the runner reported the failure itself */
	char detail[200];
	if (WIFSIGNALED(st))
		snprintf(detail, sizeof detail,
			 "the configuration's process was killed by SIG%s "
			 "(a task crashed it)", sigabbrev_np(WTERMSIG(st)));
	else
		snprintf(detail, sizeof detail,
			 "the configuration's process exited with status %d "
			 "before finishing", WEXITSTATUS(st));
	json_t *rep = json_pack("{s:f, s:s, s:s, s:i}", "wall_s", 0.0,
				"status", WIFSIGNALED(st) ? "crashed" : "exited",
				"detail", detail, "index",
				(int)json_array_size(reps));
	if (WIFSIGNALED(st))
		json_object_set_new(rep, "signal",
				    json_string(sigabbrev_np(WTERMSIG(st))));
	json_array_append_new(reps, rep);
}

static int run_config(const char *exe, json_t *cfg, json_t *config,
		      struct progress *pg, errbuf *e)
{
	struct child ch = {0};
	if (spawn_runner(exe, cfg, &ch, e))
		return -1;
	int eof = 0;
	while (!eof && !stop_signal) {
		struct pollfd pfd = {ch.fd, POLLIN, 0};
		int k = poll(&pfd, 1, 250);
		if (k < 0 && errno != EINTR)
			break;
		if (k > 0) {
			eof = read_more(&ch);
			take_lines(config, &ch, pg);
		}
	}
	reap(config, &ch, !eof && stop_signal);
	free(ch.buf);
	json_object_del(config, "_done");
	for (size_t k = 0; probes_all[k]; k++) {
		errbuf pe;
		if (probes_all[k]->summarise && json_array_size(json_object_get(config, "reps")))
			probes_all[k]->summarise(config, &pe);
	}
	return 0;
}

/* The document's config of a plan entry, before its runner reports. */
static json_t *new_config(const struct sweep_opts *o, const struct plan *p,
			  const struct plan_entry *en)
{
	json_t *c = json_pack("{s:s}", "workload", o->workload);
	plan_config(p, en, c);
	json_object_set_new(c, "warmup", json_integer((json_int_t)o->warmup));
	json_object_set_new(c, "reps", json_array());
	json_object_set_new(c, "failed_warmups", json_array());
	json_object_set_new(c, "status", json_string("ok"));
	json_object_set_new(c, "params", summary_params_object(
			o->workload, o->params));
	if (json_object_get(c, "share")) /* a dimension, not a parameter */
		json_object_del(json_object_get(c, "params"), "share");
	summary_set_id(c);
	return c;
}

static int save(const struct sweep_opts *o, json_t *doc, const char *status,
		errbuf *e)
{
	summary_document(doc);
	json_object_set_new(doc, "status", json_string(status));
	return results_write_atomic(o->out_path, doc, e);
}

/* Which instrumentation the build's binary carries, as `contend scan`
 * would say: the table shows it beside the build's times. */
static json_t *binary_hooks(const char *exe)
{
	struct hs_report rep;
	errbuf e;
	json_t *kinds = json_array();
	hs_report_init(&rep);
	if (hs_scan_path(&rep, exe, &e) == 0) {
		unsigned mask = hs_report_kinds(&rep);
		for (unsigned k = 0; k < HK_NKINDS; k++)
			if (mask & HK_BIT(k))
				json_array_append_new(kinds, json_string(hook_kind_name((enum hook_kind)k)));
	}
	hs_report_free(&rep);
	return kinds;
}

static int run_entry(const struct sweep_opts *o, json_t *doc, const char *exe,
		     json_t *hooks, const struct plan *p,
		     const struct plan_entry *en, struct progress *pg, errbuf *e)
{
	json_t *cfg = runner_config(o, p, en);
	json_t *config = new_config(o, p, en);
	json_object_set(config, "hooks", hooks);
	pg->label = doc_str(config, "id", NULL);
	pg->done = 0;
	progress_draw(pg);
	int rc = run_config(exe, cfg, config, pg, e);
	json_decref(cfg);
	json_array_append_new(json_object_get(doc, "configs"), config);
	pg->index++;
	return rc ? rc : save(o, doc, "running", e);
}

/* Every entry of the plan, in its execution order. The build's binary
 * (and what instrumentation it carries) is looked up when the build
 * changes from one entry to the next. */
static int run_plan(const struct sweep_opts *o, json_t *doc,
		    const struct plan *p, struct progress *pg, errbuf *e)
{
	char exe[4200], exe_build[32] = "";
	json_t *hooks = NULL;
	int rc = 0;
	for (size_t i = 0; i < p->n && !stop_signal && !rc; i++) {
		const struct plan_entry *en = plan_at(p, i);
		const char *build = plan_get(p, en, "build");
		if (strcmp(build, exe_build)) {
			if (exe_for_build(build, exe, sizeof exe)) {
				rc = errf(e, "build '%s' is not available (no "
					  "executable %s; run 'make')", build, exe);
				break;
			}
			snprintf(exe_build, sizeof exe_build, "%s", build);
			json_decref(hooks);
			hooks = binary_hooks(exe);
		}
		rc = run_entry(o, doc, exe, hooks, p, en, pg, e);
	}
	json_decref(hooks);
	return rc;
}

int sweep_run(const struct sweep_opts *o, json_t *doc, errbuf *e)
{
	struct sigaction old_int, old_term;
	struct plan plan;
	if (run_plan_build(o, &plan, e)) {
		plan_free(&plan);
		return -1;
	}
	struct progress pg = {.on = o->progress, .total = plan.n,
			      .reps = o->reps, .warmup = o->warmup};
	stop_signal = 0;
	install_handlers(&old_int, &old_term);
	int rc = run_plan(o, doc, &plan, &pg, e);
	plan_free(&plan);
	if (pg.on)
		fprintf(stderr, "\r\033[K");
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (save(o, doc, stop_signal ? "interrupted" : (rc ? "error" : "complete"),
		 rc ? NULL : e) && !rc)
		return -1;
	if (rc)
		return -1;
	return stop_signal ? EXIT_INTERRUPTED : 0;
}
