/* conv_bf16_onednn.c: the bf16 convolutions of conv_bf16.c through oneDNN
 * (Debian's libdnnl.so.2, 2.6), for the shapes where it measured faster.
 * Its kernels pick the CPU's best path at run time (avx512_core_bf16 here;
 * AMX tiles on CPUs that have them: oneDNN asks Linux for the tile
 * permission itself), so the same calls serve both.
 *
 * The library is opened with dlopen on first use (onednn_load.c), never
 * linked: without it (or without its header at build time, which makes this
 * file a stub) every call is declined and conv_bf16.c runs its own kernels.
 * oneDNN reads bf16 nChw16c activations, channels-last where it runs AMX
 * (conv_bf16_blocked.c makes them from our NCHW fp32 tensors, applying x's
 * transform and rounding) and writes fp32 in the same layout, turned back
 * to NCHW with the bias added; the weights are rounded by us and reordered
 * by oneDNN. Primitives are kept per (kind, shape, threads); the
 * conversions and oneDNN's scratchpad (user-managed) come from our caching
 * allocator, so a steady training step asks the system for nothing. */
#include "conv_bf16_onednn.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bf16_blocking.h" /* lits_bf16_amx_on */
#include "common.h"
#include "conv_onednn_f32.h" /* lits_f32_unblock: the fp32 output is the fp32 route's */
#include "onednn_load.h"

#if LITS_HAVE_ONEDNN
#include <omp.h>

#define BF16_WHAT "a bf16 convolution"

/* Which (kind, shape) oneDNN takes: LITS_ONEDNN=off none (read on every
 * call, as LITS_CONV_ALGO), =all every shape it can take (benchmarks,
 * tests), none while LITS_CONV_ALGO names one of ours, else the measured
 * choice: the forward and backward data of 3x3 convolutions of stride 2
 * and 128+ channels, and of 1x1 convolutions on images under 8 x 8
 * (TINY_POINTWISE); kernels of 5 x 5 and more (WIDE). ResNet-50's 3x3
 * layers, batch 16, 2 threads, both
 * paths alternating in one process (bench/onednn_conv.c), oneDNN's gain
 * with every conversion, medians of 4-6 quiet runs per shape: stride 2
 * (128 at 64^2, 256 at 32^2, 512 at 16^2) forward +31%, +28%, +41%,
 * backward data +16%, +14%, +33%, and still +9-20% when other processes
 * shared the cores. Stride 1 with 256 channels or more, every kind: those
 * measurements ran with GOMP_SPINCOUNT=0, which slowed our kernels' waits
 * and not oneDNN's own spinning barriers; with libgomp's default, in
 * ResNet-50's training steps, the calls alternating between the two in one
 * process (6 steps, shared cores): 256 at 16^2 forward +10%, backward data
 * +6%, filter gradient +16%; 512 at 8^2 +11%, +11%, +17% (since, fp32
 * Winograd over rounded operands takes those of 64K values an image first,
 * 256 at 16^2: lits_conv_bf16_winograd_first). Kept ours at 128
 * (oneDNN +2-6%) and 64 (its filter gradient -13%), and for stride 2's
 * filter gradient (+32% at 256, but -21% at 512 and -13% at 128). oneDNN
 * spins at its own barriers: an earlier session saw its filter gradient
 * take 3-4x ours while other processes held the cores (512 at 8^2: 150 ms
 * against 50); today's alternating runs, on cores shared as well, did not.
 * That is vdpbf16ps against vdpbf16ps.
 *
 * On a CPU with AMX (our GEMM's tiles on, bf16_amx.c), oneDNN takes every
 * shape it can but three classes (CHOSEN_IF_AMX: only where oneDNN runs its
 * AMX kernels too). 2-core Xeon with AMX, ResNet-50's bf16 training step,
 * batch 16, ms a step over all calls of a class, oneDNN (AMX,
 * channels-last, with the conversions) against ours (im2col and the
 * GEMM's tiles): 1x1 stride 1 forward 183 vs 68, backward data 227 vs 81,
 * filter gradient 300 vs 95; 1x1 stride 2 62 vs 13, 63 vs 12.5, 67 vs 17
 * (our GEMM packs x and dy where they lie and writes NCHW: no conversion
 * passes); 3x3 stride 2 backward data 25 vs 20; but 3x3 stride 1 38 vs
 * 84, 46 vs 71, 76 vs 88, and stride 2 forward 14 vs 23 (its filter
 * gradient 33 vs 29, even within noise, stays oneDNN's). The step: 2,885
 * ms with our vdpbf16ps kernels, 1,475 with oneDNN's AMX for every shape,
 * 830 so. Later, per shape, alternating (2026-12-04): the stride-2 filter
 * gradient of 256 and 512 channels is ours, 6.9 and 11.7 ms a call
 * against oneDNN's 8.8 and 15.5 (128: 9.8 against 9.0, kept); the
 * training step 835 against 845 ms. */
#define CHOSEN_IF_AMX 2

/* TINY_POINTWISE: without AMX, the forward and backward data of 1x1
 * convolutions on images under 8 x 8 (ResNet-50's last stage at 128^2 and
 * 224^2 inputs), where our tiles gather x or dy from several images first:
 * batch 32 (16 for 7^2), medians of 9 in one process, AMD EPYC Zen 4, 2
 * threads, oneDNN's against ours (ms, forward and backward data): 512 ->
 * 2048 at 4^2 2.98, 2.84 against 5.04, 5.44; 2048 -> 512 3.21, 2.83
 * against 5.32, 5.17; at 7^2 4.48, 4.35 against 5.27, 5.78; at 2^2 (batch
 * 16) 0.60, 0.58 against 2.62, 2.76. At 8^2 ours are faster (1024 -> 256:
 * 2.74, 2.57 against 2.99, 2.88), and so is our filter gradient at 4^2
 * (2.79 against 4.26). */
/* WIDE: without AMX, kernels of 5 x 5 taps and more, any stride: the
 * forward and backward data, and the filter gradient from 32 input
 * channels. Batch 16, medians of 5-7 alternating in one process, AMD EPYC
 * Zen 4, 2 threads, oneDNN's against ours (ms, forward, backward data,
 * filter gradient): AlexNet's 64 -> 192 5x5 at 27^2 15.0, 15.5, 17.0
 * against 19.0, 19.3, 20.1; 256 -> 256 5x5 at 14^2 21.2, 22.3, 23.8
 * against 35.7, 32.3, 36.2; 32 -> 64 5x5 at 56^2 12.0, 11.6, 12.4 against
 * 13.5, 15.2, 13.6; 64 -> 64 7x7 stride 2 at 56^2 11.3, 11.4, 12.2
 * against 16.0, 18.1, 12.9. With 16 input channels our filter gradient
 * can win (16 -> 32 5x5 at 56^2: 3.34 against oneDNN's 4.15; 16 -> 16:
 * 3.16 against 1.74), so it stays ours there. */
#define WIDE(p) ((p)->r >= 5 && (p)->s >= 5)
/* GROUPED: grouped convolutions of 3x3 taps or more, with or without AMX,
 * where oneDNN has a JIT kernel for them: every pass of depthwise ones
 * (jit_dw:avx512_core_bf16) but the filter gradient (ours on AVX-512 CPUs:
 * conv_depthwise_filter.c) and the stride-1 passes of 16 columns or more
 * (ours: conv_depthwise.c), and of groups of 16-channel multiples
 * (jit_bf16); the forward and backward data of groups of other channel
 * counts (ResNeXt's 4 or 8: jit_bf16 or brgconv on channels-last
 * activations; their filter gradient was level with ours, 3.38 against
 * 3.30 ms below); the rest it declines. Ours (im2col and a bf16 GEMM per
 * group) ran them at 7-160 GF/s. Batch 16, medians of 7-9 alternating in
 * one process, AMD EPYC Zen 4, 2 threads, ms (forward, backward data,
 * filter gradient), oneDNN's against ours: depthwise 3x3 64 at 56^2 1.24,
 * 1.38, 2.89 against 4.97, 4.20, 8.20; stride 2, 128 at 28^2 0.29, 0.33,
 * 0.83 against 1.39, 1.00, 1.83; 32 at 112^2 3.62, 3.24, 4.09 against
 * 8.34, 6.56, 15.07; 5x5 96 at 28^2 0.74, 0.72 against 7.64, 6.74; 256 in
 * 16 groups at 14^2 1.11, 1.19, 1.43 against 2.22, 3.33, 2.34; in 8 groups
 * 1.17, 1.33, 1.48 against 2.81, 2.96, 2.87; batch 1, depthwise 144 at
 * 56^2 0.22, 0.17, 0.14 against 0.57, 0.52, 0.99; 128 in 32 groups at
 * 28^2 1.11, 1.11 against 2.56, 4.43; 64 in 8 groups at 56^2 3.17, 3.51
 * against 5.21, 7.50; 48 in 2 groups at 28^2 1.10, 1.34 against 1.43,
 * 1.49; 128 in 32 groups, stride 2 at 56^2 4.45, 5.20 against 6.23, 6.45.
 * Grouped 1x1 layers stay ours: 256 in 8 groups at 28^2 0.96, 1.26, 2.08
 * against oneDNN's 2.40, 2.77, 3.11 (64 in 4 groups at 28^2: 0.14, 0.13,
 * 0.32 against 0.81, 0.81, 0.79). Not measured on Intel (nor with AMX). */

/* Groups of several channels, not 16-channel blocks (ResNeXt's 4 or 8). */
static int small_groups(const conv_shape* p) {
  return p->groups > 1 && p->cg > 1 && (p->cg % 16 != 0 || p->kg % 16 != 0);
}

static int chosen(const conv_shape* p, int kind) {
  const char* env = getenv("LITS_ONEDNN");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  if (env != NULL && strcmp(env, "all") == 0) return 1;
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && algo[0] != '\0') return 0;
  if (p->groups > 1) { /* see GROUPED */
    if (kind == 2 && lits_conv_depthwise_filter_applies(p)) return 0;
    /* Depthwise stride-1 layers of 16 columns or more: ours (conv_depthwise.c),
     * ms forward and backward data against oneDNN's, batch 16, medians of 9
     * alternating: 3x3 64 at 56^2 1.20, 1.21 against 1.43, 1.52; 32 at 112^2
     * 2.50, 2.43 against 3.21, 3.25; 5x5 96 at 28^2 0.66, 0.67 against 0.68,
     * 0.73; 7x7 96 at 56^2 3.73, 3.54 against 5.49, 5.16. oneDNN's bf16
     * reads half the bytes and wins where there is less to compute: 576
     * at 14^2 0.88 against 0.77 (backward data level); stride 2 forwards
     * 0.30 against 0.24 (3x3 128 at 28^2) and 0.32 against 0.24 (5x5). */
    if (kind != 2 && lits_conv_depthwise_applies(p, kind) && p->sh == 1 && p->sw == 1 &&
        p->ow >= 16) {
      return 0;
    }
    return p->r * p->s > 1 && (!small_groups(p) || kind != 2);
  }
  if (lits_bf16_amx_on()) {
    const int pointwise = p->r == 1 && p->s == 1;
    const int strided_data = kind == 1 && p->sh == 2 && p->sw == 2;
    const int strided_filter = kind == 2 && p->sh == 2 && p->sw == 2 && p->c >= 256;
    return pointwise || strided_data || strided_filter ? 0 : CHOSEN_IF_AMX;
  }
  if (kind != 2 && p->r == 3 && p->s == 3 && p->sh == 2 && p->sw == 2 && p->c >= 128) return 1;
  if (kind != 2 && p->pointwise && p->h * p->w < 64) return 1; /* see TINY_POINTWISE */
  if (WIDE(p)) return kind != 2 || p->c >= 32;
  if (p->r == 3 && p->s == 3 && p->sh == 1 && p->sw == 1 && p->c >= 256 && p->k >= 256) {
    return !lits_conv_bf16_winograd_first(p, kind);
  }
  return 0;
}

/* What the blocked layouts and oneDNN's kernels take: 16-channel blocks,
 * no dilation, no right padding below zero (grouped weights as oneDNN's
 * goihw: lits_onednn_weights_md). */
static int takes(const conv_shape* p) {
  const int64_t pr = (p->oh - 1) * p->sh + p->r - p->h - p->ph;
  const int64_t pc = (p->ow - 1) * p->sw + p->s - p->w - p->pw;
  return p->dh == 1 && p->dw == 1 && p->c % 16 == 0 && p->k % 16 == 0 && pr >= 0 && pc >= 0;
}

#define PLANS 32

/* One (kind, shape, threads)'s primitives: the convolution, and the
 * weights' reorder (plain bf16 oihw to the convolution's format, or for a
 * filter gradient its fp32 format to oihw; NULL when they are the same). */
typedef struct {
  onednn_plan h; /* key, convolution, reorder, scratchpad */
  dnnl_memory_desc_t in, dyb, out, wplain, w; /* in: x bf16; dyb: dy bf16; out: fp32 */
  int own;  /* w is a layout conv_bf16_blocked.c writes or reads itself: no reorder */
  int nhwc; /* activations channels-last (AMX) rather than nChw16c */
} plan;

static plan plans[PLANS];

/* The convolution's primitive descriptor for kind (scratchpad managed by
 * us), or NULL: bf16 operands, fp32 results (and an fp32 filter gradient);
 * a backward one's forward hint has bf16 weights and its dst in the
 * backward's diff_dst type. */
static dnnl_primitive_desc_t conv_pd(const conv_shape* p, int kind, plan* pl,
                                     const_dnnl_primitive_attr_t attr) {
  dnnl_memory_desc_t wany, wbf;
  lits_onednn_weights_md(&wbf, p, dnnl_bf16, 0);
  lits_onednn_weights_md(&wany, p, kind == 2 ? dnnl_f32 : dnnl_bf16, 0);
  if (kind == 0) return lits_onednn_conv_pd(p, 0, &pl->in, &wbf, &pl->out, &pl->in, &wbf, attr);
  const dnnl_memory_desc_t* src = kind == 1 ? &pl->out : &pl->in;
  return lits_onednn_conv_pd(p, kind, src, &wany, &pl->dyb, &pl->in, &wbf, attr);
}

/* Fills pl for (kind, shape): 1, or 0 when oneDNN would not run it fast. */
static int build(const conv_shape* p, int kind, onednn_plan* head) {
  plan* pl = (plan*)head;
  const dnnl_dims_t xd = {p->n, p->c, p->h, p->w}, yd = {p->n, p->k, p->oh, p->ow};
  const dnnl_dims_t wd = {p->k, p->c, p->r, p->s};
  /* oneDNN 2.6 runs AMX tiles only on channels-last activations: on
   * nChw16c an AMX CPU gets its avx512_core_bf16 kernels, 12-16x slower
   * (256 -> 256 3x3 at 16^2, batch 16: 19 ms against 1.2 ms forward).
   * Grouped layers keep the layouts measured here on every CPU (GROUPED):
   * nChw16c, whose depthwise forward has a JIT kernel (channels-last's has
   * none), but channels-last for groups off 16-channel blocks, which have
   * JIT kernels only there. */
  pl->nhwc = p->groups > 1 ? small_groups(p) : lits_onednn_amx();
  const dnnl_format_tag_t act = pl->nhwc ? dnnl_nhwc : dnnl_nChw16c;
  p_dnnl_memory_desc_init_by_tag(&pl->in, 4, xd, dnnl_bf16, act);
  p_dnnl_memory_desc_init_by_tag(&pl->dyb, 4, yd, dnnl_bf16, act);
  p_dnnl_memory_desc_init_by_tag(&pl->out, 4, kind == 0 ? yd : xd, dnnl_f32, act);
  lits_onednn_weights_md(&pl->wplain, p, kind == 2 ? dnnl_f32 : dnnl_bf16, 1);
  dnnl_primitive_attr_t attr = NULL;
  if (p_dnnl_primitive_attr_create(&attr) != dnnl_success) return 0;
  p_dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  dnnl_primitive_desc_t pd = conv_pd(p, kind, pl, attr);
  int ok = pd != NULL && lits_onednn_fast_impl(pd);
  if (ok) {
    pl->w = *p_dnnl_primitive_desc_query_md(pd, kind == 2 ? dnnl_query_diff_weights_md
                                                          : dnnl_query_weights_md, 0);
    pl->h.conv = lits_onednn_primitive(pd, &pl->h.scratch);
    pd = NULL;
    ok = pl->h.conv != NULL;
  }
  /* The layouts avx512_core_bf16 picks here, converted by our own loops
   * (one pass, inside the conversions' parallel region) rather than by a
   * round and a reorder: 512 -> 512 3x3 weights take ~0.6 ms the long
   * way. Other layouts (other CPUs: AMX) go through oneDNN's reorder. */
  dnnl_memory_desc_t known;
  const dnnl_format_tag_t tags[3] = {dnnl_ABcd8b16a2b, dnnl_ABcd8a16b2a, dnnl_ABcd16b16a};
  p_dnnl_memory_desc_init_by_tag(&known, 4, wd, kind == 2 ? dnnl_f32 : dnnl_bf16, tags[kind]);
  pl->own = ok && p->groups == 1 && p_dnnl_memory_desc_equal(&pl->w, &known);
  if (ok && !pl->own && !p_dnnl_memory_desc_equal(&pl->w, &pl->wplain)) {
    ok = kind == 2 ? lits_onednn_plan_reorder(&pl->h, &pl->w, &pl->wplain, attr)
                   : lits_onednn_plan_reorder(&pl->h, &pl->wplain, &pl->w, attr);
  }
  if (pd != NULL) p_dnnl_primitive_desc_destroy(pd);
  p_dnnl_primitive_attr_destroy(attr);
  return ok;
}

static size_t up64(size_t b) { return (b + 63) & ~(size_t)63; }

/* The inputs in oneDNN's layouts, converted by the threads of one parallel
 * region: x (or dy) to bf16 nChw16c or nhwc, the weights rounded to their
 * layout (own) or to plain bf16 for the reorder. */
static void convert_in(const conv_shape* p, int kind, const plan* pl, const float* a,
                       const conv_xform* xf, const float* b, uint16_t* xb, uint16_t* dyb,
                       uint16_t* wplain, void* wr) {
  const float* dy = kind == 1 ? a : b;
#pragma omp parallel
  {
    if (kind != 1) lits_bf16_to_blocked(a, p->n, p->c, p->h * p->w, xf, pl->nhwc, xb);
    if (kind != 0) lits_bf16_to_blocked(dy, p->n, p->k, p->ohw, NULL, pl->nhwc, dyb);
    if (kind != 2 && pl->own) lits_bf16_weights_blocked(b, p->k, p->c, p->r * p->s, kind, wr);
    if (kind != 2 && !pl->own) lits_bf16_round(b, p->k * p->crs_g, wplain);
  }
}

/* oneDNN's fp32 output back to ours: y (plus bias) or dx to NCHW, or a
 * filter gradient in our own known layout to [k, c, r, s]. */
static void convert_out(const conv_shape* p, int kind, const plan* pl, const float* ob,
                        const void* wr, const float* bias, float* out) {
#pragma omp parallel
  {
    if (kind == 0) lits_f32_unblock(ob, p->n, p->k, p->ohw, pl->nhwc, bias, out);
    if (kind == 1) lits_f32_unblock(ob, p->n, p->c, p->h * p->w, pl->nhwc, NULL, out);
    if (kind == 2) lits_f32_weights_from_blocked(wr, p->k, p->c, p->r * p->s, out);
  }
}

/* The call with the plan's primitives; scratch: [x bf16 | dy bf16 | out
 * fp32 | weights bf16 plain | weights in the convolution's layout |
 * scratchpad], each part only where this kind and plan use it. */
static int run(const conv_shape* p, int kind, const plan* pl, const float* a,
               const conv_xform* xf, const float* b, const float* bias, float* out) {
  const int wmoved = pl->own || pl->h.reorder != NULL; /* w is not plain */
  const size_t nin = kind != 1 ? up64(p_dnnl_memory_desc_get_size(&pl->in)) : 0;
  const size_t ndy = kind != 0 ? up64(p_dnnl_memory_desc_get_size(&pl->dyb)) : 0;
  const size_t nout = kind != 2 ? up64(p_dnnl_memory_desc_get_size(&pl->out)) : 0;
  const size_t nplain =
      kind != 2 && !pl->own ? up64(p_dnnl_memory_desc_get_size(&pl->wplain)) : 0;
  const size_t nw = wmoved ? up64(p_dnnl_memory_desc_get_size(&pl->w)) : 0;
  const size_t total = nin + ndy + nout + nplain + nw + up64(pl->h.scratch) + 64;
  char* base = lits_scratch_alloc((int64_t)total);
  if (base == NULL) return LITS_ERR_MEMORY;
  uint16_t* xb = (uint16_t*)base;
  uint16_t* dyb = (uint16_t*)(base + nin);
  float* ob = (float*)(base + nin + ndy);
  uint16_t* wplain = (uint16_t*)(base + nin + ndy + nout);
  void* wr = base + nin + ndy + nout + nplain;
  void* sp = (char*)wr + nw;
  convert_in(p, kind, pl, a, xf, b, xb, dyb, wplain, wr);
  /* The scratchpad as bytes: oneDNN reads only its address. */
  const dnnl_memory_desc_t spmd = lits_onednn_scratch_md(pl->h.scratch);
  const int ws = DNNL_ARG_SCRATCHPAD, ids_r[3] = {DNNL_ARG_FROM, DNNL_ARG_TO, ws};
  int st = LITS_OK;
  void* wconv = wmoved ? wr : kind == 2 ? (void*)out : (void*)wplain;
  if (kind != 2 && pl->h.reorder != NULL) {
    const dnnl_memory_desc_t* m[3] = {&pl->wplain, &pl->w, &spmd};
    void* const ptr[3] = {wplain, wr, sp};
    st = lits_onednn_execute(pl->h.reorder, m, ptr, ids_r, 3, BF16_WHAT);
  }
  const int ids[3][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                         {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                         {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}};
  const dnnl_memory_desc_t* in0 = kind == 1 ? &pl->dyb : &pl->in;
  const dnnl_memory_desc_t* in1 = kind == 2 ? &pl->dyb : &pl->w;
  const dnnl_memory_desc_t* res = kind == 2 ? &pl->w : &pl->out;
  const dnnl_memory_desc_t* m[4] = {in0, in1, res, &spmd};
  void* const ptr[4] = {kind == 1 ? (void*)dyb : (void*)xb, kind == 2 ? (void*)dyb : wconv,
                        kind == 2 ? wconv : (void*)ob, sp};
  const int args[4] = {ids[kind][0], ids[kind][1], ids[kind][2], ws};
  /* oneDNN 2.6's bf16 filter gradient reads parts of its scratchpad it has
   * not written when there is little work (a 1x1 image under a 5x5 kernel,
   * stride 2 across, groups of 16 channels, batch 1): whatever our caching
   * allocator left there, up to 1e39, came out in dW, changing with the
   * calls before. A zeroed scratchpad gives the sums (float64's to 1e-2). */
  if (kind == 2) memset(sp, 0, pl->h.scratch);
  if (st == LITS_OK) st = lits_onednn_execute(pl->h.conv, m, ptr, args, 4, BF16_WHAT);
  if (st == LITS_OK && (kind != 2 || pl->own)) convert_out(p, kind, pl, ob, wr, bias, out);
  if (st == LITS_OK && kind == 2 && pl->h.reorder != NULL) {
    const dnnl_memory_desc_t* mr[3] = {&pl->w, &pl->wplain, &spmd};
    void* const pr[3] = {wr, out, sp};
    st = lits_onednn_execute(pl->h.reorder, mr, pr, ids_r, 3, BF16_WHAT);
  }
  lits_scratch_free(base);
  return st;
}

int lits_conv_bf16_onednn_may_take(const conv_shape* p, int kind) {
  return chosen(p, kind) != 0 && takes(p);
}

int lits_conv_bf16_onednn(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                          const float* b, const float* bias, float* out) {
  const int want = chosen(p, kind);
  if (want == 0 || !takes(p)) return LITS_ONEDNN_DECLINED;
  lits_onednn_lock();
  plan tmp;
  const int load = lits_onednn_load() && (want == 1 || lits_onednn_amx());
  plan* pl =
      load ? (plan*)lits_onednn_plan_for(plans, PLANS, sizeof(plan), p, kind, &tmp.h, build) : NULL;
  const int st = pl != NULL ? run(p, kind, pl, a, xf, b, bias, out) : LITS_ONEDNN_DECLINED;
  if (pl == &tmp) lits_onednn_plan_drop(&tmp.h, sizeof(tmp));
  lits_onednn_unlock();
  return st;
}

#else /* no oneDNN header at build time: our own kernels only */

int lits_conv_bf16_onednn_may_take(const conv_shape* p, int kind) {
  (void)p, (void)kind;
  return 0;
}

int lits_conv_bf16_onednn(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                          const float* b, const float* bias, float* out) {
  (void)p, (void)kind, (void)a, (void)xf, (void)b, (void)bias, (void)out;
  return LITS_ONEDNN_DECLINED;
}

#endif
