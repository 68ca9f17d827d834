/* conv_winograd.c: 3x3 convolutions with stride 1 and padding 1 by
 * Winograd's minimal filtering (Lavin and Gray, 2016). F(2x2, 3x3): a 2x2
 * output tile costs 16 multiplications per pair of input and output
 * channels instead of 36; F(4x4, 3x3), whose transforms are in
 * conv_winograd4.c: a 4x4 tile costs 36 instead of 144. The forward and
 * backward data take F(4x4, 3x3), the filter gradient too where its tiles
 * are many enough (filter_tile); LITS_WINOGRAD_TILE=2 keeps F(2x2, 3x3).
 *
 * The weights become U = G g G^T and each input tile (m + 2 square, tiles
 * overlapping by 2) becomes V = B^T d B: (m + 2)^2 planes, and plane xi is
 * one GEMM M[xi] [k, tiles] = U[xi] [k, c] x V[xi] [c, tiles]; the output
 * tile is A^T M A. Tiles go in blocks whose V and M stay in cache, a thread
 * taking whole blocks. Backward data is the same convolution of dy with the
 * weights transposed and flipped. The filter gradient runs the transforms'
 * adjoints: dM = A dy A^T per tile, dU[xi] = sum over blocks of
 * dM[xi] V[xi]^T, and dw = G^T dU G. A deferred batch norm / ReLU on the
 * input (conv_xform) is applied as tiles are read; padding stays zero. */
#include <omp.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "conv_winograd.h"
#include "fused_internal.h"

/* Bytes of a block's V and M together (per thread): L2 here. */
#define WG_BLOCK_BYTES (2 << 20)
/* ... but at least this many tiles (a thread's share permitting): the block
 * is each GEMM's width, and narrower ones re-read the transformed weights
 * for too little work (F(4x4, 3x3) on 16 x 16 images, 256 channels: 1.3x
 * faster with blocks of 128 tiles than of the 28 that fit 2 MiB). */
#define WG_MIN_TILES 128

int lits_conv_winograd_applies(const conv_shape* p) {
  return p->r == 3 && p->s == 3 && p->sh == 1 && p->sw == 1 && p->ph == 1 && p->pw == 1 &&
         p->dh == 1 && p->dw == 1 && p->groups == 1;
}

/* F(2x2, 3x3)'s U = G f G^T of one 3x3 filter f: value xi at out[xi * stride]. */
static void wg2_filter(const float f[3][3], float* out, int64_t stride) {
  float t[4][3]; /* G f */
  for (int b = 0; b < 3; b++) {
    t[0][b] = f[0][b];
    t[1][b] = 0.5f * (f[0][b] + f[1][b] + f[2][b]);
    t[2][b] = 0.5f * (f[0][b] - f[1][b] + f[2][b]);
    t[3][b] = f[2][b];
  }
  for (int a = 0; a < 4; a++) { /* (G f) G^T */
    out[(a * 4 + 0) * stride] = t[a][0];
    out[(a * 4 + 1) * stride] = 0.5f * (t[a][0] + t[a][1] + t[a][2]);
    out[(a * 4 + 2) * stride] = 0.5f * (t[a][0] - t[a][1] + t[a][2]);
    out[(a * 4 + 3) * stride] = t[a][2];
  }
}

/* U[xi][o][i] (o < no, i < ni) from 3x3 filters for output tiles m x m:
 * filter (o, i) is at w + o * so + i * si, read flipped when flip
 * (backward data). A thread makes the planes' rows of one o in a buffer,
 * then copies each row out whole ((m + 2)^2 scattered stores per filter
 * would stall on the store buffers). */
int lits_wg_transform_weights(const float* w, int64_t no, int64_t ni, int64_t so, int64_t si,
                              int flip, int64_t m, float* u) {
  const int nt = omp_get_max_threads();
  const int64_t planes = (m + 2) * (m + 2);
  float* bufs = (float*)lits_scratch_alloc(planes * ni * nt * (int64_t)sizeof(float));
  if (bufs == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(nt)
  {
    float* rows = bufs + planes * ni * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t o = 0; o < no; o++) {
      int64_t i = 0;
      /* Sixteen filters at a time, vectorised across them (a filter alone
       * was 36% of a training forward of 512 -> 512 at 8^2: its divisions). */
      for (; m == 4 && i + 16 <= ni; i += 16) {
        lits_wg4_filters16(w + o * so + i * si, si, flip, rows + i, ni);
      }
      for (; i < ni; i++) {
        const float* g = w + o * so + i * si;
        float f[3][3];
        for (int a = 0; a < 3; a++) {
          for (int b = 0; b < 3; b++) f[a][b] = flip ? g[(2 - a) * 3 + (2 - b)] : g[a * 3 + b];
        }
        if (m == 4) lits_wg4_filter(f, rows + i, ni);
        else wg2_filter(f, rows + i, ni);
      }
      for (int64_t xi = 0; xi < planes; xi++) {
        memcpy(u + (xi * no + o) * ni, rows + xi * ni, (size_t)ni * sizeof(float));
      }
    }
  }
  lits_scratch_free(bufs);
  return LITS_OK;
}

/* V[xi][ci][j] for the tiles of tile rows r0 .. r0 + nr (tile j = row-in-
 * block * tw + tx), ld columns. Vectorised along a tile row: the input row
 * (transformed, zero-padded) is split into even and odd columns, and tile
 * tx reads even[tx], odd[tx], even[tx + 1], odd[tx + 1]. buf: 8 (tw + 1) + w. */
static void transform_input(const wg_geom* g, const float* x, const conv_xform* xf, int64_t r0,
                            int64_t nr, int64_t ld, float* v, float* buf) {
  const int64_t h = g->h, w = g->w, tw = g->tw, plane = g->c * ld;
  const int round = conv_xform_rounds(xf), xact = conv_xform_active(xf) || round;
  float* ev = buf;              /* [4][tw + 1] even columns of rows y0 .. y0 + 3 */
  float* od = buf + 4 * (tw + 1); /* [4][tw + 1] odd columns */
  float* xrow = buf + 8 * (tw + 1); /* [w] a transformed input row */
  for (int64_t ri = 0; ri < nr; ri++) {
    const int64_t gr = r0 + ri, img = gr / g->th, ty = gr % g->th, y0 = 2 * ty - 1;
    for (int64_t ci = 0; ci < g->c; ci++) {
      const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, g->c, ci);
      const int relu = xact && xf->relu;
      const float* src = x + (img * g->c + ci) * h * w;
      for (int a = 0; a < 4; a++) {
        const int64_t yy = y0 + a;
        float* e = ev + a * (tw + 1);
        float* o = od + a * (tw + 1);
        /* padded column p = xx + 1 goes to (p even ? e : o)[p / 2] */
        if (yy < 0 || yy >= h) {
          memset(e, 0, (size_t)(tw + 1) * sizeof(float));
          memset(o, 0, (size_t)(tw + 1) * sizeof(float));
          continue;
        }
        const float* row = src + yy * w;
        if (xact) { /* the row transformed (and rounded) once, vectorised */
          conv_input_row(xrow, row, w, t, conv_xform_active(xf), relu, round);
          row = xrow;
        }
        e[0] = 0.0f; /* column -1: padding */
        const int64_t half = w / 2; /* o[i] = column 2i, e[i + 1] = 2i + 1 */
        for (int64_t i = 0; i < half; i++) {
          o[i] = row[2 * i];
          e[i + 1] = row[2 * i + 1];
        }
        for (int64_t i = half; i <= tw; i++) {
          o[i] = 2 * i < w ? row[2 * i] : 0.0f;
          if (i < tw) e[i + 1] = 0.0f;
        }
      }
      float* out = v + ci * ld + ri * tw;
      const float *e0 = ev, *e1 = ev + (tw + 1), *e2 = ev + 2 * (tw + 1), *e3 = ev + 3 * (tw + 1);
      const float *o0 = od, *o1 = od + (tw + 1), *o2 = od + 2 * (tw + 1), *o3 = od + 3 * (tw + 1);
#pragma omp simd
      for (int64_t tx = 0; tx < tw; tx++) {
        /* d[a][0..3] = e_a[tx], o_a[tx], e_a[tx + 1], o_a[tx + 1]; rows of d B */
        float q[4][4];
        const float* es[4] = {e0, e1, e2, e3};
        const float* os[4] = {o0, o1, o2, o3};
        for (int a = 0; a < 4; a++) {
          const float d0 = es[a][tx], d1 = os[a][tx], d2 = es[a][tx + 1], d3 = os[a][tx + 1];
          q[a][0] = d0 - d2;
          q[a][1] = d1 + d2;
          q[a][2] = d2 - d1;
          q[a][3] = d1 - d3;
        }
        for (int b = 0; b < 4; b++) { /* B^T (d B) */
          out[(0 * 4 + b) * plane + tx] = q[0][b] - q[2][b];
          out[(1 * 4 + b) * plane + tx] = q[1][b] + q[2][b];
          out[(2 * 4 + b) * plane + tx] = q[2][b] - q[1][b];
          out[(3 * 4 + b) * plane + tx] = q[1][b] - q[3][b];
        }
      }
    }
  }
}

/* y for tile rows r0 .. r0 + nr from M[xi][ko][j], plus bias; vectorised
 * along a tile row into buf (4 tw), then interleaved into the output rows.
 * 0 where an output of these tiles is NaN or +-Inf, else 1. */
static int transform_output(const wg_geom* g, const float* m, int64_t r0, int64_t nr,
                            int64_t ld, const float* bias, float* y, float* buf) {
  const int64_t h = g->h, w = g->w, tw = g->tw, plane = g->k * ld;
  int finite = 1;
  for (int64_t ri = 0; ri < nr; ri++) {
    const int64_t gr = r0 + ri, img = gr / g->th, ty = gr % g->th, oy = 2 * ty;
    for (int64_t ko = 0; ko < g->k; ko++) {
      const float bv = bias != NULL ? bias[ko] : 0.0f;
      const float* in = m + ko * ld + ri * tw;
      float* yv = buf; /* [a][b][tx]: output (oy + a, 2 tx + b) */
#pragma omp simd
      for (int64_t tx = 0; tx < tw; tx++) {
        float s[2][4]; /* A^T M */
        for (int b = 0; b < 4; b++) {
          const float m0 = in[(0 + b) * plane + tx], m1 = in[(4 + b) * plane + tx];
          const float m2 = in[(8 + b) * plane + tx], m3 = in[(12 + b) * plane + tx];
          s[0][b] = m0 + m1 + m2;
          s[1][b] = m1 - m2 - m3;
        }
        for (int a = 0; a < 2; a++) { /* (A^T M) A */
          yv[(a * 2 + 0) * tw + tx] = s[a][0] + s[a][1] + s[a][2] + bv;
          yv[(a * 2 + 1) * tw + tx] = s[a][1] - s[a][2] - s[a][3] + bv;
        }
      }
      finite &= lits_conv_finite(yv, 4 * tw);
      float* dst = y + (img * g->k + ko) * h * w;
      for (int a = 0; a < 2 && oy + a < h; a++) {
        float* row = dst + (oy + a) * w;
        const float* c0 = yv + (a * 2) * tw;
        const float* c1 = yv + (a * 2 + 1) * tw;
        const int64_t full = w / 2; /* tiles whose two columns are both inside */
        for (int64_t tx = 0; tx < full; tx++) {
          row[2 * tx] = c0[tx];
          row[2 * tx + 1] = c1[tx];
        }
        if (full < tw) row[2 * full] = c0[full];
      }
    }
  }
  return finite;
}

typedef struct {
  int64_t rows, tb, blocks; /* tile rows and tiles per block, blocks */
  int64_t bufn;             /* floats of a thread's row buffers */
  int threads;
} wg_plan;

/* Blocks of whole tile rows, about WG_BLOCK_BYTES of transformed input and
 * products each, and at least one per thread. */
static wg_plan plan_blocks(const wg_geom* g) {
  const int nt = omp_get_max_threads();
  wg_plan b;
  b.rows = WG_BLOCK_BYTES / 4 / (g->planes * (g->c + g->k)) / g->tw;
  if (b.rows * g->tw < WG_MIN_TILES) b.rows = (WG_MIN_TILES + g->tw - 1) / g->tw;
  if (b.rows < 1) b.rows = 1;
  const int64_t fair = (g->rows + nt - 1) / nt;
  if (b.rows > fair) b.rows = fair;
  b.tb = b.rows * g->tw;
  b.blocks = (g->rows + b.rows - 1) / b.rows;
  b.threads = b.blocks < nt ? (int)b.blocks : nt;
  b.bufn = g->m == 4 ? lits_wg4_buf_floats(g, b.tb) : 8 * (g->tw + 1) + g->w + 16;
  return b;
}

/* Input channels from which the planes' products take packed_gemm.c's
 * GEMM (lits_wg_run): 128 as measured on AMD Zen 4; 64 on Intel's cores
 * (two 512-bit FMA ports), where, batch 16, 2 threads, the prepared
 * forward of ResNet-50's 64 -> 64 at 64^2 took 9.1 ms against OpenBLAS's
 * 9.9 and the small CNN's 64 -> 128 at 32^2 3.9 against 4.9 (Xeon with
 * AMX), but 32 -> 64 at 64^2 5.8 against 5.2. */
static int64_t pack_min_channels(void) {
  static int64_t min = 0;
  if (min == 0) min = __builtin_cpu_is("intel") ? 64 : 128;
  return min;
}

int lits_wg_packs(const wg_geom* g, int64_t tb) {
  return g->c >= pack_min_channels() && lits_packed_gemm_applies(tb);
}

void lits_wg_pack_planes(const wg_geom* g, const float* u, float* up) {
  const int64_t upl = lits_packed_gemm_weights_floats(g->k, g->c);
#pragma omp parallel for schedule(static)
  for (int64_t xi = 0; xi < g->planes; xi++) {
    lits_packed_gemm_pack_a(u + xi * g->k * g->c, g->k, g->c, 0, up + xi * upl);
  }
}

/* y = conv3x3(relu?(T(x)), weights u (transformed, [planes][k][c])) + bias.
 * With 128+ input channels the planes' products go through
 * packed_gemm.c's GEMM where it applies (AVX-512), each plane of u
 * packed once per call rather than once per block and plane as OpenBLAS
 * packs it: 1.13x-1.23x on ResNet-50's 128- to 512-channel layers (AMD EPYC
 * Zen 4); with fewer, OpenBLAS's small-matrix kernels are 1.1x faster
 * there (lits_wg_packs: from 64 channels on Intel).
 * Planes packed already (ready, from lits_wg_pack_planes) go to that GEMM
 * whatever the block width. */
int lits_wg_run(const wg_geom* g, const float* x, const conv_xform* xf, const float* u,
                const float* ready, const float* bias, float* y) {
  const wg_plan b = plan_blocks(g);
  const int64_t rows = b.rows, tb = b.tb, blocks = b.blocks, bufn = b.bufn, np = g->planes;
  const int threads = b.threads;
  const int own = ready != NULL || lits_wg_packs(g, tb);
  const int64_t upl = own ? lits_packed_gemm_weights_floats(g->k, g->c) : 0;
  const int64_t pack = own ? lits_packed_gemm_scratch() + 2 * tb + 16 : 0; /* + int64 offsets */
  const int64_t per = np * (g->c + g->k) * tb + bufn + pack;
  const int64_t mine = own && ready == NULL ? np * upl : 0; /* planes packed here */
  float* scratch = (float*)lits_scratch_alloc((per * threads + mine) * (int64_t)sizeof(float));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  const float* up = ready;
  int spoiled = 0; /* an output NaN or +-Inf */
  if (mine > 0) {
    lits_wg_pack_planes(g, u, scratch + per * threads);
    up = scratch + per * threads;
  }
#pragma omp parallel num_threads(threads)
  {
    float* v = scratch + per * omp_get_thread_num();
    float* m = v + np * g->c * tb;
    float* buf = m + np * g->k * tb;
    float* pbuf = buf + bufn;
    int64_t* off = (int64_t*)(pbuf + lits_packed_gemm_scratch());
    for (int64_t j = 0; own && j < tb; j++) off[j] = j;
#pragma omp for schedule(static)
    for (int64_t bi = 0; bi < blocks; bi++) {
      const int64_t r0 = bi * rows, nr = g->rows - r0 < rows ? g->rows - r0 : rows;
      const int64_t nb = nr * g->tw;
      if (g->m == 4) lits_wg4_transform_input(g, x, xf, r0, nr, tb, v, buf);
      else transform_input(g, x, xf, r0, nr, tb, v, buf);
      for (int64_t xi = 0; xi < np; xi++) {
        const float* vx = v + xi * g->c * tb;
        float* mx = m + xi * g->k * tb;
        if (own) {
          lits_packed_gemm(g->k, nb, g->c, up + xi * upl, vx, tb, off, NULL, g->c, mx, tb, nb,
                           0, pbuf);
        } else {
          lits_sgemm_serial(0, 0, g->k, nb, g->c, 1.0f, u + xi * g->k * g->c, g->c, vx, tb, 0.0f,
                            mx, tb);
        }
      }
      const int finite = g->m == 4 ? lits_wg4_transform_output(g, m, r0, nr, tb, bias, y, buf)
                                   : transform_output(g, m, r0, nr, tb, bias, y, buf);
      if (!finite) __atomic_store_n(&spoiled, 1, __ATOMIC_RELAXED);
    }
  }
  lits_scratch_free(scratch);
  return spoiled ? LITS_WG_NONFINITE : LITS_OK;
}

wg_geom lits_wg_geom(int64_t n, int64_t c, int64_t k, int64_t h, int64_t w, int64_t m) {
  wg_geom g = {n, c, k, h, w, m, m + 2, (m + 2) * (m + 2), (h + m - 1) / m, (w + m - 1) / m, 0};
  g.rows = n * g.th;
  return g;
}

int64_t lits_wg_tile(void) {
  const char* env = getenv("LITS_WINOGRAD_TILE");
  return env != NULL && strcmp(env, "2") == 0 ? 2 : 4;
}

/* y = conv(x, w) through the tiles of lits_wg_tile: weights w (filter (o, i) at
 * w + o * so + i * si, flipped when flip) from ni to no channels. */
static int winograd_conv(int64_t n, int64_t ni, int64_t no, int64_t h, int64_t w_, const float* x,
                         const conv_xform* xf, const float* w, int64_t so, int64_t si, int flip,
                         const float* bias, float* y) {
  const wg_geom g = lits_wg_geom(n, ni, no, h, w_, lits_wg_tile());
  if (g.m == 4 && lits_wg_packs(&g, plan_blocks(&g).tb)) { /* U made packed, in one pass */
    float* up = (float*)lits_scratch_alloc(
        g.planes * lits_packed_gemm_weights_floats(no, ni) * (int64_t)sizeof(float));
    if (up == NULL) return LITS_ERR_MEMORY;
    int st = lits_wg4_pack_weights(w, no, ni, so, si, flip, up);
    if (st == LITS_OK) st = lits_wg_run(&g, x, xf, NULL, up, bias, y);
    lits_scratch_free(up);
    return st;
  }
  float* u = (float*)lits_scratch_alloc(g.planes * no * ni * (int64_t)sizeof(float));
  if (u == NULL) return LITS_ERR_MEMORY;
  int st = lits_wg_transform_weights(w, no, ni, so, si, flip, g.m, u);
  if (st == LITS_OK) st = lits_wg_run(&g, x, xf, u, NULL, bias, y);
  lits_scratch_free(u);
  return st;
}

int lits_conv_winograd_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* weight, const float* bias, float* y) {
  return winograd_conv(p->n, p->c, p->k, p->h, p->w, x, xf, weight, p->c * 9, 9, 0, bias, y);
}

int lits_conv_winograd_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                     int dy_bf16, float* dx) {
  /* dx = conv(dy, w') with w'[c][k] = w[k][c] flipped: output channels c. */
  const conv_xform round = {NULL, 0, 1};
  return winograd_conv(p->n, p->k, p->c, p->h, p->w, dy, dy_bf16 ? &round : NULL, weight, 9,
                       p->c * 9, 1, NULL, dx);
}

/* dM[xi][ko][j] = A dy A^T for the 2x2 dy tiles of tile rows r0 .. r0 + nr
 * (zero past the edges): the transpose of the output transform. buf:
 * 4 tw. */
static void transform_grad(const wg_geom* g, const float* dy, int dy_bf16, int64_t r0, int64_t nr,
                           int64_t ld, float* dm, float* buf) {
  const int64_t h = g->h, w = g->w, tw = g->tw, plane = g->k * ld;
  for (int64_t ri = 0; ri < nr; ri++) {
    const int64_t gr = r0 + ri, img = gr / g->th, ty = gr % g->th, oy = 2 * ty;
    for (int64_t ko = 0; ko < g->k; ko++) {
      const float* src = dy + (img * g->k + ko) * h * w;
      float* cols = buf; /* [a][b][tx] = dy(oy + a, 2 tx + b) */
      for (int a = 0; a < 2; a++) {
        float* c0 = cols + (a * 2) * tw;
        float* c1 = cols + (a * 2 + 1) * tw;
        if (oy + a >= h) {
          memset(c0, 0, (size_t)(2 * tw) * sizeof(float));
          continue;
        }
        const float* row = src + (oy + a) * w;
        const int64_t full = w / 2;
        if (dy_bf16) { /* rounded as split (conv_input_row says why) */
          for (int64_t tx = 0; tx < full; tx++) {
            c0[tx] = conv_round_bf16(row[2 * tx]);
            c1[tx] = conv_round_bf16(row[2 * tx + 1]);
          }
        } else {
          for (int64_t tx = 0; tx < full; tx++) {
            c0[tx] = row[2 * tx];
            c1[tx] = row[2 * tx + 1];
          }
        }
        if (full < tw) {
          c0[full] = dy_bf16 ? conv_round_bf16(row[2 * full]) : row[2 * full];
          c1[full] = 0.0f;
        }
      }
      float* out = dm + ko * ld + ri * tw;
#pragma omp simd
      for (int64_t tx = 0; tx < tw; tx++) {
        const float y00 = cols[tx], y01 = cols[tw + tx];
        const float y10 = cols[2 * tw + tx], y11 = cols[3 * tw + tx];
        /* A dy: rows r0, r0 + r1, r0 - r1, -r1; then (.) A^T on each row */
        const float p[4] = {y00, y00 + y10, y00 - y10, -y10};
        const float q[4] = {y01, y01 + y11, y01 - y11, -y11};
        for (int a = 0; a < 4; a++) {
          out[(a * 4 + 0) * plane + tx] = p[a];
          out[(a * 4 + 1) * plane + tx] = p[a] + q[a];
          out[(a * 4 + 2) * plane + tx] = p[a] - q[a];
          out[(a * 4 + 3) * plane + tx] = -q[a];
        }
      }
    }
  }
}

/* dweight [k][c][3][3] = G^T dU G from dU [16][k][c]. */
static void untransform_weights(const float* du, int64_t k, int64_t c, float* dweight) {
  const int64_t step = k * c;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < k; o++) {
    for (int64_t i = 0; i < c; i++) {
      const float* u = du + o * c + i;
      float t[3][4]; /* G^T dU */
      for (int b = 0; b < 4; b++) {
        const float u0 = u[b * step], u1 = u[(4 + b) * step];
        const float u2 = u[(8 + b) * step], u3 = u[(12 + b) * step];
        t[0][b] = u0 + 0.5f * (u1 + u2);
        t[1][b] = 0.5f * (u1 - u2);
        t[2][b] = 0.5f * (u1 + u2) + u3;
      }
      float* g = dweight + (o * c + i) * 9;
      for (int a = 0; a < 3; a++) { /* (G^T dU) G */
        g[a * 3 + 0] = t[a][0] + 0.5f * (t[a][1] + t[a][2]);
        g[a * 3 + 1] = 0.5f * (t[a][1] - t[a][2]);
        g[a * 3 + 2] = 0.5f * (t[a][1] + t[a][2]) + t[a][3];
      }
    }
  }
}

/* The filter gradient's tile: F(4x4, 3x3) where its tiles give every
 * thread WG_MIN_TILES or more, else F(2x2, 3x3). Measured at batch 16, 2
 * threads (AMD EPYC Zen 4): 64 -> 64 at 64 x 64 12.1 ms against 16.8,
 * 128 -> 128 at 32 x 32 10.5 against 15.3, 256 -> 256 at 16 x 16 13.2
 * against 15.4; at 8 x 8 (512 channels, 32 tiles a thread) its 36 planes of
 * dU, rewritten by each block's short GEMMs, cost what its fewer
 * multiplications save: 23.5-25 ms against 23.1 (OpenBLAS's GEMMs). With
 * gemm_nt.c's (ours) F(4x4) everywhere: 512 -> 512 at 8 x 8 13.3 ms
 * against oneDNN's 15.0 and F(4x4) on OpenBLAS's 14.6 (bench/filter_ab.ts,
 * Xeon with AMX, 2 threads, alternating in one process; F(2x2) on ours
 * took 15.9-16.4 in separate runs). LITS_WINOGRAD_TILE=2 or 4 forces one. */
static int64_t filter_tile(const conv_shape* p, int ours) {
  const char* env = getenv("LITS_WINOGRAD_TILE"); /* 2 or 4 force a tile (tests, benchmarks) */
  if (env != NULL && (strcmp(env, "2") == 0 || strcmp(env, "4") == 0)) return env[0] - '0';
  const int64_t tiles = p->n * ((p->h + 3) / 4) * ((p->w + 3) / 4);
  return ours || tiles >= WG_MIN_TILES * omp_get_max_threads() ? 4 : 2;
}

/* Whether the filter gradient's planes go through gemm_nt.c rather than
 * OpenBLAS's NT SGEMM: 32 input channels or more (a whole panel of its
 * micro-kernel). Batch 16, 2 threads, Xeon with AMX, x and dy cold, both
 * alternating in one process (bench/filter_ab.ts, two runs), OpenBLAS's
 * time over ours: ResNet-50's 64 -> 64 at 64^2 1.09-1.13, 128 -> 128 at
 * 32^2 1.02-1.04, 256 -> 256 at 16^2 1.05-1.07, 512 -> 512 at 8^2
 * 1.10-1.11; the small CNN's 32 -> 64 at 64^2 1.07-1.09, 64 -> 128 at
 * 32^2 1.02-1.04; but 16 -> 32 at 128^2 (half a panel) took 14-15 ms
 * against 12.1-12.5 in separate runs. */
static int nt_gemm_ours(const conv_shape* p) { return p->c >= 32 && lits_packed_gemm_applies(32); }

/* lits_conv_winograd_backward_filter with one block a thread (plan b):
 * blocks transformed side by side, then dU's planes shared out (planes ps
 * floats apart; gemm_nt's scratch gn floats a thread). */
static int filter_planes_split(const wg_geom* g, const wg_plan* b, const float* x,
                               const conv_xform* xf, const float* dy, int dy_bf16, int64_t ps,
                               int64_t gn, float* dweight) {
  const int64_t tb = b->tb, np = g->planes, un = np * ps;
  const int64_t per = np * (g->c + g->k) * tb + b->bufn + gn;
  float* scratch = (float*)lits_scratch_alloc((per * b->threads + un) * (int64_t)sizeof(float));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* du = scratch + per * b->threads;
#pragma omp parallel num_threads(b->threads)
  {
    /* Block tid, and the others' too where the team has fewer threads
     * than asked for. */
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    for (int64_t bi = tid; bi < b->blocks; bi += nth) {
      float* v = scratch + per * bi;
      float* dm = v + np * g->c * tb;
      const int64_t r0 = bi * b->rows, nr = g->rows - r0 < b->rows ? g->rows - r0 : b->rows;
      lits_wg4_transform_input(g, x, xf, r0, nr, tb, v, dm + np * g->k * tb);
      lits_wg4_transform_grad(g, dy, dy_bf16, r0, nr, tb, dm, dm + np * g->k * tb);
    }
    /* gemm_nt's scratch: past the transforms' buffer of block (thread) tid */
    float* gbuf = scratch + per * tid + np * (g->c + g->k) * tb + b->bufn;
#pragma omp barrier
#pragma omp for schedule(static)
    for (int64_t xi = 0; xi < np; xi++) {
      for (int64_t bj = 0; bj < b->blocks; bj++) { /* every block, in order */
        const float* vj = scratch + per * bj;
        const float* dmj = vj + np * g->c * tb;
        const int64_t rj = bj * b->rows;
        const int64_t nb = (g->rows - rj < b->rows ? g->rows - rj : b->rows) * g->tw;
        lits_gemm_nt(g->k, g->c, nb, dmj + xi * g->k * tb, tb, vj + xi * g->c * tb, tb, bj > 0,
                     du + xi * ps, g->c, gbuf);
      }
    }
  }
  lits_wg4_untransform(du, 1, 0, ps, g->k, g->c, dweight);
  lits_scratch_free(scratch);
  return LITS_OK;
}

static int backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* dy, int dy_bf16, float* dweight) {
  /* Tiles of x (c channels) and of dy (k channels) share the geometry. */
  const int ours = nt_gemm_ours(p); /* gemm_nt.c, else OpenBLAS */
  wg_geom g = lits_wg_geom(p->n, p->c, p->k, p->h, p->w, filter_tile(p, ours));
  const wg_plan b = plan_blocks(&g);
  const int64_t rows = b.rows, tb = b.tb, blocks = b.blocks, bufn = b.bufn, np = g.planes;
  const int threads = b.threads;
  const int64_t gn = ours ? round16(lits_gemm_nt_scratch(g.k, tb)) : 0;
  /* dU's planes F(4x4)'s untransform reads side by side: 16 floats more
   * than k c apart, so that 36 of them at a power of two apart (ResNet's
   * 512 -> 512: 1 MiB) do not all fall in one set of the caches. */
  const int64_t ps = g.k * g.c + (g.m == 4 ? 16 : 0);
  const int64_t un = np * ps;
  /* One block a thread (few tiles, many channels: ResNet-50's 256 and 512
   * channels at 16^2 and 8^2): each thread transforms its block, then
   * takes its share of the planes over every block into one dU, instead
   * of a dU of its own that the untransform then adds up (512 -> 512 at
   * 8^2, batch 16, 2 threads: 12.9 -> 8.8 ms; 256 at 16^2 7.6 -> 6.8). */
  if (g.m == 4 && ours && blocks == threads && threads > 1) {
    return filter_planes_split(&g, &b, x, xf, dy, dy_bf16, ps, gn, dweight);
  }
  const int64_t per = np * (g.c + g.k) * tb + bufn + gn + un;
  float* scratch = (float*)lits_scratch_alloc(per * threads * (int64_t)sizeof(float));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  int team = threads; /* the threads that ran, and wrote a dU each (OMP_DYNAMIC may give fewer) */
#pragma omp parallel num_threads(threads)
  {
#pragma omp single
    team = omp_get_num_threads();
    float* v = scratch + per * omp_get_thread_num();
    float* dm = v + np * g.c * tb;
    float* buf = dm + np * g.k * tb;
    float* gbuf = buf + bufn;
    float* du = gbuf + gn; /* this thread's sum over its blocks */
    int first = 1;
#pragma omp for schedule(static)
    for (int64_t bi = 0; bi < blocks; bi++) {
      const int64_t r0 = bi * rows, nr = g.rows - r0 < rows ? g.rows - r0 : rows;
      const int64_t nb = nr * g.tw;
      if (g.m == 4) {
        lits_wg4_transform_input(&g, x, xf, r0, nr, tb, v, buf);
        lits_wg4_transform_grad(&g, dy, dy_bf16, r0, nr, tb, dm, buf);
      } else {
        transform_input(&g, x, xf, r0, nr, tb, v, buf);
        transform_grad(&g, dy, dy_bf16, r0, nr, tb, dm, buf);
      }
      for (int64_t xi = 0; xi < np; xi++) {
        const float *a = dm + xi * g.k * tb, *bt = v + xi * g.c * tb;
        float* c = du + xi * ps;
        if (ours) {
          lits_gemm_nt(g.k, g.c, nb, a, tb, bt, tb, !first, c, g.c, gbuf);
        } else {
          lits_sgemm_serial(0, 1, g.k, g.c, nb, 1.0f, a, tb, bt, tb, first ? 0.0f : 1.0f, c, g.c);
        }
      }
      first = 0;
    }
    if (first) memset(du, 0, (size_t)un * sizeof(float)); /* a thread without blocks */
  }
  /* Back to 3x3 from the sum of the threads' dU: F(4x4)'s adds them as it
   * reads them; F(2x2)'s into the first one's, then. */
  float* du0 = scratch + (per - un);
  if (g.m == 4) {
    lits_wg4_untransform(du0, team, per, ps, g.k, g.c, dweight);
  } else {
    for (int t = 1; t < team; t++) {
      const float* dut = scratch + per * t + (per - un);
#pragma omp parallel for simd schedule(static)
      for (int64_t i = 0; i < un; i++) du0[i] += dut[i];
    }
    untransform_weights(du0, g.k, g.c, dweight);
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

int lits_conv_winograd_backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                       const float* dy, int dy_bf16, float* dweight) {
  const int st = backward_filter(p, x, xf, dy, dy_bf16, dweight);
  return st == LITS_OK && !lits_conv_finite(dweight, p->k * p->c * 9) ? LITS_WG_NONFINITE : st;
}
