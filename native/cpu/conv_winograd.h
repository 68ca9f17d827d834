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

/* F(4x4, 3x3)'s U = G f G^T of one 3x3 filter f: value xi at out[xi * stride]. */
void lits_wg4_filter(const float f[3][3], float* out, int64_t stride);
/* V[xi][ci][j] for the tiles of tile rows r0 .. r0 + nr; buf: wg4_buf_floats. */
void lits_wg4_transform_input(const wg_geom* g, const float* x, const conv_xform* xf, int64_t r0,
                              int64_t nr, int64_t ld, float* v, float* buf);
/* y (plus bias) for tile rows r0 .. r0 + nr from M[xi][ko][j]. */
void lits_wg4_transform_output(const wg_geom* g, const float* m, int64_t r0, int64_t nr,
                               int64_t ld, const float* bias, float* y, float* buf);
/* Floats of a thread's buffer for the two transforms above, blocks of tb tiles. */
int64_t lits_wg4_buf_floats(const wg_geom* g, int64_t tb);

#endif
