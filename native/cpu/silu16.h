/* silu16.h: SiLU's v / (1 + exp(-v)) on 16 floats with libmvec's 16-wide
 * expf, the function gcc calls for vexpf in vectorised loops
 * (fused_internal.h), so that the fused epilogues (packed_gemm.c, the
 * depthwise and stem kernels) give the bits of the standalone SiLU op. */
#ifndef LITS_CPU_SILU16_H
#define LITS_CPU_SILU16_H

#include <immintrin.h>

/* libmvec's 16-wide expf (the one gcc calls for vexpf). */
__m512 _ZGVeN16v_expf(__m512);

__attribute__((target("avx512f"), always_inline)) static inline __m512 lits_silu16(__m512 v) {
  const __m512 neg = _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000)));
  return _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), _ZGVeN16v_expf(neg)));
}

#endif
