/* host_check.cu: checks the CUDA backend's arithmetic on a machine without a
 * GPU.
 *
 * Every kernel of native/cuda is a grid-stride loop around a __host__
 * __device__ function (indexing.cuh, elementwise.cuh, random.cuh, pool.cuh,
 * loss.cuh, optim.cuh). This program runs those same functions on the host,
 * over every index a kernel would visit, and compares the results with the
 * CPU library (liblits_cpu.so) on random inputs: Philox streams and dropout
 * masks bit for bit, pooling windows, broadcasting offsets, cross-entropy and
 * optimizer updates. It also drives the vendor-library loader (loader.cu)
 * against a folder of stand-in libraries (fake_vendor.cpp), and checks the
 * convolution plan cache's decisions (conv_plan.cuh: alignment in the key,
 * workspace budget, re-search, data type and math type), bf16 autocast's
 * rounding and copies (bf16.cuh) and the exception guard of the C entry
 * points (guard.cuh).
 *
 * What it cannot check: the kernels' launch shapes and block reductions, and
 * everything cuBLAS and cuDNN compute. tests/cuda_ops_test.ts does, on a GPU.
 *
 * usage: host_check CPU_LIB [FAKE_VENDOR_DIR]   (prints "host_check: ok")
 */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <initializer_list>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "../bf16.cuh"
#include "../conv_plan.cuh"
#include "../elementwise.cuh"
#include "../gather.cuh"
#include "../guard.cuh"
#include "../indexing.cuh"
#include "../loader.h"
#include "../loss.cuh"
#include "../optim.cuh"
#include "../pool.cuh"
#include "../random.cuh"
#include "../vendor.h"
#include "lits.h"

/* ---- the CPU library ------------------------------------------------------------ */

#define CPU_FUNCTIONS(X)                                                                      \
  X(lits_rand_uniform_f32) X(lits_rand_normal_f32) X(lits_dropout_f32) X(lits_unary_f32)      \
  X(lits_unary_backward_f32) X(lits_binary_f32) X(lits_strided_copy)                          \
  X(lits_maxpool2d_forward_f32) X(lits_maxpool2d_backward_f32) X(lits_avgpool2d_forward_f32)  \
  X(lits_avgpool2d_backward_f32) X(lits_adaptive_avgpool2d_forward_f32)                       \
  X(lits_adaptive_avgpool2d_backward_f32) X(lits_cross_entropy_f32)                           \
  X(lits_cross_entropy_backward_f32) X(lits_sgd_step_f32) X(lits_adam_step_f32)               \
  X(lits_round_bf16_f32) X(lits_fused_affine_f32) X(lits_gather_f32)                       \
  X(lits_scatter_add_f32) X(lits_last_error)

#define DECLARE(name) static decltype(&name) cpu_##name;
CPU_FUNCTIONS(DECLARE)

static int g_failures = 0, g_checks = 0;

static void load_cpu(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "host_check: cannot open %s: %s\n", path, dlerror());
    exit(2);
  }
#define RESOLVE(name)                                                  \
  cpu_##name = (decltype(&name))dlsym(h, #name);                       \
  if (cpu_##name == NULL) {                                            \
    fprintf(stderr, "host_check: %s lacks %s\n", path, #name);         \
    exit(2);                                                           \
  }
  CPU_FUNCTIONS(RESOLVE)
}

#define CPU_OK(call)                                                                      \
  do {                                                                                    \
    int st_ = (call);                                                                     \
    if (st_ != 0) {                                                                       \
      fprintf(stderr, "host_check: CPU call %s failed: %s\n", #call, cpu_lits_last_error()); \
      exit(2);                                                                            \
    }                                                                                     \
  } while (0)

/* ---- comparisons ------------------------------------------------------------------ */

static bool same_float(float a, float b, double rtol, double atol) {
  if (a != a || b != b) return a != a && b != b;
  if (a == b) return true;
  return fabs((double)a - (double)b) <= atol + rtol * fabs((double)b);
}

static void expect_close(const std::string& what, const float* got, const float* want, int64_t n,
                         double rtol = 0.0, double atol = 0.0) {
  g_checks++;
  for (int64_t i = 0; i < n; i++) {
    if (!same_float(got[i], want[i], rtol, atol)) {
      g_failures++;
      fprintf(stderr, "FAIL %s: element %lld: cuda-host %.9g, cpu %.9g (of %lld)\n", what.c_str(),
              (long long)i, (double)got[i], (double)want[i], (long long)n);
      return;
    }
  }
}

static void expect_equal_i32(const std::string& what, const int32_t* got, const int32_t* want,
                             int64_t n) {
  g_checks++;
  for (int64_t i = 0; i < n; i++) {
    if (got[i] != want[i]) {
      g_failures++;
      fprintf(stderr, "FAIL %s: element %lld: cuda-host %d, cpu %d\n", what.c_str(),
              (long long)i, got[i], want[i]);
      return;
    }
  }
}

static void expect_true(const std::string& what, bool ok) {
  g_checks++;
  if (!ok) {
    g_failures++;
    fprintf(stderr, "FAIL %s\n", what.c_str());
  }
}

/* ---- inputs ------------------------------------------------------------------------ */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}
static int64_t randint(int64_t lo, int64_t hi) { return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo + 1)); }
static float randf(float lo, float hi) {
  return lo + (hi - lo) * (float)((next_u64() >> 40) * (1.0 / 16777216.0));
}
static std::vector<float> random_vec(int64_t n, float lo, float hi) {
  std::vector<float> v((size_t)n);
  for (auto& x : v) x = randf(lo, hi);
  return v;
}

static std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
static std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

#include "host_check_cases.inc"
#include "host_check_conv.inc"
#include "host_check_bf16.inc"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: host_check CPU_LIB [FAKE_VENDOR_DIR]\n");
    return 2;
  }
  load_cpu(argv[1]);
  check_random();
  check_unary();
  check_binary_and_strided();
  check_pooling();
  check_cross_entropy();
  check_gather();
  check_optimizers();
  check_conv_plan();
  check_bf16();
  check_guard();
  if (argc >= 3) check_loader(argv[2]);
  if (g_failures > 0) {
    fprintf(stderr, "host_check: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  printf("host_check: ok (%d checks)\n", g_checks);
  return 0;
}
