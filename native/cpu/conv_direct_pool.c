/* conv_direct_pool.c: a stage of the small CNN in evaluation, a 3x3
 * convolution, its batch norm (optional), a ReLU and a 2x2 max pool of
 * stride 2, as one kernel: the convolution's two output rows of a pooled
 * row go to an L1 buffer (conv_direct.c's row kernel) and only the pooled
 * row is written. Run one by one, the convolution writes its output (67 MB
 * for the first stage at batch 16) and the pool reads it back. The sums are conv_direct.c's, in
 * its order, and the transform, ReLU and maximum those of the max pool
 * reading a deferred batch norm and ReLU (maxpool_separable.c), so the
 * bits are those of the ops run one by one. Served where the plain forward
 * runs the direct kernel (lits_conv_forward_runs_direct); the caller runs
 * the ops one by one elsewhere. Under bf16 autocast, where the bf16
 * forward runs that kernel over bf16-rounded copies of x and the weights
 * (one input channel: conv_bf16_rounded.c), so does this, with the bits
 * of that forward and the pool. */
#include <omp.h>
#include <stddef.h>

#include "common.h"
#include "conv_direct.h"
#include "conv_internal.h"
#include "pool_internal.h"

#define PKB CONV_DIRECT_KB /* output channels per block */

static int serves(const conv_shape* p) {
#ifdef __AVX512F__
  return lits_conv_direct_applies(p) && p->k % PKB == 0 && p->oh >= 2 && p->ow >= 2 &&
         lits_conv_forward_runs_direct(p);
#else
  (void)p;
  return 0;
#endif
}

#ifdef __AVX512F__
/* relu(T(v)) as the max pool applies a deferred batch norm and ReLU. */
static inline __m512 transform(__m512 v, const float* coef, int64_t k, int64_t ch) {
  if (coef != NULL) {
    v = _mm512_fmadd_ps(_mm512_sub_ps(v, _mm512_set1_ps(coef[ch])), _mm512_set1_ps(coef[k + ch]),
                        _mm512_set1_ps(coef[2 * k + ch]));
  }
  return _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                            _mm512_setzero_ps());
}

/* Pooled row py of channels k0 .. k0 + PKB of one image (x [c, h, wd], y
 * [k, ph, pw]): output rows 2 py and 2 py + 1 into rows (2 wd floats a
 * channel, in L1) by conv_direct.c's kernel, then each window folded
 * across, then down, as the pool folds it. */
static void pooled_row(const float* x, const float* w, const float* bias, const float* coef,
                       float* y, int64_t c, int64_t h, int64_t wd, int64_t k, int64_t k0,
                       int64_t py, int64_t ph, int64_t pw, float* rows) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  lits_conv_direct_row(x, w, bias, rows, 2 * wd, c, h, wd, k0, 2 * py);
  lits_conv_direct_row(x, w, bias, rows + wd, 2 * wd, c, h, wd, k0, 2 * py + 1);
  for (int kb = 0; kb < PKB; kb++) {
    const float* r = rows + kb * 2 * wd;
    float* yr = y + (k0 + kb) * ph * pw + py * pw;
    for (int64_t px0 = 0; px0 < pw; px0 += 16) {
      const int64_t left = pw - px0;
      const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
      __m512 fold[2];
      for (int i = 0; i < 2; i++) { /* the pairs of columns 2 px0 .. of each row */
        const float* ri = r + i * wd + 2 * px0;
        const __mmask16 mlo = left >= 8 ? (__mmask16)0xffff : (__mmask16)((1u << 2 * left) - 1u);
        const __mmask16 mhi = left >= 16 ? (__mmask16)0xffff
                              : left > 8 ? (__mmask16)((1u << 2 * (left - 8)) - 1u)
                                         : (__mmask16)0;
        const __m512 lo = transform(_mm512_maskz_loadu_ps(mlo, ri), coef, k, k0 + kb);
        const __m512 hi = transform(_mm512_maskz_loadu_ps(mhi, ri + 16), coef, k, k0 + kb);
        fold[i] = lits_pool_fold16(_mm512_permutex2var_ps(lo, even, hi),
                                   _mm512_permutex2var_ps(lo, odd, hi));
      }
      _mm512_mask_storeu_ps(yr + px0, m, lits_pool_fold16(fold[0], fold[1]));
    }
  }
}
#endif

/* Served under bf16 autocast: the bf16 forward runs the fp32 direct
 * kernel over rounded copies here, and the CPU has bf16. */
static int serves_bf16(const conv_shape* p) {
  int32_t level = 0;
  lits_bf16_support(&level);
  return level > 0 && serves(p) && lits_conv_bf16_rounded_direct_takes(p);
}

static int takes(const char* fn, const lits_conv2d_params* params_host, int bf16,
                 int32_t* takes_host) {
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "%s: takes_host is NULL", fn);
  *takes_host = 0;
  conv_shape p;
  const int st = lits_conv_setup(fn, &p, params_host);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  *takes_host = bf16 ? serves_bf16(&p) : serves(&p);
  return LITS_OK;
}

int lits_conv2d_relu_maxpool2_takes(const lits_conv2d_params* params_host, int32_t* takes_host) {
  return takes("lits_conv2d_relu_maxpool2_takes", params_host, 0, takes_host);
}

int lits_conv2d_relu_maxpool2_bf16_takes(const lits_conv2d_params* params_host,
                                         int32_t* takes_host) {
  return takes("lits_conv2d_relu_maxpool2_bf16_takes", params_host, 1, takes_host);
}

/* The fused stage over x and weight as given (fp32, or rounded copies). */
static int pool_forward(const conv_shape* q, const float* x, const float* weight,
                        const float* bias, const float* y_coef, float* y) {
#ifdef __AVX512F__
  const conv_shape p = *q;
  const int64_t ph = p.oh / 2, pw = p.ow / 2, kblocks = p.k / PKB;
  const int64_t items = p.n * kblocks * ph, per = (PKB * 2 * p.w + 15) / 16 * 16;
  const int threads = omp_get_max_threads();
  float* bufs = (float*)lits_scratch_alloc(per * threads * (int64_t)sizeof(float));
  if (bufs == NULL) return LITS_ERR_MEMORY;
  /* An item is a pooled row of PKB channels; consecutive items share the
   * image and channels, so a thread's input planes stay in its caches. */
#pragma omp parallel num_threads(threads)
  {
    float* rows = bufs + per * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t it = 0; it < items; it++) {
      const int64_t py = it % ph, kb = it / ph % kblocks, i = it / ph / kblocks;
      pooled_row(x + i * p.c * p.h * p.w, weight, bias, y_coef, y + i * p.k * ph * pw, p.c, p.h,
                 p.w, p.k, kb * PKB, py, ph, pw, rows);
    }
  }
  lits_scratch_free(bufs);
#else
  (void)q, (void)x, (void)weight, (void)bias, (void)y_coef, (void)y;
#endif
  return LITS_OK;
}

static int entry(const char* fn, const lits_conv2d_params* params_host, const float* x,
                 const float* weight, const float* bias, const float* y_coef, float* y, int bf16) {
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  if (!(bf16 ? serves_bf16(&p) : serves(&p))) {
    return lits_fail(LITS_ERR_UNAVAILABLE,
                     "%s: not served for this geometry (lits_conv2d_relu_maxpool2%s_takes says "
                     "where it is); run the convolution, ReLU and max pool one by one",
                     fn, bf16 ? "_bf16" : "");
  }
  if (!bf16) return lits_conv_status(fn, &p, pool_forward(&p, x, weight, bias, y_coef, y));
  float *xr, *wr;
  int st = lits_conv_bf16_rounded_operands(&p, x, NULL, weight, &xr, &wr);
  if (st == LITS_OK) st = pool_forward(&p, xr, wr, bias, y_coef, y);
  lits_scratch_free(wr);
  lits_scratch_free(xr);
  return lits_conv_status(fn, &p, st);
}

int lits_conv2d_relu_maxpool2_f32(const lits_conv2d_params* params_host, const float* x,
                                  const float* weight, const float* bias, const float* y_coef,
                                  float* y) {
  return entry("lits_conv2d_relu_maxpool2_f32", params_host, x, weight, bias, y_coef, y, 0);
}

int lits_conv2d_relu_maxpool2_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                       const float* weight, const float* bias,
                                       const float* y_coef, float* y) {
  return entry("lits_conv2d_relu_maxpool2_bf16_f32", params_host, x, weight, bias, y_coef, y, 1);
}
