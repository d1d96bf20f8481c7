/* dmatrix_xgb.c - the `dmatrix-xgb` workload: the same tasks as `dmatrix`
 * built by the real libxgboost (QuantileDMatrix), to cross-check our cuts
 * and bins and to compare speed; compiled to a stub without HAVE_XGBOOST. */
#include "bench/dmatrix.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_XGBOOST
#include <xgboost/c_api.h>

int xgb_available(void)
{
	return 1;
}

/* One dense batch through XGBoost's iterator protocol. libxgboost calls
 * reset/next several times per build (one pass to count, one to sketch,
 * one to bin): every pass must see the same batch. */
struct xgb_iter {
	const float *x, *y;
	size_t rows, cols;
	DMatrixHandle proxy;
	int done;
	int failed;
	char why[256];
};

static void iter_reset(DataIterHandle h)
{
	((struct xgb_iter *)h)->done = 0;
}

static int iter_next(DataIterHandle h)
{
	struct xgb_iter *it = h;
	if (it->done)
		return 0;
	it->done = 1;
	char iface[256];
	snprintf(iface, sizeof iface,
		 "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %zu], "
		 "\"typestr\": \"<f4\", \"version\": 3}",
		 (uintptr_t)it->x, it->rows, it->cols);
	if (XGProxyDMatrixSetDataDense(it->proxy, iface) != 0 ||
	    XGDMatrixSetDenseInfo(it->proxy, "label", it->y,
				  (bst_ulong)it->rows, 1) != 0) {
		it->failed = 1;
		snprintf(it->why, sizeof it->why, "%s", XGBGetLastError());
		return 0;
	}
	return 1;
}

int xgb_qdm_create(const float *x, const float *label, size_t rows,
		   size_t cols, int max_bin, int nthread, void **handle,
		   errbuf *e)
{
	struct xgb_iter it = {x, label, rows, cols, NULL, 0, 0, ""};
	DMatrixHandle out = NULL;
	char config[160];
	*handle = NULL;
	if (!x || !label || rows == 0 || cols == 0)
		return errf(e, "dmatrix-xgb: empty input");
	/* "missing" is required; NaN is XGBoost's usual missing marker */
	snprintf(config, sizeof config,
		 "{\"missing\": NaN, \"nthread\": %d, \"max_bin\": %d}",
		 nthread, max_bin);
	if (XGProxyDMatrixCreate(&it.proxy) != 0)
		return errf(e, "libxgboost: %s", XGBGetLastError());
	int rc = XGQuantileDMatrixCreateFromCallback(
		&it, it.proxy, NULL, iter_reset, iter_next, config, &out);
	XGDMatrixFree(it.proxy);
	if (it.failed)
		return errf(e, "libxgboost: cannot take the batch: %s", it.why);
	if (rc != 0)
		return errf(e, "libxgboost: %s", XGBGetLastError());
	*handle = out;
	return 0;
}

void xgb_qdm_free(void *handle)
{
	if (handle)
		XGDMatrixFree(handle);
}

/* Sorted set of at most cap floats (the distinct bin lower bounds of one
 * feature: at most max_bin of them). */
static long set_find(const float *s, size_t n, float v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && s[lo] == v ? (long)lo : -(long)lo - 1;
}

static int set_add(float *s, size_t *n, size_t cap, float v)
{
	long at = set_find(s, *n, v);
	if (at >= 0)
		return 0;
	size_t pos = (size_t)(-at - 1);
	if (*n == cap)
		return -1;
	memmove(s + pos + 1, s + pos, (*n - pos) * sizeof *s);
	s[pos] = v;
	(*n)++;
	return 0;
}

/* One feature: its distinct lower bounds are min_val then every cut but
 * the last (each cut is a data value, so each bin holds at least the value
 * that bounds it); the last cut is max + |max| + 1e-5 as XGBoost makes it. */
static int rebuild_feature(const float *vals, size_t rows, size_t cols,
			   size_t f, float xmax, int max_bin, float *set,
			   struct qmatrix *m, float *cuts_out, uint32_t *ncuts)
{
	size_t n = 0;
	for (size_t r = 0; r < rows; r++)
		if (set_add(set, &n, (size_t)max_bin, vals[r * cols + f]) < 0)
			return -1;
	m->min_vals[f] = set[0];
	for (size_t i = 1; i < n; i++)
		cuts_out[i - 1] = set[i];
	cuts_out[n - 1] = xmax + (fabsf(xmax) + 1e-5f);
	*ncuts = (uint32_t)n;
	for (size_t r = 0; r < rows; r++) {
		uint32_t bin = (uint32_t)set_find(set, n, vals[r * cols + f]);
		if (m->index_width == 1)
			((uint8_t *)m->index)[r * cols + f] = (uint8_t)bin;
		else
			((uint16_t *)m->index)[r * cols + f] = (uint16_t)bin;
	}
	return 0;
}

/* The quantized values of a dense matrix, row-major. */
static float *quantized_values(DMatrixHandle h, size_t rows, size_t cols,
			       errbuf *e)
{
	bst_ulong nnz = 0;
	if (XGDMatrixNumNonMissing(h, &nnz) != 0 || nnz != rows * cols) {
		errf(e, "dmatrix-xgb: expected %zu values, libxgboost has %llu",
		     rows * cols, (unsigned long long)nnz);
		return NULL;
	}
	bst_ulong *indptr = malloc((rows + 1) * sizeof *indptr);
	unsigned *indices = malloc(nnz * sizeof *indices);
	float *vals = malloc(nnz * sizeof *vals);
	int ok = indptr && indices && vals &&
		 XGDMatrixGetDataAsCSR(h, "{}", indptr, indices, vals) == 0;
	for (size_t r = 0; ok && r < rows; r++)
		ok = indptr[r] == r * cols;
	for (size_t i = 0; ok && i < nnz; i++)
		ok = indices[i] == i % cols;
	if (!ok) {
		errf(e, "dmatrix-xgb: cannot read the quantized matrix back: %s",
		     XGBGetLastError());
		free(vals);
		vals = NULL;
	}
	free(indptr);
	free(indices);
	return vals;
}

static int copy_label(DMatrixHandle h, struct qmatrix *m, errbuf *e)
{
	bst_ulong len = 0;
	const float *lab = NULL;
	if (XGDMatrixGetFloatInfo(h, "label", &len, &lab) != 0 ||
	    len != m->rows)
		return errf(e, "dmatrix-xgb: cannot read the label back");
	memcpy(m->label, lab, m->rows * sizeof *lab);
	return 0;
}

int xgb_qdm_to_qmatrix(void *handle, const float *xmax, int max_bin,
		       struct qmatrix *m, errbuf *e)
{
	bst_ulong nr = 0, nc = 0;
	memset(m, 0, sizeof *m);
	if (!handle || XGDMatrixNumRow(handle, &nr) != 0 ||
	    XGDMatrixNumCol(handle, &nc) != 0 || nr == 0 || nc == 0)
		return errf(e, "dmatrix-xgb: not a usable matrix");
	size_t rows = nr, cols = nc;
	float *vals = quantized_values(handle, rows, cols, e);
	if (!vals)
		return -1;
	m->rows = rows;
	m->cols = cols;
	m->max_bin = max_bin;
	m->index_width = max_bin <= 256 ? 1 : 2;
	m->cut_ptrs = calloc(cols + 1, sizeof *m->cut_ptrs);
	m->min_vals = calloc(cols, sizeof *m->min_vals);
	m->cut_values = malloc(cols * (size_t)max_bin * sizeof *m->cut_values);
	m->index = malloc(rows * cols * (size_t)m->index_width);
	m->label = malloc(rows * sizeof *m->label);
	float *set = malloc((size_t)max_bin * sizeof *set);
	int rc = m->cut_ptrs && m->min_vals && m->cut_values && m->index &&
			 m->label && set ? 0 :
			 errf(e, "dmatrix-xgb: out of memory");
	for (size_t f = 0; rc == 0 && f < cols; f++) {
		uint32_t n = 0;
		if (rebuild_feature(vals, rows, cols, f, xmax[f], max_bin, set,
				    m, m->cut_values + m->cut_ptrs[f], &n) < 0)
			rc = errf(e, "dmatrix-xgb: feature %zu has more than "
				     "%d bins", f, max_bin);
		m->cut_ptrs[f + 1] = m->cut_ptrs[f] + n;
	}
	if (rc == 0)
		rc = copy_label(handle, m, e);
	free(set);
	free(vals);
	if (rc < 0)
		qmatrix_free(m);
	return rc;
}

/* ---- the backend -------------------------------------------------------- */

static int xgb_build(const float *x, const float *label, size_t rows,
		     size_t cols, int max_bin, int nthread, void **obj,
		     uint64_t *hash, size_t *bytes, errbuf *e)
{
	void *h;
	if (xgb_qdm_create(x, label, rows, cols, max_bin, nthread, &h, e) < 0)
		return -1;
	float *xmax = malloc(cols * sizeof *xmax);
	if (!xmax) {
		xgb_qdm_free(h);
		return errf(e, "dmatrix-xgb: out of memory");
	}
	for (size_t f = 0; f < cols; f++)
		xmax[f] = -INFINITY;
	for (size_t i = 0; i < rows * cols; i++)
		if (x[i] > xmax[i % cols])
			xmax[i % cols] = x[i];
	/* Digest the same representation as ours, so both backends give
	 * one checksum when they agree. */
	struct qmatrix m;
	int rc = xgb_qdm_to_qmatrix(h, xmax, max_bin, &m, e);
	free(xmax);
	if (rc < 0) {
		xgb_qdm_free(h);
		return -1;
	}
	*hash = qmatrix_hash(&m);
	*bytes = qmatrix_bytes(&m); /* what libxgboost holds, about */
	qmatrix_free(&m);
	*obj = h;
	return 0;
}

static const struct dmatrix_backend backend_xgb = {
	"xgboost", xgb_build, xgb_qdm_free,
};

static int xgb_setup(const struct params *p, void **ctx, errbuf *e)
{
	return dmatrix_setup_backend(p, &backend_xgb, ctx, e);
}

#else /* !HAVE_XGBOOST */

int xgb_available(void)
{
	return 0;
}

int xgb_qdm_create(const float *x, const float *label, size_t rows,
		   size_t cols, int max_bin, int nthread, void **handle,
		   errbuf *e)
{
	(void)x, (void)label, (void)rows, (void)cols, (void)max_bin;
	(void)nthread;
	*handle = NULL;
	return errf(e, "contend was built without libxgboost "
		       "(install libxgboost-dev and rebuild)");
}

void xgb_qdm_free(void *handle)
{
	(void)handle;
}

int xgb_qdm_to_qmatrix(void *handle, const float *xmax, int max_bin,
		       struct qmatrix *out, errbuf *e)
{
	(void)handle, (void)xmax, (void)max_bin;
	memset(out, 0, sizeof *out);
	return errf(e, "contend was built without libxgboost");
}

static int xgb_setup(const struct params *p, void **ctx, errbuf *e)
{
	(void)p;
	*ctx = NULL;
	return errf(e, "dmatrix-xgb: contend was built without libxgboost "
		       "(install libxgboost-dev and rebuild)");
}

#endif

/* Same parameters as `dmatrix`; fewer tasks by default because libxgboost
 * takes about 30 ms per 131072 x 1 build and reading it back costs more. */
static const struct param_spec xgb_params[] = {
	{"rows", "131072", "rows of the input (up to 2^24)"},
	{"cols", "1", "features (columns) of the input"},
	{"tasks", "60", "matrices to build, one per task"},
	{"max_bin", "256", "bins per feature, 2 to 65536 (XGBoost max_bin)"},
	{"nthread", "auto",
	 "libxgboost's nthread for one build; auto: OMP_NUM_THREADS (set by "
	 "--inner-threads), else all cores, as XGBoost"},
	{"release", "immediate",
	 "immediate: free each task's copy and matrix when it ends; "
	 "deferred:K: keep them until K have piled up, then free all"},
	{"seed", "42", "seed of the input data"},
	{NULL, NULL, NULL},
};

const struct workload_ops workload_dmatrix_xgb = {
	.name = "dmatrix-xgb",
	.describe = "the dmatrix tasks built by libxgboost's QuantileDMatrix "
		    "(cross-check; same checksum as dmatrix when they agree)",
	.value_name = "MiB built per task (copy + matrix)",
	.params = xgb_params,
	.setup = xgb_setup,
	.ntasks = dmatrix_ntasks,
	.run_task = dmatrix_run_task,
	.checksum = checksum_task_hashes,
	.teardown = dmatrix_teardown,
};
