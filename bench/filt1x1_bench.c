/* bench/filt1x1_bench.c: the fp32 filter gradient of ResNet-50's 1x1
 * convolutions (batch 16, 1 x 256 x 256 input) as a training step sees it:
 * x and dy cold (a 64 MiB buffer is written between calls, pushing them
 * out of the caches) and x read through a batch-norm transform and ReLU
 * (x_coef, x_relu). Two builds of the library side by side in one process
 * (dlopen), alternating call by call, so that the other work on the shared
 * cores disturbs both alike: median GFLOP/s of each, by the wall clock and
 * by the process's CPU time (per thread: with OMP_WAIT_POLICY=passive, a
 * measure of the work that other processes on the cores disturb less),
 * and the largest difference between their results relative to the
 * largest magnitude.
 *
 *   deno task build && cp native/build/liblits_cpu.so /tmp/old.so   (at the old commit)
 *   deno task build
 *   gcc -O2 -Inative/include bench/filt1x1_bench.c -ldl -o /tmp/filt1x1_bench
 *   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/filt1x1_bench /tmp/old.so native/build/liblits_cpu.so \
 *       [rounds] [warm] [plain]
 * warm (1): no flush between calls; plain (1): no transform; FILT_SMALL_PAGES:
 * x and dy in 4 KiB pages; FILT_SHAPE=text:
 * only the shapes whose name holds text; FILT_ENV_OLD, FILT_ENV_NEW=NAME=value:
 * set before each call of the old or new library (both may be one file,
 * for an A/B of an environment switch such as LITS_CONV_ALGO=openblas; set
 * both, as a variable stays set: the two 1x1 kernels with
 * FILT_ENV_OLD=LITS_FILTER1X1=dot FILT_ENV_NEW=LITS_FILTER1X1=outer). */
#include <dlfcn.h>
#include <sys/mman.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lits.h"

typedef int (*filter_fn)(const lits_conv2d_params*, const float*, const float*, int32_t,
                         const float*, float*);

static double clock_ms(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* 2 MiB aligned, in transparent huge pages where the system allows them
 * on request (as the library's allocator asks for its tensors, alloc.c). */
static float* filled(size_t len, float lo, float hi) {
  const size_t huge = 2u << 20, bytes = (len * sizeof(float) + huge - 1) / huge * huge;
  float* v = aligned_alloc(huge, bytes);
  if (getenv("FILT_SMALL_PAGES") == NULL) madvise(v, bytes, MADV_HUGEPAGE);
  for (size_t i = 0; i < len; i++) v[i] = lo + (hi - lo) * ((float)rand() / RAND_MAX);
  return v;
}

static filter_fn load(const char* path) {
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "%s\n", dlerror());
    exit(1);
  }
  return (filter_fn)dlsym(h, "lits_conv2d_backward_filter_f32");
}

#define FLUSH_FLOATS (16 << 20) /* 64 MiB */
static float* flush_buf;
static void flush(void) {
  for (size_t i = 0; i < FLUSH_FLOATS; i += 16) flush_buf[i] += 1.0f;
}

/* {c, k, h (input), stride} of the step's 1x1 layers */
static const int shapes[][4] = {
    {1024, 2048, 16, 2}, {1024, 256, 16, 1}, {1024, 512, 16, 1}, {128, 512, 32, 1},
    {2048, 512, 8, 1},   {256, 1024, 16, 1}, {256, 128, 64, 1},  {256, 512, 64, 2},
    {256, 64, 64, 1},    {512, 1024, 32, 2}, {512, 128, 32, 1},  {512, 256, 32, 1},
    {512, 2048, 8, 1},   {64, 256, 64, 1},   {64, 64, 64, 1},
};

int main(int argc, char** argv) {
  if (argc < 3) return fprintf(stderr, "usage: %s old.so new.so [rounds] [warm] [plain]\n",
                               argv[0]), 2;
  filter_fn f[2] = {load(argv[1]), load(argv[2])};
  const int rounds = argc > 3 ? atoi(argv[3]) : 9, warm = argc > 4 && atoi(argv[4]);
  const int plain = argc > 5 && atoi(argv[5]);
  flush_buf = calloc(FLUSH_FLOATS, sizeof(float));
  const int nshapes = sizeof shapes / sizeof shapes[0];
  double sum_ms[2] = {0, 0};
  const char* nthr = getenv("OMP_NUM_THREADS");
  /* OpenMP's default team is every online CPU. */
  const double threads = nthr != NULL ? atof(nthr) : (double)sysconf(_SC_NPROCESSORS_ONLN);
  printf("%-26s %8s %8s %7s | %8s %8s %7s | %8s\n", warm ? "shape (warm)" : "shape (cold)",
         "old wall", "new wall", "new/old", "old cpu", "new cpu", "new/old", "rel diff");
  const char* only = getenv("FILT_SHAPE");
  for (int s = 0; s < nshapes; s++) {
    const int c = shapes[s][0], k = shapes[s][1], h = shapes[s][2], st = shapes[s][3], n = 16;
    const int oh = (h - 1) / st + 1;
    char name[64];
    snprintf(name, sizeof name, "c%d k%d 1x1/%d %dx%d", c, k, st, h, h);
    if (only != NULL && strstr(name, only) == NULL) continue;
    const lits_conv2d_params p = {n, c, h, h, k, 1, 1, st, st, 0, 0, 1, 1, 1};
    float* x = filled((size_t)n * c * h * h, -1.0f, 1.0f);
    float* dy = filled((size_t)n * k * oh * oh, -1.0f, 1.0f);
    float* coef = filled((size_t)3 * c, 0.5f, 1.0f); /* mean, scale, shift */
    for (int i = 0; i < c; i++) coef[i] -= 0.75f, coef[2 * c + i] -= 0.75f;
    float* dw[2] = {malloc((size_t)k * c * 4), malloc((size_t)k * c * 4)};
    double* ms = malloc(sizeof(double) * 2 * rounds);
    double* cpu = malloc(sizeof(double) * 2 * rounds);
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < 2; i++) {
        const int v = (r + i) % 2; /* alternate which goes first */
        const char* env = getenv(v ? "FILT_ENV_NEW" : "FILT_ENV_OLD");
        if (env != NULL) putenv((char*)env);
        if (!warm) flush();
        const double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        const int st2 = f[v](&p, x, plain ? NULL : coef, plain ? 0 : 1, dy, dw[v]);
        ms[v * rounds + r] = clock_ms(CLOCK_MONOTONIC) - t0;
        cpu[v * rounds + r] = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0) / threads;
        if (st2 != 0) return fprintf(stderr, "status %d\n", st2), 1;
      }
    }
    double med[2], mcpu[2], big = 0, diff = 0;
    for (int v = 0; v < 2; v++) {
      qsort(ms + v * rounds, rounds, sizeof(double), cmp);
      qsort(cpu + v * rounds, rounds, sizeof(double), cmp);
      med[v] = ms[v * rounds + rounds / 2];
      mcpu[v] = cpu[v * rounds + rounds / 2];
      sum_ms[v] += med[v];
    }
    for (size_t i = 0; i < (size_t)k * c; i++) {
      big = fmax(big, fabs(dw[0][i]));
      diff = fmax(diff, fabs(dw[0][i] - dw[1][i]));
    }
    const double gf = 2.0 * n * k * c * oh * oh * 1e-6;
    printf("%-26s %8.1f %8.1f %7.3f | %8.1f %8.1f %7.3f | %8.1e\n", name, gf / med[0],
           gf / med[1], med[0] / med[1], gf / mcpu[0], gf / mcpu[1], mcpu[0] / mcpu[1],
           diff / big);
    fflush(stdout);
    free(x), free(dy), free(coef), free(dw[0]), free(dw[1]), free(ms), free(cpu);
  }
  printf("sum of wall medians (one call each): old %.1f ms, new %.1f ms\n", sum_ms[0],
         sum_ms[1]);
  return 0;
}
