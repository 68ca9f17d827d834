/* conv_bf16.c: 2-D convolution as PyTorch's CPU autocast computes it: the
 * (transformed) input, the weights and dy rounded to bfloat16, products and
 * sums in fp32, the bias added in fp32, fp32 outputs (not rounded: the
 * caller decides).
 *
 * A one-channel stride-2 forward (ResNet's stem) goes to conv_stem.c,
 * which rounds its operands to bf16 and sums their exact products in fp32.
 * After oneDNN (conv_bf16_onednn.c) had its say, the larger stride-1 3x3
 * layers on CPUs without AMX go to fp32 Winograd over bf16-rounded
 * operands, and the forward of one input channel to the fp32 direct
 * kernel so (conv_bf16_rounded.c): both beat our bf16 kernels there.
 * Filters with several taps (3x3, 7x7; no groups or dilation) go to the
 * direct kernels, which read x (or dy) rounded once per image instead of
 * an im2col matrix: conv_bf16_direct.c (forward, stride-1 backward data)
 * and conv_bf16_filter.c (filter gradient); the filter gradient of a 1x1
 * convolution of small images to conv_bf16_pointwise.c, of a depthwise one
 * to conv_depthwise_filter.c (over rounded operands). The rest (1x1,
 * groups oneDNN declines, dilation, strided backward data, narrow
 * images) goes through im2col / col2im tiles (conv_tiles.h,
 * conv_bf16_cols.c for stride 2), as conv_gemm.c's fp32 GEMM path does,
 * with bf16_gemm.c's single-threaded GEMM in place of SGEMM: the weights
 * are packed once per call and shared, threads take whole tiles and pack
 * their own columns. The rounding happens as operands are packed, so no
 * bf16 copy of a whole tensor is made. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bf16_blocking.h" /* lits_bf16_amx_on */
#include "bf16_internal.h"
#include "common.h"
#include "conv_bf16_onednn.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "fused_internal.h"
#include "stream_store.h"

/* Whether the direct kernels take the shape: kind 0 forward, 1 backward
 * data (conv_bf16_direct.c), 2 filter gradient (conv_bf16_filter.c);
 * LITS_CONV_ALGO=gemm keeps im2col + GEMM (read on every call, as conv.c
 * does), for tests and benchmarks that compare the two, and so does a CPU
 * where the GEMM runs AMX tiles (the direct kernels are vdpbf16ps; where
 * oneDNN is missing, ResNet-50's stride-1 3x3 layers, batch 16, took 84,
 * 71 and 88 ms a step forward, backward data and filter gradient through
 * im2col and the tiles against 281, 284 and 266 direct). */
static int use_direct(const conv_shape* p, int kind) {
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "gemm") == 0) return 0;
  if (lits_bf16_amx_on()) return 0;
  if (kind == 2) return lits_conv_bf16_filter_applies(p);
  return lits_conv_bf16_direct_applies(p, kind);
}

/* Per-thread scratch of the walks that read x through an im2col tile
 * (forward and filter gradient), in floats: the tile (none when a 1x1
 * convolution of one image reads x in place), a [kg, cols] gather of y or
 * dy for tiles of several images, the transformed rows of x, the GEMM's
 * packed blocks. A 1x1 convolution of one image reads x in place even
 * with a transform: the GEMM applies it as it packs x (b_xform), instead
 * of writing the transformed tile in fp32 and packing that (ResNet-50's
 * layer1 1x1 at 64^2, batch 16, 2 threads, both builds alternating in one
 * process: forward 2-11% and filter gradient 6-9% faster). */
typedef struct {
  int direct;
  int64_t col, gather, xbuf, gemm, per;
} walk;

/* conv_tiles.c's tiling, but a 1x1 stride-1 convolution of small images
 * takes one image per tile: x and y (or dy and dx) are then the GEMM's
 * operands in place, with no gather of x, y or dy into tiles of several
 * images, and no scatter or col2im after. The narrower GEMM (64 or 256
 * columns) costs less than those copies: ResNet-50's 1x1 layers at 8^2 and
 * 16^2, batch 16, 2 threads, both builds alternating in one process: 3-15%
 * faster (2048 -> 512 backward data 6.8 -> 5.8 ms), none slower. The
 * filter gradient keeps tiles of several images: its K runs over the
 * images, and a tile per image would split the fp32 sums differently
 * (it gained 1-7%, not worth results that change in their last bits). */
static tiling bf16_tiling(const conv_shape* p, int nt) {
  tiling t = lits_conv_make_tiling(p, p->crs_g, nt);
  if (p->pointwise && t.imgs > 1) {
    t.imgs = 1;
    t.rows = p->oh;
    t.per_img = 1;
    t.count = p->n;
    t.max_cols = p->ohw;
  }
  return t;
}

static walk plan_walk(const conv_shape* p, const conv_xform* xf, const tiling* t, int64_t m,
                      int64_t n, int64_t k) {
  walk w;
  w.direct = p->pointwise;
  w.col = !w.direct || t->imgs > 1 ? round16(p->crs_g * t->max_cols) : 0;
  w.gather = t->imgs > 1 ? round16(p->kg * t->max_cols) : 0;
  w.xbuf = round16(lits_conv_xbuf_floats(p, xf, t->rows));
  w.gemm = round16(lits_gemm_bf16_serial_words(m, n, k));
  w.per = w.col + w.gather + w.xbuf + w.gemm;
  return w;
}

/* The weights of every group as op(A) (W, or W^T when trans: rows x k per
 * group, aw words apart), packed once by the threads of the calling
 * parallel region: blocks of PACK_ROWS rows, then the for's barrier. */
#define PACK_ROWS 48
static void pack_weights(const conv_shape* p, const float* weight, int trans, int64_t rows,
                         int64_t k, int64_t aw, uint32_t* apk) {
  const int64_t blocks = (rows + PACK_ROWS - 1) / PACK_ROWS;
#pragma omp for schedule(static)
  for (int64_t j = 0; j < p->groups * blocks; j++) {
    const int64_t g = j / blocks, r0 = j % blocks * PACK_ROWS;
    const int64_t r1 = r0 + PACK_ROWS < rows ? r0 + PACK_ROWS : rows;
    lits_gemm_bf16_pack_a(trans, rows, k, weight + g * p->kg * p->crs_g, p->crs_g, r0, r1,
                          apk + g * aw);
  }
}

/* The transform of group g's channels of x for the GEMM's packing when
 * tile b reads x in place (a 1x1 convolution, one image), else NULL. */
static const bf16_b_xform* b_xform(const conv_shape* p, const conv_xform* xf, const walk* w,
                                   const tile* b, int64_t g, bf16_b_xform* out) {
  if (!w->direct || b->ni != 1 || !conv_xform_active(xf)) return NULL;
  const bf16_b_xform t = {xf->coef, xf->relu, p->c, g * p->cg};
  *out = t;
  return out;
}

/* A tile of one image larger than this takes its epilogue in pieces (see
 * forward): 256 x 64^2 and 512 x 32^2 (ResNet-50's, 64^2 7.1 ms a call
 * against 12.3, 32^2 even); 1024 x 16^2 (1 MiB) was 20% slower so. */
#define EPILOGUE_TILE_BYTES ((int64_t)1 << 20)

/* Columns of an epilogue's piece: its rows (fp32) in about 512 KiB, whole
 * micro-kernel panels, at least 128 (for 2048 rows: 1 MiB). */
static int64_t epilogue_piece(int64_t rows) {
  const int64_t cols = (int64_t)512 * 1024 / (4 * rows) / 32 * 32;
  return cols < 128 ? 128 : cols;
}

static int forward(const conv_shape* p, const float* x, const uint16_t* x16,
                   const conv_xform* xf, const float* weight, const float* bias, float* y,
                   conv_epilogue* ep) {
  const int nt = omp_get_max_threads();
  const int epilogue = ep != NULL && (ep->y_coef != NULL || ep->r != NULL || ep->relu);
  /* y's moments gathered by the GEMM's micro-kernels as they write it,
   * where y is the GEMM's output itself (no bias, no epilogue, no AMX tiles)
   * and the tiles are those of one thread: their sums, merged in tile order,
   * are then the same for any number of threads. Else the caller's pass
   * over y: with more threads than one thread's tiles (a batch smaller than
   * the threads), tiles of one thread's layout would leave threads idle. */
  const tiling t = bf16_tiling(p, nt), t1 = bf16_tiling(p, 1);
  const int moments = ep != NULL && ep->moments != NULL && !epilogue && bias == NULL &&
                      !lits_bf16_amx_on() && t.count == t1.count && t.imgs == t1.imgs &&
                      t.rows == t1.rows;
  const int64_t kohw = p->k * p->ohw;
  const walk w = plan_walk(p, xf, &t, p->kg, t.max_cols, p->crs_g);
  const int threads = min_threads(nt, t.count);
  const int64_t aw = round16(lits_gemm_bf16_packed_a_words(p->kg, p->crs_g));
  /* (Not with an epilogue: it reads back the tile the GEMM just wrote.) */
  const int stream = !epilogue && stream_output(p->n * kohw); /* see lits_gemm_bf16_serial_packed */
  /* One image with an epilogue: the GEMM writes a piece of columns at a
   * time into ebuf (rows `pitch` floats apart), the epilogue finishes it
   * there, in cache, and it is streamed to y. Written to y directly, a
   * tile's rows 16 KiB apart (64^2) shared a few cache sets and the
   * epilogue read them back from memory: 64 -> 256 at 64^2, batch 16, with
   * a residual, took 10-12 ms against 3.2 without an epilogue; 6.0 so, 7.1
   * inside the model. */
  const int64_t piece = epilogue_piece(p->kg), pitch = piece + 16;
  const int pieces = epilogue && p->kg * t.max_cols * 4 > EPILOGUE_TILE_BYTES;
  const int64_t ew = pieces ? round16(p->kg * pitch) : 0, per = w.per + ew;
  const int big = stream_output(p->n * kohw); /* y streamed from ebuf */
  float* ms = NULL;
  if (moments) {
    ms = (float*)lits_scratch_alloc(lits_conv_moments_scratch(p->k, t.count, threads) * 4);
    if (ms == NULL) return LITS_ERR_MEMORY;
  }
  float* scratch = thread_scratch(per, threads, aw * p->groups);
  if (scratch == NULL) {
    lits_scratch_free(ms);
    return LITS_ERR_MEMORY;
  }
  uint32_t* apk = (uint32_t*)(scratch + per * threads);
#pragma omp parallel num_threads(threads)
  {
    float* col = scratch + per * omp_get_thread_num();
    float* out = col + w.col;
    float* xbuf = out + w.gather;
    uint32_t* gbuf = (uint32_t*)(xbuf + w.xbuf);
    float* ebuf = col + w.per;
    pack_weights(p, weight, 0, p->kg, p->crs_g, aw, apk);
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t.count; ti++) {
      const tile b = lits_conv_tile_at(p, &t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow; /* columns per image */
      conv_tile_moments tm;
      if (moments) tm = lits_conv_moments_tile(ms, p->k, t.count, omp_get_thread_num());
      for (int64_t g = 0; g < p->groups; g++) {
        int64_t ldb = p->ohw;
        /* x16: a 1x1 stride-1 layer's image as it is (lits_conv_bf16_x16_native). */
        const float* bm =
            x16 != NULL ? NULL : lits_bf16_tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
        const uint16_t* bm16 =
            x16 != NULL ? x16 + (b.i0 * p->c + g * p->cg) * p->ohw + b.oy0 * p->ow : NULL;
        const bf16_packed_a pa = {apk + g * aw, p->kg, 0};
        bf16_b_xform bx;
        const bf16_b_xform* bxp = b_xform(p, xf, &w, &b, g, &bx);
        const int64_t y0 = b.i0 * kohw + g * p->kg * p->ohw + b.oy0 * p->ow; /* one image's */
        if (b.ni == 1 && pieces && p->kg * b.cols * 4 > EPILOGUE_TILE_BYTES) {
          for (int64_t c0 = 0; c0 < b.cols; c0 += piece) {
            const int64_t nc = b.cols - c0 < piece ? b.cols - c0 : piece;
            lits_gemm_bf16_serial_packed(&pa, 0, p->kg, nc, p->crs_g, bm + c0, ldb, 0.0f, ebuf,
                                         pitch, gbuf, bxp, 0);
            for (int64_t ki = 0; ki < p->kg; ki++) {
              const int64_t kk = g * p->kg + ki, at = y0 + ki * p->ohw + c0;
              float* e = ebuf + ki * pitch;
              /* The next row's residual into L1: runs of one piece are too
               * short for the hardware prefetcher (9.5 -> 6.0 ms above). */
              if (ep->r != NULL && ki + 1 < p->kg) {
                const float* next = ep->r + at + p->ohw;
                for (int64_t j = 0; j < nc; j += 16) __builtin_prefetch(next + j, 0, 3);
              }
              if (bias != NULL) conv_bias_act(e, e, nc, bias[kk], CONV_ACT_NONE);
              fused_affine_span(e, e, fused_affine_of(ep->y_coef, p->k, kk),
                                ep->r != NULL ? ep->r + at : NULL,
                                fused_affine_of(ep->r_coef, p->k, kk), nc, ep->relu);
              if (big) {
                stream_copy(y + at, e, nc);
              } else {
                memcpy(y + at, e, (size_t)nc * sizeof(float));
              }
            }
          }
          continue;
        }
        /* One image: the GEMM writes y; several: their [kg, cols] gather. */
        float* cm = b.ni == 1 ? y + y0 : out;
        const int64_t ldc = b.ni == 1 ? p->ohw : b.cols;
        const bf16_moments mo = {moments ? tm.acc + 16 * g * p->kg : NULL,
                                 moments ? tm.shift + g * p->kg : NULL};
        const int nt_out = b.ni == 1 && bias == NULL && stream;
        if (bm16 != NULL) {
          lits_gemm_bf16_serial_packed_moments_b16(&pa, p->kg, b.cols, p->crs_g, bm16, ldb, 0.0f,
                                                   cm, ldc, gbuf, nt_out, moments ? &mo : NULL);
        } else {
          lits_gemm_bf16_serial_packed_moments(&pa, 0, p->kg, b.cols, p->crs_g, bm, ldb, 0.0f, cm,
                                               ldc, gbuf, bxp, nt_out, moments ? &mo : NULL);
        }
        /* The bias in fp32, and the epilogue, while the tile is in cache;
         * gathers scatter to y. */
        for (int64_t i = 0; i < b.ni; i++) {
          for (int64_t ki = 0; ki < p->kg; ki++) {
            const int64_t kk = g * p->kg + ki;
            const int64_t at = (b.i0 + i) * kohw + kk * p->ohw + b.oy0 * p->ow;
            float* dst = y + at;
            if (b.ni > 1 || bias != NULL) {
              const float* src = b.ni == 1 ? dst : out + ki * b.cols + i * span;
              conv_bias_act(dst, src, span, bias != NULL ? bias[kk] : 0.0f, CONV_ACT_NONE);
            }
            if (epilogue) {
              fused_affine_span(dst, dst, fused_affine_of(ep->y_coef, p->k, kk),
                                ep->r != NULL ? ep->r + at : NULL,
                                fused_affine_of(ep->r_coef, p->k, kk), span, ep->relu);
            }
          }
        }
      }
      if (moments) lits_conv_moments_end_tile(ms, &tm, p->k, t.count, threads, ti, b.cols);
    }
    if (epilogue && big) _mm_sfence(); /* the streamed rows before the barrier */
  }
  lits_scratch_free(scratch);
  if (ep != NULL) ep->applied = 1;
  if (moments) {
    lits_conv_moments_merge(ms, p->k, t.count, threads, ep->moments);
    ep->moments_done = 1;
    lits_scratch_free(ms);
  }
  return LITS_OK;
}

/* dx = col2im(W^T dy). Tiles of several images gather their dy to
 * [kg, cols] and make all their columns in one GEMM; larger images give a
 * thread one image (or, for a small batch, a block of its channels) so
 * that col2im's overlapping adds never race. A 1x1 convolution's columns
 * are dx itself. dy16: dy stored as bf16 instead (dy NULL), for the 1x1
 * shapes lits_conv_bf16_dy16_native takes. */
static int backward_data(const conv_shape* p, const float* weight, const float* dy,
                         const uint16_t* dy16, float* dx) {
  const int nt = omp_get_max_threads();
  const tiling t = bf16_tiling(p, nt);
  const int64_t hw = p->h * p->w, chw = p->c * hw, kohw = p->k * p->ohw, rs = p->r * p->s;
  const int imgs = t.imgs > 1;
  const int whole = lits_bf16_col2im_writes_all(p); /* col2im writes all of dx */
  int64_t cblocks = imgs || p->n >= nt ? 1 : (nt + p->n - 1) / p->n;
  if (cblocks > p->cg) cblocks = p->cg;
  const int64_t items = imgs ? t.count : p->n * p->groups * cblocks;
  const int64_t col_n = imgs || !p->pointwise ? round16(p->crs_g * t.max_cols) : 0;
  const int64_t dyp_n = imgs ? round16(p->kg * t.max_cols) : 0;
  const int64_t gw = round16(lits_gemm_bf16_serial_words(p->crs_g, t.max_cols, p->kg));
  const int64_t per = col_n + dyp_n + gw;
  const int threads = min_threads(nt, items);
  const int64_t aw = round16(lits_gemm_bf16_packed_a_words(p->crs_g, p->kg));
  float* scratch = thread_scratch(per, threads, aw * p->groups);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  uint32_t* apk = (uint32_t*)(scratch + per * threads);
#pragma omp parallel num_threads(threads)
  {
    float* col = scratch + per * omp_get_thread_num();
    float* dyp = col + col_n;
    uint32_t* gbuf = (uint32_t*)(dyp + dyp_n);
    pack_weights(p, weight, 1, p->crs_g, p->kg, aw, apk); /* W^T */
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      if (imgs) {
        const tile b = lits_conv_tile_at(p, &t, it);
        if (!whole) memset(dx + b.i0 * chw, 0, (size_t)(b.ni * chw) * sizeof(float));
        for (int64_t g = 0; g < p->groups; g++) {
          for (int64_t i = 0; i < b.ni; i++) {
            for (int64_t ki = 0; ki < p->kg; ki++) {
              memcpy(dyp + ki * b.cols + i * p->ohw,
                     dy + (b.i0 + i) * kohw + (g * p->kg + ki) * p->ohw,
                     (size_t)p->ohw * sizeof(float));
            }
          }
          const bf16_packed_a pa = {apk + g * aw, p->crs_g, 0};
          lits_gemm_bf16_serial_packed(&pa, 0, p->crs_g, b.cols, p->kg, dyp, b.cols, 0.0f, col,
                                       b.cols, gbuf, NULL, 0);
          for (int64_t i = 0; i < b.ni; i++) {
            lits_bf16_col2im_tile(p, col, b.cols, i * p->ohw, dx + (b.i0 + i) * chw, g * p->cg,
                                  p->cg, 0, p->oh);
          }
        }
        continue;
      }
      const int64_t i = it / (p->groups * cblocks), g = (it / cblocks) % p->groups;
      const int64_t cb = it % cblocks;
      const int64_t c0 = p->cg * cb / cblocks, c1 = p->cg * (cb + 1) / cblocks;
      const int64_t cabs = g * p->cg + c0; /* first absolute channel */
      float* dxi = dx + i * chw;
      if (!p->pointwise && !whole) {
        memset(dxi + cabs * hw, 0, (size_t)((c1 - c0) * hw) * sizeof(float));
      }
      for (int64_t oy0 = 0; oy0 < p->oh; oy0 += t.rows) {
        const int64_t oy1 = oy0 + t.rows < p->oh ? oy0 + t.rows : p->oh;
        const int64_t cols = (oy1 - oy0) * p->ow;
        const int64_t dyo = i * kohw + g * p->kg * p->ohw + oy0 * p->ow;
        const float* dyt = dy16 != NULL ? NULL : dy + dyo;
        const bf16_packed_a pa = {apk + g * aw, p->crs_g, c0 * rs}; /* rows c0 r s .. of W^T */
        if (p->pointwise) {
          float* dst = dxi + cabs * hw + oy0 * p->ow;
          const int stream = stream_output(p->n * chw);
          if (dy16 != NULL) {
            lits_gemm_bf16_serial_packed_b16(&pa, c1 - c0, cols, p->kg, dy16 + dyo, p->ohw, 0.0f,
                                             dst, hw, gbuf, stream);
          } else {
            lits_gemm_bf16_serial_packed(&pa, 0, c1 - c0, cols, p->kg, dyt, p->ohw, 0.0f, dst, hw,
                                         gbuf, NULL, stream);
          }
        } else {
          lits_gemm_bf16_serial_packed(&pa, 0, (c1 - c0) * rs, cols, p->kg, dyt, p->ohw, 0.0f,
                                       col, cols, gbuf, NULL, 0);
          lits_bf16_col2im_tile(p, col, cols, 0, dxi, cabs, c1 - c0, oy0, oy1);
        }
      }
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

/* dW = dy x col^T, K running over the output columns: each thread sums its
 * tiles into its own copy of dW in fp32 (the first thread's is dweight),
 * and the copies are added at the end. */
static int backward_filter(const conv_shape* p, const float* x, const uint16_t* x16,
                           const conv_xform* xf, const float* dy, const uint16_t* dy16,
                           float* dweight) {
  const int nt = omp_get_max_threads() < 64 ? omp_get_max_threads() : 64; /* touched[] */
  tiling t = lits_conv_make_tiling(p, p->crs_g, nt);
  /* Tiles of small images hold up to 512 columns (the GEMM's KC: one pass
   * over dW per tile), a thread's fair share at most, rather than a col
   * matrix of ~512 KiB: dW (2.4 M floats for 512 -> 512 3x3) is then added
   * to half as often. ResNet-50 at 8^2 (4 -> 8 images a tile), batch 16, 2
   * threads, alternating: 3x3 512 -> 512 21.4 -> 19.5 ms, 3x3/2 20.0 ->
   * 19.0, 1x1 2048 -> 512 9.3 -> 8.7, 512 -> 2048 7.1 -> 6.8. */
  if (t.imgs > 1) {
    const int64_t fair = (p->n + nt - 1) / nt, fill = 512 / p->ohw;
    int64_t imgs = fill > t.imgs ? fill : t.imgs;
    if (imgs > fair) imgs = fair;
    t.imgs = imgs;
    t.count = (p->n + imgs - 1) / imgs;
    t.max_cols = imgs * p->ohw;
  }
  /* x16 is read in place: one image a tile (a 1x1 stride-1 layer). */
  if (x16 != NULL && (t.imgs > 1 || !p->pointwise)) return LITS_ERR_UNAVAILABLE;
  const int64_t kohw = p->k * p->ohw, wn = p->k * p->crs_g, acc_n = round16(wn);
  const walk w = plan_walk(p, xf, &t, p->kg, p->crs_g, t.max_cols);
  const int threads = min_threads(nt, t.count);
  float* scratch = thread_scratch(w.per, threads, acc_n * (threads - 1));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* accs = scratch + w.per * threads;
  int touched[64] = {0};
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float* col = scratch + w.per * tid;
    float* dyp = col + w.col;
    float* xbuf = dyp + w.gather;
    uint32_t* gbuf = (uint32_t*)(xbuf + w.xbuf);
    float* acc = tid == 0 ? dweight : accs + acc_n * (tid - 1);
    int first = 1;
#pragma omp for schedule(static)
    for (int64_t ti = 0; ti < t.count; ti++) {
      const tile b = lits_conv_tile_at(p, &t, ti);
      const int64_t span = (b.oy1 - b.oy0) * p->ow;
      for (int64_t g = 0; g < p->groups; g++) {
        const int64_t amo = b.i0 * kohw + g * p->kg * p->ohw + b.oy0 * p->ow;
        const float* am = dy16 != NULL ? NULL : dy + amo;
        const uint16_t* am16 = dy16 != NULL ? dy16 + amo : NULL;
        int64_t lda = p->ohw, ldb;
        if (b.ni > 1) { /* several images: dy's rows gathered to match the tile's columns */
          for (int64_t i = 0; i < b.ni; i++) {
            for (int64_t ki = 0; ki < p->kg; ki++) {
              const int64_t from = (b.i0 + i) * kohw + (g * p->kg + ki) * p->ohw;
              const int64_t to = ki * b.cols + i * span;
              if (dy16 != NULL) {
                memcpy((uint16_t*)dyp + to, dy16 + from, (size_t)span * sizeof(uint16_t));
              } else {
                memcpy(dyp + to, dy + from, (size_t)span * sizeof(float));
              }
            }
          }
          am = dy16 != NULL ? NULL : dyp;
          am16 = dy16 != NULL ? (const uint16_t*)dyp : NULL;
          lda = b.cols;
        }
        const float beta = first ? 0.0f : 1.0f;
        float* cg = acc + g * p->kg * p->crs_g;
        if (x16 != NULL) { /* x's rows [c, cols] of the image: B^T */
          const uint16_t* xb = x16 + (b.i0 * p->c + g * p->cg) * p->ohw + b.oy0 * p->ow;
          lits_gemm_bf16_serial_bt16(p->kg, p->crs_g, b.cols, am, am16, lda, xb, p->ohw, beta, cg,
                                     p->crs_g, gbuf);
          continue;
        }
        const float* bm = lits_bf16_tile_columns(p, x, xf, w.direct, &b, g, col, xbuf, &ldb);
        bf16_b_xform bx;
        if (am16 != NULL) {
          lits_gemm_bf16_serial_a16(1, p->kg, p->crs_g, b.cols, am16, lda, bm, ldb, beta, cg,
                                    p->crs_g, gbuf, b_xform(p, xf, &w, &b, g, &bx));
        } else {
          lits_gemm_bf16_serial(0, 1, p->kg, p->crs_g, b.cols, 1.0f, am, lda, bm, ldb, beta, cg,
                                p->crs_g, gbuf, b_xform(p, xf, &w, &b, g, &bx));
        }
      }
      first = 0;
    }
    touched[tid] = !first;
#pragma omp barrier
    lits_conv_sum_partials(dweight, accs, acc_n, touched, threads, wn);
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

int lits_conv_bf16_dy16_native(const conv_shape* p) {
  return p->pointwise && p->groups == 1 && !lits_conv_bf16_onednn_may_take(p, 1) &&
         !lits_conv_bf16_onednn_may_take(p, 2) && !lits_conv_bf16_rounded_filter_takes(p);
}

int lits_conv_bf16_backward_data16(const conv_shape* p, const float* weight, const uint16_t* dy,
                                   float* dx) {
  return backward_data(p, weight, NULL, dy, dx);
}

int lits_conv_bf16_backward_filter16(const conv_shape* p, const float* x, const conv_xform* xf,
                                     const uint16_t* dy, float* dweight) {
  if (lits_conv_bf16_pointwise_filter_applies(p)) {
    return lits_conv_bf16_pointwise_filter(p, x, NULL, xf, NULL, dy, dweight);
  }
  return backward_filter(p, x, NULL, xf, NULL, dy, dweight);
}

int lits_conv_bf16_x16_native(const conv_shape* p) {
  return p->pointwise && p->groups == 1 && !lits_conv_stem_applies(p) &&
         !lits_conv_bf16_onednn_may_take(p, 0) && !lits_conv_bf16_onednn_may_take(p, 2) &&
         !lits_conv_bf16_rounded_filter_takes(p);
}

int lits_conv_bf16_forward_x16(const conv_shape* p, const lits_conv2d_params* params_host,
                               const uint16_t* x, const float* weight, float* y,
                               double* moments) {
  conv_epilogue ep = {0};
  ep.moments = moments;
  const int st = forward(p, NULL, x, NULL, weight, NULL, y, moments != NULL ? &ep : NULL);
  if (st != LITS_OK || moments == NULL || ep.moments_done) return st;
  lits_conv_moments_of(params_host, y, moments);
  return LITS_OK;
}

int lits_conv_bf16_backward_filter_x16(const conv_shape* p, const uint16_t* x, const float* dy,
                                       const uint16_t* dy16, float* dweight) {
  if (lits_conv_bf16_pointwise_filter_applies(p)) {
    return lits_conv_bf16_pointwise_filter(p, NULL, x, NULL, dy, dy16, dweight);
  }
  return backward_filter(p, NULL, x, NULL, dy, dy16, dweight);
}

/* The forward on the algorithm for the shape, with the epilogue ep (NULL
 * for none) applied by the GEMM's tiles or in a pass after the others. */
static int forward_any(const char* fn, const lits_conv2d_params* params_host, const float* x,
                       const float* x_coef, int32_t x_relu, const float* weight,
                       const float* bias, float* y, conv_epilogue* ep);

int lits_conv2d_forward_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                 const float* x_coef, int32_t x_relu, const float* weight,
                                 const float* bias, float* y) {
  return forward_any("lits_conv2d_forward_bf16_f32", params_host, x, x_coef, x_relu, weight, bias,
                     y, NULL);
}

int lits_conv2d_forward_epilogue_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                          const float* x_coef, int32_t x_relu,
                                          const float* weight, const float* bias,
                                          const float* y_coef, const float* r,
                                          const float* r_coef, int32_t relu, float* y) {
  static const char* fn = "lits_conv2d_forward_epilogue_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_conv_epilogue_args(fn, r, r_coef, relu));
  conv_epilogue ep = {y_coef, r, r_coef, relu, 0, NULL, 0, NULL};
  return lits_conv_bf16_forward_epilogue(fn, params_host, x, x_coef, x_relu, weight, bias, y, &ep);
}

int lits_conv2d_forward_moments_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* x_coef, int32_t x_relu,
                                         const float* weight, const float* bias, float* y,
                                         double* moments) {
  static const char* fn = "lits_conv2d_forward_moments_bf16_f32";
  lits_clear_error();
  LITS_REQUIRE(moments != NULL, "%s: moments is NULL", fn);
  conv_epilogue ep = {0};
  ep.moments = moments;
  const int st = forward_any(fn, params_host, x, x_coef, x_relu, weight, bias, y, &ep);
  if (st != LITS_OK || ep.moments_done) return st;
  lits_conv_moments_of(params_host, y, moments); /* checked by forward_any */
  return LITS_OK;
}

int lits_conv_bf16_forward_epilogue(const char* fn, const lits_conv2d_params* params_host,
                                    const float* x, const float* x_coef, int32_t x_relu,
                                    const float* weight, const float* bias, float* y,
                                    conv_epilogue* ep) {
  const int st = forward_any(fn, params_host, x, x_coef, x_relu, weight, bias, y, ep);
  return st != LITS_OK || ep->applied ? st : lits_conv_epilogue_pass(params_host, ep, y);
}

static int forward_any(const char* fn, const lits_conv2d_params* params_host, const float* x,
                       const float* x_coef, int32_t x_relu, const float* weight,
                       const float* bias, float* y, conv_epilogue* ep) {
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_forward_f32"));
  const conv_xform xf_value = {x_coef, x_relu != 0, 0};
  const conv_xform* xf = conv_xform_active(&xf_value) ? &xf_value : NULL;
  if (lits_conv_stem_applies(&p)) { /* fp32 FMAs of bf16-rounded values */
    return lits_conv_status(fn, &p,
                            lits_conv_stem_forward(&p, x, xf, weight, bias, y, 1, NULL, NULL, 0));
  }
  if (lits_conv_bf16_rounded_direct_takes(&p)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_rounded_direct(&p, x, xf, weight, bias, y));
  }
  if (lits_conv_depthwise_chw_applies(&p, xf)) { /* NCHW planes, each rounded as it is read */
    return lits_conv_status(fn, &p, lits_conv_depthwise_chw_forward(&p, x, weight, bias, 1, y, ep));
  }
  const int od = lits_conv_bf16_onednn(&p, 0, x, xf, weight, bias, y);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_applies(&p, 0)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_forward(&p, x, xf, weight, bias, 1, y, ep));
  }
  if (lits_conv_bf16_winograd_takes(&p, 0)) { /* NaN or Inf out: again below (conv_internal.h) */
    const int st = lits_conv_bf16_winograd(&p, 0, x, xf, weight, bias, y);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
  }
  if (use_direct(&p, 0)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_direct_forward(&p, x, xf, weight, bias, y));
  }
  return lits_conv_status(fn, &p, forward(&p, x, NULL, xf, weight, bias, y, ep));
}

int lits_conv2d_backward_data_bf16_f32(const lits_conv2d_params* params_host, const float* weight,
                                       const float* dy, float* dx) {
  static const char* fn = "lits_conv2d_backward_data_bf16_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(weight != NULL && dy != NULL && dx != NULL, "%s: weight, dy or dx is NULL", fn);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_backward_data_f32"));
  const int od = lits_conv_bf16_onednn(&p, 1, dy, NULL, weight, NULL, dx);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_applies(&p, 1) && conv_padded_dy_ok(&p, weight)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_backward_data(&p, weight, dy, 1, dx));
  }
  if (lits_conv_bf16_winograd_takes(&p, 1)) {
    const int st = lits_conv_bf16_winograd(&p, 1, dy, NULL, weight, NULL, dx);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
  }
  if (use_direct(&p, 1) && conv_padded_dy_ok(&p, weight)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_direct_backward_data(&p, weight, dy, dx));
  }
  return lits_conv_status(fn, &p, backward_data(&p, weight, dy, NULL, dx));
}

int lits_conv2d_backward_filter_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* x_coef, int32_t x_relu, const float* dy,
                                         float* dweight) {
  static const char* fn = "lits_conv2d_backward_filter_bf16_f32";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_filter_setup(fn, &p, params_host, x, dy, dweight));
  LITS_CHECKED(lits_bf16_ready(fn, "lits_conv2d_backward_filter_f32"));
  const conv_xform xf_value = {x_coef, x_relu != 0, 0};
  const conv_xform* xf = conv_xform_active(&xf_value) ? &xf_value : NULL;
  if (lits_conv_bf16_rounded_filter_takes(&p)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_rounded_filter(&p, x, xf, dy, dweight));
  }
  const int od = lits_conv_bf16_onednn(&p, 2, x, xf, dy, NULL, dweight);
  if (od != LITS_ONEDNN_DECLINED) return lits_conv_status(fn, &p, od);
  if (lits_conv_depthwise_filter_applies(&p)) {
    return lits_conv_status(fn, &p, lits_conv_depthwise_filter(&p, x, xf, dy, 1, dweight));
  }
  if (lits_conv_bf16_grouped_filter_takes(&p)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_grouped_filter(&p, x, xf, dy, dweight));
  }
  if (lits_conv_bf16_winograd_takes(&p, 2)) {
    const int st = lits_conv_bf16_winograd(&p, 2, x, xf, dy, NULL, dweight);
    if (st != LITS_WG_NONFINITE) return lits_conv_status(fn, &p, st);
  }
  if (use_direct(&p, 2)) {
    return lits_conv_status(fn, &p, lits_conv_bf16_filter(&p, x, xf, dy, dweight));
  }
  if (lits_conv_bf16_pointwise_filter_applies(&p)) {
    const int st = lits_conv_bf16_pointwise_filter(&p, x, NULL, xf, dy, NULL, dweight);
    return lits_conv_status(fn, &p, st);
  }
  return lits_conv_status(fn, &p, backward_filter(&p, x, NULL, xf, dy, NULL, dweight));
}
