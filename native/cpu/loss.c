/* loss.c: cross-entropy with PyTorch's semantics.
 *
 * logits [n, c, inner] (class dimension in the middle), targets [n, inner].
 * For position i (b, s) with target t, logp = log_softmax over c, and w[k] the
 * class weight (1 when weight is NULL):
 *   nll_i    = -w[t] * logp[t]                (0 when t == ignore_index)
 *   smooth_i = -sum_k w[k] * logp[k]          (0 when t == ignore_index)
 *   NONE: loss_i = (1 - eps) * nll_i + eps / C * smooth_i
 *   SUM:  sum_i loss_i
 *   MEAN: ((1 - eps) * sum nll_i + eps / C * sum smooth_i) / W,
 *         W = sum over non-ignored i of w[t_i] (0 / 0 = NaN as PyTorch).
 * The gradient of loss_i with respect to logit j is
 *   (1 - eps) * w[t] * (p_j - [j == t]) + eps / C * (p_j * sum_k w[k] - w[j])
 * times dloss_i (NONE), dloss (SUM) or dloss / W (MEAN).
 *
 * Per-position sums accumulate in double; the reductions run over fixed
 * chunks of positions and add the chunk sums in order, so the result does not
 * depend on the number of threads.
 */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768
#define POS_CHUNK 1024

/* Validates arguments shared by forward and backward. */
static int check_args(const char* fn, const float* logits, const int32_t* target, int64_t n,
                      int64_t c, int64_t inner, int32_t ignore_index, float label_smoothing,
                      int32_t reduction, const float* weight) {
  /* No target (LITS_EMPTY) still writes a reduced loss: the caller goes on. */
  const int st = lits_check_cross_entropy(fn, logits, target, n, c, inner, label_smoothing,
                                          reduction);
  if (st > 0) return st;
  const int64_t npos = n * inner;
  /* All targets are checked before anything is written; the first bad one is named. */
  for (int64_t i = 0; i < npos; i++) {
    int32_t t = target[i];
    if (t != ignore_index && (t < 0 || (int64_t)t >= c))
      return lits_fail(LITS_ERR_ARGUMENT, "%s: target %d at index %lld is out of range [0, %lld)",
                       fn, (int)t, (long long)i, (long long)c);
  }
  (void)weight;
  return LITS_OK;
}

/* log-sum-exp over the c logits of one position (stride inner). */
static double position_lse(const float* x, int64_t c, int64_t inner) {
  float m = x[0];
  for (int64_t k = 1; k < c; k++) {
    float v = x[k * inner];
    m = v > m ? v : m;
  }
  double s = 0.0;
  for (int64_t k = 0; k < c; k++) s += (double)expf(x[k * inner] - m);
  return (double)m + log(s);
}

/* nll and smooth terms of one non-ignored position. */
static void position_terms(const float* x, int32_t t, const float* weight, int64_t c,
                           int64_t inner, int need_smooth, double* nll, double* smooth) {
  double lse = position_lse(x, c, inner);
  double wt = weight ? (double)weight[t] : 1.0;
  *nll = -wt * ((double)x[(int64_t)t * inner] - lse);
  if (need_smooth) {
    double s = 0.0;
    if (weight) {
      for (int64_t k = 0; k < c; k++) s += (double)weight[k] * ((double)x[k * inner] - lse);
    } else {
      for (int64_t k = 0; k < c; k++) s += (double)x[k * inner] - lse;
    }
    *smooth = -s;
  } else {
    *smooth = 0.0;
  }
}

int lits_cross_entropy_f32(const float* logits, const int32_t* target, const float* weight,
                           int64_t n, int64_t c, int64_t inner, int32_t ignore_index,
                           float label_smoothing, int32_t reduction, float* loss) {
  lits_clear_error();
  const char* fn = "lits_cross_entropy_f32";
  int st = check_args(fn, logits, target, n, c, inner, ignore_index, label_smoothing, reduction,
                      weight);
  if (st != LITS_OK) return st;
  int64_t npos = n * inner;
  if (reduction == LITS_REDUCTION_NONE && npos == 0) return LITS_OK;
  LITS_REQUIRE(loss != NULL, "%s: loss is NULL", fn);
  double eps = (double)label_smoothing;
  int need_smooth = eps > 0.0;
  double a = 1.0 - eps, b = c > 0 ? eps / (double)c : 0.0;
  int par = npos * c > PAR_THRESHOLD;

  if (reduction == LITS_REDUCTION_NONE) {
#pragma omp parallel for schedule(static) if (par && npos > 1)
    for (int64_t i = 0; i < npos; i++) {
      int64_t bi = i / inner, s = i % inner;
      int32_t t = target[i];
      if (t == ignore_index) {
        loss[i] = 0.0f;
        continue;
      }
      double nll, smooth;
      position_terms(logits + bi * c * inner + s, t, weight, c, inner, need_smooth, &nll, &smooth);
      loss[i] = (float)(a * nll + b * smooth);
    }
    return LITS_OK;
  }

  /* Sums of nll, smooth and W over chunks of positions, added in order. */
  int64_t nch = (npos + POS_CHUNK - 1) / POS_CHUNK;
  double* part = NULL;
  if (nch > 0) {
    part = lits_scratch_alloc(nch * 3 * (int64_t)sizeof(double));
    if (part == NULL) return LITS_ERR_MEMORY;
  }
#pragma omp parallel for schedule(static) if (par && nch > 1)
  for (int64_t ch = 0; ch < nch; ch++) {
    double snll = 0.0, ssm = 0.0, sw = 0.0;
    int64_t i1 = (ch + 1) * POS_CHUNK < npos ? (ch + 1) * POS_CHUNK : npos;
    for (int64_t i = ch * POS_CHUNK; i < i1; i++) {
      int32_t t = target[i];
      if (t == ignore_index) continue;
      int64_t bi = i / inner, s = i % inner;
      double nll, smooth;
      position_terms(logits + bi * c * inner + s, t, weight, c, inner, need_smooth, &nll, &smooth);
      snll += nll;
      ssm += smooth;
      sw += weight ? (double)weight[t] : 1.0;
    }
    part[3 * ch] = snll;
    part[3 * ch + 1] = ssm;
    part[3 * ch + 2] = sw;
  }
  double snll = 0.0, ssm = 0.0, sw = 0.0;
  for (int64_t ch = 0; ch < nch; ch++) {
    snll += part[3 * ch];
    ssm += part[3 * ch + 1];
    sw += part[3 * ch + 2];
  }
  lits_scratch_free(part);
  double total = a * snll + b * ssm;
  if (reduction == LITS_REDUCTION_MEAN) {
    /* W == 0 (all ignored, or zero weights) gives 0 / 0 = NaN, as PyTorch. */
    total = sw == 0.0 ? (double)NAN : (a * (snll / sw) + b * (ssm / sw));
  }
  loss[0] = (float)total;
  return LITS_OK;
}

int lits_cross_entropy_backward_f32(const float* logits, const int32_t* target,
                                    const float* weight, int64_t n, int64_t c, int64_t inner,
                                    int32_t ignore_index, float label_smoothing,
                                    int32_t reduction, const float* dloss, float* dlogits) {
  lits_clear_error();
  const char* fn = "lits_cross_entropy_backward_f32";
  int st = check_args(fn, logits, target, n, c, inner, ignore_index, label_smoothing, reduction,
                      weight);
  if (st != LITS_OK) return st;
  int64_t npos = n * inner;
  if (npos == 0 || c == 0) return LITS_OK;
  LITS_REQUIRE(dloss != NULL && dlogits != NULL, "%s: dloss or dlogits is NULL", fn);
  double eps = (double)label_smoothing;
  double a = 1.0 - eps, b = eps / (double)c;
  int par = npos * c > PAR_THRESHOLD;

  /* Scale of each position's gradient for SUM and MEAN. */
  double g_all = 0.0;
  double wsum = 0.0; /* sum_k w[k] */
  if (weight) {
    for (int64_t k = 0; k < c; k++) wsum += (double)weight[k];
  } else {
    wsum = (double)c;
  }
  if (reduction != LITS_REDUCTION_NONE) {
    g_all = (double)dloss[0];
    if (reduction == LITS_REDUCTION_MEAN) {
      double sw = 0.0;
      for (int64_t i = 0; i < npos; i++) {
        int32_t t = target[i];
        if (t != ignore_index) sw += weight ? (double)weight[t] : 1.0;
      }
      g_all /= sw; /* inf / NaN when W == 0; then every position is ignored or weightless */
    }
  }

#pragma omp parallel for schedule(static) if (par && npos > 1)
  for (int64_t i = 0; i < npos; i++) {
    int64_t bi = i / inner, s = i % inner;
    const float* x = logits + bi * c * inner + s;
    float* dx = dlogits + bi * c * inner + s;
    int32_t t = target[i];
    if (t == ignore_index) {
      for (int64_t k = 0; k < c; k++) dx[k * inner] = 0.0f;
      continue;
    }
    double g = reduction == LITS_REDUCTION_NONE ? (double)dloss[i] : g_all;
    double wt = weight ? (double)weight[t] : 1.0;
    double lse = position_lse(x, c, inner);
    double ca = g * a * wt;   /* coefficient of (p_j - [j == t]) */
    double cb = g * b;        /* coefficient of (p_j * wsum - w_j) */
    double cp = ca + cb * wsum; /* coefficient of p_j */
    for (int64_t k = 0; k < c; k++) {
      double p = exp((double)x[k * inner] - lse);
      double wk = weight ? (double)weight[k] : 1.0;
      double v = cp * p - cb * wk;
      if (k == t) v -= ca;
      dx[k * inner] = (float)v;
    }
  }
  return LITS_OK;
}
