/* sort.cu: torch.sort, argsort and topk along the middle dimension of
 * [outer, r, inner], as sort.c.
 *
 * The values come to the host, lits_sort.h orders them there, and the
 * positions go back: the same code as the CPU backend, so both give the same
 * answer, ties included. Sorting serves scores and rankings (top-k
 * predictions, quantiles), where the copy is small beside the training that
 * made them; a device radix sort would pay off only for large sorts.
 */
#include <stdlib.h>

#include "common.cuh"
#include "lits_sort.h"

static int sort_on_host(const char* lc_fn, const void* x, int is_f32, int32_t* index,
                        int64_t outer, int64_t r, int64_t inner, int64_t k, int32_t descending) {
  const int64_t n = outer * r * inner, m = outer * k * inner;
  /* Values (4 bytes each), then the positions out, then one column's scratch. */
  char* host = (char*)malloc((size_t)(n + m) * 4 + (size_t)r * 16);
  if (host == NULL) {
    return lc_fail(LITS_ERR_MEMORY, "%s: out of host memory for %lld values", lc_fn,
                   (long long)n);
  }
  int32_t* out = (int32_t*)(host + (size_t)n * 4);
  lits_sort_scratch s;
  s.key = (uint32_t*)(host + (size_t)(n + m) * 4);
  s.key2 = s.key + r;
  s.pos = (int32_t*)(s.key2 + r);
  s.pos2 = s.pos + r;
  cudaError_t e = cudaMemcpyAsync(host, x, (size_t)n * 4, cudaMemcpyDeviceToHost, lc.stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(lc.stream);
  if (e == cudaSuccess) {
    const uint32_t flip = descending ? 0xFFFFFFFFu : 0u;
    for (int64_t c = 0; c < outer * inner; c++) {
      const int64_t o = c / inner, i = c % inner, base = o * r * inner + i;
      for (int64_t j = 0; j < r; j++) {
        const int64_t t = base + j * inner;
        s.key[j] = (is_f32 ? lits_sort_key_f32(((const float*)host)[t])
                           : lits_sort_key_i32(((const int32_t*)host)[t])) ^ flip;
      }
      lits_sort_column(&s, r, k, out + o * k * inner + i, inner);
    }
    e = cudaMemcpyAsync(index, out, (size_t)m * 4, cudaMemcpyHostToDevice, lc.stream);
    /* The host buffer must outlive the copy. */
    if (e == cudaSuccess) e = cudaStreamSynchronize(lc.stream);
  }
  free(host);
  if (e != cudaSuccess) return lc_fail_status(lc_fn, "copying for the host sort", e);
  return LITS_OK;
}

extern "C" int lits_sort_f32(const float* x, int32_t* index, int64_t outer, int64_t r,
                             int64_t inner, int64_t k, int32_t descending) {
  LC_ENTER("lits_sort_f32");
  LITS_CHECKED(lits_check_sort(lc_fn, x, index, outer, r, inner, k, descending));
  return sort_on_host(lc_fn, x, 1, index, outer, r, inner, k, descending);
}

extern "C" int lits_sort_i32(const int32_t* x, int32_t* index, int64_t outer, int64_t r,
                             int64_t inner, int64_t k, int32_t descending) {
  LC_ENTER("lits_sort_i32");
  LITS_CHECKED(lits_check_sort(lc_fn, x, index, outer, r, inner, k, descending));
  return sort_on_host(lc_fn, x, 0, index, outer, r, inner, k, descending);
}
