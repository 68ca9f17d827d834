/* indexing.cuh: strided views for copies and broadcasting binary ops.
 *
 * The host first simplifies a view the way the CPU backend does (drops size-1
 * dimensions, merges dimensions that are contiguous in every operand), then
 * kernels turn a dense output index into each operand's element offset. When
 * the sizes and every reachable offset fit in 31 bits the kernels use 32-bit
 * division, which is several times cheaper on the GPU than 64-bit.
 *
 * Everything here is __host__ __device__ so the host test (check/) can run
 * the same index arithmetic against the CPU backend.
 */
#ifndef LITS_CUDA_INDEXING_CUH
#define LITS_CUDA_INDEXING_CUH

#include <stdint.h>

#ifndef __CUDACC__
#define __host__
#define __device__
#define __forceinline__ inline
#endif

/* #pragma unroll for device code only (host compilers warn about it). */
#ifdef __CUDA_ARCH__
#define LC_UNROLL _Pragma("unroll")
#else
#define LC_UNROLL
#endif

#define LC_MAX_DIMS 8

/* A simplified view over up to two operands: shape and element strides. */
struct lc_view {
  int32_t nd;
  int64_t shape[LC_MAX_DIMS];
  int64_t stride[2][LC_MAX_DIMS];
};

/* Builds the simplified view of `operands` (1 or 2) strided inputs over a
 * dense output of `shape`. Returns the element count. */
inline int64_t lc_simplify(int32_t ndim, const int64_t* shape, int operands,
                           const int64_t* const* strides, lc_view* v) {
  int64_t total = 1;
  v->nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    const int64_t s = shape[d];
    total *= s;
    if (s == 1) continue;
    bool merge = v->nd > 0;
    for (int o = 0; o < operands && merge; o++)
      merge = v->stride[o][v->nd - 1] == strides[o][d] * s;
    if (merge) {
      v->shape[v->nd - 1] *= s;
      for (int o = 0; o < operands; o++) v->stride[o][v->nd - 1] = strides[o][d];
    } else {
      v->shape[v->nd] = s;
      for (int o = 0; o < operands; o++) v->stride[o][v->nd] = strides[o][d];
      v->nd++;
    }
  }
  return total;
}

/* True when total and every offset an operand can reach fit in int32, with
 * room to spare: a grid-stride loop steps up to ~2^20 past the end, which
 * must not overflow. */
inline bool lc_fits_int32(const lc_view* v, int operands, int64_t total) {
  const int64_t lim = ((int64_t)1 << 31) - ((int64_t)1 << 25);
  if (total >= lim) return false;
  for (int o = 0; o < operands; o++) {
    int64_t span = 0;
    for (int d = 0; d < v->nd; d++) {
      int64_t st = v->stride[o][d] < 0 ? -v->stride[o][d] : v->stride[o][d];
      span += (v->shape[d] - 1) * st;
      if (span >= lim) return false;
    }
  }
  return true;
}

/* Offset of dense index i in operand o. I is int32_t or int64_t. */
template <typename I>
__host__ __device__ __forceinline__ I lc_offset(const lc_view& v, int o, I i) {
  I off = 0;
  for (int d = v.nd - 1; d >= 0; d--) {
    const I s = (I)v.shape[d];
    const I q = i / s;
    off += (i - q * s) * (I)v.stride[o][d];
    i = q;
  }
  return off;
}

/* Offsets of dense index i in both operands (one division chain). */
template <typename I>
__host__ __device__ __forceinline__ void lc_offset2(const lc_view& v, I i, I* oa, I* ob) {
  I a = 0, b = 0;
  for (int d = v.nd - 1; d >= 0; d--) {
    const I s = (I)v.shape[d];
    const I q = i / s;
    const I r = i - q * s;
    a += r * (I)v.stride[0][d];
    b += r * (I)v.stride[1][d];
    i = q;
  }
  *oa = a;
  *ob = b;
}

#endif /* LITS_CUDA_INDEXING_CUH */
