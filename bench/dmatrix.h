/* dmatrix.h - the `dmatrix` workloads (story 3, memory under pools): each
 * task scales a copy of the input and builds an XGBoost-style quantile
 * matrix from it, ours (`dmatrix`) or libxgboost's (`dmatrix-xgb`); the
 * `share` parameter of `dmatrix` sets how the input reaches the tasks
 * (docs/memory-under-pools.md). */
#ifndef CONTEND_DMATRIX_H
#define CONTEND_DMATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "bench/workload.h"
#include "common/err.h"

#define QM_MIN_BIN 2
#define QM_MAX_BIN 65536 /* bin indices fit in uint16 */

/* A quantile matrix with XGBoost's (1.7) HistogramCuts semantics: for
 * feature f, bins are [min_vals[f], c0), [c0, c1), ... [c(k-2), c(k-1))
 * where c = cut_values[cut_ptrs[f] .. cut_ptrs[f+1]); every cut is the
 * upper bound of its bin and the last one, max + |max| + 1e-5, is above
 * every value. A value's bin is the first cut greater than it. */
struct qmatrix {
	size_t rows, cols;
	int max_bin;
	uint32_t *cut_ptrs;	/* cols + 1 */
	float *cut_values;	/* cut_ptrs[cols] */
	float *min_vals;	/* cols: below every value of the feature */
	void *index;		/* rows * cols bin numbers, row-major */
	int index_width;	/* 1 (uint8, max_bin <= 256) or 2 (uint16) */
	float *label;		/* rows */
};

/* Build from row-major x (rows x cols, finite values) and label, with
 * nthread threads of our own: features are sketched in parallel, rows are
 * binned in parallel; the result does not depend on nthread. */
int qmatrix_build(const float *x, const float *label, size_t rows,
		  size_t cols, int max_bin, int nthread, struct qmatrix *out,
		  errbuf *e);
void qmatrix_free(struct qmatrix *m);
/* Digest of the cuts, min values, bin numbers and label. */
uint64_t qmatrix_hash(const struct qmatrix *m);
/* Bytes held by the matrix (cuts, index, label). */
size_t qmatrix_bytes(const struct qmatrix *m);
uint32_t qmatrix_bin(const struct qmatrix *m, size_t row, size_t col);
/* XGBoost's SearchBin: first cut above v, clamped to the last bin. */
uint32_t qmatrix_search_bin(const struct qmatrix *m, size_t col, float v);
/* Lower bound of a bin: min_vals for bin 0, else the previous cut. */
float qmatrix_bin_lower(const struct qmatrix *m, size_t col, uint32_t bin);

/* ---- the libxgboost side (bench/dmatrix_xgb.c) ------------------------ */

/* 1 when built with libxgboost (HAVE_XGBOOST), else 0. */
int xgb_available(void);
/* XGQuantileDMatrixCreateFromCallback over one dense batch; *handle is a
 * DMatrixHandle, freed with xgb_qdm_free. */
int xgb_qdm_create(const float *x, const float *label, size_t rows,
		   size_t cols, int max_bin, int nthread, void **handle,
		   errbuf *e);
void xgb_qdm_free(void *handle);
/* Rebuild our representation of a libxgboost quantile matrix from what
 * its 1.7 C API shows (XGDMatrixGetDataAsCSR gives each value's bin lower
 * bound; see dmatrix_xgb.c): cuts, min values, bins and label. xmax[f] is
 * the feature's maximum, which the API does not show but the last cut is
 * made from. */
int xgb_qdm_to_qmatrix(void *handle, const float *xmax, int max_bin,
		       struct qmatrix *out, errbuf *e);

/* ---- the workloads ------------------------------------------------------ */

/* How a task's matrix is made: ours or libxgboost's. */
struct dmatrix_backend {
	const char *name;
	/* Build from the task's scaled copy; *obj is released by release().
	 * *hash digests the result (identical for both backends when they
	 * agree), *bytes is what the matrix holds. */
	int (*build)(const float *x, const float *label, size_t rows,
		     size_t cols, int max_bin, int nthread, void **obj,
		     uint64_t *hash, size_t *bytes, errbuf *e);
	void (*release)(void *obj);
};

int dmatrix_setup_backend(const struct params *p,
			  const struct dmatrix_backend *b, void **ctx,
			  errbuf *e);
size_t dmatrix_ntasks(const void *ctx);
int dmatrix_run_task(void *ctx, size_t task, struct task_result *out);
void dmatrix_teardown(void *ctx);

/* What the `release` policy keeps alive, in this process. */
struct dmatrix_stats {
	size_t live;		/* finished matrices not yet freed */
	size_t peak_live;
	size_t live_bytes, peak_live_bytes; /* copies + matrices held */
	size_t collections;	/* deferred frees ("GC runs") so far */
	size_t tasks_done;
};
void dmatrix_stats(void *ctx, struct dmatrix_stats *out);

/* Threads one build uses (nthread, with "auto" resolved in setup). */
int dmatrix_nthread(const void *ctx);

/* The task's input: data * (task + 1), as in the story's `data * i`. */
int dmatrix_task_input(const void *ctx, size_t task, float **x,
		       const float **label, size_t *rows, size_t *cols,
		       errbuf *e);

extern const struct workload_ops workload_dmatrix;
extern const struct workload_ops workload_dmatrix_xgb;

#endif
