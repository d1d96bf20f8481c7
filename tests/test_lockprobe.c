/* test_lockprobe.c - lock figures as a probe of the registry: a
 * repetition's own locks, and what worker processes report through the
 * registry's framed worker reports, merged into one "lock" object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "probes/lockprobe.h"
#include "probes/lockstat.h"
#include "probes/registry.h"

static size_t index_of_lock_probe(void)
{
	for (size_t k = 0; probes_all[k]; k++)
		if (probes_all[k] == &probe_lock)
			return k;
	fail_msg("the lock probe is not in the registry");
	return 0;
}

static void take(struct lockstat_mutex *m, int times)
{
	for (int i = 0; i < times; i++) {
		lockstat_lock(m);
		lockstat_unlock(m);
	}
}

/* No instrumented lock taken: no "lock" object (never zeros). */
static void test_no_lock_no_figures(void **state)
{
	(void)state;
	struct probe_config c = {.workers = 2};
	void *st = NULL;
	errbuf e;
	assert_int_equal(probe_lock.start(&c, &st, &e), 0);
	json_t *rep = json_pack("{s:f}", "wall_s", 0.5);
	assert_int_equal(probe_lock.stop(st, rep, &e), 0);
	assert_null(json_object_get(rep, "lock"));
	probe_lock.release(st);
	json_decref(rep);
}

/* A worker's report, framed by the registry, is added to the runner's own
 * acquisitions; start() forgets the previous repetition's. */
static void test_worker_reports_merge(void **state)
{
	(void)state;
	struct lockstat_mutex m;
	errbuf e;
	assert_int_equal(lockstat_mutex_init(&m, "probe-test", &e), 0);
	take(&m, 3);
	unsigned char buf[2048];
	size_t len = probes_worker_report(buf, sizeof buf); /* "the worker" */
	assert_true(len > 0);

	void *states[16] = {0};
	size_t k = index_of_lock_probe();
	struct probe_config c = {.workers = 2};
	assert_int_equal(probe_lock.start(&c, &states[k], &e), 0); /* resets */
	take(&m, 5);
	probes_collect(states, buf, len);
	probes_collect(states, buf, len / 2); /* torn: ignored */
	json_t *rep = json_pack("{s:f}", "wall_s", 0.5);
	assert_int_equal(probe_lock.stop(states[k], rep, &e), 0);
	json_t *lock = json_object_get(rep, "lock");
	assert_non_null(lock);
	assert_int_equal(json_integer_value(json_object_get(lock, "acquisitions")), 3 + 5);
	probe_lock.release(states[k]);
	json_decref(rep);
	lockstat_mutex_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_lock_no_figures),
		cmocka_unit_test(test_worker_reports_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
