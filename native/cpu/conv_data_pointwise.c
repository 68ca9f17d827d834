/* conv_data_pointwise.c: the backward data of 1x1 convolutions without
 * padding or groups, dx = W^T dy, through packed_gemm.c's GEMM, tile by
 * tile (of one image's rows or of several images), dy's columns read
 * through an offset table and dx written once. A strided one's (ResNet's
 * downsampling shortcuts) dx is W^T dy at every sh-th row and sw-th column
 * and zero elsewhere: each tile's W^T dy goes into a compact buffer, and
 * dx's rows are then written once, values and zeros together. (The general
 * path, OpenBLAS into an im2col tile, dx cleared, then col2im adding the
 * tile into it, read and wrote dx twice and ran its GEMM at ~130 GF/s
 * here.) */
#include <omp.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "stream_store.h"

int lits_conv_pointwise_data_applies(const conv_shape* p, const tiling* t) {
  return p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->groups == 1 &&
         lits_packed_gemm_applies(t->max_cols) && (t->imgs == 1 || p->ohw % 32 == 0);
}

/* Rows [iy0, iy1) of one channel of dx from its tile's compact values
 * (output rows oy0 .. of ow columns at src): value rows at iy = oy * sh,
 * columns ox * sw; zero rows between. row: w floats of scratch. */
static void write_rows(const conv_shape* p, const float* src, int64_t oy0, int64_t iy0,
                       int64_t iy1, float* dxc, float* row, int stream) {
  const int64_t w = p->w;
  for (int64_t iy = iy0; iy < iy1; iy++) {
    memset(row, 0, (size_t)w * sizeof(float));
    if (iy % p->sh == 0) {
      const float* s = src + (iy / p->sh - oy0) * p->ow;
      for (int64_t ox = 0; ox < p->ow; ox++) row[ox * p->sw] = s[ox];
    }
    if (stream) stream_copy(dxc + iy * w, row, w);
    else memcpy(dxc + iy * w, row, (size_t)w * sizeof(float));
  }
}

/* dy of tile b's first image, and each of its columns' offset from there
 * in off. */
static const float* dy_columns(const conv_shape* p, const tile* b, const float* dy,
                               int64_t* off) {
  const int64_t kohw = p->k * p->ohw, span = (b->oy1 - b->oy0) * p->ow;
  for (int64_t j = 0; j < b->cols; j++) off[j] = j / span * kohw + b->oy0 * p->ow + j % span;
  return dy + b->i0 * kohw;
}

int lits_conv_pointwise_data(const conv_shape* p, const tiling* t, const float* weight,
                             const float* dy, float* dx) {
  const int strided = p->sh > 1 || p->sw > 1;
  const int threads = min_threads(omp_get_max_threads(), t->count);
  /* int64 offsets of dy's columns: the tile's, the next one's */
  const int64_t pack = round16(lits_packed_gemm_scratch()), offs = round16(4 * t->max_cols);
  const int64_t compact = strided ? round16(p->c * t->max_cols) : 0;
  const int64_t rowbuf = strided ? round16(p->w) : 0;
  const int64_t per = pack + offs + compact + rowbuf;
  const int64_t packed = lits_packed_gemm_weights_floats(p->c, p->k);
  float* scratch = thread_scratch(per, threads, packed);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* ap = scratch + per * threads;
  const int64_t hw = p->h * p->w;
  const int stream = stream_output(p->n * p->c * hw);
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    lits_packed_gemm_pack_a_part(weight, p->c, p->k, 1, ap, tid, nth); /* W^T: rows c, inner k */
#pragma omp barrier
    float* buf = scratch + per * tid;
    int64_t *off = (int64_t*)(buf + pack), *next_off = off + t->max_cols;
    float* cm = buf + pack + offs;
    float* row = cm + compact;
    /* A thread's tiles in a row, so that it knows the next one (gemm_next). */
    const int64_t ti1 = t->count * (tid + 1) / nth;
    for (int64_t ti = t->count * tid / nth; ti < ti1; ti++) {
      const tile b = lits_conv_tile_at(p, t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow;
      const float* src = dy_columns(p, &b, dy, off);
      gemm_next next = {NULL, next_off, 0};
      if (ti + 1 < ti1) {
        const tile nb = lits_conv_tile_at(p, t, ti + 1);
        next.x = dy_columns(p, &nb, dy, next_off);
        next.n = nb.cols;
      }
      if (!strided) { /* dx's columns are the GEMM's */
        lits_packed_gemm_out(p->c, b.cols, p->k, ap, src, p->ohw, off, NULL, p->k,
                             dx + b.i0 * p->c * hw + b.oy0 * p->w, hw, span, p->c * hw, NULL,
                             NULL, stream, &next, buf);
        continue;
      }
      lits_packed_gemm_out(p->c, b.cols, p->k, ap, src, p->ohw, off, NULL, p->k, cm, b.cols, span,
                           span, NULL, NULL, 0, &next, buf);
      /* The tile's rows of dx: from its first output row's, to the next
       * tile's (or to the image's end). */
      const int64_t iy0 = b.oy0 * p->sh, iy1 = b.oy1 == p->oh ? p->h : b.oy1 * p->sh;
      for (int64_t i = 0; i < b.ni; i++) {
        for (int64_t ci = 0; ci < p->c; ci++) {
          write_rows(p, cm + ci * b.cols + i * span, b.oy0, iy0, iy1,
                     dx + ((b.i0 + i) * p->c + ci) * hw, row, stream);
        }
      }
    }
    if (stream && strided) stream_fence(); /* (the GEMM fences its own) */
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
