/* exec_plan.h - the dimensions of `contend exec` as a plan (--param and
 * --env names, then the worker count, innermost), and what one entry of
 * it makes of the command: every {workers} and {NAME} of a --param
 * replaced, the environment with the entry's --env values applied.
 *
 * Like run_plan.c for `run`, this is the one place that knows exec's
 * dimensions; execsweep.c runs the entries. */
#ifndef CONTEND_EXEC_PLAN_H
#define CONTEND_EXEC_PLAN_H

#include <stddef.h>

#include "common/err.h"
#include "harness/plan.h"

#define EXEC_DIMS_MAX 8	/* --param options, and --env options, each */
#define EXEC_NAME_MAX 64

/* One --param or --env: its name and values, in the order given. */
struct exec_dim {
	char name[EXEC_NAME_MAX];
	char *values[PLAN_VALUES_MAX];
	size_t n;
};

struct exec_dims {
	struct exec_dim param[EXEC_DIMS_MAX], env[EXEC_DIMS_MAX];
	size_t nparam, nenv;
};

/* Add "NAME=V1,V2,..." of --param (env 0) or --env (env 1). Values are
 * split at commas; "\," is a comma inside a value, "\\" a backslash. A
 * param NAME is a C identifier other than "workers"; an env NAME a valid
 * environment name other than those contend sets (CONTEND_WORKERS,
 * CONTEND_LOCKPROF_DIR). -1 with e set on bad input. */
int exec_dims_add(struct exec_dims *d, const char *arg, int env, errbuf *e);
void exec_dims_free(struct exec_dims *d);

/* The plan: params (slowest), env, workers. p is initialised here;
 * plan_free it. */
int exec_plan_build(const struct exec_dims *d, const int *workers,
		    size_t nworkers, struct plan *p, errbuf *e);

/* The entry's worker count. */
int exec_entry_workers(const struct plan *p, const struct plan_entry *en);

/* arg with {workers} and every {NAME} of a --param replaced by the
 * entry's values (other {text} is left as written); malloc'd, NULL when
 * out of memory. */
char *exec_substitute(const char *arg, const struct plan *p,
		      const struct plan_entry *en);

/* A copy of base (NULL-terminated "NAME=value" strings) with the entry's
 * --env applied: each swept NAME removed, then set unless its value is
 * "default". NULL when out of memory; free each string and the array. */
char **exec_environ(char *const *base, const struct plan *p,
		    const struct plan_entry *en);

/* Some argument has {workers} or the {NAME} of a --param: without one,
 * every worker count runs the same command line. */
int exec_has_placeholder(char *const *argv, int argc, const struct exec_dims *d);

/* The first {identifier} of argv that is neither {workers} nor a --param
 * (a typo, or text the program wants as written), into buf; returns its
 * argument's index, or -1 when there is none. */
int exec_unknown_placeholder(char *const *argv, int argc,
			     const struct exec_dims *d, char *buf, size_t len);

#endif
