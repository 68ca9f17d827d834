/* conv_filter_pack.c: the operands of the 1x1 filter gradient
 * (conv_filter_pointwise.c) packed contiguous, chunk by chunk of columns:
 * dy copied, x transformed (deferred batch norm, ReLU) and gathered
 * (strided) as it is read; and the prefetching of what the next pack reads,
 * a few cache lines between micro-kernel calls. */
#include <immintrin.h>
#include <string.h>

#include "common.h"
#include "conv_filter_pack.h"
#include "fused_internal.h"

#define AVX512 __attribute__((target("avx512f")))

/* dst[0, n) = src[0, n): inline, as the runs are short where images are
 * small (64 floats at 8 x 8, where memcpy's calls cost 8%). */
AVX512 static void copy_floats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
  }
}

/* Rows [r0, r0 + nrows) of dy, columns [j0, j0 + jc) of the n * ohw, into
 * dst [nrows, jp] (zero beyond jc). */
void lits_pw_pack_dy(const conv_shape* p, const float* dy, int64_t r0, int64_t nrows, int64_t j0,
                     int64_t jc, int64_t jp, float* dst) {
  const int64_t kohw = p->k * p->ohw;
  for (int64_t j = j0, img = j0 / p->ohw, pix = j0 % p->ohw; j < j0 + jc; img++, pix = 0) {
    const int64_t len = p->ohw - pix < j0 + jc - j ? p->ohw - pix : j0 + jc - j;
    const float* src = dy + img * kohw + r0 * p->ohw + pix;
    for (int64_t r = 0; r < nrows; r++) {
      copy_floats(dst + r * jp + (j - j0), src + r * p->ohw, len);
    }
    j += len;
  }
  for (int64_t r = 0; r < nrows; r++) memset(dst + r * jp + jc, 0, (size_t)(jp - jc) * 4);
}

/* dst[0, n) = src[0, 2n - 1) at even positions: two loads and a permute per
 * 16 (masked, so that nothing past the last element is read). */
AVX512 static void gather_stride2(float* dst, const float* src, int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                         30);
  for (int64_t o = 0; o < n; o += 16) {
    const int64_t m = n - o < 16 ? n - o : 16, need = 2 * m - 1;
    const __mmask16 k0 = need >= 16 ? 0xffff : (__mmask16)((1u << need) - 1);
    const __mmask16 k1 = need > 16 ? (__mmask16)((1u << (need - 16)) - 1) : 0;
    const __m512 lo = _mm512_maskz_loadu_ps(k0, src + 2 * o);
    const __m512 hi = _mm512_maskz_loadu_ps(k1, src + 2 * o + 16);
    _mm512_mask_storeu_ps(dst + o, (__mmask16)((1u << m) - 1),
                          _mm512_permutex2var_ps(lo, even, hi));
  }
}

/* Columns [pix, pix + len) of one image's channel plane xc (strided
 * output pixels), raw, into dst. */
static void gather_pixels(const conv_shape* p, const float* xc, int64_t pix, int64_t len,
                          float* dst) {
  int64_t oy = pix / p->ow, ox = pix % p->ow;
  for (; len > 0; oy++, ox = 0) {
    const int64_t n = p->ow - ox < len ? p->ow - ox : len;
    const float* src = xc + oy * p->sh * p->w + ox * p->sw;
    if (p->sw == 1) {
      copy_floats(dst, src, n);
    } else if (p->sw == 2) {
      gather_stride2(dst, src, n);
    } else {
      for (int64_t i = 0; i < n; i++) dst[i] = src[i * p->sw];
    }
    dst += n, len -= n;
  }
}

/* Channels [c0, c0 + nrows) of x, output columns [j0, j0 + jc), as the
 * convolution reads them (relu?(T(x)), strided), into dst [nrows, jp]. */
void lits_pw_pack_x(const conv_shape* p, const float* x, const conv_xform* xf, int64_t c0,
                    int64_t nrows, int64_t j0, int64_t jc, int64_t jp, float* dst) {
  const int64_t hw = p->h * p->w, chw = p->c * hw;
  const int xact = conv_xform_active(xf), relu = xact && xf->relu;
  const int in_place = p->sh == 1 && p->sw == 1 && p->ow == p->w; /* pixels contiguous */
  for (int64_t r = 0; r < nrows; r++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, p->c, c0 + r);
    float* row = dst + r * jp;
    for (int64_t j = j0, img = j0 / p->ohw, pix = j0 % p->ohw; j < j0 + jc; img++, pix = 0) {
      const int64_t len = p->ohw - pix < j0 + jc - j ? p->ohw - pix : j0 + jc - j;
      const float* xc = x + img * chw + (c0 + r) * hw;
      if (in_place && !xact) {
        copy_floats(row + (j - j0), xc + pix, len);
      } else if (in_place) {
        fused_apply(row + (j - j0), xc + pix, len, t, relu);
      } else {
        gather_pixels(p, xc, pix, len, row + (j - j0));
        fused_apply(row + (j - j0), row + (j - j0), len, t, relu);
      }
      j += len;
    }
    for (int64_t j = jc; j < jp; j++) row[j] = 0.0f;
  }
}

/* The run's floats [pos, end), from its columns: pos line-aligned. */
static void pf_span(const conv_shape* p, prefetcher* f, int64_t from) {
  f->pos = f->rbase + from;
  f->end = f->pos + (f->strided ? (f->run - 1) * p->sw + 1 : f->run);
  f->pos -= ((uintptr_t)(f->base + f->pos) & 63) / sizeof(float);
}

/* The run at column j of row r (divisions: once a row). */
static void pf_run_at(const conv_shape* p, prefetcher* f) {
  const int64_t img = f->j / p->ohw, pix = f->j % p->ohw, left = f->jend - f->j;
  f->rbase = img * f->img_stride + (f->r0 + f->r) * f->plane;
  if (f->strided) {
    const int64_t ox = pix % p->ow;
    f->oy = pix / p->ow;
    f->run = p->ow - ox < left ? p->ow - ox : left;
    pf_span(p, f, f->oy * p->sh * p->w + ox * p->sw);
  } else {
    f->run = p->ohw - pix < left ? p->ohw - pix : left;
    pf_span(p, f, pix);
  }
}

/* The run after the current one in the same row: the next output row, or
 * the next image's first. */
static void pf_next_run(const conv_shape* p, prefetcher* f) {
  const int64_t left = f->jend - f->j;
  if (f->strided) {
    if (++f->oy == p->oh) f->oy = 0, f->rbase += f->img_stride;
    f->run = p->ow < left ? p->ow : left;
    pf_span(p, f, f->oy * p->sh * p->w);
  } else {
    f->rbase += f->img_stride;
    f->run = p->ohw < left ? p->ohw : left;
    pf_span(p, f, 0);
  }
}

static void pf_start(const conv_shape* p, prefetcher* f, const float* base, int64_t img_stride,
                     int64_t plane, int strided, int64_t r0, int64_t nrows, int64_t j0,
                     int64_t jend) {
  f->base = base, f->img_stride = img_stride, f->plane = plane, f->strided = strided;
  f->r0 = r0, f->nrows = nrows, f->j0 = j0, f->jend = jend, f->r = 0, f->j = j0;
  if (nrows > 0 && jend > j0) pf_run_at(p, f);
  else f->r = nrows;
}

/* Prefetches the next `lines` cache lines of the walk (none past its end). */
void lits_pw_prefetch_step(const conv_shape* p, prefetcher* f, int64_t lines) {
  for (; lines > 0 && f->r < f->nrows; lines--) {
    _mm_prefetch((const char*)(f->base + f->pos), _MM_HINT_T1);
    f->pos += 16;
    if (f->pos < f->end) continue;
    f->j += f->run;
    if (f->j < f->jend) {
      pf_next_run(p, f);
    } else {
      f->j = f->j0, f->r++;
      if (f->r < f->nrows) pf_run_at(p, f);
    }
  }
}

/* The walk over dy rows [r0, r0 + n) or x channels, columns [j0, jend). */
void lits_pw_prefetch_dy(const conv_shape* p, prefetcher* f, const float* dy, int64_t r0,
                         int64_t n, int64_t j0, int64_t jend) {
  pf_start(p, f, dy, p->k * p->ohw, p->ohw, 0, r0, n, j0, jend);
}
void lits_pw_prefetch_x(const conv_shape* p, prefetcher* f, const float* x, int64_t c0, int64_t n,
                        int64_t j0, int64_t jend) {
  const int strided = !(p->sh == 1 && p->sw == 1 && p->ow == p->w);
  pf_start(p, f, x, p->c * p->h * p->w, p->h * p->w, strided, c0, n, j0, jend);
}
