/* gelu_check.c: every STRIDE-th float32 bit pattern (default 997) through
 * native/cpu/gelu.c's lits_gelu_apply (one thread, in blocks), against
 * float64 references in forms that do not cancel in the tails (x Phi(x) from
 * erfc; the tanh form as x sigmoid(2u)). Prints one JSON line: per function
 * the max error in ulp of the reference (values below 2^-126: in units of
 * 2^-149, counted in "denormalOver16" when over 16), where it is, and the
 * count of non-finite inputs that did not give torch's edge (NaN, or inf for
 * gelu(+inf)). Gradients are measured in ulp of max(|ref|, 1/4): near their
 * root (x = -0.75) two terms of ~0.3 cancel. The tanh gradient is NaN where
 * x^2 overflows a float, as torch's (those inputs are skipped).
 * LITS_GELU_SCALAR=1 checks the portable loops. Built and run by
 * tests/tfspeed_test.ts. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lits_gelu_apply(int tanh_form, int grad, const float* x, const float* dy, float* y,
                     int64_t n);

static double ref(int k, double x) {
  const double s2 = sqrt(2.0), c = 1.0 / sqrt(2.0 * M_PI), b2 = 2.0 * sqrt(2.0 / M_PI);
  const double kap = 0.044715;
  if (k == 0) return x * 0.5 * erfc(-x / s2);
  if (k == 1) return 0.5 * erfc(-x / s2) + x * exp(-x * x / 2) * c;
  const double a = b2 * (x + kap * x * x * x);
  const double sg = a >= 0 ? 1.0 / (1.0 + exp(-a)) : exp(a) / (1.0 + exp(a));
  if (k == 2) return x * sg;
  return sg + x * b2 * (1 + 3 * kap * x * x) * sg * (1 - sg);
}

static double ulpf(double r) {
  const float f = fabsf((float)r);
  if (f < 0x1p-126f) return 0x1p-149;
  int e;
  frexpf(f, &e);
  return ldexp(1.0, e - 24);
}

int main(int argc, char** argv) {
  const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 997;
  enum { B = 1 << 16 };
  static float x[B], y[B];
  const char* names[4] = {"gelu", "geluGrad", "geluTanh", "geluTanhGrad"};
  printf("{");
  for (int k = 0; k < 4; k++) {
    double worst = 0, wx = 0;
    long long edges = 0, denormal = 0, inputs = 0;
    uint64_t u = 0;
    while (u < (1ull << 32)) {
      int64_t m = 0;
      for (; m < B && u < (1ull << 32); m++, u += stride) {
        const uint32_t b = (uint32_t)u;
        memcpy(x + m, &b, 4);
      }
      lits_gelu_apply(k >= 2, k & 1, x, NULL, y, m);
      for (int64_t i = 0; i < m; i++) {
        const double xi = x[i];
        if (k == 3 && fabs(xi) > 1e19) continue;
        inputs++;
        if (isnan(xi) || isinf(xi)) {
          const int want_inf = k == 0 || k == 2 ? xi == INFINITY : 0;
          if (want_inf ? y[i] != INFINITY : !isnan(y[i])) edges++;
          continue;
        }
        const double r = ref(k, xi);
        if (isinf((float)r)) continue;
        const double err = fabs((double)y[i] - r);
        if (isnan(y[i])) {
          edges++;
          continue;
        }
        if ((k & 1) == 0 && fabs((float)r) < 0x1p-126) {
          if (err / 0x1p-149 > 16) denormal++;
          continue;
        }
        const double e = err / ulpf((k & 1) ? fmax(fabs(r), 0.25) : r);
        if (e > worst) {
          worst = e;
          wx = xi;
        }
      }
    }
    printf("%s\"%s\":{\"inputs\":%lld,\"maxUlp\":%.4f,\"at\":%.9g,\"badEdges\":%lld,"
           "\"denormalOver16\":%lld}",
           k ? "," : "", names[k], inputs, worst, wx, edges, denormal);
  }
  printf("}\n");
  return 0;
}
