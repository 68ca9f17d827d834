/* softmax.cu: softmax and log-softmax along the middle dimension of
 * [outer, r, inner], and their backward, with the CPU backend's formulas
 * (max subtracted, sums in double).
 *
 * inner == 1: one warp per row (class scores are short rows; a warp needs no
 * shared memory or block barriers). inner > 1: one thread per (outer, inner)
 * position walking r, so neighbouring threads read neighbouring addresses.
 */
#include <math.h>

#include "common.cuh"

static __device__ __forceinline__ double warp_allsum(double v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

static __device__ __forceinline__ float warp_allmax(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const float o = __shfl_xor_sync(0xffffffffu, v, off);
    v = o > v ? o : v;
  }
  return v;
}

/* Warp-per-row loop: o runs over rows, lane over the row's elements. */
#define WARP_ROWS(o, rows)                                                                    \
  const int lane = threadIdx.x & 31;                                                          \
  for (int64_t o = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5,                     \
               lc_wstep_ = ((int64_t)gridDim.x * blockDim.x) >> 5;                            \
       o < (rows); o += lc_wstep_)

__global__ void softmax_rows_kernel(const float* x, float* y, int64_t rows, int64_t r, int log) {
  WARP_ROWS(o, rows) {
    const float* xr = x + o * r;
    float* yr = y + o * r;
    float m = xr[0];
    for (int64_t j = lane; j < r; j += 32) m = xr[j] > m ? xr[j] : m;
    m = warp_allmax(m);
    double s = 0.0;
    for (int64_t j = lane; j < r; j += 32) s += (double)expf(xr[j] - m);
    s = warp_allsum(s);
    if (log) {
      const float lse = m + logf((float)s);
      for (int64_t j = lane; j < r; j += 32) yr[j] = xr[j] - lse;
    } else {
      const float inv = (float)(1.0 / s);
      for (int64_t j = lane; j < r; j += 32) yr[j] = expf(xr[j] - m) * inv;
    }
  }
}

__global__ void softmax_inner_kernel(const float* x, float* y, int64_t outer, int64_t r,
                                     int64_t inner, int log) {
  LC_GRID_LOOP(t, outer * inner) {
    const int64_t o = t / inner, i = t - o * inner;
    const float* xb = x + o * r * inner + i;
    float* yb = y + o * r * inner + i;
    float m = xb[0];
    for (int64_t j = 1; j < r; j++) m = xb[j * inner] > m ? xb[j * inner] : m;
    double s = 0.0;
    for (int64_t j = 0; j < r; j++) s += (double)expf(xb[j * inner] - m);
    if (log) {
      const float lse = m + logf((float)s);
      for (int64_t j = 0; j < r; j++) yb[j * inner] = xb[j * inner] - lse;
    } else {
      const float inv = (float)(1.0 / s);
      for (int64_t j = 0; j < r; j++) yb[j * inner] = expf(xb[j * inner] - m) * inv;
    }
  }
}

/* log: dx = dy - exp(y) * sum(dy); else dx = y * (dy - sum(dy * y)). */
__global__ void softmax_backward_rows_kernel(const float* y, const float* dy, float* dx,
                                             int64_t rows, int64_t r, int log) {
  WARP_ROWS(o, rows) {
    const float* yr = y + o * r;
    const float* dr = dy + o * r;
    float* xr = dx + o * r;
    double s = 0.0;
    for (int64_t j = lane; j < r; j += 32) s += log ? (double)dr[j] : (double)dr[j] * (double)yr[j];
    const float sf = (float)warp_allsum(s);
    for (int64_t j = lane; j < r; j += 32)
      xr[j] = log ? dr[j] - expf(yr[j]) * sf : yr[j] * (dr[j] - sf);
  }
}

__global__ void softmax_backward_inner_kernel(const float* y, const float* dy, float* dx,
                                              int64_t outer, int64_t r, int64_t inner, int log) {
  LC_GRID_LOOP(t, outer * inner) {
    const int64_t o = t / inner, i = t - o * inner, base = o * r * inner + i;
    double s = 0.0;
    for (int64_t j = 0; j < r; j++) {
      const int64_t k = base + j * inner;
      s += log ? (double)dy[k] : (double)dy[k] * (double)y[k];
    }
    const float sf = (float)s;
    for (int64_t j = 0; j < r; j++) {
      const int64_t k = base + j * inner;
      dx[k] = log ? dy[k] - expf(y[k]) * sf : y[k] * (dy[k] - sf);
    }
  }
}

/* Blocks for warp-per-row kernels: 8 rows per 256-thread block. */
static unsigned row_blocks(int64_t rows) { return lc_blocks(rows * 32); }

extern "C" int lits_softmax_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                                int32_t log) {
  LC_ENTER("lits_softmax_f32");
  LC_TRY(lits_check_rows(lc_fn, outer, r, inner));
  if (outer * r * inner == 0) return LITS_OK;
  LC_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", lc_fn);
  if (inner == 1) {
    softmax_rows_kernel<<<row_blocks(outer), LC_THREADS, 0, lc.stream>>>(x, y, outer, r, log != 0);
    LC_CHECK_LAUNCH("softmax_rows_kernel");
  } else {
    softmax_inner_kernel<<<lc_blocks(outer * inner), LC_THREADS, 0, lc.stream>>>(x, y, outer, r,
                                                                                 inner, log != 0);
    LC_CHECK_LAUNCH("softmax_inner_kernel");
  }
  return LITS_OK;
}

extern "C" int lits_softmax_backward_f32(const float* y, const float* dy, float* dx,
                                         int64_t outer, int64_t r, int64_t inner, int32_t log) {
  LC_ENTER("lits_softmax_backward_f32");
  LC_TRY(lits_check_rows(lc_fn, outer, r, inner));
  if (outer * r * inner == 0) return LITS_OK;
  LC_REQUIRE(y != NULL && dy != NULL && dx != NULL, "%s: y, dy or dx is NULL", lc_fn);
  if (inner == 1) {
    softmax_backward_rows_kernel<<<row_blocks(outer), LC_THREADS, 0, lc.stream>>>(y, dy, dx, outer,
                                                                                  r, log != 0);
    LC_CHECK_LAUNCH("softmax_backward_rows_kernel");
  } else {
    softmax_backward_inner_kernel<<<lc_blocks(outer * inner), LC_THREADS, 0, lc.stream>>>(
        y, dy, dx, outer, r, inner, log != 0);
    LC_CHECK_LAUNCH("softmax_backward_inner_kernel");
  }
  return LITS_OK;
}
