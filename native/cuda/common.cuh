/*
 * common.cuh: shared helpers of the CUDA implementation of lits.h.
 *
 * - Errors: lc_fail records a message for lits_last_error(); every vendor or
 *   runtime status goes through LC_CHECK, which records the library's own
 *   error string and the call that failed.
 * - Entry: LC_ENTER(name) clears the last error and makes sure the backend is
 *   initialised (device, stream, cuBLAS, cuDNN); it declares `lc_fn`, the
 *   name that error messages start with.
 * - Launch: grid-stride kernels sized by lc_blocks(); one stream (lc.stream).
 * - Scratch: lc_scratch_alloc/free take device memory from the caching
 *   allocator, so a steady training step never calls cudaMalloc.
 * - Exceptions: an entry point that uses C++ containers runs its body in
 *   lc_guarded (guard.cuh), which turns a throw into a status.
 *
 * Internal names start with lc_; only lits_* symbols leave the library
 * (exports.map).
 */
#ifndef LITS_CUDA_COMMON_CUH
#define LITS_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "guard.cuh"
#include "lits.h"
#include "lits_check.h"
#include "vendor.h"

/* ---- the backend's state ------------------------------------------------- */

struct lc_context {
  int ready;               /* lits_init succeeded */
  int device;              /* CUDA device ordinal (0, or LITS_CUDA_DEVICE) */
  int sm_count;            /* multiprocessors, for grid sizes */
  int cc;                  /* compute capability, major * 10 + minor (bf16: 80+) */
  int tf32;                /* LITS_CUDA_TF32=1: TF32 in cuBLAS and cuDNN */
  cudaStream_t stream;     /* the one stream every op runs on */
  cublasHandle_t cublas;
  cudnnHandle_t cudnn;
  void* cublas_workspace;  /* from our allocator, handed to cuBLAS once */
  int64_t* host_word;      /* pinned 8 bytes for small device -> host reads */
};

extern lc_context lc;

/* ---- errors ----------------------------------------------------------------- */

/* Records a printf-style message for lits_last_error() and returns status. */
int lc_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void lc_clear_error(void);

/* Initialises on first use (thread-safe); LITS_OK or the reason it cannot run. */
int lc_ready(const char* fn);

/* Status tests and texts, overloaded per library so that one macro checks all. */
inline bool lc_ok(cudaError_t s) { return s == cudaSuccess; }
inline bool lc_ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
inline bool lc_ok(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS; }
int lc_fail_status(const char* fn, const char* what, cudaError_t s);
int lc_fail_status(const char* fn, const char* what, cublasStatus_t s);
int lc_fail_status(const char* fn, const char* what, cudnnStatus_t s);

/* Returns from the calling function with an error when `call` fails. */
#define LC_CHECK(call)                                                \
  do {                                                                \
    auto lc_status_ = (call);                                         \
    if (!lc_ok(lc_status_)) return lc_fail_status(lc_fn, #call, lc_status_); \
  } while (0)

/* After a <<<...>>> launch: a bad configuration or a fault from an earlier
 * kernel shows up here. */
#define LC_CHECK_LAUNCH(kernel_name)                                                   \
  do {                                                                                 \
    cudaError_t lc_status_ = cudaGetLastError();                                       \
    if (lc_status_ != cudaSuccess)                                                     \
      return lc_fail_status(lc_fn, "launch of kernel " kernel_name, lc_status_);       \
  } while (0)

#define LC_REQUIRE(cond, ...)                                        \
  do {                                                               \
    if (!(cond)) return lc_fail(LITS_ERR_ARGUMENT, __VA_ARGS__);     \
  } while (0)

/* First statement of every entry point that touches the device. */
#define LC_ENTER(name)                         \
  static const char* const lc_fn = name;       \
  lc_clear_error();                            \
  do {                                         \
    int lc_st_ = lc_ready(lc_fn);              \
    if (lc_st_ != LITS_OK) return lc_st_;      \
  } while (0)

/* Propagates a non-OK status from a helper. */
#define LC_TRY(expr)                     \
  do {                                   \
    int lc_st_ = (expr);                 \
    if (lc_st_ != LITS_OK) return lc_st_; \
  } while (0)

/* ---- launches ---------------------------------------------------------------- */

#define LC_THREADS 256

/* Blocks for a grid-stride loop over n items: enough to fill the device, never
 * more than the items need. */
inline unsigned lc_blocks(int64_t n, int threads = LC_THREADS) {
  int64_t want = (n + threads - 1) / threads;
  int64_t cap = (int64_t)(lc.sm_count > 0 ? lc.sm_count : 80) * 32;
  if (want > cap) want = cap;
  return (unsigned)(want < 1 ? 1 : want);
}

/* Grid-stride loop over [0, n) with 64-bit indices. */
#define LC_GRID_LOOP(i, n)                                                          \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x, lc_step_ =       \
                       (int64_t)gridDim.x * blockDim.x;                             \
       i < (n); i += lc_step_)

/* ---- scratch memory ------------------------------------------------------------ */

/* Device memory from the caching allocator; records an error on failure. */
int lc_scratch_alloc(const char* fn, int64_t bytes, void** out);
void lc_scratch_free(void* p);
/* Bytes of free blocks the cache holds; lc_release_cached gives them back to
 * the driver (lits_empty_cache); lc_scratch_release gives one scratch block
 * straight back (a search workspace that later steps will not reuse). */
int64_t lc_cached_bytes(void);
int lc_release_cached(const char* fn);
void lc_scratch_release(void* p);

/* ---- deterministic mode ------------------------------------------------------- */

/* lits_set_deterministic's choice, or LITS_DETERMINISTIC=1 when never set:
 * convolutions then use only CUDNN_DETERMINISTIC algorithms (conv_plan.cu). */
int lc_deterministic(void);
/* lits_set_winograd's choice, or LITS_WINOGRAD=0 when never set: convolution
 * plans then leave cuDNN's Winograd algorithms out (conv_plan.cu). */
int lc_winograd(void);

/* Reads one int64 that a kernel wrote to `src` (device): waits for the stream.
 * Used only where the ABI needs an answer now (a bad label must be a status). */
int lc_read_word(const char* fn, const int64_t* src, int64_t* out);

/* a * b into *out; false on int64 overflow or a negative operand. */
inline bool lc_mul_ok(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  return !__builtin_mul_overflow(a, b, out);
}

#endif /* LITS_CUDA_COMMON_CUH */
