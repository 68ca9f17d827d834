/* conv_plan.cuh: the convolution plan cache (conv_plan.cu) and its decisions.
 *
 * The decisions are plain host functions, free of CUDA and cuDNN calls, so
 * that check/host_check.cu tests them on a machine without a GPU:
 *
 * - The key: shape, direction, the alignment of the three buffers, whether
 *   deterministic algorithms were asked for, and the data type (fp32, or
 *   bf16 for autocast). cuDNN may pick (or
 *   reject) an algorithm by the buffers' alignment, and views pass
 *   `base + offset * 4`, so a plan searched on 256-byte aligned buffers is not
 *   reused for a 4-byte aligned view; each alignment class gets its own.
 * - The workspace budget of a search: what the algorithms want, at most half
 *   of the memory free to us (the device's free memory plus the free blocks
 *   our caching allocator holds, which the search may give back), at most
 *   LC_FIND_WORKSPACE_CAP.
 * - Re-search: a plan searched under a budget tighter than its algorithms
 *   wanted (memory was short) is searched again when the budget has at least
 *   doubled or reaches what they want. Checked every LC_RESEARCH_EVERY uses
 *   of such a plan (cudaMemGetInfo is a driver call), never for plans whose
 *   search had the full budget.
 * - The math type: true fp32 (FMA) unless LITS_CUDA_TF32=1 (DEFAULT, which
 *   allows TF32); tensor cores for bf16 (TENSOR_OP, as PyTorch sets it). A
 *   search may return an algorithm timed with another math type (cuDNN
 *   falls back where tensor cores do not apply); the plan then takes that
 *   one, except under FMA, which is a promise of true fp32.
 */
#ifndef LITS_CUDA_CONV_PLAN_CUH
#define LITS_CUDA_CONV_PLAN_CUH

#include <stdint.h>
#include <string.h>

#include <atomic>

#include "lits_check.h"
#include "vendor.h"

#define LC_CONV_ALIGN_CAP 256u
#define LC_FIND_WORKSPACE_CAP ((int64_t)1 << 30)
#define LC_RESEARCH_EVERY 256u

enum { LC_CONV_FWD = 0, LC_CONV_BWD_DATA = 1, LC_CONV_BWD_FILTER = 2 };

/* The largest power of two that divides p, at most LC_CONV_ALIGN_CAP (NULL
 * counts as fully aligned). */
inline uint32_t lc_alignment(const void* p) {
  const uintptr_t a = (uintptr_t)p;
  if (a == 0) return LC_CONV_ALIGN_CAP;
  const uintptr_t low = a & (~a + 1);
  return low >= LC_CONV_ALIGN_CAP ? LC_CONV_ALIGN_CAP : (uint32_t)low;
}

/* 22 int32s, no padding, compared as bytes (a strict total order for
 * std::map). */
struct lc_conv_key {
  int32_t dims[14]; /* n c h w k r s, stride, pad, dilation (h, w), groups */
  int32_t dir;
  uint32_t align[3]; /* the direction's buffers in the order prepare gets them */
  int32_t deterministic;
  int32_t winograd; /* whether Winograd algorithms may be picked */
  int32_t tf32;
  int32_t dtype; /* cudnnDataType_t of x, w and y: FLOAT or BFLOAT16 */
  bool operator<(const lc_conv_key& o) const { return memcmp(this, &o, sizeof *this) < 0; }
  bool operator==(const lc_conv_key& o) const { return memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(lc_conv_key) == 22 * 4, "lc_conv_key has no padding");

/* Whether a direction's cuDNN algorithm is one of its Winograd transforms. */
inline bool lc_conv_algo_is_winograd(int dir, int algo) {
  if (dir == LC_CONV_FWD)
    return algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
           algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
  if (dir == LC_CONV_BWD_DATA)
    return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
           algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
  return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD ||
         algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

/* The math type a plan's descriptor starts with (see the file comment). */
inline cudnnMathType_t lc_conv_math(cudnnDataType_t dtype, bool tf32) {
  if (dtype == CUDNN_DATA_BFLOAT16) return CUDNN_TENSOR_OP_MATH;
  return tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

/* Whether a plan that started with `start` takes the chosen algorithm's own
 * math type. */
inline bool lc_conv_math_follows_search(cudnnMathType_t start) { return start != CUDNN_FMA_MATH; }

/* The budget a search gets (see the file comment). */
inline int64_t lc_search_budget(int64_t wanted, int64_t device_free, int64_t cached_free) {
  int64_t cap = (device_free > 0 ? device_free : 0) / 2 + (cached_free > 0 ? cached_free : 0) / 2;
  if (cap > LC_FIND_WORKSPACE_CAP) cap = LC_FIND_WORKSPACE_CAP;
  return wanted < cap ? (wanted > 0 ? wanted : 0) : cap;
}

/* What a plan's search had: the most any algorithm wanted, the budget the
 * free memory allowed, and the workspace the search really used (smaller
 * when the allocation had to be halved). */
struct lc_search_record {
  int64_t wanted, estimate, used;
};

/* Whether a plan searched under `r` should be searched again now that the
 * free memory allows `now_estimate`. */
inline bool lc_research_due(const lc_search_record& r, int64_t now_estimate) {
  const int64_t full = r.wanted < LC_FIND_WORKSPACE_CAP ? r.wanted : LC_FIND_WORKSPACE_CAP;
  if (r.used >= full || now_estimate <= r.estimate) return false;
  return now_estimate >= 2 * r.estimate || (r.estimate < full && now_estimate >= full);
}

/* A plan: descriptors and one direction's chosen algorithm. Immutable once
 * published in the cache (a re-search publishes a new plan and keeps the old
 * one alive, since another thread may still be using it). */
struct lc_conv_plan {
  cudnnTensorDescriptor_t x = NULL, y = NULL;
  cudnnFilterDescriptor_t w = NULL;
  cudnnConvolutionDescriptor_t conv = NULL;
  cudnnMathType_t math = CUDNN_FMA_MATH; /* what the descriptor started with */
  int algo = 0;
  size_t workspace = 0;
  lc_search_record rec = {0, 0, 0};
  mutable std::atomic<uint32_t> uses{0}; /* calls since the search */
};

/* A checked convolution shape. */
/* The geometry lits_check_conv fills (lits_check.h). */
typedef lits_conv_geom lc_conv_shape;

#ifdef __CUDACC__
/* conv_plan.cu: lits_check_conv and cuDNN's limit; fills *p. LITS_EMPTY for
 * an empty batch (n = 0). */
int lc_conv_setup(const char* fn, lc_conv_shape* p, const lits_conv2d_params* params);

/* The plan for one call (searched on first use of its key) and its workspace
 * (*ws, from the caching allocator; the caller frees it). a, b, c are the
 * direction's buffers: FWD x, w, y; BWD_DATA dx, w, dy; BWD_FILTER x, dw, dy;
 * all three hold dtype (CUDNN_DATA_FLOAT or CUDNN_DATA_BFLOAT16). */
int lc_conv_prepare(const char* fn, const lc_conv_shape& p, int dir, cudnnDataType_t dtype,
                    const void* a, const void* b, const void* c, const lc_conv_plan** plan,
                    void** ws);
#endif

#endif /* LITS_CUDA_CONV_PLAN_CUH */
