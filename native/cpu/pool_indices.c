/* pool_indices.c: max pooling with torch's indices over [planes, D, H, W]
 * (1-D and 2-D pools are D = H = 1 with kernel 1), its gradient, and max
 * unpooling (the scatter of values at such indices) with its gradient.
 *
 * The rule is the one of src/tensor/ops/pool_indices.ts (the composed path
 * on other devices), torch's CPU kernels': a window's taps inside the input
 * are scanned in (depth, row, column) order, and a tap wins when it is
 * above the best so far or is NaN, so the first maximum wins, or the last
 * NaN. Taps in the padding are never read. A window with no tap inside
 * (dilation stepping over the input) is -inf at torch's index (its first
 * tap at or after 0 per dimension) and sends no gradient anywhere.
 *
 * AVX-512 takes 16 outputs of a row at once where their column taps all
 * lie inside and the stride is at most 4 (a load, or up to four loads and
 * permutes; vgatherdps lost to the scalar loop on Zen 4, see
 * resample_internal.h). LITS_POOL_INDICES=portable forces the plain C.
 */
#include <immintrin.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define AVX512 __attribute__((target("avx512f")))

/* Outputs times taps below which one thread runs (as resample.c). */
#define POOL_PAR_THRESHOLD 32768

static int use_avx512(void) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* env = getenv("LITS_POOL_INDICES");
  if (env != NULL && strcmp(env, "portable") == 0) return 0;
  return avx512;
}

/* One dimension's windows: output o reads the count[o] taps first[o],
 * first[o] + step, ... (all inside the input). first[o] is the window's
 * first tap at or after 0 even where count[o] is 0: torch's index of a
 * window with no tap inside. */
typedef struct {
  int32_t *first, *count;
  int32_t step;
  int32_t regular; /* kernel/stride windows (not adaptive bins) */
} pool_axis;

/* The windows of dimension d, in `mem` (2 * out int32). */
static void plan_axis(const lits_pool_nd_params* p, int d, int32_t* mem, pool_axis* a) {
  const int64_t size = p->size[d], out = p->out[d];
  a->first = mem;
  a->count = mem + out;
  a->regular = !p->adaptive[d];
  a->step = p->adaptive[d] ? 1 : p->dilation[d];
  for (int64_t o = 0; o < out; o++) {
    int64_t first, count;
    if (p->adaptive[d]) {
      /* torch's bins: floor(o size / out) up to ceil((o + 1) size / out). */
      first = o * size / out;
      count = ((o + 1) * size + out - 1) / out - first;
    } else {
      const int64_t k = p->kernel[d], dil = p->dilation[d];
      const int64_t start = o * p->stride[d] - p->padding[d];
      const int64_t j0 = start < 0 ? (-start + dil - 1) / dil : 0; /* first tap >= 0 */
      const int64_t j1 = start <= size - 1 ? (size - 1 - start) / dil : -1; /* last < size */
      first = start + j0 * dil;
      count = (j1 < k - 1 ? j1 : k - 1) - j0 + 1;
    }
    a->first[o] = (int32_t)first;
    a->count[o] = count > 0 ? (int32_t)count : 0;
  }
}

/* Checks the parameters and plans the three axes in one allocation (*mem, freed by the caller). */
static int plan(const char* fn, const lits_pool_nd_params* p, int64_t planes, pool_axis ax[3],
                int32_t** mem) {
  LITS_REQUIRE(planes >= 0, "%s: planes must be >= 0, got %lld", fn, (long long)planes);
  int64_t total = 0;
  for (int d = 0; d < 3; d++) {
    LITS_REQUIRE(p->size[d] >= 1 && p->out[d] >= 0,
                 "%s: dimension %d: size %d and output %d must be >= 1 and >= 0", fn, d,
                 (int)p->size[d], (int)p->out[d]);
    if (!p->adaptive[d]) {
      LITS_REQUIRE(p->kernel[d] >= 1 && p->stride[d] >= 1 && p->dilation[d] >= 1 &&
                       p->padding[d] >= 0,
                   "%s: dimension %d: kernel %d, stride %d, dilation %d must be >= 1 and "
                   "padding %d >= 0",
                   fn, d, (int)p->kernel[d], (int)p->stride[d], (int)p->dilation[d],
                   (int)p->padding[d]);
    }
    total += p->out[d];
  }
  const int64_t plane = (int64_t)p->size[0] * p->size[1] * p->size[2];
  LITS_REQUIRE(plane <= INT32_MAX, "%s: a plane of %lld elements does not fit int32 indices",
               fn, (long long)plane);
  *mem = malloc((size_t)(2 * total + 2) * sizeof(int32_t));
  if (*mem == NULL) return lits_fail(LITS_ERR_MEMORY, "%s: no memory for the windows", fn);
  int32_t* at = *mem;
  for (int d = 0; d < 3; d++) {
    plan_axis(p, d, at, &ax[d]);
    at += 2 * p->out[d];
  }
  /* An empty window's torch index may lie past the input; it must still fit int32. */
  int64_t far = 0;
  for (int d = 0; d < 3; d++) {
    int32_t most = 0;
    for (int32_t o = 0; o < p->out[d]; o++) {
      most = ax[d].first[o] > most ? ax[d].first[o] : most;
    }
    far = far * p->size[d] + most;
  }
  if (far > INT32_MAX) {
    free(*mem);
    *mem = NULL;
    return lits_fail(LITS_ERR_ARGUMENT,
                     "%s: torch's index %lld of an empty window does not fit int32", fn,
                     (long long)far);
  }
  return LITS_OK;
}

/* ---- forward ------------------------------------------------------------ */

/* Outputs [w0, w1) of one output row: the depth taps (zd, nd) and row taps
 * (zh, nh) are given; columns from the w axis. Scalar: any window. */
static void row_portable(const float* xp, const lits_pool_nd_params* p, const pool_axis* aw,
                         int32_t zd, int32_t nd, int32_t sd, int32_t zh, int32_t nh, int32_t sh,
                         float* y, int32_t* idx, int32_t w0, int32_t w1) {
  const int64_t W = p->size[2], HW = (int64_t)p->size[1] * W;
  for (int32_t ow = w0; ow < w1; ow++) {
    const int32_t zw = aw->first[ow], nw = aw->count[ow], sw = aw->step;
    float best = -INFINITY;
    int64_t at = zd * HW + zh * W + zw; /* every tap -inf: the first */
    for (int32_t a = 0; a < nd; a++) {
      for (int32_t b = 0; b < nh; b++) {
        const int64_t row = (zd + (int64_t)a * sd) * HW + (zh + (int64_t)b * sh) * W;
        for (int32_t c = 0; c < nw; c++) {
          const int64_t q = row + zw + (int64_t)c * sw;
          const float v = xp[q];
          /* Branch-free: random data makes the winner unpredictable. */
          const int take = (v > best) | (v != v);
          best = take ? v : best;
          at = take ? q : at;
        }
      }
    }
    y[ow] = best;
    idx[ow] = (int32_t)at;
  }
}

/* row_portable's outputs [w0, w1) where every column tap lies inside
 * (regular w axis, any stride): the taps in the outer loops and the outputs
 * innermost, y and idx as the running best, so that the compiler can
 * vectorise it (each output still sees its taps in scan order). */
static void row_interior_portable(const float* xp, const lits_pool_nd_params* p,
                                  const pool_axis* aw, int32_t zd, int32_t nd, int32_t sd,
                                  int32_t zh, int32_t nh, int32_t sh, float* restrict y,
                                  int32_t* restrict idx, int32_t w0, int32_t w1) {
  const int64_t W = p->size[2], HW = (int64_t)p->size[1] * W;
  const int32_t s = p->stride[2], k = p->kernel[2], dil = p->dilation[2];
  const int64_t col0 = aw->first[w0]; /* output w0's first tap; w0 + i's is col0 + i s */
  for (int32_t ow = w0; ow < w1; ow++) {
    y[ow] = -INFINITY;
    idx[ow] = (int32_t)(zd * HW + zh * W + col0 + (int64_t)(ow - w0) * s);
  }
  for (int32_t a = 0; a < nd; a++) {
    for (int32_t b = 0; b < nh; b++) {
      const int64_t row = (zd + (int64_t)a * sd) * HW + (zh + (int64_t)b * sh) * W;
      for (int32_t c = 0; c < k; c++) {
        const int64_t off = row + col0 + (int64_t)c * dil; /* output w0's tap c */
        const float* t = xp + off; /* output w0's tap; never a pointer before xp */
        for (int32_t ow = w0; ow < w1; ow++) {
          const float v = t[(int64_t)(ow - w0) * s];
          const int take = (v > y[ow]) | (v != v);
          y[ow] = take ? v : y[ow];
          idx[ow] = take ? (int32_t)(off + (int64_t)(ow - w0) * s) : idx[ow];
        }
      }
    }
  }
}

/* The first `count` lanes (none when count <= 0). */
static inline __mmask16 lanes(int64_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

/* Outputs ow0 + lane's values at tap offset `off` of the row, stride s (1
 * to 4), for the first n lanes: a load, or (s > 1) the up to 64 floats the
 * taps span and a pick of every s-th with permutes. Masked loads read no
 * float past the last output's tap (the row may end there). */
AVX512 static inline __m512 load_taps(const float* row, int64_t off, int32_t s, int32_t n) {
  if (s == 1) return _mm512_maskz_loadu_ps(lanes(n), row + off);
  const int32_t used = s * (n - 1) + 1; /* floats from off to the last output's tap */
  const __m512i rel = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(s));
  /* Bits 0-4 of rel pick one of 32 floats from a pair of vectors, bit 5 the pair. */
  const __m512 low =
      _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lanes(used), row + off), rel,
                             _mm512_maskz_loadu_ps(lanes(used - 16), row + off + 16));
  if (used <= 32) return low;
  const __m512 high = _mm512_permutex2var_ps(
      _mm512_maskz_loadu_ps(lanes(used - 32), row + off + 32), rel,
      _mm512_maskz_loadu_ps(lanes(used - 48), row + off + 48));
  return _mm512_mask_blend_ps(_mm512_test_epi32_mask(rel, _mm512_set1_epi32(32)), low, high);
}

/* row_portable's outputs [w0, w1), every column tap inside, regular w axis
 * with stride 1 to 4: 16 outputs per vector, the same scan per lane. */
AVX512 static void row_avx512(const float* xp, const lits_pool_nd_params* p,
                              const pool_axis* aw, int32_t zd, int32_t nd, int32_t sd,
                              int32_t zh, int32_t nh, int32_t sh, float* y, int32_t* idx,
                              int32_t w0, int32_t w1) {
  const int64_t W = p->size[2], HW = (int64_t)p->size[1] * W;
  const int32_t s = p->stride[2], k = p->kernel[2], dil = p->dilation[2];
  const __m512i lane_step = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(s));
  for (int32_t ow = w0; ow < w1; ow += 16) {
    const int32_t n = w1 - ow < 16 ? w1 - ow : 16;
    const __mmask16 m = lanes(n);
    const int64_t col0 = aw->first[ow]; /* the first tap of output ow */
    __m512 best = _mm512_set1_ps(-INFINITY);
    __m512i at = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(zd * HW + zh * W + col0)),
                                  lane_step);
    for (int32_t a = 0; a < nd; a++) {
      for (int32_t b = 0; b < nh; b++) {
        const int64_t row = (zd + (int64_t)a * sd) * HW + (zh + (int64_t)b * sh) * W;
        for (int32_t c = 0; c < k; c++) {
          const int64_t off = col0 + (int64_t)c * dil;
          const __m512 v = load_taps(xp + row, off, s, n);
          const __mmask16 win = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
          best = _mm512_mask_blend_ps(win, best, v);
          at = _mm512_mask_blend_epi32(
              win, at, _mm512_add_epi32(_mm512_set1_epi32((int32_t)(row + off)), lane_step));
        }
      }
    }
    _mm512_mask_storeu_ps(y + ow, m, best);
    _mm512_mask_storeu_epi32(idx + ow, m, at);
  }
}

/* The outputs of axis a whose taps are all inside ([lo, hi), possibly empty). */
static void full_range(const pool_axis* a, int32_t out, int32_t k, int32_t* lo, int32_t* hi) {
  int32_t l = 0;
  while (l < out && a->count[l] != k) l++;
  int32_t h = l;
  while (h < out && a->count[h] == k) h++;
  *lo = l;
  *hi = h;
}

int lits_maxpool_indices_f32(const lits_pool_nd_params* params_host, const float* x, float* y,
                             int32_t* indices, int64_t planes) {
  lits_clear_error();
  const char* fn = "lits_maxpool_indices_f32";
  LITS_REQUIRE(params_host != NULL, "%s: params is NULL", fn);
  const lits_pool_nd_params* p = params_host;
  pool_axis ax[3];
  int32_t* mem = NULL;
  const int st = plan(fn, p, planes, ax, &mem);
  if (st != LITS_OK) return st;
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2];
  const int64_t rows = planes * OD * OH;
  if (rows == 0 || OW == 0) {
    free(mem);
    return LITS_OK;
  }
  if (x == NULL || y == NULL || indices == NULL) {
    free(mem);
    return lits_fail(LITS_ERR_ARGUMENT, "%s: a pointer is NULL", fn);
  }
  const int64_t W = p->size[2], HW = (int64_t)p->size[1] * W, plane = p->size[0] * HW;
  /* The outputs whose column taps all lie inside take the interior kernels:
   * AVX-512 for strides up to 4, else the loops the compiler vectorises. */
  int32_t v0 = 0, v1 = 0;
  if (ax[2].regular) full_range(&ax[2], (int32_t)OW, p->kernel[2], &v0, &v1);
  const int avx512 = use_avx512() && p->stride[2] <= 4;
  int64_t taps = 1; /* per output, about */
  for (int d = 0; d < 3; d++) {
    taps *= p->adaptive[d] ? p->size[d] / (p->out[d] > 0 ? p->out[d] : 1) + 1 : p->kernel[d];
  }
  const int par = rows * OW * taps > POOL_PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t q = r / (OD * OH), od = (r / OH) % OD, oh = r % OH;
    const float* xp = x + q * plane;
    float* yr = y + r * OW;
    int32_t* ir = indices + r * OW;
    /* A window with no tap inside along some dimension scans nothing:
     * row_portable leaves -inf at its first taps, torch's index. */
    const int32_t nd = ax[0].count[od], nh = ax[1].count[oh];
    const int32_t zd = ax[0].first[od], sd = ax[0].step, zh = ax[1].first[oh], sh = ax[1].step;
    const int interior = v1 > v0 && nd > 0 && nh > 0;
    if (!interior) {
      row_portable(xp, p, &ax[2], zd, nd, sd, zh, nh, sh, yr, ir, 0, (int32_t)OW);
      continue;
    }
    row_portable(xp, p, &ax[2], zd, nd, sd, zh, nh, sh, yr, ir, 0, v0);
    if (avx512) row_avx512(xp, p, &ax[2], zd, nd, sd, zh, nh, sh, yr, ir, v0, v1);
    else row_interior_portable(xp, p, &ax[2], zd, nd, sd, zh, nh, sh, yr, ir, v0, v1);
    row_portable(xp, p, &ax[2], zd, nd, sd, zh, nh, sh, yr, ir, v1, (int32_t)OW);
  }
  free(mem);
  return LITS_OK;
}

/* ---- backward ----------------------------------------------------------- */

int lits_maxpool_indices_backward_f32(const lits_pool_nd_params* params_host, const float* dy,
                                      const int32_t* indices, float* dx, int64_t planes) {
  lits_clear_error();
  const char* fn = "lits_maxpool_indices_backward_f32";
  LITS_REQUIRE(params_host != NULL, "%s: params is NULL", fn);
  const lits_pool_nd_params* p = params_host;
  pool_axis ax[3];
  int32_t* mem = NULL;
  const int st = plan(fn, p, planes, ax, &mem);
  if (st != LITS_OK) return st;
  const int64_t OD = p->out[0], OH = p->out[1], OW = p->out[2], out_plane = OD * OH * OW;
  const int64_t plane = (int64_t)p->size[0] * p->size[1] * p->size[2];
  if (planes == 0) {
    free(mem);
    return LITS_OK;
  }
  if (dx == NULL || (out_plane > 0 && (dy == NULL || indices == NULL))) {
    free(mem);
    return lits_fail(LITS_ERR_ARGUMENT, "%s: a pointer is NULL", fn);
  }
  /* One task per plane, its outputs added in order: the composed path's
   * scatter-add order, the same bits for any number of threads. */
  const int par = planes * (plane + out_plane) > POOL_PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t q = 0; q < planes; q++) {
    float* dxp = dx + q * plane;
    const float* g = dy + q * out_plane;
    const int32_t* ix = indices + q * out_plane;
    memset(dxp, 0, (size_t)plane * sizeof(float));
    for (int64_t od = 0; od < OD; od++) {
      for (int64_t oh = 0; oh < OH; oh++) {
        /* A window with no tap inside sends nothing (its value is no x's). */
        if (ax[0].count[od] == 0 || ax[1].count[oh] == 0) continue;
        const int64_t r = (od * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ow++) {
          const int32_t at = ix[r + ow];
          /* Indices come from the forward; one out of range adds nothing. */
          if (ax[2].count[ow] == 0 || at < 0 || at >= plane) continue;
          dxp[at] += g[r + ow];
        }
      }
    }
  }
  free(mem);
  return LITS_OK;
}

/* ---- max unpooling -------------------------------------------------------- */

/* The first flat position (in [planes, in_plane]) whose index lies outside
 * [0, out_plane), or -1; each plane's own first, the least over planes. */
static int64_t first_bad_index(const int32_t* indices, int64_t planes, int64_t in_plane,
                               int64_t out_plane, int par) {
  int64_t bad = INT64_MAX;
#pragma omp parallel for schedule(static) reduction(min : bad) if (par)
  for (int64_t q = 0; q < planes; q++) {
    const int32_t* ix = indices + q * in_plane;
    for (int64_t i = 0; i < in_plane; i++) {
      if (ix[i] < 0 || ix[i] >= out_plane) {
        bad = q * in_plane + i < bad ? q * in_plane + i : bad;
        break;
      }
    }
  }
  return bad == INT64_MAX ? -1 : bad;
}

static int unpool_check(const char* fn, const void* a, const int32_t* indices, const void* b,
                        int64_t planes, int64_t in_plane, int64_t out_plane) {
  LITS_REQUIRE(planes >= 0 && in_plane >= 0 && out_plane >= 0,
               "%s: sizes must be >= 0, got planes %lld, in %lld, out %lld", fn,
               (long long)planes, (long long)in_plane, (long long)out_plane);
  if (planes == 0) return LITS_EMPTY;
  LITS_REQUIRE(a != NULL && b != NULL && (in_plane == 0 || indices != NULL),
               "%s: a pointer is NULL", fn);
  const int par = planes * in_plane > POOL_PAR_THRESHOLD;
  const int64_t bad = first_bad_index(indices, planes, in_plane, out_plane, par);
  LITS_REQUIRE(bad < 0,
               "%s: found an invalid max index %d (at flat position %lld of the indices): "
               "the output planes have %lld elements",
               fn, (int)indices[bad < 0 ? 0 : bad], (long long)bad, (long long)out_plane);
  return LITS_OK;
}

int lits_max_unpool_f32(const float* x, const int32_t* indices, float* y, int64_t planes,
                        int64_t in_plane, int64_t out_plane) {
  lits_clear_error();
  const int st =
      unpool_check("lits_max_unpool_f32", x, indices, y, planes, in_plane, out_plane);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  /* Per plane, the values written in order: a repeated index keeps its
   * last value, as torch's CPU kernel. */
  const int par = planes * (in_plane + out_plane) > POOL_PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t q = 0; q < planes; q++) {
    float* yp = y + q * out_plane;
    const float* xp = x + q * in_plane;
    const int32_t* ix = indices + q * in_plane;
    memset(yp, 0, (size_t)out_plane * sizeof(float));
    for (int64_t i = 0; i < in_plane; i++) yp[ix[i]] = xp[i];
  }
  return LITS_OK;
}

int lits_max_unpool_backward_f32(const float* dy, const int32_t* indices, float* dx,
                                 int64_t planes, int64_t in_plane, int64_t out_plane) {
  lits_clear_error();
  const int st = unpool_check("lits_max_unpool_backward_f32", dy, indices, dx, planes,
                              in_plane, out_plane);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  const int par = planes * in_plane > POOL_PAR_THRESHOLD;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t q = 0; q < planes; q++) {
    const float* g = dy + q * out_plane;
    const int32_t* ix = indices + q * in_plane;
    float* d = dx + q * in_plane;
    for (int64_t i = 0; i < in_plane; i++) d[i] = g[ix[i]];
  }
  return LITS_OK;
}
