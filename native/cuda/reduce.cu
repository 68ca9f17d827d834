/* reduce.cu: sum/mean/max/min and argmax over the middle dimension of x
 * viewed as [outer, r, inner].
 *
 * inner == 1 (rows): short rows (r <= WARP_ROW_MAX: class scores, a
 * batch's losses) get one warp each, as softmax.cu does (no shared memory, no
 * block barriers, no 256-thread block idle on 3 elements); longer rows one
 * block each; few long rows are first split into chunks reduced by separate
 * blocks (partials in double), then a second kernel finishes each row.
 * inner > 1: a 32 x 8 block takes 32 neighbouring inner positions (coalesced
 * loads) and 8 interleaved slices of r, then combines the 8 in shared memory.
 */
#include <math.h>

#include "block_reduce.cuh"
#include "common.cuh"

#define ROW_CHUNK 16384 /* elements per block when long rows are split */
#define WARP_ROW_MAX 512 /* rows up to this long: one warp each (16 per lane) */

/* Warp-per-row loop: o runs over rows, lane over the row's elements. The
 * whole warp runs every iteration (the shuffles need all 32 lanes). */
#define WARP_ROWS(o, rows)                                                                    \
  const int lane = threadIdx.x & 31;                                                          \
  for (int64_t o = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5,                     \
               lc_wstep_ = ((int64_t)gridDim.x * blockDim.x) >> 5;                            \
       o < (rows); o += lc_wstep_)

static __device__ __forceinline__ double neutral(int op) {
  return op == LITS_MAX ? -INFINITY : op == LITS_MIN ? INFINITY : 0.0;
}

static __device__ __forceinline__ double finish(int op, double acc, int64_t r) {
  return op == LITS_MEAN ? acc / (double)r : acc;
}

/* part[o * nch + c] = reduction of chunk c of row o; with nch == 1 the row's
 * final value goes straight to out[o]. grid: (nch, rows-stride). */
__global__ void row_partials_kernel(int op, const float* x, int64_t rows, int64_t r, int64_t nch,
                                    int64_t chunk, double* part, float* out) {
  __shared__ double shared[32];
  const bool is_sum = op == LITS_SUM || op == LITS_MEAN, is_max = op == LITS_MAX;
  for (int64_t o = blockIdx.y; o < rows; o += gridDim.y) {
    for (int64_t c = blockIdx.x; c < nch; c += gridDim.x) {
      const int64_t j0 = c * chunk, j1 = j0 + chunk < r ? j0 + chunk : r;
      const float* row = x + o * r;
      double acc = neutral(op);
      for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
        const double v = (double)row[j];
        acc = is_sum ? acc + v : lc_extreme(acc, v, is_max);
      }
      acc = lc_block_reduce(acc, is_sum, is_max, shared);
      if (threadIdx.x == 0) {
        if (nch == 1) {
          out[o] = (float)finish(op, acc, r);
        } else {
          part[o * nch + c] = acc;
        }
      }
    }
  }
}

/* out[o] = reduction of row o, one warp per row (short rows). */
__global__ void row_warp_kernel(int op, const float* x, int64_t rows, int64_t r, float* out) {
  const bool is_sum = op == LITS_SUM || op == LITS_MEAN, is_max = op == LITS_MAX;
  WARP_ROWS(o, rows) {
    const float* row = x + o * r;
    double acc = neutral(op);
    for (int64_t j = lane; j < r; j += 32) {
      const double v = (double)row[j];
      acc = is_sum ? acc + v : lc_extreme(acc, v, is_max);
    }
    acc = is_sum ? lc_warp_sum(acc) : lc_warp_extreme(acc, is_max);
    if (lane == 0) out[o] = (float)finish(op, acc, r);
  }
}

/* out[o] from the nch partials of row o; one block per row (grid-stride). */
__global__ void row_finish_kernel(int op, const double* part, int64_t rows, int64_t nch, int64_t r,
                                  float* out) {
  __shared__ double shared[32];
  const bool is_sum = op == LITS_SUM || op == LITS_MEAN, is_max = op == LITS_MAX;
  for (int64_t o = blockIdx.x; o < rows; o += gridDim.x) {
    double acc = neutral(op);
    for (int64_t c = threadIdx.x; c < nch; c += blockDim.x) {
      const double v = part[o * nch + c];
      acc = is_sum ? acc + v : lc_extreme(acc, v, is_max);
    }
    acc = lc_block_reduce(acc, is_sum, is_max, shared);
    if (threadIdx.x == 0) out[o] = (float)finish(op, acc, r);
  }
}

/* blockDim (32, 8); grid.x over groups of 32 inner positions, grid.y over outer. */
__global__ void inner_reduce_kernel(int op, const float* x, int64_t outer, int64_t r,
                                    int64_t inner, float* out) {
  __shared__ double shared[8][33];
  const bool is_sum = op == LITS_SUM || op == LITS_MEAN, is_max = op == LITS_MAX;
  const int64_t ngroups = (inner + 31) / 32;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    for (int64_t g = blockIdx.x; g < ngroups; g += gridDim.x) {
      const int64_t i = g * 32 + threadIdx.x;
      double acc = neutral(op);
      if (i < inner) {
        const float* base = x + o * r * inner + i;
        for (int64_t j = threadIdx.y; j < r; j += blockDim.y) {
          const double v = (double)base[j * inner];
          acc = is_sum ? acc + v : lc_extreme(acc, v, is_max);
        }
      }
      shared[threadIdx.y][threadIdx.x] = acc;
      __syncthreads();
      if (threadIdx.y == 0 && i < inner) {
        double t = shared[0][threadIdx.x];
        for (int k = 1; k < (int)blockDim.y; k++) {
          const double v = shared[k][threadIdx.x];
          t = is_sum ? t + v : lc_extreme(t, v, is_max);
        }
        out[o * inner + i] = (float)finish(op, t, r);
      }
      __syncthreads();
    }
  }
}

__global__ void fill_value_kernel(float* out, int64_t n, float v) {
  LC_GRID_LOOP(i, n) out[i] = v;
}

static unsigned grid_cap(int64_t n, int64_t cap) { return (unsigned)(n < cap ? (n < 1 ? 1 : n) : cap); }

extern "C" int lits_reduce_f32(int32_t op, const float* x, float* out, int64_t outer, int64_t r,
                               int64_t inner) {
  LC_ENTER("lits_reduce_f32");
  LC_REQUIRE(op >= LITS_SUM && op <= LITS_MIN, "%s: unknown op %d", lc_fn, (int)op);
  LC_TRY(lits_check_rows(lc_fn, outer, r, inner));
  const int64_t nout = outer * inner;
  if (nout == 0) return LITS_OK;
  LC_REQUIRE(out != NULL, "%s: out is NULL", lc_fn);
  if (r == 0) {
    LC_REQUIRE(op == LITS_SUM || op == LITS_MEAN, "%s: max/min over an empty dimension (r = 0)",
               lc_fn);
    fill_value_kernel<<<lc_blocks(nout), LC_THREADS, 0, lc.stream>>>(
        out, nout, op == LITS_SUM ? 0.0f : NAN);
    LC_CHECK_LAUNCH("fill_value_kernel");
    return LITS_OK;
  }
  LC_REQUIRE(x != NULL, "%s: x is NULL", lc_fn);
  if (inner == 1 && r <= WARP_ROW_MAX) {
    row_warp_kernel<<<lc_blocks(outer * 32), LC_THREADS, 0, lc.stream>>>(op, x, outer, r, out);
    LC_CHECK_LAUNCH("row_warp_kernel");
    return LITS_OK;
  }
  if (inner == 1) {
    /* Split rows only when there are too few to fill the device. */
    const int64_t nch =
        outer < 2 * (int64_t)lc.sm_count && r > 2 * ROW_CHUNK ? (r + ROW_CHUNK - 1) / ROW_CHUNK : 1;
    const int64_t chunk = nch == 1 ? r : ROW_CHUNK;
    double* part = NULL;
    if (nch > 1) LC_TRY(lc_scratch_alloc(lc_fn, outer * nch * (int64_t)sizeof(double), (void**)&part));
    dim3 grid(grid_cap(nch, 65535), grid_cap(outer, 65535));
    row_partials_kernel<<<grid, LC_THREADS, 0, lc.stream>>>(op, x, outer, r, nch, chunk, part, out);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess && nch > 1) {
      row_finish_kernel<<<grid_cap(outer, 65535), LC_THREADS, 0, lc.stream>>>(op, part, outer, nch,
                                                                              r, out);
      e = cudaGetLastError();
    }
    lc_scratch_free(part); /* stream order keeps it alive for the kernels */
    if (e != cudaSuccess) return lc_fail_status(lc_fn, "launch of kernel row_partials/finish", e);
    return LITS_OK;
  }
  dim3 block(32, 8);
  dim3 grid(grid_cap((inner + 31) / 32, 65535), grid_cap(outer, 65535));
  inner_reduce_kernel<<<grid, block, 0, lc.stream>>>(op, x, outer, r, inner, out);
  LC_CHECK_LAUNCH("inner_reduce_kernel");
  return LITS_OK;
}

/* ---- argmax: the first NaN, else the first maximum ---------------------------- */

struct arg_best {
  float v;
  int64_t idx; /* INT64_MAX: empty */
};

static __device__ __forceinline__ bool arg_better(const arg_best& a, const arg_best& b) {
  if (b.idx == INT64_MAX) return a.idx != INT64_MAX;
  if (a.idx == INT64_MAX) return false;
  const bool an = a.v != a.v, bn = b.v != b.v;
  if (an != bn) return an;
  if (!an && a.v != b.v) return a.v > b.v;
  return a.idx < b.idx;
}

__global__ void argmax_rows_kernel(const float* x, int32_t* out, int64_t rows, int64_t r) {
  __shared__ float sv[LC_THREADS];
  __shared__ int64_t si[LC_THREADS];
  for (int64_t o = blockIdx.x; o < rows; o += gridDim.x) {
    const float* row = x + o * r;
    arg_best best = {0.0f, INT64_MAX};
    for (int64_t j = threadIdx.x; j < r; j += blockDim.x) {
      const arg_best cand = {row[j], j};
      if (arg_better(cand, best)) best = cand;
    }
    sv[threadIdx.x] = best.v;
    si[threadIdx.x] = best.idx;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if ((int)threadIdx.x < s) {
        const arg_best a = {sv[threadIdx.x], si[threadIdx.x]};
        const arg_best b = {sv[threadIdx.x + s], si[threadIdx.x + s]};
        if (arg_better(b, a)) {
          sv[threadIdx.x] = b.v;
          si[threadIdx.x] = b.idx;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = (int32_t)si[0];
    __syncthreads();
  }
}

/* One warp per short row: each lane keeps its best, then the warp combines
 * them pairwise with arg_better (ties and NaN as the block version). */
__global__ void argmax_rows_warp_kernel(const float* x, int32_t* out, int64_t rows, int64_t r) {
  WARP_ROWS(o, rows) {
    const float* row = x + o * r;
    arg_best best = {0.0f, INT64_MAX};
    for (int64_t j = lane; j < r; j += 32) {
      const arg_best cand = {row[j], j};
      if (arg_better(cand, best)) best = cand;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
      const arg_best other = {__shfl_down_sync(LC_FULL_MASK, best.v, off),
                              (int64_t)__shfl_down_sync(LC_FULL_MASK, (long long)best.idx, off)};
      if (arg_better(other, best)) best = other;
    }
    if (lane == 0) out[o] = (int32_t)best.idx;
  }
}

__global__ void argmax_inner_kernel(const float* x, int32_t* out, int64_t outer, int64_t r,
                                    int64_t inner) {
  LC_GRID_LOOP(t, outer * inner) {
    const int64_t o = t / inner, i = t - o * inner;
    const float* base = x + o * r * inner + i;
    float best = base[0];
    int32_t bi = 0;
    for (int64_t j = 1; j < r; j++) {
      const float v = base[j * inner];
      /* A NaN best is final; a NaN v replaces a non-NaN best. */
      if (v > best || (v != v && best == best)) {
        best = v;
        bi = (int32_t)j;
      }
    }
    out[t] = bi;
  }
}

extern "C" int lits_argmax_f32(const float* x, int32_t* out, int64_t outer, int64_t r,
                               int64_t inner) {
  LC_ENTER("lits_argmax_f32");
  LC_TRY(lits_check_rows(lc_fn, outer, r, inner));
  const int64_t nout = outer * inner;
  if (nout == 0) return LITS_OK;
  LC_REQUIRE(r >= 1, "%s: argmax over an empty dimension (r = 0)", lc_fn);
  LC_REQUIRE(r <= INT32_MAX, "%s: r %lld does not fit an int32 index", lc_fn, (long long)r);
  LC_REQUIRE(x != NULL && out != NULL, "%s: x or out is NULL", lc_fn);
  if (inner == 1 && r <= WARP_ROW_MAX) {
    argmax_rows_warp_kernel<<<lc_blocks(outer * 32), LC_THREADS, 0, lc.stream>>>(x, out, outer, r);
    LC_CHECK_LAUNCH("argmax_rows_warp_kernel");
  } else if (inner == 1) {
    argmax_rows_kernel<<<grid_cap(outer, 65535), LC_THREADS, 0, lc.stream>>>(x, out, outer, r);
    LC_CHECK_LAUNCH("argmax_rows_kernel");
  } else {
    argmax_inner_kernel<<<lc_blocks(nout), LC_THREADS, 0, lc.stream>>>(x, out, outer, r, inner);
    LC_CHECK_LAUNCH("argmax_inner_kernel");
  }
  return LITS_OK;
}
