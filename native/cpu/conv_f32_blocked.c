/* conv_f32_blocked.c: our NCHW fp32 tensors to and from nChw16c (16
 * channels of a pixel side by side), the layout oneDNN's fp32 convolutions
 * read and write (conv_onednn_f32.c). x's deferred transform is applied
 * here, on the way in, because oneDNN cannot apply it. Each block of 16
 * channels x 16 pixels is one 16 x 16 transpose in registers. The loops
 * are orphaned `omp for nowait`: the caller runs all of a call's
 * conversions in one parallel region (fork-joins cost most when the cores
 * are shared).
 *
 * Whole 64-byte lines are written with non-temporal stores: they skip the
 * read of each line before it is written. Measured on one conversion each
 * way, 2 threads, batch 16 (min of 60, cores shared): 128 channels at
 * 64^2 (34 MB) in 2.1-2.6 ms -> 1.5-1.6, out 2.2-2.9 -> 1.0-1.1; 256 at
 * 32^2 in 0.9-1.1 -> 0.5-0.7, out 0.7-1.1 -> 0.4-0.5; 512 at 16^2 in 0.75
 * -> 0.2-0.35, out 0.3 -> 0.2-0.3. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "conv_onednn_f32.h"
#include "fused_internal.h"

#define AVX512 __attribute__((target("avx512f")))
/* Pixels of one task: enough to amortise the loop, few enough that small
 * batches still give every thread work. */
#define CHUNK 256

int lits_f32_blocked_applies(void) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  return avx512;
}

static inline __mmask16 first_lanes(int64_t w) {
  return w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
}

/* r[i] lane j <- r[j] lane i: 32-bit pairs, then 64-bit pairs inside
 * 128-bit lanes, then the 128-bit lanes. */
AVX512 static inline void transpose(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] =
        _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(
        _mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(
        _mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int h = 0; h < 16; h += 8) {
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
}

/* relu?((v - mean) scale + shift), one vfmadd as gcc contracts fused_apply
 * (max(0, v) keeps NaN, as fused_apply's v < 0 test). */
typedef struct {
  float mean[16], scale[16], shift[16];
  int affine, relu;
} block_xform;

static void block_xform_of(const conv_xform* xf, int64_t c, int64_t c0, block_xform* t) {
  t->affine = xf != NULL && xf->coef != NULL;
  t->relu = xf != NULL && xf->relu;
  for (int j = 0; j < 16; j++) {
    const fused_affine a = fused_affine_of(t->affine ? xf->coef : NULL, c, c0 + j);
    t->mean[j] = a.mean, t->scale[j] = a.scale, t->shift[j] = a.shift;
  }
}

AVX512 static inline __m512 apply(__m512 v, const block_xform* t, int j) {
  if (t->affine) {
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(t->mean[j])), _mm512_set1_ps(t->scale[j]),
                        _mm512_set1_ps(t->shift[j]));
  }
  if (t->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
  return v;
}

/* Pixels [p0, p1) of 16 channels (rows hw floats apart from src) to dst's
 * 16-float groups, one per pixel. */
AVX512 static void block_in(const float* src, int64_t hw, const block_xform* t, int64_t p0,
                            int64_t p1, float* dst) {
  for (int64_t q0 = p0; q0 < p1; q0 += 16) {
    const int64_t w = p1 - q0 < 16 ? p1 - q0 : 16;
    const __mmask16 m = first_lanes(w);
    __m512 r[16];
    for (int j = 0; j < 16; j++) r[j] = apply(_mm512_maskz_loadu_ps(m, src + j * hw + q0), t, j);
    transpose(r); /* r[q]: pixel q0 + q, channel j in lane j */
    if (((uintptr_t)dst & 63) == 0) {
      for (int64_t q = 0; q < w; q++) _mm512_stream_ps(dst + (q0 + q) * 16, r[q]);
    } else {
      for (int64_t q = 0; q < w; q++) _mm512_storeu_ps(dst + (q0 + q) * 16, r[q]);
    }
  }
}

AVX512 void lits_f32_to_blocked(const float* src, int64_t n, int64_t c, int64_t hw,
                                const conv_xform* xf, float* dst) {
  const int64_t cb = c / 16, chunks = (hw + CHUNK - 1) / CHUNK;
#pragma omp for schedule(static) nowait
  for (int64_t it = 0; it < n * cb * chunks; it++) {
    const int64_t plane = it / chunks, p0 = it % chunks * CHUNK;
    const int64_t p1 = p0 + CHUNK < hw ? p0 + CHUNK : hw;
    block_xform t;
    block_xform_of(xf, c, plane % cb * 16, &t);
    block_in(src + plane * 16 * hw, hw, &t, p0, p1, dst + plane * 16 * hw);
  }
  _mm_sfence(); /* the non-temporal stores before the caller's barrier */
}

/* Pixels [p0, p1) of one 16-channel block (a pixel's 16 floats ps floats
 * after the previous pixel's) back to 16 rows hw floats apart, plus the
 * channels' bias. */
AVX512 static void block_out(const float* src, int64_t ps, int64_t hw, const float* bias,
                             int64_t p0, int64_t p1, float* dst) {
  for (int64_t q0 = p0; q0 < p1; q0 += 16) {
    const int64_t w = p1 - q0 < 16 ? p1 - q0 : 16;
    __m512 r[16];
    for (int64_t q = 0; q < 16; q++) {
      r[q] = q < w ? _mm512_loadu_ps(src + (q0 + q) * ps) : _mm512_setzero_ps();
    }
    transpose(r); /* r[j]: channel j, pixel q0 + q in lane q */
    const __mmask16 m = first_lanes(w);
    const int lines = w == 16 && hw % 16 == 0 && ((uintptr_t)dst & 63) == 0; /* whole, aligned */
    for (int j = 0; j < 16; j++) {
      __m512 v = r[j];
      if (bias != NULL) v = _mm512_add_ps(v, _mm512_set1_ps(bias[j]));
      if (lines) _mm512_stream_ps(dst + j * hw + q0, v);
      else _mm512_mask_storeu_ps(dst + j * hw + q0, m, v);
    }
  }
}

AVX512 void lits_f32_unblock(const float* src, int64_t n, int64_t c, int64_t hw, int nhwc,
                             const float* bias, float* dst) {
  const int64_t cb = c / 16, chunks = (hw + CHUNK - 1) / CHUNK;
#pragma omp for schedule(static) nowait
  for (int64_t it = 0; it < n * cb * chunks; it++) {
    const blocked_task t = blocked_task_of(it, c, chunks, hw, CHUNK, nhwc);
    const float* b = bias != NULL ? bias + t.block * 16 : NULL;
    block_out(src + t.blocked, t.ps, hw, b, t.p0, t.p1, dst + t.nchw);
  }
  _mm_sfence(); /* the non-temporal stores before the caller's barrier */
}
