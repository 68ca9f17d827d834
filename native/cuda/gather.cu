/* gather.cu: gather and scatter-add along the middle dimension of [outer, r,
 * inner] (torch.gather, index_select, and their gradient), as gather.c.
 *
 * Scatter-add gives each (outer, inner) column one thread that walks its k
 * indices in order: no atomics, so the sums are the CPU backend's order and
 * do not depend on the launch. Neighbouring threads take neighbouring inner
 * positions, so their reads and writes coalesce.
 */
#include "common.cuh"
#include "gather.cuh"

__global__ void gather_kernel(lc_gather g, const float* x, float* out) {
  LC_GRID_LOOP(t, g.outer * g.k * g.inner) out[t] = lc_gather_one(g, x, t);
}

__global__ void scatter_add_kernel(lc_gather g, const float* dy, float* dx) {
  LC_GRID_LOOP(t, g.outer * g.inner) lc_scatter_add_column(g, dy, dx, t);
}

/* *first = the smallest position (o, j, i) over the distinct index elements
 * (no x nk x ni) whose index is outside [0, r). */
__global__ void gather_validate_kernel(const int32_t* index, int64_t s0, int64_t s1, int64_t s2,
                                       int64_t no, int64_t nk, int64_t ni, int64_t r,
                                       unsigned long long* first) {
  LC_GRID_LOOP(p, no * nk * ni) {
    const int64_t i = p % ni, oj = p / ni, j = oj % nk, o = oj / nk;
    const int32_t v = index[o * s0 + j * s1 + i * s2];
    if (v < 0 || (int64_t)v >= r) atomicMin(first, (unsigned long long)p);
  }
}

/* Names the first index outside [0, r), as the CPU backend does. */
static int validate(const char* lc_fn, const int32_t* index, const int64_t* s, int64_t outer,
                    int64_t r, int64_t k, int64_t inner) {
  const int64_t no = s[0] ? outer : 1, nk = s[1] ? k : 1, ni = s[2] ? inner : 1;
  unsigned long long* bad = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, sizeof(unsigned long long), (void**)&bad));
  cudaError_t e = cudaMemsetAsync(bad, 0xFF, sizeof *bad, lc.stream);
  if (e == cudaSuccess) {
    gather_validate_kernel<<<lc_blocks(no * nk * ni), LC_THREADS, 0, lc.stream>>>(
        index, s[0], s[1], s[2], no, nk, ni, r, bad);
    e = cudaGetLastError();
  }
  int64_t first = -1;
  const int st = e == cudaSuccess ? lc_read_word(lc_fn, (const int64_t*)bad, &first) : LITS_OK;
  lc_scratch_free(bad);
  if (e != cudaSuccess) return lc_fail_status(lc_fn, "validating indices", e);
  if (st != LITS_OK) return st;
  if (first < 0) return LITS_OK;
  const int64_t i = first % ni, oj = first / ni, j = oj % nk, o = oj / nk;
  int32_t v = 0;
  LC_CHECK(cudaMemcpyAsync(&v, index + (o * s[0] + j * s[1] + i * s[2]), sizeof v,
                           cudaMemcpyDeviceToHost, lc.stream));
  LC_CHECK(cudaStreamSynchronize(lc.stream));
  return lc_fail(LITS_ERR_ARGUMENT, "%s: index %d (element %lld of the index) is out of range [0, %lld)",
                 lc_fn, (int)v, (long long)(o * s[0] + j * s[1] + i * s[2]), (long long)r);
}

extern "C" int lits_gather_f32(const float* x, const int32_t* index,
                               const int64_t* index_strides_host, float* out, int64_t outer,
                               int64_t r, int64_t k, int64_t inner, int32_t check_index) {
  LC_ENTER("lits_gather_f32");
  const int chk = lits_check_gather(lc_fn, x, index, index_strides_host, out, outer, r, k, inner);
  if (chk != LITS_OK) return chk == LITS_EMPTY ? LITS_OK : chk;
  const int64_t* s = index_strides_host;
  if (check_index) LC_TRY(validate(lc_fn, index, s, outer, r, k, inner));
  const lc_gather g = {index, s[0], s[1], s[2], outer, r, k, inner};
  gather_kernel<<<lc_blocks(outer * k * inner), LC_THREADS, 0, lc.stream>>>(g, x, out);
  LC_CHECK_LAUNCH("gather_kernel");
  return LITS_OK;
}

extern "C" int lits_scatter_add_f32(const float* dy, const int32_t* index,
                                    const int64_t* index_strides_host, float* dx, int64_t outer,
                                    int64_t r, int64_t k, int64_t inner) {
  LC_ENTER("lits_scatter_add_f32");
  const int chk =
      lits_check_gather(lc_fn, dy, index, index_strides_host, dx, outer, r, k, inner);
  if (chk != LITS_OK) return chk == LITS_EMPTY ? LITS_OK : chk;
  const int64_t* s = index_strides_host;
  const lc_gather g = {index, s[0], s[1], s[2], outer, r, k, inner};
  scatter_add_kernel<<<lc_blocks(outer * inner), LC_THREADS, 0, lc.stream>>>(g, dy, dx);
  LC_CHECK_LAUNCH("scatter_add_kernel");
  return LITS_OK;
}
