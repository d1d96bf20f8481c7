/* fuzz_elf.c - an ELF image as `contend scan` reads it (hs_scan_image:
 * symbol tables, relocations, PLT, call sites disassembled with capstone).
 *
 * Property: a corrupt image becomes a skip or a binary with a verdict;
 * the JSON report of it can always be made. */
#include "probes/hookscan.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_report r;
	errbuf e = {{0}};
	/* libelf may rewrite the image in place: give it a copy */
	void *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	hs_report_init(&r);
	if (hs_scan_image(&r, "fuzz.so", buf, size, &e) == 0) {
		FUZZ_CHECK(r.nbins + r.nskips == 1);
		for (size_t i = 0; i < r.nbins; i++) {
			FUZZ_CHECK(r.bins[i].nsyms <= HS_MAX_SYMS);
			FUZZ_CHECK(hs_verdict_message(&r.bins[i]));
		}
		json_t *j = hs_report_json(&r);
		FUZZ_CHECK(j);
		json_decref(j);
	}
	hs_report_free(&r);
	free(buf);
	return 0;
}
