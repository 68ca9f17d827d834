/* conv_bf16_cols.c: the column matrices of the bf16 im2col path
 * (conv_bf16.c) for stride 2 along rows, vectorised; other geometries go to
 * conv_tiles.c's im2col / col2im. These run only where vdpbf16ps does, so
 * they may use AVX-512.
 *
 * Why: conv_tiles.c copies strided columns one float at a time. That was
 * 24% of the bf16 forward of ResNet-50's 1x1 stride-2 downsample (256 ->
 * 512 at 64^2) and col2im 27% of the 3x3 stride-2 backward data (perf). */
#include <stddef.h>
#include <string.h>

#include "bf16_internal.h"
#include "conv_tiles.h"
#include "fused_internal.h"
#include "stream_store.h"

/* col rows ci (row stride ld, from column col0) = x[ci][oy sh][ox 2] of a
 * 1x1, stride (sh, 2), unpadded convolution: two loads, their even lanes. */
BF16_TARGET static void gather_s2(const conv_shape* p, const float* xi, const conv_xform* xf,
                                  int64_t c0, int64_t nch, int64_t oy0, int64_t oy1, float* col,
                                  int64_t ld, int64_t col0) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const int64_t hw = p->h * p->w;
  const int pf = p->w >= 64;
  for (int64_t ci = 0; ci < nch; ci++) {
    for (int64_t oy = oy0; oy < oy1; oy++) {
      const float* src = xi + (c0 + ci) * hw + oy * p->sh * p->w;
      float* dst = col + ci * ld + col0 + (oy - oy0) * p->ow;
      /* The row 8 rows ahead into L2, as bf16_pack.c's prefetches, in
       * rows of 64+ (ResNet-50's 256 -> 512 at 64^2 6-10% faster; 32^2
       * the same, 16^2 1-2% slower). */
      for (int64_t b = 0; pf && b < p->w; b += 16) {
        _mm_prefetch((const char*)(src + 8 * p->sh * p->w + b), _MM_HINT_T1);
      }
      for (int64_t ox = 0; ox < p->ow; ox += 16) {
        const int64_t n = p->w - 2 * ox; /* source floats left in the row */
        const __mmask16 m0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
        const __mmask16 m1 =
            n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
        const __m512 v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m0, src + 2 * ox), even,
                                                _mm512_maskz_loadu_ps(m1, src + 2 * ox + 16));
        const int64_t left = p->ow - ox;
        _mm512_mask_storeu_ps(dst + ox, left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1),
                              v);
      }
      if (conv_xform_active(xf)) {
        fused_apply(dst, dst, p->ow, fused_affine_of(xf->coef, p->c, c0 + ci), xf->relu);
      }
    }
  }
}

const float* lits_bf16_tile_columns(const conv_shape* p, const float* x, const conv_xform* xf,
                                    int direct, const tile* b, int64_t g, float* col, float* xbuf,
                                    int64_t* ld) {
  const int s2 = p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->sw == 2 && p->dh == 1 &&
                 p->dw == 1;
  if (!s2) return lits_conv_tile_columns(p, x, xf, direct, b, g, col, xbuf, ld);
  const int64_t chw = p->c * p->h * p->w, span = (b->oy1 - b->oy0) * p->ow;
  for (int64_t i = 0; i < b->ni; i++) {
    gather_s2(p, x + (b->i0 + i) * chw, xf, g * p->cg, p->cg, b->oy0, b->oy1, col, b->cols,
              i * span);
  }
  *ld = b->cols;
  return col;
}

/* Output columns ox in [*lo, *hi) read input column ox sw - off inside
 * [0, size) (conv_tiles.c's rule). */
static void valid_range(int64_t off, int64_t stride, int64_t size, int64_t out, int64_t* lo,
                        int64_t* hi) {
  int64_t a = off > 0 ? (off + stride - 1) / stride : 0;
  const int64_t t = size - 1 + off;
  int64_t e = t >= 0 ? t / stride + 1 : 0;
  if (a > out) a = out;
  if (e > out) e = out;
  if (e < a) e = a;
  *lo = a;
  *hi = e;
}

int lits_bf16_col2im_writes_all(const conv_shape* p) {
  return p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->sh == 2 && p->sw == 2;
}

/* col2im of a 1x1, stride-2, unpadded convolution: each output pixel
 * lands on one input pixel, the rest are zeros, so rows 2 oy and 2 oy + 1
 * are written whole (sources in the even lanes, zeros between; then a row
 * of zeros) instead of added to a zeroed dx: no memset of dx first, and
 * no read of it (ResNet-50's 256 -> 512 1x1/2 at 64^2: the memset and
 * col2im were a quarter of the backward data, perf). */
BF16_TARGET static void scatter_s2(const conv_shape* p, const float* col, int64_t ld,
                                   int64_t col0, float* dxi, int64_t c0, int64_t nch, int64_t oy0,
                                   int64_t oy1) {
  const int64_t h = p->h, w = p->w, ow = p->ow;
  const __m512 z = _mm512_setzero_ps();
  /* dx past 8 MiB with rows of whole lines: streaming stores */
  const int nt = stream_output(p->n * p->c * h * w) && w % 16 == 0 && ((uintptr_t)dxi & 63) == 0;
  for (int64_t ci = 0; ci < nch; ci++) {
    float* xc = dxi + (c0 + ci) * h * w;
    for (int64_t oy = oy0; oy < oy1; oy++) {
      const float* src = col + ci * ld + col0 + (oy - oy0) * ow;
      float* d0 = xc + 2 * oy * w;
      for (int64_t x0 = 0; x0 < w; x0 += 16) { /* dx columns x0 .. x0 + 15 */
        const int64_t n = w - x0 < 16 ? w - x0 : 16;
        const __mmask16 m = (__mmask16)((1u << n) - 1);
        const int64_t ns = (n + 1) / 2; /* sources: columns x0 / 2 .. */
        const __m512 e = _mm512_maskz_expandloadu_ps((__mmask16)(0x5555u & ((1u << (2 * ns)) - 1)),
                                                     src + x0 / 2);
        if (nt && n == 16) {
          _mm512_stream_ps(d0 + x0, e);
          if (2 * oy + 1 < h) _mm512_stream_ps(d0 + w + x0, z);
        } else {
          _mm512_mask_storeu_ps(d0 + x0, m, e);
          if (2 * oy + 1 < h) _mm512_mask_storeu_ps(d0 + w + x0, m, z);
        }
      }
    }
  }
  if (nt) stream_fence();
}

BF16_TARGET void lits_bf16_col2im_tile(const conv_shape* p, const float* col, int64_t ld,
                                       int64_t col0, float* dxi, int64_t c0, int64_t nch,
                                       int64_t oy0, int64_t oy1) {
  if (lits_bf16_col2im_writes_all(p)) {
    scatter_s2(p, col, ld, col0, dxi, c0, nch, oy0, oy1);
    return;
  }
  if (p->sw != 2) {
    lits_conv_col2im_tile(p, col, ld, col0, dxi, c0, nch, oy0, oy1);
    return;
  }
  /* dst[2 ox] += src[ox]: 8 sources expanded into the even lanes of 16. */
  const int64_t h = p->h, w = p->w, r = p->r, s = p->s, ow = p->ow;
  for (int64_t ci = 0; ci < nch; ci++) {
    float* xc = dxi + (c0 + ci) * h * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        const float* row = col + ((ci * r + kr) * s + ks) * ld + col0;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, 2, w, ow, &lo, &hi);
        if (hi <= lo) continue;
        for (int64_t oy = oy0; oy < oy1; oy++) {
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) continue;
          const float* src = row + (oy - oy0) * ow;
          float* dst = xc + iy * w - off_w;
          for (int64_t ox = lo; ox < hi; ox += 8) {
            const int64_t n = hi - ox < 8 ? hi - ox : 8;
            const __mmask16 m = (__mmask16)(0x5555u & ((1u << (2 * n)) - 1));
            const __m512 e = _mm512_maskz_expandloadu_ps(m, src + ox);
            float* d = dst + 2 * ox;
            _mm512_mask_storeu_ps(d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), e));
          }
        }
      }
    }
  }
}
