/* conv_bf16_filter.c: the bf16 filter gradient without im2col (no groups or
 * dilation): dW[k][c][tap] = sum over positions of dy[k][pos] x[c][pos + tap],
 * the sum over positions in pairs (vdpbf16ps' K). Per image (or share of
 * one), x is rounded once into bf16 rows, padded and split by column phase
 * (stride), and dy into [pair][32 k] words; then a micro-kernel of 12 input
 * channels (one tap) x 32 output channels broadcasts a 32-bit word straight
 * from x's rows: the two positions of a pair are adjacent bf16 there, for
 * every tap. Each thread sums into its own dW^T [c][tap][k] in fp32; the
 * copies are added and transposed at the end.
 *
 * Why: the im2col + GEMM filter gradient (conv_bf16.c) packs the column
 * matrix with 16 x 16 transposes, 9 words per input element for a 3x3
 * filter; here x is rounded once and dy (9 times smaller) is transposed.
 * With fewer than 4 input channels the micro-kernel's rows are taps
 * instead of channels (tap_panels). */
#include <stddef.h>
#include <string.h>

#include <omp.h>

#include "bf16_internal.h"
#include "common.h"
#include "conv_tiles.h"
#include "fused_internal.h"

#define MR 12       /* input channels per micro-kernel: 24 accumulators */
#define NB 32       /* output channels per micro-kernel: two vectors */
#define MAX_TAPS 64 /* r s */
#define XB_BYTES (512 * 1024) /* converted rows of x per item: in L2 with dy's */
#define MIN_STEPS 128 /* position pairs per micro-kernel call, at least (rows permitting) */

typedef struct {
  int64_t n, c, h, w, k, r, s, sh, sw, ph, pw, oh, ow, taps;
  int64_t nph;    /* column phases kept: min(sw, s) */
  int64_t wq;     /* bf16 per phase of a converted row */
  int64_t rowlen; /* bf16 per converted row: nph wq */
  int64_t ppr;    /* position pairs per output row */
  int64_t kblocks;
} fgeom;

static inline int64_t panel_rows(int64_t rest) {
  return rest <= MR ? rest : rest < 2 * MR ? (rest + 1) / 2 : MR;
}

static int64_t span_rows(const fgeom* g, int64_t rows) { return (rows - 1) * g->sh + g->r; }

/* bf16 between channels of nrows converted rows: an odd number of 64-byte
 * lines (the 12 rows a micro-kernel broadcasts from would share an L1 set
 * at a power-of-two distance). */
static int64_t cplane_of(const fgeom* g, int64_t nrows) {
  const int64_t p = (nrows * g->rowlen + 31) / 32 * 32;
  return p / 32 % 2 == 0 ? p + 32 : p;
}

/* Whether converted row slot sl (padded row oy0 sh + sl) is read by output
 * rows [oy0, oy1). */
static int slot_used(const fgeom* g, int64_t sl, int64_t rows) {
  for (int64_t kr = 0; kr < g->r; kr++) {
    const int64_t d = sl - kr;
    if (d >= 0 && d % g->sh == 0 && d / g->sh < rows) return 1;
  }
  return 0;
}

/* 16 floats (mask m) rounded to 16 bf16. */
BF16_TARGET static inline __m256i bf16x16(const float* x, __mmask16 m) {
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, x)), 16));
}

static inline __mmask16 mask16(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* One row of x (w floats) as bf16 into a converted row dst (zeroed here):
 * padded column ixp at phase ixp % sw, index ixp / sw. */
BF16_TARGET static void convert_row(const fgeom* g, const float* src, uint16_t* dst) {
  memset(dst, 0, (size_t)g->rowlen * 2);
  if (g->sw == 1) {
    for (int64_t j = 0; j < g->w; j += 16) {
      const __mmask16 m = mask16(g->w - j);
      _mm256_mask_storeu_epi16(dst + g->pw + j, m, bf16x16(src + j, m));
    }
    return;
  }
  if (g->sw == 2) { /* 32 columns at a time: even lanes then odd lanes (vpermw) */
    const __m512i idx = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3,
                                         1, 30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
                                         2, 0);
    for (int64_t j = 0; j < g->w; j += 32) {
      const int64_t nn = g->w - j < 32 ? g->w - j : 32;
      const __m512i v = _mm512_inserti64x4(
          _mm512_castsi256_si512(bf16x16(src + j, mask16(nn))), bf16x16(src + j + 16, mask16(nn - 16)),
          1);
      const __m512i e = _mm512_permutexvar_epi16(idx, v);
      const int64_t first = g->pw + j; /* ixp of lane 0; lanes 2m and 2m + 1 */
      const int64_t ne = (nn + 1) / 2, no = nn / 2;
      const int64_t pe = first % 2, po = (first + 1) % 2;
      if (pe < g->nph) {
        _mm256_mask_storeu_epi16(dst + pe * g->wq + first / 2, mask16(ne),
                                 _mm512_castsi512_si256(e));
      }
      if (po < g->nph) {
        _mm256_mask_storeu_epi16(dst + po * g->wq + (first + 1) / 2, mask16(no),
                                 _mm512_extracti64x4_epi64(e, 1));
      }
    }
    return;
  }
  for (int64_t ix = 0; ix < g->w; ix++) {
    const int64_t ixp = ix + g->pw;
    if (ixp % g->sw >= g->nph) continue;
    float v = src[ix];
    uint32_t u;
    memcpy(&u, &v, 4);
    u = v != v ? 0x7FC00000u : u + 0x7FFFu + (u >> 16 & 1u);
    dst[(ixp % g->sw) * g->wq + ixp / g->sw] = (uint16_t)(u >> 16);
  }
}

/* Runs of up to this many bytes are prefetched: ResNet's planes of 16^2
 * and 32^2 values are a page or less each, too short for the hardware
 * prefetcher, which starts again on every page; longer runs it follows.
 * The 3x3/2 256 -> 256 at 32^2 filter gradient, batch 16, 2 threads, AMD
 * EPYC Zen 4, without and with (ms, medians, alternating in one process):
 * alone 13.9 -> 13.2 and 18.8 -> 18.2 (two runs; other tenants shared the
 * cores), alone with 64 MB written between calls and the deferred batch
 * norm on x 16.4 -> 15.4, in ResNet-50's training step (16 steps each)
 * 18.1 -> 17.6 and 15.2 -> 14.2; the 128-channel layer at 64^2 moved by
 * -4% to +2%, the others by under 1%. */
#define PREFETCH_RUN (16 * 1024)

/* The lines of rows [iy0, iy1) of a plane of w floats into L2, where they
 * are PREFETCH_RUN bytes or fewer. */
static void prefetch_rows(const float* plane, int64_t w, int64_t iy0, int64_t iy1) {
  const char* a = (const char*)(plane + iy0 * w);
  const char* b = (const char*)(plane + iy1 * w);
  if (b - a > PREFETCH_RUN) return;
  for (; a < b; a += 64) _mm_prefetch(a, _MM_HINT_T1);
}

/* x's rows for output rows [oy0, oy0 + rows) of image xi: xb [c][slot][rowlen]. */
static void convert_x(const fgeom* g, const float* xi, const conv_xform* xf, int64_t oy0,
                      int64_t rows, int64_t cplane, uint16_t* xb, float* tmp) {
  const int64_t nrows = span_rows(g, rows), top = oy0 * g->sh - g->ph; /* slot 0's row */
  const int64_t iy0 = top < 0 ? 0 : top, iy1 = top + nrows > g->h ? g->h : top + nrows;
  for (int64_t ci = 0; ci < g->c; ci++) {
    const fused_affine t = fused_affine_of(xf != NULL ? xf->coef : NULL, g->c, ci);
    if (ci + 1 < g->c) prefetch_rows(xi + (ci + 1) * g->h * g->w, g->w, iy0, iy1);
    for (int64_t sl = 0; sl < nrows; sl++) {
      if (!slot_used(g, sl, rows)) continue;
      uint16_t* dst = xb + ci * cplane + sl * g->rowlen;
      const int64_t iy = oy0 * g->sh + sl - g->ph;
      if (iy < 0 || iy >= g->h) {
        memset(dst, 0, (size_t)g->rowlen * 2);
        continue;
      }
      const float* src = xi + (ci * g->h + iy) * g->w;
      if (conv_xform_active(xf)) {
        fused_apply(tmp, src, g->w, t, xf->relu);
        src = tmp;
      }
      convert_row(g, src, dst);
    }
  }
}

/* dy rows [oy0, oy0 + rows) of one image as dyp [kblock][row][pair][32 k]
 * words (bf16 of positions 2 pp and 2 pp + 1; missing ones zero). */
BF16_TARGET static void pack_dy(const fgeom* g, const float* dyi, int64_t oy0, int64_t rows,
                                uint32_t* dyp) {
  const int64_t ohw = g->oh * g->ow;
  for (int64_t kb = 0; kb < g->kblocks; kb++) {
    for (int64_t half = 0; half < 2; half++) {
      const int64_t k0 = kb * NB + half * 16;
      for (int64_t u = 0; u < 16 && k0 + 16 + u < g->k; u++) { /* the next 16 filters */
        prefetch_rows(dyi + (k0 + 16 + u) * ohw, g->ow, oy0, oy0 + rows);
      }
      for (int64_t oy = 0; oy < rows; oy++) {
        for (int64_t p0 = 0; p0 < g->ppr; p0 += 16) {
          __m512i v[16];
          for (int64_t u = 0; u < 16; u++) {
            v[u] = k0 + u < g->k
                       ? pairs_of(dyi + (k0 + u) * ohw + (oy0 + oy) * g->ow + 2 * p0, g->ow - 2 * p0)
                       : _mm512_setzero_si512();
          }
          transpose16(v);
          uint32_t* d = dyp + ((kb * rows + oy) * g->ppr + p0) * NB + half * 16;
          for (int64_t i = 0; i < 16 && p0 + i < g->ppr; i++) _mm512_storeu_si512(d + i * NB, v[i]);
        }
      }
    }
  }
}

#define ROW(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define DOT(i)                                                  \
  {                                                             \
    uint32_t word;                                              \
    memcpy(&word, ar + (i) * cplane + 2 * pp, 4);               \
    const __m512bh a = (__m512bh)_mm512_set1_epi32((int)word);  \
    c##i##a = _mm512_dpbf16_ps(c##i##a, a, b0);                 \
    c##i##b = _mm512_dpbf16_ps(c##i##b, a, b1);                 \
  }
#define ADD(i)                                                                           \
  if ((i) < mr) {                                                                        \
    float* cr = c + (i) * ldc;                                                           \
    _mm512_mask_storeu_ps(cr, ma, _mm512_add_ps(_mm512_maskz_loadu_ps(ma, cr), c##i##a)); \
    _mm512_mask_storeu_ps(cr + 16, mb,                                                   \
                          _mm512_add_ps(_mm512_maskz_loadu_ps(mb, cr + 16), c##i##b));   \
  }
/* c rows [0, mr) (row stride ldc, columns in masks ma, mb) += the sum over
 * `rows` output rows (x rows arow bf16 apart from a, channels cplane
 * apart) and their ppr position pairs of x words times dy's vectors bp. */
#define KERNEL(name, DECL, DOTS, ADDS)                                                      \
  BF16_TARGET static void name(const uint16_t* a, int64_t cplane, int64_t arow,              \
                               const uint32_t* bp, int64_t rows, int64_t ppr, float* c,      \
                               int64_t ldc, int64_t mr, __mmask16 ma, __mmask16 mb) {        \
    DECL for (int64_t oy = 0; oy < rows; oy++) {                                            \
      const uint16_t* ar = a + oy * arow;                                                   \
      for (int64_t pp = 0; pp < ppr; pp++) {                                                \
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);                               \
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 16);                          \
        DOTS bp += NB;                                                                      \
      }                                                                                     \
    }                                                                                       \
    ADDS                                                                                    \
  }
KERNEL(fkernel12,
       ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11),
       DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7) DOT(8) DOT(9) DOT(10) DOT(11),
       ADD(0) ADD(1) ADD(2) ADD(3) ADD(4) ADD(5) ADD(6) ADD(7) ADD(8) ADD(9) ADD(10) ADD(11))
KERNEL(fkernel8, ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7),
       DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7),
       ADD(0) ADD(1) ADD(2) ADD(3) ADD(4) ADD(5) ADD(6) ADD(7))
KERNEL(fkernel4, ROW(0) ROW(1) ROW(2) ROW(3), DOT(0) DOT(1) DOT(2) DOT(3),
       ADD(0) ADD(1) ADD(2) ADD(3))

/* One panel of mr rows (at most 12) through the smallest micro-kernel that holds it. */
static void panel(const uint16_t* a, int64_t cplane, int64_t arow, const uint32_t* bp,
                  int64_t rows, int64_t ppr, float* c, int64_t ldc, int64_t mr, __mmask16 ma,
                  __mmask16 mb) {
  if (mr > 8) {
    fkernel12(a, cplane, arow, bp, rows, ppr, c, ldc, mr, ma, mb);
  } else if (mr > 4) {
    fkernel8(a, cplane, arow, bp, rows, ppr, c, ldc, mr, ma, mb);
  } else {
    fkernel4(a, cplane, arow, bp, rows, ppr, c, ldc, mr, ma, mb);
  }
}

/* Output rows per item: the image, a share of it for fewer images than
 * threads, halved until x's converted rows fit XB_BYTES. */
static int64_t rows_per_item(const fgeom* g, int nt) {
  int64_t rows = g->oh;
  if (g->n < nt) {
    const int64_t parts = (nt + g->n - 1) / g->n;
    rows = (g->oh + parts - 1) / parts;
  }
  while (rows > 1 && g->c * cplane_of(g, span_rows(g, rows)) * 2 > XB_BYTES) rows = (rows + 1) / 2;
  return rows;
}

/* Fewer than 4 input channels (the stem): panels of taps instead of
 * channels, each of one kernel row kr and one column phase ph, taps ks =
 * ph, ph + sw, ...: in x's converted rows of that phase they start one bf16
 * apart (ks / sw), so the micro-kernels read them as they read channels
 * cplane apart, and write dW^T rows sw k apart. xr: the first output row's
 * converted rows; acc: dW^T's kblock columns. */
static void tap_panels(const fgeom* g, const uint16_t* xr, int64_t cplane, const uint32_t* bp,
                       int64_t nr, float* acc, __mmask16 ma, __mmask16 mb) {
  const int64_t arow = g->sh * g->rowlen, ldc = g->sw * g->k;
  for (int64_t ci = 0; ci < g->c; ci++) {
    for (int64_t kr = 0; kr < g->r; kr++) {
      for (int64_t ph = 0; ph < g->nph; ph++) {
        const int64_t taps = (g->s - ph + g->sw - 1) / g->sw;
        const uint16_t* a = xr + ci * cplane + kr * g->rowlen + ph * g->wq;
        float* cc = acc + (ci * g->taps + kr * g->s + ph) * g->k;
        for (int64_t m0 = 0, mr; m0 < taps; m0 += mr) {
          mr = panel_rows(taps - m0);
          panel(a + m0, 1, arow, bp, nr, g->ppr, cc + m0 * ldc, ldc, mr, ma, mb);
        }
      }
    }
  }
}

static void item(const fgeom* g, const float* x, const conv_xform* xf, const float* dy,
                 int64_t i, int64_t oy0, int64_t rows, int64_t cplane, uint16_t* xb,
                 uint32_t* dyp, float* tmp, float* acc) {
  convert_x(g, x + i * g->c * g->h * g->w, xf, oy0, rows, cplane, xb, tmp);
  pack_dy(g, dy + i * g->k * g->oh * g->ow, oy0, rows, dyp);
  const int64_t chunk = g->ppr >= MIN_STEPS ? 1 : MIN_STEPS / g->ppr;
  const int64_t ldc = g->taps * g->k, arow = g->sh * g->rowlen;
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t nr = rows - r0 < chunk ? rows - r0 : chunk;
    for (int64_t kb = 0; kb < g->kblocks; kb++) {
      const uint32_t* bp = dyp + (kb * rows + r0) * g->ppr * NB;
      const __mmask16 ma = mask16(g->k - kb * NB), mb = mask16(g->k - kb * NB - 16);
      if (g->c < 4) {
        tap_panels(g, xb + r0 * g->sh * g->rowlen, cplane, bp, nr, acc + kb * NB, ma, mb);
        continue;
      }
      for (int64_t t = 0; t < g->taps; t++) {
        const int64_t kr = t / g->s, ks = t % g->s;
        const uint16_t* at =
            xb + (r0 * g->sh + kr) * g->rowlen + (ks % g->sw) * g->wq + ks / g->sw;
        for (int64_t c0 = 0, mr; c0 < g->c; c0 += mr) {
          mr = panel_rows(g->c - c0);
          float* cc = acc + (c0 * g->taps + t) * g->k + kb * NB;
          const uint16_t* a = at + c0 * cplane;
          panel(a, cplane, arow, bp, nr, g->ppr, cc, ldc, mr, ma, mb);
        }
      }
    }
  }
}

/* dweight[kk][j0 .. j0 + 16) = the sum over the threads' dW^T[j][kk] (acc,
 * threads of them `per` floats apart; ct rows j of k), in 16 x 16 blocks
 * added and transposed in registers, so that dweight is written 16 floats
 * at a time: a scalar walk stores one float every ct floats. Each value is
 * the threads' added in thread order from zero either way (the same bits).
 * ResNet-50's 256 -> 256 3x3/2 at 32^2 (dW 590K floats), batch 16, 2
 * threads, medians of 21 alternating in one process, AMD EPYC Zen 4,
 * against the scalar walk: 17.0 -> 14.1 ms (15.7 -> 14.1 in a second run);
 * 128 channels at 64^2 13.9 either way. */
BF16_TARGET static void sum_transposed(const float* acc, int64_t per, int threads, int64_t ct,
                                       int64_t k, int64_t j0, float* dweight) {
  const int64_t nj = ct - j0 < 16 ? ct - j0 : 16;
  for (int64_t k0 = 0; k0 < k; k0 += 16) {
    const __mmask16 mk = mask16(k - k0);
    __m512i v[16];
    for (int64_t i = 0; i < 16; i++) {
      __m512 s = _mm512_setzero_ps();
      for (int u = 0; i < nj && u < threads; u++) {
        s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(mk, acc + per * u + (j0 + i) * k + k0));
      }
      v[i] = _mm512_castps_si512(s);
    }
    transpose16(v);
    for (int64_t m = 0; m < 16 && k0 + m < k; m++) {
      _mm512_mask_storeu_ps(dweight + (k0 + m) * ct + j0, mask16(nj), _mm512_castsi512_ps(v[m]));
    }
  }
}

/* An odd ow would pair a row's last position with a column no tap reads:
 * dy's zero there times a NaN or infinite x would make a NaN. 1x1 filters
 * and rows of under 16 positions (loops too short) measured 10-40% slower
 * here than with im2col + GEMM, which keeps them, as did panels of a single
 * channel, which tap_panels replaces. Fewer than 4 channels take it where
 * there are 32+ filters (a whole NB block): batch 16, 2 threads, medians of
 * 31 alternating in one process, AMD EPYC Zen 4, im2col + GEMM against tap
 * panels (ms): ResNet-50's stem 7x7/2 1 -> 64 at 256^2 16.5 -> 13.8 (and
 * 10.2 -> 9.5 in a quieter run), 3x3/2 1 -> 32 at 256^2 5.29 -> 4.29,
 * 7x7/2 3 -> 64 at 224^2 17.2 -> 14.7, 3x3 3 -> 64 at 128^2 14.5 -> 13.7,
 * the stem at batch 2 and 128^2 0.27 -> 0.19; but 5x5 2 -> 16 at 64^2 (half
 * a block) 0.74 against 0.92. */
int lits_conv_bf16_filter_applies(const conv_shape* p) {
  return p->groups == 1 && p->dh == 1 && p->dw == 1 && p->r * p->s <= MAX_TAPS &&
         p->r * p->s > 1 && (p->c >= 4 || p->k >= NB) && p->ow >= 16 && p->ow % 2 == 0;
}

int lits_conv_bf16_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* dy, float* dweight) {
  fgeom g = {p->n, p->c, p->h, p->w, p->k, p->r, p->s, p->sh, p->sw, p->ph, p->pw, p->oh,
             p->ow, p->r * p->s, p->s < p->sw ? p->s : p->sw, 0, 0, (p->ow + 1) / 2,
             (p->k + NB - 1) / NB};
  const int64_t data = (p->w + 2 * p->pw + p->sw - 1) / p->sw;
  const int64_t read = p->ow + 1 + (p->s - 1) / p->sw; /* the last pair's second column */
  g.wq = ((data > read ? data : read) + 2) / 2 * 2;
  g.rowlen = g.nph * g.wq;
  const int nt = omp_get_max_threads();
  const int64_t rows = rows_per_item(&g, nt), per_img = (g.oh + rows - 1) / rows;
  const int64_t items = g.n * per_img;
  const int64_t cplane = cplane_of(&g, span_rows(&g, rows));
  /* Per thread, in floats: x's rows (+ a line of slack for the last word), dy's words, a row of
   * transformed x, dW^T. */
  const int64_t xbf = round16((g.c * cplane + 64) / 2), dyf = round16(g.kblocks * rows * g.ppr * NB);
  const int64_t tf = round16(g.w), accf = round16(g.c * g.taps * g.k);
  const int64_t per = xbf + dyf + tf + accf;
  const int threads = min_threads(nt, items);
  float* scratch = thread_scratch(per, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    float* mine = scratch + per * omp_get_thread_num();
    uint16_t* xb = (uint16_t*)mine;
    uint32_t* dyp = (uint32_t*)(mine + xbf);
    float* tmp = mine + xbf + dyf;
    float* acc = tmp + tf;
    memset(acc, 0, (size_t)accf * sizeof(float));
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t i = it / per_img, oy0 = (it % per_img) * rows;
      const int64_t nr = oy0 + rows < g.oh ? rows : g.oh - oy0;
      item(&g, x, xf, dy, i, oy0, nr, cplane, xb, dyp, tmp, acc);
    }
    /* dweight[kk][c tap] = the threads' dW^T[c tap][kk], summed (the for's barrier first). */
    const int64_t ct = g.c * g.taps;
#pragma omp for schedule(static)
    for (int64_t j0 = 0; j0 < ct; j0 += 16) {
      sum_transposed(scratch + xbf + dyf + tf, per, threads, ct, g.k, j0, dweight);
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
