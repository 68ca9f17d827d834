/* bf16_dy.c: a convolution's backward under autocast from a dy held as
 * bf16, as a batch norm's backward writes it for the convolution before it
 * (lits_batchnorm2d_backward_bf16dx_f32). PyTorch's autocast keeps that
 * gradient in bf16 too; here the convolution would round it to bf16 as it
 * packs it anyway, so the products are the same bits, and the gradient
 * costs half the bytes to write and to read twice (backward data, filter
 * gradient). The 1x1 stride-1 layers read it as it is (conv_bf16.c's GEMM
 * paths, bf16_pack16.c); any other shape gets it widened to fp32 first, the
 * same values. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf16_internal.h"
#include "common.h"
#include "conv_internal.h"

int lits_bf16_widen_f32(const uint16_t* x, float* y, int64_t n) {
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "lits_bf16_widen_f32: n=%lld must be >= 0", (long long)n);
  LITS_REQUIRE(n == 0 || (x != NULL && y != NULL), "lits_bf16_widen_f32: x or y is NULL");
  uint32_t* out = (uint32_t*)y;
#pragma omp parallel for schedule(static) if (n >= (1 << 18))
  for (int64_t i = 0; i < n; i++) out[i] = (uint32_t)x[i] << 16;
  return LITS_OK;
}

int lits_conv2d_bf16dy_takes(const lits_conv2d_params* params_host, int32_t* takes_host) {
  static const char* fn = "lits_conv2d_bf16dy_takes";
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "%s: takes_host is NULL", fn);
  *takes_host = 0;
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  /* LITS_BF16_DY=off: dy stays fp32 (A/B runs). */
  *takes_host = lits_bf16_held("LITS_BF16_DY") && lits_conv_bf16_dy16_native(&p);
  return LITS_OK;
}

int lits_bf16_held(const char* env) {
  const char* v = getenv(env);
  int32_t level = 0;
  lits_bf16_support(&level);
  return (v == NULL || strcmp(v, "off") != 0) && level > 0;
}

float* lits_bf16_widened(const uint16_t* v, int64_t len) {
  float* w = lits_scratch_alloc(len * (int64_t)sizeof(float));
  if (w != NULL) lits_bf16_widen_f32(v, w, len);
  return w;
}

/* dy [n, k, oh, ow] widened into fp32 scratch (NULL: out of memory, recorded). */
static float* widened(const conv_shape* p, const uint16_t* dy) {
  return lits_bf16_widened(dy, p->n * p->k * p->ohw);
}

int lits_conv2d_backward_data_bf16dy_f32(const lits_conv2d_params* params_host,
                                         const float* weight, const uint16_t* dy, float* dx) {
  static const char* fn = "lits_conv2d_backward_data_bf16dy_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_backward_data_f32"));
  if (lits_conv_bf16_dy16_native(&p)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_backward_data16(&p, weight, dy, dx));
  }
  float* w = widened(&p, dy);
  if (w == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
  const int st = lits_conv2d_backward_data_bf16_f32(params_host, weight, w, dx);
  lits_scratch_free(w);
  return st;
}

int lits_conv2d_backward_filter_bf16dy_f32(const lits_conv2d_params* params_host, const float* x,
                                           const float* x_coef, int32_t x_relu,
                                           const uint16_t* dy, float* dweight) {
  static const char* fn = "lits_conv2d_backward_filter_bf16dy_f32";
  lits_clear_error();
  conv_shape p;
  /* The setup's NULL check wants a float dy: any non-NULL pointer says it is there. */
  LITS_CHECKED(lits_conv_filter_setup(fn, &p, params_host, x, (const float*)dy, dweight));
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_backward_filter_f32"));
  if (lits_conv_bf16_dy16_native(&p)) {
    const conv_xform xf_value = {x_coef, x_relu != 0, 0};
    const conv_xform* xf = conv_xform_active(&xf_value) ? &xf_value : NULL;
    return lits_conv_status(fn, &p, lits_conv_bf16_backward_filter16(&p, x, xf, dy, dweight));
  }
  float* w = widened(&p, dy);
  if (w == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
  const int st =
      lits_conv2d_backward_filter_bf16_f32(params_host, x, x_coef, x_relu, w, dweight);
  lits_scratch_free(w);
  return st;
}
