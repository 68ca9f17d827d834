/* bf16_convert.cu: the conversions around autocast's bf16 GEMM and
 * convolutions (bf16.cuh): fp32 (after the input transform) to bf16
 * scratch, and bf16 results back to fp32 with the bias added in fp32. Each
 * kernel is a grid-stride loop around bf16.cuh's per-element functions, which
 * check/host_check.cu runs against the CPU library.
 */
#include "bf16_convert.cuh"

namespace {

__global__ void to_bf16_kernel(const float* src, int64_t rows, int64_t cols, int64_t ld,
                               const float* coef, bool relu, int64_t c, int64_t hw,
                               uint16_t* dst) {
  LC_GRID_LOOP(i, rows * cols) dst[i] = lc_to_bf16_at(src, i, cols, ld, coef, relu, c, hw);
}

__global__ void to_bf16_batched_kernel(const float* src, int64_t batch, int64_t rows,
                                       int64_t cols, int64_t ld, int64_t stride, uint16_t* dst) {
  LC_GRID_LOOP(i, batch * rows * cols) {
    dst[i] = lc_to_bf16_batched_at(src, i, rows, cols, ld, stride);
  }
}

__global__ void from_bf16_kernel(const uint16_t* src, int64_t n, const float* bias, int64_t k,
                                 int64_t hw, float* dst) {
  LC_GRID_LOOP(i, n) dst[i] = lc_from_bf16_at(src, i, bias, k, hw);
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

int lc_to_bf16_batched(const char* fn, const float* src, int64_t batch, int64_t rows,
                       int64_t cols, int64_t ld, int64_t stride, uint16_t* dst) {
  const char* const lc_fn = fn;
  const int64_t n = batch * rows * cols;
  if (n == 0) return LITS_OK;
  to_bf16_batched_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(src, batch, rows, cols, ld,
                                                                     stride, dst);
  LC_CHECK_LAUNCH("to_bf16_batched_kernel");
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
