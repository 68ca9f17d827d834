/* conv_plan.cu: convolution plans (cuDNN descriptors and the chosen
 * algorithm) per key (conv_plan.cuh: shape, direction, buffer alignment,
 * deterministic mode, Winograd allowed), searched on the first call with that
 * key. With lits_set_winograd(0) the Winograd algorithms are passed over.
 *
 * The search: cudnnFind*AlgorithmEx times the candidates on the call's own
 * buffers and the fastest that fits the workspace budget wins. Before it,
 * when the algorithms want more than the device has free, the caching
 * allocator's free blocks are given back to the driver (PyTorch empties its
 * cache around cuDNN's benchmark for the same reason); the search workspace
 * goes straight back to the driver afterwards. In deterministic mode the
 * choice comes from cuDNN's heuristics (cudnnGet*Algorithm_v7, no timing, so
 * the same on every run) restricted to CUDNN_DETERMINISTIC algorithms, as
 * PyTorch with torch.backends.cudnn.deterministic and benchmark off.
 *
 * Data types: fp32 tensors and filters, or bf16 ones (autocast,
 * conv_bf16.cu: cuDNN's BFLOAT16 configuration, compute capability 8.0+);
 * the compute type is FLOAT for both, so bf16 products are summed in fp32.
 * Math types (lc_conv_math, conv_plan.cuh): CUDNN_FMA_MATH (true fp32)
 * unless LITS_CUDA_TF32=1, which searches with CUDNN_DEFAULT_MATH;
 * CUDNN_TENSOR_OP_MATH for bf16. Except under FMA, the plan keeps the math
 * type the chosen result was timed with.
 */
#include <limits.h>

#include <map>
#include <mutex>
#include <vector>

#include "common.cuh"
#include "conv_plan.cuh"

namespace {

std::mutex g_plans_lock;  /* the map */
std::mutex g_search_lock; /* one search at a time */
std::map<lc_conv_key, lc_conv_plan*> g_plans;
std::vector<lc_conv_plan*> g_retired; /* replaced by a re-search, maybe still in use */

void destroy_plan(lc_conv_plan* pl) {
  if (pl->x) (void)lc_vendor.cudnnDestroyTensorDescriptor(pl->x);
  if (pl->y) (void)lc_vendor.cudnnDestroyTensorDescriptor(pl->y);
  if (pl->w) (void)lc_vendor.cudnnDestroyFilterDescriptor(pl->w);
  if (pl->conv) (void)lc_vendor.cudnnDestroyConvolutionDescriptor(pl->conv);
  delete pl;
}

/* Creates and sets a plan's descriptors for tensors and filters of dtype. */
int build_descriptors(const char* lc_fn, const lc_conv_shape& p, cudnnDataType_t dtype,
                      lc_conv_plan* pl) {
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&pl->x));
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&pl->y));
  LC_CHECK(lc_vendor.cudnnCreateFilterDescriptor(&pl->w));
  LC_CHECK(lc_vendor.cudnnCreateConvolutionDescriptor(&pl->conv));
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(pl->x, CUDNN_TENSOR_NCHW, dtype, p.n, p.c, p.h,
                                                p.w));
  LC_CHECK(lc_vendor.cudnnSetFilter4dDescriptor(pl->w, dtype, CUDNN_TENSOR_NCHW, p.k,
                                                p.c / p.groups, p.r, p.s));
  LC_CHECK(lc_vendor.cudnnSetConvolution2dDescriptor(pl->conv, p.ph, p.pw, p.sh, p.sw, p.dh, p.dw,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  LC_CHECK(lc_vendor.cudnnSetConvolutionGroupCount(pl->conv, p.groups));
  pl->math = lc_conv_math(dtype, lc.tf32 != 0);
  LC_CHECK(lc_vendor.cudnnSetConvolutionMathType(pl->conv, pl->math));
  int on = 0, oc = 0, ohh = 0, oww = 0;
  LC_CHECK(lc_vendor.cudnnGetConvolution2dForwardOutputDim(pl->conv, pl->x, pl->w, &on, &oc, &ohh,
                                                           &oww));
  if (on != p.n || oc != p.k || ohh != p.oh || oww != p.ow) {
    return lc_fail(LITS_ERR_INTERNAL,
                   "%s: cuDNN computes output [%d, %d, %d, %d], expected [%d, %d, %lld, %lld]",
                   lc_fn, on, oc, ohh, oww, p.n, p.k, (long long)p.oh, (long long)p.ow);
  }
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(pl->y, CUDNN_TENSOR_NCHW, dtype, p.n, p.k,
                                                (int)p.oh, (int)p.ow));
  return LITS_OK;
}

/* Largest workspace any algorithm of the direction asks for. */
int64_t most_wanted(const lc_conv_plan* pl, int dir) {
  size_t most = 0;
  const int count = dir == LC_CONV_FWD        ? (int)CUDNN_CONVOLUTION_FWD_ALGO_COUNT
                    : dir == LC_CONV_BWD_DATA ? (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
                                              : (int)CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  for (int a = 0; a < count; a++) {
    size_t b = 0;
    cudnnStatus_t st =
        dir == LC_CONV_FWD
            ? lc_vendor.cudnnGetConvolutionForwardWorkspaceSize(
                  lc.cudnn, pl->x, pl->w, pl->conv, pl->y, (cudnnConvolutionFwdAlgo_t)a, &b)
        : dir == LC_CONV_BWD_DATA
            ? lc_vendor.cudnnGetConvolutionBackwardDataWorkspaceSize(
                  lc.cudnn, pl->w, pl->y, pl->conv, pl->x, (cudnnConvolutionBwdDataAlgo_t)a, &b)
            : lc_vendor.cudnnGetConvolutionBackwardFilterWorkspaceSize(
                  lc.cudnn, pl->x, pl->y, pl->conv, pl->w, (cudnnConvolutionBwdFilterAlgo_t)a, &b);
    if (st == CUDNN_STATUS_SUCCESS && b > most) most = b; /* unsupported algorithms fail here */
  }
  return most > (size_t)INT64_MAX ? INT64_MAX : (int64_t)most;
}

/* The budget the free memory allows now (device free + our cached blocks). */
int64_t budget_now(int64_t wanted, size_t* device_free) {
  size_t free_b = 0, total_b = 0;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
    (void)cudaGetLastError();
    free_b = 0;
  }
  *device_free = free_b;
  return lc_search_budget(wanted, (int64_t)free_b, lc_cached_bytes());
}

const char* const k_dir_name[3] = {"forward", "backward-data", "backward-filter"};

/* The first result that succeeded, fits the budget and (deterministic mode)
 * is CUDNN_DETERMINISTIC; results come fastest (Find) or best (heuristics)
 * first. */
template <typename Perf>
int pick(const char* lc_fn, const Perf* perf, int returned, int64_t budget, bool deterministic,
         bool winograd, int dir, lc_conv_plan* pl) {
  for (int i = 0; i < returned; i++) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || (int64_t)perf[i].memory > budget) continue;
    if (deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
    if (!winograd && lc_conv_algo_is_winograd(dir, (int)perf[i].algo)) continue;
    pl->algo = (int)perf[i].algo;
    pl->workspace = perf[i].memory;
    if (lc_conv_math_follows_search(pl->math))
      LC_CHECK(lc_vendor.cudnnSetConvolutionMathType(pl->conv, perf[i].mathType));
    return LITS_OK;
  }
  return lc_fail(LITS_ERR_INTERNAL,
                 "%s: cuDNN found no %s%s algorithm for this shape within a %lld-byte workspace "
                 "(%d candidates, first status %d)%s",
                 lc_fn, deterministic ? "deterministic " : "", k_dir_name[dir], (long long)budget,
                 returned, returned > 0 ? (int)perf[0].status : -1,
                 deterministic ? "; useDeterministicAlgorithms(false) allows the others" : "");
}

/* Runs the search of a fresh plan (not yet published). a, b, c as
 * lc_conv_prepare. Find writes the direction's output, which the real call
 * then overwrites. */
int search(const char* lc_fn, lc_conv_plan* pl, int dir, bool det, bool wino, const void* a,
           const void* b, const void* c) {
  const int64_t wanted = most_wanted(pl, dir);
  size_t device_free = 0;
  const int64_t estimate = budget_now(wanted, &device_free);
  int64_t budget = estimate;
  void* ws = NULL;
  if (!det) {
    /* Free blocks of our cache count as free: give them back when the
     * driver alone cannot supply the budget. */
    if (budget > (int64_t)device_free) LC_TRY(lc_release_cached(lc_fn));
    while (lc_scratch_alloc(lc_fn, budget, &ws) != LITS_OK) {
      if (budget == 0) return LITS_ERR_MEMORY; /* error already recorded */
      budget /= 2;
    }
    lc_clear_error();
  }
  pl->rec = lc_search_record{wanted, estimate, budget};
  int max_count = 0, returned = 0, st = LITS_OK;
  cudnnStatus_t s = CUDNN_STATUS_SUCCESS;
  const char* what = NULL;
  if (dir == LC_CONV_FWD) {
    s = lc_vendor.cudnnGetConvolutionForwardAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    const int n = (int)perf.size();
    what = det ? "cudnnGetConvolutionForwardAlgorithm_v7"
               : "cudnnFindConvolutionForwardAlgorithmEx";
    if (s == CUDNN_STATUS_SUCCESS)
      s = det ? lc_vendor.cudnnGetConvolutionForwardAlgorithm_v7(
                    lc.cudnn, pl->x, pl->w, pl->conv, pl->y, n, &returned, perf.data())
              : lc_vendor.cudnnFindConvolutionForwardAlgorithmEx(
                    lc.cudnn, pl->x, a, pl->w, b, pl->conv, pl->y, (void*)c, n, &returned,
                    perf.data(), ws, budget);
    if (s == CUDNN_STATUS_SUCCESS) st = pick(lc_fn, perf.data(), returned, budget, det, wino, dir, pl);
  } else if (dir == LC_CONV_BWD_DATA) {
    s = lc_vendor.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    const int n = (int)perf.size();
    what = det ? "cudnnGetConvolutionBackwardDataAlgorithm_v7"
               : "cudnnFindConvolutionBackwardDataAlgorithmEx";
    /* a is dx (the output), b the filter, c dy. */
    if (s == CUDNN_STATUS_SUCCESS)
      s = det ? lc_vendor.cudnnGetConvolutionBackwardDataAlgorithm_v7(
                    lc.cudnn, pl->w, pl->y, pl->conv, pl->x, n, &returned, perf.data())
              : lc_vendor.cudnnFindConvolutionBackwardDataAlgorithmEx(
                    lc.cudnn, pl->w, b, pl->y, c, pl->conv, pl->x, (void*)a, n, &returned,
                    perf.data(), ws, budget);
    if (s == CUDNN_STATUS_SUCCESS) st = pick(lc_fn, perf.data(), returned, budget, det, wino, dir, pl);
  } else {
    s = lc_vendor.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(lc.cudnn, &max_count);
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(max_count > 0 ? max_count : 1);
    const int n = (int)perf.size();
    what = det ? "cudnnGetConvolutionBackwardFilterAlgorithm_v7"
               : "cudnnFindConvolutionBackwardFilterAlgorithmEx";
    /* b is dw (the output), c dy. */
    if (s == CUDNN_STATUS_SUCCESS)
      s = det ? lc_vendor.cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                    lc.cudnn, pl->x, pl->y, pl->conv, pl->w, n, &returned, perf.data())
              : lc_vendor.cudnnFindConvolutionBackwardFilterAlgorithmEx(
                    lc.cudnn, pl->x, a, pl->y, c, pl->conv, pl->w, (void*)b, n, &returned,
                    perf.data(), ws, budget);
    if (s == CUDNN_STATUS_SUCCESS) st = pick(lc_fn, perf.data(), returned, budget, det, wino, dir, pl);
  }
  lc_scratch_release(ws);
  if (s != CUDNN_STATUS_SUCCESS) return lc_fail_status(lc_fn, what, s);
  return st;
}

/* Builds and searches a plan for key and publishes it (replacing `old`, a
 * plan due for a re-search, when not NULL). */
int make_plan(const char* lc_fn, const lc_conv_key& key, const lc_conv_shape& p, int dir,
              const void* a, const void* b, const void* c, const lc_conv_plan* old,
              const lc_conv_plan** out) {
  std::lock_guard<std::mutex> searching(g_search_lock);
  {
    /* Another thread may have published (or re-searched) it meanwhile. */
    std::lock_guard<std::mutex> guard(g_plans_lock);
    auto it = g_plans.find(key);
    if (it != g_plans.end() && it->second != old) {
      *out = it->second;
      return LITS_OK;
    }
  }
  lc_conv_plan* pl = new lc_conv_plan();
  int st = build_descriptors(lc_fn, p, (cudnnDataType_t)key.dtype, pl);
  if (st == LITS_OK) st = search(lc_fn, pl, dir, key.deterministic != 0, key.winograd != 0, a, b, c);
  if (st != LITS_OK) {
    destroy_plan(pl);
    return st;
  }
  std::lock_guard<std::mutex> guard(g_plans_lock);
  lc_conv_plan*& slot = g_plans[key];
  if (slot != NULL) g_retired.push_back(slot);
  slot = pl;
  *out = pl;
  return LITS_OK;
}

}  // namespace

int lc_conv_setup(const char* fn, lc_conv_shape* p, const lits_conv2d_params* params) {
  const int st = lits_check_conv(fn, p, params);
  if (st > 0) return st;
  LC_REQUIRE(p->oh <= INT_MAX && p->ow <= INT_MAX, "%s: output %lldx%lld exceeds cuDNN's limit",
             fn, (long long)p->oh, (long long)p->ow);
  return st;
}

int lc_conv_prepare(const char* lc_fn, const lc_conv_shape& p, int dir, cudnnDataType_t dtype,
                    const void* a, const void* b, const void* c, const lc_conv_plan** plan,
                    void** ws) {
  *ws = NULL;
  const lc_conv_key key{{p.n, p.c, p.h, p.w, p.k, p.r, p.s, p.sh, p.sw, p.ph, p.pw, p.dh, p.dw,
                         p.groups},
                        dir,
                        {lc_alignment(a), lc_alignment(b), lc_alignment(c)},
                        lc_deterministic(),
                        lc_winograd(),
                        lc.tf32,
                        (int32_t)dtype};
  const lc_conv_plan* pl = NULL;
  {
    std::lock_guard<std::mutex> guard(g_plans_lock);
    auto it = g_plans.find(key);
    if (it != g_plans.end()) pl = it->second;
  }
  if (pl == NULL) {
    LC_TRY(make_plan(lc_fn, key, p, dir, a, b, c, NULL, &pl));
  } else if (pl->rec.used < pl->rec.wanted && pl->rec.used < LC_FIND_WORKSPACE_CAP &&
             (pl->uses.fetch_add(1) + 1) % LC_RESEARCH_EVERY == 0) {
    /* Searched under a tight budget: search again when memory has freed up. */
    size_t device_free = 0;
    if (lc_research_due(pl->rec, budget_now(pl->rec.wanted, &device_free)))
      LC_TRY(make_plan(lc_fn, key, p, dir, a, b, c, pl, &pl));
  }
  *plan = pl;
  if (pl->workspace > 0) LC_TRY(lc_scratch_alloc(lc_fn, (int64_t)pl->workspace, ws));
  return LITS_OK;
}
