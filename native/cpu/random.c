/* random.c: counter-based random numbers (Philox-4x32-10).
 *
 * The exact mapping, which every backend (the CUDA one included) follows so
 * that one seed and offset give the same numbers everywhere:
 *
 * Generator: Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy
 *   as 1, 2, 3", SC 2011; the same function as Random123's philox4x32_10 and
 *   cuRAND's Philox4_32_10 core).
 *   key   = {k0, k1} = {seed & 0xFFFFFFFF, seed >> 32}
 *   ctr   = {c0, c1, c2, c3}, 10 rounds; each round:
 *             (hi0, lo0) = 0xD2511F53 * c0 (64-bit product),
 *             (hi1, lo1) = 0xCD9E8D57 * c2,
 *             ctr = {hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0}
 *           and between rounds (9 times) k0 += 0x9E3779B9, k1 += 0xBB67AE85.
 *   Output: the 4 words of ctr after the 10 rounds, lanes 0..3.
 *
 * Element i (0-based) of a call with offset `offset`:
 *   block = offset + floor(i / 4), a 128-bit sum (offset is uint64, so
 *           c0 = low 32 bits, c1 = bits 32..63, c2 = the carry (0 or 1), c3 = 0),
 *   lane  = i % 4, u32 = philox(block, key)[lane].
 *   A call of n elements consumes ceil(n / 4) counters, so the next call
 *   should use offset + ceil(n / 4) to get fresh numbers.
 *
 * Uniform (lits_rand_uniform_f32, lits_dropout_f32):
 *   u = (float)(u32 >> 8) * 2^-24          (exactly representable, in [0, 1))
 *   out = fmaf(high - low, u, low)          (d = high - low rounded to float
 *                                            first; one fused multiply-add)
 * Normal (lits_rand_normal_f32), Box-Muller on lane pairs (0,1) and (2,3) of
 *   element i's block: with (a, b) the pair that holds lane i % 4,
 *   u1 = (float)((a >> 8) + 1) * 2^-24    (in (0, 1], so log is finite)
 *   u2 = (float)(b >> 8) * 2^-24
 *   rad = sqrtf(-2 * logf(u1)), theta = 2 pi * u2 (float, 2 pi rounded to float)
 *   z = rad * cosf(theta) for the first lane of the pair (0 or 2),
 *       rad * sinf(theta) for the second (1 or 3)
 *   out = fmaf(std, z, mean)
 *   (integer steps and u1, u2 are bitwise equal on every backend; logf, sqrtf,
 *   cosf, sinf may differ by an ulp or two between math libraries.)
 * Dropout: u as for uniform; mask = u >= p ? scale : 0 with
 *   scale = (float)(1.0 / (1.0 - (double)p)) (double, then rounded);
 *   y = x * mask. p == 1 gives mask 0 everywhere (u < 1 always).
 */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768

typedef struct {
  uint32_t v[4];
} philox4;

static inline philox4 philox4x32_10(uint64_t block_lo, uint32_t block_hi, uint64_t seed) {
  uint32_t c0 = (uint32_t)block_lo, c1 = (uint32_t)(block_lo >> 32), c2 = block_hi, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0;
    uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  philox4 r = {{c0, c1, c2, c3}};
  return r;
}

/* Philox output of block offset + j (128-bit sum). */
static inline philox4 block_at(uint64_t offset, uint64_t j, uint64_t seed) {
  uint64_t lo = offset + j;
  uint32_t hi = lo < offset ? 1u : 0u;
  return philox4x32_10(lo, hi, seed);
}

#define TWO_POW_M24 5.9604644775390625e-08f /* 2^-24 */

static inline float u01(uint32_t x) { return (float)(x >> 8) * TWO_POW_M24; }

/* The walk of every generator here: Philox block j gives `r`, the four values of out[i0 ..
 * i0 + m) (i0 = 4j; m < 4 only in the last block), so value i comes from counter i / 4 in
 * every kernel and on CUDA. Parallel above `par_min` values; the statements are variadic so
 * that their commas need no parentheses. */
#define FOR_PHILOX_BLOCKS(n, seed, offset, par_min, ...)                 \
  do {                                                                   \
    const int64_t nblocks_ = ((n) + 3) / 4;                              \
    const int par_ = (n) > (par_min);                                    \
    _Pragma("omp parallel for schedule(static) if (par_)")               \
    for (int64_t j_ = 0; j_ < nblocks_; j_++) {                          \
      const philox4 r = block_at((offset), (uint64_t)j_, (seed));        \
      const int64_t i0 = j_ * 4;                                         \
      const int m = (n) - i0 < 4 ? (int)((n) - i0) : 4;                  \
      __VA_ARGS__                                                        \
    }                                                                    \
  } while (0)

int lits_rand_uniform_f32(float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                          float high) {
  lits_clear_error();
  LITS_CHECKED(lits_check_uniform("lits_rand_uniform_f32", out, n, low, high));
  float d = high - low;
  FOR_PHILOX_BLOCKS(n, seed, offset, PAR_THRESHOLD, {
    for (int l = 0; l < m; l++) out[i0 + l] = fmaf(d, u01(r.v[l]), low);
  });
  return LITS_OK;
}

int lits_rand_normal_f32(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                         float std) {
  lits_clear_error();
  LITS_CHECKED(lits_check_normal("lits_rand_normal_f32", out, n, std));
  const float two_pi = 6.28318530717958647692f;
  FOR_PHILOX_BLOCKS(n, seed, offset, PAR_THRESHOLD / 4, {
    float z[4];
    for (int pair = 0; pair < 2; pair++) {
      uint32_t a = r.v[2 * pair], b = r.v[2 * pair + 1];
      float u1 = (float)((a >> 8) + 1u) * TWO_POW_M24;
      float u2 = (float)(b >> 8) * TWO_POW_M24;
      float rad = sqrtf(-2.0f * logf(u1));
      float theta = two_pi * u2;
      z[2 * pair] = rad * cosf(theta);
      z[2 * pair + 1] = rad * sinf(theta);
    }
    for (int l = 0; l < m; l++) out[i0 + l] = fmaf(std, z[l], mean);
  });
  return LITS_OK;
}

int lits_dropout_f32(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed,
                     uint64_t offset) {
  lits_clear_error();
  /* mask may be NULL when the caller does not need it (y is still x * mask). */
  LITS_CHECKED(lits_check_dropout("lits_dropout_f32", x, y, n, p));
  float scale = p < 1.0f ? (float)(1.0 / (1.0 - (double)p)) : 0.0f;
  FOR_PHILOX_BLOCKS(n, seed, offset, PAR_THRESHOLD, {
    for (int l = 0; l < m; l++) {
      float mk = u01(r.v[l]) >= p ? scale : 0.0f;
      if (mask) mask[i0 + l] = mk;
      y[i0 + l] = x[i0 + l] * mk;
    }
  });
  return LITS_OK;
}
