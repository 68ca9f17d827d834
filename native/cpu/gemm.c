/* gemm.c: batched row-major SGEMM on OpenBLAS, and the serial / parallel
 * SGEMM helpers the convolution kernels use. */
#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

/* Below this many multiply-adds a product stays on one thread: splitting it
 * costs more in wake-ups and duplicated packing than it saves. */
#define GEMM_PAR_MIN_MACS ((int64_t)1 << 21)
/* Column slabs are multiples of this (the SGEMM kernels' register block). */
#define GEMM_SLAB_ALIGN 16

void lits_sgemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                       float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
              (int)ldb, beta, c, (int)ldc);
}

void lits_sgemm_parallel(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                         float* c, int64_t ldc) {
  const int nt = omp_get_max_threads();
  if (nt <= 1 || omp_in_parallel() || m * n * (k > 0 ? k : 1) < GEMM_PAR_MIN_MACS ||
      (m < 2 && n < 2 * GEMM_SLAB_ALIGN)) {
    lits_sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  /* Split the wider side of C so that each thread's slab stays a good GEMM;
   * columns first, as row-major C is then written in long runs. */
  const int by_cols = n >= (int64_t)nt * GEMM_SLAB_ALIGN && n * 2 >= m;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), parts = omp_get_num_threads();
    if (by_cols) {
      const int64_t units = (n + GEMM_SLAB_ALIGN - 1) / GEMM_SLAB_ALIGN;
      int64_t j0 = units * t / parts * GEMM_SLAB_ALIGN;
      int64_t j1 = units * (t + 1) / parts * GEMM_SLAB_ALIGN;
      if (j1 > n) j1 = n;
      if (j0 < j1) {
        const float* bs = trans_b ? b + j0 * ldb : b + j0;
        lits_sgemm_serial(trans_a, trans_b, m, j1 - j0, k, alpha, a, lda, bs, ldb, beta, c + j0,
                          ldc);
      }
    } else {
      const int64_t i0 = m * t / parts, i1 = m * (t + 1) / parts;
      if (i0 < i1) {
        const float* as = trans_a ? a + i0 : a + i0 * lda;
        lits_sgemm_serial(trans_a, trans_b, i1 - i0, n, k, alpha, as, lda, b, ldb, beta,
                          c + i0 * ldc, ldc);
      }
    }
  }
}

void lits_gemm_scale_c(float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
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
  LITS_CHECKED(lits_check_gemm(fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, batch, stride_a,
                               stride_b, stride_c));
  LITS_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", fn, (long long)m, (long long)n);
  if (batch > 1) {
    /* Output matrices must not overlap: they are written independently. */
    const int64_t c_span = (m - 1) * ldc + n;
    LITS_REQUIRE(stride_c >= c_span,
                 "%s: stride_c=%lld must be >= %lld so that the %lld outputs do not overlap",
                 fn, (long long)stride_c, (long long)c_span, (long long)batch);
  }
  if (k == 0 || alpha == 0.0f) {
    for (int64_t i = 0; i < batch; i++) lits_gemm_scale_c(c + i * stride_c, m, n, ldc, beta);
    return LITS_OK;
  }
  LITS_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", fn,
               (long long)m, (long long)n, (long long)k);

  if (batch == 1 && !trans_b && alpha == 1.0f && beta == 0.0f &&
      lits_gemm_wide(trans_a, m, n, k, a, lda, b, ldb, c, ldc)) {
    return LITS_OK;
  }
  if (batch == 1 && !trans_a && trans_b &&
      lits_gemm_short_nt(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
    return LITS_OK;
  }
  /* Many small products: one per thread at a time; few large ones: each
   * split over the threads. */
  if (batch >= omp_get_max_threads() && m * n * k < GEMM_PAR_MIN_MACS * 8) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++) {
      lits_sgemm_serial(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b,
                        ldb, beta, c + i * stride_c, ldc);
    }
    return LITS_OK;
  }
  for (int64_t i = 0; i < batch; i++) {
    lits_sgemm_parallel(trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b,
                        ldb, beta, c + i * stride_c, ldc);
  }
  return LITS_OK;
}
