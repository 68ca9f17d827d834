/* gemm.cuh: the row-major GEMM on cuBLAS that gemm.cu (fp32) and
 * bf16_gemm.cu (bf16 autocast) share.
 *
 * cuBLAS is column-major. A row-major m x n matrix with row stride ld is, in
 * the same memory, the column-major n x m matrix of its transpose with
 * leading dimension ld. So the row-major product C = op(A) op(B) is computed
 * as the column-major C^T = op(B)^T op(A)^T: swap A and B, swap m and n, and
 * keep each operand's own transpose flag. That swap happens in
 * lc_gemm_row_major (gemm.cu) and nowhere else.
 */
#ifndef LITS_CUDA_GEMM_CUH
#define LITS_CUDA_GEMM_CUH

#include "common.cuh"

/* C (m x n, row stride ldc, fp32) = alpha * op(A) op(B) + beta * C for each
 * of `batch` matrices (element strides sa, sb, sc; used when batch > 1). A
 * and B hold `ab` elements (CUDA_R_32F or CUDA_R_16BF); products and sums
 * are fp32 (TF32 only for fp32 operands with LITS_CUDA_TF32=1). Sizes are
 * checked by the caller; k > 0 and alpha != 0. */
cublasStatus_t lc_gemm_row_major(bool ta, bool tb, int m, int n, int k, float alpha,
                                 const void* a, int lda, const void* b, int ldb, cudaDataType ab,
                                 float beta, float* c, int ldc, int batch, long long sa,
                                 long long sb, long long sc);

/* C = beta * C for the batch (what a GEMM with k = 0 or alpha = 0 leaves);
 * beta 0 writes zeros, so that NaN or Inf in C does not survive (BLAS). */
int lc_gemm_scale_c(const char* fn, float* c, int64_t m, int64_t n, int64_t ldc, int64_t batch,
                    int64_t stride_c, float beta);

#endif /* LITS_CUDA_GEMM_CUH */
