/* fuzz_cli.c - the command-line value parsers (harness/cli.c) and the
 * option parsers built on them: worker lists, name lists, numbers,
 * --inject, --counters, --lock-model, scan --kinds.
 *
 * Input: one selector byte, then the option's text. Properties: a list
 * that parses has 1..CLI_LIST_MAX distinct values within the bounds; a
 * number that parses is within its bounds; a failure says why. */
#include <math.h>

#include "harness/cli.h"
#include "pools/inject.h"
#include "probes/counters.h"
#include "probes/gil.h"
#include "probes/hookscan.h"
#include "tests/fuzz/fuzz.h"

static const char *const pools[] = {"serial", "thread", "process", NULL};

static void int_list(const char *text, int min, int max)
{
	int v[CLI_LIST_MAX];
	size_t n = 99;
	errbuf e = {{0}};
	if (cli_int_list("--workers", text, min, max, v, &n, &e)) {
		FUZZ_CHECK(e.msg[0]);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= CLI_LIST_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(v[i] >= min && v[i] <= max);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(v[i] != v[j]);
	}
}

static void name_list(const char *text, const char *const *allowed)
{
	char out[CLI_LIST_MAX][32];
	size_t n = 99;
	errbuf e = {{0}};
	if (cli_name_list("--pool", text, allowed, out, &n, &e)) {
		FUZZ_CHECK(e.msg[0]);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= CLI_LIST_MAX);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(out[i][0] && strlen(out[i]) < 32 && !strchr(out[i], ','));
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(out[i], out[j]));
	}
}

static void numbers(const char *text)
{
	long l = 0;
	double d = 0;
	errbuf e = {{0}};
	if (!cli_int("--reps", text, 1, 1000, &l, &e))
		FUZZ_CHECK(l >= 1 && l <= 1000);
	if (!cli_double("--task-timeout", text, 0.001, 1e6, &d, &e))
		FUZZ_CHECK(isfinite(d) && d >= 0.001 && d <= 1e6);
}

static void others(const char *text)
{
	int kind;
	long task;
	enum counters_mode cm;
	enum lock_model lm;
	unsigned mask;
	errbuf e = {{0}};
	if (!inject_parse(text, &kind, &task, &e))
		FUZZ_CHECK(strcmp(inject_name(kind), "?") && task >= 0);
	counters_parse_mode(text, &cm, &e);
	lock_model_parse(text, &lm, &e);
	if (!hook_kinds_parse(text, &mask, &e))
		FUZZ_CHECK((mask & ~(HK_ALL | HS_FAIL_UNKNOWN)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 5) {
	case 0:
		int_list(text, 1, WORKERS_MAX);
		break;
	case 1: /* a small range, so "1-9999" style ranges overflow it */
		int_list(text, 0, 70);
		break;
	case 2:
		name_list(text, pools);
		break;
	case 3:
		name_list(text, NULL);
		numbers(text);
		break;
	default:
		others(text);
		break;
	}
	free(text);
	return 0;
}
