/* silu16.h: SiLU's v / (1 + exp(-v)) on 16 floats with exp16.h's
 * lits_exp16, the lanes of the lits_expf that fused_act and elementwise.c
 * call, so that the fused epilogues (packed_gemm.c, the depthwise and stem
 * kernels) give the bits of the standalone SiLU op. */
#ifndef LITS_CPU_SILU16_H
#define LITS_CPU_SILU16_H

#include <immintrin.h>

#include "exp16.h"

__attribute__((target("avx512f"), always_inline)) static inline __m512 lits_silu16(__m512 v) {
  const __m512 neg = _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000)));
  return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), lits_exp16(neg)));
}

#endif
