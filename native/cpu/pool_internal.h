/* pool_internal.h: what max pooling (maxpool.c) and average pooling (pool.c)
 * share (their argument checks are lits_check_pool, in lits_check.h). */
#ifndef LITS_CPU_POOL_INTERNAL_H
#define LITS_CPU_POOL_INTERNAL_H

#include <immintrin.h>
#include <stdint.h>

/* Below this many elements of work a pooling call stays on one thread. */
#define LITS_POOL_PAR_MIN 16384

/* Declares lits_pool2d_params' fields as the locals the kernels index with:
 * n, c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, oh, ow. */
#define POOL_LOCALS(q)                                                                \
  const int32_t n = (q)->n, c = (q)->c, h = (q)->h, w = (q)->w, kh = (q)->kh,         \
                kw = (q)->kw, stride_h = (q)->stride_h, stride_w = (q)->stride_w,     \
                pad_h = (q)->pad_h, pad_w = (q)->pad_w, oh = (q)->oh, ow = (q)->ow

/* The separable max-pool forward (maxpool_separable.c): runs it and returns
 * 1 where it applies (windows up to 8 rows), else returns 0 and does
 * nothing. Same values and indices (indices NULL: none) as maxpool.c's
 * general path. */
struct lits_pool2d_params;
/* One plane of lits_maxpool2d_backward_f32: dxp [h, w] (overwritten) from
 * dyp and ip [oh, ow]. Returns -1, or the position in ip of an index
 * outside the plane (skipped). */
int64_t lits_maxpool_backward_plane(const struct lits_pool2d_params* q, const float* dyp,
                                    const int32_t* ip, float* dxp);
int lits_maxpool_separable(const struct lits_pool2d_params* params_host, const float* x,
                           const float* x_coef, int relu, float* y, int32_t* indices);

/* The max pool's fold of m then v, 16 lanes: v wins where it is greater
 * than m, or NaN (PyTorch's CPU kernel's rule); every kernel that pools
 * (maxpool_separable.c, conv_direct_pool.c, conv_stem_pool.c) folds with
 * it, so that fused kernels keep the pool's bits. */
__attribute__((target("avx512f"))) static inline __m512 lits_pool_fold16(__m512 m, __m512 v) {
  const __mmask16 win =
      _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(m, win, v);
}

#endif
