/* conv.cu: 2-D convolution on cuDNN's legacy API (forward, backward data,
 * backward filter); bias forward and backward with our own kernels.
 *
 * The plan of a call (descriptors, algorithm, workspace size) comes from
 * conv_plan.cu, through run_planned (conv_run.cuh); the workspace from our
 * caching allocator. The plan cache uses host containers, so the three cuDNN
 * entries run in lc_guarded.
 */
#include "block_reduce.cuh"
#include "conv_run.cuh"

namespace {

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

/* cuDNN reads x itself: a transformed input needs the fused section. */
static int identity_only(const char* lc_fn, const float* x_coef, int32_t x_relu) {
  if (x_coef == NULL && x_relu == 0) return LITS_OK;
  return lc_fail(LITS_ERR_UNAVAILABLE,
                 "%s: input transforms need the fused kernels, which this backend lacks", lc_fn);
}

extern "C" int lits_conv2d_forward_f32(const lits_conv2d_params* params_host, const float* x,
                                       const float* x_coef, int32_t x_relu, const float* weight,
                                       const float* bias, float* y) {
  LC_ENTER("lits_conv2d_forward_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    LC_TRY(identity_only(lc_fn, x_coef, x_relu));
    if (conv_st == LITS_EMPTY) return LITS_OK;
    LC_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", lc_fn);
    LC_TRY(run_planned(lc_fn, p, LC_CONV_FWD, CUDNN_DATA_FLOAT, x, weight, y,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionForward(
          lc.cudnn, &lc_conv_one, pl.x, x, pl.w, weight, pl.conv,
          (cudnnConvolutionFwdAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.y, y);
    }));
    if (bias != NULL) {
      const int64_t hw = p.oh * p.ow, planes = (int64_t)p.n * p.k, k = p.k;
      const int64_t bx = (hw + LC_THREADS - 1) / LC_THREADS;
      dim3 grid((unsigned)(bx < 64 ? bx : 64), (unsigned)(planes < 65535 ? planes : 65535));
      add_bias_kernel<<<grid, LC_THREADS, 0, lc.stream>>>(y, bias, planes, k, hw);
      LC_CHECK_LAUNCH("add_bias_kernel");
    }
    return LITS_OK;
  });
}

extern "C" int lits_conv2d_backward_data_f32(const lits_conv2d_params* params_host,
                                             const float* weight, const float* dy, float* dx) {
  LC_ENTER("lits_conv2d_backward_data_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    if (conv_st == LITS_EMPTY) return LITS_OK;
    LC_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", lc_fn);
    return run_planned(lc_fn, p, LC_CONV_BWD_DATA, CUDNN_DATA_FLOAT, dx, weight, dy,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionBackwardData(
          lc.cudnn, &lc_conv_one, pl.w, weight, pl.y, dy, pl.conv,
          (cudnnConvolutionBwdDataAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.x, dx);
    });
  });
}

extern "C" int lits_conv2d_backward_filter_f32(const lits_conv2d_params* params_host,
                                               const float* x, const float* x_coef, int32_t x_relu,
                                               const float* dy, float* dweight) {
  LC_ENTER("lits_conv2d_backward_filter_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    LC_TRY(identity_only(lc_fn, x_coef, x_relu));
    LC_REQUIRE(dweight != NULL, "%s: dweight is NULL", lc_fn);
    if (conv_st == LITS_EMPTY) { /* no images: the gradient is zero, as PyTorch's */
      const size_t bytes = (size_t)p.k * (p.c / p.groups) * p.r * p.s * sizeof(float);
      LC_CHECK(cudaMemsetAsync(dweight, 0, bytes, lc.stream));
      return LITS_OK;
    }
    LC_REQUIRE(x != NULL && dy != NULL, "%s: x or dy is NULL", lc_fn);
    return run_planned(lc_fn, p, LC_CONV_BWD_FILTER, CUDNN_DATA_FLOAT, x, dweight, dy,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionBackwardFilter(
          lc.cudnn, &lc_conv_one, pl.x, x, pl.y, dy, pl.conv,
          (cudnnConvolutionBwdFilterAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.w, dweight);
    });
  });
}

extern "C" int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                             int64_t hw) {
  LC_ENTER("lits_conv2d_backward_bias_f32");
  LITS_CHECKED(lits_check_conv_bias(lc_fn, n, k, hw));
  /* With no images (n * hw = 0) the partials are zeros and read no dy. */
  LC_REQUIRE(dbias != NULL && (dy != NULL || (int64_t)n * hw == 0), "%s: dy or dbias is NULL",
             lc_fn);
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
