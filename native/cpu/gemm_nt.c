/* gemm_nt.c: C (+)= A B^T for row-major A [m, kk] and B [n, kk] on one
 * thread, on packed_gemm.c's 12 x 32 micro-kernel: both operands are
 * transposed as they are packed (16 x 16 at a time in registers), chunk by
 * chunk of KC along kk, A into panels [kk][12], B into panels [kk][32]
 * (NCB rows at a time, in L2). Winograd's filter gradient multiplies its
 * planes so (tiles contiguous in both): OpenBLAS's NT SGEMM spent as long
 * packing them as multiplying. */
#include <immintrin.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "transpose16.h"

#define AVX512 __attribute__((target("avx512f")))

#define KC 512  /* columns of kk per chunk: the depth of the panels */
#define NCB 256 /* rows of B packed at a time */
#define NR 32   /* rows of B per panel: the micro-kernel's columns */
#define MR 12   /* the most rows of A per panel */

/* out[i ldo + q] = (acc ? out : 0) + v[i NR + q] for mr x nr values. */
static void add_edge(float* out, int64_t ldo, const float* v, int64_t mr, int64_t nr, int acc) {
  for (int64_t i = 0; i < mr; i++) {
    for (int64_t q = 0; q < nr; q++) {
      out[i * ldo + q] = acc ? out[i * ldo + q] + v[i * NR + q] : v[i * NR + q];
    }
  }
}

void lits_gemm_packed_blocks(int64_t m, int64_t nb, int64_t kc, const float* ap, const float* bp,
                             float* c, int64_t ldc, int acc, float* edge) {
  for (int64_t i0 = 0, mr; i0 < m; i0 += mr) {
    mr = lits_packed_gemm_block_rows(m, i0);
    const int64_t h = lits_packed_gemm_panel_rows(mr);
    const float* a = ap + i0 * kc;
    for (int64_t q0 = 0; q0 < nb; q0 += NR) {
      const int64_t nr = nb - q0 < NR ? nb - q0 : NR;
      float* out = c + i0 * ldc + q0;
      const float* b = bp + q0 * kc;
      if (nr == NR && h == mr) {
        lits_packed_gemm_block(mr, kc, a, b, out, ldc, acc);
      } else {
        lits_packed_gemm_block(h, kc, a, b, edge, NR, 0);
        add_edge(out, ldc, edge, mr, nr, acc);
      }
    }
  }
}

/* Rows [0, m) of a (row stride lda) at columns [j0, j0 + kc) into panels
 * of lits_packed_gemm_block_rows' blocks: the block at row i0 at ap + i0
 * kc, [kc][h] (h its panel height, rows past m zero). */
AVX512 static void pack_a(const float* a, int64_t lda, int64_t m, int64_t j0, int64_t kc,
                          float* ap) {
  for (int64_t i0 = 0, mr; i0 < m; i0 += mr) {
    mr = lits_packed_gemm_block_rows(m, i0);
    const int64_t h = lits_packed_gemm_panel_rows(mr);
    const __mmask16 hm = (__mmask16)((1u << h) - 1);
    float* panel = ap + i0 * kc;
    for (int64_t j = 0; j < kc; j += 16) {
      const int64_t len = kc - j < 16 ? kc - j : 16;
      const __mmask16 lm = (__mmask16)((1u << len) - 1);
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        r[i] = i < mr ? _mm512_maskz_loadu_ps(lm, a + (i0 + i) * lda + j0 + j) : _mm512_setzero_ps();
      }
      transpose16(r);
      for (int64_t l = 0; l < len; l++) _mm512_mask_storeu_ps(panel + (j + l) * h, hm, r[l]);
    }
  }
}

/* Rows [0, nb) of b (row stride ldb) at columns [j0, j0 + kc) into panels
 * of NR rows, panel q at bp + q NR kc, [kc][NR] (rows past nb: zeros up to
 * a multiple of 16, then unset; their columns of C are not stored). */
AVX512 static void pack_b(const float* b, int64_t ldb, int64_t nb, int64_t j0, int64_t kc,
                          float* bp) {
  for (int64_t q0 = 0; q0 < nb; q0 += 16) {
    for (int64_t j = 0; j < kc; j += 16) {
      const int64_t len = kc - j < 16 ? kc - j : 16;
      const __mmask16 lm = (__mmask16)((1u << len) - 1);
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        r[i] = q0 + i < nb ? _mm512_maskz_loadu_ps(lm, b + (q0 + i) * ldb + j0 + j)
                           : _mm512_setzero_ps();
      }
      transpose16(r);
      float* dst = bp + q0 / NR * NR * kc + j * NR + q0 % NR;
      for (int64_t l = 0; l < len; l++) _mm512_storeu_ps(dst + l * NR, r[l]);
    }
  }
}

int64_t lits_gemm_nt_scratch(int64_t m, int64_t kk) {
  const int64_t kc = kk < KC ? kk : KC;
  return round16((m + MR) * kc) + round16(NCB * kc) + MR * NR;
}

void lits_gemm_nt(int64_t m, int64_t n, int64_t kk, const float* a, int64_t lda, const float* b,
                  int64_t ldb, int acc, float* c, int64_t ldc, float* scratch) {
  if (m <= 0 || n <= 0) return;
  if (kk <= 0) {
    for (int64_t i = 0; !acc && i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
    return;
  }
  const int64_t kc0 = kk < KC ? kk : KC;
  float* ap = scratch;
  float* bp = ap + round16((m + MR) * kc0);
  float* edge = bp + round16(NCB * kc0);
  for (int64_t j0 = 0; j0 < kk; j0 += KC) {
    const int64_t kc = kk - j0 < KC ? kk - j0 : KC;
    pack_a(a, lda, m, j0, kc, ap);
    for (int64_t q0 = 0; q0 < n; q0 += NCB) {
      const int64_t nb = n - q0 < NCB ? n - q0 : NCB;
      pack_b(b + q0 * ldb, ldb, nb, j0, kc, bp);
      lits_gemm_packed_blocks(m, nb, kc, ap, bp, c + q0, ldc, acc || j0 > 0, edge);
    }
  }
}
