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
 * image. */
#include <stddef.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "fused_internal.h"

/* Bytes of column matrix per tile: a quarter of L2 here, so that the column
 * tile, the weights' packed panel and the output tile fit together. */
#define TILE_BYTES (512 * 1024)
/* ... but at least this many columns: with many input channels a tile that
 * fits L2 would be a GEMM too narrow to run at speed (SGEMM packs its
 * operands into cache-sized blocks itself). */
#define TILE_MIN_COLS 256

typedef struct {
  int64_t imgs;    /* images per tile (> 1: tiles of whole images) */
  int64_t rows;    /* output rows per tile when imgs == 1 */
  int64_t per_img; /* tiles per image when imgs == 1 */
  int64_t count;   /* tiles */
  int64_t max_cols;
} tiling;

typedef struct {
  int64_t i0, ni, oy0, oy1, cols;
} tile;

/* Tiles for a column matrix with col_rows rows, enough of them for nt threads
 * when the problem allows. */
static tiling make_tiling(const conv_shape* p, int64_t col_rows, int nt) {
  tiling t;
  int64_t target = TILE_BYTES / 4 / (col_rows > 0 ? col_rows : 1);
  if (target < TILE_MIN_COLS) target = TILE_MIN_COLS;
  if (target < p->ow) target = p->ow;
  if (p->ohw <= target / 2 && p->n > 1) {
    int64_t imgs = target / p->ohw;
    const int64_t fair = (p->n + nt - 1) / nt; /* at least one tile per thread */
    if (imgs > fair) imgs = fair;
    if (imgs < 1) imgs = 1;
    t.imgs = imgs;
    t.rows = p->oh;
    t.per_img = 1;
    t.count = (p->n + imgs - 1) / imgs;
    t.max_cols = imgs * p->ohw;
    return t;
  }
  int64_t rows = target / p->ow;
  if (rows < 1) rows = 1;
  if (rows > p->oh) rows = p->oh;
  int64_t per_img = (p->oh + rows - 1) / rows;
  if (p->n * per_img < nt && p->oh > 1) {
    int64_t want = (nt + p->n - 1) / p->n;
    if (want > p->oh) want = p->oh;
    rows = (p->oh + want - 1) / want;
    per_img = (p->oh + rows - 1) / rows;
  }
  t.imgs = 1;
  t.rows = rows;
  t.per_img = per_img;
  t.count = p->n * per_img;
  t.max_cols = rows * p->ow;
  return t;
}

static tile tile_at(const conv_shape* p, const tiling* t, int64_t ti) {
  tile b;
  if (t->imgs > 1) {
    b.i0 = ti * t->imgs;
    b.ni = p->n - b.i0 < t->imgs ? p->n - b.i0 : t->imgs;
    b.oy0 = 0;
    b.oy1 = p->oh;
  } else {
    b.i0 = ti / t->per_img;
    b.ni = 1;
    b.oy0 = (ti % t->per_img) * t->rows;
    b.oy1 = b.oy0 + t->rows < p->oh ? b.oy0 + t->rows : p->oh;
  }
  b.cols = b.ni * (b.oy1 - b.oy0) * p->ow;
  return b;
}

/* Output columns ox in [*lo, *hi) read input column ox * stride - off inside
 * [0, size). */
static void valid_range(int64_t off, int64_t stride, int64_t size, int64_t out, int64_t* lo,
                        int64_t* hi) {
  int64_t a = off > 0 ? (off + stride - 1) / stride : 0;
  int64_t t = size - 1 + off;
  int64_t b = t >= 0 ? t / stride + 1 : 0;
  if (a > out) a = out;
  if (b > out) b = out;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* col rows ci r s + kr s + ks, columns [col0, col0 + (oy1 - oy0) ow) (row
 * stride ld), from nch channels whose input row iy (of the image) is at
 * src + ci * plane + (iy - iy_base) * w. */
static void im2col_rows(const conv_shape* p, const float* src, int64_t plane, int64_t iy_base,
                        int64_t nch, int64_t oy0, int64_t oy1, float* col, int64_t ld,
                        int64_t col0) {
  const int64_t h = p->h, w = p->w, r = p->r, s = p->s, ow = p->ow;
  for (int64_t ci = 0; ci < nch; ci++) {
    const float* xc = src + ci * plane - iy_base * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        float* row = col + ((ci * r + kr) * s + ks) * ld + col0;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        for (int64_t oy = oy0; oy < oy1; oy++) {
          float* dst = row + (oy - oy0) * ow;
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) {
            memset(dst, 0, (size_t)ow * sizeof(float));
            continue;
          }
          const float* in = xc + iy * w - off_w;
          for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
          if (p->sw == 1) {
            if (hi > lo) memcpy(dst + lo, in + lo, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] = in[ox * p->sw];
          }
          for (int64_t ox = hi; ox < ow; ox++) dst[ox] = 0.0f;
        }
      }
    }
  }
}

/* Input rows [*lo, *hi) of the image that output rows [oy0, oy1) read. */
static void input_rows(const conv_shape* p, int64_t oy0, int64_t oy1, int64_t* lo, int64_t* hi) {
  int64_t a = oy0 * p->sh - p->ph, b = (oy1 - 1) * p->sh - p->ph + (p->r - 1) * p->dh + 1;
  *lo = a < 0 ? 0 : a;
  *hi = b > p->h ? p->h : b;
  if (*hi < *lo) *hi = *lo;
}

/* Floats of the transformed-rows buffer im2col_tile needs for tiles of
 * `rows` output rows (0 without a transform). */
static int64_t xbuf_floats(const conv_shape* p, const conv_xform* xf, int64_t rows) {
  if (!conv_xform_active(xf) || p->pointwise) return 0;
  int64_t in = (rows - 1) * p->sh + (p->r - 1) * p->dh + 1;
  if (in > p->h) in = p->h;
  return p->cg * in * p->w;
}

/* col rows (ci - c0) r s + kr s + ks, columns [col0, col0 + (oy1 - oy0) ow)
 * (row stride ld), from channels [c0, c0 + nch) of one image xi. With a
 * transform xf the rows the tile reads are transformed once into xbuf
 * (xbuf_floats), rather than each element r s times as im2col copies it;
 * padding stays zero: it pads the transformed input. */
static void im2col_tile(const conv_shape* p, const float* xi, const conv_xform* xf, int64_t c0,
                        int64_t nch, int64_t oy0, int64_t oy1, float* col, int64_t ld,
                        int64_t col0, float* xbuf) {
  const int64_t hw = p->h * p->w;
  if (!conv_xform_active(xf)) {
    im2col_rows(p, xi + c0 * hw, hw, 0, nch, oy0, oy1, col, ld, col0);
    return;
  }
  if (p->pointwise) { /* col rows are the input rows: transform straight into them */
    const int64_t len = (oy1 - oy0) * p->w;
    for (int64_t ci = 0; ci < nch; ci++) {
      const fused_affine t = fused_affine_of(xf->coef, p->c, c0 + ci);
      fused_apply(col + ci * ld + col0, xi + (c0 + ci) * hw + oy0 * p->w, len, t, xf->relu);
    }
    return;
  }
  int64_t lo, hi;
  input_rows(p, oy0, oy1, &lo, &hi);
  const int64_t len = (hi - lo) * p->w;
  for (int64_t ci = 0; ci < nch; ci++) {
    const fused_affine t = fused_affine_of(xf->coef, p->c, c0 + ci);
    fused_apply(xbuf + ci * len, xi + (c0 + ci) * hw + lo * p->w, len, t, xf->relu);
  }
  im2col_rows(p, xbuf, len, lo, nch, oy0, oy1, col, ld, col0);
}

/* The column operand of tile b, group g: x itself for a pointwise
 * convolution of one image (row stride *ld), else im2col into col (row
 * stride b->cols; xbuf as im2col_tile). */
static const float* tile_columns(const conv_shape* p, const float* x, const conv_xform* xf,
                                 int direct, const tile* b, int64_t g, float* col, float* xbuf,
                                 int64_t* ld) {
  const int64_t hw = p->h * p->w, chw = p->c * hw, span = (b->oy1 - b->oy0) * p->ow;
  if (direct && b->ni == 1) {
    *ld = hw;
    return x + b->i0 * chw + g * p->cg * hw + b->oy0 * p->ow;
  }
  for (int64_t i = 0; i < b->ni; i++) {
    im2col_tile(p, x + (b->i0 + i) * chw, xf, g * p->cg, p->cg, b->oy0, b->oy1, col, b->cols,
                i * span, xbuf);
  }
  *ld = b->cols;
  return col;
}

/* Adds col (laid out as im2col_tile's) into channels [c0, c0 + nch) of one
 * image's dxi. */
static void col2im_tile(const conv_shape* p, const float* col, int64_t ld, int64_t col0,
                        float* dxi, int64_t c0, int64_t nch, int64_t oy0, int64_t oy1) {
  const int64_t h = p->h, w = p->w, r = p->r, s = p->s, ow = p->ow;
  for (int64_t ci = 0; ci < nch; ci++) {
    float* xc = dxi + (c0 + ci) * h * w;
    for (int64_t kr = 0; kr < r; kr++) {
      for (int64_t ks = 0; ks < s; ks++) {
        const float* row = col + ((ci * r + kr) * s + ks) * ld + col0;
        const int64_t off_w = p->pw - ks * p->dw;
        int64_t lo, hi;
        valid_range(off_w, p->sw, w, ow, &lo, &hi);
        if (hi <= lo) continue;
        for (int64_t oy = oy0; oy < oy1; oy++) {
          const int64_t iy = oy * p->sh - p->ph + kr * p->dh;
          if (iy < 0 || iy >= h) continue;
          const float* src = row + (oy - oy0) * ow;
          float* dst = xc + iy * w - off_w;
          if (p->sw == 1) {
#pragma omp simd
            for (int64_t ox = lo; ox < hi; ox++) dst[ox] += src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * p->sw] += src[ox];
          }
        }
      }
    }
  }
}

/* Per-thread scratch of `each` floats (64-byte multiples) for `threads`. */
static float* thread_scratch(int64_t each, int threads, int64_t extra) {
  if (each * threads + extra == 0) return NULL;
  return (float*)lits_scratch_alloc((each * threads + extra) * (int64_t)sizeof(float));
}

static int64_t round16(int64_t v) { return (v + 15) / 16 * 16; }

static int min_threads(int nt, int64_t items) { return items < nt ? (int)items : nt; }

/* The per-thread scratch of the two walks that read x through tile_columns
 * (forward and filter gradient), in floats: the im2col tile (none when x is
 * read in place and a tile is one image), a [kg, cols] tile of y or dy when
 * a tile holds several images (or the own GEMM's column offsets), the own
 * GEMM's packed columns, then the transformed rows of x. */
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
    w.ktile = round16(2 * t->max_cols); /* int64 offsets */
    w.per = w.col + w.ktile + w.pack + (w.gather ? 0 : round16(xbuf_floats(p, xf, t->rows)));
    return w;
  }
  w.col = !w.direct || t->imgs > 1 ? round16(p->crs_g * t->max_cols) : 0;
  w.ktile = t->imgs > 1 ? round16(p->kg * t->max_cols) : 0;
  w.per = w.col + w.ktile + round16(xbuf_floats(p, xf, t->rows));
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

int lits_conv_gemm_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* weight, const float* bias, float* y, int act) {
  const int nt = omp_get_max_threads();
  const tiling t = make_tiling(p, p->crs_g, nt);
  const int64_t kohw = p->k * p->ohw;
  const x_walk w = plan_x_walk(p, xf, &t, 1);
  const int threads = min_threads(nt, t.count);
  const int64_t packed = w.own ? lits_packed_gemm_weights_floats(p->k, p->crs_g) : 0;
  float* scratch = thread_scratch(w.per, threads, packed);
  if (w.per + packed > 0 && scratch == NULL) return LITS_ERR_MEMORY;
  float* ap = w.own ? scratch + w.per * threads : NULL; /* the packed weights */
  if (w.own) lits_packed_gemm_pack_a(weight, p->k, p->crs_g, 0, ap);
#pragma omp parallel num_threads(threads)
  {
    float *col, *out, *pack, *xbuf;
    x_walk_buffers(&w, scratch, omp_get_thread_num(), &col, &out, &pack, &xbuf);
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t.count; ti++) {
      const tile b = tile_at(p, &t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow; /* columns per image */
      for (int64_t g = 0; g < p->groups; g++) {
        float* cm = b.ni == 1 ? y + b.i0 * kohw + g * p->kg * p->ohw + b.oy0 * p->ow : out;
        const int64_t ldc = b.ni == 1 ? p->ohw : b.cols;
        const float* wg = weight + g * p->kg * p->crs_g;
        if (w.own) { /* the tile's columns (of one or several images) straight into y */
          int64_t* off = (int64_t*)out;
          const int64_t hw = p->h * p->w;
          const float* src = x + b.i0 * p->c * hw;
          int64_t ldx = hw;
          if (w.gather) { /* x's columns in place, strided or not */
            for (int64_t j = 0; j < b.cols; j++) {
              const int64_t img = j / span, jj = j % span, oy = b.oy0 + jj / p->ow;
              off[j] = img * p->c * hw + oy * p->sh * p->w + (jj % p->ow) * p->sw;
            }
          } else { /* an im2col tile, transformed as it was made */
            src = tile_columns(p, x, xf, 0, &b, 0, col, xbuf, &ldx);
            for (int64_t j = 0; j < b.cols; j++) off[j] = j;
          }
          lits_packed_gemm(p->k, b.cols, p->crs_g, ap, src, ldx, off, w.gather ? xf : NULL,
                           p->c, y + b.i0 * kohw + b.oy0 * p->ow, p->ohw, span, kohw, pack);
        } else {
          int64_t ldb;
          const float* bm = tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
          lits_sgemm_serial(0, 0, p->kg, b.cols, p->crs_g, 1.0f, wg, p->crs_g, bm, ldb, 0.0f, cm,
                            ldc);
        }
        /* Bias and activation while the tile is still in cache; tiles of
         * several images scatter to y here. */
        for (int64_t i = 0; i < b.ni; i++) {
          for (int64_t ki = 0; ki < p->kg; ki++) {
            const int64_t kk = g * p->kg + ki;
            float* dst = y + (b.i0 + i) * kohw + kk * p->ohw + b.oy0 * p->ow;
            const int in_place = b.ni == 1 || w.own; /* the GEMM wrote y itself */
            const float* src = in_place ? dst : out + ki * b.cols + i * span;
            const float bv = bias != NULL ? bias[kk] : 0.0f;
            if (in_place && bias == NULL && act == CONV_ACT_NONE) continue;
            conv_bias_act(dst, src, span, bv, act);
          }
        }
      }
    }
  }
  lits_scratch_free(scratch);
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
      const tile b = tile_at(p, t, ti);
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
          col2im_tile(p, col, b.cols, i * p->ohw, dx + (b.i0 + i) * chw, g * p->cg, p->cg, 0,
                      p->oh);
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
          col2im_tile(p, col, cols, 0, dxi, cabs, c1 - c0, oy0, oy1);
        }
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

/* A pointwise convolution's dx = W^T dy through packed_gemm.c's GEMM,
 * tile by tile (of one image's rows or of several images): dy's columns
 * read through an offset table, dx written once. */
static int backward_data_pointwise(const conv_shape* p, const tiling* t, const float* weight,
                                   const float* dy, float* dx) {
  const int threads = min_threads(omp_get_max_threads(), t->count);
  const int64_t pack = round16(lits_packed_gemm_scratch()), per = pack + round16(2 * t->max_cols);
  const int64_t packed = lits_packed_gemm_weights_floats(p->c, p->k);
  float* scratch = thread_scratch(per, threads, packed);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* ap = scratch + per * threads;
  lits_packed_gemm_pack_a(weight, p->c, p->k, 1, ap); /* W^T: rows c, inner k */
  const int64_t hw = p->h * p->w, kohw = p->k * p->ohw;
#pragma omp parallel num_threads(threads)
  {
    float* buf = scratch + per * omp_get_thread_num();
    int64_t* off = (int64_t*)(buf + pack);
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t->count; ti++) {
      const tile b = tile_at(p, t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow;
      for (int64_t j = 0; j < b.cols; j++) off[j] = j / span * kohw + b.oy0 * p->ow + j % span;
      lits_packed_gemm(p->c, b.cols, p->k, ap, dy + b.i0 * kohw, p->ohw, off, NULL, p->k,
                       dx + b.i0 * p->c * hw + b.oy0 * p->w, hw, span, p->c * hw, buf);
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

int lits_conv_gemm_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                 float* dx) {
  const tiling t = make_tiling(p, p->crs_g, omp_get_max_threads());
  if (p->pointwise && p->groups == 1 && lits_packed_gemm_applies(t.max_cols) &&
      (t.imgs == 1 || p->ohw % 32 == 0)) {
    return backward_data_pointwise(p, &t, weight, dy, dx);
  }
  if (t.imgs > 1) return backward_data_image_tiles(p, &t, weight, dy, dx);
  return backward_data_row_tiles(p, &t, weight, dy, dx);
}

int lits_conv_gemm_backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                   const float* dy, float* dweight) {
  const int nt = omp_get_max_threads();
  const tiling t = make_tiling(p, p->crs_g, nt);
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
      const tile b = tile_at(p, &t, ti);
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
        bm = tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
        lits_sgemm_serial(0, 1, p->kg, p->crs_g, b.cols, 1.0f, am, lda, bm, ldb,
                          first ? 0.0f : 1.0f, acc + g * p->kg * p->crs_g, p->crs_g);
      }
      first = 0;
    }
    if (tid < 64) touched[tid] = !first;
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t j = 0; j < wn; j++) {
      float v = touched[0] ? dweight[j] : 0.0f;
      for (int u = 1; u < threads; u++) {
        if (touched[u]) v += accs[acc_n * (u - 1) + j];
      }
      dweight[j] = v;
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
