/* copy.cu: host <-> device copies, device copies, fills, casts and the
 * strided gather that makes views dense.
 *
 * Host copies are the only places host memory is touched. Both directions
 * wait for the stream: a device -> host copy must have landed before the
 * caller reads it, and a host -> device copy must have read the caller's
 * (pageable, garbage-collected) buffer before we return.
 */
#include <limits.h>
#include <string.h>

#include "common.cuh"
#include "indexing.cuh"

/* ---- copies ------------------------------------------------------------------ */

static int check_copy(const char* fn, const void* dst, const void* src, int64_t bytes) {
  LC_REQUIRE(bytes >= 0, "%s: bytes must be >= 0, got %lld", fn, (long long)bytes);
  if (bytes == 0) return LITS_OK;
  LC_REQUIRE(dst != NULL, "%s: dst is NULL (bytes %lld)", fn, (long long)bytes);
  LC_REQUIRE(src != NULL, "%s: src is NULL (bytes %lld)", fn, (long long)bytes);
  return LITS_OK;
}

/* h2d and d2h: wait for the stream (see the top of the file). */
static int copy_host(const char* lc_fn, void* dst, const void* src, int64_t bytes,
                     cudaMemcpyKind kind) {
  LC_TRY(check_copy(lc_fn, dst, src, bytes));
  if (bytes == 0) return LITS_OK;
  LC_CHECK(cudaMemcpyAsync(dst, src, (size_t)bytes, kind, lc.stream));
  LC_CHECK(cudaStreamSynchronize(lc.stream));
  return LITS_OK;
}

extern "C" int lits_copy_h2d(void* dst, const void* src_host, int64_t bytes) {
  LC_ENTER("lits_copy_h2d");
  return copy_host(lc_fn, dst, src_host, bytes, cudaMemcpyHostToDevice);
}

extern "C" int lits_copy_d2h(void* dst_host, const void* src, int64_t bytes) {
  LC_ENTER("lits_copy_d2h");
  return copy_host(lc_fn, dst_host, src, bytes, cudaMemcpyDeviceToHost);
}

extern "C" int lits_copy_d2d(void* dst, const void* src, int64_t bytes) {
  LC_ENTER("lits_copy_d2d");
  LC_TRY(check_copy(lc_fn, dst, src, bytes));
  if (bytes == 0 || dst == src) return LITS_OK;
  const uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;
  const bool overlap = d < s + (uintptr_t)bytes && s < d + (uintptr_t)bytes;
  if (!overlap) {
    LC_CHECK(cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyDeviceToDevice, lc.stream));
    return LITS_OK;
  }
  /* memmove semantics (as the CPU backend): through a scratch buffer, since
   * cudaMemcpy on overlapping ranges is undefined. */
  void* tmp = NULL;
  LC_TRY(lc_scratch_alloc(lc_fn, bytes, &tmp));
  cudaError_t e = cudaMemcpyAsync(tmp, src, (size_t)bytes, cudaMemcpyDeviceToDevice, lc.stream);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(dst, tmp, (size_t)bytes, cudaMemcpyDeviceToDevice, lc.stream);
  lc_scratch_free(tmp);
  LC_CHECK(e);
  return LITS_OK;
}

/* ---- fills and casts -------------------------------------------------------------- */

/* Both fills write 4-byte words: one kernel over the value's bits. */
__global__ void fill_kernel(uint32_t* x, int64_t n, uint32_t bits) {
  LC_GRID_LOOP(i, n) x[i] = bits;
}

static int fill_words(const char* lc_fn, void* x, int64_t n, uint32_t bits) {
  LITS_CHECKED(lits_check_count(lc_fn, n, x != NULL, "x"));
  fill_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>((uint32_t*)x, n, bits);
  LC_CHECK_LAUNCH("fill_kernel");
  return LITS_OK;
}

extern "C" int lits_fill_f32(float* x, int64_t n, float value) {
  LC_ENTER("lits_fill_f32");
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return fill_words(lc_fn, x, n, bits);
}

extern "C" int lits_fill_i32(int32_t* x, int64_t n, int32_t value) {
  LC_ENTER("lits_fill_i32");
  return fill_words(lc_fn, x, n, (uint32_t)value);
}

/* int32 -> float rounds to nearest, as the CPU. */
__device__ float cast_value(int32_t v) { return (float)v; }
/* float -> int32 truncates toward zero and saturates, NaN gives 0: the
 * hardware conversion (cvt.rzi.s32.f32), which the CPU backend reproduces. */
__device__ int32_t cast_value(float v) { return __float2int_rz(v); }

template <typename S, typename D>
__global__ void cast_kernel(const S* src, D* dst, int64_t n) {
  LC_GRID_LOOP(i, n) dst[i] = cast_value(src[i]);
}

template <typename S, typename D>
static int cast(const char* lc_fn, const S* src, D* dst, int64_t n) {
  LITS_CHECKED(lits_check_count(lc_fn, n, src != NULL && dst != NULL, "src or dst"));
  cast_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(src, dst, n);
  LC_CHECK_LAUNCH("cast_kernel");
  return LITS_OK;
}

extern "C" int lits_cast_i32_f32(const int32_t* src, float* dst, int64_t n) {
  LC_ENTER("lits_cast_i32_f32");
  return cast(lc_fn, src, dst, n);
}

extern "C" int lits_cast_f32_i32(const float* src, int32_t* dst, int64_t n) {
  LC_ENTER("lits_cast_f32_i32");
  return cast(lc_fn, src, dst, n);
}

/* ---- strided copy ---------------------------------------------------------------- */

template <typename I>
__global__ void strided_copy_kernel(lc_view v, const uint32_t* src, uint32_t* dst, I n) {
  for (I i = (I)(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += (I)(gridDim.x * blockDim.x)) {
    dst[i] = src[lc_offset<I>(v, 0, i)];
  }
}

extern "C" int lits_strided_copy(int32_t ndim, const int64_t* shape_host, const void* src,
                                 const int64_t* src_strides_host, void* dst) {
  LC_ENTER("lits_strided_copy");
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided(lc_fn, ndim, shape_host, 1, &src_strides_host, &total));
  LC_REQUIRE(src != NULL && dst != NULL, "%s: src or dst is NULL (%lld elements)", lc_fn,
             (long long)total);
  lc_view v;
  const int64_t* strides[1] = {src_strides_host};
  lc_simplify(ndim, shape_host, 1, strides, &v);
  if (v.nd == 0 || (v.nd == 1 && v.stride[0][0] == 1)) {
    /* One element, or already dense: a plain copy. */
    LC_CHECK(cudaMemcpyAsync(dst, src, (size_t)total * 4, cudaMemcpyDeviceToDevice, lc.stream));
    return LITS_OK;
  }
  if (lc_fits_int32(&v, 1, total)) {
    strided_copy_kernel<int32_t><<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(
        v, (const uint32_t*)src, (uint32_t*)dst, (int32_t)total);
  } else {
    strided_copy_kernel<int64_t><<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(
        v, (const uint32_t*)src, (uint32_t*)dst, total);
  }
  LC_CHECK_LAUNCH("strided_copy_kernel");
  return LITS_OK;
}
