/* conv_internal.h: the convolution geometry shared by conv.c (entry points,
 * checks, choice of algorithm) and the algorithms (conv_gemm.c,
 * conv_direct.c). */
#ifndef LITS_CPU_CONV_INTERNAL_H
#define LITS_CPU_CONV_INTERNAL_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "fused_internal.h"
#include "lits.h"

/* x [n, c, h, w], weight [k, c / groups, r, s], y [n, k, oh, ow]. */
typedef struct {
  int64_t n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups;
  int64_t oh, ow, ohw, cg, kg, crs_g; /* crs_g = (c / groups) * r * s */
  int pointwise;                       /* 1x1, stride 1, no padding: col = x */
} conv_shape;

/* What the forward pass applies after adding the bias. */
enum conv_act { CONV_ACT_NONE = 0, CONV_ACT_RELU = 1 };

/* The input the convolution sees is relu?(T(x)) with T the per-channel
 * transform of a coef array (fused_internal.h), read on the fly: a batch norm
 * and ReLU before the convolution need no tensor of their own. */
typedef struct {
  const float* coef; /* 3 * c floats, or NULL */
  int relu;
  /* Each value of relu?(T(x)) rounded to bf16 (RNE), as autocast's
   * operands are; only Winograd's transforms read it (conv_bf16.c's
   * Winograd over bf16 operands), which check conv_xform_rounds. */
  int bf16;
  /* [n, c] or NULL: relu?(T(x)) of image i, channel ch, times
   * img_scale[i c + ch] (a squeeze-and-excitation gate,
   * lits_conv2d_forward_epilogue_scaled_f32's). Only the packed GEMM's
   * 1x1 gather reads it (conv_gemm.c); conv.c's forward sends no other
   * algorithm an input with it. */
  const float* img_scale;
} conv_xform;

static inline int conv_xform_active(const conv_xform* xf) {
  return xf != NULL && (xf->coef != NULL || xf->relu || xf->img_scale != NULL);
}

static inline int conv_xform_rounds(const conv_xform* xf) { return xf != NULL && xf->bf16; }

/* Whether all of v [n] is finite. */
static inline int lits_conv_finite(const float* v, int64_t n) {
  int bad = 0;
#pragma omp simd reduction(| : bad)
  for (int64_t i = 0; i < n; i++) bad |= !(v[i] - v[i] == 0.0f); /* NaN for NaN and +-Inf */
  return !bad;
}

/* Whether the backward data may run on a kernel that reads dy zero-padded
 * (the depthwise and direct ones): not with a NaN or Inf weight, whose
 * taps past dy's border would meet 0 * Inf = NaN there, a product im2col's
 * col2im (and PyTorch) never forms: dx's border rows came out NaN. */
static inline int conv_padded_dy_ok(const conv_shape* p, const float* weight) {
  return lits_conv_finite(weight, p->k * p->crs_g);
}

/* v rounded to bf16 (RNE; NaN stays NaN), as a float: bf16_internal.h's
 * rounding, written so that a loop of it vectorises. */
static inline float conv_round_bf16(float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, 4);
  const uint32_t r = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u;
  float o;
  __builtin_memcpy(&o, &r, 4);
  return v != v ? v : o;
}

/* The bf16 word of v (RNE; NaN -> 0x7FC0, c10::BFloat16's), in the low 16
 * bits. */
static inline uint32_t conv_bf16_bits(float v) {
  uint32_t u;
  __builtin_memcpy(&u, &v, 4);
  return v != v ? 0x7FC0u : (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}

/* conv_round_bf16 of 16 lanes (AVX-512F only: no bf16 instructions). */
__attribute__((target("avx512f"))) static inline __m512 conv_round_bf16_16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(
      _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF))),
      _mm512_set1_epi32((int)0xFFFF0000u));
  const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(_mm512_castsi512_ps(r), nan, v);
}

/* dst[0 .. n) = relu?(T(src)) (T applied where xact), each value rounded
 * to bf16 where round, in one pass. Rounding in place after the copy (a
 * second pass that loads each value just stored and stores it again) cost
 * bf16 autocast's Winograd 5-10% of each call: ResNet-50's 3x3 layers of
 * 64 and 128 channels, batch 16, 71.5 -> 68.0 ms over their nine calls. */
static inline void conv_input_row(float* dst, const float* src, int64_t n, fused_affine t,
                                  int xact, int relu, int round) {
  if (!round) {
    if (xact) fused_apply(dst, src, n, t, relu);
    else memcpy(dst, src, (size_t)n * sizeof(float));
    return;
  }
  if (!xact || t.identity) {
    const int r = xact && relu;
#pragma omp simd
    for (int64_t j = 0; j < n; j++) dst[j] = conv_round_bf16(r && src[j] < 0.0f ? 0.0f : src[j]);
    return;
  }
  const float m = t.mean, a = t.scale, b = t.shift;
#pragma omp simd
  for (int64_t j = 0; j < n; j++) {
    const float v = (src[j] - m) * a + b;
    dst[j] = conv_round_bf16(relu && v < 0.0f ? 0.0f : v);
  }
}

/* What a forward applies to y after the bias: y = relu?(T_y(y) + T_r(r)),
 * as lits_fused_affine_f32 (a batch norm's output transform, a residual
 * and a ReLU: ResNet's conv3 -> bn3 -> + identity -> relu in evaluation).
 * An algorithm that applies it as it writes y sets applied; otherwise the
 * caller makes a pass over y. */
typedef struct {
  const float* y_coef; /* 3 * k floats, or NULL */
  const float* r;      /* like y, or NULL */
  const float* r_coef; /* 3 * k floats, or NULL (always without r) */
  int relu;
  int applied;
  /* Where not NULL, y's per-channel moments are wanted (conv_moments.c):
   * an algorithm that gathers them as it writes y (the packed GEMM's
   * tiles; the bf16 GEMM's micro-kernels, conv_bf16.c) puts them there and
   * sets moments_done; else the caller makes a pass over y. tile: the
   * running sums of one tile, set per tile by the algorithm for the kernels
   * it calls. */
  double* moments;
  int moments_done;
  struct conv_tile_moments* tile;
  /* Where not NULL, the sum of each plane of y (after the epilogue) is
   * wanted, [n k] floats: an algorithm that adds them up as it writes y
   * (the depthwise NCHW kernel) puts them there and sets sums_done; else
   * the caller makes a pass over y (squeeze_excite.c). */
  float* plane_sums;
  int sums_done;
} conv_epilogue;

/* One tile's running sums per channel of y (conv_moments.c), shifted by
 * the tile's first value of the channel so that the sum of squares does
 * not cancel: acc[16 ch .. 16 ch + 8) the lanes of sum(v - shift[ch]),
 * acc[16 ch + 8 .. 16 ch + 16) those of sum((v - shift[ch])^2), in double. */
typedef struct conv_tile_moments {
  double* acc;
  float* shift;
} conv_tile_moments;

/* Adds value v of channel ch, the tile's first of it where first, to t. */
static inline void conv_moments_add1(conv_tile_moments* t, int64_t ch, float v, int first) {
  if (first) t->shift[ch] = v;
  const double d = (double)v - (double)t->shift[ch];
  t->acc[16 * ch] += d;
  t->acc[16 * ch + 8] += d * d;
}

/* Scratch of conv_moments_gather for `tiles` tiles of k channels, `threads` threads, in floats. */
int64_t lits_conv_moments_scratch(int64_t k, int64_t tiles, int threads);
/* Thread tid's running sums in scratch, cleared for a new tile. */
conv_tile_moments lits_conv_moments_tile(float* scratch, int64_t k, int64_t tiles, int tid);
/* The tile's sums (cols values a channel) as its mean and M2, into tile ti's slot of scratch. */
void lits_conv_moments_end_tile(float* scratch, const conv_tile_moments* t, int64_t k,
                                int64_t tiles, int threads, int64_t ti, int64_t cols);
/* The tiles' means and M2 merged in tile order (Chan et al.) into out [2 k]. */
void lits_conv_moments_merge(const float* scratch, int64_t k, int64_t tiles, int threads,
                             double* out);
/* The moments of y written by a convolution of checked geometry q, in a
 * pass over y (NaN means and zero M2 for no values): the moments forwards'
 * fallback where their algorithm did not gather them. */
void lits_conv_moments_of(const lits_conv2d_params* q, const float* y, double* moments);
/* out [2 k] from a pass over y [n, k, hw] (batch norm's two-pass sums). */
void lits_conv_moments_pass(const float* y, int64_t n, int64_t k, int64_t hw, double* out);

/* sums[i] = the sum of plane i of y [planes, hw], in a pass over y
 * (squeeze_excite.c): the plane sums of conv_epilogue where the algorithm
 * did not add them up as it wrote y. */
void lits_conv_plane_sums(const float* y, int64_t planes, int64_t hw, float* sums);
/* y's planes' means into pooled [n k] (y of checked geometry p): from the
 * sums ep's kernel gathered (ep->sums_done), else from a pass over y. */
void lits_conv_plane_means(const conv_shape* p, const conv_epilogue* ep, const float* y,
                           float* pooled);
/* out[i hw + j] = scale[i] * x[i hw + j] over planes [planes, hw]
 * (squeeze_excite.c): x_scale * x as a broadcast product writes it, for the
 * algorithms that do not scale x as they read it. */
void lits_scale_planes(const float* x, const float* scale, int64_t planes, int64_t hw,
                       float* out);

/* The epilogue arguments of convolution entry point fn (conv.c): r_coef only
 * with r, relu one of lits.h's codes 0 to 3. LITS_OK or the argument error. */
int lits_conv_epilogue_args(const char* fn, const float* r, const float* r_coef, int32_t relu);

/* The epilogue as a pass over y, written by a convolution of geometry q
 * (conv.c): lits_fused_affine_f32 in place. */
int lits_conv_epilogue_pass(const lits_conv2d_params* q, const conv_epilogue* ep, float* y);

/* im2col / col2im + SGEMM (any geometry). Each returns a status; scratch
 * comes from the caching allocator. xf and ep may be NULL; the forward's
 * own GEMM reads its packed weights from prepared where it is not NULL
 * (lits_conv_prepared_gemm_weights). */
int lits_conv_gemm_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* weight, const float* bias, float* y, conv_epilogue* ep,
                           void* prepared, int64_t prepared_bytes);
int lits_conv_gemm_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                 float* dx);
int lits_conv_gemm_backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                   const float* dy, float* dweight);

/* The filter gradient of a 1x1 convolution without padding or groups (any
 * stride) through our AVX-512 dot-product kernel (conv_filter_pointwise.c),
 * where lits_conv_filter_pointwise_applies (AVX-512 CPUs, not
 * LITS_CONV_ALGO=openblas). */
int lits_conv_filter_pointwise_applies(const conv_shape* p);
int lits_conv_filter_pointwise(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* dy, float* dweight);
/* dw += part, both [n], on the calling thread (the column groups' sum of
 * both 1x1 filter-gradient kernels; conv_filter_pointwise.c). */
void lits_conv_add_part(float* dw, const float* part, int64_t n);
/* The same as a GEMM of outer products on packed_gemm.c's micro-kernel
 * (conv_filter_outer.c), for the shapes lits_conv_filter_outer_applies
 * chooses (where lits_conv_filter_pointwise_applies). */
int lits_conv_filter_outer_applies(const conv_shape* p);
/* Whether it takes a filter of several taps, or padding (conv.c chooses
 * which), and whether LITS_FILTER_TAPS=outer forces it for this shape. */
int lits_conv_filter_taps_applies(const conv_shape* p);
int lits_conv_filter_taps_forced(const conv_shape* p);
int lits_conv_filter_outer(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* dy, float* dweight);

/* The filter gradient of a depthwise convolution (one input channel a
 * group, groups > 1, kernels up to 7 wide) through our AVX-512 kernel
 * (conv_depthwise_filter.c), where lits_conv_depthwise_filter_applies
 * (AVX-512 CPUs, LITS_CONV_ALGO unset); round: x (after its transform)
 * and dy rounded to bf16, as bf16 autocast's operands. */
int lits_conv_depthwise_filter_applies(const conv_shape* p);
int lits_conv_depthwise_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* dy, int round, float* dweight);
/* The forward (kind 0) and the backward data (kind 1: stride 1, padding
 * up to (r - 1) d) of the same layers (conv_depthwise.c), where
 * lits_conv_depthwise_applies (AVX-512 CPUs, LITS_CONV_ALGO unset); round
 * as above (x after its transform, or dy, and the weights). */
int lits_conv_depthwise_applies(const conv_shape* p, int kind);
/* ep (NULL: none): its transform, residual and activation are applied to
 * each block of planes as soon as it is written (ep->applied set); its
 * moments are left to the caller. */
int lits_conv_depthwise_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                const float* weight, const float* bias, int round, float* y,
                                conv_epilogue* ep);
int lits_conv_depthwise_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                      int round, float* dx);
/* The forward of the depthwise layers of stride 1 or 2 without dilation
 * (one output channel a group, kernels up to 7 x 7, padding under the
 * kernel, no input transform) straight on NCHW planes, the epilogue ep
 * (NULL: none; its moments left to the caller) applied in registers
 * (conv_depthwise_chw.c), where lits_conv_depthwise_chw_applies (also
 * lits_conv_depthwise_applies; LITS_DW_CHW=0 declines). The same bits as
 * lits_conv_depthwise_forward's. */
int lits_conv_depthwise_chw_applies(const conv_shape* p, const conv_xform* xf);
/* (ep->plane_sums: summed in registers as each plane is stored, sums_done
 * set.) round: x and the weights rounded to bf16 first (bf16 autocast's
 * operands; the bits of lits_conv_depthwise_forward's round). */
int lits_conv_depthwise_chw_forward(const conv_shape* p, const float* x, const float* weight,
                                    const float* bias, int round, float* y, conv_epilogue* ep);
/* The same kernel a plane at a time, for callers that hold a band of rows
 * of each plane (inverted_residual.c): a layer of geometry p (its h, oh
 * and ph those of the band: rows past h read as zero padding), no bias,
 * each plane's batch norm (y_coef over k channels, NULL for none) and the
 * activation act (lits.h's relu codes) applied as it stores, no streaming.
 * NULL where memory ran out. Where lits_conv_depthwise_chw_applies. */
typedef struct lits_dw_layer lits_dw_layer;
lits_dw_layer* lits_dw_chw_layer(const conv_shape* p, int act);
/* Channel c's plane: in (h x w, the band's rows), wt its r x s taps, out oh x ow. */
void lits_dw_chw_plane(const lits_dw_layer* L, const float* in, const float* wt,
                       const float* y_coef, int64_t k, int64_t c, float* out);
void lits_dw_chw_layer_free(lits_dw_layer* L);
/* Rows of `cols` values of nch planes (plane c at src + c * stride, rows
 * ld apart) as relu?(T_c(v)) (rounded to bf16 where round) into pixels of
 * 16 channels (pixel j of row y at out + (y * opitch + j) * 16, channels
 * past nch zero): the depthwise kernels' channels-last copies. */
void lits_dw_to_channels_last(const float* src, int64_t stride, int64_t ld, int64_t rows,
                              int64_t cols, int nch, const fused_affine* t, int xact, int relu,
                              int round, float* out, int64_t opitch);

/* The forward of a one-channel stride-2 convolution (ResNet's stem) as a
 * direct kernel (conv_stem.c), where lits_conv_stem_applies (AVX-512 CPUs,
 * not LITS_CONV_STEM=off); bf16: inputs and weights rounded to bf16 first,
 * as the bf16 forward's; moments (NULL: none) gets y's, as
 * lits_conv2d_forward_moments_f32's, gathered row by row as y is written;
 * y_coef (NULL: none) and act (lits.h's relu codes) an evaluation
 * epilogue without a residual, applied as y is written. */
int lits_conv_stem_applies(const conv_shape* p);
int lits_conv_stem_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* weight, const float* bias, float* y, int bf16,
                           double* moments, const float* y_coef, int act);

/* Direct 3x3 kernels (conv_direct.c): lits_conv_direct_applies says whether
 * the shape is theirs (and the build has AVX-512); each kernel returns
 * LITS_ERR_UNAVAILABLE when it declines, and the caller runs GEMM. The
 * filter kernel takes no input transform. */
int lits_conv_direct_applies(const conv_shape* p);
/* Whether the plain forward of p (input not transformed) runs the direct
 * kernel (conv.c's choice; conv_direct_pool.c keeps to it). */
int lits_conv_forward_runs_direct(const conv_shape* p);
/* Whether the filter gradient of p (input not transformed) runs the direct
 * kernel (conv.c's choice). */
int lits_conv_filter_runs_direct(const conv_shape* p);
int lits_conv_direct_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                             const float* weight, const float* bias, float* y);
int lits_conv_direct_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                   float* dx);
/* (dy_bf16: each value of dy rounded to bf16 as it is loaded.) */
int lits_conv_direct_backward_filter(const conv_shape* p, const float* x, const float* dy,
                                     int dy_bf16, float* dweight);

/* y = act(bias + x * weight) for one output element range, shared by the
 * algorithms' epilogues. src may equal dst. */
static inline void conv_bias_act(float* dst, const float* src, int64_t len, float b, int act) {
  if (act == CONV_ACT_RELU) {
    /* NaN stays NaN, as torch.relu: (v < 0) is false for NaN. */
#pragma omp simd
    for (int64_t j = 0; j < len; j++) {
      const float v = src[j] + b;
      dst[j] = v < 0.0f ? 0.0f : v;
    }
  } else {
#pragma omp simd
    for (int64_t j = 0; j < len; j++) dst[j] = src[j] + b;
  }
}

/* Our AVX-512 SGEMM (packed_gemm.c), where lits_packed_gemm_applies (AVX-512
 * CPUs, 32+ columns): y [k, n] = w [k, c] x relu?(T(x)) [c, n], x's column j
 * at x + off[j] in each row (offsets strictly increasing; row stride ldx;
 * row ci transformed as channel ci of ctotal in xf), y's at
 * y + (j / span) ys + (j % span) in each row (row stride ldy): the columns
 * of several images of span columns each, where span is a multiple of 32
 * (or n <= span). The weights are packed
 * once per call into lits_packed_gemm_weights_floats floats (ap), shared by
 * the threads; each thread has lits_packed_gemm_scratch floats of its own. */
int lits_packed_gemm_applies(int64_t cols);
int64_t lits_packed_gemm_weights_floats(int64_t k, int64_t c);
int64_t lits_packed_gemm_scratch(void);
/* ap from w [k, c], or from w [c, k] read transposed (a backward pass's W^T). */
void lits_packed_gemm_pack_a(const float* w, int64_t k, int64_t c, int transposed, float* ap);
/* Its share `part` of `parts` (row blocks side by side): the threads of a
 * parallel region pack the weights together, then meet at a barrier (one
 * thread packing a 2048 x 512 W^T took 0.7 ms while the other waited). */
void lits_packed_gemm_pack_a_part(const float* w, int64_t k, int64_t c, int transposed,
                                  float* ap, int part, int parts);
void lits_packed_gemm(int64_t k, int64_t n, int64_t c, const float* ap, const float* x,
                      int64_t ldx, const int64_t* off, const conv_xform* xf, int64_t ctotal,
                      float* y, int64_t ldy, int64_t span, int64_t ys, float* scratch);
/* Its blocking and micro-kernel, for GEMMs that pack their own panels
 * (gemm_nt.c, conv_filter_outer.c): a block of y's rows from row i0 of k
 * (12, or the 8 or 4 that end k, else fewer), the height of its packed
 * panel of A (its rows, or 12 zero-padded), and y[mr x 32] (row stride
 * ldy) = (acc ? y : 0) + A's panel [kc][mr] x B's panel [kc][32], for
 * mr = 12, 8 or 4. */
int64_t lits_packed_gemm_block_rows(int64_t k, int64_t i0);
int64_t lits_packed_gemm_panel_rows(int64_t mr);
void lits_packed_gemm_block(int64_t mr, int64_t kc, const float* ap, const float* bp, float* y,
                            int64_t ldy, int acc);
/* gemm_nt.c's: c[m x nb] (row stride ldc) = (acc ? c : 0) + the packed
 * panels' product over kc: A's blocks of lits_packed_gemm_block_rows at ap +
 * i0 kc, B's panels of 32 columns at bp + q0 kc; edge: 12 x 32 floats for
 * blocks cut by m or nb. */
void lits_gemm_packed_blocks(int64_t m, int64_t nb, int64_t kc, const float* ap, const float* bp,
                             float* c, int64_t ldc, int acc, float* edge);
/* c [m, n] = (acc ? c : 0) + a [m, kk] b [n, kk]^T (row strides lda, ldb,
 * ldc) on this thread, with packed_gemm.c's micro-kernel (gemm_nt.c; AVX-512
 * CPUs: where lits_packed_gemm_applies); scratch holds
 * lits_gemm_nt_scratch(m, kk) floats. */
int64_t lits_gemm_nt_scratch(int64_t m, int64_t kk);
void lits_gemm_nt(int64_t m, int64_t n, int64_t kk, const float* a, int64_t lda, const float* b,
                  int64_t ldb, int acc, float* c, int64_t ldc, float* scratch);
/* The columns a thread multiplies after a call's (its next tile's), which
 * lits_packed_gemm_out prefetches as it ends: x + off[j] in each row (row
 * stride as the call's), n of them; x NULL for none. */
typedef struct {
  const float* x;
  const int64_t* off;
  int64_t n;
} gemm_next;

/* The same, with bias[row] added to y's rows (bias may be NULL), then the
 * epilogue ep (NULL for none; its r laid out as y, its coefs over k rows),
 * and y written with streaming stores where stream (an output far larger
 * than the caches, read back from memory anyway: lits stream_output);
 * next (NULL for none) what the thread reads after. */
void lits_packed_gemm_out(int64_t k, int64_t n, int64_t c, const float* ap, const float* x,
                          int64_t ldx, const int64_t* off, const conv_xform* xf, int64_t ctotal,
                          float* y, int64_t ldy, int64_t span, int64_t ys, const float* bias,
                          const conv_epilogue* ep, int stream, const gemm_next* next,
                          float* scratch);

/* Winograd (conv_winograd.c): 3x3, stride 1, padding 1, no dilation or
 * groups; forward and filter gradient (both with an input transform) and
 * backward data. */
int lits_conv_winograd_applies(const conv_shape* p);
/* What the three Winograd passes below (and conv_winograd.h's lits_wg_run)
 * return when a result came out NaN or +-Inf: the callers then run the pass
 * again with another algorithm. A transform mixes every value of a tile, so
 * one NaN or Inf of the input (or a value near FLT_MAX, which overflows
 * there) spoils outputs it does not reach in a direct sum (one NaN pixel of
 * a 64 -> 64 layer at 32^2: 25 positions NaN instead of 9); the other
 * algorithms reach PyTorch's. Checking the outputs in cache costs nothing
 * measurable (ResNet-50's four 3x3 layers, three passes, fp32 and bf16).
 * Never returned through lits.h. */
#define LITS_WG_NONFINITE 0x3E57
int lits_conv_winograd_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* weight, const float* bias, float* y);
int lits_conv_winograd_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                     int dy_bf16, float* dx);
int lits_conv_winograd_backward_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                       const float* dy, int dy_bf16, float* dweight);
/* Whether conv.c's fp32 path takes Winograd for this shape and pass (0
 * forward, 1 backward data, 2 filter gradient). */
int lits_conv_winograd_chosen(const conv_shape* p, int kind);
/* A bf16 autocast convolution through the fp32 Winograd kernels over
 * bf16-rounded operands (conv_bf16_rounded.c), where _takes says so:
 * kind 0 forward (a = x, b = weight), 1 backward data (a = dy, b =
 * weight), 2 filter gradient (a = x, b = dy); xf (forward and filter
 * gradient) may be NULL. */
int lits_conv_bf16_winograd_takes(const conv_shape* p, int kind);
/* Whether Winograd takes p before oneDNN is asked (the layers it beats
 * oneDNN on; _takes, asked after, also has those oneDNN declines). */
int lits_conv_bf16_winograd_first(const conv_shape* p, int kind);
int lits_conv_bf16_winograd(const conv_shape* p, int kind, const float* a, const conv_xform* xf,
                            const float* b, const float* bias, float* out);
/* The bf16 forward of one input channel through the fp32 direct kernel
 * over bf16-rounded copies of x (transformed) and the weights
 * (conv_bf16_rounded.c), where _takes says so (conv.c's fp32 forward runs
 * the direct kernel; not LITS_CONV_ALGO=gemm). */
int lits_conv_bf16_rounded_direct_takes(const conv_shape* p);
int lits_conv_bf16_rounded_direct(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* weight, const float* bias, float* y);
/* The bf16 filter gradient of few input channels through the fp32 direct
 * kernel over bf16-rounded operands (conv_bf16_rounded.c), where _takes
 * says so (conv.c's fp32 filter gradient runs that kernel). */
int lits_conv_bf16_rounded_filter_takes(const conv_shape* p);
int lits_conv_bf16_rounded_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* dy, float* dweight);
/* The bf16 filter gradient of grouped layers oneDNN does not take,
 * through conv.c's fp32 im2col + GEMM per group over bf16-rounded copies
 * of x (transformed) and dy (conv_bf16_rounded.c), where _takes says so
 * (after oneDNN declined). */
int lits_conv_bf16_grouped_filter_takes(const conv_shape* p);
int lits_conv_bf16_grouped_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* dy, float* dweight);
/* Scratch copies of relu?(T(x)) (x [n, c, h, w]; xf may be NULL) and of
 * the weights, rounded to bf16, in *xr and *wr (lits_scratch_free frees
 * each; both NULL on LITS_ERR_MEMORY). */
int lits_conv_bf16_rounded_operands(const conv_shape* p, const float* x, const conv_xform* xf,
                                    const float* weight, float** xr, float** wr);

/* The forward's weights prepared once and kept by the caller
 * (conv_prepared.c): the bytes of the buffer for a Winograd shape, and the
 * Winograd forward that reads, checks and, where stale, remakes it; the
 * bytes for packed_gemm.c's packed weights (lits_conv_gemm_forward's own
 * GEMM), and those weights, checked and where stale remade in the buffer,
 * or NULL where it is too short (the caller then packs its own). */
int64_t lits_conv_prepared_bytes(const conv_shape* p);
int lits_conv_prepared_winograd_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                        const float* weight, const float* bias, float* y,
                                        void* prepared, int64_t bytes);
int64_t lits_conv_prepared_gemm_bytes(const conv_shape* p);
const float* lits_conv_prepared_gemm_weights(const conv_shape* p, const float* weight,
                                             void* prepared, int64_t bytes);

/* A prepared buffer, whatever the kernel's layout (conv_prepared.c's own,
 * the bf16 chain's in conv_nhwc_bf16.c): a header of LITS_PREP_HEADER_BYTES,
 * then the data. lits_prep_slot returns where its `need` bytes of prepared
 * weights lie in `prepared` (of `bytes`), NULL where the buffer is NULL or
 * too short; *ready is 1 where they already hold the n floats at w in the
 * layout named by `layout` (the weights are hashed on every call), else 0:
 * the caller writes them, then calls lits_prep_done. */
#define LITS_PREP_HEADER_BYTES 64
void* lits_prep_slot(void* prepared, int64_t bytes, int64_t need, uint64_t layout, const float* w,
                     int64_t n, int* ready);
void lits_prep_done(void* prepared);

/* The convolution entry points' checks (lits_check.h's and this backend's:
 * im2col's size, 32-bit GEMM dimensions), filling *p; LITS_EMPTY for n = 0
 * (conv.c). And a kernel's status as an entry point's: scratch that could
 * not be allocated is reported with the shape. */
int lits_conv_setup(const char* fn, conv_shape* p, const lits_conv2d_params* params);
int lits_conv_status(const char* fn, const conv_shape* p, int status);
/* lits_conv_setup for a filter gradient, with its NULL checks; an empty
 * batch zeroes dweight (PyTorch's gradient) and is LITS_EMPTY. */
int lits_conv_filter_setup(const char* fn, conv_shape* p, const lits_conv2d_params* params,
                           const float* x, const float* dy, float* dweight);

#endif
