/* fused_internal.h: the per-channel transform T(v) = (v - mean) * scale +
 * shift (then an optional ReLU) that fused kernels apply to their inputs.
 * A coef array holds 3 * c floats: mean[c], scale[c], shift[c]; NULL is the
 * identity. The expression is batch norm's (batchnorm.c), so a fused value
 * equals the one the separate kernels would have stored. */
#ifndef LITS_CPU_FUSED_INTERNAL_H
#define LITS_CPU_FUSED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* lits_expf: the library's own expf, inline so that gcc vectorises the
 * loops that call it; lits_exp16 (exp16.h too) gives the same bits. */
#include "exp16.h"

typedef struct {
  float mean, scale, shift;
  int identity;
} fused_affine;

static inline fused_affine fused_affine_of(const float* coef, int64_t c, int64_t ch) {
  fused_affine t = {0.0f, 1.0f, 0.0f, 1};
  if (coef != NULL) {
    t.mean = coef[ch];
    t.scale = coef[c + ch];
    t.shift = coef[2 * c + ch];
    t.identity = 0;
  }
  return t;
}

static inline float fused_value(float v, fused_affine t) {
  return t.identity ? v : (v - t.mean) * t.scale + t.shift;
}

/* The activation codes of `relu` arguments (lits.h): max(v, 0), ReLU6's
 * min(max(v, 0), 6) (NaN stays NaN in both: torch.relu, F.relu6), and
 * SiLU's v / (1 + exp(-v)), elementwise.c's expression. */
#define FUSED_RELU 1
#define FUSED_RELU6 2
#define FUSED_SILU 3

static inline float fused_act(float v, int relu) {
  if (relu == FUSED_SILU) return v / (1.0f + lits_expf(-v));
  if (relu == FUSED_RELU6) return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
  return relu && v < 0.0f ? 0.0f : v;
}

/* dst[j] = relu?(T(src[j])) for len elements; NaN stays NaN (torch.relu). */
static inline void fused_apply(float* dst, const float* src, int64_t len, fused_affine t,
                               int relu) {
  /* One loop per (identity, activation), split by hand: gcc unswitched
   * fewer of them once SiLU's lits_expf (exp16.h) was inline, and a
   * transform under t.identity's condition keeps a loop scalar without
   * AVX-512's masks. */
  if (t.identity) {
    if (relu == FUSED_SILU) {
#pragma omp simd
      for (int64_t j = 0; j < len; j++) dst[j] = fused_act(src[j], FUSED_SILU);
    } else if (relu == FUSED_RELU6) {
#pragma omp simd
      for (int64_t j = 0; j < len; j++) dst[j] = fused_act(src[j], FUSED_RELU6);
    } else if (relu) {
#pragma omp simd
      for (int64_t j = 0; j < len; j++) dst[j] = src[j] < 0.0f ? 0.0f : src[j];
    } else if (dst != src) {
      for (int64_t j = 0; j < len; j++) dst[j] = src[j];
    }
    return;
  }
  const float m = t.mean, a = t.scale, b = t.shift;
  if (relu == FUSED_SILU) {
#pragma omp simd
    for (int64_t j = 0; j < len; j++) dst[j] = fused_act((src[j] - m) * a + b, FUSED_SILU);
  } else if (relu == FUSED_RELU6) {
#pragma omp simd
    for (int64_t j = 0; j < len; j++) dst[j] = fused_act((src[j] - m) * a + b, FUSED_RELU6);
  } else if (relu) {
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
      const float v = (src[j] - m) * a + b;
      dst[j] = v < 0.0f ? 0.0f : v;
    }
  } else {
#pragma omp simd
    for (int64_t j = 0; j < len; j++) dst[j] = (src[j] - m) * a + b;
  }
}

/* dst = relu?(T_x(x) (+ T_r(r))) over len elements (rs may be NULL; dst may
 * be xs): lits_fused_affine_f32's values, wherever they are made. */
static inline void fused_affine_span(float* dst, const float* xs, fused_affine tx,
                                     const float* rs, fused_affine tr, int64_t len, int relu) {
  if (rs == NULL) {
    fused_apply(dst, xs, len, tx, relu);
    return;
  }
  /* One loop per activation (a constant in each): gcc unswitched the one
   * loop on relu until SiLU's lits_expf made its body too large. */
#define FUSED_SPAN_LOOP(ACT) \
  _Pragma("omp simd") for (int64_t j = 0; j < len; j++) { \
    dst[j] = fused_act(fused_value(xs[j], tx) + fused_value(rs[j], tr), ACT); \
  }
  if (relu == FUSED_SILU) {
    FUSED_SPAN_LOOP(FUSED_SILU)
  } else if (relu == FUSED_RELU6) {
    FUSED_SPAN_LOOP(FUSED_RELU6)
  } else if (relu) {
    FUSED_SPAN_LOOP(FUSED_RELU)
  } else {
    FUSED_SPAN_LOOP(0)
  }
#undef FUSED_SPAN_LOOP
}

#endif
