/* optim.cu: fused SGD and Adam/AdamW steps, one kernel per parameter tensor
 * (each element read and written once). */
#include "common.cuh"
#include "optim.cuh"

__global__ void sgd_kernel(lc_sgd_args a, float* param, const float* grad, float* momentum_buf,
                           int64_t n) {
  LC_GRID_LOOP(i, n) lc_sgd_element(a, param, grad, momentum_buf, i);
}

__global__ void adam_kernel(lc_adam_args a, float* param, const float* grad, float* exp_avg,
                            float* exp_avg_sq, int64_t n) {
  LC_GRID_LOOP(i, n) lc_adam_element(a, param, grad, exp_avg, exp_avg_sq, i);
}

extern "C" int lits_sgd_step_f32(float* param, const float* grad, float* momentum_buf, int64_t n,
                                 float lr, float momentum, float dampening, int32_t nesterov,
                                 float weight_decay, int32_t first_step) {
  LC_ENTER("lits_sgd_step_f32");
  LITS_CHECKED(
      lits_check_sgd(lc_fn, param, grad, momentum_buf, n, momentum, dampening, nesterov));
  const lc_sgd_args a =
      lc_sgd_prepare(lr, momentum, dampening, nesterov, weight_decay, first_step);
  sgd_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(a, param, grad, momentum_buf, n);
  LC_CHECK_LAUNCH("sgd_kernel");
  return LITS_OK;
}

extern "C" int lits_adam_step_f32(float* param, const float* grad, float* exp_avg,
                                  float* exp_avg_sq, int64_t n, double lr, double beta1,
                                  double beta2, double eps, double weight_decay,
                                  int32_t decoupled, int64_t step) {
  LC_ENTER("lits_adam_step_f32");
  LITS_CHECKED(
      lits_check_adam(lc_fn, param, grad, exp_avg, exp_avg_sq, n, beta1, beta2, eps, step));
  const lc_adam_args a = lc_adam_prepare(lr, beta1, beta2, eps, weight_decay, decoupled, step);
  adam_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(a, param, grad, exp_avg, exp_avg_sq, n);
  LC_CHECK_LAUNCH("adam_kernel");
  return LITS_OK;
}
