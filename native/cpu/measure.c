/* measure.c: the machine's ceilings, measured, for the benchmarks' rooflines:
 * the fp32 FMA peak (independent FMA chains in registers on every OpenMP
 * thread), the bf16 dot-product peak (the same with vdpbf16ps, where the CPU
 * has AVX512_BF16; measured here: 466 GFLOP/s on two Zen 4 threads, twice
 * the fp32 peak), the AMX tile peak (tdpbf16ps, where the GEMM runs AMX
 * tiles: bf16_amx.c) and the copy bandwidth (a large buffer copy on every
 * thread).
 *
 * The FMA loop picks its instruction set at run time (__builtin_cpu_supports),
 * not from the build machine's -march: AVX-512 (16 chains of 16 lanes), else
 * AVX2 + FMA (12 chains of 8 lanes: with the two operands they fill 14 of the
 * 16 ymm registers), else 12 scalar multiply-add chains. Each chain is
 * a = a * x + y with x = 0.999, y = 0.001: from 2..17 the values fall towards
 * y / (1 - x) = 1 and never become denormal or infinite. The chains are
 * written out one by one (no arrays), so that gcc keeps them in registers:
 * `gcc -S` shows each loop as 16 (12) vfmadd132ps on zmm (ymm) registers
 * only, no memory operand. Zen 4 retires one 512-bit FMA per cycle (two
 * 256-bit pipes) with a 4-cycle latency, Intel's two 512-bit FMA ports need 8
 * chains in flight: 16 and 12 chains cover both. Measured here (Zen 4 VM):
 * 111 GFLOP/s on one thread (32 flops per cycle at ~3.5 GHz), 221 on two. */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf16_blocking.h" /* the AMX tile loop */
#include "common.h"
#include "stream_store.h"

/* Read through volatile, so that gcc cannot fold the chains: with constant
 * operands it proves a value that one step leaves unchanged (a fixed point)
 * constant and removes the loop (gcc 12 did, for the scalar chains). */
static volatile float x_near_one = 0.999f, y_small = 1e-3f;

#define CHAINS4(M, a, b, c, d) M(a) M(b) M(c) M(d)
/* 16 chains a0 .. a15, declared by DECL and advanced iters times by STEP
 * (both defined where it is used), and their sum, which keeps them live. */
#define RUN16(iters)                                                     \
  CHAINS4(DECL, 0, 1, 2, 3) CHAINS4(DECL, 4, 5, 6, 7)                    \
  CHAINS4(DECL, 8, 9, 10, 11) CHAINS4(DECL, 12, 13, 14, 15)              \
  for (int64_t i = 0; i < (iters); i++) {                                \
    CHAINS4(STEP, 0, 1, 2, 3) CHAINS4(STEP, 4, 5, 6, 7)                  \
    CHAINS4(STEP, 8, 9, 10, 11) CHAINS4(STEP, 12, 13, 14, 15)            \
  }
#define ADD4_512(a, b, c, d) _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d))
#define SUM16_512                                                                    \
  _mm512_reduce_add_ps(_mm512_add_ps(                                                \
      _mm512_add_ps(ADD4_512(a0, a1, a2, a3), ADD4_512(a4, a5, a6, a7)),             \
      _mm512_add_ps(ADD4_512(a8, a9, a10, a11), ADD4_512(a12, a13, a14, a15))))

__attribute__((target("avx512f,fma"), noinline)) static float fma_avx512(int64_t iters) {
  const __m512 x = _mm512_set1_ps(x_near_one), y = _mm512_set1_ps(y_small);
#define DECL(k) __m512 a##k = _mm512_set1_ps(2.0f + (float)(k));
#define STEP(k) a##k = _mm512_fmadd_ps(a##k, x, y);
  RUN16(iters);
#undef DECL
#undef STEP
  return SUM16_512;
}
#define FLOPS_AVX512 (16 * 16 * 2)

__attribute__((target("avx2,fma"), noinline)) static float fma_avx2(int64_t iters) {
  const __m256 x = _mm256_set1_ps(x_near_one), y = _mm256_set1_ps(y_small);
#define DECL(k) __m256 a##k = _mm256_set1_ps(2.0f + (float)(k));
#define STEP(k) a##k = _mm256_fmadd_ps(a##k, x, y);
  CHAINS4(DECL, 0, 1, 2, 3) CHAINS4(DECL, 4, 5, 6, 7) CHAINS4(DECL, 8, 9, 10, 11)
  for (int64_t i = 0; i < iters; i++) {
    CHAINS4(STEP, 0, 1, 2, 3) CHAINS4(STEP, 4, 5, 6, 7) CHAINS4(STEP, 8, 9, 10, 11)
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
#undef DECL
#undef STEP
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}
#define FLOPS_AVX2 (12 * 8 * 2)

/* Neither: 12 scalar chains of a multiply and an add (2 flops; gcc contracts
 * them into one FMA where the target has it). */
__attribute__((noinline)) static float fma_scalar(int64_t iters) {
  const float x = x_near_one, y = y_small;
#define DECL(k) float a##k = 2.0f + (float)(k);
#define STEP(k) a##k = a##k * x + y;
  CHAINS4(DECL, 0, 1, 2, 3) CHAINS4(DECL, 4, 5, 6, 7) CHAINS4(DECL, 8, 9, 10, 11)
  for (int64_t i = 0; i < iters; i++) {
    CHAINS4(STEP, 0, 1, 2, 3) CHAINS4(STEP, 4, 5, 6, 7) CHAINS4(STEP, 8, 9, 10, 11)
  }
#undef DECL
#undef STEP
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
}
#define FLOPS_SCALAR (12 * 2)

/* Sink for the chains' sums, so that the loops are not optimised away. */
static volatile float fma_sink;

/* One run: every OpenMP thread runs `iters` loop trips; returns the seconds
 * from before the team starts to after its last thread ends. */
static double fma_run(float (*loop)(int64_t), int64_t iters) {
  double t0 = omp_get_wtime();
#pragma omp parallel
  {
    float s = loop(iters);
    if (s == 12345.0f) fma_sink = s;  // never true; keeps the result live
  }
  return omp_get_wtime() - t0;
}

/* The fastest of runs of ~50 ms over `seconds`, in GFLOP/s on all threads. */
static double peak_of(float (*loop)(int64_t), double flops_per_iter, double seconds) {
  const int threads = omp_get_max_threads();
  /* Runs of ~50 ms (shorter when the budget is small: at least 3 runs);
   * the first, short one wakes the team and calibrates the trip count. */
  const double run_s = seconds / 3 < 0.05 ? seconds / 3 : 0.05;
  int64_t iters = 1 << 14;
  double dt = fma_run(loop, iters);
  while (dt < 2e-3 && iters < ((int64_t)1 << 40)) dt = fma_run(loop, iters *= 4);
  iters = (int64_t)((double)iters * run_s / dt) + 1;
  double best = 0, spent = 0;
  for (int runs = 0; runs < 3 || spent < seconds; runs++) {
    dt = fma_run(loop, iters);
    spent += dt;
    double g = flops_per_iter * (double)iters * threads / dt / 1e9;
    if (g > best) best = g;
  }
  return best;
}

int lits_measure_fma_peak(double seconds, double* gflops_host) {
  lits_clear_error();
  LITS_REQUIRE(gflops_host != NULL, "lits_measure_fma_peak: gflops_host is NULL");
  LITS_REQUIRE(seconds >= 0.01 && seconds <= 60.0,
               "lits_measure_fma_peak: seconds must be in [0.01, 60], got %g", seconds);
  __builtin_cpu_init();
  float (*loop)(int64_t) = fma_scalar;
  double flops_per_iter = FLOPS_SCALAR;
  if (__builtin_cpu_supports("avx512f")) {
    loop = fma_avx512;
    flops_per_iter = FLOPS_AVX512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    loop = fma_avx2;
    flops_per_iter = FLOPS_AVX2;
  }
  *gflops_host = peak_of(loop, flops_per_iter, seconds);
  return LITS_OK;
}

/* ---- bf16 dot-product peak ----------------------------------------------- */

/* 16 independent vdpbf16ps chains, a += x . y over pairs of bf16 (x, y =
 * 0.001: each step adds 2e-6 per lane, so the sums stay small and normal).
 * The same shape as fma_avx512: 16 chains cover a latency of up to 16
 * cycles at one instruction per cycle. */
__attribute__((target("avx512f,avx512bf16"), noinline)) static float dot_bf16(int64_t iters) {
  const __m512bh x = _mm512_cvtne2ps_pbh(_mm512_set1_ps(y_small), _mm512_set1_ps(y_small));
#define DECL(k) __m512 a##k = _mm512_set1_ps(2.0f + (float)(k));
#define STEP(k) a##k = _mm512_dpbf16_ps(a##k, x, x);
  RUN16(iters);
#undef DECL
#undef STEP
  return SUM16_512;
}
/* 16 chains x 16 lanes x 2 bf16 multiply-adds x 2 flops. */
#define FLOPS_BF16 (16 * 16 * 2 * 2)

int lits_measure_bf16_peak(double seconds, double* gflops_host) {
  lits_clear_error();
  LITS_REQUIRE(gflops_host != NULL, "lits_measure_bf16_peak: gflops_host is NULL");
  LITS_REQUIRE(seconds >= 0.01 && seconds <= 60.0,
               "lits_measure_bf16_peak: seconds must be in [0.01, 60], got %g", seconds);
  int32_t level = 0;
  lits_bf16_support(&level); /* clears the error: the checks above come first */
  if (level == 0) {
    return lits_fail(LITS_ERR_UNAVAILABLE, "lits_measure_bf16_peak: no AVX512_BF16 (vdpbf16ps) "
                                           "on this CPU, or LITS_BF16=off");
  }
  *gflops_host = peak_of(dot_bf16, FLOPS_BF16, seconds);
  return LITS_OK;
}

/* ---- AMX tile peak -------------------------------------------------------- */

/* 4 tdpbf16ps x 16 x 16 lanes x 32 bf16 multiply-adds x 2 flops. */
#define FLOPS_AMX (4 * 16 * 16 * 32 * 2)

int lits_measure_amx_peak(double seconds, double* gflops_host) {
  lits_clear_error();
  LITS_REQUIRE(gflops_host != NULL, "lits_measure_amx_peak: gflops_host is NULL");
  LITS_REQUIRE(seconds >= 0.01 && seconds <= 60.0,
               "lits_measure_amx_peak: seconds must be in [0.01, 60], got %g", seconds);
  if (!lits_bf16_amx_on()) {
    return lits_fail(LITS_ERR_UNAVAILABLE,
                     "lits_measure_amx_peak: no AMX tiles here (no AMX-BF16, Linux refused "
                     "the tile state, or LITS_AMX=off or LITS_BF16=off)");
  }
  *gflops_host = peak_of(lits_bf16_amx_peak_loop, FLOPS_AMX, seconds);
  return LITS_OK;
}

/* ---- copy bandwidth ------------------------------------------------------ */

/* Two ways to copy, the faster counts: memcpy, and the kernels' own
 * streaming copy (stream_store.h: non-temporal stores write whole lines
 * without reading them first; memcpy where the build has no AVX-512).
 * Measured here (Zen 4 VM, 2 threads, 256 MiB): glibc's memcpy 18-30 GB/s,
 * streaming stores 34-45 GB/s. */
static void streamed_copy(char* d, const char* s, int64_t n) {
  const int64_t floats = n / (int64_t)sizeof(float);
  stream_copy((float*)d, (const float*)s, floats);
  memcpy(d + floats * 4, s + floats * 4, (size_t)(n - floats * 4));
  stream_fence();
}

static void plain_copy(char* d, const char* s, int64_t n) { memcpy(d, s, (size_t)n); }

/* Thread t's share [*lo, *hi) of `bytes`, cut at 4 KiB so that every thread
 * owns whole pages (first touch puts them near it) and whole cache lines. */
static void share(int64_t bytes, int t, int nt, int64_t* lo, int64_t* hi) {
  const int64_t pages = (bytes + 4095) / 4096;
  *lo = pages * t / nt * 4096;
  *hi = pages * (t + 1) / nt * 4096;
  if (*lo > bytes) *lo = bytes;
  if (*hi > bytes) *hi = bytes;
}

/* Runs of each way; the fastest run of all counts. */
#define COPY_RUNS 4

int lits_measure_copy_bandwidth(int64_t bytes, double* gbps_host) {
  lits_clear_error();
  LITS_REQUIRE(gbps_host != NULL, "lits_measure_copy_bandwidth: gbps_host is NULL");
  LITS_REQUIRE(bytes >= (1 << 20) && bytes <= ((int64_t)1 << 36),
               "lits_measure_copy_bandwidth: bytes must be in [1 MiB, 64 GiB], got %lld "
               "(use a buffer several times the last-level cache, e.g. 256 MiB)",
               (long long)bytes);
  const size_t size = ((size_t)bytes + 4095) / 4096 * 4096;
  char* src = aligned_alloc(4096, size);
  char* dst = aligned_alloc(4096, size);
  if (src == NULL || dst == NULL) {
    free(src);
    free(dst);
    return lits_fail(LITS_ERR_MEMORY,
                     "lits_measure_copy_bandwidth: cannot allocate 2 buffers of %lld bytes",
                     (long long)bytes);
  }
  /* Each thread first touches (faults in) the pages it copies later. */
#pragma omp parallel
  {
    int64_t lo, hi;
    share(bytes, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
    memset(src + lo, 1, (size_t)(hi - lo));
    memset(dst + lo, 0, (size_t)(hi - lo));
  }
  double best = 0;
  for (int r = 0; r < 2 * COPY_RUNS; r++) {
    void (*copy)(char*, const char*, int64_t) = r % 2 ? plain_copy : streamed_copy;
    double t0 = omp_get_wtime();
#pragma omp parallel
    {
      int64_t lo, hi;
      share(bytes, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      copy(dst + lo, src + lo, hi - lo);
    }
    double dt = omp_get_wtime() - t0;
    double g = 2.0 * (double)bytes / dt / 1e9;  // bytes read + bytes written
    if (g > best) best = g;
  }
  free(src);
  free(dst);
  *gbps_host = best;
  return LITS_OK;
}
