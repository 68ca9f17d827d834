/* conv_depthwise_chw.c: the forward of depthwise convolutions (one input
 * and one output channel a group, stride 1 or 2, no dilation, kernels up
 * to 7 x 7) straight on NCHW planes, with the epilogue (bias, batch norm,
 * residual, activation) applied in registers as each vector is stored.
 * MobileNetV2's and EfficientNet's layers.
 *
 * Why not conv_depthwise.c's channels-last kernel: it copies each block of
 * 16 planes into a zero-padded channels-last buffer, sums there, copies the
 * result back and then applies the epilogue in a pass of its own: four
 * passes over memory for a layer whose arithmetic is nine (or 25)
 * multiply-adds an output. Here a plane is read once and written once: a
 * vector holds 16 outputs of one row (or, for planes narrower than 16
 * columns, several whole rows: an 8 x 8 plane is four vectors of two rows),
 * every tap is a masked load of the input (the masked-off lanes, outside
 * the plane, are the zero padding) and an FMA; a wide row's vectors go U
 * at a time along it (each input row read left to right: the hardware
 * prefetcher follows), others U at a time down a column chunk, where
 * square kernels load each input row's shifted vectors once for all U
 * (sums_shared), and a large output is streamed past the caches.
 *
 * MobileNetV2's and EfficientNet-B0's layers at batch 16 (1 x 256 x 256
 * inputs), batch norm and ReLU6 or SiLU applied, 2 threads, AMD EPYC Zen 4
 * (2 vCPUs, AVX-512), min of 25 alternating with the channels-last kernel
 * in one process (ms, this kernel against it): 3x3 32 at 128^2 3.16 vs
 * 3.85, stride 2 96 at 128^2 4.28 vs 5.31, 144 at 64^2 3.32 vs 4.56, 192 at
 * 32^2 0.81 vs 1.25, 384 at 16^2 0.42 vs 0.59, 576 at 16^2 0.65 vs 0.94,
 * stride 2 576 at 16^2 0.41 vs 0.46, 960 at 8^2 0.35 vs 0.48 (ReLU6).
 * Whole eval forwards against the library before this kernel, alternating
 * fresh processes, 3 rounds of 10 (medians): MobileNetV2 90-92 ms against
 * 104-112, EfficientNet-B0 181-183 against 188-193 (ONNX Runtime 1.30:
 * 80-90 and 140). With SiLU the gain was smaller while the epilogue called
 * libmvec's expf (a call per 16 lanes, spilling the accumulators); exp16.h's
 * inline exp replaced it (EfficientNet-B0 eval, batch 16 at 256^2, AMD EPYC
 * Zen 4 with AVX-512, alternating fresh processes, 1 thread, CPU time per
 * forward: 320-376 ms against 271-281; 2 threads, an idle moment: 180
 * against 145 ms).
 *
 * Where the caller wants each plane's sum (conv_epilogue's plane_sums: the
 * global pool of EfficientNet's squeeze-and-excitation, squeeze_excite.c),
 * the stored vectors are added up lane by lane in a register as they are
 * stored (a masked add a vector: the lanes outside the plane left out),
 * and the 16 lanes added at the end of the plane, instead of a pass that
 * reads the plane back; those forms (plane_s_*) are their own functions,
 * so the others are as before.
 *
 * The sums are the channels-last kernel's to the bit: every tap of the
 * r x s window, in the same order (row by row, left to right, from zero,
 * one FMA each, padding included as zeros), then the bias added, then the
 * epilogue as packed_gemm.c's epilogue16 (the expression gcc compiles
 * fused_affine_span to). Under bf16 autocast (round) each thread first
 * rounds the plane and its taps into a buffer of its own, which stays in
 * cache for the sums: the channels-last kernel's bits with round, and
 * faster than oneDNN's bf16 kernel and the channels-last one on
 * EfficientNet-B0's layers (batch 16 at 256^2, Zen 4: 96 channels at 128^2,
 * stride 2, 7.9 ms against oneDNN's 12.3; 144 at 64^2 5.6 against 7.4
 * channels-last). Chosen at run time: AVX-512 CPUs;
 * LITS_DW_CHW=0 (read on every call) keeps the channels-last kernel, for
 * tests and A/B benchmarks. */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "silu16.h"
#include "fused_internal.h"
#include "stream_store.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define V 16     /* floats a vector */
#define MAX_K 7  /* the largest r and s taken */
#define U 4      /* output vectors summed at a time (independent FMA chains) */
#define RK ((U - 1) * 2 + MAX_K) /* input rows a group of U vectors reads (sums_shared) */

/* Lanes lo .. hi - 1 (clipped to 0 .. 15). */
static inline __mmask16 lanes(int64_t lo, int64_t hi) {
  if (lo < 0) lo = 0;
  if (hi > V) hi = V;
  if (hi <= lo) return 0;
  return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

/* The layer and one plane's epilogue. */
typedef struct {
  int64_t h, w, oh, ow, r, s, sh, ph, pw;
  /* output rows a vector: 1 (16 columns of a row), 16 / ow for narrow
   * stride-1 planes (whole rows, contiguous), or 2 for stride-2 planes of
   * 8 columns or fewer (two rows side by side: pair) */
  int rows, pair;
  const __mmask16* rk; /* per group of U vectors, RK masks: row_lanes of its input rows */
  int shared; /* sums_shared: a square kernel, vectors 1 or 2 input rows apart */
  int across; /* U vectors along a row (wide rows), not down a column chunk */
  int stream; /* a large output: full aligned vectors written past the caches */
  int64_t g0, g1; /* the vectors down a chunk whose taps all lie inside the plane */
  int32_t idx[V]; /* stride 2: the lanes' floats of the two loads (permutex2var) */
  float bias;
  int has_bias;
  /* epilogue: y_coef's transform (identity where !ya), r's (identity where !ra) */
  int ep, ya, ra, act;
  float ym, ys, yb, rmn, rsc, rsh;
} dw_plane;

/* T(v) = (v - mean) scale + shift, contracted as fused_affine_span's loop. */
AVX512_INLINE __m512 affine(__m512 v, float m, float a, float b) {
  return _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(m)), _mm512_set1_ps(a),
                         _mm512_set1_ps(b));
}

/* act(T_y(v + bias) + T_r(res)): the channels-last kernel's bias add, then
 * lits_fused_affine_f32's values (packed_gemm.c's epilogue16). */
AVX512_INLINE __m512 finish(__m512 v, const dw_plane* q, const float* res, __mmask16 m) {
  if (q->has_bias) v = _mm512_add_ps(v, _mm512_set1_ps(q->bias));
  if (!q->ep) return v;
  if (q->ya) v = affine(v, q->ym, q->ys, q->yb);
  if (res != NULL) {
    __m512 rv = _mm512_maskz_loadu_ps(m, res);
    if (q->ra) rv = affine(rv, q->rmn, q->rsc, q->rsh);
    v = _mm512_add_ps(v, rv);
  }
  if (q->act == FUSED_SILU) return lits_silu16(v);
  if (q->act) v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN and -0 as v < 0 ? 0 : v */
  return q->act == FUSED_RELU6 ? _mm512_min_ps(_mm512_set1_ps(6.0f), v) : v;
}

/* The sums of N output vectors whose taps (kr, t) read in + u step + kr w
 * + t (stride 1); stride 2: 16 floats from there and 16 from hoff further
 * (the next 16, or a pair's second row), lanes picked by idx. Lanes are
 * valid where cm[t] (the second load: ch[t]) and, where rm is not NULL,
 * rm[u][kr] (rh[u][kr]). */
AVX512_INLINE void sums(const int S, const int N, const int S2, const float* in, int64_t step,
                        int64_t w, int64_t r, int64_t hoff, __m512i idx,
                        const __mmask16 (*rm)[MAX_K], const __mmask16 (*rh)[MAX_K], int rms,
                        const __mmask16* cm, const __mmask16* ch, int64_t cms, const float* wt,
                        __m512* acc) {
#pragma GCC unroll 4
  for (int u = 0; u < N; u++) acc[u] = _mm512_setzero_ps();
  for (int64_t kr = 0; kr < r; kr++) {
    const float* row = in + kr * w;
#pragma GCC unroll 7
    for (int t = 0; t < S; t++) {
      const __m512 wv = _mm512_set1_ps(wt[kr * S + t]);
#pragma GCC unroll 4
      for (int u = 0; u < N; u++) {
        const float* at = row + u * step + t;
        const __mmask16 m = rm != NULL ? rm[u * rms][kr] & cm[u * cms + t] : cm[u * cms + t];
        __m512 x = _mm512_maskz_loadu_ps(m, at);
        if (S2) {
          const __mmask16 mh = rm != NULL ? rh[u * rms][kr] & ch[u * cms + t] : ch[u * cms + t];
          x = _mm512_permutex2var_ps(x, idx, _mm512_maskz_loadu_ps(mh, at + hoff));
        }
        acc[u] = _mm512_fmadd_ps(wv, x, acc[u]);
      }
    }
  }
}

/* sums() for N vectors D input rows apart (D = rows a vector times the
 * stride: 1 or 2) of a square kernel (r = S): input row ir of the group
 * serves tap row ir - u D of vector u, so each row's S (shifted) vectors
 * are loaded once for all the vectors that read them, not once a vector:
 * (N - 1) D + S rows of loads against N S. Each accumulator still takes
 * its taps row by row, left to right: the same sums. rk[ir]: the lanes of
 * input row ir inside the plane (NULL: all). */
AVX512_INLINE void sums_shared(const int S, const int N, const int S2, const int D,
                               const float* in, int64_t w, int64_t hoff, __m512i idx,
                               const __mmask16* rk, const __mmask16* cm, const __mmask16* ch,
                               const float* wt, __m512* acc) {
#pragma GCC unroll 4
  for (int u = 0; u < N; u++) acc[u] = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int ir = 0; ir < (N - 1) * D + S; ir++) {
    const float* row = in + ir * w;
    const __mmask16 rv = rk != NULL ? rk[ir] : (__mmask16)0xFFFF;
#pragma GCC unroll 7
    for (int t = 0; t < S; t++) {
      __m512 x = _mm512_maskz_loadu_ps(rv & cm[t], row + t);
      if (S2) x = _mm512_permutex2var_ps(x, idx, _mm512_maskz_loadu_ps(rv & ch[t], row + t + hoff));
#pragma GCC unroll 4
      for (int u = 0; u < N; u++) {
        const int kr = ir - u * D;
        if (kr >= 0 && kr < S) acc[u] = _mm512_fmadd_ps(_mm512_set1_ps(wt[kr * S + t]), x, acc[u]);
      }
    }
  }
}

/* Stores N vectors of outputs at out + u ostep (lanes om) after finish();
 * with SUM, adds their lanes om to *tot (the plane's running sums). */
AVX512_INLINE void store(const int N, const int SUM, const dw_plane* q, const __m512* acc,
                         float* out, const float* res, int64_t ostep, __mmask16 om, __m512* tot) {
#pragma GCC unroll 4
  for (int u = 0; u < N; u++) {
    const __m512 v = finish(acc[u], q, res != NULL ? res + u * ostep : NULL, om);
    if (SUM) *tot = _mm512_mask_add_ps(*tot, om, *tot, v);
    if (q->stream && om == (__mmask16)0xFFFF && ((uintptr_t)(out + u * ostep) & 63) == 0) {
      _mm512_stream_ps(out + u * ostep, v);
    } else {
      _mm512_mask_storeu_ps(out + u * ostep, om, v);
    }
  }
}

/* Column masks of the vectors that start at output column x0: of a row
 * (and a pair's rows alike), or of a narrow plane's vectors of q->rows
 * rows. */
static void col_masks(const dw_plane* q, int64_t x0, __mmask16* cm, __mmask16* ch) {
  for (int64_t t = 0; t < q->s; t++) {
    if (q->rows > 1 && !q->pair) {
      __mmask16 m = 0;
      for (int64_t l = 0; l < q->rows * q->ow; l++) {
        const int64_t ix = l % q->ow + t - q->pw;
        if (ix >= 0 && ix < q->w) m |= (__mmask16)(1u << l);
      }
      cm[t] = ch[t] = m;
    } else {
      const int64_t ix = x0 * q->sh - q->pw + t;
      cm[t] = lanes(-ix, q->w - ix);
      ch[t] = q->pair ? cm[t] : lanes(-(ix + V), q->w - (ix + V));
    }
  }
}

/* Row masks of a vector whose first output row is oy (nr rows): the lanes
 * whose input row of tap row kr lies inside the plane, for the first load
 * (rm) and a stride-2 layer's second (rh: a pair's second row). */
static void row_masks(const dw_plane* q, int64_t oy, int64_t nr, __mmask16* rm, __mmask16* rh) {
  for (int64_t kr = 0; kr < q->r; kr++) {
    const int64_t iy = oy * q->sh - q->ph + kr;
    const int in0 = iy >= 0 && iy < q->h;
    if (q->pair) {
      const int64_t iy1 = iy + q->sh;
      rm[kr] = in0 ? (__mmask16)0xFFFF : 0;
      rh[kr] = nr > 1 && iy1 >= 0 && iy1 < q->h ? (__mmask16)0xFFFF : 0;
    } else if (q->rows > 1) {
      __mmask16 m = 0;
      for (int64_t ry = 0; ry < nr; ry++) {
        if (iy + ry >= 0 && iy + ry < q->h) m |= lanes(ry * q->ow, (ry + 1) * q->ow);
      }
      rm[kr] = rh[kr] = m;
    } else {
      rm[kr] = rh[kr] = in0 ? (__mmask16)0xFFFF : 0;
    }
  }
}

/* The lanes of a vector (of q->rows rows, stride 1: whole rows) whose
 * first row reads input row iy that lie inside the plane. */
static inline __mmask16 row_lanes(const dw_plane* q, int64_t iy) {
  if (q->rows == 1) return iy >= 0 && iy < q->h ? (__mmask16)0xFFFF : 0;
  __mmask16 m = 0;
  for (int64_t ry = 0; ry < q->rows; ry++) {
    if (iy + ry >= 0 && iy + ry < q->h) m |= lanes(ry * q->ow, (ry + 1) * q->ow);
  }
  return m;
}

/* One plane: vectors of 16 columns of a row, or of q->rows rows (a narrow
 * plane's, or a pair), U vectors down a column chunk at a time. The column
 * masks depend on the layer only: computed once (masks, per chunk j: cm
 * at j * 2 MAX_K, ch after); the row masks only where a group of vectors
 * has a tap outside the plane. */
AVX512_INLINE void plane(const int S, const int S2, const int SUM, const dw_plane* q,
                         const __mmask16* masks, const __mmask16 (*rows_rm)[MAX_K],
                         const __mmask16 (*rows_rh)[MAX_K], const float* in, const float* wt,
                         const float* res, float* out, float* sum) {
  const int64_t rows = q->rows;
  const int64_t chunks = rows > 1 ? 1 : (q->ow + V - 1) / V;
  const int64_t groups = (q->oh + rows - 1) / rows; /* output vectors down a chunk */
  const int64_t g0 = q->g0, g1 = q->g1; /* groups g0 .. g1 - 1 read only rows inside */
  const int64_t gstep = rows * q->sh * q->w, ostep = rows * q->ow;
  const int64_t hoff = q->pair ? q->sh * q->w : V;
  const __m512i idx = _mm512_loadu_si512(q->idx);
  /* Input rows the next group reads that this one does not: prefetched
   * a chunk at a time (rows of a plane are too short for the hardware
   * prefetcher to follow a window of several). */
  const int64_t ahead = U * gstep / q->w, pf_lines = S2 ? 3 : 2;
  __m512 acc[U];
  __m512 tot = _mm512_setzero_ps(); /* SUM: the plane's stored values, lane by lane */
  if (q->across) { /* U chunks of a row at a time: each input row read left to right */
    for (int64_t oy = 0; oy < q->oh; oy++) {
      const int inside = oy >= g0 && oy < g1;
      const __mmask16(*m)[MAX_K] = inside ? NULL : rows_rm + oy;
      const __mmask16(*mh)[MAX_K] = inside ? NULL : rows_rh + oy;
      const float* src = in + (oy * q->sh - q->ph) * q->w - q->pw;
      for (int64_t j = 0; j < chunks; j += U) {
        const __mmask16 *cm = masks + j * 2 * MAX_K, *ch = cm + MAX_K;
        const int64_t x0 = j * V;
        const int n = chunks - j < U ? (int)(chunks - j) : U;
        const float* rs = res != NULL ? res + oy * q->ow + x0 : NULL;
        float* dst = out + oy * q->ow + x0;
        if (n == U) {
          sums(S, U, S2, src + x0 * q->sh, V * q->sh, q->w, q->r, hoff, idx, m, mh, 0, cm, ch,
               2 * MAX_K, wt, acc);
          store(U - 1, SUM, q, acc, dst, rs, V, (__mmask16)0xFFFF, &tot);
        } else {
          for (int u = 0; u < n - 1; u++) {
            sums(S, 1, S2, src + (x0 + u * V) * q->sh, 0, q->w, q->r, hoff, idx, m, mh, 0,
                 cm + u * 2 * MAX_K, ch + u * 2 * MAX_K, 0, wt, acc + u);
            store(1, SUM, q, acc + u, dst + u * V, rs != NULL ? rs + u * V : NULL, 0,
                  (__mmask16)0xFFFF, &tot);
          }
          sums(S, 1, S2, src + (x0 + (n - 1) * V) * q->sh, 0, q->w, q->r, hoff, idx, m, mh, 0,
               cm + (n - 1) * 2 * MAX_K, ch + (n - 1) * 2 * MAX_K, 0, wt, acc + n - 1);
        }
        const int64_t xl = x0 + (n - 1) * V;
        store(1, SUM, q, acc + n - 1, dst + (n - 1) * V, rs != NULL ? rs + (n - 1) * V : NULL, 0,
              lanes(0, q->ow - xl), &tot);
      }
    }
    if (SUM) *sum = _mm512_reduce_add_ps(tot);
    return;
  }
  for (int64_t g = 0; g < groups; g += U) {
    const int64_t oy = g * rows;
    const int n = groups - g < U ? (int)(groups - g) : U;
    const int inside = g >= g0 && g + n <= g1; /* every tap row inside the plane */
    const __mmask16(*m)[MAX_K] = inside ? NULL : rows_rm + g;
    const __mmask16(*mh)[MAX_K] = inside ? NULL : rows_rh + g;
    const int64_t iy0 = oy * q->sh - q->ph; /* the group's first input row */
    for (int64_t j = 0; j < chunks; j++) {
      const __mmask16 *cm = masks + j * 2 * MAX_K, *ch = cm + MAX_K;
      const int64_t x0 = j * V, ix0 = x0 * q->sh - q->pw;
      const float* src = in + iy0 * q->w + ix0;
      for (int64_t a = 0; g + U < groups && a < ahead; a++) {
        const int64_t iy = iy0 + (U * rows - 1) * q->sh + q->r + a;
        if (iy < 0 || iy >= q->h) continue;
        const float* line = in + iy * q->w + (ix0 < 0 ? 0 : ix0);
        for (int64_t l = 0; l < pf_lines; l++) {
          _mm_prefetch((const char*)(line + l * V), _MM_HINT_T0);
        }
      }
      float* dst = out + oy * q->ow + x0;
      const float* rs = res != NULL ? res + oy * q->ow + x0 : NULL;
      const __mmask16 om = rows > 1 ? lanes(0, rows * q->ow) : lanes(0, q->ow - x0);
      if (q->shared) {
        const __mmask16* rks = inside ? NULL : q->rk + g / U * RK;
#define SHARED(D)                                                                              \
  switch (n) {                                                                                 \
    case U: sums_shared(S, U, S2, D, src, q->w, hoff, idx, rks, cm, ch, wt, acc); break;     \
    case 3: sums_shared(S, 3, S2, D, src, q->w, hoff, idx, rks, cm, ch, wt, acc); break;     \
    case 2: sums_shared(S, 2, S2, D, src, q->w, hoff, idx, rks, cm, ch, wt, acc); break;     \
    default: sums_shared(S, 1, S2, D, src, q->w, hoff, idx, rks, cm, ch, wt, acc); break;    \
  }
        if (gstep == q->w) {
          SHARED(1)
        } else {
          SHARED(2)
        }
#undef SHARED
        store(n - 1, SUM, q, acc, dst, rs, ostep, om, &tot);
      } else switch (n) {
        case U:
          sums(S, U, S2, src, gstep, q->w, q->r, hoff, idx, m, mh, 1, cm, ch, 0, wt, acc);
          store(U - 1, SUM, q, acc, dst, rs, ostep, om, &tot);
          break;
        case 3:
          sums(S, 3, S2, src, gstep, q->w, q->r, hoff, idx, m, mh, 1, cm, ch, 0, wt, acc);
          store(2, SUM, q, acc, dst, rs, ostep, om, &tot);
          break;
        case 2:
          sums(S, 2, S2, src, gstep, q->w, q->r, hoff, idx, m, mh, 1, cm, ch, 0, wt, acc);
          store(1, SUM, q, acc, dst, rs, ostep, om, &tot);
          break;
        default:
          sums(S, 1, S2, src, gstep, q->w, q->r, hoff, idx, m, mh, 1, cm, ch, 0, wt, acc);
          break;
      }
      /* the last vector of the group: a narrow plane's may hold fewer rows */
      const int64_t oyl = oy + (n - 1) * rows, nl = q->oh - oyl < rows ? q->oh - oyl : rows;
      const __mmask16 ol = rows > 1 ? lanes(0, nl * q->ow) : om;
      store(1, SUM, q, acc + n - 1, dst + (n - 1) * ostep,
            rs != NULL ? rs + (n - 1) * ostep : NULL, 0, ol, &tot);
    }
  }
  if (SUM) *sum = _mm512_reduce_add_ps(tot);
}

typedef const __mmask16 (*row_table)[MAX_K];
typedef void (*plane_fn)(const dw_plane*, const __mmask16*, row_table, row_table, const float*,
                         const float*, const float*, float*, float*);
/* plane's forms: [stride 2][with the plane's sum][S] */
#define PLANE_FN(NAME, S, S2, SUM)                                                           \
  AVX512 static void NAME(const dw_plane* q, const __mmask16* masks, row_table rm,          \
                          row_table rh, const float* in, const float* wt, const float* res, \
                          float* out, float* sum) {                                         \
    plane(S, S2, SUM, q, masks, rm, rh, in, wt, res, out, sum);                             \
  }
#define PLANE(S)                  \
  PLANE_FN(plane_##S, S, 0, 0)    \
  PLANE_FN(plane2_##S, S, 1, 0)   \
  PLANE_FN(plane_s_##S, S, 0, 1)  \
  PLANE_FN(plane2_s_##S, S, 1, 1)
PLANE(1) PLANE(2) PLANE(3) PLANE(4) PLANE(5) PLANE(6) PLANE(7)
static const plane_fn PLANE_OF[2][2][MAX_K + 1] = {
    {{NULL, plane_1, plane_2, plane_3, plane_4, plane_5, plane_6, plane_7},
     {NULL, plane_s_1, plane_s_2, plane_s_3, plane_s_4, plane_s_5, plane_s_6, plane_s_7}},
    {{NULL, plane2_1, plane2_2, plane2_3, plane2_4, plane2_5, plane2_6, plane2_7},
     {NULL, plane2_s_1, plane2_s_2, plane2_s_3, plane2_s_4, plane2_s_5, plane2_s_6,
      plane2_s_7}}};

/* Output rows a vector for a layer (see dw_plane), and whether as a pair. */
static int rows_of(const conv_shape* p, int* pair) {
  *pair = p->sh == 2 && p->ow <= V / 2;
  if (*pair) return 2;
  return p->sh == 1 && p->ow <= V / 2 && p->ow == p->w ? (int)(V / p->ow) : 1;
}

int lits_conv_depthwise_chw_applies(const conv_shape* p, const conv_xform* xf) {
  const char* env = getenv("LITS_DW_CHW");
  if (env != NULL && strcmp(env, "0") == 0) return 0;
  /* (lits_conv_depthwise_applies: AVX-512, LITS_CONV_ALGO unset, one input channel a group) */
  if (!lits_conv_depthwise_applies(p, 0) || conv_xform_active(xf)) return 0;
  if (!(p->kg == 1 && p->dh == 1 && p->dw == 1 && p->sh == p->sw && (p->sh == 1 || p->sh == 2) &&
        p->r <= MAX_K && p->s <= MAX_K && p->ph < p->r && p->pw < p->s)) {
    return 0;
  }
  /* Lanes that hold outputs: under 70% (a row of 9 to 11 columns, or of 33),
   * the channels-last kernel, which fills its vectors with channels. So do
   * pairs of rows of kernels wider than 3 (two loads and a permute a tap:
   * EfficientNet's 5x5 stride 2, 672 at 16 x 16, 0.98 ms against 0.91). */
  int pair;
  const int64_t rows = rows_of(p, &pair);
  if (pair && p->s > 3) return 0;
  const int64_t used = rows > 1 ? rows * p->ow : p->ow;
  const int64_t held = rows > 1 ? V : (p->ow + V - 1) / V * V;
  return used * 10 >= held * 7;
}

/* A layer's base plane (everything but the channel's own numbers), its
 * masks and its plane function: what every plane of the layer shares. */
struct lits_dw_layer {
  dw_plane base;
  __mmask16* masks; /* column masks per chunk, then rm and rh per group */
  __mmask16* rk;
  row_table rm, rh;
  plane_fn fn;
};

/* Fills L for geometry p (fuse: an epilogue of activation act; sums: the
 * plane sums' form; stream: streaming stores of full vectors). */
static int layer_init(struct lits_dw_layer* L, const conv_shape* p, int fuse, int act, int sums,
                      int stream) {
  dw_plane base;
  memset(&base, 0, sizeof base);
  base.h = p->h, base.w = p->w, base.oh = p->oh, base.ow = p->ow, base.r = p->r, base.s = p->s;
  base.sh = p->sh, base.ph = p->ph, base.pw = p->pw;
  base.rows = rows_of(p, &base.pair);
  base.shared = !base.pair && p->r == p->s && base.rows * p->sh <= 2;
  base.across = base.rows == 1 && (p->ow + V - 1) / V >= U;
  base.stream = stream;
  for (int l = 0; l < V; l++) { /* lane l: float 2l of the two loads, or of a pair's rows */
    base.idx[l] = base.pair ? (l < p->ow ? 2 * l : l < 2 * p->ow ? 16 + 2 * (l - p->ow) : 0)
                            : 2 * l;
  }
  base.ep = fuse;
  base.act = fuse ? act : 0;
  const int64_t rows = base.rows, groups = (p->oh + rows - 1) / rows;
  base.g0 = 0, base.g1 = groups;
  while (base.g0 < groups && base.g0 * rows * p->sh - p->ph < 0) base.g0++;
  while (base.g1 > base.g0 &&
         ((base.g1 - 1) * rows + rows - 1) * p->sh - p->ph + p->r - 1 >= p->h) {
    base.g1--;
  }
  /* The masks depend on the layer only: column masks per chunk, row masks per group. */
  const int64_t chunks = rows > 1 ? 1 : (p->ow + V - 1) / V;
  __mmask16* masks = (__mmask16*)malloc((size_t)(chunks + 2 * groups) * 2 * MAX_K *
                                        sizeof(__mmask16));
  if (masks == NULL) return LITS_ERR_MEMORY;
  for (int64_t j = 0; j < chunks; j++) {
    col_masks(&base, j * V, masks + j * 2 * MAX_K, masks + j * 2 * MAX_K + MAX_K);
  }
  __mmask16(*rm)[MAX_K] = (__mmask16(*)[MAX_K])(masks + chunks * 2 * MAX_K);
  __mmask16(*rh)[MAX_K] = rm + groups;
  for (int64_t g = 0; g < groups; g++) {
    const int64_t oy = g * rows, nr = p->oh - oy < rows ? p->oh - oy : rows;
    row_masks(&base, oy, nr, rm[g], rh[g]);
  }
  const int64_t ngroups = (groups + U - 1) / U;
  __mmask16* rk = (__mmask16*)malloc((size_t)(ngroups * RK) * sizeof(__mmask16));
  if (rk == NULL) {
    free(masks);
    return LITS_ERR_MEMORY;
  }
  for (int64_t gi = 0; gi < ngroups; gi++) {
    for (int64_t ir = 0; ir < RK; ir++) {
      rk[gi * RK + ir] = row_lanes(&base, gi * U * rows * p->sh - p->ph + ir);
    }
  }
  base.rk = rk;
  L->base = base;
  L->masks = masks;
  L->rk = rk;
  L->rm = (row_table)rm;
  L->rh = (row_table)rh;
  L->fn = PLANE_OF[p->sh == 2][sums != 0][p->s];
  return LITS_OK;
}

static void layer_release(struct lits_dw_layer* L) {
  free(L->masks);
  free(L->rk);
}

lits_dw_layer* lits_dw_chw_layer(const conv_shape* p, int act) {
  lits_dw_layer* L = (lits_dw_layer*)malloc(sizeof *L);
  if (L == NULL) return NULL;
  if (layer_init(L, p, 1, act, 0, 0) != LITS_OK) {
    free(L);
    return NULL;
  }
  return L;
}

void lits_dw_chw_plane(const lits_dw_layer* L, const float* in, const float* wt,
                       const float* y_coef, int64_t k, int64_t c, float* out) {
  dw_plane q = L->base;
  if (y_coef != NULL) q.ya = 1, q.ym = y_coef[c], q.ys = y_coef[k + c], q.yb = y_coef[2 * k + c];
  L->fn(&q, L->masks, L->rm, L->rh, in, wt, NULL, out, NULL);
}

void lits_dw_chw_layer_free(lits_dw_layer* L) {
  if (L == NULL) return;
  layer_release(L);
  free(L);
}

int lits_conv_depthwise_chw_forward(const conv_shape* p, const float* x, const float* weight,
                                    const float* bias, int round, float* y, conv_epilogue* ep) {
  const int64_t planes = p->n * p->k, hw = p->h * p->w, ohw = p->oh * p->ow, rs = p->r * p->s;
  const int fuse = ep != NULL && (ep->y_coef != NULL || ep->r != NULL || ep->relu);
  float* sums = ep != NULL ? ep->plane_sums : NULL;
  struct lits_dw_layer L;
  const int st = layer_init(&L, p, fuse, fuse ? ep->relu : 0, sums != NULL,
                            stream_output(planes * ohw));
  if (st != LITS_OK) return st;
  const dw_plane base = L.base;
  const plane_fn fn = L.fn;
  const int threads = (int)(planes < omp_get_max_threads() ? planes : omp_get_max_threads());
  /* Under bf16 autocast each thread rounds a plane and its taps into its
   * own buffer (in L2: 64 KiB for 128 x 128) just before the plane's sums,
   * instead of a rounded copy of x in memory or a rounding per tap load. */
  const int64_t per = round16(hw) + round16(rs);
  float* scratch = round ? thread_scratch(per, threads, 0) : NULL;
  if (round && scratch == NULL) {
    layer_release(&L);
    return LITS_ERR_MEMORY;
  }
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    const int64_t lo = planes * tid / nth, hi = planes * (tid + 1) / nth;
    int64_t i = lo / p->k, c = lo % p->k;
    float* xr = round ? scratch + per * tid : NULL;
    float* wr = round ? xr + round16(hw) : NULL;
    dw_plane q = base;
    q.has_bias = bias != NULL;
    for (int64_t pl = lo; pl < hi; pl++) {
      q.bias = bias != NULL ? bias[c] : 0.0f;
      if (fuse && ep->y_coef != NULL) {
        q.ya = 1, q.ym = ep->y_coef[c], q.ys = ep->y_coef[p->k + c];
        q.yb = ep->y_coef[2 * p->k + c];
      }
      if (fuse && ep->r != NULL && ep->r_coef != NULL) {
        q.ra = 1, q.rmn = ep->r_coef[c], q.rsc = ep->r_coef[p->k + c];
        q.rsh = ep->r_coef[2 * p->k + c];
      }
      const float* res = fuse && ep->r != NULL ? ep->r + pl * ohw : NULL;
      /* weights [k, 1, r, s]: plane_S reads S taps a row */
      const float* in = x + (i * p->c + c) * hw;
      const float* wt = weight + c * rs;
      if (round) {
        const fused_affine none = fused_affine_of(NULL, 0, 0);
        conv_input_row(xr, in, hw, none, 0, 0, 1);
        conv_input_row(wr, wt, rs, none, 0, 0, 1);
        in = xr, wt = wr;
      }
      fn(&q, L.masks, L.rm, L.rh, in, wt, res, y + pl * ohw, sums != NULL ? sums + pl : NULL);
      if (++c == p->k) c = 0, i++;
    }
  }
  lits_scratch_free(scratch);
  layer_release(&L);
  if (base.stream) _mm_sfence(); /* the streamed stores before what reads y */
  if (fuse) ep->applied = 1;
  if (sums != NULL) ep->sums_done = 1;
  return LITS_OK;
}
