/* conv_stem_pool.c: ResNet's stem in evaluation, a one-channel stride-2
 * convolution (conv_stem.c), its batch norm, a ReLU and the 3x3 max pool
 * of stride 2 and padding 1, as one kernel: each stem row is transformed
 * as it leaves the registers, folded across into the pool's column maxima
 * in L1, and only the pooled rows are written. Run one by one, the
 * convolution writes its output (64 x 128^2 a slice: 67 MB at batch 16)
 * and the pool reads it back. Each stem row is made once (a pooled row
 * folds three, sharing one with the next); the sums are conv_stem.c's and
 * the transform and folds the max pool's (maxpool_separable.c: across,
 * then down, "greater, or NaN"), so the bits are those of the ops run one
 * by one. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_stem.h"
#include "pool_internal.h"
#include "stream_store.h"

/* Pooled size of n rows or columns: window 3, stride 2, padding 1, floor. */
static int64_t pooled(int64_t n) { return (n - 1) / 2 + 1; }

/* Leading and trailing floats around each channel's stem row in a thread's
 * row buffer: -inf, the pool's padding, so that every window reads whole
 * vectors. */
#define ROW_LEAD 16
#define ROW_TAIL 48

/* The pooled row of each of k channels (out, channel planes plane floats
 * apart): the maxima down the folded rows r0..r1 (held in h's ring of 3, in
 * order), streamed where `stream` and aligned. A function of its own: the
 * loop sits in an OpenMP region, whose outlined body does not take its
 * function's target attribute, so a build for a CPU without AVX-512 could
 * not compile the intrinsics there. */
__attribute__((target("avx512f"))) static void fold_down(const float* h, int64_t r0, int64_t r1,
                                                         int64_t k, int64_t hld, float* out,
                                                         int64_t plane, int64_t pw, int stream) {
  for (int64_t ch = 0; ch < k; ch++) { /* rows in order */
    float* o = out + ch * plane;
    for (int64_t px0 = 0; px0 < pw; px0 += 16) {
      __m512 m = _mm512_loadu_ps(h + r0 % 3 * k * hld + ch * hld + px0);
      for (int64_t oy = r0 + 1; oy <= r1; oy++) {
        const float* hr = h + oy % 3 * k * hld + ch * hld;
        m = lits_pool_fold16(m, _mm512_loadu_ps(hr + px0));
      }
      const int64_t left = pw - px0;
      if (stream && ((uintptr_t)(o + px0) & 63) == 0) {
        _mm512_stream_ps(o + px0, m);
      } else {
        _mm512_mask_storeu_ps(o + px0, left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1), m);
      }
    }
  }
}

/* Each channel's row (ld floats apart, -inf around it) folded across into
 * pw maxima (hrow, channel rows hld apart): columns 2 px - 1, 2 px, 2 px + 1
 * in that order, as the pool visits them. */
__attribute__((target("avx512f"))) static void fold_across(const float* row, int64_t ld,
                                                           int64_t k, int64_t pw, float* hrow,
                                                           int64_t hld) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (int64_t ch = 0; ch < k; ch++) {
    const float* r = row + ch * ld;
    for (int64_t px0 = 0; px0 < pw; px0 += 16) {
      const float* c = r + 2 * px0;
      const __m512 lo = _mm512_loadu_ps(c), hi = _mm512_loadu_ps(c + 16);
      const __m512 before = _mm512_permutex2var_ps(_mm512_loadu_ps(c - 2), odd,
                                                   _mm512_loadu_ps(c + 14)); /* 2 px - 1 */
      __m512 m = lits_pool_fold16(before, _mm512_permutex2var_ps(lo, even, hi));
      m = lits_pool_fold16(m, _mm512_permutex2var_ps(lo, odd, hi));
      _mm512_storeu_ps(hrow + ch * hld + px0, m);
    }
  }
}

static int pool_forward(const conv_shape* p, const float* x, const float* weight,
                        const float* bias, const float* y_coef, float* y, int bf16) {
  const int64_t ph = pooled(p->oh), pw = pooled(p->ow), items = p->n * ph;
  const int64_t wf = lits_stem_weights_floats(p);
  const int64_t ld = ROW_LEAD + (p->ow + 15) / 16 * 16 + ROW_TAIL; /* a channel's stem row */
  const int64_t hld = (pw + 15) / 16 * 16;                         /* a channel's folded row */
  const int64_t ring = lits_stem_ring_floats(p), rowbuf = p->k * ld, hbuf = 3 * p->k * hld;
  const int64_t per = ring + rowbuf + hbuf;
  const int nt = omp_get_max_threads();
  const int threads = items < nt ? (int)items : nt;
  float* scratch = lits_scratch_alloc((wf + per * threads) * (int64_t)sizeof(float));
  if (scratch == NULL) return LITS_ERR_MEMORY;
  const stem_plan s = lits_stem_setup(p, x, NULL, weight, bf16, scratch);
  const int stream = stream_output(p->n * p->k * ph * pw) && pw % 16 == 0;
#pragma omp parallel num_threads(threads)
  {
    float* mine = scratch + wf + per * omp_get_thread_num();
    stem_ring rg = lits_stem_ring_at(mine);
    float* row = mine + ring;
    float* h = row + rowbuf;
    int64_t held[3] = {-1, -1, -1}; /* the (image, stem row) each folded row holds */
    for (int64_t i = 0; i < rowbuf; i++) row[i] = -INFINITY;
    const stem_out e = {ld, 0, y_coef, 1, 0, p->k, NULL};
#pragma omp for schedule(static)
    for (int64_t q = 0; q < items; q++) {
      const int64_t ni = q / ph, py = q % ph;
      const int64_t r0 = 2 * py - 1 < 0 ? 0 : 2 * py - 1;
      const int64_t r1 = 2 * py + 1 < p->oh ? 2 * py + 1 : p->oh - 1;
      for (int64_t oy = r0; oy <= r1; oy++) { /* stem rows not folded yet */
        const int64_t key = ni * p->oh + oy;
        if (held[oy % 3] == key) continue;
        lits_stem_row(&s, &rg, ni, oy, bias, e, row + ROW_LEAD);
        fold_across(row + ROW_LEAD, ld, p->k, pw, h + oy % 3 * p->k * hld, hld);
        held[oy % 3] = key;
      }
      fold_down(h, r0, r1, p->k, hld, y + ni * p->k * ph * pw + py * pw, ph * pw, pw, stream);
    }
    if (stream) stream_fence();
  }
  lits_scratch_free(scratch);
  return LITS_OK;
}

static int serves(const conv_shape* p, int bf16) {
  int32_t level = 0;
  if (bf16) lits_bf16_support(&level);
  return lits_conv_stem_applies(p) && (!bf16 || level > 0);
}

int lits_conv2d_relu_maxpool3s2_takes(const lits_conv2d_params* params_host, int32_t bf16,
                                      int32_t* takes_host) {
  static const char* fn = "lits_conv2d_relu_maxpool3s2_takes";
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "%s: takes_host is NULL", fn);
  *takes_host = 0;
  conv_shape p;
  const int st = lits_conv_setup(fn, &p, params_host);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  *takes_host = serves(&p, bf16 != 0);
  return LITS_OK;
}

static int entry(const char* fn, const lits_conv2d_params* params_host, const float* x,
                 const float* weight, const float* bias, const float* y_coef, float* y, int bf16) {
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  if (!serves(&p, bf16)) {
    return lits_fail(LITS_ERR_UNAVAILABLE,
                     "%s: not served for this geometry or CPU (lits_conv2d_relu_maxpool3s2_takes "
                     "says where it is); run the convolution, ReLU and max pool one by one",
                     fn);
  }
  return lits_conv_status(fn, &p, pool_forward(&p, x, weight, bias, y_coef, y, bf16));
}

int lits_conv2d_relu_maxpool3s2_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* weight, const float* bias, const float* y_coef,
                                    float* y) {
  return entry("lits_conv2d_relu_maxpool3s2_f32", params_host, x, weight, bias, y_coef, y, 0);
}

int lits_conv2d_relu_maxpool3s2_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* weight, const float* bias,
                                         const float* y_coef, float* y) {
  return entry("lits_conv2d_relu_maxpool3s2_bf16_f32", params_host, x, weight, bias, y_coef, y, 1);
}
