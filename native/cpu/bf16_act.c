/* bf16_act.c: a residual block's output held as bf16 in training under
 * autocast, as PyTorch's autocast holds it (there it is a bf16 tensor):
 * relu(T_x(x) + T_r(r)) written once as bf16 with its ReLU mask as bits,
 * where the convolution that reads it next (a bottleneck's 1x1 stride-1
 * conv1) would round it to bf16 as it packs it anyway. That convolution's
 * forward and filter gradient then pack the bf16 values as they are
 * (bf16_pack16.c: the same words, so the same products), and the next
 * block's residual add reads them too: half the bytes written, and read
 * three times. Any other reader gets them widened to fp32 (the caller's
 * deferred storage), exactly the bf16 values.
 *
 * The convolutions' entry points take any geometry: shapes our GEMM paths
 * do not run from bf16 (lits_conv_bf16_x16_native) widen x into scratch
 * first, the same values. */
#include <omp.h>
#include <stdint.h>

#include "bf16_blocking.h"
#include "bf16_internal.h"
#include "common.h"
#include "conv_internal.h"
#include "fused_internal.h"
#include "stream_store.h"

/* Planes are walked in pieces of at most this many elements (a multiple of
 * 16: whole mask words), so that both threads share one long plane; the
 * pieces depend on the shape only. */
#define PIECE 32768

/* T(v) as fused_value computes it ((v - mean) scale + shift, which gcc
 * contracts to one FMA there: the same bits). */
BF16_TARGET static inline __m512 affine16(__m512 v, fused_affine t) {
  if (t.identity) return v;
  return _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(t.mean)), _mm512_set1_ps(t.scale),
                         _mm512_set1_ps(t.shift));
}

/* relu(T_x(x) + T_r(r)) of the lanes in m (r from r32 or r16, or none),
 * its mask bits (!(v <= 0): NaN passes, -0 does not, as mask_bits_of). */
BF16_TARGET static inline __m512 value16(const float* x, const float* r32, const uint16_t* r16,
                                         fused_affine tx, fused_affine tr, __mmask16 m,
                                         uint16_t* bits) {
  __m512 v = affine16(_mm512_maskz_loadu_ps(m, x), tx);
  if (r32 != NULL || r16 != NULL) {
    const __m512 r =
        r32 != NULL
            ? _mm512_maskz_loadu_ps(m, r32)
            : _mm512_castsi512_ps(_mm512_slli_epi32(
                  _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r16)), 16));
    v = _mm512_add_ps(v, affine16(r, tr));
  }
  const __m512 zero = _mm512_setzero_ps();
  v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), zero);
  *bits = (uint16_t)_mm512_mask_cmp_ps_mask(m, v, zero, _CMP_NLE_UQ);
  return v;
}

/* One piece: 32 values a step into one 64-byte line of y (streamed where
 * `stream` and the line is aligned), their two mask words. */
BF16_TARGET static void piece_bf16(const float* x, fused_affine tx, const float* r32,
                                   const uint16_t* r16, fused_affine tr, int64_t len,
                                   uint16_t* y, uint16_t* bits, int stream) {
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    const __m512 a = value16(x + j, r32 ? r32 + j : NULL, r16 ? r16 + j : NULL, tx, tr,
                             (__mmask16)0xFFFF, bits + j / 16);
    const __m512 b = value16(x + j + 16, r32 ? r32 + j + 16 : NULL, r16 ? r16 + j + 16 : NULL,
                             tx, tr, (__mmask16)0xFFFF, bits + j / 16 + 1);
    const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(b, a);
    if (stream && ((uintptr_t)(y + j) & 63) == 0) {
      _mm512_stream_si512((__m512i*)(y + j), v);
    } else {
      _mm512_storeu_si512(y + j, v);
    }
  }
  for (; j < len; j += 16) {
    const __mmask16 m = bf16_lanes(len - j);
    const __m512 a = value16(x + j, r32 ? r32 + j : NULL, r16 ? r16 + j : NULL, tx, tr, m,
                             bits + j / 16);
    _mm256_mask_storeu_epi16(y + j, m, (__m256i)_mm512_cvtneps_pbh(a));
  }
}

int lits_fused_relu_mask_bf16_f32(const float* x, const float* x_coef, const float* r,
                                  const uint16_t* r16, const float* r_coef, uint16_t* y,
                                  uint16_t* mask, int32_t n, int32_t c, int64_t hw) {
  static const char* fn = "lits_fused_relu_mask_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_nchw(fn, n, c, hw));
  LITS_REQUIRE(x != NULL && y != NULL && mask != NULL, "%s: x, y or mask is NULL", fn);
  LITS_REQUIRE(r == NULL || r16 == NULL, "%s: r and r16 are both given", fn);
  LITS_REQUIRE(r != NULL || r16 != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_fused_relu_mask_f32"));
  const int64_t planes = (int64_t)n * c, per = (hw + PIECE - 1) / PIECE, words = (hw + 15) / 16;
  const int stream = stream_output(planes * hw / 2); /* bf16: half the bytes of fp32's */
#pragma omp parallel if (planes * hw >= 32768)
  {
#pragma omp for schedule(static)
    for (int64_t it = 0; it < planes * per; it++) {
      const int64_t pl = it / per, ch = pl % c, j0 = it % per * PIECE;
      const int64_t len = hw - j0 < PIECE ? hw - j0 : PIECE, at = pl * hw + j0;
      piece_bf16(x + at, fused_affine_of(x_coef, c, ch), r != NULL ? r + at : NULL,
                 r16 != NULL ? r16 + at : NULL, fused_affine_of(r_coef, c, ch), len, y + at,
                 mask + pl * words + j0 / 16, stream);
    }
    if (stream) stream_fence();
  }
  return LITS_OK;
}

int lits_conv2d_bf16x_takes(const lits_conv2d_params* params_host, int32_t* takes_host) {
  static const char* fn = "lits_conv2d_bf16x_takes";
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "%s: takes_host is NULL", fn);
  *takes_host = 0;
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  /* LITS_BF16_ACT=off: activations stay fp32 (A/B runs). */
  *takes_host = lits_bf16_held("LITS_BF16_ACT") && lits_conv_bf16_x16_native(&p);
  return LITS_OK;
}

/* x [n, c, h, w] widened into fp32 scratch (NULL: out of memory, recorded). */
static float* widened(const conv_shape* p, const uint16_t* x) {
  return lits_bf16_widened(x, p->n * p->c * p->h * p->w);
}

int lits_conv2d_forward_bf16x_f32(const lits_conv2d_params* params_host, const uint16_t* x,
                                  const float* weight, float* y, double* moments) {
  static const char* fn = "lits_conv2d_forward_bf16x_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_forward_f32"));
  if (lits_conv_bf16_x16_native(&p)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_forward_x16(&p, params_host, x, weight, y,
                                                                moments));
  }
  float* w = widened(&p, x);
  if (w == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
  const int st =
      moments != NULL
          ? lits_conv2d_forward_moments_bf16_f32(params_host, w, NULL, 0, weight, NULL, y, moments)
          : lits_conv2d_forward_bf16_f32(params_host, w, NULL, 0, weight, NULL, y);
  lits_scratch_free(w);
  return st;
}

int lits_conv2d_backward_filter_bf16x_f32(const lits_conv2d_params* params_host,
                                          const uint16_t* x, const float* dy,
                                          const uint16_t* dy16, float* dweight) {
  static const char* fn = "lits_conv2d_backward_filter_bf16x_f32";
  lits_clear_error();
  LITS_REQUIRE((dy == NULL) != (dy16 == NULL), "%s: give one of dy and dy16", fn);
  conv_shape p;
  /* The setup's NULL checks want float pointers: any non-NULL one says it is there. */
  LITS_CHECKED(lits_conv_filter_setup(fn, &p, params_host, (const float*)x,
                                      dy != NULL ? dy : (const float*)dy16, dweight));
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_backward_filter_f32"));
  if (lits_conv_bf16_x16_native(&p)) {
    const int st = lits_conv_bf16_backward_filter_x16(&p, x, dy, dy16, dweight);
    if (st != LITS_ERR_UNAVAILABLE) return lits_conv_status(fn, &p, st);
  }
  float* w = widened(&p, x);
  if (w == NULL) return lits_conv_status(fn, &p, LITS_ERR_MEMORY);
  const int st = dy != NULL
                     ? lits_conv2d_backward_filter_bf16_f32(params_host, w, NULL, 0, dy, dweight)
                     : lits_conv2d_backward_filter_bf16dy_f32(params_host, w, NULL, 0, dy16,
                                                               dweight);
  lits_scratch_free(w);
  return st;
}
