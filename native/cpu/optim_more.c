/* optim_more.c: the RMSprop, Adagrad, Adamax, NAdam and RAdam steps of
 * torch.optim (PyTorch 1.13's single-tensor code), each one pass over the
 * elements instead of torch's eight to twelve tensor ops. Each float32
 * operation is torch's, in its order: mul_ then add_(alpha) as one FMA (its
 * vectorised add), addcmul_ and addcdiv_ as value * t1 * t2 and
 * value * t1 / t2 rounded per product, scalars rounded to float once.
 * Contractions are off so that only the FMAs written out are fused. */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768

/* Each loop twice, with and without weight decay: a flag tested inside an
 * OpenMP loop kept gcc from vectorising it (optim.c says why). The gradient
 * a step reads is negated when maximizing, plus wd * p (torch's
 * grad.add(param, alpha=wd), one FMA) when weight decay is on. */
#define LOOP(BODY)                                                               \
  _Pragma("omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)")      \
  for (int64_t i = 0; i < n; i++) {                                              \
    BODY                                                                         \
  }
#define WD_LOOPS(BODY)                                                           \
  if (has_wd) {                                                                  \
    LOOP(const float g = fmaf(param[i], wd, sign * grad[i]); BODY)               \
  } else {                                                                       \
    LOOP(const float g = sign * grad[i]; BODY)                                   \
  }

/* Every step checks the same things: sizes, and the buffers it will touch. */
static int check_step(const char* fn, int64_t n, const void* param, const void* grad,
                      const void* a, const void* b, double eps) {
  LITS_REQUIRE(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  LITS_REQUIRE(eps >= 0.0, "%s: eps must be >= 0, got %g", fn, eps);
  if (n == 0) return LITS_EMPTY;
  LITS_REQUIRE(param != NULL && grad != NULL && a != NULL && b != NULL,
               "%s: a parameter, gradient or state buffer is NULL (n %lld)", fn, (long long)n);
  return LITS_OK;
}

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

/* RMSprop's loops, one per (centered, momentum) kind so that each vectorises. */
#define RMSPROP_LOOP(AVG, STEP)                                                  \
  WD_LOOPS(const float sq = square_avg[i] * a + oma * g * g; square_avg[i] = sq; AVG; STEP;)
#define PLAIN_AVG const float avg = sqrtf(sq) + e
#define CENTERED_AVG                                                             \
  const float ga = fmaf(g, oma, grad_avg[i] * a);                                \
  grad_avg[i] = ga;                                                              \
  const float avg = sqrtf(sq + -1.0f * ga * ga) + e
#define MOMENTUM_STEP                                                            \
  const float buf = momentum_buf[i] * mom + 1.0f * g / avg;                      \
  momentum_buf[i] = buf;                                                         \
  param[i] = fmaf(buf, neg_lr, param[i])
#define PLAIN_STEP param[i] = param[i] + neg_lr * g / avg

int lits_rmsprop_step_f32(float* param, const float* grad, float* square_avg, float* momentum_buf,
                          float* grad_avg, int64_t n, double lr, double alpha, double eps,
                          double weight_decay, double momentum, int32_t centered,
                          int32_t maximize) {
  lits_clear_error();
  const char* fn = "lits_rmsprop_step_f32";
  LITS_CHECKED(check_step(fn, n, param, grad, square_avg, square_avg, eps));
  LITS_REQUIRE(momentum == 0.0 || momentum_buf != NULL, "%s: momentum_buf is NULL", fn);
  LITS_REQUIRE(!centered || grad_avg != NULL, "%s: grad_avg is NULL but centered", fn);
  const float a = (float)alpha, oma = (float)(1.0 - alpha), e = (float)eps;
  const float mom = (float)momentum, neg_lr = (float)-lr;
  const float wd = (float)weight_decay, sign = maximize ? -1.0f : 1.0f;
  const int has_wd = weight_decay != 0.0;
  if (centered && momentum != 0.0) {
    RMSPROP_LOOP(CENTERED_AVG, MOMENTUM_STEP)
  } else if (centered) {
    RMSPROP_LOOP(CENTERED_AVG, PLAIN_STEP)
  } else if (momentum != 0.0) {
    RMSPROP_LOOP(PLAIN_AVG, MOMENTUM_STEP)
  } else {
    RMSPROP_LOOP(PLAIN_AVG, PLAIN_STEP)
  }
  return LITS_OK;
}

int lits_adagrad_step_f32(float* param, const float* grad, float* sum, int64_t n, double clr,
                          double eps, double weight_decay, int32_t maximize) {
  lits_clear_error();
  LITS_CHECKED(check_step("lits_adagrad_step_f32", n, param, grad, sum, sum, eps));
  const float neg_clr = (float)-clr, e = (float)eps;
  const float wd = (float)weight_decay, sign = maximize ? -1.0f : 1.0f;
  const int has_wd = weight_decay != 0.0;
  WD_LOOPS(const float s = sum[i] + 1.0f * g * g; sum[i] = s;
           param[i] = param[i] + neg_clr * g / (sqrtf(s) + e);)
  return LITS_OK;
}

/* torch.amax of two values: NaN when either is. */
static inline float amax2(float x, float y) {
  return (x != x || y != y) ? NAN : (x > y ? x : y);
}

int lits_adamax_step_f32(float* param, const float* grad, float* exp_avg, float* exp_inf,
                         int64_t n, double clr, double beta1, double beta2, double eps,
                         double weight_decay, int32_t maximize) {
  lits_clear_error();
  LITS_CHECKED(check_step("lits_adamax_step_f32", n, param, grad, exp_avg, exp_inf, eps));
  const float b1 = (float)beta1, omb1 = (float)(1.0 - beta1), b2 = (float)beta2;
  const float neg_clr = (float)-clr, e = (float)eps;
  const float wd = (float)weight_decay, sign = maximize ? -1.0f : 1.0f;
  const int has_wd = weight_decay != 0.0;
  WD_LOOPS(const float m = fmaf(g, omb1, exp_avg[i] * b1);
           const float u = amax2(exp_inf[i] * b2, fabsf(g) + e); exp_avg[i] = m; exp_inf[i] = u;
           param[i] = param[i] + neg_clr * m / u;)
  return LITS_OK;
}

int lits_nadam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                        int64_t n, double beta1, double beta2, double eps, double weight_decay,
                        double bias_correction2, double c_grad, double c_avg) {
  lits_clear_error();
  LITS_CHECKED(check_step("lits_nadam_step_f32", n, param, grad, exp_avg, exp_avg_sq, eps));
  const float b1 = (float)beta1, omb1 = (float)(1.0 - beta1);
  const float b2 = (float)beta2, omb2 = (float)(1.0 - beta2);
  const float e = (float)eps, bc2 = (float)bias_correction2;
  const float cg = (float)c_grad, ca = (float)c_avg;
  const float wd = (float)weight_decay, sign = 1.0f;
  const int has_wd = weight_decay != 0.0;
  WD_LOOPS(const float m = fmaf(g, omb1, exp_avg[i] * b1);
           const float v = exp_avg_sq[i] * b2 + omb2 * g * g; exp_avg[i] = m; exp_avg_sq[i] = v;
           const float denom = sqrtf(v / bc2) + e; const float p = param[i] + cg * g / denom;
           param[i] = p + ca * m / denom;)
  return LITS_OK;
}

int lits_radam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                        int64_t n, double lr, double beta1, double beta2, double eps,
                        double weight_decay, double bias_correction1, double bias_correction2,
                        double rect) {
  lits_clear_error();
  LITS_CHECKED(check_step("lits_radam_step_f32", n, param, grad, exp_avg, exp_avg_sq, eps));
  const float b1 = (float)beta1, omb1 = (float)(1.0 - beta1);
  const float b2 = (float)beta2, omb2 = (float)(1.0 - beta2);
  const float e = (float)eps, bc1 = (float)bias_correction1, l = (float)lr;
  const float sqrt_bc2 = (float)sqrt(bias_correction2), r = (float)rect;
  const float wd = (float)weight_decay, sign = 1.0f;
  const int has_wd = weight_decay != 0.0, adaptive = rect > 0.0;
  /* torch's math.sqrt(bc2) / tensor is tensor.reciprocal() * sqrt(bc2). */
  if (adaptive) {
    WD_LOOPS(const float m = fmaf(g, omb1, exp_avg[i] * b1);
             const float v = exp_avg_sq[i] * b2 + omb2 * g * g; exp_avg[i] = m;
             exp_avg_sq[i] = v;
             param[i] = param[i] - m / bc1 * l * ((1.0f / (sqrtf(v) + e)) * sqrt_bc2) * r;)
  } else {
    WD_LOOPS(const float m = fmaf(g, omb1, exp_avg[i] * b1);
             const float v = exp_avg_sq[i] * b2 + omb2 * g * g; exp_avg[i] = m;
             exp_avg_sq[i] = v; param[i] = param[i] - m / bc1 * l;)
  }
  return LITS_OK;
}

#pragma GCC pop_options
