/* fuzz_gbench.c - Google Benchmark JSON as `contend history add` and
 * `compare` read it (history_load_file maps it onto a results document).
 *
 * Properties: what the import makes is a valid results document (it is
 * stored and rendered as one), and it renders like any other. */
#include "document/history.h"
#include "document/results.h"
#include "analysis/summary.h"
#include "report/table.h"
#include "tests/fuzz/fuzz.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	json_t *doc;
	const char *source = NULL;
	errbuf e = {{0}};
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	int fd = fuzz_memfd(data, size, path, sizeof path);
	if (history_load_file(path, &doc, &source, &e) == 0) {
		FUZZ_CHECK(source);
		FUZZ_CHECK(results_validate(doc, &e) == 0);
		summary_document(doc);
		table_render(doc, devnull);
		json_decref(doc);
	} else {
		FUZZ_CHECK(e.msg[0] && !doc);
	}
	close(fd);
	return 0;
}
