/* elementwise.c: unary ops, their backward, and broadcasting binary ops. */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"
#include "fused_internal.h"
#include "gelu.h"

/* lits_expf (exp16.h, through fused_internal.h): Sigmoid and SiLU use it,
 * inline and vectorised by gcc, the bits of the fused epilogues' lits_exp16
 * (under 1 ulp from exp). exp itself keeps glibc's expf, 1 ulp from
 * torch's. */

#define PAR_THRESHOLD 32768

/* Runs body over [0, n) in parallel (static chunks) when n is large. BODY is
 * a statement that uses the loop variable i. */
#define PARALLEL_LOOP(n, BODY) \
  do { \
    int64_t n_ = (n); \
    _Pragma("omp parallel for simd schedule(static) if (n_ > PAR_THRESHOLD)") \
    for (int64_t i = 0; i < n_; i++) { BODY; } \
  } while (0)

/* ---- unary -------------------------------------------------------------- */

/* GELU (exact and tanh) and its gradient: gelu.c's vectorised kernels. */

/* Trigonometric, hyperbolic and error functions: libm's (torch's CPU kernels
 * call std::tan, ... or Sleef's 1-ulp forms), with torch's gradient formulas.
 *
 * mul_rn: a product rounded to float before the add that follows. gcc
 * contracts a * b + c into one FMA (-ffp-contract=fast under -march=native),
 * which rounds once where torch's separate tensor ops round twice; 1 - x * x
 * cancels near |x| = 1 (asin's, acos's and atanh's gradients, acosh's near
 * 1), where the two differ in the leading digits. The empty asm makes the
 * rounded product a value gcc cannot fuse. */
static inline float mul_rn(float a, float b) {
  float p = a * b;
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+x"(p));
#else
  __asm__("" : "+g"(p));
#endif
  return p;
}

#define TWO_OVER_SQRT_PI 1.12837916709551257390f /* erf's d/dx: 2 / sqrt(pi) e^-x^2 */
#define HALF_SQRT_PI 0.88622692545275801365f /* erfinv's: sqrt(pi) / 2 e^(y^2) */

/* torch's calc_erfinv (ATen/native/Math.h, float): Pavlis' rational
 * approximation, then two Newton steps on erf; NaN outside [-1, 1] (and for
 * NaN), +-inf at +-1. Near +-1 erf is flat, so the result there is as close
 * as erff's rounding lets Newton's steps come (torch's CPU is the same). */
static float erfinv_f(float y) {
  static const float a[4] = {0.886226899f, -1.645349621f, 0.914624893f, -0.140543331f};
  static const float b[4] = {-2.118377725f, 1.442710462f, -0.329097515f, 0.012229801f};
  static const float c[4] = {-1.970840454f, -1.624906493f, 3.429567803f, 1.641345311f};
  static const float d[2] = {3.543889200f, 1.637067800f};
  const float y_abs = fabsf(y);
  if (y_abs > 1.0f) return NAN;
  if (y_abs == 1.0f) return copysignf(INFINITY, y);
  float x;
  if (y_abs <= 0.7f) {
    const float z = y * y;
    const float num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
    const float dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1.0f;
    x = y * num / dem;
  } else {
    const float z = sqrtf(-logf((1.0f - y_abs) / 2.0f));
    const float num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
    const float dem = (d[1] * z + d[0]) * z + 1.0f;
    x = copysignf(num, y) / dem;
  }
  /* torch's 2 / sqrt(pi) here is float's 2 over float's sqrt(pi). */
  const float k = 2.0f / 1.77245385090551602730f;
  x = x - (erff(x) - y) / (k * expf(-x * x));
  x = x - (erff(x) - y) / (k * expf(-x * x));
  return x;
}

int lits_unary_f32(int32_t op, const float* x, float* y, int64_t n, float alpha) {
  lits_clear_error();
  LITS_REQUIRE(op >= LITS_NEG && op <= LITS_ERFINV, "lits_unary_f32: unknown op %d", (int)op);
  LITS_CHECKED(lits_check_count("lits_unary_f32", n, x != NULL && y != NULL, "x or y"));
  switch (op) {
    case LITS_NEG: PARALLEL_LOOP(n, y[i] = -x[i]); break;
    case LITS_EXP: PARALLEL_LOOP(n, y[i] = expf(x[i])); break;
    case LITS_LOG: PARALLEL_LOOP(n, y[i] = logf(x[i])); break;
    case LITS_SQRT: PARALLEL_LOOP(n, y[i] = sqrtf(x[i])); break;
    /* NaN < 0 is false, so NaN stays NaN (as torch.relu). */
    case LITS_RELU: PARALLEL_LOOP(n, float v = x[i]; y[i] = v < 0.0f ? 0.0f : v); break;
    case LITS_SIGMOID: PARALLEL_LOOP(n, y[i] = 1.0f / (1.0f + lits_expf(-x[i]))); break;
    case LITS_TANH: PARALLEL_LOOP(n, y[i] = tanhf(x[i])); break;
    case LITS_ABS: PARALLEL_LOOP(n, y[i] = fabsf(x[i])); break;
    case LITS_POW_SCALAR:
      if (alpha == 2.0f) {
        PARALLEL_LOOP(n, float v = x[i]; y[i] = v * v);
      } else if (alpha == 0.5f) {
        PARALLEL_LOOP(n, y[i] = sqrtf(x[i]));
      } else if (alpha == 1.0f) {
        PARALLEL_LOOP(n, y[i] = x[i]);
      } else {
        PARALLEL_LOOP(n, y[i] = powf(x[i], alpha));
      }
      break;
    case LITS_ADD_SCALAR: PARALLEL_LOOP(n, y[i] = x[i] + alpha); break;
    case LITS_MUL_SCALAR: PARALLEL_LOOP(n, y[i] = x[i] * alpha); break;
    case LITS_DIV_SCALAR: PARALLEL_LOOP(n, y[i] = x[i] / alpha); break;
    case LITS_RSUB_SCALAR: PARALLEL_LOOP(n, y[i] = alpha - x[i]); break;
    case LITS_RDIV_SCALAR: PARALLEL_LOOP(n, y[i] = alpha / x[i]); break;
    case LITS_GELU: lits_gelu_apply(0, 0, x, NULL, y, n); break;
    case LITS_GELU_TANH: lits_gelu_apply(1, 0, x, NULL, y, n); break;
    case LITS_LEAKY_RELU: PARALLEL_LOOP(n, float v = x[i]; y[i] = v > 0.0f ? v : v * alpha); break;
    case LITS_LOG1P: PARALLEL_LOOP(n, y[i] = log1pf(x[i])); break;
    case LITS_EXPM1: PARALLEL_LOOP(n, y[i] = expm1f(x[i])); break;
    case LITS_FLOOR: PARALLEL_LOOP(n, y[i] = floorf(x[i])); break;
    case LITS_CEIL: PARALLEL_LOOP(n, y[i] = ceilf(x[i])); break;
    case LITS_ROUND: PARALLEL_LOOP(n, y[i] = nearbyintf(x[i])); break;
    case LITS_TRUNC: PARALLEL_LOOP(n, y[i] = truncf(x[i])); break;
    case LITS_SIGN: PARALLEL_LOOP(n, float v = x[i]; y[i] = (float)((v > 0.0f) - (v < 0.0f))); break;
    case LITS_SIN: PARALLEL_LOOP(n, y[i] = sinf(x[i])); break;
    case LITS_COS: PARALLEL_LOOP(n, y[i] = cosf(x[i])); break;
    case LITS_SILU: PARALLEL_LOOP(n, float v = x[i]; y[i] = v / (1.0f + lits_expf(-v))); break;
    case LITS_TAN: PARALLEL_LOOP(n, y[i] = tanf(x[i])); break;
    case LITS_ASIN: PARALLEL_LOOP(n, y[i] = asinf(x[i])); break;
    case LITS_ACOS: PARALLEL_LOOP(n, y[i] = acosf(x[i])); break;
    case LITS_ATAN: PARALLEL_LOOP(n, y[i] = atanf(x[i])); break;
    case LITS_SINH: PARALLEL_LOOP(n, y[i] = sinhf(x[i])); break;
    case LITS_COSH: PARALLEL_LOOP(n, y[i] = coshf(x[i])); break;
    case LITS_ASINH: PARALLEL_LOOP(n, y[i] = asinhf(x[i])); break;
    case LITS_ACOSH: PARALLEL_LOOP(n, y[i] = acoshf(x[i])); break;
    case LITS_ATANH: PARALLEL_LOOP(n, y[i] = atanhf(x[i])); break;
    case LITS_ERF: PARALLEL_LOOP(n, y[i] = erff(x[i])); break;
    case LITS_ERFC: PARALLEL_LOOP(n, y[i] = erfcf(x[i])); break;
    case LITS_ERFINV: PARALLEL_LOOP(n, y[i] = erfinv_f(x[i])); break;
    default: break;
  }
  return LITS_OK;
}

int lits_unary_backward_f32(int32_t op, const float* x, const float* y, const float* dy,
                            float* dx, int64_t n, float alpha) {
  lits_clear_error();
  LITS_REQUIRE(op >= LITS_NEG && op <= LITS_ERFINV, "lits_unary_backward_f32: unknown op %d",
               (int)op);
  LITS_CHECKED(
      lits_check_count("lits_unary_backward_f32", n, dy != NULL && dx != NULL, "dy or dx"));
  int needs_x = op == LITS_LOG || op == LITS_RELU || op == LITS_ABS || op == LITS_POW_SCALAR ||
                op == LITS_RDIV_SCALAR || op == LITS_GELU || op == LITS_GELU_TANH ||
                op == LITS_LEAKY_RELU || op == LITS_LOG1P || op == LITS_SIN || op == LITS_COS ||
                op == LITS_SILU || (op >= LITS_ASIN && op <= LITS_ERFC);
  int needs_y = op == LITS_EXP || op == LITS_SQRT || op == LITS_SIGMOID || op == LITS_TANH ||
                op == LITS_EXPM1 || op == LITS_TAN || op == LITS_ERFINV;
  LITS_REQUIRE(!needs_x || x != NULL, "lits_unary_backward_f32: op %d needs x, which is NULL", (int)op);
  LITS_REQUIRE(!needs_y || y != NULL, "lits_unary_backward_f32: op %d needs y, which is NULL", (int)op);
  switch (op) {
    case LITS_NEG: PARALLEL_LOOP(n, dx[i] = -dy[i]); break;
    case LITS_EXP: PARALLEL_LOOP(n, dx[i] = dy[i] * y[i]); break;
    case LITS_LOG: PARALLEL_LOOP(n, dx[i] = dy[i] / x[i]); break;
    case LITS_SQRT: PARALLEL_LOOP(n, dx[i] = dy[i] / (2.0f * y[i])); break;
    /* PyTorch's threshold_backward: 0 where x <= 0, else dy (NaN x passes dy). */
    case LITS_RELU: PARALLEL_LOOP(n, dx[i] = x[i] <= 0.0f ? 0.0f : dy[i]); break;
    case LITS_SIGMOID: PARALLEL_LOOP(n, float v = y[i]; dx[i] = dy[i] * (1.0f - v) * v); break;
    case LITS_TANH: PARALLEL_LOOP(n, float v = y[i]; dx[i] = dy[i] * (1.0f - v * v)); break;
    case LITS_ABS:
      PARALLEL_LOOP(n, float v = x[i];
                    float sg = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); dx[i] = dy[i] * sg);
      break;
    case LITS_POW_SCALAR:
      if (alpha == 0.0f) {
        PARALLEL_LOOP(n, dx[i] = 0.0f);
      } else if (alpha == 1.0f) {
        PARALLEL_LOOP(n, dx[i] = dy[i]);
      } else if (alpha == 2.0f) {
        PARALLEL_LOOP(n, dx[i] = dy[i] * (2.0f * x[i]));
      } else {
        float am1 = alpha - 1.0f;
        PARALLEL_LOOP(n, dx[i] = dy[i] * (alpha * powf(x[i], am1)));
      }
      break;
    case LITS_ADD_SCALAR: PARALLEL_LOOP(n, dx[i] = dy[i]); break;
    case LITS_MUL_SCALAR: PARALLEL_LOOP(n, dx[i] = dy[i] * alpha); break;
    case LITS_DIV_SCALAR: PARALLEL_LOOP(n, dx[i] = dy[i] / alpha); break;
    case LITS_RSUB_SCALAR: PARALLEL_LOOP(n, dx[i] = -dy[i]); break;
    case LITS_RDIV_SCALAR:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = -dy[i] * alpha / (v * v));
      break;
    case LITS_GELU: lits_gelu_apply(0, 1, x, dy, dx, n); break;
    case LITS_GELU_TANH: lits_gelu_apply(1, 1, x, dy, dx, n); break;
    /* As torch's leaky_relu_backward: the slope at x == 0. */
    case LITS_LEAKY_RELU: PARALLEL_LOOP(n, dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * alpha); break;
    /* torch: grad / (x + 1) and grad * (y + 1). */
    case LITS_LOG1P: PARALLEL_LOOP(n, dx[i] = dy[i] / (x[i] + 1.0f)); break;
    case LITS_EXPM1: PARALLEL_LOOP(n, dx[i] = dy[i] * (y[i] + 1.0f)); break;
    case LITS_FLOOR:
    case LITS_CEIL:
    case LITS_ROUND:
    case LITS_TRUNC:
    case LITS_SIGN: PARALLEL_LOOP(n, dx[i] = 0.0f); break;
    case LITS_SIN: PARALLEL_LOOP(n, dx[i] = dy[i] * cosf(x[i])); break;
    case LITS_COS: PARALLEL_LOOP(n, dx[i] = -dy[i] * sinf(x[i])); break;
    /* torch's silu_backward: dy * s * (1 + x * (1 - s)), s = sigmoid(x). */
    case LITS_SILU:
      PARALLEL_LOOP(n, float v = x[i]; float s = 1.0f / (1.0f + lits_expf(-v));
                    dx[i] = dy[i] * s * (1.0f + v * (1.0f - s)));
      break;
    /* torch's derivatives.yaml, op for op (rsqrt as 1 / sqrt). */
    case LITS_TAN: PARALLEL_LOOP(n, float v = y[i]; dx[i] = dy[i] * (1.0f + mul_rn(v, v))); break;
    case LITS_ASIN:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] * (1.0f / sqrtf(1.0f - mul_rn(v, v))));
      break;
    case LITS_ACOS:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] * -(1.0f / sqrtf(1.0f - mul_rn(v, v))));
      break;
    case LITS_ATAN: PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] / (mul_rn(v, v) + 1.0f)); break;
    case LITS_SINH: PARALLEL_LOOP(n, dx[i] = dy[i] * coshf(x[i])); break;
    case LITS_COSH: PARALLEL_LOOP(n, dx[i] = dy[i] * sinhf(x[i])); break;
    case LITS_ASINH:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] * (1.0f / sqrtf(mul_rn(v, v) + 1.0f)));
      break;
    case LITS_ACOSH:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] * (1.0f / sqrtf(mul_rn(v, v) - 1.0f)));
      break;
    case LITS_ATANH: PARALLEL_LOOP(n, float v = x[i]; dx[i] = dy[i] / (1.0f - mul_rn(v, v))); break;
    case LITS_ERF:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = TWO_OVER_SQRT_PI * expf(-(v * v)) * dy[i]);
      break;
    case LITS_ERFC:
      PARALLEL_LOOP(n, float v = x[i]; dx[i] = -TWO_OVER_SQRT_PI * expf(-(v * v)) * dy[i]);
      break;
    case LITS_ERFINV:
      PARALLEL_LOOP(n, float v = y[i]; dx[i] = HALF_SQRT_PI * expf(v * v) * dy[i]);
      break;
    default: break;
  }
  return LITS_OK;
}

/* ---- binary ------------------------------------------------------------- */

/* One kernel per op: out[i] = a[i * sa] op b[i * sb] for i < n, with loops
 * specialised for the common stride patterns so that gcc vectorises them. */
typedef void (*binary_kernel)(const float* a, int64_t sa, const float* b, int64_t sb, float* o,
                              int64_t n);

#define DEFINE_KERNEL(name, EXPR) \
  static inline float name##_op(float x, float y) { return EXPR; } \
  static void name##_kernel(const float* a, int64_t sa, const float* b, int64_t sb, float* o, \
                            int64_t n) { \
    if (sa == 1 && sb == 1) { \
      if (o == a) { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(o[i], b[i]); \
      } else if (o == b) { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(a[i], o[i]); \
      } else { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(a[i], b[i]); \
      } \
    } else if (sa == 1 && sb == 0) { \
      const float y = b[0]; \
      if (o == a) { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(o[i], y); \
      } else { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(a[i], y); \
      } \
    } else if (sa == 0 && sb == 1) { \
      const float x = a[0]; \
      if (o == b) { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(x, o[i]); \
      } else { \
        for (int64_t i = 0; i < n; i++) o[i] = name##_op(x, b[i]); \
      } \
    } else { \
      for (int64_t i = 0; i < n; i++) o[i] = name##_op(a[i * sa], b[i * sb]); \
    } \
  }

DEFINE_KERNEL(add, x + y)
DEFINE_KERNEL(sub, x - y)
DEFINE_KERNEL(mul, x * y)
DEFINE_KERNEL(div, x / y)
/* NaN in either input gives NaN, as torch.maximum / torch.minimum. */
DEFINE_KERNEL(maximum, (x > y || x != x) ? x : y)
DEFINE_KERNEL(minimum, (x < y || x != x) ? x : y)
DEFINE_KERNEL(eq, x == y ? 1.0f : 0.0f)
DEFINE_KERNEL(gt, x > y ? 1.0f : 0.0f)
DEFINE_KERNEL(lt, x < y ? 1.0f : 0.0f)
DEFINE_KERNEL(pow, powf(x, y))
DEFINE_KERNEL(ge, x >= y ? 1.0f : 0.0f)
DEFINE_KERNEL(le, x <= y ? 1.0f : 0.0f)
DEFINE_KERNEL(ne, x != y ? 1.0f : 0.0f)
DEFINE_KERNEL(atan2, atan2f(x, y))

static const binary_kernel kernels[] = {add_kernel,     sub_kernel,     mul_kernel, div_kernel,
                                        maximum_kernel, minimum_kernel, eq_kernel,  gt_kernel,
                                        lt_kernel,      pow_kernel,     ge_kernel,
                                        le_kernel,      ne_kernel,      atan2_kernel};

int lits_binary_f32(int32_t op, int32_t ndim, const int64_t* shape_host, const float* a,
                    const int64_t* a_strides_host, const float* b,
                    const int64_t* b_strides_host, float* out) {
  lits_clear_error();
  LITS_REQUIRE(op >= LITS_ADD && op <= LITS_ATAN2, "lits_binary_f32: unknown op %d", (int)op);
  const int64_t* strides[2] = {a_strides_host, b_strides_host};
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided("lits_binary_f32", ndim, shape_host, 2, strides, &total));
  LITS_REQUIRE(a != NULL && b != NULL && out != NULL,
               "lits_binary_f32: a, b or out is NULL (%lld elements)", (long long)total);
  binary_kernel kern = kernels[op];

  /* Drop size-1 dimensions; merge a dimension into the one before it when
   * both inputs are contiguous across the pair (out is dense, so it is). */
  int64_t shp[8], sa[8], sb[8];
  int nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    int64_t s = shape_host[d];
    if (s == 1) continue;
    int64_t as = a_strides_host[d], bs = b_strides_host[d];
    if (nd > 0 && sa[nd - 1] == as * s && sb[nd - 1] == bs * s) {
      shp[nd - 1] *= s;
      sa[nd - 1] = as;
      sb[nd - 1] = bs;
    } else {
      shp[nd] = s;
      sa[nd] = as;
      sb[nd] = bs;
      nd++;
    }
  }
  if (nd == 0) {
    kern(a, 1, b, 1, out, 1);
    return LITS_OK;
  }

  int nthreads = total > PAR_THRESHOLD ? omp_get_max_threads() : 1;
  if (nd == 1) {
    /* Flat: dense/dense, dense/scalar, or one strided dimension. */
    int64_t as = sa[0], bs = sb[0];
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
      int nt = omp_get_num_threads(), t = omp_get_thread_num();
      /* Chunk bounds rounded to 16 elements so each thread's slice stays aligned. */
      int64_t i0 = (total * t / nt) & ~(int64_t)15, i1 = t == nt - 1 ? total : (total * (t + 1) / nt) & ~(int64_t)15;
      if (i0 < i1) kern(a + i0 * as, as, b + i0 * bs, bs, out + i0, i1 - i0);
    }
    return LITS_OK;
  }

  int64_t inner = shp[nd - 1], ias = sa[nd - 1], ibs = sb[nd - 1];
  int64_t rows = total / inner;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && rows > 1)
  {
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      int64_t idx[8] = {0};
      int64_t oa = 0, ob = 0, rem = r0;
      for (int d = nd - 2; d >= 0; d--) {
        idx[d] = rem % shp[d];
        rem /= shp[d];
        oa += idx[d] * sa[d];
        ob += idx[d] * sb[d];
      }
      for (int64_t r = r0; r < r1; r++) {
        kern(a + oa, ias, b + ob, ibs, out + r * inner, inner);
        for (int d = nd - 2; d >= 0; d--) {
          oa += sa[d];
          ob += sb[d];
          if (++idx[d] < shp[d]) break;
          oa -= sa[d] * shp[d];
          ob -= sb[d] * shp[d];
          idx[d] = 0;
        }
      }
    }
  }
  return LITS_OK;
}

/* ---- where -------------------------------------------------------------- */

/* One row: o[i] = c[i * sc] != 0 ? x[i * sa] : y[i * sb]. Both values are
 * loaded and one selected, without a branch (a random mask mispredicts half
 * the time: 10-15x slower), in loops gcc vectorises for the common strides. */
static void where_row(const float* c, int64_t sc, const float* x, int64_t sa, const float* y,
                      int64_t sb, float* o, int64_t n) {
  if (sc == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? x[i] : y[i];
  } else if (sc == 1 && sa == 1 && sb == 0) {
    const float v = y[0];
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? x[i] : v;
  } else if (sc == 1 && sa == 0 && sb == 1) {
    const float u = x[0];
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? u : y[i];
  } else if (sc == 1 && sa == 0 && sb == 0) {
    const float u = x[0], v = y[0];
    for (int64_t i = 0; i < n; i++) o[i] = c[i] != 0.0f ? u : v;
  } else {
    for (int64_t i = 0; i < n; i++) {
      const float u = x[i * sa], v = y[i * sb];
      o[i] = c[i * sc] != 0.0f ? u : v;
    }
  }
}

int lits_where_f32(int32_t ndim, const int64_t* shape_host, const float* cond,
                   const int64_t* cond_strides_host, const float* a,
                   const int64_t* a_strides_host, const float* b,
                   const int64_t* b_strides_host, float* out) {
  lits_clear_error();
  const int64_t* strides[3] = {cond_strides_host, a_strides_host, b_strides_host};
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided("lits_where_f32", ndim, shape_host, 3, strides, &total));
  LITS_REQUIRE(cond != NULL && a != NULL && b != NULL && out != NULL,
               "lits_where_f32: cond, a, b or out is NULL (%lld elements)", (long long)total);
  /* Drop size-1 dimensions; merge a dimension into the one before it when
   * all three inputs are contiguous across the pair (as lits_binary_f32). */
  const int64_t* in[3] = {cond_strides_host, a_strides_host, b_strides_host};
  int64_t shp[8], st[3][8];
  int nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    int64_t s = shape_host[d];
    if (s == 1) continue;
    int merge = nd > 0;
    for (int o = 0; o < 3 && merge; o++) merge = st[o][nd - 1] == in[o][d] * s;
    if (merge) {
      shp[nd - 1] *= s;
      for (int o = 0; o < 3; o++) st[o][nd - 1] = in[o][d];
    } else {
      shp[nd] = s;
      for (int o = 0; o < 3; o++) st[o][nd] = in[o][d];
      nd++;
    }
  }
  if (nd == 0) {
    where_row(cond, 0, a, 0, b, 0, out, 1);
    return LITS_OK;
  }
  const int64_t inner = shp[nd - 1], sc = st[0][nd - 1], sa = st[1][nd - 1], sb = st[2][nd - 1];
  const int64_t rows = total / inner;
  int nthreads = total > PAR_THRESHOLD ? omp_get_max_threads() : 1;
  if (rows == 1) {
    /* One long row: split it between threads in 16-element-aligned chunks. */
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
      int nt = omp_get_num_threads(), t = omp_get_thread_num();
      int64_t i0 = (total * t / nt) & ~(int64_t)15;
      int64_t i1 = t == nt - 1 ? total : (total * (t + 1) / nt) & ~(int64_t)15;
      if (i0 < i1) where_row(cond + i0 * sc, sc, a + i0 * sa, sa, b + i0 * sb, sb, out + i0, i1 - i0);
    }
    return LITS_OK;
  }
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1)
  for (int64_t r = 0; r < rows; r++) {
    int64_t off[3] = {0, 0, 0}, rem = r;
    for (int d = nd - 2; d >= 0; d--) {
      int64_t i = rem % shp[d];
      rem /= shp[d];
      for (int o = 0; o < 3; o++) off[o] += i * st[o][d];
    }
    where_row(cond + off[0], sc, a + off[1], sa, b + off[2], sb, out + r * inner, inner);
  }
  return LITS_OK;
}
