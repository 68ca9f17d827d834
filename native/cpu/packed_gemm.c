/* packed_gemm.c: our AVX-512 SGEMM for the convolutions, y[k, cols] =
 * w[k, c] x relu?(T(x))[c, cols], T being a deferred batch norm
 * (conv_xform) applied as x is packed. It serves the forward of every GEMM
 * convolution (1x1 layers packing x itself, strided or not, others an
 * im2col tile), the backward data of 1x1 layers and Winograd's planes.
 * OpenBLAS with beta = 0 first clears C, then reads and writes it again,
 * packs the weights once per call and tile, and a transformed input goes
 * through an im2col buffer before it packs it: with few input channels
 * (ResNet-50's 64 -> 256 at 64 x 64) those passes over memory cost as much
 * as the products. Here the weights are packed once per convolution, x is
 * read once, into packed panels, and y is written once per pass of KC
 * input channels, by the micro-kernel: a 12 x 32 block of y in 24 AVX-512
 * accumulators, a weight broadcast against two vectors of x. The first
 * block of rows packs each panel as it multiplies it (x from memory behind
 * its FMAs, no packing pass), and the last pass adds the bias (and an
 * evaluation block's batch norm, residual and ReLU: conv_epilogue) and
 * streams a large y past the caches: 5-30% faster on ResNet-50's 1x1
 * layers, cold caches, than packing first and adding the bias in a pass of
 * its own.
 * Chosen at run time: AVX-512 CPUs only. */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "silu16.h"
#include "fused_internal.h"
#include "gemm_prefetch.h"

#define MR 12  /* rows of y (output channels) per micro-kernel block */
#define NR 32  /* columns per block: two vectors */
#define KC 512  /* input channels per pass: KC x NCB packed floats stay in L2 */
#define NCB 256 /* columns packed at a time */

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* LITS_CONV_ALGO=openblas keeps every GEMM on OpenBLAS (benchmarks and
 * tests compare the two); read on every call, as pick_algo's. */
int lits_packed_gemm_applies(int64_t cols) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* algo = getenv("LITS_CONV_ALGO");
  if (algo != NULL && strcmp(algo, "openblas") == 0) return 0;
  return avx512 && cols >= NR;
}

int64_t lits_packed_gemm_weights_floats(int64_t k, int64_t c) { return (k + MR - 1) / MR * MR * c; }

int64_t lits_packed_gemm_scratch(void) { return KC * NCB + MR * NR; }

/* Rows of y in the block that starts at row i0: 12, except that the last
 * 16 go as 8 + 8 (ResNet's 64, 256 and 1024 output channels are 12q + 4,
 * and the 4-row kernel, 6 loads for 8 FMAs, runs at a third of the
 * 12-row one's rate). */
static int64_t block_rows(int64_t k, int64_t i0) {
  const int64_t left = k - i0;
  return left == 16 || left == 8 ? 8 : left < MR ? left : MR;
}

/* A block's panel height: its rows, or MR for an edge block (zero-padded,
 * always the last one). */
static int64_t panel_rows(int64_t mr) { return mr == 12 || mr == 8 || mr == 4 ? mr : MR; }

void lits_packed_gemm_pack_a_part(const float* w, int64_t k, int64_t c, int transposed,
                                  float* ap, int part, int parts) {
  int64_t blocks = 0;
  for (int64_t p0 = 0; p0 < k; p0 += block_rows(k, p0)) blocks++;
  const int64_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
  int64_t bi = 0;
  for (int64_t p0 = 0, mr; p0 < k; p0 += mr, bi++) {
    mr = block_rows(k, p0);
    if (bi < b0 || bi >= b1) continue;
    const int64_t h = panel_rows(mr);
    float* dst = ap + p0 * c;
    for (int64_t kk = 0; kk < c; kk++) {
      int64_t i = 0;
      if (transposed) {
        for (; i < mr; i++) dst[kk * h + i] = w[kk * k + p0 + i];
      } else {
        for (; i < mr; i++) dst[kk * h + i] = w[(p0 + i) * c + kk];
      }
      for (; i < h; i++) dst[kk * h + i] = 0.0f;
    }
  }
}

void lits_packed_gemm_pack_a(const float* w, int64_t k, int64_t c, int transposed,
                             float* ap) {
  lits_packed_gemm_pack_a_part(w, k, c, transposed, ap, 0, 1);
}

/* Columns [0, n) of x's c rows (row stride ldx; channels c0 .. of ctotal)
 * into panels of NR, transformed: bp[(panel * c + kk) * NR + j]; a last
 * partial panel is zero-padded. Column j is at off[j] of a row, the
 * offsets strictly increasing (so that a panel whose ends are nr - 1 apart
 * is contiguous). With xf's img_scale, the panel that starts at column j
 * (of the GEMM: j0 + this call's) is of image j / span, whose scale
 * multiplies each value after the transform. */
static void pack_columns(const float* x, int64_t ldx, const int64_t* off, int64_t c, int64_t n,
                         const conv_xform* xf, int64_t c0, int64_t ctotal, int64_t j0,
                         int64_t span, float* bp) {
  const int xact = conv_xform_active(xf);
  const float* img_scale = xact ? xf->img_scale : NULL;
  for (int64_t kk = 0; kk < c; kk++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, ctotal, c0 + kk);
    const int relu = xact && xf->relu;
    const float* row = x + kk * ldx;
    for (int64_t p0 = 0; p0 < n; p0 += NR) {
      const int64_t nr = n - p0 < NR ? n - p0 : NR;
      const int64_t* o = off + p0;
      float* dst = bp + p0 * c + kk * NR;
      if (o[nr - 1] - o[0] == nr - 1) { /* contiguous: stride 1, within one image */
        fused_apply(dst, row + o[0], nr, t, relu);
      } else {
        for (int64_t j = 0; j < nr; j++) dst[j] = row[o[j]];
        fused_apply(dst, dst, nr, t, relu);
      }
      if (img_scale != NULL) { /* x_scale * x, as the product written first */
        const float m = img_scale[(j0 + p0) / span * ctotal + c0 + kk];
        for (int64_t j = 0; j < nr; j++) dst[j] = m * dst[j];
      }
      for (int64_t j = nr; j < NR; j++) dst[j] = 0.0f;
    }
  }
}

#define ROW(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define FMA(i)                                      \
  {                                                 \
    const __m512 a = _mm512_set1_ps(ap[i]);         \
    c##i##a = _mm512_fmadd_ps(a, b0, c##i##a);      \
    c##i##b = _mm512_fmadd_ps(a, b1, c##i##b);      \
  }
#define STORE(i) store_row(y + (i) * ldy, c##i##a, c##i##b, e, i, ldy);

/* How a kernel writes its block of y: added to what is there (a later pass
 * over the input channels), plus the bias of each row and the epilogue on
 * the last pass, with streaming stores on the last pass of a large output. */
typedef struct {
  int acc;
  const float* bias; /* the block's first row's bias, or NULL */
  int stream;        /* y's rows are 64-byte aligned and streamed */
  /* The epilogue on the last pass, or NULL; its rows are channels ch ..
   * of k, r the residual at the block's first element (rows ldy apart). */
  const conv_epilogue* ep;
  int64_t ch, k;
  const float* r;
  /* y's moments gathered on the last pass (conv_moments.c), or NULL;
   * first: the block holds the tile's first column */
  conv_tile_moments* tm;
  int first;
} block_out;

/* fused_affine's T(v) of channel ch in coef (c channels): the expression
 * and the contraction fused.c's loops compile to. */
__attribute__((target("avx512f"))) static inline __m512 affine16(__m512 v, const float* coef,
                                                                 int64_t c, int64_t ch) {
  if (coef == NULL) return v;
  const __m512 m = _mm512_set1_ps(coef[ch]), a = _mm512_set1_ps(coef[c + ch]);
  return _mm512_fmadd_ps(_mm512_sub_ps(v, m), a, _mm512_set1_ps(coef[2 * c + ch]));
}

/* relu?(T_y(v) + T_r(r)) of 16 values of row i, as lits_fused_affine_f32. */
__attribute__((target("avx512f"))) static inline __m512 epilogue16(__m512 v, const block_out* e,
                                                                   int i, const float* r) {
  const conv_epilogue* ep = e->ep;
  v = affine16(v, ep->y_coef, e->k, e->ch + i);
  if (r != NULL) v = _mm512_add_ps(v, affine16(_mm512_loadu_ps(r), ep->r_coef, e->k, e->ch + i));
  /* v / (1 + exp(-v)), the bits of fused_act's loops (silu16.h) */
  if (ep->relu == FUSED_SILU) return lits_silu16(v);
  if (ep->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN and -0 as v < 0 ? 0 : v */
  /* min(6, v) keeps NaN (the second operand), as v > 6 ? 6 : v */
  return ep->relu == FUSED_RELU6 ? _mm512_min_ps(_mm512_set1_ps(6.0f), v) : v;
}

/* The upper 8 floats of v. */
__attribute__((target("avx512f"))) static inline __m256 high8(__m512 v) {
  return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

/* Adds 32 values of channel ch (a then b) to the tile's moments: v - shift
 * and its square in double, 8 lanes each (conv_moments.c). */
__attribute__((target("avx512f"))) static inline void moments32(conv_tile_moments* t,
                                                                int64_t ch, __m512 a, __m512 b,
                                                                int first) {
  if (first) t->shift[ch] = _mm512_cvtss_f32(a);
  const __m512d s = _mm512_set1_pd((double)t->shift[ch]);
  const __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)), s);
  const __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(high8(a)), s);
  const __m512d d2 = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(b)), s);
  const __m512d d3 = _mm512_sub_pd(_mm512_cvtps_pd(high8(b)), s);
  __m512d q = _mm512_mul_pd(d0, d0);
  q = _mm512_fmadd_pd(d1, d1, q);
  q = _mm512_fmadd_pd(d2, d2, q);
  q = _mm512_fmadd_pd(d3, d3, q);
  double* acc = t->acc + 16 * ch;
  const __m512d sum = _mm512_add_pd(_mm512_add_pd(d0, d1), _mm512_add_pd(d2, d3));
  _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), sum));
  _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), q));
}

__attribute__((target("avx512f"))) static inline void store_row(float* r, __m512 a, __m512 b,
                                                                const block_out* e, int i,
                                                                int64_t ldy) {
  if (e->acc) {
    a = _mm512_add_ps(a, _mm512_loadu_ps(r));
    b = _mm512_add_ps(b, _mm512_loadu_ps(r + 16));
  }
  if (e->bias != NULL) { /* after the sum, as conv_bias_act's separate pass added it */
    const __m512 v = _mm512_set1_ps(e->bias[i]);
    a = _mm512_add_ps(a, v);
    b = _mm512_add_ps(b, v);
  }
  if (e->ep != NULL) {
    const float* res = e->r != NULL ? e->r + i * ldy : NULL;
    a = epilogue16(a, e, i, res);
    b = epilogue16(b, e, i, res != NULL ? res + 16 : NULL);
  }
  if (e->tm != NULL) moments32(e->tm, e->ch + i, a, b, e->first);
  if (e->stream) {
    _mm512_stream_ps(r, a);
    _mm512_stream_ps(r + 16, b);
  } else {
    _mm512_storeu_ps(r, a);
    _mm512_storeu_ps(r + 16, b);
  }
}

/* Where a packing kernel reads its panel: NR columns of kc rows of x (row
 * stride ldx), side by side or every other one (a stride-2 1x1's), row kk
 * transformed with mean[kk], scale[kk], shift[kk] where mean is not NULL,
 * then relu'd where relu. */
typedef struct {
  const float* src;
  int64_t ldx;
  const float *mean, *scale, *shift;
  int relu;
  int step; /* 1 or 2 */
  const float* mul; /* row kk's image scale at mul[kk] (after the transform), or NULL */
} panel_src;

/* Rows of x ahead that a packing kernel prefetches: x comes from memory,
 * and its rows are a stride apart that the hardware may not follow. */
#define PREFETCH_ROWS 8

/* The next row of a panel from x, transformed as fused_apply does (the same
 * expression, contracted the same way), stored to the packed panel. */
__attribute__((target("avx512f"))) static inline void load_row(const panel_src* s, int64_t kk,
                                                               float* bp, __m512* b0,
                                                               __m512* b1) {
  const float* row = s->src + kk * s->ldx;
  _mm_prefetch((const char*)(row + PREFETCH_ROWS * s->ldx), _MM_HINT_T0);
  _mm_prefetch((const char*)(row + PREFETCH_ROWS * s->ldx + 16), _MM_HINT_T0);
  __m512 v0, v1;
  if (s->step == 1) {
    v0 = _mm512_loadu_ps(row);
    v1 = _mm512_loadu_ps(row + 16);
  } else { /* the even ones of 63 columns (not 64: the 64th may lie past x's end) */
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    v0 = _mm512_permutex2var_ps(_mm512_loadu_ps(row), even, _mm512_loadu_ps(row + 16));
    v1 = _mm512_permutex2var_ps(_mm512_loadu_ps(row + 32), even,
                                _mm512_maskz_loadu_ps(0x7fff, row + 48));
  }
  if (s->mean != NULL) {
    const __m512 m = _mm512_set1_ps(s->mean[kk]), a = _mm512_set1_ps(s->scale[kk]);
    const __m512 t = _mm512_set1_ps(s->shift[kk]);
    v0 = _mm512_fmadd_ps(_mm512_sub_ps(v0, m), a, t);
    v1 = _mm512_fmadd_ps(_mm512_sub_ps(v1, m), a, t);
  }
  if (s->relu) { /* max(0, v) keeps NaN and -0, as (v < 0 ? 0 : v) */
    v0 = _mm512_max_ps(_mm512_setzero_ps(), v0);
    v1 = _mm512_max_ps(_mm512_setzero_ps(), v1);
  }
  if (s->mul != NULL) {
    const __m512 m = _mm512_set1_ps(s->mul[kk]);
    v0 = _mm512_mul_ps(m, v0);
    v1 = _mm512_mul_ps(m, v1);
  }
  _mm512_storeu_ps(bp, v0);
  _mm512_storeu_ps(bp + 16, v1);
  *b0 = v0;
  *b1 = v1;
}

/* A line of each (gemm_prefetch.h): x's next rows, the residual's next. */
__attribute__((target("avx512f"))) static inline void pf_next(pf_cursor* p) {
  pf_one(p);
  pf_one(p + 1);
}

/* y[rows x NR] (row stride ldy) = (y +) the panels' product over kc rows:
 * kernels for 12 rows and for the 8 or 4 that block_rows leaves (A's panel
 * of H rows a step). The _pack twins read the B panel from x itself and
 * write it packed for the next row blocks: packing costs no pass of its
 * own. The k steps go in pairs (12 rows on L1-resident panels: 94% of the
 * FMA peak against 87% a step at a time, one core of a Xeon with AMX),
 * each pair followed by a line of the prefetch cursors. */
#define STEP(H, LOAD, FMAS) \
  {                        \
    __m512 b0, b1;         \
    LOAD FMAS ap += H;     \
    bp += NR;              \
  }
#define LOAD_PACKED b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#define LOAD_X load_row(s, kk, bp, &b0, &b1);
#define KERNEL(name, H, DECL, FMAS, STORES)                                                   \
  __attribute__((target("avx512f"))) static void name(                                       \
      int64_t kc, const float* ap, const float* bp, float* y, int64_t ldy, const block_out* e, \
      pf_cursor* pf) {                                                                        \
    DECL int64_t kk = 0;                                                                      \
    for (; kk + 2 <= kc; kk += 2) {                                                           \
      STEP(H, LOAD_PACKED, FMAS) STEP(H, LOAD_PACKED, FMAS) pf_next(pf);                      \
    }                                                                                         \
    for (; kk < kc; kk++) STEP(H, LOAD_PACKED, FMAS)                                          \
    STORES                                                                                    \
  }                                                                                           \
  __attribute__((target("avx512f"))) static void name##_pack(                                \
      int64_t kc, const float* ap, const panel_src* s, float* bp, float* y, int64_t ldy,      \
      const block_out* e, pf_cursor* pf) {                                                    \
    DECL int64_t kk = 0;                                                                      \
    for (; kk + 2 <= kc;) {                                                                   \
      STEP(H, LOAD_X, FMAS) kk++;                                                             \
      STEP(H, LOAD_X, FMAS) kk++;                                                             \
      pf_next(pf);                                                                            \
    }                                                                                         \
    for (; kk < kc; kk++) STEP(H, LOAD_X, FMAS)                                               \
    STORES                                                                                    \
  }
KERNEL(kernel12, 12,
       ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11),
       FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7) FMA(8) FMA(9) FMA(10) FMA(11),
       STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7) STORE(8)
           STORE(9) STORE(10) STORE(11))
KERNEL(kernel8, 8, ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7),
       FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7),
       STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7))
KERNEL(kernel4, 4, ROW(0) ROW(1) ROW(2) ROW(3), FMA(0) FMA(1) FMA(2) FMA(3),
       STORE(0) STORE(1) STORE(2) STORE(3))

typedef void (*kernel_fn)(int64_t, const float*, const float*, float*, int64_t,
                          const block_out*, pf_cursor*);
typedef void (*pack_kernel_fn)(int64_t, const float*, const panel_src*, float*, float*, int64_t,
                               const block_out*, pf_cursor*);

/* The kernel for a block of mr rows, or NULL (the caller then goes through
 * an edge buffer). */
static kernel_fn kernel_for(int64_t mr) {
  return mr == 12 ? kernel12 : mr == 8 ? kernel8 : mr == 4 ? kernel4 : NULL;
}

static pack_kernel_fn pack_kernel_for(int64_t mr) {
  return mr == 12 ? kernel12_pack : mr == 8 ? kernel8_pack : mr == 4 ? kernel4_pack : NULL;
}

int64_t lits_packed_gemm_block_rows(int64_t k, int64_t i0) { return block_rows(k, i0); }

int64_t lits_packed_gemm_panel_rows(int64_t mr) { return panel_rows(mr); }

void lits_packed_gemm_block(int64_t mr, int64_t kc, const float* ap, const float* bp, float* y,
                            int64_t ldy, int acc) {
  const block_out e = {acc, NULL, 0, NULL, 0, 0, NULL, NULL, 0};
  pf_cursor pf[2] = {pf_none, pf_none};
  kernel_for(mr)(kc, ap, bp, y, ldy, &e, pf);
}

/* The panel's source in x where a packing kernel can read it (NR columns
 * side by side in each row, or every other one), with its transform (and
 * image img's scale); else src is NULL. */
static panel_src panel_source(const float* x, int64_t ldx, const int64_t* o, int64_t nr,
                              const conv_xform* xf, int64_t c0, int64_t ctotal, int64_t img) {
  panel_src s = {NULL, ldx, NULL, NULL, NULL, 0, 1, NULL};
  if (nr != NR) return s;
  if (o[NR - 1] - o[0] != NR - 1) { /* not side by side: every other column? */
    for (int64_t j = 1; j < NR; j++) {
      if (o[j] - o[j - 1] != 2) return s;
    }
    s.step = 2;
  }
  s.src = x + o[0];
  if (conv_xform_active(xf)) {
    if (xf->coef != NULL) {
      s.mean = xf->coef + c0;
      s.scale = xf->coef + ctotal + c0;
      s.shift = xf->coef + 2 * ctotal + c0;
    }
    s.relu = xf->relu;
    if (xf->img_scale != NULL) s.mul = xf->img_scale + img * ctotal + c0;
  }
  return s;
}

/* epilogue16 for the first n values of row i of an edge block. */
__attribute__((target("avx512f"))) static void edge_epilogue(float* row, int64_t n,
                                                             const block_out* e, int i,
                                                             const float* r) {
  float v[16], rv[16];
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int64_t len = n - j0 < 16 ? n - j0 : 16;
    memcpy(v, row + j0, (size_t)len * sizeof(float));
    if (r != NULL) memcpy(rv, r + j0, (size_t)len * sizeof(float));
    _mm512_storeu_ps(v, epilogue16(_mm512_loadu_ps(v), e, i, r != NULL ? rv : NULL));
    memcpy(row + j0, v, (size_t)len * sizeof(float));
  }
}

void lits_packed_gemm_out(int64_t k, int64_t n, int64_t c, const float* ap, const float* x,
                          int64_t ldx, const int64_t* off, const conv_xform* xf, int64_t ctotal,
                          float* y, int64_t ldy, int64_t span, int64_t ys, const float* bias,
                          const conv_epilogue* ep, int stream, const gemm_next* next,
                          float* scratch) {
  float* bp = scratch;
  float* edge = bp + KC * NCB; /* MR x NR: a block cut by y's last rows or columns */
  conv_tile_moments* tm = ep != NULL ? ep->tile : NULL;
  if (ep != NULL && ep->y_coef == NULL && ep->r == NULL && !ep->relu) ep = NULL; /* moments only */
  for (int64_t j0 = 0; j0 < n; j0 += NCB) {
    const int64_t nc = n - j0 < NCB ? n - j0 : NCB;
    for (int64_t pc = 0; pc < c; pc += KC) {
      const int64_t kc = c - pc < KC ? c - pc : KC;
      const int last = pc + kc == c;
      /* Columns neither side by side nor every other one pack in one pass
       * over the rows, which reads each line of x once, not once per panel. */
      const int fused =
          pack_kernel_for(block_rows(k, 0)) != NULL &&
          panel_source(x, ldx, off + j0, nc < NR ? nc : NR, NULL, 0, 0, 0).src != NULL;
      if (!fused) pack_columns(x + pc * ldx, ldx, off + j0, kc, nc, xf, pc, ctotal, j0, span, bp);
      /* What the thread reads after this pass: x's rows of the next pass,
       * else the next block's first, else the next call's. */
      pf_cursor pf[2] = {pf_none, pf_none};
      if (!last) {
        pf[0] = pf_columns(x + (pc + kc) * ldx, ldx, off + j0, nc, min64(c - pc - kc, KC));
      } else if (j0 + NCB < n) {
        pf[0] = pf_columns(x, ldx, off + j0 + NCB, min64(n - j0 - NCB, NCB), min64(c, KC));
      } else if (next != NULL && next->x != NULL) {
        pf[0] = pf_columns(next->x, ldx, next->off, min64(next->n, NCB), min64(c, KC));
      }
      for (int64_t i0 = 0, mr; i0 < k; i0 += mr) {
        mr = block_rows(k, i0);
        const float* a = ap + i0 * c + pc * panel_rows(mr);
        if (last && ep != NULL && ep->r != NULL) { /* the residual of the next row block */
          const int more = i0 + mr < k;
          pf[1] = more ? pf_output(ep->r, ldy, span, ys, j0, nc, i0 + mr, block_rows(k, i0 + mr))
                       : pf_output(ep->r, ldy, span, ys, j0 + NCB, min64(n - j0 - NCB, NCB), 0,
                                   block_rows(k, 0));
        }
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = nc - jr < NR ? nc - jr : NR, j = j0 + jr;
          float* yt = y + j / span * ys + i0 * ldy + j % span;
          float* panel = bp + jr * kc;
          const int aligned = ((uintptr_t)yt & 63) == 0 && ldy % 16 == 0;
          const float* rt = ep != NULL && ep->r != NULL ? ep->r + (yt - y) : NULL;
          const block_out e = {pc > 0,
                               last && bias != NULL ? bias + i0 : NULL,
                               last && stream && aligned,
                               last ? ep : NULL,
                               i0,
                               k,
                               rt,
                               last ? tm : NULL,
                               j0 == 0 && jr == 0};
          if (i0 == 0 && fused) { /* the first row block packs the panel */
            const panel_src s =
                panel_source(x + pc * ldx, ldx, off + j, nr, xf, pc, ctotal, j / span);
            if (s.src != NULL && pack_kernel_for(mr) != NULL) {
              pack_kernel_for(mr)(kc, a, &s, panel, yt, ldy, &e, pf);
              continue;
            }
            pack_columns(x + pc * ldx, ldx, off + j, kc, nr, xf, pc, ctotal, j, span, panel);
          }
          if (nr == NR && kernel_for(mr) != NULL) {
            kernel_for(mr)(kc, a, panel, yt, ldy, &e, pf);
            continue;
          }
          const block_out plain = {0, NULL, 0, NULL, 0, 0, NULL, NULL, 0};
          kernel_for(panel_rows(mr))(kc, a, panel, edge, NR, &plain, pf);
          for (int64_t i = 0; i < mr; i++) {
            float* row = yt + i * ldy;
            const float* v = edge + i * NR;
            const float b = e.bias != NULL ? e.bias[i] : 0.0f;
            for (int64_t jj = 0; jj < nr; jj++) {
              const float sum = (pc > 0 ? row[jj] : 0.0f) + v[jj];
              row[jj] = e.bias != NULL ? sum + b : sum;
            }
            if (e.ep != NULL) edge_epilogue(row, nr, &e, i, rt != NULL ? rt + i * ldy : NULL);
            for (int64_t jj = 0; e.tm != NULL && jj < nr; jj++) {
              conv_moments_add1(e.tm, i0 + i, row[jj], e.first && jj == 0);
            }
          }
        }
      }
    }
  }
  if (stream) _mm_sfence(); /* the streamed rows before what reads y */
}

void lits_packed_gemm(int64_t k, int64_t n, int64_t c, const float* ap, const float* x,
                      int64_t ldx, const int64_t* off, const conv_xform* xf, int64_t ctotal,
                      float* y, int64_t ldy, int64_t span, int64_t ys, float* scratch) {
  lits_packed_gemm_out(k, n, c, ap, x, ldx, off, xf, ctotal, y, ldy, span, ys, NULL, NULL, 0, NULL,
                       scratch);
}
