/* maxpool_separable.c: max pooling's separable forward path (maxpool.c
 * takes it for every window it serves, else its general path). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "common.h"
#include "fused_internal.h"
#include "pool_internal.h"
#include "stream_store.h"

/* "Greater, or NaN" keeps the last NaN of a sequence, else its first maximum
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
      m = lits_pool_fold16(e, o);
      if (kw3) m = lits_pool_fold16(m, e2);
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

int lits_maxpool_separable(const lits_pool2d_params* params_host, const float* x,
                           const float* x_coef, int relu, float* y, int32_t* indices) {
  const lits_pool2d_params* q = params_host;
  const int64_t kh = q->kh, kw = q->kw, c = q->c, oh = q->oh;
  if (!separable_ok(kh, kw, q->stride_w, q->w)) return 0;
  const int64_t planes = (int64_t)q->n * c, hw = (int64_t)q->h * q->w, ohw = oh * q->ow;
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
  return 1;
}
