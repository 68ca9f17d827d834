/* exp16.h: the library's own expf for SiLU and sigmoid, as one scalar
 * function (lits_expf, written so that gcc vectorises the loops that call
 * it) and its 16-lane AVX-512 form (lits_exp16, for the hand-written
 * kernels' epilogues). The two give the same bits for every input, so a
 * fused epilogue equals the standalone op, on any CPU.
 *
 *   x = k ln2 + r,  k = round(x log2e) (to nearest even), |r| <= ln2/2
 *   r = (x - k LN2_HI) - k LN2_LO   (Cody-Waite, two constants: LN2_HI is
 *       ln2 rounded to float, LN2_LO the float nearest ln2 - LN2_HI; the first
 *       FMA is exact: k = 0, or x and k LN2_HI are multiples of 2^-25 and
 *       |r| < 0.5)
 *   e^r ~ 1 + r (1 + r (c2 + r (c3 + r (c4 + r (c5 + r c6)))))   (FMAs)
 *   e^x = e^r 2^k
 *
 * c2..c6: a minimax fit of e^r in relative error on |r| <= ln2/2 + 2e-5
 * with c0 = c1 = 1 fixed (Remez exchange, scripts/fit_exp_poly.py), rounded
 * to float: 3.8e-9 relative error (0.03 ulp) before rounding in evaluation.
 * Max error against exp in double over all 2^32 float32 inputs: 0.909 ulp
 * (at x = 5.1998; tests/exp16_check.c run as `exp16_check 1 1`, every form
 * the same bits); tests/exp16_test.ts sweeps every 97th pattern in the
 * library's build and in x86-64-v3 and x86-64 ones.
 *
 * x is clamped to [-104, 89] first (NaN passes through the comparisons;
 * lits_expf compares and blends x's bits, so that gcc vectorises it for
 * AVX2 too; builds without FMA call libm's fmaf and stay scalar):
 * e^89 overflows, so x >= 88.7228 gives +inf, and e^-104 < 2^-150 rounds to
 * 0, so x <= -103.98 gives 0. k is then in [-150, 128]. 2^k is applied with
 * one rounding: vscalefps in the vector form; in the scalar form two exact
 * power-of-two factors 2^(k>>1) and 2^(k-(k>>1)) (both normal floats), the
 * first product exact (e^r in [0.7, 1.42]), the second rounding once: the
 * same value. Results below 2^-126 are gradual (denormal), rounded once, as
 * IEEE multiplication gives them (the library never sets FTZ/DAZ). +inf
 * gives +inf, -inf 0, NaN a NaN. */
#ifndef LITS_CPU_EXP16_H
#define LITS_CPU_EXP16_H

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define LITS_EXP_LOG2E 0x1.715476p+0f
#define LITS_EXP_LN2_HI 0x1.62e430p-1f
#define LITS_EXP_LN2_LO -0x1.05c610p-29f
#define LITS_EXP_C2 0x1.fffffcp-2f
#define LITS_EXP_C3 0x1.555492p-3f
#define LITS_EXP_C4 0x1.5558f2p-5f
#define LITS_EXP_C5 0x1.1239dcp-7f
#define LITS_EXP_C6 0x1.6a243ep-10f
#define LITS_EXP_MIN -104.0f
#define LITS_EXP_MAX 89.0f

static inline float lits_exp_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static inline float lits_exp_pow2(int32_t e) { /* 2^e for -126 <= e <= 127 */
  return lits_exp_float(((uint32_t)e + 127u) << 23);
}

static inline uint32_t lits_exp_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* e^x, the bits of lits_exp16's lanes. */
static inline float lits_expf(float x) {
  /* The clamps compare and blend x's bits (NaN compares as neither):
   * gcc turns float comparisons and selects into branches, and moves the
   * product that follows into them, which stops the AVX2 loops vectorising
   * (a float op that may trap, under a condition: -ftrapping-math).
   * Negative floats' bits grow with |x|. */
  const uint32_t u = lits_exp_bits(x);
  const uint32_t below = -(uint32_t)(u > 0xc2d00000u && u <= 0xff800000u); /* x < -104 */
  const uint32_t above = -(uint32_t)(u > 0x42b20000u && u <= 0x7f800000u); /* x > 89 */
  x = lits_exp_float((u & ~(below | above)) | (0xc2d00000u & below) | (0x42b20000u & above));
  const float kf = rintf(x * LITS_EXP_LOG2E);
  float r = fmaf(-kf, LITS_EXP_LN2_HI, x);
  r = fmaf(-kf, LITS_EXP_LN2_LO, r);
  float p = fmaf(LITS_EXP_C6, r, LITS_EXP_C5);
  p = fmaf(p, r, LITS_EXP_C4);
  p = fmaf(p, r, LITS_EXP_C3);
  p = fmaf(p, r, LITS_EXP_C2);
  p = fmaf(p, r, 1.0f);
  p = fmaf(p, r, 1.0f);
  /* k from kf's bits after adding 1.5 * 2^23 (exact: an integer of at most
   * 8 bits): no float-to-int conversion, which C leaves undefined for NaN
   * and which gcc will not if-convert without AVX-512's masks (the AVX2
   * loops stayed scalar). For NaN k is garbage, and p is NaN already. */
  const int32_t k = (int32_t)(lits_exp_bits(kf + 0x1.8p23f) - lits_exp_bits(0x1.8p23f));
  const int32_t k1 = k >> 1; /* floor(k / 2): gcc shifts negative ints arithmetically */
  return p * lits_exp_pow2(k1) * lits_exp_pow2(k - k1);
}

/* lits_expf on 16 lanes. */
__attribute__((target("avx512f"), always_inline)) static inline __m512 lits_exp16(__m512 x) {
  /* min/max return their second operand when either is NaN: x's NaN goes on. */
  x = _mm512_max_ps(_mm512_set1_ps(LITS_EXP_MIN), x);
  x = _mm512_min_ps(_mm512_set1_ps(LITS_EXP_MAX), x);
  const __m512 kf = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LITS_EXP_LOG2E)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(LITS_EXP_LN2_HI), x);
  r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(LITS_EXP_LN2_LO), r);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(LITS_EXP_C6), r, _mm512_set1_ps(LITS_EXP_C5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LITS_EXP_C4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LITS_EXP_C3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(LITS_EXP_C2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, kf);
}

#endif
