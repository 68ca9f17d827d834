/* conv_onednn_f32.c: the fp32 convolutions conv.c hands to oneDNN
 * (libdnnl.so.2, opened at run time by onednn_load.c; declined without it,
 * and conv.c runs its own kernels): its JIT kernels read and write nChw16c,
 * made from and back to our NCHW tensors by conv_f32_blocked.c, which
 * applies x's transform on the way in and the bias on the way out. The
 * weights (or a filter gradient) go through oneDNN's reorder to and from
 * its blocked layout. Primitives are kept per (kind, shape, threads); the
 * conversions and oneDNN's scratchpad (user-managed) come from our caching
 * allocator, so a steady training step asks the system for nothing. */
#include "conv_onednn_f32.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#if LITS_HAVE_ONEDNN
#include <omp.h>

#define WHAT "an fp32 convolution"

/* Which (kind, shape) oneDNN takes: LITS_ONEDNN=off none (read on every
 * call, as LITS_CONV_ALGO), =all every shape it can take (benchmarks,
 * tests), none while LITS_CONV_ALGO names one of ours, else the measured
 * choice (also WIDE and the narrow images, below): the forward and
 * backward data of 3x3 convolutions of stride 2 and 128+ channels, which
 * our kernels serve with im2col + GEMM (their
 * filter gradient is conv_filter_outer.c's, even with oneDNN's or ahead:
 * conv.c's outer_filter_wins). ResNet-50's three, batch 16, 2 threads, both
 * paths alternating in one process (bench/onednn_conv.c f32), conversions
 * included, medians of 7 (cores shared with another process's benchmark):
 * 128 at 64^2, 256 at 32^2, 512 at 16^2, forward +3..7%, +2%, +22..27%
 * (oneDNN's primitive alone runs 180-217 GF/s; the layout conversions cost
 * 1-3 ms of a 25-30 ms call), backward data +18..31%, +10..16%, +14..20%,
 * filter gradient +1..7%, +3..7%, but -12..-26% at 512 (8^2 outputs)
 * against the im2col kernels of then. */
/* (Until conv_winograd_pack.c made Winograd's weights in one pass, the
 * backward data of stride-1 3x3 convolutions of 512+ channels on 8 x 8
 * images came here on Intel: ResNet-50's 512 -> 512, batch 16, 2 threads,
 * Xeon with AMX, 12.2-13.3 ms a call against Winograd's 10.5 since.) */
/* Stride-1 3x3 convolutions of 64+ channels on images under 8 columns
 * (ResNets' last stage at 128^2 inputs; no Winograd or direct kernel
 * there, but im2col + GEMM) come here too, all three passes: batch 32,
 * medians of 9-11 alternating in one process, AMD EPYC Zen 4, 2 threads
 * (ms, forward, backward data, filter gradient): 512 -> 512 at 4^2 8.07,
 * 8.50, 12.15 against 14.13, 14.18, 16.19; 256 at 4^2 2.04, 2.00, 2.94
 * against 3.71, 3.89, 3.88; 512 at 2^2 2.44, 2.45, 4.41 against 4.13,
 * 4.49, 5.27; and at batch 16 and batch 1 alike (64 -> 64 at 4^2, batch
 * 16: 0.07, 0.08, 0.11 against 0.19, 0.21, 0.22). Not measured on Intel. */
/* WIDE: kernels of 5 x 5 taps and more (AlexNet's 5x5), any stride, all
 * three passes: oneDNN ran them 1.2-1.9x as fast as our im2col + GEMM (or
 * direct kernel), which reached 55-85% of the FMA peak. Batch 16, medians of 5-7
 * alternating in one process, AMD EPYC Zen 4, 2 threads, ms (forward,
 * backward data, filter gradient): AlexNet's 64 -> 192 5x5 at 27^2 29.4,
 * 29.3, 29.5 against 36.5, 38.7, 37.2; 256 -> 256 5x5 at 14^2 39.1, 39.2,
 * 41.4 against 61.7, 60.2, 55.3; 16 -> 16 5x5 at 56^2 3.1, 3.1, 3.3
 * against 5.0, 5.9, 6.3; 64 -> 64 7x7 stride 2 at 56^2 21.6, 21.7, 23.2
 * against 33.8, 37.0, 35.8; batch 1 forwards alike (64 -> 192: 1.87
 * against 3.11). Not measured on Intel. */
#define WIDE(p) ((p)->r >= 5 && (p)->s >= 5)
/* GROUPED: every pass of grouped convolutions, depthwise included, where
 * oneDNN has a JIT kernel for them (depthwise: jit_dw; groups of 16-channel
 * multiples: jit); the rest (groups of 4 or 8 channels, a depthwise channel
 * multiplier, the 5x5 depthwise filter gradient) it declines, and our
 * im2col + GEMM per group runs them. Batch 16, medians of 7 alternating in
 * one process, AMD EPYC Zen 4, 2 threads, ms (forward, backward data,
 * filter gradient), oneDNN's against im2col + GEMM: depthwise 3x3 64 at
 * 56^2 1.19, 1.55, 1.89 against 3.43, 3.46, 3.28; stride 2, 128 at 28^2
 * 0.47, 0.36, 0.39 against 1.22, 1.18, 1.28; 32 at 112^2 4.07, 3.80, 4.41
 * against 5.36, 5.70, 5.74; 5x5 96 at 28^2 0.75, 0.89 against 4.28, 6.06;
 * 256 in 16 groups at 14^2 1.31, 1.31, 1.28 against 4.26, 3.42, 3.15; in 8
 * groups 2.24, 2.21, 2.46 against 4.15, 4.25, 4.24; 1x1, 256 in 8 groups at
 * 28^2 2.22, 2.48, 2.27 against 2.64, 2.86, 2.86; batch 1, depthwise 144
 * at 56^2 0.21, 0.24, 0.36 against 0.37, 0.41, 0.35. Not measured on Intel.
 *
 * Since, depthwise layers are ours on AVX-512 CPUs, where oneDNN has a
 * kernel too: the filter gradient (conv_depthwise_filter.c has the
 * figures), the forward and the stride-1 backward data (conv_depthwise.c).
 * Ours against oneDNN's, forward and backward data, ms, batch 16, medians
 * of 9 alternating in one process: 3x3 64 at 56^2 1.14, 1.13 against 1.74,
 * 1.87; 32 at 112^2 2.37, 2.35 against 3.72, 3.92; 576 at 14^2 0.90, 0.88
 * against 0.90, 1.01; 5x5 96 at 28^2 0.66, 0.66 against 0.77, 0.92; 7x7 96
 * at 56^2 3.35, 3.41 against 4.45, 5.14; stride 2 forwards 0.27 against
 * 0.55 (3x3 128 at 28^2), 0.29 against 0.45 (5x5); batch 1, 3x3 144 at
 * 56^2 0.18, 0.17 against 0.26, 0.30. (The strided backward data stays
 * oneDNN's: 0.45 both.) */

static int chosen(const conv_shape* p, int kind) {
  const char* env = getenv("LITS_ONEDNN");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  if (env != NULL && strcmp(env, "all") == 0) return 1;
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && algo[0] != '\0') return 0;
  if (p->groups > 1) { /* see GROUPED */
    const int ours =
        kind == 2 ? lits_conv_depthwise_filter_applies(p) : lits_conv_depthwise_applies(p, kind);
    return !ours;
  }
  const int s2 = p->r == 3 && p->s == 3 && p->sh == 2 && p->sw == 2;
  const int narrow = p->r == 3 && p->s == 3 && p->sh == 1 && p->sw == 1 && p->w < 8 &&
                     p->c >= 64 && p->k >= 64;
  /* (Stride 2's filter gradient: conv.c's.) */
  return (s2 && p->c >= 128 && p->k >= 128 && kind != 2) || narrow || WIDE(p);
}

/* What the blocked layouts and oneDNN's kernels take: 16-channel blocks,
 * no dilation, no right padding below zero; AVX-512 for our conversions.
 * (Grouped weights are oneDNN's goihw: lits_onednn_weights_md.) */
static int takes(const conv_shape* p) {
  const int64_t pr = (p->oh - 1) * p->sh + p->r - p->h - p->ph;
  const int64_t pc = (p->ow - 1) * p->sw + p->s - p->w - p->pw;
  return p->dh == 1 && p->dw == 1 && p->c % 16 == 0 && p->k % 16 == 0 && pr >= 0 && pc >= 0 &&
         lits_f32_blocked_applies();
}

#define PLANS 16

/* One (kind, shape, threads)'s primitives: the convolution and the
 * weights' reorder (oihw to the convolution's layout, or for a filter
 * gradient back; NULL when the layouts are the same). */
typedef struct {
  onednn_plan h; /* key, convolution, reorder, scratchpad */
  dnnl_memory_desc_t x, y, wplain, w; /* x-shaped and y-shaped nChw16c; weights */
} plan;

static plan plans[PLANS];

/* The convolution's primitive descriptor for kind, or NULL. */
static dnnl_primitive_desc_t conv_pd(const conv_shape* p, int kind, const plan* pl,
                                     const_dnnl_primitive_attr_t attr) {
  dnnl_memory_desc_t wany;
  lits_onednn_weights_md(&wany, p, dnnl_f32, 0);
  return lits_onednn_conv_pd(p, kind, &pl->x, &wany, &pl->y, &pl->x, &wany, attr);
}

/* Fills pl for (kind, shape): 1, or 0 when oneDNN would not run it fast. */
static int build(const conv_shape* p, int kind, onednn_plan* head) {
  plan* pl = (plan*)head;
  const dnnl_dims_t xd = {p->n, p->c, p->h, p->w}, yd = {p->n, p->k, p->oh, p->ow};
  p_dnnl_memory_desc_init_by_tag(&pl->x, 4, xd, dnnl_f32, dnnl_nChw16c);
  p_dnnl_memory_desc_init_by_tag(&pl->y, 4, yd, dnnl_f32, dnnl_nChw16c);
  lits_onednn_weights_md(&pl->wplain, p, dnnl_f32, 1);
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
  if (ok && !p_dnnl_memory_desc_equal(&pl->w, &pl->wplain)) {
    ok = kind == 2 ? lits_onednn_plan_reorder(&pl->h, &pl->w, &pl->wplain, attr)
                   : lits_onednn_plan_reorder(&pl->h, &pl->wplain, &pl->w, attr);
  }
  if (pd != NULL) p_dnnl_primitive_desc_destroy(pd);
  p_dnnl_primitive_attr_destroy(attr);
  return ok;
}

static size_t up64(size_t b) { return (b + 63) & ~(size_t)63; }

/* The inputs in oneDNN's layouts, by the threads of one parallel region. */
static void convert_in(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                       const float* b, float* xb, float* yb) {
#pragma omp parallel
  {
    if (kind != 1) lits_f32_to_blocked(a, p->n, p->c, p->h * p->w, xf, xb);
    if (kind == 1) lits_f32_to_blocked(a, p->n, p->k, p->ohw, NULL, yb);
    if (kind == 2) lits_f32_to_blocked(b, p->n, p->k, p->ohw, NULL, yb);
  }
}

/* The call with the plan's primitives; scratch: [x nChw16c | y nChw16c |
 * weights in the convolution's layout | scratchpad]. */
static int run(const conv_shape* p, int kind, const plan* pl, const float* a,
               const conv_xform* xf, const float* b, const float* bias, float* out) {
  const size_t nx = up64(p_dnnl_memory_desc_get_size(&pl->x));
  const size_t ny = up64(p_dnnl_memory_desc_get_size(&pl->y));
  const size_t nw = pl->h.reorder != NULL ? up64(p_dnnl_memory_desc_get_size(&pl->w)) : 0;
  char* base = lits_scratch_alloc((int64_t)(nx + ny + nw + up64(pl->h.scratch) + 64));
  if (base == NULL) return LITS_ERR_MEMORY;
  float* xb = (float*)base;
  float* yb = (float*)(base + nx);
  void* wr = base + nx + ny;
  void* sp = base + nx + ny + nw;
  const dnnl_memory_desc_t spmd = lits_onednn_scratch_md(pl->h.scratch);
  const int ids_r[3] = {DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_SCRATCHPAD};
  /* The weights (kinds 0 and 1) or the gradient (kind 2) as the
   * convolution has them. */
  const float* wsrc = kind == 2 ? out : b;
  void* wconv = pl->h.reorder != NULL ? wr : (void*)wsrc;
  int st = LITS_OK;
  convert_in(p, kind, a, xf, b, xb, yb);
  if (kind != 2 && pl->h.reorder != NULL) {
    const dnnl_memory_desc_t* m[3] = {&pl->wplain, &pl->w, &spmd};
    void* const ptr[3] = {(void*)b, wr, sp};
    st = lits_onednn_execute(pl->h.reorder, m, ptr, ids_r, 3, WHAT);
  }
  const int ids[3][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                         {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST},
                         {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST}};
  const dnnl_memory_desc_t* m[4] = {&pl->x, &pl->w, &pl->y, &spmd};
  void* const ptr[4] = {xb, wconv, yb, sp};
  const int args[4] = {ids[kind][0], ids[kind][1], ids[kind][2], DNNL_ARG_SCRATCHPAD};
  if (st == LITS_OK) st = lits_onednn_execute(pl->h.conv, m, ptr, args, 4, WHAT);
  if (st == LITS_OK && kind != 2) {
#pragma omp parallel
    {
      if (kind == 0) lits_f32_unblock(yb, p->n, p->k, p->ohw, 0, bias, out);
      if (kind == 1) lits_f32_unblock(xb, p->n, p->c, p->h * p->w, 0, NULL, out);
    }
  }
  if (st == LITS_OK && kind == 2 && pl->h.reorder != NULL) {
    const dnnl_memory_desc_t* mr[3] = {&pl->w, &pl->wplain, &spmd};
    void* const pr[3] = {wr, out, sp};
    st = lits_onednn_execute(pl->h.reorder, mr, pr, ids_r, 3, WHAT);
  }
  lits_scratch_free(base);
  return st;
}

int lits_conv_onednn_f32_may_take(const conv_shape* p, int kind) {
  return chosen(p, kind) && takes(p);
}

int lits_conv_onednn_f32(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                         const float* b, const float* bias, float* out) {
  if (!lits_conv_onednn_f32_may_take(p, kind)) return LITS_ONEDNN_DECLINED;
  lits_onednn_lock();
  plan tmp;
  plan* pl = lits_onednn_load() ? (plan*)lits_onednn_plan_for(plans, PLANS, sizeof(plan), p, kind,
                                                              &tmp.h, build)
                                 : NULL;
  const int st = pl != NULL ? run(p, kind, pl, a, xf, b, bias, out) : LITS_ONEDNN_DECLINED;
  if (pl == &tmp) lits_onednn_plan_drop(&tmp.h, sizeof(tmp));
  lits_onednn_unlock();
  return st;
}

#else /* no oneDNN header at build time: our own kernels only */

int lits_conv_onednn_f32_may_take(const conv_shape* p, int kind) {
  (void)p, (void)kind;
  return 0;
}

int lits_conv_onednn_f32(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                         const float* b, const float* bias, float* out) {
  (void)p, (void)kind, (void)a, (void)xf, (void)b, (void)bias, (void)out;
  return LITS_ONEDNN_DECLINED;
}

#endif
