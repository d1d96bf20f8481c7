/* test_exec_plan.c - exec's dimensions: --param/--env parsing (commas
 * escaped, bad names and values rejected), the plan's params x env x
 * workers product, {NAME} substitution, the environment of an entry
 * ("default" removes a variable) and the placeholder checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "harness/exec_plan.h"

static void add_ok(struct exec_dims *d, const char *arg, int env)
{
	errbuf e = {{0}};
	if (exec_dims_add(d, arg, env, &e))
		fail_msg("'%s' rejected: %s", arg, e.msg);
}

static void add_bad(const char *arg, int env, const char *why)
{
	struct exec_dims d = {0};
	errbuf e = {{0}};
	if (exec_dims_add(&d, arg, env, &e) == 0)
		fail_msg("'%s' accepted", arg);
	if (!strstr(e.msg, why))
		fail_msg("'%s': '%s' lacks '%s'", arg, e.msg, why);
	exec_dims_free(&d);
}

static void test_parse(void **state)
{
	(void)state;
	struct exec_dims d = {0};
	add_ok(&d, "mode=thread,process", 0);
	add_ok(&d, "sep=a\\,b,c\\\\d,", 0);
	add_ok(&d, "OPENBLAS_NUM_THREADS=default,1", 1);
	assert_int_equal(d.nparam, 2);
	assert_string_equal(d.param[0].name, "mode");
	assert_int_equal(d.param[0].n, 2);
	assert_string_equal(d.param[0].values[1], "process");
	/* an escaped comma and backslash, and an empty last value */
	assert_int_equal(d.param[1].n, 3);
	assert_string_equal(d.param[1].values[0], "a,b");
	assert_string_equal(d.param[1].values[1], "c\\d");
	assert_string_equal(d.param[1].values[2], "");
	assert_int_equal(d.nenv, 1);
	assert_string_equal(d.env[0].values[0], "default");
	/* the same name twice */
	errbuf e;
	assert_int_equal(exec_dims_add(&d, "mode=x", 0, &e), -1);
	assert_non_null(strstr(e.msg, "given twice"));
	exec_dims_free(&d);

	add_bad("mode", 0, "NAME=V1,V2");
	add_bad("=a,b", 0, "NAME=V1,V2");
	add_bad("mode=", 0, "NAME=V1,V2");
	add_bad("9lives=a", 0, "not a valid parameter name");
	add_bad("mo-de=a", 0, "not a valid parameter name");
	add_bad("workers=1,2", 0, "--workers");
	add_bad("A-B=1", 1, "not a valid environment variable name");
	add_bad("CONTEND_WORKERS=1", 1, "sets CONTEND_WORKERS itself");
	add_bad("x=a,b,a", 0, "given twice");
	add_bad("x=a\\b", 0, "'\\,'");
}

static struct plan dueling(struct exec_dims *d)
{
	static const int workers[] = {1, 2, 4};
	struct plan p;
	errbuf e = {{0}};
	add_ok(d, "mode=thread,process", 0);
	add_ok(d, "OPENBLAS_NUM_THREADS=default,1", 1);
	if (exec_plan_build(d, workers, 3, &p, &e))
		fail_msg("plan: %s", e.msg);
	return p;
}

/* params (slowest), then env, then workers (fastest) */
static void test_product(void **state)
{
	(void)state;
	struct exec_dims d = {0};
	struct plan p = dueling(&d);
	assert_int_equal(p.n, 2 * 2 * 3);
	const struct plan_entry *en = plan_at(&p, 4);
	assert_string_equal(plan_get_in(&p, en, "params", "mode"), "thread");
	assert_string_equal(plan_get_in(&p, en, "env", "OPENBLAS_NUM_THREADS"), "1");
	assert_int_equal(exec_entry_workers(&p, en), 2);
	en = plan_at(&p, 11);
	assert_string_equal(plan_get_in(&p, en, "params", "mode"), "process");
	assert_int_equal(exec_entry_workers(&p, en), 4);
	/* the config: params[mode], env[NAME] with "default" as null */
	json_t *c = json_object();
	plan_config(&p, plan_at(&p, 0), c);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(c, "params"), "mode")), "thread");
	assert_true(json_is_null(json_object_get(json_object_get(c, "env"),
						 "OPENBLAS_NUM_THREADS")));
	assert_int_equal(json_integer_value(json_object_get(c, "workers")), 1);
	json_decref(c);
	/* no --param, no --env: one entry per worker count */
	struct exec_dims none = {0};
	struct plan q;
	static const int w2[] = {1, 2};
	errbuf e;
	assert_int_equal(exec_plan_build(&none, w2, 2, &q, &e), 0);
	assert_int_equal(q.n, 2);
	plan_free(&q);
	plan_free(&p);
	exec_dims_free(&d);
}

static void test_substitute(void **state)
{
	(void)state;
	struct exec_dims d = {0};
	struct plan p = dueling(&d);
	const struct plan_entry *en = plan_at(&p, 11); /* process, 1, 4 */
	char *s = exec_substitute("--mode={mode} -j{workers} {mode}{mode} {other} {} {mode", &p, en);
	assert_string_equal(s, "--mode=process -j4 processprocess {other} {} {mode");
	free(s);
	/* the environment is no placeholder */
	s = exec_substitute("{OPENBLAS_NUM_THREADS}", &p, en);
	assert_string_equal(s, "{OPENBLAS_NUM_THREADS}");
	free(s);
	plan_free(&p);
	exec_dims_free(&d);
}

static int has(char **env, const char *entry)
{
	for (size_t i = 0; env[i]; i++)
		if (!strcmp(env[i], entry))
			return 1;
	return 0;
}

static int has_name(char **env, const char *name)
{
	for (size_t i = 0; env[i]; i++)
		if (!strncmp(env[i], name, strlen(name)) && env[i][strlen(name)] == '=')
			return 1;
	return 0;
}

static void free_env(char **env)
{
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

static void test_environment(void **state)
{
	(void)state;
	struct exec_dims d = {0};
	struct plan p = dueling(&d);
	char *base[] = {"PATH=/bin", "OPENBLAS_NUM_THREADS=8", "HOME=/root", NULL};
	/* default: the variable the user had is removed */
	char **env = exec_environ(base, &p, plan_at(&p, 0));
	assert_non_null(env);
	assert_false(has_name(env, "OPENBLAS_NUM_THREADS"));
	assert_true(has(env, "PATH=/bin"));
	assert_true(has(env, "HOME=/root"));
	free_env(env);
	/* a value replaces it, once */
	env = exec_environ(base, &p, plan_at(&p, 3));
	assert_true(has(env, "OPENBLAS_NUM_THREADS=1"));
	assert_false(has(env, "OPENBLAS_NUM_THREADS=8"));
	size_t n = 0;
	for (size_t i = 0; env[i]; i++)
		n += !strncmp(env[i], "OPENBLAS_NUM_THREADS=", 21);
	assert_int_equal(n, 1);
	free_env(env);
	plan_free(&p);
	exec_dims_free(&d);
}

static void test_placeholders(void **state)
{
	(void)state;
	struct exec_dims d = {0};
	char buf[80];
	char *plain[] = {"python3", "-c", "print({})", NULL};
	char *typo[] = {"prog", "--mode={mdoe}", NULL};
	char *good[] = {"prog", "--mode={mode}", NULL};
	char *w[] = {"prog", "-j{workers}", NULL};
	add_ok(&d, "mode=a,b", 0);
	assert_false(exec_has_placeholder(plain, 3, &d));
	assert_int_equal(exec_unknown_placeholder(plain, 3, &d, buf, sizeof buf), -1);
	assert_false(exec_has_placeholder(typo, 2, &d));
	assert_int_equal(exec_unknown_placeholder(typo, 2, &d, buf, sizeof buf), 1);
	assert_string_equal(buf, "{mdoe}");
	assert_true(exec_has_placeholder(good, 2, &d));
	assert_int_equal(exec_unknown_placeholder(good, 2, &d, buf, sizeof buf), -1);
	assert_true(exec_has_placeholder(w, 2, &d));
	exec_dims_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_product),
		cmocka_unit_test(test_substitute),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_placeholders),
	};
	return cmocka_run_group_tests_name("exec_plan", tests, NULL, NULL);
}
