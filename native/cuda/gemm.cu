/* gemm.cu: batched row-major SGEMM on cuBLAS, and the row-major to
 * column-major swap that every GEMM here goes through (gemm.cuh).
 *
 * Precision: TF32 is off unless LITS_CUDA_TF32=1: the compute type is
 * CUBLAS_COMPUTE_32F (full fp32 products) or CUBLAS_COMPUTE_32F_FAST_TF32.
 * bf16 operands (bf16_gemm.cu) always get CUBLAS_COMPUTE_32F: their products
 * are exact in fp32 and the sums fp32, as PyTorch's autocast.
 */
#include <limits.h>

#include "gemm.cuh"

namespace {

/* C (m x n, row stride ldc) = beta * C for every matrix of the batch. */
__global__ void scale_c_kernel(float* c, int64_t m, int64_t n, int64_t ldc, int64_t batch,
                               int64_t stride_c, float beta) {
  LC_GRID_LOOP(t, batch * m * n) {
    const int64_t b = t / (m * n), rem = t - b * m * n, i = rem / n, j = rem - i * n;
    float* p = c + b * stride_c + i * ldc + j;
    *p = beta == 0.0f ? 0.0f : *p * beta;
  }
}

}  // namespace

/* The one place the row-major problem becomes cuBLAS's column-major one. */
cublasStatus_t lc_gemm_row_major(bool ta, bool tb, int m, int n, int k, float alpha,
                                 const void* a, int lda, const void* b, int ldb, cudaDataType ab,
                                 float beta, float* c, int ldc, int batch, long long sa,
                                 long long sb, long long sc) {
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasComputeType_t compute =
      ab == CUDA_R_32F && lc.tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (batch == 1) {
    return lc_vendor.cublasGemmEx(lc.cublas, opb, opa, n, m, k, &alpha, b, ab, ldb, a, ab, lda,
                                  &beta, c, CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT);
  }
  return lc_vendor.cublasGemmStridedBatchedEx(lc.cublas, opb, opa, n, m, k, &alpha, b, ab, ldb,
                                              sb, a, ab, lda, sa, &beta, c, CUDA_R_32F, ldc, sc,
                                              batch, compute, CUBLAS_GEMM_DEFAULT);
}

int lc_gemm_scale_c(const char* fn, float* c, int64_t m, int64_t n, int64_t ldc, int64_t batch,
                    int64_t stride_c, float beta) {
  const char* const lc_fn = fn;
  scale_c_kernel<<<lc_blocks(batch * m * n), LC_THREADS, 0, lc.stream>>>(c, m, n, ldc, batch,
                                                                         stride_c, beta);
  LC_CHECK_LAUNCH("scale_c_kernel");
  return LITS_OK;
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
  if (k == 0 || alpha == 0.0f) return lc_gemm_scale_c(lc_fn, c, m, n, ldc, batch, stride_c, beta);
  LC_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", lc_fn,
             (long long)m, (long long)n, (long long)k);
  LC_CHECK(lc_gemm_row_major(trans_a != 0, trans_b != 0, (int)m, (int)n, (int)k, alpha, a,
                             (int)lda, b, (int)ldb, CUDA_R_32F, beta, c, (int)ldc, (int)batch,
                             stride_a, stride_b, stride_c));
  return LITS_OK;
}
