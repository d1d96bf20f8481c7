/* pool_process.c - N worker processes fed task indices over pipes.
 *
 * `fork` workers inherit the inputs copy-on-write; `spawn` workers re-exec
 * the binary and rebuild them. Tasks are pipelined a few deep per worker
 * (deeper for tiny tasks) so a worker never idles waiting for the parent. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pools/inject.h"
#include "pools/pool_common.h"
#include "pools/wire.h"

#define DEPTH_MAX 64
#define BATCH_TARGET_NS 100000 /* keep ~100 us of work queued per worker */
#define RBUF_RECS 64

struct pw {
	pid_t pid;
	int task_fd, result_fd;
	uint32_t queue[DEPTH_MAX]; /* outstanding tasks, in send order */
	size_t qhead, qlen;
	uint64_t head_start_ns; /* the oldest task's, or the start-up's */
	int ready;		/* a spawned worker has said WIRE_READY */
	size_t rlen;
	char rbuf[sizeof(struct wire_result) * RBUF_RECS];
	char why[160]; /* the words of a failed task, before its result */
};

struct pp {
	const struct pool_opts *o;
	struct pool_job *job;
	struct pw *w;
	int n;
	size_t next, done;
	uint64_t ewma_ns;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void spawn_exec(const struct pp *pp, int tfd, int rfd)
{
	char params[4096], tbuf[16], rbuf[16], ibuf[64];
	const struct pool_opts *o = pp->o;
	/* Move the pipe ends above the standard fds without CLOEXEC. */
	int t = fcntl(tfd, F_DUPFD, 10), r = fcntl(rfd, F_DUPFD, 10);
	if (t < 0 || r < 0 || params_format(pp->job->params, params,
					    sizeof params))
		_exit(127);
	snprintf(tbuf, sizeof tbuf, "%d", t);
	snprintf(rbuf, sizeof rbuf, "%d", r);
	char *argv[20];
	int a = 0;
	argv[a++] = (char *)o->self_exe;
	argv[a++] = "__worker";
	argv[a++] = "--workload";
	argv[a++] = (char *)pp->job->w->name;
	argv[a++] = "--params";
	argv[a++] = params;
	argv[a++] = "--task-fd";
	argv[a++] = tbuf;
	argv[a++] = "--result-fd";
	argv[a++] = rbuf;
	if (o->worker_config) {
		argv[a++] = "--config";
		argv[a++] = (char *)o->worker_config;
	}
	if (o->inject_kind != INJECT_NONE) {
		snprintf(ibuf, sizeof ibuf, "%s@%ld",
			 inject_name(o->inject_kind), o->inject_task);
		argv[a++] = "--inject";
		argv[a++] = ibuf;
	}
	argv[a] = NULL;
	execv(o->self_exe, argv);
	_exit(127);
}

static void child_main(struct pp *pp, int me, int tfd, int rfd)
{
	signal(SIGPIPE, SIG_DFL);
	for (int j = 0; j < me; j++) { /* siblings' pipe ends */
		close_fd(&pp->w[j].task_fd);
		close_fd(&pp->w[j].result_fd);
	}
	if (pp->o->start == POOL_START_SPAWN)
		spawn_exec(pp, tfd, rfd);
	if (pp->o->worker_init)
		pp->o->worker_init(pp->o->worker_init_arg);
	int rc = worker_loop(pp->o, pp->job->w, pp->job->ctx, tfd, rfd);
	worker_send_report(pp->o, rfd);
	_exit(rc);
}

static int start_worker(struct pp *pp, int i, struct pool_outcome *out)
{
	int tp[2], rp[2];
	struct pw *w = &pp->w[i];
	if (pipe2(tp, O_CLOEXEC) < 0)
		goto fail;
	if (pipe2(rp, O_CLOEXEC) < 0) {
		close(tp[0]), close(tp[1]);
		goto fail;
	}
	w->pid = fork();
	if (w->pid < 0) {
		close(tp[0]), close(tp[1]), close(rp[0]), close(rp[1]);
		goto fail;
	}
	if (w->pid == 0) {
		close(tp[1]);
		close(rp[0]);
		child_main(pp, i, tp[0], rp[1]);
	}
	close(tp[0]);
	close(rp[1]);
	w->task_fd = tp[1];
	w->result_fd = rp[0];
	w->ready = pp->o->start != POOL_START_SPAWN;
	w->head_start_ns = pool_now_ns();
	return 0;
fail:
	out->status = POOL_ERROR;
	snprintf(out->detail, sizeof out->detail,
		 "could not start worker %d: %s", i, strerror(errno));
	return -1;
}

static size_t depth_for(const struct pp *pp)
{
	if (!pp->ewma_ns)
		return 1;
	uint64_t d = BATCH_TARGET_NS / pp->ewma_ns;
	size_t left = pp->job->ntasks - pp->next;
	size_t fair = left / (size_t)pp->n;
	if (d > DEPTH_MAX)
		d = DEPTH_MAX;
	if (d > fair)
		d = fair;
	return d ? d : 1;
}

static int refill(struct pp *pp, struct pw *w)
{
	uint32_t batch[DEPTH_MAX];
	size_t k = 0, depth = depth_for(pp);
	while (w->qlen + k < depth && pp->next < pp->job->ntasks) {
		uint32_t t = (uint32_t)pp->next++;
		batch[k++] = t;
		w->queue[(w->qhead + w->qlen + k - 1) % DEPTH_MAX] = t;
	}
	if (!k)
		return 0;
	if (!w->qlen && w->ready)
		w->head_start_ns = pool_now_ns();
	w->qlen += k;
	ssize_t sent = write(w->task_fd, batch, k * sizeof batch[0]);
	/* A dead worker shows up as EPIPE here or EOF on its results; the
	 * EOF path reports it with its exit status, so ignore EPIPE here. */
	return sent < 0 && errno != EPIPE ? -1 : 0;
}

static void describe_death(struct pp *pp, int i, struct pool_outcome *out)
{
	struct pw *w = &pp->w[i];
	int st = 0;
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
	out->task = w->qlen ? (long)w->queue[w->qhead] : -1;
	char where[64];
	if (w->ready)
		snprintf(where, sizeof where, "in task %ld", out->task);
	else
		snprintf(where, sizeof where, "before it was ready (exec or "
			 "workload setup)");
	if (WIFSIGNALED(st)) {
		out->status = POOL_CRASHED;
		out->signal = WTERMSIG(st);
		snprintf(out->detail, sizeof out->detail,
			 "worker %d killed by SIG%s %s", i,
			 sigabbrev_np(out->signal) ? sigabbrev_np(out->signal)
						   : "?",
			 where);
	} else {
		out->status = POOL_EXITED;
		out->exit_code = WEXITSTATUS(st);
		snprintf(out->detail, sizeof out->detail,
			 "worker %d exited with status %d %s%s", i,
			 out->exit_code, where, w->ready ? " without its result" : "");
	}
}

static int take_record(struct pp *pp, int i, const struct wire_result *rec,
		       struct pool_outcome *out)
{
	struct pw *w = &pp->w[i];
	if (rec->magic != WIRE_MAGIC || !w->qlen ||
	    rec->task != w->queue[w->qhead] || !pool_result_valid(&rec->r)) {
		out->status = POOL_GARBAGE;
		out->task = w->qlen ? (long)w->queue[w->qhead] : -1;
		snprintf(out->detail, sizeof out->detail,
			 "worker %d sent a malformed result (task %ld)", i,
			 out->task);
		return -1;
	}
	struct task_result *r = &pp->job->results[rec->task];
	*r = rec->r;
	r->worker = i;
	w->qhead = (w->qhead + 1) % DEPTH_MAX;
	w->qlen--;
	w->head_start_ns = pool_now_ns();
	pp->done++;
	out->tasks_done++;
	pp->ewma_ns = pp->ewma_ns ? (pp->ewma_ns * 7 + r->elapsed_ns + 1) / 8
				  : r->elapsed_ns + 1;
	if (r->status != TASK_OK) {
		out->status = POOL_TASK_FAILED;
		out->task = rec->task;
		snprintf(out->detail, sizeof out->detail, "task %u failed%s%s",
			 rec->task, *w->why ? ": " : "", w->why);
		return -1;
	}
	return 0;
}

static int drain(struct pp *pp, int i, struct pool_outcome *out)
{
	struct pw *w = &pp->w[i];
	ssize_t k = read(w->result_fd, w->rbuf + w->rlen,
			 sizeof w->rbuf - w->rlen);
	if (k < 0)
		return errno == EINTR ? 0 : (describe_death(pp, i, out), -1);
	if (k == 0) {
		describe_death(pp, i, out);
		return -1;
	}
	w->rlen += (size_t)k;
	size_t used = 0;
	for (;;) {
		uint32_t magic;
		if (w->rlen - used < sizeof magic)
			break;
		memcpy(&magic, w->rbuf + used, sizeof magic);
		if (magic == WIRE_READY && !w->ready) {
			w->ready = 1;
			w->head_start_ns = pool_now_ns();
			used += sizeof magic;
			continue;
		}
		if (magic == WIRE_ERROR) {
			struct wire_error err;
			if (w->rlen - used < sizeof err)
				break;
			memcpy(&err, w->rbuf + used, sizeof err);
			err.msg[sizeof err.msg - 1] = 0;
			snprintf(w->why, sizeof w->why, "%s", err.msg);
			used += sizeof err;
			continue;
		}
		struct wire_result rec;
		if (w->rlen - used < sizeof rec)
			break;
		memcpy(&rec, w->rbuf + used, sizeof rec);
		used += sizeof rec;
		if (take_record(pp, i, &rec, out))
			return -1;
	}
	w->rlen -= used;
	memmove(w->rbuf, w->rbuf + used, w->rlen);
	return refill(pp, w) ? (describe_death(pp, i, out), -1) : 0;
}

/* Milliseconds until the earliest task deadline, or -1 without timeout. */
static int poll_timeout_ms(struct pp *pp, int *late)
{
	*late = -1;
	if (pp->o->task_timeout_s <= 0)
		return -1;
	uint64_t now = pool_now_ns(), lim = (uint64_t)(pp->o->task_timeout_s * 1e9);
	int64_t best = INT64_MAX;
	for (int i = 0; i < pp->n; i++) {
		struct pw *w = &pp->w[i];
		if (!w->qlen)
			continue;
		int64_t left = (int64_t)(w->head_start_ns + lim) - (int64_t)now;
		if (left <= 0) {
			*late = i;
			return 0;
		}
		if (left < best)
			best = left;
	}
	return best == INT64_MAX ? -1 : (int)(best / 1000000 + 1);
}

static void time_out(struct pp *pp, int i, struct pool_outcome *out)
{
	struct pw *w = &pp->w[i];
	kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
	w->pid = -1;
	out->status = POOL_TIMEOUT;
	out->task = (long)w->queue[w->qhead];
	if (w->ready)
		snprintf(out->detail, sizeof out->detail,
			 "task %ld ran longer than %.3g s on worker %d (killed)",
			 out->task, pp->o->task_timeout_s, i);
	else /* the start-up gets the same allowance as a task */
		snprintf(out->detail, sizeof out->detail,
			 "worker %d was not ready within %.3g s (exec and "
			 "workload setup; killed)", i, pp->o->task_timeout_s);
}

static int pump(struct pp *pp, struct pool_outcome *out)
{
	struct pollfd *pfd = calloc((size_t)pp->n, sizeof *pfd);
	if (!pfd)
		return -1;
	int rc = 0;
	for (int i = 0; i < pp->n && !rc; i++)
		rc = refill(pp, &pp->w[i]);
	while (!rc && pp->done < pp->job->ntasks) {
		int late;
		int ms = poll_timeout_ms(pp, &late);
		if (late >= 0) {
			time_out(pp, late, out);
			rc = -1;
			break;
		}
		for (int i = 0; i < pp->n; i++)
			pfd[i] = (struct pollfd){pp->w[i].result_fd, POLLIN, 0};
		int k = poll(pfd, (nfds_t)pp->n, ms);
		if (k < 0 && errno != EINTR)
			rc = -1;
		for (int i = 0; i < pp->n && k > 0 && !rc; i++)
			if (pfd[i].revents)
				rc = drain(pp, i, out);
	}
	free(pfd);
	return rc;
}

/* What a finished worker wrote after its last result: its report. The
 * worker has exited, so reading runs into EOF instead of blocking. */
static void collect_report(struct pp *pp, struct pw *w)
{
	struct wire_report rep;
	size_t have = w->rlen < sizeof rep ? w->rlen : sizeof rep;
	memcpy(&rep, w->rbuf, have);
	for (;;) {
		ssize_t k = read(w->result_fd, (char *)&rep + have,
				 sizeof rep - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
	}
	size_t head = offsetof(struct wire_report, payload);
	if (have >= head && rep.magic == WIRE_REPORT &&
	    rep.len <= POOL_REPORT_MAX && have >= head + rep.len &&
	    pp->o->collect)
		pp->o->collect(rep.payload, rep.len, pp->o->collect_arg);
}

/* Close the task pipes (EOF ends each worker) and reap; kill stragglers. */
static void stop_workers(struct pp *pp, int force)
{
	for (int i = 0; i < pp->n; i++) {
		close_fd(&pp->w[i].task_fd);
		if (force && pp->w[i].pid > 0)
			kill(pp->w[i].pid, SIGKILL);
	}
	uint64_t deadline = pool_now_ns() + 2000000000ull;
	for (int i = 0; i < pp->n; i++) {
		struct pw *w = &pp->w[i];
		while (w->pid > 0) {
			pid_t r = waitpid(w->pid, NULL, WNOHANG);
			if (r == w->pid || (r < 0 && errno != EINTR))
				break;
			if (pool_now_ns() > deadline)
				kill(w->pid, SIGKILL);
			usleep(200);
		}
		if (!force && w->result_fd >= 0)
			collect_report(pp, w);
		w->pid = -1;
		close_fd(&w->result_fd);
	}
}

static int process_run(const struct pool_opts *o, struct pool_job *job,
		       struct pool_outcome *out)
{
	struct pp pp = {.o = o, .job = job, .n = o->workers};
	memset(out, 0, sizeof *out);
	out->task = -1;
	pp.w = calloc((size_t)pp.n, sizeof *pp.w);
	if (!pp.w) {
		out->status = POOL_ERROR;
		snprintf(out->detail, sizeof out->detail, "out of memory");
		return -1;
	}
	for (int i = 0; i < pp.n; i++)
		pp.w[i] = (struct pw){.pid = -1, .task_fd = -1, .result_fd = -1};
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int rc = 0, started = 0;
	for (; started < pp.n && !rc; started++)
		rc = start_worker(&pp, started, out);
	pp.n = started - (rc ? 1 : 0);
	if (!rc)
		rc = pump(&pp, out);
	if (rc && out->status == POOL_OK) {
		out->status = POOL_ERROR;
		snprintf(out->detail, sizeof out->detail, "pipe error: %s",
			 strerror(errno));
	}
	stop_workers(&pp, rc != 0);
	sigaction(SIGPIPE, &old, NULL);
	free(pp.w);
	return rc;
}

const struct pool_ops pool_process = {
	.name = "process",
	.describe = "N worker processes (--start fork|spawn), tasks over pipes",
	.has_start = 1,
	.run = process_run,
};
