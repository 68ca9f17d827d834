/* bf16_pack16.c: bf16_pack.c's packing of an operand that is bf16 already
 * (uint16 bits, e.g. a batch norm's gradient written for the convolution
 * that consumes it): the same layout, the values moved as they are, so the
 * products are those of the fp32 operand that rounds to them. Half the
 * bytes read; no rounding. Untransformed operands only: dy as op(A) of a
 * filter gradient and as op(B) of a 1x1 backward data, x as op(B) of a 1x1
 * forward, and transposed as op(B) of its filter gradient. */
#include <immintrin.h>
#include <stdint.h>

#include "bf16_blocking.h"
#include "bf16_internal.h"

/* pack_a's and pack_b's distances ahead (bf16_pack.c), in rows. */
#define PF_AHEAD 4

static inline __mmask32 lanes32(int64_t n) {
  return n >= 32 ? (__mmask32)0xFFFFFFFFu : n <= 0 ? (__mmask32)0 : (__mmask32)((1u << n) - 1);
}

/* x[0 .. kc) along K into (kc + 1) / 2 words (an odd K's last word has a
 * zero high half: the masked load's). */
BF16_TARGET static void copy_along_k(const uint16_t* x, int64_t kc, uint32_t* dst) {
  for (int64_t p = 0; p < kc; p += 32) {
    const __m512i v = _mm512_maskz_loadu_epi16(lanes32(kc - p), x + p);
    _mm512_mask_storeu_epi32(dst + p / 2, bf16_lanes((kc - p + 1) / 2), v);
  }
}

BF16_TARGET void lits_bf16_pack_a16(const uint16_t* a, int64_t lda, int64_t i0, int64_t mc,
                                    int64_t p0, int64_t kc, uint32_t* dst, int64_t ps) {
  for (int64_t ir = 0, mr; ir < mc; ir += mr) {
    mr = panel_rows(mc - ir);
    for (int64_t i = 0; i < mr; i++) {
      if (ir + i + PF_AHEAD < mc) { /* as pack_a: a short run of a long row each */
        const uint16_t* nx = a + (i0 + ir + i + PF_AHEAD) * lda + p0;
        for (int64_t q = 0; q < kc; q += 32) _mm_prefetch((const char*)(nx + q), _MM_HINT_T1);
      }
      copy_along_k(a + (i0 + ir + i) * lda + p0, kc, dst + (ir + i) * ps);
    }
  }
}

/* Words r0[j] | r1[j] << 16 for j < w (w <= 16); r1 NULL: an odd K's zero. */
BF16_TARGET static inline __m512i pair16(const uint16_t* r0, const uint16_t* r1, int64_t w) {
  const __mmask16 m = bf16_lanes(w);
  const __m512i lo = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r0));
  if (r1 == NULL) return lo;
  const __m512i hi = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r1));
  return _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16));
}

BF16_TARGET void lits_bf16_pack_b16(const uint16_t* b, int64_t ldb, int64_t j0, int64_t nc,
                                    int64_t p0, int64_t kc, uint32_t* dst, int64_t ps) {
  const int64_t pairs = (kc + 1) / 2;
  for (int64_t q = 0; q < pairs; q++) {
    const uint16_t* r0 = b + (p0 + 2 * q) * ldb + j0;
    const uint16_t* r1 = 2 * q + 1 < kc ? r0 + ldb : NULL;
    const int ahead = 2 * q + 3 < kc;
    for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
      uint32_t* d = dst + j / NR * ps * NR + q * NR + j % NR;
      if (ahead && j < nc && j % 32 == 0) { /* pack_b's prefetch_next_pair, a line per 32 */
        _mm_prefetch((const char*)(r0 + j + 2 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char*)(r0 + j + 3 * ldb), _MM_HINT_T0);
        _mm_prefetch((const char*)(r0 + j + 8 * ldb), _MM_HINT_T1);
        _mm_prefetch((const char*)(r0 + j + 9 * ldb), _MM_HINT_T1);
      }
      _mm512_storeu_si512(d, j < nc ? pair16(r0 + j, r1 ? r1 + j : NULL, nc - j)
                                    : _mm512_setzero_si512());
    }
  }
}

BF16_TARGET void lits_bf16_pack_b16t(const uint16_t* b, int64_t ldb, int64_t j0, int64_t nc,
                                     int64_t p0, int64_t kc, uint32_t* dst, int64_t ps) {
  const int64_t pairs = (kc + 1) / 2;
  /* 16 columns x 16 pairs at a time, transposed in registers as pack_b's
   * transposed walk: a column's pair is one word of its row, (k, k + 1)
   * low half first; past kc the halves load as zeros. */
  for (int64_t j = 0; j < (nc + NR - 1) / NR * NR; j += 16) {
    uint32_t* d = dst + j / NR * ps * NR + j % NR;
    for (int64_t q0 = 0; q0 < pairs; q0 += 16) {
      const __mmask32 m = lanes32(kc - 2 * q0);
      __m512i r[16];
      for (int64_t u = 0; u < 16; u++) {
        r[u] = j + u < nc ? _mm512_maskz_loadu_epi16(m, b + (j0 + j + u) * ldb + p0 + 2 * q0)
                          : _mm512_setzero_si512();
      }
      for (int64_t u = 0; u < 16 && j + 16 + u < nc; u++) { /* the next columns into L2 */
        _mm_prefetch((const char*)(b + (j0 + j + 16 + u) * ldb + p0 + 2 * q0), _MM_HINT_T1);
      }
      transpose16(r);
      for (int64_t i = 0; i < 16 && q0 + i < pairs; i++) {
        _mm512_storeu_si512(d + (q0 + i) * NR, r[i]);
      }
    }
  }
}

/* dst[i0 .. i1) = bf16(src[i0 .. i1)), 16 at a time. */
BF16_TARGET static void store_rne(const float* src, int64_t i0, int64_t i1, uint16_t* dst) {
  for (int64_t i = i0; i < i1; i += 16) {
    const __mmask16 m = bf16_lanes(i1 - i);
    const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
    _mm256_mask_storeu_epi16(dst + i, m, v);
  }
}

BF16_TARGET void lits_bf16_store_rne(const float* src, int64_t len, uint16_t* dst, int stream) {
  int64_t i = 0;
  if (stream) { /* whole 64-byte lines of dst streamed, the ends stored */
    int64_t head = (int64_t)((64 - ((uintptr_t)dst & 63)) & 63) / 2;
    if (head > len) head = len;
    store_rne(src, 0, head, dst);
    for (i = head; i + 32 <= len; i += 32) {
      const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16),
                                                     _mm512_loadu_ps(src + i));
      _mm512_stream_si512((__m512i*)(dst + i), v);
    }
  }
  store_rne(src, i, len, dst);
}
