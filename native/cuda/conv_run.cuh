/* conv_run.cuh: what conv.cu (fp32) and conv_bf16.cu (bf16 autocast) share
 * around a cuDNN convolution call: the argument setup and the planned call.
 * The plan cache behind lc_conv_prepare uses host containers, so every entry
 * point that uses these runs its body in lc_guarded.
 */
#ifndef LITS_CUDA_CONV_RUN_CUH
#define LITS_CUDA_CONV_RUN_CUH

#include "common.cuh"
#include "conv_plan.cuh"

/* Declares p and conv_st (LITS_OK, or LITS_EMPTY for an empty batch); an
 * argument error returns. */
#define CONV_SETUP()                                               \
  lc_conv_shape p;                                                 \
  const int conv_st = lc_conv_setup(lc_fn, &p, params_host);       \
  if (conv_st > 0) return conv_st

/* The scale factors of every cuDNN call: y = 1 * conv(...) + 0 * y (floats
 * for fp32 and bf16 data alike). */
static const float lc_conv_one = 1.0f, lc_conv_zero = 0.0f;

/* One cuDNN convolution call: plans dir for the buffers a, b, c of dtype (as
 * lc_conv_prepare takes them), runs call(plan, workspace), then frees the
 * workspace whatever cuDNN said, before its status is checked. */
template <typename Call>
static int run_planned(const char* lc_fn, const lc_conv_shape& p, int dir, cudnnDataType_t dtype,
                       const void* a, const void* b, const void* c, Call call) {
  const lc_conv_plan* pl = NULL;
  void* ws = NULL;
  LC_TRY(lc_conv_prepare(lc_fn, p, dir, dtype, a, b, c, &pl, &ws));
  const cudnnStatus_t st = call(*pl, ws);
  lc_scratch_free(ws);
  LC_CHECK(st);
  return LITS_OK;
}

#endif /* LITS_CUDA_CONV_RUN_CUH */
