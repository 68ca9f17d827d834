/* maxpool.cu: max 2-D pooling with PyTorch's indices (pool.cuh holds the
 * per-element math). Our own kernels rather than cuDNN's: cuDNN's max pooling
 * returns no indices, and these reproduce PyTorch's window clipping, ties and
 * NaN rules exactly. One thread per output (forward) or input element
 * (backward, a gather: deterministic, no atomics).
 *
 * Backward trusts the indices of the forward: an index outside its window
 * simply matches no input (the CPU backend reports it instead).
 */
#include "common.cuh"
#include "pool.cuh"

/* ---- kernels: t runs over planes * (out or in) positions ---------------------- */

__global__ void maxpool_fwd_kernel(lc_pool p, const float* x, float* y, int32_t* idx,
                                   int64_t total) {
  const int64_t ohw = p.oh * p.ow, hw = p.h * p.w;
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / ohw, o = t - pl * ohw, oy = o / p.ow, ox = o - oy * p.ow;
    lc_maxpool_out(p, x + pl * hw, oy, ox, &y[t], &idx[t]);
  }
}

__global__ void maxpool_bwd_kernel(lc_pool p, const float* dy, const int32_t* idx, float* dx,
                                   int64_t total) {
  const int64_t ohw = p.oh * p.ow, hw = p.h * p.w;
  LC_GRID_LOOP(t, total) {
    const int64_t pl = t / hw, q = t - pl * hw, iy = q / p.w, ix = q - iy * p.w;
    dx[t] = lc_maxpool_grad_in(p, dy + pl * ohw, idx + pl * ohw, iy, ix);
  }
}

/* ---- lits.h ------------------------------------------------------------------- */

extern "C" int lits_maxpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x,
                                          const float* x_coef, int32_t x_relu, float* y,
                                          int32_t* indices) {
  LC_ENTER("lits_maxpool2d_forward_f32");
  LITS_CHECKED(lits_check_pool(lc_fn, params_host));
  if (x_coef != NULL || x_relu != 0) {
    return lc_fail(LITS_ERR_UNAVAILABLE,
                   "%s: input transforms need the fused kernels, which this backend lacks", lc_fn);
  }
  LC_REQUIRE(x != NULL && y != NULL && indices != NULL, "%s: x, y or indices is NULL", lc_fn);
  const lc_pool p = lc_make_pool(params_host, 0);
  const int64_t total = (int64_t)params_host->n * params_host->c * p.oh * p.ow;
  maxpool_fwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(p, x, y, indices, total);
  LC_CHECK_LAUNCH("maxpool_fwd_kernel");
  return LITS_OK;
}

extern "C" int lits_maxpool2d_backward_f32(const lits_pool2d_params* params_host, const float* x,
                                           const float* y, const float* dy,
                                           const int32_t* indices, float* dx) {
  LC_ENTER("lits_maxpool2d_backward_f32");
  (void)x;
  (void)y;
  LITS_CHECKED(lits_check_pool(lc_fn, params_host));
  LC_REQUIRE(dy != NULL && indices != NULL && dx != NULL, "%s: dy, indices or dx is NULL", lc_fn);
  const lc_pool p = lc_make_pool(params_host, 0);
  const int64_t total = (int64_t)params_host->n * params_host->c * p.h * p.w;
  maxpool_bwd_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(p, dy, indices, dx, total);
  LC_CHECK_LAUNCH("maxpool_bwd_kernel");
  return LITS_OK;
}
