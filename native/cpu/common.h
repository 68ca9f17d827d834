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

/* Scratch memory for kernels (im2col buffers, ...), from the caching allocator
 * so that a steady training step asks the system for nothing. NULL on failure
 * (the error is recorded). */
void* lits_scratch_alloc(int64_t bytes);
void lits_scratch_free(void* p);

/* Row-major SGEMM, C = alpha op(A) op(B) + beta C, on the calling thread only.
 * OpenBLAS runs single-threaded in this library (see library.c): kernels put
 * their OpenMP threads around these calls, so the two thread pools never
 * compete for the machine's cores. Sizes must fit OpenBLAS's int. */
void lits_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                       float* c, int64_t ldc);
/* The same, split into slabs of C (columns, or rows when C is narrow) over
 * the OpenMP threads when the product is large enough to pay for it; serial
 * inside a parallel region. */
void lits_sgemm_parallel(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc);

#endif
