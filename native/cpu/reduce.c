/* reduce.c: sum/mean/max/min, argmax and softmax over the middle dimension of
 * x viewed as [outer, r, inner].
 *
 * Sums accumulate in double, in a fixed order (chunks of CHUNK elements, each
 * summed by a vectorised loop, then the chunk sums in order), so results do
 * not depend on the number of threads. When inner > 1 the work is split into
 * blocks of BLOCK consecutive inner positions that are reduced together with
 * vectorised loops over the block.
 */
#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "common.h"

#define PAR_THRESHOLD 32768
#define CHUNK 8192
#define BLOCK 64

/* The shared rule (lits_check.h); reductions into an empty output and the
 * empty dimension's own rules are each entry's. */
static int check_dims(const char* fn, int64_t outer, int64_t r, int64_t inner) {
  return lits_check_rows(fn, outer, r, inner);
}

/* Sum of n contiguous floats in double: vectorised within CHUNK-sized chunks. */
static double chunk_sum(const float* x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += (double)x[i];
  return s;
}

/* Max (is_max) or min of n contiguous floats; NaN if any is NaN. */
static float chunk_extreme(const float* x, int64_t n, int is_max) {
  float m = x[0];
  int nan = 0;
  if (is_max) {
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t i = 0; i < n; i++) {
      float v = x[i];
      m = v > m ? v : m;
      nan |= v != v;
    }
  } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t i = 0; i < n; i++) {
      float v = x[i];
      m = v < m ? v : m;
      nan |= v != v;
    }
  }
  return nan ? NAN : m;
}

/* Reduction of one contiguous row of r elements (inner == 1). */
static float row_reduce(int32_t op, const float* x, int64_t r) {
  if (op == LITS_SUM || op == LITS_MEAN) {
    double s = 0.0;
    for (int64_t j = 0; j < r; j += CHUNK) s += chunk_sum(x + j, r - j < CHUNK ? r - j : CHUNK);
    return op == LITS_MEAN ? (float)(s / (double)r) : (float)s;
  }
  return chunk_extreme(x, r, op == LITS_MAX);
}

/* Reduction over r of a block of nb <= BLOCK inner positions starting at x
 * (row stride inner). */
static void block_reduce(int32_t op, const float* x, float* out, int64_t r, int64_t inner,
                         int64_t nb) {
  if (op == LITS_SUM || op == LITS_MEAN) {
    double acc[BLOCK];
    for (int64_t i = 0; i < nb; i++) acc[i] = 0.0;
    for (int64_t j = 0; j < r; j++) {
      const float* row = x + j * inner;
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) acc[i] += (double)row[i];
    }
    if (op == LITS_MEAN) {
      for (int64_t i = 0; i < nb; i++) out[i] = (float)(acc[i] / (double)r);
    } else {
      for (int64_t i = 0; i < nb; i++) out[i] = (float)acc[i];
    }
    return;
  }
  float acc[BLOCK];
  for (int64_t i = 0; i < nb; i++) acc[i] = x[i];
  for (int64_t j = 1; j < r; j++) {
    const float* row = x + j * inner;
    /* Once acc is NaN neither test passes, so NaN sticks. */
    if (op == LITS_MAX) {
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) {
        float v = row[i];
        acc[i] = (v > acc[i] || v != v) ? v : acc[i];
      }
    } else {
#pragma omp simd
      for (int64_t i = 0; i < nb; i++) {
        float v = row[i];
        acc[i] = (v < acc[i] || v != v) ? v : acc[i];
      }
    }
  }
  for (int64_t i = 0; i < nb; i++) out[i] = acc[i];
}

int lits_reduce_f32(int32_t op, const float* x, float* out, int64_t outer, int64_t r,
                    int64_t inner) {
  lits_clear_error();
  const char* fn = "lits_reduce_f32";
  LITS_REQUIRE(op >= LITS_SUM && op <= LITS_MIN, "%s: unknown op %d", fn, (int)op);
  int st = check_dims(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  int64_t nout = outer * inner;
  if (nout == 0) return LITS_OK;
  LITS_REQUIRE(out != NULL, "%s: out is NULL", fn);
  if (r == 0) {
    LITS_REQUIRE(op == LITS_SUM || op == LITS_MEAN,
                 "%s: max/min over an empty dimension (r = 0)", fn);
    float v = op == LITS_SUM ? 0.0f : NAN;
#pragma omp parallel for simd if (nout > PAR_THRESHOLD)
    for (int64_t i = 0; i < nout; i++) out[i] = v;
    return LITS_OK;
  }
  LITS_REQUIRE(x != NULL, "%s: x is NULL", fn);
  int64_t total = nout * r;
  int par = total > PAR_THRESHOLD;

  if (inner == 1) {
    if (outer >= 2 * omp_get_max_threads() || !par || r < 4 * CHUNK) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
      for (int64_t o = 0; o < outer; o++) out[o] = row_reduce(op, x + o * r, r);
      return LITS_OK;
    }
    /* Few long rows: reduce the chunks of each row in parallel. */
    int64_t nch = (r + CHUNK - 1) / CHUNK;
    for (int64_t o = 0; o < outer; o++) {
      const float* row = x + o * r;
      if (op == LITS_SUM || op == LITS_MEAN) {
        double* part = lits_scratch_alloc(nch * (int64_t)sizeof(double));
        if (part == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < nch; c++) {
          int64_t j = c * CHUNK;
          part[c] = chunk_sum(row + j, r - j < CHUNK ? r - j : CHUNK);
        }
        double s = 0.0;
        for (int64_t c = 0; c < nch; c++) s += part[c];
        lits_scratch_free(part);
        out[o] = op == LITS_MEAN ? (float)(s / (double)r) : (float)s;
      } else {
        float* part = lits_scratch_alloc(nch * (int64_t)sizeof(float));
        if (part == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel for schedule(static)
        for (int64_t c = 0; c < nch; c++) {
          int64_t j = c * CHUNK;
          part[c] = chunk_extreme(row + j, r - j < CHUNK ? r - j : CHUNK, op == LITS_MAX);
        }
        out[o] = chunk_extreme(part, nch, op == LITS_MAX);
        lits_scratch_free(part);
      }
    }
    return LITS_OK;
  }

  int64_t nblk = (inner + BLOCK - 1) / BLOCK;
  int64_t tasks = outer * nblk;
#pragma omp parallel for schedule(static) if (par && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t o = t / nblk, i0 = (t % nblk) * BLOCK;
    int64_t nb = inner - i0 < BLOCK ? inner - i0 : BLOCK;
    block_reduce(op, x + o * r * inner + i0, out + o * inner + i0, r, inner, nb);
  }
  return LITS_OK;
}

/* ---- argmax ---------------------------------------------------------------- */

int lits_argmax_f32(const float* x, int32_t* out, int64_t outer, int64_t r, int64_t inner) {
  lits_clear_error();
  const char* fn = "lits_argmax_f32";
  int st = check_dims(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  int64_t nout = outer * inner;
  if (nout == 0) return LITS_OK;
  LITS_REQUIRE(r >= 1, "%s: argmax over an empty dimension (r = 0)", fn);
  LITS_REQUIRE(r <= INT32_MAX, "%s: r %lld does not fit an int32 index", fn, (long long)r);
  LITS_REQUIRE(x != NULL && out != NULL, "%s: x or out is NULL", fn);
  int par = nout * r > PAR_THRESHOLD;
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      const float* row = x + o * r;
      float best = row[0];
      int64_t bi = 0;
      if (best == best) {
        for (int64_t j = 1; j < r; j++) {
          float v = row[j];
          if (v != v) {
            bi = j;
            break;
          }
          if (v > best) {
            best = v;
            bi = j;
          }
        }
      }
      out[o] = (int32_t)bi;
    }
    return LITS_OK;
  }
  int64_t nblk = (inner + BLOCK - 1) / BLOCK;
  int64_t tasks = outer * nblk;
#pragma omp parallel for schedule(static) if (par && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t o = t / nblk, i0 = (t % nblk) * BLOCK;
    int64_t nb = inner - i0 < BLOCK ? inner - i0 : BLOCK;
    const float* xb = x + o * r * inner + i0;
    float best[BLOCK];
    int32_t bi[BLOCK];
    for (int64_t i = 0; i < nb; i++) {
      best[i] = xb[i];
      bi[i] = 0;
    }
    for (int64_t j = 1; j < r; j++) {
      const float* row = xb + j * inner;
      int32_t jj = (int32_t)j;
      for (int64_t i = 0; i < nb; i++) {
        float v = row[i], b = best[i];
        /* A NaN best is final; a NaN v replaces a non-NaN best. */
        int take = v > b || (v != v && b == b);
        best[i] = take ? v : b;
        bi[i] = take ? jj : bi[i];
      }
    }
    int32_t* ob = out + o * inner + i0;
    for (int64_t i = 0; i < nb; i++) ob[i] = bi[i];
  }
  return LITS_OK;
}

/* ---- softmax ---------------------------------------------------------------- */

/* Softmax of one contiguous row. */
static void softmax_row(const float* x, float* y, int64_t r, int log) {
  float m = x[0];
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < r; j++) m = x[j] > m ? x[j] : m;
  if (log) {
    double s = 0.0;
    for (int64_t j = 0; j < r; j++) s += (double)expf(x[j] - m);
    float lse = m + (float)logf((float)s);
    for (int64_t j = 0; j < r; j++) y[j] = x[j] - lse;
  } else {
    double s = 0.0;
    for (int64_t j = 0; j < r; j++) {
      float e = expf(x[j] - m);
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
  int st = check_dims(fn, outer, r, inner);
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
  int64_t nblk = (inner + BLOCK - 1) / BLOCK;
  int64_t tasks = outer * nblk;
#pragma omp parallel for schedule(static) if (par && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t o = t / nblk, i0 = (t % nblk) * BLOCK;
    int64_t nb = inner - i0 < BLOCK ? inner - i0 : BLOCK;
    int64_t base = o * r * inner + i0;
    softmax_block(x + base, y + base, r, inner, nb, log != 0);
  }
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
  int st = check_dims(fn, outer, r, inner);
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
  int64_t nblk = (inner + BLOCK - 1) / BLOCK;
  int64_t tasks = outer * nblk;
#pragma omp parallel for schedule(static) if (par && tasks > 1)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t o = t / nblk, i0 = (t % nblk) * BLOCK;
    int64_t nb = inner - i0 < BLOCK ? inner - i0 : BLOCK;
    int64_t base = o * r * inner + i0;
    softmax_backward_block(y + base, dy + base, dx + base, r, inner, nb, log != 0);
  }
  return LITS_OK;
}
