/* conv.c: 2-D convolution (forward, backward data, filter and bias) as
 * im2col / col2im + OpenBLAS SGEMM, one image and one group at a time. */
#include <cblas.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

/* Below this many column elements im2col/col2im stay on one thread. */
#define LITS_CONV_PAR_MIN 32768

typedef struct {
  int64_t n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups;
  int64_t oh, ow, ohw, cg, kg, crs_g; /* crs_g = (c / groups) * r * s */
  int pointwise;                       /* 1x1, stride 1, no padding: col = x */
} conv_shape;

/* a * b into *out; 0 on int64 overflow or a negative operand. */
static int mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return 0;
  return !__builtin_mul_overflow(a, b, out);
}

static int conv_setup(const char* fn, conv_shape* p, int32_t n, int32_t c, int32_t h, int32_t w,
                      int32_t k, int32_t r, int32_t s, int32_t stride_h, int32_t stride_w,
                      int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w,
                      int32_t groups) {
  LITS_REQUIRE(n > 0 && c > 0 && h > 0 && w > 0,
               "%s: input sizes n=%d c=%d h=%d w=%d must be > 0", fn, (int)n, (int)c, (int)h,
               (int)w);
  LITS_REQUIRE(k > 0 && r > 0 && s > 0, "%s: filter sizes k=%d r=%d s=%d must be > 0", fn,
               (int)k, (int)r, (int)s);
  LITS_REQUIRE(stride_h > 0 && stride_w > 0, "%s: strides %dx%d must be > 0", fn,
               (int)stride_h, (int)stride_w);
  LITS_REQUIRE(dil_h > 0 && dil_w > 0, "%s: dilations %dx%d must be > 0", fn, (int)dil_h,
               (int)dil_w);
  LITS_REQUIRE(pad_h >= 0 && pad_w >= 0, "%s: padding %dx%d must be >= 0", fn, (int)pad_h,
               (int)pad_w);
  LITS_REQUIRE(groups > 0, "%s: groups=%d must be > 0", fn, (int)groups);
  LITS_REQUIRE(c % groups == 0 && k % groups == 0,
               "%s: groups=%d must divide both c=%d and k=%d", fn, (int)groups, (int)c, (int)k);
  const int64_t eff_h = (int64_t)dil_h * (r - 1) + 1, eff_w = (int64_t)dil_w * (s - 1) + 1;
  const int64_t in_h = (int64_t)h + 2 * (int64_t)pad_h, in_w = (int64_t)w + 2 * (int64_t)pad_w;
  LITS_REQUIRE(eff_h <= in_h && eff_w <= in_w,
               "%s: dilated kernel %lldx%lld (r=%d s=%d dil=%dx%d) is larger than the padded "
               "input %lldx%lld (h=%d w=%d pad=%dx%d)",
               fn, (long long)eff_h, (long long)eff_w, (int)r, (int)s, (int)dil_h, (int)dil_w,
               (long long)in_h, (long long)in_w, (int)h, (int)w, (int)pad_h, (int)pad_w);
  p->n = n, p->c = c, p->h = h, p->w = w, p->k = k, p->r = r, p->s = s;
  p->sh = stride_h, p->sw = stride_w, p->ph = pad_h, p->pw = pad_w, p->dh = dil_h;
  p->dw = dil_w, p->groups = groups;
  p->oh = (in_h - eff_h) / stride_h + 1;
  p->ow = (in_w - eff_w) / stride_w + 1;
  p->cg = c / groups;
  p->kg = k / groups;
  int64_t x_el, y_el, w_el, col_el, t;
  int ok = mul_ok(p->oh, p->ow, &p->ohw) && mul_ok(p->cg * (int64_t)r, s, &p->crs_g) &&
           mul_ok((int64_t)n * c, (int64_t)h * w, &x_el) && mul_ok((int64_t)n * k, p->ohw, &y_el) &&
           mul_ok((int64_t)k, p->crs_g, &w_el) && mul_ok(p->crs_g * groups, p->ohw, &col_el) &&
           mul_ok(x_el > y_el ? x_el : y_el, 4, &t) && mul_ok(col_el, 4, &t) &&
           mul_ok(w_el, 4, &t);
  LITS_REQUIRE(ok, "%s: sizes overflow (n=%d c=%d h=%d w=%d k=%d r=%d s=%d)", fn, (int)n, (int)c,
               (int)h, (int)w, (int)k, (int)r, (int)s);
  LITS_REQUIRE(p->ohw <= INT_MAX && p->crs_g <= INT_MAX && (int64_t)h * w <= INT_MAX,
               "%s: a GEMM dimension exceeds the 32-bit BLAS limit (oh*ow=%lld, "
               "(c/groups)*r*s=%lld, h*w=%lld)",
               fn, (long long)p->ohw, (long long)p->crs_g, (long long)h * w);
  p->pointwise = r == 1 && s == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  return LITS_OK;
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

/* col [c * r * s, oh * ow] from one image x [c, h, w]. */
static void im2col(const conv_shape* p, const float* x, float* col) {
  const int64_t c = p->c, h = p->h, w = p->w, r = p->r, s = p->s, oh = p->oh, ow = p->ow;
  const int64_t ohw = p->ohw;
#pragma omp parallel for schedule(static) if (c * r * s * ohw >= LITS_CONV_PAR_MIN)
  for (int64_t ci = 0; ci < c; ci++) {
    const float* xc = x + ci * h * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        float* row = col + ((ci * r + kr) * s + ks) * ohw;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        for (int64_t oy = 0; oy < oh; oy++) {
          float* dst = row + oy * ow;
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) {
            memset(dst, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float* src = xc + iy * w - off_w;
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
          if (p->sw == 1) {
            if (hi > lo) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * p->sw];
          }
          for (int64_t ox = hi; ox < ow; ox++) dst[ox] = 0.0f;
        }
      }
    }
  }
}

/* dx [c, h, w] (overwritten) = sum of col [c * r * s, oh * ow] at its sources. */
static void col2im(const conv_shape* p, const float* col, float* dx) {
  const int64_t c = p->c, h = p->h, w = p->w, r = p->r, s = p->s, oh = p->oh, ow = p->ow;
  const int64_t ohw = p->ohw;
#pragma omp parallel for schedule(static) if (c * r * s * ohw >= LITS_CONV_PAR_MIN)
  for (int64_t ci = 0; ci < c; ci++) {
    float* xc = dx + ci * h * w;
    memset(xc, 0, (size_t)(h * w) * sizeof(float));
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        const float* row = col + ((ci * r + kr) * s + ks) * ohw;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        if (hi <= lo) continue;
        for (int64_t oy = 0; oy < oh; oy++) {
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) continue;
          const float* src = row + oy * ow;
          float* dst = xc + iy * w - off_w;
          if (p->sw == 1) {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * p->sw] += src[ox];
          }
        }
      }
    }
  }
}

static float* alloc_col(const conv_shape* p) {
  return (float*)lits_scratch_alloc(p->c * p->r * p->s * p->ohw * (int64_t)sizeof(float));
}

int lits_conv2d_forward_f32(const float* x, const float* weight, const float* bias, float* y,
                            int32_t n, int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                            int32_t s, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                            int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  static const char* fn = "lits_conv2d_forward_f32";
  lits_clear_error();
  conv_shape p;
  int st = conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h,
                      dil_w, groups);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  float* col = NULL;
  if (!p.pointwise) {
    col = alloc_col(&p);
    if (col == NULL) return LITS_ERR_MEMORY;
  }
  const int64_t chw = p.c * p.h * p.w, kohw = p.k * p.ohw;
  for (int64_t ni = 0; ni < p.n; ni++) {
    const float* xi = x + ni * chw;
    float* yi = y + ni * kohw;
    const float* cols = xi; /* pointwise: x [c, h*w] is the column matrix */
    if (!p.pointwise) {
      im2col(&p, xi, col);
      cols = col;
    }
    for (int64_t g = 0; g < p.groups; g++) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p.kg, (int)p.ohw,
                  (int)p.crs_g, 1.0f, weight + g * p.kg * p.crs_g, (int)p.crs_g,
                  cols + g * p.crs_g * p.ohw, (int)p.ohw, 0.0f, yi + g * p.kg * p.ohw,
                  (int)p.ohw);
    }
    if (bias != NULL) {
#pragma omp parallel for schedule(static) if (kohw >= LITS_CONV_PAR_MIN)
      for (int64_t ki = 0; ki < p.k; ki++) {
        float* yk = yi + ki * p.ohw;
        const float b = bias[ki];
        for (int64_t j = 0; j < p.ohw; j++) yk[j] += b;
      }
    }
  }
  lits_scratch_free(col);
  return LITS_OK;
}

int lits_conv2d_backward_data_f32(const float* weight, const float* dy, float* dx, int32_t n,
                                  int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                                  int32_t s, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                                  int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  static const char* fn = "lits_conv2d_backward_data_f32";
  lits_clear_error();
  conv_shape p;
  int st = conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h,
                      dil_w, groups);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", fn);
  float* col = NULL;
  if (!p.pointwise) {
    col = alloc_col(&p);
    if (col == NULL) return LITS_ERR_MEMORY;
  }
  const int64_t chw = p.c * p.h * p.w, kohw = p.k * p.ohw;
  for (int64_t ni = 0; ni < p.n; ni++) {
    const float* dyi = dy + ni * kohw;
    float* dxi = dx + ni * chw;
    float* cols = p.pointwise ? dxi : col; /* pointwise: dx [c, h*w] is the column matrix */
    for (int64_t g = 0; g < p.groups; g++) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p.crs_g, (int)p.ohw, (int)p.kg,
                  1.0f, weight + g * p.kg * p.crs_g, (int)p.crs_g, dyi + g * p.kg * p.ohw,
                  (int)p.ohw, 0.0f, cols + g * p.crs_g * p.ohw, (int)p.ohw);
    }
    if (!p.pointwise) col2im(&p, col, dxi);
  }
  lits_scratch_free(col);
  return LITS_OK;
}

int lits_conv2d_backward_filter_f32(const float* x, const float* dy, float* dweight, int32_t n,
                                    int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                                    int32_t s, int32_t stride_h, int32_t stride_w,
                                    int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w,
                                    int32_t groups) {
  static const char* fn = "lits_conv2d_backward_filter_f32";
  lits_clear_error();
  conv_shape p;
  int st = conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h,
                      dil_w, groups);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(x != NULL && dy != NULL && dweight != NULL, "%s: x, dy or dweight is NULL", fn);
  float* col = NULL;
  if (!p.pointwise) {
    col = alloc_col(&p);
    if (col == NULL) return LITS_ERR_MEMORY;
  }
  const int64_t chw = p.c * p.h * p.w, kohw = p.k * p.ohw;
  for (int64_t ni = 0; ni < p.n; ni++) {
    const float* xi = x + ni * chw;
    const float* dyi = dy + ni * kohw;
    const float* cols = xi;
    if (!p.pointwise) {
      im2col(&p, xi, col);
      cols = col;
    }
    const float beta = ni == 0 ? 0.0f : 1.0f;
    for (int64_t g = 0; g < p.groups; g++) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)p.kg, (int)p.crs_g, (int)p.ohw,
                  1.0f, dyi + g * p.kg * p.ohw, (int)p.ohw, cols + g * p.crs_g * p.ohw,
                  (int)p.ohw, beta, dweight + g * p.kg * p.crs_g, (int)p.crs_g);
    }
  }
  lits_scratch_free(col);
  return LITS_OK;
}

int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                  int64_t hw) {
  static const char* fn = "lits_conv2d_backward_bias_f32";
  lits_clear_error();
  LITS_REQUIRE(n > 0 && k > 0 && hw > 0, "%s: sizes n=%d k=%d hw=%lld must be > 0", fn, (int)n,
               (int)k, (long long)hw);
  int64_t t;
  LITS_REQUIRE(mul_ok((int64_t)n * k, hw, &t) && mul_ok(t, 4, &t),
               "%s: sizes overflow (n=%d k=%d hw=%lld)", fn, (int)n, (int)k, (long long)hw);
  LITS_REQUIRE(dy != NULL && dbias != NULL, "%s: dy or dbias is NULL", fn);
  const int64_t kk = k;
#pragma omp parallel for schedule(static) if ((int64_t)n * k * hw >= LITS_CONV_PAR_MIN)
  for (int64_t ki = 0; ki < kk; ki++) {
    double acc = 0.0;
    for (int64_t ni = 0; ni < n; ni++) {
      const float* src = dy + (ni * kk + ki) * hw;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < hw; j++) acc += src[j];
    }
    dbias[ki] = (float)acc;
  }
  return LITS_OK;
}
