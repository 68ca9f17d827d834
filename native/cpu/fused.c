/* fused.c: per-channel affine transforms with a residual and a ReLU, fused
 * into one pass (batch norm's output, residual adds and ReLUs that the
 * TypeScript side leaves unmaterialised until something reads them), and the
 * ReLU backward on such a fused value. */
#include <stddef.h>

#include "common.h"
#include "fused_internal.h"

/* Below this many elements a call stays on one thread. */
#define FUSED_PAR_MIN 32768

static int fused_check(const char* fn, int32_t n, int32_t c, int64_t hw) {
  LITS_REQUIRE(n > 0 && c > 0 && hw > 0, "%s: sizes n=%d c=%d hw=%lld must be > 0", fn, (int)n,
               (int)c, (long long)hw);
  int64_t t;
  LITS_REQUIRE(!__builtin_mul_overflow((int64_t)n * c, hw, &t) &&
                   !__builtin_mul_overflow(t, (int64_t)4, &t),
               "%s: sizes overflow (n=%d c=%d hw=%lld)", fn, (int)n, (int)c, (long long)hw);
  return LITS_OK;
}

int lits_fused_affine_f32(const float* x, const float* x_coef, const float* r,
                          const float* r_coef, float* y, int32_t n, int32_t c, int64_t hw,
                          int32_t relu) {
  static const char* fn = "lits_fused_affine_f32";
  lits_clear_error();
  int st = fused_check(fn, n, c, hw);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  LITS_REQUIRE(r != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) if (planes * hw >= FUSED_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t ch = pl % c;
    const fused_affine tx = fused_affine_of(x_coef, c, ch);
    const float* xs = x + pl * hw;
    float* ys = y + pl * hw;
    if (r == NULL) {
      fused_apply(ys, xs, hw, tx, relu);
    } else {
      const fused_affine tr = fused_affine_of(r_coef, c, ch);
      const float* rs = r + pl * hw;
#pragma omp simd
      for (int64_t j = 0; j < hw; j++) {
        const float v = fused_value(xs[j], tx) + fused_value(rs[j], tr);
        ys[j] = relu && v < 0.0f ? 0.0f : v;
      }
    }
  }
  return LITS_OK;
}

/* dx = dy where relu?(v) passed, v = T_x(x) (+ T_r(r)): one plane. Each
 * case is its own float-only loop, so that it vectorises. */
static void mask_plane(const float* xs, fused_affine tx, const float* rs, fused_affine tr,
                       const float* gs, float* out, int64_t hw) {
  if (rs == NULL && tx.identity) {
#pragma omp simd
    for (int64_t j = 0; j < hw; j++) out[j] = xs[j] <= 0.0f ? 0.0f : gs[j];
  } else if (rs == NULL) {
    const float m = tx.mean, a = tx.scale, b = tx.shift;
#pragma omp simd
    for (int64_t j = 0; j < hw; j++) out[j] = (xs[j] - m) * a + b <= 0.0f ? 0.0f : gs[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < hw; j++) {
      const float v = fused_value(xs[j], tx) + fused_value(rs[j], tr);
      out[j] = v <= 0.0f ? 0.0f : gs[j];
    }
  }
}

int lits_relu_mask_backward_f32(const float* dy, const float* x, const float* x_coef,
                                const float* r, const float* r_coef, float* dx, int32_t n,
                                int32_t c, int64_t hw, float* channel_sum) {
  static const char* fn = "lits_relu_mask_backward_f32";
  lits_clear_error();
  int st = fused_check(fn, n, c, hw);
  if (st != LITS_OK) return st;
  LITS_REQUIRE(dy != NULL && x != NULL && dx != NULL, "%s: dy, x or dx is NULL", fn);
  LITS_REQUIRE(r != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  const int64_t planes = (int64_t)n * c;
  /* Per-plane sums (double), added per channel at the end in plane order. */
  double* sums = NULL;
  if (channel_sum != NULL) {
    sums = (double*)lits_scratch_alloc(planes * (int64_t)sizeof(double));
    if (sums == NULL) return LITS_ERR_MEMORY;
  }
#pragma omp parallel for schedule(static) if (planes * hw >= FUSED_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t ch = pl % c;
    float* out = dx + pl * hw;
    mask_plane(x + pl * hw, fused_affine_of(x_coef, c, ch), r != NULL ? r + pl * hw : NULL,
               fused_affine_of(r_coef, c, ch), dy + pl * hw, out, hw);
    if (sums != NULL) {
      /* The plane was just written: summing it again reads it from cache. */
      double acc = 0.0;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < hw; j++) acc += out[j];
      sums[pl] = acc;
    }
  }
  if (sums != NULL) {
    for (int64_t ch = 0; ch < c; ch++) {
      double t = 0.0;
      for (int64_t ni = 0; ni < n; ni++) t += sums[ni * c + ch];
      channel_sum[ch] = (float)t;
    }
    lits_scratch_free(sums);
  }
  return LITS_OK;
}
