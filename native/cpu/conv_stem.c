/* conv_stem.c: the forward of a one-channel stride-2 convolution (ResNet's
 * 7x7 stem on a CT slice), computed directly.
 *
 * As an im2col GEMM its inner dimension is only r * s (49): the 12 x 32
 * micro-kernel stores its block after 49 steps, and the 49 columns of each
 * output pixel are first written into a tile and packed. Here each
 * thread takes whole output rows: it splits the r input rows under one
 * output row into their even and odd columns (with the zero padding), so
 * that tap (r, s) of 16 output pixels side by side is one vector load from
 * row r's even (s even) or odd (s odd) columns at ox + s / 2, and 8 output
 * channels x 48 pixels are 24 accumulators in registers over all r * s
 * taps, the weights broadcast from a packed copy in L1.
 *
 * The input's deferred transform (conv_xform) is applied as the rows are
 * split, before the padding (which is zero after it); under bf16 autocast
 * the inputs and weights are rounded to bf16 there and once, and the
 * products, exact in fp32, are summed in fp32: what a bf16 dot product
 * with fp32 accumulation computes. There the taps go in horizontal pairs,
 * whose columns are adjacent in the padded row (one 32-bit word of two
 * bf16), each pair one vdpbf16ps: 28 for a 7x7 filter against 49 FMAs
 * (ResNet-50's stem, batch 16, 2-core Zen 4, alternating: 11.1 -> 7.6
 * ms; with its max pool, conv_stem_pool.c, 11.2 -> 8.2). Every output is
 * one thread's fixed sequence of FMAs (or vdpbf16ps): the same bits for
 * any number of threads. For a batch
 * norm in training that reads y next, each output row's moments are summed
 * as it is written (shifted by its first value, in double) and the rows
 * merged in order: no pass over y for the batch statistics (ResNet-50's
 * stem, batch 16: 6.5 ms against 8.6 with that pass, in one process).
 * ResNet-50's stem, batch 16, 2 threads, Xeon with AMX, alternating call by
 * call in one process (bench/stem_ab.ts, medians of 21): fp32 4.6-4.9 ms
 * (336-356 GFLOP/s) against im2col + packed_gemm.c's 7.2-7.4; bf16 rules
 * (FMAs then, before the pairs) 4.7-5.1 against im2col + bf16_gemm.c's
 * (AMX tiles) 6.4.
 * Chosen at run time: AVX-512 CPUs only. */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "silu16.h"
#include "fused_internal.h"
#include "conv_stem.h"
#include "stream_store.h"

#define KB 8      /* output channels per block: one broadcast each */
#define NV 3      /* vectors of output pixels per block */
#define NB (16 * NV)

/* LITS_CONV_STEM=off keeps such layers on the general paths (tests and
 * benchmarks compare the two); read on every call, as pick_algo's. */
int lits_conv_stem_applies(const conv_shape* p) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* env = getenv("LITS_CONV_STEM");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  return avx512 && p->c == 1 && p->groups == 1 && p->sh == 2 && p->sw == 2 && p->dh == 1 &&
         p->dw == 1 && p->r <= MAX_TAPS && p->s <= MAX_TAPS && p->ow >= 16;
}

/* wp[block][tap][KB]: the weights of KB channels side by side per tap,
 * channels past k zero. bf16: per tap pair instead (taps (kr, 2j) and
 * (kr, 2j + 1) of a row, the second 0 past s), as 32-bit words of two bf16
 * (bf16(w[2j]) | bf16(w[2j + 1]) << 16), vdpbf16ps' operand. */
static void pack_weights(const float* w, int64_t k, int64_t r, int64_t s, int bf16, float* wp) {
  const int64_t blocks = (k + KB - 1) / KB, ps = (s + 1) / 2, taps = r * s;
  uint32_t* words = (uint32_t*)wp;
  for (int64_t b = 0; b < blocks; b++) {
    for (int64_t t = 0; t < (bf16 ? r * ps : taps); t++) {
      for (int64_t i = 0; i < KB; i++) {
        const int64_t ch = b * KB + i;
        if (!bf16) {
          wp[(b * taps + t) * KB + i] = ch < k ? w[ch * taps + t] : 0.0f;
          continue;
        }
        const int64_t kr = t / ps, ks = 2 * (t % ps);
        const float w0 = ch < k ? w[ch * taps + kr * s + ks] : 0.0f;
        const float w1 = ch < k && ks + 1 < s ? w[ch * taps + kr * s + ks + 1] : 0.0f;
        words[(b * r * ps + t) * KB + i] = conv_bf16_bits(w0) | conv_bf16_bits(w1) << 16;
      }
    }
  }
}

/* relu?(T(v)), rounded to bf16 where bf16: fused_apply's expression. */
static inline float input_value(float v, fused_affine t, int relu, int bf16) {
  v = fused_value(v, t);
  if (relu && v < 0.0f) v = 0.0f;
  return bf16 ? conv_round_bf16(v) : v;
}

__attribute__((target("avx512f"))) static inline __m512 input_values(__m512 v, fused_affine t,
                                                                     int relu, int bf16) {
  if (!t.identity) {
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(t.mean)), _mm512_set1_ps(t.scale),
                        _mm512_set1_ps(t.shift));
  }
  if (relu) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN and -0 as v < 0 ? 0 : v */
  return bf16 ? conv_round_bf16_16(v) : v;
}

/* Row iy of the image (transformed, rounded) split into its padded even and
 * odd columns: even[m] is padded column 2m, odd[m] 2m + 1 (padded column u
 * is input column u - pw); len values each, zeros outside the image (row
 * NULL: a padding row). */
__attribute__((target("avx512f"))) static void split_row(const float* row, int64_t w,
                                                         int64_t pw, fused_affine t, int relu,
                                                         int bf16, int64_t len, float* even,
                                                         float* odd) {
  const __m512i ie = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i io = _mm512_add_epi32(ie, _mm512_set1_epi32(1));
  int64_t m = 0;
  while (m < len) {
    const int64_t ix = 2 * m - pw;
    if (row != NULL && ix >= 0 && ix + 32 <= w && m + 16 <= len) { /* 16 pairs inside */
      const __m512 lo = input_values(_mm512_loadu_ps(row + ix), t, relu, bf16);
      const __m512 hi = input_values(_mm512_loadu_ps(row + ix + 16), t, relu, bf16);
      _mm512_storeu_ps(even + m, _mm512_permutex2var_ps(lo, ie, hi));
      _mm512_storeu_ps(odd + m, _mm512_permutex2var_ps(lo, io, hi));
      m += 16;
      continue;
    }
    even[m] = row != NULL && ix >= 0 && ix < w ? input_value(row[ix], t, relu, bf16) : 0.0f;
    odd[m] = row != NULL && ix + 1 >= 0 && ix + 1 < w ? input_value(row[ix + 1], t, relu, bf16)
                                                       : 0.0f;
    m++;
  }
}

/* bf16: a split row's halves (values rounded to bf16) as the words of tap
 * pairs, in place: even[m] <- padded columns 2m and 2m + 1 (taps 2j and
 * 2j + 1 read it at ox + j), odd[m] <- column 2m and a zero (the last tap
 * of an odd s: its pair's weight is 0, but a 0 times an infinite input
 * would not be). */
static void pair_words(float* even, float* odd, int64_t len) {
  uint32_t* e = (uint32_t*)even;
  uint32_t* o = (uint32_t*)odd;
  for (int64_t m = 0; m < len; m++) { /* (the values are bf16 already: exact) */
    const uint32_t lo = conv_bf16_bits(even[m]);
    e[m] = lo | conv_bf16_bits(odd[m]) << 16;
    o[m] = lo;
  }
}

/* relu?(T(v)) as maxpool_separable.c applies a deferred transform (the
 * pooled stem's epilogue); or, where relu is ReLU6's or SiLU's code, a
 * convolution's epilogue (lits_fused_affine_f32's values, as packed_gemm.c's
 * epilogue16 makes them). */
__attribute__((target("avx512f"))) static inline __m512 pool_input(__m512 v, const stem_out* e,
                                                                   int64_t ch) {
  if (e->coef != NULL) {
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(e->coef[ch])),
                        _mm512_set1_ps(e->coef[e->k + ch]), _mm512_set1_ps(e->coef[2 * e->k + ch]));
  }
  if (e->relu == FUSED_SILU) return lits_silu16(v);
  if (e->relu == FUSED_RELU6) { /* NaN and -0 as v < 0 ? 0 : (v > 6 ? 6 : v) */
    return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), v));
  }
  if (e->relu) {
    v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                           _mm512_setzero_ps());
  }
  return v;
}

/* Adds the first n values of o to a row's running moments m: the shift
 * (the row's first value, where first) at m[0], then 8 lanes of sum(v -
 * shift) and 8 of sum((v - shift)^2), summed across once the row is done
 * (lits_conv_stem_forward). */
__attribute__((target("avx512f"))) static inline void moments16(double* m, __m512 o, int64_t n,
                                                                int first) {
  if (first) {
    m[0] = (double)_mm512_cvtss_f32(o);
    _mm512_storeu_pd(m + 1, _mm512_setzero_pd());
    _mm512_storeu_pd(m + 9, _mm512_setzero_pd());
  }
  const __mmask16 k = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
  const __m512d s = _mm512_set1_pd(m[0]), z = _mm512_setzero_pd();
  const __m512d lo =
      _mm512_mask_sub_pd(z, (__mmask8)k, _mm512_cvtps_pd(_mm512_castps512_ps256(o)), s);
  const __m512d hi = _mm512_mask_sub_pd(
      z, (__mmask8)(k >> 8),
      _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(o), 1))), s);
  _mm512_storeu_pd(m + 1, _mm512_add_pd(_mm512_loadu_pd(m + 1), _mm512_add_pd(lo, hi)));
  _mm512_storeu_pd(m + 9, _mm512_add_pd(_mm512_loadu_pd(m + 9),
                                        _mm512_fmadd_pd(hi, hi, _mm512_mul_pd(lo, lo))));
}

/* Output channels [b KB, b KB + KB) (kk of them real) at pixels [ox0, ox0 +
 * n) of one output row, in nv vectors (NV, or 2 for a last block of 32 or
 * fewer): tap t reads pixel 0's input at tap[t] (a split row), its weights
 * at wp + t KB. y points at channel b KB's pixel ox0, written as e says.
 * pairs: the taps are tap pairs of bf16 words (pack_weights, pair_words),
 * each a vdpbf16ps: 28 for a 7x7 filter, where fp32 takes 49 FMAs. */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void block(
    const int nv, const int pairs, const float* const* tap, int64_t taps, const float* wp,
    int64_t ox0, int64_t n, int64_t kk, const float* bias, const stem_out* e, float* y) {
  __m512 acc[KB][NV];
  for (int i = 0; i < KB; i++) {
    for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
  }
  for (int64_t t = 0; t < taps; t++) {
    const float* src = tap[t] + ox0;
    __m512 b[NV];
    for (int v = 0; v < nv; v++) b[v] = _mm512_loadu_ps(src + 16 * v);
    const float* a = wp + t * KB;
    if (pairs) {
      const uint32_t* aw = (const uint32_t*)a;
      for (int i = 0; i < KB; i++) {
        const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)aw[i]);
        for (int v = 0; v < nv; v++) {
          acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, (__m512bh)_mm512_castps_si512(b[v]));
        }
      }
      continue;
    }
    for (int i = 0; i < KB; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
    }
  }
  for (int64_t i = 0; i < kk; i++) {
    const __m512 bi = _mm512_set1_ps(bias != NULL ? bias[i] : 0.0f);
    float* out = y + i * e->ld;
    for (int v = 0; v < nv; v++) {
      const int64_t left = n - 16 * v;
      if (left <= 0) break;
      __m512 o = bias != NULL ? _mm512_add_ps(acc[i][v], bi) : acc[i][v];
      if (e->coef != NULL || e->relu) o = pool_input(o, e, e->ch0 + i);
      if (e->mom != NULL) {
        moments16(e->mom + 17 * (e->ch0 + i), o, left < 16 ? left : 16, ox0 == 0 && v == 0);
      }
      if (left >= 16 && e->stream && ((uintptr_t)(out + 16 * v) & 63) == 0) {
        _mm512_stream_ps(out + 16 * v, o);
      } else {
        const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        _mm512_mask_storeu_ps(out + 16 * v, m, o);
      }
    }
  }
}

int64_t lits_stem_weights_floats(const conv_shape* p) {
  return (p->k + KB - 1) / KB * p->r * p->s * KB;
}

/* Columns of each half row: every block's loads, up to NB past its first
 * pixel plus s / 2, stay inside. */
static int64_t split_len(const conv_shape* p) {
  return (p->ow + NB - 1) / NB * NB + p->s / 2 + 16;
}

int64_t lits_stem_ring_floats(const conv_shape* p) { return 2 * p->r * split_len(p); }

stem_plan lits_stem_setup(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* weight, int bf16, float* wp) {
  const int active = conv_xform_active(xf);
  stem_plan s = {p, x, wp, fused_affine_of(active ? xf->coef : NULL, 1, 0), active && xf->relu,
                 bf16, split_len(p), bf16 ? p->r * ((p->s + 1) / 2) : p->r * p->s,
                 (p->k + KB - 1) / KB};
  pack_weights(weight, p->k, p->r, p->s, bf16, wp);
  return s;
}

__attribute__((target("avx512f,avx512bf16"))) void lits_stem_row(const stem_plan* s, stem_ring* rg,
                                                      int64_t ni, int64_t oy, const float* bias,
                                                      stem_out e, float* out) {
  const conv_shape* p = s->p;
  const float* tap[MAX_TAPS * MAX_TAPS]; /* where tap (r, s) reads pixel 0 */
  const float* img = s->x + ni * p->h * p->w;
  for (int64_t kr = 0; kr < p->r; kr++) {
    const int64_t iy = oy * 2 - p->ph + kr, slot = ((iy % p->r) + p->r) % p->r;
    const int64_t key = ni * (p->h + 4 * MAX_TAPS) + iy + 2 * MAX_TAPS;
    float* even = rg->ring + 2 * slot * s->len;
    if (rg->held[slot] != key) {
      const float* row = iy >= 0 && iy < p->h ? img + iy * p->w : NULL;
      split_row(row, p->w, p->pw, s->t, s->relu, s->bf16, s->len, even, even + s->len);
      if (s->bf16) pair_words(even, even + s->len, s->len);
      rg->held[slot] = key;
    }
    if (s->bf16) { /* tap pair j: columns 2j, 2j + 1, or 2j alone */
      const int64_t ps = (p->s + 1) / 2;
      for (int64_t j = 0; j < ps; j++) {
        tap[kr * ps + j] = even + (2 * j + 1 < p->s ? 0 : s->len) + j;
      }
      continue;
    }
    for (int64_t ks = 0; ks < p->s; ks++) tap[kr * p->s + ks] = even + (ks & 1) * s->len + ks / 2;
  }
  for (int64_t b = 0; b < s->blocks; b++) {
    const int64_t kk = p->k - b * KB < KB ? p->k - b * KB : KB;
    const float* wb = s->wp + b * s->taps * KB;
    const float* bb = bias != NULL ? bias + b * KB : NULL;
    e.ch0 = b * KB;
    for (int64_t ox0 = 0; ox0 < p->ow; ox0 += NB) {
      const int64_t n = p->ow - ox0 < NB ? p->ow - ox0 : NB;
      float* yb = out + b * KB * e.ld + ox0;
      /* A last block of 32 or fewer pixels as two vectors, not three. */
      if (s->bf16) {
        if (n > 32) block(NV, 1, tap, s->taps, wb, ox0, n, kk, bb, &e, yb);
        else block(2, 1, tap, s->taps, wb, ox0, n, kk, bb, &e, yb);
      } else {
        if (n > 32) block(NV, 0, tap, s->taps, wb, ox0, n, kk, bb, &e, yb);
        else block(2, 0, tap, s->taps, wb, ox0, n, kk, bb, &e, yb);
      }
    }
  }
}

stem_ring lits_stem_ring_at(float* ring) {
  stem_ring rg = {ring, {0}};
  for (int i = 0; i < MAX_TAPS; i++) rg.held[i] = -1;
  return rg;
}

/* y's moments (lits_conv2d_forward_moments_f32's [mean, M2] per channel)
 * from the rows' (shift, sum, sum of squares) at rm[3 (q k + ch)], rows
 * merged in order as conv_moments.c merges tiles. */
static void merge_rows(const double* rm, int64_t rows, int64_t k, int64_t ow, double* out) {
  const double nb = (double)ow;
  for (int64_t ch = 0; ch < k; ch++) {
    double na = 0.0, mean = 0.0, m2 = 0.0;
    for (int64_t q = 0; q < rows; q++) {
      const double* r = rm + 3 * (q * k + ch);
      const double n = na + nb, mb = r[0] + r[1] / nb, delta = mb - mean;
      mean += delta * (nb / n);
      m2 += r[2] - r[1] * r[1] / nb + delta * delta * (na * nb / n);
      na = n;
    }
    out[2 * ch] = mean;
    out[2 * ch + 1] = m2;
  }
}

int lits_conv_stem_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* weight, const float* bias, float* y, int bf16,
                           double* moments, const float* y_coef, int act) {
  const int64_t rows_n = p->n * p->oh;
  const int nt = omp_get_max_threads();
  const int threads = rows_n < nt ? (int)rows_n : nt;
  const int64_t wf = lits_stem_weights_floats(p), per = lits_stem_ring_floats(p);
  /* Each output row's moments apart (rows_n x k x 3 doubles, after each
   * thread's running lanes): the same for any thread count. */
  const int64_t mf = moments != NULL ? 6 * rows_n * p->k : 0;
  const int64_t lanes = moments != NULL ? 34 * p->k : 0; /* 17 doubles a channel */
  float* scratch =
      lits_scratch_alloc((mf + wf + (per + lanes) * threads) * (int64_t)sizeof(float));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  double* rm = moments != NULL ? (double*)scratch : NULL;
  const stem_plan s = lits_stem_setup(p, x, xf, weight, bf16, scratch + mf);
  const stem_out e = {p->ohw, stream_output(p->n * p->k * p->ohw), y_coef, act, 0, p->k, NULL};
#pragma omp parallel num_threads(threads)
  {
    float* mine = scratch + mf + wf + (per + lanes) * omp_get_thread_num();
    stem_ring rg = lits_stem_ring_at(mine);
    stem_out eq = e;
    eq.mom = rm != NULL ? (double*)(mine + per) : NULL;
#pragma omp for schedule(static)
    for (int64_t q = 0; q < rows_n; q++) {
      const int64_t ni = q / p->oh, oy = q % p->oh;
      lits_stem_row(&s, &rg, ni, oy, bias, eq, y + ni * p->k * p->ohw + oy * p->ow);
      for (int64_t ch = 0; rm != NULL && ch < p->k; ch++) { /* the row's lanes summed */
        const double* m = eq.mom + 17 * ch;
        double* r = rm + 3 * (q * p->k + ch);
        r[0] = m[0], r[1] = 0.0, r[2] = 0.0;
        for (int l = 0; l < 8; l++) r[1] += m[1 + l], r[2] += m[9 + l];
      }
    }
    if (e.stream) stream_fence();
  }
  if (rm != NULL) merge_rows(rm, rows_n, p->k, p->ow, moments);
  lits_scratch_free(scratch);
  return LITS_OK;
}
