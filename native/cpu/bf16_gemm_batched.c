/* bf16_gemm_batched.c: lits_gemm_bf16_batched_f32, bmm under autocast.
 * Attention's products are many small matrices (ViT-B/16: 48 of 197 x 64
 * x 197 a layer at batch 4; a Swin window's 49 x 32 x 49, hundreds):
 * called one by one, each was split over the threads, and a training step
 * spent more on the splitting and the calls than on the products. Where
 * the matrices are small and at least one a thread, each thread takes
 * whole matrices on the single-threaded GEMM (its scratch allocated once);
 * otherwise each product runs on all threads in turn. A matrix's sums run
 * in the same order either way (lits_gemm_bf16_f32's K blocks and pairs),
 * so its bits are the same. */
#include <omp.h>

#include "bf16_internal.h"
#include "common.h"
#include "lits_check.h"

/* Matrices below this many multiply-adds go whole to one thread. */
#define WHOLE_MAX_MACS ((int64_t)1 << 24)
/* gemm_short_nt.c's SHORT_MAX_ROWS. */
#define SHORT_NT_MAX_ROWS 32

int lits_gemm_bf16_batched_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                               float alpha, const float* a, int64_t lda, const float* b,
                               int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch,
                               int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  static const char* fn = "lits_gemm_bf16_batched_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_gemm(fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, batch, stride_a,
                               stride_b, stride_c));
  LITS_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", fn, (long long)m, (long long)n);
  if (batch > 1) { /* written independently: the outputs must not overlap */
    const int64_t c_span = (m - 1) * ldc + n;
    LITS_REQUIRE(stride_c >= c_span,
                 "%s: stride_c=%lld must be >= %lld so that the %lld outputs do not overlap",
                 fn, (long long)stride_c, (long long)c_span, (long long)batch);
  }
  LITS_CHECKED(lits_bf16_ready(fn, "lits_gemm_f32"));
  if (k == 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < batch; i++) lits_gemm_scale_c(c + i * stride_c, m, n, ldc, beta);
    return LITS_OK;
  }
  LITS_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", fn,
               (long long)m, (long long)n, (long long)k);
  const int nt = omp_get_max_threads();
  /* (A few rows times a transposed B may take gemm_short_nt.c's kernel, as
   * lits_gemm_bf16_f32 would: those keep its path.) */
  const int short_nt = !trans_a && trans_b && m <= SHORT_NT_MAX_ROWS;
  if (batch < nt || nt <= 1 || omp_in_parallel() || short_nt || m * n * k >= WHOLE_MAX_MACS) {
    for (int64_t i = 0; i < batch; i++) {
      const int st = lits_gemm_bf16_f32(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda,
                                        b + i * stride_b, ldb, beta, c + i * stride_c, ldc);
      if (st != LITS_OK) return st;
    }
    return LITS_OK;
  }
  const int64_t words = (lits_gemm_bf16_serial_words(m, n, k) + 15) / 16 * 16;
  uint32_t* scratch = lits_scratch_alloc(words * nt * (int64_t)sizeof(uint32_t));
  if (scratch == NULL) return LITS_ERR_MEMORY; /* lits_scratch_alloc recorded the error */
#pragma omp parallel num_threads(nt)
  {
    uint32_t* mine = scratch + words * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < batch; i++) {
      lits_gemm_bf16_serial(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda,
                            b + i * stride_b, ldb, beta, c + i * stride_c, ldc, mine, NULL);
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
