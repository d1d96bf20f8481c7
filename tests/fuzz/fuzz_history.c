/* fuzz_history.c - a history database that is not what it should be
 * (truncated, bit-flipped, another program's SQLite file, not SQLite at
 * all), opened as `contend history list/compare/dashboard` open it.
 *
 * Property: history_open refuses it with a reason, or every read of it
 * works or fails with a reason; nothing crashes, leaks or hangs. */
#include "document/history.h"
#include "tests/fuzz/fuzz.h"

static void read_runs(history *h, json_t *runs)
{
	json_t *r, *doc;
	size_t i;
	errbuf e;
	json_array_foreach(runs, i, r) {
		json_t *id = json_object_get(r, "run_id");
		if (json_is_integer(id) &&
		    !history_get_run(h, json_integer_value(id), &doc, &e))
			json_decref(doc);
	}
}

static void read_trends(history *h)
{
	json_t *names, *n, *trend;
	size_t i;
	errbuf e;
	if (history_workloads(h, &names, &e))
		return;
	json_array_foreach(names, i, n) {
		int64_t run;
		const char *w = json_string_value(n);
		if (!w)
			continue;
		if (!history_trend(h, w, NULL, 10, &trend, &e))
			json_decref(trend);
		history_latest_run(h, w, NULL, &run, &e);
	}
	json_decref(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	history *h;
	json_t *runs;
	errbuf e = {{0}};
	fuzz_file("history.db", data, size, path, sizeof path);
	if (history_open(path, 0, &h, &e)) {
		FUZZ_CHECK(e.msg[0] && !h);
		return 0;
	}
	if (!history_list(h, &runs, &e)) {
		read_runs(h, runs);
		json_decref(runs);
	}
	read_trends(h);
	int64_t base, newest;
	history_pick_pair(h, NULL, 1, &base, &newest, &e);
	history_close(h);
	return 0;
}
