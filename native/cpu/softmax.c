/* softmax.c: softmax and log_softmax over the middle dimension of x viewed as
 * [outer, r, inner], and their backward. Row sums accumulate in double; with
 * inner > 1 the work is split into blocks of BLOCK consecutive inner
 * positions done together with vectorised loops over the block.
 */
#include <math.h>
#include <stddef.h>

#include "common.h"
#include "exp16.h"

#define PAR_THRESHOLD 32768
#define BLOCK 64

/* Softmax of one contiguous row. Its exps are exp16.h's lits_expf (0.91
 * ulp; glibc's expf kept these loops scalar: 1.5x torch's time on attention
 * scores [96, 197, 197]), the double sum vectorised (omp simd: its order
 * changes, a double's rounding, far below float's). */
static void softmax_row(const float* x, float* y, int64_t r, int log) {
  float m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < r; j++) m = x[j] > m ? x[j] : m;
  if (log) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < r; j++) s += (double)lits_expf(x[j] - m);
    float lse = m + (float)logf((float)s);
#pragma omp simd
    for (int64_t j = 0; j < r; j++) y[j] = x[j] - lse;
  } else {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < r; j++) {
      float e = lits_expf(x[j] - m);
      y[j] = e;
      s += (double)e;
    }
    float inv = (float)(1.0 / s);
#pragma omp simd
    for (int64_t j = 0; j < r; j++) y[j] *= inv;
  }
}

/* Softmax over r of nb <= BLOCK positions with row stride inner. */
static void softmax_block(const float* x, float* y, int64_t r, int64_t inner, int64_t nb,
                          int log) {
  float m[BLOCK];
  double s[BLOCK];
  for (int64_t i = 0; i < nb; i++) {
    m[i] = x[i];
    s[i] = 0.0;
  }
  for (int64_t j = 1; j < r; j++) {
    const float* row = x + j * inner;
#pragma omp simd
    for (int64_t i = 0; i < nb; i++) m[i] = row[i] > m[i] ? row[i] : m[i];
  }
  for (int64_t j = 0; j < r; j++) {
    const float* row = x + j * inner;
    float* yrow = y + j * inner;
    for (int64_t i = 0; i < nb; i++) {
      float e = expf(row[i] - m[i]);
      if (!log) yrow[i] = e;
      s[i] += (double)e;
    }
  }
  if (log) {
    float lse[BLOCK];
    for (int64_t i = 0; i < nb; i++) lse[i] = m[i] + logf((float)s[i]);
    for (int64_t j = 0; j < r; j++) {
      const float* row = x + j * inner;
      float* yrow = y + j * inner;
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) yrow[i] = row[i] - lse[i];
    }
  } else {
    float inv[BLOCK];
    for (int64_t i = 0; i < nb; i++) inv[i] = (float)(1.0 / s[i]);
    for (int64_t j = 0; j < r; j++) {
      float* yrow = y + j * inner;
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) yrow[i] *= inv[i];
    }
  }
}

int lits_softmax_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                     int32_t log) {
  lits_clear_error();
  const char* fn = "lits_softmax_f32";
  int st = lits_check_rows(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  int64_t total = outer * r * inner;
  if (total == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  int par = total > PAR_THRESHOLD;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++) softmax_row(x + o * r, y + o * r, r, log != 0);
    return LITS_OK;
  }
  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, BLOCK, {
    int64_t base = o * r * inner + i0;
    softmax_block(x + base, y + base, r, inner, nb, log != 0);
  });
  return LITS_OK;
}

/* log: dx = dy - exp(y) * sum(dy); else dx = y * (dy - sum(dy * y)). */
static void softmax_backward_block(const float* y, const float* dy, float* dx, int64_t r,
                                   int64_t inner, int64_t nb, int log) {
  double s[BLOCK];
  for (int64_t i = 0; i < nb; i++) s[i] = 0.0;
  for (int64_t j = 0; j < r; j++) {
    const float* yr = y + j * inner;
    const float* dr = dy + j * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) s[i] += (double)dr[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) s[i] += (double)dr[i] * (double)yr[i];
    }
  }
  float sf[BLOCK];
  for (int64_t i = 0; i < nb; i++) sf[i] = (float)s[i];
  for (int64_t j = 0; j < r; j++) {
    const float* yr = y + j * inner;
    const float* dr = dy + j * inner;
    float* xr = dx + j * inner;
    if (log) {
      for (int64_t i = 0; i < nb; i++) xr[i] = dr[i] - expf(yr[i]) * sf[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) xr[i] = yr[i] * (dr[i] - sf[i]);
    }
  }
}

static void softmax_backward_row(const float* y, const float* dy, float* dx, int64_t r, int log) {
  double s = 0.0;
  if (log) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < r; j++) s += (double)dy[j];
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < r; j++) s += (double)dy[j] * (double)y[j];
  }
  float sf = (float)s;
  if (log) {
    for (int64_t j = 0; j < r; j++) dx[j] = dy[j] - expf(y[j]) * sf;
  } else {
#pragma omp simd
    for (int64_t j = 0; j < r; j++) dx[j] = y[j] * (dy[j] - sf);
  }
}

int lits_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t outer,
                              int64_t r, int64_t inner, int32_t log) {
  lits_clear_error();
  const char* fn = "lits_softmax_backward_f32";
  int st = lits_check_rows(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  int64_t total = outer * r * inner;
  if (total == 0) return LITS_OK;
  LITS_REQUIRE(y != NULL && dy != NULL && dx != NULL, "%s: y, dy or dx is NULL", fn);
  int par = total > PAR_THRESHOLD;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++)
      softmax_backward_row(y + o * r, dy + o * r, dx + o * r, r, log != 0);
    return LITS_OK;
  }
  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, BLOCK, {
    int64_t base = o * r * inner + i0;
    softmax_backward_block(y + base, dy + base, dx + base, r, inner, nb, log != 0);
  });
  return LITS_OK;
}
