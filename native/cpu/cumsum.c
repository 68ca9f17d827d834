/* cumsum.c: running sums along the middle dimension of [outer, r, inner]
 * (torch.cumsum, and its gradient: the same sums from the end).
 *
 * Each column is summed in double in order, as torch's CPU kernel, so a
 * long run of small values after a large one is not lost to float32
 * rounding, and the answer does not depend on the thread count.
 */
#include <omp.h>

#include "common.h"

#define PAR_THRESHOLD 32768
/* Columns summed side by side when inner > 1 (a row of doubles on the stack). */
#define BLOCK 256

int lits_cumsum_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                    int32_t reverse) {
  lits_clear_error();
  const char* fn = "lits_cumsum_f32";
  const int st = lits_check_rows(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  if (outer * r * inner == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  LITS_REQUIRE(reverse == 0 || reverse == 1, "%s: reverse must be 0 or 1, got %d", fn,
               (int)reverse);
  const int64_t blocks = (inner + BLOCK - 1) / BLOCK, tasks = outer * blocks;
  const int par = outer * r * inner > PAR_THRESHOLD && tasks > 1;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t t = 0; t < tasks; t++) {
    const int64_t o = t / blocks, i0 = (t % blocks) * BLOCK;
    const int64_t width = inner - i0 < BLOCK ? inner - i0 : BLOCK;
    double acc[BLOCK];
    for (int64_t i = 0; i < width; i++) acc[i] = 0.0;
    for (int64_t s = 0; s < r; s++) {
      const int64_t j = reverse ? r - 1 - s : s;
      const int64_t at = (o * r + j) * inner + i0;
      for (int64_t i = 0; i < width; i++) {
        acc[i] += (double)x[at + i];
        y[at + i] = (float)acc[i];
      }
    }
  }
  return LITS_OK;
}
