/* conv.cu: 2-D convolution on cuDNN's legacy API (forward, backward data,
 * backward filter); bias forward and backward with our own kernels.
 *
 * One plan per shape (sizes, strides, padding, dilation, groups) holds the
 * cuDNN descriptors and, per direction, the algorithm that
 * cudnnFind*AlgorithmEx measured fastest on the first call with that shape,
 * and its workspace size. Workspaces (for Find and for every call) come from
 * our caching allocator. Plans live until the process ends.
 *
 * TF32: the descriptors use CUDNN_FMA_MATH (true fp32) unless
 * LITS_CUDA_TF32=1, which gives CUDNN_DEFAULT_MATH (TF32 allowed).
 */
#include <limits.h>

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "block_reduce.cuh"
#include "common.cuh"

/* Most workspace the algorithm search may use (cuDNN may want more for some
 * algorithms; those are then skipped). */
#define FIND_WORKSPACE_CAP ((int64_t)1 << 30)

namespace {

struct conv_shape {
  int32_t n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups;
  int64_t oh, ow;
};

typedef std::tuple<int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t,
                   int32_t, int32_t, int32_t, int32_t, int32_t, int32_t>
    conv_key;

enum { FWD = 0, BWD_DATA = 1, BWD_FILTER = 2 };

struct conv_plan {
  cudnnTensorDescriptor_t x = NULL, y = NULL;
  cudnnFilterDescriptor_t w = NULL;
  cudnnConvolutionDescriptor_t conv = NULL;
  bool found[3] = {false, false, false};
  int algo[3] = {0, 0, 0};
  size_t workspace[3] = {0, 0, 0};
  cudnnMathType_t math[3] = {CUDNN_FMA_MATH, CUDNN_FMA_MATH, CUDNN_FMA_MATH};
};

std::mutex g_plans_lock;
std::map<conv_key, conv_plan*> g_plans;

int conv_setup(const char* fn, conv_shape* p, int32_t n, int32_t c, int32_t h, int32_t w,
               int32_t k, int32_t r, int32_t s, int32_t stride_h, int32_t stride_w, int32_t pad_h,
               int32_t pad_w, int32_t dil_h, int32_t dil_w, int32_t groups) {
  LC_REQUIRE(n > 0 && c > 0 && h > 0 && w > 0, "%s: input sizes n=%d c=%d h=%d w=%d must be > 0",
             fn, (int)n, (int)c, (int)h, (int)w);
  LC_REQUIRE(k > 0 && r > 0 && s > 0, "%s: filter sizes k=%d r=%d s=%d must be > 0", fn, (int)k,
             (int)r, (int)s);
  LC_REQUIRE(stride_h > 0 && stride_w > 0, "%s: strides %dx%d must be > 0", fn, (int)stride_h,
             (int)stride_w);
  LC_REQUIRE(dil_h > 0 && dil_w > 0, "%s: dilations %dx%d must be > 0", fn, (int)dil_h,
             (int)dil_w);
  LC_REQUIRE(pad_h >= 0 && pad_w >= 0, "%s: padding %dx%d must be >= 0", fn, (int)pad_h,
             (int)pad_w);
  LC_REQUIRE(groups > 0, "%s: groups=%d must be > 0", fn, (int)groups);
  LC_REQUIRE(c % groups == 0 && k % groups == 0, "%s: groups=%d must divide both c=%d and k=%d",
             fn, (int)groups, (int)c, (int)k);
  const int64_t eff_h = (int64_t)dil_h * (r - 1) + 1, eff_w = (int64_t)dil_w * (s - 1) + 1;
  const int64_t in_h = (int64_t)h + 2 * (int64_t)pad_h, in_w = (int64_t)w + 2 * (int64_t)pad_w;
  LC_REQUIRE(eff_h <= in_h && eff_w <= in_w,
             "%s: dilated kernel %lldx%lld (r=%d s=%d dil=%dx%d) is larger than the padded input "
             "%lldx%lld (h=%d w=%d pad=%dx%d)",
             fn, (long long)eff_h, (long long)eff_w, (int)r, (int)s, (int)dil_h, (int)dil_w,
             (long long)in_h, (long long)in_w, (int)h, (int)w, (int)pad_h, (int)pad_w);
  *p = conv_shape{n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups,
                  (in_h - eff_h) / stride_h + 1, (in_w - eff_w) / stride_w + 1};
  int64_t x_el, y_el, w_el, t;
  const bool ok = lc_mul_ok((int64_t)n * c, (int64_t)h * w, &x_el) &&
                  lc_mul_ok((int64_t)n * k, p->oh * p->ow, &y_el) &&
                  lc_mul_ok((int64_t)k * (c / groups), (int64_t)r * s, &w_el) &&
                  lc_mul_ok(x_el > y_el ? x_el : y_el, 4, &t) && lc_mul_ok(w_el, 4, &t);
  LC_REQUIRE(ok, "%s: sizes overflow (n=%d c=%d h=%d w=%d k=%d r=%d s=%d)", fn, (int)n, (int)c,
             (int)h, (int)w, (int)k, (int)r, (int)s);
  LC_REQUIRE(p->oh <= INT_MAX && p->ow <= INT_MAX, "%s: output %lldx%lld exceeds cuDNN's limit",
             fn, (long long)p->oh, (long long)p->ow);
  return LITS_OK;
}

void destroy_plan(conv_plan* pl) {
  if (pl->x) (void)lc_vendor.cudnnDestroyTensorDescriptor(pl->x);
  if (pl->y) (void)lc_vendor.cudnnDestroyTensorDescriptor(pl->y);
  if (pl->w) (void)lc_vendor.cudnnDestroyFilterDescriptor(pl->w);
  if (pl->conv) (void)lc_vendor.cudnnDestroyConvolutionDescriptor(pl->conv);
  delete pl;
}

/* Creates and sets a plan's descriptors. */
int build_plan(const char* lc_fn, const conv_shape& p, conv_plan* pl) {
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&pl->x));
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&pl->y));
  LC_CHECK(lc_vendor.cudnnCreateFilterDescriptor(&pl->w));
  LC_CHECK(lc_vendor.cudnnCreateConvolutionDescriptor(&pl->conv));
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(pl->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, p.n,
                                                p.c, p.h, p.w));
  LC_CHECK(lc_vendor.cudnnSetFilter4dDescriptor(pl->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, p.k,
                                                p.c / p.groups, p.r, p.s));
  LC_CHECK(lc_vendor.cudnnSetConvolution2dDescriptor(pl->conv, p.ph, p.pw, p.sh, p.sw, p.dh, p.dw,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  LC_CHECK(lc_vendor.cudnnSetConvolutionGroupCount(pl->conv, p.groups));
  LC_CHECK(lc_vendor.cudnnSetConvolutionMathType(pl->conv,
                                                 lc.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  int on = 0, oc = 0, ohh = 0, oww = 0;
  LC_CHECK(lc_vendor.cudnnGetConvolution2dForwardOutputDim(pl->conv, pl->x, pl->w, &on, &oc, &ohh,
                                                           &oww));
  if (on != p.n || oc != p.k || ohh != p.oh || oww != p.ow) {
    return lc_fail(LITS_ERR_INTERNAL,
                   "%s: cuDNN computes output [%d, %d, %d, %d], expected [%d, %d, %lld, %lld]",
                   lc_fn, on, oc, ohh, oww, p.n, p.k, (long long)p.oh, (long long)p.ow);
  }
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(pl->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, p.n,
                                                p.k, (int)p.oh, (int)p.ow));
  return LITS_OK;
}

/* The plan of a shape, made on first use. */
int get_plan(const char* lc_fn, const conv_shape& p, conv_plan** out) {
  const conv_key key{p.n, p.c, p.h, p.w, p.k, p.r, p.s, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw, p.groups};
  std::lock_guard<std::mutex> guard(g_plans_lock);
  auto it = g_plans.find(key);
  if (it != g_plans.end()) {
    *out = it->second;
    return LITS_OK;
  }
  conv_plan* pl = new conv_plan();
  const int st = build_plan(lc_fn, p, pl);
  if (st != LITS_OK) {
    destroy_plan(pl);
    return st;
  }
  g_plans[key] = pl;
  *out = pl;
  return LITS_OK;
}

/* Largest workspace any algorithm of a direction asks for, capped by what
 * the device can spare. */
int64_t find_budget(const conv_plan* pl, int dir) {
  size_t most = 0;
  const int count = dir == FWD        ? (int)CUDNN_CONVOLUTION_FWD_ALGO_COUNT
                    : dir == BWD_DATA ? (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
                                      : (int)CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  for (int a = 0; a < count; a++) {
    size_t b = 0;
    cudnnStatus_t st =
        dir == FWD ? lc_vendor.cudnnGetConvolutionForwardWorkspaceSize(
                         lc.cudnn, pl->x, pl->w, pl->conv, pl->y, (cudnnConvolutionFwdAlgo_t)a, &b)
        : dir == BWD_DATA
            ? lc_vendor.cudnnGetConvolutionBackwardDataWorkspaceSize(
                  lc.cudnn, pl->w, pl->y, pl->conv, pl->x, (cudnnConvolutionBwdDataAlgo_t)a, &b)
            : lc_vendor.cudnnGetConvolutionBackwardFilterWorkspaceSize(
                  lc.cudnn, pl->x, pl->y, pl->conv, pl->w, (cudnnConvolutionBwdFilterAlgo_t)a, &b);
    if (st == CUDNN_STATUS_SUCCESS && b > most) most = b; /* unsupported algorithms fail here */
  }
  size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
    (void)cudaGetLastError();
    free_b = 0;
  }
  int64_t cap = (int64_t)(free_b / 2);
  if (cap > FIND_WORKSPACE_CAP) cap = FIND_WORKSPACE_CAP;
  return (int64_t)most < cap ? (int64_t)most : cap;
}

/* Picks the fastest successful result that fits the workspace. */
template <typename Perf>
int pick(const char* lc_fn, const Perf* perf, int returned, int64_t budget, const char* what,
         conv_plan* pl, int dir) {
  for (int i = 0; i < returned; i++) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS && (int64_t)perf[i].memory <= budget) {
      pl->algo[dir] = (int)perf[i].algo;
      pl->workspace[dir] = perf[i].memory;
      pl->math[dir] = perf[i].mathType;
      pl->found[dir] = true;
      return LITS_OK;
    }
  }
  return lc_fail(LITS_ERR_INTERNAL,
                 "%s: cuDNN found no %s algorithm for this shape within a %lld-byte workspace "
                 "(%d candidates, first status %d)",
                 lc_fn, what, (long long)budget, returned,
                 returned > 0 ? (int)perf[0].status : -1);
}

/* Runs the algorithm search of one direction (first call per shape). The
 * search writes the direction's output, which the real call then overwrites. */
int find_algo(const char* lc_fn, conv_plan* pl, int dir, const void* x, const void* w,
              const void* y) {
  int64_t budget = find_budget(pl, dir);
  void* ws = NULL;
  while (lc_scratch_alloc(lc_fn, budget, &ws) != LITS_OK) {
    if (budget == 0) return LITS_ERR_MEMORY; /* error already recorded */
    budget /= 2;
  }
  lc_clear_error();
  int max_count = 0, returned = 0;
  int st = LITS_OK;
  if (dir == FWD) {
    cudnnStatus_t s = lc_vendor.cudnnGetConvolutionForwardAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    if (s == CUDNN_STATUS_SUCCESS)
      s = lc_vendor.cudnnFindConvolutionForwardAlgorithmEx(lc.cudnn, pl->x, x, pl->w, w, pl->conv,
                                                           pl->y, (void*)y, (int)perf.size(),
                                                           &returned, perf.data(), ws, budget);
    st = s != CUDNN_STATUS_SUCCESS
             ? lc_fail_status(lc_fn, "cudnnFindConvolutionForwardAlgorithmEx", s)
             : pick(lc_fn, perf.data(), returned, budget, "forward", pl, dir);
  } else if (dir == BWD_DATA) {
    cudnnStatus_t s =
        lc_vendor.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    /* Here w is the filter, y is dy and x is dx (the output). */
    if (s == CUDNN_STATUS_SUCCESS)
      s = lc_vendor.cudnnFindConvolutionBackwardDataAlgorithmEx(
          lc.cudnn, pl->w, w, pl->y, y, pl->conv, pl->x, (void*)x, (int)perf.size(), &returned,
          perf.data(), ws, budget);
    st = s != CUDNN_STATUS_SUCCESS
             ? lc_fail_status(lc_fn, "cudnnFindConvolutionBackwardDataAlgorithmEx", s)
             : pick(lc_fn, perf.data(), returned, budget, "backward-data", pl, dir);
  } else {
    cudnnStatus_t s =
        lc_vendor.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    /* Here w is dw (the output). */
    if (s == CUDNN_STATUS_SUCCESS)
      s = lc_vendor.cudnnFindConvolutionBackwardFilterAlgorithmEx(
          lc.cudnn, pl->x, x, pl->y, y, pl->conv, pl->w, (void*)w, (int)perf.size(), &returned,
          perf.data(), ws, budget);
    st = s != CUDNN_STATUS_SUCCESS
             ? lc_fail_status(lc_fn, "cudnnFindConvolutionBackwardFilterAlgorithmEx", s)
             : pick(lc_fn, perf.data(), returned, budget, "backward-filter", pl, dir);
  }
  lc_scratch_free(ws);
  return st;
}

/* Plan, algorithm and workspace for one call; *ws is freed by the caller. */
int prepare(const char* lc_fn, const conv_shape& p, int dir, const void* x, const void* w,
            const void* y, conv_plan** pl, void** ws) {
  LC_TRY(get_plan(lc_fn, p, pl));
  if (!(*pl)->found[dir]) {
    /* Plans are shared; the search runs under the plans lock only per plan
     * creation, so two threads may search at once and both store a result. */
    if (lc.tf32) LC_CHECK(lc_vendor.cudnnSetConvolutionMathType((*pl)->conv, CUDNN_DEFAULT_MATH));
    LC_TRY(find_algo(lc_fn, *pl, dir, x, w, y));
  }
  if (lc.tf32) {
    /* With TF32 allowed the search may pick a tensor-op or a plain kernel;
     * the descriptor must carry the math type the chosen result was timed
     * with. (Without TF32 it stays CUDNN_FMA_MATH.) */
    LC_CHECK(lc_vendor.cudnnSetConvolutionMathType((*pl)->conv, (*pl)->math[dir]));
  }
  *ws = NULL;
  if ((*pl)->workspace[dir] > 0) LC_TRY(lc_scratch_alloc(lc_fn, (int64_t)(*pl)->workspace[dir], ws));
  return LITS_OK;
}

/* y[plane, j] += bias[plane % k]: grid.y walks the n * k planes, grid.x the
 * hw positions of a plane (no division per element). */
__global__ void add_bias_kernel(float* y, const float* bias, int64_t planes, int64_t k,
                                int64_t hw) {
  for (int64_t pl = blockIdx.y; pl < planes; pl += gridDim.y) {
    const float b = bias[pl % k];
    float* row = y + pl * hw;
    for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < hw;
         j += (int64_t)gridDim.x * blockDim.x)
      row[j] += b;
  }
}

/* part[ch * splits + s] = sum of dy over images [s * n / splits, (s + 1) * n /
 * splits) of channel ch: (k, splits) blocks, so that a few channels with
 * large images still spread over the whole device. */
__global__ void bias_partials_kernel(const float* dy, double* part, int64_t n, int64_t k,
                                     int64_t hw, int64_t splits) {
  __shared__ double shared[32];
  for (int64_t ch = blockIdx.x; ch < k; ch += gridDim.x) {
    for (int64_t sp = blockIdx.y; sp < splits; sp += gridDim.y) {
      const int64_t n0 = sp * n / splits, n1 = (sp + 1) * n / splits;
      double acc = 0.0;
      for (int64_t ni = n0; ni < n1; ni++) {
        const float* src = dy + (ni * k + ch) * hw;
        for (int64_t j = threadIdx.x; j < hw; j += blockDim.x) acc += (double)src[j];
      }
      acc = lc_block_reduce(acc, true, false, shared);
      if (threadIdx.x == 0) part[ch * splits + sp] = acc;
    }
  }
}

/* dbias[ch] = the channel's partials added in order. */
__global__ void bias_finish_kernel(const double* part, float* dbias, int64_t k, int64_t splits) {
  LC_GRID_LOOP(ch, k) {
    double acc = 0.0;
    for (int64_t sp = 0; sp < splits; sp++) acc += part[ch * splits + sp];
    dbias[ch] = (float)acc;
  }
}

}  // namespace

#define CONV_SETUP()                                                                          \
  conv_shape p;                                                                               \
  LC_TRY(conv_setup(lc_fn, &p, n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h, \
                    dil_w, groups))

extern "C" int lits_conv2d_forward_f32(const float* x, const float* weight, const float* bias,
                                       float* y, int32_t n, int32_t c, int32_t h, int32_t w,
                                       int32_t k, int32_t r, int32_t s, int32_t stride_h,
                                       int32_t stride_w, int32_t pad_h, int32_t pad_w,
                                       int32_t dil_h, int32_t dil_w, int32_t groups) {
  LC_ENTER("lits_conv2d_forward_f32");
  CONV_SETUP();
  LC_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", lc_fn);
  conv_plan* pl = NULL;
  void* ws = NULL;
  LC_TRY(prepare(lc_fn, p, FWD, x, weight, y, &pl, &ws));
  const float one = 1.0f, zero = 0.0f;
  const cudnnStatus_t st = lc_vendor.cudnnConvolutionForward(
      lc.cudnn, &one, pl->x, x, pl->w, weight, pl->conv, (cudnnConvolutionFwdAlgo_t)pl->algo[FWD],
      ws, pl->workspace[FWD], &zero, pl->y, y);
  lc_scratch_free(ws);
  LC_CHECK(st);
  if (bias != NULL) {
    const int64_t hw = p.oh * p.ow, planes = (int64_t)n * k;
    const int64_t bx = (hw + LC_THREADS - 1) / LC_THREADS;
    dim3 grid((unsigned)(bx < 64 ? bx : 64), (unsigned)(planes < 65535 ? planes : 65535));
    add_bias_kernel<<<grid, LC_THREADS, 0, lc.stream>>>(y, bias, planes, k, hw);
    LC_CHECK_LAUNCH("add_bias_kernel");
  }
  return LITS_OK;
}

extern "C" int lits_conv2d_backward_data_f32(const float* weight, const float* dy, float* dx,
                                             int32_t n, int32_t c, int32_t h, int32_t w,
                                             int32_t k, int32_t r, int32_t s, int32_t stride_h,
                                             int32_t stride_w, int32_t pad_h, int32_t pad_w,
                                             int32_t dil_h, int32_t dil_w, int32_t groups) {
  LC_ENTER("lits_conv2d_backward_data_f32");
  CONV_SETUP();
  LC_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", lc_fn);
  conv_plan* pl = NULL;
  void* ws = NULL;
  LC_TRY(prepare(lc_fn, p, BWD_DATA, dx, weight, dy, &pl, &ws));
  const float one = 1.0f, zero = 0.0f;
  const cudnnStatus_t st = lc_vendor.cudnnConvolutionBackwardData(
      lc.cudnn, &one, pl->w, weight, pl->y, dy, pl->conv,
      (cudnnConvolutionBwdDataAlgo_t)pl->algo[BWD_DATA], ws, pl->workspace[BWD_DATA], &zero, pl->x,
      dx);
  lc_scratch_free(ws);
  LC_CHECK(st);
  return LITS_OK;
}

extern "C" int lits_conv2d_backward_filter_f32(const float* x, const float* dy, float* dweight,
                                               int32_t n, int32_t c, int32_t h, int32_t w,
                                               int32_t k, int32_t r, int32_t s, int32_t stride_h,
                                               int32_t stride_w, int32_t pad_h, int32_t pad_w,
                                               int32_t dil_h, int32_t dil_w, int32_t groups) {
  LC_ENTER("lits_conv2d_backward_filter_f32");
  CONV_SETUP();
  LC_REQUIRE(x != NULL && dy != NULL && dweight != NULL, "%s: x, dy or dweight is NULL", lc_fn);
  conv_plan* pl = NULL;
  void* ws = NULL;
  LC_TRY(prepare(lc_fn, p, BWD_FILTER, x, dweight, dy, &pl, &ws));
  const float one = 1.0f, zero = 0.0f;
  const cudnnStatus_t st = lc_vendor.cudnnConvolutionBackwardFilter(
      lc.cudnn, &one, pl->x, x, pl->y, dy, pl->conv,
      (cudnnConvolutionBwdFilterAlgo_t)pl->algo[BWD_FILTER], ws, pl->workspace[BWD_FILTER], &zero,
      pl->w, dweight);
  lc_scratch_free(ws);
  LC_CHECK(st);
  return LITS_OK;
}

extern "C" int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                             int64_t hw) {
  LC_ENTER("lits_conv2d_backward_bias_f32");
  LC_REQUIRE(n > 0 && k > 0 && hw > 0, "%s: sizes n=%d k=%d hw=%lld must be > 0", lc_fn, (int)n,
             (int)k, (long long)hw);
  int64_t t;
  LC_REQUIRE(lc_mul_ok((int64_t)n * k, hw, &t) && lc_mul_ok(t, 4, &t),
             "%s: sizes overflow (n=%d k=%d hw=%lld)", lc_fn, (int)n, (int)k, (long long)hw);
  LC_REQUIRE(dy != NULL && dbias != NULL, "%s: dy or dbias is NULL", lc_fn);
  /* About four blocks per multiprocessor in all, at most one split per image. */
  int64_t splits = (4 * (int64_t)lc.sm_count + k - 1) / k;
  if (splits > n) splits = n;
  if (splits < 1) splits = 1;
  double* part = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, k * splits * (int64_t)sizeof(double), (void**)&part));
  dim3 grid((unsigned)(k < 65535 ? k : 65535), (unsigned)(splits < 65535 ? splits : 65535));
  bias_partials_kernel<<<grid, LC_THREADS, 0, lc.stream>>>(dy, part, n, k, hw, splits);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) {
    bias_finish_kernel<<<lc_blocks(k), LC_THREADS, 0, lc.stream>>>(part, dbias, k, splits);
    e = cudaGetLastError();
  }
  lc_scratch_free(part);
  if (e != cudaSuccess) return lc_fail_status(lc_fn, "launch of kernel bias_partials/finish", e);
  return LITS_OK;
}
