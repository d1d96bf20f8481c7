/* cmd_pools.c - `contend pools`: the thread-pool libraries contend itself
 * has loaded (OpenBLAS, BLIS, MKL, OpenMP), their build, kernels and thread
 * limit, the slow-kernel warning, and with --threads N the effect of a limit. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness/cli.h"
#include "harness/verb.h"
#include "harness/commands.h"
#include "common/err.h"
#include "probes/libpools.h"
#include "probes/threads.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend pools [--threads N] [--json]\n\n"
		"Lists the libraries with their own thread pool that contend has\n"
		"loaded (OpenBLAS, BLIS, MKL, OpenMP runtimes), found at run time\n"
		"the way threadpoolctl does: library, version, threading layer,\n"
		"OpenBLAS kernel set (core name) and current thread limit. Warns\n"
		"when OpenBLAS runs kernels below what the CPU offers and names the\n"
		"OPENBLAS_CORETYPE that fixes it.\n\n"
		"  --threads N   set every pool to N threads through the library's\n"
		"                own API and show the limits and this process's\n"
		"                thread count before and after\n"
		"  --json        print the same as one JSON object\n"
		"  -h, --help    this help\n"
		"\n" VERB_EXIT_HELP);
}

/* The limits and the process's thread count at one moment. */
struct snapshot {
	struct libpools lp;
	long process_threads;
};

static int take(struct snapshot *s, errbuf *e)
{
	if (libpools_scan(&s->lp, e) < 0)
		return -1;
	return threads_count(getpid(), &s->process_threads, e);
}

static json_t *snapshot_json(const struct snapshot *s)
{
	return json_pack("{s:o, s:I}", "pools", libpools_json(&s->lp),
			 "process_threads", (json_int_t)s->process_threads);
}

static json_t *advice_json(const struct kernel_advice *a)
{
	if (!a->applies)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "message", a->message,
			 "suggested_coretype", a->suggested, "kernel_level",
			 cpu_level_name(a->kernel_level), "cpu_level",
			 cpu_level_name(a->cpu_level), "forced_by_env",
			 a->forced[0] ? json_string(a->forced) : json_null());
}

static void print_table(const struct libpools *lp)
{
	if (lp->n == 0) {
		printf("no library with its own thread pool is loaded\n");
		return;
	}
	printf("  %-10s %-8s %-7s %-10s %-8s %-9s %s\n", "library", "kind",
	       "threads", "threading", "version", "kernels", "path");
	for (size_t i = 0; i < lp->n; i++) {
		const struct libpool *p = &lp->pool[i];
		printf("  %-10s %-8s %-7d %-10s %-8s %-9s %s\n", p->library,
		       libpool_kind_name(p->kind), p->threads,
		       p->threading[0] ? p->threading : "-",
		       p->version[0] ? p->version : "-",
		       p->corename[0] ? p->corename : "-", p->path);
		if (p->config[0] && p->kind != LIBPOOL_OPENMP)
			printf("  %-10s config: %s\n", "", p->config);
	}
}

static void print_env(void)
{
	json_t *env = libpools_env_json();
	const char *k;
	json_t *v;
	if (json_object_size(env)) {
		printf("\nenvironment:");
		json_object_foreach(env, k, v)
			printf(" %s=%s", k, json_string_value(v));
		printf("\n");
	}
	json_decref(env);
}

static void print_text(const struct snapshot *s, enum cpu_level cpu,
		       const struct kernel_advice *adv)
{
	printf("thread-pool libraries loaded by contend (pid %ld, threads now %ld, "
	       "%ld online CPUs, CPU vector level %s)\n\n",
	       (long)getpid(), s->process_threads, sysconf(_SC_NPROCESSORS_ONLN),
	       cpu_level_name(cpu));
	print_table(&s->lp);
	print_env();
	if (adv->applies)
		printf("\nwarning: %s\n", adv->message);
	if (libpools_find(&s->lp, LIBPOOL_OPENBLAS))
		printf("\nnote: every process that loads OpenBLAS starts its own "
		       "pool (one thread per core);\n      a process pool of N "
		       "workers runs N of them. Limit it with\n      "
		       "OPENBLAS_NUM_THREADS=1, or openblas_set_num_threads in "
		       "each worker.\n");
}

static void print_change(const struct snapshot *b, const struct snapshot *a,
			 int n)
{
	printf("\nafter setting %d thread%s in every pool:\n", n, n == 1 ? "" : "s");
	printf("  %-10s %-7s %s\n", "library", "before", "after");
	for (size_t i = 0; i < a->lp.n && i < b->lp.n; i++)
		printf("  %-10s %-7d %d\n", a->lp.pool[i].library,
		       b->lp.pool[i].threads, a->lp.pool[i].threads);
	printf("  process threads: %ld before, %ld after%s\n",
	       b->process_threads, a->process_threads,
	       a->process_threads > n
		       ? " (threads already started stay alive; OpenBLAS "
			 "only ever adds them)"
		       : "");
}

struct opts {
	int json;
	long threads; /* 0: leave the pools alone */
};

static int parse(int argc, char **argv, struct opts *o, int *done)
{
	errbuf e = {{0}};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o->json = 1;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			if (cli_int("--threads", argv[++i], 1, 4096, &o->threads,
				    &e) < 0) {
				return verb_fail("pools", EXIT_USAGE, &e);
			}
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			*done = 1;
			return EXIT_OK;
		} else {
			return verb_error("pools", EXIT_USAGE, "%s '%s' (see "
					  "'contend pools --help')",
					  strcmp(argv[i], "--threads")
						  ? "unknown option"
						  : "missing value for",
					  argv[i]);
		}
	}
	return EXIT_OK;
}

static int gather(const struct opts *o, struct snapshot *before,
		  struct snapshot *after, enum cpu_level *cpu,
		  struct kernel_advice *adv, errbuf *e)
{
	if (take(before, e) < 0 || cpu_level_detect(cpu, e) < 0 ||
	    libpools_kernel_check_loaded(&before->lp, adv, e) < 0)
		return -1;
	if (o->threads && libpools_set_threads((int)o->threads, e) < 0)
		return -1;
	return o->threads ? take(after, e) : 0;
}

static void print_json(const struct opts *o, const struct snapshot *b,
		       const struct snapshot *a, enum cpu_level cpu,
		       const struct kernel_advice *adv)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:o, s:I, s:o, s:o, s:o}", "pid",
			      (json_int_t)getpid(), "online_cpus",
			      (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
			      "cpu_level", cpu_level_name(cpu), "pools",
			      libpools_json(&b->lp), "process_threads",
			      (json_int_t)b->process_threads, "blas",
			      libpools_blas_context(&b->lp), "kernel_warning",
			      advice_json(adv), "environment",
			      libpools_env_json());
	if (j && o->threads)
		json_object_set_new(j, "set",
				    json_pack("{s:I, s:o, s:o}", "threads",
					      (json_int_t)o->threads, "before",
					      snapshot_json(b), "after",
					      snapshot_json(a)));
	json_dumpf(j, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(j);
}

int cmd_pools(int argc, char **argv)
{
	struct opts o = {0};
	int done = 0;
	int rc = parse(argc, argv, &o, &done);
	if (rc != EXIT_OK || done)
		return rc;
	struct snapshot before, after;
	enum cpu_level cpu;
	struct kernel_advice adv;
	errbuf e = {{0}};
	if (gather(&o, &before, &after, &cpu, &adv, &e) < 0) {
		return verb_fail("pools", EXIT_RUNTIME, &e);
	}
	if (o.json) {
		print_json(&o, &before, &after, cpu, &adv);
		return EXIT_OK;
	}
	print_text(&before, cpu, &adv);
	if (o.threads)
		print_change(&before, &after, (int)o.threads);
	return EXIT_OK;
}
