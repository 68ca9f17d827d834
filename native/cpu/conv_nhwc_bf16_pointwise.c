/* conv_nhwc_bf16_pointwise.c: the chain's 1x1 convolutions (conv_nhwc_bf16.c)
 * as our own vdpbf16ps GEMM over channels-last bf16, with the batch norm,
 * residual and ReLU applied to each tile before its one rounding.
 *
 * Channels-last, a 1x1 convolution is y [pixels, k] = x [pixels, c] W^T,
 * and x's rows already hold bf16 pairs along c: the A operand of
 * bf16_gemm.c's micro-kernel (one 32-bit word broadcast per row) read in
 * place, with no packing (a stride-2 convolution's pixels are gathered,
 * a block of rows at a time). The weights are rounded and packed once per
 * call into panels of 64 output channels ([pair][64] words, B of the
 * kernel), and each 6 x 64 tile of y is finished in registers: fp32 sums
 * (6 broadcasts and 4 loads feed 24 vdpbf16ps; 12 x 32 tiles, with 12
 * broadcasts, took 1.04x as long over ResNet-50's 13 1x1 shapes, the same
 * bits: 92.2 against 88.9 ms, means of five runs of each, one library a
 * process, alternating), times the
 * batch norm's scale plus its shift (or the bias), plus the residual,
 * ReLU, rounded to bf16 (RNE) and stored as whole cache lines, streamed
 * past the caches when y is large. The next tile's rows and residual are
 * prefetched while a tile sums: a 1x1 layer reads more than it computes
 * (256 -> 64 at 64^2, batch 16: 7.2 -> 5.1 ms with the rows prefetched).
 * Why: oneDNN 2.6's avx512_core_bf16 1x1 kernels ran ResNet-50's 1x1
 * layers at 190-410 GFLOP/s on a 2-core Zen 4 (vdpbf16ps peak 470); its
 * 13 shapes, alternating, one call each: 88.0 ms here against 105.9 there
 * at batch 16, 6.0 against 8.5 at batch 1. */
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "bf16_internal.h"
#include "common.h"
#include "conv_internal.h"
#include "stream_store.h"

#define MR 6  /* pixels per tile: 24 accumulators */
#define NR 64 /* output channels per tile: four vectors */
#define TB 16 /* tiles per block: the block's rows stay in L2 across the panels */

int lits_nhwc_bf16_pointwise_applies(const conv_shape* p) {
  return p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->groups == 1 && p->c % 16 == 0 &&
         p->k % 16 == 0;
}

/* Panel j (channels [64 j, 64 j + 64)) of W^T: word (q, col) holds
 * bf16(W[col, 2q]) | bf16(W[col, 2q + 1]) << 16; channels past k are 0.
 * 16 channels' words of 16 pairs at a time, transposed in registers. */
BF16_TARGET static void pack_panel(const float* w, int64_t c, int64_t k, int64_t j,
                                   uint32_t* dst) {
  const int64_t pairs = c / 2;
  for (int64_t quarter = 0; quarter < NR / 16; quarter++) {
    const int64_t col0 = j * NR + quarter * 16;
    for (int64_t q = 0; q < pairs; q += 16) {
      const int64_t n = pairs - q < 16 ? 2 * (pairs - q) : 32;
      __m512i v[16];
      for (int64_t t = 0; t < 16; t++) {
        v[t] = col0 + t < k ? pairs_of(w + (col0 + t) * c + 2 * q, n) : _mm512_setzero_si512();
      }
      transpose16(v);
      for (int64_t t = 0; t < n / 2; t++) {
        _mm512_storeu_si512(dst + (q + t) * NR + quarter * 16, v[t]);
      }
    }
  }
}

/* 16 fp32 sums of one row, finished: times the scale plus the shift, plus
 * the residual's 16 bf16 values at r (or none), ReLU'd. A multiply, then
 * an add, as oneDNN's post-ops (an FMA, which gcc makes of _mm512_mul_ps
 * and _mm512_add_ps, rounds once: a few words in 10^5 then differed, and
 * ResNet-50's logits with them), so that the chain has the same bits on
 * either kernel. */
BF16_TARGET static inline __m512 finish(__m512 acc, __m512 mul, __m512 add, const uint16_t* r,
                                        int relu) {
  const __m512 scaled =
      _mm512_mul_round_ps(acc, mul, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 v = _mm512_add_ps(scaled, add);
  if (r != NULL) {
    const __m512i rw = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)r));
    v = _mm512_add_ps(v, _mm512_castsi512_ps(_mm512_slli_epi32(rw, 16)));
  }
  return relu ? _mm512_max_ps(_mm512_setzero_ps(), v) : v; /* NaN stays NaN */
}

#define ROW(i)                                                         \
  __m512 c##i##a = _mm512_setzero_ps(), c##i##b = _mm512_setzero_ps(), \
         c##i##c = _mm512_setzero_ps(), c##i##d = _mm512_setzero_ps();
#define DOT(i)                                                             \
  {                                                                        \
    const __m512bh w = (__m512bh)_mm512_set1_epi32((int)a[(i) * lda + q]); \
    c##i##a = _mm512_dpbf16_ps(c##i##a, w, b0);                            \
    c##i##b = _mm512_dpbf16_ps(c##i##b, w, b1);                            \
    c##i##c = _mm512_dpbf16_ps(c##i##c, w, b2);                            \
    c##i##d = _mm512_dpbf16_ps(c##i##d, w, b3);                            \
  }
/* Channels [16 v, 16 v + 32) of row i (those below 16 nv), finished and
 * rounded by vcvtne2ps2bf16: RNE, as round_hi, but NaN quietened and
 * denormals to zero (Intel's definition; oneDNN's rounding too). */
#define HALF(i, lo_acc, hi_acc, v)                                                   \
  if ((v) < nv) {                                                                    \
    const int both = (v) + 1 < nv;                                                   \
    const uint16_t* ri = r != NULL ? r + (i) * k + 16 * (v) : NULL;                  \
    const __m512 lo = finish(lo_acc, mul[v], add[v], ri, relu);                      \
    const __m512 hi =                                                                \
        finish(hi_acc, mul[(v) + 1], add[(v) + 1], ri != NULL && both ? ri + 16 : NULL, relu); \
    const __m512i w = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);                         \
    if (nt) {                                                                        \
      _mm512_stream_si512((void*)(y + (i) * k + 16 * (v)), w);                       \
    } else {                                                                         \
      _mm512_mask_storeu_epi16(y + (i) * k + 16 * (v), both ? 0xFFFFFFFFu : 0xFFFFu, w); \
    }                                                                                \
  }
#define STORE(i)                 \
  if ((i) < mr) {                \
    HALF(i, c##i##a, c##i##b, 0) \
    HALF(i, c##i##c, c##i##d, 2) \
  }

/* y rows [0, mr) (k apart), channels [0, 16 nv), nv <= 4, from MR rows of
 * a (lda words apart, `pairs` words each) and a packed panel bp; mulp,
 * addp: the panel's per-channel scale and shift; r: the residual's rows (k
 * apart) or NULL. */
BF16_TARGET static void kernel(int64_t pairs, const uint32_t* a, int64_t lda, const uint32_t* bp,
                             const float* mulp, const float* addp, const uint16_t* r, int relu,
                             uint16_t* y, int64_t k, int64_t mr, int64_t nv, int stream) {
  /* The residual's lines of this tile and the next (the same channels
   * of the next pixels), read when the sums are done. */
  if (r != NULL) {
    for (int64_t i = 0; i < 2 * MR; i++) {
      __builtin_prefetch(r + i * k, 0, 3);
      __builtin_prefetch(r + i * k + 32, 0, 3);
    }
  }
  ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5);
  const uint32_t* next = a + MR * lda; /* the next tile's rows, a line every other step */
  for (int64_t q = 0; q < pairs; q++) {
    if (q % 2 == 0) __builtin_prefetch(next + q * 8, 0, 3);
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 16);
    const __m512bh b2 = (__m512bh)_mm512_loadu_si512(bp + 32);
    const __m512bh b3 = (__m512bh)_mm512_loadu_si512(bp + 48);
    DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5);
    bp += NR;
  }
  __m512 mul[4], add[4];
  for (int64_t v = 0; v < 4; v++) {
    mul[v] = v < nv ? _mm512_loadu_ps(mulp + 16 * v) : _mm512_setzero_ps();
    add[v] = v < nv ? _mm512_loadu_ps(addp + 16 * v) : _mm512_setzero_ps();
  }
  const int nt = stream && nv == 4 && ((uintptr_t)y & 63) == 0 && k % 32 == 0;
  STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5);
}

/* Rows [p0, p0 + rows) of the convolution's A (output pixels' input
 * pixels, c / 2 words each) into dst, lda words apart, zeros up to a whole
 * tile. */
static void gather_rows(const conv_shape* p, const uint32_t* xw, int64_t p0, int64_t rows,
                        int64_t lda, uint32_t* dst) {
  const int64_t pairs = p->c / 2;
  for (int64_t t = 0; t < rows; t++) {
    const int64_t q = p0 + t, i = q / p->ohw, oy = q % p->ohw / p->ow, ox = q % p->ow;
    const int64_t at = (i * p->h + oy * p->sh) * p->w + ox * p->sw;
    memcpy(dst + t * lda, xw + at * pairs, (size_t)pairs * sizeof(uint32_t));
  }
  for (int64_t t = rows; t % MR != 0; t++) memset(dst + t * lda, 0, (size_t)pairs * 4);
}

/* The per-channel scale and shift of y: the batch norm's, with the bias
 * folded into the shift ((v + bias - mean) scale + shift), or 1 and the
 * bias. */
static void channel_affine(const conv_shape* p, const float* bias, const float* coef, float* mul,
                           float* add) {
  for (int64_t j = 0; j < p->k; j++) {
    const float b = bias != NULL ? bias[j] : 0.0f;
    mul[j] = coef != NULL ? coef[p->k + j] : 1.0f;
    add[j] = coef != NULL ? (b - coef[j]) * coef[p->k + j] + coef[2 * p->k + j] : b;
  }
}

/* The layout lits_prep_slot keeps the packed panels under. */
static uint64_t panels_layout(const conv_shape* p) {
  return 0x7077310000000000ULL ^ (uint64_t)NR << 48 ^ (uint64_t)p->k << 24 ^ (uint64_t)p->c;
}

int lits_nhwc_bf16_pointwise(const conv_shape* p, const uint16_t* x, const float* weight,
                             const float* bias, const float* coef, const uint16_t* r,
                             int32_t relu, uint16_t* y, void* prepared, int64_t bytes) {
  const int64_t pairs = p->c / 2, panels = (p->k + NR - 1) / NR;
  const int64_t pixels = p->n * p->ohw, tiles = (pixels + MR - 1) / MR;
  /* Gathered rows lie a line more than their length apart: rows of 2 KiB
   * or more, read in place, put a tile's 6 in a few L1 sets (4 KiB apart:
   * one set of 8 ways; 2048 -> 512 at 8^2, batch 16: 5.9 -> 5.7 ms). */
  const int64_t lda = pairs + 16;
  const int64_t panel_words = pairs * NR, block_words = TB * MR * lda;
  const int nt = omp_get_max_threads();
  const int threads = tiles < nt ? (int)(tiles > 0 ? tiles : 1) : nt;
  const int64_t chan = (2 * p->k + 15) / 16 * 16;
  /* The panels from the caller's buffer, packed there on the first call
   * with these weights; else into scratch, every call. */
  int ready = 0;
  uint32_t* kept = lits_prep_slot(prepared, bytes, panels * panel_words * 4, panels_layout(p),
                                  weight, p->k * p->c, &ready);
  const int64_t own_words = kept != NULL ? 0 : panels * panel_words;
  uint32_t* buf = lits_scratch_alloc((own_words + threads * block_words + chan) * 4 + 64);
  if (buf == NULL) return LITS_ERR_MEMORY;
  uint32_t* wpk = kept != NULL ? kept : buf;
  float* mul = (float*)(buf + own_words + threads * block_words);
  float* add = mul + p->k;
  channel_affine(p, bias, coef, mul, add);
  const uint32_t* xw = (const uint32_t*)x;
  const int in_place = p->sh == 1 && p->sw == 1 && pairs * 4 < 2048;
  const int stream = pixels * p->k * 2 >= LITS_STREAM_MIN_BYTES; /* stream_store.h */
#pragma omp parallel num_threads(threads)
  {
    const int th = omp_get_thread_num();
    uint32_t* abuf = buf + own_words + th * block_words;
    if (!ready) {
#pragma omp for schedule(static)
      for (int64_t j = 0; j < panels; j++) pack_panel(weight, p->c, p->k, j, wpk + j * panel_words);
    }
    /* Each thread an even share of the tiles, in blocks of TB that share
     * the panels (whole blocks split 1024 pixels' 11 six to five). */
    const int64_t t_end = tiles * (th + 1) / threads;
    for (int64_t tb = tiles * th / threads; tb < t_end; tb += TB) {
      const int64_t p0 = tb * MR, last = (tb + TB < t_end ? tb + TB : t_end) * MR;
      const int64_t rows = (last < pixels ? last : pixels) - p0;
      const uint32_t* a = xw + p0 * pairs;
      int64_t ld = pairs;
      /* Whole tiles of a stride-1 convolution read x in place. */
      if (!in_place || rows % MR != 0) {
        gather_rows(p, xw, p0, rows, lda, abuf);
        a = abuf, ld = lda;
      }
      for (int64_t j = 0; j < panels; j++) {
        const int64_t ch = j * NR, nv = p->k - ch >= NR ? NR / 16 : (p->k - ch) / 16;
        for (int64_t t0 = 0; t0 < rows; t0 += MR) {
          const int64_t mr = rows - t0 < MR ? rows - t0 : MR, at = (p0 + t0) * p->k + ch;
          kernel(pairs, a + t0 * ld, ld, wpk + j * panel_words, mul + ch, add + ch,
                 r != NULL ? r + at : NULL, relu, y + at, p->k, mr, nv, stream);
        }
      }
    }
    if (stream) _mm_sfence(); /* the streamed rows before the barrier */
  }
  if (kept != NULL) lits_prep_done(prepared);
  lits_scratch_free(buf);
  return LITS_OK;
}
