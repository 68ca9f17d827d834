/* conv_bf16_rounded.c: bf16 autocast convolutions (conv_bf16.c's
 * semantics: operands rounded to bf16, sums in fp32) through fp32 kernels
 * over the rounded operands, where those beat the bf16 kernels.
 *
 * Winograd, on CPUs whose bf16 products are vdpbf16ps (no AMX), for the
 * stride-1 3x3 layers where conv.c's fp32 path takes it: vdpbf16ps does
 * twice the products of an fp32 FMA, but Winograd F(4x4, 3x3) does a
 * quarter of them, so fp32 Winograd beats our bf16 direct kernels on the
 * larger of those layers (lits_conv_bf16_winograd_takes has the figures).
 * ResNet-50's bf16 training step, batch 16, 256^2, AMD EPYC Zen 4, 2
 * threads, alternating in one process: 1,510 ms against 1,551 before. x
 * (after its deferred batch norm and ReLU) and dy are rounded as
 * Winograd's transforms read them (conv_xform's bf16), the weights into a
 * copy. What differs from the bf16 kernels is only how the fp32 sums are
 * formed: Winograd's transforms add an error of about 1e-5 of the output's
 * scale (tests/winograd_test.ts), far below the 2^-9 of the operands'
 * rounding that autocast accepts.
 *
 * The direct 3x3 kernels, for the forward and filter gradient of one
 * input channel (the small CNN's first layer), where conv.c's fp32 path
 * runs them: vdpbf16ps sums pairs of taps, and 9 taps make 5 pairs;
 * products of bf16 values are exact in fp32, so fp32 FMAs over rounded
 * copies sum the same products. The small CNN's 1 -> 16 at 256^2, batch
 * 16: the forward's fp32 kernel 2.5 ms against the bf16 one's 3.0 (the
 * rounded copy of x adds a pass over its 4 MB), and in evaluation its
 * stage then runs as conv_direct_pool.c's one kernel: the small CNN's
 * evaluation 32.0 -> 28.6 ms (bench:step); the filter gradient below.
 *
 * conv.c's im2col + GEMM, for the filter gradient of grouped layers of up
 * to 4 channels a group that oneDNN leaves to us (the last function). */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bf16_blocking.h" /* lits_bf16_amx_on */
#include "common.h"
#include "conv_internal.h"
#include "fused_internal.h"

/* Where conv.c's fp32 path takes Winograd, on a CPU whose bf16 GEMM is not
 * AMX's, for layers of 64+ output channels: before oneDNN (_first) those
 * of 32+ input channels whose input image holds 65536+ values (c h w);
 * where oneDNN declines (_takes, checked after it), also those of 128+
 * input channels (oneDNN takes the 256+ channel ones of smaller images:
 * conv_bf16_onednn.c). Medians of 21 calls of each pass, batch 16,
 * alternating in one process (AMD EPYC Zen 4, 2 threads), forward,
 * backward data and filter gradient (ms): the small CNN's 32 -> 64 at 64^2
 * 5.84, 6.17, 6.51 against the direct kernels' 6.01, 6.72, 6.77, and 64 ->
 * 128 at 32^2 4.97, 4.99, 5.13 against 5.76, 5.71, 5.88; ResNet-50's 256 ->
 * 256 at 16^2 8.78, 8.84, 9.88 against oneDNN's 10.30, 10.42, 11.85; 64 ->
 * 64 at 32^2 2.47, 2.52, 2.80 against 2.89, 2.90, 3.09. 128 -> 128 at 16^2
 * (32K values) at batch 32: 5.96, 5.83, 6.38 against 5.94, 5.93, 7.91 (at
 * batch 16 within 5%, either one ahead by run). Smaller ones lose: 32 ->
 * 64 at 32^2 1.66, 1.94, 1.88 against 1.44, 1.63, 1.70; 64 -> 64 at 16^2
 * by 20%; 16 -> 32 at 128^2 and 32 -> 32 at 64^2 (fewer output channels)
 * by 5-25%. oneDNN keeps 256 -> 256 at 8^2 (2.64, 2.64, 3.33 against
 * 2.99, 2.88, 3.32) and 512 -> 512 at 8^2 (level). */
/* LITS_CONV_ALGO (read on every call, as conv.c reads it): 1 where
 * =winograd forces Winograd, -1 where =gemm or =direct keeps the bf16
 * kernels, else 0. */
static int algo_override(void) {
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo == NULL) return 0;
  if (strcmp(algo, "winograd") == 0) return 1;
  return strcmp(algo, "gemm") == 0 || strcmp(algo, "direct") == 0 ? -1 : 0;
}

static int winograd_may(const conv_shape* p, int kind) {
  return !lits_bf16_amx_on() && p->c >= 32 && p->k >= 64 && lits_conv_winograd_chosen(p, kind);
}

int lits_conv_bf16_winograd_first(const conv_shape* p, int kind) {
  const int o = algo_override();
  if (!lits_conv_winograd_applies(p) || o < 0) return 0;
  return o > 0 || (winograd_may(p, kind) && p->c * p->h * p->w >= 65536);
}

int lits_conv_bf16_winograd_takes(const conv_shape* p, int kind) {
  const int o = algo_override();
  if (!lits_conv_winograd_applies(p) || o < 0) return 0;
  return o > 0 || (winograd_may(p, kind) && (p->c * p->h * p->w >= 65536 || p->c >= 128));
}

/* w [n] rounded to bf16 into a scratch copy, or NULL. */
static float* rounded_copy(const float* w, int64_t n) {
  float* r = (float*)lits_scratch_alloc(n * (int64_t)sizeof(float));
  if (r == NULL) return NULL;
#pragma omp parallel for simd schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; i++) r[i] = conv_round_bf16(w[i]);
  return r;
}

int lits_conv_bf16_winograd(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                            const float* b, const float* bias, float* out) {
  if (kind == 2) { /* a = x, b = dy */
    const conv_xform xr = {xf != NULL ? xf->coef : NULL, xf != NULL && xf->relu, 1};
    return lits_conv_winograd_backward_filter(p, a, &xr, b, 1, out);
  }
  float* w = rounded_copy(b, p->k * p->c * 9);
  if (w == NULL) return LITS_ERR_MEMORY;
  int st;
  if (kind == 0) { /* a = x */
    const conv_xform xr = {xf != NULL ? xf->coef : NULL, xf != NULL && xf->relu, 1};
    st = lits_conv_winograd_forward(p, a, &xr, w, bias, out);
  } else { /* a = dy */
    st = lits_conv_winograd_backward_data(p, w, a, 1, out);
  }
  lits_scratch_free(w);
  return st;
}

/* A scratch copy of relu?(T(x)) (x [n, c, h, w]; xf may be NULL) rounded
 * to bf16, or NULL. */
static float* rounded_input(const conv_shape* p, const float* x, const conv_xform* xf) {
  const int64_t hw = p->h * p->w, planes = p->n * p->c;
  float* r = (float*)lits_scratch_alloc(planes * hw * (int64_t)sizeof(float));
  if (r == NULL) return NULL;
  const int xact = conv_xform_active(xf);
#pragma omp parallel for schedule(static) if (planes * hw >= 65536)
  for (int64_t i = 0; i < planes; i++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, p->c, i % p->c);
    conv_input_row(r + i * hw, x + i * hw, hw, t, xact, xact && xf->relu, 1);
  }
  return r;
}

int lits_conv_bf16_rounded_operands(const conv_shape* p, const float* x, const conv_xform* xf,
                                    const float* weight, float** xr, float** wr) {
  *xr = rounded_input(p, x, xf);
  *wr = *xr != NULL ? rounded_copy(weight, p->k * p->crs_g) : NULL;
  if (*wr == NULL) {
    lits_scratch_free(*xr);
    *xr = NULL;
    return LITS_ERR_MEMORY;
  }
  return LITS_OK;
}

int lits_conv_bf16_rounded_direct_takes(const conv_shape* p) {
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "gemm") == 0) return 0;
  return p->c == 1 && lits_conv_direct_applies(p) && lits_conv_forward_runs_direct(p);
}

int lits_conv_bf16_rounded_direct(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* weight, const float* bias, float* y) {
  float *xr, *wr;
  int st = lits_conv_bf16_rounded_operands(p, x, xf, weight, &xr, &wr);
  if (st == LITS_OK) st = lits_conv_direct_forward(p, xr, NULL, wr, bias, y);
  lits_scratch_free(wr);
  lits_scratch_free(xr);
  return st;
}

/* The filter gradient where conv.c's fp32 path runs the direct kernel
 * (3x3 layers of under 8 input channels: the small CNN's first), through
 * it: x rounded into a copy, dy rounded as the kernel loads it. The small
 * CNN's 1 -> 16 at 256^2, batch 16, alternating in one process (AMD EPYC
 * Zen 4, 2 threads): 4.3 ms against im2col and the bf16 GEMM's 7.4 (dy's
 * 64 MB packed into pairs). Products of bf16 values are exact in fp32, so
 * these are autocast's products, summed in fp32 in another order. Not
 * measured against AMX's tiles, which keep it there. */
int lits_conv_bf16_rounded_filter_takes(const conv_shape* p) {
  return !lits_bf16_amx_on() && p->c < 8 && lits_conv_filter_runs_direct(p);
}

int lits_conv_bf16_rounded_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* dy, float* dweight) {
  float* xr = rounded_input(p, x, xf);
  if (xr == NULL) return LITS_ERR_MEMORY;
  const int st = lits_conv_direct_backward_filter(p, xr, dy, 1, dweight);
  lits_scratch_free(xr);
  return st;
}

/* The filter gradient of grouped layers of up to 4 channels a group that
 * oneDNN does not take (ResNeXt's 4-channel groups; depthwise layers only
 * where conv_depthwise_filter.c does not apply: kernels wider than 7, copies
 * past its memory cap), on CPUs without AMX: our bf16 path packs x and dy
 * per group into bf16 pairs for GEMMs of a few rows, and ran slower than
 * float32's. Rounded copies of both, then conv.c's fp32 im2col + GEMM: exact
 * products of bf16 values summed in fp32, as autocast's. Batch 16, medians
 * of 9 alternating in one process (AMD EPYC Zen 4, 2 threads), ms against
 * the bf16 path: 128 in 32 groups at 28^2 2.60 against 3.34 (fp32 1.98);
 * 64 -> 128 in 32 groups 1.28 against 1.49; 32 in 16 groups at 56^2 1.82
 * against 2.48; the 5x5 depthwise 96 at 28^2 5.64 against 7.96
 * (conv_depthwise_filter.c's since: 0.77); at batch 1, 128 in 32 groups at
 * 56^2 0.41 against 0.65. With 8 channels a group the bf16 path was faster
 * (64 in 8 groups at 56^2: 6.33 against 7.33), and with 24 far faster (1.46
 * against 2.50). Not measured against AMX's tiles, which keep it there. */
int lits_conv_bf16_grouped_filter_takes(const conv_shape* p) {
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && algo[0] != '\0') return 0;
  return !lits_bf16_amx_on() && p->groups > 1 && p->cg <= 4 && p->r * p->s > 1;
}

int lits_conv_bf16_grouped_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* dy, float* dweight) {
  float* xr = rounded_input(p, x, xf);
  float* dyr = xr != NULL ? rounded_copy(dy, p->n * p->k * p->ohw) : NULL;
  const int st = dyr != NULL ? lits_conv_gemm_backward_filter(p, xr, NULL, dyr, dweight)
                             : LITS_ERR_MEMORY;
  lits_scratch_free(dyr);
  lits_scratch_free(xr);
  return st;
}
