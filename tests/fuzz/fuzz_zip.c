/* fuzz_zip.c - a wheel (zip archive) as `contend scan pkg.whl` reads it:
 * libzip's directory, then every member that looks like a binary is read
 * and scanned as ELF.
 *
 * Property: a corrupt archive or member becomes a skip with a reason;
 * nothing crashes, leaks, or reads past what the archive holds. */
#include "probes/hookscan.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	struct hs_report r;
	errbuf e = {{0}};
	fuzz_file("pkg-1.0-cp311-cp311-linux_x86_64.whl", data, size, path,
		  sizeof path);
	hs_report_init(&r);
	if (hs_scan_path(&r, path, &e) == 0) {
		for (size_t i = 0; i < r.nskips; i++)
			FUZZ_CHECK(r.skips[i].reason && r.skips[i].reason[0]);
		json_t *j = hs_report_json(&r);
		FUZZ_CHECK(j);
		json_decref(j);
	}
	hs_report_free(&r);
	return 0;
}
