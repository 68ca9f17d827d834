/* resample.c: one separable resampling step along the middle dimension of
 * [outer, r, inner] (interpolate's linear, bicubic, nearest and antialiased
 * modes), forward, in one pass (the backward: resample_backward.c).
 *
 *   out[o, j, i] = sum over t of weight[t, j] * x[o, index[t, j], i]
 *
 * It gives the bits of the composed path it replaces (a gather, a product
 * and an add per tap, src/tensor/ops/interpolate.ts): each product is
 * rounded to float before it is added, and the taps are added in order,
 * ((p0 + p1) + p2) + ... So nothing here may become a fused multiply-add:
 * the pragma below keeps gcc from contracting the plain C and the
 * intrinsics (which gcc writes as vector * and +), and the AVX-512 kernels
 * multiply and add with separate instructions. (It also keeps the composed
 * path's NaN and inf: a NaN times a zero weight is NaN.)
 *
 * AVX-512 is chosen at run time (cpuid); LITS_RESAMPLE=portable forces the
 * plain C loops (tests compare the two).
 */
#pragma GCC optimize("fp-contract=off")

#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "resample_internal.h"

int lits_resample_use_avx512(void) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* env = getenv("LITS_RESAMPLE");
  if (env != NULL && strcmp(env, "portable") == 0) return 0;
  return avx512;
}

int lits_resample_check(const char* fn, const void* src, const int32_t* index, const void* dst,
                        int64_t outer, int64_t r, int64_t k, int64_t inner, int32_t taps) {
  LITS_REQUIRE(outer >= 0 && r >= 0 && k >= 0 && inner >= 0,
               "%s: sizes must be >= 0, got outer %lld, r %lld, k %lld, inner %lld", fn,
               (long long)outer, (long long)r, (long long)k, (long long)inner);
  LITS_REQUIRE(taps >= 1, "%s: taps must be >= 1, got %d", fn, (int)taps);
  LITS_REQUIRE(r >= 1, "%s: no element to take along an empty dimension (r = 0)", fn);
  LITS_REQUIRE(r <= INT32_MAX && k <= INT32_MAX, "%s: r %lld or k %lld does not fit an int32",
               fn, (long long)r, (long long)k);
  if (outer == 0 || inner == 0) return LITS_EMPTY;
  LITS_REQUIRE(src != NULL && dst != NULL && (k == 0 || index != NULL),
               "%s: a pointer is NULL", fn);
  for (int64_t e = 0; e < (int64_t)taps * k; e++) {
    LITS_REQUIRE(index[e] >= 0 && (int64_t)index[e] < r,
                 "%s: index %d (tap %lld, position %lld) is out of range [0, %lld)", fn,
                 (int)index[e], (long long)(e / k), (long long)(e % k), (long long)r);
  }
  return LITS_OK;
}

void lits_resample_plan_windows(const int32_t* index, int64_t k, int32_t taps,
                                resample_window* win, int32_t* rel) {
  for (int64_t b = 0; b * 16 < k; b++) {
    const int64_t j1 = b * 16 + 16 < k ? b * 16 + 16 : k;
    int32_t lo = INT32_MAX, hi = -1;
    for (int32_t t = 0; t < taps; t++) {
      for (int64_t j = b * 16; j < j1; j++) {
        const int32_t v = index[t * k + j];
        if (v < 0) continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    }
    if (hi < 0) lo = hi = 0; /* no tap: an empty window */
    win[b] = (resample_window){lo, hi - lo + 1};
    for (int32_t t = 0; t < taps; t++) {
      for (int64_t j = b * 16; j < j1; j++) {
        const int32_t v = index[t * k + j];
        rel[t * k + j] = v < 0 ? -1 : v - lo;
      }
    }
  }
}

/* ---- forward, inner > 1: whole rows, vectorised along inner ------------- */

/* y[i] = sum_t w_t * row_t[i] for i < n, rows xo + index[t, j] * inner. */
static void rows_portable(const float* xo, const int32_t* index, const float* weight,
                          int64_t k, int64_t j, int64_t inner, int32_t taps, float* y,
                          int64_t n) {
  const float* row0 = xo + (int64_t)index[j] * inner;
  if (weight == NULL) {
    memcpy(y, row0, (size_t)n * sizeof(float));
  } else {
    const float w0 = weight[j];
    for (int64_t i = 0; i < n; i++) y[i] = row0[i] * w0;
  }
  for (int32_t t = 1; t < taps; t++) {
    const float* row = xo + (int64_t)index[t * k + j] * inner;
    if (weight == NULL) {
      for (int64_t i = 0; i < n; i++) y[i] = y[i] + row[i];
    } else {
      const float w = weight[t * k + j];
      for (int64_t i = 0; i < n; i++) y[i] = y[i] + row[i] * w;
    }
  }
}

/* One tap's term of 16 columns: the product rounded, as its own instruction. */
AVX512 static inline __m512 term16(const float* p, __m512 w, int weighted) {
  const __m512 v = _mm512_loadu_ps(p);
  return weighted ? _mm512_mul_ps(v, w) : v;
}

AVX512 static void rows_avx512(const float* xo, const int32_t* index, const float* weight,
                               int64_t k, int64_t j, int64_t inner, int32_t taps, float* y,
                               int64_t n) {
  const int weighted = weight != NULL;
  int64_t i = 0;
  /* Four vectors at a time: four independent chains of adds per tap. */
  for (; i + 64 <= n; i += 64) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (int32_t t = 0; t < taps; t++) {
      const float* row = xo + (int64_t)index[t * k + j] * inner + i;
      const __m512 w = _mm512_set1_ps(weighted ? weight[t * k + j] : 1.0f);
      for (int u = 0; u < 4; u++) {
        const __m512 p = term16(row + 16 * u, w, weighted);
        acc[u] = t == 0 ? p : _mm512_add_ps(acc[u], p);
      }
    }
    for (int u = 0; u < 4; u++) _mm512_storeu_ps(y + i + 16 * u, acc[u]);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = resample_lanes(n - i);
    __m512 acc = _mm512_setzero_ps();
    for (int32_t t = 0; t < taps; t++) {
      const float* row = xo + (int64_t)index[t * k + j] * inner + i;
      __m512 p = _mm512_maskz_loadu_ps(m, row);
      if (weighted) p = _mm512_mul_ps(p, _mm512_set1_ps(weight[t * k + j]));
      acc = t == 0 ? p : _mm512_add_ps(acc, p);
    }
    _mm512_mask_storeu_ps(y + i, m, acc);
  }
}

/* ---- forward, inner == 1: along the last dimension, a gather per row ---- */

/* y[j] for j in [j0, j0 + n) of one row xo. */
static void gather_portable(const float* xo, const int32_t* index, const float* weight,
                            int64_t k, int32_t taps, float* y, int64_t j0, int64_t n) {
  for (int64_t j = j0; j < j0 + n; j++) {
    float acc = weight == NULL ? xo[index[j]] : xo[index[j]] * weight[j];
    for (int32_t t = 1; t < taps; t++) {
      const int64_t e = t * k + j;
      acc = acc + (weight == NULL ? xo[index[e]] : xo[index[e]] * weight[e]);
    }
    y[j] = acc;
  }
}

/* gather_portable's y[j], j in [j0, j0 + n), j0 a multiple of 16. */
AVX512 static void window_avx512(const float* xo, int64_t r, const int32_t* index,
                                 const float* weight, const resample_window* win,
                                 const int32_t* rel, int64_t k, int32_t taps, float* y,
                                 int64_t j0, int64_t n) {
  for (int64_t j = j0; j < j0 + n; j += 16) {
    const int64_t count = j0 + n - j < 16 ? j0 + n - j : 16;
    const resample_window w = win[j / 16];
    if (w.span > RESAMPLE_WINDOW) {
      gather_portable(xo, index, weight, k, taps, y, j, count);
      continue;
    }
    const __mmask16 m = resample_lanes(count);
    __m512 v[4];
    resample_load_window(xo, r, w, v);
    __m512 acc = _mm512_setzero_ps();
    for (int32_t t = 0; t < taps; t++) {
      const int64_t e = t * k + j;
      __m512 p = resample_pick(v, _mm512_maskz_loadu_epi32(m, rel + e), w.span);
      if (weight != NULL) p = _mm512_mul_ps(p, _mm512_maskz_loadu_ps(m, weight + e));
      acc = t == 0 ? p : _mm512_add_ps(acc, p);
    }
    _mm512_mask_storeu_ps(y + j, m, acc);
  }
}

int lits_resample_f32(const float* x, const int32_t* index_host, const float* weight_host,
                      float* out, int64_t outer, int64_t r, int64_t k, int64_t inner,
                      int32_t taps) {
  lits_clear_error();
  const int st =
      lits_resample_check("lits_resample_f32", x, index_host, out, outer, r, k, inner, taps);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  if (k == 0) return LITS_OK;
  const int32_t* index = index_host;
  const float* weight = weight_host;
  const int avx512 = lits_resample_use_avx512();
  const int par = outer * k * inner * taps > RESAMPLE_PAR_THRESHOLD;
  if (inner == 1) {
    resample_window* win = NULL;
    int32_t* rel = NULL;
    if (avx512) {
      win = malloc((size_t)((k + 15) / 16) * sizeof(resample_window));
      rel = malloc((size_t)(taps * k) * sizeof(int32_t));
      if (win == NULL || rel == NULL) {
        free(win);
        free(rel);
        return lits_fail(LITS_ERR_MEMORY, "lits_resample_f32: no memory for %lld taps",
                         (long long)(taps * k));
      }
      lits_resample_plan_windows(index, k, taps, win, rel);
    }
    LITS_FOR_COLUMN_BLOCKS(outer, k, par, RESAMPLE_BLOCK, {
      const float* xo = x + o * r;
      float* y = out + o * k;
      if (avx512) window_avx512(xo, r, index, weight, win, rel, k, taps, y, i0, nb);
      else gather_portable(xo, index, weight, k, taps, y, i0, nb);
    });
    free(win);
    free(rel);
    return LITS_OK;
  }
  /* Rows (o, j) of the output, each split into blocks of inner. */
  LITS_FOR_COLUMN_BLOCKS(outer * k, inner, par, RESAMPLE_BLOCK, {
    const int64_t oo = o / k, j = o - oo * k;
    const float* xo = x + oo * r * inner + i0;
    float* y = out + o * inner + i0;
    if (avx512) rows_avx512(xo, index, weight, k, j, inner, taps, y, nb);
    else rows_portable(xo, index, weight, k, j, inner, taps, y, nb);
  });
  return LITS_OK;
}

