/* conv_bf16.cu: 2-D convolution under bf16 autocast, as PyTorch's CUDA
 * autocast runs it (the CPU's is conv_bf16.c): the input (after its
 * deferred transform relu?(T(x))), the weights and dy are rounded to bf16
 * scratch copies (bf16_convert.cu), and cuDNN convolves those in its
 * BFLOAT16 configuration: bf16 tensors and filters, FLOAT compute type (fp32
 * sums), tensor-core math (conv_plan.cu, lc_conv_math). That configuration's
 * output is bf16 too, so y, dx and dw are rounded to bf16 once, then widened
 * to fp32; the forward's bias is added after widening, in fp32. The CPU
 * keeps its fp32 sums instead (lits.h allows both: PyTorch's bf16 outputs are
 * the rounded ones).
 *
 * Plans, algorithm search, workspace budget and deterministic mode are the
 * fp32 convolutions' (run_planned, conv_run.cuh), with bf16 in the plan key.
 */
#include "bf16_convert.cuh"
#include "conv_run.cuh"

namespace {

/* Elements of x, w and y of a checked geometry (lits_check_conv has checked
 * that they fit). */
struct conv_elements {
  int64_t x, w, y;
};

conv_elements elements_of(const lc_conv_shape& p) {
  return {(int64_t)p.n * p.c * p.h * p.w, (int64_t)p.k * (p.c / p.groups) * p.r * p.s,
          (int64_t)p.n * p.k * p.oh * p.ow};
}

}  // namespace

extern "C" int lits_conv2d_forward_bf16_f32(const lits_conv2d_params* params_host,
                                            const float* x, const float* x_coef, int32_t x_relu,
                                            const float* weight, const float* bias, float* y) {
  LC_ENTER("lits_conv2d_forward_bf16_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    if (conv_st == LITS_EMPTY) return LITS_OK;
    LC_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", lc_fn);
    LC_TRY(lc_bf16_ready(lc_fn, "lits_conv2d_forward_f32"));
    const conv_elements e = elements_of(p);
    lc_bf16_scratch x16, w16, y16;
    LC_TRY(x16.alloc(lc_fn, e.x));
    LC_TRY(w16.alloc(lc_fn, e.w));
    LC_TRY(y16.alloc(lc_fn, e.y));
    LC_TRY(lc_to_bf16(lc_fn, x, 1, e.x, e.x, x_coef, x_relu != 0, p.c, (int64_t)p.h * p.w,
                      x16.p));
    LC_TRY(lc_to_bf16(lc_fn, weight, 1, e.w, e.w, NULL, false, 1, 1, w16.p));
    LC_TRY(run_planned(lc_fn, p, LC_CONV_FWD, CUDNN_DATA_BFLOAT16, x16.p, w16.p, y16.p,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionForward(
          lc.cudnn, &lc_conv_one, pl.x, x16.p, pl.w, w16.p, pl.conv,
          (cudnnConvolutionFwdAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.y, y16.p);
    }));
    return lc_from_bf16(lc_fn, y16.p, e.y, bias, p.k, p.oh * p.ow, y);
  });
}

extern "C" int lits_conv2d_backward_data_bf16_f32(const lits_conv2d_params* params_host,
                                                  const float* weight, const float* dy,
                                                  float* dx) {
  LC_ENTER("lits_conv2d_backward_data_bf16_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    if (conv_st == LITS_EMPTY) return LITS_OK;
    LC_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", lc_fn);
    LC_TRY(lc_bf16_ready(lc_fn, "lits_conv2d_backward_data_f32"));
    const conv_elements e = elements_of(p);
    lc_bf16_scratch w16, dy16, dx16;
    LC_TRY(w16.alloc(lc_fn, e.w));
    LC_TRY(dy16.alloc(lc_fn, e.y));
    LC_TRY(dx16.alloc(lc_fn, e.x));
    LC_TRY(lc_to_bf16(lc_fn, weight, 1, e.w, e.w, NULL, false, 1, 1, w16.p));
    LC_TRY(lc_to_bf16(lc_fn, dy, 1, e.y, e.y, NULL, false, 1, 1, dy16.p));
    LC_TRY(run_planned(lc_fn, p, LC_CONV_BWD_DATA, CUDNN_DATA_BFLOAT16, dx16.p, w16.p, dy16.p,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionBackwardData(
          lc.cudnn, &lc_conv_one, pl.w, w16.p, pl.y, dy16.p, pl.conv,
          (cudnnConvolutionBwdDataAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.x, dx16.p);
    }));
    return lc_from_bf16(lc_fn, dx16.p, e.x, NULL, 1, 1, dx);
  });
}

extern "C" int lits_conv2d_backward_filter_bf16_f32(const lits_conv2d_params* params_host,
                                                    const float* x, const float* x_coef,
                                                    int32_t x_relu, const float* dy,
                                                    float* dweight) {
  LC_ENTER("lits_conv2d_backward_filter_bf16_f32");
  return lc_guarded(lc_fn, [&]() -> int {
    CONV_SETUP();
    LC_REQUIRE(dweight != NULL, "%s: dweight is NULL", lc_fn);
    const conv_elements e = elements_of(p);
    if (conv_st == LITS_EMPTY) { /* no images: the gradient is zero, as PyTorch's */
      LC_CHECK(cudaMemsetAsync(dweight, 0, (size_t)e.w * sizeof(float), lc.stream));
      return LITS_OK;
    }
    LC_REQUIRE(x != NULL && dy != NULL, "%s: x or dy is NULL", lc_fn);
    LC_TRY(lc_bf16_ready(lc_fn, "lits_conv2d_backward_filter_f32"));
    lc_bf16_scratch x16, dy16, dw16;
    LC_TRY(x16.alloc(lc_fn, e.x));
    LC_TRY(dy16.alloc(lc_fn, e.y));
    LC_TRY(dw16.alloc(lc_fn, e.w));
    LC_TRY(lc_to_bf16(lc_fn, x, 1, e.x, e.x, x_coef, x_relu != 0, p.c, (int64_t)p.h * p.w,
                      x16.p));
    LC_TRY(lc_to_bf16(lc_fn, dy, 1, e.y, e.y, NULL, false, 1, 1, dy16.p));
    LC_TRY(run_planned(lc_fn, p, LC_CONV_BWD_FILTER, CUDNN_DATA_BFLOAT16, x16.p, dw16.p, dy16.p,
                       [&](const lc_conv_plan& pl, void* ws) {
      return lc_vendor.cudnnConvolutionBackwardFilter(
          lc.cudnn, &lc_conv_one, pl.x, x16.p, pl.y, dy16.p, pl.conv,
          (cudnnConvolutionBwdFilterAlgo_t)pl.algo, ws, pl.workspace, &lc_conv_zero, pl.w,
          dw16.p);
    }));
    return lc_from_bf16(lc_fn, dw16.p, e.w, NULL, 1, 1, dweight);
  });
}
