/* cmd_runner.c - `contend __runner`: run one configuration's warm-ups and
 * repetitions in this (child) process and report each as a JSON line.
 * Internal: started by the sweep, never by users. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "document/doc.h"
#include "harness/commands.h"
#include "pools/inject.h"
#include "pools/pool_common.h"
#include "harness/runner.h"
#include "probes/gil.h"
#include "probes/libpools.h"
#include "probes/hooks/trace_hooks.h"
#include "probes/registry.h"

struct runner {
	const struct workload_ops *w;
	const struct pool_ops *pool;
	struct params params;
	struct pool_opts opts;
	void *ctx;
	size_t ntasks;
	struct task_result *results;
	long reps, warmup;
	/* for the hang callback: what the current repetition is */
	long rep_index;
	uint64_t rep_t0;
	struct probe_config probe_cfg;
	void *probe_state[8];
	struct gil *gil;		     /* linetrace builds: the hooks' lock */
	char *config_text;		     /* handed to spawned workers */
	long inner;			     /* library threads asked for, 0: default */
};

static char self_exe[4096];

static void send_line(json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(9));
	if (!s)
		return;
	size_t len = strlen(s);
	s[len] = '\n'; /* replaces the NUL; we write len+1 bytes */
	const char *p = s;
	size_t left = len + 1;
	while (left) {
		ssize_t k = write(RUNNER_REPORT_FD, p, left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		p += k;
		left -= (size_t)k;
	}
	free(s);
}

static void send_error(const char *msg)
{
	json_t *j = json_pack("{s:s, s:s}", "type", "error", "message", msg);
	send_line(j);
	json_decref(j);
}

static double cpu_seconds(void)
{
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
			kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
	       1e-6 * (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
			       kids.ru_utime.tv_usec + kids.ru_stime.tv_usec);
}

static json_t *rep_message(struct runner *r, long i, double wall, double cpu,
			   const struct pool_outcome *out)
{
	json_t *m = json_pack("{s:s, s:b, s:i, s:f, s:f, s:s, s:I}", "type",
			      "rep", "warmup", i < r->warmup, "index",
			      (json_int_t)(i < r->warmup ? i : i - r->warmup),
			      "wall_s", wall, "cpu_s", cpu, "status",
			      pool_status_name(out->status), "tasks_done",
			      (json_int_t)out->tasks_done);
	if (out->status == POOL_OK) {
		char hex[32];
		snprintf(hex, sizeof hex, "0x%016llx",
			 (unsigned long long)r->w->checksum(r->ctx, r->results,
							    r->ntasks));
		json_object_set_new(m, "checksum", json_string(hex));
	} else {
		json_object_set_new(m, "detail", json_string(out->detail));
		if (out->task >= 0)
			json_object_set_new(m, "task", json_integer(out->task));
		if (out->signal)
			json_object_set_new(m, "signal",
					    json_string(sigabbrev_np(out->signal)));
	}
	return m;
}

/* Called from the watchdog thread when an in-process task hangs. */
static void on_hang(const struct pool_outcome *out, void *arg)
{
	struct runner *r = arg;
	double wall = (double)(pool_now_ns() - r->rep_t0) * 1e-9;
	json_t *m = rep_message(r, r->rep_index, wall, cpu_seconds(), out);
	send_line(m);
	_exit(0);
}

/* --- library thread pools (OpenBLAS, OpenMP) -------------------------- */

/* The environment sized the pools as they loaded, but OpenBLAS caps that
 * at the core count; its own API does not, which is how a library on a
 * big machine ends up with 20 threads per process. So the limit is also
 * applied through each library's API, in the runner and in every worker
 * after it starts (what threadpoolctl does). */
static void apply_inner(long n)
{
	errbuf e;
	if (n > 0 && libpools_set_threads((int)n, &e) < 0)
		fprintf(stderr, "contend: inner threads: %s\n", e.msg);
}

static void worker_inner(void *arg)
{
	apply_inner(*(const long *)arg);
}

static long inner_of(json_t *cfg)
{
	const char *s = doc_str(cfg, "inner_threads", NULL);
	return s && strcmp(s, "default") ? atol(s) : 0;
}

/* The largest thread limit any loaded pool reports now: what the inner
 * threads really are, whatever was asked. */
static int library_threads(void)
{
	struct libpools lp;
	errbuf e;
	int most = 0;
	if (libpools_scan(&lp, &e))
		return 0;
	for (size_t i = 0; i < lp.n; i++)
		if (lp.pool[i].threads > most)
			most = lp.pool[i].threads;
	return most;
}

/* --- the interpreter-lock model of linetrace builds ----------------- */

/* Only the linetrace binary links the hooks (weak symbols elsewhere). */
static int is_linetrace(void)
{
	return trace_hooks_install != NULL;
}

static int install_lock_model(json_t *cfg, struct gil **out, errbuf *e)
{
	const char *model = doc_str(cfg, "lock_model", NULL);
	json_t *si = json_object_get(cfg, "switch_interval_s");
	enum lock_model m;
	*out = NULL;
	if (!model || !is_linetrace())
		return 0;
	if (lock_model_parse(model, &m, e) || gil_create(out, m, NULL, e))
		return -1;
	if (json_is_number(si) &&
	    gil_set_switch_interval(*out, json_number_value(si), e))
		return -1;
	return trace_hooks_install(*out, e);
}

/* Process-pool workers report what the probes measured of them; the
 * running repetition's probes take it. */
static void collect_worker_report(const void *buf, size_t len, void *arg)
{
	struct runner *r = arg;
	probes_collect(r->probe_state, buf, len);
}

int runner_worker_setup(const char *config, struct pool_opts *o, errbuf *e)
{
	json_t *cfg = json_loads(config, 0, NULL);
	struct gil *g;
	if (!cfg)
		return errf(e, "worker config is not JSON");
	int rc = install_lock_model(cfg, &g, e);
	apply_inner(inner_of(cfg));
	json_decref(cfg);
	o->worker_report = probes_worker_report;
	return rc;
}

/* Probes start before the pool exists and stop after it is joined and
 * reaped, so threads and worker processes are all inside the window. */
static void probes_start(struct runner *r)
{
	for (size_t k = 0; probes_all[k]; k++) {
		errbuf e;
		r->probe_state[k] = NULL;
		if (probe_enabled(probes_all[k], &r->probe_cfg) &&
		    probes_all[k]->start(&r->probe_cfg, &r->probe_state[k], &e))
			fprintf(stderr, "contend: probe %s: %s\n",
				probes_all[k]->name, e.msg);
	}
}

static void probes_stop(struct runner *r, json_t *rep)
{
	for (size_t k = 0; probes_all[k]; k++) {
		if (!r->probe_state[k])
			continue;
		errbuf e;
		if (probes_all[k]->stop(r->probe_state[k], rep, &e))
			json_object_set_new(rep, probes_all[k]->name,
					    json_pack("{s:b, s:s}", "available", 0,
						      "reason", e.msg));
		probes_all[k]->release(r->probe_state[k]);
		r->probe_state[k] = NULL;
	}
}

static int one_rep(struct runner *r, long i)
{
	struct pool_job job = {.w = r->w, .ctx = r->ctx,
			       .params = &r->params, .ntasks = r->ntasks,
			       .results = r->results};
	struct pool_outcome out;
	r->rep_index = i;
	probes_start(r);
	double c0 = cpu_seconds();
	r->rep_t0 = pool_now_ns();
	r->pool->run(&r->opts, &job, &out);
	double wall = (double)(pool_now_ns() - r->rep_t0) * 1e-9;
	double cpu = cpu_seconds() - c0;
	json_t *m = rep_message(r, i, wall, cpu, &out);
	probes_stop(r, m);
	send_line(m);
	json_decref(m);
	return out.status == POOL_OK ? 0 : -1;
}

/* A paced runner's repetitions wait for the sweep (runner.h), which
 * visits every configuration's runner once per round. */
static int wait_for_go(void)
{
	char c;
	for (;;) {
		ssize_t k = read(RUNNER_CONTROL_FD, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		return k == 1 && c == RUNNER_GO;
	}
}

static int configure(struct runner *r, json_t *cfg, errbuf *e)
{
	const char *wname = NULL, *pname = NULL, *ptext = "", *start = "fork",
		   *inject = NULL, *counters = "auto";
	json_int_t workers = 1, reps = 1, warmup = 0;
	double timeout = 0;
	json_error_t je;
	if (json_unpack_ex(cfg, &je, 0, "{s:s, s?s, s:s, s:I, s?s, s?F, s:I, s:I, s?s, s?s}",
			   "workload", &wname, "params", &ptext, "pool", &pname,
			   "workers", &workers, "start", &start,
			   "task_timeout_s", &timeout, "reps", &reps,
			   "warmup", &warmup, "inject", &inject,
			   "counters", &counters))
		return errf(e, "bad runner config: %s", je.text);
	r->w = workload_find(wname);
	r->pool = pool_find(pname);
	if (!r->w || !r->pool)
		return errf(e, "bad runner config: unknown workload or pool");
	r->probe_cfg = (struct probe_config){.counters = counters,
					     .mem_interval_s = 0.020,
					     .root_pid = getpid(),
					     .in_process = r->pool->in_process,
					     .workers = (int)workers};
	r->reps = (long)reps;
	r->warmup = (long)warmup;
	r->opts = (struct pool_opts){
		.workers = (int)workers,
		.start = strcmp(start, "spawn") ? POOL_START_FORK
						: POOL_START_SPAWN,
		.task_timeout_s = timeout, .self_exe = self_exe,
		.inject_task = -1, .on_hang = on_hang, .on_hang_arg = r,
		.worker_report = probes_worker_report,
		.collect = collect_worker_report, .collect_arg = r,
		.worker_config = r->config_text,
		.worker_init = worker_inner, .worker_init_arg = &r->inner};
	r->inner = inner_of(cfg);
	if (inject && inject_parse(inject, &r->opts.inject_kind,
				   &r->opts.inject_task, e))
		return -1;
	if (json_object_get(cfg, "lock_model") && !is_linetrace())
		return errf(e, "a lock model needs the linetrace build");
	return params_parse(r->w->params, ptext, &r->params, e);
}

static int setup(struct runner *r, errbuf *e)
{
	uint64_t t0 = pool_now_ns();
	if (r->w->setup(&r->params, &r->ctx, e))
		return -1;
	r->ntasks = r->w->ntasks(r->ctx);
	r->results = calloc(r->ntasks ? r->ntasks : 1, sizeof *r->results);
	if (!r->results)
		return errf(e, "out of memory for %zu task results", r->ntasks);
	double setup_s = (double)(pool_now_ns() - t0) * 1e-9;
	apply_inner(r->inner);
	json_t *m = json_pack("{s:s, s:I, s:f}", "type", "setup", "ntasks",
			      (json_int_t)r->ntasks, "setup_s", setup_s);
	int lt = library_threads();
	if (lt > 0)
		json_object_set_new(m, "library_threads", json_integer(lt));
	send_line(m);
	json_decref(m);
	return 0;
}

int cmd_runner(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--config")) {
		fprintf(stderr, "contend __runner: internal command, started "
			"by 'contend run'\n");
		return EXIT_USAGE;
	}
	ssize_t k = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	self_exe[k > 0 ? k : 0] = 0;
	signal(SIGPIPE, SIG_IGN);
	json_error_t je;
	json_t *cfg = json_loads(argv[2], 0, &je);
	struct runner r = {0};
	errbuf e = {{0}};
	r.config_text = argv[2];
	if (!cfg || configure(&r, cfg, &e) || setup(&r, &e) ||
	    install_lock_model(cfg, &r.gil, &e)) {
		send_error(cfg ? e.msg : "runner config is not JSON");
		return EXIT_USAGE;
	}
	int paced = json_is_true(json_object_get(cfg, "paced"));
	if (paced) /* spawned workers need not hold the sweep's pipe */
		fcntl(RUNNER_CONTROL_FD, F_SETFD, FD_CLOEXEC);
	for (long i = 0; i < r.warmup + r.reps; i++)
		if ((paced && i >= r.warmup && !wait_for_go()) || one_rep(&r, i))
			break;
	json_t *done = json_pack("{s:s}", "type", "done");
	send_line(done);
	json_decref(done);
	if (r.gil) {
		trace_hooks_install(NULL, &e);
		gil_destroy(r.gil);
	}
	r.w->teardown(r.ctx);
	free(r.results);
	json_decref(cfg);
	return EXIT_OK;
}
