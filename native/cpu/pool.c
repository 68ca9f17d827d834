/* pool.c: average and adaptive average 2-D pooling as PyTorch's CPU kernels
 * (same window clipping, same divisors), and the checks max pooling
 * (maxpool.c) shares. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "pool_internal.h"

static int mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return 0;
  return !__builtin_mul_overflow(a, b, out);
}

int lits_pool_check(const char* fn, int32_t n, int32_t c, int32_t h, int32_t w, int32_t kh,
                      int32_t kw, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                      int32_t pad_w, int32_t oh, int32_t ow) {
  LITS_REQUIRE(n > 0 && c > 0 && h > 0 && w > 0,
               "%s: input sizes n=%d c=%d h=%d w=%d must be > 0", fn, (int)n, (int)c, (int)h,
               (int)w);
  LITS_REQUIRE(kh > 0 && kw > 0, "%s: kernel %dx%d must be > 0", fn, (int)kh, (int)kw);
  LITS_REQUIRE(stride_h > 0 && stride_w > 0, "%s: stride %dx%d must be > 0", fn, (int)stride_h,
               (int)stride_w);
  LITS_REQUIRE(pad_h >= 0 && pad_w >= 0 && pad_h <= kh / 2 && pad_w <= kw / 2,
               "%s: padding %dx%d must be >= 0 and at most half the kernel %dx%d", fn,
               (int)pad_h, (int)pad_w, (int)kh, (int)kw);
  LITS_REQUIRE(oh > 0 && ow > 0, "%s: output size %dx%d must be > 0", fn, (int)oh, (int)ow);
  const int64_t last_h = (int64_t)(oh - 1) * stride_h - pad_h;
  const int64_t last_w = (int64_t)(ow - 1) * stride_w - pad_w;
  LITS_REQUIRE(last_h < h && last_w < w,
               "%s: output %dx%d has windows starting at row %lld / column %lld, past the input "
               "%dx%d (kernel %dx%d, stride %dx%d, padding %dx%d)",
               fn, (int)oh, (int)ow, (long long)last_h, (long long)last_w, (int)h, (int)w,
               (int)kh, (int)kw, (int)stride_h, (int)stride_w, (int)pad_h, (int)pad_w);
  int64_t t;
  LITS_REQUIRE(mul_ok((int64_t)n * c, (int64_t)h * w, &t) && mul_ok(t, 4, &t) &&
                   mul_ok((int64_t)n * c, (int64_t)oh * ow, &t) && mul_ok(t, 4, &t) &&
                   (int64_t)h * w <= INT32_MAX,
               "%s: sizes overflow (n=%d c=%d h=%d w=%d oh=%d ow=%d)", fn, (int)n, (int)c,
               (int)h, (int)w, (int)oh, (int)ow);
  return LITS_OK;
}

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

int lits_avgpool2d_forward_f32(const float* x, float* y, int32_t n, int32_t c, int32_t h,
                               int32_t w, int32_t kh, int32_t kw, int32_t stride_h,
                               int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t oh,
                               int32_t ow, int32_t count_include_pad) {
  static const char* fn = "lits_avgpool2d_forward_f32";
  lits_clear_error();
  int st = lits_pool_check(fn, n, c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow);
  if (st != LITS_OK) return st;
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

int lits_avgpool2d_backward_f32(const float* dy, float* dx, int32_t n, int32_t c, int32_t h,
                                int32_t w, int32_t kh, int32_t kw, int32_t stride_h,
                                int32_t stride_w, int32_t pad_h, int32_t pad_w, int32_t oh,
                                int32_t ow, int32_t count_include_pad) {
  static const char* fn = "lits_avgpool2d_backward_f32";
  lits_clear_error();
  int st = lits_pool_check(fn, n, c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow);
  if (st != LITS_OK) return st;
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

static int adaptive_check(const char* fn, int32_t n, int32_t c, int32_t h, int32_t w,
                          int32_t oh, int32_t ow) {
  LITS_REQUIRE(n > 0 && c > 0 && h > 0 && w > 0,
               "%s: input sizes n=%d c=%d h=%d w=%d must be > 0", fn, (int)n, (int)c, (int)h,
               (int)w);
  LITS_REQUIRE(oh > 0 && ow > 0, "%s: output size %dx%d must be > 0", fn, (int)oh, (int)ow);
  int64_t t;
  LITS_REQUIRE(mul_ok((int64_t)n * c, (int64_t)h * w, &t) && mul_ok(t, 4, &t) &&
                   mul_ok((int64_t)n * c, (int64_t)oh * ow, &t) && mul_ok(t, 4, &t),
               "%s: sizes overflow (n=%d c=%d h=%d w=%d oh=%d ow=%d)", fn, (int)n, (int)c,
               (int)h, (int)w, (int)oh, (int)ow);
  return LITS_OK;
}

int lits_adaptive_avgpool2d_forward_f32(const float* x, float* y, int32_t n, int32_t c,
                                        int32_t h, int32_t w, int32_t oh, int32_t ow) {
  static const char* fn = "lits_adaptive_avgpool2d_forward_f32";
  lits_clear_error();
  int st = adaptive_check(fn, n, c, h, w, oh, ow);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
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
  int st = adaptive_check(fn, n, c, h, w, oh, ow);
  if (st != LITS_OK) return st;
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
