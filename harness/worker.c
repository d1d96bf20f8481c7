/* worker.c - a process-pool worker: the loop run after fork, and the
 * `__worker` entry point a spawned worker re-executes into.
 * A spawned worker rebuilds its inputs from the parameters (nothing is
 * inherited but what is sent), as a Python "spawn" pool does. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/commands.h"
#include "pools/inject.h"
#include "pools/pool_common.h"
#include "harness/runner.h"
#include "pools/wire.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int run_and_send(const struct pool_opts *o, const struct workload_ops *w,
			void *ctx, uint32_t task, int result_fd)
{
	struct wire_result rec = {.magic = WIRE_MAGIC, .task = task};
	pool_run_one(o, w, ctx, task, &rec.r);
	if (rec.r.status == TASK_FAILED) {
		struct wire_error err = {.magic = WIRE_ERROR, .task = task};
		task_error_take(err.msg, sizeof err.msg);
		if (err.msg[0] && write_all(result_fd, &err, sizeof err))
			return -1;
	}
	if (rec.r.status == (int32_t)0x7eadbeef) /* injected garbage */
		rec.magic = 0xdeadbeef;
	return write_all(result_fd, &rec, sizeof rec);
}

int worker_loop(const struct pool_opts *o, const struct workload_ops *w,
		void *ctx, int task_fd, int result_fd)
{
	uint32_t buf[WIRE_BATCH];
	size_t have = 0; /* bytes of a partial index carried over */
	for (;;) {
		ssize_t k = read(task_fd, (char *)buf + have,
				 sizeof buf - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? 0 : 1;
		size_t bytes = have + (size_t)k, n = bytes / sizeof buf[0];
		for (size_t i = 0; i < n; i++)
			if (run_and_send(o, w, ctx, buf[i], result_fd))
				return 1; /* parent gone */
		have = bytes % sizeof buf[0];
		memmove(buf, (char *)buf + n * sizeof buf[0], have);
	}
}

int worker_send_ready(const struct pool_opts *o, int result_fd)
{
	if (o->inject_kind == INJECT_SLOWSTART) {
		struct timespec ts = {o->inject_task / 1000,
				      (o->inject_task % 1000) * 1000000};
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	uint32_t magic = WIRE_READY;
	return write_all(result_fd, &magic, sizeof magic);
}

void worker_send_report(const struct pool_opts *o, int result_fd)
{
	if (!o->worker_report)
		return;
	struct wire_report rep = {.magic = WIRE_REPORT};
	rep.len = (uint32_t)o->worker_report(rep.payload, sizeof rep.payload);
	if (rep.len && rep.len <= sizeof rep.payload)
		write_all(result_fd, &rep, offsetof(struct wire_report, payload) + rep.len);
}

/* contend __worker --workload W --params P --task-fd N --result-fd M
 *                  [--inject KIND@TASK] */
int cmd_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{"workload", required_argument, NULL, 'w'},
		{"params", required_argument, NULL, 'p'},
		{"task-fd", required_argument, NULL, 't'},
		{"result-fd", required_argument, NULL, 'r'},
		{"inject", required_argument, NULL, 'i'},
		{"config", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *wname = NULL, *ptext = "", *config = NULL;
	long tfd = -1, rfd = -1;
	struct pool_opts o = {.workers = 1, .inject_task = -1};
	errbuf e = {{0}};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'w': wname = optarg; break;
		case 'p': ptext = optarg; break;
		case 't': rc = cli_int("--task-fd", optarg, 0, 1 << 20, &tfd, &e); break;
		case 'r': rc = cli_int("--result-fd", optarg, 0, 1 << 20, &rfd, &e); break;
		case 'i': rc = inject_parse(optarg, &o.inject_kind, &o.inject_task, &e); break;
		case 'c': config = optarg; break;
		default: rc = errf(&e, "bad worker option");
		}
		if (rc) {
			fprintf(stderr, "contend worker: %s\n", e.msg);
			return EXIT_USAGE;
		}
	}
	const struct workload_ops *w = wname ? workload_find(wname) : NULL;
	if (!w || tfd < 0 || rfd < 0) {
		fprintf(stderr, "contend worker: internal command, started by "
			"the process pool\n");
		return EXIT_USAGE;
	}
	struct params p;
	void *ctx = NULL;
	if (config && runner_worker_setup(config, &o, &e)) {
		fprintf(stderr, "contend worker: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (params_parse(w->params, ptext, &p, &e) || w->setup(&p, &ctx, &e)) {
		fprintf(stderr, "contend worker: %s\n", e.msg);
		return EXIT_USAGE;
	}
	int rc = worker_send_ready(&o, (int)rfd)
			 ? 1 : worker_loop(&o, w, ctx, (int)tfd, (int)rfd);
	worker_send_report(&o, (int)rfd);
	w->teardown(ctx);
	return rc;
}
