/* hash.c - the digest used for task results and checksums, and the
 * per-thread words of a failed task.
 *
 * FNV-1a over bytes and a 64-bit mixer for words: cheap, deterministic on
 * every platform, and good enough to tell two different results apart. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench/workload.h"

uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t hash_u64(uint64_t h, uint64_t v)
{
	/* splitmix64 finaliser on the combination: one multiply chain per
	 * word instead of eight byte steps. */
	uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t checksum_task_hashes(const void *ctx, const struct task_result *res,
			      size_t n)
{
	(void)ctx;
	uint64_t h = HASH_SEED;
	for (size_t i = 0; i < n; i++)
		h = hash_u64(h, res[i].hash);
	return h;
}

/* One line per thread: the reason of the task that failed last in it. */
static _Thread_local char task_error_msg[160];

void task_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(task_error_msg, sizeof task_error_msg, fmt, ap);
	va_end(ap);
}

void task_error_take(char *buf, size_t len)
{
	if (len)
		snprintf(buf, len, "%s", task_error_msg);
	task_error_msg[0] = 0;
}
