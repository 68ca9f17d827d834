/* gemm_short_nt.c: lits_gemm_f32's C [m, n] = A [m, k] B [n, k]^T with few
 * rows (m <= SHORT_MAX_ROWS) and a large B: a linear layer's forward at a
 * small batch (x W^T, W stored [out, in] as PyTorch's). OpenBLAS packs all
 * of W before it multiplies; here each value of C is a dot product of a row
 * of A with a row of B, B read along k where it lies. A is copied once into
 * vector-interleaved blocks ([tile][k / 16][row][16]): its rows, k floats
 * apart, would otherwise alias in L1 (AlexNet's 9216: 36 KB, a multiple of
 * 4 KB; 59 GF/s so against 126). Threads split C's columns.
 *
 * lits_gemm_f32, alternating in one process with LITS_GEMM_WIDE=off
 * (OpenBLAS, the threads splitting C), AMD EPYC Zen 4, 2 threads, medians
 * of 7, ms: AlexNet's 9216 -> 4096 at batch 16 9.5 against 18.5, at batch
 * 1 4.6 against 13.8; 4096 -> 4096 at 16 3.9 against 8.3; the small CNN's
 * 32768 -> 256 at 16 2.2 against 4.0; 32 rows 1.5-1.6x. Whole forwards:
 * the small CNN's evaluation at batch 1 15.9 -> 3.2 ms, AlexNet's 28.9 ->
 * 15.4, at batch 16 95 -> 82.
 *
 * The same walk serves bf16_gemm.c's product under autocast
 * (lits_gemm_bf16_short_nt): A packed as bf16 pairs along k, each row of B
 * rounded as it is read (vcvtne2ps2bf16, bf16_pack.c's rounding), and
 * vdpbf16ps summing two products a lane: a dot product needs no
 * interleaving, only the same pairs on both sides. */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "bf16_internal.h" /* BF16_TARGET */
#include "conv_internal.h" /* lits_packed_gemm_applies */

/* Rows of A at most (measured to 32); B at least this many floats (4 MB:
 * smaller ones not measured). */
#define SHORT_MAX_ROWS 32
#define SHORT_MIN_B ((int64_t)1 << 20)
/* The register tile: MT rows of A by NT rows of B (24 accumulators). */
#define MT 8
#define NT 3
/* k per block: an 8-row tile of A is 128 KB, kept in L2. */
#define KC 4096

/* The accumulators of an mt x nt tile, zero. */
__attribute__((target("avx512f"), always_inline)) static inline void zero_tile(
    int mt, int nt, __m512 acc[MT][NT]) {
#pragma GCC unroll 8
  for (int i = 0; i < mt; i++) {
#pragma GCC unroll 8
    for (int j = 0; j < nt; j++) acc[i][j] = _mm512_setzero_ps();
  }
}

/* C's tile from the accumulators' sums, as tile_f32 and tile_bf16 set or
 * add to it. */
__attribute__((target("avx512f"), always_inline)) static inline void store_tile(
    int mt, int nt, __m512 acc[MT][NT], float* c, int64_t ldc, int first, float alpha,
    float beta) {
  for (int i = 0; i < mt; i++) {
    for (int j = 0; j < nt; j++) {
      const float s = alpha * _mm512_reduce_add_ps(acc[i][j]);
      float* o = c + i * ldc + j;
      *o = !first ? *o + s : beta == 0.0f ? s : beta * *o + s;
    }
  }
}

/* One tile of C over one k block: mt rows of packed A (ap: [k / 16][mt][16],
 * zeros past k) by nt rows of B (b, row stride ldb), kl values of k. The
 * first block sets C (alpha AB^T + beta C), later ones add to it. */
__attribute__((target("avx512f"), always_inline)) static inline void tile_f32(
    int mt, int nt, const float* ap, const float* b, int64_t ldb, int64_t kl, float* c,
    int64_t ldc, int first, float alpha, float beta) {
  __m512 acc[MT][NT];
  zero_tile(mt, nt, acc);
  /* Whole vectors of k, then the rest under a mask (A's zeros pad it). */
  const int64_t whole = kl / 16 * 16;
  for (int64_t p = 0; p <= kl - 1; p += 16) {
    const __mmask16 mk = p < whole ? 0xFFFF : (__mmask16)((1u << (kl - p)) - 1);
    __m512 bv[NT];
    if (p < whole) {
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) bv[j] = _mm512_loadu_ps(b + j * ldb + p);
    } else {
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) bv[j] = _mm512_maskz_loadu_ps(mk, b + j * ldb + p);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mt; i++) {
      __m512 av = _mm512_load_ps(ap + (p / 16 * mt + i) * 16);
      __asm__("" : "+v"(av)); /* one load for nt FMAs: Zen 4 loads one zmm a cycle */
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  store_tile(mt, nt, acc, c, ldc, first, alpha, beta);
}

/* tile_f32 under autocast: ap holds bf16 pairs ([k / 32][mt][16] words, zeros
 * past k), B's rows are rounded as they are read; kl values of k. */
BF16_TARGET __attribute__((always_inline)) static inline void tile_bf16(
    int mt, int nt, const float* ap, const float* b, int64_t ldb, int64_t kl, float* c,
    int64_t ldc, int first, float alpha, float beta) {
  __m512 acc[MT][NT];
  zero_tile(mt, nt, acc);
  const int64_t whole = kl / 32 * 32;
  for (int64_t p = 0; p <= kl - 1; p += 32) {
    __m512bh bv[NT];
    if (p < whole) {
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) {
        const float* r = b + j * ldb + p;
        bv[j] = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(r + 16), _mm512_loadu_ps(r));
      }
    } else {
      const int64_t left = kl - p;
      const __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
      const __mmask16 m1 = left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) {
        const float* r = b + j * ldb + p;
        bv[j] = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, r + 16),
                                    _mm512_maskz_loadu_ps(m0, r));
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < mt; i++) {
      __m512 av = _mm512_load_ps(ap + (p / 32 * mt + i) * 16);
      __asm__("" : "+v"(av));
#pragma GCC unroll 8
      for (int j = 0; j < nt; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)av, bv[j]);
    }
  }
  store_tile(mt, nt, acc, c, ldc, first, alpha, beta);
}

/* fn with mt and nt as constants, so that each case keeps its
 * accumulators in registers. */
#define TILE_ROWS(fn, nt)                                                   \
  switch (mt) {                                                             \
    case 8: fn(8, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 7: fn(7, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 6: fn(6, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 5: fn(5, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 4: fn(4, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 3: fn(3, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 2: fn(2, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    default: fn(1, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta);       \
  }

/* The walk: threads split C's columns into tiles of NT; per k block of KC,
 * each tile against every MT rows of A packed (ap: per MT rows, [k / step]
 * [rows][16] words), by fn. */
#define RUN(name, target, fn, step)                                                           \
  target static void name(int64_t m, int64_t n, int64_t k, float alpha, const float* ap,      \
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {   \
    const int64_t kv = (k + (step) - 1) / (step), tiles = (n + NT - 1) / NT;                  \
    _Pragma("omp parallel") {                                                                 \
      const int t = omp_get_thread_num(), nth = omp_get_num_threads();                        \
      const int64_t t0 = tiles * t / nth, t1 = tiles * (t + 1) / nth;                         \
      for (int64_t k0 = 0; k0 < k; k0 += KC) {                                                \
        const int64_t kl = k - k0 < KC ? k - k0 : KC;                                         \
        const int first = k0 == 0;                                                            \
        for (int64_t tj = t0; tj < t1; tj++) {                                                \
          const int64_t j0 = tj * NT;                                                         \
          const int nt = n - j0 < NT ? (int)(n - j0) : NT;                                    \
          const float* bj = b + j0 * ldb + k0;                                                \
          for (int64_t i0 = 0; i0 < m; i0 += MT) {                                            \
            const int mt = m - i0 < MT ? (int)(m - i0) : MT;                                  \
            const float* ai = ap + i0 * kv * 16 + k0 / (step) * mt * 16;                      \
            float* ci = c + i0 * ldc + j0;                                                    \
            if (nt == 3) {                                                                    \
              TILE_ROWS(fn, 3)                                                                \
            } else if (nt == 2) {                                                             \
              TILE_ROWS(fn, 2)                                                                \
            } else {                                                                          \
              TILE_ROWS(fn, 1)                                                                \
            }                                                                                 \
          }                                                                                   \
        }                                                                                     \
      }                                                                                       \
    }                                                                                         \
  }

RUN(run_f32, __attribute__((target("avx512f"))), tile_f32, 16)
RUN(run_bf16, BF16_TARGET, tile_bf16, 32)

/* Whether the walk takes the shape; LITS_GEMM_WIDE=off keeps the packed
 * GEMMs (tests and benchmarks compare). */
static int takes(int64_t m, int64_t n, int64_t k) {
  const char* env = getenv("LITS_GEMM_WIDE");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  /* (lits_packed_gemm_applies: AVX-512, and LITS_CONV_ALGO=openblas not set.) */
  return m >= 1 && m <= SHORT_MAX_ROWS && n * k >= SHORT_MIN_B && lits_packed_gemm_applies(n);
}

/* A's rows i0 .. i0 + mt into [k / 16][mt][16] floats, zeros past k. */
static void pack_f32(const float* a, int64_t lda, int64_t k, int64_t mt, float* dst) {
  const int64_t kv = (k + 15) / 16;
  for (int64_t v = 0; v < kv; v++) {
    const int64_t len = k - v * 16 < 16 ? k - v * 16 : 16;
    for (int64_t i = 0; i < mt; i++) {
      float* d = dst + (v * mt + i) * 16;
      memcpy(d, a + i * lda + v * 16, (size_t)len * sizeof(float));
      memset(d + len, 0, (size_t)(16 - len) * sizeof(float));
    }
  }
}

/* The same as bf16 pairs: [k / 32][mt][16] words, B's rounding, zeros past k. */
BF16_TARGET static void pack_bf16(const float* a, int64_t lda, int64_t k, int64_t mt,
                                  float* dst) {
  const int64_t kv = (k + 31) / 32;
  for (int64_t v = 0; v < kv; v++) {
    const int64_t left = k - v * 32;
    const __mmask16 m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
    const __mmask16 m1 =
        left >= 32 ? 0xFFFF : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
    for (int64_t i = 0; i < mt; i++) {
      const float* r = a + i * lda + v * 32;
      const __m512bh w =
          _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, r + 16), _mm512_maskz_loadu_ps(m0, r));
      _mm512_store_ps(dst + (v * mt + i) * 16, (__m512)w);
    }
  }
}

/* A packed per MT rows into scratch, then the walk: 1, or 0 (nothing
 * written) where the scratch is not there. */
static int short_nt(int bf16, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                    int64_t ldc) {
  const int64_t step = bf16 ? 32 : 16, kv = (k + step - 1) / step;
  float* ap = (float*)lits_scratch_alloc(m * kv * 16 * (int64_t)sizeof(float));
  if (ap == NULL) return 0;
  for (int64_t i0 = 0; i0 < m; i0 += MT) {
    const int64_t mt = m - i0 < MT ? m - i0 : MT;
    if (bf16) pack_bf16(a + i0 * lda, lda, k, mt, ap + i0 * kv * 16);
    else pack_f32(a + i0 * lda, lda, k, mt, ap + i0 * kv * 16);
  }
  if (bf16) run_bf16(m, n, k, alpha, ap, b, ldb, beta, c, ldc);
  else run_f32(m, n, k, alpha, ap, b, ldb, beta, c, ldc);
  lits_scratch_free(ap);
  return 1;
}

int lits_gemm_short_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                       int64_t ldc) {
  /* Without scratch, OpenBLAS, which needs none of ours. */
  return takes(m, n, k) && short_nt(0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int lits_gemm_bf16_short_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                            int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                            int64_t ldc) {
  return takes(m, n, k) && short_nt(1, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
