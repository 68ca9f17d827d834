/* gelu.c: GELU (exact and tanh) and its gradient, 16 lanes at a time with
 * AVX-512 where cpuid has it, else the same formulas one float at a time.
 *
 * Why not 0.5 x (1 + erf(x / sqrt 2)): 1 + erf cancels for x < 0 (at x = -5
 * a tenth of the value is rounding, below -5.9 the result is 0 where the true
 * one is not), and erff per element was 20x slower than torch. Instead, with
 * t = |x| and E = exp(-t^2 / 2) (t^2 split exactly in two floats, so E keeps
 * lits_expf's 0.9 ulp however large t^2 is):
 *   gelu(x)  = max(x, 0) - E G(t)
 *   gelu'(x) = E H(t) (x < 0),  1 - E H(t) (x >= 0)
 * with G, H smooth tail functions tabulated as piecewise polynomials
 * (gelu_tables.h, scripts/fit_gelu_tables.py): one exp, no division.
 * Max error against float64 x Phi(x), every 997th float32 pattern
 * (tests/gelu_check.c): 2.31 ulp (at x = -1.859: lits_expf's 0.91, the
 * table's 0.6, two roundings); its gradient 1.76 ulp (of max(|g|, 1/4)).
 * torch's CPU kernel (1.13: Abramowitz-Stegun 7.1.26, 1.5e-7 absolute in
 * erf) is within its 1.5e-7 |x| of ours. The tanh form: 2.82 ulp, its
 * gradient 2.55.
 *
 * The tanh form 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), is
 * computed as x sigmoid(2u) = x / (1 + e^-2u) (x e^2u / (1 + e^2u) for u <
 * 0), with 2u in double: its rounding in float, times |2u|, is the relative
 * error of e^-2|u| (hundreds of ulp in the tail).
 *
 * Edges as torch's: gelu(-inf) NaN, gelu(+inf) +inf, both gradients NaN at
 * +-inf; the tanh gradient NaN where x^2 overflows a float (torch's
 * 1 + 3 k x^2 is inf there, times 0). */
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>

#include "common.h"
#include "exp16.h"
#include "gelu.h"
#include "gelu_tables.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define GELU_TMAX 15.5f /* the last interval's centre (index 31, exactly): E is 0 from 14.4 */
#define GELU_BETA2 1.5957691216057307 /* 2 sqrt(2 / pi) */
#define GELU_KAPPA 0.044715
#define GELU_A_MAX 200.0 /* e^-200 is 0: |2u| clamped so that inf - inf makes no NaN */
#define GELU_LN2_24 16.635532333438686 /* 24 ln 2 */
#define PAR_THRESHOLD 32768

/* ---- scalar ------------------------------------------------------------- */

/* E = exp(-t^2 / 2) and the interval of t <= GELU_TMAX, with u in [-1, 1]. */
static inline float tail_e(float t, int* idx, float* u) {
  const float q = t * t, ql = fmaf(t, t, -q);
  const float e0 = lits_expf(-0.5f * q);
  const int i = (int)nearbyintf(t * 2.0f);
  *idx = i;
  *u = (t - (float)i * 0.5f) * 4.0f;
  return fmaf(e0, -0.5f * ql, e0);
}

#define TAIL_POLY(T, i, u) \
  (fmaf(fmaf(fmaf(fmaf(fmaf(fmaf(LITS_GELU_##T##_C6[i], u, LITS_GELU_##T##_C5[i]), u, \
                                 LITS_GELU_##T##_C4[i]), u, LITS_GELU_##T##_C3[i]), u, \
                       LITS_GELU_##T##_C2[i]), u, LITS_GELU_##T##_C1[i]), u, \
         LITS_GELU_##T##_C0_LO[i]) + LITS_GELU_##T##_C0_HI[i])

static inline float gelu_s(float x) {
  if (isnan(x)) return x;
  if (x == -INFINITY) return NAN;
  const float t = fminf(fabsf(x), GELU_TMAX);
  int i;
  float u;
  const float e = tail_e(t, &i, &u);
  return fmaf(-e, TAIL_POLY(G, i, u), x > 0.0f ? x : 0.0f);
}

static inline float gelu_grad_s(float x) {
  if (isnan(x) || isinf(x)) return NAN;
  const float t = fminf(fabsf(x), GELU_TMAX);
  int i;
  float u;
  const float e = tail_e(t, &i, &u);
  const float h = TAIL_POLY(H, i, u);
  return x < 0.0f ? e * h : fmaf(-e, h, 1.0f);
}

/* 2^24 e^-a for a double a >= 0 (clamped), through lits_expf with a's low
 * part: scaled so that e^-a stays a normal float where x e^-a is one
 * (|x| up to 2^24), the scale taken off by an exact product at the end. */
static inline float exp_neg_d(double a) {
  a = (a < GELU_A_MAX ? a : GELU_A_MAX) - GELU_LN2_24;
  const float hi = (float)a, lo = (float)(a - (double)hi);
  const float e0 = lits_expf(-hi);
  return fmaf(e0, -lo, e0);
}

static inline float gelu_tanh_s(float x) {
  if (isnan(x)) return x;
  const double xd = x, a = xd * fma(xd * xd, GELU_BETA2 * GELU_KAPPA, GELU_BETA2); /* 2u */
  const float es = exp_neg_d(fabs(a)), e = es * 0x1p-24f;
  return x < 0.0f ? (x * es / (1.0f + e)) * 0x1p-24f : x / (1.0f + e);
}

static inline float gelu_tanh_grad_s(float x) {
  if (isnan(x)) return x;
  const double xd = x, a = xd * fma(xd * xd, GELU_BETA2 * GELU_KAPPA, GELU_BETA2);
  const float es = exp_neg_d(fabs(a)), e = es * 0x1p-24f;
  const float inv = 1.0f / (1.0f + e);
  const float da = (float)GELU_BETA2 * fmaf(3.0f * (float)GELU_KAPPA, x * x, 1.0f); /* d(2u)/dx */
  const float s = x < 0.0f ? es * inv : 0x1p24f * inv;
  /* (x es)(da inv^2): x da alone overflows from |x| ~ 2e13, where es is 0. */
  return fmaf(x * es, da * (inv * inv), s) * 0x1p-24f;
}

/* ---- AVX-512 ------------------------------------------------------------ */

/* The 32-entry table's value at each lane's interval. */
#define LOOKUP(tab, idx) _mm512_permutex2var_ps(_mm512_load_ps(tab), idx, _mm512_load_ps((tab) + 16))

AVX512_INLINE __m512 tail_e16(__m512 t, __m512i* idx, __m512* u) {
  const __m512 q = _mm512_mul_ps(t, t), ql = _mm512_fmsub_ps(t, t, q);
  const __m512 e0 = lits_exp16(_mm512_mul_ps(_mm512_set1_ps(-0.5f), q));
  const __m512i i = _mm512_cvt_roundps_epi32(_mm512_add_ps(t, t),
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  *idx = i;
  const __m512 c = _mm512_mul_ps(_mm512_cvtepi32_ps(i), _mm512_set1_ps(0.5f));
  *u = _mm512_mul_ps(_mm512_sub_ps(t, c), _mm512_set1_ps(4.0f));
  return _mm512_fmadd_ps(e0, _mm512_mul_ps(_mm512_set1_ps(-0.5f), ql), e0);
}

#define TAIL_POLY16(T, idx, u) \
  ({ \
    __m512 p_ = _mm512_fmadd_ps(LOOKUP(LITS_GELU_##T##_C6, idx), u, LOOKUP(LITS_GELU_##T##_C5, idx)); \
    p_ = _mm512_fmadd_ps(p_, u, LOOKUP(LITS_GELU_##T##_C4, idx)); \
    p_ = _mm512_fmadd_ps(p_, u, LOOKUP(LITS_GELU_##T##_C3, idx)); \
    p_ = _mm512_fmadd_ps(p_, u, LOOKUP(LITS_GELU_##T##_C2, idx)); \
    p_ = _mm512_fmadd_ps(p_, u, LOOKUP(LITS_GELU_##T##_C1, idx)); \
    p_ = _mm512_fmadd_ps(p_, u, LOOKUP(LITS_GELU_##T##_C0_LO, idx)); \
    _mm512_add_ps(p_, LOOKUP(LITS_GELU_##T##_C0_HI, idx)); \
  })

AVX512_INLINE __m512 abs16(__m512 x) {
  return _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}

/* min(GELU_TMAX, |x|), NaN staying NaN (min returns its second operand then). */
AVX512_INLINE __m512 clamp_t16(__m512 x) {
  return _mm512_min_ps(_mm512_set1_ps(GELU_TMAX), abs16(x));
}

AVX512_INLINE __m512 gelu16(__m512 x) {
  const __m512 t = clamp_t16(x);
  __m512i idx;
  __m512 u;
  const __m512 e = tail_e16(t, &idx, &u);
  const __m512 g = TAIL_POLY16(G, idx, u);
  /* max(0, x): x's NaN is lost here, but e (exp of NaN) carries it. */
  __m512 y = _mm512_fnmadd_ps(e, g, _mm512_max_ps(x, _mm512_setzero_ps()));
  const __mmask16 neg_inf = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ);
  return _mm512_mask_blend_ps(neg_inf, y, _mm512_set1_ps(NAN));
}

AVX512_INLINE __m512 gelu_grad16(__m512 x) {
  const __m512 t = clamp_t16(x);
  __m512i idx;
  __m512 u;
  const __m512 e = tail_e16(t, &idx, &u);
  const __m512 h = TAIL_POLY16(H, idx, u);
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  __m512 g = _mm512_mask_blend_ps(neg, _mm512_fnmadd_ps(e, h, _mm512_set1_ps(1.0f)),
                                  _mm512_mul_ps(e, h));
  const __mmask16 inf = _mm512_cmp_ps_mask(abs16(x), _mm512_set1_ps(INFINITY), _CMP_EQ_OQ);
  return _mm512_mask_blend_ps(inf, g, _mm512_set1_ps(NAN));
}

/* 2^24 e^-|2u| of each lane, 2u in double (exp_neg_d's scale). */
AVX512_INLINE __m512 tanh_e16(__m512 x) {
  const __m512d b2 = _mm512_set1_pd(GELU_BETA2), bk = _mm512_set1_pd(GELU_BETA2 * GELU_KAPPA);
  const __m512d amax = _mm512_set1_pd(GELU_A_MAX), shift = _mm512_set1_pd(GELU_LN2_24);
  const __m512i abs_mask = _mm512_set1_epi64(0x7fffffffffffffffLL);
  __m256 hi[2], lo[2];
  for (int h = 0; h < 2; h++) {
    const __m256 xh = h == 0 ? _mm512_castps512_ps256(x)
                             : _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
    const __m512d xd = _mm512_cvtps_pd(xh);
    __m512d a = _mm512_mul_pd(xd, _mm512_fmadd_pd(_mm512_mul_pd(xd, xd), bk, b2));
    a = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), abs_mask)); /* AVX512F's and */
    a = _mm512_sub_pd(_mm512_min_pd(amax, a), shift); /* NaN stays */
    hi[h] = _mm512_cvtpd_ps(a);
    lo[h] = _mm512_cvtpd_ps(_mm512_sub_pd(a, _mm512_cvtps_pd(hi[h])));
  }
  const __m512 vhi = _mm512_castpd_ps(_mm512_insertf64x4(
      _mm512_castpd256_pd512(_mm256_castps_pd(hi[0])), _mm256_castps_pd(hi[1]), 1));
  const __m512 vlo = _mm512_castpd_ps(_mm512_insertf64x4(
      _mm512_castpd256_pd512(_mm256_castps_pd(lo[0])), _mm256_castps_pd(lo[1]), 1));
  const __m512 e0 = lits_exp16(_mm512_sub_ps(_mm512_setzero_ps(), vhi));
  return _mm512_fnmadd_ps(e0, vlo, e0);
}

AVX512_INLINE __m512 gelu_tanh16(__m512 x) {
  const __m512 es = tanh_e16(x), tiny = _mm512_set1_ps(0x1p-24f);
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 num = _mm512_mask_mul_ps(x, neg, x, es);
  const __m512 y = _mm512_div_ps(num, _mm512_fmadd_ps(es, tiny, _mm512_set1_ps(1.0f)));
  return _mm512_mask_mul_ps(y, neg, y, tiny);
}

AVX512_INLINE __m512 gelu_tanh_grad16(__m512 x) {
  const __m512 es = tanh_e16(x), tiny = _mm512_set1_ps(0x1p-24f);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 inv = _mm512_div_ps(one, _mm512_fmadd_ps(es, tiny, one));
  const __m512 da = _mm512_mul_ps(
      _mm512_set1_ps((float)GELU_BETA2),
      _mm512_fmadd_ps(_mm512_set1_ps(3.0f * (float)GELU_KAPPA), _mm512_mul_ps(x, x), one));
  const __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  const __m512 s = _mm512_mul_ps(_mm512_mask_blend_ps(neg, _mm512_set1_ps(0x1p24f), es), inv);
  return _mm512_mul_ps(
      _mm512_fmadd_ps(_mm512_mul_ps(x, es), _mm512_mul_ps(da, _mm512_mul_ps(inv, inv)), s), tiny);
}

/* One thread's slice [0, n): y = f(x), or dx = dy * f'(x). */
#define DEFINE_SLICE(name, F16) \
  AVX512 static void name(const float* x, const float* dy, float* y, int64_t n) { \
    int64_t i = 0; \
    for (; i + 16 <= n; i += 16) { \
      __m512 v = F16(_mm512_loadu_ps(x + i)); \
      if (dy) v = _mm512_mul_ps(v, _mm512_loadu_ps(dy + i)); \
      _mm512_storeu_ps(y + i, v); \
    } \
    if (i < n) { \
      const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u); \
      __m512 v = F16(_mm512_maskz_loadu_ps(m, x + i)); \
      if (dy) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, dy + i)); \
      _mm512_mask_storeu_ps(y + i, m, v); \
    } \
  }
DEFINE_SLICE(gelu_slice16, gelu16)
DEFINE_SLICE(gelu_grad_slice16, gelu_grad16)
DEFINE_SLICE(gelu_tanh_slice16, gelu_tanh16)
DEFINE_SLICE(gelu_tanh_grad_slice16, gelu_tanh_grad16)

#define DEFINE_SCALAR_SLICE(name, F) \
  static void name(const float* x, const float* dy, float* y, int64_t n) { \
    if (dy) { \
      for (int64_t i = 0; i < n; i++) y[i] = dy[i] * F(x[i]); \
    } else { \
      for (int64_t i = 0; i < n; i++) y[i] = F(x[i]); \
    } \
  }
DEFINE_SCALAR_SLICE(gelu_slice, gelu_s)
DEFINE_SCALAR_SLICE(gelu_grad_slice, gelu_grad_s)
DEFINE_SCALAR_SLICE(gelu_tanh_slice, gelu_tanh_s)
DEFINE_SCALAR_SLICE(gelu_tanh_grad_slice, gelu_tanh_grad_s)

typedef void (*gelu_slice_fn)(const float*, const float*, float*, int64_t);

/* Kernel choice from cpuid at run time (never the build machine's flags);
 * LITS_GELU_SCALAR=1 forces the portable loops (the tests compare both). */
static int use_avx512(void) {
  static int avx512 = -1;
  if (avx512 < 0) {
    const char* force = getenv("LITS_GELU_SCALAR");
    avx512 = __builtin_cpu_supports("avx512f") && !(force && force[0] == '1') ? 1 : 0;
  }
  return avx512;
}

void lits_gelu_apply(int tanh_form, int grad, const float* x, const float* dy, float* y,
                     int64_t n) {
  static const gelu_slice_fn vec[4] = {gelu_slice16, gelu_grad_slice16, gelu_tanh_slice16,
                                       gelu_tanh_grad_slice16};
  static const gelu_slice_fn one[4] = {gelu_slice, gelu_grad_slice, gelu_tanh_slice,
                                       gelu_tanh_grad_slice};
  const int k = (tanh_form ? 2 : 0) + (grad ? 1 : 0);
  const gelu_slice_fn f = use_avx512() ? vec[k] : one[k];
  const int nt = n > PAR_THRESHOLD ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int64_t parts = omp_get_num_threads(), p = omp_get_thread_num();
    /* Slices of whole 16-float vectors, so only the last has a tail. */
    const int64_t v = (n + 15) / 16;
    const int64_t i0 = v * p / parts * 16, i1 = p == parts - 1 ? n : v * (p + 1) / parts * 16;
    if (i0 < i1) f(x + i0, dy ? dy + i0 : NULL, y + i0, i1 - i0);
  }
}
