/* optim.c: SGD and Adam/AdamW steps, as torch.optim's single-tensor code
 * (PyTorch 1.13). Scalars that PyTorch computes in Python (double) are
 * computed in double here and rounded to float once, as ATen does when it
 * applies a Python scalar to a float tensor. */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768

int lits_sgd_step_f32(float* param, const float* grad, float* momentum_buf, int64_t n,
                      float lr, float momentum, float dampening, int32_t nesterov,
                      float weight_decay, int32_t first_step) {
  lits_clear_error();
  const char* fn = "lits_sgd_step_f32";
  LITS_CHECKED(lits_check_sgd(fn, param, grad, momentum_buf, n, momentum, dampening, nesterov));
  const float wd = weight_decay, mom = momentum;
  const float damp1 = (float)(1.0 - (double)dampening);
  const float neg_lr = -lr;
  const int use_wd = weight_decay != 0.0f, use_mom = momentum != 0.0f;
  const int first = first_step != 0, nest = nesterov != 0;
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) {
    float p = param[i];
    float d = grad[i];
    if (use_wd) d = d + wd * p;
    if (use_mom) {
      float buf = first ? d : momentum_buf[i] * mom + damp1 * d;
      momentum_buf[i] = buf;
      d = nest ? d + mom * buf : buf;
    }
    param[i] = p + neg_lr * d;
  }
  return LITS_OK;
}

int lits_adam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                       int64_t n, float lr, float beta1, float beta2, float eps,
                       float weight_decay, int32_t decoupled, int64_t step) {
  lits_clear_error();
  const char* fn = "lits_adam_step_f32";
  LITS_CHECKED(
      lits_check_adam(fn, param, grad, exp_avg, exp_avg_sq, n, beta1, beta2, eps, step));
  const double bc1 = 1.0 - pow((double)beta1, (double)step);
  const double bc2 = 1.0 - pow((double)beta2, (double)step);
  const float step_size = (float)((double)lr / bc1);
  const float bc2_sqrt = (float)sqrt(bc2);
  const float b1 = beta1, b2 = beta2;
  const float one_m_b1 = (float)(1.0 - (double)beta1), one_m_b2 = (float)(1.0 - (double)beta2);
  const float wd = weight_decay;
  const int coupled_wd = !decoupled && weight_decay != 0.0f;
  const int decoupled_wd = decoupled && weight_decay != 0.0f;
  const float decay = (float)(1.0 - (double)lr * (double)weight_decay);
  const float neg_step = -step_size;
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) {
    float p = param[i];
    float g = grad[i];
    if (coupled_wd) g = g + wd * p;
    if (decoupled_wd) p = p * decay;
    float m = exp_avg[i] * b1 + one_m_b1 * g;
    float v = exp_avg_sq[i] * b2 + one_m_b2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    float denom = sqrtf(v) / bc2_sqrt + eps;
    param[i] = p + neg_step * m / denom;
  }
  return LITS_OK;
}
