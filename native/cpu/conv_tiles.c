/* conv_tiles.c: the tiles of the GEMM convolutions (conv_gemm.c) and
 * their column matrices: im2col into a tile, col2im out of one. */
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "conv_tiles.h"
#include "fused_internal.h"

/* Bytes of column matrix per tile: a quarter of L2 here, so that the column
 * tile, the weights' packed panel and the output tile fit together. */
#define TILE_BYTES (512 * 1024)
/* ... but at least this many columns: with many input channels a tile that
 * fits L2 would be a GEMM too narrow to run at speed (SGEMM packs its
 * operands into cache-sized blocks itself). */
#define TILE_MIN_COLS 256

tiling lits_conv_make_tiling(const conv_shape* p, int64_t col_rows, int nt) {
  tiling t;
  int64_t target = TILE_BYTES / 4 / (col_rows > 0 ? col_rows : 1);
  if (target < TILE_MIN_COLS) target = TILE_MIN_COLS;
  if (target < p->ow) target = p->ow;
  if (p->ohw <= target / 2 && p->n > 1) {
    int64_t imgs = target / p->ohw;
    const int64_t fair = (p->n + nt - 1) / nt; /* at least one tile per thread */
    if (imgs > fair) imgs = fair;
    if (imgs < 1) imgs = 1;
    t.imgs = imgs;
    t.rows = p->oh;
    t.per_img = 1;
    t.count = (p->n + imgs - 1) / imgs;
    t.max_cols = imgs * p->ohw;
    return t;
  }
  int64_t rows = target / p->ow;
  if (rows < 1) rows = 1;
  if (rows > p->oh) rows = p->oh;
  int64_t per_img = (p->oh + rows - 1) / rows;
  if (p->n * per_img < nt && p->oh > 1) {
    int64_t want = (nt + p->n - 1) / p->n;
    if (want > p->oh) want = p->oh;
    rows = (p->oh + want - 1) / want;
    per_img = (p->oh + rows - 1) / rows;
  }
  t.imgs = 1;
  t.rows = rows;
  t.per_img = per_img;
  t.count = p->n * per_img;
  t.max_cols = rows * p->ow;
  return t;
}

tile lits_conv_tile_at(const conv_shape* p, const tiling* t, int64_t ti) {
  tile b;
  if (t->imgs > 1) {
    b.i0 = ti * t->imgs;
    b.ni = p->n - b.i0 < t->imgs ? p->n - b.i0 : t->imgs;
    b.oy0 = 0;
    b.oy1 = p->oh;
  } else {
    b.i0 = ti / t->per_img;
    b.ni = 1;
    b.oy0 = (ti % t->per_img) * t->rows;
    b.oy1 = b.oy0 + t->rows < p->oh ? b.oy0 + t->rows : p->oh;
  }
  b.cols = b.ni * (b.oy1 - b.oy0) * p->ow;
  return b;
}

/* Output columns ox in [*lo, *hi) read input column ox * stride - off inside
 * [0, size). */
static void valid_range(int64_t off, int64_t stride, int64_t size, int64_t out, int64_t* lo,
                        int64_t* hi) {
  int64_t a = off > 0 ? (off + stride - 1) / stride : 0;
  int64_t t = size - 1 + off;
  int64_t b = t >= 0 ? t / stride + 1 : 0;
  if (a > out) a = out;
  if (b > out) b = out;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* col rows ci r s + kr s + ks, columns [col0, col0 + (oy1 - oy0) ow) (row
 * stride ld), from nch channels whose input row iy (of the image) is at
 * src + ci * plane + (iy - iy_base) * w. */
static void im2col_rows(const conv_shape* p, const float* src, int64_t plane, int64_t iy_base,
                        int64_t nch, int64_t oy0, int64_t oy1, float* col, int64_t ld,
                        int64_t col0) {
  const int64_t h = p->h, w = p->w, r = p->r, s = p->s, ow = p->ow;
  for (int64_t ci = 0; ci < nch; ci++) {
    const float* xc = src + ci * plane - iy_base * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        float* row = col + ((ci * r + kr) * s + ks) * ld + col0;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        for (int64_t oy = oy0; oy < oy1; oy++) {
          float* dst = row + (oy - oy0) * ow;
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) {
            memset(dst, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float* in = xc + iy * w - off_w;
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
          if (p->sw == 1) {
            if (hi > lo) memcpy(dst + lo, in + lo, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = in[ox * p->sw];
          }
          for (int64_t ox = hi; ox < ow; ox++) dst[ox] = 0.0f;
        }
      }
    }
  }
}

/* Input rows [*lo, *hi) of the image that output rows [oy0, oy1) read. */
static void input_rows(const conv_shape* p, int64_t oy0, int64_t oy1, int64_t* lo, int64_t* hi) {
  int64_t a = oy0 * p->sh - p->ph, b = (oy1 - 1) * p->sh - p->ph + (p->r - 1) * p->dh + 1;
  *lo = a < 0 ? 0 : a;
  *hi = b > p->h ? p->h : b;
  if (*hi < *lo) *hi = *lo;
}

/* Floats of the transformed-rows buffer im2col_tile needs for tiles of
 * `rows` output rows (0 without a transform). */
int64_t lits_conv_xbuf_floats(const conv_shape* p, const conv_xform* xf, int64_t rows) {
  if (!conv_xform_active(xf) || p->pointwise) return 0;
  int64_t in = (rows - 1) * p->sh + (p->r - 1) * p->dh + 1;
  if (in > p->h) in = p->h;
  return p->cg * in * p->w;
}

/* col rows (ci - c0) r s + kr s + ks, columns [col0, col0 + (oy1 - oy0) ow)
 * (row stride ld), from channels [c0, c0 + nch) of one image xi. With a
 * transform xf the rows the tile reads are transformed once into xbuf
 * (lits_conv_xbuf_floats), rather than each element r s times as im2col copies it;
 * padding stays zero: it pads the transformed input. */
static void im2col_tile(const conv_shape* p, const float* xi, const conv_xform* xf, int64_t c0,
                        int64_t nch, int64_t oy0, int64_t oy1, float* col, int64_t ld,
                        int64_t col0, float* xbuf) {
  const int64_t hw = p->h * p->w;
  if (!conv_xform_active(xf)) {
    im2col_rows(p, xi + c0 * hw, hw, 0, nch, oy0, oy1, col, ld, col0);
    return;
  }
  if (p->pointwise) { /* col rows are the input rows: transform straight into them */
    const int64_t len = (oy1 - oy0) * p->w;
    for (int64_t ci = 0; ci < nch; ci++) {
      const fused_affine t = fused_affine_of(xf->coef, p->c, c0 + ci);
      fused_apply(col + ci * ld + col0, xi + (c0 + ci) * hw + oy0 * p->w, len, t, xf->relu);
    }
    return;
  }
  int64_t lo, hi;
  input_rows(p, oy0, oy1, &lo, &hi);
  const int64_t len = (hi - lo) * p->w;
  for (int64_t ci = 0; ci < nch; ci++) {
    const fused_affine t = fused_affine_of(xf->coef, p->c, c0 + ci);
    fused_apply(xbuf + ci * len, xi + (c0 + ci) * hw + lo * p->w, len, t, xf->relu);
  }
  im2col_rows(p, xbuf, len, lo, nch, oy0, oy1, col, ld, col0);
}

const float* lits_conv_tile_columns(const conv_shape* p, const float* x, const conv_xform* xf,
                                    int direct, const tile* b, int64_t g, float* col, float* xbuf,
                                    int64_t* ld) {
  const int64_t hw = p->h * p->w, chw = p->c * hw, span = (b->oy1 - b->oy0) * p->ow;
  if (direct && b->ni == 1) {
    *ld = hw;
    return x + b->i0 * chw + g * p->cg * hw + b->oy0 * p->ow;
  }
  for (int64_t i = 0; i < b->ni; i++) {
    im2col_tile(p, x + (b->i0 + i) * chw, xf, g * p->cg, p->cg, b->oy0, b->oy1, col, b->cols,
                i * span, xbuf);
  }
  *ld = b->cols;
  return col;
}

void lits_conv_col2im_tile(const conv_shape* p, const float* col, int64_t ld, int64_t col0,
                           float* dxi, int64_t c0, int64_t nch, int64_t oy0, int64_t oy1) {
  const int64_t h = p->h, w = p->w, r = p->r, s = p->s, ow = p->ow;
  for (int64_t ci = 0; ci < nch; ci++) {
    float* xc = dxi + (c0 + ci) * h * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        const float* row = col + ((ci * r + kr) * s + ks) * ld + col0;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        if (hi <= lo) continue;
        for (int64_t oy = oy0; oy < oy1; oy++) {
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) continue;
          const float* src = row + (oy - oy0) * ow;
          float* dst = xc + iy * w - off_w;
          if (p->sw == 1) {
#pragma omp simd
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * p->sw] += src[ox];
          }
        }
      }
    }
  }
}

void lits_conv_sum_partials(float* dweight, const float* accs, int64_t acc_n, const int* touched,
                            int threads, int64_t wn) {
#pragma omp for schedule(static)
  for (int64_t j = 0; j < wn; j++) {
    float v = touched[0] ? dweight[j] : 0.0f;
    for (int u = 1; u < threads; u++) {
      if (touched[u]) v += accs[acc_n * (u - 1) + j];
    }
    dweight[j] = v;
  }
}
