/* dmatrix.c - the `dmatrix` workload: per task a scaled copy of the input
 * and an XGBoost-style quantile matrix built from it, freed at once or only
 * after K have piled up (a model of objects waiting for a garbage collector);
 * the input reaches the tasks as a process pool would hand it over
 * (inherited, one /dev/shm file, a copy per task, a /dev/shm file per task). */
#include "bench/dmatrix.h"
#include "probes/lockstat.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Per-value helpers: the `linetrace` build instruments every function to
 * model Cython's trace hooks on the criterion-like calls; a hook per value
 * sketched or binned would measure the hook, not the matrix build. */
#define DM_UNTRACED __attribute__((no_instrument_function))

/* ==== the weighted quantile sketch ======================================
 *
 * A port of XGBoost 1.7's WQuantileSketch<float, float> (src/common/
 * quantile.h) and of what HostSketchContainer / SketchContainerImpl do with
 * it (quantile.cc): the same chunking of the input, the same prune and
 * combine steps in the same float arithmetic, so the cuts come out
 * bit-identical to libxgboost's on the same data. Weights are all 1 (no
 * sample weights), so rank sums are exact integers in float up to 2^24. */

struct wq_entry {
	float rmin, rmax, wmin, value;
};

struct wq_sum {
	struct wq_entry *data;
	size_t size;
};

DM_UNTRACED static float rmin_next(const struct wq_entry *e)
{
	return e->rmin + e->wmin;
}

DM_UNTRACED static float rmax_prev(const struct wq_entry *e)
{
	return e->rmax - e->wmin;
}

static void wq_copy(struct wq_sum *dst, const struct wq_sum *src)
{
	dst->size = src->size;
	if (src->size)
		memmove(dst->data, src->data, src->size * sizeof *src->data);
}

/* WQSummary::SetPrune: keep maxsize entries spread evenly by rank. */
static void wq_prune(struct wq_sum *dst, const struct wq_sum *src,
		     size_t maxsize)
{
	if (src->size <= maxsize) {
		wq_copy(dst, src);
		return;
	}
	const struct wq_entry *s = src->data;
	const float begin = s[0].rmax;
	const float range = s[src->size - 1].rmin - s[0].rmax;
	const size_t n = maxsize - 1;
	dst->data[0] = s[0];
	dst->size = 1;
	size_t i = 1, lastidx = 0;
	for (size_t k = 1; k < n; ++k) {
		float dx2 = 2 * (((float)k * range) / (float)n + begin);
		while (i < src->size - 1 && dx2 >= s[i + 1].rmax + s[i + 1].rmin)
			++i;
		if (i == src->size - 1)
			break;
		if (dx2 < rmin_next(&s[i]) + rmax_prev(&s[i + 1])) {
			if (i != lastidx) {
				dst->data[dst->size++] = s[i];
				lastidx = i;
			}
		} else if (i + 1 != lastidx) {
			dst->data[dst->size++] = s[i + 1];
			lastidx = i + 1;
		}
	}
	if (lastidx != src->size - 1)
		dst->data[dst->size++] = s[src->size - 1];
}

/* WQSummary::FixError: re-establish rank invariants after rounding. */
static void wq_fix_error(struct wq_sum *s)
{
	float prev_rmin = 0, prev_rmax = 0;
	for (size_t i = 0; i < s->size; ++i) {
		struct wq_entry *d = &s->data[i];
		if (d->rmin < prev_rmin)
			d->rmin = prev_rmin;
		else
			prev_rmin = d->rmin;
		if (d->rmax < prev_rmax)
			d->rmax = prev_rmax;
		float rn = rmin_next(d);
		if (d->rmax < rn)
			d->rmax = rn;
		prev_rmax = d->rmax;
	}
}

/* WQSummary::SetCombine: merge two summaries of disjoint inputs. */
static void wq_combine(struct wq_sum *dst, const struct wq_sum *sa,
		       const struct wq_sum *sb)
{
	if (sa->size == 0) {
		wq_copy(dst, sb);
		return;
	}
	if (sb->size == 0) {
		wq_copy(dst, sa);
		return;
	}
	const struct wq_entry *a = sa->data, *a_end = sa->data + sa->size;
	const struct wq_entry *b = sb->data, *b_end = sb->data + sb->size;
	float aprev_rmin = 0, bprev_rmin = 0;
	struct wq_entry *d = dst->data;
	while (a != a_end && b != b_end) {
		if (a->value == b->value) {
			*d = (struct wq_entry){a->rmin + b->rmin, a->rmax + b->rmax,
					       a->wmin + b->wmin, a->value};
			aprev_rmin = rmin_next(a);
			bprev_rmin = rmin_next(b);
			++d, ++a, ++b;
		} else if (a->value < b->value) {
			*d = (struct wq_entry){a->rmin + bprev_rmin,
					       a->rmax + rmax_prev(b), a->wmin,
					       a->value};
			aprev_rmin = rmin_next(a);
			++d, ++a;
		} else {
			*d = (struct wq_entry){b->rmin + aprev_rmin,
					       b->rmax + rmax_prev(a), b->wmin,
					       b->value};
			bprev_rmin = rmin_next(b);
			++d, ++b;
		}
	}
	if (a != a_end) {
		float brmax = (b_end - 1)->rmax;
		for (; a != a_end; ++a, ++d)
			*d = (struct wq_entry){a->rmin + bprev_rmin,
					       a->rmax + brmax, a->wmin, a->value};
	}
	if (b != b_end) {
		float armax = (a_end - 1)->rmax;
		for (; b != b_end; ++b, ++d)
			*d = (struct wq_entry){b->rmin + aprev_rmin,
					       b->rmax + armax, b->wmin, b->value};
	}
	dst->size = (size_t)(d - dst->data);
	wq_fix_error(dst);
}

/* Floats as unsigned keys that sort in value order; -0 is folded into +0
 * (XGBoost's sort leaves their order to std::sort, we pick +0). */
DM_UNTRACED static uint32_t float_key(float f)
{
	uint32_t u;
	if (f == 0.0f)
		f = 0.0f;
	memcpy(&u, &f, sizeof u);
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

DM_UNTRACED static float key_float(uint32_t k)
{
	uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* LSD radix sort, 11+11+10 bits; returns the buffer holding the result.
 * A pass whose digit is the same for every key is skipped. */
static uint32_t *radix_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
	static const int shift[3] = {0, 11, 22};
	static const uint32_t mask[3] = {2047, 2047, 1023};
	size_t cnt[3][2048];
	memset(cnt, 0, sizeof cnt);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = a[i];
		cnt[0][k & 2047]++;
		cnt[1][(k >> 11) & 2047]++;
		cnt[2][k >> 22]++;
	}
	for (int p = 0; p < 3; p++) {
		size_t sum = 0, *c = cnt[p];
		int trivial = 0;
		for (uint32_t d = 0; d <= mask[p]; d++) {
			if (c[d] == n)
				trivial = 1;
			size_t t = c[d];
			c[d] = sum;
			sum += t;
		}
		if (trivial)
			continue;
		for (size_t i = 0; i < n; i++) {
			uint32_t k = a[i];
			tmp[c[(k >> shift[p]) & mask[p]]++] = k;
		}
		uint32_t *t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* One feature's WQuantileSketch. The queue holds the current chunk's raw
 * values as keys; `qtail` counts queue entries the way XGBoost's queue
 * does (a value equal to the previous one is merged into it), because that
 * count decides where chunks end. */
struct wq_sketch {
	size_t limit;		/* limit_size */
	size_t qcap;		/* queue capacity: 2 * limit */
	size_t qtail;
	float last;
	uint32_t *keys, *keytmp;
	size_t nkeys, kcap;

	struct wq_entry *lvdata; /* nlev levels of `limit` entries */
	struct wq_sum *lv;
	size_t nlev;
	struct wq_sum temp;	/* 2 * limit */
	int oom;
};

/* QuantileSketchTemplate::LimitSizeLevel, with XGBoost's eps. */
static void wq_limits(size_t maxn, int max_bin, size_t *limit)
{
	size_t n_bins = (size_t)max_bin < maxn ? (size_t)max_bin : maxn;
	if (n_bins < 1)
		n_bins = 1;
	double eps = 1.0 / (double)((float)n_bins * 8.0f);
	for (size_t nlevel = 1;; ++nlevel) {
		size_t l = (size_t)ceil((double)nlevel / eps) + 1;
		if (l > maxn)
			l = maxn;
		if ((1ULL << nlevel) * l >= maxn) {
			*limit = l;
			return;
		}
	}
}

static int wq_init(struct wq_sketch *s, size_t maxn, int max_bin)
{
	memset(s, 0, sizeof *s);
	wq_limits(maxn, max_bin, &s->limit);
	s->qcap = 2 * s->limit;
	s->kcap = s->qcap + 1;
	s->keys = malloc(s->kcap * sizeof *s->keys);
	s->keytmp = malloc(s->kcap * sizeof *s->keytmp);
	s->temp.data = malloc(s->qcap * sizeof *s->temp.data);
	return s->keys && s->keytmp && s->temp.data ? 0 : -1;
}

static void wq_destroy(struct wq_sketch *s)
{
	free(s->keys);
	free(s->keytmp);
	free(s->temp.data);
	free(s->lvdata);
	free(s->lv);
	memset(s, 0, sizeof *s);
}

/* InitLevel: levels share one block, re-pointed when it grows. */
static int wq_init_level(struct wq_sketch *s, size_t nlevel)
{
	if (s->nlev >= nlevel)
		return 0;
	struct wq_entry *d = realloc(s->lvdata, nlevel * s->limit * sizeof *d);
	struct wq_sum *lv = realloc(s->lv, nlevel * sizeof *lv);
	if (d)
		s->lvdata = d;
	if (lv)
		s->lv = lv;
	if (!d || !lv)
		return -1;
	for (size_t l = 0; l < nlevel; l++) {
		s->lv[l].data = s->lvdata + l * s->limit;
		if (l >= s->nlev)
			s->lv[l].size = 0;
	}
	s->nlev = nlevel;
	return 0;
}

/* Queue::MakeSummary: sort the chunk, one entry per distinct value. */
static void wq_make_summary(struct wq_sketch *s, struct wq_sum *out)
{
	uint32_t *k = radix_sort(s->keys, s->keytmp, s->nkeys);
	float wsum = 0;
	out->size = 0;
	for (size_t i = 0; i < s->nkeys;) {
		size_t j = i + 1;
		while (j < s->nkeys && k[j] == k[i])
			++j;
		float w = (float)(j - i);
		out->data[out->size++] =
			(struct wq_entry){wsum, wsum + w, w, key_float(k[i])};
		wsum += w;
		i = j;
	}
	s->nkeys = 0;
	s->qtail = 0;
}

/* QuantileSketchTemplate::PushTemp: carry the chunk up the levels. */
static int wq_push_temp(struct wq_sketch *s)
{
	for (size_t l = 1;; ++l) {
		if (wq_init_level(s, l + 1) < 0)
			return -1;
		if (s->lv[l].size == 0) {
			wq_prune(&s->lv[l], &s->temp, s->limit);
			return 0;
		}
		wq_prune(&s->lv[0], &s->temp, s->limit);
		wq_combine(&s->temp, &s->lv[0], &s->lv[l]);
		if (s->temp.size > s->limit) {
			s->lv[l].size = 0;
		} else {
			wq_copy(&s->lv[l], &s->temp);
			return 0;
		}
	}
}

DM_UNTRACED static void wq_push(struct wq_sketch *s, float x)
{
	if (s->qtail == s->qcap) {
		wq_make_summary(s, &s->temp);
		if (wq_push_temp(s) < 0)
			s->oom = 1;
	}
	if (s->qtail == 0 || s->last != x) {
		s->qtail++;
		s->last = x;
	}
	if (s->nkeys == s->kcap) { /* long runs of equal values */
		size_t cap = s->kcap * 2;
		uint32_t *k = realloc(s->keys, cap * sizeof *k);
		uint32_t *t = k ? realloc(s->keytmp, cap * sizeof *t) : NULL;
		if (k)
			s->keys = k;
		if (!k || !t) {
			s->oom = 1;
			return;
		}
		s->keytmp = t;
		s->kcap = cap;
	}
	s->keys[s->nkeys++] = float_key(x);
}

/* QuantileSketchTemplate::GetSummary into out (capacity: see caller). */
static void wq_get_summary(struct wq_sketch *s, struct wq_sum *out)
{
	wq_make_summary(s, out);
	if (s->nlev != 0) {
		wq_prune(&s->lv[0], out, s->limit);
		for (size_t l = 1; l < s->nlev; ++l) {
			if (s->lv[l].size == 0)
				continue;
			if (s->lv[0].size == 0) {
				wq_copy(&s->lv[0], &s->lv[l]);
			} else {
				wq_combine(out, &s->lv[0], &s->lv[l]);
				wq_prune(&s->lv[0], out, s->limit);
			}
		}
		wq_copy(out, &s->lv[0]);
	} else if (out->size > s->limit) {
		wq_prune(&s->temp, out, s->limit);
		wq_copy(out, &s->temp);
	}
}

/* SketchContainerImpl::AllReduce (one worker) + MakeCuts + AddCutPoint:
 * prune to max_bin * 8, then to max_bin + 1, cuts are entries 1..
 * max_bin-1 (strictly increasing) plus one above the maximum. Writes at
 * most max_bin cuts. */
static int wq_cuts(struct wq_sketch *s, size_t n, int max_bin, float *cuts,
		   uint32_t *ncuts, float *min_val)
{
	size_t cap = s->nkeys > 2 * s->limit ? s->nkeys : 2 * s->limit;
	struct wq_sum out = {malloc(cap * sizeof(struct wq_entry)), 0};
	struct wq_sum red = {NULL, 0}, fin = {NULL, 0};
	size_t inter = n < (size_t)((float)max_bin * 8.0f) ?
		n : (size_t)((float)max_bin * 8.0f);
	size_t max_num_bins = inter < (size_t)max_bin ? inter : (size_t)max_bin;
	red.data = malloc((inter + 1) * sizeof(struct wq_entry));
	fin.data = malloc((max_num_bins + 2) * sizeof(struct wq_entry));
	if (!out.data || !red.data || !fin.data) {
		free(out.data), free(red.data), free(fin.data);
		return -1;
	}
	wq_get_summary(s, &out);
	wq_prune(&red, &out, inter);
	wq_prune(&fin, &red, max_num_bins + 1);
	float mval = fin.data[0].value;
	*min_val = mval - fabsf(mval) - 1e-5f;
	size_t required = fin.size < max_num_bins ? fin.size : max_num_bins;
	uint32_t k = 0;
	for (size_t i = 1; i < required; ++i) {
		float c = fin.data[i].value;
		if (i == 1 || c > cuts[k - 1])
			cuts[k++] = c;
	}
	float cpt = fin.data[fin.size - 1].value;
	cuts[k++] = cpt + (fabsf(cpt) + 1e-5f);
	*ncuts = k;
	free(out.data), free(red.data), free(fin.data);
	return 0;
}

/* ==== building the matrix ============================================== */

/* A small team of our own threads: fn(arg, tid) on n threads, the caller
 * being tid 0. Work is shared through atomic counters, so a thread that
 * cannot be started only makes the build slower. */
static void team_run(int n, void *(*fn)(void *), void *arg)
{
	pthread_t th[256];
	int started = 0;
	for (int i = 1; i < n && i < 256; i++) {
		if (pthread_create(&th[started], NULL, fn, arg) != 0)
			break;
		started++;
	}
	fn(arg);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

#define ROW_BLOCK 256	  /* rows streamed per feature group step */
#define BIN_BLOCK 8192	  /* rows binned per grab */

struct build {
	const float *x;
	size_t rows, cols;
	int max_bin, ngroups;
	struct qmatrix *m;
	float *cuts;		/* cols * stride, per-feature scratch */
	size_t stride;		/* min(rows, max_bin): most cuts a feature has */
	uint32_t *ncuts;	/* cols */
	atomic_size_t next_group, next_block;
	atomic_int failed;	/* 1 out of memory, 2 non-finite value */
	atomic_size_t bad_at;	/* index of a non-finite value */
};

/* Sketch the features of one group, streaming the rows once so every
 * cache line of x is read once whatever the number of features. */
static int sketch_group(struct build *b, size_t f0, size_t f1)
{
	size_t nf = f1 - f0, rows = b->rows, cols = b->cols;
	struct wq_sketch *sk = calloc(nf, sizeof *sk);
	int rc = sk ? 0 : 1;
	for (size_t f = 0; f < nf && rc == 0; f++)
		if (wq_init(&sk[f], rows, b->max_bin) < 0)
			rc = 1;
	for (size_t r0 = 0; r0 < rows && rc == 0; r0 += ROW_BLOCK) {
		size_t r1 = r0 + ROW_BLOCK < rows ? r0 + ROW_BLOCK : rows;
		for (size_t f = 0; f < nf && rc == 0; f++) {
			const float *col = b->x + f0 + f;
			for (size_t r = r0; r < r1; r++) {
				float v = col[r * cols];
				if (!isfinite(v)) {
					atomic_store(&b->bad_at, r * cols + f0 + f);
					rc = 2;
					break;
				}
				wq_push(&sk[f], v);
			}
			if (sk[f].oom)
				rc = 1;
		}
	}
	for (size_t f = 0; f < nf && rc == 0; f++) {
		size_t fid = f0 + f;
		if (wq_cuts(&sk[f], rows, b->max_bin,
			    b->cuts + fid * b->stride, &b->ncuts[fid],
			    &b->m->min_vals[fid]) < 0 || sk[f].oom)
			rc = 1;
	}
	for (size_t f = 0; sk && f < nf; f++)
		wq_destroy(&sk[f]);
	free(sk);
	return rc;
}

static void *sketch_worker(void *arg)
{
	struct build *b = arg;
	for (;;) {
		size_t g = atomic_fetch_add(&b->next_group, 1);
		if (g >= (size_t)b->ngroups || atomic_load(&b->failed))
			break;
		size_t f0 = b->cols * g / (size_t)b->ngroups;
		size_t f1 = b->cols * (g + 1) / (size_t)b->ngroups;
		int rc = sketch_group(b, f0, f1);
		if (rc) {
			atomic_store(&b->failed, rc);
			break;
		}
	}
	return NULL;
}

/* First cut greater than v (std::upper_bound), clamped to the last bin;
 * branch-free so the loop does not stall on unpredictable data. */
DM_UNTRACED static uint32_t search_bin(const float *c, uint32_t n, float v)
{
	const float *base = c;
	uint32_t len = n;
	while (len > 1) {
		uint32_t half = len / 2;
		base = (base[half] <= v) ? base + half : base;
		len -= half;
	}
	uint32_t idx = (uint32_t)(base - c) + (*base <= v);
	return idx < n ? idx : n - 1;
}

static void *bin_worker(void *arg)
{
	struct build *b = arg;
	const struct qmatrix *m = b->m;
	size_t cols = b->cols;
	for (;;) {
		size_t r0 = atomic_fetch_add(&b->next_block, BIN_BLOCK);
		if (r0 >= b->rows)
			break;
		size_t r1 = r0 + BIN_BLOCK < b->rows ? r0 + BIN_BLOCK : b->rows;
		for (size_t f = 0; f < cols; f++) {
			const float *c = m->cut_values + m->cut_ptrs[f];
			uint32_t n = m->cut_ptrs[f + 1] - m->cut_ptrs[f];
			const float *x = b->x + f;
			if (m->index_width == 1) {
				uint8_t *o = (uint8_t *)m->index + f;
				for (size_t r = r0; r < r1; r++)
					o[r * cols] = (uint8_t)search_bin(c, n, x[r * cols]);
			} else {
				uint16_t *o = (uint16_t *)m->index + f;
				for (size_t r = r0; r < r1; r++)
					o[r * cols] = (uint16_t)search_bin(c, n, x[r * cols]);
			}
		}
	}
	return NULL;
}

static int check_build_args(const float *x, const float *label, size_t rows,
			    size_t cols, int max_bin, int nthread, errbuf *e)
{
	if (!x || !label)
		return errf(e, "dmatrix: no input data");
	if (rows == 0 || cols == 0)
		return errf(e, "dmatrix: empty input (%zu rows, %zu columns)",
			    rows, cols);
	if (rows > (1u << 24))
		return errf(e, "dmatrix: %zu rows is above 16777216, where "
			       "float ranks stop being exact", rows);
	if (max_bin < QM_MIN_BIN || max_bin > QM_MAX_BIN)
		return errf(e, "dmatrix: max_bin %d is out of range (%d to %d)",
			    max_bin, QM_MIN_BIN, QM_MAX_BIN);
	if (nthread < 1 || nthread > 256)
		return errf(e, "dmatrix: nthread %d is out of range (1 to 256)",
			    nthread);
	return 0;
}

static int alloc_matrix(struct qmatrix *m, size_t rows, size_t cols,
			int max_bin)
{
	memset(m, 0, sizeof *m);
	m->rows = rows;
	m->cols = cols;
	m->max_bin = max_bin;
	m->index_width = max_bin <= 256 ? 1 : 2;
	m->cut_ptrs = calloc(cols + 1, sizeof *m->cut_ptrs);
	m->min_vals = calloc(cols, sizeof *m->min_vals);
	m->index = malloc(rows * cols * (size_t)m->index_width);
	m->label = malloc(rows * sizeof *m->label);
	return m->cut_ptrs && m->min_vals && m->index && m->label ? 0 : -1;
}

/* Gather the per-feature cuts into the CSR-like cut arrays. */
static int pack_cuts(struct build *b)
{
	struct qmatrix *m = b->m;
	for (size_t f = 0; f < b->cols; f++)
		m->cut_ptrs[f + 1] = m->cut_ptrs[f] + b->ncuts[f];
	m->cut_values = malloc(m->cut_ptrs[b->cols] * sizeof *m->cut_values);
	if (!m->cut_values)
		return -1;
	for (size_t f = 0; f < b->cols; f++)
		memcpy(m->cut_values + m->cut_ptrs[f],
		       b->cuts + f * b->stride,
		       b->ncuts[f] * sizeof *m->cut_values);
	return 0;
}

int qmatrix_build(const float *x, const float *label, size_t rows,
		  size_t cols, int max_bin, int nthread, struct qmatrix *out,
		  errbuf *e)
{
	memset(out, 0, sizeof *out);
	if (check_build_args(x, label, rows, cols, max_bin, nthread, e) < 0)
		return -1;
	struct build b = {.x = x, .rows = rows, .cols = cols,
			  .max_bin = max_bin, .m = out};
	b.ngroups = (size_t)nthread < cols ? nthread : (int)cols;
	atomic_init(&b.next_group, 0);
	atomic_init(&b.next_block, 0);
	atomic_init(&b.failed, 0);
	atomic_init(&b.bad_at, 0);
	b.stride = rows < (size_t)max_bin ? rows : (size_t)max_bin;
	b.cuts = malloc(cols * b.stride * sizeof *b.cuts);
	b.ncuts = calloc(cols, sizeof *b.ncuts);
	int rc = -1;
	if (!b.cuts || !b.ncuts || alloc_matrix(out, rows, cols, max_bin) < 0) {
		errf(e, "dmatrix: out of memory for a %zu x %zu matrix", rows, cols);
		goto done;
	}
	memcpy(out->label, label, rows * sizeof *label);
	team_run(nthread, sketch_worker, &b);
	int failed = atomic_load(&b.failed);
	if (failed == 2) {
		size_t at = atomic_load(&b.bad_at);
		errf(e, "dmatrix: value at row %zu, column %zu is not finite "
			"(missing values are not modelled)", at / cols, at % cols);
		goto done;
	}
	if (failed || pack_cuts(&b) < 0) {
		errf(e, "dmatrix: out of memory while sketching");
		goto done;
	}
	team_run(nthread, bin_worker, &b);
	rc = 0;
done:
	free(b.cuts);
	free(b.ncuts);
	if (rc < 0)
		qmatrix_free(out);
	return rc;
}

void qmatrix_free(struct qmatrix *m)
{
	if (!m)
		return;
	free(m->cut_ptrs);
	free(m->cut_values);
	free(m->min_vals);
	free(m->index);
	free(m->label);
	memset(m, 0, sizeof *m);
}

/* Words through hash_u64: eight times fewer mixing steps than bytes. */
static uint64_t hash_words(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, c + i, 8);
		h = hash_u64(h, w);
	}
	if (i < len) {
		uint64_t w = 0;
		memcpy(&w, c + i, len - i);
		h = hash_u64(h, w ^ ((uint64_t)(len - i) << 56));
	}
	return h;
}

uint64_t qmatrix_hash(const struct qmatrix *m)
{
	uint64_t h = HASH_SEED;
	h = hash_u64(h, m->rows);
	h = hash_u64(h, m->cols);
	h = hash_u64(h, (uint64_t)m->max_bin);
	h = hash_words(h, m->cut_ptrs, (m->cols + 1) * sizeof *m->cut_ptrs);
	h = hash_words(h, m->cut_values,
		       m->cut_ptrs[m->cols] * sizeof *m->cut_values);
	h = hash_words(h, m->min_vals, m->cols * sizeof *m->min_vals);
	h = hash_words(h, m->index, m->rows * m->cols * (size_t)m->index_width);
	return hash_words(h, m->label, m->rows * sizeof *m->label);
}

size_t qmatrix_bytes(const struct qmatrix *m)
{
	return (m->cols + 1) * sizeof *m->cut_ptrs +
	       m->cut_ptrs[m->cols] * sizeof *m->cut_values +
	       m->cols * sizeof *m->min_vals +
	       m->rows * m->cols * (size_t)m->index_width +
	       m->rows * sizeof *m->label;
}

uint32_t qmatrix_bin(const struct qmatrix *m, size_t row, size_t col)
{
	size_t i = row * m->cols + col;
	return m->index_width == 1 ? ((const uint8_t *)m->index)[i] :
				     ((const uint16_t *)m->index)[i];
}

uint32_t qmatrix_search_bin(const struct qmatrix *m, size_t col, float v)
{
	return search_bin(m->cut_values + m->cut_ptrs[col],
			  m->cut_ptrs[col + 1] - m->cut_ptrs[col], v);
}

float qmatrix_bin_lower(const struct qmatrix *m, size_t col, uint32_t bin)
{
	return bin == 0 ? m->min_vals[col] :
			  m->cut_values[m->cut_ptrs[col] + bin - 1];
}

/* ==== the workload ===================================================== */

/* How a task gets its input, as a process pool would hand it over. */
enum dm_share {
	SHARE_INHERIT,	    /* setup's input (forked workers: copy-on-write) */
	SHARE_SHM,	    /* one /dev/shm file made in setup, mapped by all */
	SHARE_COPY,	    /* a private copy per task first (unpickling) */
	SHARE_SHM_PER_TASK, /* the task's scaled input in a new /dev/shm file,
			     * kept until teardown (joblib's memmaps) */
};

#define DEVSHM "/dev/shm"
/* A spawned worker re-runs setup: this names its runner's input file, so
 * it maps that one instead of making a second. */
#define SHM_ENV "CONTEND_DMATRIX_INPUT"
/* The input file starts with a header so an attaching process can tell
 * it holds the input of the same parameters; floats start at SHM_HDR. */
#define SHM_MAGIC "contend-dmatrix1"
#define SHM_HDR 64

struct shm_header {
	char magic[16];
	uint64_t rows, cols, seed;
};

/* What one task allocated, freed together when the task ends or, under
 * release=deferred, at a collection (as a reference cycle keeps it all). */
struct task_mem {
	float *recv;	/* copy: the task's private copy of the input */
	float *copy;	/* the scaled input on the heap */
	void *map;	/* shm-per-task: the scaled input, mapped */
	size_t map_len;
	void *obj;	/* the matrix */
	size_t bytes;	/* all of the above */
};

struct held {
	struct held *next;
	struct task_mem m;
};

struct dm_ctx {
	const struct dmatrix_backend *b;
	long rows, cols, tasks, max_bin, nthread, seed;
	long defer_k; /* 0: immediate */
	enum dm_share share;
	float *x, *y;		  /* setup's input on the heap, or NULL */
	const float *src, *label; /* what tasks read: x and y, or the file */
	void *shm;		  /* share=shm: the input file, mapped */
	size_t shm_len;
	int shm_owner;		  /* made the file: unlinks it at teardown */
	char shm_path[128];
	char token[9];		  /* in the names of this context's files */
	/* Shared by every task of this process (every worker of a thread
	 * pool): run_task adds to it concurrently. */
	struct lockstat_mutex mu; /* instrumented: its waits reach the table */
	struct held *held;
	struct dmatrix_stats st;
};

/* splitmix64: a stream per (seed, row) so inputs never depend on order. */
DM_UNTRACED static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

DM_UNTRACED static double unit(uint64_t *s)
{
	*s = mix64(*s);
	return (double)(*s >> 11) * 0x1.0p-53;
}

/* Feature kinds cycle so wider inputs exercise every path of the sketch:
 * normal, skewed (log-normal), uniform, and 50 integer levels (ties). */
DM_UNTRACED static float feature_value(uint64_t *s, size_t col)
{
	double u = 1.0 - unit(s), v = unit(s);
	double z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
	switch (col % 4) {
	case 0: return (float)z;
	case 1: return (float)exp(z);
	case 2: return (float)(10.0 * v - 5.0);
	default: return (float)floor(50.0 * v);
	}
}

static int make_input(struct dm_ctx *c)
{
	size_t rows = (size_t)c->rows, cols = (size_t)c->cols;
	c->x = malloc(rows * cols * sizeof *c->x);
	c->y = malloc(rows * sizeof *c->y);
	if (!c->x || !c->y)
		return -1;
	for (size_t r = 0; r < rows; r++) {
		uint64_t s = mix64((uint64_t)c->seed * 0x100000001b3ULL + r);
		double y = 0;
		for (size_t f = 0; f < cols; f++) {
			float v = feature_value(&s, f);
			c->x[r * cols + f] = v;
			if (f < 3)
				y += f == 1 ? log(v) : v;
		}
		c->y[r] = (float)(y + 0.1 * unit(&s));
	}
	c->src = c->x;
	c->label = c->y;
	return 0;
}

/* ---- files under /dev/shm ---- */

/* Names only need to be hard to guess (O_EXCL does the safety): without
 * getrandom, the clock and pid still differ between runs. */
static uint32_t random32(void)
{
	uint32_t v;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
		return v;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)mix64((uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 32));
}

/* A new file DEVSHM/<stem><8 hex> that is ours alone: O_EXCL|O_NOFOLLOW
 * never reuse an existing name (a planted symlink included), 0600 keeps
 * other users out. Its space is reserved before it is mapped, so a full
 * /dev/shm is an error here, not a SIGBUS at the first touch. */
static int shm_create(const char *stem, size_t len, char *path, size_t plen,
		      void **map, errbuf *e)
{
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		snprintf(path, plen, DEVSHM "/%s%08x", stem, random32());
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
				O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return errf(e, "dmatrix: cannot create %s: %s", path,
				    strerror(errno));
	}
	if (fd < 0)
		return errf(e, "dmatrix: no free name %s* in " DEVSHM, stem);
	int rc = posix_fallocate(fd, 0, (off_t)len);
	if (rc) {
		close(fd);
		unlink(path);
		if (rc == ENOSPC || rc == ENOMEM)
			return errf(e, "dmatrix: " DEVSHM " is full: cannot "
				    "reserve %.2f MiB for %s (%s)",
				    (double)len / 1048576.0, path, strerror(rc));
		return errf(e, "dmatrix: cannot reserve %.2f MiB on " DEVSHM
			    " for %s: %s", (double)len / 1048576.0, path,
			    strerror(rc));
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = errno;
	close(fd);
	if (p == MAP_FAILED) {
		unlink(path);
		return errf(e, "dmatrix: cannot map %s: %s", path, strerror(err));
	}
	*map = p;
	return 0;
}

static void shm_header_of(const struct dm_ctx *c, struct shm_header *h)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, SHM_MAGIC, sizeof h->magic);
	h->rows = (uint64_t)c->rows;
	h->cols = (uint64_t)c->cols;
	h->seed = (uint64_t)c->seed;
}

static void use_shm_input(struct dm_ctx *c)
{
	const float *f = (const float *)((const char *)c->shm + SHM_HDR);
	c->src = f;
	c->label = f + (size_t)c->rows * (size_t)c->cols;
}

/* A spawned worker of the same runner (same process group) maps the
 * runner's input file; anything else the variable names (another group's
 * file, other parameters) is ignored and the caller makes its own. */
static int shm_attach(struct dm_ctx *c, size_t len)
{
	const char *path = getenv(SHM_ENV);
	char prefix[64];
	snprintf(prefix, sizeof prefix, DEVSHM "/contend-%d-input-",
		 (int)getpgrp());
	if (!path || strncmp(path, prefix, strlen(prefix)) ||
	    strlen(path) >= sizeof c->shm_path)
		return -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	void *p = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (size_t)st.st_size == len)
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	struct shm_header want;
	shm_header_of(c, &want);
	if (memcmp(p, &want, sizeof want)) {
		munmap(p, len);
		return -1;
	}
	c->shm = p;
	c->shm_len = len;
	snprintf(c->shm_path, sizeof c->shm_path, "%s", path);
	use_shm_input(c);
	return 0;
}

/* share=shm: the input lives only in one /dev/shm file that every worker
 * maps (the heap copy is dropped); the header goes in last, so a file
 * with a header is complete. */
static int setup_shm_input(struct dm_ctx *c, errbuf *e)
{
	size_t n = (size_t)c->rows * (size_t)c->cols;
	size_t len = SHM_HDR + (n + (size_t)c->rows) * sizeof(float);
	if (shm_attach(c, len) == 0)
		return 0;
	if (make_input(c) < 0)
		return errf(e, "dmatrix: out of memory for the input");
	char stem[64];
	snprintf(stem, sizeof stem, "contend-%d-input-%s", (int)getpgrp(),
		 c->token);
	if (shm_create(stem, len, c->shm_path, sizeof c->shm_path, &c->shm,
		       e) < 0)
		return -1;
	c->shm_len = len;
	c->shm_owner = 1;
	char *p = c->shm;
	memcpy(p + SHM_HDR, c->x, n * sizeof *c->x);
	memcpy(p + SHM_HDR + n * sizeof *c->x, c->y, (size_t)c->rows * sizeof *c->y);
	struct shm_header h;
	shm_header_of(c, &h);
	memcpy(p, &h, sizeof h);
	mprotect(p, len, PROT_READ); /* tasks only read it */
	free(c->x);
	free(c->y);
	c->x = c->y = NULL;
	use_shm_input(c);
	setenv(SHM_ENV, c->shm_path, 1);
	return 0;
}

static void release_input(struct dm_ctx *c)
{
	if (c->shm) {
		munmap(c->shm, c->shm_len);
		if (c->shm_owner) {
			unlink(c->shm_path);
			const char *v = getenv(SHM_ENV);
			if (v && !strcmp(v, c->shm_path))
				unsetenv(SHM_ENV);
		}
	}
	free(c->x);
	free(c->y);
}

/* Every per-task file of this context, made in this process or in the
 * workers it forked: they share the token and the process group. */
static void remove_task_files(const struct dm_ctx *c)
{
	char pattern[96];
	glob_t g;
	snprintf(pattern, sizeof pattern, DEVSHM "/contend-%d-task*-%s*",
		 (int)getpgrp(), c->token);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

/* ---- parameters ---- */

/* "immediate" or "deferred:K". */
static int parse_release(const char *v, long *k, errbuf *e)
{
	if (!v || strcmp(v, "immediate") == 0) {
		*k = 0;
		return 0;
	}
	if (strncmp(v, "deferred:", 9) == 0) {
		char *end;
		long n = strtol(v + 9, &end, 10);
		if (end != v + 9 && *end == 0 && n >= 1 && n <= 1000000) {
			*k = n;
			return 0;
		}
	}
	return errf(e, "bad value '%s' for 'release': use immediate or "
		       "deferred:K with K from 1 to 1000000", v);
}

/* dmatrix-xgb has no `share` parameter: it inherits. */
static int parse_share(const char *v, enum dm_share *out, errbuf *e)
{
	static const char *const names[] = {"inherit", "shm", "copy",
					    "shm-per-task"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!v || !strcmp(v, names[i])) {
			*out = v ? (enum dm_share)i : SHARE_INHERIT;
			return 0;
		}
	return errf(e, "bad value '%s' for 'share': use inherit, shm, copy "
		       "or shm-per-task", v);
}

/* "auto" sizes the build's threads as XGBoost does: OMP_NUM_THREADS when
 * set (which `contend run --inner-threads N` sets in every runner), else
 * every online core. */
static int parse_nthread(const struct params *p, long *out, errbuf *e)
{
	const char *v = params_get(p, "nthread");
	if (!v || strcmp(v, "auto") != 0)
		return params_long(p, "nthread", 1, 256, out, e);
	const char *env = getenv("OMP_NUM_THREADS");
	char *end;
	long n = env ? strtol(env, &end, 10) : 0;
	if (!env || end == env || *end || n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	*out = n < 1 ? 1 : n > 256 ? 256 : n;
	return 0;
}

static int read_params(const struct params *p, struct dm_ctx *c, errbuf *e)
{
	if (params_long(p, "rows", 1, 1L << 24, &c->rows, e) < 0 ||
	    params_long(p, "cols", 1, 4096, &c->cols, e) < 0 ||
	    params_long(p, "tasks", 1, 10000000, &c->tasks, e) < 0 ||
	    params_long(p, "max_bin", QM_MIN_BIN, QM_MAX_BIN, &c->max_bin,
			e) < 0 ||
	    parse_nthread(p, &c->nthread, e) < 0 ||
	    params_long(p, "seed", 0, LONG_MAX, &c->seed, e) < 0 ||
	    parse_release(params_get(p, "release"), &c->defer_k, e) < 0 ||
	    parse_share(params_get(p, "share"), &c->share, e) < 0)
		return -1;
	if ((uint64_t)c->rows * (uint64_t)c->cols > (1ULL << 28))
		return errf(e, "rows x cols = %ld x %ld is above 2^28 values",
			    c->rows, c->cols);
	return 0;
}

int dmatrix_setup_backend(const struct params *p,
			  const struct dmatrix_backend *b, void **ctx,
			  errbuf *e)
{
	*ctx = NULL;
	struct dm_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return errf(e, "dmatrix: out of memory");
	c->b = b;
	if (lockstat_mutex_init(&c->mu, "dmatrix.deferred", e)) {
		free(c);
		return -1;
	}
	snprintf(c->token, sizeof c->token, "%08x", random32());
	int rc = read_params(p, c, e);
	if (rc == 0 && c->share == SHARE_SHM)
		rc = setup_shm_input(c, e);
	else if (rc == 0 && make_input(c) < 0)
		rc = errf(e, "dmatrix: out of memory for the input");
	if (rc < 0) {
		dmatrix_teardown(c);
		return -1;
	}
	*ctx = c;
	return 0;
}

size_t dmatrix_ntasks(const void *ctx)
{
	return (size_t)((const struct dm_ctx *)ctx)->tasks;
}

/* ---- one task ---- */

/* data * (task + 1), as in the story's `data * i`. */
static void scale_into(float *dst, const float *src, size_t n, size_t task)
{
	float scale = (float)(task + 1);
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] * scale;
}

int dmatrix_task_input(const void *ctx, size_t task, float **x,
		       const float **label, size_t *rows, size_t *cols,
		       errbuf *e)
{
	const struct dm_ctx *c = ctx;
	size_t n = (size_t)c->rows * (size_t)c->cols;
	float *copy = malloc(n * sizeof *copy);
	if (!copy)
		return errf(e, "dmatrix: out of memory for the task's copy");
	scale_into(copy, c->src, n, task);
	*x = copy;
	*label = c->label;
	*rows = (size_t)c->rows;
	*cols = (size_t)c->cols;
	return 0;
}

/* share=shm-per-task: the scaled input goes into a new file that stays
 * until teardown, whatever the release policy does with the mapping. */
static int task_file(const struct dm_ctx *c, size_t task,
		     struct task_mem *m, errbuf *e)
{
	size_t n = (size_t)c->rows * (size_t)c->cols;
	char stem[64], path[128];
	snprintf(stem, sizeof stem, "contend-%d-task%zu-%s", (int)getpgrp(),
		 task, c->token);
	if (shm_create(stem, n * sizeof(float), path, sizeof path, &m->map,
		       e) < 0)
		return -1;
	m->map_len = n * sizeof(float);
	scale_into(m->map, c->src, n, task);
	return 0;
}

/* The task's scaled input as the sharing mode hands it over; *x and
 * *label point into m or into the context. */
static int task_input(const struct dm_ctx *c, size_t task,
		      struct task_mem *m, const float **x,
		      const float **label, errbuf *e)
{
	size_t n = (size_t)c->rows * (size_t)c->cols;
	const float *src = c->src;
	*label = c->label;
	if (c->share == SHARE_SHM_PER_TASK) {
		if (task_file(c, task, m, e) < 0)
			return -1;
		*x = m->map;
		return 0;
	}
	if (c->share == SHARE_COPY) { /* x and label, as one sent array */
		m->recv = malloc((n + (size_t)c->rows) * sizeof *m->recv);
		if (!m->recv)
			return errf(e, "dmatrix: out of memory for the task's "
				       "copy of the input");
		memcpy(m->recv, c->src, n * sizeof *m->recv);
		memcpy(m->recv + n, c->label, (size_t)c->rows * sizeof *m->recv);
		src = m->recv;
		*label = m->recv + n;
	}
	m->copy = malloc(n * sizeof *m->copy);
	if (!m->copy)
		return errf(e, "dmatrix: out of memory for the task's copy");
	scale_into(m->copy, src, n, task);
	*x = m->copy;
	return 0;
}

static size_t input_bytes(const struct dm_ctx *c, const struct task_mem *m)
{
	size_t n = (size_t)c->rows * (size_t)c->cols;
	return (m->recv ? (n + (size_t)c->rows) * sizeof(float) : 0) +
	       (m->copy ? n * sizeof(float) : 0) + m->map_len;
}

static void free_task_mem(const struct dmatrix_backend *b, struct task_mem *m)
{
	if (m->obj)
		b->release(m->obj);
	free(m->recv);
	free(m->copy);
	if (m->map)
		munmap(m->map, m->map_len);
	memset(m, 0, sizeof *m);
}

static void free_held(const struct dmatrix_backend *b, struct held *h)
{
	while (h) {
		struct held *next = h->next;
		free_task_mem(b, &h->m);
		free(h);
		h = next;
	}
}

/* Keep the task's leftovers; when K have piled up, take them all off the
 * list and free them outside the lock, like one collection. */
static void defer(struct dm_ctx *c, struct held *h)
{
	struct held *collect = NULL;
	lockstat_lock(&c->mu);
	h->next = c->held;
	c->held = h;
	c->st.live++;
	c->st.live_bytes += h->m.bytes;
	if (c->st.live > c->st.peak_live)
		c->st.peak_live = c->st.live;
	if (c->st.live_bytes > c->st.peak_live_bytes)
		c->st.peak_live_bytes = c->st.live_bytes;
	if (c->st.live >= (size_t)c->defer_k) {
		collect = c->held;
		c->held = NULL;
		c->st.live = 0;
		c->st.live_bytes = 0;
		c->st.collections++;
	}
	c->st.tasks_done++;
	lockstat_unlock(&c->mu);
	free_held(c->b, collect);
}

/* Free the task's memory now (immediate, or nowhere to keep it) or hold
 * it for a later collection. */
static void finish_task(struct dm_ctx *c, struct task_mem *m)
{
	struct held *h = c->defer_k ? malloc(sizeof *h) : NULL;
	if (h) {
		h->m = *m;
		defer(c, h);
		return;
	}
	free_task_mem(c->b, m);
	lockstat_lock(&c->mu);
	c->st.tasks_done++;
	lockstat_unlock(&c->mu);
}

int dmatrix_run_task(void *ctx, size_t task, struct task_result *out)
{
	struct dm_ctx *c = ctx;
	struct task_mem m = {0};
	errbuf e;
	const float *x = NULL, *label = NULL;
	size_t matrix_bytes = 0;
	uint64_t hash = 0;
	out->status = TASK_FAILED;
	if (task_input(c, task, &m, &x, &label, &e) < 0 ||
	    c->b->build(x, label, (size_t)c->rows, (size_t)c->cols,
			(int)c->max_bin, (int)c->nthread, &m.obj, &hash,
			&matrix_bytes, &e) < 0) {
		task_error("%s", e.msg);
		free_task_mem(c->b, &m);
		return -1;
	}
	m.bytes = input_bytes(c, &m) + matrix_bytes;
	out->hash = hash;
	out->value = (double)m.bytes / (1024.0 * 1024.0);
	out->status = TASK_OK;
	finish_task(c, &m);
	return 0;
}

int dmatrix_nthread(const void *ctx)
{
	return (int)((const struct dm_ctx *)ctx)->nthread;
}

void dmatrix_stats(void *ctx, struct dmatrix_stats *out)
{
	struct dm_ctx *c = ctx;
	lockstat_lock(&c->mu);
	*out = c->st;
	lockstat_unlock(&c->mu);
}

void dmatrix_teardown(void *ctx)
{
	struct dm_ctx *c = ctx;
	if (!c)
		return;
	free_held(c->b, c->held);
	if (c->share == SHARE_SHM_PER_TASK)
		remove_task_files(c);
	release_input(c);
	lockstat_mutex_destroy(&c->mu);
	free(c);
}

/* ---- our backend ------------------------------------------------------ */

static int ours_build(const float *x, const float *label, size_t rows,
		      size_t cols, int max_bin, int nthread, void **obj,
		      uint64_t *hash, size_t *bytes, errbuf *e)
{
	struct qmatrix *m = malloc(sizeof *m);
	if (!m)
		return errf(e, "dmatrix: out of memory");
	if (qmatrix_build(x, label, rows, cols, max_bin, nthread, m, e) < 0) {
		free(m);
		return -1;
	}
	*hash = qmatrix_hash(m);
	*bytes = qmatrix_bytes(m);
	*obj = m;
	return 0;
}

static void ours_release(void *obj)
{
	qmatrix_free(obj);
	free(obj);
}

static const struct dmatrix_backend backend_ours = {
	"ours", ours_build, ours_release,
};

static int dm_setup(const struct params *p, void **ctx, errbuf *e)
{
	return dmatrix_setup_backend(p, &backend_ours, ctx, e);
}

static const struct param_spec dm_params[] = {
	{"rows", "131072", "rows of the input (up to 2^24)"},
	{"cols", "1", "features (columns) of the input"},
	{"tasks", "300", "matrices to build, one per task (~1.5 s serial)"},
	{"max_bin", "256", "bins per feature, 2 to 65536, as XGBoost's max_bin"},
	{"nthread", "auto",
	 "threads inside one matrix build, 1 to 256; auto: OMP_NUM_THREADS "
	 "(set by --inner-threads), else all cores, as XGBoost"},
	{"release", "immediate",
	 "immediate: free each task's copy and matrix when it ends; "
	 "deferred:K: keep them until K have piled up, then free all "
	 "(objects waiting for a garbage collector)"},
	{"share", "inherit",
	 "how a task gets the input, as a process pool hands it over: "
	 "inherit (setup's input; forked workers share it copy-on-write), "
	 "shm (one /dev/shm file made in setup, mapped by every worker), "
	 "copy (a private copy per task first, as unpickling a sent array), "
	 "shm-per-task (each task's scaled input in a new /dev/shm file, kept "
	 "until teardown, as joblib's memmapping)"},
	{"seed", "42", "seed of the input data"},
	{NULL, NULL, NULL},
};

const struct workload_ops workload_dmatrix = {
	.name = "dmatrix",
	.describe = "XGBoost-style quantile matrix per task from a scaled "
		    "copy of the input (story 3: memory under pools)",
	.value_name = "MiB built per task (copy + matrix)",
	.params = dm_params,
	.setup = dm_setup,
	.ntasks = dmatrix_ntasks,
	.run_task = dmatrix_run_task,
	.checksum = checksum_task_hashes,
	.teardown = dmatrix_teardown,
};
