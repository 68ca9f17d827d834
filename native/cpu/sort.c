/* sort.c: torch.sort, argsort and topk along the middle dimension of
 * [outer, r, inner] (lits_sort.h has the order and the algorithms).
 *
 * Columns are independent, so threads take whole columns, each with its own
 * scratch; the answer does not depend on the thread count.
 */
#include <omp.h>
#include <stdlib.h>

#include "common.h"
#include "lits_sort.h"

/* Enough work to wake the other threads. */
#define PAR_THRESHOLD 16384

static int sort_columns(const char* fn, const void* x, int is_f32, int32_t* index, int64_t outer,
                        int64_t r, int64_t inner, int64_t k, int32_t descending) {
  LITS_CHECKED(lits_check_sort(fn, x, index, outer, r, inner, k, descending));
  const int64_t columns = outer * inner;
  const uint32_t flip = descending ? 0xFFFFFFFFu : 0u;
  const int par = columns > 1 && columns * r > PAR_THRESHOLD;
  /* One scratch per thread, taken before the threads start. */
  const int most = par ? omp_get_max_threads() : 1;
  const int threads = (int64_t)most < columns ? most : (int)columns;
  const size_t per_thread = (size_t)r * 16;
  char* block = malloc(per_thread * (size_t)threads);
  if (block == NULL) {
    return lits_fail(LITS_ERR_MEMORY, "%s: out of memory for %d threads' columns of %lld (%lld bytes)",
                     fn, threads, (long long)r, (long long)(per_thread * (size_t)threads));
  }
#pragma omp parallel num_threads(threads) if (par)
  {
    lits_sort_scratch s;
    s.key = (uint32_t*)(block + per_thread * (size_t)omp_get_thread_num());
    s.key2 = s.key + r;
    s.pos = (int32_t*)(s.key2 + r);
    s.pos2 = s.pos + r;
#pragma omp for schedule(dynamic, 1)
    for (int64_t c = 0; c < columns; c++) {
      const int64_t o = c / inner, i = c % inner, base = o * r * inner + i;
      if (is_f32) {
        const float* xc = (const float*)x + base;
        for (int64_t j = 0; j < r; j++) s.key[j] = lits_sort_key_f32(xc[j * inner]) ^ flip;
      } else {
        const int32_t* xc = (const int32_t*)x + base;
        for (int64_t j = 0; j < r; j++) s.key[j] = lits_sort_key_i32(xc[j * inner]) ^ flip;
      }
      lits_sort_column(&s, r, k, index + o * k * inner + i, inner);
    }
  }
  free(block);
  return LITS_OK;
}

int lits_sort_f32(const float* x, int32_t* index, int64_t outer, int64_t r, int64_t inner,
                  int64_t k, int32_t descending) {
  lits_clear_error();
  return sort_columns("lits_sort_f32", x, 1, index, outer, r, inner, k, descending);
}

int lits_sort_i32(const int32_t* x, int32_t* index, int64_t outer, int64_t r, int64_t inner,
                  int64_t k, int32_t descending) {
  lits_clear_error();
  return sort_columns("lits_sort_i32", x, 0, index, outer, r, inner, k, descending);
}
