/* pool.cuh: one output (forward) or one input element (backward) of max,
 * average and adaptive average pooling, with native/cpu/pool.c's windows,
 * divisors, tie and NaN rules. Shared by the kernels and the host test.
 *
 * Backward is a gather: each input element sums the gradients of the outputs
 * whose windows hold it, visiting them in the order the CPU scatters them
 * (row by row), so both backends add the same numbers in the same order and
 * no atomics are needed.
 */
#ifndef LITS_CUDA_POOL_CUH
#define LITS_CUDA_POOL_CUH

#include <math.h>
#include <stdint.h>

#include "indexing.cuh"
#include "lits.h"

struct lc_pool {
  int64_t h, w, kh, kw, sh, sw, ph, pw, oh, ow;
  int32_t include_pad;
};

/* Outputs o in [*lo, *hi] (inclusive, clipped to [0, out)) whose window
 * [o * stride - pad, o * stride - pad + k) may hold position i. The range is
 * one wider on each side than needed; callers test each candidate exactly. */
__host__ __device__ __forceinline__ void lc_pool_candidates(int64_t i, int64_t stride, int64_t pad,
                                                            int64_t k, int64_t out, int64_t* lo,
                                                            int64_t* hi) {
  /* o * stride - pad <= i  and  i < o * stride - pad + k */
  const int64_t top = i + pad;              /* o * stride <= top */
  const int64_t bottom = i + pad - k + 1;   /* o * stride >= bottom */
  int64_t a = bottom <= 0 ? 0 : bottom / stride - 1;
  int64_t b = top / stride + 1;
  if (a < 0) a = 0;
  if (b > out - 1) b = out - 1;
  *lo = a;
  *hi = b;
}

/* ---- max pooling ------------------------------------------------------------ */

/* Output (oy, ox) of plane xp: writes the maximum and its flat index. */
__host__ __device__ __forceinline__ void lc_maxpool_out(const lc_pool& p, const float* xp,
                                                        int64_t oy, int64_t ox, float* y,
                                                        int32_t* idx) {
  int64_t y0 = oy * p.sh - p.ph;
  const int64_t y1 = y0 + p.kh < p.h ? y0 + p.kh : p.h;
  if (y0 < 0) y0 = 0;
  int64_t x0 = ox * p.sw - p.pw;
  const int64_t x1 = x0 + p.kw < p.w ? x0 + p.kw : p.w;
  if (x0 < 0) x0 = 0;
  int64_t best = y0 * p.w + x0;
  float maxval = -INFINITY;
  for (int64_t iy = y0; iy < y1; iy++) {
    for (int64_t ix = x0; ix < x1; ix++) {
      const int64_t k = iy * p.w + ix;
      const float v = xp[k];
      if (v > maxval || v != v) {
        maxval = v;
        best = k;
      }
    }
  }
  *y = maxval;
  *idx = (int32_t)best;
}

/* Gradient of input (iy, ix) of one plane from dy and the forward indices. */
__host__ __device__ __forceinline__ float lc_maxpool_grad_in(const lc_pool& p, const float* dyp,
                                                             const int32_t* ip, int64_t iy,
                                                             int64_t ix) {
  int64_t oy0, oy1, ox0, ox1;
  lc_pool_candidates(iy, p.sh, p.ph, p.kh, p.oh, &oy0, &oy1);
  lc_pool_candidates(ix, p.sw, p.pw, p.kw, p.ow, &ox0, &ox1);
  const int32_t me = (int32_t)(iy * p.w + ix);
  float acc = 0.0f;
  for (int64_t oy = oy0; oy <= oy1; oy++) {
    for (int64_t ox = ox0; ox <= ox1; ox++) {
      const int64_t o = oy * p.ow + ox;
      if (ip[o] == me) acc += dyp[o]; /* only an output's own argmax gets its gradient */
    }
  }
  return acc;
}

/* ---- average pooling --------------------------------------------------------- */

struct lc_avg_window {
  int64_t y0, y1, x0, x1, divisor;
};

/* PyTorch's window: clipped to the padded input (that size is the
 * count_include_pad divisor), then to the input. */
__host__ __device__ __forceinline__ lc_avg_window lc_avg_win(const lc_pool& p, int64_t oy,
                                                             int64_t ox) {
  lc_avg_window a;
  int64_t y0 = oy * p.sh - p.ph, x0 = ox * p.sw - p.pw;
  int64_t y1 = y0 + p.kh < p.h + p.ph ? y0 + p.kh : p.h + p.ph;
  int64_t x1 = x0 + p.kw < p.w + p.pw ? x0 + p.kw : p.w + p.pw;
  const int64_t pool_size = (y1 - y0) * (x1 - x0);
  if (y0 < 0) y0 = 0;
  if (x0 < 0) x0 = 0;
  if (y1 > p.h) y1 = p.h;
  if (x1 > p.w) x1 = p.w;
  a.y0 = y0;
  a.y1 = y1;
  a.x0 = x0;
  a.x1 = x1;
  a.divisor = p.include_pad ? pool_size : (y1 - y0) * (x1 - x0);
  return a;
}

__host__ __device__ __forceinline__ float lc_avgpool_out(const lc_pool& p, const float* xp,
                                                         int64_t oy, int64_t ox) {
  const lc_avg_window a = lc_avg_win(p, oy, ox);
  if (a.y0 >= a.y1 || a.x0 >= a.x1 || a.divisor <= 0) return 0.0f;
  float sum = 0.0f;
  for (int64_t iy = a.y0; iy < a.y1; iy++)
    for (int64_t ix = a.x0; ix < a.x1; ix++) sum += xp[iy * p.w + ix];
  return sum / (float)a.divisor;
}

__host__ __device__ __forceinline__ float lc_avgpool_grad_in(const lc_pool& p, const float* dyp,
                                                             int64_t iy, int64_t ix) {
  int64_t oy0, oy1, ox0, ox1;
  lc_pool_candidates(iy, p.sh, p.ph, p.kh, p.oh, &oy0, &oy1);
  lc_pool_candidates(ix, p.sw, p.pw, p.kw, p.ow, &ox0, &ox1);
  float acc = 0.0f;
  for (int64_t oy = oy0; oy <= oy1; oy++) {
    for (int64_t ox = ox0; ox <= ox1; ox++) {
      const lc_avg_window a = lc_avg_win(p, oy, ox);
      if (a.y0 >= a.y1 || a.x0 >= a.x1 || a.divisor <= 0) continue;
      if (iy < a.y0 || iy >= a.y1 || ix < a.x0 || ix >= a.x1) continue;
      acc += dyp[oy * p.ow + ox] / (float)a.divisor;
    }
  }
  return acc;
}

/* ---- adaptive average pooling ---------------------------------------------------- */

__host__ __device__ __forceinline__ int64_t lc_bin_start(int64_t i, int64_t in, int64_t out) {
  return (i * in) / out;
}
__host__ __device__ __forceinline__ int64_t lc_bin_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

__host__ __device__ __forceinline__ float lc_adaptive_out(const float* xp, int64_t h, int64_t w,
                                                          int64_t oh, int64_t ow, int64_t oy,
                                                          int64_t ox) {
  const int64_t y0 = lc_bin_start(oy, h, oh), y1 = lc_bin_end(oy, h, oh);
  const int64_t x0 = lc_bin_start(ox, w, ow), x1 = lc_bin_end(ox, w, ow);
  float sum = 0.0f;
  for (int64_t iy = y0; iy < y1; iy++)
    for (int64_t ix = x0; ix < x1; ix++) sum += xp[iy * w + ix];
  return sum / (float)(y1 - y0) / (float)(x1 - x0);
}

/* Bins o with start(o) <= i < end(o): [*lo, *hi] widened by one, clipped. */
__host__ __device__ __forceinline__ void lc_bin_candidates(int64_t i, int64_t in, int64_t out,
                                                           int64_t* lo, int64_t* hi) {
  int64_t a = (i * out) / in - 1, b = ((i + 1) * out) / in + 1;
  *lo = a < 0 ? 0 : a;
  *hi = b > out - 1 ? out - 1 : b;
}

__host__ __device__ __forceinline__ float lc_adaptive_grad_in(const float* dyp, int64_t h,
                                                              int64_t w, int64_t oh, int64_t ow,
                                                              int64_t iy, int64_t ix) {
  int64_t oy0, oy1, ox0, ox1;
  lc_bin_candidates(iy, h, oh, &oy0, &oy1);
  lc_bin_candidates(ix, w, ow, &ox0, &ox1);
  float acc = 0.0f;
  for (int64_t oy = oy0; oy <= oy1; oy++) {
    const int64_t y0 = lc_bin_start(oy, h, oh), y1 = lc_bin_end(oy, h, oh);
    if (iy < y0 || iy >= y1) continue;
    for (int64_t ox = ox0; ox <= ox1; ox++) {
      const int64_t x0 = lc_bin_start(ox, w, ow), x1 = lc_bin_end(ox, w, ow);
      if (ix < x0 || ix >= x1) continue;
      acc += dyp[oy * ow + ox] / (float)(y1 - y0) / (float)(x1 - x0);
    }
  }
  return acc;
}

/* The kernels' view of lits.h's geometry (host side). */
static inline lc_pool lc_make_pool(const lits_pool2d_params* q, int32_t include_pad) {
  lc_pool p = {q->h,     q->w,     q->kh, q->kw, q->stride_h, q->stride_w,
               q->pad_h, q->pad_w, q->oh, q->ow, include_pad};
  return p;
}

#endif /* LITS_CUDA_POOL_CUH */
