/* memsampler.h - the memory probe: a background thread that samples a whole
 * process tree's RSS, thread count, page cache, Shmem and /dev/shm use.
 * Story 3 (memory under pools) is only visible as memory over time. */
#ifndef CONTEND_MEMSAMPLER_H
#define CONTEND_MEMSAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "probes/probe.h"

#define MEMSAMPLER_DEFAULT_INTERVAL_S 0.020
#define MEMSAMPLER_MIN_INTERVAL_S 0.001
#define MEMSAMPLER_MAX_INTERVAL_S 60.0
#define MEMSAMPLER_DEFAULT_MAX_POINTS 512 /* ~40 KB of JSON per repetition */

/* One reading of the tree rooted at a pid (root included). */
struct memsample {
	double t_s;	   /* seconds since the sampler started */
	uint64_t rss;	   /* sum of RSS over the processes (shared pages
			    * count once per process that maps them) */
	uint64_t anon;	   /* sum of RSS less file-backed and shmem pages
			    * (statm resident - shared): the processes' own
			    * memory, without libraries, memmaps and
			    * /dev/shm (copy-on-write pages still count once
			    * per process) */
	uint64_t pss;	   /* sum of PSS (smaps_rollup), 0 when not read */
	int pss_valid;	   /* pss was read in this sample */
	uint32_t threads;  /* threads over all the processes */
	uint32_t procs;	   /* processes in the tree */
	uint64_t cached;   /* /proc/meminfo Cached (system-wide) */
	uint64_t shmem;	   /* /proc/meminfo Shmem (system-wide) */
	uint64_t devshm;   /* bytes used on /dev/shm (statvfs) */
	int devshm_valid;  /* /dev/shm could be measured */
	uint32_t devshm_files; /* data files (64 KiB or more) under /dev/shm
				* and its folders (3 deep; counting stops
				* at 100000) */
	uint64_t heap;	   /* malloc's bytes in use in this process */
	int heap_valid;	   /* heap was read (opts.heap) */
};

struct memsampler_opts {
	pid_t root;		/* 0 = the calling process */
	double interval_s;	/* [MIN, MAX]; 0 = default 20 ms */
	size_t max_points;	/* series bound; 0 = default; min 16 */
	int pss;		/* read smaps_rollup now and then (1) */
	const char *devshm_path; /* NULL = "/dev/shm" (tests may redirect) */
	/* Also read malloc's bytes in use (mallinfo2). Only the calling
	 * process's, so only for a workload running in it: RSS keeps pages
	 * the allocator kept after a free, the heap figure does not. */
	int heap;
};

/* Peaks over every sample taken (not only the kept series points). */
struct memsampler_summary {
	uint64_t samples;
	uint64_t pss_readings;	/* samples that read PSS (it is read sparsely) */
	uint64_t baseline_rss;	/* first sample, taken inside start() */
	uint64_t peak_rss, peak_pss, peak_cached, peak_shmem, peak_devshm;
	uint64_t peak_heap;	/* when opts.heap */
	uint32_t peak_devshm_files;
	uint32_t peak_threads, peak_procs;
	int pss_available;	/* at least one PSS reading succeeded */
	int devshm_available;
	char pss_reason[192], devshm_reason[192];
	double wall_s;		/* start to stop */
	double cpu_s;		/* sampler thread CPU time */
	double cpu_fraction;	/* cpu_s / wall_s: its cost on one core */
	double mean_sample_us;	/* CPU per sample (walk + bookkeeping) */
};

struct memsampler;

/* Validate opts, take the baseline sample and start the thread. */
int memsampler_start(const struct memsampler_opts *o, struct memsampler **out,
		     errbuf *e);
/* Wake and join the thread (promptly, whatever the interval), take one
 * last sample. Safe to call twice. */
/* CPU seconds the sampler's thread has used so far (its CPU clock), read
 * from another thread while it runs. */
double memsampler_thread_cpu_s(struct memsampler *s);

int memsampler_stop(struct memsampler *s, errbuf *e);
void memsampler_free(struct memsampler *s);

/* Valid after stop. */
void memsampler_summary(const struct memsampler *s,
			struct memsampler_summary *out);
/* The kept series (bounded; decimated by 2 whenever full). */
size_t memsampler_series(const struct memsampler *s,
			 const struct memsample **points);

/* The "memory" object of a repetition (see probe contract). */
json_t *memsampler_json(const struct memsampler *s);

/* One synchronous reading of the tree, without a thread: for tests and for
 * a one-off figure. want_pss reads smaps_rollup of every process. */
int memsample_once(pid_t root, int want_pss, const char *devshm_path,
		   struct memsample *out, errbuf *e);

/* The probe: name "memory"; state is a struct memsampler. */
extern const struct probe_ops probe_memory;

#endif
