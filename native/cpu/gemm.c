/* gemm.c: batched row-major SGEMM on OpenBLAS. */
#include <cblas.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

/* C (m x n, row stride ldc) = beta * C, with beta == 0 writing zeros (so that
 * NaN or Inf already in C do not survive, as in BLAS). */
static void scale_c(float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; i++) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      memset(row, 0, (size_t)n * sizeof(float));
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
  }
}

int lits_gemm_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a,
                  int64_t stride_b, int64_t stride_c) {
  static const char* fn = "lits_gemm_f32";
  lits_clear_error();
  LITS_REQUIRE(trans_a == 0 || trans_a == 1, "%s: trans_a=%d must be 0 or 1", fn, (int)trans_a);
  LITS_REQUIRE(trans_b == 0 || trans_b == 1, "%s: trans_b=%d must be 0 or 1", fn, (int)trans_b);
  LITS_REQUIRE(m >= 0 && n >= 0 && k >= 0, "%s: sizes m=%lld n=%lld k=%lld must be >= 0", fn,
               (long long)m, (long long)n, (long long)k);
  LITS_REQUIRE(batch >= 1, "%s: batch=%lld must be >= 1", fn, (long long)batch);
  LITS_REQUIRE(stride_a >= 0 && stride_b >= 0 && stride_c >= 0,
               "%s: strides a=%lld b=%lld c=%lld must be >= 0", fn, (long long)stride_a,
               (long long)stride_b, (long long)stride_c);
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k). */
  const int64_t a_cols = trans_a ? m : k;
  const int64_t b_cols = trans_b ? k : n;
  const int64_t min_lda = a_cols > 1 ? a_cols : 1;
  const int64_t min_ldb = b_cols > 1 ? b_cols : 1;
  const int64_t min_ldc = n > 1 ? n : 1;
  LITS_REQUIRE(lda >= min_lda, "%s: lda=%lld must be >= %lld (trans_a=%d, m=%lld, k=%lld)", fn,
               (long long)lda, (long long)min_lda, (int)trans_a, (long long)m, (long long)k);
  LITS_REQUIRE(ldb >= min_ldb, "%s: ldb=%lld must be >= %lld (trans_b=%d, k=%lld, n=%lld)", fn,
               (long long)ldb, (long long)min_ldb, (int)trans_b, (long long)k, (long long)n);
  LITS_REQUIRE(ldc >= min_ldc, "%s: ldc=%lld must be >= %lld (n=%lld)", fn, (long long)ldc,
               (long long)min_ldc, (long long)n);
  /* OpenBLAS takes 32-bit int sizes. */
  LITS_REQUIRE(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX &&
                   ldb <= INT_MAX && ldc <= INT_MAX,
               "%s: m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld exceed the 32-bit BLAS "
               "limit",
               fn, (long long)m, (long long)n, (long long)k, (long long)lda, (long long)ldb,
               (long long)ldc);
  if (m == 0 || n == 0) return LITS_OK;
  LITS_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", fn, (long long)m, (long long)n);
  if (batch > 1) {
    /* Output matrices must not overlap: they are written independently. */
    const int64_t c_span = (m - 1) * ldc + n;
    LITS_REQUIRE(stride_c >= c_span,
                 "%s: stride_c=%lld must be >= %lld so that the %lld outputs do not overlap",
                 fn, (long long)stride_c, (long long)c_span, (long long)batch);
  }
  if (k == 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < batch; i++) scale_c(c + i * stride_c, m, n, ldc, beta);
    return LITS_OK;
  }
  LITS_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", fn,
               (long long)m, (long long)n, (long long)k);

  const enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (batch == 1) {
    cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb,
                beta, c, (int)ldc);
    return LITS_OK;
  }
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, a + i * stride_a,
                (int)lda, b + i * stride_b, (int)ldb, beta, c + i * stride_c, (int)ldc);
  }
  return LITS_OK;
}
