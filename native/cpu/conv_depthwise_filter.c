/* conv_depthwise_filter.c: the filter gradient of a depthwise convolution
 * (one input channel a group, any channel multiplier: MobileNet's,
 * EfficientNet's and ConvNeXt's 3x3 to 7x7 layers), any stride, padding
 * and dilation, with our own AVX-512 kernel:
 *   dW[k, 0, kr, ks] = sum over images n and output pixels (oy, ox) of
 *   dy[n, k, oy, ox] relu?(T(x))[n, k / kg, oy sh - ph + kr dh, ox sw - pw + ks dw].
 * Before it, im2col and a GEMM per group whose product is one row of r s
 * taps ran these at 5-34 GFLOP/s, and oneDNN 2.6 declines them but 3x3.
 * Batch 16, AMD EPYC Zen 4, 2 threads, medians of 9 alternating in one
 * process, ms, ours against im2col + GEMM (LITS_CONV_ALGO=gemm), fp32 and
 * bf16: 5x5 96 at 28^2 0.71 against 5.41, 0.77 against 7.81; 7x7 (ConvNeXt)
 * 96 at 56^2 4.01 against 20.61, 3.91 against 37.30; 192 at 28^2 2.15
 * against 15.18 and 25.01; batch 1, 96 at 56^2 0.22 against 1.96. Against
 * oneDNN's 3x3 kernel (jit_dw) it is faster or level, so it takes those
 * too: 64 at 56^2 1.25 against 2.26 (bf16 1.26 against 2.15); stride 2,
 * 128 at 28^2 0.29 against 0.57 (bf16 0.32 against 0.27); 32 at 112^2 2.77
 * against 4.55 (2.66, 4.31); 576 at 14^2 1.30 against 1.32 (1.28, 1.26);
 * batch 1, 144 at 56^2 0.16 against 0.32 (0.17, 0.16).
 *
 * Sixteen groups at a time, channels-last: per image, their x planes are
 * copied (transformed, and under bf16 autocast rounded, as the other
 * kernels read x) into rows of pixels of 16 channels, zero-padded, and
 * their dy planes likewise (16 x 16 transposes); then every tap of every
 * pixel is one vector of 16 channels, and dW's taps of those channels sum
 * as plain FMAs with their x operand loaded from L1 (no shuffles, no loads
 * across cache lines): up to 28 taps' sums stay in registers while a row
 * of dy passes. The sums of an image are added to dW's (fp32) per image.
 * Rows of padding read a row of zeros, as im2col's zeros are read: a NaN or
 * infinity in dy reaches every tap, as it does through the GEMM.
 *
 * A thread takes whole blocks of 16 groups (and one channel of the
 * multiplier), so every element of dW is summed in one order whatever the
 * number of threads. Under bf16 autocast the operands are rounded to bf16,
 * whose products are exact in fp32: the products and fp32 sums of the
 * bf16 kernels. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "transpose16.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define CB 16       /* channels a vector (and a block) */
#define MAX_S 7     /* widest kernel taken */
#define MAX_SUMS 28 /* taps' sums in registers (with dy: 29 of 32) */

int lits_conv_depthwise_filter_applies(const conv_shape* p) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* algo = getenv("LITS_CONV_ALGO"); /* names one of the other kernels (A/B) */
  if (algo != NULL && algo[0] != '\0') return 0;
  /* A thread's copies of one image's x and dy take 64 floats a pixel: past
   * 64 MiB (about 700 x 700 images), im2col's tiles take less memory. */
  const int64_t pixels = p->h * (p->w + 2 * p->pw) + p->oh * p->ow;
  return avx512 && p->cg == 1 && p->groups > 1 && p->s <= MAX_S && p->r * p->s > 1 &&
         pixels * CB * (int64_t)sizeof(float) <= ((int64_t)64 << 20);
}

/* One block's pixels: x rows of xw = w + 2 pw pixels (the padding zero),
 * dy rows of ow pixels, CB floats each. */
typedef struct {
  int64_t xw, xplane, dyplane;
} dw_layout;

/* relu?(T(v)) of one channel's 16 values, rounded to bf16 where round: the
 * expression and contraction conv_input_row's loops compile to. */
AVX512_INLINE __m512 input16(__m512 v, fused_affine t, int xact, int relu, int round) {
  if (xact && !t.identity) {
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(t.mean)), _mm512_set1_ps(t.scale),
                        _mm512_set1_ps(t.shift));
  }
  if (xact && relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN and -0 stay */
  return round ? conv_round_bf16_16(v) : v;
}

/* (conv_internal.h) */
AVX512 void lits_dw_to_channels_last(const float* src, int64_t stride, int64_t ld, int64_t rows,
                                     int64_t cols, int nch, const fused_affine* t, int xact,
                                     int relu, int round, float* out, int64_t opitch) {
  for (int64_t y = 0; y < rows; y++) {
    for (int64_t j0 = 0; j0 < cols; j0 += CB) {
      const int64_t n = cols - j0 < CB ? cols - j0 : CB;
      const __mmask16 m = n == CB ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
      __m512 r[CB];
      for (int c = 0; c < CB; c++) {
        if (c >= nch) {
          r[c] = _mm512_setzero_ps();
          continue;
        }
        const __m512 v = _mm512_maskz_loadu_ps(m, src + c * stride + y * ld + j0);
        r[c] = _mm512_maskz_mov_ps(m, input16(v, t[c], xact, relu, round));
      }
      transpose16(r);
      float* dst = out + (y * opitch + j0) * CB;
      for (int64_t j = 0; j < n; j++) _mm512_storeu_ps(dst + j * CB, r[j]);
    }
  }
}

/* acc[rc S + t] += dy * x over the block's output rows, for kernel rows
 * kr0 .. kr0 + RC: pixel (oy, ox) reads x row oy sh - ph + kr dh at pixel
 * ox sw + t dw. Then dwacc's vectors (kr s + t) += acc. */
AVX512_INLINE void chunk(const int S, const int RC, const conv_shape* p, const dw_layout* l,
                         int64_t kr0, const float* xcl, const float* dycl, const float* zeros,
                         float* dwacc) {
  __m512 acc[RC * S];
#pragma GCC unroll 32
  for (int t = 0; t < RC * S; t++) acc[t] = _mm512_setzero_ps();
  const int64_t step = p->dw * CB, adv = p->sw * CB;
  for (int64_t oy = 0; oy < p->oh; oy++) {
    const float* xr[RC];
#pragma GCC unroll 8
    for (int rc = 0; rc < RC; rc++) {
      const int64_t iy = oy * p->sh - p->ph + (kr0 + rc) * p->dh;
      xr[rc] = iy < 0 || iy >= p->h ? zeros : xcl + iy * l->xw * CB;
    }
    const float* d = dycl + oy * p->ow * CB;
    for (int64_t ox = 0; ox < p->ow; ox++, d += CB) {
      const __m512 dv = _mm512_loadu_ps(d);
#pragma GCC unroll 8
      for (int rc = 0; rc < RC; rc++) {
        const float* b = xr[rc] + ox * adv;
#pragma GCC unroll 8
        for (int t = 0; t < S; t++) {
          acc[rc * S + t] = _mm512_fmadd_ps(dv, _mm512_loadu_ps(b + t * step), acc[rc * S + t]);
        }
      }
    }
  }
  float* out = dwacc + kr0 * S * CB;
#pragma GCC unroll 32
  for (int t = 0; t < RC * S; t++) {
    _mm512_storeu_ps(out + t * CB, _mm512_add_ps(_mm512_loadu_ps(out + t * CB), acc[t]));
  }
}

typedef void (*chunk_fn)(const conv_shape*, const dw_layout*, int64_t, const float*, const float*,
                         const float*, float*);
#define CHUNK(S, RC)                                                                         \
  AVX512 static void chunk_##S##_##RC(const conv_shape* p, const dw_layout* l, int64_t kr0, \
                                      const float* xcl, const float* dycl,                  \
                                      const float* zeros, float* dwacc) {                   \
    chunk(S, RC, p, l, kr0, xcl, dycl, zeros, dwacc);                                       \
  }
#define ROWS4(S) CHUNK(S, 1) CHUNK(S, 2) CHUNK(S, 3) CHUNK(S, 4)
#define ROWS7(S) ROWS4(S) CHUNK(S, 5) CHUNK(S, 6) CHUNK(S, 7)
ROWS7(1) ROWS7(2) ROWS7(3) ROWS7(4) ROWS4(5) CHUNK(5, 5) ROWS4(6) ROWS4(7)
#define ALL7(S)                                                                    \
  {NULL,          chunk_##S##_1, chunk_##S##_2, chunk_##S##_3, chunk_##S##_4, \
   chunk_##S##_5, chunk_##S##_6, chunk_##S##_7}
/* [s][rows]: at most MAX_SUMS sums, 7 rows. */
static const chunk_fn CHUNK_OF[MAX_S + 1][8] = {
    {NULL},
    ALL7(1),
    ALL7(2),
    ALL7(3),
    ALL7(4),
    {NULL, chunk_5_1, chunk_5_2, chunk_5_3, chunk_5_4, chunk_5_5, NULL, NULL},
    {NULL, chunk_6_1, chunk_6_2, chunk_6_3, chunk_6_4, NULL, NULL, NULL},
    {NULL, chunk_7_1, chunk_7_2, chunk_7_3, chunk_7_4, NULL, NULL, NULL},
};
#undef ALL7

/* dwacc (r s vectors) += one image's sums, kernel rows in chunks of as many
 * as the sums allow, spread evenly. */
static void image_taps(const conv_shape* p, const dw_layout* l, const float* xcl,
                       const float* dycl, const float* zeros, float* dwacc) {
  int64_t most = MAX_SUMS / p->s;
  if (most > 7) most = 7;
  const int64_t chunks = (p->r + most - 1) / most;
  for (int64_t ch = 0, kr0 = 0; ch < chunks; ch++) {
    const int64_t rows = (p->r - kr0) / (chunks - ch);
    CHUNK_OF[p->s][rows](p, l, kr0, xcl, dycl, zeros, dwacc);
    kr0 += rows;
  }
}

int lits_conv_depthwise_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* dy, int round, float* dweight) {
  dw_layout l;
  l.xw = p->w + 2 * p->pw;
  l.xplane = p->h * l.xw * CB;
  l.dyplane = p->oh * p->ow * CB;
  const int64_t rs = p->r * p->s, blocks = (p->groups + CB - 1) / CB, items = blocks * p->kg;
  const int threads = min_threads(omp_get_max_threads(), items);
  /* A thread's x and dy pixels, a row of zeros and its block's sums of dW. */
  const int64_t per = round16(l.xplane) + round16(l.dyplane) + round16(l.xw * CB) + rs * CB;
  float* scratch = thread_scratch(per, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  const int xact = conv_xform_active(xf), relu = xact && xf->relu;
  const fused_affine id = {0.0f, 1.0f, 0.0f, 1};
  const int64_t hw = p->h * p->w, kohw = p->k * p->ohw;
#pragma omp parallel num_threads(threads)
  {
    float* xcl = scratch + per * omp_get_thread_num();
    float* dycl = xcl + round16(l.xplane);
    float* zeros = dycl + round16(l.dyplane);
    float* dwacc = zeros + round16(l.xw * CB);
    memset(zeros, 0, (size_t)(l.xw * CB) * sizeof(float));
    /* The padding columns of every x row stay zero; the pixels between are rewritten. */
    for (int64_t iy = 0; iy < p->h; iy++) {
      float* row = xcl + iy * l.xw * CB;
      memset(row, 0, (size_t)(p->pw * CB) * sizeof(float));
      memset(row + (p->pw + p->w) * CB, 0, (size_t)(p->pw * CB) * sizeof(float));
    }
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t g0 = it / p->kg * CB, m = it % p->kg;
      const int nch = (int)(p->groups - g0 < CB ? p->groups - g0 : CB);
      fused_affine t[CB], ids[CB];
      for (int c = 0; c < CB; c++) {
        t[c] = fused_affine_of(xact && c < nch ? xf->coef : NULL, p->c, g0 + c);
        ids[c] = id;
      }
      memset(dwacc, 0, (size_t)(rs * CB) * sizeof(float));
      for (int64_t i = 0; i < p->n; i++) {
        lits_dw_to_channels_last(x + (i * p->c + g0) * hw, hw, p->w, p->h, p->w, nch, t, xact,
                                 relu, round, xcl + p->pw * CB, l.xw);
        /* dy of output channels (g0 + c) kg + m: planes kg ohw apart */
        lits_dw_to_channels_last(dy + i * kohw + (g0 * p->kg + m) * p->ohw, p->kg * p->ohw,
                                 p->ow, p->oh, p->ow, nch, ids, 0, 0, round, dycl, p->ow);
        image_taps(p, &l, xcl, dycl, zeros, dwacc);
      }
      for (int c = 0; c < nch; c++) {
        float* dw = dweight + ((g0 + c) * p->kg + m) * rs;
        for (int64_t tap = 0; tap < rs; tap++) dw[tap] = dwacc[tap * CB + c];
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
