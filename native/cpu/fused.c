/* fused.c: per-channel affine transforms with a residual and a ReLU, fused
 * into one pass (batch norm's output, residual adds and ReLUs that the
 * TypeScript side leaves unmaterialised until something reads them), and the
 * ReLU backward on such a fused value (whose dy may itself be a deferred sum
 * of two gradients). */
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "fused_internal.h"
#include "pool_internal.h"
#include "stream_store.h"

/* Below this many elements a call stays on one thread. */
#define FUSED_PAR_MIN 32768

/* Planes longer than this many elements are walked in pieces of this
 * size, so that both threads work on one long plane (an elementwise value
 * flattened to [1, 1, n]: one thread took all of ResNet-50's residual
 * ReLU backward: 17.7 GB/s, 35 in pieces). The pieces depend on the
 * shape only, never on the thread count. */
#define FUSED_PIECE 32768

/* The piece walk both entry points share: per piece `it` of plane `pl` of
 * [n, c] (channel pl % c), its first element `j0` in the plane and length
 * `len`, the transforms `tx`, `tr` of its channel and its rows `xs`, `rs`
 * (from j0; rs NULL without r), with a per-thread `buf` for streamed
 * stores. Written once so that the forward and the backward read a fused
 * value the same way. The statements are variadic so that their commas
 * need no parentheses. */
#define FOR_FUSED_PIECES(planes, c, hw, x, x_coef, r, r_coef, ...)                   \
  _Pragma("omp parallel if ((planes) * (hw) >= FUSED_PAR_MIN)") {                    \
    float buf[LITS_STREAM_CHUNK];                                                     \
    const int64_t per = ((hw) + FUSED_PIECE - 1) / FUSED_PIECE;                       \
    _Pragma("omp for schedule(static)")                                               \
    for (int64_t it = 0; it < (planes) * per; it++) {                                 \
      const int64_t pl = it / per, ch = pl % (c), j0 = it % per * FUSED_PIECE;        \
      const int64_t len = (hw) - j0 < FUSED_PIECE ? (hw) - j0 : FUSED_PIECE;          \
      const fused_affine tx = fused_affine_of((x_coef), (c), ch);                     \
      const fused_affine tr = fused_affine_of((r_coef), (c), ch);                     \
      const float* xs = (x) + pl * (hw) + j0;                                         \
      const float* rs = (r) != NULL ? (r) + pl * (hw) + j0 : NULL;                    \
      __VA_ARGS__                                                                     \
    }                                                                                 \
    if (stream) stream_fence();                                                       \
  }

/* Words of a ReLU mask's plane (lits.h): 16 elements a word. */
static inline int64_t mask_words(int64_t hw) { return (hw + 15) / 16; }

/* bits[q] bit j set where the ReLU whose output is v passed its gradient at
 * v[16 q + j]: !(v <= 0), so NaN passes, as mask_plane's test of the same
 * value (len from a 16-aligned start of a plane). */
static void mask_bits_of(const float* v, int64_t len, uint16_t* bits) {
  for (int64_t q = 0; 16 * q < len; q++) {
    const int64_t m = len - 16 * q < 16 ? len - 16 * q : 16;
#ifdef __AVX512F__
    const __mmask16 k = m == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << m) - 1);
    const __m512 vq = _mm512_maskz_loadu_ps(k, v + 16 * q);
    bits[q] = (uint16_t)_mm512_mask_cmp_ps_mask(k, vq, _mm512_setzero_ps(), _CMP_NLE_UQ);
#else
    unsigned w = 0;
    for (int64_t j = 0; j < m; j++) w |= (unsigned)!(v[16 * q + j] <= 0.0f) << j;
    bits[q] = (uint16_t)w;
#endif
  }
}

/* lits_fused_affine_f32, and with mask (relu 1) the output's ReLU mask. */
static int affine_pass(const char* fn, const float* x, const float* x_coef, const float* r,
                       const float* r_coef, float* y, int32_t n, int32_t c, int64_t hw,
                       int32_t relu, uint16_t* mask) {
  lits_clear_error();
  LITS_CHECKED(lits_check_nchw(fn, n, c, hw));
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  LITS_REQUIRE(r != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  LITS_REQUIRE(relu >= 0 && relu <= FUSED_SILU, "%s: relu must be 0, 1, 2 or 3, got %d", fn,
               relu);
  const int64_t planes = (int64_t)n * c, words = mask_words(hw);
  const int stream = stream_output(planes * hw);
  /* The pieces and stream chunks start at multiples of 16: whole mask words. */
  FOR_FUSED_PIECES(planes, c, hw, x, x_coef, r, r_coef, {
    float* ys = y + pl * hw + j0;
    uint16_t* ms = mask != NULL ? mask + pl * words + j0 / 16 : NULL;
    if (!stream) {
      fused_affine_span(ys, xs, tx, rs, tr, len, relu);
      if (ms != NULL) mask_bits_of(ys, len, ms);
      continue;
    }
    for (int64_t k0 = 0; k0 < len; k0 += LITS_STREAM_CHUNK) {
      const int64_t m = len - k0 < LITS_STREAM_CHUNK ? len - k0 : LITS_STREAM_CHUNK;
      fused_affine_span(buf, xs + k0, tx, rs != NULL ? rs + k0 : NULL, tr, m, relu);
      if (ms != NULL) mask_bits_of(buf, m, ms + k0 / 16);
      stream_copy(ys + k0, buf, m);
    }
  })
  return LITS_OK;
}

int lits_fused_affine_f32(const float* x, const float* x_coef, const float* r,
                          const float* r_coef, float* y, int32_t n, int32_t c, int64_t hw,
                          int32_t relu) {
  return affine_pass("lits_fused_affine_f32", x, x_coef, r, r_coef, y, n, c, hw, relu, NULL);
}

int lits_fused_relu_mask_f32(const float* x, const float* x_coef, const float* r,
                             const float* r_coef, float* y, uint16_t* mask, int32_t n, int32_t c,
                             int64_t hw) {
  static const char* fn = "lits_fused_relu_mask_f32";
  lits_clear_error();
  LITS_REQUIRE(mask != NULL, "%s: mask is NULL", fn);
  return affine_pass(fn, x, x_coef, r, r_coef, y, n, c, hw, FUSED_RELU, mask);
}

/* dx = dy (+ dy2) where relu?(v) passed, v = T_x(x) (+ T_r(r)): one plane.
 * Each case is its own float-only loop, so that it vectorises; G is the
 * gradient element read. */
#define MASK_LOOPS(G)                                                                   \
  if (rs == NULL && tx.identity) {                                                      \
    _Pragma("omp simd")                                                                 \
    for (int64_t j = 0; j < hw; j++) out[j] = xs[j] <= 0.0f ? 0.0f : (G);               \
  } else if (rs == NULL) {                                                              \
    const float m = tx.mean, a = tx.scale, b = tx.shift;                                \
    _Pragma("omp simd")                                                                 \
    for (int64_t j = 0; j < hw; j++) out[j] = (xs[j] - m) * a + b <= 0.0f ? 0.0f : (G); \
  } else {                                                                              \
    _Pragma("omp simd")                                                                 \
    for (int64_t j = 0; j < hw; j++) {                                                  \
      const float v = fused_value(xs[j], tx) + fused_value(rs[j], tr);                  \
      out[j] = v <= 0.0f ? 0.0f : (G);                                                  \
    }                                                                                   \
  }

static void mask_plane(const float* xs, fused_affine tx, const float* rs, fused_affine tr,
                       const float* gs, const float* g2s, float* out, int64_t hw) {
  if (g2s == NULL) {
    MASK_LOOPS(gs[j])
  } else {
    MASK_LOOPS(gs[j] + g2s[j])
  }
}

/* mask_plane's dx from a ReLU mask's bits (16-aligned start): the same
 * values, dy (+ dy2) where a bit is set, else 0. */
static void bits_plane(const uint16_t* bits, const float* gs, const float* g2s, float* out,
                       int64_t len) {
  for (int64_t q = 0; 16 * q < len; q++) {
    const int64_t m = len - 16 * q < 16 ? len - 16 * q : 16, at = 16 * q;
#ifdef __AVX512F__
    const __mmask16 k = m == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << m) - 1);
    const __mmask16 on = k & (__mmask16)bits[q];
    __m512 g = _mm512_maskz_loadu_ps(on, gs + at);
    if (g2s != NULL) g = _mm512_add_ps(g, _mm512_maskz_loadu_ps(on, g2s + at));
    _mm512_mask_storeu_ps(out + at, k, g);
#else
    for (int64_t j = 0; j < m; j++) {
      out[at + j] = bits[q] >> j & 1u ? (g2s != NULL ? gs[at + j] + g2s[at + j] : gs[at + j])
                                      : 0.0f;
    }
#endif
  }
}

/* lits_relu_mask_backward_f32, or by_bits lits_relu_bits_backward_f32
 * (then x, the mask's value, is not read: FOR_FUSED_PIECES walks dy). */
static int mask_backward(const char* fn, const float* dy, const float* dy2, const float* x,
                         const float* x_coef, const float* r, const float* r_coef, int by_bits,
                         const uint16_t* bits, float* dx, int32_t n, int32_t c, int64_t hw,
                         float* channel_sum) {
  lits_clear_error();
  const int st = lits_check_nchw(fn, n, c, hw);
  if (st > 0) return st;
  if (st == LITS_EMPTY) { /* no element: the channel sums are zeros */
    if (channel_sum != NULL) memset(channel_sum, 0, (size_t)c * sizeof(float));
    return LITS_OK;
  }
  LITS_REQUIRE(dy != NULL && (by_bits ? bits != NULL : x != NULL) && dx != NULL,
               "%s: dy, %s or dx is NULL", fn, by_bits ? "mask" : "x");
  LITS_REQUIRE(r != NULL || r_coef == NULL, "%s: r_coef is given without r", fn);
  const int64_t planes = (int64_t)n * c, per = (hw + FUSED_PIECE - 1) / FUSED_PIECE;
  const int64_t words = mask_words(hw);
  if (by_bits) x = dy;
  /* Per-piece sums (double), added per channel at the end in order. */
  double* sums = NULL;
  if (channel_sum != NULL) {
    sums = (double*)lits_scratch_alloc(planes * per * (int64_t)sizeof(double));
    if (sums == NULL) return LITS_ERR_MEMORY;
  }
  /* Streamed when large, unless summed again here (then it is read from cache). */
  const int stream = sums == NULL && stream_output(planes * hw);
  FOR_FUSED_PIECES(planes, c, hw, x, x_coef, r, r_coef, {
    const float* gs = dy + pl * hw + j0;
    float* out = dx + pl * hw + j0;
    const float* gs2 = dy2 != NULL ? dy2 + pl * hw + j0 : NULL;
    const uint16_t* bs = bits != NULL ? bits + pl * words + j0 / 16 : NULL;
    if (stream) {
      for (int64_t k0 = 0; k0 < len; k0 += LITS_STREAM_CHUNK) {
        const int64_t m = len - k0 < LITS_STREAM_CHUNK ? len - k0 : LITS_STREAM_CHUNK;
        if (bs != NULL) {
          bits_plane(bs + k0 / 16, gs + k0, gs2 != NULL ? gs2 + k0 : NULL, buf, m);
        } else {
          mask_plane(xs + k0, tx, rs != NULL ? rs + k0 : NULL, tr, gs + k0,
                     gs2 != NULL ? gs2 + k0 : NULL, buf, m);
        }
        stream_copy(out + k0, buf, m);
      }
      continue;
    }
    if (bs != NULL) {
      bits_plane(bs, gs, gs2, out, len);
    } else {
      mask_plane(xs, tx, rs, tr, gs, gs2, out, len);
    }
    if (sums != NULL) {
      /* The piece was just written: summing it again reads it from cache. (_Pragma, since a
       * #pragma line cannot stand inside the macro's argument.) */
      double acc = 0.0;
      _Pragma("omp simd reduction(+ : acc)")
      for (int64_t j = 0; j < len; j++) acc += out[j];
      sums[it] = acc;
    }
  })
  if (sums != NULL) {
    for (int64_t ch = 0; ch < c; ch++) {
      double t = 0.0;
      for (int64_t ni = 0; ni < n; ni++) {
        for (int64_t q = 0; q < per; q++) t += sums[(ni * c + ch) * per + q];
      }
      channel_sum[ch] = (float)t;
    }
    lits_scratch_free(sums);
  }
  return LITS_OK;
}

int lits_relu_mask_backward_f32(const float* dy, const float* dy2, const float* x,
                                const float* x_coef, const float* r, const float* r_coef,
                                float* dx, int32_t n, int32_t c, int64_t hw,
                                float* channel_sum) {
  return mask_backward("lits_relu_mask_backward_f32", dy, dy2, x, x_coef, r, r_coef, 0, NULL, dx,
                       n, c, hw, channel_sum);
}

int lits_relu_bits_backward_f32(const float* dy, const float* dy2, const uint16_t* mask,
                                float* dx, int32_t n, int32_t c, int64_t hw, float* channel_sum) {
  return mask_backward("lits_relu_bits_backward_f32", dy, dy2, NULL, NULL, NULL, NULL, 1, mask,
                       dx, n, c, hw, channel_sum);
}

/* lits_maxpool2d_backward_relu_f32, or with y (the pool's output)
 * lits_maxpool2d_backward_relu_out_f32: then dy is masked by y before it
 * is scattered, instead of dx by x after (see lits.h: the same bits). */
static int pool_relu_backward(const char* fn, const lits_pool2d_params* params_host,
                              const float* dy, const int32_t* indices, const float* x,
                              const float* x_coef, const float* y, float* dx,
                              float* channel_sum) {
  lits_clear_error();
  const int st = lits_check_pool(fn, params_host);
  if (st > 0) return st;
  const lits_pool2d_params* q = params_host;
  const int64_t c = q->c, hw = (int64_t)q->h * q->w, ohw = (int64_t)q->oh * q->ow;
  const int64_t planes = (int64_t)q->n * c;
  if (st == LITS_EMPTY || planes * hw == 0) { /* no element: the channel sums are zeros */
    if (channel_sum != NULL) memset(channel_sum, 0, (size_t)c * sizeof(float));
    return LITS_OK;
  }
  LITS_REQUIRE(dy != NULL && indices != NULL && (x != NULL || y != NULL) && dx != NULL,
               "%s: dy, indices, %s or dx is NULL", fn, y != NULL ? "y" : "x");
  const int64_t per = (hw + FUSED_PIECE - 1) / FUSED_PIECE;
  double* sums = NULL; /* per piece, as lits_relu_mask_backward_f32's */
  if (channel_sum != NULL) {
    sums = (double*)lits_scratch_alloc(planes * per * (int64_t)sizeof(double));
    if (sums == NULL) return LITS_ERR_MEMORY;
  }
  /* A plane's gradient is scattered into a buffer (L2), masked and summed
   * there, then streamed to dx when large: dx is written once, not read. */
  const int threads = omp_get_max_threads(), stream = stream_output(planes * hw);
  /* Per thread: the plane's dx, then (with y) its masked dy. */
  const int64_t room = (hw + 15) / 16 * 16 + (y != NULL ? (ohw + 15) / 16 * 16 : 0);
  float* bufs = (float*)lits_scratch_alloc(room * threads * (int64_t)sizeof(float));
  if (bufs == NULL) {
    lits_scratch_free(sums);
    return LITS_ERR_MEMORY;
  }
  int64_t bad = -1; /* flat position of an out-of-range index, if any */
#pragma omp parallel num_threads(threads) if (planes * hw >= FUSED_PAR_MIN)
  {
    float* buf = bufs + room * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
      const float* dyp = dy + pl * ohw;
      if (y != NULL) { /* y = relu(T(x)) at each window's argmax: its own test */
        float* masked = buf + (hw + 15) / 16 * 16;
        const float* yp = y + pl * ohw;
#pragma omp simd
        for (int64_t j = 0; j < ohw; j++) masked[j] = yp[j] <= 0.0f ? 0.0f : dyp[j];
        dyp = masked;
      }
      const int64_t b = lits_maxpool_backward_plane(q, dyp, indices + pl * ohw, buf);
      if (b >= 0) {
#pragma omp atomic write
        bad = pl * ohw + b;
      }
      const fused_affine tx = fused_affine_of(x_coef, c, pl % c);
      for (int64_t u = 0; u < per; u++) {
        const int64_t j0 = u * FUSED_PIECE, len = hw - j0 < FUSED_PIECE ? hw - j0 : FUSED_PIECE;
        float* piece = buf + j0;
        if (y == NULL) mask_plane(x + pl * hw + j0, tx, NULL, tx, piece, NULL, piece, len);
        if (sums != NULL) {
          double acc = 0.0;
#pragma omp simd reduction(+ : acc)
          for (int64_t j = 0; j < len; j++) acc += piece[j];
          sums[pl * per + u] = acc;
        }
      }
      if (stream) stream_copy(dx + pl * hw, buf, hw);
      else memcpy(dx + pl * hw, buf, (size_t)hw * sizeof(float));
    }
    if (stream) stream_fence();
  }
  lits_scratch_free(bufs);
  if (bad >= 0) {
    lits_scratch_free(sums);
    return lits_fail(LITS_ERR_ARGUMENT, "%s: indices[%lld]=%d is outside [0, h*w=%lld)", fn,
                     (long long)bad, (int)indices[bad], (long long)hw);
  }
  if (sums != NULL) {
    for (int64_t ch = 0; ch < c; ch++) {
      double t = 0.0;
      for (int64_t ni = 0; ni < q->n; ni++) {
        for (int64_t u = 0; u < per; u++) t += sums[(ni * c + ch) * per + u];
      }
      channel_sum[ch] = (float)t;
    }
    lits_scratch_free(sums);
  }
  return LITS_OK;
}

int lits_maxpool2d_backward_relu_f32(const lits_pool2d_params* params_host, const float* dy,
                                     const int32_t* indices, const float* x, const float* x_coef,
                                     float* dx, float* channel_sum) {
  return pool_relu_backward("lits_maxpool2d_backward_relu_f32", params_host, dy, indices, x,
                            x_coef, NULL, dx, channel_sum);
}

int lits_maxpool2d_backward_relu_out_f32(const lits_pool2d_params* params_host, const float* dy,
                                         const int32_t* indices, const float* y, float* dx,
                                         float* channel_sum) {
  static const char* fn = "lits_maxpool2d_backward_relu_out_f32";
  lits_clear_error();
  LITS_REQUIRE(y != NULL, "%s: y is NULL", fn);
  return pool_relu_backward(fn, params_host, dy, indices, NULL, NULL, y, dx, channel_sum);
}
