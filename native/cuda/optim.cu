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
  LC_REQUIRE(n >= 0, "%s: n must be >= 0, got %lld", lc_fn, (long long)n);
  LC_REQUIRE(!nesterov || (momentum > 0.0f && dampening == 0.0f),
             "%s: nesterov needs momentum > 0 and dampening 0, got momentum %g, dampening %g",
             lc_fn, (double)momentum, (double)dampening);
  if (n == 0) return LITS_OK;
  LC_REQUIRE(param != NULL && grad != NULL, "%s: param or grad is NULL (n %lld)", lc_fn,
             (long long)n);
  LC_REQUIRE(momentum == 0.0f || momentum_buf != NULL,
             "%s: momentum_buf is NULL but momentum is %g", lc_fn, (double)momentum);
  const lc_sgd_args a =
      lc_sgd_prepare(lr, momentum, dampening, nesterov, weight_decay, first_step);
  sgd_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(a, param, grad, momentum_buf, n);
  LC_CHECK_LAUNCH("sgd_kernel");
  return LITS_OK;
}

extern "C" int lits_adam_step_f32(float* param, const float* grad, float* exp_avg,
                                  float* exp_avg_sq, int64_t n, float lr, float beta1,
                                  float beta2, float eps, float weight_decay, int32_t decoupled,
                                  int64_t step) {
  LC_ENTER("lits_adam_step_f32");
  LC_REQUIRE(n >= 0, "%s: n must be >= 0, got %lld", lc_fn, (long long)n);
  LC_REQUIRE(step >= 1, "%s: step counts from 1, got %lld", lc_fn, (long long)step);
  LC_REQUIRE(beta1 >= 0.0f && beta1 < 1.0f, "%s: beta1 must be in [0, 1), got %g", lc_fn,
             (double)beta1);
  LC_REQUIRE(beta2 >= 0.0f && beta2 < 1.0f, "%s: beta2 must be in [0, 1), got %g", lc_fn,
             (double)beta2);
  LC_REQUIRE(eps >= 0.0f, "%s: eps must be >= 0, got %g", lc_fn, (double)eps);
  if (n == 0) return LITS_OK;
  LC_REQUIRE(param != NULL && grad != NULL && exp_avg != NULL && exp_avg_sq != NULL,
             "%s: param, grad, exp_avg or exp_avg_sq is NULL (n %lld)", lc_fn, (long long)n);
  const lc_adam_args a = lc_adam_prepare(lr, beta1, beta2, eps, weight_decay, decoupled, step);
  adam_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(a, param, grad, exp_avg, exp_avg_sq, n);
  LC_CHECK_LAUNCH("adam_kernel");
  return LITS_OK;
}
