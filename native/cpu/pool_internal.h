/* pool_internal.h: the argument checks that max pooling (maxpool.c) and
 * average pooling (pool.c) share. */
#ifndef LITS_CPU_POOL_INTERNAL_H
#define LITS_CPU_POOL_INTERNAL_H

#include <stdint.h>

/* Below this many elements of work a pooling call stays on one thread. */
#define LITS_POOL_PAR_MIN 16384

/* Checks sizes, padding and output size. Every window that passes starts
 * inside the input or its left/top padding and, as pad <= kernel / 2, holds
 * at least one input element. Returns a status (error recorded for fn). */
int lits_pool_check(const char* fn, int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh,
                    int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w,
                    int32_t oh, int32_t ow);

#endif
