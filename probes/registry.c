/* registry.c - the list of probes (see registry.h).
 *
 * Order matters only for cost: cheap probes first, so the costly ones
 * start last and stop first, closest to the measured region. */
#include "probes/registry.h"

#include <stdint.h>
#include <string.h>

#include "probes/counters.h"
#include "probes/interference.h"
#include "probes/lockprobe.h"
#include "probes/memsampler.h"
#include "probes/rusage.h"

const struct probe_ops *const probes_all[] = {
	/* First: its window (the machine's CPU time against the tree's)
	 * must hold everything the other probes do in the runner. */
	&probe_interference,
	&probe_lock,
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

/* A frame: probe index and payload length (uint16 each), then the payload. */
#define FRAME_HEAD 4

size_t probes_worker_report(void *buf, size_t max)
{
	unsigned char *b = buf;
	size_t used = 0;
	for (size_t k = 0; probes_all[k]; k++) {
		if (!probes_all[k]->worker_report || max - used <= FRAME_HEAD)
			continue;
		size_t room = max - used - FRAME_HEAD;
		size_t n = probes_all[k]->worker_report(b + used + FRAME_HEAD,
							room < UINT16_MAX ? room : UINT16_MAX);
		if (!n || n > room)
			continue;
		uint16_t head[2] = {(uint16_t)k, (uint16_t)n};
		memcpy(b + used, head, FRAME_HEAD);
		used += FRAME_HEAD + n;
	}
	return used;
}

void probes_collect(void *const *states, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t nprobes = 0;
	while (probes_all[nprobes])
		nprobes++;
	for (size_t at = 0; len - at >= FRAME_HEAD;) {
		uint16_t head[2];
		memcpy(head, b + at, FRAME_HEAD);
		at += FRAME_HEAD;
		if (head[1] > len - at)
			return; /* a torn frame: nothing after it can be trusted */
		const struct probe_ops *p = head[0] < nprobes ? probes_all[head[0]] : NULL;
		if (p && p->collect && states[head[0]])
			p->collect(states[head[0]], b + at, head[1]);
		at += head[1];
	}
}
