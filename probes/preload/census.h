/* census.h - the lock profiler's thread and library-pool census of one
 * process (census.c): threads started through pthread_create, by the object
 * that started them, and the thread pools of the native libraries loaded
 * (OpenBLAS, BLIS, MKL, OpenMP: probes/libpools.c, asked from inside the
 * process at report time), against the cores the process may use. */
#ifndef CONTEND_PRELOAD_CENSUS_H
#define CONTEND_PRELOAD_CENSUS_H

#include <jansson.h>
#include <stdint.h>

/* A fork child counts its own threads from 1 (the one that forked). */
void lp_census_atfork_child(void);

/* {"cores_online", "cores_allowed", "threads_created", "peak_threads",
 *  "threads_at_exit", "threads_by_creator": [creator(pc, count)...],
 *  "pools": [...], "pool_env": {...}}. creator turns the return address
 *  of a pthread_create call into a JSON object naming its code. */
json_t *lp_census_json(json_t *(*creator)(uintptr_t pc, uint64_t count));

#endif
