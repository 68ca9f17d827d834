/* bf16_convert.cu: the conversions around autocast's bf16 GEMM and
 * convolutions (bf16.cuh): fp32 (after the input transform) to bf16
 * scratch, and bf16 results back to fp32 with the bias added in fp32. Each
 * kernel is a grid-stride loop around bf16.cuh's per-element functions, which
 * check/host_check.cu runs against the CPU library.
 */
#include "bf16_convert.cuh"

namespace {

/* dst[i] (rows x cols, packed) = bf16(relu?(T(src[row * ld + col]))); the
 * transform's channel is i / hw % c (an NCHW tensor as one row). */
__global__ void to_bf16_kernel(const float* src, int64_t rows, int64_t cols, int64_t ld,
                               const float* coef, bool relu, int64_t c, int64_t hw,
                               uint16_t* dst) {
  LC_GRID_LOOP(i, rows * cols) {
    const int64_t at = ld == cols ? i : i / cols * ld + i % cols;
    const int64_t ch = coef != NULL ? i / hw % c : 0;
    dst[i] = lc_bf16_bits(lc_xform_value(src[at], coef, c, ch, relu));
  }
}

/* dst[i] = fp32(src[i]) + bias[i / hw % k]; without a bias nothing is added
 * (-0 stays -0). */
__global__ void from_bf16_kernel(const uint16_t* src, int64_t n, const float* bias, int64_t k,
                                 int64_t hw, float* dst) {
  LC_GRID_LOOP(i, n) {
    float v = lc_bf16_value(src[i]);
    if (bias != NULL) v += bias[i / hw % k];
    dst[i] = v;
  }
}

}  // namespace

int lc_to_bf16(const char* fn, const float* src, int64_t rows, int64_t cols, int64_t ld,
               const float* coef, bool relu, int64_t c, int64_t hw, uint16_t* dst) {
  const char* const lc_fn = fn;
  const int64_t n = rows * cols;
  if (n == 0) return LITS_OK;
  to_bf16_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(src, rows, cols, ld, coef, relu, c,
                                                             hw, dst);
  LC_CHECK_LAUNCH("to_bf16_kernel");
  return LITS_OK;
}

int lc_from_bf16(const char* fn, const uint16_t* src, int64_t n, const float* bias, int64_t k,
                 int64_t hw, float* dst) {
  const char* const lc_fn = fn;
  if (n == 0) return LITS_OK;
  from_bf16_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(src, n, bias, k, hw, dst);
  LC_CHECK_LAUNCH("from_bf16_kernel");
  return LITS_OK;
}
