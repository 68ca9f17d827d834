/* batchnorm.cu: 2-D batch norm over x [n, c, hw] on cuDNN (spatial mode):
 * x is described as NCHW with h = hw, w = 1, the statistics as [1, c, 1, 1].
 *
 * Where lits.h allows NULL and cuDNN does not (gamma, beta, dgamma, dbeta,
 * one of the running statistics), a scratch buffer stands in: ones for
 * gamma, zeros for beta, a discarded output otherwise.
 *
 * cuDNN updates running_var with the unbiased batch variance and saves
 * 1 / sqrt(var + eps) with the biased one, which is what lits.h specifies.
 * Backward is given the forward's epsilon, as cuDNN asks (the same value in
 * both passes), besides the saved mean and inverse std.
 */
#include <limits.h>

#include "common.cuh"

namespace {

/* Descriptors for one call; destroyed by the destructor. */
struct bn_descs {
  cudnnTensorDescriptor_t x = NULL, stats = NULL;
  ~bn_descs() {
    if (x) (void)lc_vendor.cudnnDestroyTensorDescriptor(x);
    if (stats) (void)lc_vendor.cudnnDestroyTensorDescriptor(stats);
  }
};

/* Scratch buffers released at scope exit (stream order keeps them alive for
 * the queued work). */
struct bn_scratch {
  void* p[4] = {NULL, NULL, NULL, NULL};
  int used = 0;
  ~bn_scratch() {
    for (int i = 0; i < used; i++) lc_scratch_free(p[i]);
  }
};

__global__ void bn_fill_kernel(float* x, int64_t n, float v) {
  LC_GRID_LOOP(i, n) x[i] = v;
}

/* cuDNN's own limit, after the shared checks of lits_check.h. */
int bn_cudnn_limit(const char* fn, int64_t hw) {
  LC_REQUIRE(hw <= INT_MAX, "%s: hw=%lld exceeds cuDNN's 32-bit limit", fn, (long long)hw);
  return LITS_OK;
}

int make_descs(const char* lc_fn, int32_t n, int32_t c, int64_t hw, bn_descs* d) {
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&d->x));
  LC_CHECK(lc_vendor.cudnnCreateTensorDescriptor(&d->stats));
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c,
                                                (int)hw, 1));
  LC_CHECK(lc_vendor.cudnnSetTensor4dDescriptor(d->stats, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                                c, 1, 1));
  return LITS_OK;
}

/* *out = given, or a scratch buffer of c floats (filled with `fill` when
 * fill_it). */
int stand_in(const char* lc_fn, const float* given, int32_t c, bool fill_it, float fill,
             bn_scratch* s, const float** out) {
  if (given != NULL) {
    *out = given;
    return LITS_OK;
  }
  void* p = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, (int64_t)c * 4, &p));
  s->p[s->used++] = p;
  if (fill_it) {
    bn_fill_kernel<<<lc_blocks(c), LC_THREADS, 0, lc.stream>>>((float*)p, c, fill);
    LC_CHECK_LAUNCH("bn_fill_kernel");
  }
  *out = (const float*)p;
  return LITS_OK;
}

}  // namespace

extern "C" int lits_batchnorm2d_forward_train_f32(const float* x, const float* gamma,
                                                  const float* beta, float* y,
                                                  float* running_mean, float* running_var,
                                                  float* save_mean, float* save_invstd, int32_t n,
                                                  int32_t c, int64_t hw, float momentum,
                                                  float eps) {
  LC_ENTER("lits_batchnorm2d_forward_train_f32");
  const int st = lits_check_bn_train(lc_fn, n, c, hw, eps);
  if (st > 0) return st;
  LC_TRY(bn_cudnn_limit(lc_fn, hw));
  LC_REQUIRE(momentum == momentum, "%s: momentum is NaN", lc_fn);
  if (st == LITS_EMPTY) return LITS_OK;
  LC_REQUIRE(x != NULL && y != NULL && save_mean != NULL && save_invstd != NULL,
             "%s: x, y, save_mean or save_invstd is NULL", lc_fn);
  bn_descs d;
  LC_TRY(make_descs(lc_fn, n, c, hw, &d));
  bn_scratch s;
  const float *g = NULL, *b = NULL, *rm = running_mean, *rv = running_var;
  LC_TRY(stand_in(lc_fn, gamma, c, true, 1.0f, &s, &g));
  LC_TRY(stand_in(lc_fn, beta, c, true, 0.0f, &s, &b));
  /* cuDNN takes both running statistics or neither. */
  if ((rm == NULL) != (rv == NULL)) {
    LC_TRY(stand_in(lc_fn, rm, c, false, 0.0f, &s, &rm));
    LC_TRY(stand_in(lc_fn, rv, c, false, 0.0f, &s, &rv));
  }
  const float one = 1.0f, zero = 0.0f;
  LC_CHECK(lc_vendor.cudnnBatchNormalizationForwardTraining(
      lc.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x, d.x, y, d.stats, g, b,
      (double)momentum, (void*)rm, (void*)rv, (double)eps, save_mean, save_invstd));
  return LITS_OK;
}

extern "C" int lits_batchnorm2d_forward_infer_f32(const float* x, const float* gamma,
                                                  const float* beta, const float* running_mean,
                                                  const float* running_var, float* y, int32_t n,
                                                  int32_t c, int64_t hw, float eps) {
  LC_ENTER("lits_batchnorm2d_forward_infer_f32");
  const int st = lits_check_nchw(lc_fn, n, c, hw);
  if (st > 0) return st;
  LC_TRY(bn_cudnn_limit(lc_fn, hw));
  LC_REQUIRE(eps >= 0.0f, "%s: eps=%g must be >= 0", lc_fn, (double)eps);
  if (st == LITS_EMPTY) return LITS_OK;
  LC_REQUIRE(x != NULL && y != NULL && running_mean != NULL && running_var != NULL,
             "%s: x, y, running_mean or running_var is NULL", lc_fn);
  bn_descs d;
  LC_TRY(make_descs(lc_fn, n, c, hw, &d));
  bn_scratch s;
  const float *g = NULL, *b = NULL;
  LC_TRY(stand_in(lc_fn, gamma, c, true, 1.0f, &s, &g));
  LC_TRY(stand_in(lc_fn, beta, c, true, 0.0f, &s, &b));
  const float one = 1.0f, zero = 0.0f;
  LC_CHECK(lc_vendor.cudnnBatchNormalizationForwardInference(
      lc.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x, d.x, y, d.stats, g, b, running_mean,
      running_var, (double)eps));
  return LITS_OK;
}

extern "C" int lits_batchnorm2d_backward_f32(const float* x, const float* dy, const float* gamma,
                                             const float* save_mean, const float* save_invstd,
                                             float* dx, float* dgamma, float* dbeta, int32_t n,
                                             int32_t c, int64_t hw, float eps) {
  LC_ENTER("lits_batchnorm2d_backward_f32");
  LITS_CHECKED(lits_check_bn_train(lc_fn, n, c, hw, eps));
  LC_TRY(bn_cudnn_limit(lc_fn, hw));
  LC_REQUIRE(x != NULL && dy != NULL && save_mean != NULL && save_invstd != NULL && dx != NULL,
             "%s: x, dy, save_mean, save_invstd or dx is NULL", lc_fn);
  bn_descs d;
  LC_TRY(make_descs(lc_fn, n, c, hw, &d));
  bn_scratch s;
  const float *g = NULL, *dg = dgamma, *db = dbeta;
  LC_TRY(stand_in(lc_fn, gamma, c, true, 1.0f, &s, &g));
  LC_TRY(stand_in(lc_fn, dgamma, c, false, 0.0f, &s, &dg));
  LC_TRY(stand_in(lc_fn, dbeta, c, false, 0.0f, &s, &db));
  const float one = 1.0f, zero = 0.0f;
  /* The forward's epsilon: cuDNN's contract is one value for both passes. */
  LC_CHECK(lc_vendor.cudnnBatchNormalizationBackward(
      lc.cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d.x, x, d.x, dy, d.x, dx,
      d.stats, g, (void*)dg, (void*)db, (double)eps, save_mean, save_invstd));
  return LITS_OK;
}
