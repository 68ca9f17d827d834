/* bf16_pack.c: the packing of bf16_gemm.c's operands: fp32 rounded to
 * bf16 (RNE, by vcvtne2ps2bf16: see bf16_32) and laid out in K pairs for
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
 * unchanged. Into L2 (T1), not L1: the loads then stall less on L1's
 * outstanding misses (filter gradients 64 -> 256 at 64^2 18.3 -> 17.0 ms
 * CPU time, 64 -> 64 5.3 -> 4.9, 128 -> 512 14.7 -> 14.1; 16 rows ahead
 * as well beat 8 rows alone by 1-4%). */
#define PF_AHEAD 4

/* The rounding is vcvtne2ps2bf16's: round to nearest even, as round_hi
 * (bf16_internal.h, c10::BFloat16's bit arithmetic) but in one instruction
 * for 32 floats instead of six for 16, and the pairs take one vpermw. It
 * differs from round_hi on NaN payloads (a NaN stays a NaN) and on fp32
 * denormals, which it flushes to zero: their bf16 is a denormal that
 * vdpbf16ps reads as zero anyway, save those within half a bf16 ulp of
 * FLT_MIN, which round_hi rounds up to it (terms of |a b| < 1.2e-38 |b|).
 * Packing was a quarter of ResNet-50's 1x1 forward 256 -> 64 at 64^2.
 * 32 bf16 (16 words): lo's 16 values, then hi's. */
BF16_TARGET static inline __m512i bf16_32(__m512 lo, __m512 hi) {
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* Words bf16(v0[j]) | bf16(v1[j]) << 16: the two rows' halves interleaved. */
BF16_TARGET static inline __m512i interleave_rows(__m512 v0, __m512 v1) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24,
                                       8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, bf16_32(v0, v1));
}

/* pair_rows (bf16_internal.h) with the rounding above. */
BF16_TARGET static inline __m512i rows_to_pairs(const float* r0, const float* r1, int64_t w) {
  const __mmask16 m = bf16_lanes(w);
  const __m512 v1 = r1 != NULL ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
  return interleave_rows(_mm512_maskz_loadu_ps(m, r0), v1);
}

/* pairs_of (bf16_internal.h) with the rounding above. */
BF16_TARGET static inline __m512i run_to_pairs(const float* x, int64_t n) {
  const __m512 lo = _mm512_maskz_loadu_ps(bf16_lanes(n), x);
  return bf16_32(lo, _mm512_maskz_loadu_ps(bf16_lanes(n - 16), x + 16));
}

/* x[0 .. kc) contiguous along K into (kc + 1) / 2 words at dst. */
BF16_TARGET static void pack_along_k(const float* x, int64_t kc, uint32_t* dst) {
  for (int64_t p = 0; p < kc; p += 32) {
    const __m512i v = run_to_pairs(x + p, kc - p);
    if (kc - p >= 32) {
      _mm512_storeu_si512(dst + p / 2, v);
    } else {
      _mm512_mask_storeu_epi32(dst + p / 2, bf16_lanes((kc - p + 1) / 2), v);
    }
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
          r[u] = u < nq ? rows_to_pairs(r0, 2 * q + 1 < kc ? r0 + lda : NULL, mr)
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
          for (int64_t q = 0; q < kc; q += 16) _mm_prefetch((const char*)(nx + q), _MM_HINT_T1);
        }
        if (ir + i + 4 * PF_AHEAD < mc) { /* and into L2 further ahead, as pack_b's */
          const float* nx = a + (i0 + ir + i + 4 * PF_AHEAD) * lda + p0;
          for (int64_t q = 0; q < kc; q += 16) _mm_prefetch((const char*)(nx + q), _MM_HINT_T1);
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
 * unchanged. And the pair 4 pairs ahead into L2 (T1): packing from memory
 * stalls on L1's few outstanding misses (perf: at the loads and the T0
 * prefetches), which L2's prefetches do not hold. ResNet-50's 1x1 layers,
 * batch 16, 2 threads, alternating, CPU time: backward data 64 -> 256 at
 * 64^2 16.6 -> 14.0 ms, 256 -> 1024 at 16^2 12.2 -> 11.3, forward 64 ->
 * 256 13.4 -> 12.5, 1024 -> 256 at 16^2 11.9 -> 11.2; none slower (8 pairs
 * ahead: the same). */
static inline void prefetch_next_pair(const float* r, int64_t ldb) {
  _mm_prefetch((const char*)(r + 2 * ldb), _MM_HINT_T0);
  _mm_prefetch((const char*)(r + 3 * ldb), _MM_HINT_T0);
  _mm_prefetch((const char*)(r + 8 * ldb), _MM_HINT_T1);
  _mm_prefetch((const char*)(r + 9 * ldb), _MM_HINT_T1);
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

/* rows_to_pairs of transformed rows: t0 for r0, t1 for r1. */
BF16_TARGET static inline __m512i pair_rows_x(const float* r0, const float* r1, int64_t w,
                                              const xvec* t0, const xvec* t1) {
  const __mmask16 m = bf16_lanes(w);
  return interleave_rows(xload(r0, m, t0), r1 != NULL ? xload(r1, m, t1) : _mm512_setzero_ps());
}

/* run_to_pairs of a transformed run of one channel. */
BF16_TARGET static inline __m512i pairs_of_x(const float* x, int64_t n, const xvec* t) {
  return bf16_32(xload(x, bf16_lanes(n), t), xload(x + 16, bf16_lanes(n - 16), t));
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
          r[u] = j + u < nc ? run_to_pairs(b + (j0 + j + u) * ldb + p0 + 2 * q0, kc - 2 * q0)
                            : _mm512_setzero_si512();
        }
        /* The next 16 columns' lines into L2, as the non-transposed pack's
         * (with pack_a's, the 1x1 filter gradients 64 -> 256 at 64^2 20.6 ->
         * 17.7 ms CPU time, 128 -> 512 at 32^2 16.1 -> 14.6, 64 -> 64 6.4
         * -> 5.8; 16^2 and 8^2 2-5% less). */
        for (int64_t u = 0; u < 16 && j + 16 + u < nc; u++) {
          const char* nx = (const char*)(b + (j0 + j + 16 + u) * ldb + p0 + 2 * q0);
          _mm_prefetch(nx, _MM_HINT_T1);
          _mm_prefetch(nx + 64, _MM_HINT_T1);
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
      _mm512_storeu_si512(d, j < nc ? rows_to_pairs(r0 + j, r1 ? r1 + j : NULL, nc - j)
                                    : _mm512_setzero_si512());
    }
  }
}

