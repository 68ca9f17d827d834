/* elementwise.cuh: the per-element math of unary and binary ops, written once
 * for the GPU kernels and the host test. Each case follows native/cpu/
 * elementwise.c expression for expression (same special cases, same NaN
 * rules), so the two backends differ only by the last ulps of expf/logf/...
 */
#ifndef LITS_CUDA_ELEMENTWISE_CUH
#define LITS_CUDA_ELEMENTWISE_CUH

#include <math.h>

#include "indexing.cuh"
#include "lits.h"

/* GELU exact (erf) and tanh, as native/cpu/gelu.c: PyTorch's definitions, written so that
 * negative x keeps its digits. */
#define LC_GELU_SQRT1_2 0.70710678118654752440f
#define LC_GELU_PDF_SCALE 0.39894228040143267794f /* 1 / sqrt(2 pi) */
#define LC_GELU_BETA 0.79788456080286535588f /* sqrt(2 / pi) */
#define LC_GELU_KAPPA 0.044715f
__host__ __device__ __forceinline__ float lc_gelu_tanh_inner(float x) {
  return LC_GELU_BETA * (x + LC_GELU_KAPPA * x * x * x);
}

/* a * b rounded before the add that follows, as native/cpu/elementwise.c's
 * mul_rn: nvcc fuses a product and a sum into an FMA (--fmad=true), which
 * near |x| = 1 changes 1 - x * x in its leading digits (asin's, acos's,
 * acosh's and atanh's gradients). The host compiler targets no FMA. */
__host__ __device__ __forceinline__ float lc_mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

#define LC_TWO_OVER_SQRT_PI 1.12837916709551257390f /* erf's d/dx: 2 / sqrt(pi) e^-x^2 */
#define LC_HALF_SQRT_PI 0.88622692545275801365f /* erfinv's: sqrt(pi) / 2 e^(y^2) */

/* erfinv. The GPU's is CUDA's erfinvf (torch's CUDA kernel calls it too);
 * the host's (host_check only: libm has none) is torch's CPU calc_erfinv,
 * written as native/cpu/elementwise.c's erfinv_f, so the host check compares
 * the same formula. Both give NaN outside [-1, 1] and +-inf at +-1. */
__host__ __device__ __forceinline__ float lc_erfinv(float y) {
#ifdef __CUDA_ARCH__
  return erfinvf(y);
#else
  const float y_abs = fabsf(y);
  if (y_abs > 1.0f) return NAN;
  if (y_abs == 1.0f) return copysignf(INFINITY, y);
  float x;
  if (y_abs <= 0.7f) {
    const float z = y * y;
    const float num = ((-0.140543331f * z + 0.914624893f) * z + -1.645349621f) * z + 0.886226899f;
    const float dem =
        (((0.012229801f * z + -0.329097515f) * z + 1.442710462f) * z + -2.118377725f) * z + 1.0f;
    x = y * num / dem;
  } else {
    const float z = sqrtf(-logf((1.0f - y_abs) / 2.0f));
    const float num = ((1.641345311f * z + 3.429567803f) * z + -1.624906493f) * z + -1.970840454f;
    const float dem = (1.637067800f * z + 3.543889200f) * z + 1.0f;
    x = copysignf(num, y) / dem;
  }
  const float k = 2.0f / 1.77245385090551602730f;
  x = x - (erff(x) - y) / (k * expf(-x * x));
  x = x - (erff(x) - y) / (k * expf(-x * x));
  return x;
#endif
}

__host__ __device__ __forceinline__ float lc_unary(int op, float x, float alpha) {
  switch (op) {
    case LITS_NEG: return -x;
    case LITS_EXP: return expf(x);
    case LITS_LOG: return logf(x);
    case LITS_SQRT: return sqrtf(x);
    case LITS_RELU: return x < 0.0f ? 0.0f : x; /* NaN stays NaN */
    case LITS_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case LITS_TANH: return tanhf(x);
    case LITS_ABS: return fabsf(x);
    case LITS_POW_SCALAR:
      if (alpha == 2.0f) return x * x;
      if (alpha == 0.5f) return sqrtf(x);
      if (alpha == 1.0f) return x;
      return powf(x, alpha);
    case LITS_ADD_SCALAR: return x + alpha;
    case LITS_MUL_SCALAR: return x * alpha;
    case LITS_DIV_SCALAR: return x / alpha;
    case LITS_RSUB_SCALAR: return alpha - x;
    case LITS_RDIV_SCALAR: return alpha / x;
    /* 1 + erf(x / sqrt 2) as erfc(-x / sqrt 2), and 1 + tanh(u) as 2 / (1 + exp(-2u)):
     * the sums lost every digit for negative x (the CPU backend's gelu.c keeps them). */
    case LITS_GELU: return 0.5f * x * erfcf(-x * LC_GELU_SQRT1_2);
    case LITS_GELU_TANH: return x / (1.0f + expf(-2.0f * lc_gelu_tanh_inner(x)));
    case LITS_LEAKY_RELU: return x > 0.0f ? x : x * alpha;
    case LITS_LOG1P: return log1pf(x);
    case LITS_EXPM1: return expm1f(x);
    case LITS_FLOOR: return floorf(x);
    case LITS_CEIL: return ceilf(x);
    case LITS_ROUND: return rintf(x); /* half to even */
    case LITS_TRUNC: return truncf(x);
    case LITS_SIGN: return (float)((x > 0.0f) - (x < 0.0f));
    case LITS_SIN: return sinf(x);
    case LITS_COS: return cosf(x);
    case LITS_SILU: return x / (1.0f + expf(-x));
    case LITS_TAN: return tanf(x);
    case LITS_ASIN: return asinf(x);
    case LITS_ACOS: return acosf(x);
    case LITS_ATAN: return atanf(x);
    case LITS_SINH: return sinhf(x);
    case LITS_COSH: return coshf(x);
    case LITS_ASINH: return asinhf(x);
    case LITS_ACOSH: return acoshf(x);
    case LITS_ATANH: return atanhf(x);
    case LITS_ERF: return erff(x);
    case LITS_ERFC: return erfcf(x);
    case LITS_ERFINV: return lc_erfinv(x);
    default: return 0.0f;
  }
}

/* dx for one element; x is the op's input, y its output. */
__host__ __device__ __forceinline__ float lc_unary_grad(int op, float x, float y, float dy,
                                                        float alpha) {
  switch (op) {
    case LITS_NEG: return -dy;
    case LITS_EXP: return dy * y;
    case LITS_LOG: return dy / x;
    case LITS_SQRT: return dy / (2.0f * y);
    case LITS_RELU: return x <= 0.0f ? 0.0f : dy; /* threshold_backward */
    case LITS_SIGMOID: return dy * (1.0f - y) * y;
    case LITS_TANH: return dy * (1.0f - y * y);
    case LITS_ABS: {
      const float sg = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
      return dy * sg;
    }
    case LITS_POW_SCALAR:
      if (alpha == 0.0f) return 0.0f;
      if (alpha == 1.0f) return dy;
      if (alpha == 2.0f) return dy * (2.0f * x);
      return dy * (alpha * powf(x, alpha - 1.0f));
    case LITS_ADD_SCALAR: return dy;
    case LITS_MUL_SCALAR: return dy * alpha;
    case LITS_DIV_SCALAR: return dy / alpha;
    case LITS_RSUB_SCALAR: return -dy;
    case LITS_RDIV_SCALAR: return -dy * alpha / (x * x);
    case LITS_GELU: {
      const float cdf = 0.5f * erfcf(-x * LC_GELU_SQRT1_2);
      return dy * (cdf + x * (expf(-0.5f * x * x) * LC_GELU_PDF_SCALE));
    }
    case LITS_GELU_TANH: {
      /* 0.5 (1 + t) = s = sigmoid(2u) and 0.5 (1 - t^2) = 2 s (1 - s), each side from its
       * own exp so that neither loses digits; x^2's overflow still gives torch's NaN. */
      const float x2 = x * x, u = lc_gelu_tanh_inner(x);
      const float s = 1.0f / (1.0f + expf(-2.0f * u)), s1 = 1.0f / (1.0f + expf(2.0f * u));
      return dy * (s + 2.0f * x * s * s1 * LC_GELU_BETA * (1.0f + 3.0f * LC_GELU_KAPPA * x2));
    }
    case LITS_LEAKY_RELU: return x > 0.0f ? dy : dy * alpha; /* leaky_relu_backward */
    case LITS_LOG1P: return dy / (x + 1.0f);
    case LITS_EXPM1: return dy * (y + 1.0f);
    case LITS_SIN: return dy * cosf(x);
    case LITS_COS: return -dy * sinf(x);
    case LITS_SILU: {
      const float s = 1.0f / (1.0f + expf(-x));
      return dy * s * (1.0f + x * (1.0f - s));
    }
    /* torch's derivatives.yaml, as native/cpu/elementwise.c. */
    case LITS_TAN: return dy * (1.0f + lc_mul_rn(y, y));
    case LITS_ASIN: return dy * (1.0f / sqrtf(1.0f - lc_mul_rn(x, x)));
    case LITS_ACOS: return dy * -(1.0f / sqrtf(1.0f - lc_mul_rn(x, x)));
    case LITS_ATAN: return dy / (lc_mul_rn(x, x) + 1.0f);
    case LITS_SINH: return dy * coshf(x);
    case LITS_COSH: return dy * sinhf(x);
    case LITS_ASINH: return dy * (1.0f / sqrtf(lc_mul_rn(x, x) + 1.0f));
    case LITS_ACOSH: return dy * (1.0f / sqrtf(lc_mul_rn(x, x) - 1.0f));
    case LITS_ATANH: return dy / (1.0f - lc_mul_rn(x, x));
    case LITS_ERF: return LC_TWO_OVER_SQRT_PI * expf(-(x * x)) * dy;
    case LITS_ERFC: return -LC_TWO_OVER_SQRT_PI * expf(-(x * x)) * dy;
    case LITS_ERFINV: return LC_HALF_SQRT_PI * expf(y * y) * dy;
    default: return 0.0f;
  }
}

/* Which inputs lc_unary_grad reads, as the CPU checks them. */
__host__ __device__ __forceinline__ bool lc_unary_grad_needs_x(int op) {
  return op == LITS_LOG || op == LITS_RELU || op == LITS_ABS || op == LITS_POW_SCALAR ||
         op == LITS_RDIV_SCALAR || op == LITS_GELU || op == LITS_GELU_TANH ||
         op == LITS_LEAKY_RELU || op == LITS_LOG1P || op == LITS_SIN || op == LITS_COS ||
         op == LITS_SILU || (op >= LITS_ASIN && op <= LITS_ERFC);
}
__host__ __device__ __forceinline__ bool lc_unary_grad_needs_y(int op) {
  return op == LITS_EXP || op == LITS_SQRT || op == LITS_SIGMOID || op == LITS_TANH ||
         op == LITS_EXPM1 || op == LITS_TAN || op == LITS_ERFINV;
}

__host__ __device__ __forceinline__ float lc_binary(int op, float x, float y) {
  switch (op) {
    case LITS_ADD: return x + y;
    case LITS_SUB: return x - y;
    case LITS_MUL: return x * y;
    case LITS_DIV: return x / y;
    case LITS_MAXIMUM: return (x > y || x != x) ? x : y; /* NaN wins, as torch.maximum */
    case LITS_MINIMUM: return (x < y || x != x) ? x : y;
    case LITS_EQ: return x == y ? 1.0f : 0.0f;
    case LITS_GT: return x > y ? 1.0f : 0.0f;
    case LITS_LT: return x < y ? 1.0f : 0.0f;
    case LITS_POW: return powf(x, y);
    case LITS_GE: return x >= y ? 1.0f : 0.0f;
    case LITS_LE: return x <= y ? 1.0f : 0.0f;
    case LITS_NE: return x != y ? 1.0f : 0.0f;
    case LITS_ATAN2: return atan2f(x, y);
    default: return 0.0f;
  }
}

#endif /* LITS_CUDA_ELEMENTWISE_CUH */
