/* conv_direct.c: direct 3x3 convolution (stride 1, padding 1, no groups or
 * dilation) in AVX-512 on NCHW tensors: the small CNN's layers.
 *
 * im2col would copy each input element nine times for these few-channel
 * layers and hand SGEMM a short inner dimension (9 c); here each input
 * vector is loaded once per tap and feeds a block of output channels from
 * registers. The image border is handled with masked loads (lanes outside the
 * image read as zero), so there is no padded copy. Backward data is the same
 * kernel on dy with the weights transposed and flipped; backward filter keeps
 * 2 x 9 accumulators per (input channel, output channel pair). A deferred
 * batch norm / ReLU on the input (conv_xform) is applied once per image into
 * a buffer before the forward kernel runs.
 *
 * Built only where the compiler targets AVX-512 (-march=native on such a
 * CPU); elsewhere every entry point declines and the GEMM path runs. */
#include <stddef.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_direct.h"
#include "conv_internal.h"
#include "fused_internal.h"

int lits_conv_direct_applies(const conv_shape* p) {
#ifdef __AVX512F__
  /* Narrower rows leave many vector lanes masked (and a 16-wide variant
   * that blocked two rows measured slower than GEMM at 256 channels). */
  const int width_ok = p->w >= 32 && p->w <= 16 * 256;
  return p->r == 3 && p->s == 3 && p->sh == 1 && p->sw == 1 && p->ph == 1 && p->pw == 1 &&
         p->dh == 1 && p->dw == 1 && p->groups == 1 && width_ok &&
         p->k % 8 == 0;
#else
  (void)p;
  return 0;
#endif
}

#ifdef __AVX512F__
#include <immintrin.h>

#define KB CONV_DIRECT_KB
#define VB 2 /* 16-float vectors per register block (forward) */
#define MAX_VECTORS 256 /* widest row (16 floats each) the filter kernel takes */

/* conv_direct.h's: the row of channel k0 + kb at yr + kb ldk, VB vectors
 * at a time. */
void lits_conv_direct_row(const float* x, const float* w, const float* bias, float* yr,
                          int64_t ldk, int64_t c, int64_t h, int64_t wd, int64_t k0, int64_t oy) {
  const int64_t hw = h * wd, c9 = c * 9;
  for (int64_t ox0 = 0; ox0 < wd; ox0 += 16 * VB) {
    __mmask16 m[VB][3], mout[VB];
    for (int v = 0; v < VB; v++) {
      const int64_t o = ox0 + 16 * v;
      for (int ks = 0; ks < 3; ks++) m[v][ks] = o < wd ? conv_tap_mask(o, ks, wd) : 0;
      mout[v] = o < wd ? conv_tap_mask(o, 1, wd) : 0;
    }
    __m512 acc[KB][VB];
    for (int kb = 0; kb < KB; kb++) {
      const __m512 b0 = _mm512_set1_ps(bias != NULL ? bias[k0 + kb] : 0.0f);
      for (int v = 0; v < VB; v++) acc[kb][v] = b0;
    }
    for (int64_t ci = 0; ci < c; ci++) {
      const float* wc = w + k0 * c9 + ci * 9;
      for (int kr = 0; kr < 3; kr++) {
        const int64_t iy = oy + kr - 1;
        if (iy < 0 || iy >= h) continue;
        const float* row = x + ci * hw + iy * wd + ox0 - 1;
        for (int ks = 0; ks < 3; ks++) {
          __m512 xv[VB];
          for (int v = 0; v < VB; v++) xv[v] = _mm512_maskz_loadu_ps(m[v][ks], row + 16 * v + ks);
          for (int kb = 0; kb < KB; kb++) {
            const __m512 wv = _mm512_set1_ps(wc[kb * c9 + kr * 3 + ks]);
            for (int v = 0; v < VB; v++) acc[kb][v] = _mm512_fmadd_ps(wv, xv[v], acc[kb][v]);
          }
        }
      }
    }
    for (int kb = 0; kb < KB; kb++) {
      float* out = yr + kb * ldk + ox0;
      for (int v = 0; v < VB; v++) _mm512_mask_storeu_ps(out + 16 * v, mout[v], acc[kb][v]);
    }
  }
}

/* All rows of KB channels k0.. of one image. */
static void fwd_rows(const float* x, const float* w, const float* bias, float* y, int64_t c,
                     int64_t h, int64_t wd, int64_t k0) {
  for (int64_t oy = 0; oy < h; oy++) {
    lits_conv_direct_row(x, w, bias, y + k0 * h * wd + oy * wd, h * wd, c, h, wd, k0, oy);
  }
}

/* y [n, k, h, w] = conv(x [n, c, h, w], w [k, c, 3, 3]) + bias. */
static void direct_forward(const float* x, const float* w, const float* bias, float* y,
                           int64_t n, int64_t c, int64_t h, int64_t wd, int64_t k) {
  const int64_t kblocks = k / KB, items = n * kblocks;
#pragma omp parallel for schedule(static)
  for (int64_t it = 0; it < items; it++) {
    const int64_t i = it / kblocks, k0 = (it % kblocks) * KB;
    fwd_rows(x + i * c * h * wd, w, bias, y + i * k * h * wd, c, h, wd, k0);
  }
}

/* The same on the input relu?(T(x)): a thread takes whole images and writes
 * each one's transformed input once into its own buffer (the kernel loads
 * each input element up to 9 k / 8 times). */
static int direct_forward_xf(const float* x, const conv_xform* xf, const float* w,
                             const float* bias, float* y, int64_t n, int64_t c, int64_t h,
                             int64_t wd, int64_t k) {
  const int nt = omp_get_max_threads();
  const int threads = n < nt ? (int)n : nt;
  const int64_t chw = c * h * wd, per = (chw + 15) / 16 * 16;
  float* bufs = (float*)lits_scratch_alloc(per * threads * 4);
  if (bufs == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    float* xt = bufs + per * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      for (int64_t ci = 0; ci < c; ci++) {
        fused_apply(xt + ci * h * wd, x + i * chw + ci * h * wd, h * wd,
                    fused_affine_of(xf->coef, c, ci), xf->relu);
      }
      for (int64_t k0 = 0; k0 < k; k0 += KB) fwd_rows(xt, w, bias, y + i * k * h * wd, c, h, wd, k0);
    }
  }
  lits_scratch_free(bufs);
  return LITS_OK;
}

/* Masks of the vectors of a row: [j][0..2] for the taps ks, [j][3] for the
 * output columns. */
typedef __mmask16 row_masks[4];

/* Partial filter gradient of one image for input channel ci and output
 * channels k0, k0 + 1, over rows [oy0, oy1): added into dw [k, c, 3, 3]
 * (dy rounded to bf16 as it is loaded where dy_bf16). */
static void filter_rows(const float* xi, const float* dyi, int dy_bf16, float* dw,
                        const row_masks* masks, int64_t c, int64_t h, int64_t wd, int64_t ci,
                        int64_t k0, int64_t oy0, int64_t oy1) {
  const int64_t hw = h * wd;
  __m512 acc[2][9];
  for (int j = 0; j < 2; j++)
    for (int t = 0; t < 9; t++) acc[j][t] = _mm512_setzero_ps();
  const float* xc = xi + ci * hw;
  const float* dy0 = dyi + k0 * hw;
  const float* dy1 = dy0 + hw;
  for (int64_t oy = oy0; oy < oy1; oy++) {
    const int top = oy > 0, bottom = oy + 1 < h;
    for (int64_t j = 0, ox0 = 0; ox0 < wd; j++, ox0 += 16) {
      __m512 d0 = _mm512_maskz_loadu_ps(masks[j][3], dy0 + oy * wd + ox0);
      __m512 d1 = _mm512_maskz_loadu_ps(masks[j][3], dy1 + oy * wd + ox0);
      if (dy_bf16) d0 = conv_round_bf16_16(d0), d1 = conv_round_bf16_16(d1);
      for (int kr = 0; kr < 3; kr++) {
        if ((kr == 0 && !top) || (kr == 2 && !bottom)) continue;
        const float* row = xc + (oy + kr - 1) * wd + ox0 - 1;
        for (int ks = 0; ks < 3; ks++) {
          const __m512 xv = _mm512_maskz_loadu_ps(masks[j][ks], row + ks);
          acc[0][kr * 3 + ks] = _mm512_fmadd_ps(d0, xv, acc[0][kr * 3 + ks]);
          acc[1][kr * 3 + ks] = _mm512_fmadd_ps(d1, xv, acc[1][kr * 3 + ks]);
        }
      }
    }
  }
  for (int j = 0; j < 2; j++) {
    float* dst = dw + ((k0 + j) * c + ci) * 9;
    for (int t = 0; t < 9; t++) dst[t] += _mm512_reduce_add_ps(acc[j][t]);
  }
}

/* Rows per block of the filter gradient: one block's x and dy rows stay in L2. */
static int64_t filter_block_rows(int64_t c, int64_t k, int64_t wd, int64_t h) {
  const int64_t per_row = (c + k) * wd * 4;
  int64_t rows = (1 << 20) / (per_row > 0 ? per_row : 1);
  if (rows < 1) rows = 1;
  return rows < h ? rows : h;
}

static int direct_backward_filter(const float* x, const float* dy, int dy_bf16, float* dweight,
                                  int64_t n, int64_t c, int64_t h, int64_t wd, int64_t k) {
  const int nt = omp_get_max_threads() < 64 ? omp_get_max_threads() : 64;
  const int threads = n < nt ? (int)n : nt;
  const int64_t wn = k * c * 9;
  /* Threads sum their images into their own dweight (the first into the
   * output); the copies are added at the end. */
  float* accs = threads > 1 ? (float*)lits_scratch_alloc(wn * (threads - 1) * 4) : NULL;
  if (threads > 1 && accs == NULL) return LITS_ERR_MEMORY;
  const int64_t rows = filter_block_rows(c, k, wd, h);
  row_masks masks[MAX_VECTORS];
  for (int64_t j = 0; j * 16 < wd; j++) {
    for (int ks = 0; ks < 3; ks++) masks[j][ks] = conv_tap_mask(16 * j, ks, wd);
    masks[j][3] = conv_tap_mask(16 * j, 1, wd);
  }
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float* acc = tid == 0 ? dweight : accs + wn * (tid - 1);
    memset(acc, 0, (size_t)wn * 4);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float* xi = x + i * c * h * wd;
      const float* dyi = dy + i * k * h * wd;
      for (int64_t oy0 = 0; oy0 < h; oy0 += rows) {
        const int64_t oy1 = oy0 + rows < h ? oy0 + rows : h;
        for (int64_t k0 = 0; k0 < k; k0 += 2) {
          for (int64_t ci = 0; ci < c; ci++) {
            filter_rows(xi, dyi, dy_bf16, acc, masks, c, h, wd, ci, k0, oy0, oy1);
          }
        }
      }
    }
#pragma omp for schedule(static)
    for (int64_t j = 0; j < wn; j++) {
      float v = dweight[j];
      for (int u = 1; u < threads; u++) v += accs[wn * (u - 1) + j];
      dweight[j] = v;
    }
  }
  lits_scratch_free(accs);
  return LITS_OK;
}
#endif

int lits_conv_direct_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                             const float* weight, const float* bias, float* y) {
#ifdef __AVX512F__
  if (conv_xform_active(xf)) {
    /* Whole images per thread: a batch smaller than the threads would idle some. */
    if (p->n < omp_get_max_threads()) return LITS_ERR_UNAVAILABLE;
    return direct_forward_xf(x, xf, weight, bias, y, p->n, p->c, p->h, p->w, p->k);
  }
  direct_forward(x, weight, bias, y, p->n, p->c, p->h, p->w, p->k);
  return LITS_OK;
#else
  (void)p, (void)x, (void)xf, (void)weight, (void)bias, (void)y;
  return LITS_ERR_UNAVAILABLE;
#endif
}

int lits_conv_direct_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                   float* dx) {
#ifdef __AVX512F__
  /* dx = conv(dy, w') with w'[c][k][kr][ks] = w[k][c][2 - kr][2 - ks]: the
   * forward kernel with k and c swapped. It needs c % 8 == 0. */
  if (p->c % KB != 0) return LITS_ERR_UNAVAILABLE;
  const int64_t k = p->k, c = p->c;
  float* wt = (float*)lits_scratch_alloc(k * c * 9 * 4);
  if (wt == NULL) return LITS_ERR_MEMORY;
  for (int64_t ko = 0; ko < k; ko++)
    for (int64_t ci = 0; ci < c; ci++)
      for (int t = 0; t < 9; t++) wt[(ci * k + ko) * 9 + (8 - t)] = weight[(ko * c + ci) * 9 + t];
  direct_forward(dy, wt, NULL, dx, p->n, k, p->h, p->w, c);
  lits_scratch_free(wt);
  return LITS_OK;
#else
  (void)p, (void)weight, (void)dy, (void)dx;
  return LITS_ERR_UNAVAILABLE;
#endif
}

int lits_conv_direct_backward_filter(const conv_shape* p, const float* x, const float* dy,
                                     int dy_bf16, float* dweight) {
#ifdef __AVX512F__
  return direct_backward_filter(x, dy, dy_bf16, dweight, p->n, p->c, p->h, p->w, p->k);
#else
  (void)p, (void)x, (void)dy, (void)dy_bf16, (void)dweight;
  return LITS_ERR_UNAVAILABLE;
#endif
}
