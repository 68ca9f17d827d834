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
 * 15.4, at batch 16 95 -> 82. */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
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

/* One tile of C over one k block: mt rows of packed A (ap: [k / 16][mt][16],
 * zeros past k) by nt rows of B (b, row stride ldb), kl values of k. The
 * first block sets C (alpha AB^T + beta C), later ones add to it. */
__attribute__((target("avx512f"), always_inline)) static inline void tile(
    int mt, int nt, const float* ap, const float* b, int64_t ldb, int64_t kl, float* c,
    int64_t ldc, int first, float alpha, float beta) {
  __m512 acc[MT][NT];
#pragma GCC unroll 8
  for (int i = 0; i < mt; i++) {
#pragma GCC unroll 8
    for (int j = 0; j < nt; j++) acc[i][j] = _mm512_setzero_ps();
  }
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
  for (int i = 0; i < mt; i++) {
    for (int j = 0; j < nt; j++) {
      const float s = alpha * _mm512_reduce_add_ps(acc[i][j]);
      float* o = c + i * ldc + j;
      *o = !first ? *o + s : beta == 0.0f ? s : beta * *o + s;
    }
  }
}

/* tile() with mt and nt as constants, so that each case keeps its
 * accumulators in registers. */
#define TILE_ROWS(nt)                                                         \
  switch (mt) {                                                               \
    case 8: tile(8, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 7: tile(7, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 6: tile(6, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 5: tile(5, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 4: tile(4, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 3: tile(3, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    case 2: tile(2, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta); break; \
    default: tile(1, nt, ai, bj, ldb, kl, ci, ldc, first, alpha, beta);       \
  }

__attribute__((target("avx512f"))) static void run(int64_t m, int64_t n, int64_t k, float alpha,
                                                   const float* ap, const float* b, int64_t ldb,
                                                   float beta, float* c, int64_t ldc) {
  const int64_t kv = (k + 15) / 16, tiles = (n + NT - 1) / NT;
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nth = omp_get_num_threads();
    const int64_t t0 = tiles * t / nth, t1 = tiles * (t + 1) / nth;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
      const int64_t kl = k - k0 < KC ? k - k0 : KC;
      const int first = k0 == 0;
      for (int64_t tj = t0; tj < t1; tj++) {
        const int64_t j0 = tj * NT;
        const int nt = n - j0 < NT ? (int)(n - j0) : NT;
        const float* bj = b + j0 * ldb + k0;
        for (int64_t i0 = 0; i0 < m; i0 += MT) {
          const int mt = m - i0 < MT ? (int)(m - i0) : MT;
          const float* ai = ap + i0 * kv * 16 + k0 / 16 * mt * 16;
          float* ci = c + i0 * ldc + j0;
          if (nt == 3) {
            TILE_ROWS(3)
          } else if (nt == 2) {
            TILE_ROWS(2)
          } else {
            TILE_ROWS(1)
          }
        }
      }
    }
  }
}

int lits_gemm_short_nt(int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                       int64_t ldc) {
  const char* env = getenv("LITS_GEMM_WIDE");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  /* (lits_packed_gemm_applies: AVX-512, and LITS_CONV_ALGO=openblas not set.) */
  if (m < 1 || m > SHORT_MAX_ROWS || n * k < SHORT_MIN_B || !lits_packed_gemm_applies(n)) {
    return 0;
  }
  const int64_t kv = (k + 15) / 16;
  float* ap = (float*)lits_scratch_alloc(m * kv * 16 * (int64_t)sizeof(float));
  if (ap == NULL) return 0; /* OpenBLAS then, which needs no scratch of ours */
  for (int64_t i0 = 0; i0 < m; i0 += MT) {
    const int64_t mt = m - i0 < MT ? m - i0 : MT;
    float* dst = ap + i0 * kv * 16;
    for (int64_t v = 0; v < kv; v++) {
      const int64_t len = k - v * 16 < 16 ? k - v * 16 : 16;
      for (int64_t i = 0; i < mt; i++) {
        float* d = dst + (v * mt + i) * 16;
        memcpy(d, a + (i0 + i) * lda + v * 16, (size_t)len * sizeof(float));
        memset(d + len, 0, (size_t)(16 - len) * sizeof(float));
      }
    }
  }
  run(m, n, k, alpha, ap, b, ldb, beta, c, ldc);
  lits_scratch_free(ap);
  return 1;
}
