/* bf16_internal.h: the bf16 GEMM of bf16_gemm.c for kernels that put their
 * own OpenMP threads around it (as common.h's lits_sgemm_serial). */
#ifndef LITS_CPU_BF16_INTERNAL_H
#define LITS_CPU_BF16_INTERNAL_H

#include <immintrin.h>
#include <stdint.h>

#include "common.h"
#include "conv_internal.h"

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* The high 16 bits of each lane are bf16(x) (RNE; NaN -> 0x7FC0); the low
 * 16 bits are garbage. */
BF16_TARGET static inline __m512i round_hi(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC00000));
}

/* Words (bf16(r0[j]) | bf16(r1[j]) << 16) for j < w (w <= 16); r1 NULL is
 * the zero padding of an odd K. Lanes >= w are zero. */
BF16_TARGET static inline __m512i pair_rows(const float* r0, const float* r1, int64_t w) {
  const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __m512i lo = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, r0)), 16);
  if (r1 == NULL) return lo;
  const __m512i hi = _mm512_and_si512(round_hi(_mm512_maskz_loadu_ps(m, r1)),
                                      _mm512_set1_epi32((int)0xFFFF0000u));
  return _mm512_or_si512(lo, hi);
}

/* 32-bit words of scratch lits_gemm_bf16_serial needs for an m x n x k
 * product (its packed bf16 blocks of A and B); 0 when there is nothing to
 * multiply. A buffer sized for the largest product serves smaller ones. */
int64_t lits_gemm_bf16_serial_words(int64_t m, int64_t n, int64_t k);

/* lits_gemm_bf16_f32 on the calling thread only: C = alpha * bf16(op(A)) x
 * bf16(op(B)) + beta * C, fp32 products and sums, beta = 0 not reading C.
 * The caller has checked the arguments and that lits_bf16_support reports
 * a level above 0 (the kernels are AVX512_BF16 instructions). scratch holds
 * lits_gemm_bf16_serial_words(m, n, k) words, or is NULL to take them from
 * the caching allocator: LITS_ERR_MEMORY (recorded) if that fails, else
 * LITS_OK. */
int lits_gemm_bf16_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                          const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                          float* c, int64_t ldc, uint32_t* scratch);

/* The bf16 convolutions without im2col (conv_bf16_direct.c): whether a
 * shape is theirs (forward, or backward data when backward_data), and the
 * kernels (LITS_OK or LITS_ERR_MEMORY). The caller has checked bf16 support. */
int lits_conv_bf16_direct_applies(const conv_shape* p, int backward_data);
int lits_conv_bf16_direct_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* weight, const float* bias, float* y);
int lits_conv_bf16_direct_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                        float* dx);

#endif
