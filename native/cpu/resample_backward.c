/* resample_backward.c: the gradient of resample.c's step along the middle
 * dimension of [outer, r, inner]:
 *
 *   dx[o, index[t, j], i] += weight[t, j] * dy[o, j, i]
 *
 * in any order of the sums (the tests allow float32 rounding), the same for
 * any number of threads: each dx element is written by one task.
 *
 * Along a middle dimension (inner > 1) a task owns a block of columns of one
 * outer slice and adds whole rows of dy into rows of dx. Along the last
 * dimension (inner == 1) the taps are transposed once per call, so that
 * each dx[q] = sum over its contributors c of weight * dy[j_c] is read from
 * dy and written once (no read-modify-write chain per tap), by resample.c's
 * windows and permutes where they fit.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "resample_internal.h"

/* ---- inner > 1: rows of dy into rows of dx ------------------------------ */

/* Columns [0, n) of one outer slice: dxo and dyo start at its column block. */
static void scatter_rows_portable(const float* dyo, const int32_t* index, const float* weight,
                                  int64_t r, int64_t k, int64_t inner, int32_t taps, float* dxo,
                                  int64_t n) {
  for (int64_t q = 0; q < r; q++) memset(dxo + q * inner, 0, (size_t)n * sizeof(float));
  for (int64_t j = 0; j < k; j++) {
    const float* g = dyo + j * inner;
    for (int32_t t = 0; t < taps; t++) {
      const int64_t e = t * k + j;
      float* d = dxo + (int64_t)index[e] * inner;
      const float w = weight == NULL ? 1.0f : weight[e];
      for (int64_t i = 0; i < n; i++) d[i] += w * g[i];
    }
  }
}

AVX512 static void scatter_rows_avx512(const float* dyo, const int32_t* index,
                                       const float* weight, int64_t r, int64_t k, int64_t inner,
                                       int32_t taps, float* dxo, int64_t n) {
  for (int64_t q = 0; q < r; q++) memset(dxo + q * inner, 0, (size_t)n * sizeof(float));
  for (int64_t j = 0; j < k; j++) {
    const float* g = dyo + j * inner;
    for (int32_t t = 0; t < taps; t++) {
      const int64_t e = t * k + j;
      float* d = dxo + (int64_t)index[e] * inner;
      const __m512 w = _mm512_set1_ps(weight == NULL ? 1.0f : weight[e]);
      for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = resample_lanes(n - i);
        const __m512 s = _mm512_fmadd_ps(w, _mm512_maskz_loadu_ps(m, g + i),
                                         _mm512_maskz_loadu_ps(m, d + i));
        _mm512_mask_storeu_ps(d + i, m, s);
      }
    }
  }
}

/* ---- inner == 1: the taps transposed ------------------------------------ */

/* For each of the r input positions q, its counts[q] contributors as
 * `count` taps [count, r]: index (the j it reads; -1: none) and weight;
 * block_count[b], the most of the 16 positions of block b (a position at an
 * edge may have many more than the others: clamped taps). */
typedef struct {
  int32_t count;
  int32_t *counts, *block_count;
  int32_t* index;
  float* weight;
} transposed;

static void free_transposed(transposed* tr) {
  free(tr->counts);
  free(tr->block_count);
  free(tr->index);
  free(tr->weight);
}

/* Fills tr; 0 when the table would be much larger than the taps (one
 * position read by most outputs: the scatter loop is better), -1 when out
 * of memory. */
static int transpose_taps(const int32_t* index, const float* weight, int64_t r, int64_t k,
                          int32_t taps, transposed* tr) {
  int32_t* counts = calloc((size_t)r, sizeof(int32_t));
  if (counts == NULL) return -1;
  int32_t count = 0;
  for (int64_t e = 0; e < (int64_t)taps * k; e++) {
    const int32_t c = ++counts[index[e]];
    count = c > count ? c : count;
  }
  if ((int64_t)count * r > 2 * (int64_t)taps * k + 64 * r) {
    free(counts);
    return 0;
  }
  const int64_t blocks = (r + 15) / 16;
  *tr = (transposed){count, counts, malloc((size_t)blocks * sizeof(int32_t)),
                     malloc((size_t)(count * r) * sizeof(int32_t)),
                     calloc((size_t)(count * r), sizeof(float))};
  if (tr->block_count == NULL || tr->index == NULL || tr->weight == NULL) return -1;
  for (int64_t b = 0; b < blocks; b++) {
    tr->block_count[b] = 0;
    for (int64_t q = 16 * b; q < r && q < 16 * b + 16; q++) {
      tr->block_count[b] = counts[q] > tr->block_count[b] ? counts[q] : tr->block_count[b];
    }
  }
  for (int64_t e = 0; e < (int64_t)count * r; e++) tr->index[e] = -1;
  /* counts becomes each position's cursor, and ends as its count again. */
  memset(counts, 0, (size_t)r * sizeof(int32_t));
  for (int32_t t = 0; t < taps; t++) {
    for (int64_t j = 0; j < k; j++) {
      const int32_t q = index[t * k + j];
      const int64_t at = counts[q]++ * r + q;
      tr->index[at] = (int32_t)j;
      tr->weight[at] = weight == NULL ? 1.0f : weight[t * k + j];
    }
  }
  return 1;
}

/* dx[q] for q in [q0, q0 + n) of one row: g is its dy (k floats). */
static void transposed_portable(const float* g, const transposed* tr, int64_t r, float* d,
                                int64_t q0, int64_t n) {
  for (int64_t q = q0; q < q0 + n; q++) {
    float acc = 0.0f;
    for (int32_t c = 0; c < tr->counts[q]; c++) {
      acc += tr->weight[c * r + q] * g[tr->index[c * r + q]];
    }
    d[q] = acc;
  }
}

AVX512 static void transposed_avx512(const float* g, int64_t k, const transposed* tr,
                                     const resample_window* win, const int32_t* rel, int64_t r,
                                     float* d, int64_t q0, int64_t n) {
  for (int64_t q = q0; q < q0 + n; q += 16) {
    const int64_t count = q0 + n - q < 16 ? q0 + n - q : 16;
    const resample_window w = win[q / 16];
    if (w.span > RESAMPLE_WINDOW) {
      transposed_portable(g, tr, r, d, q, count);
      continue;
    }
    const __mmask16 m = resample_lanes(count);
    __m512 v[4];
    resample_load_window(g, k, w, v);
    __m512 acc = _mm512_setzero_ps();
    for (int32_t c = 0; c < tr->block_count[q / 16]; c++) {
      const __m512i ri = _mm512_maskz_loadu_epi32(m, rel + c * r + q);
      /* No contributor (-1): zero, not the weight 0 times a dy that may be inf. */
      const __mmask16 some = _mm512_cmpge_epi32_mask(ri, _mm512_setzero_si512());
      const __m512 p = _mm512_maskz_mov_ps(some, resample_pick(v, ri, w.span));
      acc = _mm512_fmadd_ps(p, _mm512_maskz_loadu_ps(m, tr->weight + c * r + q), acc);
    }
    _mm512_mask_storeu_ps(d + q, m, acc);
  }
}

/* One row along the last dimension by scattering (taps too uneven to transpose). */
static void scatter_row(const float* g, const int32_t* index, const float* weight, int64_t r,
                        int64_t k, int32_t taps, float* d) {
  memset(d, 0, (size_t)r * sizeof(float));
  for (int32_t t = 0; t < taps; t++) {
    const int32_t* ix = index + t * k;
    for (int64_t j = 0; j < k; j++) {
      d[ix[j]] += (weight == NULL ? 1.0f : weight[t * k + j]) * g[j];
    }
  }
}

/* The last dimension's backward; LITS_ERR_MEMORY when its tables do not fit. */
static int backward_last(const float* dy, const int32_t* index, const float* weight, float* dx,
                         int64_t outer, int64_t r, int64_t k, int32_t taps, int par) {
  transposed tr = {0, NULL, NULL, NULL, NULL};
  const int how = transpose_taps(index, weight, r, k, taps, &tr);
  if (how == 0) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      scatter_row(dy + o * k, index, weight, r, k, taps, dx + o * r);
    }
    return LITS_OK;
  }
  const int avx512 = lits_resample_use_avx512();
  resample_window* win = NULL;
  int32_t* rel = NULL;
  int ok = how > 0;
  if (ok && avx512) {
    win = malloc((size_t)((r + 15) / 16) * sizeof(resample_window));
    rel = malloc((size_t)(tr.count * r) * sizeof(int32_t));
    ok = win != NULL && rel != NULL;
    if (ok) lits_resample_plan_windows(tr.index, r, tr.count, win, rel);
  }
  if (ok) {
    LITS_FOR_COLUMN_BLOCKS(outer, r, par, RESAMPLE_BLOCK, {
      const float* g = dy + o * k;
      float* d = dx + o * r;
      if (avx512) transposed_avx512(g, k, &tr, win, rel, r, d, i0, nb);
      else transposed_portable(g, &tr, r, d, i0, nb);
    });
  }
  free(win);
  free(rel);
  free_transposed(&tr);
  if (ok) return LITS_OK;
  return lits_fail(LITS_ERR_MEMORY, "lits_resample_backward_f32: no memory for %lld taps",
                   (long long)(taps * k));
}

int lits_resample_backward_f32(const float* dy, const int32_t* index_host,
                               const float* weight_host, float* dx, int64_t outer, int64_t r,
                               int64_t k, int64_t inner, int32_t taps) {
  lits_clear_error();
  const char* fn = "lits_resample_backward_f32";
  const int st = lits_resample_check(fn, dy, index_host, dx, outer, r, k, inner, taps);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  const int32_t* index = index_host;
  const float* weight = weight_host;
  const int par = outer * (k > r ? k : r) * inner * taps > RESAMPLE_PAR_THRESHOLD;
  if (inner == 1) return backward_last(dy, index, weight, dx, outer, r, k, taps, par);
  const int avx512 = lits_resample_use_avx512();
  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, 256, {
    const float* dyo = dy + o * k * inner + i0;
    float* dxo = dx + o * r * inner + i0;
    if (avx512) scatter_rows_avx512(dyo, index, weight, r, k, inner, taps, dxo, nb);
    else scatter_rows_portable(dyo, index, weight, r, k, inner, taps, dxo, nb);
  });
  return LITS_OK;
}
