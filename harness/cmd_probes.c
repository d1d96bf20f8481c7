/* cmd_probes.c - `contend probes`: what this machine can measure, per
 * counter and backend, and why not the rest (kernel settings, PMU, PAPI
 * components), found by really opening every counter; text or --json. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness/commands.h"
#include "harness/verb.h"
#include "common/err.h"
#include "document/doc.h"
#include "probes/counters.h"

#define COST_ITERATIONS 50

static void usage(FILE *f)
{
	fprintf(f,
		"usage: contend probes [--json]\n\n"
		"Says what this machine can measure while workloads run: each\n"
		"hardware and software counter from PAPI and from perf_event_open\n"
		"(available, or the reason it is not), the backend --counters auto\n"
		"would take, the kernel settings behind it (perf_event_paranoid,\n"
		"an exposed PMU, privileges), PAPI's components, and the cost of\n"
		"counting.\n\n"
		"  --json       print the same as one JSON object\n"
		"  -h, --help   this help\n"
		"\n" VERB_EXIT_HELP);
}

static json_t *cost_json(errbuf *e)
{
	double ss, rd;
	if (counters_measure_cost(COUNTERS_AUTO, COST_ITERATIONS, &ss, &rd, e) < 0)
		return NULL;
	return json_pack("{s:s, s:f, s:f, s:i}", "mode", "auto", "start_stop_us",
			 ss, "read_us", rd, "iterations", COST_ITERATIONS);
}

static json_t *gather(errbuf *e)
{
	json_t *o = counters_describe(e);
	if (!o)
		return NULL;
	json_t *cost = cost_json(e);
	if (!cost) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "cost", cost);
	json_object_set_new(o, "rusage",
			    json_pack("{s:b, s:s}", "available", 1, "source",
				      "getrusage(RUSAGE_SELF + RUSAGE_CHILDREN)"));
	return o;
}

static void print_kernel(json_t *k)
{
	json_t *p = json_object_get(k, "perf_event_paranoid");
	printf("kernel\n");
	if (json_is_integer(p))
		printf("  perf_event_paranoid  %lld (%s)\n",
		       (long long)json_integer_value(p), doc_str(k, "paranoid_meaning", ""));
	else
		printf("  perf_event_paranoid  unknown (%s)\n",
		       doc_str(k, "paranoid_meaning", ""));
	printf("  this process         %s\n",
	       doc_bool(k, "privileged", 0)
		       ? "privileged (root, CAP_PERFMON or CAP_SYS_ADMIN): "
			 "paranoid does not bind it"
		       : "unprivileged: perf_event_paranoid applies");
	if (json_is_string(json_object_get(k, "pmu")))
		printf("  hardware PMU         %s (%s/%s)\n", doc_str(k, "pmu", ""),
		       doc_str(k, "pmu_path", ""), doc_str(k, "pmu", ""));
	else
		printf("  hardware PMU         none exposed (no cpu PMU under %s)\n",
		       doc_str(k, "pmu_path", ""));
	printf("  hypervisor           %s\n",
	       doc_bool(k, "hypervisor", 0) ? "yes" : "no");
}

static void print_papi(json_t *p)
{
	size_t i;
	json_t *c;
	if (!json_is_string(json_object_get(p, "version"))) {
		printf("PAPI\n  unusable: %s\n", doc_str(p, "reason", ""));
		return;
	}
	printf("PAPI %s\n", doc_str(p, "version", ""));
	json_array_foreach(json_object_get(p, "components"), i, c) {
		if (doc_bool(c, "active", 0))
			printf("  %-20s active, %lld counters\n", doc_str(c, "name", ""),
			       (long long)doc_int(c, "counters", 0));
		else
			printf("  %-20s disabled: %s\n", doc_str(c, "name", ""),
			       doc_str(c, "reason", ""));
	}
}

static const char *cell(json_t *a)
{
	if (!doc_bool(a, "available", 0))
		return "no";
	return doc_bool(a, "user_only", 0) ? "user" : "yes";
}

/* Reasons repeat (one disabled PAPI component refuses every preset): list
 * each once, with the counters it applies to. */
static void add_reason(json_t *why, const char *reason, const char *name)
{
	json_t *names = json_object_get(why, reason);
	if (!names) {
		names = json_array();
		json_object_set_new(why, reason, names);
	}
	json_array_append_new(names, json_string(name));
}

static void print_reasons(json_t *why)
{
	const char *reason;
	json_t *names, *n;
	size_t i;
	if (json_object_size(why) == 0)
		return;
	printf("why not:\n");
	json_object_foreach(why, reason, names) {
		printf("  ");
		json_array_foreach(names, i, n)
			printf("%s%s", i ? ", " : "", json_string_value(n));
		printf(":\n      %s\n", reason);
	}
}

static void print_counters(json_t *counters)
{
	size_t i;
	json_t *c, *why = json_object();
	printf("counters (papi/perf: that backend alone; auto: what --counters "
	       "auto takes)\n");
	printf("  %-18s %-5s %-5s %s\n", "counter", "papi", "perf", "auto");
	json_array_foreach(counters, i, c) {
		json_t *a = json_object_get(c, "auto");
		const char *name = doc_str(c, "name", "");
		printf("  %-18s %-5s %-5s %s\n", name,
		       cell(json_object_get(c, "papi")),
		       cell(json_object_get(c, "perf")),
		       doc_bool(a, "available", 0)
			       ? doc_str(a, "backend", "")
			       : "-");
		const char *keys[] = {"papi", "perf"};
		for (int k = 0; k < 2; k++) {
			json_t *b = json_object_get(c, keys[k]);
			if (!doc_bool(b, "available", 0))
				add_reason(why, doc_str(b, "reason", ""), name);
		}
	}
	printf("  (user: kernel part excluded by perf_event_paranoid)\n");
	print_reasons(why);
	json_decref(why);
}

static void print_text(json_t *o)
{
	json_t *cost = json_object_get(o, "cost");
	print_kernel(json_object_get(o, "kernel"));
	print_papi(json_object_get(o, "papi"));
	print_counters(json_object_get(o, "counters"));
	printf("rusage (%s): voluntary and involuntary context switches, page "
	       "faults: always\n",
	       doc_str(json_object_get(o, "rusage"), "source", ""));
	printf("cost (--counters auto, median of %lld): start+stop %.1f us, one "
	       "read of all counters %.1f us\n",
	       (long long)doc_int(cost, "iterations", 0),
	       doc_num(cost, "start_stop_us", 0),
	       doc_num(cost, "read_us", 0));
}

int cmd_probes(int argc, char **argv)
{
	int as_json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			as_json = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			return verb_error("probes", EXIT_USAGE, "unknown option "
					  "'%s' (see 'contend probes --help')",
					  argv[i]);
		}
	}
	errbuf e = {{0}};
	json_t *o = gather(&e);
	if (!o) {
		return verb_fail("probes", EXIT_RUNTIME, &e);
	}
	if (as_json) {
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_text(o);
	}
	json_decref(o);
	return EXIT_OK;
}
