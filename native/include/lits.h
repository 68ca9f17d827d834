/*
 * lits.h: the one C ABI of @lits/vision.
 *
 * Two libraries implement it: native/cpu (liblits_cpu) and native/cuda
 * (liblits_cuda). TypeScript opens them through src/ffi/symbols.ts, which a
 * test keeps equal to this file.
 *
 * Rules every implementation follows:
 * - Every function returns an int status: LITS_OK (0) or an error code.
 *   lits_last_error() then gives a text that says what was wrong.
 * - "Device pointers" (float*, int32_t*, void* that are not marked host) come
 *   from lits_alloc of the same library. Host pointers are named *_host.
 * - Tensors are dense, row-major (NCHW for images), unless strides are given.
 * - Elementwise ops may write in place: out may equal an input that is
 *   dense with the output's shape.
 * - Bad arguments (negative sizes, a label out of range, ...) give a status,
 *   never a crash.
 * - Empty sizes: a call whose output has no element is a no-op that returns
 *   LITS_OK without reading its pointers (they may be NULL); a gradient
 *   summed over an empty batch (convolution filter and bias) is zeros. The
 *   argument rules both backends share are lits_check.h, written once.
 * - No vendor type appears here.
 */
#ifndef LITS_H
#define LITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LITS_ABI_VERSION 12

/* Marks a function a backend may leave out (src/ffi/symbols.ts, generated
 * from this file, declares it optional; callers check and fall back). */
#define LITS_OPTIONAL

enum lits_status {
  LITS_OK = 0,
  LITS_ERR_ARGUMENT = 1,   /* bad shape, size, flag or label */
  LITS_ERR_MEMORY = 2,     /* allocation failed */
  LITS_ERR_UNAVAILABLE = 3, /* backend cannot run here (no GPU, no library) */
  LITS_ERR_INTERNAL = 4    /* a vendor call or kernel failed */
};

/* ---- library ---------------------------------------------------------- */

/* Text of the last error on this thread ("" when none). Not a status. */
const char* lits_last_error(void);
/* Writes LITS_ABI_VERSION. */
int lits_abi_version(int32_t* out_host);
/* Prepares the backend (CUDA: finds the device and vendor libraries). */
int lits_init(void);
/* Writes a NUL-terminated description of the backend into buf (cap bytes). */
int lits_backend_info(char* buf_host, int64_t cap);
int lits_set_num_threads(int32_t n);
int lits_get_num_threads(int32_t* out_host);
/* Deterministic algorithms only (PyTorch's torch.use_deterministic_algorithms):
 * on CUDA, convolutions use only CUDNN_DETERMINISTIC algorithms, chosen by
 * cuDNN's heuristics instead of timing; the CPU backend is deterministic
 * either way. Until set, LITS_DETERMINISTIC=1 in the environment turns it on. */
int lits_set_deterministic(int32_t on);
int lits_get_deterministic(int32_t* out_host);
/* Winograd convolutions (on by default): the CPU backend may run 3x3 layers
 * through Winograd's F(4x4, 3x3) and F(2x2, 3x3) transforms (faster, and
 * within about 3e-6 relative rms of the exact sums against 4e-7 for a direct
 * sum), and cuDNN's search may pick its Winograd algorithms. Off (0), every
 * convolution is a direct sum of products (direct kernels, im2col + GEMM,
 * oneDNN's direct), which rounds as PyTorch's CPU convolutions do. Until set,
 * LITS_WINOGRAD=0 in the environment turns it off. */
int lits_set_winograd(int32_t on);
int lits_get_winograd(int32_t* out_host);
/* Waits for all queued work (CPU: returns at once). */
int lits_synchronize(void);

/* ---- memory ------------------------------------------------------------ */

/* Allocates bytes (>= 0) from the caching allocator; *out_host is 64-byte aligned. */
int lits_alloc(int64_t bytes, void** out_host);
/* Returns p (from lits_alloc) to the cache. NULL is allowed. */
int lits_free(void* p);
/* out[0] bytes in use, out[1] buffers in use, out[2] bytes cached (free),
 * out[3] buffers cached, out[4] bytes ever obtained from the system. Sizes
 * are the allocator's rounded block sizes. */
int lits_memory_stats(int64_t* out_host);
/* Gives cached (free) blocks back to the system. */
int lits_empty_cache(void);
int lits_copy_h2d(void* dst, const void* src_host, int64_t bytes);
int lits_copy_d2h(void* dst_host, const void* src, int64_t bytes);
int lits_copy_d2d(void* dst, const void* src, int64_t bytes);
int lits_fill_f32(float* x, int64_t n, float value);
int lits_fill_i32(int32_t* x, int64_t n, int32_t value);
/* dst[i] = (float)src[i] and back (float -> int truncates toward zero and
 * saturates at the int32 limits; NaN gives 0). */
int lits_cast_i32_f32(const int32_t* src, float* dst, int64_t n);
int lits_cast_f32_i32(const float* src, int32_t* dst, int64_t n);
/* Gathers a strided 4-byte-element view into a dense dst.
 * shape/src_strides (in elements) have ndim (0..8) entries on the host;
 * a stride of 0 repeats (expand). */
int lits_strided_copy(int32_t ndim, const int64_t* shape_host, const void* src,
                      const int64_t* src_strides_host, void* dst);

/* ---- elementwise ------------------------------------------------------- */

enum lits_unary_op {
  LITS_NEG = 0,
  LITS_EXP = 1,
  LITS_LOG = 2,
  LITS_SQRT = 3,
  LITS_RELU = 4,
  LITS_SIGMOID = 5,
  LITS_TANH = 6,
  LITS_ABS = 7,
  LITS_POW_SCALAR = 8, /* x ^ alpha */
  LITS_ADD_SCALAR = 9, /* x + alpha */
  LITS_MUL_SCALAR = 10, /* x * alpha */
  LITS_DIV_SCALAR = 11, /* x / alpha */
  LITS_RSUB_SCALAR = 12, /* alpha - x */
  LITS_RDIV_SCALAR = 13, /* alpha / x */
  LITS_GELU = 14, /* x * Phi(x), exact (erf), as torch's approximate="none" */
  LITS_GELU_TANH = 15, /* torch's approximate="tanh" */
  LITS_LEAKY_RELU = 16, /* x > 0 ? x : alpha * x */
  LITS_LOG1P = 17, /* log(1 + x), exact near 0 */
  LITS_EXPM1 = 18, /* e^x - 1, exact near 0 */
  /* Rounding and sign, whose gradient is 0 (torch's). */
  LITS_FLOOR = 19,
  LITS_CEIL = 20,
  LITS_ROUND = 21, /* half to even, as torch.round */
  LITS_TRUNC = 22,
  LITS_SIGN = 23, /* -1, 0 or 1; 0 for NaN, as torch.sign */
  LITS_SIN = 24,
  LITS_COS = 25,
  LITS_SILU = 26, /* x / (1 + e^-x), as torch's CPU silu */
  /* Trigonometric, hyperbolic and error functions (libm's, torch's CPU
   * domains: asin/acos outside [-1, 1], acosh below 1, atanh and erfinv
   * outside [-1, 1] give NaN; atanh(+-1) and erfinv(+-1) are +-inf). */
  LITS_TAN = 27,
  LITS_ASIN = 28,
  LITS_ACOS = 29,
  LITS_ATAN = 30,
  LITS_SINH = 31,
  LITS_COSH = 32,
  LITS_ASINH = 33,
  LITS_ACOSH = 34,
  LITS_ATANH = 35,
  LITS_ERF = 36,
  LITS_ERFC = 37,
  LITS_ERFINV = 38 /* as torch: calc_erfinv on the CPU, erfinvf on CUDA */
};

/* y = op(x, alpha) for n elements. */
int lits_unary_f32(int32_t op, const float* x, float* y, int64_t n, float alpha);
/* dx = dy * d op(x, alpha) / dx. x is the op's input, y its output (both are
 * given; each op reads what it needs). */
int lits_unary_backward_f32(int32_t op, const float* x, const float* y, const float* dy,
                            float* dx, int64_t n, float alpha);

enum lits_binary_op {
  LITS_ADD = 0,
  LITS_SUB = 1,
  LITS_MUL = 2,
  LITS_DIV = 3,
  LITS_MAXIMUM = 4,
  LITS_MINIMUM = 5,
  LITS_EQ = 6, /* 1.0f where equal, else 0.0f */
  LITS_GT = 7,
  LITS_LT = 8,
  LITS_POW = 9,
  LITS_GE = 10,
  LITS_LE = 11,
  LITS_NE = 12, /* 1.0f where not equal (NaN != NaN), else 0.0f */
  LITS_ATAN2 = 13 /* atan2(a, b): the angle of the point (b, a), as torch.atan2(a, b) */
};

/* out = a op b with broadcasting. shape is the output shape (ndim 0..8) and
 * a_strides/b_strides give each input's strides in elements over that shape
 * (0 on a broadcast dimension). out is dense. */
int lits_binary_f32(int32_t op, int32_t ndim, const int64_t* shape_host, const float* a,
                    const int64_t* a_strides_host, const float* b,
                    const int64_t* b_strides_host, float* out);
/* out = cond != 0 ? a : b with broadcasting (torch.where): strides as in
 * lits_binary_f32, one set per input. Only the chosen input's value is read
 * into out, so NaN or inf in the other branch does not leak (a NaN cond is
 * nonzero, so it picks a). */
int lits_where_f32(int32_t ndim, const int64_t* shape_host, const float* cond,
                   const int64_t* cond_strides_host, const float* a,
                   const int64_t* a_strides_host, const float* b,
                   const int64_t* b_strides_host, float* out);

/* ---- gather and scatter-add along one dimension -------------------------- */
/* x is [outer, r, inner], out [outer, k, inner]:
 *   out[o, j, i] = x[o, index[o * s0 + j * s1 + i * s2], i]
 * with index_strides_host = {s0, s1, s2} in elements (a 0 repeats: index_select
 * passes {0, 1, 0}, torch.gather a dense [outer, k, inner] index). With
 * check_index, an index outside [0, r) is an error that names the first one (its
 * element offset in the index);
 * without (indices the caller made), such an index reads 0. */
int lits_gather_f32(const float* x, const int32_t* index, const int64_t* index_strides_host,
                    float* out, int64_t outer, int64_t r, int64_t k, int64_t inner,
                    int32_t check_index);
/* gather's gradient: dx[o, index[o, j, i], i] += dy[o, j, i] for j = 0, 1, ...
 * in that order for each (o, i), so the sums do not depend on threads. dx is
 * not cleared first; an index outside [0, r) adds nothing. */
int lits_scatter_add_f32(const float* dy, const int32_t* index,
                         const int64_t* index_strides_host, float* dx, int64_t outer, int64_t r,
                         int64_t k, int64_t inner);

/* ---- resampling along one dimension (interpolate) ------------------------ */
/* LITS_OPTIONAL (the CPU backend has them; callers compose gathers, products
 * and sums elsewhere). x is [outer, r, inner], out [outer, k, inner]; the
 * taps index_host and weight_host are [taps, k] (weight_host NULL: every
 * weight 1, nearest's one tap):
 *   out[o, j, i] = ((p_0 + p_1) + p_2) + ..., p_t = x[o, index[t, j], i] * weight[t, j]
 * each product rounded to float, the taps added in that order (no fused
 * multiply-add: the bits of a gather, a product and an add per tap). Every
 * index must be in [0, r) (else an error naming the first that is not). */
LITS_OPTIONAL
int lits_resample_f32(const float* x, const int32_t* index_host, const float* weight_host,
                      float* out, int64_t outer, int64_t r, int64_t k, int64_t inner,
                      int32_t taps);
/* Its gradient: dx[o, index[t, j], i] += weight[t, j] * dy[o, j, i], dx [outer, r, inner]
 * overwritten (zeros where no tap reads); the sums' order does not depend on
 * the threads. */
LITS_OPTIONAL
int lits_resample_backward_f32(const float* dy, const int32_t* index_host,
                               const float* weight_host, float* dx, int64_t outer, int64_t r,
                               int64_t k, int64_t inner, int32_t taps);

/* ---- max pooling with indices, max unpooling ----------------------------- */
/* LITS_OPTIONAL (the CPU backend has them; callers compose gathers and
 * scatters elsewhere). x is [planes, D, H, W] (a 1-D or 2-D pool: D = H = 1,
 * kernel 1), y and indices [planes, out]; per dimension either windows of
 * kernel, stride, padding and dilation, or (adaptive 1) torch's adaptive
 * bins floor(i size / out) to ceil((i + 1) size / out). */
typedef struct lits_pool_nd_params {
  int32_t size[3], out[3];
  int32_t kernel[3], stride[3], padding[3], dilation[3];
  int32_t adaptive[3];
} lits_pool_nd_params;

/* torch's max_poolNd_with_indices on the CPU: indices flat within each plane
 * (d H W + h W + w, int32), a window's taps inside the input scanned in (d,
 * h, w) order, the first maximum or the last NaN winning; padding is never
 * chosen; a window with no tap inside is -inf at its first taps at or
 * after 0. */
LITS_OPTIONAL
int lits_maxpool_indices_f32(const lits_pool_nd_params* params_host, const float* x, float* y,
                             int32_t* indices, int64_t planes);
/* Its gradient: dx (overwritten) [planes, D, H, W] += dy at the indices, each
 * plane's outputs added in order (the same bits for any number of threads);
 * a window with no tap inside adds nothing. */
LITS_OPTIONAL
int lits_maxpool_indices_backward_f32(const lits_pool_nd_params* params_host, const float* dy,
                                      const int32_t* indices, float* dx, int64_t planes);
/* Max unpooling: y [planes, out_plane] zeros, then y[q, indices[q, i]] =
 * x[q, i] in order of i (a repeated index keeps its last value). An index
 * outside [0, out_plane) is an error naming the first (nothing written). */
LITS_OPTIONAL
int lits_max_unpool_f32(const float* x, const int32_t* indices, float* y, int64_t planes,
                        int64_t in_plane, int64_t out_plane);
/* Its gradient: dx[q, i] = dy[q, indices[q, i]], the same index check. */
LITS_OPTIONAL
int lits_max_unpool_backward_f32(const float* dy, const int32_t* indices, float* dx,
                                 int64_t planes, int64_t in_plane, int64_t out_plane);

/* ---- sort along one dimension ------------------------------------------- */
/* x is [outer, r, inner]; index [outer, k, inner] gets the first k positions
 * along r of each (outer, inner) column in ascending order (descending: 1,
 * descending), as int32. The sort is stable (equal values keep their order);
 * NaN orders above every number and NaNs are equal; -0 equals +0 (torch's
 * CPU sort). k may be less than r (topk). */
int lits_sort_f32(const float* x, int32_t* index, int64_t outer, int64_t r, int64_t inner,
                  int64_t k, int32_t descending);
int lits_sort_i32(const int32_t* x, int32_t* index, int64_t outer, int64_t r, int64_t inner,
                  int64_t k, int32_t descending);

/* ---- reductions, softmax ------------------------------------------------ */
/* x is viewed as [outer, r, inner]; the middle dimension is reduced. */

enum lits_reduce_op { LITS_SUM = 0, LITS_MEAN = 1, LITS_MAX = 2, LITS_MIN = 3 };

/* out is [outer, inner]. r must be >= 1 for MAX and MIN. */
int lits_reduce_f32(int32_t op, const float* x, float* out, int64_t outer, int64_t r,
                    int64_t inner);
/* out[o, i] = index of the first maximum along r (NaN counts as maximum). */
int lits_argmax_f32(const float* x, int32_t* out, int64_t outer, int64_t r, int64_t inner);
/* Running sums along r: y[o, j, i] = x[o, 0, i] + ... + x[o, j, i] (reverse:
 * x[o, j, i] + ... + x[o, r - 1, i], cumsum's gradient), summed in double and
 * rounded once per element, as torch's CPU cumsum. y may not overlap x. */
int lits_cumsum_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                    int32_t reverse);
/* Softmax (log_softmax when log != 0) along r. */
int lits_softmax_f32(const float* x, float* y, int64_t outer, int64_t r, int64_t inner,
                     int32_t log);
/* dx from the forward output y and dy. */
int lits_softmax_backward_f32(const float* y, const float* dy, float* dx, int64_t outer,
                              int64_t r, int64_t inner, int32_t log);

/* ---- loss --------------------------------------------------------------- */

enum lits_reduction { LITS_REDUCTION_NONE = 0, LITS_REDUCTION_MEAN = 1, LITS_REDUCTION_SUM = 2 };

/* PyTorch's cross_entropy on logits [n, c, inner] and int32 targets [n, inner].
 * weight ([c]) may be NULL. Targets equal to ignore_index add nothing; any
 * other target outside [0, c) is an LITS_ERR_ARGUMENT that names it.
 * loss has n * inner elements for NONE, else 1. */
int lits_cross_entropy_f32(const float* logits, const int32_t* target, const float* weight,
                           int64_t n, int64_t c, int64_t inner, int32_t ignore_index,
                           float label_smoothing, int32_t reduction, float* loss);
/* dlogits from dloss (n * inner elements for NONE, else 1). */
int lits_cross_entropy_backward_f32(const float* logits, const int32_t* target,
                                    const float* weight, int64_t n, int64_t c, int64_t inner,
                                    int32_t ignore_index, float label_smoothing,
                                    int32_t reduction, const float* dloss, float* dlogits);

/* ---- GEMM --------------------------------------------------------------- */

/* Row-major C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n,
 * trans_a/trans_b 0 or 1, repeated batch times with element strides
 * stride_a/b/c between matrices (a stride of 0 reuses one A or B; C matrices
 * must not overlap). lda/ldb/ldc are row strides of the stored
 * (untransposed) matrices. Sizes and leading dimensions fit in 32 bits. */
int lits_gemm_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                  float beta, float* c, int64_t ldc, int64_t batch, int64_t stride_a,
                  int64_t stride_b, int64_t stride_c);

/* ---- input transforms --------------------------------------------------- */
/* Convolution and max pooling read their input image as relu?(T(x)): x_coef
 * holds 3 * c floats, mean[c] then scale[c] then shift[c], and stands for
 * T(v) = (v - mean) * scale + shift on channel ch (batch norm's output
 * transform); x_coef NULL and x_relu 0 read x itself. relu != 0 applies
 * max(v, 0), NaN staying NaN; zero padding pads the transformed input. A
 * backend without the LITS_OPTIONAL section below accepts only the identity
 * (anything else is LITS_ERR_UNAVAILABLE): callers pass a transform only
 * where lits_fused_affine_f32 exists. */

/* ---- convolution -------------------------------------------------------- */
/* x [n, c, h, w], weight [k, c / groups, r, s], y [n, k, oh, ow] with
 * oh = (h + 2 pad_h - dil_h (r - 1) - 1) / stride_h + 1 (likewise ow).
 * The geometry travels as one host struct (candle's ParamsConv2D). */

typedef struct lits_conv2d_params {
  int32_t n, c, h, w;  /* input */
  int32_t k, r, s;     /* filters */
  int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} lits_conv2d_params;

int lits_conv2d_forward_f32(const lits_conv2d_params* params_host, const float* x,
                            const float* x_coef, int32_t x_relu, const float* weight,
                            const float* bias, float* y);
/* dx (overwritten) from weight and dy. */
int lits_conv2d_backward_data_f32(const lits_conv2d_params* params_host, const float* weight,
                                  const float* dy, float* dx);
/* dweight (overwritten) from the (transformed) input and dy. */
int lits_conv2d_backward_filter_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* x_coef, int32_t x_relu, const float* dy,
                                    float* dweight);
/* dbias[k] = sum of dy [n, k, hw] over n and hw (overwritten). */
int lits_conv2d_backward_bias_f32(const float* dy, float* dbias, int32_t n, int32_t k,
                                  int64_t hw);

/* ---- pooling ------------------------------------------------------------ */
/* x [n, c, h, w], y [n, c, oh, ow]; the caller computes oh/ow (floor or ceil
 * mode). As in PyTorch, padding is at most half the kernel and every window
 * must start inside the input or its left/top padding; anything else is an
 * argument error. */

typedef struct lits_pool2d_params {
  int32_t n, c, h, w;  /* input */
  int32_t kh, kw, stride_h, stride_w, pad_h, pad_w;
  int32_t oh, ow;      /* output */
} lits_pool2d_params;

/* Max pooling of the (transformed) input; indices[i] = the flat h * w
 * position of each output's maximum (int32). indices may be NULL: callers
 * that will run no backward (eval, no-grad) pass NULL and no indices are
 * written (the CPU backend; the CUDA backend still requires them). */
int lits_maxpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x,
                               const float* x_coef, int32_t x_relu, float* y, int32_t* indices);
/* dx (overwritten). x and y are given for backends that need them (x may be
 * NULL for a backend with the fused section, which reads neither). */
int lits_maxpool2d_backward_f32(const lits_pool2d_params* params_host, const float* x,
                                const float* y, const float* dy, const int32_t* indices,
                                float* dx);
/* PyTorch's avg_pool2d: count_include_pad counts padding, but never the part
 * of a window beyond the padded input (ceil mode). */
int lits_avgpool2d_forward_f32(const lits_pool2d_params* params_host, const float* x, float* y,
                               int32_t count_include_pad);
int lits_avgpool2d_backward_f32(const lits_pool2d_params* params_host, const float* dy,
                                float* dx, int32_t count_include_pad);
/* Bins as PyTorch: start = floor(i * h / oh), end = ceil((i + 1) * h / oh). */
int lits_adaptive_avgpool2d_forward_f32(const float* x, float* y, int32_t n, int32_t c,
                                        int32_t h, int32_t w, int32_t oh, int32_t ow);
int lits_adaptive_avgpool2d_backward_f32(const float* dy, float* dx, int32_t n, int32_t c,
                                         int32_t h, int32_t w, int32_t oh, int32_t ow);

/* ---- batch norm (x [n, c, hw]) ------------------------------------------ */

/* Normalises with the biased batch variance; saves mean and 1/sqrt(var+eps)
 * per channel (save_mean and save_invstd are required); when running_mean /
 * running_var are not NULL updates each with momentum (running_var gets the
 * unbiased variance). gamma/beta may be NULL (1, 0). */
int lits_batchnorm2d_forward_train_f32(const float* x, const float* gamma, const float* beta,
                                       float* y, float* running_mean, float* running_var,
                                       float* save_mean, float* save_invstd, int32_t n,
                                       int32_t c, int64_t hw, float momentum, float eps);
int lits_batchnorm2d_forward_infer_f32(const float* x, const float* gamma, const float* beta,
                                       const float* running_mean, const float* running_var,
                                       float* y, int32_t n, int32_t c, int64_t hw, float eps);
/* dx, and when not NULL dgamma and dbeta (overwritten), of the training forward.
 * eps is the forward's (>= 0): cuDNN asks for the same one in both passes; the
 * CPU reads save_invstd, which already holds it. */
int lits_batchnorm2d_backward_f32(const float* x, const float* dy, const float* gamma,
                                  const float* save_mean, const float* save_invstd, float* dx,
                                  float* dgamma, float* dbeta, int32_t n, int32_t c,
                                  int64_t hw, float eps);

/* ---- layer norm (x [rows, cols]) ---------------------------------------- */
/* LITS_OPTIONAL: a backend without them (CUDA) gets F.layerNorm composed of
 * the elementwise ops and reductions above.
 *
 * Each row normalised by its mean and biased variance (eps added), then
 * multiplied by weight and shifted by bias (each [cols], either may be NULL);
 * mean and rstd (1 / sqrt(var + eps)) get one float per row when not NULL. */
LITS_OPTIONAL
int lits_layer_norm_f32(const float* x, const float* weight, const float* bias, float* y,
                        float* mean, float* rstd, int64_t rows, int64_t cols, float eps);
/* dx (may be NULL), dweight and dbias (each may be NULL; overwritten, summed
 * over rows in one order whatever the thread count) from the forward's mean
 * and rstd. weight may be NULL (ones). */
LITS_OPTIONAL
int lits_layer_norm_backward_f32(const float* x, const float* dy, const float* weight,
                                 const float* mean, const float* rstd, float* dx,
                                 float* dweight, float* dbias, int64_t rows, int64_t cols);

/* ---- fused per-channel epilogues ---------------------------------------- */
/* LITS_OPTIONAL: a backend may leave every function of this section out
 * (callers check and fall back to the separate ops above; the CUDA backend
 * has none of them). They let a batch norm, a
 * residual add and a ReLU stay unmaterialised until something reads them.
 *
 * A coef array holds 3 * c floats, mean[c] then scale[c] then shift[c], and
 * stands for T(v) = (v - mean) * scale + shift on channel ch of an [n, c, hw]
 * tensor (batch norm's output transform, same float expression); a NULL coef
 * is the identity. relu 1 applies max(v, 0), NaN staying NaN; an output's
 * relu (lits_fused_affine_f32's, an epilogue's) may also be 2, ReLU6's
 * min(max(v, 0), 6), NaN staying NaN (MobileNet's batch norm -> ReLU6), or
 * 3, SiLU's v / (1 + exp(-v)) (EfficientNet's), as LITS_SILU computes it
 * (within an ulp: expf's vector and scalar forms differ). */

/* y = relu?(T_x(x) + T_r(r)); r may be NULL (no residual, then r_coef too). */
LITS_OPTIONAL
int lits_fused_affine_f32(const float* x, const float* x_coef, const float* r,
                          const float* r_coef, float* y, int32_t n, int32_t c, int64_t hw,
                          int32_t relu);
/* ReLU's backward on such a value: dx = 0 where T_x(x) + T_r(r) <= 0, else dy
 * (dy + dy2 when dy2 is not NULL: a gradient summed from two branches, as a
 * residual block's input gets it, without writing the sum first). When
 * channel_sum is not NULL it gets the sum of dx over n and hw per channel (c
 * floats, overwritten): the bias gradient of a convolution whose output the
 * ReLU read, without another pass over dx. */
LITS_OPTIONAL
int lits_relu_mask_backward_f32(const float* dy, const float* dy2, const float* x,
                                const float* x_coef, const float* r, const float* r_coef,
                                float* dx, int32_t n, int32_t c, int64_t hw,
                                float* channel_sum);
/* lits_fused_affine_f32 with relu 1, and that ReLU's mask for its backward:
 * bit j of mask[pl * ceil(hw / 16) + q] (uint16 words, a plane of [n, c]
 * starting a word) set where element 16 q + j of plane pl passed, !(y <= 0)
 * (NaN passing), as lits_relu_mask_backward_f32 tests the value. The
 * backward then reads 1/32 of y's bytes for its mask. */
LITS_OPTIONAL
int lits_fused_relu_mask_f32(const float* x, const float* x_coef, const float* r,
                             const float* r_coef, float* y, uint16_t* mask, int32_t n, int32_t c,
                             int64_t hw);
/* lits_relu_mask_backward_f32 with lits_fused_relu_mask_f32's mask instead
 * of the value: the same dx and channel_sum. */
LITS_OPTIONAL
int lits_relu_bits_backward_f32(const float* dy, const float* dy2, const uint16_t* mask,
                                float* dx, int32_t n, int32_t c, int64_t hw, float* channel_sum);
/* The evaluation transform of a batch norm as a coef array (running_mean,
 * 1 / sqrtf(running_var + eps) * gamma, beta): the float operations of
 * lits_batchnorm2d_forward_infer_f32, in one call instead of an op each
 * (gamma and beta may be NULL: 1 and 0). */
LITS_OPTIONAL
int lits_batchnorm2d_infer_coef_f32(const float* running_mean, const float* running_var,
                                    const float* gamma, const float* beta, float* coef,
                                    int32_t c, float eps);
/* lits_batchnorm2d_forward_train_f32 without y: the statistics, and coef gets
 * the output transform (batch mean, invstd * gamma, beta). */
LITS_OPTIONAL
int lits_batchnorm2d_stats_f32(const float* x, const float* gamma, const float* beta,
                               float* running_mean, float* running_var, float* save_mean,
                               float* save_invstd, float* coef, int32_t n, int32_t c,
                               int64_t hw, float momentum, float eps);
/* lits_batchnorm2d_backward_f32 of a batch norm followed by a ReLU: dy counts
 * only where T(x) > 0 (or NaN) under mask_coef (the forward's coef). */
LITS_OPTIONAL
int lits_batchnorm2d_backward_relu_f32(const float* x, const float* dy, const float* mask_coef,
                                       const float* gamma, const float* save_mean,
                                       const float* save_invstd, float* dx, float* dgamma,
                                       float* dbeta, int32_t n, int32_t c, int64_t hw,
                                       float eps);
/* lits_conv2d_forward_f32, and per channel of y its mean over n and the
 * output pixels and M2, the sum of squared deviations from that mean, in
 * moments[2 ch] and moments[2 ch + 1] (2 k doubles): what a batch norm in
 * training that reads y needs, gathered as y is written where the
 * algorithm can (the packed GEMM's: 1x1 layers and im2col tiles; the
 * one-channel stem's), else by a pass over y. The same y as lits_conv2d_forward_f32; the moments the
 * same for any number of threads. */
LITS_OPTIONAL
int lits_conv2d_forward_moments_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* x_coef, int32_t x_relu, const float* weight,
                                    const float* bias, float* y, double* moments);
/* lits_batchnorm2d_stats_f32 from moments (lits_conv2d_forward_moments_f32's,
 * of the batch norm's input x [n, c, hw]) instead of a pass over x. */
LITS_OPTIONAL
int lits_batchnorm2d_stats_from_moments_f32(const double* moments, const float* gamma,
                                            const float* beta, float* running_mean,
                                            float* running_var, float* save_mean,
                                            float* save_invstd, float* coef, int32_t n,
                                            int32_t c, int64_t hw, float momentum, float eps);
/* ---- random (Philox-4x32-10, counter-based) ------------------------------ */
/* Element i of a call uses counter (offset + i / 4, lane i % 4) under key
 * seed, so a seed and an offset give the same numbers on every backend. A
 * call of n elements uses ceil(n / 4) counters: the next call starts at
 * offset + ceil(n / 4). */

int lits_rand_uniform_f32(float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                          float high);
int lits_rand_normal_f32(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                         float std);
/* y = x * mask, mask = 1 / (1 - p) where uniform >= p, else 0 (written
 * unless mask is NULL). */
int lits_dropout_f32(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed,
                     uint64_t offset);

/* ---- optimizers (in place, as torch.optim's single-tensor code) --------- */

/* momentum_buf may be NULL when momentum is 0; first_step != 0 starts the
 * buffer as a copy of the (decayed) gradient. */
int lits_sgd_step_f32(float* param, const float* grad, float* momentum_buf, int64_t n,
                      float lr, float momentum, float dampening, int32_t nesterov,
                      float weight_decay, int32_t first_step);
/* Adam (decoupled = 0: weight decay added to the gradient) or AdamW
 * (decoupled = 1: param *= 1 - lr * weight_decay). step counts from 1. The
 * scalars are doubles, as torch's Python floats: 1 - beta2 of a float32
 * 0.999 is not torch's 0.001 (up to 43 ulps in the update). */
int lits_adam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                       int64_t n, double lr, double beta1, double beta2, double eps,
                       double weight_decay, int32_t decoupled, int64_t step);

/* The other torch.optim steps, each one pass over the elements in torch
 * 1.13's order of float32 operations (CPU only: the CUDA backend has none,
 * and callers compose them from tensor ops there). maximize != 0 negates
 * the gradient first; weight_decay adds weight_decay * param to it (L2).
 * Coefficients torch computes in Python arrive as doubles and are rounded
 * to float once. */

/* RMSprop: momentum_buf is read when momentum > 0, grad_avg when centered
 * != 0 (else either may be NULL). */
LITS_OPTIONAL
int lits_rmsprop_step_f32(float* param, const float* grad, float* square_avg, float* momentum_buf,
                          float* grad_avg, int64_t n, double lr, double alpha, double eps,
                          double weight_decay, double momentum, int32_t centered,
                          int32_t maximize);
/* Adagrad with the decayed rate clr = lr / (1 + (step - 1) * lr_decay). */
LITS_OPTIONAL
int lits_adagrad_step_f32(float* param, const float* grad, float* sum, int64_t n, double clr,
                          double eps, double weight_decay, int32_t maximize);
/* Adamax: clr = lr / (1 - beta1^step). */
LITS_OPTIONAL
int lits_adamax_step_f32(float* param, const float* grad, float* exp_avg, float* exp_inf,
                         int64_t n, double clr, double beta1, double beta2, double eps,
                         double weight_decay, int32_t maximize);
/* NAdam (torch 1.13): param += c_grad * grad / denom + c_avg * exp_avg / denom, denom =
 * sqrt(exp_avg_sq / bias_correction2) + eps; c_grad and c_avg hold the mu terms. */
LITS_OPTIONAL
int lits_nadam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                        int64_t n, double beta1, double beta2, double eps, double weight_decay,
                        double bias_correction2, double c_grad, double c_avg);
/* RAdam: rect > 0 takes the adaptive step param -= exp_avg / bc1 * lr *
 * (sqrt(bc2) / (sqrt(exp_avg_sq) + eps)) * rect; rect 0 the plain one
 * param -= exp_avg / bc1 * lr. */
LITS_OPTIONAL
int lits_radam_step_f32(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                        int64_t n, double lr, double beta1, double beta2, double eps,
                        double weight_decay, double bias_correction1, double bias_correction2,
                        double rect);

/* ---- grid sampling (CPU only: LITS_OPTIONAL) ----------------------------- */
/* torch.nn.functional.grid_sample of input [n, c, h_in, w_in] at grid
 * [n, h_out, w_out, 2] (x, y in [-1, 1]) into out [n, c, h_out, w_out], all
 * contiguous, as PyTorch 1.13's CPU kernel: mode 0 bilinear, 1 nearest
 * (half to even); padding 0 zeros, 1 border, 2 reflection. A position is
 * turned into an index only after its range check, so NaN and infinities
 * read as outside (zeros) or clip (border, reflection). */
LITS_OPTIONAL
int lits_grid_sample2d_f32(const float* input, const float* grid, float* out, int32_t n, int32_t c,
                           int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out, int32_t mode,
                           int32_t padding, int32_t align_corners);
/* Its gradients from dy [n, c, h_out, w_out]: dinput (written whole; NULL:
 * not wanted) and dgrid (torch's formula times the position's derivative:
 * 0 where border or reflection clipped it; zeros for nearest; NULL: not
 * wanted). */
LITS_OPTIONAL
int lits_grid_sample2d_backward_f32(const float* dy, const float* input, const float* grid,
                                    float* dinput, float* dgrid, int32_t n, int32_t c,
                                    int32_t h_in, int32_t w_in, int32_t h_out, int32_t w_out,
                                    int32_t mode, int32_t padding, int32_t align_corners);

/* lits_maxpool2d_backward_f32, then lits_relu_mask_backward_f32 on its dx
 * (no residual: x, x_coef the ReLU's input, [n, c, h, w] as the pool's),
 * in one pass: the gradient of maxPool2d(relu(T_x(x))) at x's transform,
 * the same bits; channel_sum (NULL: none) as lits_relu_mask_backward_f32's. */
LITS_OPTIONAL
int lits_maxpool2d_backward_relu_f32(const lits_pool2d_params* params_host, const float* dy,
                                     const int32_t* indices, const float* x, const float* x_coef,
                                     float* dx, float* channel_sum);
/* lits_maxpool2d_backward_relu_f32 with the mask taken from the pool's
 * output y = maxPool2d(relu(T_x(x))) (its forward's values, as its indices
 * are) instead of x: each window's value is the ReLU's output at its argmax,
 * so dy counts where !(y <= 0) (NaN passing), the same bits, without
 * reading x. */
LITS_OPTIONAL
int lits_maxpool2d_backward_relu_out_f32(const lits_pool2d_params* params_host, const float* dy,
                                         const int32_t* indices, const float* y, float* dx,
                                         float* channel_sum);

/* ---- prepared convolution weights (CPU only: LITS_OPTIONAL) ------------- */
/* An evaluation forward calls each convolution with the same weights again
 * and again; these let the caller keep them in the form the kernel reads
 * (Winograd's transformed, packed planes; the GEMM convolutions' packed
 * weights, 1x1 layers among them), in a buffer it owns, one per
 * weight tensor. bytes gets the size of that buffer for this geometry, 0
 * where the forward has nothing to prepare. */
LITS_OPTIONAL
int lits_conv2d_prepared_bytes(const lits_conv2d_params* params_host, int64_t* bytes);
/* lits_conv2d_forward_f32 that reads its weights from prepared (of
 * prepared_bytes bytes, any contents at first) and prepares them there when
 * they are not yet, or no longer, what this call needs: the weights are
 * hashed (64 bits) on every call, so any change to them is seen. A NULL or
 * too short buffer, or an algorithm without preparation, runs the plain
 * forward. */
LITS_OPTIONAL
int lits_conv2d_forward_prepared_f32(const lits_conv2d_params* params_host, const float* x,
                                     const float* x_coef, int32_t x_relu, const float* weight,
                                     const float* bias, float* y, void* prepared,
                                     int64_t prepared_bytes);

/* lits_conv2d_forward_prepared_f32 (prepared may be NULL, with 0 bytes)
 * whose y then becomes relu?(T_y(y) + T_r(r)) as lits_fused_affine_f32's
 * (y_coef and r_coef over the k output channels; r [n, k, oh, ow] or NULL,
 * r_coef NULL without r): a convolution, its batch norm in evaluation, a
 * residual add and a ReLU (a ResNet block's output) written once, where
 * the algorithm applies them as it writes y (1x1 convolutions through the
 * AVX-512 GEMM); otherwise in a pass over y, with the same bits. */
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_f32(const lits_conv2d_params* params_host, const float* x,
                                     const float* x_coef, int32_t x_relu, const float* weight,
                                     const float* bias, const float* y_coef, const float* r,
                                     const float* r_coef, int32_t relu, float* y, void* prepared,
                                     int64_t prepared_bytes);

/* Squeeze-and-excitation in evaluation (torchvision's SqueezeExcitation:
 * x * sigmoid(fc2(act(fc1(avgpool(x))))), EfficientNet's MBConv) without
 * writing or re-reading the block's largest tensor more than once:
 *
 * lits_conv2d_forward_epilogue_f32, and pooled [n, k] gets the mean of
 * each plane of y (its global average pool, AdaptiveAvgPool2d(1): sum / oh
 * / ow), summed as y is written where the algorithm can (the depthwise
 * NCHW kernel), else in a pass over y. The same y; the means within a few
 * ulps of lits_adaptive_avgpool2d_forward_f32's (another order of sums). */
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_pool_f32(const lits_conv2d_params* params_host, const float* x,
                                          const float* x_coef, int32_t x_relu,
                                          const float* weight, const float* bias,
                                          const float* y_coef, const float* r,
                                          const float* r_coef, int32_t relu, float* y,
                                          float* pooled, void* prepared,
                                          int64_t prepared_bytes);
/* The gate [n, c] from pooled [n, c]: gate[i, ch] = sigmoid(b2[ch] + sum_j
 * w2[ch, j] h[j]), h[j] = act(b1[j] + sum_ch w1[j, ch] pooled[i, ch]), w1
 * [squeeze, c], w2 [c, squeeze], b1 and b2 may be NULL; act 0 (none), 1
 * ReLU, 2 ReLU6 or 3 SiLU as the relu codes above; the sigmoid as
 * lits_unary_f32's. */
LITS_OPTIONAL
int lits_squeeze_excitation_gate_f32(const float* pooled, const float* w1, const float* b1,
                                     const float* w2, const float* b2, float* gate, int32_t n,
                                     int32_t c, int32_t squeeze, int32_t act);
/* lits_conv2d_forward_epilogue_f32 of x [n, c, h, w] times x_scale [n, c]
 * (one factor a plane: the gate) without writing the product: the packed
 * GEMM of 1x1 layers multiplies each value as it packs x; other algorithms
 * read a scaled copy. The bits of x_scale * x written, then convolved. */
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_scaled_f32(const lits_conv2d_params* params_host,
                                            const float* x, const float* x_scale,
                                            const float* weight, const float* bias,
                                            const float* y_coef, const float* r,
                                            const float* r_coef, int32_t relu, float* y,
                                            void* prepared, int64_t prepared_bytes);

/* MobileNetV2's inverted residual block in evaluation as one call:
 * y = T_p(project(act(T_d(depthwise(act(T_e(expand(x)))))))) (+ r), the
 * T's batch norms as y_coef's of lits_conv2d_forward_epilogue_f32 (3 k
 * floats each, or NULL), act the relu code of both hidden layers (2:
 * ReLU6), the projection without one (a linear bottleneck). expand_host
 * (1x1, stride 1, no padding or groups) may be NULL (t = 1: the depthwise
 * reads x; w_expand and coef_expand NULL then); depthwise_host: groups =
 * channels, an odd square kernel, padding kernel / 2, stride 1 or 2;
 * project_host: 1x1;
 * each geometry's output the next one's input. No biases. r (NULL: none)
 * is laid out as y [n, k, oh, ow]. prep_* as
 * lits_conv2d_forward_prepared_f32's buffers of the expansion's and the
 * projection's weights (NULL, 0: none). The bits of the three
 * lits_conv2d_forward_epilogue_f32 calls; the expanded and depthwise
 * tensors are never written where the CPU runs it fused (AVX-512, planes
 * of 16 pixels or more; elsewhere it makes those three calls). */
LITS_OPTIONAL
int lits_inverted_residual_f32(const lits_conv2d_params* expand_host,
                               const lits_conv2d_params* depthwise_host,
                               const lits_conv2d_params* project_host, const float* x,
                               const float* w_expand, const float* coef_expand, const float* w_dw,
                               const float* coef_dw, const float* w_project,
                               const float* coef_project, const float* r, int32_t act, float* y,
                               void* prep_expand, int64_t prep_expand_bytes, void* prep_project,
                               int64_t prep_project_bytes);

/* A 3x3 convolution, its batch norm in evaluation (y_coef over the k output
 * channels as lits_fused_affine_f32's, or NULL), a ReLU and a 2x2 max pool
 * of stride 2 (floor: odd rows and columns dropped), as one kernel: y [n,
 * k, oh / 2, ow / 2] (a stage of the small CNN in evaluation), with the
 * bits of the ops run one by one. takes_host gets 1 where it is served
 * (the CPU's direct 3x3 kernel would run the convolution), else 0: the
 * caller then runs the ops one by one (the f32 call would be an
 * LITS_ERR_UNAVAILABLE). */
LITS_OPTIONAL
int lits_conv2d_relu_maxpool2_takes(const lits_conv2d_params* params_host, int32_t* takes_host);
LITS_OPTIONAL
int lits_conv2d_relu_maxpool2_f32(const lits_conv2d_params* params_host, const float* x,
                                  const float* weight, const float* bias, const float* y_coef,
                                  float* y);
/* The same under bf16 autocast, with the bits of lits_conv2d_forward_bf16_f32's
 * convolution, then the batch norm, ReLU and pool: served where that
 * forward runs the fp32 direct kernel over bf16-rounded operands (one input
 * channel) and lits_bf16_support reports bf16, as its takes says. */
LITS_OPTIONAL
int lits_conv2d_relu_maxpool2_bf16_takes(const lits_conv2d_params* params_host,
                                         int32_t* takes_host);
LITS_OPTIONAL
int lits_conv2d_relu_maxpool2_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                       const float* weight, const float* bias,
                                       const float* y_coef, float* y);

/* ResNet's stem in evaluation: a one-channel convolution of stride 2 (a
 * CT slice's 7x7 stem), its batch norm (y_coef over the k output channels
 * as lits_fused_affine_f32's, or NULL), a ReLU and a 3x3 max pool of
 * stride 2 and padding 1 (floor), as one kernel: y [n, k, (oh - 1) / 2 + 1,
 * (ow - 1) / 2 + 1], with the bits of the ops run one by one (the bf16
 * call: of lits_conv2d_forward_bf16_f32's convolution, then the pool).
 * takes_host gets 1 where it is served (the CPU's stem kernel would run the
 * convolution; bf16 != 0: and lits_bf16_support reports bf16), else 0: the
 * caller then runs the ops one by one (the calls below would be
 * LITS_ERR_UNAVAILABLE). */
LITS_OPTIONAL
int lits_conv2d_relu_maxpool3s2_takes(const lits_conv2d_params* params_host, int32_t bf16,
                                      int32_t* takes_host);
LITS_OPTIONAL
int lits_conv2d_relu_maxpool3s2_f32(const lits_conv2d_params* params_host, const float* x,
                                    const float* weight, const float* bias, const float* y_coef,
                                    float* y);
LITS_OPTIONAL
int lits_conv2d_relu_maxpool3s2_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* weight, const float* bias,
                                         const float* y_coef, float* y);

/* ---- bfloat16 autocast (LITS_OPTIONAL) ---------------------------------- */
/* What the device offers for bf16 products: *level_host = 0 (none), 1 (CPU:
 * AVX512_BF16's vdpbf16ps; GPU: compute capability 8.0 or later) or 2 (CPU:
 * AMX-BF16 too: the GEMM runs AMX tiles where Linux grants them, unless
 * LITS_AMX=off). The
 * environment variable LITS_BF16=off makes it report 0 (and the bf16
 * functions below unavailable), to test fallbacks anywhere. Where results
 * below are "fp32 sums", the GPU's convolutions round them to bf16 once
 * before widening (cuDNN's BFLOAT16 configuration, as PyTorch's CUDA
 * autocast); its GEMM keeps them. */
LITS_OPTIONAL
int lits_bf16_support(int32_t* level_host);
/* lits_gemm_f32 without the batch, computed as PyTorch's CPU autocast does:
 * C = alpha * bf16(op(A)) * bf16(op(B)) + beta * C, the fp32 inputs rounded
 * to bfloat16 (round to nearest even, NaN stays NaN), products and sums in
 * fp32 (vdpbf16ps: denormal bf16 inputs and results below 2^-126 are
 * flushed to zero). LITS_ERR_UNAVAILABLE where lits_bf16_support reports 0. */
LITS_OPTIONAL
int lits_gemm_bf16_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                       float beta, float* c, int64_t ldc);
/* lits_gemm_bf16_f32 over a batch of matrices stride_a, stride_b and
 * stride_c floats apart (lits_gemm_f32's batch rules): bmm under autocast
 * (attention's q k^T and weights x v). Each matrix's bits are those of
 * lits_gemm_bf16_f32 on it alone. */
LITS_OPTIONAL
int lits_gemm_bf16_batched_f32(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
                               float alpha, const float* a, int64_t lda, const float* b,
                               int64_t ldb, float beta, float* c, int64_t ldc, int64_t batch,
                               int64_t stride_a, int64_t stride_b, int64_t stride_c);
/* y = x rounded to bfloat16 (round to nearest even, NaN -> quiet NaN,
 * denormals kept) and back to fp32; y may equal x. Any CPU. */
LITS_OPTIONAL
int lits_round_bf16_f32(const float* x, float* y, int64_t n);
/* The convolutions of lits_conv2d_forward_f32, lits_conv2d_backward_data_f32
 * and lits_conv2d_backward_filter_f32 (same arguments, geometries and
 * rules) computed as PyTorch's CPU autocast does: the input (after its
 * transform relu?(T(x))), the weights and dy rounded to bfloat16 (as
 * lits_round_bf16_f32), products and sums in fp32 (as lits_gemm_bf16_f32),
 * the bias added in fp32, fp32 outputs. LITS_ERR_UNAVAILABLE where
 * lits_bf16_support reports 0. */
LITS_OPTIONAL
int lits_conv2d_forward_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                 const float* x_coef, int32_t x_relu, const float* weight,
                                 const float* bias, float* y);
/* lits_conv2d_forward_epilogue_f32's epilogue after lits_conv2d_forward_bf16_f32
 * (relu?(T_y(y) + T_r(r)) in fp32, applied to each tile of the bf16 GEMM while
 * it is in cache, or in a pass after the direct and oneDNN kernels). */
/* lits_conv2d_forward_moments_f32 under bf16 autocast: the y of
 * lits_conv2d_forward_bf16_f32, and its moments, gathered as the bf16 GEMM's
 * vdpbf16ps micro-kernels write its tiles (1x1 layers and im2col tiles
 * without a bias, where the tiles do not depend on the number of threads:
 * then the same for any number; not on AMX CPUs, whose tiles keep the
 * pass), else by a pass over y. */
LITS_OPTIONAL
int lits_conv2d_forward_moments_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* x_coef, int32_t x_relu,
                                         const float* weight, const float* bias, float* y,
                                         double* moments);
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                          const float* x_coef, int32_t x_relu,
                                          const float* weight, const float* bias,
                                          const float* y_coef, const float* r,
                                          const float* r_coef, int32_t relu, float* y);
/* lits_conv2d_forward_epilogue_pool_f32 and lits_conv2d_forward_epilogue_scaled_f32
 * (squeeze-and-excitation in evaluation) as lits_conv2d_forward_epilogue_bf16_f32
 * computes the convolution: the input (the pool's after its transform, the
 * scaled one's after its scale) and the weights rounded to bfloat16, fp32
 * sums and epilogue; the means of y's planes as the fp32 form's. */
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_pool_bf16_f32(const lits_conv2d_params* params_host,
                                               const float* x, const float* x_coef,
                                               int32_t x_relu, const float* weight,
                                               const float* bias, const float* y_coef,
                                               const float* r, const float* r_coef, int32_t relu,
                                               float* y, float* pooled);
LITS_OPTIONAL
int lits_conv2d_forward_epilogue_scaled_bf16_f32(const lits_conv2d_params* params_host,
                                                 const float* x, const float* x_scale,
                                                 const float* weight, const float* bias,
                                                 const float* y_coef, const float* r,
                                                 const float* r_coef, int32_t relu, float* y);
/* lits_squeeze_excitation_gate_f32 with its two 1x1 convolutions as autocast
 * runs them: pooled, w1, the hidden values and w2 rounded to bfloat16, fp32
 * sums (the biases, activation and sigmoid in fp32). */
LITS_OPTIONAL
int lits_squeeze_excitation_gate_bf16_f32(const float* pooled, const float* w1, const float* b1,
                                          const float* w2, const float* b2, float* gate,
                                          int32_t n, int32_t c, int32_t squeeze, int32_t act);
LITS_OPTIONAL
int lits_conv2d_backward_data_bf16_f32(const lits_conv2d_params* params_host, const float* weight,
                                       const float* dy, float* dx);
LITS_OPTIONAL
int lits_conv2d_backward_filter_bf16_f32(const lits_conv2d_params* params_host, const float* x,
                                         const float* x_coef, int32_t x_relu, const float* dy,
                                         float* dweight);

/* ---- a convolution's dy held in bf16 (CPU only: LITS_OPTIONAL) ---------- */
/* Under autocast a batch norm after a convolution may write its dx, the
 * convolution's dy, as bf16 (RNE, as the convolution's own packing rounds
 * it: the same products), uint16 bits [n, k, oh, ow]; the convolution's
 * backward then reads half the bytes. *takes_host = 1 where this backend's
 * kernels read such a dy as it is for this geometry (1x1, stride 1, one
 * group, ours rather than oneDNN's; other geometries take it widened to
 * fp32 first, which gains nothing), else 0. */
LITS_OPTIONAL
int lits_conv2d_bf16dy_takes(const lits_conv2d_params* params_host, int32_t* takes_host);
/* lits_conv2d_backward_data_bf16_f32 and lits_conv2d_backward_filter_bf16_f32
 * of a bf16 dy: the same results as of its values widened to fp32. */
LITS_OPTIONAL
int lits_conv2d_backward_data_bf16dy_f32(const lits_conv2d_params* params_host,
                                         const float* weight, const uint16_t* dy, float* dx);
LITS_OPTIONAL
int lits_conv2d_backward_filter_bf16dy_f32(const lits_conv2d_params* params_host, const float* x,
                                           const float* x_coef, int32_t x_relu,
                                           const uint16_t* dy, float* dweight);
/* lits_batchnorm2d_backward_f32 (mask_coef NULL) or
 * lits_batchnorm2d_backward_relu_f32 writing dx rounded to bf16 (RNE), for
 * lits_conv2d_backward_*_bf16dy_f32. */
LITS_OPTIONAL
int lits_batchnorm2d_backward_bf16dx_f32(const float* x, const float* dy, const float* mask_coef,
                                         const float* gamma, const float* save_mean,
                                         const float* save_invstd, uint16_t* dx, float* dgamma,
                                         float* dbeta, int32_t n, int32_t c, int64_t hw,
                                         float eps);
/* y[i] = x[i] (bf16 bits) as fp32, exactly. */
LITS_OPTIONAL
int lits_bf16_widen_f32(const uint16_t* x, float* y, int64_t n);

/* A residual block's output under autocast held as bf16 (bf16_act.c):
 * lits_fused_relu_mask_f32's values and mask, the values rounded to bf16
 * (RNE, as the convolutions' packing rounds them) into y (uint16 bits),
 * with the residual as fp32 (r) or bf16 (r16; at most one of them). */
LITS_OPTIONAL
int lits_fused_relu_mask_bf16_f32(const float* x, const float* x_coef, const float* r,
                                  const uint16_t* r16, const float* r_coef, uint16_t* y,
                                  uint16_t* mask, int32_t n, int32_t c, int64_t hw);
/* *takes_host = 1 where this backend's kernels read a bf16 x as it is for
 * this geometry (1x1, stride 1, one group, ours rather than oneDNN's; the
 * entry points below take other geometries widened to fp32 first, which
 * gains nothing; LITS_BF16_ACT=off: none), else 0. */
LITS_OPTIONAL
int lits_conv2d_bf16x_takes(const lits_conv2d_params* params_host, int32_t* takes_host);
/* lits_conv2d_forward_bf16_f32 (no bias, no transform) of a bf16 x, with
 * moments (NULL: none) as lits_conv2d_forward_moments_bf16_f32's; and
 * lits_conv2d_backward_filter_bf16_f32 of a bf16 x, dy given as fp32 or as
 * bf16 (dy16, dy NULL: lits_conv2d_backward_filter_bf16dy_f32's). The same
 * results as of x's values widened to fp32. */
LITS_OPTIONAL
int lits_conv2d_forward_bf16x_f32(const lits_conv2d_params* params_host, const uint16_t* x,
                                  const float* weight, float* y, double* moments);
LITS_OPTIONAL
int lits_conv2d_backward_filter_bf16x_f32(const lits_conv2d_params* params_host,
                                          const uint16_t* x, const float* dy,
                                          const uint16_t* dy16, float* dweight);

/* ---- channels-last bf16 evaluation (CPU only: LITS_OPTIONAL) ------------ */
/* A chain of convolutions in evaluation under bf16 autocast whose
 * activations stay bf16 (RNE) and channels-last between them: an [n, c, h,
 * w] activation lies as [n, h, w, c], a pixel's channels side by side.
 * Where: oneDNN (libdnnl.so.2) has a jit or brgemm kernel for it (AMX, or
 * vdpbf16ps where the CPU has no AMX; 1x1 layers without padding run the
 * library's own vdpbf16ps kernel where AMX tiles are not used, which does
 * not call oneDNN), LITS_ONEDNN is not "off", lits_bf16_support reports
 * bf16, no groups or dilation, channels in multiples of 16. */
/* x [n, c, hw] fp32 NCHW to bf16 channels-last y [n, hw, c] (c a multiple
 * of 16). */
LITS_OPTIONAL
int lits_nhwc_bf16_from_nchw_f32(const float* x, int32_t n, int32_t c, int64_t hw, uint16_t* y);
/* bf16 channels-last x [n, hw, c] widened to fp32 NCHW y [n, c, hw]. */
LITS_OPTIONAL
int lits_nhwc_bf16_to_nchw_f32(const uint16_t* x, int32_t n, int32_t c, int64_t hw, float* y);
/* *takes_host = 1 where lits_conv2d_nhwc_bf16 runs this geometry with
 * these post-ops, flags the sum of: 1 a bias (without a batch norm: with
 * one, the bias is folded into it), 2 a batch norm, 4 a residual, 8 a
 * ReLU; else 0. */
LITS_OPTIONAL
int lits_conv2d_nhwc_bf16_takes(const lits_conv2d_params* params_host, int32_t flags,
                                int32_t* takes_host);
/* *bytes = the size of a buffer in which lits_conv2d_nhwc_bf16 keeps
 * this geometry's weights rounded and laid out between calls (0: none). */
LITS_OPTIONAL
int lits_conv2d_nhwc_bf16_prepared_bytes(const lits_conv2d_params* params_host,
                                         int64_t* bytes);
/* y = bf16(relu?(T(conv(x, weight) + bias) + r)), x and y channels-last
 * bf16, the weights fp32 [k, c, r, s] rounded to bf16, products and sums in
 * fp32, everything after the convolution in fp32, one rounding at the end.
 * bias, coef (T: a coef array of k channels, see the fused epilogues above)
 * and r (channels-last bf16, y's shape) may be NULL; r may be y itself (the
 * sum is then made in place). prepared (prepared_bytes bytes, any contents
 * at first; NULL with 0: none) keeps the rounded weights between calls, as
 * lits_conv2d_forward_prepared_f32's buffer does: they are hashed on every
 * call and remade where they changed. LITS_ERR_UNAVAILABLE where
 * lits_conv2d_nhwc_bf16_takes reports 0. */
LITS_OPTIONAL
int lits_conv2d_nhwc_bf16(const lits_conv2d_params* params_host, const uint16_t* x,
                          const float* weight, const float* bias, const float* coef,
                          const uint16_t* r, int32_t relu, uint16_t* y, void* prepared,
                          int64_t prepared_bytes);

/* ---- the machine's ceilings (benchmarks; CPU only: LITS_OPTIONAL) ------ */
/* The fp32 FMA peak in GFLOP/s: independent FMA chains in registers
 * (AVX-512, else AVX2, chosen at run time) on every OpenMP thread, the
 * fastest of runs of about 50 ms over `seconds` (0.01 to 60) in all. */
LITS_OPTIONAL
int lits_measure_fma_peak(double seconds, double* gflops_host);
/* The copy bandwidth in GB/s (bytes read + bytes written): a copy of a host
 * buffer of `bytes` (1 MiB to 64 GiB; several times the last-level cache,
 * e.g. 256 MiB) split over every OpenMP thread, by memcpy and by streaming
 * (non-temporal) stores, the fastest of 8 runs. */
LITS_OPTIONAL
int lits_measure_copy_bandwidth(int64_t bytes, double* gbps_host);
/* The bf16 dot-product peak in GFLOP/s (2 per bf16 multiply-add, 64 per
 * 512-bit vdpbf16ps): independent vdpbf16ps chains in registers on every
 * OpenMP thread, timed as lits_measure_fma_peak. LITS_ERR_UNAVAILABLE
 * without AVX512_BF16. */
LITS_OPTIONAL
int lits_measure_bf16_peak(double seconds, double* gflops_host);
/* The AMX-BF16 tile peak in GFLOP/s (2 per bf16 multiply-add, 16384 per
 * tdpbf16ps): four independent tile accumulators on every OpenMP thread,
 * timed as lits_measure_fma_peak. LITS_ERR_UNAVAILABLE where the GEMM
 * does not run AMX tiles (no AMX-BF16, Linux refused the tile state, or
 * LITS_AMX=off or LITS_BF16=off). */
LITS_OPTIONAL
int lits_measure_amx_peak(double seconds, double* gflops_host);

#ifdef __cplusplus
}
#endif

#endif /* LITS_H */
