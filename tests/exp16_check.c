/* exp16_check.c: measures native/cpu/exp16.h (tests/exp16_test.ts builds
 * it for several instruction sets and compares what it prints).
 *
 * Over every STRIDE-th float32 bit pattern (all signs, NaNs, infinities and
 * denormals among them), optionally a denser sweep of [-104, 89], and edge
 * cases, it computes
 * lits_expf in a loop gcc vectorises, in a scalar loop, and (on AVX-512
 * CPUs) lits_exp16; prints the max error in ulp against exp in double
 * (glibc's, correctly rounded to double almost always: far below a float
 * ulp), a hash of the bits (equal across builds and forms), the count of
 * lanes where the forms differ, and the edge cases' bits. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../native/cpu/exp16.h"

static float f_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t u_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* |y - e^x| in units of the float spacing at e^x (denormal spacing 2^-149);
 * a result that e^x rounds to (inf, 0) counts as exact. */
static double ulp_error(float x, float y) {
  const double ref = exp((double)x);
  if (isnan(x)) return isnan(y) ? 0.0 : INFINITY;
  if ((float)ref == y) return 0.0;
  if (isinf(y) || isnan(y)) return INFINITY;
  const double a = fabs(ref);
  int e;
  frexp(a, &e); /* a = m 2^e, m in [0.5, 1) */
  const double ulp = a < 0x1p-126 ? 0x1p-149 : ldexp(1.0, e - 24);
  return fabs((double)y - ref) / ulp;
}

__attribute__((noinline)) static void vector_loop(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = lits_expf(x[i]);
}

__attribute__((noinline, optimize("no-tree-vectorize"))) static void scalar_loop(const float* x,
                                                                                 float* y,
                                                                                 size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = lits_expf(x[i]);
}

__attribute__((noinline, target("avx512f"))) static void exp16_loop(const float* x, float* y,
                                                                   size_t n) {
  for (size_t i = 0; i < n; i += 16) _mm512_storeu_ps(y + i, lits_exp16(_mm512_loadu_ps(x + i)));
}

typedef struct {
  double max_ulp;
  float worst;
  size_t count, differ, differ16;
  uint64_t hash;
  int avx512;
} stats;

#define CHUNK 65536

static float x[CHUNK], yv[CHUNK], ys[CHUNK], y16[CHUNK];

/* Runs the forms over x[0..m) and adds them to s. */
static void measure(stats* s, size_t m) {
  for (size_t i = m; i < CHUNK && i % 16 != 0; i++) x[i] = 1.0f;
  vector_loop(x, yv, m);
  scalar_loop(x, ys, m);
  if (s->avx512) exp16_loop(x, y16, (m + 15) & ~(size_t)15);
  for (size_t i = 0; i < m; i++) {
    const double e = ulp_error(x[i], yv[i]);
    if (e > s->max_ulp) s->max_ulp = e, s->worst = x[i];
    if (u_of(yv[i]) != u_of(ys[i]) && !(isnan(yv[i]) && isnan(ys[i]))) s->differ++;
    if (s->avx512 && u_of(yv[i]) != u_of(y16[i]) && !(isnan(yv[i]) && isnan(y16[i]))) {
      s->differ16++;
    }
    const uint32_t b = isnan(yv[i]) ? 0x7fc00000u : u_of(yv[i]);
    for (int k = 0; k < 4; k++) s->hash = (s->hash ^ ((b >> (8 * k)) & 0xff)) * 1099511628211ull;
  }
  s->count += m;
}

/* Every step-th bit pattern in [from, to). */
static void sweep(stats* s, uint64_t from, uint64_t to, uint64_t step) {
  size_t m = 0;
  for (uint64_t u = from; u < to; u += step) {
    x[m++] = f_of((uint32_t)u);
    if (m == CHUNK) measure(s, m), m = 0;
  }
  if (m > 0) measure(s, m);
}

/* exp16_check [STRIDE [DENSE]]: every STRIDE-th pattern of all 2^32 (97),
 * then every DENSE-th pattern of [-104, 89] (0: none). */
int main(int argc, char** argv) {
  const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 97;
  const uint64_t dense = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
  stats s = {0.0, 0.0f, 0, 0, 0, 1469598103934665603ull, __builtin_cpu_supports("avx512f") != 0};
  sweep(&s, 0, 0x100000000ull, stride);
  if (dense > 0) {
    sweep(&s, 0, u_of(89.0f) + 1ull, dense);
    sweep(&s, 0x80000000ull, u_of(-104.0f) + 1ull, dense);
  }
  const float edges[] = {-INFINITY, INFINITY, NAN, 0.0f, -0.0f, 0x1.62e42ep+6f, 0x1.62e430p+6f,
                         -103.97207f, -103.97208f, -103.0f, -87.33655f, -87.33654f, -87.3f,
                         1e-10f, -1e-10f, 0.34657359f, -0.34657359f, 1.0f, -1.0f, 10.0f,
                         -10.0f, 89.0f, -104.0f, 1e30f, -1e30f, FLT_MIN, 0x1p-149f};
  const size_t nedges = sizeof edges / sizeof edges[0];
  memcpy(x, edges, sizeof edges);
  measure(&s, nedges);
  printf("{\"inputs\": %zu, \"maxUlp\": %.4f, \"worst\": \"%a\", \"hash\": \"%016llx\", "
         "\"scalarDiffer\": %zu, \"avx512\": %d, \"exp16Differ\": %zu, \"edges\": [",
         s.count, s.max_ulp, (double)s.worst, (unsigned long long)s.hash, s.differ, s.avx512,
         s.differ16);
  for (size_t i = 0; i < nedges; i++) {
    printf("%s[\"%a\", \"%a\", %.4f]", i ? ", " : "", (double)x[i], (double)yv[i],
           ulp_error(x[i], yv[i]));
  }
  printf("]}\n");
  return 0;
}
