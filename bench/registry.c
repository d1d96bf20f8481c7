/* registry.c - the list of workloads contend knows.
 *
 * Adding a workload is one new bench/<name>.c and one line here. */
#include <string.h>

#include "bench/workload.h"

extern const struct workload_ops workload_blas_dot;
extern const struct workload_ops workload_causal_forest;
extern const struct workload_ops workload_dmatrix;
extern const struct workload_ops workload_dmatrix_xgb;
extern const struct workload_ops workload_spin;

const struct workload_ops *const workloads[] = {
	&workload_causal_forest,
	&workload_blas_dot,
	&workload_dmatrix,
	&workload_dmatrix_xgb,
	&workload_spin,
	NULL,
};

const struct workload_ops *workload_find(const char *name)
{
	for (size_t i = 0; workloads[i]; i++)
		if (!strcmp(workloads[i]->name, name))
			return workloads[i];
	return NULL;
}
