/* grid_sample.c: torch.nn.functional.grid_sample for 2-D inputs, bilinear
 * and nearest, as PyTorch 1.13's CPU kernel (GridSamplerKernel.cpp): the
 * same float32 position arithmetic (unnormalisation, border clip,
 * reflection) and the same interpolation sums, so values and gradients
 * agree to the last bits where the summation order does. Bicubic and the
 * CUDA backend go through the library's composed path (grid_sample.ts).
 *
 * Both directions work one output row at a time: with AVX-512, 16 output
 * pixels per step (their positions, corners and weights in vectors, the
 * input read by masked gathers); otherwise one pixel per step, the same
 * arithmetic. The forward threads over rows. The backward splits the rows
 * evenly between the threads: each adds the input gradient of its points
 * into the images it was the first to reach, in place, and into a spare
 * image for one that an earlier thread began, the spares added afterwards
 * in thread order, so the sums are the same from run to run (whole images
 * per thread where that balances as well, or where spares would take too
 * much memory). The grid's gradient is computed in the same pass, each
 * only where it is wanted.
 *
 * Memory safety: memory is read or written at a position only where its
 * range check passed (a masked lane reads nothing), and NaN fails every
 * comparison, so no grid value can address memory outside the input. */
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

enum { MODE_BILINEAR = 0, MODE_NEAREST = 1 };
enum { PAD_ZEROS = 0, PAD_BORDER = 1, PAD_REFLECTION = 2 };

/* One axis of `size` pixels: torch's ComputeLocation. */
typedef struct {
  float scale, max, low, twice_span;
  int size, align, padding, empty;
} axis_t;

static axis_t axis_of(int size, int align, int padding) {
  axis_t a;
  a.size = size;
  a.align = align;
  a.padding = padding;
  a.scale = (float)(align ? (size - 1) / 2.0 : size / 2.0);
  a.max = (float)(size - 1);
  a.low = align ? 0.0f : -0.5f;
  a.twice_span = (float)(align ? 2 * (size - 1) : 2 * size);
  a.empty = align ? size <= 1 : size <= 0;
  return a;
}

/* What every row of one call shares. */
typedef struct {
  axis_t ax, ay;
  int64_t c, plane, points, w_out; /* channels, h_in * w_in, h_out * w_out, w_out */
  int32_t h, w;                    /* h_in, w_in */
  int mode;
} job_t;

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

#ifndef __AVX512F__

/* [-1, 1] to pixel units, float32 as torch's. */
static inline float unnormalize(const axis_t* a, float g) {
  const float v = (g + 1.0f) * a->scale;
  return a->align ? v : v - 0.5f;
}

/* Clamped to [0, size - 1]; NaN gives 0 (torch's max(in, 0) with NaN first). */
static inline float clip(const axis_t* a, float v) {
  return v > 0.0f ? (v < a->max ? v : a->max) : 0.0f;
}

/* Reflected into [low, low + span]; *mult its derivative (+1, -1; 0 if empty). */
static inline float reflect(const axis_t* a, float v, float* mult) {
  if (a->empty) {
    *mult = 0.0f;
    return 0.0f;
  }
  const float shifted = v - a->low;
  const float ab = fabsf(shifted);
  const float flips = truncf(ab / a->twice_span);
  const float extra = ab - flips * a->twice_span;
  const float reflected = a->twice_span - extra;
  const int more = extra > reflected;
  *mult = (more != (shifted < 0.0f)) ? -1.0f : 1.0f;
  return (more ? reflected : extra) + a->low;
}

/* The position of grid value g on axis a, and (mult) its derivative. */
static inline float position(const axis_t* a, float g, float* mult) {
  const float u = unnormalize(a, g);
  if (a->padding == PAD_ZEROS) {
    *mult = a->scale;
    return u;
  }
  float m = 1.0f;
  const float r = a->padding == PAD_BORDER ? u : reflect(a, u, &m);
  const float p = clip(a, r);
  *mult = (r > 0.0f && r < a->max) ? m * a->scale : 0.0f;
  return p;
}

/* Bilinear corners of (x, y): flat offsets in an image (-1: outside) and weights. */
typedef struct {
  int64_t at[4];
  float w[4];
  float dw, de, dn, ds; /* distances to the west, east, north and south sides */
} corners_t;

static inline void corners(float x, float y, int64_t h, int64_t w, corners_t* k) {
  const float x0 = floorf(x), y0 = floorf(y);
  const float dw = x - x0, de = 1.0f - dw, dn = y - y0, ds = 1.0f - dn;
  k->dw = dw, k->de = de, k->dn = dn, k->ds = ds;
  k->w[0] = ds * de, k->w[1] = ds * dw, k->w[2] = dn * de, k->w[3] = dn * dw;
  const int west = x0 >= 0.0f && x0 < (float)w, east = x0 >= -1.0f && x0 < (float)(w - 1);
  const int north = y0 >= 0.0f && y0 < (float)h, south = y0 >= -1.0f && y0 < (float)(h - 1);
  const int64_t xi = (west || east) ? (int64_t)x0 : 0, yi = (north || south) ? (int64_t)y0 : 0;
  k->at[0] = north && west ? yi * w + xi : -1;
  k->at[1] = north && east ? yi * w + xi + 1 : -1;
  k->at[2] = south && west ? (yi + 1) * w + xi : -1;
  k->at[3] = south && east ? (yi + 1) * w + xi + 1 : -1;
}

/* The nearest pixel of (x, y) (half to even), or -1 outside. */
static inline int64_t nearest(float x, float y, int64_t h, int64_t w) {
  const float xr = nearbyintf(x), yr = nearbyintf(y);
  if (!(xr >= 0.0f && xr < (float)w && yr >= 0.0f && yr < (float)h)) return -1;
  return (int64_t)yr * w + (int64_t)xr;
}

/* One output row: grid the row's w_out (x, y) pairs, out its first pixel in channel 0. */
static void forward_row(const job_t* j, const float* in, const float* grid, float* out) {
  for (int64_t p = 0; p < j->w_out; p++) {
    float mx, my;
    const float x = position(&j->ax, grid[2 * p], &mx), y = position(&j->ay, grid[2 * p + 1], &my);
    float* o = out + p;
    if (j->mode == MODE_NEAREST) {
      const int64_t at = nearest(x, y, j->h, j->w);
      for (int64_t ch = 0; ch < j->c; ch++) {
        o[ch * j->points] = at >= 0 ? in[ch * j->plane + at] : 0.0f;
      }
      continue;
    }
    corners_t k;
    corners(x, y, j->h, j->w, &k);
    for (int64_t ch = 0; ch < j->c; ch++) {
      const float* v = in + ch * j->plane;
      const float nw = k.at[0] >= 0 ? v[k.at[0]] : 0.0f, ne = k.at[1] >= 0 ? v[k.at[1]] : 0.0f;
      const float sw = k.at[2] >= 0 ? v[k.at[2]] : 0.0f, se = k.at[3] >= 0 ? v[k.at[3]] : 0.0f;
      o[ch * j->points] = nw * k.w[0] + ne * k.w[1] + sw * k.w[2] + se * k.w[3];
    }
  }
}

/* One output row's gradients: dy as out above; din (NULL: not wanted) the
 * image's input gradient, added to; dgrid (NULL: not wanted) the row's
 * (x, y) pairs, written. */
static void backward_row(const job_t* j, const float* in, const float* grid, const float* dy,
                         float* din, float* dgrid) {
  for (int64_t p = 0; p < j->w_out; p++) {
    float mx, my;
    const float x = position(&j->ax, grid[2 * p], &mx), y = position(&j->ay, grid[2 * p + 1], &my);
    const float* g = dy + p;
    if (j->mode == MODE_NEAREST) {
      const int64_t at = nearest(x, y, j->h, j->w);
      if (din != NULL && at >= 0) {
        for (int64_t ch = 0; ch < j->c; ch++) din[ch * j->plane + at] += g[ch * j->points];
      }
      if (dgrid != NULL) dgrid[2 * p] = dgrid[2 * p + 1] = 0.0f; /* as torch's */
      continue;
    }
    corners_t k;
    corners(x, y, j->h, j->w, &k);
    float gx = 0.0f, gy = 0.0f;
    for (int64_t ch = 0; ch < j->c; ch++) {
      const float go = g[ch * j->points];
      if (din != NULL) {
        float* d = din + ch * j->plane;
        for (int t = 0; t < 4; t++) {
          if (k.at[t] >= 0) d[k.at[t]] += k.w[t] * go;
        }
      }
      if (dgrid != NULL) {
        const float* v = in + ch * j->plane;
        const float nw = k.at[0] >= 0 ? v[k.at[0]] : 0.0f, ne = k.at[1] >= 0 ? v[k.at[1]] : 0.0f;
        const float sw = k.at[2] >= 0 ? v[k.at[2]] : 0.0f, se = k.at[3] >= 0 ? v[k.at[3]] : 0.0f;
        gx = gx + ((ne - nw) * k.ds + (se - sw) * k.dn) * go;
        gy = gy + ((sw - nw) * k.de + (se - ne) * k.dw) * go;
      }
    }
    if (dgrid != NULL) {
      dgrid[2 * p] = gx * mx;
      dgrid[2 * p + 1] = gy * my;
    }
  }
}

#else /* __AVX512F__: the same arithmetic, 16 output pixels per step */

/* [-1, 1] to pixel units, float32 as torch's. */
static inline __m512 v_unnormalize(const axis_t* a, __m512 g) {
  const __m512 v = _mm512_mul_ps(_mm512_add_ps(g, _mm512_set1_ps(1.0f)), _mm512_set1_ps(a->scale));
  return a->align ? v : _mm512_sub_ps(v, _mm512_set1_ps(0.5f));
}

/* Reflected into [low, low + span]; *mult its derivative (+1, -1; 0 if empty). */
static inline __m512 v_reflect(const axis_t* a, __m512 v, __m512* mult) {
  if (a->empty) {
    *mult = _mm512_setzero_ps();
    return _mm512_setzero_ps();
  }
  const __m512 span = _mm512_set1_ps(a->twice_span), low = _mm512_set1_ps(a->low);
  const __m512 shifted = _mm512_sub_ps(v, low);
  const __m512 ab = _mm512_abs_ps(shifted);
  const __m512 flips =
      _mm512_roundscale_ps(_mm512_div_ps(ab, span), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 extra = _mm512_sub_ps(ab, _mm512_mul_ps(flips, span));
  const __m512 reflected = _mm512_sub_ps(span, extra);
  const __mmask16 more = _mm512_cmp_ps_mask(extra, reflected, _CMP_GT_OQ);
  const __mmask16 negative = _mm512_cmp_ps_mask(shifted, _mm512_setzero_ps(), _CMP_LT_OQ);
  *mult = _mm512_mask_blend_ps(more ^ negative, _mm512_set1_ps(1.0f), _mm512_set1_ps(-1.0f));
  return _mm512_add_ps(_mm512_mask_blend_ps(more, extra, reflected), low);
}

/* The positions of grid values g on axis a, and (mult) their derivatives;
 * border and reflection clamp to [0, size - 1], NaN to 0. */
static inline __m512 v_position(const axis_t* a, __m512 g, __m512* mult) {
  const __m512 u = v_unnormalize(a, g), scale = _mm512_set1_ps(a->scale);
  if (a->padding == PAD_ZEROS) {
    *mult = scale;
    return u;
  }
  __m512 m = _mm512_set1_ps(1.0f);
  const __m512 r = a->padding == PAD_BORDER ? u : v_reflect(a, u, &m);
  const __m512 max = _mm512_set1_ps(a->max);
  const __mmask16 below = _mm512_cmp_ps_mask(r, max, _CMP_LT_OQ);
  const __mmask16 above = _mm512_cmp_ps_mask(r, _mm512_setzero_ps(), _CMP_GT_OQ);
  *mult = _mm512_maskz_mov_ps(below & above, _mm512_mul_ps(m, scale));
  return _mm512_maskz_mov_ps(above, _mm512_mask_blend_ps(below, max, r));
}

/* Points j .. j + 15 (those before `end`) of a row of (x, y) pairs, split
 * into x and y; returns the lanes that hold a point (the others read
 * nothing and hold 0). */
static inline __mmask16 v_grid(const float* grid, int64_t j, int64_t end, __m512* x, __m512* y) {
  const int64_t r = end - j;
  __mmask16 live = 0xFFFF, lo = 0xFFFF, hi = 0xFFFF;
  if (r < 16) {
    live = (__mmask16)((1u << r) - 1);
    lo = r >= 8 ? 0xFFFF : (__mmask16)((1u << (2 * r)) - 1);
    hi = r > 8 ? (__mmask16)((1u << (2 * r - 16)) - 1) : 0;
  }
  const __m512 a = _mm512_maskz_loadu_ps(lo, grid + 2 * j);
  const __m512 b = _mm512_maskz_loadu_ps(hi, grid + 2 * j + 16);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  *x = _mm512_permutex2var_ps(a, even, b);
  *y = _mm512_permutex2var_ps(a, _mm512_add_epi32(even, _mm512_set1_epi32(1)), b);
  return live;
}

/* Bilinear corners of 16 positions: the north-west corner's flat offset
 * (at; the others at + 1, at + w, at + w + 1), which corners lie inside
 * the image (k[4], live lanes only), the weights and the distances. */
typedef struct {
  __m512i at;
  __mmask16 k[4];
  __m512 w[4];
  __m512 dw, de, dn, ds; /* distances to the west, east, north and south sides */
} vcorners_t;

static inline void v_corners(__m512 x, __m512 y, int32_t h, int32_t w, __mmask16 live,
                             vcorners_t* k) {
  const __m512 x0 = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 y0 = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m512 one = _mm512_set1_ps(1.0f);
  k->dw = _mm512_sub_ps(x, x0), k->de = _mm512_sub_ps(one, k->dw);
  k->dn = _mm512_sub_ps(y, y0), k->ds = _mm512_sub_ps(one, k->dn);
  k->w[0] = _mm512_mul_ps(k->ds, k->de), k->w[1] = _mm512_mul_ps(k->ds, k->dw);
  k->w[2] = _mm512_mul_ps(k->dn, k->de), k->w[3] = _mm512_mul_ps(k->dn, k->dw);
  /* NaN and values beyond int32 convert to INT32_MIN: outside, as their float comparisons. */
  const __m512i xi = _mm512_cvttps_epi32(x0), yi = _mm512_cvttps_epi32(y0);
  const __m512i ones = _mm512_set1_epi32(1), wv = _mm512_set1_epi32(w), hv = _mm512_set1_epi32(h);
  const __mmask16 west = _mm512_mask_cmplt_epu32_mask(live, xi, wv);
  const __mmask16 east = _mm512_mask_cmplt_epu32_mask(live, _mm512_add_epi32(xi, ones), wv);
  const __mmask16 north = _mm512_cmplt_epu32_mask(yi, hv);
  const __mmask16 south = _mm512_cmplt_epu32_mask(_mm512_add_epi32(yi, ones), hv);
  k->k[0] = north & west, k->k[1] = north & east, k->k[2] = south & west, k->k[3] = south & east;
  k->at = _mm512_add_epi32(_mm512_mullo_epi32(yi, wv), xi);
}

/* The nearest pixels of 16 positions (half to even): flat offsets, and the lanes inside. */
static inline __mmask16 v_nearest(__m512 x, __m512 y, int32_t h, int32_t w, __mmask16 live,
                                  __m512i* at) {
  const __m512i xi = _mm512_cvttps_epi32(
      _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  const __m512i yi = _mm512_cvttps_epi32(
      _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  const __m512i wv = _mm512_set1_epi32(w);
  *at = _mm512_add_epi32(_mm512_mullo_epi32(yi, wv), xi);
  return _mm512_mask_cmplt_epu32_mask(live, xi, wv) &
         _mm512_cmplt_epu32_mask(yi, _mm512_set1_epi32(h));
}

/* The 4 corners' values in one channel v (0 outside). Where every corner
 * of all 16 lanes is inside (`inside`), as 8-byte pairs (nw ne, sw se):
 * half the gathered elements of 4 float gathers (measured 30% faster at 3
 * channels). */
static inline void v_values(const float* v, int32_t w, const vcorners_t* k, int inside,
                            __m512 out[4]) {
  if (!inside) {
    const __m512 zero = _mm512_setzero_ps();
    out[0] = _mm512_mask_i32gather_ps(zero, k->k[0], k->at, v, 4);
    out[1] = _mm512_mask_i32gather_ps(zero, k->k[1], k->at, v + 1, 4);
    out[2] = _mm512_mask_i32gather_ps(zero, k->k[2], k->at, v + w, 4);
    out[3] = _mm512_mask_i32gather_ps(zero, k->k[3], k->at, v + w + 1, 4);
    return;
  }
  const __m256i lo = _mm512_castsi512_si256(k->at), hi = _mm512_extracti64x4_epi64(k->at, 1);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512 n0 = _mm512_castpd_ps(_mm512_i32gather_pd(lo, v, 4));
  const __m512 n1 = _mm512_castpd_ps(_mm512_i32gather_pd(hi, v, 4));
  const __m512 s0 = _mm512_castpd_ps(_mm512_i32gather_pd(lo, v + w, 4));
  const __m512 s1 = _mm512_castpd_ps(_mm512_i32gather_pd(hi, v + w, 4));
  out[0] = _mm512_permutex2var_ps(n0, even, n1);
  out[1] = _mm512_permutex2var_ps(n0, odd, n1);
  out[2] = _mm512_permutex2var_ps(s0, even, s1);
  out[3] = _mm512_permutex2var_ps(s0, odd, s1);
}

/* One output row: grid the row's w_out (x, y) pairs, out its first pixel in channel 0. */
static void forward_row(const job_t* j, const float* in, const float* grid, float* out) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t p = 0; p < j->w_out; p += 16) {
    __m512 gx, gy, mx, my;
    const __mmask16 live = v_grid(grid, p, j->w_out, &gx, &gy);
    const __m512 x = v_position(&j->ax, gx, &mx), y = v_position(&j->ay, gy, &my);
    if (j->mode == MODE_NEAREST) {
      __m512i at;
      const __mmask16 k = v_nearest(x, y, j->h, j->w, live, &at);
      for (int64_t ch = 0; ch < j->c; ch++) {
        const __m512 v = _mm512_mask_i32gather_ps(zero, k, at, in + ch * j->plane, 4);
        _mm512_mask_storeu_ps(out + ch * j->points + p, live, v);
      }
      continue;
    }
    vcorners_t k;
    v_corners(x, y, j->h, j->w, live, &k);
    const int inside = (k.k[0] & k.k[1] & k.k[2] & k.k[3]) == 0xFFFF;
    for (int64_t ch = 0; ch < j->c; ch++) {
      __m512 v[4];
      v_values(in + ch * j->plane, j->w, &k, inside, v);
      /* nw * w_nw + ne * w_ne + sw * w_sw + se * w_se, left to right, as torch. */
      __m512 o = _mm512_mul_ps(v[0], k.w[0]);
      o = _mm512_add_ps(o, _mm512_mul_ps(v[1], k.w[1]));
      o = _mm512_add_ps(o, _mm512_mul_ps(v[2], k.w[2]));
      o = _mm512_add_ps(o, _mm512_mul_ps(v[3], k.w[3]));
      _mm512_mask_storeu_ps(out + ch * j->points + p, live, o);
    }
  }
}

/* d[at + offset[t]] += a[t] for the corners t inside, pixel by pixel in
 * order (nw, ne, sw, se each): lanes can share a pixel, so no vector
 * scatter. */
static inline void scatter_corners(float* d, int64_t w, const vcorners_t* k, int inside,
                                   __m512 go) {
  float a[4][16] __attribute__((aligned(64)));
  int32_t at[16] __attribute__((aligned(64)));
  for (int t = 0; t < 4; t++) _mm512_store_ps(a[t], _mm512_mul_ps(k->w[t], go));
  _mm512_store_si512((void*)at, k->at);
  const unsigned k0 = k->k[0], k1 = k->k[1], k2 = k->k[2], k3 = k->k[3];
  if (inside) { /* every corner of every lane */
    for (int l = 0; l < 16; l++) {
      const int64_t o = at[l];
      d[o] += a[0][l];
      d[o + 1] += a[1][l];
      d[o + w] += a[2][l];
      d[o + w + 1] += a[3][l];
    }
    return;
  }
  for (unsigned any = k0 | k1 | k2 | k3; any != 0; any &= any - 1) {
    const int l = __builtin_ctz(any);
    const int64_t o = at[l];
    if (k0 >> l & 1) d[o] += a[0][l];
    if (k1 >> l & 1) d[o + 1] += a[1][l];
    if (k2 >> l & 1) d[o + w] += a[2][l];
    if (k3 >> l & 1) d[o + w + 1] += a[3][l];
  }
}

/* One output row's gradients: dy as out above; din (NULL: not wanted) the
 * image's input gradient, added to; dgrid (NULL: not wanted) the row's
 * (x, y) pairs, written. */
static void backward_row(const job_t* j, const float* in, const float* grid, const float* dy,
                         float* din, float* dgrid) {
  if (j->mode == MODE_NEAREST) {
    if (dgrid != NULL) memset(dgrid, 0, sizeof(float) * 2 * (size_t)j->w_out); /* as torch's */
    if (din == NULL) return;
  }
  const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  for (int64_t p = 0; p < j->w_out; p += 16) {
    __m512 gx, gy, mx, my;
    const __mmask16 live = v_grid(grid, p, j->w_out, &gx, &gy);
    const __m512 x = v_position(&j->ax, gx, &mx), y = v_position(&j->ay, gy, &my);
    if (j->mode == MODE_NEAREST) {
      __m512i vat;
      const unsigned k = v_nearest(x, y, j->h, j->w, live, &vat);
      int32_t at[16] __attribute__((aligned(64)));
      float g[16] __attribute__((aligned(64)));
      _mm512_store_si512((void*)at, vat);
      for (int64_t ch = 0; ch < j->c; ch++) {
        float* d = din + ch * j->plane;
        _mm512_store_ps(g, _mm512_maskz_loadu_ps(live, dy + ch * j->points + p));
        for (unsigned any = k; any != 0; any &= any - 1) {
          const int l = __builtin_ctz(any);
          d[at[l]] += g[l];
        }
      }
      continue;
    }
    vcorners_t k;
    v_corners(x, y, j->h, j->w, live, &k);
    const int inside = (k.k[0] & k.k[1] & k.k[2] & k.k[3]) == 0xFFFF;
    __m512 sx = _mm512_setzero_ps(), sy = _mm512_setzero_ps();
    for (int64_t ch = 0; ch < j->c; ch++) {
      const __m512 go = _mm512_maskz_loadu_ps(live, dy + ch * j->points + p);
      if (din != NULL) scatter_corners(din + ch * j->plane, j->w, &k, inside, go);
      if (dgrid != NULL) {
        __m512 v[4];
        v_values(in + ch * j->plane, j->w, &k, inside, v);
        /* gx += ((ne - nw) s + (se - sw) n) go; gy += ((sw - nw) e + (se - ne) w) go. */
        const __m512 ex = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v[1], v[0]), k.ds),
                                        _mm512_mul_ps(_mm512_sub_ps(v[3], v[2]), k.dn));
        const __m512 ey = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(v[2], v[0]), k.de),
                                        _mm512_mul_ps(_mm512_sub_ps(v[3], v[1]), k.dw));
        sx = _mm512_add_ps(sx, _mm512_mul_ps(ex, go));
        sy = _mm512_add_ps(sy, _mm512_mul_ps(ey, go));
      }
    }
    if (dgrid != NULL) {
      const __m512 dx = _mm512_mul_ps(sx, mx), dyv = _mm512_mul_ps(sy, my);
      const int64_t r = j->w_out - p;
      const __mmask16 klo = r >= 8 ? 0xFFFF : (__mmask16)((1u << (2 * r)) - 1);
      const __mmask16 khi = r >= 16 ? 0xFFFF : r > 8 ? (__mmask16)((1u << (2 * r - 16)) - 1) : 0;
      _mm512_mask_storeu_ps(dgrid + 2 * p, klo, _mm512_permutex2var_ps(dx, lo, dyv));
      _mm512_mask_storeu_ps(dgrid + 2 * p + 16, khi, _mm512_permutex2var_ps(dx, hi, dyv));
    }
  }
}

#endif /* __AVX512F__ */

#pragma GCC pop_options

static int check_grid_sample(const char* fn, const void* input, const void* grid,
                             const void* out, int32_t n, int32_t c, int32_t h_in, int32_t w_in,
                             int32_t h_out, int32_t w_out, int32_t mode, int32_t padding) {
  LITS_REQUIRE(n >= 0 && c >= 0 && h_in >= 0 && w_in >= 0 && h_out >= 0 && w_out >= 0,
               "%s: sizes must be >= 0", fn);
  LITS_REQUIRE(mode == MODE_BILINEAR || mode == MODE_NEAREST, "%s: unknown mode %d", fn,
               (int)mode);
  LITS_REQUIRE(padding >= PAD_ZEROS && padding <= PAD_REFLECTION, "%s: unknown padding %d", fn,
               (int)padding);
  if ((int64_t)n * c * h_out * w_out == 0) return LITS_EMPTY;
  LITS_REQUIRE(h_in > 0 && w_in > 0, "%s: the input has no pixels", fn);
  /* The vector path's offsets in a plane are int32 (the south-east corner's included). */
  LITS_REQUIRE((int64_t)(h_in + 1) * w_in < ((int64_t)1 << 31),
               "%s: an input plane of %d x %d pixels is over 2^31", fn, (int)h_in, (int)w_in);
  LITS_REQUIRE(input != NULL && grid != NULL && out != NULL, "%s: a buffer is NULL", fn);
  return LITS_OK;
}

static job_t job_of(int32_t c, int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out,
                    int32_t mode, int32_t padding, int32_t align_corners) {
  job_t j;
  j.ax = axis_of(w_in, align_corners != 0, padding);
  j.ay = axis_of(h_in, align_corners != 0, padding);
  j.c = c, j.plane = (int64_t)h_in * w_in, j.points = (int64_t)h_out * w_out, j.w_out = w_out;
  j.h = h_in, j.w = w_in, j.mode = mode;
  return j;
}

/* Below this many output values (N * C * H_out * W_out) a call runs on one thread. */
#define PARALLEL_MIN 16384
/* Rows r0 .. r1 - 1 of image b's gradients (din: its input gradient, or
 * NULL), row by row. (Tiles of the output, 8 x 64 or 16 x 64 pixels, so
 * that a turned grid reads fewer input lines at a time, measured slower
 * than whole rows at [16, 3, 256, 256], forward and backward.) */
static void backward_rows(const job_t* j, const float* input, const float* grid, const float* dy,
                          float* din, float* dgrid, int64_t b, int64_t r0, int64_t r1) {
  const float* in = input + b * j->c * j->plane;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t at = b * j->points + r * j->w_out; /* the row's first point */
    backward_row(j, in, grid + 2 * at, dy + b * j->c * j->points + r * j->w_out, din,
                 dgrid != NULL ? dgrid + 2 * at : NULL);
  }
}

int lits_grid_sample2d_f32(const float* input, const float* grid, float* out, int32_t n, int32_t c,
                           int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out, int32_t mode,
                           int32_t padding, int32_t align_corners) {
  lits_clear_error();
  LITS_CHECKED(check_grid_sample("lits_grid_sample2d_f32", input, grid, out, n, c, h_in, w_in,
                                 h_out, w_out, mode, padding));
  const job_t j = job_of(c, h_in, w_in, h_out, w_out, mode, padding, align_corners);
  const int par = (int64_t)n * h_out * w_out * c >= PARALLEL_MIN;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t row = 0; row < (int64_t)n * h_out; row++) {
    const int64_t b = row / h_out, first = (row % h_out) * w_out;
    forward_row(&j, input + b * c * j.plane, grid + 2 * (b * j.points + first),
                out + b * c * j.points + first);
  }
  return LITS_OK;
}

/* The spare images of a row split may take this much memory, or as much as dinput. */
#define SPARE_MAX ((int64_t)64 << 20)

int lits_grid_sample2d_backward_f32(const float* dy, const float* input, const float* grid,
                                    float* dinput, float* dgrid, int32_t n, int32_t c,
                                    int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out,
                                    int32_t mode, int32_t padding, int32_t align_corners) {
  lits_clear_error();
  const char* fn = "lits_grid_sample2d_backward_f32";
  const int status = check_grid_sample(fn, input, grid, dy, n, c, h_in, w_in, h_out, w_out, mode,
                                       padding);
  if (status == LITS_EMPTY) {
    const int64_t plane = (int64_t)h_in * w_in, points = (int64_t)h_out * w_out;
    if (dinput != NULL) memset(dinput, 0, sizeof(float) * (size_t)((int64_t)n * c * plane));
    if (dgrid != NULL) memset(dgrid, 0, sizeof(float) * (size_t)((int64_t)n * points * 2));
    return LITS_OK;
  }
  if (status != LITS_OK) return status;
  if (dinput == NULL && dgrid == NULL) return LITS_OK;
  const job_t j = job_of(c, h_in, w_in, h_out, w_out, mode, padding, align_corners);
  const int64_t rows = (int64_t)n * h_out, image = (int64_t)c * j.plane;
  int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (rows * w_out * c < PARALLEL_MIN) threads = 1;
  if (threads > rows) threads = rows;
  /* Rows split evenly (units of one row), or whole images (units of h_out rows). */
  int by_rows = dinput == NULL || n % threads != 0;
  float* spare = NULL;
  if (dinput != NULL && by_rows && threads > 1) {
    const int64_t bytes = (threads - 1) * image * (int64_t)sizeof(float);
    if (bytes > SPARE_MAX && bytes > n * image * (int64_t)sizeof(float)) {
      by_rows = 0;
    } else {
      spare = lits_scratch_alloc(bytes);
      if (spare == NULL) return LITS_ERR_MEMORY; /* lits_scratch_alloc recorded the error */
    }
  }
  const int64_t unit = by_rows ? 1 : h_out, units = by_rows ? rows : n;
#pragma omp parallel num_threads((int)threads) if (threads > 1)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t r1 = unit * (units * (t + 1) / nt);
    for (int64_t r = unit * (units * t / nt); r < r1;) {
      const int64_t b = r / h_out, end = (b + 1) * h_out < r1 ? (b + 1) * h_out : r1;
      float* din = NULL;
      if (dinput != NULL) {
        /* An image an earlier thread began goes to this thread's spare. */
        din = r % h_out != 0 ? spare + (t - 1) * image : dinput + b * image;
        memset(din, 0, sizeof(float) * (size_t)image);
      }
      backward_rows(&j, input, grid, dy, din, dgrid, b, r % h_out, (end - 1) % h_out + 1);
      r = end;
    }
    if (spare != NULL) {
#pragma omp barrier
      /* Each thread adds one slice of every spare, spares in thread order. */
      const int64_t e0 = image * t / nt, e1 = image * (t + 1) / nt;
      for (int64_t u = 1; u < nt; u++) {
        const int64_t s0 = units * u / nt, s1 = units * (u + 1) / nt;
        if (s0 % h_out == 0 || s1 <= s0) continue;
        float* to = dinput + (s0 / h_out) * image;
        const float* from = spare + (u - 1) * image;
        for (int64_t e = e0; e < e1; e++) to[e] += from[e];
      }
    }
  }
  if (spare != NULL) lits_scratch_free(spare);
  return LITS_OK;
}
