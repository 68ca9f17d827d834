/*
 * lits_check.h: the argument rules of lits.h, written once for every backend.
 *
 * Header-only; compiles as C99 (native/cpu) and as CUDA C++ host code
 * (native/cuda), so a rule changes in one place and both backends give the
 * same message for the same bad call. Each backend defines lits_check_fail
 * (records the message for lits_last_error(), returns LITS_ERR_ARGUMENT).
 *
 * A lits_check_* function returns LITS_OK, an error status, or LITS_EMPTY:
 * the arguments are valid and the output has no elements, so the call is a
 * no-op (lits.h's rule; the entry point returns LITS_OK before it reads a
 * pointer, which may then be NULL). Backend limits (BLAS's 32-bit sizes,
 * cuDNN's) stay in the backend.
 */
#ifndef LITS_CHECK_H
#define LITS_CHECK_H

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Not a status of lits.h: never returned to a caller (see LITS_CHECKED). */
#define LITS_EMPTY (-1)

/* printf-style; records the message and returns LITS_ERR_ARGUMENT. Internal
 * to each library (hidden: only lits.h leaves it). */
__attribute__((visibility("hidden"), format(printf, 1, 2))) int lits_check_fail(const char* fmt,
                                                                                 ...);

/* Returns LITS_ERR_ARGUMENT with the message when cond is false. */
#define LITS_CHECK(cond, ...) \
  do { \
    if (!(cond)) return lits_check_fail(__VA_ARGS__); \
  } while (0)

/* Runs a check in an entry point: an error returns it, LITS_EMPTY returns
 * LITS_OK (nothing to compute), LITS_OK goes on. */
#define LITS_CHECKED(call) \
  do { \
    const int lits_st_ = (call); \
    if (lits_st_ != LITS_OK) return lits_st_ == LITS_EMPTY ? LITS_OK : lits_st_; \
  } while (0)

/* a * b into *out; 0 on int64 overflow or a negative operand. */
static inline int lits_mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return 0;
  return !__builtin_mul_overflow(a, b, out);
}

/* ---- element counts ----------------------------------------------------- */

/* n elements: n >= 0, and when n > 0 the buffers (`names`, e.g. "src or
 * dst") must be there (`present`); LITS_EMPTY when n is 0. */
static inline int lits_check_count(const char* fn, int64_t n, int present, const char* names) {
  LITS_CHECK(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  if (n == 0) return LITS_EMPTY;
  LITS_CHECK(present, "%s: %s is NULL (n %lld)", fn, names, (long long)n);
  return LITS_OK;
}

/* ---- GEMM --------------------------------------------------------------- */

static inline int lits_check_gemm(const char* fn, int32_t trans_a, int32_t trans_b, int64_t m,
                                  int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                                  int64_t batch, int64_t stride_a, int64_t stride_b,
                                  int64_t stride_c) {
  LITS_CHECK(trans_a == 0 || trans_a == 1, "%s: trans_a=%d must be 0 or 1", fn, (int)trans_a);
  LITS_CHECK(trans_b == 0 || trans_b == 1, "%s: trans_b=%d must be 0 or 1", fn, (int)trans_b);
  LITS_CHECK(m >= 0 && n >= 0 && k >= 0, "%s: sizes m=%lld n=%lld k=%lld must be >= 0", fn,
             (long long)m, (long long)n, (long long)k);
  LITS_CHECK(batch >= 1, "%s: batch=%lld must be >= 1", fn, (long long)batch);
  LITS_CHECK(stride_a >= 0 && stride_b >= 0 && stride_c >= 0,
             "%s: strides a=%lld b=%lld c=%lld must be >= 0", fn, (long long)stride_a,
             (long long)stride_b, (long long)stride_c);
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k). */
  const int64_t a_cols = trans_a ? m : k;
  const int64_t b_cols = trans_b ? k : n;
  const int64_t min_lda = a_cols > 1 ? a_cols : 1;
  const int64_t min_ldb = b_cols > 1 ? b_cols : 1;
  const int64_t min_ldc = n > 1 ? n : 1;
  LITS_CHECK(lda >= min_lda, "%s: lda=%lld must be >= %lld (trans_a=%d, m=%lld, k=%lld)", fn,
             (long long)lda, (long long)min_lda, (int)trans_a, (long long)m, (long long)k);
  LITS_CHECK(ldb >= min_ldb, "%s: ldb=%lld must be >= %lld (trans_b=%d, k=%lld, n=%lld)", fn,
             (long long)ldb, (long long)min_ldb, (int)trans_b, (long long)k, (long long)n);
  LITS_CHECK(ldc >= min_ldc, "%s: ldc=%lld must be >= %lld (n=%lld)", fn, (long long)ldc,
             (long long)min_ldc, (long long)n);
  /* Both BLAS libraries (OpenBLAS, cuBLAS) take 32-bit sizes. */
  LITS_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
                 ldc <= INT_MAX,
             "%s: m=%lld n=%lld k=%lld lda=%lld ldb=%lld ldc=%lld exceed the 32-bit BLAS limit",
             fn, (long long)m, (long long)n, (long long)k, (long long)lda, (long long)ldb,
             (long long)ldc);
  return m == 0 || n == 0 ? LITS_EMPTY : LITS_OK;
}

/* ---- convolution -------------------------------------------------------- */

/* A convolution's geometry, as both backends keep it. */
typedef struct {
  int32_t n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups;
  int64_t oh, ow;
} lits_conv_geom;

/* Checks the geometry and fills *g. An empty batch (n = 0) is LITS_EMPTY:
 * the forward and data gradient have nothing to write (the filter and bias
 * gradients are zeros: their entry points write them). */
static inline int lits_check_conv(const char* fn, lits_conv_geom* g,
                                  const lits_conv2d_params* p) {
  LITS_CHECK(p != NULL, "%s: params is NULL", fn);
  const int32_t n = p->n, c = p->c, h = p->h, w = p->w, k = p->k, r = p->r, s = p->s;
  const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_h = p->pad_h;
  const int32_t pad_w = p->pad_w, dil_h = p->dil_h, dil_w = p->dil_w, groups = p->groups;
  LITS_CHECK(n >= 0 && c > 0 && h > 0 && w > 0,
             "%s: input sizes n=%d c=%d h=%d w=%d must be > 0 (n >= 0)", fn, (int)n, (int)c,
             (int)h, (int)w);
  LITS_CHECK(k > 0 && r > 0 && s > 0, "%s: filter sizes k=%d r=%d s=%d must be > 0", fn, (int)k,
             (int)r, (int)s);
  LITS_CHECK(stride_h > 0 && stride_w > 0, "%s: strides %dx%d must be > 0", fn, (int)stride_h,
             (int)stride_w);
  LITS_CHECK(dil_h > 0 && dil_w > 0, "%s: dilations %dx%d must be > 0", fn, (int)dil_h,
             (int)dil_w);
  LITS_CHECK(pad_h >= 0 && pad_w >= 0, "%s: padding %dx%d must be >= 0", fn, (int)pad_h,
             (int)pad_w);
  LITS_CHECK(groups > 0, "%s: groups=%d must be > 0", fn, (int)groups);
  LITS_CHECK(c % groups == 0 && k % groups == 0, "%s: groups=%d must divide both c=%d and k=%d",
             fn, (int)groups, (int)c, (int)k);
  const int64_t eff_h = (int64_t)dil_h * (r - 1) + 1, eff_w = (int64_t)dil_w * (s - 1) + 1;
  const int64_t in_h = (int64_t)h + 2 * (int64_t)pad_h, in_w = (int64_t)w + 2 * (int64_t)pad_w;
  LITS_CHECK(eff_h <= in_h && eff_w <= in_w,
             "%s: dilated kernel %lldx%lld (r=%d s=%d dil=%dx%d) is larger than the padded input "
             "%lldx%lld (h=%d w=%d pad=%dx%d)",
             fn, (long long)eff_h, (long long)eff_w, (int)r, (int)s, (int)dil_h, (int)dil_w,
             (long long)in_h, (long long)in_w, (int)h, (int)w, (int)pad_h, (int)pad_w);
  const lits_conv_geom out = {n,     c,     h,     w,     k,     r,     s,
                              stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups,
                              (in_h - eff_h) / stride_h + 1, (in_w - eff_w) / stride_w + 1};
  *g = out;
  int64_t x_el, y_el, w_el, t;
  const int ok = lits_mul_ok((int64_t)n * c, (int64_t)h * w, &x_el) &&
                 lits_mul_ok((int64_t)n * k, g->oh * g->ow, &y_el) &&
                 lits_mul_ok((int64_t)k * (c / groups), (int64_t)r * s, &w_el) &&
                 lits_mul_ok(x_el > y_el ? x_el : y_el, 4, &t) && lits_mul_ok(w_el, 4, &t);
  LITS_CHECK(ok, "%s: sizes overflow (n=%d c=%d h=%d w=%d k=%d r=%d s=%d)", fn, (int)n, (int)c,
             (int)h, (int)w, (int)k, (int)r, (int)s);
  return n == 0 ? LITS_EMPTY : LITS_OK;
}

/* dbias[k] over dy [n, k, hw]; n = 0 is valid (the sums are zeros), so this
 * returns LITS_EMPTY only when there is no channel. */
static inline int lits_check_conv_bias(const char* fn, int32_t n, int32_t k, int64_t hw) {
  LITS_CHECK(n >= 0 && k >= 0 && hw >= 0, "%s: sizes n=%d k=%d hw=%lld must be >= 0", fn, (int)n,
             (int)k, (long long)hw);
  int64_t t;
  LITS_CHECK(lits_mul_ok((int64_t)n * k, hw, &t) && lits_mul_ok(t, 4, &t),
             "%s: sizes overflow (n=%d k=%d hw=%lld)", fn, (int)n, (int)k, (long long)hw);
  return k == 0 ? LITS_EMPTY : LITS_OK;
}

/* ---- pooling ------------------------------------------------------------ */

/* Sizes, padding and output size of a windowed pooling. Every window that
 * passes starts inside the input or its left/top padding and, as pad <=
 * kernel / 2, holds at least one input element. */
static inline int lits_check_pool(const char* fn, const lits_pool2d_params* p) {
  LITS_CHECK(p != NULL, "%s: params is NULL", fn);
  const int32_t n = p->n, c = p->c, h = p->h, w = p->w, kh = p->kh, kw = p->kw;
  const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_h = p->pad_h;
  const int32_t pad_w = p->pad_w, oh = p->oh, ow = p->ow;
  LITS_CHECK(n >= 0 && c >= 0 && h > 0 && w > 0,
             "%s: input sizes n=%d c=%d h=%d w=%d must be > 0 (n, c >= 0)", fn, (int)n, (int)c,
             (int)h, (int)w);
  LITS_CHECK(kh > 0 && kw > 0, "%s: kernel %dx%d must be > 0", fn, (int)kh, (int)kw);
  LITS_CHECK(stride_h > 0 && stride_w > 0, "%s: stride %dx%d must be > 0", fn, (int)stride_h,
             (int)stride_w);
  LITS_CHECK(pad_h >= 0 && pad_w >= 0 && pad_h <= kh / 2 && pad_w <= kw / 2,
             "%s: padding %dx%d must be >= 0 and at most half the kernel %dx%d", fn, (int)pad_h,
             (int)pad_w, (int)kh, (int)kw);
  LITS_CHECK(oh > 0 && ow > 0, "%s: output size %dx%d must be > 0", fn, (int)oh, (int)ow);
  const int64_t last_h = (int64_t)(oh - 1) * stride_h - pad_h;
  const int64_t last_w = (int64_t)(ow - 1) * stride_w - pad_w;
  LITS_CHECK(last_h < h && last_w < w,
             "%s: output %dx%d has windows starting at row %lld / column %lld, past the input "
             "%dx%d (kernel %dx%d, stride %dx%d, padding %dx%d)",
             fn, (int)oh, (int)ow, (long long)last_h, (long long)last_w, (int)h, (int)w, (int)kh,
             (int)kw, (int)stride_h, (int)stride_w, (int)pad_h, (int)pad_w);
  int64_t t;
  LITS_CHECK(lits_mul_ok((int64_t)n * c, (int64_t)h * w, &t) && lits_mul_ok(t, 4, &t) &&
                 lits_mul_ok((int64_t)n * c, (int64_t)oh * ow, &t) && lits_mul_ok(t, 4, &t) &&
                 (int64_t)h * w <= INT32_MAX,
             "%s: sizes overflow (n=%d c=%d h=%d w=%d oh=%d ow=%d)", fn, (int)n, (int)c, (int)h,
             (int)w, (int)oh, (int)ow);
  return (int64_t)n * c == 0 ? LITS_EMPTY : LITS_OK;
}

static inline int lits_check_adaptive_pool(const char* fn, int32_t n, int32_t c, int32_t h,
                                           int32_t w, int32_t oh, int32_t ow) {
  LITS_CHECK(n >= 0 && c >= 0 && h > 0 && w > 0,
             "%s: input sizes n=%d c=%d h=%d w=%d must be > 0 (n, c >= 0)", fn, (int)n, (int)c,
             (int)h, (int)w);
  LITS_CHECK(oh > 0 && ow > 0, "%s: output size %dx%d must be > 0", fn, (int)oh, (int)ow);
  int64_t t;
  LITS_CHECK(lits_mul_ok((int64_t)n * c, (int64_t)h * w, &t) && lits_mul_ok(t, 4, &t) &&
                 lits_mul_ok((int64_t)n * c, (int64_t)oh * ow, &t) && lits_mul_ok(t, 4, &t),
             "%s: sizes overflow (n=%d c=%d h=%d w=%d oh=%d ow=%d)", fn, (int)n, (int)c, (int)h,
             (int)w, (int)oh, (int)ow);
  return (int64_t)n * c == 0 ? LITS_EMPTY : LITS_OK;
}

/* ---- strided views (elementwise, where, strided copy) ------------------- */

/* A shape of up to 8 dims with `nstrides` stride arrays (one per operand):
 * non-NULL unless ndim is 0, sizes >= 0, its float bytes fit int64 (the
 * kernels index in bytes). Sets *total to the element count; LITS_EMPTY when
 * it is 0, so an empty view needs no data pointers. */
static inline int lits_check_strided(const char* fn, int32_t ndim, const int64_t* shape,
                                     int nstrides, const int64_t* const* strides,
                                     int64_t* total) {
  LITS_CHECK(ndim >= 0 && ndim <= 8, "%s: ndim must be in 0..8, got %d", fn, (int)ndim);
  int have = ndim == 0 || shape != NULL;
  for (int i = 0; i < nstrides && have; i++) have = ndim == 0 || strides[i] != NULL;
  LITS_CHECK(have, "%s: shape or strides is NULL (ndim %d)", fn, (int)ndim);
  int64_t t = 1;
  for (int32_t d = 0; d < ndim; d++) {
    LITS_CHECK(shape[d] >= 0, "%s: shape[%d] must be >= 0, got %lld", fn, (int)d,
               (long long)shape[d]);
    LITS_CHECK(shape[d] == 0 || t <= INT64_MAX / 4 / shape[d], "%s: shape is too large", fn);
    t *= shape[d];
  }
  *total = t;
  return t == 0 ? LITS_EMPTY : LITS_OK;
}

/* ---- random numbers and dropout ----------------------------------------- */

/* n values into out; LITS_EMPTY when n is 0 (out may then be NULL). */
static inline int lits_check_rand(const char* fn, const float* out, int64_t n) {
  return lits_check_count(fn, n, out != NULL, "out");
}

static inline int lits_check_uniform(const char* fn, const float* out, int64_t n, float low,
                                     float high) {
  const int st = lits_check_rand(fn, out, n);
  if (st > 0) return st;
  LITS_CHECK(low <= high, "%s: low must be <= high, got low %g, high %g", fn, (double)low,
             (double)high);
  return st;
}

static inline int lits_check_normal(const char* fn, const float* out, int64_t n, float std) {
  const int st = lits_check_rand(fn, out, n);
  if (st > 0) return st;
  LITS_CHECK(std >= 0.0f, "%s: std must be >= 0, got %g", fn, (double)std);
  return st;
}

/* mask may be NULL (the caller does not need it); x and y may not unless n is 0. */
static inline int lits_check_dropout(const char* fn, const float* x, const float* y, int64_t n,
                                     float p) {
  LITS_CHECK(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  LITS_CHECK(p >= 0.0f && p <= 1.0f, "%s: p must be in [0, 1], got %g", fn, (double)p);
  if (n == 0) return LITS_EMPTY;
  LITS_CHECK(x != NULL && y != NULL, "%s: x or y is NULL (n %lld)", fn, (long long)n);
  return LITS_OK;
}

/* ---- batch norm and per-channel kernels ([n, c, hw]) -------------------- */

/* Sizes >= 0 whose bytes fit int64; LITS_EMPTY when there is no element. */
static inline int lits_check_nchw(const char* fn, int32_t n, int32_t c, int64_t hw) {
  LITS_CHECK(n >= 0 && c >= 0 && hw >= 0, "%s: sizes n=%d c=%d hw=%lld must be >= 0", fn, (int)n,
             (int)c, (long long)hw);
  int64_t t;
  LITS_CHECK(lits_mul_ok((int64_t)n * c, hw, &t) && lits_mul_ok(t, 4, &t),
             "%s: sizes overflow (n=%d c=%d hw=%lld)", fn, (int)n, (int)c, (long long)hw);
  return t == 0 ? LITS_EMPTY : LITS_OK;
}

/* Training statistics (forward and backward): more than one value per
 * channel, as PyTorch; LITS_EMPTY when there is no channel. */
static inline int lits_check_bn_train(const char* fn, int32_t n, int32_t c, int64_t hw,
                                      float eps) {
  const int st = lits_check_nchw(fn, n, c, hw);
  if (st > 0) return st;
  LITS_CHECK((int64_t)n * hw > 1,
             "%s: expected more than 1 value per channel when training (n=%d, hw=%lld)", fn,
             (int)n, (long long)hw);
  LITS_CHECK(eps >= 0.0f, "%s: eps=%g must be >= 0", fn, (double)eps);
  return st;
}

/* ---- rows (reductions, softmax), loss, optimizers ----------------------- */

/* x viewed as [outer, r, inner]; the element count must fit int64. */
static inline int lits_check_rows(const char* fn, int64_t outer, int64_t r, int64_t inner) {
  LITS_CHECK(outer >= 0 && r >= 0 && inner >= 0,
             "%s: sizes must be >= 0, got outer %lld, r %lld, inner %lld", fn, (long long)outer,
             (long long)r, (long long)inner);
  const double total = (double)outer * (double)r * (double)inner;
  LITS_CHECK(total < 9.0e18, "%s: outer %lld * r %lld * inner %lld is too large", fn,
             (long long)outer, (long long)r, (long long)inner);
  return LITS_OK;
}

/* An on/off environment flag: 1, true, on, yes -> 1; 0, false, off, no -> 0
 * (any case); unset, empty or anything else -> `otherwise` (TypeScript
 * refuses other values by name before a library reads them). */
static inline int lits_env_flag(const char* name, int otherwise) {
  const char* v = getenv(name);
  if (v == NULL) return otherwise;
  /* Surrounding spaces are ignored, as TypeScript's check ignores them. */
  while (isspace((unsigned char)*v)) v++;
  size_t n = strlen(v);
  while (n > 0 && isspace((unsigned char)v[n - 1])) n--;
  static const char* const on[] = {"1", "true", "on", "yes"};
  static const char* const off[] = {"0", "false", "off", "no"};
  for (int i = 0; i < 4; i++) {
    if (strlen(on[i]) == n && strncasecmp(v, on[i], n) == 0) return 1;
    if (strlen(off[i]) == n && strncasecmp(v, off[i], n) == 0) return 0;
  }
  return otherwise;
}

/* Gather and scatter-add along r of [outer, r, inner] with k indices per
 * (outer, inner): sizes >= 0, a nonempty r when there is anything to gather,
 * and the pointers. LITS_EMPTY when outer * k * inner is 0. */
static inline int lits_check_gather(const char* fn, const void* src, const int32_t* index,
                                    const int64_t* index_strides, const void* dst, int64_t outer,
                                    int64_t r, int64_t k, int64_t inner) {
  int st = lits_check_rows(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  st = lits_check_rows(fn, outer, k, inner);
  if (st != LITS_OK) return st;
  if (outer == 0 || k == 0 || inner == 0) return LITS_EMPTY;
  LITS_CHECK(r >= 1, "%s: no element to take along an empty dimension (r = 0, k = %lld)", fn,
             (long long)k);
  LITS_CHECK(r <= INT32_MAX, "%s: r %lld does not fit an int32 index", fn, (long long)r);
  LITS_CHECK(src != NULL && index != NULL && index_strides != NULL && dst != NULL,
             "%s: a pointer is NULL", fn);
  return LITS_OK;
}

/* Sort of [outer, r, inner] along r, keeping the first k positions of each
 * column: sizes >= 0, k <= r, r that fits an int32 position, the pointers.
 * LITS_EMPTY when outer * k * inner is 0. */
static inline int lits_check_sort(const char* fn, const void* x, const int32_t* index,
                                  int64_t outer, int64_t r, int64_t inner, int64_t k,
                                  int32_t descending) {
  int st = lits_check_rows(fn, outer, r, inner);
  if (st != LITS_OK) return st;
  LITS_CHECK(k >= 0 && k <= r, "%s: k must be in [0, r = %lld], got %lld", fn, (long long)r,
             (long long)k);
  LITS_CHECK(descending == 0 || descending == 1, "%s: descending must be 0 or 1, got %d", fn,
             (int)descending);
  if (outer == 0 || k == 0 || inner == 0) return LITS_EMPTY;
  LITS_CHECK(r <= INT32_MAX, "%s: r %lld does not fit an int32 index", fn, (long long)r);
  LITS_CHECK(x != NULL && index != NULL, "%s: a pointer is NULL", fn);
  return LITS_OK;
}

/* Cross-entropy's scalar arguments; LITS_EMPTY when there is no target (the
 * caller still writes a reduced loss). Targets are the backend's to check. */
static inline int lits_check_cross_entropy(const char* fn, const float* logits,
                                           const int32_t* target, int64_t n, int64_t c,
                                           int64_t inner, float label_smoothing,
                                           int32_t reduction) {
  LITS_CHECK(n >= 0 && c >= 0 && inner >= 0,
             "%s: sizes must be >= 0, got n %lld, c %lld, inner %lld", fn, (long long)n,
             (long long)c, (long long)inner);
  LITS_CHECK((double)n * (double)c * (double)inner < 9.0e18, "%s: sizes are too large", fn);
  LITS_CHECK(reduction >= LITS_REDUCTION_NONE && reduction <= LITS_REDUCTION_SUM,
             "%s: unknown reduction %d", fn, (int)reduction);
  LITS_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f,
             "%s: label_smoothing must be in [0, 1], got %g", fn, (double)label_smoothing);
  if (n * inner == 0) return LITS_EMPTY;
  LITS_CHECK(c >= 1, "%s: c must be >= 1 when there are targets, got %lld", fn, (long long)c);
  LITS_CHECK(logits != NULL && target != NULL, "%s: logits or target is NULL", fn);
  return LITS_OK;
}

static inline int lits_check_sgd(const char* fn, const float* param, const float* grad,
                                 const float* momentum_buf, int64_t n, float momentum,
                                 float dampening, int32_t nesterov) {
  LITS_CHECK(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  LITS_CHECK(!nesterov || (momentum > 0.0f && dampening == 0.0f),
             "%s: nesterov needs momentum > 0 and dampening 0, got momentum %g, dampening %g", fn,
             (double)momentum, (double)dampening);
  if (n == 0) return LITS_EMPTY;
  LITS_CHECK(param != NULL && grad != NULL, "%s: param or grad is NULL (n %lld)", fn,
             (long long)n);
  LITS_CHECK(momentum == 0.0f || momentum_buf != NULL,
             "%s: momentum_buf is NULL but momentum is %g", fn, (double)momentum);
  return LITS_OK;
}

static inline int lits_check_adam(const char* fn, const float* param, const float* grad,
                                  const float* exp_avg, const float* exp_avg_sq, int64_t n,
                                  double beta1, double beta2, double eps, int64_t step) {
  LITS_CHECK(n >= 0, "%s: n must be >= 0, got %lld", fn, (long long)n);
  LITS_CHECK(step >= 1, "%s: step counts from 1, got %lld", fn, (long long)step);
  LITS_CHECK(beta1 >= 0.0 && beta1 < 1.0, "%s: beta1 must be in [0, 1), got %g", fn, beta1);
  LITS_CHECK(beta2 >= 0.0 && beta2 < 1.0, "%s: beta2 must be in [0, 1), got %g", fn, beta2);
  LITS_CHECK(eps >= 0.0, "%s: eps must be >= 0, got %g", fn, eps);
  if (n == 0) return LITS_EMPTY;
  LITS_CHECK(param != NULL && grad != NULL && exp_avg != NULL && exp_avg_sq != NULL,
             "%s: param, grad, exp_avg or exp_avg_sq is NULL (n %lld)", fn, (long long)n);
  return LITS_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* LITS_CHECK_H */
