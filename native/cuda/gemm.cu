/* gemm.cu: batched row-major SGEMM on cuBLAS.
 *
 * cuBLAS is column-major. A row-major m x n matrix with row stride ld is, in
 * the same memory, the column-major n x m matrix of its transpose with
 * leading dimension ld. So the row-major product C = op(A) op(B) is computed
 * as the column-major C^T = op(B)^T op(A)^T: swap A and B, swap m and n, and
 * keep each operand's own transpose flag. That swap happens here and nowhere
 * else.
 *
 * Precision: TF32 is off unless LITS_CUDA_TF32=1: the compute type is
 * CUBLAS_COMPUTE_32F (full fp32 products) or CUBLAS_COMPUTE_32F_FAST_TF32.
 */
#include <limits.h>

#include "common.cuh"

/* C (m x n, row stride ldc) = beta * C for every matrix of the batch; beta 0
 * writes zeros so that NaN or Inf already in C does not survive (as BLAS). */
__global__ void scale_c_kernel(float* c, int64_t m, int64_t n, int64_t ldc, int64_t batch,
                               int64_t stride_c, float beta) {
  LC_GRID_LOOP(t, batch * m * n) {
    const int64_t b = t / (m * n), rem = t - b * m * n, i = rem / n, j = rem - i * n;
    float* p = c + b * stride_c + i * ldc + j;
    *p = beta == 0.0f ? 0.0f : *p * beta;
  }
}

/* The one place the row-major problem becomes cuBLAS's column-major one. */
static cublasStatus_t gemm_column_major(bool ta, bool tb, int m, int n, int k, float alpha,
                                        const float* a, int lda, const float* b, int ldb,
                                        float beta, float* c, int ldc, int batch, long long sa,
                                        long long sb, long long sc) {
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasComputeType_t compute = lc.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (batch == 1) {
    return lc_vendor.cublasGemmEx(lc.cublas, opb, opa, n, m, k, &alpha, b, CUDA_R_32F, ldb, a,
                                  CUDA_R_32F, lda, &beta, c, CUDA_R_32F, ldc, compute,
                                  CUBLAS_GEMM_DEFAULT);
  }
  return lc_vendor.cublasGemmStridedBatchedEx(lc.cublas, opb, opa, n, m, k, &alpha, b, CUDA_R_32F,
                                              ldb, sb, a, CUDA_R_32F, lda, sa, &beta, c,
                                              CUDA_R_32F, ldc, sc, batch, compute,
                                              CUBLAS_GEMM_DEFAULT);
}

extern "C" int lits_gemm_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                             float alpha, const float* a, int64_t lda, const float* b,
                             int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch,
                             int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  LC_ENTER("lits_gemm_f32");
  const int chk = lits_check_gemm(lc_fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, batch,
                                  stride_a, stride_b, stride_c);
  if (chk > 0) return chk;
  LC_REQUIRE(batch <= INT_MAX, "%s: batch=%lld exceeds cuBLAS's 32-bit limit", lc_fn,
             (long long)batch);
  if (chk == LITS_EMPTY) return LITS_OK;
  LC_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", lc_fn, (long long)m, (long long)n);
  if (batch > 1) {
    const int64_t c_span = (m - 1) * ldc + n;
    LC_REQUIRE(stride_c >= c_span,
               "%s: stride_c=%lld must be >= %lld so that the %lld outputs do not overlap", lc_fn,
               (long long)stride_c, (long long)c_span, (long long)batch);
  }
  if (k == 0 || alpha == 0.0f) {
    const int64_t total = batch * m * n;
    scale_c_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(c, m, n, ldc, batch, stride_c,
                                                                   beta);
    LC_CHECK_LAUNCH("scale_c_kernel");
    return LITS_OK;
  }
  LC_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", lc_fn,
             (long long)m, (long long)n, (long long)k);
  LC_CHECK(gemm_column_major(trans_a != 0, trans_b != 0, (int)m, (int)n, (int)k, alpha, a,
                             (int)lda, b, (int)ldb, beta, c, (int)ldc, (int)batch, stride_a,
                             stride_b, stride_c));
  return LITS_OK;
}
