/* fuzz_lockprof.c - the per-process reports the LD_PRELOAD lock profiler
 * writes, as `contend exec` merges them (lockprof_merge_dir). They come
 * from whatever program was profiled, which may die mid-write.
 *
 * Input: one report, merged alone and next to a copy of itself (the
 * merge of two processes' reports). Property: a report that is not one
 * is skipped with a reason, never fatal. */
#include "probes/lockprof_report.h"
#include "tests/fuzz/fuzz.h"

static void merge(void)
{
	json_t *summary;
	errbuf e = {{0}};
	FUZZ_CHECK(lockprof_merge_dir(fuzz_dir(), &summary, &e) == 0);
	json_decref(summary);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[512], b[512];
	fuzz_file("lockprof-1.json", data, size, a, sizeof a);
	merge();
	fuzz_file("lockprof-2.json", data, size, b, sizeof b);
	merge();
	unlink(b);
	return 0;
}
