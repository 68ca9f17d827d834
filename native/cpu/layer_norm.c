/* layer_norm.c: layer normalisation over the last dimensions of x viewed as
 * [rows, cols], and its backward, one row at a time over the OpenMP threads.
 *
 * Forward: mean and the biased variance of each row in double (two passes,
 * the row is in L1 for the second, so a large mean does not cancel the
 * variance away as E[x^2] - mean^2 would), rstd = 1 / sqrt(var + eps), then
 * y = (x - mean) * rstd * weight + bias in float, as the composed ops it
 * replaces computed it ((x - mean) / sqrt(var + eps), rounded the same way
 * to within an ulp). mean and rstd are saved per row for the backward.
 *
 * Backward (torch's formula): with xhat = (x - mean) rstd and g = dy weight,
 *   dx = rstd (g - mean(g) - xhat mean(g xhat)),
 *   dweight = sum over rows of dy xhat,  dbias = sum over rows of dy.
 * The column sums are made in double over fixed blocks of rows, then added
 * in block order: the same bits whatever the number of threads. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

#define PAR_THRESHOLD 32768
#define COL_BLOCKS 64 /* blocks of rows for the weight and bias gradients */

static void norm_row(const float* x, const float* w, const float* b, float* y, float* mean_out,
                     float* rstd_out, int64_t cols, double eps) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < cols; j++) s += (double)x[j];
  const double m = s / (double)cols;
  double q = 0.0;
#pragma omp simd reduction(+ : q)
  for (int64_t j = 0; j < cols; j++) {
    const double d = (double)x[j] - m;
    q += d * d;
  }
  const float mf = (float)m, r = (float)(1.0 / sqrt(q / (double)cols + eps));
  if (mean_out) *mean_out = mf;
  if (rstd_out) *rstd_out = r;
  if (w && b) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) y[j] = (x[j] - mf) * r * w[j] + b[j];
  } else if (w) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) y[j] = (x[j] - mf) * r * w[j];
  } else if (b) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) y[j] = (x[j] - mf) * r + b[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) y[j] = (x[j] - mf) * r;
  }
}

int lits_layer_norm_f32(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t rows, int64_t cols, float eps) {
  lits_clear_error();
  const char* fn = "lits_layer_norm_f32";
  LITS_REQUIRE(rows >= 0 && cols >= 0, "%s: rows %lld and cols %lld must be >= 0", fn,
               (long long)rows, (long long)cols);
  LITS_REQUIRE(eps >= 0.0f, "%s: eps %g must be >= 0", fn, (double)eps);
  if (rows == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  const int par = rows > 1 && rows * cols > PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) {
    norm_row(x + r * cols, weight, bias, y + r * cols, mean ? mean + r : NULL,
             rstd ? rstd + r : NULL, cols, (double)eps);
  }
  return LITS_OK;
}

/* dx of one row; adds dy xhat and dy into gw and gb (doubles) when given. */
static void grad_row(const float* x, const float* dy, const float* w, float m, float r,
                     float* dx, double* gw, double* gb, int64_t cols) {
  if (gw) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) gw[j] += (double)dy[j] * (double)((x[j] - m) * r);
  }
  if (gb) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) gb[j] += (double)dy[j];
  }
  if (!dx) return;
  double sg = 0.0, sgx = 0.0;
#pragma omp simd reduction(+ : sg, sgx)
  for (int64_t j = 0; j < cols; j++) {
    const float g = w ? dy[j] * w[j] : dy[j];
    sg += (double)g;
    sgx += (double)g * (double)((x[j] - m) * r);
  }
  const float a = (float)(sg / (double)cols), c = (float)(sgx / (double)cols);
#pragma omp simd
  for (int64_t j = 0; j < cols; j++) {
    const float g = w ? dy[j] * w[j] : dy[j];
    dx[j] = r * (g - a - (x[j] - m) * r * c);
  }
}

int lits_layer_norm_backward_f32(const float* x, const float* dy, const float* weight,
                                 const float* mean, const float* rstd, float* dx,
                                 float* dweight, float* dbias, int64_t rows, int64_t cols) {
  lits_clear_error();
  const char* fn = "lits_layer_norm_backward_f32";
  LITS_REQUIRE(rows >= 0 && cols >= 0, "%s: rows %lld and cols %lld must be >= 0", fn,
               (long long)rows, (long long)cols);
  if (dweight) memset(dweight, 0, (size_t)cols * sizeof(float));
  if (dbias) memset(dbias, 0, (size_t)cols * sizeof(float));
  if (rows == 0 || cols == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL && dy != NULL && mean != NULL && rstd != NULL,
               "%s: x, dy, mean or rstd is NULL", fn);
  const int64_t blocks = rows < COL_BLOCKS ? rows : COL_BLOCKS;
  const int sums = dweight != NULL || dbias != NULL;
  double* part = NULL;
  if (sums) {
    part = lits_scratch_alloc(2 * blocks * cols * (int64_t)sizeof(double));
    if (!part) return LITS_ERR_MEMORY;
    memset(part, 0, (size_t)(2 * blocks * cols) * sizeof(double));
  }
  const int par = rows > 1 && rows * cols > PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t k = 0; k < blocks; k++) {
    double* gw = dweight ? part + 2 * k * cols : NULL;
    double* gb = dbias ? part + (2 * k + 1) * cols : NULL;
    for (int64_t r = rows * k / blocks; r < rows * (k + 1) / blocks; r++) {
      grad_row(x + r * cols, dy + r * cols, weight, mean[r], rstd[r], dx ? dx + r * cols : NULL,
               gw, gb, cols);
    }
  }
  if (sums) {
#pragma omp parallel for schedule(static) if (par && cols >= 256)
    for (int64_t j = 0; j < cols; j++) {
      double sw = 0.0, sb = 0.0;
      for (int64_t k = 0; k < blocks; k++) {
        sw += part[2 * k * cols + j];
        sb += part[(2 * k + 1) * cols + j];
      }
      if (dweight) dweight[j] = (float)sw;
      if (dbias) dbias[j] = (float)sb;
    }
    lits_scratch_free(part);
  }
  return LITS_OK;
}
