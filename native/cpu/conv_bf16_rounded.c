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
 * The direct 3x3 kernel, for the forward of one input channel (the small
 * CNN's first layer), where conv.c's fp32 path runs it: vdpbf16ps sums
 * pairs of taps, and 9 taps make 5 pairs; products of bf16 values are
 * exact in fp32, so fp32 FMAs over rounded copies sum the same products.
 * The small CNN's 1 -> 16 at 256^2, batch 16: the fp32 kernel 2.5 ms
 * against the bf16 one's 3.0 (the rounded copy of x adds a pass over its
 * 4 MB), and in evaluation its stage then runs as conv_direct_pool.c's one
 * kernel: the small CNN's evaluation 32.0 -> 28.6 ms (bench:step). */
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bf16_blocking.h" /* lits_bf16_amx_on */
#include "common.h"
#include "conv_internal.h"
#include "fused_internal.h"

/* Where conv.c's fp32 path takes Winograd, on a CPU whose bf16 GEMM is not
 * AMX's, for layers of 128+ channels, or 64+ on images of 64^2 or more.
 * Medians of 40 calls of each pass, batch 16, alternating in one process
 * (AMD EPYC Zen 4, 2 threads), forward, backward data and filter gradient,
 * this against conv_bf16.c's direct kernels: 64 -> 64 at 64^2 10.5, 10.4,
 * 14.3 ms against 12.4, 12.3, 14.1; 128 -> 128 at 32^2 10.1, 10.8, 12.9
 * against 12.2, 12.1, 14.1; 256 -> 256 at 16^2 10.9, 11.3, 12.5 against
 * 11.9, 11.9, 14.7. Smaller layers lose: the small CNN's 64 -> 128 at
 * 32^2 7.1, 7.4, 7.8 against 6.5, 6.4, 7.2; 64 -> 64 at 32^2 level or
 * worse; 16 -> 32 at 128^2 and 32 -> 64 at 64^2, all passes, 28.3 and 23.9
 * against 24.1 and 22.6. Layers of 256+ channels go to oneDNN before this
 * where it is installed (conv_bf16_onednn.c: level with this there). */
int lits_conv_bf16_winograd_takes(const conv_shape* p, int kind) {
  if (!lits_conv_winograd_applies(p)) return 0;
  /* LITS_CONV_ALGO (read on every call, as conv.c reads it): =winograd
   * forces it, =gemm or =direct keep the bf16 kernels. */
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "winograd") == 0) return 1;
  if (algo != NULL && (strcmp(algo, "gemm") == 0 || strcmp(algo, "direct") == 0)) return 0;
  const int big = p->c >= 128 || p->h * p->w >= 64 * 64;
  return !lits_bf16_amx_on() && p->c >= 64 && p->k >= 64 && big &&
         lits_conv_winograd_chosen(p, kind);
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

int lits_conv_bf16_rounded_operands(const conv_shape* p, const float* x, const conv_xform* xf,
                                    const float* weight, float** xr, float** wr) {
  const int64_t hw = p->h * p->w, planes = p->n * p->c;
  *xr = (float*)lits_scratch_alloc(planes * hw * (int64_t)sizeof(float));
  *wr = *xr != NULL ? rounded_copy(weight, p->k * p->crs_g) : NULL;
  if (*wr == NULL) {
    lits_scratch_free(*xr);
    *xr = NULL;
    return LITS_ERR_MEMORY;
  }
  const int xact = conv_xform_active(xf);
  float* r = *xr;
#pragma omp parallel for schedule(static) if (planes * hw >= 65536)
  for (int64_t i = 0; i < planes; i++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, p->c, i % p->c);
    fused_apply(r + i * hw, x + i * hw, hw, t, xact && xf->relu);
    conv_round_bf16_row(r + i * hw, hw);
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
