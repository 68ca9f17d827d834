/* conv_filter_cols.c: the filter gradient of a convolution without groups
 * (channels in 16-channel blocks) through packed_gemm.c's AVX-512 GEMM:
 * dW'[k, crs] = sum over chunks of images of dy[k, J] colT[J, crs], J
 * being the chunk's output pixels. colT is im2col transposed, a row per
 * output pixel, made from x in nChw16c (conv_f32_blocked.c, x's transform
 * applied there): each (16-channel block, tap) of a row is one 64-byte
 * copy, and the GEMM packs colT's rows as they lie. Its columns come in
 * the order (channel block, tap, channel), put back to [k, c, r, s] at
 * the end. The threads split dW's columns: no reduction between threads,
 * every element summed in the same order whatever their number. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_filter_cols.h"
#include "conv_internal.h"
#include "conv_onednn_f32.h"
#include "conv_tiles.h"

/* Floats of one chunk's colT: larger chunks add fewer partial products
 * (LITS_FILTER_COLS_CHUNK, read on every call, sets another size for
 * tests). */
#define CHUNK_FLOATS (6 << 20)

int lits_conv_filter_cols_applies(const conv_shape* p) {
  return p->groups == 1 && p->c % 16 == 0 && lits_packed_gemm_applies(32) &&
         lits_f32_blocked_applies();
}

/* colT rows j0 .. j1 of a chunk (x blocked, ni images) from xb. */
static void im2col_t(const conv_shape* p, const float* xb, int64_t j0, int64_t j1, float* colt) {
  const int64_t hw = p->h * p->w, cb = p->c / 16, crs = p->crs_g;
  for (int64_t j = j0; j < j1; j++) {
    const int64_t img = j / p->ohw, oy = j % p->ohw / p->ow, ox = j % p->ow;
    float* row = colt + j * crs;
    for (int64_t b = 0; b < cb; b++) {
      const float* xc = xb + (img * cb + b) * hw * 16;
      for (int64_t kr = 0; kr < p->r; kr++) {
        const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
        for (int64_t ks = 0; ks < p->s; ks++, row += 16) {
          const int64_t ix = ox * p->sw - p->pw + ks * p->dw;
          if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w) {
            memset(row, 0, 64);
          } else {
            memcpy(row, xc + (iy * p->w + ix) * 16, 64);
          }
        }
      }
    }
  }
}

/* Thread tid's share of packing dyk [k, cols] into ap: rows split at
 * multiples of 12, where packed_gemm.c's blocks of rows start (the same
 * layout as one call packing all rows; only the last block may be
 * shorter). */
static void pack_rows(const float* dyk, int64_t k, int64_t cols, int tid, int nt, float* ap) {
  const int64_t r0 = k * tid / nt / 12 * 12;
  const int64_t r1 = tid == nt - 1 ? k : k * (tid + 1) / nt / 12 * 12;
  if (k - r0 <= 16 && tid > 0) return; /* the last rows: packed whole by a lower thread */
  const int64_t end = k - r1 <= 16 ? k : r1;
  if (end > r0) lits_packed_gemm_pack_a(dyk + r0 * cols, end - r0, cols, 0, ap + r0 * cols);
}

/* dW' (columns in (block, tap, channel) order) back to [k, c, rs]. */
static void unpermute(const conv_shape* p, const float* yt, float* dweight) {
  const int64_t rs = p->r * p->s, crs = p->crs_g, cb = p->c / 16;
#pragma omp for schedule(static)
  for (int64_t ki = 0; ki < p->k; ki++) {
    const float* src = yt + ki * crs;
    float* dst = dweight + ki * crs;
    for (int64_t b = 0; b < cb; b++) {
      for (int64_t t = 0; t < rs; t++) {
        for (int64_t l = 0; l < 16; l++) dst[(b * 16 + l) * rs + t] = src[(b * rs + t) * 16 + l];
      }
    }
  }
}

int lits_conv_filter_cols(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* dy, float* dweight) {
  const int nt = omp_get_max_threads();
  const int64_t crs = p->crs_g, hw = p->h * p->w, kohw = p->k * p->ohw;
  const char* env = getenv("LITS_FILTER_COLS_CHUNK"); /* tests: several chunks */
  int64_t imgs = (env != NULL ? atoll(env) : CHUNK_FLOATS) / (crs * p->ohw);
  imgs = imgs < 1 ? 1 : imgs > p->n ? p->n : imgs;
  const int64_t maxj = imgs * p->ohw, split = (crs + nt - 1) / nt;
  const int64_t per = round16(lits_packed_gemm_scratch()) + round16(2 * split);
  const int64_t xbf = round16(imgs * p->c * hw), colf = round16(maxj * crs);
  const int64_t dykf = round16(p->k * maxj);
  const int64_t apf = round16(lits_packed_gemm_weights_floats(p->k, maxj));
  const int64_t yf = round16(p->k * crs), tmpf = p->n > imgs ? yf : 0;
  float* scratch = thread_scratch(per, nt, xbf + colf + dykf + apf + yf + tmpf);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* xb = scratch + per * nt;
  float* colt = xb + xbf;
  float* dyk = colt + colf;
  float* ap = dyk + dykf;
  float* yt = ap + apf;
  float* tmp = yt + yf;
#pragma omp parallel num_threads(nt)
  {
    const int tid = omp_get_thread_num();
    float* pack = scratch + per * tid;
    int64_t* off = (int64_t*)(pack + round16(lits_packed_gemm_scratch()));
    const int64_t n0 = tid * split, n1 = n0 + split < crs ? n0 + split : crs;
    for (int64_t j = n0; j < n1; j++) off[j - n0] = j;
    for (int64_t i0 = 0; i0 < p->n; i0 += imgs) {
      const int64_t ni = p->n - i0 < imgs ? p->n - i0 : imgs, cols = ni * p->ohw;
      lits_f32_to_blocked(x + i0 * p->c * hw, ni, p->c, hw, xf, xb);
#pragma omp for schedule(static)
      for (int64_t r = 0; r < p->k * ni; r++) {
        const int64_t ki = r / ni, i = r % ni;
        memcpy(dyk + ki * cols + i * p->ohw, dy + (i0 + i) * kohw + ki * p->ohw,
               (size_t)p->ohw * sizeof(float));
      }
      const int64_t j0 = cols * tid / nt, j1 = cols * (tid + 1) / nt;
      im2col_t(p, xb, j0, j1, colt);
      pack_rows(dyk, p->k, cols, tid, nt, ap);
#pragma omp barrier /* colT and the packed dy are ready */
      if (n1 > n0) {
        float* y = i0 == 0 ? yt : tmp;
        lits_packed_gemm(p->k, n1 - n0, cols, ap, colt, crs, off, NULL, cols, y + n0, crs,
                         n1 - n0, 0, pack);
        for (int64_t ki = 0; ki < p->k && i0 > 0; ki++) {
#pragma omp simd
          for (int64_t j = n0; j < n1; j++) yt[ki * crs + j] += tmp[ki * crs + j];
        }
      }
#pragma omp barrier
    }
    unpermute(p, yt, dweight);
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
