/* elementwise.cu: unary ops, their backward, and broadcasting binary ops.
 *
 * The op is a kernel argument: every thread of a launch takes the same branch
 * of the switch, so it costs nothing next to the memory traffic, and one
 * kernel per shape pattern keeps the library small. Binary ops have a dense
 * kernel (both inputs contiguous or one a scalar, the common cases in
 * training) and a general strided one.
 */
#include <limits.h>

#include "common.cuh"
#include "elementwise.cuh"
#include "indexing.cuh"

__global__ void unary_kernel(int op, const float* x, float* y, int64_t n, float alpha) {
  LC_GRID_LOOP(i, n) y[i] = lc_unary(op, x[i], alpha);
}

/* x or y may be NULL when the op does not read it (checked on the host). */
__global__ void unary_backward_kernel(int op, const float* x, const float* y, const float* dy,
                                      float* dx, int64_t n, float alpha) {
  LC_GRID_LOOP(i, n) {
    const float xv = x ? x[i] : 0.0f, yv = y ? y[i] : 0.0f;
    dx[i] = lc_unary_grad(op, xv, yv, dy[i], alpha);
  }
}

extern "C" int lits_unary_f32(int32_t op, const float* x, float* y, int64_t n, float alpha) {
  LC_ENTER("lits_unary_f32");
  LC_REQUIRE(op >= LITS_NEG && op <= LITS_ERFINV, "%s: unknown op %d", lc_fn, (int)op);
  LITS_CHECKED(lits_check_count(lc_fn, n, x != NULL && y != NULL, "x or y"));
  unary_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(op, x, y, n, alpha);
  LC_CHECK_LAUNCH("unary_kernel");
  return LITS_OK;
}

extern "C" int lits_unary_backward_f32(int32_t op, const float* x, const float* y,
                                       const float* dy, float* dx, int64_t n, float alpha) {
  LC_ENTER("lits_unary_backward_f32");
  LC_REQUIRE(op >= LITS_NEG && op <= LITS_ERFINV, "%s: unknown op %d", lc_fn, (int)op);
  LITS_CHECKED(lits_check_count(lc_fn, n, dy != NULL && dx != NULL, "dy or dx"));
  LC_REQUIRE(!lc_unary_grad_needs_x(op) || x != NULL, "%s: op %d needs x, which is NULL", lc_fn,
             (int)op);
  LC_REQUIRE(!lc_unary_grad_needs_y(op) || y != NULL, "%s: op %d needs y, which is NULL", lc_fn,
             (int)op);
  /* Pass only what the op reads: a caller may give stale pointers otherwise. */
  const float* xp = lc_unary_grad_needs_x(op) ? x : NULL;
  const float* yp = lc_unary_grad_needs_y(op) ? y : NULL;
  unary_backward_kernel<<<lc_blocks(n), LC_THREADS, 0, lc.stream>>>(op, xp, yp, dy, dx, n, alpha);
  LC_CHECK_LAUNCH("unary_backward_kernel");
  return LITS_OK;
}

/* Flat: a[i * sa] op b[i * sb] with sa, sb in {0, 1}. */
__global__ void binary_flat_kernel(int op, const float* a, int64_t sa, const float* b, int64_t sb,
                                   float* out, int64_t n) {
  LC_GRID_LOOP(i, n) out[i] = lc_binary(op, a[i * sa], b[i * sb]);
}

template <typename I>
__global__ void binary_strided_kernel(int op, lc_view v, const float* a, const float* b,
                                      float* out, I n) {
  for (I i = (I)(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += (I)(gridDim.x * blockDim.x)) {
    I oa, ob;
    lc_offset2<I>(v, i, &oa, &ob);
    out[i] = lc_binary(op, a[oa], b[ob]);
  }
}

extern "C" int lits_binary_f32(int32_t op, int32_t ndim, const int64_t* shape_host,
                               const float* a, const int64_t* a_strides_host, const float* b,
                               const int64_t* b_strides_host, float* out) {
  LC_ENTER("lits_binary_f32");
  LC_REQUIRE(op >= LITS_ADD && op <= LITS_ATAN2, "%s: unknown op %d", lc_fn, (int)op);
  const int64_t* strides[2] = {a_strides_host, b_strides_host};
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided(lc_fn, ndim, shape_host, 2, strides, &total));
  LC_REQUIRE(a != NULL && b != NULL && out != NULL, "%s: a, b or out is NULL (%lld elements)",
             lc_fn, (long long)total);
  lc_view v;
  lc_simplify(ndim, shape_host, 2, strides, &v);
  if (v.nd == 0) {
    binary_flat_kernel<<<1, 1, 0, lc.stream>>>(op, a, 0, b, 0, out, 1);
    LC_CHECK_LAUNCH("binary_flat_kernel");
    return LITS_OK;
  }
  const int64_t sa = v.stride[0][0], sb = v.stride[1][0];
  if (v.nd == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
    binary_flat_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(op, a, sa, b, sb, out,
                                                                         total);
    LC_CHECK_LAUNCH("binary_flat_kernel");
  } else if (lc_fits_int32(&v, 2, total)) {
    binary_strided_kernel<int32_t><<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(
        op, v, a, b, out, (int32_t)total);
    LC_CHECK_LAUNCH("binary_strided_kernel<int32_t>");
  } else {
    binary_strided_kernel<int64_t><<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(op, v, a, b,
                                                                                   out, total);
    LC_CHECK_LAUNCH("binary_strided_kernel<int64_t>");
  }
  return LITS_OK;
}

/* ---- where: three strided operands ------------------------------------- */

/* Dims and element strides of cond, a and b over the dense output. where is
 * not on a training hot path, so one 64-bit kernel serves every layout. */
struct lc_where_view {
  int32_t nd;
  int64_t shape[LC_MAX_DIMS];
  int64_t stride[3][LC_MAX_DIMS];
};

__global__ void where_kernel(lc_where_view v, const float* cond, const float* a, const float* b,
                             float* out, int64_t n) {
  LC_GRID_LOOP(i, n) {
    int64_t rem = i, oc = 0, oa = 0, ob = 0;
    for (int d = v.nd - 1; d >= 0; d--) {
      const int64_t q = rem / v.shape[d], r = rem - q * v.shape[d];
      oc += r * v.stride[0][d];
      oa += r * v.stride[1][d];
      ob += r * v.stride[2][d];
      rem = q;
    }
    out[i] = cond[oc] != 0.0f ? a[oa] : b[ob]; /* only the chosen value is read */
  }
}

extern "C" int lits_where_f32(int32_t ndim, const int64_t* shape_host, const float* cond,
                              const int64_t* cond_strides_host, const float* a,
                              const int64_t* a_strides_host, const float* b,
                              const int64_t* b_strides_host, float* out) {
  LC_ENTER("lits_where_f32");
  const int64_t* strides[3] = {cond_strides_host, a_strides_host, b_strides_host};
  int64_t total = 0;
  LITS_CHECKED(lits_check_strided(lc_fn, ndim, shape_host, 3, strides, &total));
  LC_REQUIRE(cond != NULL && a != NULL && b != NULL && out != NULL,
             "%s: cond, a, b or out is NULL (%lld elements)", lc_fn, (long long)total);
  lc_where_view v;
  v.nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    if (shape_host[d] == 1) continue; /* size-1 dimensions add no offset */
    v.shape[v.nd] = shape_host[d];
    for (int o = 0; o < 3; o++) v.stride[o][v.nd] = strides[o][d];
    v.nd++;
  }
  where_kernel<<<lc_blocks(total), LC_THREADS, 0, lc.stream>>>(v, cond, a, b, out, total);
  LC_CHECK_LAUNCH("where_kernel");
  return LITS_OK;
}
