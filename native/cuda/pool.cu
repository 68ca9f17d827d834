/* pool.cu: average and adaptive average 2-D pooling (pool.cuh holds the
 * per-element math; max pooling is maxpool.cu). Our own kernels: they
 * reproduce PyTorch's window clipping and divisors exactly. One thread per
 * output (forward) or input element (backward, a gather: deterministic, no
 * atomics).
 */
#include <limits.h>

#include "common.cuh"
#include "pool.cuh"

/* ---- kernels: t runs over planes * (out or in) positions ---------------------- */

__global__ void avgpool_fwd_kernel(lc_pool p, const float* x, float* y, int64_t total) {
  const int64_t ohw = p.oh * p.ow, hw = p.h * p.w;
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / ohw, o = t - pl * ohw, oy = o / p.ow, ox = o - oy * p.ow;
    y[t] = lc_avgpool_out(p, x + pl * hw, oy, ox);
  }
}

__global__ void avgpool_bwd_kernel(lc_pool p, const float* dy, float* dx, int64_t total) {
  const int64_t ohw = p.oh * p.ow, hw = p.h * p.w;
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / hw, q = t - pl * hw, iy = q / p.w, ix = q - iy * p.w;
    dx[t] = lc_avgpool_grad_in(p, dy + pl * ohw, iy, ix);
  }
}

__global__ void adaptive_fwd_kernel(const float* x, float* y, int64_t h, int64_t w, int64_t oh,
                                    int64_t ow, int64_t total) {
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / (oh * ow), o = t - pl * oh * ow, oy = o / ow, ox = o - oy * ow;
    y[t] = lc_adaptive_out(x + pl * h * w, h, w, oh, ow, oy, ox);
  }
}

__global__ void adaptive_bwd_kernel(const float* dy, float* dx, int64_t h, int64_t w, int64_t oh,
                                    int64_t ow, int64_t total) {
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / (h * w), q = t - pl * h * w, iy = q / w, ix = q - iy * w;
    dx[t] = lc_adaptive_grad_in(dy + pl * oh * ow, h, w, oh, ow, iy, ix);
  }
}

/* ---- lits.h ------------------------------------------------------------------- */

extern "C" int lits_avgpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x,
                                          float* y, int32_t count_include_pad) {
  LC_ENTER("lits_avgpool2d_forward_f32");
  LITS_CHECKED(lits_check_pool(lc_fn, params_host));
  LC_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", lc_fn);
  const lc_pool p = lc_make_pool(params_host, count_include_pad);
  const int64_t total = (int64_t)params_host->n * params_host->c * p.oh * p.ow;
  avgpool_fwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(p, x, y, total);
  LC_CHECK_LAUNCH("avgpool_fwd_kernel");
  return LITS_OK;
}

extern "C" int lits_avgpool2d_backward_f32(const lits_pool2d_params* params_host, const float* dy,
                                           float* dx, int32_t count_include_pad) {
  LC_ENTER("lits_avgpool2d_backward_f32");
  LITS_CHECKED(lits_check_pool(lc_fn, params_host));
  LC_REQUIRE(dy != NULL && dx != NULL, "%s: dy or dx is NULL", lc_fn);
  const lc_pool p = lc_make_pool(params_host, count_include_pad);
  const int64_t total = (int64_t)params_host->n * params_host->c * p.h * p.w;
  avgpool_bwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(p, dy, dx, total);
  LC_CHECK_LAUNCH("avgpool_bwd_kernel");
  return LITS_OK;
}

extern "C" int lits_adaptive_avgpool2d_forward_f32(const float* x, float* y, int32_t n, int32_t c,
                                                   int32_t h, int32_t w, int32_t oh, int32_t ow) {
  LC_ENTER("lits_adaptive_avgpool2d_forward_f32");
  LITS_CHECKED(lits_check_adaptive_pool(lc_fn, n, c, h, w, oh, ow));
  LC_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", lc_fn);
  const int64_t total = (int64_t)n * c * oh * ow;
  adaptive_fwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(x, y, h, w, oh, ow, total);
  LC_CHECK_LAUNCH("adaptive_fwd_kernel");
  return LITS_OK;
}

extern "C" int lits_adaptive_avgpool2d_backward_f32(const float* dy, float* dx, int32_t n,
                                                    int32_t c, int32_t h, int32_t w, int32_t oh,
                                                    int32_t ow) {
  LC_ENTER("lits_adaptive_avgpool2d_backward_f32");
  LITS_CHECKED(lits_check_adaptive_pool(lc_fn, n, c, h, w, oh, ow));
  LC_REQUIRE(dy != NULL && dx != NULL, "%s: dy or dx is NULL", lc_fn);
  const int64_t total = (int64_t)n * c * h * w;
  adaptive_bwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(dy, dx, h, w, oh, ow, total);
  LC_CHECK_LAUNCH("adaptive_bwd_kernel");
  return LITS_OK;
}
