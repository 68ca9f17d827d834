/* conv_gemm.c: convolution as im2col / col2im + SGEMM, in tiles.
 *
 * A tile is a run of output rows of one image or, when images are small,
 * several whole images; its column matrix [(c / groups) r s, tile columns]
 * is sized to stay in a core's L2 cache between im2col and the GEMM that
 * reads it. Threads take whole tiles and call the single-threaded SGEMM, so
 * each core works on its own data without synchronising (the scheme of
 * oneDNN's and Caffe's GEMM convolutions). Tiles of several images gather
 * their output (or their dy) in scratch, which makes one large GEMM out of
 * many narrow ones: the weights are packed once per tile instead of once per
 * image. The tiles and their column matrices are conv_tiles.c's. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "fused_internal.h"
#include "stream_store.h"

/* The per-thread scratch of the two walks that read x through
 * lits_conv_tile_columns (forward and filter gradient), in floats: the
 * im2col tile (none when x is read in place and a tile is one image), a
 * [kg, cols] tile of y or dy when a tile holds several images (or the own
 * GEMM's column offsets), the own GEMM's packed columns, then the
 * transformed rows of x. */
typedef struct {
  int direct; /* a pointwise convolution reads x in place, unless x must be transformed */
  int own;    /* the forward's products through packed_gemm.c's GEMM ... */
  int gather; /* ... packing x itself (1x1 without padding), not an im2col tile */
  int64_t col, ktile, pack, per;
} x_walk;

static x_walk plan_x_walk(const conv_shape* p, const conv_xform* xf, const tiling* t,
                          int forward) {
  x_walk w;
  w.direct = p->pointwise && !conv_xform_active(xf);
  w.own = forward && p->groups == 1 && lits_packed_gemm_applies(t->max_cols) &&
          (t->imgs == 1 || p->ohw % 32 == 0);
  w.gather = w.own && p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0;
  w.pack = w.own ? round16(lits_packed_gemm_scratch()) : 0;
  if (w.own) {
    w.col = w.gather ? 0 : round16(p->crs_g * t->max_cols);
    w.ktile = round16(4 * t->max_cols); /* int64 offsets: the tile's, the next one's */
    const int64_t xbuf = w.gather ? 0 : round16(lits_conv_xbuf_floats(p, xf, t->rows));
    w.per = w.col + w.ktile + w.pack + xbuf;
    return w;
  }
  w.col = !w.direct || t->imgs > 1 ? round16(p->crs_g * t->max_cols) : 0;
  w.ktile = t->imgs > 1 ? round16(p->kg * t->max_cols) : 0;
  w.per = w.col + w.ktile + round16(lits_conv_xbuf_floats(p, xf, t->rows));
  return w;
}

/* Thread tid's buffers in scratch (all NULL when there is none). */
static void x_walk_buffers(const x_walk* w, float* scratch, int tid, float** col, float** ktile,
                           float** pack, float** xbuf) {
  *col = scratch ? scratch + w->per * tid : NULL;
  *ktile = *col ? *col + w->col : NULL;
  *pack = *col ? *col + w->col + w->ktile : NULL;
  *xbuf = *col ? *col + w->col + w->ktile + w->pack : NULL;
}

/* Where a 1x1 convolution without padding reads tile b's columns: x of
 * its first image, and each column's offset from there in off. */
static const float* gather_offsets(const conv_shape* p, const tile* b, const float* x,
                                   int64_t* off) {
  const int64_t hw = p->h * p->w, span = (b->oy1 - b->oy0) * p->ow;
  for (int64_t j = 0; j < b->cols; j++) {
    const int64_t img = j / span, jj = j % span, oy = b->oy0 + jj / p->ow;
    off[j] = img * p->c * hw + oy * p->sh * p->w + (jj % p->ow) * p->sw;
  }
  return x + b->i0 * p->c * hw;
}

/* Tiles of several images for nt threads, each thread taking a run of
 * tiles: where the images do not split evenly (16 images in tiles of 5:
 * 5 + 5 against 5 + 1, the threads' work 10 against 6), tiles of the
 * largest count at most as many that divides each thread's share (4: 8
 * and 8). Batch 16, 2 threads, AMD EPYC Zen 4, min of 30 alternating in
 * one process: MobileNetV2's 96 -> 576 at 16 x 16 2.26 ms against 2.81,
 * 320 -> 1280 at 8 x 8 4.04 against 4.99; EfficientNet-B0's 80 -> 480 at
 * 16 x 16 1.84 against 2.29, 40 -> 240 at 32 x 32 2.40 against 2.68. Each
 * output is the same sum whatever the tiles (a tile is columns of y); the
 * forward with moments keeps its tiles, whose sums do depend on them.
 * Returns whether t changed. */
static int balance_images(const conv_shape* p, tiling* t, int nt) {
  if (t->imgs <= 1 || nt <= 1 || p->n % nt != 0) return 0;
  if (p->n % t->imgs == 0 && (p->n / t->imgs) % nt == 0) return 0; /* even already */
  const int64_t share = p->n / nt;
  int64_t imgs = t->imgs < share ? t->imgs : share;
  while (share % imgs != 0) imgs--;
  if (imgs == t->imgs) return 0;
  t->imgs = imgs;
  t->count = p->n / imgs;
  t->max_cols = imgs * p->ohw;
  return 1;
}

int lits_conv_gemm_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* weight, const float* bias, float* y, conv_epilogue* ep,
                           void* prepared, int64_t prepared_bytes) {
  const int nt = omp_get_max_threads();
  /* Moments gather per tile where the own GEMM writes y: tiles laid out as
   * for one thread, so that they (and the moments' bits) do not depend on
   * the number of threads. */
  const int want = ep != NULL && ep->moments != NULL;
  tiling t = lits_conv_make_tiling(p, p->crs_g, want ? 1 : nt);
  x_walk w = plan_x_walk(p, xf, &t, 1);
  const int moments = want && w.own;
  if (want && !moments) {
    t = lits_conv_make_tiling(p, p->crs_g, nt);
    w = plan_x_walk(p, xf, &t, 1);
  }
  if (!want && w.own && p->ohw % 32 == 0 && balance_images(p, &t, nt)) {
    w = plan_x_walk(p, xf, &t, 1);
  }
  /* A per-image scale is read where the gather packs x, nowhere else
   * (conv.c's forward then scales a copy of x). */
  if (xf != NULL && xf->img_scale != NULL && !w.gather) return LITS_ERR_UNAVAILABLE;
  const int64_t kohw = p->k * p->ohw;
  const int threads = min_threads(nt, t.count);
  float* ms = NULL;
  if (moments) {
    ms = (float*)lits_scratch_alloc(lits_conv_moments_scratch(p->k, t.count, threads) * 4);
    if (ms == NULL) return LITS_ERR_MEMORY;
  }
  const int stream = stream_output(p->n * kohw);
  /* The packed weights: kept by the caller (an evaluation's), else packed here. */
  const float* kept = w.own && prepared != NULL
                          ? lits_conv_prepared_gemm_weights(p, weight, prepared, prepared_bytes)
                          : NULL;
  const int64_t packed =
      w.own && kept == NULL ? lits_packed_gemm_weights_floats(p->k, p->crs_g) : 0;
  float* scratch = thread_scratch(w.per, threads, packed);
  if (w.per + packed > 0 && scratch == NULL) {
    lits_scratch_free(ms);
    return LITS_ERR_MEMORY;
  }
  float* own_ap = packed > 0 ? scratch + w.per * threads : NULL;
  const float* ap = kept != NULL ? kept : own_ap;
#pragma omp parallel num_threads(threads)
  {
    float *col, *out, *pack, *xbuf;
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    if (own_ap != NULL) {
      lits_packed_gemm_pack_a_part(weight, p->k, p->crs_g, 0, own_ap, tid, nth);
#pragma omp barrier
    }
    x_walk_buffers(&w, scratch, tid, &col, &out, &pack, &xbuf);
    /* A thread's tiles in a row, so that it knows the next one (gemm_next). */
    const int64_t ti1 = t.count * (tid + 1) / nth;
    for (int64_t ti = t.count * tid / nth; ti < ti1; ti++) {
      const tile b = lits_conv_tile_at(p, &t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow; /* columns per image */
      for (int64_t g = 0; g < p->groups; g++) {
        float* cm = b.ni == 1 ? y + b.i0 * kohw + g * p->kg * p->ohw + b.oy0 * p->ow : out;
        const int64_t ldc = b.ni == 1 ? p->ohw : b.cols;
        const float* wg = weight + g * p->kg * p->crs_g;
        if (w.own) { /* the tile's columns (of one or several images) straight into y */
          int64_t *off = (int64_t*)out, *next_off = off + t.max_cols;
          const float* src;
          int64_t ldx = p->h * p->w;
          gemm_next next = {NULL, next_off, 0};
          if (w.gather) { /* x's columns in place, strided or not */
            src = gather_offsets(p, &b, x, off);
            if (ti + 1 < ti1) {
              const tile nb = lits_conv_tile_at(p, &t, ti + 1);
              next.x = gather_offsets(p, &nb, x, next_off);
              next.n = nb.cols;
            }
          } else { /* an im2col tile, transformed as it was made */
            src = lits_conv_tile_columns(p, x, xf, 0, &b, 0, col, xbuf, &ldx);
            for (int64_t j = 0; j < b.cols; j++) off[j] = j;
          }
          const int64_t y0 = b.i0 * kohw + b.oy0 * p->ow; /* the tile's first element */
          conv_epilogue tile_ep = ep != NULL ? *ep : (conv_epilogue){0};
          if (tile_ep.r != NULL) tile_ep.r += y0;
          conv_tile_moments tm;
          if (moments) tm = lits_conv_moments_tile(ms, p->k, t.count, tid);
          tile_ep.tile = moments ? &tm : NULL;
          /* a per-image scale from the tile's first image (GEMM column j: image j / span) */
          conv_xform txf = xf != NULL ? *xf : (conv_xform){0};
          if (txf.img_scale != NULL) txf.img_scale += b.i0 * p->c;
          lits_packed_gemm_out(p->k, b.cols, p->crs_g, ap, src, ldx, off, w.gather ? &txf : NULL,
                               p->c, y + y0, p->ohw, span, kohw, bias, ep ? &tile_ep : NULL,
                               stream, &next, pack);
          if (moments) lits_conv_moments_end_tile(ms, &tm, p->k, t.count, threads, ti, b.cols);
          continue; /* the bias and the epilogue were applied as y was written */
        } else {
          int64_t ldb;
          const float* bm = lits_conv_tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
          lits_sgemm_serial(0, 0, p->kg, b.cols, p->crs_g, 1.0f, wg, p->crs_g, bm, ldb, 0.0f, cm,
                            ldc);
        }
        /* The bias while the tile is still in cache; tiles of several
         * images scatter to y here. */
        for (int64_t i = 0; i < b.ni; i++) {
          for (int64_t ki = 0; ki < p->kg; ki++) {
            const int64_t kk = g * p->kg + ki;
            float* dst = y + (b.i0 + i) * kohw + kk * p->ohw + b.oy0 * p->ow;
            const int in_place = b.ni == 1 || w.own; /* the GEMM wrote y itself */
            const float* src = in_place ? dst : out + ki * b.cols + i * span;
            const float bv = bias != NULL ? bias[kk] : 0.0f;
            if (in_place && bias == NULL) continue;
            conv_bias_act(dst, src, span, bv, CONV_ACT_NONE);
          }
        }
      }
    }
  }
  lits_scratch_free(scratch);
  if (ep != NULL && w.own) ep->applied = 1;
  if (moments) {
    lits_conv_moments_merge(ms, p->k, t.count, threads, ep->moments);
    ep->moments_done = 1;
    lits_scratch_free(ms);
  }
  return LITS_OK;
}

/* Tiles of several images: dy of the tile is packed to [kg, cols], one GEMM
 * makes the tile's columns, col2im scatters them. */
static int backward_data_image_tiles(const conv_shape* p, const tiling* t, const float* weight,
                                     const float* dy, float* dx) {
  const int nt = omp_get_max_threads();
  const int64_t hw = p->h * p->w, chw = p->c * hw, kohw = p->k * p->ohw;
  const int64_t col_n = round16(p->crs_g * t->max_cols), dyp_n = round16(p->kg * t->max_cols);
  const int threads = min_threads(nt, t->count);
  float* scratch = thread_scratch(col_n + dyp_n, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    float* col = scratch + (col_n + dyp_n) * omp_get_thread_num();
    float* dyp = col + col_n;
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t->count; ti++) {
      const tile b = lits_conv_tile_at(p, t, ti);
      for (int64_t i = 0; i < b.ni; i++) memset(dx + (b.i0 + i) * chw, 0, (size_t)chw * 4);
      for (int64_t g = 0; g < p->groups; g++) {
        for (int64_t i = 0; i < b.ni; i++) {
          for (int64_t ki = 0; ki < p->kg; ki++) {
            memcpy(dyp + ki * b.cols + i * p->ohw,
                   dy + (b.i0 + i) * kohw + (g * p->kg + ki) * p->ohw, (size_t)p->ohw * 4);
          }
        }
        lits_sgemm_serial(1, 0, p->crs_g, b.cols, p->kg, 1.0f, weight + g * p->kg * p->crs_g,
                          p->crs_g, dyp, b.cols, 0.0f, col, b.cols);
        for (int64_t i = 0; i < b.ni; i++) {
          lits_conv_col2im_tile(p, col, b.cols, i * p->ohw, dx + (b.i0 + i) * chw, g * p->cg,
                                p->cg, 0, p->oh);
        }
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

/* Large images: a thread owns an image (or, for a small batch, a block of
 * its channels), so col2im's overlapping writes never race. */
static int backward_data_row_tiles(const conv_shape* p, const tiling* t, const float* weight,
                                   const float* dy, float* dx) {
  const int nt = omp_get_max_threads();
  const int64_t hw = p->h * p->w, chw = p->c * hw, kohw = p->k * p->ohw, rs = p->r * p->s;
  int64_t cblocks = p->n >= nt ? 1 : (nt + p->n - 1) / p->n;
  if (cblocks > p->cg) cblocks = p->cg;
  const int64_t items = p->n * p->groups * cblocks;
  const int64_t col_n = p->pointwise ? 0 : round16(p->crs_g * t->max_cols);
  const int threads = min_threads(nt, items);
  float* scratch = thread_scratch(col_n, threads, 0);
  if (col_n > 0 && scratch == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    float* col = scratch ? scratch + col_n * omp_get_thread_num() : NULL;
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t i = it / (p->groups * cblocks), g = (it / cblocks) % p->groups;
      const int64_t cb = it % cblocks;
      const int64_t c0 = p->cg * cb / cblocks, c1 = p->cg * (cb + 1) / cblocks;
      const int64_t cabs = g * p->cg + c0; /* first absolute channel */
      float* dxi = dx + i * chw;
      if (!p->pointwise) memset(dxi + cabs * hw, 0, (size_t)((c1 - c0) * hw) * 4);
      /* Rows c0 r s .. c1 r s of W^T are columns of the stored weight. */
      const float* wt = weight + g * p->kg * p->crs_g + c0 * rs;
      for (int64_t oy0 = 0; oy0 < p->oh; oy0 += t->rows) {
        const int64_t oy1 = oy0 + t->rows < p->oh ? oy0 + t->rows : p->oh;
        const int64_t cols = (oy1 - oy0) * p->ow;
        const float* dyt = dy + i * kohw + g * p->kg * p->ohw + oy0 * p->ow;
        if (p->pointwise) {
          lits_sgemm_serial(1, 0, c1 - c0, cols, p->kg, 1.0f, wt, p->crs_g, dyt, p->ohw, 0.0f,
                            dxi + cabs * hw + oy0 * p->ow, hw);
        } else {
          lits_sgemm_serial(1, 0, (c1 - c0) * rs, cols, p->kg, 1.0f, wt, p->crs_g, dyt, p->ohw,
                            0.0f, col, cols);
          lits_conv_col2im_tile(p, col, cols, 0, dxi, cabs, c1 - c0, oy0, oy1);
        }
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

int lits_conv_gemm_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                 float* dx) {
  const tiling t = lits_conv_make_tiling(p, p->crs_g, omp_get_max_threads());
  if (lits_conv_pointwise_data_applies(p, &t)) { /* conv_data_pointwise.c */
    return lits_conv_pointwise_data(p, &t, weight, dy, dx);
  }
  if (t.imgs > 1) return backward_data_image_tiles(p, &t, weight, dy, dx);
  return backward_data_row_tiles(p, &t, weight, dy, dx);
}

int lits_conv_gemm_backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                   const float* dy, float* dweight) {
  if (lits_conv_filter_pointwise_applies(p)) { /* 1x1: our kernels (conv_filter_*.c) */
    if (lits_conv_filter_outer_applies(p)) return lits_conv_filter_outer(p, x, xf, dy, dweight);
    return lits_conv_filter_pointwise(p, x, xf, dy, dweight);
  }
  const int nt = omp_get_max_threads();
  const tiling t = lits_conv_make_tiling(p, p->crs_g, nt);
  const int64_t kohw = p->k * p->ohw;
  const int64_t wn = p->k * p->crs_g;
  const x_walk w = plan_x_walk(p, xf, &t, 0);
  /* (touched[] below has one flag per thread.) */
  const int threads = min_threads(nt < 64 ? nt : 64, t.count);
  /* Threads after the first sum into their own copy of dweight; the copies
   * are added at the end. */
  const int64_t acc_n = round16(wn);
  float* scratch = thread_scratch(w.per, threads, acc_n * (threads - 1));
  if (scratch == NULL && (w.per > 0 || threads > 1)) return LITS_ERR_MEMORY;
  int touched[64] = {0};
  float* accs = scratch ? scratch + w.per * threads : NULL;
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float *col, *dyp, *pack, *xbuf;
    x_walk_buffers(&w, scratch, tid, &col, &dyp, &pack, &xbuf);
    float* acc = tid == 0 ? dweight : accs + acc_n * (tid - 1);
    int first = 1;
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t.count; ti++) {
      const tile b = lits_conv_tile_at(p, &t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow;
      for (int64_t g = 0; g < p->groups; g++) {
        const float *am, *bm;
        int64_t lda, ldb;
        if (b.ni == 1) {
          am = dy + b.i0 * kohw + g * p->kg * p->ohw + b.oy0 * p->ow;
          lda = p->ohw;
        } else {
          for (int64_t i = 0; i < b.ni; i++) {
            for (int64_t ki = 0; ki < p->kg; ki++) {
              memcpy(dyp + ki * b.cols + i * span,
                     dy + (b.i0 + i) * kohw + (g * p->kg + ki) * p->ohw, (size_t)span * 4);
            }
          }
          am = dyp;
          lda = b.cols;
        }
        bm = lits_conv_tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
        lits_sgemm_serial(0, 1, p->kg, p->crs_g, b.cols, 1.0f, am, lda, bm, ldb,
                          first ? 0.0f : 1.0f, acc + g * p->kg * p->crs_g, p->crs_g);
      }
      first = 0;
    }
    if (tid < 64) touched[tid] = !first;
#pragma omp barrier
    lits_conv_sum_partials(dweight, accs, acc_n, touched, threads, wn);
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
