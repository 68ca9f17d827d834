/* squeeze_excite.c: squeeze-and-excitation (Hu et al., CVPR 2018) in
 * evaluation without its three passes over the block's largest tensor.
 * torchvision's SqueezeExcitation pools the depthwise convolution's output
 * x to one mean a channel (a read of x), runs two 1x1 convolutions with an
 * activation between them and a sigmoid after, on [n, c, 1, 1], and
 * scales x by the result (a read and a write of x), which the projection
 * convolution then reads. Here the depthwise kernel adds each plane up as
 * it stores it (conv_depthwise_chw.c; lits_conv2d_forward_epilogue_pool_f32
 * in conv.c), the gate is one call (lits_squeeze_excitation_gate_f32,
 * below), and the projection's packed GEMM multiplies each value of x by
 * its image's gate as it packs it (packed_gemm.c;
 * lits_conv2d_forward_epilogue_scaled_f32): the scaled tensor is never
 * written. What the other algorithms need is here too: the plane sums as
 * a pass over y and a scaled copy of x, both portable C.
 *
 * EfficientNet-B0 evaluation, batch 16 x 1 x 256 x 256, 2 threads, AMD
 * EPYC Zen 4 (AVX-512), forwards alternating with the modules one by one
 * in one process (bench/se_ab.ts, 15 quiet windows of 6 each): min 131.1
 * ms against 146.8, median 141.9 against 157.4. Before, the SE's own calls
 * took about 16 ms a forward (the pool 7, the channel scale 6, the two
 * 1x1 convolutions and activations 3: bench/se_profile.ts); the depthwise
 * kernel's sums and the packed GEMM's products cost little. */
#include <stddef.h>

#include "bf16_internal.h"
#include "common.h"
#include "conv_internal.h"
#include "fused_internal.h"

/* Below this many elements a pass stays on one thread. */
#define SE_PAR_MIN 32768

void lits_conv_plane_sums(const float* y, int64_t planes, int64_t hw, float* sums) {
#pragma omp parallel for schedule(static) if (planes * hw >= SE_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* row = y + pl * hw;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t j = 0; j < hw; j++) acc += row[j];
    sums[pl] = acc;
  }
}

void lits_conv_plane_means(const conv_shape* p, const conv_epilogue* ep, const float* y,
                           float* pooled) {
  const int64_t planes = p->n * p->k;
  if (!ep->sums_done) lits_conv_plane_sums(y, planes, p->ohw, pooled);
  /* the mean as lits_adaptive_avgpool2d_forward_f32 divides its sum */
  for (int64_t i = 0; i < planes; i++) pooled[i] = pooled[i] / (float)p->oh / (float)p->ow;
}

void lits_scale_planes(const float* x, const float* scale, int64_t planes, int64_t hw,
                       float* out) {
#pragma omp parallel for schedule(static) if (planes * hw >= SE_PAR_MIN)
  for (int64_t pl = 0; pl < planes; pl++) {
    const float m = scale[pl];
    const float* src = x + pl * hw;
    float* dst = out + pl * hw;
#pragma omp simd
    for (int64_t j = 0; j < hw; j++) dst[j] = m * src[j];
  }
}

/* sum_j a[j] b[j] over len, then + bias (a 1x1 convolution's order: the
 * products' sum, then its bias). */
static inline float dot_bias(const float* a, const float* b, int64_t len, const float* bias,
                             int64_t i) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (int64_t j = 0; j < len; j++) acc += a[j] * b[j];
  return bias != NULL ? acc + bias[i] : acc;
}

/* The gate; with round, of pooled, w1, the hidden values and w2 rounded to
 * bf16 (rounded copies made first, so the products are exact in fp32 and
 * the sums fp32, as autocast's 1x1 convolutions). */
static int gate(const char* fn, const float* pooled, const float* w1, const float* b1,
                const float* w2, const float* b2, float* out, int32_t n, int32_t c,
                int32_t squeeze, int32_t act, int round) {
  LITS_REQUIRE(n >= 0 && c >= 1 && squeeze >= 1,
               "%s: n must be >= 0, c and squeeze >= 1 (n=%d c=%d squeeze=%d)", fn, (int)n,
               (int)c, (int)squeeze);
  LITS_REQUIRE(act >= 0 && act <= FUSED_SILU, "%s: act must be 0, 1, 2 or 3, got %d", fn,
               (int)act);
  int64_t t;
  LITS_REQUIRE(lits_mul_ok((int64_t)n, c, &t) && lits_mul_ok(t, 4, &t) &&
                   lits_mul_ok((int64_t)c, squeeze, &t) && lits_mul_ok(t, 4, &t),
               "%s: sizes overflow (n=%d c=%d squeeze=%d)", fn, (int)n, (int)c, (int)squeeze);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(pooled != NULL && w1 != NULL && w2 != NULL && out != NULL,
               "%s: pooled, w1, w2 or gate is NULL", fn);
  const int64_t cs = (int64_t)c * squeeze;
  /* hidden [squeeze], then with round: w1 and w2 [c squeeze] and pooled [n c] rounded */
  const int64_t floats = squeeze + (round ? 2 * cs + (int64_t)n * c : 0);
  float* hidden = (float*)lits_scratch_alloc(floats * (int64_t)sizeof(float));
  if (hidden == NULL) return LITS_ERR_MEMORY;
  if (round) {
    float* r1 = hidden + squeeze;
    float* r2 = r1 + cs;
    float* rp = r2 + cs;
    const fused_affine none = fused_affine_of(NULL, 0, 0);
    conv_input_row(r1, w1, cs, none, 0, 0, 1);
    conv_input_row(r2, w2, cs, none, 0, 0, 1);
    conv_input_row(rp, pooled, (int64_t)n * c, none, 0, 0, 1);
    w1 = r1, w2 = r2, pooled = rp;
  }
  for (int64_t i = 0; i < n; i++) {
    const float* p = pooled + i * c;
    for (int64_t j = 0; j < squeeze; j++) {
      const float h = fused_act(dot_bias(w1 + j * c, p, c, b1, j), act);
      hidden[j] = round ? conv_round_bf16(h) : h;
    }
    float* g = out + i * c;
    for (int64_t ch = 0; ch < c; ch++) {
      /* the sigmoid as lits_unary_f32's */
      g[ch] = 1.0f / (1.0f + lits_expf(-dot_bias(w2 + ch * squeeze, hidden, squeeze, b2, ch)));
    }
  }
  lits_scratch_free(hidden);
  return LITS_OK;
}

int lits_squeeze_excitation_gate_f32(const float* pooled, const float* w1, const float* b1,
                                     const float* w2, const float* b2, float* out, int32_t n,
                                     int32_t c, int32_t squeeze, int32_t act) {
  lits_clear_error();
  return gate("lits_squeeze_excitation_gate_f32", pooled, w1, b1, w2, b2, out, n, c, squeeze,
              act, 0);
}

int lits_squeeze_excitation_gate_bf16_f32(const float* pooled, const float* w1, const float* b1,
                                          const float* w2, const float* b2, float* out,
                                          int32_t n, int32_t c, int32_t squeeze, int32_t act) {
  static const char* fn = "lits_squeeze_excitation_gate_bf16_f32";
  lits_clear_error();
  LITS_CHECKED(lits_bf16_ready(fn, "lits_squeeze_excitation_gate_f32"));
  return gate(fn, pooled, w1, b1, w2, b2, out, n, c, squeeze, act, 1);
}
