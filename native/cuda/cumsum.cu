/* cumsum.cu: running sums along the middle dimension of [outer, r, inner],
 * as cumsum.c: one thread per (outer, inner) column walks it in order,
 * summing in double, so the sums are the CPU backend's. Neighbouring threads
 * take neighbouring inner positions, so their reads and writes coalesce.
 */
#include "common.cuh"

__global__ void cumsum_kernel(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                              int reverse) {
  LC_GRID_LOOP(c, outer * inner) {
    const int64_t o = c / inner, i = c % inner;
    double acc = 0.0;
    for (int64_t s = 0; s < r; s++) {
      const int64_t j = reverse ? r - 1 - s : s;
      const int64_t at = (o * r + j) * inner + i;
      acc += (double)x[at];
      y[at] = (float)acc;
    }
  }
}

extern "C" int lits_cumsum_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                               int32_t reverse) {
  LC_ENTER("lits_cumsum_f32");
  LC_TRY(lits_check_rows(lc_fn, outer, r, inner));
  if (outer * r * inner == 0) return LITS_OK;
  LC_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", lc_fn);
  LC_REQUIRE(reverse == 0 || reverse == 1, "%s: reverse must be 0 or 1, got %d", lc_fn,
             (int)reverse);
  cumsum_kernel<<<lc_blocks(outer * inner), LC_THREADS, 0, lc.stream>>>(x, y, outer, r, inner,
                                                                        reverse);
  LC_CHECK_LAUNCH("cumsum_kernel");
  return LITS_OK;
}
