/* conv.c: 2-D convolution entry points (forward, backward data, filter and
 * bias): argument checks, then the algorithm for the shape. */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"

/* Below this many elements the bias gradient stays on one thread. */
#define LITS_CONV_PAR_MIN 32768
/* Winograd's default domain (pick_algo): many channels, and rows of at least
 * 6 tiles (on 8 x 8 images its short rows lose to GEMM). */
#define WINOGRAD_MIN_CHANNELS 128
#define WINOGRAD_MIN_WIDTH 12

enum conv_algo { ALGO_GEMM, ALGO_DIRECT, ALGO_WINOGRAD };

/* The algorithm for a shape, as measured fastest (bench/conv_bench.ts):
 * Winograd F(2x2, 3x3) for the forward and backward-data passes of 3x3
 * convolutions with many channels (ResNet-50's 32 x 32 and 16 x 16 layers:
 * 1.15x the direct kernel and 1.3x GEMM there); the direct 3x3 kernels
 * where they apply (forward and backward data; the filter gradient only
 * with few input channels, where im2col's GEMM has an inner dimension of
 * 9 c); else im2col + GEMM. LITS_CONV_ALGO=gemm, =direct or =winograd in the
 * environment forces one where it applies (GEMM elsewhere), for benchmarks
 * and tests that compare them; it is read on every call. */
static int pick_algo(const conv_shape* p, const conv_xform* xf, int filter) {
  const int direct = lits_conv_direct_applies(p) && !(filter && conv_xform_active(xf));
  const int winograd = lits_conv_winograd_applies(p);
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "direct") == 0) return direct ? ALGO_DIRECT : ALGO_GEMM;
  if (algo != NULL && strcmp(algo, "winograd") == 0) return winograd ? ALGO_WINOGRAD : ALGO_GEMM;
  if (algo != NULL && strcmp(algo, "gemm") == 0) return ALGO_GEMM;
  if (winograd && p->c >= WINOGRAD_MIN_CHANNELS && p->k >= WINOGRAD_MIN_CHANNELS &&
      p->w >= WINOGRAD_MIN_WIDTH) {
    return ALGO_WINOGRAD;
  }
  return direct && (!filter || p->c < 8) ? ALGO_DIRECT : ALGO_GEMM;
}

/* An algorithm's status as the entry point's: scratch that could not be
 * allocated is reported with the shape. */
static int conv_status(const char* fn, const conv_shape* p, int status) {
  if (status == LITS_ERR_MEMORY) {
    return lits_fail(LITS_ERR_MEMORY,
                     "%s: out of memory for scratch (n=%lld c=%lld h=%lld w=%lld k=%lld r=%lld "
                     "s=%lld)",
                     fn, (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w,
                     (long long)p->k, (long long)p->r, (long long)p->s);
  }
  return status;
}

/* The shared checks (lits_check.h) and this backend's own: the im2col
 * buffer's size and OpenBLAS's 32-bit dimensions. LITS_EMPTY for n = 0. */
static int conv_setup(const char* fn, conv_shape* p, int32_t n, int32_t c, int32_t h, int32_t w,
                      int32_t k, int32_t r, int32_t s, int32_t stride_h, int32_t stride_w,
                      int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w,
                      int32_t groups) {
  lits_conv_geom g = {0};
  const int st = lits_check_conv(fn, &g, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w,
                                 dil_h, dil_w, groups);
  if (st > 0) return st;
  p->n = n, p->c = c, p->h = h, p->w = w, p->k = k, p->r = r, p->s = s;
  p->sh = stride_h, p->sw = stride_w, p->ph = pad_h, p->pw = pad_w, p->dh = dil_h;
  p->dw = dil_w, p->groups = groups;
  p->oh = g.oh;
  p->ow = g.ow;
  p->cg = c / groups;
  p->kg = k / groups;
  int64_t col_el, t;
  int ok = lits_mul_ok(p->oh, p->ow, &p->ohw) && lits_mul_ok(p->cg * (int64_t)r, s, &p->crs_g) &&
           lits_mul_ok(p->crs_g * groups, p->ohw, &col_el) && lits_mul_ok(col_el, 4, &t);
  LITS_REQUIRE(ok, "%s: sizes overflow (n=%d c=%d h=%d w=%d k=%d r=%d s=%d)", fn, (int)n, (int)c,
               (int)h, (int)w, (int)k, (int)r, (int)s);
  LITS_REQUIRE(p->ohw <= INT_MAX && p->crs_g <= INT_MAX && (int64_t)h * w <= INT_MAX,
               "%s: a GEMM dimension exceeds the 32-bit BLAS limit (oh*ow=%lld, "
               "(c/groups)*r*s=%lld, h*w=%lld)",
               fn, (long long)p->ohw, (long long)p->crs_g, (long long)h * w);
  p->pointwise = r == 1 && s == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  return st;
}
/* Forward through the algorithm for the shape, on the input relu?(T(x))
 * (xf NULL: x itself). */
static int forward(const char* fn, const float* x, const conv_xform* xf, const float* weight,
                   const float* bias, float* y, int32_t n, int32_t c, int32_t h, int32_t w,
                   int32_t k, int32_t r, int32_t s, int32_t stride_h, int32_t stride_w,
                   int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h,
                          dil_w, groups));
  int st;
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  const int algo = pick_algo(&p, xf, 0);
  if (algo == ALGO_WINOGRAD) {
    return conv_status(fn, &p, lits_conv_winograd_forward(&p, x, xf, weight, bias, y));
  }
  if (algo == ALGO_DIRECT) {
    /* The direct kernel may decline a transformed input (a batch smaller than the threads). */
    st = lits_conv_direct_forward(&p, x, xf, weight, bias, y);
    if (st != LITS_ERR_UNAVAILABLE) return conv_status(fn, &p, st);
  }
  return conv_status(fn, &p, lits_conv_gemm_forward(&p, x, xf, weight, bias, y, CONV_ACT_NONE));
}

int lits_conv2d_forward_f32(const float* x, const float* weight, const float* bias, float* y,
                            int32_t n, int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                            int32_t s, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                            int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  return forward("lits_conv2d_forward_f32", x, NULL, weight, bias, y, n, c, h, w, k, r, s,
                 stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups);
}

int lits_conv2d_forward_ex_f32(const float* x, const float* x_coef, int32_t x_relu,
                               const float* weight, const float* bias, float* y, int32_t n,
                               int32_t c, int32_t h, int32_t w, int32_t k, int32_t r, int32_t s,
                               int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w,
                               int32_t dil_h, int32_t dil_w, int32_t groups) {
  const conv_xform xf = {x_coef, x_relu != 0};
  return forward("lits_conv2d_forward_ex_f32", x, &xf, weight, bias, y, n, c, h, w, k, r, s,
                 stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups);
}

int lits_conv2d_backward_data_f32(const float* weight, const float* dy, float* dx, int32_t n,
                                  int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                                  int32_t s, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                                  int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  static const char* fn = "lits_conv2d_backward_data_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h,
                          dil_w, groups));
  int st;
  LITS_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", fn);
  const int algo = pick_algo(&p, NULL, 0);
  if (algo == ALGO_WINOGRAD) {
    return conv_status(fn, &p, lits_conv_winograd_backward_data(&p, weight, dy, dx));
  }
  if (algo == ALGO_DIRECT) {
    st = lits_conv_direct_backward_data(&p, weight, dy, dx);
    if (st != LITS_ERR_UNAVAILABLE) return conv_status(fn, &p, st);
  }
  return conv_status(fn, &p, lits_conv_gemm_backward_data(&p, weight, dy, dx));
}

/* Filter gradient through the algorithm for the shape, on the input
 * relu?(T(x)) (xf NULL: x itself). */
static int backward_filter(const char* fn, const float* x, const conv_xform* xf, const float* dy,
                           float* dweight, int32_t n, int32_t c, int32_t h, int32_t w, int32_t k,
                           int32_t r, int32_t s, int32_t stride_h, int32_t stride_w,
                           int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w,
                           int32_t groups) {
  lits_clear_error();
  conv_shape p;
  const int st = conv_setup(fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w,
                            dil_h, dil_w, groups);
  if (st > 0) return st;
  LITS_REQUIRE(dweight != NULL, "%s: dweight is NULL", fn);
  if (st == LITS_EMPTY) { /* no images: the gradient is zero, as PyTorch's */
    memset(dweight, 0, (size_t)(p.k * p.crs_g) * sizeof(float));
    return LITS_OK;
  }
  LITS_REQUIRE(x != NULL && dy != NULL, "%s: x or dy is NULL", fn);
  const int algo = pick_algo(&p, xf, 1);
  if (algo == ALGO_WINOGRAD) {
    return conv_status(fn, &p, lits_conv_winograd_backward_filter(&p, x, xf, dy, dweight));
  }
  if (algo == ALGO_DIRECT) { /* (only without a transform: see pick_algo) */
    return conv_status(fn, &p, lits_conv_direct_backward_filter(&p, x, dy, dweight));
  }
  return conv_status(fn, &p, lits_conv_gemm_backward_filter(&p, x, xf, dy, dweight));
}

int lits_conv2d_backward_filter_f32(const float* x, const float* dy, float* dweight, int32_t n,
                                    int32_t c, int32_t h, int32_t w, int32_t k, int32_t r,
                                    int32_t s, int32_t stride_h, int32_t stride_w,
                                    int32_t pad_h, int32_t pad_w, int32_t dil_h, int32_t dil_w,
                                    int32_t groups) {
  return backward_filter("lits_conv2d_backward_filter_f32", x, NULL, dy, dweight, n, c, h, w, k,
                         r, s, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups);
}

int lits_conv2d_backward_filter_ex_f32(const float* x, const float* x_coef, int32_t x_relu,
                                       const float* dy, float* dweight, int32_t n, int32_t c,
                                       int32_t h, int32_t w, int32_t k, int32_t r, int32_t s,
                                       int32_t stride_h, int32_t stride_w, int32_t pad_h,
                                       int32_t pad_w, int32_t dil_h, int32_t dil_w,
                                       int32_t groups) {
  const conv_xform xf = {x_coef, x_relu != 0};
  return backward_filter("lits_conv2d_backward_filter_ex_f32", x, &xf, dy, dweight, n, c, h, w,
                         k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups);
}

int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                  int64_t hw) {
  static const char* fn = "lits_conv2d_backward_bias_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_conv_bias(fn, n, k, hw));
  /* With no images (n * hw = 0) the sums below are zeros and read no dy. */
  LITS_REQUIRE(dbias != NULL && (dy != NULL || (int64_t)n * hw == 0), "%s: dy or dbias is NULL",
               fn);
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
