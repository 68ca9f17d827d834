/* Shared helpers of the CPU implementation: error text and argument checks. */
#ifndef LITS_CPU_COMMON_H
#define LITS_CPU_COMMON_H

#include <stdint.h>

#include "lits.h"
#include "lits_check.h"

/* Records a printf-style message for lits_last_error() and returns status. */
int lits_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns LITS_ERR_ARGUMENT from the calling function when cond is false. */
#define LITS_REQUIRE(cond, ...) \
  do { \
    if (!(cond)) return lits_fail(LITS_ERR_ARGUMENT, __VA_ARGS__); \
  } while (0)

/* Every entry point clears the previous error first. */
void lits_clear_error(void);

/* Whether convolutions may use Winograd's transforms (lits_set_winograd). */
int lits_winograd_allowed(void);

/* Scratch memory for kernels (im2col buffers, ...), from the caching allocator
 * so that a steady training step asks the system for nothing. NULL on failure
 * (the error is recorded). */
void* lits_scratch_alloc(int64_t bytes);
void lits_scratch_free(void* p);

/* Row-major SGEMM, C = alpha op(A) op(B) + beta C, on the calling thread only.
 * OpenBLAS runs single-threaded in this library (see library.c): kernels put
 * their OpenMP threads around these calls, so the two thread pools never
 * compete for the machine's cores. Sizes must fit OpenBLAS's int. */
/* C (m x n, row stride ldc) = beta * C, beta == 0 writing zeros (so that NaN
 * or Inf already in C do not survive, as in BLAS); gemm.c. */
void lits_gemm_scale_c(float* c, int64_t m, int64_t n, int64_t ldc, float beta);
/* C = op(A) B (row-major, alpha 1, beta 0) through gemm_wide.c where it
 * takes the shape (one short side, many columns): 1, else 0 (nothing
 * written; OpenBLAS's turn). */
int lits_gemm_wide(int trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc);
/* C = alpha A B^T + beta C (row-major, A not transposed) through
 * gemm_short_nt.c where it takes the shape (few rows, a large B): 1, else
 * 0 (nothing written; OpenBLAS's turn). */
int lits_gemm_short_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                       int64_t ldc);
/* The same product under bf16 autocast (bf16_gemm.c's rounding, vdpbf16ps:
 * the caller has checked the CPU has it). */
int lits_gemm_bf16_short_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                            int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                            int64_t ldc);
void lits_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                       float* c, int64_t ldc);
/* The same, split into slabs of C (columns, or rows when C is narrow) over
 * the OpenMP threads when the product is large enough to pay for it; serial
 * inside a parallel region. */
void lits_sgemm_parallel(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc);

/* The walk that softmax, the reductions and argmax share over an [outer, r, inner] tensor
 * along r when inner > 1: one task per `block` adjacent columns of one outer slice, so each
 * task reads r rows of contiguous floats (vectorised, cache lines used whole). Written once
 * here so that the task split and its parallel condition cannot drift between the kernels.
 * It runs the statement(s) after `block` with `o` (outer index), `i0` (first column) and `nb`
 * (columns, at most `block`) in scope, over OpenMP threads when `par` and there is more than
 * one task. The statements are variadic so that their commas need no parentheses. */
#define LITS_FOR_COLUMN_BLOCKS(outer, inner, par, block, ...)                          \
  do {                                                                                 \
    const int64_t lits_nblk_ = ((inner) + (block) - 1) / (block);                      \
    const int64_t lits_tasks_ = (outer) * lits_nblk_;                                  \
    const int lits_par_ = (par) && lits_tasks_ > 1;                                    \
    _Pragma("omp parallel for schedule(static) if (lits_par_)")                        \
    for (int64_t lits_t_ = 0; lits_t_ < lits_tasks_; lits_t_++) {                      \
      const int64_t o = lits_t_ / lits_nblk_, i0 = (lits_t_ % lits_nblk_) * (block);   \
      const int64_t nb = (inner) - i0 < (block) ? (inner) - i0 : (block);              \
      __VA_ARGS__                                                                      \
    }                                                                                  \
  } while (0)

#endif
