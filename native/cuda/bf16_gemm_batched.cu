/* bf16_gemm_batched.cu: lits_gemm_bf16_batched_f32, bmm under autocast
 * (attention's q k^T and weights x v), as PyTorch's CUDA autocast bmm: each
 * operand's matrices rounded into one packed bf16 copy (one launch for the
 * whole batch), then one cublasGemmStridedBatchedEx with CUDA_R_16BF
 * operands, fp32 C and CUBLAS_COMPUTE_32F (lc_gemm_row_major, gemm.cu).
 *
 * Why not lits_gemm_bf16_f32 per matrix: ViT-B/16 at batch 4 makes 48
 * products of 197 x 64 x 197 a layer, a Swin window hundreds of 49 x 32 x
 * 49; one at a time, each is two conversion launches and a cuBLAS call too
 * small to fill the GPU. An operand of stride 0 (one matrix for the whole
 * batch) is rounded once and keeps stride 0.
 */
#include <limits.h>

#include "bf16_convert.cuh"
#include "gemm.cuh"

extern "C" int lits_gemm_bf16_batched_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n,
                                          int64_t k, float alpha, const float* a, int64_t lda,
                                          const float* b, int64_t ldb, float beta, float* c,
                                          int64_t ldc, int64_t batch, int64_t stride_a,
                                          int64_t stride_b, int64_t stride_c) {
  LC_ENTER("lits_gemm_bf16_batched_f32");
  LITS_CHECKED(lits_check_gemm(lc_fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, batch, stride_a,
                               stride_b, stride_c));
  LC_REQUIRE(batch <= INT_MAX, "%s: batch=%lld exceeds cuBLAS's 32-bit limit", lc_fn,
             (long long)batch);
  LC_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", lc_fn, (long long)m, (long long)n);
  if (batch > 1) { /* written independently: the outputs must not overlap */
    const int64_t c_span = (m - 1) * ldc + n;
    LC_REQUIRE(stride_c >= c_span,
               "%s: stride_c=%lld must be >= %lld so that the %lld outputs do not overlap", lc_fn,
               (long long)stride_c, (long long)c_span, (long long)batch);
  }
  LC_TRY(lc_bf16_ready(lc_fn, "lits_gemm_f32"));
  if (k == 0 || alpha == 0.0f) return lc_gemm_scale_c(lc_fn, c, m, n, ldc, batch, stride_c, beta);
  LC_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", lc_fn,
             (long long)m, (long long)n, (long long)k);
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k);
   * the copies are packed (leading dimension = stored columns, matrices
   * rows x columns apart, or 0 apart when the operand's stride is 0). */
  const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  const int64_t a_count = stride_a == 0 ? 1 : batch, b_count = stride_b == 0 ? 1 : batch;
  const int64_t sa = stride_a == 0 ? 0 : a_rows * a_cols, sb = stride_b == 0 ? 0 : b_rows * b_cols;
  lc_bf16_scratch a16, b16;
  LC_TRY(a16.alloc(lc_fn, a_count * a_rows * a_cols));
  LC_TRY(b16.alloc(lc_fn, b_count * b_rows * b_cols));
  LC_TRY(lc_to_bf16_batched(lc_fn, a, a_count, a_rows, a_cols, lda, stride_a, a16.p));
  LC_TRY(lc_to_bf16_batched(lc_fn, b, b_count, b_rows, b_cols, ldb, stride_b, b16.p));
  LC_CHECK(lc_gemm_row_major(trans_a != 0, trans_b != 0, (int)m, (int)n, (int)k, alpha, a16.p,
                             (int)a_cols, b16.p, (int)b_cols, CUDA_R_16BF, beta, c, (int)ldc,
                             (int)batch, sa, sb, stride_c));
  return LITS_OK;
}
