/* sweep.c - runs every configuration of a sweep in its own runner process,
 * collects the runner's report lines, and keeps the results document on
 * disk current: a crash or Ctrl-C loses at most the configuration running. */
#include "harness/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/workload.h"
#include "document/doc.h"
#include "document/results.h"
#include "harness/run_plan.h"
#include "harness/runner.h"
#include "analysis/diagnosis.h"
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

/* SIGHUP (the terminal went away) stops the sweep as SIGTERM does: the
 * document is kept. SIGPIPE is ignored (a runner's pipe, a closed
 * output: write errors say it). */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP (sizeof stop_signals / sizeof stop_signals[0])

static void install_handlers(struct sigaction *old)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	for (size_t k = 0; k < NSTOP; k++)
		sigaction(stop_signals[k], &sa, &old[k]);
}

static void restore_handlers(const struct sigaction *old)
{
	for (size_t k = 0; k < NSTOP; k++)
		sigaction(stop_signals[k], &old[k], NULL);
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
	int ctl;	/* paced runners: the control pipe's write end, else -1 */
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

/* contend links OpenBLAS, whose thread pool starts with every runner and
 * spins for a while (~0.1 s) waiting for work: counted as the runner's
 * CPU, that made a serial 2 ms repetition read 2-3 cores busy. A workload
 * that does not use BLAS gets no such pool (unless the user sized it). */
static void no_idle_blas_pool(json_t *cfg)
{
	const struct workload_ops *w =
		workload_find(json_string_value(json_object_get(cfg, "workload")));
	if (w && !w->uses_blas && !json_object_get(cfg, "inner_threads") &&
	    !getenv("OPENBLAS_NUM_THREADS"))
		setenv("OPENBLAS_NUM_THREADS", "1", 1);
}


/* In the child: the report pipe on RUNNER_REPORT_FD and, when paced,
 * the control pipe on RUNNER_CONTROL_FD. Both are moved above 10 first,
 * so neither dup2 can close the other's source. */
static int child_fds(int report, int control)
{
	int r = fcntl(report, F_DUPFD, 10);
	int c = control >= 0 ? fcntl(control, F_DUPFD, 10) : -1;
	if (r < 0 || (control >= 0 && c < 0) || dup2(r, RUNNER_REPORT_FD) < 0)
		return -1;
	return c >= 0 && dup2(c, RUNNER_CONTROL_FD) < 0 ? -1 : 0;
}

static int spawn_runner(const char *exe, json_t *cfg, struct child *ch,
			int paced, errbuf *e)
{
	int p[2], ctl[2] = {-1, -1};
	if (pipe2(p, O_CLOEXEC) < 0)
		return errf(e, "pipe: %s", strerror(errno));
	if (paced && pipe2(ctl, O_CLOEXEC) < 0) {
		close(p[0]), close(p[1]);
		return errf(e, "pipe: %s", strerror(errno));
	}
	char *text = json_dumps(cfg, JSON_COMPACT);
	pid_t sweep = getpid();
	ch->pid = fork();
	if (ch->pid < 0) {
		free(text);
		close(p[0]), close(p[1]);
		if (paced)
			close(ctl[0]), close(ctl[1]);
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
		if (child_fds(p[1], ctl[0]) < 0)
			_exit(127);
		apply_inner_threads(cfg);
		no_idle_blas_pool(cfg);
		execl(exe, exe, "__runner", "--config", text, (char *)NULL);
		_exit(127);
	}
	setpgid(ch->pid, ch->pid);
	free(text);
	close(p[1]);
	if (paced)
		close(ctl[0]);
	ch->fd = p[0];
	ch->ctl = ctl[1];
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
	long sequence;	/* measured repetitions of the sweep so far */
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
		/* Where in the sweep's run order this repetition ran: what an
		 * interleaved order spread out, and what drift follows. */
		if (!warm)
			json_object_set_new(m, "sequence", json_integer(pg->sequence++));
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

/* Close the pipes, kill what is left of the runner's group, wait. */
static void end_child(struct child *ch, int *st)
{
	if (ch->ctl >= 0)
		close(ch->ctl);
	ch->ctl = -1;
	kill(-ch->pid, SIGKILL); /* leftover pool workers of its group */
	while (waitpid(ch->pid, st, 0) < 0 && errno == EINTR)
		;
	close(ch->fd);
	remove_segments(ch->pid);
}

/* After the runner is gone: say what happened if it did not say it. */
static void reap(json_t *config, struct child *ch, int interrupted)
{
	int st = 0;
	end_child(ch, &st);
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

/* Repetitions the runner has reported, failed warm-ups included. */
static size_t reported(json_t *config)
{
	return json_array_size(json_object_get(config, "reps")) +
	       json_array_size(json_object_get(config, "failed_warmups"));
}

/* Take the runner's lines until `want` repetitions are reported, the
 * runner closes its pipe (returns 1) or a signal stops the sweep (-1). */
static int pump(struct child *ch, json_t *config, struct progress *pg,
		size_t want)
{
	while (!stop_signal && reported(config) < want) {
		struct pollfd pfd = {ch->fd, POLLIN, 0};
		int k = poll(&pfd, 1, 250);
		if (k < 0 && errno != EINTR)
			return 1;
		if (k > 0) {
			int eof = read_more(ch);
			take_lines(config, ch, pg);
			if (eof)
				return 1;
		}
	}
	return stop_signal ? -1 : 0;
}

static void summarise_probes(json_t *config)
{
	for (size_t k = 0; probes_all[k]; k++) {
		errbuf pe;
		if (probes_all[k]->summarise && json_array_size(json_object_get(config, "reps")))
			probes_all[k]->summarise(config, &pe);
	}
}

/* The runner is done (or stopped): reap it, say what happened. */
static void finish(json_t *config, struct child *ch, int interrupted)
{
	reap(config, ch, interrupted);
	free(ch->buf);
	ch->buf = NULL;
	json_object_del(config, "_done");
	summarise_probes(config);
}

static int run_config(const char *exe, json_t *cfg, json_t *config,
		      struct progress *pg, errbuf *e)
{
	struct child ch = {0};
	if (spawn_runner(exe, cfg, &ch, 0, e))
		return -1;
	int rc = pump(&ch, config, pg, SIZE_MAX);
	finish(config, &ch, rc < 0);
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
	diagnosis_document(doc); /* once, with the document: renderers read it */
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

/* The executable of each build and the instrumentation it carries, looked
 * up once per build (an interleaved sweep hops between builds). */
struct builds {
	char name[CLI_LIST_MAX][32];
	char exe[CLI_LIST_MAX][4200];
	json_t *hooks[CLI_LIST_MAX];
	size_t n;
};

static int build_of(struct builds *b, const char *build, size_t *at, errbuf *e)
{
	for (*at = 0; *at < b->n; (*at)++)
		if (!strcmp(b->name[*at], build))
			return 0;
	if (b->n == CLI_LIST_MAX)
		return errf(e, "more than %d builds", CLI_LIST_MAX);
	if (exe_for_build(build, b->exe[b->n], sizeof b->exe[b->n]))
		return errf(e, "build '%s' is not available (no executable %s; "
			    "run 'make')", build, b->exe[b->n]);
	snprintf(b->name[b->n], sizeof b->name[b->n], "%s", build);
	b->hooks[b->n] = binary_hooks(b->exe[b->n]);
	*at = b->n++;
	return 0;
}

static void builds_free(struct builds *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->hooks[i]);
}

static int run_entry(const struct sweep_opts *o, json_t *doc,
		     struct builds *b, const struct plan *p,
		     const struct plan_entry *en, struct progress *pg, errbuf *e)
{
	size_t k;
	if (build_of(b, plan_get(p, en, "build"), &k, e))
		return -1;
	json_t *cfg = runner_config(o, p, en);
	json_t *config = new_config(o, p, en);
	json_object_set(config, "hooks", b->hooks[k]);
	pg->label = doc_str(config, "id", NULL);
	pg->done = 0;
	progress_draw(pg);
	int rc = run_config(b->exe[k], cfg, config, pg, e);
	json_decref(cfg);
	json_array_append_new(json_object_get(doc, "configs"), config);
	pg->index++;
	return rc ? rc : save(o, doc, "running", e);
}

/* --order sequential: every entry of the plan, its repetitions back to
 * back. */
static int run_sequential(const struct sweep_opts *o, json_t *doc,
			  const struct plan *p, struct builds *b,
			  struct progress *pg, errbuf *e)
{
	int rc = 0;
	for (size_t i = 0; i < p->n && !stop_signal && !rc; i++)
		rc = run_entry(o, doc, b, p, plan_at(p, i), pg, e);
	return rc;
}

/* --- interleaved repetitions (sweep.h) ------------------------------- */

/* One configuration of a block: its runner lives from its first visit
 * (setup, warm-ups, first repetition) to its last. */
struct slot {
	const struct plan_entry *en;
	struct child ch;
	json_t *config;		/* NULL until the first visit */
	int finished;
};

static int start_slot(const struct sweep_opts *o, const struct plan *p,
		      struct builds *b, struct slot *s, errbuf *e)
{
	size_t k;
	if (build_of(b, plan_get(p, s->en, "build"), &k, e))
		return -1;
	json_t *cfg = runner_config(o, p, s->en);
	json_object_set_new(cfg, "paced", json_true());
	s->config = new_config(o, p, s->en);
	json_object_set(s->config, "hooks", b->hooks[k]);
	int rc = spawn_runner(b->exe[k], cfg, &s->ch, 1, e);
	json_decref(cfg);
	if (rc) {
		json_decref(s->config);
		s->config = NULL;
	}
	return rc;
}

/* Ask for one repetition and take it. The runner ends itself after its
 * last repetition or a failure; then it is reaped here. Returns -1 when
 * a signal stopped the sweep (the slot is then still live). */
static int visit(const struct sweep_opts *o, struct slot *s,
		 struct progress *pg)
{
	size_t want = reported(s->config) + 1;
	char go = RUNNER_GO;
	pg->label = json_string_value(json_object_get(s->config, "id"));
	pg->done = want > 1 ? o->warmup + (long)want - 1 : 0;
	progress_draw(pg);
	/* A runner that already ended (a failed warm-up) cannot take it:
	 * the pipe then reports its end. */
	int rc = write(s->ch.ctl, &go, 1) == 1 ? pump(&s->ch, s->config, pg, want) : 1;
	if (rc < 0)
		return -1;
	json_t *reps = json_object_get(s->config, "reps");
	json_t *last = json_array_get(reps, json_array_size(reps) - 1);
	int failed = json_array_size(json_object_get(s->config, "failed_warmups")) ||
		     (last && strcmp(doc_str(last, "status", "ok"), "ok"));
	if (rc == 0 && (failed || json_array_size(reps) >= (size_t)o->reps))
		rc = pump(&s->ch, s->config, pg, SIZE_MAX); /* to its "done" */
	if (rc < 0)
		return -1;
	if (rc == 1) {
		finish(s->config, &s->ch, 0);
		s->finished = 1;
	} else {
		summarise_probes(s->config);
	}
	pg->index++;
	return 0;
}

/* The document's configs: those of earlier blocks (the first `base`),
 * then this block's visited ones in plan order. */
static int save_block(const struct sweep_opts *o, json_t *doc, size_t base,
		      struct slot *s, size_t n, errbuf *e)
{
	json_t *configs = json_object_get(doc, "configs");
	while (json_array_size(configs) > base)
		json_array_remove(configs, base);
	for (size_t k = 0; k < n; k++)
		if (s[k].config)
			json_array_append(configs, s[k].config);
	return save(o, doc, "running", e);
}

/* Runners still alive when the sweep stops: interrupted (a signal), or
 * only ended (an error of the sweep itself, which says so). */
static void end_slots(struct slot *s, size_t n, int interrupted)
{
	for (size_t k = 0; k < n; k++) {
		if (!s[k].config || s[k].finished)
			continue;
		if (interrupted) {
			finish(s[k].config, &s[k].ch, 1);
		} else {
			int st;
			end_child(&s[k].ch, &st);
			free(s[k].ch.buf);
		}
		s[k].finished = 1;
	}
}

/* One round: every unfinished slot of the block once, in a new order. */
static int run_round(const struct sweep_opts *o, struct plan *p, size_t lo,
		     size_t hi, struct slot *s, struct builds *b,
		     struct progress *pg, uint64_t *rng, errbuf *e)
{
	plan_shuffle(p, lo, hi, rng);
	for (size_t i = lo; i < hi && !stop_signal; i++) {
		struct slot *sl = &s[p->order[i] - lo];
		if (sl->finished)
			continue;
		if (!sl->config && start_slot(o, p, b, sl, e))
			return -1;
		if (visit(o, sl, pg) < 0)
			return 0; /* stopped: the caller sees stop_signal */
	}
	return 0;
}

static int run_block(const struct sweep_opts *o, json_t *doc,
		     struct plan *p, size_t lo, size_t hi, struct builds *b,
		     struct progress *pg, uint64_t *rng, errbuf *e)
{
	size_t n = hi - lo, base = json_array_size(json_object_get(doc, "configs"));
	struct slot *s = calloc(n, sizeof *s);
	int rc = 0;
	if (!s)
		return errf(e, "out of memory for %zu configurations", n);
	for (size_t k = 0; k < n; k++)
		s[k].en = plan_entry(p, lo + k);
	for (long r = 0; r < o->reps && !stop_signal && !rc; r++) {
		rc = run_round(o, p, lo, hi, s, b, pg, rng, e);
		if (!rc && !stop_signal)
			rc = save_block(o, doc, base, s, n, e);
	}
	end_slots(s, n, stop_signal != 0);
	/* What the last round (or the stop) finished, on disk too. */
	errbuf se;
	if (save_block(o, doc, base, s, n, rc ? &se : e) && !rc)
		rc = -1;
	for (size_t k = 0; k < n; k++)
		json_decref(s[k].config);
	free(s);
	return rc;
}

/* Blocks of SWEEP_LIVE_MAX entries in plan order (a series' worker counts
 * are neighbours, so they interleave with each other). */
static int run_interleaved(const struct sweep_opts *o, json_t *doc,
			   struct plan *p, struct builds *b,
			   struct progress *pg, uint64_t seed, errbuf *e)
{
	uint64_t rng = seed;
	int rc = 0;
	for (size_t lo = 0; lo < p->n && !stop_signal && !rc; lo += SWEEP_LIVE_MAX) {
		size_t hi = lo + SWEEP_LIVE_MAX < p->n ? lo + SWEEP_LIVE_MAX : p->n;
		rc = run_block(o, doc, p, lo, hi, b, pg, &rng, e);
	}
	return rc;
}

static int sequential(const struct sweep_opts *o)
{
	return o->order && !strcmp(o->order, "sequential");
}

static uint64_t seed_of(const struct sweep_opts *o)
{
	return o->seed_set ? (uint64_t)o->seed : plan_clock_seed();
}

int sweep_run(const struct sweep_opts *o, json_t *doc, errbuf *e)
{
	struct sigaction old[NSTOP], old_pipe;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct plan plan;
	struct builds b = {.n = 0};
	if (run_plan_build(o, &plan, e)) {
		plan_free(&plan);
		return -1;
	}
	uint64_t seed = seed_of(o);
	json_object_set_new(doc, "order", sequential(o)
		? json_pack("{s:s}", "mode", "sequential")
		: json_pack("{s:s, s:I, s:i}", "mode", "random", "seed",
			    (json_int_t)seed, "block", SWEEP_LIVE_MAX));
	struct progress pg = {.on = o->progress,
			      .total = sequential(o) ? plan.n : plan.n * (size_t)o->reps,
			      .reps = o->reps, .warmup = o->warmup};
	stop_signal = 0;
	install_handlers(old);
	/* a runner that died before its visit must not kill the sweep */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	int rc = sequential(o) ? run_sequential(o, doc, &plan, &b, &pg, e)
			       : run_interleaved(o, doc, &plan, &b, &pg, seed, e);
	builds_free(&b);
	plan_free(&plan);
	if (pg.on)
		fprintf(stderr, "\r\033[K");
	restore_handlers(old);
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (save(o, doc, stop_signal ? "interrupted" : (rc ? "error" : "complete"),
		 rc ? NULL : e) && !rc)
		return -1;
	if (rc)
		return -1;
	return stop_signal ? EXIT_INTERRUPTED : 0;
}
