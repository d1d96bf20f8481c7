/* fuzz_results.c - a results document as `contend report` reads it:
 * results_load (JSON + validation), then everything rendered from it:
 * summary_document, the table, and every export format, into /dev/null;
 * and `contend compare` of the document against itself (the engine and
 * its JSON).
 *
 * Property: a document that validates renders without crashing, leaking
 * or tripping a sanitizer, however odd its numbers and strings. */
#include "analysis/compare.h"
#include "report/export.h"
#include "document/results.h"
#include "analysis/summary.h"
#include "report/table.h"
#include "analysis/usl.h"
#include "tests/fuzz/fuzz.h"

static FILE *devnull;

static void render(json_t *doc)
{
	errbuf e;
	summary_document(doc);
	table_render(doc, devnull);
	for (size_t i = 0; export_formats[i]; i++)
		export_doc(doc, export_formats[i], devnull, &e);
	json_t *cols, *rows;
	if (!export_table(doc, &cols, &rows, &e)) {
		json_decref(cols);
		json_decref(rows);
	}
	json_decref(usl_fit_document(doc));
	struct compare_opts o = {.threshold = 0.05, .alpha = 0.05};
	struct compare_result r;
	if (!compare_docs(doc, doc, &o, &r, &e)) {
		json_decref(compare_result_json(&r, &o));
		compare_result_free(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	json_t *doc;
	errbuf e = {{0}};
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	int fd = fuzz_memfd(data, size, path, sizeof path);
	if (results_load(path, &doc, &e) == 0) {
		render(doc);
		/* rendering twice must be as safe: reports re-summarise */
		render(doc);
		json_decref(doc);
	} else {
		FUZZ_CHECK(e.msg[0] && !doc);
	}
	close(fd);
	return 0;
}
