/* registry.c - the list of pools (see pool.h). The sweep, the runner, the
 * CLI and the reports find pools and their traits here, never by name. */
#include <string.h>

#include "pools/pool.h"

const struct pool_ops *const pools_all[] = {
	&pool_serial,
	&pool_thread,
	&pool_process,
	NULL,
};

const struct pool_ops *pool_find(const char *name)
{
	for (size_t i = 0; name && pools_all[i]; i++)
		if (!strcmp(pools_all[i]->name, name))
			return pools_all[i];
	return NULL;
}
