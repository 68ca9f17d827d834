/* conv_winograd.h: what the Winograd driver (conv_winograd.c) and the
 * F(4x4, 3x3) transforms (conv_winograd4.c) share. */
#ifndef LITS_CONV_WINOGRAD_H
#define LITS_CONV_WINOGRAD_H

#include <stdint.h>

#include "conv_internal.h"

typedef struct {
  int64_t n, c, k, h, w; /* input [n, c, h, w] -> output [n, k, h, w] */
  int64_t m, t, planes;  /* output tile m x m, input tile t x t (t = m + 2), t^2 planes */
  int64_t th, tw, rows;  /* tiles per column and per row of an image; tile rows in all */
} wg_geom;

/* The geometry of output tiles m x m (2 or 4) over input [n, c, h, w] -> [n, k, h, w]. */
wg_geom lits_wg_geom(int64_t n, int64_t c, int64_t k, int64_t h, int64_t w, int64_t m);
/* The output tile of the forward and backward data: 4, or 2 where
 * LITS_WINOGRAD_TILE=2 (for tests and benchmarks that compare them; read on
 * every call). */
int64_t lits_wg_tile(void);
/* U[xi][o][i] of the filters (o, i) at w + o * so + i * si (flipped when flip). */
int lits_wg_transform_weights(const float* w, int64_t no, int64_t ni, int64_t so, int64_t si,
                              int flip, int64_t m, float* u);
/* Whether blocks of tb tiles take packed_gemm.c's GEMM for the planes. */
int lits_wg_packs(const wg_geom* g, int64_t tb);
/* U's planes packed for that GEMM: planes x lits_packed_gemm_weights_floats(k, c) floats. */
void lits_wg_pack_planes(const wg_geom* g, const float* u, float* up);
/* F(4x4)'s U of the filters (o, i) at w + o * so + i * si (flipped when
 * flip) straight into lits_wg_pack_planes' layout, in one pass
 * (conv_winograd_pack.c; AVX-512): the same values. */
int lits_wg4_pack_weights(const float* w, int64_t no, int64_t ni, int64_t so, int64_t si,
                          int flip, float* up);
/* y = conv3x3(relu?(T(x))) + bias from U (u), or from its planes packed
 * already (ready); LITS_WG_NONFINITE where an output is NaN or +-Inf. */
int lits_wg_run(const wg_geom* g, const float* x, const conv_xform* xf, const float* u,
                const float* ready, const float* bias, float* y);

/* F(4x4, 3x3)'s U = G f G^T of one 3x3 filter f: value xi at out[xi * stride]. */
void lits_wg4_filter(const float f[3][3], float* out, int64_t stride);
/* lits_wg4_filter of 16 filters, filter l at w + l si (read flipped where
 * flip), lane by lane the same operations: value xi of filter l at
 * out[xi * stride + l]. */
void lits_wg4_filters16(const float* w, int64_t si, int flip, float* out, int64_t stride);
/* V[xi][ci][j] for the tiles of tile rows r0 .. r0 + nr; buf: wg4_buf_floats. */
void lits_wg4_transform_input(const wg_geom* g, const float* x, const conv_xform* xf, int64_t r0,
                              int64_t nr, int64_t ld, float* v, float* buf);
/* y (plus bias) for tile rows r0 .. r0 + nr from M[xi][ko][j]; 0 where
 * an output of these tiles is NaN or +-Inf, else 1. */
int lits_wg4_transform_output(const wg_geom* g, const float* m, int64_t r0, int64_t nr,
                              int64_t ld, const float* bias, float* y, float* buf);
/* dM[xi][ko][j] = A dy A^T for the 4x4 dy tiles of tile rows r0 .. r0 + nr
 * (zero past the edges): the filter gradient's transform of dy (each value
 * of dy rounded to bf16 first where dy_bf16). */
void lits_wg4_transform_grad(const wg_geom* g, const float* dy, int dy_bf16, int64_t r0,
                             int64_t nr, int64_t ld, float* dm, float* buf);
/* dweight [k][c][3][3] = G^T dU G from dU [36][k][c] (planes `step`
 * floats apart), the sum of `parts` partial dU part_stride floats apart
 * (the threads', added in order). */
void lits_wg4_untransform(const float* du, int64_t parts, int64_t part_stride, int64_t step,
                          int64_t k, int64_t c, float* dweight);
/* Floats of a thread's buffer for the three transforms above, blocks of tb tiles. */
int64_t lits_wg4_buf_floats(const wg_geom* g, int64_t tb);

#endif
