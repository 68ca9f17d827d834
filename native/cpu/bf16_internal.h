/* bf16_internal.h: the bf16 GEMM of bf16_gemm.c for kernels that put their
 * own OpenMP threads around it (as common.h's lits_sgemm_serial). */
#ifndef LITS_CPU_BF16_INTERNAL_H
#define LITS_CPU_BF16_INTERNAL_H

#include <stdint.h>

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

#endif
