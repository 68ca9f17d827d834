/* copy.c: copies between host and device memory (both host memory here),
 * fills, casts and the strided gather that makes views dense. */
#include <limits.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "common.h"

#define PAR_THRESHOLD 32768

/* ---- copies, fills, casts ----------------------------------------------- */

static int copy_impl(const char* fn, void* dst, const void* src, int64_t bytes) {
  LITS_REQUIRE(bytes >= 0, "%s: bytes must be >= 0, got %lld", fn, (long long)bytes);
  if (bytes == 0) return LITS_OK;
  LITS_REQUIRE(dst != NULL, "%s: dst is NULL (bytes %lld)", fn, (long long)bytes);
  LITS_REQUIRE(src != NULL, "%s: src is NULL (bytes %lld)", fn, (long long)bytes);
  if (dst != src) memmove(dst, src, (size_t)bytes);
  return LITS_OK;
}

int lits_copy_h2d(void* dst, const void* src_host, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_h2d", dst, src_host, bytes);
}

int lits_copy_d2h(void* dst_host, const void* src, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_d2h", dst_host, src, bytes);
}

int lits_copy_d2d(void* dst, const void* src, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_d2d", dst, src, bytes);
}

/* Both fills write 4-byte words: one loop over the value's bits. */
static int fill_words(const char* fn, void* x, int64_t n, uint32_t bits) {
  LITS_CHECKED(lits_check_count(fn, n, x != NULL, "x"));
  uint32_t* w = (uint32_t*)x;
#pragma omp parallel for simd schedule(static) if (n > 4 * PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) w[i] = bits;
  return LITS_OK;
}

int lits_fill_f32(float* x, int64_t n, float value) {
  lits_clear_error();
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return fill_words("lits_fill_f32", x, n, bits);
}

int lits_fill_i32(int32_t* x, int64_t n, int32_t value) {
  lits_clear_error();
  return fill_words("lits_fill_i32", x, n, (uint32_t)value);
}

int lits_cast_i32_f32(const int32_t* src, float* dst, int64_t n) {
  lits_clear_error();
  LITS_CHECKED(lits_check_count("lits_cast_i32_f32", n, src != NULL && dst != NULL, "src or dst"));
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) dst[i] = (float)src[i];
  return LITS_OK;
}

/* Truncates toward zero and saturates: values beyond the int32 range give
 * INT32_MIN / INT32_MAX and NaN gives 0 (C leaves these undefined; this is
 * what CUDA's float-to-int conversion does, so both backends agree). */
int lits_cast_f32_i32(const float* src, int32_t* dst, int64_t n) {
  lits_clear_error();
  LITS_CHECKED(lits_check_count("lits_cast_f32_i32", n, src != NULL && dst != NULL, "src or dst"));
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) {
    float v = src[i];
    float c = v < -2147483648.0f ? -2147483648.0f : (v > 2147483520.0f ? 2147483520.0f : v);
    int32_t t = (int32_t)(c == c ? c : 0.0f);
    dst[i] = v >= 2147483648.0f ? INT32_MAX : t;
  }
  return LITS_OK;
}

/* ---- strided copy -------------------------------------------------------- */

int lits_strided_copy(int32_t ndim, const int64_t* shape_host, const void* src,
                      const int64_t* src_strides_host, void* dst) {
  lits_clear_error();
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided("lits_strided_copy", ndim, shape_host, 1, &src_strides_host,
                                  &total));
  LITS_REQUIRE(src != NULL && dst != NULL, "lits_strided_copy: src or dst is NULL (%lld elements)",
               (long long)total);
  const uint32_t* s = (const uint32_t*)src;
  uint32_t* o = (uint32_t*)dst;

  /* Drop size-1 dimensions and merge dimensions that are contiguous in src. */
  int64_t shp[8], st[8];
  int nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    if (shape_host[d] == 1) continue;
    if (nd > 0 && st[nd - 1] == src_strides_host[d] * shape_host[d]) {
      shp[nd - 1] *= shape_host[d];
      st[nd - 1] = src_strides_host[d];
    } else {
      shp[nd] = shape_host[d];
      st[nd] = src_strides_host[d];
      nd++;
    }
  }
  if (nd == 0) {
    o[0] = s[0];
    return LITS_OK;
  }
  int64_t inner = shp[nd - 1], is = st[nd - 1];
  int64_t rows = total / inner;
  int par = total > PAR_THRESHOLD && rows > 1;

#pragma omp parallel if (par)
  {
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      /* Odometer over the outer dimensions, started at row r0. */
      int64_t idx[8] = {0};
      int64_t off = 0, rem = r0;
      for (int d = nd - 2; d >= 0; d--) {
        idx[d] = rem % shp[d];
        rem /= shp[d];
        off += idx[d] * st[d];
      }
      for (int64_t r = r0; r < r1; r++) {
        const uint32_t* sp = s + off;
        uint32_t* op = o + r * inner;
        if (is == 1) {
          memcpy(op, sp, (size_t)inner * 4);
        } else if (is == 0) {
          uint32_t v = sp[0];
          for (int64_t i = 0; i < inner; i++) op[i] = v;
        } else {
          for (int64_t i = 0; i < inner; i++) op[i] = sp[i * is];
        }
        for (int d = nd - 2; d >= 0; d--) {
          off += st[d];
          if (++idx[d] < shp[d]) break;
          off -= st[d] * shp[d];
          idx[d] = 0;
        }
      }
    }
  }
  return LITS_OK;
}
