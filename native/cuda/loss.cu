/* loss.cu: PyTorch's cross_entropy (loss.cuh holds one position's math).
 *
 * The forward checks the targets first, on the device, and names the first
 * bad one: the ABI returns a status for a bad label, so this is the one op
 * that waits for the stream (8 bytes come back). The backward does not check
 * again (one wait per step, not two): its only caller is the autograd node
 * that the forward recorded with the same target tensor, after that forward
 * validated it. Labels changed in place in between (PyTorch would refuse:
 * a saved tensor was modified) cannot make it read outside weight or the
 * logits row: the kernels give NaN for such a position (and, with MEAN, for
 * the whole gradient). MEAN and SUM reduce per-block partial sums (in
 * double) in a second single-block kernel, in a fixed order.
 */
#include "block_reduce.cuh"
#include "common.cuh"
#include "loss.cuh"

#define CE_BLOCKS_MAX 1024

/* first_bad = smallest position whose target is neither ignored nor in [0, c). */
__global__ void ce_validate_kernel(const int32_t* target, int64_t npos, int64_t c, int32_t ignore,
                                   unsigned long long* first_bad) {
  LC_GRID_LOOP(i, npos) {
    const int32_t t = target[i];
    if (t != ignore && (t < 0 || (int64_t)t >= c)) atomicMin(first_bad, (unsigned long long)i);
  }
}

/* Per block: sums of nll, smooth and W (weights of the non-ignored targets). */
__global__ void ce_partials_kernel(lc_ce_args g, int64_t npos, int need_terms, double* part) {
  __shared__ double shared[32];
  double snll = 0.0, ssm = 0.0, sw = 0.0;
  LC_GRID_LOOP(i, npos) {
    const int32_t t = g.target[i];
    if (t == g.ignore_index) continue;
    if (need_terms) {
      double nll, smooth;
      lc_ce_terms(g, i, t, &nll, &smooth);
      snll += nll;
      ssm += smooth;
    }
    /* Out of range only in a backward whose labels changed after the
     * forward validated them: NaN, never a read outside weight. */
    sw += t < 0 || (int64_t)t >= g.c ? (double)NAN : g.weight ? (double)g.weight[t] : 1.0;
  }
  snll = lc_block_reduce(snll, true, false, shared);
  ssm = lc_block_reduce(ssm, true, false, shared);
  sw = lc_block_reduce(sw, true, false, shared);
  if (threadIdx.x == 0) {
    part[3 * blockIdx.x] = snll;
    part[3 * blockIdx.x + 1] = ssm;
    part[3 * blockIdx.x + 2] = sw;
  }
}

/* One block: adds the partials in order; scal = {W, sum_k w[k]}; loss[0] when
 * loss is not NULL. */
__global__ void ce_finish_kernel(const double* part, int nparts, const float* weight, int64_t c,
                                 double a, double b, int reduction, float* loss, double* scal) {
  __shared__ double shared[32];
  double snll = 0.0, ssm = 0.0, sw = 0.0, wsum = 0.0;
  for (int k = threadIdx.x; k < nparts; k += blockDim.x) {
    snll += part[3 * k];
    ssm += part[3 * k + 1];
    sw += part[3 * k + 2];
  }
  for (int64_t k = threadIdx.x; k < c; k += blockDim.x) wsum += weight ? (double)weight[k] : 1.0;
  snll = lc_block_reduce(snll, true, false, shared);
  ssm = lc_block_reduce(ssm, true, false, shared);
  sw = lc_block_reduce(sw, true, false, shared);
  wsum = lc_block_reduce(wsum, true, false, shared);
  if (threadIdx.x == 0) {
    scal[0] = sw;
    scal[1] = wsum;
    if (loss != NULL) {
      double total = a * snll + b * ssm;
      /* W == 0 (all ignored, or zero weights) gives 0 / 0 = NaN, as PyTorch. */
      if (reduction == LITS_REDUCTION_MEAN) total = sw == 0.0 ? (double)NAN : a * (snll / sw) + b * (ssm / sw);
      loss[0] = (float)total;
    }
  }
}

__global__ void ce_none_kernel(lc_ce_args g, int64_t npos, float* loss) {
  LC_GRID_LOOP(i, npos) loss[i] = lc_ce_loss_none(g, i);
}

__global__ void ce_backward_kernel(lc_ce_args g, int64_t npos, int reduction, const float* dloss,
                                   const double* scal, float* dlogits) {
  double g_all = 0.0;
  if (reduction != LITS_REDUCTION_NONE) {
    g_all = (double)dloss[0];
    if (reduction == LITS_REDUCTION_MEAN) g_all /= scal[0];
  }
  const double wsum = scal[1];
  LC_GRID_LOOP(i, npos) {
    const double gs = reduction == LITS_REDUCTION_NONE ? (double)dloss[i] : g_all;
    lc_ce_grad(g, i, gs, wsum, dlogits);
  }
}

/* Argument checks shared by forward and backward; the targets only when
 * validate_targets (the forward: see the file comment). */
static int check_args(const char* fn, const float* logits, const int32_t* target, int64_t n,
                      int64_t c, int64_t inner, int32_t ignore_index, float label_smoothing,
                      int32_t reduction, bool validate_targets) {
  /* No target (LITS_EMPTY) still writes a reduced loss: the caller goes on. */
  const int chk = lits_check_cross_entropy(fn, logits, target, n, c, inner, label_smoothing,
                                           reduction);
  if (chk != LITS_OK) return chk > 0 ? chk : LITS_OK;
  const int64_t npos = n * inner;
  if (!validate_targets) return LITS_OK;
  const char* const lc_fn = fn;
  unsigned long long* bad = NULL;
  LC_TRY(lc_scratch_alloc(fn, sizeof(unsigned long long), (void**)&bad));
  cudaError_t e = cudaMemsetAsync(bad, 0xFF, sizeof *bad, lc.stream);
  if (e == cudaSuccess) {
    ce_validate_kernel<<<lc_blocks(npos), LC_THREADS, 0, lc.stream>>>(target, npos, c, ignore_index,
                                                                      bad);
    e = cudaGetLastError();
  }
  int64_t first = -1;
  int st = e == cudaSuccess ? lc_read_word(fn, (const int64_t*)bad, &first) : LITS_OK;
  lc_scratch_free(bad);
  if (e != cudaSuccess) return lc_fail_status(lc_fn, "validating targets", e);
  if (st != LITS_OK) return st;
  if (first >= 0) {
    int32_t t = 0;
    LC_CHECK(cudaMemcpyAsync(&t, target + first, sizeof t, cudaMemcpyDeviceToHost, lc.stream));
    LC_CHECK(cudaStreamSynchronize(lc.stream));
    return lc_fail(LITS_ERR_ARGUMENT, "%s: target %d at index %lld is out of range [0, %lld)", fn,
                   (int)t, (long long)first, (long long)c);
  }
  return LITS_OK;
}

/* Runs the partial sums and the finishing kernel; scal gets {W, wsum}. */
static int ce_reduce(const char* fn, const lc_ce_args& g, int64_t npos, int need_terms,
                     int32_t reduction, float* loss, double* scal) {
  const char* const lc_fn = fn;
  const int nparts = npos > 0 ? (int)lc_blocks(npos) : 0;
  const int np = nparts < CE_BLOCKS_MAX ? nparts : CE_BLOCKS_MAX;
  double* part = NULL;
  if (np > 0) {
    LC_TRY(lc_scratch_alloc(fn, (int64_t)np * 3 * (int64_t)sizeof(double), (void**)&part));
    ce_partials_kernel<<<np, LC_THREADS, 0, lc.stream>>>(g, npos, need_terms, part);
  }
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) {
    ce_finish_kernel<<<1, LC_THREADS, 0, lc.stream>>>(part, np, g.weight, g.c, g.a, g.b,
                                                      reduction, loss, scal);
    e = cudaGetLastError();
  }
  lc_scratch_free(part);
  if (e != cudaSuccess) return lc_fail_status(lc_fn, "launch of cross-entropy reduction", e);
  return LITS_OK;
}

extern "C" int lits_cross_entropy_f32(const float* logits, const int32_t* target,
                                      const float* weight, int64_t n, int64_t c, int64_t inner,
                                      int32_t ignore_index, float label_smoothing,
                                      int32_t reduction, float* loss) {
  LC_ENTER("lits_cross_entropy_f32");
  LC_TRY(check_args(lc_fn, logits, target, n, c, inner, ignore_index, label_smoothing, reduction,
                    true));
  const int64_t npos = n * inner;
  if (reduction == LITS_REDUCTION_NONE && npos == 0) return LITS_OK;
  LC_REQUIRE(loss != NULL, "%s: loss is NULL", lc_fn);
  const lc_ce_args g = lc_ce_make(logits, target, weight, c, inner, ignore_index, label_smoothing);
  if (reduction == LITS_REDUCTION_NONE) {
    ce_none_kernel<<<lc_blocks(npos), LC_THREADS, 0, lc.stream>>>(g, npos, loss);
    LC_CHECK_LAUNCH("ce_none_kernel");
    return LITS_OK;
  }
  double* scal = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, 2 * (int64_t)sizeof(double), (void**)&scal));
  const int st = ce_reduce(lc_fn, g, npos, 1, reduction, loss, scal);
  lc_scratch_free(scal);
  return st;
}

extern "C" int lits_cross_entropy_backward_f32(const float* logits, const int32_t* target,
                                               const float* weight, int64_t n, int64_t c,
                                               int64_t inner, int32_t ignore_index,
                                               float label_smoothing, int32_t reduction,
                                               const float* dloss, float* dlogits) {
  LC_ENTER("lits_cross_entropy_backward_f32");
  LC_TRY(check_args(lc_fn, logits, target, n, c, inner, ignore_index, label_smoothing, reduction,
                    false));
  const int64_t npos = n * inner;
  if (npos == 0 || c == 0) return LITS_OK;
  LC_REQUIRE(dloss != NULL && dlogits != NULL, "%s: dloss or dlogits is NULL", lc_fn);
  const lc_ce_args g = lc_ce_make(logits, target, weight, c, inner, ignore_index, label_smoothing);
  double* scal = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, 2 * (int64_t)sizeof(double), (void**)&scal));
  /* W is needed for MEAN only; wsum always (the finishing kernel gives both). */
  int st = ce_reduce(lc_fn, g, reduction == LITS_REDUCTION_MEAN ? npos : 0, 0, reduction, NULL,
                     scal);
  if (st == LITS_OK) {
    ce_backward_kernel<<<lc_blocks(npos), LC_THREADS, 0, lc.stream>>>(g, npos, reduction, dloss,
                                                                      scal, dlogits);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) st = lc_fail_status(lc_fn, "launch of kernel ce_backward_kernel", e);
  }
  lc_scratch_free(scal);
  return st;
}
