/* gather.c: gather and scatter-add along the middle dimension of [outer, r,
 * inner] (torch.gather, index_select, and their gradient).
 *
 * Gather reads whole rows with memcpy when the index does not change along
 * inner (index_select, and the row pass of interpolate). Scatter-add walks
 * each (outer, block of inner) task's k indices in order, so each output's
 * sum has one order whatever the thread count, and no two threads write the
 * same element.
 */
#include <omp.h>
#include <string.h>

#include "common.h"

#define PAR_THRESHOLD 32768
#define BLOCK 64

/* index[o, j, i] through the strides. */
static inline int32_t index_at(const int32_t* index, const int64_t* s, int64_t o, int64_t j,
                               int64_t i) {
  return index[o * s[0] + j * s[1] + i * s[2]];
}

/* The first index outside [0, r), in (o, j, i) order, visiting each distinct
 * element once (a 0 stride repeats one). */
static int check_indices(const char* fn, const int32_t* index, const int64_t* s, int64_t outer,
                         int64_t r, int64_t k, int64_t inner) {
  const int64_t no = s[0] ? outer : 1, nk = s[1] ? k : 1, ni = s[2] ? inner : 1;
  for (int64_t o = 0; o < no; o++)
    for (int64_t j = 0; j < nk; j++)
      for (int64_t i = 0; i < ni; i++) {
        const int32_t v = index_at(index, s, o, j, i);
        LITS_REQUIRE(v >= 0 && (int64_t)v < r,
                     "%s: index %d (element %lld of the index) is out of range [0, %lld)", fn,
                     (int)v, (long long)(o * s[0] + j * s[1] + i * s[2]), (long long)r);
      }
  return LITS_OK;
}

int lits_gather_f32(const float* x, const int32_t* index, const int64_t* index_strides_host,
                    float* out, int64_t outer, int64_t r, int64_t k, int64_t inner,
                    int32_t check_index) {
  lits_clear_error();
  const char* fn = "lits_gather_f32";
  LITS_CHECKED(lits_check_gather(fn, x, index, index_strides_host, out, outer, r, k, inner));
  const int64_t* s = index_strides_host;
  if (check_index) {
    const int st = check_indices(fn, index, s, outer, r, k, inner);
    if (st != LITS_OK) return st;
  }
  const int64_t rows = outer * k;
  const int par = rows * inner > PAR_THRESHOLD && rows > 1;
  if (inner == 1) {
    /* Along the last dimension (flip of W, sort's values): one float per
     * (o, j), gathered in a plain loop per row rather than a memcpy each. */
#pragma omp parallel for schedule(static) if (par && outer > 1)
    for (int64_t o = 0; o < outer; o++) {
      const float* xo = x + o * r;
      float* y = out + o * k;
      const int32_t* ix = index + o * s[0];
      for (int64_t j = 0; j < k; j++) {
        const int32_t v = ix[j * s[1]];
        y[j] = v >= 0 && (int64_t)v < r ? xo[v] : 0.0f;
      }
    }
    return LITS_OK;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t t = 0; t < rows; t++) {
    const int64_t o = t / k, j = t - o * k;
    const float* xo = x + o * r * inner;
    float* y = out + t * inner;
    if (s[2] == 0) {
      const int32_t v = index_at(index, s, o, j, 0);
      if (v >= 0 && (int64_t)v < r)
        memcpy(y, xo + (int64_t)v * inner, (size_t)inner * sizeof(float));
      else
        memset(y, 0, (size_t)inner * sizeof(float));
    } else {
      const int32_t* ix = index + o * s[0] + j * s[1];
      for (int64_t i = 0; i < inner; i++) {
        const int32_t v = ix[i * s[2]];
        y[i] = v >= 0 && (int64_t)v < r ? xo[(int64_t)v * inner + i] : 0.0f;
      }
    }
  }
  return LITS_OK;
}

int lits_scatter_add_f32(const float* dy, const int32_t* index,
                         const int64_t* index_strides_host, float* dx, int64_t outer, int64_t r,
                         int64_t k, int64_t inner) {
  lits_clear_error();
  const char* fn = "lits_scatter_add_f32";
  LITS_CHECKED(lits_check_gather(fn, dy, index, index_strides_host, dx, outer, r, k, inner));
  const int64_t* s = index_strides_host;
  const int par = outer * k * inner > PAR_THRESHOLD;
  LITS_FOR_COLUMN_BLOCKS(outer, inner, par, BLOCK, {
    float* d = dx + o * r * inner + i0;
    for (int64_t j = 0; j < k; j++) {
      const float* g = dy + (o * k + j) * inner + i0;
      const int32_t* ix = index + o * s[0] + j * s[1] + i0 * s[2];
      if (s[2] == 0) {
        const int32_t v = ix[0];
        if (v < 0 || (int64_t)v >= r) continue;
        float* row = d + (int64_t)v * inner;
        for (int64_t i = 0; i < nb; i++) row[i] += g[i];
      } else {
        for (int64_t i = 0; i < nb; i++) {
          const int32_t v = ix[i * s[2]];
          if (v >= 0 && (int64_t)v < r) d[(int64_t)v * inner + i] += g[i];
        }
      }
    }
  });
  return LITS_OK;
}
