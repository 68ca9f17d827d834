/* grid_sample.c: torch.nn.functional.grid_sample for 2-D inputs, bilinear
 * and nearest, as PyTorch 1.13's CPU kernel (GridSamplerKernel.cpp): the
 * same float32 position arithmetic (unnormalisation, border clip,
 * reflection) and the same interpolation sums, so values and gradients
 * agree to the last bits where the summation order does. Bicubic and the
 * CUDA backend go through the library's composed path (grid_sample.ts).
 *
 * Memory safety: a position becomes an index only after its range check,
 * and NaN fails every comparison, so no grid value can address memory
 * outside the input. */
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "common.h"

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

#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

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
  LITS_REQUIRE(input != NULL && grid != NULL && out != NULL, "%s: a buffer is NULL", fn);
  return LITS_OK;
}

int lits_grid_sample2d_f32(const float* input, const float* grid, float* out, int32_t n, int32_t c,
                           int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out, int32_t mode,
                           int32_t padding, int32_t align_corners) {
  lits_clear_error();
  LITS_CHECKED(check_grid_sample("lits_grid_sample2d_f32", input, grid, out, n, c, h_in, w_in,
                                 h_out, w_out, mode, padding));
  const axis_t ax = axis_of(w_in, align_corners != 0, padding);
  const axis_t ay = axis_of(h_in, align_corners != 0, padding);
  const int64_t plane = (int64_t)h_in * w_in, points = (int64_t)h_out * w_out;
  /* One output row per iteration: the image index is one division per row, not per point. */
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < (int64_t)n * h_out; row++) {
    const int64_t b = row / h_out;
    const float* in = input + b * c * plane;
    for (int64_t p = (row % h_out) * w_out, end = p + w_out; p < end; p++) {
      const int64_t bp = b * points + p;
      float mx, my;
      const float x = position(&ax, grid[2 * bp], &mx), y = position(&ay, grid[2 * bp + 1], &my);
      float* o = out + b * c * points + p;
      if (mode == MODE_NEAREST) {
        const int64_t at = nearest(x, y, h_in, w_in);
        for (int64_t ch = 0; ch < c; ch++) o[ch * points] = at >= 0 ? in[ch * plane + at] : 0.0f;
        continue;
      }
      corners_t k;
      corners(x, y, h_in, w_in, &k);
      for (int64_t ch = 0; ch < c; ch++) {
        const float* v = in + ch * plane;
        const float nw = k.at[0] >= 0 ? v[k.at[0]] : 0.0f, ne = k.at[1] >= 0 ? v[k.at[1]] : 0.0f;
        const float sw = k.at[2] >= 0 ? v[k.at[2]] : 0.0f, se = k.at[3] >= 0 ? v[k.at[3]] : 0.0f;
        o[ch * points] = nw * k.w[0] + ne * k.w[1] + sw * k.w[2] + se * k.w[3];
      }
    }
  }
  return LITS_OK;
}

int lits_grid_sample2d_backward_f32(const float* dy, const float* input, const float* grid,
                                    float* dinput, float* dgrid, int32_t n, int32_t c,
                                    int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out,
                                    int32_t mode, int32_t padding, int32_t align_corners) {
  lits_clear_error();
  const char* fn = "lits_grid_sample2d_backward_f32";
  LITS_REQUIRE(n >= 0 && c >= 0 && h_in >= 0 && w_in >= 0 && h_out >= 0 && w_out >= 0,
               "%s: sizes must be >= 0", fn);
  const int64_t plane = (int64_t)h_in * w_in, points = (int64_t)h_out * w_out;
  if (dinput != NULL) memset(dinput, 0, sizeof(float) * (size_t)((int64_t)n * c * plane));
  if (dgrid != NULL) memset(dgrid, 0, sizeof(float) * (size_t)((int64_t)n * points * 2));
  LITS_CHECKED(check_grid_sample(fn, input, grid, dy, n, c, h_in, w_in, h_out, w_out, mode,
                                 padding));
  const axis_t ax = axis_of(w_in, align_corners != 0, padding);
  const axis_t ay = axis_of(h_in, align_corners != 0, padding);
  /* One image per thread: its input gradient is added to by its own points only. */
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < n; b++) {
    const float* in = input + b * c * plane;
    float* din = dinput != NULL ? dinput + b * c * plane : NULL;
    for (int64_t p = 0; p < points; p++) {
      const int64_t bp = b * points + p;
      float mx, my;
      const float x = position(&ax, grid[2 * bp], &mx);
      const float y = position(&ay, grid[2 * bp + 1], &my);
      const float* g = dy + b * c * points + p;
      if (mode == MODE_NEAREST) {
        const int64_t at = nearest(x, y, h_in, w_in);
        if (din != NULL && at >= 0) {
          for (int64_t ch = 0; ch < c; ch++) din[ch * plane + at] += g[ch * points];
        }
        continue; /* the grid's gradient stays 0, as torch's */
      }
      corners_t k;
      corners(x, y, h_in, w_in, &k);
      float gx = 0.0f, gy = 0.0f;
      for (int64_t ch = 0; ch < c; ch++) {
        const float go = g[ch * points];
        if (din != NULL) {
          float* d = din + ch * plane;
          for (int t = 0; t < 4; t++) {
            if (k.at[t] >= 0) d[k.at[t]] += k.w[t] * go;
          }
        }
        if (dgrid != NULL) {
          const float* v = in + ch * plane;
          const float nw = k.at[0] >= 0 ? v[k.at[0]] : 0.0f, ne = k.at[1] >= 0 ? v[k.at[1]] : 0.0f;
          const float sw = k.at[2] >= 0 ? v[k.at[2]] : 0.0f, se = k.at[3] >= 0 ? v[k.at[3]] : 0.0f;
          gx = gx + ((ne - nw) * k.ds + (se - sw) * k.dn) * go;
          gy = gy + ((sw - nw) * k.de + (se - ne) * k.dw) * go;
        }
      }
      if (dgrid != NULL) {
        dgrid[2 * bp] = gx * mx;
        dgrid[2 * bp + 1] = gy * my;
      }
    }
  }
  return LITS_OK;
}

#pragma GCC pop_options
