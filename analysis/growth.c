/* growth.c - memory that grows with the tasks (memory-growth evidence).
 *
 * Memory a pool needs per worker comes and goes with the tasks running;
 * memory held by finished tasks keeps climbing as tasks finish. On the
 * median repetition's series (smoothed by a moving median over 5 samples;
 * tasks taken as evenly spread over the time), leaving out the first
 * 2 x workers tasks (at least the first 3 samples: the pool starting and
 * the workers' first inputs), a climb is a rise from a low sample to a
 * later high one. A climb counts when it is >= 8 MiB, at least half of
 * what the first 2 x workers tasks took (the workers' working set), and
 * lasted while more than 4 x workers tasks finished: with memory freed as
 * tasks end, no climb outlasts about one task per worker; the margin
 * keeps a loaded machine's uneven task timing (or an allocator growing
 * its arenas) from raising the flag.
 *   - Memory grew with tasks when the largest climb counts.
 *   - Held per finished task is not that climb's rise over its tasks.
 *     With a deferred release the memory saws up and down, and the
 *     largest climb may start low in one tooth and end high in a later
 *     one: its tasks include those whose memory a collection freed in
 *     between (a 6 MiB task read as 2.4). So the series is cut into teeth
 *     where it falls below the tooth's high by more than a climb needs to
 *     count (a fall that large is memory freed, not a working set
 *     breathing), each tooth's own largest climb is taken, and the figure
 *     is the rate over the teeth whose climb counts: their rises over
 *     their tasks. Pooled rather than the steepest tooth's: tasks are
 *     placed by time, so a tooth whose tasks ran faster than the
 *     repetition's average reads steeper, and the steepest of several is
 *     the one the timing flattered (on a loaded machine, by a quarter).
 *     With no tooth that counts (teeth shorter than 4 x workers tasks),
 *     the largest climb's rate stands.
 *   - A climb's rise is the least-squares slope of the raw samples from
 *     its low to its high times its span: the smoothing that finds the
 *     climb rounds off the top and bottom of each tooth, and the fit does
 *     not hang on two samples' jitter.
 * Each step is one pass over the series (at most SERIES_MAX points). An
 * allocator that keeps freed pages makes later teeth of an RSS saw
 * shallow, so RSS may understate the rate; the heap figure does not. */

#include "analysis/growth.h"

#include <math.h>
#include <stdlib.h>

#include "analysis/stats.h"
#include "document/doc.h"

#define GROWTH_MIN_BYTES (8.0 * 1048576)
#define SERIES_MAX GROWTH_SERIES_MAX

/* The series of the repetition with the median wall time among those
 * that have one. */
json_t *growth_median_series(json_t *c)
{
	double walls[512], med, off = INFINITY;
	size_t n = 0, i;
	json_t *r, *best = NULL;
	json_array_foreach(json_object_get(c, "reps"), i, r)
		if (json_object_get(json_object_get(r, "memory"), "series") && n < 512)
			walls[n++] = doc_num(r, "wall_s", NAN);
	med = stats_median(walls, n);
	json_array_foreach(json_object_get(c, "reps"), i, r) {
		json_t *s = json_object_get(json_object_get(r, "memory"), "series");
		if (s && fabs(doc_num(r, "wall_s", NAN) - med) < off) {
			best = s;
			off = fabs(doc_num(r, "wall_s", NAN) - med);
		}
	}
	return best;
}

/* Points of one column of a series; samples without it are skipped. */
size_t growth_series_points(json_t *s, const char *key, double *t, double *v)
{
	json_t *ts = json_object_get(s, "t_s"), *vs = json_object_get(s, key);
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(ts) && n < SERIES_MAX; i++)
		if (json_is_number(json_array_get(ts, i)) &&
		    json_is_number(json_array_get(vs, i))) {
			t[n] = json_number_value(json_array_get(ts, i));
			v[n++] = json_number_value(json_array_get(vs, i));
		}
	return n;
}

/* Each task's own buffers make the memory jitter up and down by a task's
 * worth; a moving median over 5 samples keeps that jitter from passing
 * for a climb. The window stays centred (narrower at the ends): a
 * lopsided one would carry the last high past the pool freeing it all
 * at the end, and a climb's fit would take that final drop in. */
void growth_smooth(const double *v, size_t n, double *m)
{
	for (size_t i = 0; i < n; i++) {
		size_t h = i < 2 ? i : 2;
		if (n - 1 - i < h)
			h = n - 1 - i;
		m[i] = stats_median(v + i - h, 2 * h + 1);
	}
}

/* A series with what a climb must be to count (rule above). */
struct growth {
	const double *t, *v, *m;	/* times, raw and smoothed values */
	size_t n, first;		/* samples; the first after the start */
	double span, ntasks, workers;
	double need;			/* the least rise that counts */
};

static double tasks_between(const struct growth *g, size_t lo, size_t hi)
{
	return g->ntasks * (g->t[hi] - g->t[lo]) / g->span;
}

static int climb_counts(const struct growth *g, size_t lo, size_t hi)
{
	return hi >= lo + 2 && g->m[hi] - g->m[lo] >= g->need &&
	       tasks_between(g, lo, hi) > 4 * g->workers;
}

/* The largest rise from a low sample to a later high one in [a, b). */
static void largest_climb(const struct growth *g, size_t a, size_t b,
			  size_t *lo, size_t *hi)
{
	size_t low = a;
	*lo = *hi = a;
	for (size_t i = a; i < b; i++) {
		if (g->m[i] < g->m[low])
			low = i;
		if (g->m[i] - g->m[low] > g->m[*hi] - g->m[*lo])
			*lo = low, *hi = i;
	}
}

/* The rise from lo to hi by the least-squares slope of the raw samples
 * between them. */
static double fitted_rise(const struct growth *g, size_t lo, size_t hi)
{
	double st = 0, sv = 0, stt = 0, stv = 0, k = (double)(hi - lo + 1);
	for (size_t i = lo; i <= hi; i++) {
		double t = g->t[i] - g->t[lo];
		st += t, sv += g->v[i], stt += t * t, stv += t * g->v[i];
	}
	double den = stt - st * st / k;
	if (den <= 0)
		return NAN;
	return (stv - st * sv / k) / den * (g->t[hi] - g->t[lo]);
}

/* Add the climb [lo, hi] to *sum if it counts. */
static void add_climb(const struct growth *g, size_t lo, size_t hi,
		      struct growth_climbs *sum)
{
	double rise = climb_counts(g, lo, hi) ? fitted_rise(g, lo, hi) : NAN;
	if (!(rise > 0))
		return;
	sum->rise += rise;
	sum->tasks += tasks_between(g, lo, hi);
	sum->n++;
}

/* The teeth whose climb counts, or the largest climb [lo, hi] when none
 * does (rule above). */
static struct growth_climbs sustained_climbs(const struct growth *g, size_t lo,
				      size_t hi)
{
	struct growth_climbs sum = {0, 0, 0};
	size_t a = g->first, l, h;
	double high = g->m[a];
	for (size_t i = a; i <= g->n; i++) {
		if (i < g->n && g->m[i] >= high - g->need) {
			high = fmax(high, g->m[i]);
			continue;
		}
		largest_climb(g, a, i, &l, &h);
		add_climb(g, l, h, &sum);
		if (i < g->n)
			a = i, high = g->m[i];
	}
	if (!sum.n)
		add_climb(g, lo, hi, &sum);
	return sum;
}

/* Bytes held per finished task, or NAN when memory did not grow with the
 * tasks (rule above); *over says over what. */
double growth_held_per_task(const double *t, const double *v, size_t n,
			    double ntasks, double workers, struct growth_climbs *over)
{
	*over = (struct growth_climbs){0, 0, 0};
	if (n < 4 || ntasks < 4 * workers || t[n - 1] <= t[0])
		return NAN;
	double *m = malloc(n * sizeof *m);
	if (!m)
		return NAN;
	growth_smooth(v, n, m);
	struct growth g = {t, v, m, n, 0, t[n - 1] - t[0], ntasks, workers, 0};
	double t1 = fmax(t[0] + g.span * 2 * workers / ntasks, t[2]);
	/* What the running workers need shows in the first tasks: growth
	 * smaller than half of that is a working set breathing, not memory
	 * piling up. */
	for (; g.first < n && t[g.first] <= t1; g.first++)
		g.need = fmax(g.need, v[g.first] - v[0]);
	g.need = fmax(g.need / 2, GROWTH_MIN_BYTES);
	size_t lo, hi;
	if (g.first < n) {
		largest_climb(&g, g.first, n, &lo, &hi);
		if (climb_counts(&g, lo, hi))
			*over = sustained_climbs(&g, lo, hi);
	}
	free(m);
	return over->n ? over->rise / over->tasks : NAN;
}

size_t growth_of_config(json_t *c, struct growth_finding out[2])
{
	double *t = malloc(2 * SERIES_MAX * sizeof *t), *v = t ? t + SERIES_MAX : NULL;
	static const char *const keys[][2] = {{"heap_bytes", "heap in use"},
					       {"rss_bytes", "RSS"},
					       {"devshm_bytes", "/dev/shm"}};
	json_t *s = growth_median_series(c);
	double w = (double)doc_workers(c);
	size_t found = 0;
	/* The heap, where measured (the workload ran in the runner), is the
	 * truer figure: RSS keeps what the allocator kept after a free. */
	size_t use[2] = {json_is_array(json_object_get(s, "heap_bytes")) ? 0 : 1, 2};
	for (size_t j = 0; s && t && j < 2; j++) {
		size_t k = use[j];
		size_t n = growth_series_points(s, keys[k][0], t, v);
		struct growth_climbs over;
		double per = growth_held_per_task(t, v, n, doc_num(c, "ntasks", NAN),
						  w, &over);
		if (!isfinite(per))
			continue;
		out[found++] = (struct growth_finding){keys[k][0], keys[k][1], per, over};
	}
	free(t);
	return found;
}
