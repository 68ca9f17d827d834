/* conv_direct.h: what the direct 3x3 kernels (conv_direct.c, and
 * conv_direct_pool.c's pooled stage) share. AVX-512 builds only. */
#ifndef LITS_CPU_CONV_DIRECT_H
#define LITS_CPU_CONV_DIRECT_H

#ifdef __AVX512F__
#include <immintrin.h>
#include <stdint.h>

/* Lanes l of the vector at output column ox0 whose input column
 * ox0 + l + ks - 1 lies in [0, w) (and whose output column is < w). */
static inline __mmask16 conv_tap_mask(int64_t ox0, int64_t ks, int64_t w) {
  const int64_t base = ox0 + ks - 1;
  int64_t lo = base < 0 ? -base : 0;
  int64_t hi = w - base < 16 ? w - base : 16;
  if (w - ox0 < 16 && w - ox0 < hi) hi = w - ox0;
  if (hi <= lo) return 0;
  return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* Output channels per register block of the forward. */
#define CONV_DIRECT_KB 8

/* conv2d + bias of output row oy of channels k0 .. k0 + CONV_DIRECT_KB of
 * one image (x [c, h, wd], w [k, c, 3, 3], stride 1, padding 1): channel
 * k0 + kb's row at yr + kb ldk. */
void lits_conv_direct_row(const float* x, const float* w, const float* bias, float* yr,
                          int64_t ldk, int64_t c, int64_t h, int64_t wd, int64_t k0, int64_t oy);
#endif

#endif
