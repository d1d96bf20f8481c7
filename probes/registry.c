/* registry.c - the list of probes (see registry.h).
 *
 * Order matters only for cost: cheap probes first, so the costly ones
 * start last and stop first, closest to the measured region. */
#include "probes/registry.h"

#include <string.h>

#include "probes/counters.h"
#include "probes/memsampler.h"
#include "probes/rusage.h"

const struct probe_ops *const probes_all[] = {
	&probe_rusage,
	&probe_memory,
	&probe_counters,
	NULL,
};

int probe_enabled(const struct probe_ops *p, const struct probe_config *c)
{
	if (p == &probe_counters)
		return c->counters && strcmp(c->counters, "none");
	return 1;
}
