/* conv_bf16_onednn.h: the bf16 convolutions that conv_bf16.c hands to
 * oneDNN (conv_bf16_onednn.c), and the layout conversions they need
 * (conv_bf16_blocked.c). */
#ifndef LITS_CPU_CONV_BF16_ONEDNN_H
#define LITS_CPU_CONV_BF16_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "conv_internal.h"

#include "onednn_load.h" /* LITS_ONEDNN_DECLINED */

/* kind: 0 forward (a = x, b = weight, bias, out = y), 1 backward data
 * (b = weight, a = dy, out = dx), 2 filter gradient (a = x, b = dy,
 * out = dweight); xf (x's transform, forward and filter gradient) may be
 * NULL. The caller has checked the arguments and bf16 support. */
int lits_conv_bf16_onednn(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                          const float* b, const float* bias, float* out);
/* Whether lits_conv_bf16_onednn may take the shape for kind (else it
 * declines it for sure). */
int lits_conv_bf16_onednn_may_take(const conv_shape* p, int kind);

/* The conversions (conv_bf16_blocked.c) share their loops among the threads
 * of the caller's parallel region (omp for nowait: the caller's barrier
 * ends them). */
/* NCHW fp32 [n, c, hw] (c a multiple of 16), transformed (xf may be NULL)
 * and rounded, to bf16 nChw16c, or channels-last (nhwc) where nhwc. */
void lits_bf16_to_blocked(const float* src, int64_t n, int64_t c, int64_t hw,
                          const conv_xform* xf, int nhwc, uint16_t* dst);
/* len floats to bf16 (RNE). */
void lits_bf16_round(const float* src, int64_t len, uint16_t* dst);
/* Weights [k, c, rs] fp32 (k, c multiples of 16) rounded to bf16
 * ABcd8b16a2b (pairs along c: the forward's), or ABcd8a16b2a when pairs_o
 * (pairs along k: backward data's). */
void lits_bf16_weights_blocked(const float* w, int64_t k, int64_t c, int64_t rs, int pairs_o,
                               uint16_t* dst);
/* fp32 ABcd16b16a (oneDNN's filter gradient) to [k, c, rs]. */
void lits_f32_weights_from_blocked(const float* src, int64_t k, int64_t c, int64_t rs,
                                   float* dst);

#endif
