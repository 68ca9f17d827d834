/* conv_bf16_direct.c: the bf16 convolution without im2col (no groups or
 * dilation, 16+ output columns): each image is rounded once into bf16 pairs
 * of channels, padded and split by column phase (stride), and the
 * vdpbf16ps micro-kernel reads its B vectors straight from there, one tap
 * at a time: 16 consecutive output columns of tap (kr, ks) are 16
 * consecutive words of the phase (ks mod stride) of input row oy sh + kr.
 * The weights are rounded and packed once per call, shared by the threads.
 *
 * Why: im2col in fp32 and the GEMM's packing of it were 30% of a 3x3
 * forward (perf, ResNet-50 layer1 3x3 64->64 at 64^2, batch 16), and the
 * GEMM repacked the weights for every tile on every thread.
 *
 * The backward data of a stride-1 convolution is the forward of dy with
 * the filters transposed and flipped (padding r - 1 - ph), so it runs here
 * too, without col2im. Rows of 8 outputs put two rows in a B vector; one
 * input channel at stride 2 (the stem) pairs taps instead of channels. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <omp.h>

#include "bf16_internal.h"
#include "common.h"
#include "conv_tiles.h"
#include "fused_internal.h"

#define MR 12 /* output channels per micro-kernel: 24 accumulators */
#define SLACK 48    /* words past the last row: masked lanes may read there */
#define MAX_TAPS 64 /* r s: the stem's 7 x 7 fits */
#ifndef XP_BYTES
#define XP_BYTES (512 * 1024)
#endif

/* A convolution in forward form: x [n, c, h, w] -> y [n, k, oh, ow]. */
typedef struct {
  int64_t n, c, h, w, k, r, s, sh, sw, ph, pw, oh, ow;
  int64_t q;      /* channel pairs */
  int64_t wq;     /* words of one phase of a padded row */
  int64_t rowlen; /* words of a padded row: sw phases */
  int64_t qs, rs; /* words between channel pairs of a row, between rows (all pairs of a row) */
  int64_t taps;   /* r s */
  int64_t rp;     /* converted rows per output row: sh, or 1 for a 1 x s filter (rows between unread) */
  int64_t nph;    /* phases kept: min(sw, s) (a 1x1 stride-2 filter reads only the even columns) */
  int64_t tp;     /* tap pairs (one channel, stride 2): K pairs are taps (ks, ks + 1) of a row */
} dgeom;

/* The rows of the next A panel when `rest` remain (bf16_gemm.c's rule: a
 * tail of 13 to 23 rows is cut in halves, the 4-row kernel is slow). */
static inline int64_t panel_rows(int64_t rest) {
  return rest <= MR ? rest : rest < 2 * MR ? (rest + 1) / 2 : MR;
}

/* bf16 of x[0 .. n) (n <= MAX_TAPS) into out. */
BF16_TARGET static void round_taps(const float* x, int64_t n, uint16_t* out) {
  for (int64_t j = 0; j < n; j += 16) {
    const int64_t left = n - j;
    const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
    const __m512i r = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, x + j)), 16);
    _mm256_mask_storeu_epi16(out + j, m, _mm512_cvtepi32_epi16(r));
  }
}

/* Packed weights: panel j (rows [k0, k0 + mr), panel_rows' partition) at
 * ap + j MR K (K = taps q words per row), laid out [tap][pair][MR] (rows
 * past mr zero), so that a K step broadcasts MR consecutive words. Filter
 * (kk, cc, tap) is w[(kk c + cc) taps + tap], or when `flip` (backward
 * data: kk is the forward's input channel, cc its output channel)
 * w[(cc k + kk) taps + taps - 1 - tap]. Called by every thread. */
static void pack_weights(const dgeom* g, const float* w, int flip, const int64_t* k0s,
                         int64_t np, uint32_t* ap) {
  const int64_t kq = g->taps * g->q;
#pragma omp for schedule(dynamic, 1)
  for (int64_t j = 0; j < np; j++) {
    const int64_t k0 = k0s[j], mr = k0s[j + 1] - k0;
    uint32_t* d = ap + j * MR * kq;
    if (g->tp) { /* K step t = (kr, pair jj): w[kk][0][kr][2 jj] | w[kk][0][kr][2 jj + 1] << 16 */
      const int64_t js = (g->s + 1) / 2;
      for (int64_t t = 0; t < g->taps; t++) {
        const int64_t kr = t / js, ks = 2 * (t % js);
        for (int64_t i = 0; i < MR; i++) {
          const float* wr = w + ((k0 + i) * g->r + kr) * g->s;
          uint32_t word = 0;
          if (i < mr) {
            word = conv_bf16_bits(wr[ks]) | (ks + 1 < g->s ? conv_bf16_bits(wr[ks + 1]) << 16 : 0);
          }
          d[t * MR + i] = word;
        }
      }
      continue;
    }
    /* Per pair: the panel's rows' taps of its two channels, rounded into tb
     * (reading w in order: contiguous taps per row, and flipped, the rows
     * of one channel adjacent), then the words tap by tap. Reading w tap
     * by tap instead took 2.7 ms of layer4's 3x3 forward (12.5 ms). */
    const int64_t taps = g->taps;
    uint16_t tb[MR][2][MAX_TAPS];
    for (int64_t qi = 0; qi < g->q; qi++) {
      for (int64_t i = 0; i < MR; i++) {
        for (int64_t h = 0; h < 2; h++) {
          const int64_t cc = 2 * qi + h;
          if (i >= mr || cc >= g->c) {
            memset(tb[i][h], 0, sizeof tb[i][h]);
            continue;
          }
          const float* src = flip ? w + (cc * g->k + k0 + i) * taps : w + ((k0 + i) * g->c + cc) * taps;
          round_taps(src, taps, tb[i][h]);
        }
      }
      for (int64_t t = 0; t < taps; t++) {
        const int64_t u = flip ? taps - 1 - t : t;
        uint32_t* dd = d + (t * g->q + qi) * MR;
        for (int64_t i = 0; i < MR; i++) dd[i] = tb[i][0][u] | (uint32_t)tb[i][1][u] << 16;
      }
    }
  }
}

/* Whether padded input row iyp is read by output rows [oy0, oy1). */
static int row_used(const dgeom* g, int64_t iyp, int64_t oy0, int64_t oy1) {
  for (int64_t kr = 0; kr < g->r; kr++) {
    const int64_t d = iyp - kr;
    if (d >= 0 && d % g->sh == 0 && d / g->sh >= oy0 && d / g->sh < oy1) return 1;
  }
  return 0;
}

/* The converted rows of output rows [oy0, oy1) of image xi (transformed by
 * xf, channel cc of c) as bf16 channel pairs into xp [nrows][q][rowlen]
 * (rows rs, pairs qs words apart): slot j holds padded row oy0 sh + j, or (rp =
 * 1) (oy0 + j) sh. Rows no output row reads are left unwritten; padding and
 * slack are zero. tmp: 2 (w + 16) floats. */
BF16_TARGET static void convert_rows(const dgeom* g, const float* xi, const conv_xform* xf,
                                     int64_t nrows, int64_t oy0, int64_t oy1, uint32_t* xp,
                                     float* tmp) {
  const int64_t hw = g->h * g->w;
  const int active = conv_xform_active(xf);
  for (int64_t qi = 0; qi < g->q; qi++) {
    for (int64_t sl = 0; sl < nrows; sl++) {
      const int64_t iyp = g->rp == g->sh ? oy0 * g->sh + sl : (oy0 + sl) * g->sh;
      if (g->rp == g->sh && !row_used(g, iyp, oy0, oy1)) continue;
      uint32_t* dst = xp + qi * g->qs + sl * g->rs;
      const int64_t iy = iyp - g->ph;
      if (iy < 0 || iy >= g->h) {
        memset(dst, 0, (size_t)g->rowlen * 4);
        continue;
      }
      if (g->tp) { /* the row as bf16, padded column ixp at 16-bit index ixp */
        const float* row = xi + iy * g->w;
        if (active) {
          fused_apply(tmp, row, g->w, fused_affine_of(xf->coef, g->c, 0), xf->relu);
          row = tmp;
        }
        uint16_t* d16 = (uint16_t*)dst;
        memset(dst, 0, (size_t)g->rowlen * 4);
        for (int64_t j = 0; j < g->w; j += 16) {
          const int64_t nn = g->w - j < 16 ? g->w - j : 16;
          const __mmask16 m = nn >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nn) - 1);
          const __m512i r = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, row + j)), 16);
          _mm256_mask_storeu_epi16(d16 + g->pw + j, m, _mm512_cvtepi32_epi16(r));
        }
        continue;
      }
      const float* src[2] = {NULL, NULL};
      for (int h = 0; h < 2; h++) {
        const int64_t cc = 2 * qi + h;
        if (cc >= g->c) break;
        src[h] = xi + cc * hw + iy * g->w;
        if (active) {
          fused_apply(tmp + h * (g->w + 16), src[h], g->w, fused_affine_of(xf->coef, g->c, cc),
                      xf->relu);
          src[h] = tmp + h * (g->w + 16);
        }
      }
      if (g->sw == 1) {
        memset(dst, 0, (size_t)g->pw * 4);
        for (int64_t j = 0; j < g->w; j += 16) {
          const int64_t nn = g->w - j < 16 ? g->w - j : 16;
          const __mmask16 m = nn >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nn) - 1);
          _mm512_mask_storeu_epi32(dst + g->pw + j, m,
                                   pair_rows(src[0] + j, src[1] ? src[1] + j : NULL, nn));
        }
        memset(dst + g->pw + g->w, 0, (size_t)(g->rowlen - g->pw - g->w) * 4);
        continue;
      }
      /* Strided: padded column ixp goes to phase ixp % sw, word ixp / sw. */
      memset(dst, 0, (size_t)g->rowlen * 4);
      if (g->sw == 2) { /* 16 columns at a time, their even and odd ones compressed apart */
        const __mmask16 even = (__mmask16)(g->pw % 2 == 0 ? 0x5555 : 0xAAAA);
        for (int64_t j = 0; j < g->w; j += 16) {
          const int64_t nn = g->w - j < 16 ? g->w - j : 16;
          const __m512i v = pair_rows(src[0] + j, src[1] ? src[1] + j : NULL, nn);
          const __mmask16 m = nn >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nn) - 1);
          /* columns ixp = pw + j + l: phase 0 gets those with ixp even, from word ixp / 2 */
          const int64_t first = g->pw + j; /* ixp of lane 0 */
          const int64_t e0 = (first + 1) / 2, o0 = first / 2;
          _mm512_mask_compressstoreu_epi32(dst + e0, (__mmask16)(m & even), v);
          if (g->nph > 1) {
            _mm512_mask_compressstoreu_epi32(dst + g->wq + o0, (__mmask16)(m & ~even), v);
          }
        }
        continue;
      }
      for (int64_t ixp = g->pw; ixp < g->pw + g->w; ixp++) {
        const int64_t ix = ixp - g->pw;
        uint32_t word = conv_bf16_bits(src[0][ix]);
        if (src[1] != NULL) word |= conv_bf16_bits(src[1][ix]) << 16;
        if (ixp % g->sw < g->nph) dst[(ixp % g->sw) * g->wq + ixp / g->sw] = word;
      }
    }
  }
}

#define ROW(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define DOT(i)                                                         \
  {                                                                    \
    const __m512bh a = (__m512bh)_mm512_set1_epi32((int)ap[i]);        \
    c##i##a = _mm512_dpbf16_ps(c##i##a, a, b0);                        \
    c##i##b = _mm512_dpbf16_ps(c##i##b, a, b1);                        \
  }
#define STORE(i)                                                                         \
  if ((i) < mr) {                                                                        \
    const __m512 bb = _mm512_set1_ps(bias != NULL ? bias[i] : 0.0f);                     \
    _mm512_mask_storeu_ps(y0 + (i) * ldy, ma, _mm512_add_ps(c##i##a, bb));               \
    _mm512_mask_storeu_ps(y1 + (i) * ldy, mb, _mm512_add_ps(c##i##b, bb));               \
  }

/* y rows [0, mr) at y0 (16 columns, mask ma) and y1 (mask mb), row stride
 * ldy, = bias + the taps x pairs K steps of the A panel ap against B
 * vectors at b0 / b1 + off[t] + pair * plane. LOAD16 reads a B vector; LOAD8X2 (rows
 * of 8 outputs) joins the 8 words of two output rows, hs words apart. */
#define LOAD16(ptr) (__m512bh) _mm512_loadu_si512(ptr)
#define LOAD8X2(ptr)                                                               \
  (__m512bh) _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i*)(ptr))), \
                                _mm256_loadu_si256((const __m256i*)((ptr) + hs)), 1)
#define KERNEL(name, LOAD, DECL, DOTS, STORES)                                              \
  BF16_TARGET static void name(const uint32_t* ap, const uint32_t* b0p, const uint32_t* b1p, \
                               const int64_t* off, int64_t taps, int64_t q, int64_t plane,  \
                               int64_t hs, float* y0, float* y1, int64_t ldy, int64_t mr,   \
                               __mmask16 ma, __mmask16 mb, const float* bias) {             \
    (void)hs;                                                                               \
    DECL for (int64_t t = 0; t < taps; t++) {                                               \
      const uint32_t* p0 = b0p + off[t];                                                    \
      const uint32_t* p1 = b1p + off[t];                                                    \
      for (int64_t qi = 0; qi < q; qi++) {                                                  \
        const __m512bh b0 = LOAD(p0);                                                       \
        const __m512bh b1 = LOAD(p1);                                                       \
        DOTS ap += MR;                                                                      \
        p0 += plane;                                                                        \
        p1 += plane;                                                                        \
      }                                                                                     \
    }                                                                                       \
    STORES                                                                                  \
  }
#define ROWS12 ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11)
#define DOTS12 DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7) DOT(8) DOT(9) DOT(10) DOT(11)
#define STORES12                                                                               \
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7) STORE(8) STORE(9) \
  STORE(10) STORE(11)
#define ROWS8 ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#define DOTS8 DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7)
#define STORES8 STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
KERNEL(dkernel12, LOAD16, ROWS12, DOTS12, STORES12)
KERNEL(dkernel8, LOAD16, ROWS8, DOTS8, STORES8)
KERNEL(dkernel4, LOAD16, ROW(0) ROW(1) ROW(2) ROW(3), DOT(0) DOT(1) DOT(2) DOT(3),
       STORE(0) STORE(1) STORE(2) STORE(3))
KERNEL(hkernel12, LOAD8X2, ROWS12, DOTS12, STORES12)
KERNEL(hkernel8, LOAD8X2, ROWS8, DOTS8, STORES8)
KERNEL(hkernel4, LOAD8X2, ROW(0) ROW(1) ROW(2) ROW(3), DOT(0) DOT(1) DOT(2) DOT(3),
       STORE(0) STORE(1) STORE(2) STORE(3))

static __mmask16 mask_of(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Padded input rows that output rows [oy0, oy1) span. */
static int64_t span_rows(const dgeom* g, int64_t oy0, int64_t oy1) {
  return (oy1 - 1 - oy0) * g->rp + g->r;
}

/* Output rows per work item: the whole image, or a share of it when there
 * are fewer images than threads, halved until the converted rows fit in
 * XP_BYTES (the micro-kernels read them once per 12 output channels). A
 * row holds every channel pair: a micro-kernel's B vectors lie in r rows
 * of q rowlen words, 26 KiB for layer2's 3x3, not in r q scattered pieces. */
static int64_t rows_per_item(const dgeom* g, int nt) {
  int64_t rows = g->oh;
  if (g->n < nt) {
    const int64_t parts = (nt + g->n - 1) / g->n;
    rows = (g->oh + parts - 1) / parts;
  }
  while (rows > 1 && span_rows(g, 0, rows) * g->rs * 4 > XP_BYTES) {
    rows = (rows + 1) / 2;
  }
  return rows;
}

static int run(const dgeom* g, const float* x, const conv_xform* xf, const float* w, int flip,
               const float* bias, float* y) {
  const int nt = omp_get_max_threads();
  const int64_t rows = rows_per_item(g, nt), per_img = (g->oh + rows - 1) / rows;
  const int64_t items = g->n * per_img;
  const int64_t kq = g->taps * g->q;
  int64_t np = 0;
  for (int64_t k0 = 0; k0 < g->k; k0 += panel_rows(g->k - k0)) np++;
  const int64_t awords = round16(np * MR * kq), kwords = round16(np + 1);
  /* (+ a row: the second half of a chunk of two rows of 8 past the last row is read, unused) */
  const int64_t xwords =
      round16(span_rows(g, 0, rows) * g->rs + g->rp * g->rs + SLACK);
  const int64_t twords = round16(2 * (g->w + 16));
  const int threads = min_threads(nt, items);
  uint32_t* buf = (uint32_t*)thread_scratch(xwords + twords, threads, awords + 2 * kwords);
  if (buf == NULL) return LITS_ERR_MEMORY;
  uint32_t* ap = buf + (xwords + twords) * threads;
  int64_t* k0s = (int64_t*)(ap + awords); /* panel starts, then g->k */
  np = 0;
  for (int64_t k0 = 0; k0 < g->k; k0 += panel_rows(g->k - k0)) k0s[np++] = k0;
  k0s[np] = g->k;
  /* A chunk is 16 output columns of one row, or (ow = 8) two rows of 8. */
  const int64_t ohw = g->oh * g->ow, eights = g->ow == 8;
  const int64_t chunks_per_row = eights ? 1 : (g->ow + 15) / 16, rows_per_chunk = eights ? 2 : 1;
  const int64_t hs = eights ? g->rp * g->rs : 0;
#pragma omp parallel num_threads(threads)
  {
    uint32_t* xp = buf + (xwords + twords) * omp_get_thread_num();
    float* tmp = (float*)(xp + xwords);
    pack_weights(g, w, flip, k0s, np, ap); /* an omp for: ends with a barrier */
    int64_t toff[MAX_TAPS];
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t i = it / per_img, oy0 = (it % per_img) * rows;
      const int64_t oy1 = oy0 + rows < g->oh ? oy0 + rows : g->oh;
      const int64_t nrows = span_rows(g, oy0, oy1);
      convert_rows(g, x + i * g->c * g->h * g->w, xf, nrows, oy0, oy1, xp, tmp);
      for (int64_t t = 0; t < g->taps; t++) {
        const int64_t js = (g->s + 1) / 2; /* tap pairs per row (tp) */
        toff[t] = g->tp ? t / js * g->rs + t % js
                        : t / g->s * g->rs + (t % g->s % g->sw) * g->wq + t % g->s / g->sw;
      }
      float* yi = y + i * g->k * ohw;
      const int64_t nch = (oy1 - oy0 + rows_per_chunk - 1) / rows_per_chunk * chunks_per_row;
      for (int64_t ch = 0; ch < nch; ch += 2) {
        /* Two chunks (the second may be on the next row, or absent). */
        const int64_t oya = oy0 + ch / chunks_per_row * rows_per_chunk;
        const int64_t oxa = (ch % chunks_per_row) * 16;
        const int has_b = ch + 1 < nch;
        const int64_t oyb = oy0 + (ch + 1) / chunks_per_row * rows_per_chunk;
        const int64_t oxb = ((ch + 1) % chunks_per_row) * 16;
        const uint32_t* b0p = xp + (oya - oy0) * g->rp * g->rs + oxa;
        const uint32_t* b1p = has_b ? xp + (oyb - oy0) * g->rp * g->rs + oxb : b0p;
        /* columns left in the chunk: 16, or with rows of 8, 8 per row present */
        const int64_t la = eights ? (oya + 1 < oy1 ? 16 : 8) : g->ow - oxa;
        const int64_t lb = eights ? (oyb + 1 < oy1 ? 16 : 8) : g->ow - oxb;
        const __mmask16 ma = mask_of(la), mb = has_b ? mask_of(lb) : 0;
        float* ya = yi + oya * g->ow + oxa;
        float* yb = has_b ? yi + oyb * g->ow + oxb : ya;
        for (int64_t j = 0; j < np; j++) {
          const int64_t k0 = k0s[j], mr = k0s[j + 1] - k0;
          const uint32_t* a = ap + j * MR * kq;
          const float* bk = bias != NULL ? bias + k0 : NULL;
          float* ta = ya + k0 * ohw;
          float* tb = yb + k0 * ohw;
#define CALL(kern) kern(a, b0p, b1p, toff, g->taps, g->q, g->qs, hs, ta, tb, ohw, mr, ma, mb, bk)
          if (eights) {
            if (mr > 8) CALL(hkernel12); else if (mr > 4) CALL(hkernel8); else CALL(hkernel4);
          } else {
            if (mr > 8) CALL(dkernel12); else if (mr > 4) CALL(dkernel8); else CALL(dkernel4);
          }
#undef CALL
        }
      }
    }
  }
  lits_scratch_free(buf);
  return LITS_OK;
}

static dgeom geom_of(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s,
                     int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t oh, int64_t ow) {
  dgeom g = {.n = n, .c = c, .h = h, .w = w, .k = k, .r = r, .s = s, .sh = sh, .sw = sw,
             .ph = ph, .pw = pw, .oh = oh, .ow = ow, .q = (c + 1) / 2, .taps = r * s,
             .rp = r == 1 ? 1 : sh, .nph = s < sw ? s : sw, .tp = c == 1 && sw == 2 && s > 1};
  if (g.tp) { /* one bf16 row: word ox + jj holds columns 2 (ox + jj) and 2 (ox + jj) + 1 */
    const int64_t data = (w + 2 * pw + 1) / 2, read = (ow + 15) / 16 * 16 + (s + 1) / 2;
    g.taps = r * ((s + 1) / 2);
    g.nph = 1;
    g.wq = g.rowlen = (data > read ? data : read) + 1;
    g.qs = g.rowlen;
    g.rs = g.q * g.qs;
    return g;
  }
  const int64_t data = (w + 2 * pw + sw - 1) / sw, read = (ow + 15) / 16 * 16 + (s - 1) / sw;
  g.wq = data > read ? data : read;
  g.rowlen = g.nph * g.wq;
  g.qs = g.rowlen;
  g.rs = g.q * g.qs;
  return g;
}

/* 1x1 filters stay with im2col + GEMM (x is its B operand already, and its
 * K blocks keep B in L1: this kernel measured 5-20% slower there), and so
 * do 2 or 3 channels (half a pair zero). One channel at stride 2 (the
 * stem) pairs taps instead: ks and ks + 1 are adjacent bf16 in a row. */
int lits_conv_bf16_direct_applies(const conv_shape* p, int backward_data) {
  if (p->groups != 1 || p->dh != 1 || p->dw != 1 || p->r * p->s > MAX_TAPS) return 0;
  if (p->r * p->s == 1) return 0;
  /* Rows of 8 (two per B vector): ResNet-50's 3x3 layer4 13% faster than
   * im2col + GEMM, its 3x3/2 (16 -> 8) not faster. */
  if (!backward_data) {
    if (p->c == 1) return p->sw == 2 && p->s > 1 && p->ow >= 16; /* the stem: pairs of taps */
    return (p->ow >= 16 || (p->ow == 8 && p->sw == 1)) && p->c >= 4;
  }
  return p->sh == 1 && p->sw == 1 && p->ph < p->r && p->pw < p->s && (p->w >= 16 || p->w == 8) &&
         p->k >= 4;
}

int lits_conv_bf16_direct_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* weight, const float* bias, float* y) {
  const dgeom g = geom_of(p->n, p->c, p->h, p->w, p->k, p->r, p->s, p->sh, p->sw, p->ph, p->pw,
                          p->oh, p->ow);
  return run(&g, x, xf, weight, 0, bias, y);
}

int lits_conv_bf16_direct_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                        float* dx) {
  /* dx = conv(dy, w') with w'[c][k] = w[k][c] flipped, padding r - 1 - ph, stride 1. */
  const dgeom g = geom_of(p->n, p->k, p->oh, p->ow, p->c, p->r, p->s, 1, 1, p->r - 1 - p->ph,
                          p->s - 1 - p->pw, p->h, p->w);
  return run(&g, dy, NULL, weight, 1, NULL, dx);
}
