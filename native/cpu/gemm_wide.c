/* gemm_wide.c: lits_gemm_f32's products with one short side, C [m, n] =
 * op(A) [m, k] B [k, n] with few rows (m) or a short sum (k) and many
 * columns: a linear layer's gradients (the small CNN's 32768 -> 256 at
 * batch 16: dx = dy W, m = 16; dW = dy^T x, k = 16). OpenBLAS packs B
 * (33.5 MB of weights for dx) before it multiplies, and ran both at a
 * third of the memory's pace; packed_gemm.c's GEMM reads B where it lies,
 * prefetching the rows it reads next, packs only A (small here), and
 * streams a large C past the caches. Each thread takes a slab of C's
 * columns. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "stream_store.h"

/* The short side at most this, the columns at least WIDE_MIN_COLS. */
#define WIDE_MAX_SHORT 16
#define WIDE_MIN_COLS 4096

int lits_gemm_wide(int trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                   const float* b, int64_t ldb, float* c, int64_t ldc) {
  const char* env = getenv("LITS_GEMM_WIDE");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  /* A packs from contiguous rows only (lda = its row length). */
  if ((m > WIDE_MAX_SHORT && k > WIDE_MAX_SHORT) || n < WIDE_MIN_COLS ||
      lda != (trans_a ? m : k) || !lits_packed_gemm_applies(n)) {
    return 0;
  }
  const int threads = omp_get_max_threads();
  const int64_t slab = (n / threads + 31) / 32 * 32; /* whole panels a thread */
  const int64_t per = round16(lits_packed_gemm_scratch()) + round16(2 * slab); /* + int64 offsets */
  float* scratch = thread_scratch(per, threads, lits_packed_gemm_weights_floats(m, k));
  if (scratch == NULL) return 0; /* OpenBLAS then, which needs no scratch of ours */
  float* ap = scratch + per * threads;
  lits_packed_gemm_pack_a(a, m, k, trans_a, ap);
  const int stream = stream_output(m * n);
#pragma omp parallel num_threads(threads)
  {
    const int64_t j0 = slab * omp_get_thread_num();
    const int64_t cols = n - j0 < slab ? n - j0 : slab;
    float* buf = scratch + per * omp_get_thread_num();
    int64_t* off = (int64_t*)(buf + round16(lits_packed_gemm_scratch()));
    if (cols > 0) {
      for (int64_t j = 0; j < cols; j++) off[j] = j;
      lits_packed_gemm_out(m, cols, k, ap, b + j0, ldb, off, NULL, k, c + j0, ldc, cols, 0, NULL,
                           NULL, stream, NULL, buf);
    }
  }
  lits_scratch_free(scratch);
  return 1;
}
