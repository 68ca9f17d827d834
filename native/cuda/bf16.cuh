/* bf16.cuh: bfloat16 for autocast on the GPU, per element (host and
 * device; the launchers and scratch are in bf16_convert.cuh).
 *
 * PyTorch's CUDA autocast: the fp32 operands of a matrix op are rounded to
 * bf16 copies (scratch from the caching allocator), cuBLAS or cuDNN
 * multiplies those with fp32 sums, and the results come back as fp32. The
 * rounding is c10::BFloat16's bit arithmetic, the same as the CPU's
 * lits_round_bf16_f32 (round to nearest even, NaN -> 0x7FC0, denormals
 * kept), so both backends give the same bits; check/host_check.cu compares
 * the two.
 */
#ifndef LITS_CUDA_BF16_CUH
#define LITS_CUDA_BF16_CUH

#include <stdint.h>
#include <string.h>

/* The bf16 bits of v. */
__host__ __device__ inline uint16_t lc_bf16_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  if (v != v) return 0x7FC0u;
  return (uint16_t)((u + 0x7FFFu + (u >> 16 & 1u)) >> 16);
}

/* The fp32 value of bf16 bits (exact). */
__host__ __device__ inline float lc_bf16_value(uint16_t h) {
  const uint32_t u = (uint32_t)h << 16;
  float v;
  memcpy(&v, &u, 4);
  return v;
}

/* The deferred input transform of lits.h, relu?((v - mean) * scale + shift)
 * on channel ch of c (coef NULL: the identity), the CPU's expression
 * (fused_internal.h; nvcc and gcc alike may fuse its multiply-add). The
 * ReLU keeps NaN, as torch.relu. */
__host__ __device__ inline float lc_xform_value(float v, const float* coef, int64_t c, int64_t ch,
                                                bool relu) {
  if (coef != NULL) v = (v - coef[ch]) * coef[c + ch] + coef[2 * c + ch];
  return relu && v < 0.0f ? 0.0f : v;
}

/* Element i of a packed bf16 copy of src (rows of `cols` floats, `ld`
 * apart) under the transform: the channel is i / hw % c (an NCHW tensor is
 * one row of n * c * hw). */
__host__ __device__ inline uint16_t lc_to_bf16_at(const float* src, int64_t i, int64_t cols,
                                                  int64_t ld, const float* coef, bool relu,
                                                  int64_t c, int64_t hw) {
  const int64_t at = ld == cols ? i : i / cols * ld + i % cols;
  const int64_t ch = coef != NULL ? i / hw % c : 0;
  return lc_bf16_bits(lc_xform_value(src[at], coef, c, ch, relu));
}

/* Element i of a packed bf16 copy of `batch` matrices (rows x cols each,
 * rows `ld` floats apart, matrices `stride` floats apart): bmm's operands. */
__host__ __device__ inline uint16_t lc_to_bf16_batched_at(const float* src, int64_t i,
                                                          int64_t rows, int64_t cols, int64_t ld,
                                                          int64_t stride) {
  const int64_t per = rows * cols, b = i / per;
  return lc_to_bf16_at(src + b * stride, i - b * per, cols, ld, NULL, false, 1, 1);
}

/* Element i of a bf16 result widened to fp32, plus bias[i / hw % k] when
 * there is a bias (added in fp32; without one nothing is added, so -0 stays
 * -0). */
__host__ __device__ inline float lc_from_bf16_at(const uint16_t* src, int64_t i,
                                                 const float* bias, int64_t k, int64_t hw) {
  const float v = lc_bf16_value(src[i]);
  return bias != NULL ? v + bias[i / hw % k] : v;
}

#endif /* LITS_CUDA_BF16_CUH */
