/* conv_moments.c: a convolution's output moments per channel (mean and
 * M2, the sum of squared deviations), gathered tile by tile as the packed
 * GEMM writes y (conv_stem.c gathers its rows alike), for the batch norm
 * in training that reads y next: its
 * statistics then need no pass of their own over y (ResNet-50's 53 batch
 * norms read 0.93 GB a training step, batch 16, 256 x 256, for that pass).
 *
 * Each tile sums v - shift and (v - shift)^2 in double lanes, the shift
 * being the tile's first value of the channel, so that the squares do not
 * cancel however far the mean lies from zero; a tile's sums become its
 * mean and M2, and the tiles are merged in tile order (Chan, Golub and
 * LeVeque's pairwise update). The tiles are laid out independently of the
 * number of threads (conv_gemm.c), so the moments are too. */
#include <string.h>

#include "conv_internal.h"

/* Floats a thread's running sums take: 16 doubles a channel, then the shifts. */
static int64_t per_thread(int64_t k) { return (32 * k + k + 15) / 16 * 16; }

int64_t lits_conv_moments_scratch(int64_t k, int64_t tiles, int threads) {
  return per_thread(k) * threads + 4 * k * tiles + 2 * tiles;
}

conv_tile_moments lits_conv_moments_tile(float* scratch, int64_t k, int64_t tiles, int tid) {
  (void)tiles;
  float* mine = scratch + per_thread(k) * tid;
  conv_tile_moments t = {(double*)mine, mine + 32 * k};
  memset(t.acc, 0, (size_t)(16 * k) * sizeof(double));
  return t;
}

/* Tile ti's [2 k] means and M2, then the tiles' value counts. */
static double* tile_results(const float* scratch, int64_t k, int threads) {
  return (double*)(scratch + per_thread(k) * threads);
}

void lits_conv_moments_end_tile(float* scratch, const conv_tile_moments* t, int64_t k,
                                int64_t tiles, int threads, int64_t ti, int64_t cols) {
  double* res = tile_results(scratch, k, threads);
  double* out = res + 2 * k * ti;
  for (int64_t ch = 0; ch < k; ch++) {
    const double* a = t->acc + 16 * ch;
    double s = 0.0, q = 0.0;
    for (int l = 0; l < 8; l++) {
      s += a[l];
      q += a[8 + l];
    }
    out[2 * ch] = (double)t->shift[ch] + s / (double)cols;
    out[2 * ch + 1] = q - s * s / (double)cols;
  }
  res[2 * k * tiles + ti] = (double)cols;
}

void lits_conv_moments_merge(const float* scratch, int64_t k, int64_t tiles, int threads,
                             double* out) {
  const double* res = tile_results(scratch, k, threads);
  const double* counts = res + 2 * k * tiles;
  for (int64_t ch = 0; ch < k; ch++) {
    double na = 0.0, mean = 0.0, m2 = 0.0;
    for (int64_t ti = 0; ti < tiles; ti++) {
      const double nb = counts[ti], n = na + nb;
      if (nb == 0.0) continue;
      const double mb = res[2 * k * ti + 2 * ch], delta = mb - mean;
      mean += delta * (nb / n); /* exactly mb for the first tile */
      m2 += res[2 * k * ti + 2 * ch + 1] + delta * delta * (na * nb / n);
      na = n;
    }
    out[2 * ch] = mean;
    out[2 * ch + 1] = m2;
  }
}
