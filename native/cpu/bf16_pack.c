/* bf16_pack.c: the packing of bf16_gemm.c's operands: fp32 rounded to
 * bf16 (RNE, as bf16_internal.h's round_hi) and laid out in K pairs for
 * vdpbf16ps, optionally through a deferred transform (bf16_b_xform). See
 * bf16_gemm.c for the layout of the packed blocks. */
#include <immintrin.h>
#include <stdint.h>

#include "bf16_blocking.h"
#include "bf16_internal.h"

/* pack_a prefetches the row this many ahead: a row of op(A) is KC floats
 * (2 KiB) of a long one, too short a run for the hardware prefetcher. The
 * 1x1 filter gradients' A is dy, read from memory once: ResNet-50's 64 ->
 * 256 at 64^2, 128 -> 512 and 512 -> 128 at 32^2 4-6% faster with 4 rows
 * ahead (two rounds, alternating in one process; 2 rows: 1-4%), 256 -> 64
 * unchanged. */
#define PF_AHEAD 4

/* x[0 .. kc) contiguous along K into (kc + 1) / 2 words at dst. */
BF16_TARGET static void pack_along_k(const float* x, int64_t kc, uint32_t* dst) {
  for (int64_t p = 0; p < kc; p += 16) {
    const int64_t n = kc - p < 16 ? kc - p : 16;
    const __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __m512i hi = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, x + p)), 16);
    /* vpmovdw keeps the low halves: the pairs, even k in the low bits */
    _mm256_mask_storeu_epi16(dst + p / 2, (__mmask16)((1u << (2 * ((n + 1) / 2))) - 1),
                             _mm512_cvtepi32_epi16(hi));
  }
}

/* See bf16_blocking.h. */
BF16_TARGET void lits_bf16_pack_a(const float* a, int64_t lda, int trans, int64_t i0, int64_t mc,
                                  int64_t p0, int64_t kc, uint32_t* dst, int64_t ps) {
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t ir = 0, mr; ir < mc; ir += mr) {
    mr = panel_rows(mc - ir);
    uint32_t* d = dst + ir * ps;
    if (trans) { /* stored k x m: a pair of rows of A^T holds the panel's words of one pair */
      /* 16 pairs at a time, turned into the panel's rows by a register transpose. */
      for (int64_t q0 = 0; q0 < pairs; q0 += 16) {
        const int64_t nq = pairs - q0 < 16 ? pairs - q0 : 16;
        __m512i r[16];
        for (int64_t u = 0; u < 16; u++) {
          const int64_t q = q0 + u;
          const float* r0 = a + (p0 + 2 * q) * lda + i0 + ir;
          r[u] = u < nq ? pair_rows(r0, 2 * q + 1 < kc ? r0 + lda : NULL, mr)
                        : _mm512_setzero_si512();
        }
        transpose16(r);
        const __mmask16 m = nq >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nq) - 1);
        for (int64_t i = 0; i < mr; i++) {
          _mm512_mask_storeu_epi32(d + i * ps + q0, m, r[i]);
        }
      }
    } else {
      for (int64_t i = 0; i < mr; i++) {
        if (ir + i + PF_AHEAD < mc) { /* rows lda apart: one short stream each */
          const float* nx = a + (i0 + ir + i + PF_AHEAD) * lda + p0;
          for (int64_t q = 0; q < kc; q += 16) _mm_prefetch((const char*)(nx + q), _MM_HINT_T0);
        }
        pack_along_k(a + (i0 + ir + i) * lda + p0, kc, d + i * ps);
      }
    }
  }
}

/* The next row pair's line at r (a row pair's line): pack_b reads op(B)
 * two rows at a time, ldb apart, so the hardware prefetcher follows two
 * streams that end every nc columns. ResNet-50's 1x1 forward and backward
 * data at 32^2 and 64^2 with K of 256 or 512 (256 -> 64, 256 -> 128, 512
 * -> 128 forward, 128 -> 512 backward data) 3-6% faster in three rounds
 * alternating in one process; K = 64 (64 -> 256 forward) and 16^2
 * unchanged. */
static inline void prefetch_next_pair(const float* r, int64_t ldb) {
  _mm_prefetch((const char*)(r + 2 * ldb), _MM_HINT_T0);
  _mm_prefetch((const char*)(r + 3 * ldb), _MM_HINT_T0);
}

/* One channel's transform of a bf16_b_xform as vectors. */
typedef struct {
  __m512 mean, scale, shift;
  int affine, relu;
} xvec;

BF16_TARGET static inline xvec xvec_of(const bf16_b_xform* bx, int64_t j) {
  const int64_t ch = bx->c0 + j;
  const int affine = bx->coef != NULL;
  const xvec t = {_mm512_set1_ps(affine ? bx->coef[ch] : 0.0f),
                  _mm512_set1_ps(affine ? bx->coef[bx->c + ch] : 1.0f),
                  _mm512_set1_ps(affine ? bx->coef[2 * bx->c + ch] : 0.0f), affine, bx->relu};
  return t;
}

/* fused_apply's value of the lanes in m (the others zero, as the padding
 * the untransformed loads give): (v - mean) scale + shift in one vfmadd as
 * gcc contracts it there; max(0, v) returns v for NaN and -0, as v < 0 ? 0
 * : v does. */
BF16_TARGET static inline __m512 xload(const float* x, __mmask16 m, const xvec* t) {
  __m512 v = _mm512_maskz_loadu_ps(m, x);
  if (t->affine) v = _mm512_fmadd_ps(_mm512_sub_ps(v, t->mean), t->scale, t->shift);
  if (t->relu) v = _mm512_max_ps(_mm512_setzero_ps(), v);
  return _mm512_maskz_mov_ps(m, v);
}

/* pair_rows (bf16_internal.h) of transformed rows: t0 for r0, t1 for r1. */
BF16_TARGET static inline __m512i pair_rows_x(const float* r0, const float* r1, int64_t w,
                                              const xvec* t0, const xvec* t1) {
  const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __m512i lo = _mm512_srli_epi32(round_hi(xload(r0, m, t0)), 16);
  if (r1 == NULL) return lo;
  const __m512i hi =
      _mm512_and_si512(round_hi(xload(r1, m, t1)), _mm512_set1_epi32((int)0xFFFF0000u));
  return _mm512_or_si512(lo, hi);
}

/* pairs_of (bf16_internal.h) of a transformed run of one channel. */
BF16_TARGET static inline __m512i pairs_of_x(const float* x, int64_t n, const xvec* t) {
  const __mmask16 m0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
  const __mmask16 m1 =
      n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
  const __m256i lo = _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_hi(xload(x, m0, t)), 16));
  const __m256i hi =
      _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_hi(xload(x + 16, m1, t)), 16));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* pack_b with a transform: the same layout and loops. */
BF16_TARGET static void pack_b_x(const float* b, int64_t ldb, int trans, int64_t j0, int64_t nc,
                                 int64_t p0, int64_t kc, uint32_t* dst, const bf16_b_xform* bx,
                                 int64_t ps) {
  const int64_t pairs = (kc + 1) / 2;
  if (trans) {
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
      uint32_t* d = dst + j / NR * ps * NR + j % NR;
      xvec t[16];
      for (int64_t u = 0; u < 16 && j + u < nc; u++) t[u] = xvec_of(bx, j0 + j + u);
      for (int64_t q0 = 0; q0 < pairs; q0 += 16) {
        __m512i r[16];
        for (int64_t u = 0; u < 16; u++) {
          r[u] = j + u < nc ? pairs_of_x(b + (j0 + j + u) * ldb + p0 + 2 * q0, kc - 2 * q0, &t[u])
                            : _mm512_setzero_si512();
        }
        transpose16(r);
        for (int64_t i = 0; i < 16 && q0 + i < pairs; i++) {
          _mm512_storeu_si512(d + (q0 + i) * NR, r[i]);
        }
      }
    }
    return;
  }
  for (int64_t q = 0; q < pairs; q++) {
    const float* r0 = b + (p0 + 2 * q) * ldb + j0;
    const float* r1 = 2 * q + 1 < kc ? r0 + ldb : NULL;
    const xvec t0 = xvec_of(bx, p0 + 2 * q), t1 = r1 ? xvec_of(bx, p0 + 2 * q + 1) : t0;
    const int ahead = 2 * q + 3 < kc;
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
      uint32_t* d = dst + j / NR * ps * NR + q * NR + j % NR;
      if (ahead && j < nc) prefetch_next_pair(r0 + j, ldb);
      _mm512_storeu_si512(d, j < nc ? pair_rows_x(r0 + j, r1 ? r1 + j : NULL, nc - j, &t0, &t1)
                                    : _mm512_setzero_si512());
    }
  }
}

/* See bf16_blocking.h. */
BF16_TARGET void lits_bf16_pack_b(const float* b, int64_t ldb, int trans, int64_t j0, int64_t nc,
                                  int64_t p0, int64_t kc, uint32_t* dst, const bf16_b_xform* bx,
                                  int64_t ps) {
  const int64_t pairs = (kc + 1) / 2;
  if (bx != NULL) {
    pack_b_x(b, ldb, trans, j0, nc, p0, kc, dst, bx, ps);
    return;
  }
  if (trans) { /* stored n x k: each column of op(B) is contiguous along K */
    /* 16 columns x 16 pairs at a time, transposed in registers (a word per
     * pair stored column by column measured 1.3x slower for the whole
     * GEMM, and it was a third of a filter gradient's time). */
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
      uint32_t* d = dst + j / NR * ps * NR + j % NR;
      for (int64_t q0 = 0; q0 < pairs; q0 += 16) {
        __m512i r[16];
        for (int64_t u = 0; u < 16; u++) {
          r[u] = j + u < nc ? pairs_of(b + (j0 + j + u) * ldb + p0 + 2 * q0, kc - 2 * q0)
                            : _mm512_setzero_si512();
        }
        transpose16(r);
        for (int64_t i = 0; i < 16 && q0 + i < pairs; i++) {
          _mm512_storeu_si512(d + (q0 + i) * NR, r[i]);
        }
      }
    }
    return;
  }
  /* Row pair by row pair: long contiguous reads, 16 columns at a time.
   * (Packing each 32-column panel just before its products reads 128-byte
   * pieces of rows ldb apart instead: measured 35-40% slower on ResNet's
   * 64 x 65536 x 256 layer.) */
  for (int64_t q = 0; q < pairs; q++) {
    const float* r0 = b + (p0 + 2 * q) * ldb + j0;
    const float* r1 = 2 * q + 1 < kc ? r0 + ldb : NULL;
    const int ahead = 2 * q + 3 < kc;
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
      uint32_t* d = dst + j / NR * ps * NR + q * NR + j % NR;
      if (ahead && j < nc) prefetch_next_pair(r0 + j, ldb);
      _mm512_storeu_si512(d, j < nc ? pair_rows(r0 + j, r1 ? r1 + j : NULL, nc - j)
                                    : _mm512_setzero_si512());
    }
  }
}

