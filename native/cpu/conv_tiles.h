/* conv_tiles.h: what the GEMM convolutions (conv_gemm.c) and their tiles
 * and column matrices (conv_tiles.c) share. A tile is a run of output rows
 * of one image or, when images are small, several whole images. */
#ifndef LITS_CPU_CONV_TILES_H
#define LITS_CPU_CONV_TILES_H

#include <stdint.h>

#include "common.h"
#include "conv_internal.h"

typedef struct {
  int64_t imgs;    /* images per tile (> 1: tiles of whole images) */
  int64_t rows;    /* output rows per tile when imgs == 1 */
  int64_t per_img; /* tiles per image when imgs == 1 */
  int64_t count;   /* tiles */
  int64_t max_cols;
} tiling;

typedef struct {
  int64_t i0, ni, oy0, oy1, cols;
} tile;

/* Tiles for a column matrix with col_rows rows, enough of them for nt
 * threads when the problem allows. */
tiling lits_conv_make_tiling(const conv_shape* p, int64_t col_rows, int nt);
tile lits_conv_tile_at(const conv_shape* p, const tiling* t, int64_t ti);
/* Floats of the transformed-rows buffer an im2col tile of `rows` output
 * rows needs (0 without a transform). */
int64_t lits_conv_xbuf_floats(const conv_shape* p, const conv_xform* xf, int64_t rows);
/* The column operand of tile b, group g: x itself for a pointwise
 * convolution of one image (row stride *ld), else im2col into col (row
 * stride b->cols; xbuf: lits_conv_xbuf_floats). */
const float* lits_conv_tile_columns(const conv_shape* p, const float* x, const conv_xform* xf,
                                    int direct, const tile* b, int64_t g, float* col, float* xbuf,
                                    int64_t* ld);
/* Adds col (laid out as an im2col tile) into channels [c0, c0 + nch) of
 * one image's dxi. */
void lits_conv_col2im_tile(const conv_shape* p, const float* col, int64_t ld, int64_t col0,
                           float* dxi, int64_t c0, int64_t nch, int64_t oy0, int64_t oy1);

/* The filter gradients' sum of the threads' partial dW, called by every
 * thread of the parallel region after a barrier: dweight (thread 0's
 * partial, zero where it made none) plus thread u's at accs + acc_n (u - 1)
 * where touched[u]; wn floats. */
void lits_conv_sum_partials(float* dweight, const float* accs, int64_t acc_n, const int* touched,
                            int threads, int64_t wn);

/* The backward data of 1x1 convolutions, strided or not, through the
 * packed GEMM (conv_data_pointwise.c), where it applies for tiling t. */
int lits_conv_pointwise_data_applies(const conv_shape* p, const tiling* t);
int lits_conv_pointwise_data(const conv_shape* p, const tiling* t, const float* weight,
                             const float* dy, float* dx);

/* Per-thread scratch of `each` floats (64-byte multiples) for `threads`. */
static inline float* thread_scratch(int64_t each, int threads, int64_t extra) {
  if (each * threads + extra == 0) return NULL;
  return (float*)lits_scratch_alloc((each * threads + extra) * (int64_t)sizeof(float));
}

static inline int64_t round16(int64_t v) { return (v + 15) / 16 * 16; }

static inline int min_threads(int nt, int64_t items) { return items < nt ? (int)items : nt; }

#endif
