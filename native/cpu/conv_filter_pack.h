/* conv_filter_pack.h: the packing and prefetching of the 1x1 filter
 * gradient's operands (conv_filter_pack.c), shared with its driver and
 * micro-kernel (conv_filter_pointwise.c). Columns are output pixels of all
 * images, j = image * ohw + pixel; a packed operand is [rows, ld] with zeros
 * from the chunk's end to ld. */
#ifndef LITS_CPU_CONV_FILTER_PACK_H
#define LITS_CPU_CONV_FILTER_PACK_H

#include <stdint.h>

#include "conv_internal.h"

/* A walk over the memory that a later pack_dy or pack_x reads, a cache
 * line at a time, so that its loads from DRAM overlap the products of the
 * block before it: rows [r0, r0 + nrows) of columns [j0, jend), in runs of
 * contiguous source (an image's pixels, or one output row when strided). */
typedef struct {
  const float* base;
  int64_t img_stride, plane, r0, nrows, j0, jend;
  int strided;
  int64_t r, j, run, pos, end; /* the current run: columns [j, j + run), floats [pos, end) */
  int64_t rbase, oy;            /* the run's image row plane in base, its output row */
} prefetcher;

/* Rows [r0, r0 + nrows) of dy, columns [j0, j0 + jc), into dst. */
void lits_pw_pack_dy(const conv_shape* p, const float* dy, int64_t r0, int64_t nrows, int64_t j0,
                     int64_t jc, int64_t ld, float* dst);
/* Channels [c0, c0 + nrows) of x as the convolution reads them (relu?(T(x)),
 * strided), columns [j0, j0 + jc), into dst. */
void lits_pw_pack_x(const conv_shape* p, const float* x, const conv_xform* xf, int64_t c0,
                    int64_t nrows, int64_t j0, int64_t jc, int64_t ld, float* dst);
/* Starts the walk over dy rows [r0, r0 + n) or x channels [c0, c0 + n),
 * columns [j0, jend) (none when n is 0), then prefetches its next `lines`
 * cache lines at each step. */
void lits_pw_prefetch_dy(const conv_shape* p, prefetcher* f, const float* dy, int64_t r0,
                         int64_t n, int64_t j0, int64_t jend);
void lits_pw_prefetch_x(const conv_shape* p, prefetcher* f, const float* x, int64_t c0, int64_t n,
                        int64_t j0, int64_t jend);
void lits_pw_prefetch_step(const conv_shape* p, prefetcher* f, int64_t lines);

#endif
