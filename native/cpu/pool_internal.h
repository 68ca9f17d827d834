/* pool_internal.h: what max pooling (maxpool.c) and average pooling (pool.c)
 * share (their argument checks are lits_check_pool, in lits_check.h). */
#ifndef LITS_CPU_POOL_INTERNAL_H
#define LITS_CPU_POOL_INTERNAL_H

#include <stdint.h>

/* Below this many elements of work a pooling call stays on one thread. */
#define LITS_POOL_PAR_MIN 16384

#endif
