/* maxpool.c: 2-D max pooling as PyTorch's CPU kernel: windows clipped to the
 * input, candidates visited row by row, a candidate wins when it is greater
 * than the running maximum or NaN, and the running index starts at the
 * window's first element. The input may carry a deferred per-channel
 * transform (fused_internal.h): each value is transformed, then compared.
 *
 * Two forward paths give the same bits. The separable one
 * (maxpool_separable.c: windows up to 8 rows, every common pool) folds each
 * input row once and then each output row's window of folded rows; the
 * general one (here) walks one output row at a time and, for each tap of
 * the window, updates the running maxima of the whole row. Indices are
 * written only when asked for (a backward will need them): without them
 * eval reads x and writes y, nothing else. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "fused_internal.h"
#include "pool_internal.h"

/* Outputs per block of a row: the running maxima and indices stay in L1. */
#define ROW_BLOCK 512

/* Output columns ox in [*lo, *hi) whose tap at offset kx lies inside [0, w). */
static void tap_range(int64_t kx, int64_t sw, int64_t pw, int64_t w, int64_t ox0, int64_t ox1,
                      int64_t* lo, int64_t* hi) {
  /* ix = ox * sw - pw + kx must satisfy 0 <= ix < w. */
  const int64_t need = pw - kx; /* ox * sw >= need */
  int64_t a = need > 0 ? (need + sw - 1) / sw : 0;
  const int64_t lim = w - 1 + pw - kx; /* ox * sw <= lim */
  int64_t b = lim >= 0 ? lim / sw + 1 : 0;
  if (a < ox0) a = ox0;
  if (b > ox1) b = ox1;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* Running maxima of one tap row over outputs [lo, hi): the candidate of
 * output ox is relu?(T(xr[ox * sw + off])). Inlined with constant flags, so
 * each kind of input gets its own vectorised loop. */
static inline __attribute__((always_inline)) void max_tap(
    const float* xr, float* m, int32_t* id, int64_t ox0, int64_t lo, int64_t hi, int64_t sw,
    int64_t off, int32_t base, fused_affine t, const int identity, const int relu) {
  const float tm = t.mean, ta = t.scale, tb = t.shift;
#pragma omp simd
  for (int64_t ox = lo; ox < hi; ox++) {
    float v = xr[ox * sw + off];
    if (!identity) v = (v - tm) * ta + tb;
    if (relu) v = v < 0.0f ? 0.0f : v;
    const int64_t j = ox - ox0;
    const int win = v > m[j] || v != v;
    m[j] = win ? v : m[j];
    id[j] = win ? base + (int32_t)(ox * sw) : id[j];
  }
}

/* One output row block [ox0, ox1) of one plane, whose input is relu?(T(x))
 * (identity t and relu 0: x itself); irow may be NULL (no indices). The
 * general path, for windows too large for the separable one. */
static void max_row(const float* xp, fused_affine t, int relu, float* yrow, int32_t* irow,
                    int64_t oy, int64_t ox0, int64_t ox1, int64_t h, int64_t w, int64_t kh,
                    int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  float m[ROW_BLOCK];
  int32_t id[ROW_BLOCK];
  int64_t y0 = oy * sh - ph;
  const int64_t y1 = y0 + kh < h ? y0 + kh : h;
  if (y0 < 0) y0 = 0;
  const int64_t nb = ox1 - ox0;
  for (int64_t j = 0; j < nb; j++) {
    int64_t x0 = (ox0 + j) * sw - pw;
    if (x0 < 0) x0 = 0;
    m[j] = -INFINITY;
    id[j] = (int32_t)(y0 * w + x0);
  }
  /* Only the taps that reach a column of some window in the block: a kernel
   * far wider than the image (padding on both sides) costs the image's width,
   * not the kernel's. */
  const int64_t kx0 = pw - (ox1 - 1) * sw > 0 ? pw - (ox1 - 1) * sw : 0;
  const int64_t kx1 = w + pw - ox0 * sw < kw ? w + pw - ox0 * sw : kw;
  for (int64_t iy = y0; iy < y1; iy++) {
    const float* xr = xp + iy * w;
    for (int64_t kx = kx0; kx < kx1; kx++) {
      int64_t lo, hi;
      tap_range(kx, sw, pw, w, ox0, ox1, &lo, &hi);
      const int64_t off = kx - pw;
      const int32_t base = (int32_t)(iy * w + off);
      if (t.identity && !relu) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 1, 0);
      else if (t.identity) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 1, 1);
      else if (relu) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 0, 1);
      else max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 0, 0);
    }
  }
  memcpy(yrow + ox0, m, (size_t)nb * sizeof(float));
  if (irow != NULL) memcpy(irow + ox0, id, (size_t)nb * sizeof(int32_t));
}

static int maxpool_forward(const char* fn, const lits_pool2d_params* params_host, const float* x,
                           const float* x_coef, int32_t x_relu, float* y, int32_t* indices) {
  LITS_CHECKED(lits_check_pool(fn, params_host));
  POOL_LOCALS(params_host);
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
  const int relu = x_relu != 0;
  if (lits_maxpool_separable(params_host, x, x_coef, relu, y, indices)) return LITS_OK;
  const int64_t rows = planes * oh;
  /* Rows of all planes are the parallel unit: a batch of one image with a
   * few channels still keeps both cores busy. */
#pragma omp parallel for schedule(static) if (rows * ow * kh * kw >= LITS_POOL_PAR_MIN)
  for (int64_t rr = 0; rr < rows; rr++) {
    const int64_t pl = rr / oh, oy = rr % oh;
    const fused_affine t = fused_affine_of(x_coef, c, pl % c);
    float* yrow = y + pl * ohw + oy * ow;
    int32_t* irow = indices != NULL ? indices + pl * ohw + oy * ow : NULL;
    for (int64_t ox0 = 0; ox0 < ow; ox0 += ROW_BLOCK) {
      const int64_t ox1 = ox0 + ROW_BLOCK < ow ? ox0 + ROW_BLOCK : ow;
      max_row(x + pl * hw, t, relu, yrow, irow, oy, ox0, ox1, h, w, kh, kw, stride_h, stride_w,
              pad_h, pad_w);
    }
  }
  return LITS_OK;
}

int lits_maxpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x,
                               const float* x_coef, int32_t x_relu, float* y, int32_t* indices) {
  lits_clear_error();
  return maxpool_forward("lits_maxpool2d_forward_f32", params_host, x, x_coef, x_relu, y,
                         indices);
}

/* 2x2 windows at stride 2 without padding (VGG-style nets): every input
 * element has at most one window, so dx is written in one pass, without a
 * separate clearing pass. Returns 0 when an index is not inside its own
 * window (indices that forward did not make); the caller then scatters. */
static int max2x2_backward_plane(const float* dyp, const int32_t* ip, float* dxp, int64_t h,
                                 int64_t w, int64_t oh, int64_t ow) {
  int ok = 1;
  for (int64_t oy = 0; oy < oh; oy++) {
    float* r0 = dxp + 2 * oy * w;
    float* r1 = r0 + w;
    const int32_t b0 = (int32_t)(2 * oy * w);
#pragma omp simd reduction(& : ok)
    for (int64_t ox = 0; ox < ow; ox++) {
      const int32_t idx = ip[oy * ow + ox] - b0 - (int32_t)(2 * ox);
      const float d = dyp[oy * ow + ox];
      r0[2 * ox] = idx == 0 ? d : 0.0f;
      r0[2 * ox + 1] = idx == 1 ? d : 0.0f;
      r1[2 * ox] = idx == w ? d : 0.0f;
      r1[2 * ox + 1] = idx == w + 1 ? d : 0.0f;
      ok &= idx == 0 || idx == 1 || idx == w || idx == w + 1;
    }
    /* A last odd column belongs to no window. */
    if (2 * ow < w) {
      for (int64_t ix = 2 * ow; ix < w; ix++) r0[ix] = r1[ix] = 0.0f;
    }
  }
  if (2 * oh < h) memset(dxp + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(float));
  return ok;
}

int64_t lits_maxpool_backward_plane(const lits_pool2d_params* q, const float* dyp,
                                    const int32_t* ip, float* dxp) {
  const int64_t hw = (int64_t)q->h * q->w, ohw = (int64_t)q->oh * q->ow;
  /* 2x2 stride 2 windows tile the input (2 oh <= h, 2 ow <= w in floor mode). */
  const int tiled = q->kh == 2 && q->kw == 2 && q->stride_h == 2 && q->stride_w == 2 &&
                    q->pad_h == 0 && q->pad_w == 0 && 2 * (int64_t)q->oh <= q->h &&
                    2 * (int64_t)q->ow <= q->w;
  if (tiled && max2x2_backward_plane(dyp, ip, dxp, q->h, q->w, q->oh, q->ow)) return -1;
  memset(dxp, 0, (size_t)hw * sizeof(float));
  int64_t bad = -1;
  for (int64_t j = 0; j < ohw; j++) {
    const int32_t idx = ip[j];
    if (idx < 0 || idx >= hw) {
      bad = j;
      continue;
    }
    dxp[idx] += dyp[j];
  }
  return bad;
}

int lits_maxpool2d_backward_f32(const lits_pool2d_params* params_host, const float* x,
                                const float* y, const float* dy, const int32_t* indices,
                                float* dx) {
  static const char* fn = "lits_maxpool2d_backward_f32";
  (void)x;
  (void)y;
  lits_clear_error();
  LITS_CHECKED(lits_check_pool(fn, params_host));
  LITS_REQUIRE(dy != NULL && indices != NULL && dx != NULL, "%s: dy, indices or dx is NULL",
               fn);
  const lits_pool2d_params* q = params_host;
  const int64_t planes = (int64_t)q->n * q->c, hw = (int64_t)q->h * q->w,
                ohw = (int64_t)q->oh * q->ow;
  int64_t bad = -1; /* flat position of an out-of-range index, if any */
#pragma omp parallel for schedule(static) if (planes * (hw + ohw) >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t b =
        lits_maxpool_backward_plane(params_host, dy + pl * ohw, indices + pl * ohw, dx + pl * hw);
    if (b >= 0) {
#pragma omp atomic write
      bad = pl * ohw + b;
    }
  }
  LITS_REQUIRE(bad < 0, "%s: indices[%lld]=%d is outside [0, h*w=%lld)", fn, (long long)bad,
               (int)indices[bad < 0 ? 0 : bad], (long long)hw);
  return LITS_OK;
}
