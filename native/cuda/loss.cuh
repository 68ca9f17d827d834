/* loss.cuh: cross-entropy of one position, as native/cpu/loss.c defines it
 * (read that file's comment for the formulas): log-sum-exp in double, the
 * nll and label-smoothing terms, and the gradient of one position. Shared by
 * the kernels and the host test. */
#ifndef LITS_CUDA_LOSS_CUH
#define LITS_CUDA_LOSS_CUH

#include <math.h>
#include <stdint.h>

#include "indexing.cuh"

struct lc_ce_args {
  const float* logits; /* [n, c, inner] */
  const int32_t* target; /* [n, inner] */
  const float* weight; /* [c] or NULL */
  int64_t c, inner;
  int32_t ignore_index;
  double a, b; /* 1 - eps, eps / c */
  int need_smooth;
};

inline lc_ce_args lc_ce_make(const float* logits, const int32_t* target, const float* weight,
                             int64_t c, int64_t inner, int32_t ignore_index, float smoothing) {
  lc_ce_args g;
  g.logits = logits;
  g.target = target;
  g.weight = weight;
  g.c = c;
  g.inner = inner;
  g.ignore_index = ignore_index;
  const double eps = (double)smoothing;
  g.a = 1.0 - eps;
  g.b = c > 0 ? eps / (double)c : 0.0;
  g.need_smooth = eps > 0.0;
  return g;
}

/* The logits of position i (b, s): c values at stride inner. */
__host__ __device__ __forceinline__ const float* lc_ce_row(const lc_ce_args& g, int64_t i) {
  const int64_t bi = i / g.inner, s = i - bi * g.inner;
  return g.logits + bi * g.c * g.inner + s;
}

__host__ __device__ __forceinline__ double lc_ce_lse(const float* x, int64_t c, int64_t inner) {
  float m = x[0];
  for (int64_t k = 1; k < c; k++) {
    const float v = x[k * inner];
    m = v > m ? v : m;
  }
  double s = 0.0;
  for (int64_t k = 0; k < c; k++) s += (double)expf(x[k * inner] - m);
  return (double)m + log(s);
}

/* nll and smoothing terms of a non-ignored position with target t. */
__host__ __device__ __forceinline__ void lc_ce_terms(const lc_ce_args& g, int64_t i, int32_t t,
                                                     double* nll, double* smooth) {
  const float* x = lc_ce_row(g, i);
  const double lse = lc_ce_lse(x, g.c, g.inner);
  const double wt = g.weight ? (double)g.weight[t] : 1.0;
  *nll = -wt * ((double)x[(int64_t)t * g.inner] - lse);
  double s = 0.0;
  if (g.need_smooth) {
    for (int64_t k = 0; k < g.c; k++) {
      const double d = (double)x[k * g.inner] - lse;
      s += g.weight ? (double)g.weight[k] * d : d;
    }
  }
  *smooth = -s;
}

/* Loss of position i for reduction NONE. */
__host__ __device__ __forceinline__ float lc_ce_loss_none(const lc_ce_args& g, int64_t i) {
  const int32_t t = g.target[i];
  if (t == g.ignore_index) return 0.0f;
  double nll, smooth;
  lc_ce_terms(g, i, t, &nll, &smooth);
  return (float)(g.a * nll + g.b * smooth);
}

/* Writes the gradient of position i into dlogits; gscale is dloss of the
 * position (NONE), dloss (SUM) or dloss / W (MEAN); wsum = sum_k w[k]. */
__host__ __device__ __forceinline__ void lc_ce_grad(const lc_ce_args& g, int64_t i, double gscale,
                                                    double wsum, float* dlogits) {
  const int64_t bi = i / g.inner, s = i - bi * g.inner;
  float* dx = dlogits + bi * g.c * g.inner + s;
  const int32_t t = g.target[i];
  if (t == g.ignore_index) {
    for (int64_t k = 0; k < g.c; k++) dx[k * g.inner] = 0.0f;
    return;
  }
  if (t < 0 || (int64_t)t >= g.c) {
    /* The CUDA backward trusts the labels its forward validated; one changed
     * since then gets NaN, never a read outside weight. */
    for (int64_t k = 0; k < g.c; k++) dx[k * g.inner] = NAN;
    return;
  }
  const float* x = lc_ce_row(g, i);
  const double wt = g.weight ? (double)g.weight[t] : 1.0;
  const double lse = lc_ce_lse(x, g.c, g.inner);
  const double ca = gscale * g.a * wt; /* coefficient of (p_j - [j == t]) */
  const double cb = gscale * g.b;      /* coefficient of (p_j * wsum - w_j) */
  const double cp = ca + cb * wsum;    /* coefficient of p_j */
  for (int64_t k = 0; k < g.c; k++) {
    const double p = exp((double)x[k * g.inner] - lse);
    const double wk = g.weight ? (double)g.weight[k] : 1.0;
    double v = cp * p - cb * wk;
    if (k == t) v -= ca;
    dx[k * g.inner] = (float)v;
  }
}

#endif /* LITS_CUDA_LOSS_CUH */
