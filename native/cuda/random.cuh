/* random.cuh: Philox-4x32-10 and the maps from its words to floats, exactly
 * as native/cpu/random.c documents them (that comment is the specification):
 * the same seed and offset give the same uniform numbers and dropout masks,
 * bit for bit, on both backends; normal numbers agree up to the last ulps of
 * logf/sinf/cosf. Shared by the kernels and the host test.
 */
#ifndef LITS_CUDA_RANDOM_CUH
#define LITS_CUDA_RANDOM_CUH

#include <math.h>
#include <stdint.h>

#include "indexing.cuh"

struct lc_philox4 {
  uint32_t v[4];
};

/* 32 x 32 -> 64-bit product split into high and low words. */
__host__ __device__ __forceinline__ void lc_mul_hilo(uint32_t a, uint32_t b, uint32_t* hi,
                                                     uint32_t* lo) {
#ifdef __CUDA_ARCH__
  *hi = __umulhi(a, b);
  *lo = a * b;
#else
  const uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  *lo = (uint32_t)p;
#endif
}

/* Philox-4x32-10 of counter {c0, c1, c2, 0} under key seed. */
__host__ __device__ __forceinline__ lc_philox4 lc_philox(uint32_t c0, uint32_t c1, uint32_t c2,
                                                         uint64_t seed) {
  uint32_t c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
LC_UNROLL
  for (int round = 0; round < 10; round++) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0, lo0, hi1, lo1;
    lc_mul_hilo(0xD2511F53u, c0, &hi0, &lo0);
    lc_mul_hilo(0xCD9E8D57u, c2, &hi1, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  lc_philox4 r = {{c0, c1, c2, c3}};
  return r;
}

/* Output of block offset + j: a 128-bit counter (low 64 bits, carry). */
__host__ __device__ __forceinline__ lc_philox4 lc_philox_block(uint64_t offset, uint64_t j,
                                                               uint64_t seed) {
  const uint64_t lo = offset + j;
  const uint32_t carry = lo < offset ? 1u : 0u;
  return lc_philox((uint32_t)lo, (uint32_t)(lo >> 32), carry, seed);
}

#define LC_TWO_POW_M24 5.9604644775390625e-08f /* 2^-24 */

/* [0, 1) with 24 random bits; exact in float. */
__host__ __device__ __forceinline__ float lc_u01(uint32_t x) {
  return (float)(x >> 8) * LC_TWO_POW_M24;
}

/* The four normal numbers of one block: Box-Muller on lanes (0,1), (2,3). */
__host__ __device__ __forceinline__ void lc_normal4(const lc_philox4& r, float z[4]) {
  const float two_pi = 6.28318530717958647692f;
LC_UNROLL
  for (int pair = 0; pair < 2; pair++) {
    const uint32_t a = r.v[2 * pair], b = r.v[2 * pair + 1];
    const float u1 = (float)((a >> 8) + 1u) * LC_TWO_POW_M24; /* (0, 1]: log is finite */
    const float u2 = (float)(b >> 8) * LC_TWO_POW_M24;
    const float rad = sqrtf(-2.0f * logf(u1));
    const float theta = two_pi * u2;
    z[2 * pair] = rad * cosf(theta);
    z[2 * pair + 1] = rad * sinf(theta);
  }
}

#endif /* LITS_CUDA_RANDOM_CUH */
