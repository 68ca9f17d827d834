/* reduce.c: sum/mean/max/min and argmax over the middle dimension of x viewed
 * as [outer, r, inner] (softmax is softmax.c).
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

  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, BLOCK,
                         block_reduce(op, x + o * r * inner + i0, out + o * inner + i0, r, inner,
                                      nb););
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
  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, BLOCK, {
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
  });
  return LITS_OK;
}
