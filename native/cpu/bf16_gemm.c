/* bf16_gemm.c: C = alpha * bf16(A) x bf16(B) + beta * C with fp32 products
 * and sums, as PyTorch's CPU autocast computes a matmul: fp32 inputs are
 * rounded to bfloat16 (round to nearest even, NaN -> 0x7FC0, denormals kept:
 * c10::BFloat16's bit arithmetic) while they are packed.
 *
 * The micro-kernel is vdpbf16ps (AVX512_BF16): each 32-bit lane holds a pair
 * of bf16 consecutive along K, and one instruction adds a[2i] b[2i] +
 * a[2i+1] b[2i+1] to 16 fp32 accumulators. So both packed operands store
 * K in pairs: A panels of MR rows as [pair][row] 32-bit words (one word is
 * broadcast per row), B panels of NR columns as [pair][column] words (two
 * vectors per pair). A 12 x 32 block of C lives in 24 zmm accumulators, as
 * in packed_gemm.c's fp32 kernel. An odd K is padded with a zero bf16.
 * vdpbf16ps itself treats bf16 denormals as zero and flushes denormal
 * results (Intel's definition): products of normal bf16 values are exact in
 * fp32, so only results below 1e-38 can differ from PyTorch's.
 *
 * Blocking (GotoBLAS order): for each NC columns and KC of K, the threads
 * pack the B block together (shared), then split the (MC rows, NR columns)
 * tiles between them; each packs its own A block of MC rows (private, reused
 * across the tile's columns). Chosen at run time: the library builds and
 * loads on CPUs without AVX512_BF16, where the GEMM is LITS_ERR_UNAVAILABLE. */
#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "common.h"

#define MR 12   /* rows of C per micro-kernel: 24 accumulators + 2 B vectors + 1 broadcast */
#define NR 32   /* columns per micro-kernel: two vectors */
#define KC 256  /* K per pass (128 pairs): a B panel of KC x NR bf16 is 16 KiB, in L1 */
#define MC 144  /* rows per A block: 144 x KC bf16 = 72 KiB, in L2 */
#define NC 1024 /* columns per shared B block: KC x NC bf16 = 512 KiB */
/* Below this many multiply-adds one thread does the product. */
#define PAR_MIN_MACS ((int64_t)1 << 18)

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

int lits_bf16_support(int32_t* level_host) {
  lits_clear_error();
  LITS_REQUIRE(level_host != NULL, "lits_bf16_support: level_host is NULL");
  __builtin_cpu_init();
  int level = __builtin_cpu_supports("avx512bf16") ? 1 : 0;
  /* AMX-BF16 is CPUID.(7,0):EDX bit 22; detected only (no AMX kernel yet). */
  unsigned eax, ebx, ecx, edx;
  if (level && __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx >> 22 & 1)) level = 2;
  *level_host = level;
  return LITS_OK;
}

/* The high 16 bits of each lane are bf16(x) (RNE; NaN -> 0x7FC0); the low
 * 16 bits are garbage. */
BF16_TARGET static inline __m512i round_hi(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC00000));
}

/* Words (bf16(r0[j]) | bf16(r1[j]) << 16) for j < w (w <= 16); r1 NULL is
 * the zero padding of an odd K. Lanes >= w are zero. */
BF16_TARGET static inline __m512i pair_rows(const float* r0, const float* r1, int64_t w) {
  const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __m512i lo = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, r0)), 16);
  if (r1 == NULL) return lo;
  const __m512i hi = _mm512_and_si512(round_hi(_mm512_maskz_loadu_ps(m, r1)),
                                      _mm512_set1_epi32((int)0xFFFF0000u));
  return _mm512_or_si512(lo, hi);
}

/* x[0 .. kc) contiguous along K into kc / 2 (rounded up) words at
 * dst[0], dst[stride], ... */
BF16_TARGET static void pack_along_k(const float* x, int64_t kc, uint32_t* dst, int64_t stride) {
  uint32_t w[8];
  for (int64_t p = 0; p < kc; p += 16) {
    const int64_t n = kc - p < 16 ? kc - p : 16;
    const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __m512i hi = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, x + p)), 16);
    _mm256_storeu_si256((__m256i*)w, _mm512_cvtepi32_epi16(hi)); /* pairs, even k low */
    for (int64_t t = 0; t < (n + 1) / 2; t++) dst[(p / 2 + t) * stride] = w[t];
  }
}

/* A block: rows [i0, i0 + mc) and K [p0, p0 + kc) of op(A) into MR-row
 * panels, dst[(panel * pairs + pair) * MR + row]; missing rows are zeros. */
BF16_TARGET static void pack_a(const float* a, int64_t lda, int trans, int64_t i0, int64_t mc,
                               int64_t p0, int64_t kc, uint32_t* dst) {
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t mr = mc - ir < MR ? mc - ir : MR;
    uint32_t* d = dst + ir * pairs;
    if (trans) { /* stored k x m: a pair of rows of A^T holds MR rows' pairs */
      const __mmask16 m = (__mmask16)((1u << MR) - 1);
      for (int64_t q = 0; q < pairs; q++) {
        const float* r0 = a + (p0 + 2 * q) * lda + i0 + ir;
        const float* r1 = 2 * q + 1 < kc ? r0 + lda : NULL;
        _mm512_mask_storeu_epi32(d + q * MR, m, pair_rows(r0, r1, mr));
      }
    } else {
      for (int64_t i = 0; i < mr; i++) pack_along_k(a + (i0 + ir + i) * lda + p0, kc, d + i, MR);
      for (int64_t i = mr; i < MR; i++) {
        for (int64_t q = 0; q < pairs; q++) d[q * MR + i] = 0;
      }
    }
  }
}

/* B panel: columns [j0, j0 + nr) (nr <= NR) and K [p0, p0 + kc) of op(B)
 * into dst[pair * NR + column]; missing columns are zeros. */
BF16_TARGET static void pack_b(const float* b, int64_t ldb, int trans, int64_t j0, int64_t nr,
                               int64_t p0, int64_t kc, uint32_t* dst) {
  const int64_t pairs = (kc + 1) / 2;
  if (trans) { /* stored n x k: each column of op(B) is contiguous along K */
    for (int64_t j = 0; j < nr; j++) pack_along_k(b + (j0 + j) * ldb + p0, kc, dst + j, NR);
    for (int64_t j = nr; j < NR; j++) {
      for (int64_t q = 0; q < pairs; q++) dst[q * NR + j] = 0;
    }
    return;
  }
  for (int64_t q = 0; q < pairs; q++) {
    const float* r0 = b + (p0 + 2 * q) * ldb + j0;
    const float* r1 = 2 * q + 1 < kc ? r0 + ldb : NULL;
    _mm512_storeu_si512(dst + q * NR, pair_rows(r0, r1, nr));
    _mm512_storeu_si512(dst + q * NR + 16,
                        nr > 16 ? pair_rows(r0 + 16, r1 ? r1 + 16 : NULL, nr - 16)
                                : _mm512_setzero_si512());
  }
}

#define ROW(i) __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps();
#define DOT(i)                                                 \
  {                                                            \
    const __m512bh w = (__m512bh)_mm512_set1_epi32((int)ap[i]); \
    c##i##a = _mm512_dpbf16_ps(c##i##a, w, b0);                \
    c##i##b = _mm512_dpbf16_ps(c##i##b, w, b1);                \
  }
/* Row i of C (if i < mr) = alpha * acc + beta * C, C not read when beta is 0
 * (BLAS: NaN there must not survive); the masks cut the last columns. */
#define STORE(i)                                                              \
  if ((i) < mr) {                                                             \
    float* r = c + (i) * ldc;                                                 \
    __m512 va = _mm512_mul_ps(c##i##a, al), vb = _mm512_mul_ps(c##i##b, al);  \
    if (beta != 0.0f) {                                                       \
      va = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(ma, r), be, va);             \
      vb = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mb, r + 16), be, vb);        \
    }                                                                         \
    _mm512_mask_storeu_ps(r, ma, va);                                         \
    _mm512_mask_storeu_ps(r + 16, mb, vb);                                    \
  }

/* C[mr x (columns in ma, mb)] from `pairs` K pairs of an A panel (MR words
 * per pair, the first R used) and a B panel. Kernels for 12, 8 and 4 rows:
 * a block of mr rows runs the smallest that covers it. */
#define KERNEL(name, DECL, DOTS, STORES)                                                      \
  BF16_TARGET static void name(int64_t pairs, const uint32_t* ap, const uint32_t* bp,        \
                               float* c, int64_t ldc, int64_t mr, __mmask16 ma, __mmask16 mb, \
                               float alpha, float beta) {                                     \
    DECL for (int64_t q = 0; q < pairs; q++) {                                                \
      const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);                                   \
      const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 16);                              \
      DOTS ap += MR;                                                                          \
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

static __mmask16 mask_of(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

typedef struct {
  int trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
  const float *a, *b;
  float* c;
} gemm_args;

/* Every thread of the team runs this: the block loops, one barrier after
 * the shared B block is packed and one after it is used. */
BF16_TARGET static void gemm_team(const gemm_args* g, uint32_t* bbuf, uint32_t* abufs) {
  const int t = omp_get_thread_num(), nt = omp_get_num_threads();
  uint32_t* abuf = abufs + (int64_t)t * MC * (KC / 2);
  const int64_t mblocks = (g->m + MC - 1) / MC;
  for (int64_t j0 = 0; j0 < g->n; j0 += NC) {
    const int64_t nc = g->n - j0 < NC ? g->n - j0 : NC, npan = (nc + NR - 1) / NR;
    for (int64_t p0 = 0; p0 < g->k; p0 += KC) {
      const int64_t kc = g->k - p0 < KC ? g->k - p0 : KC, pairs = (kc + 1) / 2;
#pragma omp for schedule(static)
      for (int64_t jp = 0; jp < npan; jp++) {
        const int64_t nr = nc - jp * NR < NR ? nc - jp * NR : NR;
        pack_b(g->b, g->ldb, g->trans_b, j0 + jp * NR, nr, p0, kc, bbuf + jp * pairs * NR);
      }
      /* Tiles (A block, B panel), A-block-major: a contiguous share of them
       * repacks A only when its block changes. */
      const int64_t tiles = mblocks * npan;
      const int64_t lo = tiles * t / nt, hi = tiles * (t + 1) / nt;
      const float beta = p0 == 0 ? g->beta : 1.0f;
      int64_t packed = -1;
      for (int64_t tile = lo; tile < hi; tile++) {
        const int64_t ib = tile / npan, jp = tile % npan, i0 = ib * MC;
        const int64_t mc = g->m - i0 < MC ? g->m - i0 : MC;
        if (ib != packed) {
          pack_a(g->a, g->lda, g->trans_a, i0, mc, p0, kc, abuf);
          packed = ib;
        }
        const int64_t j = j0 + jp * NR, nr = g->n - j < NR ? g->n - j : NR;
        const __mmask16 ma = mask_of(nr), mb = mask_of(nr - 16);
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int64_t mr = mc - ir < MR ? mc - ir : MR;
          float* cb = g->c + (i0 + ir) * g->ldc + j;
          const uint32_t *ap = abuf + ir * pairs, *bp = bbuf + jp * pairs * NR;
          if (mr > 8) {
            kernel12(pairs, ap, bp, cb, g->ldc, mr, ma, mb, g->alpha, beta);
          } else if (mr > 4) {
            kernel8(pairs, ap, bp, cb, g->ldc, mr, ma, mb, g->alpha, beta);
          } else {
            kernel4(pairs, ap, bp, cb, g->ldc, mr, ma, mb, g->alpha, beta);
          }
        }
      }
#pragma omp barrier
    }
  }
}

/* C = beta * C, beta == 0 writing zeros (NaN in C does not survive). */
static void scale_c(float* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  for (int64_t i = 0; i < m; i++) {
    float* row = c + i * ldc;
    if (beta == 0.0f) {
      memset(row, 0, (size_t)n * sizeof(float));
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < n; j++) row[j] *= beta;
    }
  }
}

int lits_gemm_bf16_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                       float beta, float* c, int64_t ldc) {
  static const char* fn = "lits_gemm_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_check_gemm(fn, trans_a, trans_b, m, n, k, lda, ldb, ldc, 1, 0, 0, 0));
  LITS_REQUIRE(c != NULL, "%s: c is NULL (m=%lld, n=%lld)", fn, (long long)m, (long long)n);
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16")) {
    return lits_fail(LITS_ERR_UNAVAILABLE,
                     "%s: this CPU has no AVX512_BF16 (vdpbf16ps); use lits_gemm_f32 "
                     "(lits_bf16_support reports 0)", fn);
  }
  if (k == 0 || alpha == 0.0f) {
    scale_c(c, m, n, ldc, beta);
    return LITS_OK;
  }
  LITS_REQUIRE(a != NULL && b != NULL, "%s: a or b is NULL (m=%lld, n=%lld, k=%lld)", fn,
               (long long)m, (long long)n, (long long)k);
  const gemm_args g = {trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c};
  const int par = !omp_in_parallel() && omp_get_max_threads() > 1 &&
                  (double)m * (double)n * (double)k >= (double)PAR_MIN_MACS;
  const int threads = par ? omp_get_max_threads() : 1;
  const int64_t bwords = (int64_t)NC * (KC / 2), awords = (int64_t)MC * (KC / 2);
  uint32_t* buf = lits_scratch_alloc((bwords + awords * threads) * (int64_t)sizeof(uint32_t));
  if (buf == NULL) return LITS_ERR_MEMORY; /* lits_scratch_alloc recorded the error */
#pragma omp parallel num_threads(threads) if (par)
  gemm_team(&g, buf, buf + bwords);
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
