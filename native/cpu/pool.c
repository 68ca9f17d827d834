/* pool.c: average and adaptive average 2-D pooling as PyTorch's CPU kernels
 * (same window clipping, same divisors). */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "pool_internal.h"

/* ---- average pooling ------------------------------------------------------ */

/* Window of output (oy, ox) clipped to the input and its divisor, as PyTorch:
 * the window is first clipped to the padded input [-pad, size + pad), which
 * gives the count_include_pad divisor, then to the input [0, size). */
typedef struct {
  int64_t y0, y1, x0, x1, divisor;
} avg_window;

static avg_window avg_win(int64_t oy, int64_t ox, int64_t h, int64_t w, int64_t kh, int64_t kw,
                          int64_t sh, int64_t sw, int64_t ph, int64_t pw, int32_t include_pad) {
  avg_window a;
  int64_t y0 = oy * sh - ph, x0 = ox * sw - pw;
  int64_t y1 = y0 + kh < h + ph ? y0 + kh : h + ph;
  int64_t x1 = x0 + kw < w + pw ? x0 + kw : w + pw;
  const int64_t pool_size = (y1 - y0) * (x1 - x0);
  if (y0 < 0) y0 = 0;
  if (x0 < 0) x0 = 0;
  if (y1 > h) y1 = h;
  if (x1 > w) x1 = w;
  a.y0 = y0, a.y1 = y1, a.x0 = x0, a.x1 = x1;
  a.divisor = include_pad ? pool_size : (y1 - y0) * (x1 - x0);
  return a;
}

int lits_avgpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x, float* y,
                               int32_t count_include_pad) {
  static const char* fn = "lits_avgpool2d_forward_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_pool(fn, params_host));
  POOL_LOCALS(params_host);
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) if (planes * ohw * kh * kw >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * hw;
    float* yp = y + pl * ohw;
    for (int64_t oy = 0; oy < oh; oy++) {
      for (int64_t ox = 0; ox < ow; ox++) {
        const avg_window a =
            avg_win(oy, ox, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, count_include_pad);
        if (a.y0 >= a.y1 || a.x0 >= a.x1 || a.divisor <= 0) { /* empty: cannot pass the checks */
          yp[oy * ow + ox] = 0.0f;
          continue;
        }
        float sum = 0.0f;
        for (int64_t iy = a.y0; iy < a.y1; iy++) {
          for (int64_t ix = a.x0; ix < a.x1; ix++) sum += xp[iy * w + ix];
        }
        yp[oy * ow + ox] = sum / (float)a.divisor;
      }
    }
  }
  return LITS_OK;
}

int lits_avgpool2d_backward_f32(const lits_pool2d_params* params_host, const float* dy,
                                float* dx, int32_t count_include_pad) {
  static const char* fn = "lits_avgpool2d_backward_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_pool(fn, params_host));
  POOL_LOCALS(params_host);
  LITS_REQUIRE(dy != NULL && dx != NULL, "%s: dy or dx is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) if (planes * ohw * kh * kw >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dxp = dx + pl * hw;
    const float* dyp = dy + pl * ohw;
    memset(dxp, 0, (size_t)hw * sizeof(float));
    for (int64_t oy = 0; oy < oh; oy++) {
      for (int64_t ox = 0; ox < ow; ox++) {
        const avg_window a =
            avg_win(oy, ox, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, count_include_pad);
        if (a.y0 >= a.y1 || a.x0 >= a.x1 || a.divisor <= 0) continue;
        const float g = dyp[oy * ow + ox] / (float)a.divisor;
        for (int64_t iy = a.y0; iy < a.y1; iy++) {
          for (int64_t ix = a.x0; ix < a.x1; ix++) dxp[iy * w + ix] += g;
        }
      }
    }
  }
  return LITS_OK;
}

/* ---- adaptive average pooling --------------------------------------------- */

static int64_t bin_start(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
static int64_t bin_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

/* The global pool (one bin a plane), 8 planes at a time: each plane is
 * still summed in order into its own accumulator (the bits of the general
 * loop below, and of the CUDA kernel), but 8 independent sums hide the
 * add's latency, which made one plane at a time 3x slower than memory
 * (EfficientNet's squeeze-and-excitation inputs, [16, 96, 128, 128]). */
static void global_sums(const float* x, float* y, int64_t planes, int64_t hw, float h, float w) {
#pragma omp parallel for schedule(static) if (planes * hw >= LITS_POOL_PAR_MIN)
  for (int64_t p0 = 0; p0 < planes; p0 += 8) {
    const float* xp = x + p0 * hw;
    if (planes - p0 >= 8) {
      float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
      for (int64_t j = 0; j < hw; j++) {
#pragma GCC unroll 8
        for (int q = 0; q < 8; q++) s[q] += xp[q * hw + j];
      }
      for (int q = 0; q < 8; q++) y[p0 + q] = s[q] / h / w;
      continue;
    }
    for (int64_t q = 0; q < planes - p0; q++) {
      float sum = 0.0f;
      for (int64_t j = 0; j < hw; j++) sum += xp[q * hw + j];
      y[p0 + q] = sum / h / w;
    }
  }
}

int lits_adaptive_avgpool2d_forward_f32(const float* x, float* y, int32_t n, int32_t c,
                                        int32_t h, int32_t w, int32_t oh, int32_t ow) {
  static const char* fn = "lits_adaptive_avgpool2d_forward_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_adaptive_pool(fn, n, c, h, w, oh, ow));
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
  if (ohw == 1) {
    global_sums(x, y, planes, hw, (float)h, (float)w);
    return LITS_OK;
  }
#pragma omp parallel for schedule(static) if (planes * (hw + ohw) >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * hw;
    float* yp = y + pl * ohw;
    for (int64_t oy = 0; oy < oh; oy++) {
      const int64_t y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
      for (int64_t ox = 0; ox < ow; ox++) {
        const int64_t x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
        float sum = 0.0f;
        for (int64_t iy = y0; iy < y1; iy++) {
          for (int64_t ix = x0; ix < x1; ix++) sum += xp[iy * w + ix];
        }
        yp[oy * ow + ox] = sum / (float)(y1 - y0) / (float)(x1 - x0);
      }
    }
  }
  return LITS_OK;
}

int lits_adaptive_avgpool2d_backward_f32(const float* dy, float* dx, int32_t n, int32_t c,
                                         int32_t h, int32_t w, int32_t oh, int32_t ow) {
  static const char* fn = "lits_adaptive_avgpool2d_backward_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_adaptive_pool(fn, n, c, h, w, oh, ow));
  LITS_REQUIRE(dy != NULL && dx != NULL, "%s: dy or dx is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) if (planes * (hw + ohw) >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dxp = dx + pl * hw;
    const float* dyp = dy + pl * ohw;
    memset(dxp, 0, (size_t)hw * sizeof(float));
    for (int64_t oy = 0; oy < oh; oy++) {
      const int64_t y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
      for (int64_t ox = 0; ox < ow; ox++) {
        const int64_t x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
        const float g = dyp[oy * ow + ox] / (float)(y1 - y0) / (float)(x1 - x0);
        for (int64_t iy = y0; iy < y1; iy++) {
          for (int64_t ix = x0; ix < x1; ix++) dxp[iy * w + ix] += g;
        }
      }
    }
  }
  return LITS_OK;
}
