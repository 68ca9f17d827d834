/* optim.cuh: one element of the SGD and Adam/AdamW updates, following
 * native/cpu/optim.c (torch.optim's single-tensor code). The scalars that
 * PyTorch computes in Python double are prepared once on the host
 * (lc_sgd_prepare, lc_adam_prepare) exactly as the CPU does. */
#ifndef LITS_CUDA_OPTIM_CUH
#define LITS_CUDA_OPTIM_CUH

#include <math.h>
#include <stdint.h>

#include "indexing.cuh"

struct lc_sgd_args {
  float wd, mom, damp1, neg_lr;
  int use_wd, use_mom, first, nesterov;
};

inline lc_sgd_args lc_sgd_prepare(float lr, float momentum, float dampening, int32_t nesterov,
                                  float weight_decay, int32_t first_step) {
  lc_sgd_args a;
  a.wd = weight_decay;
  a.mom = momentum;
  a.damp1 = (float)(1.0 - (double)dampening);
  a.neg_lr = -lr;
  a.use_wd = weight_decay != 0.0f;
  a.use_mom = momentum != 0.0f;
  a.first = first_step != 0;
  a.nesterov = nesterov != 0;
  return a;
}

/* Updates param[i] (and momentum_buf[i] when momentum is used). */
__host__ __device__ __forceinline__ void lc_sgd_element(const lc_sgd_args& a, float* param,
                                                        const float* grad, float* momentum_buf,
                                                        int64_t i) {
  const float p = param[i];
  float d = grad[i];
  if (a.use_wd) d = d + a.wd * p;
  if (a.use_mom) {
    // torch's buf.mul_(momentum).add_(d, alpha=1 - dampening): the product
    // rounded, then one fused multiply-add (as the CPU step, optim.c).
    const float buf = a.first ? d : fmaf(a.damp1, d, momentum_buf[i] * a.mom);
    momentum_buf[i] = buf;
    d = a.nesterov ? d + a.mom * buf : buf;
  }
  param[i] = p + a.neg_lr * d;
}

struct lc_adam_args {
  float b1, b2, one_m_b1, one_m_b2, wd, decay, neg_step, bc2_sqrt, eps;
  int coupled_wd, decoupled_wd;
};

inline lc_adam_args lc_adam_prepare(double lr, double beta1, double beta2, double eps,
                                    double weight_decay, int32_t decoupled, int64_t step) {
  lc_adam_args a;
  const double bc1 = 1.0 - pow(beta1, (double)step);
  const double bc2 = 1.0 - pow(beta2, (double)step);
  a.neg_step = -(float)(lr / bc1);
  a.bc2_sqrt = (float)sqrt(bc2);
  a.b1 = (float)beta1;
  a.b2 = (float)beta2;
  a.one_m_b1 = (float)(1.0 - beta1);
  a.one_m_b2 = (float)(1.0 - beta2);
  a.wd = (float)weight_decay;
  a.coupled_wd = !decoupled && weight_decay != 0.0;
  a.decoupled_wd = decoupled && weight_decay != 0.0;
  a.decay = (float)(1.0 - lr * weight_decay);
  a.eps = (float)eps;
  return a;
}

__host__ __device__ __forceinline__ void lc_adam_element(const lc_adam_args& a, float* param,
                                                         const float* grad, float* exp_avg,
                                                         float* exp_avg_sq, int64_t i) {
  float p = param[i];
  float g = grad[i];
  if (a.coupled_wd) g = g + a.wd * p;
  if (a.decoupled_wd) p = p * a.decay;
  const float m = exp_avg[i] * a.b1 + a.one_m_b1 * g;
  const float v = exp_avg_sq[i] * a.b2 + a.one_m_b2 * g * g;
  exp_avg[i] = m;
  exp_avg_sq[i] = v;
  const float denom = sqrtf(v) / a.bc2_sqrt + a.eps;
  param[i] = p + a.neg_step * m / denom;
}

#endif /* LITS_CUDA_OPTIM_CUH */
