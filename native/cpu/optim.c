/* optim.c: SGD and Adam/AdamW steps, as torch.optim's single-tensor code
 * (PyTorch 1.13). Scalars that PyTorch computes in Python (double) are
 * computed in double here and rounded to float once, as ATen does when it
 * applies a Python scalar to a float tensor. */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768

/* One SGD loop per kind (weight decay or not, momentum kind): with the
 * kinds as flags inside one loop gcc unswitched it and vectorised only some
 * versions (0.6-1.3 ns an element on one core, against 0.1-0.2). D is the
 * decayed gradient d, STEP what moves the weight. The momentum update is
 * torch's buf.mul_(momentum).add_(d, alpha=1 - dampening): the product
 * rounded, then one fused multiply-add (ATen's vectorised add with alpha);
 * left to gcc, it fused the other product and differed by a few ulps. */
#define SGD_LOOP(D, STEP)                                                               \
  _Pragma("omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)")             \
  for (int64_t i = 0; i < n; i++) {                                                     \
    const float p = param[i];                                                           \
    const float d = D;                                                                  \
    STEP;                                                                               \
  }
#define SGD_LOOPS(STEP)                  \
  if (weight_decay != 0.0f) {            \
    SGD_LOOP(grad[i] + wd * p, STEP)     \
  } else {                               \
    SGD_LOOP(grad[i], STEP)              \
  }

int lits_sgd_step_f32(float* param, const float* grad, float* momentum_buf, int64_t n,
                      float lr, float momentum, float dampening, int32_t nesterov,
                      float weight_decay, int32_t first_step) {
  lits_clear_error();
  const char* fn = "lits_sgd_step_f32";
  LITS_CHECKED(lits_check_sgd(fn, param, grad, momentum_buf, n, momentum, dampening, nesterov));
  const float wd = weight_decay, mom = momentum;
  const float damp1 = (float)(1.0 - (double)dampening);
  const float neg_lr = -lr;
  if (momentum == 0.0f) {
    SGD_LOOPS(param[i] = p + neg_lr * d)
  } else if (first_step != 0 && nesterov) {
    SGD_LOOPS(momentum_buf[i] = d; param[i] = p + neg_lr * (d + mom * d))
  } else if (first_step != 0) {
    SGD_LOOPS(momentum_buf[i] = d; param[i] = p + neg_lr * d)
  } else if (nesterov) {
    SGD_LOOPS(const float buf = fmaf(damp1, d, momentum_buf[i] * mom); momentum_buf[i] = buf;
              param[i] = p + neg_lr * (d + mom * buf))
  } else {
    SGD_LOOPS(const float buf = fmaf(damp1, d, momentum_buf[i] * mom); momentum_buf[i] = buf;
              param[i] = p + neg_lr * buf)
  }
  return LITS_OK;
}

/* One Adam loop per weight-decay kind, each branch-free so that gcc
 * vectorises it. With the kind as a flag inside one loop it stayed scalar
 * (3.4 ns an element on one core, against 0.7): OpenMP outlines the
 * parallel region before constant flags could be propagated, so each kind
 * is its own function. WD_G and WD_P are the kind's updates of g and p.
 * Every rounding is torch 1.13's (its vectorised kernels): exp_avg.mul_(b1)
 * then add_(g, alpha) as one FMA; exp_avg_sq.mul_(b2) then addcmul_
 * rounding each product and the sum; grad.add(p, alpha=wd) as one FMA;
 * AdamW's p * (1 - lr * wd) rounded before the step. gcc's contractions are
 * off here, so that only the FMAs written out are fused. */
#define ADAM_LOOP(name, WD_G, WD_P)                                                       \
  static void name(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,   \
                   int64_t n, float b1, float b2, float one_m_b1, float one_m_b2, float wd, \
                   float decay, float bc2_sqrt, float eps, float neg_step) {             \
    (void)wd, (void)decay;                                                                \
    _Pragma("omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)")             \
    for (int64_t i = 0; i < n; i++) {                                                     \
      float p = param[i];                                                                 \
      float g = grad[i];                                                                  \
      WD_G;                                                                               \
      WD_P;                                                                               \
      const float m = fmaf(g, one_m_b1, exp_avg[i] * b1);                                 \
      const float v = exp_avg_sq[i] * b2 + one_m_b2 * g * g;                              \
      exp_avg[i] = m;                                                                     \
      exp_avg_sq[i] = v;                                                                  \
      const float denom = sqrtf(v) / bc2_sqrt + eps;                                      \
      param[i] = p + neg_step * m / denom;                                                \
    }                                                                                     \
  }
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
ADAM_LOOP(adam_plain, (void)0, (void)0)
ADAM_LOOP(adam_l2, g = fmaf(wd, p, g), (void)0)
ADAM_LOOP(adam_decoupled, (void)0, p = p * decay)
#pragma GCC pop_options

int lits_adam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                       int64_t n, double lr, double beta1, double beta2, double eps,
                       double weight_decay, int32_t decoupled, int64_t step) {
  lits_clear_error();
  const char* fn = "lits_adam_step_f32";
  LITS_CHECKED(
      lits_check_adam(fn, param, grad, exp_avg, exp_avg_sq, n, beta1, beta2, eps, step));
  const double bc1 = 1.0 - pow(beta1, (double)step);
  const double bc2 = 1.0 - pow(beta2, (double)step);
  const float step_size = (float)(lr / bc1);
  const float bc2_sqrt = (float)sqrt(bc2);
  const float b1 = (float)beta1, b2 = (float)beta2;
  const float one_m_b1 = (float)(1.0 - beta1), one_m_b2 = (float)(1.0 - beta2);
  const float wd = (float)weight_decay;
  const float decay = (float)(1.0 - lr * weight_decay);
  const float neg_step = -step_size;
  void (*loop)(float*, const float*, float*, float*, int64_t, float, float, float, float, float,
               float, float, float, float) =
      weight_decay == 0.0 ? adam_plain : decoupled ? adam_decoupled : adam_l2;
  loop(param, grad, exp_avg, exp_avg_sq, n, b1, b2, one_m_b1, one_m_b2, wd, decay, bc2_sqrt,
       (float)eps, neg_step);
  return LITS_OK;
}
