/* library.cu: error text, start-up (device, stream, vendor handles), backend
 * description, threads and synchronisation.
 *
 * Start-up runs once, on the first lits_init or the first call that needs the
 * device. A machine without a driver, a device or the vendor libraries gets
 * LITS_ERR_UNAVAILABLE and a message that says which, from every later call
 * too (the reason is kept; nothing is retried).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mutex>

#include "common.cuh"
#include "loader.h"

lc_context lc;

#define LC_ERROR_CAP 4096
static thread_local char lc_error_buf[LC_ERROR_CAP];
static thread_local bool lc_thread_has_device = false;

static std::mutex lc_init_lock;
static bool lc_init_tried = false;
static char lc_unavailable[LC_ERROR_CAP]; /* why start-up failed */
static char lc_info[LC_ERROR_CAP];        /* what was found where */
static int32_t lc_threads = 1;

/* ---- errors -------------------------------------------------------------- */

extern "C" const char* lits_last_error(void) { return lc_error_buf; }

void lc_clear_error(void) { lc_error_buf[0] = '\0'; }

int lc_fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lc_error_buf, sizeof lc_error_buf, fmt, ap);
  va_end(ap);
  return status;
}

/* lits_check.h's failure: an argument error. */
int lits_check_fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lc_error_buf, sizeof lc_error_buf, fmt, ap);
  va_end(ap);
  return LITS_ERR_ARGUMENT;
}

int lc_fail_status(const char* fn, const char* what, cudaError_t s) {
  /* Clears a non-sticky error so that later calls start clean; a sticky one
   * (a faulted kernel) keeps failing every call, each time with this text. */
  (void)cudaGetLastError();
  const int status = s == cudaErrorMemoryAllocation ? LITS_ERR_MEMORY : LITS_ERR_INTERNAL;
  return lc_fail(status, "%s: %s failed: %s (%s)%s", fn, what, cudaGetErrorName(s),
                 cudaGetErrorString(s),
                 s == cudaErrorIllegalAddress || s == cudaErrorLaunchFailure
                     ? "; a kernel faulted (possibly an earlier one: CUDA reports faults late), "
                       "the CUDA context is now unusable"
                     : "");
}

int lc_fail_status(const char* fn, const char* what, cublasStatus_t s) {
  const char* text = lc_vendor.cublasGetStatusString ? lc_vendor.cublasGetStatusString(s) : NULL;
  return lc_fail(LITS_ERR_INTERNAL, "%s: %s failed: cuBLAS status %d (%s)", fn, what, (int)s,
                 text ? text : "no text");
}

int lc_fail_status(const char* fn, const char* what, cudnnStatus_t s) {
  const char* text = lc_vendor.cudnnGetErrorString ? lc_vendor.cudnnGetErrorString(s) : NULL;
  char detail[1024] = "";
  lc_cudnn_last_error(detail, sizeof detail);
  return lc_fail(LITS_ERR_INTERNAL, "%s: %s failed: cuDNN status %d (%s)%s%s", fn, what, (int)s,
                 text ? text : "no text", detail[0] ? ": " : "", detail);
}

/* ---- start-up ------------------------------------------------------------- */

static int env_flag(const char* name) { return lits_env_flag(name, 0); }

/* Why cudaGetDeviceCount failed, in words a user can act on. */
static void describe_no_device(cudaError_t e, int count) {
  if (e == cudaErrorInsufficientDriver) {
    snprintf(lc_unavailable, sizeof lc_unavailable,
             "no NVIDIA driver for CUDA 13 was found (cudaGetDeviceCount: %s): this machine has "
             "no NVIDIA GPU driver, or one older than CUDA 13 needs (580 or newer)",
             cudaGetErrorString(e));
  } else if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    snprintf(lc_unavailable, sizeof lc_unavailable,
             "no CUDA device found (cudaGetDeviceCount: %s%s)", cudaGetErrorString(e),
             getenv("CUDA_VISIBLE_DEVICES") ? "; CUDA_VISIBLE_DEVICES is set" : "");
  } else {
    snprintf(lc_unavailable, sizeof lc_unavailable, "the CUDA driver did not start: %s (%s)",
             cudaGetErrorName(e), cudaGetErrorString(e));
  }
}

/* Runs start-up; on failure fills lc_unavailable and returns nonzero. */
static int start(void) {
  lc.tf32 = env_flag("LITS_CUDA_TF32");
  const char* dev_env = getenv("LITS_CUDA_DEVICE");
  lc.device = dev_env && dev_env[0] ? atoi(dev_env) : 0;

  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    describe_no_device(e, count);
    (void)cudaGetLastError();
    return 1;
  }
  if (lc.device < 0 || lc.device >= count) {
    snprintf(lc_unavailable, sizeof lc_unavailable,
             "LITS_CUDA_DEVICE=%d, but there are %d CUDA device(s) (0..%d)", lc.device, count,
             count - 1);
    return 1;
  }
  cudaDeviceProp prop;
  if ((e = cudaSetDevice(lc.device)) != cudaSuccess ||
      (e = cudaGetDeviceProperties(&prop, lc.device)) != cudaSuccess) {
    snprintf(lc_unavailable, sizeof lc_unavailable, "cannot use CUDA device %d: %s", lc.device,
             cudaGetErrorString(e));
    return 1;
  }
  if (prop.major < 8) {
    snprintf(lc_unavailable, sizeof lc_unavailable,
             "CUDA device %d (%s) has compute capability %d.%d; this build has code for 8.0 "
             "(Ampere) and newer only",
             lc.device, prop.name, prop.major, prop.minor);
    return 1;
  }
  lc.sm_count = prop.multiProcessorCount;
  lc.cc = prop.major * 10 + prop.minor;

  char vendor_info[2048];
  if (lc_load_vendor(vendor_info, sizeof vendor_info, lc_unavailable, sizeof lc_unavailable)) {
    return 1;
  }

  /* Handles and buffers; any failure here is reported as "cannot start". */
  const char* step = NULL;
  cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
  cudnnStatus_t ds = CUDNN_STATUS_SUCCESS;
  const size_t cublas_ws_bytes = (size_t)32 << 20; /* NVIDIA's advice for Hopper */
  if ((e = cudaStreamCreateWithFlags(&lc.stream, cudaStreamNonBlocking)) != cudaSuccess) {
    step = "cudaStreamCreateWithFlags";
  } else if ((e = cudaHostAlloc((void**)&lc.host_word, 64, cudaHostAllocDefault)) != cudaSuccess) {
    step = "cudaHostAlloc";
  } else if ((bs = lc_vendor.cublasCreate_v2(&lc.cublas)) != CUBLAS_STATUS_SUCCESS) {
    step = "cublasCreate_v2";
  } else if ((bs = lc_vendor.cublasSetStream_v2(lc.cublas, lc.stream)) != CUBLAS_STATUS_SUCCESS) {
    step = "cublasSetStream_v2";
  } else if ((bs = lc_vendor.cublasSetMathMode(
                  lc.cublas, lc.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH)) !=
             CUBLAS_STATUS_SUCCESS) {
    step = "cublasSetMathMode";
  } else if (lc_scratch_alloc("lits_init", (int64_t)cublas_ws_bytes, &lc.cublas_workspace) !=
             LITS_OK) {
    step = "allocating the cuBLAS workspace";
  } else if ((bs = lc_vendor.cublasSetWorkspace_v2(lc.cublas, lc.cublas_workspace,
                                                   cublas_ws_bytes)) != CUBLAS_STATUS_SUCCESS) {
    step = "cublasSetWorkspace_v2";
  } else if ((ds = lc_vendor.cudnnCreate(&lc.cudnn)) != CUDNN_STATUS_SUCCESS) {
    step = "cudnnCreate";
  } else if ((ds = lc_vendor.cudnnSetStream(lc.cudnn, lc.stream)) != CUDNN_STATUS_SUCCESS) {
    step = "cudnnSetStream";
  }
  if (step != NULL) {
    const char* why = e != cudaSuccess ? cudaGetErrorString(e)
                      : bs != CUBLAS_STATUS_SUCCESS
                          ? lc_vendor.cublasGetStatusString(bs)
                      : ds != CUDNN_STATUS_SUCCESS ? lc_vendor.cudnnGetErrorString(ds)
                                                   : lits_last_error();
    snprintf(lc_unavailable, sizeof lc_unavailable, "CUDA start-up failed at %s: %.500s (%.3000s)", step,
             why ? why : "?", vendor_info);
    (void)cudaGetLastError();
    return 1;
  }

  int driver = 0, runtime = 0;
  (void)cudaDriverGetVersion(&driver);
  (void)cudaRuntimeGetVersion(&runtime);
  snprintf(lc_info, sizeof lc_info,
           "cuda: device %d %s (compute %d.%d, %d SMs, %.1f GiB), driver CUDA %d.%d, runtime "
           "%d.%d; %s; TF32 %s",
           lc.device, prop.name, prop.major, prop.minor, prop.multiProcessorCount,
           (double)prop.totalGlobalMem / (double)(1 << 30), driver / 1000, driver % 1000 / 10,
           runtime / 1000, runtime % 1000 / 10, vendor_info,
           lc.tf32 ? "on (LITS_CUDA_TF32=1)" : "off (LITS_CUDA_TF32=1 turns it on)");
  return 0;
}

int lc_ready(const char* fn) {
  if (__atomic_load_n(&lc.ready, __ATOMIC_ACQUIRE)) {
    /* The runtime's current device is per host thread (Deno may call from
     * its FFI pool threads). */
    if (!lc_thread_has_device) {
      cudaError_t e = cudaSetDevice(lc.device);
      if (e != cudaSuccess) return lc_fail_status(fn, "cudaSetDevice", e);
      lc_thread_has_device = true;
    }
    return LITS_OK;
  }
  const int locked = lc_guarded(fn, []() -> int {
    std::lock_guard<std::mutex> guard(lc_init_lock); /* may throw std::system_error */
    if (!lc_init_tried) {
      lc_init_tried = true;
      if (start() == 0) {
        lc_thread_has_device = true;
        __atomic_store_n(&lc.ready, 1, __ATOMIC_RELEASE);
      }
    }
    return LITS_OK;
  });
  if (locked != LITS_OK) return locked;
  if (__atomic_load_n(&lc.ready, __ATOMIC_ACQUIRE)) return lc_ready(fn);
  return lc_fail(LITS_ERR_UNAVAILABLE, "%s: the CUDA backend is unavailable: %s", fn,
                 lc_unavailable);
}

int lc_read_word(const char* fn, const int64_t* src, int64_t* out) {
  const char* const lc_fn = fn;
  LC_CHECK(cudaMemcpyAsync(lc.host_word, src, sizeof(int64_t), cudaMemcpyDeviceToHost, lc.stream));
  LC_CHECK(cudaStreamSynchronize(lc.stream));
  *out = lc.host_word[0];
  return LITS_OK;
}

/* ---- lits.h: library -------------------------------------------------------- */

extern "C" int lits_abi_version(int32_t* out_host) {
  static const char* const lc_fn = "lits_abi_version";
  lc_clear_error();
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  *out_host = LITS_ABI_VERSION;
  return LITS_OK;
}

extern "C" int lits_init(void) {
  LC_ENTER("lits_init");
  return LITS_OK;
}

extern "C" int lits_backend_info(char* buf_host, int64_t cap) {
  static const char* const lc_fn = "lits_backend_info";
  lc_clear_error();
  LC_REQUIRE(cap > 0, "%s: cap must be > 0, got %lld", lc_fn, (long long)cap);
  LC_REQUIRE(buf_host != NULL, "%s: buf is NULL", lc_fn);
  const size_t n = cap > (int64_t)1 << 30 ? (size_t)1 << 30 : (size_t)cap;
  if (lc_ready(lc_fn) == LITS_OK) {
    snprintf(buf_host, n, "%s", lc_info);
  } else {
    snprintf(buf_host, n, "cuda: unavailable: %s", lc_unavailable);
  }
  lc_clear_error(); /* describing an unavailable backend is not an error */
  return LITS_OK;
}

extern "C" int lits_set_num_threads(int32_t n) {
  static const char* const lc_fn = "lits_set_num_threads";
  lc_clear_error();
  LC_REQUIRE(n >= 1, "%s: n must be >= 1, got %d", lc_fn, (int)n);
  lc_threads = n; /* host threads do no work here; kept for lits_get_num_threads */
  return LITS_OK;
}

extern "C" int lits_get_num_threads(int32_t* out_host) {
  static const char* const lc_fn = "lits_get_num_threads";
  lc_clear_error();
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  *out_host = lc_threads;
  return LITS_OK;
}

/* -1: not set, LITS_DETERMINISTIC decides (read once). */
static int lc_deterministic_mode = -1;

int lc_deterministic(void) {
  int mode = __atomic_load_n(&lc_deterministic_mode, __ATOMIC_RELAXED);
  if (mode < 0) {
    int from_env = env_flag("LITS_DETERMINISTIC");
    int unset = -1;
    /* A concurrent lits_set_deterministic wins over the environment. */
    if (!__atomic_compare_exchange_n(&lc_deterministic_mode, &unset, from_env, false,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      from_env = unset;
    mode = from_env;
  }
  return mode;
}

/* lits_set_winograd's choice; -1: not set, LITS_WINOGRAD=0 turns it off. */
static int lc_winograd_mode = -1;

int lc_winograd(void) {
  const int mode = __atomic_load_n(&lc_winograd_mode, __ATOMIC_RELAXED);
  return mode >= 0 ? mode : lits_env_flag("LITS_WINOGRAD", 1);
}

extern "C" int lits_set_winograd(int32_t on) {
  static const char* const lc_fn = "lits_set_winograd";
  lc_clear_error();
  LC_REQUIRE(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", lc_fn, (int)on);
  __atomic_store_n(&lc_winograd_mode, (int)on, __ATOMIC_RELAXED);
  return LITS_OK;
}

extern "C" int lits_get_winograd(int32_t* out_host) {
  static const char* const lc_fn = "lits_get_winograd";
  lc_clear_error();
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  *out_host = lc_winograd();
  return LITS_OK;
}

extern "C" int lits_set_deterministic(int32_t on) {
  static const char* const lc_fn = "lits_set_deterministic";
  lc_clear_error();
  LC_REQUIRE(on == 0 || on == 1, "%s: on must be 0 or 1, got %d", lc_fn, (int)on);
  __atomic_store_n(&lc_deterministic_mode, (int)on, __ATOMIC_RELAXED);
  return LITS_OK;
}

extern "C" int lits_get_deterministic(int32_t* out_host) {
  static const char* const lc_fn = "lits_get_deterministic";
  lc_clear_error();
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  *out_host = lc_deterministic();
  return LITS_OK;
}

extern "C" int lits_synchronize(void) {
  LC_ENTER("lits_synchronize");
  LC_CHECK(cudaStreamSynchronize(lc.stream));
  return LITS_OK;
}
