/* random.cu: uniform and normal numbers and dropout from Philox (random.cuh).
 * One thread makes the (up to) four numbers of one counter block, so the
 * Philox rounds run once per four outputs, as on the CPU. */
#include "common.cuh"
#include "random.cuh"

__global__ void uniform_kernel(float* out, int64_t n, int64_t nblocks, uint64_t seed,
                               uint64_t offset, float low, float d) {
  LC_GRID_LOOP(j, nblocks) {
    const lc_philox4 r = lc_philox_block(offset, (uint64_t)j, seed);
    const int64_t i0 = j * 4;
    const int m = n - i0 < 4 ? (int)(n - i0) : 4;
    for (int l = 0; l < m; l++) out[i0 + l] = fmaf(d, lc_u01(r.v[l]), low);
  }
}

__global__ void normal_kernel(float* out, int64_t n, int64_t nblocks, uint64_t seed,
                              uint64_t offset, float mean, float std) {
  LC_GRID_LOOP(j, nblocks) {
    const lc_philox4 r = lc_philox_block(offset, (uint64_t)j, seed);
    float z[4];
    lc_normal4(r, z);
    const int64_t i0 = j * 4;
    const int m = n - i0 < 4 ? (int)(n - i0) : 4;
    for (int l = 0; l < m; l++) out[i0 + l] = fmaf(std, z[l], mean);
  }
}

/* mask may be NULL (y is still x * mask). */
__global__ void dropout_kernel(const float* x, float* y, float* mask, int64_t n, int64_t nblocks,
                               float p, float scale, uint64_t seed, uint64_t offset) {
  LC_GRID_LOOP(j, nblocks) {
    const lc_philox4 r = lc_philox_block(offset, (uint64_t)j, seed);
    const int64_t i0 = j * 4;
    const int m = n - i0 < 4 ? (int)(n - i0) : 4;
    for (int l = 0; l < m; l++) {
      const float mk = lc_u01(r.v[l]) >= p ? scale : 0.0f;
      if (mask) mask[i0 + l] = mk;
      y[i0 + l] = x[i0 + l] * mk;
    }
  }
}

extern "C" int lits_rand_uniform_f32(float* out, int64_t n, uint64_t seed, uint64_t offset,
                                     float low, float high) {
  LC_ENTER("lits_rand_uniform_f32");
  LITS_CHECKED(lits_check_uniform(lc_fn, out, n, low, high));
  const int64_t nblocks = (n + 3) / 4;
  uniform_kernel<<<lc_blocks(nblocks), LC_THREADS, 0, lc.stream>>>(out, n, nblocks, seed, offset,
                                                                   low, high - low);
  LC_CHECK_LAUNCH("uniform_kernel");
  return LITS_OK;
}

extern "C" int lits_rand_normal_f32(float* out, int64_t n, uint64_t seed, uint64_t offset,
                                    float mean, float std) {
  LC_ENTER("lits_rand_normal_f32");
  LITS_CHECKED(lits_check_normal(lc_fn, out, n, std));
  const int64_t nblocks = (n + 3) / 4;
  normal_kernel<<<lc_blocks(nblocks), LC_THREADS, 0, lc.stream>>>(out, n, nblocks, seed, offset,
                                                                  mean, std);
  LC_CHECK_LAUNCH("normal_kernel");
  return LITS_OK;
}

extern "C" int lits_dropout_f32(const float* x, float* y, float* mask, int64_t n, float p,
                                uint64_t seed, uint64_t offset) {
  LC_ENTER("lits_dropout_f32");
  LITS_CHECKED(lits_check_dropout(lc_fn, x, y, n, p));
  /* Rounded from double exactly as the CPU does, so the masks agree bitwise. */
  const float scale = p < 1.0f ? (float)(1.0 / (1.0 - (double)p)) : 0.0f;
  const int64_t nblocks = (n + 3) / 4;
  dropout_kernel<<<lc_blocks(nblocks), LC_THREADS, 0, lc.stream>>>(x, y, mask, n, nblocks, p,
                                                                   scale, seed, offset);
  LC_CHECK_LAUNCH("dropout_kernel");
  return LITS_OK;
}
