/* growth.h - memory that grows with the tasks rather than the workers:
 * the climbs of a repetition's memory series (rule in growth.c), for the
 * memory-growth and shm-growth diagnosis. */
#ifndef CONTEND_GROWTH_H
#define CONTEND_GROWTH_H

#include <jansson.h>
#include <stddef.h>

#define GROWTH_SERIES_MAX 4096 /* points of a series looked at */

/* Climbs that count, added up. */
struct growth_climbs {
	double rise, tasks; /* bytes (fitted), tasks finished */
	int n;
};

/* The memory series of the repetition with the median wall time among
 * those that have one (borrowed), or NULL. */
json_t *growth_median_series(json_t *config);

/* Points (t, v) of one column of a series, at most GROWTH_SERIES_MAX;
 * samples without it are skipped. */
size_t growth_series_points(json_t *series, const char *key, double *t,
			    double *v);

/* A centred moving median over 5 samples (narrower at the ends) of v
 * into m: a task's own buffers coming and going are not a climb. */
void growth_smooth(const double *v, size_t n, double *m);

/* Bytes held per finished task, or NAN when memory did not grow with the
 * tasks; *over says over what. */
double growth_held_per_task(const double *t, const double *v, size_t n,
			    double ntasks, double workers,
			    struct growth_climbs *over);

/* One column that grew with the tasks. */
struct growth_finding {
	const char *key;   /* "heap_bytes", "rss_bytes" or "devshm_bytes" */
	const char *label; /* "heap in use", "RSS", "/dev/shm" */
	double per_task;   /* bytes held per finished task */
	struct growth_climbs over;
};

/* The configuration's median series: the heap (else RSS), then /dev/shm;
 * returns how many grew with the tasks (0..2). Needs config.ntasks. */
size_t growth_of_config(json_t *config, struct growth_finding out[2]);

#endif
