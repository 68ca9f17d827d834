/* conv_filter_pointwise.c: the filter gradient of a 1x1 convolution (any
 * stride, no padding, no groups), dW[k, c] = sum over images and output
 * pixels j of dy[k, j] relu?(T(x))[c, j], with our own AVX-512 kernel.
 *
 * Both operands lie with j contiguous (NCHW), so the product is a dot
 * product along j: the micro-kernel holds a 4 x 6 block of dW as 24
 * vectors of 16 partial sums, loads 4 rows of dy and 6 of x per 16 columns
 * (10 loads for 24 FMAs) and sums the lanes once per chunk of JC columns.
 * No operand is transposed. OpenBLAS (NT) instead packs both operands
 * transposed per call and tile, and a transformed or strided x went
 * through a tile buffer before it: 122-177 GFLOP/s on ResNet-50's shapes.
 *
 * Columns are taken in chunks of JC (across image boundaries); per chunk a
 * block of KB rows of one operand is packed contiguous (it stays in L2)
 * and the other is packed a strip of 6 (x) or 4 (dy) rows at a time (in
 * L1); x is transformed and gathered as it is read, and the next block's
 * and strip's memory is prefetched while the products run. The threads
 * split dW itself, by rows of k or columns of c, so there is no reduction
 * between threads and every element of dW is summed in the same order
 * whatever the number of threads. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "fused_internal.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define MR 4    /* rows of dy per micro-kernel block */
#define NR 6    /* rows of x per block */
#define JC 1024 /* columns per chunk: the lanes are summed once per chunk */
#define KB 96   /* rows packed per chunk: KB x JC floats, 384 KiB, stay in L2 */

int lits_conv_filter_pointwise_applies(const conv_shape* p) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* algo = getenv("LITS_CONV_ALGO"); /* =openblas: the OpenBLAS path, for A/B */
  if (algo != NULL && strcmp(algo, "openblas") == 0) return 0;
  return avx512 && p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->groups == 1;
}

/* The lane sums of six accumulators in lanes 0..5, by a tree of 128- and
 * 32-bit shuffles: 25 instructions a row where six _mm512_reduce_add_ps and
 * scalar adds take 66 (they cost 10% of the time with chunks of 1024).
 * Every accumulator's lanes are added in the same order, whatever its
 * position, so that a dW element's bits do not depend on its block. */
AVX512_INLINE __m512 pair8(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
}
AVX512_INLINE __m512 pair4(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xdd));
}
AVX512_INLINE __m512 pair2(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xdd));
}
AVX512_INLINE __m512 sum6(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 v4, __m512 v5) {
  const __m512 q0123 = pair4(pair8(v0, v1), pair8(v2, v3));
  const __m512 p45 = pair8(v4, v5), q45 = pair4(p45, p45);
  const __m512 r = pair2(q0123, q45), s = pair2(r, r);
  /* s: v0 in lane 0, v4 in 1, v1 in 4, v5 in 5, v2 in 8, v3 in 12 */
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(order, s);
}

/* out[i ldo + q] += the sums of a block's mr x nr dot products over jp
 * columns (a multiple of 16): rows of a and b have stride ld. Inlined with
 * constant mr, nr, so that the accumulators stay in registers. */
AVX512_INLINE void dot_block(
    const int mr, const int nr, int64_t jp, const float* a, const float* b, int64_t ld,
    float* out, int64_t ldo) {
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; i++) {
    for (int q = 0; q < NR; q++) acc[i][q] = _mm512_setzero_ps();
  }
  int64_t j = 0;
  do { /* jp >= 16 */
    __m512 av[MR];
    for (int i = 0; i < mr; i++) av[i] = _mm512_loadu_ps(a + i * ld + j);
    for (int q = 0; q < nr; q++) {
      __m512 bv = _mm512_loadu_ps(b + q * ld + j);
      __asm__("" : "+v"(bv)); /* one load, not one per FMA */
      for (int i = 0; i < mr; i++) acc[i][q] = _mm512_fmadd_ps(av[i], bv, acc[i][q]);
    }
    j += 16;
  } while (j < jp);
  const __mmask16 m = (__mmask16)((1u << nr) - 1);
  for (int i = 0; i < mr; i++) {
    float* o = out + i * ldo;
    const __m512 v = sum6(acc[i][0], acc[i][1], acc[i][2], acc[i][3], acc[i][4], acc[i][5]);
    _mm512_mask_storeu_ps(o, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), v));
  }
}

typedef void (*dot_fn)(int64_t, const float*, const float*, int64_t, float*, int64_t);

#define DOT(M, N)                                                                           \
  AVX512 static void dot_##M##_##N(                                                         \
      int64_t jp, const float* a, const float* b, int64_t ld, float* out, int64_t ldo) {     \
    dot_block(M, N, jp, a, b, ld, out, ldo);                                                 \
  }
#define DOTS(M) DOT(M, 1) DOT(M, 2) DOT(M, 3) DOT(M, 4) DOT(M, 5) DOT(M, 6)
DOTS(1) DOTS(2) DOTS(3) DOTS(4)
#define ROWFNS(M) {dot_##M##_1, dot_##M##_2, dot_##M##_3, dot_##M##_4, dot_##M##_5, dot_##M##_6}
static const dot_fn dots[MR][NR] = {ROWFNS(1), ROWFNS(2), ROWFNS(3), ROWFNS(4)};

/* dst[0, n) = src[0, n): inline, as the runs are short where images are
 * small (64 floats at 8 x 8, where memcpy's calls cost 8%). */
AVX512 static void copy_floats(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
  if (i < n) {
    const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
  }
}

/* Rows [r0, r0 + nrows) of dy, columns [j0, j0 + jc) of the n * ohw, into
 * dst [nrows, jp] (zero beyond jc). */
static void pack_dy(const conv_shape* p, const float* dy, int64_t r0, int64_t nrows, int64_t j0,
                    int64_t jc, int64_t jp, float* dst) {
  const int64_t kohw = p->k * p->ohw;
  for (int64_t j = j0, img = j0 / p->ohw, pix = j0 % p->ohw; j < j0 + jc; img++, pix = 0) {
    const int64_t len = p->ohw - pix < j0 + jc - j ? p->ohw - pix : j0 + jc - j;
    const float* src = dy + img * kohw + r0 * p->ohw + pix;
    for (int64_t r = 0; r < nrows; r++) {
      copy_floats(dst + r * jp + (j - j0), src + r * p->ohw, len);
    }
    j += len;
  }
  for (int64_t r = 0; r < nrows; r++) memset(dst + r * jp + jc, 0, (size_t)(jp - jc) * 4);
}

/* dst[0, n) = src[0, 2n - 1) at even positions: two loads and a permute per
 * 16 (masked, so that nothing past the last element is read). */
AVX512 static void gather_stride2(float* dst, const float* src, int64_t n) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                         30);
  for (int64_t o = 0; o < n; o += 16) {
    const int64_t m = n - o < 16 ? n - o : 16, need = 2 * m - 1;
    const __mmask16 k0 = need >= 16 ? 0xffff : (__mmask16)((1u << need) - 1);
    const __mmask16 k1 = need > 16 ? (__mmask16)((1u << (need - 16)) - 1) : 0;
    const __m512 lo = _mm512_maskz_loadu_ps(k0, src + 2 * o);
    const __m512 hi = _mm512_maskz_loadu_ps(k1, src + 2 * o + 16);
    _mm512_mask_storeu_ps(dst + o, (__mmask16)((1u << m) - 1),
                          _mm512_permutex2var_ps(lo, even, hi));
  }
}

/* Columns [pix, pix + len) of one image's channel plane xc (strided
 * output pixels), raw, into dst. */
static void gather_pixels(const conv_shape* p, const float* xc, int64_t pix, int64_t len,
                          float* dst) {
  int64_t oy = pix / p->ow, ox = pix % p->ow;
  for (; len > 0; oy++, ox = 0) {
    const int64_t n = p->ow - ox < len ? p->ow - ox : len;
    const float* src = xc + oy * p->sh * p->w + ox * p->sw;
    if (p->sw == 1) {
      copy_floats(dst, src, n);
    } else if (p->sw == 2) {
      gather_stride2(dst, src, n);
    } else {
      for (int64_t i = 0; i < n; i++) dst[i] = src[i * p->sw];
    }
    dst += n, len -= n;
  }
}

/* Channels [c0, c0 + nrows) of x, output columns [j0, j0 + jc), as the
 * convolution reads them (relu?(T(x)), strided), into dst [nrows, jp]. */
static void pack_x(const conv_shape* p, const float* x, const conv_xform* xf, int64_t c0,
                   int64_t nrows, int64_t j0, int64_t jc, int64_t jp, float* dst) {
  const int64_t hw = p->h * p->w, chw = p->c * hw;
  const int xact = conv_xform_active(xf), relu = xact && xf->relu;
  const int in_place = p->sh == 1 && p->sw == 1 && p->ow == p->w; /* pixels contiguous */
  for (int64_t r = 0; r < nrows; r++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, p->c, c0 + r);
    float* row = dst + r * jp;
    for (int64_t j = j0, img = j0 / p->ohw, pix = j0 % p->ohw; j < j0 + jc; img++, pix = 0) {
      const int64_t len = p->ohw - pix < j0 + jc - j ? p->ohw - pix : j0 + jc - j;
      const float* xc = x + img * chw + (c0 + r) * hw;
      if (in_place && !xact) {
        copy_floats(row + (j - j0), xc + pix, len);
      } else if (in_place) {
        fused_apply(row + (j - j0), xc + pix, len, t, relu);
      } else {
        gather_pixels(p, xc, pix, len, row + (j - j0));
        fused_apply(row + (j - j0), row + (j - j0), len, t, relu);
      }
      j += len;
    }
    for (int64_t j = jc; j < jp; j++) row[j] = 0.0f;
  }
}

/* A walk over the memory that a later pack_dy or pack_x reads, a cache
 * line at a time, so that its loads from DRAM overlap the products of the
 * block before it: rows [r0, r0 + nrows) of columns [j0, jend), in runs of
 * contiguous source (an image's pixels, or one output row when strided). */
typedef struct {
  const float* base;
  int64_t img_stride, plane, r0, nrows, j0, jend;
  int strided;
  int64_t r, j, run, pos, end; /* the current run: columns [j, j + run), floats [pos, end) */
  int64_t rbase, oy;            /* the run's image row plane in base, its output row */
} prefetcher;

/* The run's floats [pos, end), from its columns: pos line-aligned. */
static void pf_span(const conv_shape* p, prefetcher* f, int64_t from) {
  f->pos = f->rbase + from;
  f->end = f->pos + (f->strided ? (f->run - 1) * p->sw + 1 : f->run);
  f->pos -= ((uintptr_t)(f->base + f->pos) & 63) / sizeof(float);
}

/* The run at column j of row r (divisions: once a row). */
static void pf_run_at(const conv_shape* p, prefetcher* f) {
  const int64_t img = f->j / p->ohw, pix = f->j % p->ohw, left = f->jend - f->j;
  f->rbase = img * f->img_stride + (f->r0 + f->r) * f->plane;
  if (f->strided) {
    const int64_t ox = pix % p->ow;
    f->oy = pix / p->ow;
    f->run = p->ow - ox < left ? p->ow - ox : left;
    pf_span(p, f, f->oy * p->sh * p->w + ox * p->sw);
  } else {
    f->run = p->ohw - pix < left ? p->ohw - pix : left;
    pf_span(p, f, pix);
  }
}

/* The run after the current one in the same row: the next output row, or
 * the next image's first. */
static void pf_next_run(const conv_shape* p, prefetcher* f) {
  const int64_t left = f->jend - f->j;
  if (f->strided) {
    if (++f->oy == p->oh) f->oy = 0, f->rbase += f->img_stride;
    f->run = p->ow < left ? p->ow : left;
    pf_span(p, f, f->oy * p->sh * p->w);
  } else {
    f->rbase += f->img_stride;
    f->run = p->ohw < left ? p->ohw : left;
    pf_span(p, f, 0);
  }
}

static void pf_start(const conv_shape* p, prefetcher* f, const float* base, int64_t img_stride,
                     int64_t plane, int strided, int64_t r0, int64_t nrows, int64_t j0,
                     int64_t jend) {
  f->base = base, f->img_stride = img_stride, f->plane = plane, f->strided = strided;
  f->r0 = r0, f->nrows = nrows, f->j0 = j0, f->jend = jend, f->r = 0, f->j = j0;
  if (nrows > 0 && jend > j0) pf_run_at(p, f);
  else f->r = nrows;
}

/* Prefetches the next `lines` cache lines of the walk (none past its end). */
static void pf_step(const conv_shape* p, prefetcher* f, int64_t lines) {
  for (; lines > 0 && f->r < f->nrows; lines--) {
    _mm_prefetch((const char*)(f->base + f->pos), _MM_HINT_T1);
    f->pos += 16;
    if (f->pos < f->end) continue;
    f->j += f->run;
    if (f->j < f->jend) {
      pf_next_run(p, f);
    } else {
      f->j = f->j0, f->r++;
      if (f->r < f->nrows) pf_run_at(p, f);
    }
  }
}

/* The walk over dy rows [r0, r0 + n) or x channels, columns [j0, jend). */
static void pf_dy(const conv_shape* p, prefetcher* f, const float* dy, int64_t r0, int64_t n,
                  int64_t j0, int64_t jend) {
  pf_start(p, f, dy, p->k * p->ohw, p->ohw, 0, r0, n, j0, jend);
}
static void pf_x(const conv_shape* p, prefetcher* f, const float* x, int64_t c0, int64_t n,
                 int64_t j0, int64_t jend) {
  const int strided = !(p->sh == 1 && p->sw == 1 && p->ow == p->w);
  pf_start(p, f, x, p->c * p->h * p->w, p->h * p->w, strided, c0, n, j0, jend);
}

/* One thread's block of dW: rows [k0, k1) of dy against channels [c0, c1)
 * of x, over every column, chunk by chunk. While a block of dy rows is in
 * use, the next block's rows are prefetched, and x's next strip while a
 * strip is (without them, the packing waited on DRAM for a fifth of the
 * time at c64 k256 64x64). */
static void filter_block(const conv_shape* p, const float* x, const conv_xform* xf,
                         const float* dy, float* dw, int64_t k0, int64_t k1, int64_t c0,
                         int64_t c1, float* dbuf, float* xbuf) {
  const int64_t cols = p->n * p->ohw, ldw = p->c;
  for (int64_t kk = k0; kk < k1; kk++) memset(dw + kk * ldw + c0, 0, (size_t)(c1 - c0) * 4);
  if (k0 >= k1 || c0 >= c1) return;
  prefetcher fd, fx;
  for (int64_t j0 = 0; j0 < cols; j0 += JC) {
    const int64_t jc = cols - j0 < JC ? cols - j0 : JC, jp = round16(jc), ld = jp + 16;
    for (int64_t kb0 = k0; kb0 < k1; kb0 += KB) {
      const int64_t kb = k1 - kb0 < KB ? k1 - kb0 : KB;
      pack_dy(p, dy, kb0, kb, j0, jc, ld, dbuf);
      /* the next block of dy: the next rows, or the first of the next chunk */
      const int64_t nk0 = kb0 + KB < k1 ? kb0 + KB : k0;
      const int64_t nj0 = kb0 + KB < k1 ? j0 : j0 + JC;
      const int64_t njc = cols - nj0 < JC ? cols - nj0 : JC;
      const int64_t nkb = k1 - nk0 < KB ? k1 - nk0 : KB;
      pf_dy(p, &fd, dy, nk0, nj0 < cols ? nkb : 0, nj0, nj0 + njc);
      const int64_t calls = (c1 - c0 + NR - 1) / NR * ((kb + MR - 1) / MR);
      const int64_t dy_lines = (nkb * njc + 15) / 16 / calls + 1;
      for (int64_t cs = c0; cs < c1; cs += NR) {
        const int64_t nr = c1 - cs < NR ? c1 - cs : NR;
        pack_x(p, x, xf, cs, nr, j0, jc, ld, xbuf);
        const int64_t ncs = cs + NR < c1 ? cs + NR : c0; /* x's next strip */
        const int64_t nxj = cs + NR < c1 ? j0 : nj0, nxc = cs + NR < c1 ? jc : njc;
        pf_x(p, &fx, x, ncs, nxj < cols ? (c1 - ncs < NR ? c1 - ncs : NR) : 0, nxj, nxj + nxc);
        const int64_t x_lines = (NR * nxc * p->sw + 15) / 16 / ((kb + MR - 1) / MR) + 1;
        for (int64_t i0 = 0; i0 < kb; i0 += MR) {
          const int64_t mr = kb - i0 < MR ? kb - i0 : MR;
          pf_step(p, &fd, dy_lines);
          pf_step(p, &fx, x_lines);
          dots[mr - 1][nr - 1](jp, dbuf + i0 * ld, xbuf, ld, dw + (kb0 + i0) * ldw + cs, ldw);
        }
      }
    }
  }
}

/* The same with the roles swapped: a block of KB channels of x packed per
 * chunk (gathered and transformed once), dy packed 4 rows at a time. */
static void filter_block_x(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* dy, float* dw, int64_t k0, int64_t k1, int64_t c0,
                           int64_t c1, float* cbuf, float* dbuf) {
  const int64_t cols = p->n * p->ohw, ldw = p->c;
  for (int64_t kk = k0; kk < k1; kk++) memset(dw + kk * ldw + c0, 0, (size_t)(c1 - c0) * 4);
  if (k0 >= k1 || c0 >= c1) return;
  prefetcher fx, fd;
  for (int64_t j0 = 0; j0 < cols; j0 += JC) {
    const int64_t jc = cols - j0 < JC ? cols - j0 : JC, jp = round16(jc), ld = jp + 16;
    for (int64_t cb0 = c0; cb0 < c1; cb0 += KB) {
      const int64_t cb = c1 - cb0 < KB ? c1 - cb0 : KB;
      pack_x(p, x, xf, cb0, cb, j0, jc, ld, cbuf);
      const int64_t nc0 = cb0 + KB < c1 ? cb0 + KB : c0;
      const int64_t nj0 = cb0 + KB < c1 ? j0 : j0 + JC;
      const int64_t njc = cols - nj0 < JC ? cols - nj0 : JC;
      const int64_t ncb = c1 - nc0 < KB ? c1 - nc0 : KB;
      pf_x(p, &fx, x, nc0, nj0 < cols ? ncb : 0, nj0, nj0 + njc);
      const int64_t calls = (k1 - k0 + MR - 1) / MR * ((cb + NR - 1) / NR);
      const int64_t x_lines = (ncb * njc * p->sw + 15) / 16 / calls + 1;
      for (int64_t ks = k0; ks < k1; ks += MR) {
        const int64_t mr = k1 - ks < MR ? k1 - ks : MR;
        pack_dy(p, dy, ks, mr, j0, jc, ld, dbuf);
        const int64_t nks = ks + MR < k1 ? ks + MR : k0; /* dy's next strip */
        const int64_t ndj = ks + MR < k1 ? j0 : nj0, ndc = ks + MR < k1 ? jc : njc;
        pf_dy(p, &fd, dy, nks, ndj < cols ? (k1 - nks < MR ? k1 - nks : MR) : 0, ndj, ndj + ndc);
        const int64_t d_lines = (MR * ndc + 15) / 16 / ((cb + NR - 1) / NR) + 1;
        for (int64_t q0 = 0; q0 < cb; q0 += NR) {
          const int64_t nr = cb - q0 < NR ? cb - q0 : NR;
          pf_step(p, &fx, x_lines);
          pf_step(p, &fd, d_lines);
          dots[mr - 1][nr - 1](jp, dbuf, cbuf + q0 * ld, ld, dw + ks * ldw + cb0 + q0, ldw);
        }
      }
    }
  }
}

/* Bounds of part t of nparts of [0, d), multiples of 4 but the last. */
static int64_t part_bound(int64_t d, int t, int nparts) {
  if (t == nparts) return d;
  return d * t / nparts / 4 * 4;
}

int lits_conv_filter_pointwise(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* dy, float* dweight) {
  const int nt = omp_get_max_threads();
  /* A strided x is gathered: in blocks of channels, each once per chunk,
   * and the threads split the channels, so that no two gather the same
   * (with blocks of dy rows x's strips were gathered once per block, and
   * ResNet-50's 1024 -> 2048 at 16 x 16, stride 2, ran at half OpenBLAS's
   * rate). Otherwise the larger dimension of dW is split, in fours. */
  const int xblock = p->sh != 1 || p->sw != 1;
  const int by_k = !xblock && p->k >= p->c;
  const int64_t d = by_k ? p->k : p->c;
  const int threads = min_threads(nt, d < 8 ? 1 : d / 4); /* no empty part */
  const int64_t jmax = round16(p->n * p->ohw < JC ? p->n * p->ohw : JC);
  const int64_t per = round16(KB * (jmax + 16)) + round16((NR > MR ? NR : MR) * (jmax + 16));
  float* scratch = thread_scratch(per, threads, 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float* block = scratch + per * tid; /* KB rows */
    float* strip = block + round16(KB * (jmax + 16));
    const int64_t lo = part_bound(d, tid, threads), hi = part_bound(d, tid + 1, threads);
    const int64_t k0 = by_k ? lo : 0, k1 = by_k ? hi : p->k;
    const int64_t c0 = by_k ? 0 : lo, c1 = by_k ? p->c : hi;
    if (xblock) {
      filter_block_x(p, x, xf, dy, dweight, k0, k1, c0, c1, block, strip);
    } else {
      filter_block(p, x, xf, dy, dweight, k0, k1, c0, c1, block, strip);
    }
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}
