/* bf16_gemm.cu: bf16 autocast's GEMM on cuBLAS, the rounding, and what the
 * device offers (lits.h's bfloat16 section; the CPU's is bf16_gemm.c).
 *
 * The GEMM is PyTorch's CUDA autocast matmul: A and B rounded to packed bf16
 * copies (bf16_convert.cu), then cublasGemmEx with CUDA_R_16BF operands, an
 * fp32 C and CUBLAS_COMPUTE_32F (lc_gemm_row_major, gemm.cu): bf16 products
 * are exact in fp32 and the sums are fp32, so C differs from the CPU's only
 * by the order of the sums (and in denormals, which the CPU's vdpbf16ps
 * flushes). C is read only when beta != 0, as lits_gemm_f32.
 */
#include <stdlib.h>
#include <string.h>

#include "bf16_convert.cuh"
#include "gemm.cuh"

/* LITS_BF16=off (read on every call, as the CPU's) reports no bf16. */
static bool bf16_off(void) {
  const char* env = getenv("LITS_BF16");
  return env != NULL && strcmp(env, "off") == 0;
}

/* The level of a started backend: bf16 tensor cores from compute
 * capability 8.0 (Ampere) on. */
static int32_t bf16_level(void) { return !bf16_off() && lc.cc >= 80 ? 1 : 0; }

int lc_bf16_ready(const char* fn, const char* fp32) {
  if (bf16_level() > 0) return LITS_OK;
  if (bf16_off()) {
    return lc_fail(LITS_ERR_UNAVAILABLE,
                   "%s: LITS_BF16=off; use %s (lits_bf16_support reports 0)", fn, fp32);
  }
  return lc_fail(LITS_ERR_UNAVAILABLE,
                 "%s: this GPU (compute capability %d.%d) has no bf16 tensor cores (8.0 and "
                 "later have); use %s (lits_bf16_support reports 0)",
                 fn, lc.cc / 10, lc.cc % 10, fp32);
}

/* With LITS_BF16=off the answer is 0 without starting the device; else the
 * device must start (its error otherwise, with *level_host 0). */
extern "C" int lits_bf16_support(int32_t* level_host) {
  static const char* const lc_fn = "lits_bf16_support";
  lc_clear_error();
  LC_REQUIRE(level_host != NULL, "%s: level_host is NULL", lc_fn);
  *level_host = 0;
  if (bf16_off()) return LITS_OK;
  LC_TRY(lc_ready(lc_fn));
  *level_host = bf16_level();
  return LITS_OK;
}

extern "C" int lits_gemm_bf16_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n,
                                  int64_t k, float alpha, const float* a, int64_t lda,
                                  const float* b, int64_t ldb, float beta, float* c,
                                  int64_t ldc) {
  LC_ENTER("lits_gemm_bf16_f32");
  LITS_CHECKED(lits_check_gemm(lc_fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, 1, 0, 0, 0));
  LC_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", lc_fn, (long long)m, (long long)n);
  LC_TRY(lc_bf16_ready(lc_fn, "lits_gemm_f32"));
  if (k == 0 || alpha == 0.0f) return lc_gemm_scale_c(lc_fn, c, m, n, ldc, 1, 0, beta);
  LC_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", lc_fn,
             (long long)m, (long long)n, (long long)k);
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k);
   * the copies are packed (leading dimension = stored columns). */
  const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  lc_bf16_scratch a16, b16;
  LC_TRY(a16.alloc(lc_fn, a_rows * a_cols));
  LC_TRY(b16.alloc(lc_fn, b_rows * b_cols));
  LC_TRY(lc_to_bf16(lc_fn, a, a_rows, a_cols, lda, NULL, false, 1, 1, a16.p));
  LC_TRY(lc_to_bf16(lc_fn, b, b_rows, b_cols, ldb, NULL, false, 1, 1, b16.p));
  LC_CHECK(lc_gemm_row_major(trans_a != 0, trans_b != 0, (int)m, (int)n, (int)k, alpha, a16.p,
                             (int)a_cols, b16.p, (int)b_cols, CUDA_R_16BF, beta, c, (int)ldc, 1,
                             0, 0, 0));
  return LITS_OK;
}

namespace {

/* y[i] = fp32(bf16(x[i])); x and y may be the same buffer. */
__global__ void round_bf16_kernel(const float* x, float* y, int64_t n) {
  LC_GRID_LOOP(i, n) y[i] = lc_bf16_value(lc_bf16_bits(x[i]));
}

}  // namespace

/* Any device the backend runs on (the rounding is plain bit arithmetic). */
extern "C" int lits_round_bf16_f32(const float* x, float* y, int64_t n) {
  LC_ENTER("lits_round_bf16_f32");
  LITS_CHECKED(lits_check_count(lc_fn, n, x != NULL && y != NULL, "x or y"));
  round_bf16_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(x, y, n);
  LC_CHECK_LAUNCH("round_bf16_kernel");
  return LITS_OK;
}
