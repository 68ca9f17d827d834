/* gather.cuh: one output of gather and one column of its scatter-add, with
 * native/cpu/gather.c's rules (an index outside [0, r) reads 0 and adds
 * nothing; a column adds its k gradients in order j = 0, 1, ...). Shared by
 * the kernels and the host test.
 */
#ifndef LITS_CUDA_GATHER_CUH
#define LITS_CUDA_GATHER_CUH

#include <stdint.h>

#include "indexing.cuh"

/* src is [outer, r, inner]; the index is read through strides s0, s1, s2 at
 * (o, j, i) for j < k. */
struct lc_gather {
  const int32_t* index;
  int64_t s0, s1, s2, outer, r, k, inner;
};

__host__ __device__ __forceinline__ int32_t lc_gather_index(const lc_gather& g, int64_t o,
                                                            int64_t j, int64_t i) {
  return g.index[o * g.s0 + j * g.s1 + i * g.s2];
}

/* out[t] for t in [0, outer * k * inner). */
__host__ __device__ __forceinline__ float lc_gather_one(const lc_gather& g, const float* x,
                                                        int64_t t) {
  const int64_t i = t % g.inner, oj = t / g.inner, j = oj % g.k, o = oj / g.k;
  const int32_t v = lc_gather_index(g, o, j, i);
  return v >= 0 && (int64_t)v < g.r ? x[(o * g.r + v) * g.inner + i] : 0.0f;
}

/* Adds column t (in [0, outer * inner)) of dy into dx. */
__host__ __device__ __forceinline__ void lc_scatter_add_column(const lc_gather& g, const float* dy,
                                                               float* dx, int64_t t) {
  const int64_t o = t / g.inner, i = t - o * g.inner;
  for (int64_t j = 0; j < g.k; j++) {
    const int32_t v = lc_gather_index(g, o, j, i);
    if (v >= 0 && (int64_t)v < g.r) dx[(o * g.r + v) * g.inner + i] += dy[(o * g.k + j) * g.inner + i];
  }
}

#endif
