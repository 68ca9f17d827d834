/* conv_bf16_blocked.c: our NCHW fp32 tensors to the bf16 layouts oneDNN's
 * bf16 convolutions read (nChw16c: 16 channels of a pixel side by side; or
 * channels-last, all of a pixel's channels, where oneDNN runs AMX), and the
 * weights both ways, for conv_bf16_onednn.c (their fp32 outputs come back
 * through conv_f32_blocked.c's lits_f32_unblock, the fp32 route's). The
 * transform of x and the
 * rounding to bf16 (RNE, NaN kept, denormals kept: round_hi, as our own
 * kernels round) happen here, because oneDNN cannot apply our per-channel
 * transform. Each block of 16 channels x 16 pixels is one 16 x 16
 * transpose in registers. The functions share out their work with an
 * orphaned `omp for nowait`: the caller runs them inside one parallel
 * region (fewer fork-joins, which cost most when the cores are shared). */
#include <stddef.h>
#include <stdint.h>

#include "bf16_internal.h"
#include "conv_bf16_onednn.h"
#include "conv_onednn_f32.h" /* blocked_task_of */
#include "fused_internal.h"

/* Pixels of one task: enough to amortise the loop, few enough that small
 * batches still give every thread work. */
#define CHUNK 256

static inline __mmask16 first_lanes(int64_t w) {
  return w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
}

/* relu?((v - mean) scale + shift), as bf16_gemm.c's xload computes it (one
 * vfmadd, as gcc contracts fused_apply; max(0, v) keeps NaN). */
typedef struct {
  __m512 mean, scale, shift;
  int affine, relu;
} chan_xform;

BF16_TARGET static inline chan_xform chan_xform_of(const conv_xform* xf, int64_t c, int64_t ch) {
  const int affine = xf != NULL && xf->coef != NULL;
  const fused_affine a = fused_affine_of(affine ? xf->coef : NULL, c, ch);
  const chan_xform t = {_mm512_set1_ps(a.mean), _mm512_set1_ps(a.scale), _mm512_set1_ps(a.shift),
                        affine, xf != NULL && xf->relu};
  return t;
}

BF16_TARGET static inline __m512 apply(__m512 v, const chan_xform* t) {
  if (t->affine) v = _mm512_fmadd_ps(_mm512_sub_ps(v, t->mean), t->scale, t->shift);
  if (t->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
  return v;
}

/* Pixels [p0, p1) of 16 channels (rows hw floats apart from src) to
 * dst's groups of 16 values, one per pixel, ps values apart. */
BF16_TARGET static void block_in(const float* src, int64_t hw, const chan_xform* t, int64_t p0,
                                 int64_t p1, int64_t ps, uint16_t* dst) {
  for (int64_t q0 = p0; q0 < p1; q0 += 16) {
    const int64_t w = p1 - q0 < 16 ? p1 - q0 : 16;
    const __mmask16 m = first_lanes(w);
    __m512i r[16];
    for (int j = 0; j < 16; j++) {
      r[j] = round_hi(apply(_mm512_maskz_loadu_ps(m, src + j * hw + q0), &t[j]));
    }
    transpose16(r); /* r[q]: pixel q0 + q, channel j in lane j */
    for (int64_t q = 0; q < w; q++) {
      const __m256i h = _mm512_cvtepi32_epi16(_mm512_srli_epi32(r[q], 16));
      _mm256_storeu_si256((__m256i*)(dst + (q0 + q) * ps), h);
    }
  }
}

BF16_TARGET void lits_bf16_to_blocked(const float* src, int64_t n, int64_t c, int64_t hw,
                                      const conv_xform* xf, int nhwc, uint16_t* dst) {
  const int64_t cb = c / 16, chunks = (hw + CHUNK - 1) / CHUNK;
#pragma omp for schedule(static) nowait
  for (int64_t it = 0; it < n * cb * chunks; it++) {
    const blocked_task b = blocked_task_of(it, c, chunks, hw, CHUNK, nhwc);
    chan_xform t[16];
    for (int j = 0; j < 16; j++) t[j] = chan_xform_of(xf, c, b.block * 16 + j);
    block_in(src + b.nchw, hw, t, b.p0, b.p1, b.ps, dst + b.blocked);
  }
}

BF16_TARGET void lits_bf16_round(const float* src, int64_t len, uint16_t* dst) {
  const int64_t blocks = (len + 15) / 16;
#pragma omp for schedule(static) nowait
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t w = len - b * 16 < 16 ? len - b * 16 : 16;
    const __mmask16 m = first_lanes(w);
    const __m512i r = round_hi(_mm512_maskz_loadu_ps(m, src + b * 16));
    _mm256_mask_storeu_epi16(dst + b * 16, m, _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
  }
}

/* Weights [k, c, rs] fp32 rounded into oneDNN's blocked bf16 layouts: for
 * each 16 x 16 block of (o, i) and tap t, 8 groups of 16 words, each word a
 * pair of bf16: pairs along i with o across the lanes (ABcd8b16a2b, the
 * forward's), or pairs along o with i across the lanes (ABcd8a16b2a,
 * backward data's). One step of the round and reorder it replaces. */
BF16_TARGET void lits_bf16_weights_blocked(const float* w, int64_t k, int64_t c, int64_t rs,
                                           int pairs_o, uint16_t* dst) {
  const int64_t ib_n = c / 16, crs = c * rs;
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)(pairs_o ? rs : crs)));
  const int64_t step = pairs_o ? crs : rs; /* from the pair's first to its second */
#pragma omp for schedule(static) nowait
  for (int64_t blk = 0; blk < k / 16 * ib_n; blk++) {
    const float* base = w + blk / ib_n * 16 * crs + blk % ib_n * 16 * rs;
    uint16_t* out = dst + blk * rs * 256;
    for (int64_t t = 0; t < rs; t++) {
      for (int64_t p = 0; p < 8; p++) {
        const float* r0 = base + 2 * p * step + t;
        const __m512i lo = _mm512_srli_epi32(round_hi(_mm512_i32gather_ps(idx, r0, 4)), 16);
        const __m512i hi = _mm512_and_si512(round_hi(_mm512_i32gather_ps(idx, r0 + step, 4)),
                                            _mm512_set1_epi32((int)0xFFFF0000u));
        _mm512_storeu_si512(out + t * 256 + p * 32, _mm512_or_si512(lo, hi));
      }
    }
  }
}

/* A filter gradient in oneDNN's ABcd16b16a (fp32; per (o, i) block and tap
 * t, 16 rows of i, o across) back to [k, c, rs]: each 16 floats of a row
 * of dweight gathered. */
BF16_TARGET void lits_f32_weights_from_blocked(const float* src, int64_t k, int64_t c, int64_t rs,
                                               float* dst) {
  const int64_t ib_n = c / 16, row = 16 * rs; /* one o's floats of one i block */
#pragma omp for schedule(static) nowait
  for (int64_t it = 0; it < k * ib_n; it++) {
    const int64_t o = it / ib_n, ib = it % ib_n;
    const float* blk = src + (o / 16 * ib_n + ib) * rs * 256 + o % 16;
    float* out = dst + o * c * rs + ib * row;
    for (int64_t j0 = 0; j0 < row; j0 += 16) {
      int32_t off[16];
      for (int l = 0; l < 16; l++) off[l] = (int32_t)((j0 + l) % rs * 256 + (j0 + l) / rs * 16);
      const __m512i idx = _mm512_loadu_si512(off);
      _mm512_storeu_ps(out + j0, _mm512_i32gather_ps(idx, blk, 4));
    }
  }
}
