/* conv.c: 2-D convolution entry points (forward, backward data, filter and
 * bias): argument checks, then the algorithm for the shape. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_onednn_f32.h"

/* Below this many elements the bias gradient stays on one thread. */
#define LITS_CONV_PAR_MIN 32768
/* Tiles per thread below which the forward leaves Winograd (enough_tiles). */
#define WINOGRAD_MIN_TILES 16

enum conv_algo { ALGO_GEMM, ALGO_DIRECT, ALGO_WINOGRAD, ALGO_OUTER };

/* Whether a filter gradient goes to conv_filter_outer.c (outer products on
 * packed_gemm.c's micro-kernel, x's channel-taps gathered as they are
 * packed) rather than oneDNN or im2col + OpenBLAS: the 3x3 stride-2 layers
 * of 128+ channels and the one-channel 7x7 stride-2 stem. ResNet-50's,
 * batch 16, 2 threads, Xeon with AMX, alternating call by call in one
 * process (bench/filter_ab.ts, medians of 15), oneDNN's time and im2col +
 * OpenBLAS's over ours: 128 at 64^2 1.10 and 1.17, 256 at 32^2 1.16 and
 * 1.12, 512 at 16^2 (8^2 outputs) 1.39 and 1.24, the stem 1.08 and 1.07.
 * conv_filter_cols.c, which took 512 at 16^2 before (the same GEMM on an
 * im2col matrix, the same bits), 17.0 ms against 14.7 then (deleted). */
static int outer_filter_wins(const conv_shape* p) {
  if (p->sh != 2 || p->sw != 2 || !lits_conv_filter_taps_applies(p)) return 0;
  const int s3 = p->r == 3 && p->s == 3 && p->c >= 128 && p->k >= 128;
  const int stem = p->r == 7 && p->s == 7 && p->c == 1;
  return s3 || stem;
}

/* Whether Winograd is the fastest for a shape, c and k being the channels
 * of its input and output: F(4x4, 3x3) for the forward and backward data,
 * F(2x2, 3x3) for the filter gradient. Measured on ResNet-50's and the
 * small CNN's 3x3 layers at batch 16 (AMD EPYC Zen 4, 2 threads;
 * bench/conv_bench.ts): from 32 columns up, the forward 1.3x to 2.4x the
 * direct kernel or GEMM (64 -> 64 channels at 64 x 64: 10.3 ms against
 * 24.9), the filter gradient 1.35x to 1.75x GEMM (64 -> 64: 19.4 against
 * 34.1); on narrow images with 128+ channels, 1.2x to 1.3x (512 -> 512 at
 * 8 x 8: 22 ms against GEMM's 29, filter 27 against 32.5). Narrow images
 * (8 to 31 columns: no direct kernel) of 32+ input channels take it too:
 * there the alternative is im2col + GEMM, and Winograd took half its time
 * at batch 16, all three passes (medians of 15, alternating in one
 * process): 64 -> 128 at 16^2 5.0 against 10.1 ms (the small CNN's last
 * layer at `deno task train`'s 128^2: 10.8 against 21.9 at batch 32),
 * 64 -> 64 at 12^2 1.7 against 3.6, 32 -> 64 at 8^2 0.7 against 1.4,
 * 256 -> 16 at 8^2 2.7 against 4.1. 16 input channels are left to GEMM
 * (16 -> 256 at 8^2: Winograd 3.9 against 1.8), and so are images under
 * 8 columns. */
static int winograd_wins(const conv_shape* p) {
  if (p->w >= 32) return p->c >= 16 && p->k >= 16 && p->c * p->k >= 512;
  return p->w >= 8 && p->c >= 32 && p->k >= 16 && p->c * p->k >= 512;
}

/* Whether the direct kernel's forward beats Winograd's on a layer that
 * winograd_wins gives Winograd: few channels (c * k <= 512) on Intel's
 * cores, whose two 512-bit FMA ports halve the direct kernel's arithmetic
 * against Winograd's memory-bound transforms. The small CNN's 16 -> 32 at
 * 128 x 128, batch 16, 2-core Xeon (AVX-512, AMX): forward 7.6 ms against
 * 10.3 in training, 8.3 against 9.6-9.9 prepared in evaluation; its
 * backward data and filter gradient stay Winograd's (12.1 against 10.5,
 * and GEMM's 17.2 against 13.1). On AMD Zen 4 (one FMA a cycle) Winograd
 * measured faster, as above. */
static int direct_forward_wins(const conv_shape* p) {
  static int intel = -1;
  if (intel < 0) intel = __builtin_cpu_is("intel") ? 1 : 0;
  return intel && p->w >= 32 && p->c * p->k <= 512;
}

/* Whether the forward's (and backward data's) 4x4 tiles give every thread
 * WINOGRAD_MIN_TILES or more: fewer make each of the 36 planes' GEMMs a few
 * columns wide against all of the weights, and im2col + GEMM is faster.
 * Measured on ResNet-50's 3x3 layers under noGrad, 2 threads (AMD EPYC
 * Zen 4): 512 -> 512 at 8 x 8 (4 tiles an image), batch 1 2.5 ms against
 * Winograd's 7.7, batch 4 7.5 against 7.9, batch 8 Winograd 10.6 against
 * 15.1; 256 -> 256 at 16 x 16 (16 tiles), batch 1 level, batch 2
 * Winograd 2.3 against 3.5. */
static int enough_tiles(const conv_shape* p) {
  const int64_t tiles = p->n * ((p->h + 3) / 4) * ((p->w + 3) / 4);
  return tiles >= WINOGRAD_MIN_TILES * omp_get_max_threads();
}

/* The algorithm for a shape, as measured fastest (bench/conv_bench.ts):
 * Winograd for the 3x3 layers of winograd_wins; the direct 3x3 kernels
 * where they apply (forward and backward data; the filter gradient only
 * with few input channels, where im2col's GEMM has an inner dimension of
 * 9 c); the filter gradient of outer_filter_wins through
 * conv_filter_outer.c; else im2col + GEMM. (Before this, the forward and
 * backward data of the stride-2 3x3 layers of 128+ channels go to oneDNN
 * where libdnnl is installed: conv_onednn_f32.c's chosen.)
 * lits_set_winograd(0) (or LITS_WINOGRAD=0) leaves Winograd out, for sums
 * that round as a direct sum does (PyTorch's CPU convolutions).
 * LITS_CONV_ALGO=gemm, =direct or =winograd in the environment forces one where it applies (GEMM elsewhere), and
 * =openblas keeps the 1x1 layers' GEMMs on OpenBLAS (packed_gemm.c), for
 * benchmarks and tests that compare them; it is read on every call. (A
 * one-channel stride-2 forward, ResNet's stem, goes to conv_stem.c before
 * any of these: lits_conv_stem_applies.) */
static int pick_algo(const conv_shape* p, const conv_xform* xf, int kind) {
  const int filter = kind == 2;
  const int direct = lits_conv_direct_applies(p) && !(filter && conv_xform_active(xf));
  const int winograd = lits_conv_winograd_applies(p) && lits_winograd_allowed();
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "direct") == 0) return direct ? ALGO_DIRECT : ALGO_GEMM;
  if (algo != NULL && strcmp(algo, "winograd") == 0) return winograd ? ALGO_WINOGRAD : ALGO_GEMM;
  if (algo != NULL && strcmp(algo, "gemm") == 0) return ALGO_GEMM;
  if (kind == 0 && direct && direct_forward_wins(p)) return ALGO_DIRECT;
  if (winograd && winograd_wins(p) && (filter || enough_tiles(p))) return ALGO_WINOGRAD;
  if (filter && outer_filter_wins(p)) return ALGO_OUTER;
  return direct && (!filter || p->c < 8) ? ALGO_DIRECT : ALGO_GEMM;
}

int lits_conv_forward_runs_direct(const conv_shape* p) {
  return !lits_conv_onednn_f32_may_take(p, 0) && pick_algo(p, NULL, 0) == ALGO_DIRECT;
}

int lits_conv_filter_runs_direct(const conv_shape* p) {
  return !lits_conv_onednn_f32_may_take(p, 2) && pick_algo(p, NULL, 2) == ALGO_DIRECT;
}

int lits_conv_winograd_chosen(const conv_shape* p, int kind) {
  return pick_algo(p, NULL, kind) == ALGO_WINOGRAD;
}

/* An algorithm's status as the entry point's: scratch that could not be
 * allocated is reported with the shape. */
int lits_conv_status(const char* fn, const conv_shape* p, int status) {
  if (status == LITS_ERR_MEMORY) {
    return lits_fail(LITS_ERR_MEMORY,
                     "%s: out of memory for scratch (n=%lld c=%lld h=%lld w=%lld k=%lld r=%lld "
                     "s=%lld)",
                     fn, (long long)p->n, (long long)p->c, (long long)p->h, (long long)p->w,
                     (long long)p->k, (long long)p->r, (long long)p->s);
  }
  return status;
}

/* The shared checks (lits_check.h) and this backend's own: the im2col
 * buffer's size and OpenBLAS's 32-bit dimensions. LITS_EMPTY for n = 0. */
int lits_conv_setup(const char* fn, conv_shape* p, const lits_conv2d_params* params) {
  lits_conv_geom g = {0};
  const int st = lits_check_conv(fn, &g, params);
  if (st > 0) return st;
  p->n = g.n, p->c = g.c, p->h = g.h, p->w = g.w, p->k = g.k, p->r = g.r, p->s = g.s;
  p->sh = g.sh, p->sw = g.sw, p->ph = g.ph, p->pw = g.pw, p->dh = g.dh, p->dw = g.dw;
  p->groups = g.groups;
  p->oh = g.oh;
  p->ow = g.ow;
  p->cg = g.c / g.groups;
  p->kg = g.k / g.groups;
  int64_t col_el, t;
  int ok = lits_mul_ok(p->oh, p->ow, &p->ohw) && lits_mul_ok(p->cg * p->r, p->s, &p->crs_g) &&
           lits_mul_ok(p->crs_g * p->groups, p->ohw, &col_el) && lits_mul_ok(col_el, 4, &t);
  LITS_REQUIRE(ok, "%s: sizes overflow (n=%d c=%d h=%d w=%d k=%d r=%d s=%d)", fn, (int)g.n,
               (int)g.c, (int)g.h, (int)g.w, (int)g.k, (int)g.r, (int)g.s);
  LITS_REQUIRE(p->ohw <= INT_MAX && p->crs_g <= INT_MAX && p->h * p->w <= INT_MAX,
               "%s: a GEMM dimension exceeds the 32-bit BLAS limit (oh*ow=%lld, "
               "(c/groups)*r*s=%lld, h*w=%lld)",
               fn, (long long)p->ohw, (long long)p->crs_g, (long long)(p->h * p->w));
  p->pointwise = g.r == 1 && g.s == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  return st;
}

int lits_conv_filter_setup(const char* fn, conv_shape* p, const lits_conv2d_params* params,
                           const float* x, const float* dy, float* dweight) {
  const int st = lits_conv_setup(fn, p, params);
  if (st > 0) return st;
  LITS_REQUIRE(dweight != NULL, "%s: dweight is NULL", fn);
  if (st == LITS_EMPTY) { /* no images: the gradient is zero, as PyTorch's */
    memset(dweight, 0, (size_t)(p->k * p->crs_g) * sizeof(float));
    return LITS_EMPTY;
  }
  LITS_REQUIRE(x != NULL && dy != NULL, "%s: x or dy is NULL", fn);
  return LITS_OK;
}

/* Whether the forward of p runs the packed GEMM's 1x1 gather, the one
 * algorithm that reads a conv_xform's img_scale (conv_gemm.c declines the
 * rest of its tilings with LITS_ERR_UNAVAILABLE). */
static int gathers_1x1(const conv_shape* p) {
  return p->pointwise && p->groups == 1 && !lits_conv_stem_applies(p) &&
         !lits_conv_onednn_f32_may_take(p, 0) && !lits_conv_depthwise_applies(p, 0) &&
         pick_algo(p, NULL, 0) == ALGO_GEMM;
}

/* The forward of relu?(T(x)) (times img_scale: xf_value's), with the
 * weights prepared in `prepared` where the algorithm has anything to
 * prepare (conv_prepared.c). An img_scale that the algorithm for p does
 * not read is LITS_ERR_UNAVAILABLE, no error recorded: the caller scales
 * x itself. */
static int forward_xf(const char* fn, const lits_conv2d_params* params_host, const float* x,
                      const conv_xform* xf_value, const float* weight, const float* bias,
                      float* y, void* prepared, int64_t prepared_bytes, conv_epilogue* ep) {
  lits_clear_error();
  LITS_REQUIRE(prepared_bytes >= 0 && (prepared != NULL || prepared_bytes == 0),
               "%s: prepared is NULL or prepared_bytes (%lld) is negative", fn,
               (long long)prepared_bytes);
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  const conv_xform* xf = conv_xform_active(xf_value) ? xf_value : NULL;
  if (xf != NULL && xf->img_scale != NULL && !gathers_1x1(&p)) return LITS_ERR_UNAVAILABLE;
  if (lits_conv_stem_applies(&p)) {
    double* moments = ep != NULL ? ep->moments : NULL;
    /* An evaluation epilogue without a residual, as the stem writes y, not
     * in a pass after: MobileNetV2's 3x3 stride-2 1 -> 32 at 256^2, batch
     * 16, 2 threads, AMD EPYC Zen 4, 1.85 ms against 2.90 with ReLU6
     * (EfficientNet's SiLU gains less: its exp, silu16.h). */
    const int fuse = ep != NULL && ep->r == NULL && (ep->y_coef != NULL || ep->relu);
    const int st = lits_conv_stem_forward(&p, x, xf, weight, bias, y, 0, moments,
                                          fuse ? ep->y_coef : NULL, fuse ? ep->relu : 0);
    if (moments != NULL && st == LITS_OK) ep->moments_done = 1;
    if (fuse && st == LITS_OK) ep->applied = 1;
    return lits_conv_status(fn, &p, st);
  }
  const int od = lits_conv_onednn_f32(&p, 0, x, xf, weight, bias, y);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_chw_applies(&p, xf)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_chw_forward(&p, x, weight, bias, 0, y, ep));
  }
  if (lits_conv_depthwise_applies(&p, 0)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_forward(&p, x, xf, weight, bias, 0, y, ep));
  }
  const int algo = pick_algo(&p, xf, 0);
  if (algo == ALGO_WINOGRAD) {
    const int st = lits_conv_prepared_winograd_forward(&p, x, xf, weight, bias, y, prepared,
                                                       prepared_bytes);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
    /* NaN or Inf came out: again by im2col + GEMM, whose reach is PyTorch's
     * (its prepared weights would replace Winograd's in `prepared`). */
    return lits_conv_status(fn, &p,
                            lits_conv_gemm_forward(&p, x, xf, weight, bias, y, ep, NULL, 0));
  }
  if (algo == ALGO_DIRECT) {
    /* The direct kernel may decline a transformed input (a batch smaller than the threads). */
    const int st = lits_conv_direct_forward(&p, x, xf, weight, bias, y);
    if (st != LITS_ERR_UNAVAILABLE) return lits_conv_status(fn, &p, st);
  }
  return lits_conv_status(
      fn, &p, lits_conv_gemm_forward(&p, x, xf, weight, bias, y, ep, prepared, prepared_bytes));
}

static int forward(const char* fn, const lits_conv2d_params* params_host, const float* x,
                   const float* x_coef, int32_t x_relu, const float* weight, const float* bias,
                   float* y, void* prepared, int64_t prepared_bytes, conv_epilogue* ep) {
  const conv_xform xf_value = {x_coef, x_relu != 0, 0, NULL};
  return forward_xf(fn, params_host, x, &xf_value, weight, bias, y, prepared, prepared_bytes, ep);
}

/* forward, then the epilogue over y where the algorithm did not apply it as
 * it wrote y. */
static int forward_then(const char* fn, const lits_conv2d_params* params_host, const float* x,
                        const float* x_coef, int32_t x_relu, const float* weight,
                        const float* bias, float* y, void* prepared, int64_t prepared_bytes,
                        conv_epilogue* ep) {
  const int st = forward(fn, params_host, x, x_coef, x_relu, weight, bias, y, prepared,
                         prepared_bytes, ep);
  return st != LITS_OK || ep->applied ? st : lits_conv_epilogue_pass(params_host, ep, y);
}

int lits_conv_epilogue_pass(const lits_conv2d_params* q, const conv_epilogue* ep, float* y) {
  const int64_t oh = (q->h + 2 * q->pad_h - q->dil_h * (q->r - 1) - 1) / q->stride_h + 1;
  const int64_t ow = (q->w + 2 * q->pad_w - q->dil_w * (q->s - 1) - 1) / q->stride_w + 1;
  return lits_fused_affine_f32(y, ep->y_coef, ep->r, ep->r_coef, y, q->n, q->k, oh * ow,
                               ep->relu);
}

int lits_conv2d_forward_f32(const lits_conv2d_params* params_host, const float* x,
                            const float* x_coef, int32_t x_relu, const float* weight,
                            const float* bias, float* y) {
  return forward("lits_conv2d_forward_f32", params_host, x, x_coef, x_relu, weight, bias, y, NULL,
                 0, NULL);
}

int lits_conv2d_prepared_bytes(const lits_conv2d_params* params_host, int64_t* bytes) {
  static const char* fn = "lits_conv2d_prepared_bytes";
  lits_clear_error();
  LITS_REQUIRE(bytes != NULL, "%s: bytes is NULL", fn);
  *bytes = 0;
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  if (lits_conv_stem_applies(&p) || lits_conv_onednn_f32_may_take(&p, 0) ||
      lits_conv_depthwise_applies(&p, 0)) {
    return LITS_OK;
  }
  const int algo = pick_algo(&p, NULL, 0);
  if (algo == ALGO_WINOGRAD) *bytes = lits_conv_prepared_bytes(&p);
  if (algo == ALGO_GEMM) *bytes = lits_conv_prepared_gemm_bytes(&p);
  return LITS_OK;
}

int lits_conv2d_forward_prepared_f32(const lits_conv2d_params* params_host, const float* x,
                                     const float* x_coef, int32_t x_relu, const float* weight,
                                     const float* bias, float* y, void* prepared,
                                     int64_t prepared_bytes) {
  static const char* fn = "lits_conv2d_forward_prepared_f32";
  lits_clear_error();
  return forward(fn, params_host, x, x_coef, x_relu, weight, bias, y, prepared, prepared_bytes,
                 NULL);
}

int lits_conv_epilogue_args(const char* fn, const float* r, const float* r_coef, int32_t relu) {
  LITS_REQUIRE(r != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  LITS_REQUIRE(relu >= 0 && relu <= FUSED_SILU, "%s: relu must be 0, 1, 2 or 3, got %d", fn,
               relu);
  return LITS_OK;
}

int lits_conv2d_forward_epilogue_f32(const lits_conv2d_params* params_host, const float* x,
                                     const float* x_coef, int32_t x_relu, const float* weight,
                                     const float* bias, const float* y_coef, const float* r,
                                     const float* r_coef, int32_t relu, float* y, void* prepared,
                                     int64_t prepared_bytes) {
  static const char* fn = "lits_conv2d_forward_epilogue_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL};
  return forward_then(fn, params_host, x, x_coef, x_relu, weight, bias, y, prepared,
                      prepared_bytes, &ep);
}

int lits_conv2d_forward_epilogue_pool_f32(const lits_conv2d_params* params_host, const float* x,
                                          const float* x_coef, int32_t x_relu,
                                          const float* weight, const float* bias,
                                          const float* y_coef, const float* r,
                                          const float* r_coef, int32_t relu, float* y,
                                          float* pooled, void* prepared,
                                          int64_t prepared_bytes) {
  static const char* fn = "lits_conv2d_forward_epilogue_pool_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(pooled != NULL, "%s: pooled is NULL", fn);
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL, pooled, 0};
  const int st = forward_then(fn, params_host, x, x_coef, x_relu, weight, bias, y, prepared,
                              prepared_bytes, &ep);
  if (st == LITS_OK) lits_conv_plane_means(&p, &ep, y, pooled);
  return st;
}

int lits_conv2d_forward_epilogue_scaled_f32(const lits_conv2d_params* params_host,
                                            const float* x, const float* x_scale,
                                            const float* weight, const float* bias,
                                            const float* y_coef, const float* r,
                                            const float* r_coef, int32_t relu, float* y,
                                            void* prepared, int64_t prepared_bytes) {
  static const char* fn = "lits_conv2d_forward_epilogue_scaled_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && x_scale != NULL, "%s: x or x_scale is NULL", fn);
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL, NULL, 0};
  /* The packed GEMM scales each value as it packs x (the bits of x_scale * x
   * written first, then read: the same GEMM); any other algorithm reads a
   * scaled copy. */
  const conv_xform xf = {NULL, 0, 0, x_scale};
  int st = forward_xf(fn, params_host, x, &xf, weight, bias, y, prepared, prepared_bytes, &ep);
  if (st == LITS_ERR_UNAVAILABLE) {
    const int64_t hw = p.h * p.w, planes = p.n * p.c;
    float* xs = (float*)lits_scratch_alloc(planes * hw * (int64_t)sizeof(float));
    if (xs == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
    lits_scale_planes(x, x_scale, planes, hw, xs);
    ep.applied = 0;
    st = forward(fn, params_host, xs, NULL, 0, weight, bias, y, prepared, prepared_bytes, &ep);
    lits_scratch_free(xs);
  }
  return st != LITS_OK || ep.applied ? st : lits_conv_epilogue_pass(params_host, &ep, y);
}

int lits_conv2d_forward_moments_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* x_coef, int32_t x_relu, const float* weight,
                                    const float* bias, float* y, double* moments) {
  static const char* fn = "lits_conv2d_forward_moments_f32";
  lits_clear_error();
  LITS_REQUIRE(moments != NULL, "%s: moments is NULL", fn);
  conv_epilogue ep = {0};
  ep.moments = moments;
  const int st = forward(fn, params_host, x, x_coef, x_relu, weight, bias, y, NULL, 0, &ep);
  if (st != LITS_OK || ep.moments_done) return st;
  lits_conv_moments_of(params_host, y, moments); /* checked by forward */
  return LITS_OK;
}

void lits_conv_moments_of(const lits_conv2d_params* q, const float* y, double* moments) {
  const int64_t oh = (q->h + 2 * q->pad_h - q->dil_h * (q->r - 1) - 1) / q->stride_h + 1;
  const int64_t ow = (q->w + 2 * q->pad_w - q->dil_w * (q->s - 1) - 1) / q->stride_w + 1;
  if ((int64_t)q->n * oh * ow == 0) { /* no values: the mean of nothing */
    for (int64_t i = 0; i < 2 * (int64_t)q->k; i++) moments[i] = i % 2 ? 0.0 : NAN;
    return;
  }
  lits_conv_moments_pass(y, q->n, q->k, oh * ow, moments);
}

int lits_conv2d_backward_data_f32(const lits_conv2d_params* params_host, const float* weight,
                                  const float* dy, float* dx) {
  static const char* fn = "lits_conv2d_backward_data_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", fn);
  const int od = lits_conv_onednn_f32(&p, 1, dy, NULL, weight, NULL, dx);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_applies(&p, 1) && conv_padded_dy_ok(&p, weight)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_backward_data(&p, weight, dy, 0, dx));
  }
  const int algo = pick_algo(&p, NULL, 1);
  if (algo == ALGO_WINOGRAD) { /* NaN or Inf out: again by im2col + GEMM (conv_internal.h) */
    const int st = lits_conv_winograd_backward_data(&p, weight, dy, 0, dx);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
  }
  if (algo == ALGO_DIRECT && conv_padded_dy_ok(&p, weight)) {
    const int st = lits_conv_direct_backward_data(&p, weight, dy, dx);
    if (st != LITS_ERR_UNAVAILABLE) return lits_conv_status(fn, &p, st);
  }
  return lits_conv_status(fn, &p, lits_conv_gemm_backward_data(&p, weight, dy, dx));
}

int lits_conv2d_backward_filter_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* x_coef, int32_t x_relu, const float* dy,
                                    float* dweight) {
  static const char* fn = "lits_conv2d_backward_filter_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_filter_setup(fn, &p, params_host, x, dy, dweight));
  const conv_xform xf_value = {x_coef, x_relu != 0, 0};
  const conv_xform* xf = conv_xform_active(&xf_value) ? &xf_value : NULL;
  if (lits_conv_filter_taps_forced(&p)) { /* LITS_FILTER_TAPS=outer (tests, benchmarks) */
    return lits_conv_status(fn, &p, lits_conv_filter_outer(&p, x, xf, dy, dweight));
  }
  const int od = lits_conv_onednn_f32(&p, 2, x, xf, dy, NULL, dweight);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_filter_applies(&p)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_filter(&p, x, xf, dy, 0, dweight));
  }
  const int algo = pick_algo(&p, xf, 2);
  if (algo == ALGO_WINOGRAD) {
    const int st = lits_conv_winograd_backward_filter(&p, x, xf, dy, 0, dweight);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
    return lits_conv_status(fn, &p, lits_conv_gemm_backward_filter(&p, x, xf, dy, dweight));
  }
  if (algo == ALGO_OUTER) {
    return lits_conv_status(fn, &p, lits_conv_filter_outer(&p, x, xf, dy, dweight));
  }
  if (algo == ALGO_DIRECT) { /* (only without a transform: see pick_algo) */
    return lits_conv_status(fn, &p, lits_conv_direct_backward_filter(&p, x, dy, 0, dweight));
  }
  return lits_conv_status(fn, &p, lits_conv_gemm_backward_filter(&p, x, xf, dy, dweight));
}

int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                  int64_t hw) {
  static const char* fn = "lits_conv2d_backward_bias_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_conv_bias(fn, n, k, hw));
  /* With no images (n * hw = 0) the sums below are zeros and read no dy. */
  LITS_REQUIRE(dbias != NULL && (dy != NULL || (int64_t)n * hw == 0), "%s: dy or dbias is NULL",
               fn);
  const int64_t kk = k;
#pragma omp parallel for schedule(static) if ((int64_t)n * k * hw >= LITS_CONV_PAR_MIN)
  for (int64_t ki = 0; ki < kk; ki++) {
    double acc = 0.0;
    for (int64_t ni = 0; ni < n; ni++) {
      const float* src = dy + (ni * kk + ki) * hw;
#pragma omp simd reduction(+ : acc)
      for (int64_t j = 0; j < hw; j++) acc += src[j];
    }
    dbias[ki] = (float)acc;
  }
  return LITS_OK;
}
