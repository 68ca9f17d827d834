/* library.c: error text, version, threads and backend description (CPU). */
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "common.h"

#define LITS_ERROR_CAP 1024

static _Thread_local char lits_error_buf[LITS_ERROR_CAP];

/* Thread count set by lits_set_num_threads (0: OpenMP's default).
 * omp_set_num_threads only changes the calling thread's setting, and the
 * host may call us from several threads (Deno's nonblocking FFI calls run on
 * a pool), so every entry point re-applies it through lits_clear_error. */
static _Atomic int lits_threads_wanted = 0;

/* OpenBLAS runs on the calling thread only: the kernels split their work
 * over OpenMP threads themselves (lits_sgemm_parallel, batch-parallel
 * convolutions). Two pools on a small machine would take turns on the same
 * cores, and OpenBLAS's pthreads busy-wait while OpenMP's do the work. */
__attribute__((constructor)) static void lits_blas_single_threaded(void) {
  openblas_set_num_threads(1);
}

const char* lits_last_error(void) { return lits_error_buf; }

void lits_clear_error(void) {
  lits_error_buf[0] = '\0';
  int want = lits_threads_wanted;
  if (want > 0 && omp_get_max_threads() != want) omp_set_num_threads(want);
  /* The kernels split their work by thread number and count on the team
   * they ask for: with OMP_DYNAMIC=true OpenMP may start fewer threads (on
   * a busy machine, one), and the missing threads' share of the work was
   * left undone (wrong results, silently). Per thread, as the count. */
  if (omp_get_dynamic()) omp_set_dynamic(0);
}

int lits_fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lits_error_buf, sizeof lits_error_buf, fmt, ap);
  va_end(ap);
  return status;
}

/* lits_check.h's failure: an argument error. */
int lits_check_fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lits_error_buf, sizeof lits_error_buf, fmt, ap);
  va_end(ap);
  return LITS_ERR_ARGUMENT;
}

int lits_abi_version(int32_t* out) {
  lits_clear_error();
  LITS_REQUIRE(out != NULL, "lits_abi_version: out is NULL");
  *out = LITS_ABI_VERSION;
  return LITS_OK;
}

int lits_init(void) {
  lits_clear_error();
  return LITS_OK;
}

int lits_backend_info(char* buf_host, int64_t cap) {
  lits_clear_error();
  LITS_REQUIRE(cap > 0, "lits_backend_info: cap must be > 0, got %lld", (long long)cap);
  LITS_REQUIRE(buf_host != NULL, "lits_backend_info: buf is NULL");
  const char* blas = openblas_get_config();
  if (blas == NULL) blas = "(unknown)";
  size_t n = cap > (int64_t)1 << 30 ? (size_t)1 << 30 : (size_t)cap;
  /* snprintf truncates and always NUL-terminates within n bytes. */
  snprintf(buf_host, n, "cpu: OpenBLAS %s, OpenMP threads %d", blas, omp_get_max_threads());
  return LITS_OK;
}

int lits_set_num_threads(int32_t n) {
  lits_clear_error();
  LITS_REQUIRE(n >= 1, "lits_set_num_threads: n must be >= 1, got %d", (int)n);
  lits_threads_wanted = n;
  omp_set_num_threads(n);
  return LITS_OK;
}

int lits_get_num_threads(int32_t* out) {
  lits_clear_error();
  LITS_REQUIRE(out != NULL, "lits_get_num_threads: out is NULL");
  *out = (int32_t)omp_get_max_threads();
  return LITS_OK;
}

/* lits_set_winograd's choice; -1: not set, LITS_WINOGRAD decides (read each
 * time until then, as LITS_CONV_ALGO is). */
static _Atomic int lits_winograd_mode = -1;

int lits_winograd_allowed(void) {
  const int mode = lits_winograd_mode;
  return mode >= 0 ? mode : lits_env_flag("LITS_WINOGRAD", 1);
}

int lits_set_winograd(int32_t on) {
  lits_clear_error();
  LITS_REQUIRE(on == 0 || on == 1, "lits_set_winograd: on must be 0 or 1, got %d", (int)on);
  lits_winograd_mode = on;
  return LITS_OK;
}

int lits_get_winograd(int32_t* out) {
  lits_clear_error();
  LITS_REQUIRE(out != NULL, "lits_get_winograd: out is NULL");
  *out = lits_winograd_allowed();
  return LITS_OK;
}

/* Kept only to report it back: every CPU kernel is deterministic already (fixed
 * summation orders; results depend only on the thread count). -1: not set,
 * LITS_DETERMINISTIC decides. */
static _Atomic int lits_deterministic_mode = -1;

int lits_set_deterministic(int32_t on) {
  lits_clear_error();
  LITS_REQUIRE(on == 0 || on == 1, "lits_set_deterministic: on must be 0 or 1, got %d", (int)on);
  lits_deterministic_mode = on;
  return LITS_OK;
}

int lits_get_deterministic(int32_t* out) {
  lits_clear_error();
  LITS_REQUIRE(out != NULL, "lits_get_deterministic: out is NULL");
  int mode = lits_deterministic_mode;
  if (mode < 0) mode = lits_env_flag("LITS_DETERMINISTIC", 0);
  *out = mode;
  return LITS_OK;
}

int lits_synchronize(void) {
  lits_clear_error();
  return LITS_OK;
}
