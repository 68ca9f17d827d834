/* bench/onednn_conv.c: the bf16 convolutions (lits_conv2d_*_bf16_f32), or
 * with `f32` the fp32 ones (lits_conv2d_*_f32, stride-2 shapes only), with
 * oneDNN (LITS_ONEDNN=all) against our own kernels (LITS_ONEDNN=off), both
 * in one process, alternating call by call, medians; conversions included,
 * as the library makes them: wall-clock medians and minimums, and the
 * medians of the process's CPU time per call (both threads; with
 * OMP_WAIT_POLICY=passive, a measure of the work that other processes on
 * the cores disturb less than the wall clock). Also prints the largest
 * difference between the two results relative to the largest magnitude.
 *
 *   deno task build
 *   gcc -O2 -Inative/include bench/onednn_conv.c native/build/liblits_cpu.so \
 *       -Wl,-rpath,native/build -o /tmp/onednn_conv
 *   OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive /tmp/onednn_conv [rounds] [batch] [f32] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lits.h"

static double clock_ms(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static double cpu_ms; /* the last call's CPU time */
static int f32;       /* the fp32 entry points */

static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static float* filled(size_t len, float scale) {
  float* v = malloc(len * sizeof(float));
  for (size_t i = 0; i < len; i++) v[i] = scale * ((float)rand() / RAND_MAX - 0.5f);
  return v;
}

static double rel_diff(const float* a, const float* b, size_t len) {
  double d = 0, m = 0;
  for (size_t i = 0; i < len; i++) {
    d = fmax(d, fabs((double)a[i] - b[i]));
    m = fmax(m, fabs((double)b[i]));
  }
  return d / (m > 0 ? m : 1);
}

/* One call of kind (0 forward, 1 backward data, 2 filter gradient). */
static double call(int kind, const lits_conv2d_params* p, const float* x, const float* coef,
                   const float* w, const float* dy, float* out) {
  const double t0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
  int st;
  if (f32 && kind == 0) st = lits_conv2d_forward_f32(p, x, coef, 1, w, NULL, out);
  else if (f32 && kind == 1) st = lits_conv2d_backward_data_f32(p, w, dy, out);
  else if (f32) st = lits_conv2d_backward_filter_f32(p, x, coef, 1, dy, out);
  else if (kind == 0) st = lits_conv2d_forward_bf16_f32(p, x, coef, 1, w, NULL, out);
  else if (kind == 1) st = lits_conv2d_backward_data_bf16_f32(p, w, dy, out);
  else st = lits_conv2d_backward_filter_bf16_f32(p, x, coef, 1, dy, out);
  const double t = clock_ms(CLOCK_MONOTONIC) - t0;
  cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
  if (st != LITS_OK) {
    fprintf(stderr, "status %d: %s\n", st, lits_last_error());
    exit(1);
  }
  return t;
}

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 7, n = argc > 2 ? atoi(argv[2]) : 16;
  f32 = argc > 3 && strcmp(argv[3], "f32") == 0;
  const int shapes[][4] = {{64, 64, 1}, {128, 32, 1}, {256, 16, 1}, {512, 8, 1},
                           {128, 64, 2}, {256, 32, 2}, {512, 16, 2}}; /* c = k, h = w, stride */
  static const char* kinds[3] = {"fwd", "data", "filter"};
  printf("shape               kind   ours ms  oneDNN ms  ours GF/s  oneDNN GF/s  gain  "
         "(min: ours oneDNN gain) (cpu: ours oneDNN gain)  diff\n");
  for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
    const int c = shapes[si][0], h = shapes[si][1], sh = shapes[si][2];
    if (f32 && sh != 2) continue;
    const lits_conv2d_params p = {n, c, h, h, c, 3, 3, sh, sh, 1, 1, 1, 1, 1};
    const int oh = (h + 2 - 3) / sh + 1;
    const size_t xl = (size_t)n * c * h * h, yl = (size_t)n * c * oh * oh, wl = (size_t)c * c * 9;
    float* x = filled(xl, 2.0f);
    float* dy = filled(yl, 2.0f);
    float* w = filled(wl, 0.1f);
    float* coef = filled(3 * (size_t)c, 1.0f);
    for (int i = 0; i < c; i++) coef[c + i] += 1.0f;
    const size_t outl[3] = {yl, xl, wl};
    const double flops = 2.0 * n * c * c * 9 * oh * oh;
    for (int kind = 0; kind < 3; kind++) {
      float* o0 = malloc(outl[kind] * sizeof(float));
      float* o1 = malloc(outl[kind] * sizeof(float));
      double t[2][64], cpu[2][64];
      for (int r = -1; r < rounds && r < 64; r++) { /* round -1: warm-up (plans, caches) */
        for (int m = 0; m < 2; m++) {
          setenv("LITS_ONEDNN", m == 0 ? "off" : "all", 1);
          const double ms = call(kind, &p, x, coef, w, dy, m == 0 ? o0 : o1);
          if (r >= 0) t[m][r] = ms, cpu[m][r] = cpu_ms;
        }
      }
      qsort(t[0], rounds, sizeof(double), cmp);
      qsort(t[1], rounds, sizeof(double), cmp);
      qsort(cpu[0], rounds, sizeof(double), cmp);
      qsort(cpu[1], rounds, sizeof(double), cmp);
      const double ca = cpu[0][rounds / 2], cb = cpu[1][rounds / 2];
      const double a = t[0][rounds / 2], b = t[1][rounds / 2];
      char name[40];
      snprintf(name, sizeof(name), "%d->%d %dx%d s%d", c, c, h, h, sh);
      const double a0 = t[0][0], b0 = t[1][0];
      printf("%-19s %-6s %7.2f %10.2f %10.1f %12.1f %+5.0f%% %11.2f %6.2f %+5.0f%% %11.2f %6.2f "
             "%+5.0f%% %9.1e\n",
             name, kinds[kind], a, b, flops / a * 1e-6, flops / b * 1e-6, (a / b - 1) * 100, a0, b0,
             (a0 / b0 - 1) * 100, ca, cb, (ca / cb - 1) * 100, rel_diff(o1, o0, outl[kind]));
      fflush(stdout);
      free(o0);
      free(o1);
    }
    free(x), free(dy), free(w), free(coef);
  }
  return 0;
}
