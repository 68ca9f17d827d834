/* maxpool.c: 2-D max pooling as PyTorch's CPU kernel: windows clipped to the
 * input, candidates visited row by row, a candidate wins when it is greater
 * than the running maximum or NaN, and the running index starts at the
 * window's first element. The input may carry a deferred per-channel
 * transform (fused_internal.h): each value is transformed, then compared.
 *
 * Two forward paths give the same bits. The separable one (windows up to
 * SEP_MAX_KH rows; every common pool) folds each input row once and then
 * each output row's window of folded rows; the general one walks one output
 * row at a time and, for each tap of the window, updates the running maxima
 * of the whole row. Indices are written only when asked for (a backward will
 * need them): without them eval reads x and writes y, nothing else. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "fused_internal.h"
#include "pool_internal.h"
#include "stream_store.h"

/* Outputs per block of a row: the running maxima and indices stay in L1. */
#define ROW_BLOCK 512

/* Output columns ox in [*lo, *hi) whose tap at offset kx lies inside [0, w). */
static void tap_range(int64_t kx, int64_t sw, int64_t pw, int64_t w, int64_t ox0, int64_t ox1,
                      int64_t* lo, int64_t* hi) {
  /* ix = ox * sw - pw + kx must satisfy 0 <= ix < w. */
  const int64_t need = pw - kx; /* ox * sw >= need */
  int64_t a = need > 0 ? (need + sw - 1) / sw : 0;
  const int64_t lim = w - 1 + pw - kx; /* ox * sw <= lim */
  int64_t b = lim >= 0 ? lim / sw + 1 : 0;
  if (a < ox0) a = ox0;
  if (b > ox1) b = ox1;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* Running maxima of one tap row over outputs [lo, hi): the candidate of
 * output ox is relu?(T(xr[ox * sw + off])). Inlined with constant flags, so
 * each kind of input gets its own vectorised loop. */
static inline __attribute__((always_inline)) void max_tap(
    const float* xr, float* m, int32_t* id, int64_t ox0, int64_t lo, int64_t hi, int64_t sw,
    int64_t off, int32_t base, fused_affine t, const int identity, const int relu) {
  const float tm = t.mean, ta = t.scale, tb = t.shift;
#pragma omp simd
  for (int64_t ox = lo; ox < hi; ox++) {
    float v = xr[ox * sw + off];
    if (!identity) v = (v - tm) * ta + tb;
    if (relu) v = v < 0.0f ? 0.0f : v;
    const int64_t j = ox - ox0;
    const int win = v > m[j] || v != v;
    m[j] = win ? v : m[j];
    id[j] = win ? base + (int32_t)(ox * sw) : id[j];
  }
}

/* One output row block [ox0, ox1) of one plane, whose input is relu?(T(x))
 * (identity t and relu 0: x itself); irow may be NULL (no indices). The
 * general path, for windows too large for the separable one below. */
static void max_row(const float* xp, fused_affine t, int relu, float* yrow, int32_t* irow,
                    int64_t oy, int64_t ox0, int64_t ox1, int64_t h, int64_t w, int64_t kh,
                    int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  float m[ROW_BLOCK];
  int32_t id[ROW_BLOCK];
  int64_t y0 = oy * sh - ph;
  const int64_t y1 = y0 + kh < h ? y0 + kh : h;
  if (y0 < 0) y0 = 0;
  const int64_t nb = ox1 - ox0;
  for (int64_t j = 0; j < nb; j++) {
    int64_t x0 = (ox0 + j) * sw - pw;
    if (x0 < 0) x0 = 0;
    m[j] = -INFINITY;
    id[j] = (int32_t)(y0 * w + x0);
  }
  for (int64_t iy = y0; iy < y1; iy++) {
    const float* xr = xp + iy * w;
    for (int64_t kx = 0; kx < kw; kx++) {
      int64_t lo, hi;
      tap_range(kx, sw, pw, w, ox0, ox1, &lo, &hi);
      const int64_t off = kx - pw;
      const int32_t base = (int32_t)(iy * w + off);
      if (t.identity && !relu) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 1, 0);
      else if (t.identity) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 1, 1);
      else if (relu) max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 0, 1);
      else max_tap(xr, m, id, ox0, lo, hi, sw, off, base, t, 0, 0);
    }
  }
  memcpy(yrow + ox0, m, (size_t)nb * sizeof(float));
  if (irow != NULL) memcpy(irow + ox0, id, (size_t)nb * sizeof(int32_t));
}

/* ---- the separable path ---------------------------------------------------
 *
 * "Greater, or NaN" keeps the last NaN of a sequence, else its first maximum
 * (the first of equal values, so -0 before +0 keeps -0), so the fold over a
 * window in row-major order equals the fold over its rows' own folds, taken
 * top to bottom. Each input row is transformed once, padded with -inf (which
 * never wins, so it stands for the clipped-off part of a window), folded
 * horizontally once along the whole row block and kept in a ring of kh rows
 * that the overlapping windows below reuse; an output row is then the
 * vertical fold of its window's rows. Values and indices are those of
 * max_row. Stride 2 with 2- or 3-wide windows (ResNet's 3x3/2, VGG's 2x2/2)
 * has an AVX-512 row kernel that splits 32 loaded columns into even and odd
 * ones; other geometries fold a transformed copy of the row in L1.
 * ResNet-50's stem pool (16 x 64 x 128 x 128, 3x3/2 pad 1, no indices) runs
 * at the machine's memory bandwidth this way (figures in the commit). */

/* Outputs per column block, and the limits that keep the buffers in L1. */
#define SEP_COLS 256
#define SEP_MAX_KH 8
#define SEP_MAX_SPAN 2048 /* (SEP_COLS - 1) * sw + kw */

/* Whether the separable path takes this geometry. */
static int separable_ok(int64_t kh, int64_t kw, int64_t sw, int64_t w) {
  /* w: row columns plus a block's reach stay in int32 (the AVX-512 masks). */
  return kh <= SEP_MAX_KH && (SEP_COLS - 1) * sw + kw <= SEP_MAX_SPAN && w <= INT32_MAX / 2;
}

/* hm[j] (hi[j]: its column) = the fold of t[j * sw + k], k < kw, for j < nb;
 * t[0] is column x_start of the input. The running index starts at the
 * window's first column inside the input, as in max_row. */
static inline __attribute__((always_inline)) void fold_cols(const float* t, float* hm, int32_t* hi,
                                                            int64_t nb, int64_t x_start,
                                                            const int64_t sw, const int64_t kw,
                                                            const int want_idx) {
  if (!want_idx) {
#pragma omp simd
    for (int64_t j = 0; j < nb; j++) {
      float m = t[j * sw];
      for (int64_t k = 1; k < kw; k++) {
        const float v = t[j * sw + k];
        m = v > m || v != v ? v : m;
      }
      hm[j] = m;
    }
    return;
  }
#pragma omp simd
  for (int64_t j = 0; j < nb; j++) {
    float m = -INFINITY;
    const int32_t c0 = (int32_t)(x_start + j * sw);
    int32_t id = c0 < 0 ? 0 : c0;
    for (int64_t k = 0; k < kw; k++) {
      const float v = t[j * sw + k];
      const int win = v > m || v != v;
      m = win ? v : m;
      id = win ? c0 + (int32_t)k : id;
    }
    hm[j] = m;
    hi[j] = id;
  }
}

#ifdef __AVX512F__
/* m = the fold of m then v, 16 lanes. */
static inline __m512 fold16(__m512 m, __m512 v) {
  const __mmask16 win =
      _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(m, win, v);
}

/* relu?(T(v)) as fused_apply computes it (one rounding for the multiply-add). */
static inline __attribute__((always_inline)) __m512 apply16(__m512 v, __m512 tm, __m512 ta,
                                                            __m512 tb, const int identity,
                                                            const int relu) {
  if (!identity) v = _mm512_fmadd_ps(_mm512_sub_ps(v, tm), ta, tb);
  if (relu) v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                                   _mm512_setzero_ps());
  return v;
}

/* The padded row's elements 32 b .. 32 b + 31 (input columns x_start + ...),
 * transformed, -inf outside [0, w), split into even (*e) and odd (*o) ones. */
static inline __attribute__((always_inline)) void load_pairs(const float* xr, int64_t x_start,
                                                             int64_t b, int64_t w, __m512 tm,
                                                             __m512 ta, __m512 tb, __m512* e,
                                                             __m512* o, const int identity,
                                                             const int relu) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int64_t c0 = x_start + 32 * b;
  __m512 lo, hi;
  if (c0 >= 0 && c0 + 32 <= w) {
    lo = apply16(_mm512_loadu_ps(xr + c0), tm, ta, tb, identity, relu);
    hi = apply16(_mm512_loadu_ps(xr + c0 + 16), tm, ta, tb, identity, relu);
  } else {
    /* Lanes inside the row: columns c0 + l with 0 <= c0 + l < w. */
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i c_lo = _mm512_add_epi32(lane, _mm512_set1_epi32((int32_t)c0));
    const __m512i c_hi = _mm512_add_epi32(c_lo, _mm512_set1_epi32(16));
    const __m512i zero = _mm512_setzero_si512(), wv = _mm512_set1_epi32((int32_t)w);
    const __mmask16 m_lo = _mm512_cmpge_epi32_mask(c_lo, zero) & _mm512_cmplt_epi32_mask(c_lo, wv);
    const __mmask16 m_hi = _mm512_cmpge_epi32_mask(c_hi, zero) & _mm512_cmplt_epi32_mask(c_hi, wv);
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    /* Masked-off lanes are not read. */
    lo = apply16(_mm512_maskz_loadu_ps(m_lo, xr + c0), tm, ta, tb, identity, relu);
    hi = apply16(_mm512_maskz_loadu_ps(m_hi, xr + c0 + 16), tm, ta, tb, identity, relu);
    lo = _mm512_mask_mov_ps(ninf, m_lo, lo);
    hi = _mm512_mask_mov_ps(ninf, m_hi, hi);
  }
  *e = _mm512_permutex2var_ps(lo, even, hi);
  *o = _mm512_permutex2var_ps(lo, odd, hi);
}

/* The fold of m (columns id) then v (columns vc), with indices. */
static inline __m512 fold16_idx(__m512 m, __m512i* id, __m512 v, __m512i vc) {
  const __mmask16 win =
      _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  *id = _mm512_mask_mov_epi32(*id, win, vc);
  return _mm512_mask_mov_ps(m, win, v);
}

/* hm[j] (hi[j]: its column), j < nb (rounded up to 16: hm and hi have room),
 * for stride 2 and kw 2 or 3: output j folds padded elements 2 j, 2 j + 1
 * (, 2 j + 2), column x_start + that; the running index starts at the
 * window's first column inside the row, as in fold_cols. */
static inline __attribute__((always_inline)) void row_s2(const float* xr, fused_affine t,
                                                         float* hm, int32_t* hi, int64_t x_start,
                                                         int64_t nb, int64_t w, const int kw3,
                                                         const int want_idx, const int identity,
                                                         const int relu) {
  const __m512 tm = _mm512_set1_ps(t.mean), ta = _mm512_set1_ps(t.scale);
  const __m512 tb = _mm512_set1_ps(t.shift);
  const __m512i two_lanes =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
  __m512 e, o;
  load_pairs(xr, x_start, 0, w, tm, ta, tb, &e, &o, identity, relu);
  for (int64_t b = 0; b * 16 < nb; b++) {
    __m512 m, e2 = e, e_next = e, o_next = o;
    if (kw3 || (b + 1) * 16 < nb) {
      load_pairs(xr, x_start, b + 1, w, tm, ta, tb, &e_next, &o_next, identity, relu);
    }
    /* Elements 2 j + 2: the evens moved down one lane, the next block's first last. */
    if (kw3) {
      e2 = _mm512_castsi512_ps(
          _mm512_alignr_epi32(_mm512_castps_si512(e_next), _mm512_castps_si512(e), 1));
    }
    if (want_idx) {
      const __m512i c_e =
          _mm512_add_epi32(two_lanes, _mm512_set1_epi32((int32_t)(x_start + 32 * b)));
      __m512i id = _mm512_max_epi32(c_e, zero);
      m = fold16_idx(_mm512_set1_ps(-INFINITY), &id, e, c_e);
      const __m512i c_o = _mm512_add_epi32(c_e, one);
      m = fold16_idx(m, &id, o, c_o);
      if (kw3) m = fold16_idx(m, &id, e2, _mm512_add_epi32(c_o, one));
      _mm512_storeu_si512((void*)(hi + b * 16), id);
    } else {
      m = fold16(e, o);
      if (kw3) m = fold16(m, e2);
    }
    _mm512_storeu_ps(hm + b * 16, m);
    e = e_next;
    o = o_next;
  }
}

#define ROW_S2_FLAGS(kw3, want)                                                          \
  do {                                                                                   \
    if (t.identity && !relu) row_s2(xr, t, hm, hi, x_start, nb, w, kw3, want, 1, 0);     \
    else if (t.identity) row_s2(xr, t, hm, hi, x_start, nb, w, kw3, want, 1, 1);         \
    else if (relu) row_s2(xr, t, hm, hi, x_start, nb, w, kw3, want, 0, 1);               \
    else row_s2(xr, t, hm, hi, x_start, nb, w, kw3, want, 0, 0);                         \
  } while (0)

static void row_s2_any(const float* xr, fused_affine t, int relu, float* hm, int32_t* hi,
                       int64_t x_start, int64_t nb, int64_t w, int kw3, int want_idx) {
  if (kw3 && want_idx) ROW_S2_FLAGS(1, 1);
  else if (kw3) ROW_S2_FLAGS(1, 0);
  else if (want_idx) ROW_S2_FLAGS(0, 1);
  else ROW_S2_FLAGS(0, 0);
}

/* dst[0..len) = src[0..len) for int32, streamed as stream_copy does floats. */
static inline void stream_copy_i32(int32_t* dst, const int32_t* src, int64_t len) {
  int64_t i = 0;
  for (; i < len && ((uintptr_t)(dst + i) & 63) != 0; i++) dst[i] = src[i];
  for (; i + 16 <= len; i += 16) {
    _mm512_stream_si512((void*)(dst + i), _mm512_loadu_si512((const void*)(src + i)));
  }
  for (; i < len; i++) dst[i] = src[i];
}
#endif

/* One input row's horizontal fold over the output columns [ox0, ox0 + nb). */
static void sep_row(const float* xr, fused_affine t, int relu, float* tb, float* hm, int32_t* hi,
                    int64_t ox0, int64_t nb, int64_t w, int64_t kw, int64_t sw, int64_t pw,
                    int want_idx) {
  const int64_t x_start = ox0 * sw - pw, span = (nb - 1) * sw + kw;
#ifdef __AVX512F__
  if (sw == 2 && (kw == 2 || kw == 3)) {
    row_s2_any(xr, t, relu, hm, hi, x_start, nb, w, kw == 3, want_idx);
    return;
  }
#endif
  /* tb[j] = relu?(T(xr[x_start + j])), -inf outside [0, w). */
  const int64_t a = x_start < 0 ? -x_start : 0;
  const int64_t b = x_start + span > w ? w - x_start : span;
  for (int64_t j = 0; j < a; j++) tb[j] = -INFINITY;
  fused_apply(tb + a, xr + x_start + a, b - a, t, relu);
  for (int64_t j = b; j < span; j++) tb[j] = -INFINITY;
  if (want_idx) {
    if (sw == 2 && kw == 3) fold_cols(tb, hm, hi, nb, x_start, 2, 3, 1);
    else if (sw == 2 && kw == 2) fold_cols(tb, hm, hi, nb, x_start, 2, 2, 1);
    else if (sw == 1 && kw == 3) fold_cols(tb, hm, hi, nb, x_start, 1, 3, 1);
    else fold_cols(tb, hm, hi, nb, x_start, sw, kw, 1);
  } else {
    if (sw == 2 && kw == 3) fold_cols(tb, hm, hi, nb, x_start, 2, 3, 0);
    else if (sw == 2 && kw == 2) fold_cols(tb, hm, hi, nb, x_start, 2, 2, 0);
    else if (sw == 1 && kw == 3) fold_cols(tb, hm, hi, nb, x_start, 1, 3, 0);
    else fold_cols(tb, hm, hi, nb, x_start, sw, kw, 0);
  }
}

/* Output rows [oy0, oy1) of one plane (xp, its transform t) into yp / ip
 * (ip NULL: no indices); streamed when `stream`. */
static void sep_band(const float* xp, fused_affine t, int relu, float* yp, int32_t* ip,
                     int64_t oy0, int64_t oy1, const lits_pool2d_params* q, int stream) {
  const int64_t h = q->h, w = q->w, kh = q->kh, kw = q->kw, ow = q->ow;
  const int64_t stride_h = q->stride_h, stride_w = q->stride_w, pad_h = q->pad_h, pad_w = q->pad_w;
  float tb[SEP_MAX_SPAN];
  float ring[SEP_MAX_KH][SEP_COLS];
  int32_t ring_i[SEP_MAX_KH][SEP_COLS];
  float out[SEP_COLS];
  int32_t out_i[SEP_COLS];
  const int want_idx = ip != NULL;
  for (int64_t ox0 = 0; ox0 < ow; ox0 += SEP_COLS) {
    const int64_t nb = ow - ox0 < SEP_COLS ? ow - ox0 : SEP_COLS;
    int64_t tag[SEP_MAX_KH]; /* the input row each ring slot holds */
    for (int s = 0; s < SEP_MAX_KH; s++) tag[s] = -1;
    for (int64_t oy = oy0; oy < oy1; oy++) {
      int64_t ya = oy * stride_h - pad_h;
      const int64_t yb = ya + kh < h ? ya + kh : h;
      if (ya < 0) ya = 0;
      /* Rows of one window have distinct residues mod kh. */
      for (int64_t iy = ya; iy < yb; iy++) {
        const int64_t s = iy % kh;
        if (tag[s] == iy) continue;
        sep_row(xp + iy * w, t, relu, tb, ring[s], ring_i[s], ox0, nb, w, kw, stride_w, pad_w,
                want_idx);
        tag[s] = iy;
      }
      const float* r0 = ring[ya % kh];
      if (want_idx) {
        const int32_t* i0 = ring_i[ya % kh];
        const int32_t base = (int32_t)(ya * w);
#pragma omp simd
        for (int64_t j = 0; j < nb; j++) {
          out[j] = r0[j];
          out_i[j] = base + i0[j];
        }
        for (int64_t iy = ya + 1; iy < yb; iy++) {
          const float* r = ring[iy % kh];
          const int32_t* ri = ring_i[iy % kh];
          const int32_t rb = (int32_t)(iy * w);
#pragma omp simd
          for (int64_t j = 0; j < nb; j++) {
            const float v = r[j];
            const int win = v > out[j] || v != v;
            out[j] = win ? v : out[j];
            out_i[j] = win ? rb + ri[j] : out_i[j];
          }
        }
      } else {
        memcpy(out, r0, (size_t)nb * sizeof(float));
        for (int64_t iy = ya + 1; iy < yb; iy++) {
          const float* r = ring[iy % kh];
#pragma omp simd
          for (int64_t j = 0; j < nb; j++) {
            const float v = r[j];
            out[j] = v > out[j] || v != v ? v : out[j];
          }
        }
      }
      float* yrow = yp + oy * ow + ox0;
      if (stream) stream_copy(yrow, out, nb);
      else memcpy(yrow, out, (size_t)nb * sizeof(float));
      if (want_idx) {
        int32_t* irow = ip + oy * ow + ox0;
#ifdef __AVX512F__
        if (stream) stream_copy_i32(irow, out_i, nb);
        else
#endif
          memcpy(irow, out_i, (size_t)nb * sizeof(int32_t));
      }
    }
  }
}

static int maxpool_forward(const char* fn, const lits_pool2d_params* params_host, const float* x,
                           const float* x_coef, int32_t x_relu, float* y, int32_t* indices) {
  LITS_CHECKED(lits_check_pool(fn, params_host));
  POOL_LOCALS(params_host);
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
  const int relu = x_relu != 0;
  if (separable_ok(kh, kw, stride_w, w)) {
    /* Bands of output rows of all planes are the parallel unit: a batch of
     * one image with a few channels still keeps the cores busy. A band
     * recomputes the rows it shares with the one above. */
    const int64_t bands = planes >= 32 ? 1 : (32 / planes < oh ? 32 / planes : oh);
    const int64_t band_rows = (oh + bands - 1) / bands;
    const int stream = stream_output(planes * ohw);
#pragma omp parallel if (planes * ohw * kh * kw >= LITS_POOL_PAR_MIN)
    {
#pragma omp for schedule(static)
      for (int64_t u = 0; u < planes * bands; u++) {
        const int64_t pl = u / bands, oy0 = (u % bands) * band_rows;
        const int64_t oy1 = oy0 + band_rows < oh ? oy0 + band_rows : oh;
        if (oy0 >= oy1) continue;
        sep_band(x + pl * hw, fused_affine_of(x_coef, c, pl % c), relu, y + pl * ohw,
                 indices != NULL ? indices + pl * ohw : NULL, oy0, oy1, params_host, stream);
      }
      if (stream) stream_fence();
    }
    return LITS_OK;
  }
  const int64_t rows = planes * oh;
  /* Rows of all planes are the parallel unit: a batch of one image with a
   * few channels still keeps both cores busy. */
#pragma omp parallel for schedule(static) if (rows * ow * kh * kw >= LITS_POOL_PAR_MIN)
  for (int64_t rr = 0; rr < rows; rr++) {
    const int64_t pl = rr / oh, oy = rr % oh;
    const fused_affine t = fused_affine_of(x_coef, c, pl % c);
    float* yrow = y + pl * ohw + oy * ow;
    int32_t* irow = indices != NULL ? indices + pl * ohw + oy * ow : NULL;
    for (int64_t ox0 = 0; ox0 < ow; ox0 += ROW_BLOCK) {
      const int64_t ox1 = ox0 + ROW_BLOCK < ow ? ox0 + ROW_BLOCK : ow;
      max_row(x + pl * hw, t, relu, yrow, irow, oy, ox0, ox1, h, w, kh, kw, stride_h, stride_w,
              pad_h, pad_w);
    }
  }
  return LITS_OK;
}

int lits_maxpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x,
                               const float* x_coef, int32_t x_relu, float* y, int32_t* indices) {
  lits_clear_error();
  return maxpool_forward("lits_maxpool2d_forward_f32", params_host, x, x_coef, x_relu, y,
                         indices);
}

/* 2x2 windows at stride 2 without padding (VGG-style nets): every input
 * element has at most one window, so dx is written in one pass, without a
 * separate clearing pass. Returns 0 when an index is not inside its own
 * window (indices that forward did not make); the caller then scatters. */
static int max2x2_backward_plane(const float* dyp, const int32_t* ip, float* dxp, int64_t h,
                                 int64_t w, int64_t oh, int64_t ow) {
  int ok = 1;
  for (int64_t oy = 0; oy < oh; oy++) {
    float* r0 = dxp + 2 * oy * w;
    float* r1 = r0 + w;
    const int32_t b0 = (int32_t)(2 * oy * w);
#pragma omp simd reduction(& : ok)
    for (int64_t ox = 0; ox < ow; ox++) {
      const int32_t idx = ip[oy * ow + ox] - b0 - (int32_t)(2 * ox);
      const float d = dyp[oy * ow + ox];
      r0[2 * ox] = idx == 0 ? d : 0.0f;
      r0[2 * ox + 1] = idx == 1 ? d : 0.0f;
      r1[2 * ox] = idx == w ? d : 0.0f;
      r1[2 * ox + 1] = idx == w + 1 ? d : 0.0f;
      ok &= idx == 0 || idx == 1 || idx == w || idx == w + 1;
    }
    /* A last odd column belongs to no window. */
    if (2 * ow < w) {
      for (int64_t ix = 2 * ow; ix < w; ix++) r0[ix] = r1[ix] = 0.0f;
    }
  }
  if (2 * oh < h) memset(dxp + 2 * oh * w, 0, (size_t)((h - 2 * oh) * w) * sizeof(float));
  return ok;
}

int lits_maxpool2d_backward_f32(const lits_pool2d_params* params_host, const float* x,
                                const float* y, const float* dy, const int32_t* indices,
                                float* dx) {
  static const char* fn = "lits_maxpool2d_backward_f32";
  (void)x;
  (void)y;
  lits_clear_error();
  LITS_CHECKED(lits_check_pool(fn, params_host));
  POOL_LOCALS(params_host);
  LITS_REQUIRE(dy != NULL && indices != NULL && dx != NULL, "%s: dy, indices or dx is NULL",
               fn);
  const int64_t planes = (int64_t)n * c, hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
  /* 2x2 stride 2 windows tile the input (2 oh <= h, 2 ow <= w in floor mode). */
  const int tiled = kh == 2 && kw == 2 && stride_h == 2 && stride_w == 2 && pad_h == 0 &&
                    pad_w == 0 && 2 * (int64_t)oh <= h && 2 * (int64_t)ow <= w;
  int64_t bad = -1; /* flat position of an out-of-range index, if any */
#pragma omp parallel for schedule(static) if (planes * (hw + ohw) >= LITS_POOL_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dxp = dx + pl * hw;
    const float* dyp = dy + pl * ohw;
    const int32_t* ip = indices + pl * ohw;
    if (tiled && max2x2_backward_plane(dyp, ip, dxp, h, w, oh, ow)) continue;
    memset(dxp, 0, (size_t)hw * sizeof(float));
    for (int64_t j = 0; j < ohw; j++) {
      const int32_t idx = ip[j];
      if (idx < 0 || idx >= hw) {
#pragma omp atomic write
        bad = pl * ohw + j;
        continue;
      }
      dxp[idx] += dyp[j];
    }
  }
  LITS_REQUIRE(bad < 0, "%s: indices[%lld]=%d is outside [0, h*w=%lld)", fn, (long long)bad,
               (int)indices[bad < 0 ? 0 : bad], (long long)hw);
  return LITS_OK;
}
