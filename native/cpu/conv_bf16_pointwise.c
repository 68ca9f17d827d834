/* conv_bf16_pointwise.c: the bf16 filter gradient of a 1x1, stride-1,
 * unpadded convolution (one group): dW [k x c] = sum over the images of
 * dy_i [k x hw] x x_i^T [hw x c], as bf16_gemm.c's segmented product
 * (lits_gemm_bf16_ksum), which packs dy and x where they lie.
 *
 * Why not conv_bf16.c's tiles: those gather dy and x of several small
 * images into one matrix (two copies), and each thread sums its tiles into
 * its own dW, added up at the end. Here the threads split dW instead, each
 * summing all the images for its part: no copies, no partial sums, and
 * results that do not depend on the thread count. The split is along the
 * dimension whose other operand is smaller, since every thread packs that
 * one whole (dW's rows when x is the smaller, c <= k). dy and x may each
 * be held as bf16 instead (dy16, x16), read as they are. */
#include <omp.h>

#include "bf16_internal.h"
#include "conv_tiles.h"

/* Rows and columns of dW handed out in units of the micro-kernel's 12 x
 * 32 tiles (bf16_gemm.c's MR, NR). */
#define ROW_UNIT 12
#define COL_UNIT 32

/* Images of fewer than 512 pixels (bf16_gemm.c's KC: those the tiles
 * gather), or tiles of fewer than 512 columns (one short K pass each, dW
 * read and written again for each). Other shapes keep conv_bf16.c's
 * tiles, which read x in place and split K between the threads: here each
 * thread would pack the shared operand whole, and ResNet-50's 64^2 and
 * 32^2 layers ran 2-7% slower (16^2 and 8^2: 13-19% faster; batch 16, 2
 * threads, alternating), save 512 -> 128 at 32^2, whose tiles are of 256
 * columns: 8.3 -> 8.0 ms. */
int lits_conv_bf16_pointwise_filter_applies(const conv_shape* p) {
  if (!p->pointwise || p->groups != 1) return 0;
  const tiling t = lits_conv_make_tiling(p, p->crs_g, omp_get_max_threads());
  return p->ohw < 512 || t.max_cols < 512;
}

int lits_conv_bf16_pointwise_filter(const conv_shape* p, const float* x, const uint16_t* x16,
                                    const conv_xform* xf, const float* dy, const uint16_t* dy16,
                                    float* dweight) {
  const int64_t m = p->k, n = p->c, hw = p->ohw;
  const int by_rows = p->c <= p->k;
  const int64_t unit = by_rows ? ROW_UNIT : COL_UNIT, len = by_rows ? m : n;
  const int64_t units = (len + unit - 1) / unit;
  const int threads = min_threads(omp_get_max_threads(), units);
  const int64_t share = (units + threads - 1) / threads * unit; /* the largest slab */
  const int64_t words =
      round16(lits_gemm_bf16_ksum_words(by_rows ? share : m, by_rows ? n : share, hw));
  float* scratch = thread_scratch(words, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    int64_t s0 = units * t / threads * unit, s1 = units * (t + 1) / threads * unit;
    if (s1 > len) s1 = len;
    const int64_t i0 = by_rows ? s0 : 0, i1 = by_rows ? s1 : m;
    const int64_t j0 = by_rows ? 0 : s0, j1 = by_rows ? n : s1;
    const bf16_b_xform bx = {xf != NULL ? xf->coef : NULL, xf != NULL && xf->relu, p->c, j0};
    if (i0 < i1 && j0 < j1) {
      const float* xs = x + j0 * hw;
      float* dw = dweight + i0 * n + j0;
      uint32_t* buf = (uint32_t*)(scratch + words * t);
      const bf16_b_xform* bxp = conv_xform_active(xf) ? &bx : NULL;
      if (x16 != NULL) {
        lits_gemm_bf16_ksum_x16(i1 - i0, j1 - j0, hw, p->n, dy16 != NULL ? NULL : dy + i0 * hw,
                                dy16 != NULL ? dy16 + i0 * hw : NULL, hw, p->k * hw,
                                x16 + j0 * hw, hw, p->c * hw, dw, n, buf);
      } else if (dy16 != NULL) {
        lits_gemm_bf16_ksum_a16(i1 - i0, j1 - j0, hw, p->n, dy16 + i0 * hw, hw, p->k * hw, xs, hw,
                                p->c * hw, dw, n, buf, bxp);
      } else {
        lits_gemm_bf16_ksum(i1 - i0, j1 - j0, hw, p->n, dy + i0 * hw, hw, p->k * hw, xs, hw,
                            p->c * hw, dw, n, buf, bxp);
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
