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

#endif /* LITS_CUDA_BF16_CUH */
