/* bf16_convert.cuh: the conversions of bf16 autocast (bf16_convert.cu) and
 * its scratch, for bf16_gemm.cu and conv_bf16.cu.
 */
#ifndef LITS_CUDA_BF16_CONVERT_CUH
#define LITS_CUDA_BF16_CONVERT_CUH

#include "bf16.cuh"
#include "common.cuh"

/* LITS_OK where bf16 runs (lits_bf16_support's level > 0), else
 * LITS_ERR_UNAVAILABLE with a message that names fp32, the function to call
 * instead. */
int lc_bf16_ready(const char* fn, const char* fp32);

/* dst (rows x cols, packed) = bf16(relu?(T(src))), src rows `ld` floats
 * apart. T is the per-channel transform of coef over [?, c, hw] (coef NULL
 * and relu false: the plain rounding). */
int lc_to_bf16(const char* fn, const float* src, int64_t rows, int64_t cols, int64_t ld,
               const float* coef, bool relu, int64_t c, int64_t hw, uint16_t* dst);

/* dst (batch x rows x cols, packed) = bf16(src), matrix b's rows `ld`
 * floats apart from src + b stride. */
int lc_to_bf16_batched(const char* fn, const float* src, int64_t batch, int64_t rows,
                       int64_t cols, int64_t ld, int64_t stride, uint16_t* dst);

/* dst[i] = src[i] widened to fp32, plus bias[(i / hw) % k] when bias is not
 * NULL (the bias added in fp32), for n elements. */
int lc_from_bf16(const char* fn, const uint16_t* src, int64_t n, const float* bias, int64_t k,
                 int64_t hw, float* dst);

/* Scratch of bf16 copies, freed (in stream order) when it goes out of
 * scope, so that every early return of an entry point frees it. */
struct lc_bf16_scratch {
  uint16_t* p = NULL;
  lc_bf16_scratch() = default;
  lc_bf16_scratch(const lc_bf16_scratch&) = delete;
  lc_bf16_scratch& operator=(const lc_bf16_scratch&) = delete;
  ~lc_bf16_scratch() { lc_scratch_free(p); }
  int alloc(const char* fn, int64_t elements) {
    return lc_scratch_alloc(fn, elements * (int64_t)sizeof(uint16_t), (void**)&p);
  }
};

#endif /* LITS_CUDA_BF16_CONVERT_CUH */
