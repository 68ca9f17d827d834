/* conv_onednn_f32.h: the fp32 convolutions conv.c hands to oneDNN
 * (conv_onednn_f32.c), and their layout conversions (conv_f32_blocked.c). */
#ifndef LITS_CPU_CONV_ONEDNN_F32_H
#define LITS_CPU_CONV_ONEDNN_F32_H

#include <stdint.h>

#include "common.h"
#include "conv_internal.h"
#include "onednn_load.h" /* LITS_ONEDNN_DECLINED */

/* Whether lits_conv_onednn_f32 would run (kind, p) where oneDNN loads: the
 * shapes it is chosen for (else ours run). */
int lits_conv_onednn_f32_may_take(const conv_shape* p, int kind);

/* kind: 0 forward (a = x, b = weight, bias, out = y), 1 backward data
 * (a = dy, b = weight, out = dx), 2 filter gradient (a = x, b = dy,
 * out = dweight); xf (x's transform, forward and filter gradient) may be
 * NULL. LITS_ONEDNN_DECLINED where oneDNN does not take the call; the
 * caller has checked the arguments. */
int lits_conv_onednn_f32(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                         const float* b, const float* bias, float* out);

/* The conversions share their loops among the threads of the caller's
 * parallel region (omp for nowait: the caller's barrier ends them); they
 * need AVX-512F (lits_f32_blocked_applies). */
int lits_f32_blocked_applies(void);
/* NCHW [n, c, hw] (c a multiple of 16), transformed (xf may be NULL), to
 * nChw16c. */
void lits_f32_to_blocked(const float* src, int64_t n, int64_t c, int64_t hw,
                         const conv_xform* xf, float* dst);
/* nChw16c (or channels-last where nhwc) back to NCHW, each channel's bias
 * added (bias may be NULL). */
void lits_f32_unblock(const float* src, int64_t n, int64_t c, int64_t hw, int nhwc,
                      const float* bias, float* dst);

/* Task `it` of a conversion's n x (c / 16) x chunks tasks: its image, its
 * 16-channel block, its pixels [p0, p1), where the block's first plane
 * lies in NCHW (nchw) and its first value in the blocked layout (blocked),
 * and how far apart a pixel's groups of 16 are there (ps). For nChw16c a
 * block's chunks are consecutive tasks (one block's run); for channels-last
 * (nhwc) every block of a chunk is, so that the thread holding a chunk
 * fills whole lines of its pixels' groups. */
typedef struct {
  int64_t image, block, p0, p1, nchw, blocked, ps;
} blocked_task;

static inline blocked_task blocked_task_of(int64_t it, int64_t c, int64_t chunks, int64_t hw,
                                           int64_t chunk, int nhwc) {
  blocked_task t;
  const int64_t cb = c / 16, per_image = cb * chunks, r = it % per_image;
  t.image = it / per_image;
  t.block = nhwc ? r % cb : r / chunks;
  t.p0 = (nhwc ? r / cb : r % chunks) * chunk;
  t.p1 = t.p0 + chunk < hw ? t.p0 + chunk : hw;
  t.nchw = (t.image * c + t.block * 16) * hw;
  t.blocked = t.image * c * hw + t.block * (nhwc ? 16 : 16 * hw);
  t.ps = nhwc ? c : 16;
  return t;
}

#endif
