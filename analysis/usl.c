/* usl.c - constrained least-squares fits of the Universal Scalability Law.
 *
 * A linearised non-negative start, a coarse grid and a projected
 * Levenberg-Marquardt refinement keep the fit robust on the 3-6 noisy
 * points a sweep gives, without any solver library. */
#include "analysis/usl.h"
#include "analysis/interference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "document/doc.h"
#include "document/groups.h"

double usl_predict(double sigma, double kappa, double n)
{
	return n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
}

static double sse(const double *n, const double *x, size_t m, double s,
		  double k)
{
	double acc = 0;
	for (size_t i = 0; i < m; i++) {
		double r = usl_predict(s, k, n[i]) - x[i];
		acc += r * r;
	}
	return acc;
}

/* Candidate (s, k) replaces the best one when it fits better. */
static void consider(const double *n, const double *x, size_t m, double s,
		     double k, double *bs, double *bk, double *berr)
{
	if (!(s >= 0) || !(k >= 0) || !isfinite(s) || !isfinite(k))
		return;
	double err = sse(n, x, m, s, k);
	if (err < *berr) {
		*berr = err;
		*bs = s;
		*bk = k;
	}
}

/* n/X - 1 = sigma (n-1) + kappa n (n-1) is linear: solve it with both
 * parameters, each alone, and neither (the active sets of a 2-D NNLS). */
static void linear_start(const double *n, const double *x, size_t m,
			 double *bs, double *bk, double *berr)
{
	double aa = 0, ab = 0, bb = 0, ay = 0, by = 0;
	for (size_t i = 0; i < m; i++) {
		double a = n[i] - 1, b = n[i] * (n[i] - 1);
		double y = n[i] / x[i] - 1;
		aa += a * a;
		ab += a * b;
		bb += b * b;
		ay += a * y;
		by += b * y;
	}
	double det = aa * bb - ab * ab;
	if (fabs(det) > 1e-12 * (aa * bb + 1e-300))
		consider(n, x, m, (ay * bb - by * ab) / det,
			 (aa * by - ab * ay) / det, bs, bk, berr);
	if (aa > 0)
		consider(n, x, m, fmax(0, ay / aa), 0, bs, bk, berr);
	if (bb > 0)
		consider(n, x, m, 0, fmax(0, by / bb), bs, bk, berr);
	consider(n, x, m, 0, 0, bs, bk, berr);
}

/* Log-spaced grid (with the zero bound) so no start is far from the
 * global minimum even when the linearisation is skewed by noise. */
static void grid_start(const double *n, const double *x, size_t m,
		       double *bs, double *bk, double *berr)
{
	for (int i = 0; i <= 40; i++) {
		double s = i ? pow(10, -5 + 5.5 * (i - 1) / 39.0) : 0;
		for (int j = 0; j <= 40; j++) {
			double k = j ? pow(10, -7 + 7.5 * (j - 1) / 39.0) : 0;
			consider(n, x, m, s, k, bs, bk, berr);
		}
	}
}

/* Projected Levenberg-Marquardt on the residuals X(n) - x. */
static void refine(const double *n, const double *x, size_t m, double *s,
		   double *k, double *err)
{
	double lambda = 1e-3;
	for (int it = 0; it < 500; it++) {
		double jss = 0, jsk = 0, jkk = 0, gs = 0, gk = 0;
		for (size_t i = 0; i < m; i++) {
			double d = 1 + *s * (n[i] - 1) + *k * n[i] * (n[i] - 1);
			double r = n[i] / d - x[i];
			double ds = -n[i] * (n[i] - 1) / (d * d);
			double dk = -n[i] * n[i] * (n[i] - 1) / (d * d);
			jss += ds * ds;
			jsk += ds * dk;
			jkk += dk * dk;
			gs += ds * r;
			gk += dk * r;
		}
		double a = jss * (1 + lambda), c = jkk * (1 + lambda);
		double det = a * c - jsk * jsk;
		if (!(fabs(det) > 1e-300))
			break;
		double ns = fmax(0, *s - (c * gs - jsk * gk) / det);
		double nk = fmax(0, *k - (a * gk - jsk * gs) / det);
		double nerr = sse(n, x, m, ns, nk);
		if (nerr < *err) {
			int done = *err - nerr <= 1e-15 * (*err + 1e-300);
			*s = ns;
			*k = nk;
			*err = nerr;
			lambda = fmax(lambda / 3, 1e-12);
			if (done)
				break;
		} else if ((lambda *= 4) > 1e12) {
			break;
		}
	}
}

static int check_points(const double *n, const double *x, size_t m,
			errbuf *e)
{
	if (m < USL_MIN_POINTS)
		return errf(e, "a USL fit needs %d or more worker counts, "
			    "got %zu", USL_MIN_POINTS, m);
	for (size_t i = 0; i < m; i++) {
		if (!(n[i] >= 1) || !isfinite(n[i]))
			return errf(e, "worker count %g is not >= 1", n[i]);
		if (!(x[i] > 0) || !isfinite(x[i]))
			return errf(e, "relative throughput %g at %g workers "
				    "is not a positive number", x[i], n[i]);
		for (size_t j = 0; j < i; j++)
			if (n[j] == n[i])
				return errf(e, "worker count %g appears twice",
					    n[i]);
	}
	return 0;
}

static double r_squared(const double *x, size_t m, double err)
{
	double mean = 0, sst = 0;
	for (size_t i = 0; i < m; i++)
		mean += x[i] / m;
	for (size_t i = 0; i < m; i++)
		sst += (x[i] - mean) * (x[i] - mean);
	return sst > 1e-300 ? 1 - err / sst : NAN;
}

static void set_peak(struct usl_fit *f)
{
	if (f->sigma >= 1) {
		f->peak_n = 1;
		f->peak_x = 1;
	} else if (f->kappa > 0) {
		f->peak_n = sqrt((1 - f->sigma) / f->kappa);
		f->peak_x = usl_predict(f->sigma, f->kappa, f->peak_n);
	} else {
		f->peak_n = INFINITY;
		f->peak_x = f->sigma > 0 ? 1 / f->sigma : INFINITY;
	}
}

int usl_fit(const double *n, const double *x, size_t count,
	    struct usl_fit *out, errbuf *e)
{
	if (check_points(n, x, count, e))
		return -1;
	double s = 0, k = 0, err = INFINITY;
	linear_start(n, x, count, &s, &k, &err);
	grid_start(n, x, count, &s, &k, &err);
	refine(n, x, count, &s, &k, &err);
	memset(out, 0, sizeof *out);
	out->sigma = s;
	out->kappa = k;
	out->npoints = count;
	out->r2 = r_squared(x, count, err);
	set_peak(out);
	return 0;
}

/* A peak past twice the cores is the curve's, not the machine's. */
static int beyond_cores(double peak, int cores)
{
	return cores > 0 && peak > 2.0 * cores;
}

void usl_describe(const struct usl_fit *f, double max_n, int cores,
		  char *buf, size_t len)
{
	/* First: a curve through points that all lose is the points' own
	 * verdict, however few they are. */
	if (f->sigma >= 1 || f->peak_n < 1.5)
		snprintf(buf, len, "no speedup at all: every added worker "
			 "makes it slower (contention sigma=%.2f, coherency "
			 "kappa=%.3g)", f->sigma, f->kappa);
	else if (f->npoints <= USL_MIN_POINTS)
		snprintf(buf, len, "%zu worker counts fit any two-parameter "
			 "curve exactly: no peak or limit can be read from "
			 "them (sigma=%.3f, kappa=%.3g); measure %d or more",
			 f->npoints, f->sigma, f->kappa, USL_MIN_POINTS + 1);
	else if (isfinite(f->peak_n) && f->peak_n <= max_n &&
		 beyond_cores(f->peak_n, cores))
		snprintf(buf, len, "the curve peaks near %.0f workers, an "
			 "extrapolation far past the %d core%s, where workers "
			 "only share them: the measured rows decide "
			 "(sigma=%.3f, kappa=%.3g)", f->peak_n, cores, cores == 1 ? "" : "s", f->sigma,
			 f->kappa);
	else if (isfinite(f->peak_n) && f->peak_n <= max_n)
		snprintf(buf, len, "throughput peaks near %.0f workers; beyond "
			 "that each worker makes it slower (sigma=%.3f, "
			 "kappa=%.3g)", f->peak_n, f->sigma, f->kappa);
	else if (isfinite(f->peak_n) && f->peak_n <= 100 * max_n)
		snprintf(buf, len, "an extrapolation: the curve keeps rising to "
			 "about %.0f workers (%.1fx), beyond the %.0f measured%s "
			 "(sigma=%.3f, kappa=%.3g)", f->peak_n, f->peak_x, max_n,
			 beyond_cores(f->peak_n, cores) ? " and the cores" : "",
			 f->sigma, f->kappa);
	else if (f->sigma > 1e-3)
		snprintf(buf, len, "no peak within reach: contention "
			 "sigma=%.2f limits speedup to %.0fx", f->sigma,
			 1 / f->sigma);
	else
		snprintf(buf, len, "scales almost linearly: no contention or "
			 "coherency cost measurable (sigma=%.2g, kappa=%.2g)",
			 f->sigma, f->kappa);
}

/* ---- series of a results document ---- */

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The fit object starts with the series' dimensions, copied from its
 * first configuration. */
static json_t *series_head(json_t *config, const char *key)
{
	json_t *o = json_pack("{s:s}", "series", key);
	const char *k;
	json_t *v;
	json_object_foreach(config, k, v)
		if (doc_is_dim(k, v))
			json_object_set(o, k, v);
	return o;
}

static int usable(json_t *c, double *workers, double *wall)
{
	const char *st = doc_str(c, "status", NULL);
	json_t *w = json_object_get(c, "workers");
	json_t *m = json_object_get(c, "median_wall_s");
	if (!st || strcmp(st, "ok") || !json_is_integer(w) || !json_is_number(m))
		return 0;
	*workers = (double)json_integer_value(w);
	*wall = json_number_value(m);
	/* a worker count no machine has is not a measurement (and would not
	 * convert back to an integer) */
	return *workers >= 1 && *workers <= 1e6 && *wall > 0 && isfinite(*wall);
}

struct series_pts {
	double n[256], wall[256];
	size_t m;
	size_t busy;	/* points measured while the machine was busy */
};

/* The usable points of one series (group k), first of each worker count. */
static void collect(json_t *configs, const struct doc_groups *g, size_t k,
		    struct series_pts *s)
{
	s->m = 0;
	s->busy = 0;
	for (size_t j = 0; j < doc_group_size(g, k); j++) {
		json_t *c = json_array_get(configs, doc_group_member(g, k, j));
		double n, wall;
		if (!usable(c, &n, &wall) || s->m == 256)
			continue;
		int dup = 0;
		for (size_t q = 0; q < s->m; q++)
			dup |= s->n[q] == n;
		if (!dup) {
			s->n[s->m] = n;
			s->wall[s->m++] = wall;
			s->busy += interference_busy(c) != 0;
		}
	}
}

static void set_fit_fields(json_t *o, const struct usl_fit *f, double max_n,
			   int cores)
{
	char sentence[256];
	usl_describe(f, max_n, cores, sentence, sizeof sentence);
	json_object_set_new(o, "fitted", json_true());
	json_object_set_new(o, "sigma", json_real(f->sigma));
	json_object_set_new(o, "kappa", json_real(f->kappa));
	json_object_set_new(o, "r2", num_or_null(f->r2));
	json_object_set_new(o, "peak_workers", num_or_null(f->peak_n));
	json_object_set_new(o, "peak_speedup", num_or_null(f->peak_x));
	json_object_set_new(o, "max_speedup",
			    f->kappa == 0 && f->sigma > 0
				    ? json_real(1 / f->sigma) : json_null());
	json_object_set_new(o, "summary", json_string(sentence));
}

static void set_unfitted(json_t *o, const char *reason)
{
	json_object_set_new(o, "fitted", json_false());
	json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "summary", json_string(reason));
}

static json_t *fit_series(json_t *first, const char *key,
			  struct series_pts *s, int cores)
{
	json_t *o = series_head(first, key), *ws = json_array();
	double t1 = 0, max_n = 0, x[256];
	for (size_t i = 0; i < s->m; i++) {
		json_array_append_new(ws, json_integer((json_int_t)s->n[i]));
		if (s->n[i] == 1)
			t1 = s->wall[i];
		max_n = fmax(max_n, s->n[i]);
	}
	json_object_set_new(o, "workers", ws);
	json_object_set_new(o, "points", json_integer((json_int_t)s->m));
	char reason[600];
	if (s->m < USL_MIN_POINTS) {
		snprintf(reason, sizeof reason, "not fitted: %zu worker "
			 "count%s measured, a USL fit needs %d or more", s->m,
			 s->m == 1 ? "" : "s", USL_MIN_POINTS);
		set_unfitted(o, reason);
		return o;
	}
	if (t1 <= 0) {
		set_unfitted(o, "not fitted: no 1-worker run to measure "
			     "speedup against");
		return o;
	}
	for (size_t i = 0; i < s->m; i++)
		x[i] = t1 / s->wall[i];
	struct usl_fit f;
	errbuf e;
	if (usl_fit(s->n, x, s->m, &f, &e)) {
		snprintf(reason, sizeof reason, "not fitted: %s", e.msg);
		set_unfitted(o, reason);
		return o;
	}
	set_fit_fields(o, &f, max_n, cores);
	if (s->busy)
		json_object_set_new(o, "busy_points", json_integer((json_int_t)s->busy));
	return o;
}

json_t *usl_fit_document(json_t *doc)
{
	json_t *configs = json_object_get(doc, "configs");
	json_t *fits = json_array();
	struct doc_groups g;
	int cores = (int)doc_int(doc_context(doc), "logical_cores", 0);
	/* one pass to group (a fit per series key, params not compared) */
	if (doc_groups_series(configs, DOC_KEY_ALL, 0, &g))
		return fits;
	struct series_pts *s = malloc(sizeof *s);
	for (size_t k = 0; s && k < g.ngroups; k++) {
		size_t first = doc_group_member(&g, k, 0);
		collect(configs, &g, k, s);
		json_array_append_new(fits, fit_series(json_array_get(configs, first),
						       g.key[first], s, cores));
	}
	free(s);
	doc_groups_free(&g);
	return fits;
}
