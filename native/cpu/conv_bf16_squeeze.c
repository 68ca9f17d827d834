/* conv_bf16_squeeze.c: EfficientNet's squeeze-and-excitation in evaluation
 * under bf16 autocast (squeeze_excite.c's three calls, bf16 forms): the
 * depthwise convolution's plane means gathered as its kernel writes them
 * (the NCHW kernel rounds each plane as it reads it: conv_depthwise_chw.c),
 * the gate on rounded operands (lits_squeeze_excitation_gate_bf16_f32), and
 * the projection over a scaled copy of its input, rounded by the bf16
 * convolution as it packs it.
 *
 * Why: run as modules under autocast, the block's pool, gate (five ops)
 * and channel scale each read or write its largest tensor; EfficientNet-B0
 * evaluation was slower in bf16 than in fp32 on a Zen 4 (163.6 ms against
 * 135.3 at batch 16, 256^2; bench:step 2026-12-07), whose fp32 forward
 * fuses them. The scaled copy stays: the bf16 GEMM's packing has no per
 * image scale (it reads tiles of several images at once). */
#include "bf16_internal.h"
#include "common.h"
#include "conv_internal.h"

int lits_conv2d_forward_epilogue_pool_bf16_f32(const lits_conv2d_params* params_host,
                                               const float* x, const float* x_coef,
                                               int32_t x_relu, const float* weight,
                                               const float* bias, const float* y_coef,
                                               const float* r, const float* r_coef, int32_t relu,
                                               float* y, float* pooled) {
  static const char* fn = "lits_conv2d_forward_epilogue_pool_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(pooled != NULL, "%s: pooled is NULL", fn);
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL, pooled, 0};
  const int st =
      lits_conv_bf16_forward_epilogue(fn, params_host, x, x_coef, x_relu, weight, bias, y, &ep);
  if (st == LITS_OK) lits_conv_plane_means(&p, &ep, y, pooled);
  return st;
}

int lits_conv2d_forward_epilogue_scaled_bf16_f32(const lits_conv2d_params* params_host,
                                                 const float* x, const float* x_scale,
                                                 const float* weight, const float* bias,
                                                 const float* y_coef, const float* r,
                                                 const float* r_coef, int32_t relu, float* y) {
  static const char* fn = "lits_conv2d_forward_epilogue_scaled_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && x_scale != NULL, "%s: x or x_scale is NULL", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_forward_epilogue_scaled_f32"));
  const int64_t hw = p.h * p.w, planes = p.n * p.c;
  float* xs = (float*)lits_scratch_alloc(planes * hw * (int64_t)sizeof(float));
  if (xs == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
  lits_scale_planes(x, x_scale, planes, hw, xs); /* the bits of x_scale * x written */
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL, NULL, 0};
  const int st =
      lits_conv_bf16_forward_epilogue(fn, params_host, xs, NULL, 0, weight, bias, y, &ep);
  lits_scratch_free(xs);
  return st;
}
