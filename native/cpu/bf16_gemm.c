/* bf16_gemm.c: C = alpha * bf16(A) x bf16(B) + beta * C with fp32 products
 * and sums, as PyTorch's CPU autocast computes a matmul: fp32 inputs are
 * rounded to bfloat16 (round to nearest even, NaN -> 0x7FC0, denormals kept:
 * c10::BFloat16's bit arithmetic) while they are packed.
 *
 * The micro-kernel is vdpbf16ps (AVX512_BF16): each 32-bit lane holds a pair
 * of bf16 consecutive along K, and one instruction adds a[2i] b[2i] +
 * a[2i+1] b[2i+1] to 16 fp32 accumulators. So both packed operands store
 * K in pairs: A panels of MR rows as [row][pair] 32-bit words (one word is
 * broadcast per row; rows contiguous along K so that packing stores whole
 * vectors), B panels of NR columns as [pair][column] words (two vectors per
 * pair). A 6 x 64 block of C (two B panels: kernel6x2) or a 12 x 32 one
 * (a block's last panel, and beside AMX tiles) lives in 24 zmm
 * accumulators. An odd K is padded with a zero bf16.
 * vdpbf16ps itself treats bf16 denormals as zero and flushes denormal
 * results (Intel's definition): products of normal bf16 values are exact in
 * fp32, so only results below 1e-38 can differ from PyTorch's.
 *
 * Blocking (GotoBLAS order), on each thread's slab of C: for each NC
 * columns and KC of K the B block is packed, then for each MC rows the A
 * block, and every (MR, NR) tile of the two is one micro-kernel call
 * (bf16_blocking.h; the packing is bf16_pack.c's). Chosen at run time: the
 * library builds and loads on CPUs without AVX512_BF16, where the GEMM is
 * LITS_ERR_UNAVAILABLE.
 * lits_gemm_bf16_serial (bf16_internal.h) is the same product on one thread,
 * for kernels that thread around it (conv_bf16.c); the public GEMM uses it
 * below PAR_MIN_MACS. */
#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf16_blocking.h"
#include "bf16_internal.h"
#include "common.h"
#include "stream_store.h"

/* Below this many multiply-adds one thread does the product. */
#define PAR_MIN_MACS ((int64_t)1 << 18)

/* The CPU's level (CPUID once: in a VM each CPUID traps to the hypervisor,
 * 14 us a call on the 2-core Xeon, and every bf16 call asks); -1 unknown. */
static int cpu_level = -1;

static int cpu_bf16_level(void) {
  int level = __atomic_load_n(&cpu_level, __ATOMIC_ACQUIRE);
  if (level >= 0) return level;
  __builtin_cpu_init();
  level = __builtin_cpu_supports("avx512bf16") ? 1 : 0;
  /* AMX-BF16 is CPUID.(7,0):EDX bit 22 (bf16_amx.c's kernel). */
  unsigned eax, ebx, ecx, edx;
  if (level && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx >> 22 & 1)) level = 2;
  __atomic_store_n(&cpu_level, level, __ATOMIC_RELEASE);
  return level;
}

/* LITS_BF16=off reports no bf16 support (read on every call, as
 * LITS_CONV_ALGO is), so that the fp32 fallback of callers and the
 * unavailable status can be tested on a CPU that has it. */
int lits_bf16_support(int32_t* level_host) {
  lits_clear_error();
  LITS_REQUIRE(level_host != NULL, "lits_bf16_support: level_host is NULL");
  const char* env = getenv("LITS_BF16");
  const int off = env != NULL && strcmp(env, "off") == 0;
  *level_host = off ? 0 : cpu_bf16_level();
  return LITS_OK;
}

int lits_bf16_ready(const char* fn, const char* fp32) {
  int32_t level = 0;
  lits_bf16_support(&level);
  if (level > 0) return LITS_OK;
  return lits_fail(LITS_ERR_UNAVAILABLE,
                   "%s: no AVX512_BF16 (vdpbf16ps) on this CPU, or LITS_BF16=off; use %s "
                   "(lits_bf16_support reports 0)",
                   fn, fp32);
}

#define ROW(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define DOT(i)                                                 \
  {                                                            \
    const __m512bh w = (__m512bh)_mm512_set1_epi32((int)ap[(i) * pairs]); \
    c##i##a = _mm512_dpbf16_ps(c##i##a, w, b0);                \
    c##i##b = _mm512_dpbf16_ps(c##i##b, w, b1);                \
  }
/* Adds a row's values d (v - shift, 0 beyond the row's columns) to its
 * running moments acc (bf16_moments): sum and sum of squares summed in
 * fp32 over the kernel's few vectors, then in double. */
BF16_TARGET static inline __m256 halves_added(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v),
                       _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

BF16_TARGET static inline void moments_add(double* acc, __m512 sum, __m512 sq) {
  const __m256 s8 = halves_added(sum), q8 = halves_added(sq);
  _mm512_storeu_pd(acc, _mm512_add_pd(_mm512_loadu_pd(acc), _mm512_cvtps_pd(s8)));
  _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), _mm512_cvtps_pd(q8)));
}

/* The row's shift: its first value where first (the tile's column 0). */
BF16_TARGET static inline __m512 moments_shift(float* shift, __m512 v, int first) {
  if (first) *shift = _mm512_cvtss_f32(v);
  return _mm512_set1_ps(*shift);
}

/* Row i of C (if i < mr) = alpha * acc + beta * C, C not read when beta is 0
 * (BLAS: NaN there must not survive); the masks cut the last columns; its
 * values' moments into mo's row i where mo. */
#define STORE(i)                                                              \
  if ((i) < mr) {                                                             \
    float* r = c + (i) * ldc;                                                 \
    __m512 va = _mm512_mul_ps(c##i##a, al), vb = _mm512_mul_ps(c##i##b, al);  \
    if (beta != 0.0f) {                                                       \
      va = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(ma, r), be, va);             \
      vb = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mb, r + 16), be, vb);        \
    }                                                                         \
    if (nt) {                                                                 \
      _mm512_stream_ps(r, va);                                                \
      _mm512_stream_ps(r + 16, vb);                                           \
    } else {                                                                  \
      _mm512_mask_storeu_ps(r, ma, va);                                       \
      _mm512_mask_storeu_ps(r + 16, mb, vb);                                  \
    }                                                                         \
    if (mo != NULL) {                                                         \
      const __m512 s = moments_shift(mo->shift + (i), va, mfirst);            \
      const __m512 d0 = _mm512_maskz_sub_ps(ma, va, s);                       \
      const __m512 d1 = _mm512_maskz_sub_ps(mb, vb, s);                       \
      moments_add(mo->acc + 16 * (i), _mm512_add_ps(d0, d1),                  \
                  _mm512_fmadd_ps(d1, d1, _mm512_mul_ps(d0, d0)));            \
    }                                                                         \
  }

/* C[mr x (columns in ma, mb)] from `pairs` K pairs of an A panel (rows
 * `pairs` words apart, the first R used) and a B panel. Kernels for 12, 8 and 4 rows:
 * a block of mr rows runs the smallest that covers it. */
#define KERNEL(name, DECL, DOTS, STORES)                                                      \
  BF16_TARGET static void name(int64_t pairs, const uint32_t* ap, const uint32_t* bp,        \
                               float* c, int64_t ldc, int64_t mr, __mmask16 ma, __mmask16 mb, \
                               float alpha, float beta, int nt, const bf16_moments* mo,       \
                               int mfirst) {                                                  \
    DECL for (int64_t q = 0; q < pairs; q++) {                                                \
      const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);                                   \
      const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 16);                              \
      DOTS ap++;                                                                              \
      bp += NR;                                                                               \
    }                                                                                         \
    const __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);                      \
    (void)be;                                                                                 \
    STORES                                                                                    \
  }
KERNEL(kernel12,
       ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11),
       DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7) DOT(8) DOT(9) DOT(10) DOT(11),
       STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7) STORE(8)
           STORE(9) STORE(10) STORE(11))
KERNEL(kernel8, ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7),
       DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6) DOT(7),
       STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7))
KERNEL(kernel4, ROW(0) ROW(1) ROW(2) ROW(3), DOT(0) DOT(1) DOT(2) DOT(3),
       STORE(0) STORE(1) STORE(2) STORE(3))

/* Two panels at once: C[mr x (columns in m0..m3)], mr <= 6, from rows ps
 * words apart at ap and the B panels bp and bp + ps * NR. 6 broadcasts and
 * 4 loads feed its 24 vdpbf16ps, where kernel12 has 12 broadcasts and 2
 * loads: the same sums in the same order, so the same bits. ResNet-50's
 * 1x1 layers at batch 16, forward, backward data and filter gradient, 2
 * threads of a Zen 4: 1.036x over the 39 calls (one library a process,
 * alternating: 323.0 and 325.4 ms against 308.7 and 313.4), up to 1.16x
 * (64 -> 64 at 64^2, backward data). */
#define ROW4(i)                                                        \
  __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps(), \
         c##i##c = _mm512_setzero_ps(), c##i##d = _mm512_setzero_ps();
#define DOT4(i)                                                           \
  {                                                                       \
    const __m512bh w = (__m512bh)_mm512_set1_epi32((int)ap[(i) * pairs]); \
    c##i##a = _mm512_dpbf16_ps(c##i##a, w, b0);                           \
    c##i##b = _mm512_dpbf16_ps(c##i##b, w, b1);                           \
    c##i##c = _mm512_dpbf16_ps(c##i##c, w, b2);                           \
    c##i##d = _mm512_dpbf16_ps(c##i##d, w, b3);                           \
  }
#define PUT(acc, off, m)                                                  \
  {                                                                       \
    __m512 v = _mm512_mul_ps(acc, al);                                    \
    if (beta != 0.0f) v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r + (off)), be, v); \
    if (nt) {                                                             \
      _mm512_stream_ps(r + (off), v);                                     \
    } else {                                                              \
      _mm512_mask_storeu_ps(r + (off), m, v);                             \
    }                                                                     \
    acc = v;                                                              \
  }
/* The row's four stored vectors' moments (into mo's row i). */
#define MOMENTS4(i)                                                                     \
  if (mo != NULL) {                                                                     \
    const __m512 s = moments_shift(mo->shift + (i), c##i##a, mfirst);                   \
    const __m512 d0 = _mm512_maskz_sub_ps(m0, c##i##a, s);                              \
    const __m512 d1 = _mm512_maskz_sub_ps(m1, c##i##b, s);                              \
    const __m512 d2 = _mm512_maskz_sub_ps(m2, c##i##c, s);                              \
    const __m512 d3 = _mm512_maskz_sub_ps(m3, c##i##d, s);                              \
    const __m512 q = _mm512_fmadd_ps(                                                   \
        d3, d3, _mm512_fmadd_ps(d2, d2, _mm512_fmadd_ps(d1, d1, _mm512_mul_ps(d0, d0)))); \
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(d0, d1), _mm512_add_ps(d2, d3));      \
    moments_add(mo->acc + 16 * (i), sum, q);                                            \
  }
#define STORE4(i)                                                           \
  if ((i) < mr) {                                                           \
    float* r = c + (i) * ldc;                                               \
    PUT(c##i##a, 0, m0) PUT(c##i##b, 16, m1) PUT(c##i##c, 32, m2) PUT(c##i##d, 48, m3) \
    MOMENTS4(i)                                                             \
  }
BF16_TARGET static void kernel6x2(int64_t pairs, const uint32_t* ap, const uint32_t* bp,
                                  int64_t ps, float* c, int64_t ldc, int64_t mr, __mmask16 m0,
                                  __mmask16 m1, __mmask16 m2, __mmask16 m3, float alpha,
                                  float beta, int nt, const bf16_moments* mo, int mfirst) {
  ROW4(0) ROW4(1) ROW4(2) ROW4(3) ROW4(4) ROW4(5);
  const uint32_t* bq = bp + ps * NR;
  for (int64_t q = 0; q < pairs; q++) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 16);
    const __m512bh b2 = (__m512bh)_mm512_loadu_si512(bq);
    const __m512bh b3 = (__m512bh)_mm512_loadu_si512(bq + 16);
    DOT4(0) DOT4(1) DOT4(2) DOT4(3) DOT4(4) DOT4(5);
    ap++;
    bp += NR;
    bq += NR;
  }
  const __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
  STORE4(0) STORE4(1) STORE4(2) STORE4(3) STORE4(4) STORE4(5);
}

/* mo's rows from row ir on. */
static inline bf16_moments row_moments(const bf16_moments* mo, int64_t ir) {
  const bf16_moments r = {mo->acc + 16 * ir, mo->shift + ir};
  return r;
}

typedef struct {
  int trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float* c;
  const bf16_packed_a* pa; /* op(A) packed already, or NULL: pack_a per block */
  const bf16_b_xform* bx;  /* op(B)'s transform, or NULL */
  int stream;              /* C written with streaming stores where it can be */
  const bf16_moments* mo;  /* C's rows' moments, or NULL */
  const uint16_t *a16, *b16; /* A (not transposed) or B stored as bf16 instead, or NULL */
} gemm_args;

/* C[mc x nc] (alpha, beta) from a packed A block (rows ps words apart) and
 * a packed B block (panels ps * NR words apart): each pair of B panels
 * against the block's rows in sixes (kernel6x2), a last lone panel against
 * its MR-row panels. stream: streaming stores where a tile's rows are whole
 * aligned lines. amx: rows in 32s (and a 16) on AMX tiles where K has 16
 * pairs or more, then panel by panel, the last mc % 16 rows on the
 * vdpbf16ps kernels. */
BF16_TARGET static void block_product(const uint32_t* ablk, const uint32_t* bbuf, int64_t ps,
                                      int64_t mc, int64_t nc, float* c, int64_t ldc, float alpha,
                                      float beta, int stream, int amx, const bf16_moments* mo,
                                      int first) {
  const int64_t tiled = amx && ps >= 16 ? mc / 16 * 16 : 0;
  if (tiled > 0) lits_bf16_amx_begin();
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = nc - jr < NR ? nc - jr : NR;
    const __mmask16 ma = bf16_lanes(nr), mb = bf16_lanes(nr - 16);
    const uint32_t* bp = bbuf + jr * ps;
    if (tiled == 0 && nc - jr > NR) { /* this panel and the next, rows in sixes */
      const int64_t n2 = nc - jr - NR < NR ? nc - jr - NR : NR;
      const __mmask16 m2 = bf16_lanes(n2), m3 = bf16_lanes(n2 - 16);
      for (int64_t ir = 0; ir < mc; ir += 6) {
        float* cb = c + ir * ldc + jr;
        const int nt = stream && n2 == NR && ((uintptr_t)cb & 63) == 0;
        const int64_t mr = mc - ir < 6 ? mc - ir : 6;
        const bf16_moments rows = mo != NULL ? row_moments(mo, ir) : (bf16_moments){0};
        kernel6x2(ps, ablk + ir * ps, bp, ps, cb, ldc, mr, ma, mb, m2, m3, alpha, beta, nt,
                  mo != NULL ? &rows : NULL, first && jr == 0);
      }
      jr += NR;
      continue;
    }
    for (int64_t ir = 0, rows; ir < tiled; ir += rows) {
      rows = tiled - ir >= 32 ? 32 : 16;
      float* cb = c + ir * ldc + jr;
      const int nt = stream && nr == NR && ((uintptr_t)cb & 63) == 0;
      lits_bf16_amx_block(rows, ps, ablk + ir * ps, bp, cb, ldc, ma, mb, alpha, beta, nt);
    }
    for (int64_t ir = tiled, mr; ir < mc; ir += mr) {
      mr = panel_rows(mc - ir);
      float* cb = c + ir * ldc + jr;
      const uint32_t* ap = ablk + ir * ps;
      const int nt = stream && nr == NR && ((uintptr_t)cb & 63) == 0;
      const bf16_moments rows = mo != NULL ? row_moments(mo, ir) : (bf16_moments){0};
      const bf16_moments* rm = mo != NULL ? &rows : NULL;
      const int f = first && jr == 0;
      if (mr > 8) {
        kernel12(ps, ap, bp, cb, ldc, mr, ma, mb, alpha, beta, nt, rm, f);
      } else if (mr > 4) {
        kernel8(ps, ap, bp, cb, ldc, mr, ma, mb, alpha, beta, nt, rm, f);
      } else {
        kernel4(ps, ap, bp, cb, ldc, mr, ma, mb, alpha, beta, nt, rm, f);
      }
    }
  }
  if (tiled > 0) lits_bf16_amx_end();
}

/* C[i0 .. i1, j0 .. j1) on the calling thread: the B block of NC columns
 * and KC of K packed once (bbuf), then for each A block of MC rows (abuf),
 * block_product. */
BF16_TARGET static void gemm_slab(const gemm_args* g, int64_t i0, int64_t i1, int64_t j0,
                                  int64_t j1, uint32_t* bbuf, uint32_t* abuf) {
  const int amx = lits_bf16_amx_on() && g->mo == NULL; /* moments: the micro-kernels' */
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = j1 - jc < NC ? j1 - jc : NC;
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
      const int64_t kc = g->k - p0 < KC ? g->k - p0 : KC, pairs = (kc + 1) / 2;
      const float beta = p0 == 0 ? g->beta : 1.0f; /* later passes add to C */
      /* Streaming only where C is written once: one K pass, beta 0, rows
       * of whole 64-byte lines. A normal store first reads its line, and
       * a tile's 12 rows 4 or 16 KiB apart (1x1 convolutions at 32^2,
       * 64^2) share one L1 set: ResNet-50's 1x1 layers, batch 16, 2
       * threads, both builds alternating: backward data 256 -> 64 at 64^2
       * 10.4 -> 7.0 ms, 64 -> 64 3.3 -> 2.2; forward 128 -> 512 at 32^2
       * 8.0 -> 6.1, 256 -> 1024 at 16^2 6.1 -> 5.3. */
      const int stream = g->stream && g->k <= KC && beta == 0.0f && g->ldc % 16 == 0;
      if (g->b16 != NULL && g->trans_b) {
        lits_bf16_pack_b16t(g->b16, g->ldb, jc, nc, p0, kc, bbuf, pairs);
      } else if (g->b16 != NULL) {
        lits_bf16_pack_b16(g->b16, g->ldb, jc, nc, p0, kc, bbuf, pairs);
      } else {
        lits_bf16_pack_b(g->b, g->ldb, g->trans_b, jc, nc, p0, kc, bbuf, g->bx, pairs);
      }
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = i1 - ic < MC ? i1 - ic : MC;
        const uint32_t* ablk = abuf;
        if (g->pa != NULL) {
          ablk = g->pa->words + p0 / KC * (g->pa->rows + MR) * (KC / 2) +
                 (g->pa->row0 + ic) * pairs;
        } else if (g->a16 != NULL) {
          lits_bf16_pack_a16(g->a16, g->lda, ic, mc, p0, kc, abuf, pairs);
        } else {
          lits_bf16_pack_a(g->a, g->lda, g->trans_a, ic, mc, p0, kc, abuf, pairs);
        }
        /* The moments of C's final values: on the last K pass. */
        const bf16_moments rows = g->mo != NULL ? row_moments(g->mo, ic) : (bf16_moments){0};
        const bf16_moments* mo = g->mo != NULL && p0 + kc >= g->k ? &rows : NULL;
        block_product(ablk, bbuf, pairs, mc, nc, g->c + ic * g->ldc + jc, g->ldc, g->alpha, beta,
                      stream, amx, mo, jc == 0);
      }
    }
  }
}

/* Thread t's slab: a share of C's columns (whole NR panels) when there are
 * enough of them, else of its rows (whole MR panels). Each thread packs
 * its own operands, just before it uses them: no barrier, and the packing
 * (memory-bound) of one thread overlaps the other's products. */
static void slab_of(int64_t m, int64_t n, int t, int nt, int64_t* i0, int64_t* i1, int64_t* j0,
                    int64_t* j1) {
  *i0 = 0, *i1 = m, *j0 = 0, *j1 = n;
  const int64_t cols = (n + NR - 1) / NR, rows = (m + MR - 1) / MR;
  if (cols >= 4 * nt || cols >= rows) {
    *j0 = cols * t / nt * NR;
    *j1 = cols * (t + 1) / nt * NR < n ? cols * (t + 1) / nt * NR : n;
  } else {
    *i0 = rows * t / nt * MR;
    *i1 = rows * (t + 1) / nt * MR < m ? rows * (t + 1) / nt * MR : m;
  }
}


static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int64_t round16_words(int64_t v) { return (v + 15) / 16 * 16; }

/* The packed B block (whole NR panels) then the A block with its MR rows of
 * slack (see pack_a), for the largest pass of an m x n x k product. */
static int64_t bwords_of(int64_t n, int64_t k) {
  return (min64(n, NC) + NR - 1) / NR * NR * ((min64(k, KC) + 1) / 2);
}

int64_t lits_gemm_bf16_serial_words(int64_t m, int64_t n, int64_t k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  return bwords_of(n, k) + (min64(m, MC) + MR) * ((min64(k, KC) + 1) / 2);
}

/* lits_gemm_bf16_serial's body for its arguments g. */
static int serial_run(const gemm_args* g, uint32_t* scratch) {
  if (g->m <= 0 || g->n <= 0) return LITS_OK;
  if (g->k == 0 || g->alpha == 0.0f) {
    lits_gemm_scale_c(g->c, g->m, g->n, g->ldc, g->beta);
    return LITS_OK;
  }
  uint32_t* own = NULL;
  if (scratch == NULL) {
    scratch = own = lits_scratch_alloc(lits_gemm_bf16_serial_words(g->m, g->n, g->k) * 4);
    if (own == NULL) return LITS_ERR_MEMORY; /* lits_scratch_alloc recorded the error */
  }
  gemm_slab(g, 0, g->m, 0, g->n, scratch, scratch + bwords_of(g->n, g->k));
  lits_scratch_free(own);
  return LITS_OK;
}

int lits_gemm_bf16_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                          const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                          float* c, int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx) {
  const gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta,
                       a, b, c, NULL, bx, 0, NULL};
  return serial_run(&g, scratch);
}

int lits_gemm_bf16_serial_a16(int trans_b, int64_t m, int64_t n, int64_t k, const uint16_t* a,
                              int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                              int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx) {
  const gemm_args g = {.trans_b = trans_b, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
                       .ldc = ldc, .alpha = 1.0f, .beta = beta, .b = b, .c = c, .bx = bx,
                       .a16 = a};
  return serial_run(&g, scratch);
}

int lits_gemm_bf16_serial_bt16(int64_t m, int64_t n, int64_t k, const float* a,
                               const uint16_t* a16, int64_t lda, const uint16_t* b, int64_t ldb,
                               float beta, float* c, int64_t ldc, uint32_t* scratch) {
  const gemm_args g = {.trans_b = 1, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc,
                       .alpha = 1.0f, .beta = beta, .a = a, .c = c, .a16 = a16, .b16 = b};
  return serial_run(&g, scratch);
}

/* The K blocks of a segmented product: whole segments, as many as 2 KC
 * holds, or a long segment cut into even pieces of at most 2 KC. Twice the
 * GEMM's passes: C (a slab of dW) is read and written once per block, and
 * the longer B panels cost less than that (ResNet-50's 1x1 filter
 * gradients at 16^2, 8^2 and 512 -> 128 at 32^2, batch 16, 2 threads,
 * alternating: 1.6-6% faster but for one within noise; 4 KC: up to 20%
 * slower). */
#define KSEG_BLOCK (2 * KC)
typedef struct {
  int64_t per, pieces; /* segments per block; pieces per segment */
} kseg_blocks;

static kseg_blocks kseg_blocks_of(int64_t kseg) {
  const kseg_blocks b = {kseg >= KSEG_BLOCK ? 1 : KSEG_BLOCK / kseg,
                         kseg >= KSEG_BLOCK ? (kseg + KSEG_BLOCK - 1) / KSEG_BLOCK : 1};
  return b;
}

/* The largest block's pairs (an odd segment is padded to whole pairs). */
static int64_t kseg_pairs(int64_t kseg) {
  const kseg_blocks b = kseg_blocks_of(kseg);
  return b.per * (((kseg + b.pieces - 1) / b.pieces + 1) / 2);
}

int64_t lits_gemm_bf16_ksum_words(int64_t m, int64_t n, int64_t kseg) {
  if (m <= 0 || n <= 0 || kseg <= 0) return 0;
  const int64_t ps = kseg_pairs(kseg);
  return ((min64(n, NC) + NR - 1) / NR * NR + min64(m, MC) + MR) * ps;
}

/* lits_gemm_bf16_ksum: for each NC columns and K block, the block's pieces
 * of every segment packed side by side (pack_b and pack_a with the
 * block's pair stride), then block_product per MC rows. */
BF16_TARGET static int ksum_run(int64_t m, int64_t n, int64_t kseg, int64_t nseg,
                                const float* a, const uint16_t* a16, int64_t lda, int64_t a_step,
                                const float* b, const uint16_t* b16, int64_t ldb, int64_t b_step,
                                float* c, int64_t ldc, uint32_t* scratch,
                                const bf16_b_xform* bx) {
  if (m <= 0 || n <= 0) return LITS_OK;
  if (kseg <= 0 || nseg <= 0) {
    lits_gemm_scale_c(c, m, n, ldc, 0.0f);
    return LITS_OK;
  }
  const kseg_blocks kb = kseg_blocks_of(kseg);
  const int64_t psmax = kseg_pairs(kseg);
  const int amx = lits_bf16_amx_on();
  uint32_t* bbuf = scratch;
  uint32_t* abuf = scratch + (min64(n, NC) + NR - 1) / NR * NR * psmax;
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = min64(n - jc, NC);
    for (int64_t s0 = 0; s0 < nseg; s0 += kb.per) {
      const int64_t ns = min64(kb.per, nseg - s0);
      for (int64_t piece = 0; piece < kb.pieces; piece++) {
        const int64_t p0 = kseg * piece / kb.pieces, kc = kseg * (piece + 1) / kb.pieces - p0;
        const int64_t sp = (kc + 1) / 2, ps = ns * sp;
        const float beta = s0 == 0 && piece == 0 ? 0.0f : 1.0f;
        for (int64_t u = 0; u < ns; u++) {
          if (b16 != NULL) {
            lits_bf16_pack_b16t(b16 + (s0 + u) * b_step, ldb, jc, nc, p0, kc, bbuf + u * sp * NR,
                                ps);
          } else {
            lits_bf16_pack_b(b + (s0 + u) * b_step, ldb, 1, jc, nc, p0, kc, bbuf + u * sp * NR, bx,
                             ps);
          }
        }
        for (int64_t ic = 0; ic < m; ic += MC) {
          const int64_t mc = min64(m - ic, MC);
          for (int64_t u = 0; u < ns; u++) {
            if (a16 != NULL) {
              lits_bf16_pack_a16(a16 + (s0 + u) * a_step, lda, ic, mc, p0, kc, abuf + u * sp, ps);
            } else {
              lits_bf16_pack_a(a + (s0 + u) * a_step, lda, 0, ic, mc, p0, kc, abuf + u * sp, ps);
            }
          }
          block_product(abuf, bbuf, ps, mc, nc, c + ic * ldc + jc, ldc, 1.0f, beta, 0, amx, NULL,
                        0);
        }
      }
    }
  }
  return LITS_OK;
}

int lits_gemm_bf16_ksum(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const float* a,
                        int64_t lda, int64_t a_step, const float* b, int64_t ldb, int64_t b_step,
                        float* c, int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx) {
  return ksum_run(m, n, kseg, nseg, a, NULL, lda, a_step, b, NULL, ldb, b_step, c, ldc, scratch,
                  bx);
}

int lits_gemm_bf16_ksum_a16(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const uint16_t* a,
                            int64_t lda, int64_t a_step, const float* b, int64_t ldb,
                            int64_t b_step, float* c, int64_t ldc, uint32_t* scratch,
                            const bf16_b_xform* bx) {
  return ksum_run(m, n, kseg, nseg, NULL, a, lda, a_step, b, NULL, ldb, b_step, c, ldc, scratch,
                  bx);
}

int lits_gemm_bf16_ksum_x16(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const float* a,
                            const uint16_t* a16, int64_t lda, int64_t a_step, const uint16_t* b,
                            int64_t ldb, int64_t b_step, float* c, int64_t ldc,
                            uint32_t* scratch) {
  return ksum_run(m, n, kseg, nseg, a, a16, lda, a_step, NULL, b, ldb, b_step, c, ldc, scratch,
                  NULL);
}

int64_t lits_gemm_bf16_packed_a_words(int64_t m, int64_t k) {
  int64_t words = 0;
  for (int64_t p0 = 0; p0 < k; p0 += KC) words += (m + MR) * ((min64(k - p0, KC) + 1) / 2);
  return words;
}

void lits_gemm_bf16_pack_a(int trans, int64_t m, int64_t k, const float* a, int64_t lda,
                           int64_t r0, int64_t r1, uint32_t* words) {
  for (int64_t p0 = 0; p0 < k && r0 < r1; p0 += KC) {
    const int64_t kc = min64(k - p0, KC), pairs = (kc + 1) / 2;
    lits_bf16_pack_a(a, lda, trans, r0, r1 - r0, p0, kc, words + r0 * pairs, pairs);
    words += (m + MR) * pairs;
  }
}

/* lits_gemm_bf16_serial_packed's body for its arguments g. */
static int packed_run(const gemm_args* g, uint32_t* scratch) {
  if (g->m <= 0 || g->n <= 0) return LITS_OK;
  if (g->mo != NULL && g->k == 0) return LITS_ERR_UNAVAILABLE; /* moments of a product */
  if (g->k == 0) {
    lits_gemm_scale_c(g->c, g->m, g->n, g->ldc, g->beta);
    return LITS_OK;
  }
  gemm_slab(g, 0, g->m, 0, g->n, scratch, NULL);
  if (g->stream) _mm_sfence();
  return LITS_OK;
}

int lits_gemm_bf16_serial_packed(const bf16_packed_a* pa, int trans_b, int64_t m, int64_t n,
                                 int64_t k, const float* b, int64_t ldb, float beta, float* c,
                                 int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx,
                                 int stream) {
  return lits_gemm_bf16_serial_packed_moments(pa, trans_b, m, n, k, b, ldb, beta, c, ldc, scratch,
                                              bx, stream, NULL);
}

int lits_gemm_bf16_serial_packed_moments(const bf16_packed_a* pa, int trans_b, int64_t m,
                                         int64_t n, int64_t k, const float* b, int64_t ldb,
                                         float beta, float* c, int64_t ldc, uint32_t* scratch,
                                         const bf16_b_xform* bx, int stream,
                                         const bf16_moments* mo) {
  const gemm_args g = {0,  trans_b, m, n, k, 0, ldb, ldc, 1.0f, beta, NULL, b, c, pa, bx, stream,
                       mo};
  return packed_run(&g, scratch);
}

int lits_gemm_bf16_serial_packed_b16(const bf16_packed_a* pa, int64_t m, int64_t n, int64_t k,
                                     const uint16_t* b, int64_t ldb, float beta, float* c,
                                     int64_t ldc, uint32_t* scratch, int stream) {
  const gemm_args g = {.m = m, .n = n, .k = k, .ldb = ldb, .ldc = ldc, .alpha = 1.0f,
                       .beta = beta, .c = c, .pa = pa, .stream = stream, .b16 = b};
  return packed_run(&g, scratch);
}

int lits_gemm_bf16_serial_packed_moments_b16(const bf16_packed_a* pa, int64_t m, int64_t n,
                                             int64_t k, const uint16_t* b, int64_t ldb,
                                             float beta, float* c, int64_t ldc,
                                             uint32_t* scratch, int stream,
                                             const bf16_moments* mo) {
  const gemm_args g = {.m = m, .n = n, .k = k, .ldb = ldb, .ldc = ldc, .alpha = 1.0f,
                       .beta = beta, .c = c, .pa = pa, .stream = stream, .mo = mo, .b16 = b};
  return packed_run(&g, scratch);
}

int lits_gemm_bf16_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                       float beta, float* c, int64_t ldc) {
  static const char* fn = "lits_gemm_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_gemm(fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, 1, 0, 0, 0));
  LITS_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", fn, (long long)m, (long long)n);
  LITS_CHECKED(lits_bf16_ready(fn, "lits_gemm_f32"));
  if (k == 0 || alpha == 0.0f) {
    lits_gemm_scale_c(c, m, n, ldc, beta);
    return LITS_OK;
  }
  LITS_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", fn,
               (long long)m, (long long)n, (long long)k);
  /* A linear layer's forward at small batches: gemm_short_nt.c. */
  if (!trans_a && trans_b &&
      lits_gemm_bf16_short_nt(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) {
    return LITS_OK;
  }
  const int par = !omp_in_parallel() && omp_get_max_threads() > 1 &&
                  (double)m * (double)n * (double)k >= (double)PAR_MIN_MACS;
  if (!par) return lits_gemm_bf16_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                         ldc, NULL, NULL);
  /* op(A) is packed once, the threads splitting its rows, and shared: with
   * column slabs each thread used to pack all of it (CPU time of both
   * threads 2-15% lower, 2048 x 256 x 2048 the most). */
  const int threads = omp_get_max_threads();
  const int64_t per = (int64_t)NC * (KC / 2), aw = round16_words(lits_gemm_bf16_packed_a_words(m, k));
  uint32_t* buf = lits_scratch_alloc((per * threads + aw) * (int64_t)sizeof(uint32_t));
  if (buf == NULL) return LITS_ERR_MEMORY; /* lits_scratch_alloc recorded the error */
  uint32_t* apk = buf + per * threads;
  const bf16_packed_a pa = {apk, m, 0};
  /* A C of 8 MiB or more written once (beta 0, one K pass) is stored past
   * the caches where its tiles are whole aligned lines (gemm_slab): a
   * plain store first reads its line. A linear layer's weight gradient,
   * dW = dy^T x with K the batch: the small CNN's 256 x 32768 (K 16) 2.86
   * -> 1.43 ms, AlexNet's 4096 x 9216 10.4 -> 6.0 (2 threads of a Zen 4,
   * medians of 21 alternating); AlexNet's training step at batch 16 under
   * autocast 280.8 -> 273.7 ms. */
  const stream = beta == 0.0f && k <= KC && stream_output(m * n);
  const gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta,
                       a, b, c, &pa, NULL, stream, NULL};
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int64_t blocks = (m + 47) / 48;
#pragma omp for schedule(static)
    for (int64_t j = 0; j < blocks; j++) {
      lits_gemm_bf16_pack_a(trans_a, m, k, a, lda, j * 48, min64(j * 48 + 48, m), apk);
    }
    int64_t i0, i1, j0, j1;
    slab_of(m, n, t, omp_get_num_threads(), &i0, &i1, &j0, &j1);
    if (i0 < i1 && j0 < j1) gemm_slab(&g, i0, i1, j0, j1, buf + t * per, NULL);
    if (stream) _mm_sfence();
  }
  lits_scratch_free(buf);
  return LITS_OK;
}

int lits_round_bf16_f32(const float* x, float* y, int64_t n) {
  static const char* fn = "lits_round_bf16_f32";
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL (n %lld)", fn, (long long)n);
  /* Bit arithmetic (c10::BFloat16's round_to_nearest_even), so every CPU
   * gives the same bits; gcc vectorises the loop. */
#pragma omp parallel for schedule(static) if (n >= (1 << 20))
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, x + i, 4);
    if (x[i] != x[i]) {
      u = 0x7FC00000u;
    } else {
      u = (u + 0x7FFFu + (u >> 16 & 1u)) & 0xFFFF0000u;
    }
    memcpy(y + i, &u, 4);
  }
  return LITS_OK;
}
