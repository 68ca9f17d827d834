/* conv_depthwise.c: the forward and backward data of depthwise convolutions
 * (one input channel a group, any channel multiplier), kernels up to 7
 * wide, with our own AVX-512 kernel, on the channels-last copies of
 * conv_depthwise_filter.c: sixteen groups at a time, each image's input
 * (x, transformed and rounded as the other kernels read it; or dy) is
 * copied into rows of pixels of 16 channels inside zero padding, every
 * output pixel of the 16 channels is a sum of r s products of a weight
 * vector and an input pixel (plain FMAs, eight output pixels at a time),
 * and the result is transposed back, the bias added in fp32. The backward
 * data of a stride-1 layer is the same sum over dy with the kernel flipped
 * (im2col's col2im adds the same products; padding past (r - 1) d, which
 * would crop dy, is left to the other kernels), the channel multiplier's
 * products added in order. Every output is summed in one order whatever
 * the number of threads; under bf16 autocast the operands are rounded to
 * bf16 (exact products in fp32). */
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

#define CB 16   /* channels a vector (and a block) */
#define MAX_S 7 /* widest kernel taken */
#define PX 8    /* output pixels a step */

/* The correlation both passes run: out[oy][ox] (+)= sum over taps of
 * w[kr s + ks] * in[oy sh + kr dh][ox sw + ks dw], in padded (ih x iw
 * pixels), out oh x ow pixels, CB floats a pixel. */
typedef struct {
  int64_t ih, iw, oh, ow, r, s, sh, sw, dh, dw;
} dw_plan;

/* P output pixels from ox of row oy: acc (from out where add) plus the taps. */
AVX512_INLINE void pixels(const int S, const int P, const dw_plan* q, const float* in,
                          const float* w, int64_t oy, int64_t ox, int add, float* out) {
  __m512 acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) acc[p] = add ? _mm512_loadu_ps(out + p * CB) : _mm512_setzero_ps();
  const int64_t step = q->sw * CB, tap = q->dw * CB;
  for (int64_t kr = 0; kr < q->r; kr++) {
    const float* row = in + ((oy * q->sh + kr * q->dh) * q->iw + ox * q->sw) * CB;
    const float* wk = w + kr * S * CB;
#pragma GCC unroll 8
    for (int t = 0; t < S; t++) {
      const __m512 wv = _mm512_loadu_ps(wk + t * CB);
      const float* b = row + t * tap;
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) {
        acc[p] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(b + p * step), acc[p]);
      }
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) _mm512_storeu_ps(out + p * CB, acc[p]);
}

/* pixels() for stride 1 without dilation: tap t of pixel p is input pixel
 * p + t, so a kernel row's P + S - 1 input pixels are loaded once and
 * every product takes its operands from registers. */
AVX512_INLINE void pixels_dense(const int S, const int P, const dw_plan* q, const float* in,
                                const float* w, int64_t oy, int64_t ox, int add, float* out) {
  __m512 acc[P], xv[P + S - 1];
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) acc[p] = add ? _mm512_loadu_ps(out + p * CB) : _mm512_setzero_ps();
  for (int64_t kr = 0; kr < q->r; kr++) {
    const float* row = in + ((oy * q->sh + kr * q->dh) * q->iw + ox) * CB;
    const float* wk = w + kr * S * CB;
#pragma GCC unroll 16
    for (int j = 0; j < P + S - 1; j++) xv[j] = _mm512_loadu_ps(row + j * CB);
#pragma GCC unroll 8
    for (int t = 0; t < S; t++) {
      const __m512 wv = _mm512_loadu_ps(wk + t * CB);
#pragma GCC unroll 8
      for (int p = 0; p < P; p++) acc[p] = _mm512_fmadd_ps(wv, xv[p + t], acc[p]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; p++) _mm512_storeu_ps(out + p * CB, acc[p]);
}

AVX512_INLINE void plane(const int S, const dw_plan* q, const float* in, const float* w, int add,
                         float* out) {
  const int dense = q->sw == 1 && q->dw == 1;
  for (int64_t oy = 0; oy < q->oh; oy++) {
    float* o = out + oy * q->ow * CB;
    int64_t ox = 0;
    if (dense) {
      for (; ox + PX <= q->ow; ox += PX) pixels_dense(S, PX, q, in, w, oy, ox, add, o + ox * CB);
    } else {
      for (; ox + PX <= q->ow; ox += PX) pixels(S, PX, q, in, w, oy, ox, add, o + ox * CB);
    }
    for (; ox < q->ow; ox++) pixels(S, 1, q, in, w, oy, ox, add, o + ox * CB);
  }
}

typedef void (*plane_fn)(const dw_plan*, const float*, const float*, int, float*);
#define PLANE(S)                                                                          \
  AVX512 static void plane_##S(const dw_plan* q, const float* in, const float* w, int add, \
                               float* out) {                                              \
    plane(S, q, in, w, add, out);                                                         \
  }
PLANE(1) PLANE(2) PLANE(3) PLANE(4) PLANE(5) PLANE(6) PLANE(7)
static const plane_fn PLANE_OF[MAX_S + 1] = {NULL,    plane_1, plane_2, plane_3,
                                             plane_4, plane_5, plane_6, plane_7};

/* The pixels a thread's copies take: the padded input and the output. */
static int64_t input_pixels(const conv_shape* p, int kind) {
  return kind == 0 ? ((p->oh - 1) * p->sh + (p->r - 1) * p->dh + 1) *
                         ((p->ow - 1) * p->sw + (p->s - 1) * p->dw + 1)
                   : (p->h + (p->r - 1) * p->dh) * (p->w + (p->s - 1) * p->dw);
}

int lits_conv_depthwise_applies(const conv_shape* p, int kind) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* algo = getenv("LITS_CONV_ALGO"); /* names one of the other kernels */
  if (algo != NULL && algo[0] != '\0') return 0;
  if (!avx512 || p->cg != 1 || p->groups <= 1 || p->s > MAX_S || p->r * p->s <= 1) return 0;
  /* The backward data as a stride-1 correlation over dy padded by (r - 1) d - p. */
  if (kind == 1 && (p->sh != 1 || p->sw != 1 || p->ph > (p->r - 1) * p->dh ||
                    p->pw > (p->s - 1) * p->dw)) {
    return 0;
  }
  /* 64 floats a pixel of the copies: past 64 MiB a thread, im2col's tiles take less. */
  const int64_t pixels = input_pixels(p, kind) + (kind == 0 ? p->oh * p->ow : p->h * p->w);
  return pixels * CB * (int64_t)sizeof(float) <= ((int64_t)64 << 20);
}

/* out's pixels (rows x cols, CB floats each) back to nch planes of dst
 * (plane c at dst + c * stride, rows cols apart), plus bias[c] where bias. */
AVX512 static void from_channels_last(const float* out, int64_t rows, int64_t cols, int nch,
                                      const float* bias, float* dst, int64_t stride) {
  for (int64_t y = 0; y < rows; y++) {
    for (int64_t j0 = 0; j0 < cols; j0 += CB) {
      const int64_t n = cols - j0 < CB ? cols - j0 : CB;
      const __mmask16 m = n == CB ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
      __m512 r[CB];
      for (int j = 0; j < CB; j++) {
        r[j] = j < n ? _mm512_loadu_ps(out + (y * cols + j0 + j) * CB) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int c = 0; c < nch; c++) {
        const __m512 v = bias != NULL ? _mm512_add_ps(r[c], _mm512_set1_ps(bias[c])) : r[c];
        _mm512_mask_storeu_ps(dst + c * stride + y * cols + j0, m, v);
      }
    }
  }
}

/* The block's weights as r s vectors of CB channels: output channel
 * (g0 + c) kg + m, rounded where round, flipped where flip; zero past nch. */
static void weights_of(const conv_shape* p, const float* weight, int64_t g0, int nch, int64_t m,
                       int round, int flip, float* w) {
  const int64_t rs = p->r * p->s;
  memset(w, 0, (size_t)(rs * CB) * sizeof(float));
  for (int c = 0; c < nch; c++) {
    const float* src = weight + ((g0 + c) * p->kg + m) * rs;
    for (int64_t t = 0; t < rs; t++) {
      const float v = src[flip ? rs - 1 - t : t];
      w[t * CB + c] = round ? conv_round_bf16(v) : v;
    }
  }
}

/* kind 0: y = conv(x) + bias; kind 1: dx = the backward data of dy. */
static int run(const conv_shape* p, int kind, const float* src, const conv_xform* xf,
               const float* weight, const float* bias, int round, float* dst,
               conv_epilogue* ep) {
  dw_plan q;
  q.r = p->r, q.s = p->s, q.dh = p->dh, q.dw = p->dw;
  int64_t top, left, in_rows, in_cols, src_rows, src_cols;
  if (kind == 0) {
    q.sh = p->sh, q.sw = p->sw, q.oh = p->oh, q.ow = p->ow;
    q.ih = (p->oh - 1) * p->sh + (p->r - 1) * p->dh + 1;
    q.iw = (p->ow - 1) * p->sw + (p->s - 1) * p->dw + 1;
    top = p->ph, left = p->pw, src_rows = p->h, src_cols = p->w;
  } else {
    q.sh = 1, q.sw = 1, q.oh = p->h, q.ow = p->w;
    q.ih = p->h + (p->r - 1) * p->dh;
    q.iw = p->w + (p->s - 1) * p->dw;
    top = (p->r - 1) * p->dh - p->ph, left = (p->s - 1) * p->dw - p->pw;
    src_rows = p->oh, src_cols = p->ow;
  }
  /* The source rows and columns the padded input holds (top and left are
   * never negative: lits_conv_depthwise_applies); the rest is never read. */
  in_rows = src_rows < q.ih - top ? src_rows : q.ih - top;
  in_cols = src_cols < q.iw - left ? src_cols : q.iw - left;
  if (in_rows < 0) in_rows = 0;
  if (in_cols < 0) in_cols = 0;
  const int64_t rs = p->r * p->s, blocks = (p->groups + CB - 1) / CB;
  const int64_t items = kind == 0 ? blocks * p->kg : blocks;
  const int threads = min_threads(omp_get_max_threads(), items);
  const int64_t inn = round16(q.ih * q.iw * CB), outn = round16(q.oh * q.ow * CB);
  const int64_t per = inn + outn + rs * CB;
  float* scratch = thread_scratch(per, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  const int xact = kind == 0 && conv_xform_active(xf), relu = xact && xf->relu;
  const int fuse = ep != NULL && (ep->y_coef != NULL || ep->r != NULL || ep->relu);
  const fused_affine id = {0.0f, 1.0f, 0.0f, 1};
  const int64_t shw = src_rows * src_cols, dhw = q.oh * q.ow;
  const int64_t src_ch = kind == 0 ? p->c : p->k, dst_ch = kind == 0 ? p->k : p->c;
#pragma omp parallel num_threads(threads)
  {
    float* in = scratch + per * omp_get_thread_num();
    float* out = in + inn;
    float* w = out + outn;
    memset(in, 0, (size_t)(q.ih * q.iw * CB) * sizeof(float)); /* the padding stays zero */
    float* interior = in + (top * q.iw + left) * CB;
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t g0 = (kind == 0 ? it / p->kg : it) * CB, m0 = kind == 0 ? it % p->kg : 0;
      const int64_t m1 = kind == 0 ? m0 + 1 : p->kg;
      const int nch = (int)(p->groups - g0 < CB ? p->groups - g0 : CB);
      fused_affine t[CB];
      float bb[CB];
      for (int c = 0; c < CB; c++) {
        t[c] = xact && c < nch ? fused_affine_of(xf->coef, p->c, g0 + c) : id;
        bb[c] = kind == 0 && bias != NULL && c < nch ? bias[(g0 + c) * p->kg + m0] : 0.0f;
      }
      for (int64_t i = 0; i < p->n; i++) {
        for (int64_t m = m0; m < m1; m++) {
          /* x's planes of the block's groups, or dy's of output channels (g0 + c) kg + m */
          const int64_t first = kind == 0 ? g0 : g0 * p->kg + m, apart = kind == 0 ? 1 : p->kg;
          if (kind == 1 || m == m0) {
            lits_dw_to_channels_last(src + (i * src_ch + first) * shw, apart * shw, src_cols,
                                     in_rows, in_cols, nch, t, xact, relu, round, interior, q.iw);
          }
          weights_of(p, weight, g0, nch, m, round, kind == 1, w);
          PLANE_OF[p->s](&q, in, w, m > m0, out);
        }
        /* output channels (g0 + c) kg + m0 (forward), or dx's g0 + c */
        const int64_t o = kind == 0 ? g0 * p->kg + m0 : g0, oapart = kind == 0 ? p->kg : 1;
        from_channels_last(out, q.oh, q.ow, nch, kind == 0 && bias != NULL ? bb : NULL,
                           dst + (i * dst_ch + o) * dhw, oapart * dhw);
        /* The epilogue on the block's planes while they are still in cache. */
        for (int c = 0; c < nch && fuse; c++) {
          const int64_t ch = o + c * oapart, at = (i * dst_ch + ch) * dhw;
          fused_affine_span(dst + at, dst + at, fused_affine_of(ep->y_coef, p->k, ch),
                            ep->r != NULL ? ep->r + at : NULL,
                            fused_affine_of(ep->r_coef, p->k, ch), dhw, ep->relu);
        }
      }
    }
  }
  lits_scratch_free(scratch);
  if (fuse) ep->applied = 1;
  return LITS_OK;
}

int lits_conv_depthwise_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                const float* weight, const float* bias, int round, float* y,
                                conv_epilogue* ep) {
  return run(p, 0, x, xf, weight, bias, round, y, ep);
}

int lits_conv_depthwise_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                      int round, float* dx) {
  return run(p, 1, dy, NULL, weight, NULL, round, dx, NULL);
}
