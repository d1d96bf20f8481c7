/* fuzz_params.c - `--params key=value,...` (bench/params.c) against every
 * workload's parameter table.
 *
 * Properties: what parses holds every parameter of the table, each once;
 * the typed getters never crash on any value; params_format() output parses
 * back to the same parameters (documents record it and runners re-read it). */
#include "bench/params.h"
#include "bench/workload.h"
#include "tests/fuzz/fuzz.h"

static void getters(const struct params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		long l;
		double d;
		errbuf e;
		params_long(p, p->kv[i].key, -1000000, 1000000, &l, &e);
		params_double(p, p->kv[i].key, -1e9, 1e9, &d, &e);
		FUZZ_CHECK(params_get(p, p->kv[i].key) == p->kv[i].val);
	}
}

static void round_trip(const struct param_spec *spec, const struct params *p)
{
	char text[PARAMS_MAX * (PARAM_KEY_MAX + PARAM_VAL_MAX + 2)];
	struct params again;
	errbuf e;
	FUZZ_CHECK(params_format(p, text, sizeof text) == 0);
	FUZZ_CHECK(params_parse(spec, text, &again, &e) == 0);
	FUZZ_CHECK(again.n == p->n);
	for (size_t i = 0; i < p->n; i++) {
		FUZZ_CHECK(!strcmp(again.kv[i].key, p->kv[i].key));
		FUZZ_CHECK(!strcmp(again.kv[i].val, p->kv[i].val));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	for (size_t w = 0; workloads[w]; w++) {
		const struct param_spec *spec = workloads[w]->params;
		struct params p;
		errbuf e = {{0}};
		if (params_parse(spec, text, &p, &e)) {
			FUZZ_CHECK(e.msg[0]);
			continue;
		}
		size_t nspec = 0;
		for (; spec[nspec].name; nspec++)
			FUZZ_CHECK(params_get(&p, spec[nspec].name));
		FUZZ_CHECK(p.n == nspec);
		getters(&p);
		round_trip(spec, &p);
	}
	free(text);
	return 0;
}
