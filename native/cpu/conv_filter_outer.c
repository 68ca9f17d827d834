/* conv_filter_outer.c: the filter gradient of a convolution without groups
 * or dilation, dW[k, c r s] = sum over images and output pixels j of
 * dy[k, j] col[c r s, j], col the im2col of relu?(T(x)) (for a 1x1 layer
 * of stride 1, x itself), as a GEMM of outer products on packed_gemm.c's
 * micro-kernel: a 12 x 32 block of dW in 24 AVX-512 accumulators, a value
 * of dy broadcast against two vectors of col per j.
 *
 * Both operands lie with j contiguous (NCHW), so both are transposed as
 * they are packed, 16 x 16 at a time in registers, chunk by chunk of KC
 * columns: dy's rows into panels [j][12] (the thread's rows, once a
 * chunk), x's channels (or channel-taps), transformed and gathered, into
 * panels [j][32] (NCB at a time, in L2). The dot-product kernel before it
 * (lits_conv_filter_pointwise, 4 x 6 blocks summed along j) loaded 10
 * vectors for 24 FMAs and half of them from L2; this one loads 2 from L2
 * and broadcasts 12 from L1.
 *
 * The threads split dW by output channel (where k >= c r s: each packs all
 * of x) or by its columns (each packs all of dy), and every element of dW
 * is summed chunk by chunk in a fixed order (chunks of KC columns from the
 * first, each summed from zero, then added to dW), so that its bits do not
 * depend on the number of threads. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "transpose16.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define KC 512  /* columns per chunk: the depth of the GEMM's panels */
#define NCB 256 /* channels of x packed at a time: NCB x KC floats stay in L2 */
#define NR 32   /* channels per panel of x: the micro-kernel's columns */
#define MR 12   /* the most rows of dy per panel */
#define GROUP_DW (32 * 1024) /* the most floats of dW that column groups take */

/* Images of 32 x 32 or smaller: ResNet-50's 1x1 layers there, batch 16,
 * x and dy cold, 2 threads of a Xeon with AMX, both kernels alternating in
 * one process (bench/filt1x1_bench.c), three runs: 2048 -> 512 at 8^2
 * 1.24-1.28x the dot-product kernel's rate, 512 -> 2048 1.12-1.15x,
 * 1024 -> 2048 / 2 at 16^2 1.09-1.11x, 1024 -> 512 1.16x, 256 -> 1024
 * 1.08-1.09x, 512 -> 1024 / 2 at 32^2 1.03-1.05x, 128 -> 512 1.04-1.06x,
 * 512 -> 256 1.00-1.05x, 1024 -> 256 and 512 -> 128 even. On 64 x 64
 * images (64 to 256 channels, 65536 columns) packing x transposed from
 * memory costs more than the products gain: 0.84-0.97x, and 0.90-0.95x at
 * 256 -> 512 / 2; those keep the dot products. LITS_FILTER1X1=outer or
 * =dot takes one for every shape (tests, benchmarks). */
int lits_conv_filter_outer_applies(const conv_shape* p) {
  const char* env = getenv("LITS_FILTER1X1");
  if (env != NULL && strcmp(env, "outer") == 0) return 1;
  if (env != NULL && strcmp(env, "dot") == 0) return 0;
  return p->h * p->w <= 1024;
}

/* Filters of several taps or with padding (x's channel-taps gathered as
 * B's rows: an implicit im2col): no groups or dilation, AVX-512. conv.c
 * chooses the shapes (outer_filter_wins); LITS_FILTER_TAPS=outer sends it
 * every such shape, =off none (tests, benchmarks). */
int lits_conv_filter_taps_applies(const conv_shape* p) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* env = getenv("LITS_FILTER_TAPS");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  return avx512 && p->groups == 1 && p->dh == 1 && p->dw == 1;
}

int lits_conv_filter_taps_forced(const conv_shape* p) {
  const char* env = getenv("LITS_FILTER_TAPS");
  return env != NULL && strcmp(env, "outer") == 0 && lits_conv_filter_taps_applies(p);
}

/* Up to 16 columns of one image: image n, first output pixel pix, len of
 * them; where x is not read in place (a stride, padding or several taps),
 * the input row and column of their first tap (oy sh - ph, ox sw - pw). */
typedef struct {
  int64_t n, pix, len, at; /* at: the first's column in the chunk */
  __mmask16 mask;
  __m512i iy, ix;
} group;

/* Whether x's rows are read in place: a 1x1 convolution of stride 1 and no
 * padding (rows of B are channels); else gathered per tap. */
static int in_place(const conv_shape* p) {
  return p->r == 1 && p->s == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0 && p->pw == 0;
}

/* The groups of columns [j0, j0 + kc) into gs (at most kc of them; none
 * crosses an image), made once a chunk for both operands' packing: made
 * again for each strip of 16 rows, the stride-2 filter gradients took
 * 13-21% longer (bench/filter_ab.ts); returns their number. */
AVX512 static int64_t make_groups(const conv_shape* p, int64_t j0, int64_t kc, group* gs) {
  int64_t count = 0;
  for (int64_t at = 0; at < kc; count++) {
    group* g = gs + count;
    const int64_t j = j0 + at, pix = j % p->ohw;
    const int64_t left = p->ohw - pix < kc - at ? p->ohw - pix : kc - at;
    g->n = j / p->ohw;
    g->pix = pix;
    g->at = at;
    g->len = left < 16 ? left : 16;
    g->mask = (__mmask16)((1u << g->len) - 1);
    if (!in_place(p)) {
      int32_t iy[16] = {0}, ix[16] = {0};
      for (int64_t l = 0; l < g->len; l++) {
        iy[l] = (int32_t)((pix + l) / p->ow * p->sh - p->ph);
        ix[l] = (int32_t)((pix + l) % p->ow * p->sw - p->pw);
      }
      g->iy = _mm512_loadu_si512(iy);
      g->ix = _mm512_loadu_si512(ix);
    }
    at += g->len;
  }
  return count;
}

/* dy's row ch of image g->n at g's columns (zeros past its len). */
AVX512_INLINE __m512 load_dy(const conv_shape* p, const float* dy, int64_t ch, const group* g) {
  return _mm512_maskz_loadu_ps(g->mask, dy + (g->n * p->k + ch) * p->ohw + g->pix);
}

/* Row q of B at g's columns: x's channel q / (r s) at tap q % (r s),
 * transformed as fused_apply does (the same expression, contracted the
 * same way), relu'd where the transform says; zero where the tap falls in
 * the padding (the convolution's input is relu?(T(x)) padded with zeros). */
AVX512_INLINE __m512 load_x(const conv_shape* p, const float* x, const conv_xform* xf, int64_t q,
                            const group* g) {
  const int64_t rs = p->r * p->s, ch = q / rs, t = q % rs;
  const float* plane = x + (g->n * p->c + ch) * p->h * p->w;
  __mmask16 valid = g->mask;
  __m512 v;
  if (in_place(p)) {
    v = _mm512_maskz_loadu_ps(valid, plane + g->pix);
  } else {
    const __m512i iy = _mm512_add_epi32(g->iy, _mm512_set1_epi32((int32_t)(t / p->s)));
    const __m512i ix = _mm512_add_epi32(g->ix, _mm512_set1_epi32((int32_t)(t % p->s)));
    const __m512i zero = _mm512_setzero_si512();
    valid &= _mm512_cmpge_epi32_mask(iy, zero) & _mm512_cmpge_epi32_mask(ix, zero) &
             _mm512_cmplt_epi32_mask(iy, _mm512_set1_epi32((int32_t)p->h)) &
             _mm512_cmplt_epi32_mask(ix, _mm512_set1_epi32((int32_t)p->w));
    const __m512i idx = _mm512_add_epi32(_mm512_mullo_epi32(iy, _mm512_set1_epi32((int32_t)p->w)), ix);
    v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, plane, 4);
  }
  if (xf == NULL) return v;
  if (xf->coef != NULL) {
    const __m512 m = _mm512_set1_ps(xf->coef[ch]), a = _mm512_set1_ps(xf->coef[p->c + ch]);
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, m), a, _mm512_set1_ps(xf->coef[2 * p->c + ch]));
  }
  if (xf->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN and -0 as v < 0 ? 0 : v */
  return _mm512_maskz_mov_ps(valid, v);
}

/* Rows [k0, k0 + kt) of dy at columns [j0, j0 + kc) into panels of
 * lits_packed_gemm_block_rows' blocks: the block at row i0 at ap + i0 kc,
 * [kc][h] (h its panel height, rows past kt zero). */
AVX512 static void pack_dy(const conv_shape* p, const float* dy, int64_t k0, int64_t kt,
                           const group* gs, int64_t groups, int64_t kc, float* ap) {
  for (int64_t i0 = 0, mr; i0 < kt; i0 += mr) {
    mr = lits_packed_gemm_block_rows(kt, i0);
    const int64_t h = lits_packed_gemm_panel_rows(mr);
    const __mmask16 hm = (__mmask16)((1u << h) - 1);
    float* panel = ap + i0 * kc;
    for (const group* g = gs; g < gs + groups; g++) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        r[i] = i < mr ? load_dy(p, dy, k0 + i0 + i, g) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int64_t l = 0; l < g->len; l++) _mm512_mask_storeu_ps(panel + (g->at + l) * h, hm, r[l]);
    }
  }
}

/* Channels [c0, c0 + nb) of T(x) at columns [j0, j0 + kc) into panels of
 * NR channels, panel q at bp + q NR kc, [kc][NR] (channels past nb: zeros
 * up to a multiple of 16, then unset; their columns of dW are not stored).
 * Sixteen channels at a time, along the chunk: sixteen streams that the
 * hardware prefetchers follow. */
AVX512 static void pack_x(const conv_shape* p, const float* x, const conv_xform* xf, int64_t c0,
                          int64_t nb, const group* gs, int64_t groups, int64_t kc, float* bp) {
  for (int64_t q0 = 0; q0 < nb; q0 += 16) {
    for (const group* g = gs; g < gs + groups; g++) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        r[i] = q0 + i < nb ? load_x(p, x, xf, c0 + q0 + i, g) : _mm512_setzero_ps();
      }
      transpose16(r);
      float* dst = bp + q0 / NR * NR * kc + g->at * NR + q0 % NR;
      for (int64_t l = 0; l < g->len; l++) _mm512_storeu_ps(dst + l * NR, r[l]);
    }
  }
}

/* One thread's block of dW: rows [k0, k0 + kt), channels [c0, c0 + ct),
 * summed over columns [jlo, jhi) (chunk bounds) into dw. (Fetching the
 * next block of x into L2 while one is multiplied, as packed_gemm.c's
 * kernels do, changed nothing measurable here.) */
static void filter_part(const conv_shape* p, const float* x, const conv_xform* xf,
                        const float* dy, float* dw, int64_t k0, int64_t kt, int64_t c0,
                        int64_t ct, int64_t jlo, int64_t jhi, float* ap, float* bp, float* edge) {
  group gs[KC];
  for (int64_t j0 = jlo; j0 < jhi; j0 += KC) {
    const int64_t kc = jhi - j0 < KC ? jhi - j0 : KC;
    const int acc = j0 > jlo;
    const int64_t groups = make_groups(p, j0, kc, gs);
    pack_dy(p, dy, k0, kt, gs, groups, kc, ap);
    for (int64_t cb = 0; cb < ct; cb += NCB) {
      const int64_t nb = ct - cb < NCB ? ct - cb : NCB;
      pack_x(p, x, xf, c0 + cb, nb, gs, groups, kc, bp);
      lits_gemm_packed_blocks(kt, nb, kc, ap, bp, dw + k0 * p->crs_g + c0 + cb, p->crs_g, acc,
                              edge);
    }
  }
}

/* Bounds of part t of nparts of [0, d): multiples of unit but the last. */
static int64_t part_bound(int64_t d, int64_t t, int64_t nparts, int64_t unit) {
  return t == nparts ? d : d * t / nparts / unit * unit;
}

/* Where dW is small and the columns many (such as ResNet-50's 64 x 64
 * layers, which the dot products take by default), two groups of columns
 * (the first half of the chunks, and the rest), each summed into a dW of
 * its own by half of the threads, added at the end: threads that split a
 * small dW each read a whole operand, and the columns' operands come from
 * memory. The groups depend on the shape only and one thread runs both in
 * turn, so that the bits do not depend on the number of threads. */
int lits_conv_filter_outer(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* dy, float* dweight) {
  const int64_t cols = p->n * p->ohw; /* > 0: lits_conv_filter_setup zeroes dW without images */
  const int nt = omp_get_max_threads();
  const int64_t chunks = (cols + KC - 1) / KC, mid = (chunks + 1) / 2 * KC;
  const int64_t crs = p->crs_g; /* rows of B: channels x taps */
  const int groups = chunks >= 2 && p->k * crs <= GROUP_DW ? 2 : 1;
  const int by_k = p->k >= crs;
  const int64_t d = by_k ? p->k : crs, unit = by_k ? 4 : 16;
  const int team = nt >= groups ? nt / groups : 1;
  const int members = min_threads(team, (d + unit - 1) / unit);
  const int threads = nt >= groups ? members * groups : 1; /* one: every group in turn */
  int64_t most = 0; /* the largest part */
  for (int t = 0; t < members; t++) {
    const int64_t len = part_bound(d, t + 1, members, unit) - part_bound(d, t, members, unit);
    if (len > most) most = len;
  }
  const int64_t kc = cols < KC ? cols : KC, kt = by_k ? most : p->k;
  const int64_t an = round16((kt + MR) * kc), bn = round16(NCB * kc), per = an + bn + MR * NR;
  float* scratch = thread_scratch(per, threads, groups > 1 ? p->k * crs : 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* part = scratch + per * threads;
  const conv_xform* xfa = conv_xform_active(xf) ? xf : NULL;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    float* ap = scratch + per * t;
    const int first = threads == 1 ? 0 : t / members, last = threads == 1 ? groups - 1 : first;
    const int r = threads == 1 ? 0 : t % members;
    const int64_t lo = part_bound(d, r, members, unit), hi = part_bound(d, r + 1, members, unit);
    for (int g = first; g <= last; g++) {
      const int64_t jlo = g == 0 ? 0 : mid, jhi = groups == 1 || g == 1 ? cols : mid;
      filter_part(p, x, xfa, dy, g == 0 ? dweight : part, by_k ? lo : 0, by_k ? hi - lo : p->k,
                  by_k ? 0 : lo, by_k ? crs : hi - lo, jlo, jhi, ap, ap + an, ap + an + bn);
    }
  }
  if (groups > 1) lits_conv_add_part(dweight, part, p->k * crs);
  lits_scratch_free(scratch);
  return LITS_OK;
}
