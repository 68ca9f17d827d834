/* block_reduce.cuh: sums and extremes across a warp and a thread block.
 *
 * Sums accumulate in double, as the CPU backend does, and combine in a fixed
 * tree order, so a result depends only on the launch shape, never on timing.
 * Extremes carry NaN through (NaN beats every number), like torch.max.
 */
#ifndef LITS_CUDA_BLOCK_REDUCE_CUH
#define LITS_CUDA_BLOCK_REDUCE_CUH

#include <math.h>

#define LC_FULL_MASK 0xffffffffu

/* Combines two partial extremes; is_max selects max or min. */
__device__ __forceinline__ double lc_extreme(double a, double b, bool is_max) {
  if (a != a || b != b) return NAN;
  return is_max ? (a > b ? a : b) : (a < b ? a : b);
}

__device__ __forceinline__ double lc_warp_sum(double v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(LC_FULL_MASK, v, off);
  return v;
}

__device__ __forceinline__ double lc_warp_extreme(double v, bool is_max) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v = lc_extreme(v, __shfl_down_sync(LC_FULL_MASK, v, off), is_max);
  return v;
}

/* Block-wide sum (is_sum) or extreme of v; the result is valid in thread 0.
 * blockDim.x must be a multiple of 32 (at most 1024); every thread of the
 * block must call it. `shared` holds 32 doubles. */
__device__ __forceinline__ double lc_block_reduce(double v, bool is_sum, bool is_max,
                                                  double* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
  v = is_sum ? lc_warp_sum(v) : lc_warp_extreme(v, is_max);
  __syncthreads(); /* `shared` may still be read from a previous call */
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < nwarps ? shared[lane] : (is_sum ? 0.0 : shared[0]);
    v = is_sum ? lc_warp_sum(v) : lc_warp_extreme(v, is_max);
  }
  return v;
}

/* Block-wide sum broadcast to every thread. */
__device__ __forceinline__ double lc_block_sum_all(double v, double* shared) {
  v = lc_block_reduce(v, true, false, shared);
  __syncthreads();
  if (threadIdx.x == 0) shared[0] = v;
  __syncthreads();
  const double r = shared[0];
  __syncthreads();
  return r;
}

#endif /* LITS_CUDA_BLOCK_REDUCE_CUH */
