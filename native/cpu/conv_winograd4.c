/* conv_winograd4.c: the transforms of Winograd's F(4x4, 3x3): a 4x4
 * output tile costs 36 multiplications per pair of channels instead of 144,
 * at the price of larger transforms and of rounding errors several times a
 * direct sum's. Interpolation points 0, +-3/2, +-2/3 and infinity, not Lavin
 * and Gray's 0, +-1, +-2 (2016): most of the error is the planes' GEMMs'
 * rounding, carried to the output through A^T; these points carry it 3-5x
 * less to the worst outputs and 1.4x less to the median one (ResNet-50's
 * 3x3 layers against float64, scripts/make_winograd_accuracy_fixtures.py;
 * a search over points in +-{1/4 .. 4}), for the same operations. The rows
 * are scaled by powers of two (exact) so that B^T and A^T hold dyadic
 * numbers:
 *
 *   B^T = [ 9/8    0    -97/32    0    9/8   0  ]   A^T = [ 1  1     1    27/8  27/8  0 ]
 *         [  0   -3/4    -1/2   27/16  9/8   0  ]         [ 0  3/2  -3/2  9/4   -9/4  0 ]
 *         [  0    3/4    -1/2  -27/16  9/8   0  ]         [ 0  9/4   9/4  3/2   3/2   0 ]
 *         [  0   -9/8  -27/16    1/2   3/4   0  ]         [ 0  27/8 -27/8  1    -1    1 ]
 *         [  0    9/8  -27/16   -1/2   3/4   0  ]
 *         [  0    9/8     0    -97/32   0   9/8 ]   G = [ 8/9 0 0; 64/585 32/195 16/65;
 *     64/585 -32/195 16/65; -16/65 -32/195 -64/585; -16/65 32/195 -64/585; 0 0 8/9 ]
 *
 * (y = A^T [(G g G^T) . (B^T d B)] A for a 6x6 tile d and a 3x3 filter g.)
 * The filter gradient runs the adjoints: dM = A dy A^T, and dw = G^T dU G.
 * The driver, the blocks and the GEMMs are conv_winograd.c's. */
#include <immintrin.h>
#include <string.h>

#include "common.h"
#include "conv_winograd.h"
#include "fused_internal.h"

/* G's entries (the header's); U = G f G^T is made in double and rounded
 * once: its cost is per filter, not per tile. */
#define G_0 (8.0 / 9.0)
#define G_A (64.0 / 585.0)
#define G_B (32.0 / 195.0)
#define G_C (16.0 / 65.0)

/* G f for a column of a 3x3 filter. */
static inline void g_col(double f0, double f1, double f2, double* o) {
  const double e = G_A * f0 + G_C * f2, e2 = -(G_C * f0 + G_A * f2), q = G_B * f1;
  o[0] = G_0 * f0;
  o[1] = e + q;
  o[2] = e - q;
  o[3] = e2 - q;
  o[4] = e2 + q;
  o[5] = G_0 * f2;
}

void lits_wg4_filter(const float f[3][3], float* out, int64_t stride) {
  double t[3][6]; /* (G f)^T by columns: t[b][a] = (G f)[a][b] */
  for (int b = 0; b < 3; b++) g_col(f[0][b], f[1][b], f[2][b], t[b]);
  for (int a = 0; a < 6; a++) { /* (G f) G^T, row a */
    double r[6];
    g_col(t[0][a], t[1][a], t[2][a], r);
    for (int b = 0; b < 6; b++) out[(a * 6 + b) * stride] = (float)r[b];
  }
}

void lits_wg4_filters16(const float* w, int64_t si, int flip, float* out, int64_t stride) {
  float f[9][16]; /* f[e][l]: element e (row-major, flipped where flip) of filter l */
  for (int l = 0; l < 16; l++) {
    for (int e = 0; e < 9; e++) f[e][l] = w[l * si + (flip ? 8 - e : e)];
  }
  double t[3][6][16]; /* t[b][a][l] = (G f_l)[a][b], as lits_wg4_filter's t */
  for (int b = 0; b < 3; b++) {
#pragma omp simd
    for (int l = 0; l < 16; l++) {
      const double f0 = f[b][l], f1 = f[3 + b][l], f2 = f[6 + b][l];
      const double e = G_A * f0 + G_C * f2, e2 = -(G_C * f0 + G_A * f2), q = G_B * f1;
      t[b][0][l] = G_0 * f0;
      t[b][1][l] = e + q;
      t[b][2][l] = e - q;
      t[b][3][l] = e2 - q;
      t[b][4][l] = e2 + q;
      t[b][5][l] = G_0 * f2;
    }
  }
  for (int a = 0; a < 6; a++) { /* (G f) G^T, row a: g_col of t[.][a] */
    float* o = out + a * 6 * stride;
#pragma omp simd
    for (int l = 0; l < 16; l++) {
      const double f0 = t[0][a][l], f1 = t[1][a][l], f2 = t[2][a][l];
      const double e = G_A * f0 + G_C * f2, e2 = -(G_C * f0 + G_A * f2), q = G_B * f1;
      o[l] = (float)(G_0 * f0);
      o[stride + l] = (float)(e + q);
      o[2 * stride + l] = (float)(e - q);
      o[3 * stride + l] = (float)(e2 - q);
      o[4 * stride + l] = (float)(e2 + q);
      o[5 * stride + l] = (float)(G_0 * f2);
    }
  }
}

int64_t lits_wg4_buf_floats(const wg_geom* g, int64_t tb) {
  const int64_t in = 32 * (g->tw + 2) + 72 * tb, out = 40 * tb;
  return (in > out ? in : out) + 16;
}

/* o_i = (B^T d)_i for six rows of n values: d0 .. d5 -> o0 .. o5 (o_i at
 * o + i * os). A loop of its own so that it vectorises along the rows. */
static void bt6(const float* d0, const float* d1, const float* d2, const float* d3,
                const float* d4, const float* d5, float* o, int64_t os, int64_t n) {
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os, *o4 = o + 4 * os;
  float* o5 = o + 5 * os;
#pragma omp simd
  for (int64_t t = 0; t < n; t++) {
    const float a0 = d0[t], a1 = d1[t], a2 = d2[t], a3 = d3[t], a4 = d4[t], a5 = d5[t];
    const float p1 = 1.125f * a4 - 0.5f * a2, q1 = 0.75f * a1 - 1.6875f * a3;
    const float p3 = 0.75f * a4 - 1.6875f * a2, q3 = 1.125f * a1 - 0.5f * a3;
    o0[t] = 1.125f * (a0 + a4) - 3.03125f * a2;
    o1[t] = p1 - q1;
    o2[t] = p1 + q1;
    o3[t] = p3 - q3;
    o4[t] = p3 + q3;
    o5[t] = 1.125f * (a1 + a5) - 3.03125f * a3;
  }
}

/* Phase q of row xrow: p[q][t] = xrow[4 t + q] at pa + q * ps, t < len. */
static void split_phases(const float* xrow, float* pa, int64_t ps, int64_t len) {
  float *p0 = pa, *p1 = pa + ps, *p2 = pa + 2 * ps, *p3 = pa + 3 * ps;
#pragma omp simd
  for (int64_t tt = 0; tt < len; tt++) {
    p0[tt] = xrow[4 * tt];
    p1[tt] = xrow[4 * tt + 1];
    p2[tt] = xrow[4 * tt + 2];
    p3[tt] = xrow[4 * tt + 3];
  }
}

/* split_phases with each value rounded to bf16 as it is split (in one
 * pass, as conv_input_row). */
static void split_phases_bf16(const float* xrow, float* pa, int64_t ps, int64_t len) {
  float *p0 = pa, *p1 = pa + ps, *p2 = pa + 2 * ps, *p3 = pa + 3 * ps;
#pragma omp simd
  for (int64_t tt = 0; tt < len; tt++) {
    p0[tt] = conv_round_bf16(xrow[4 * tt]);
    p1[tt] = conv_round_bf16(xrow[4 * tt + 1]);
    p2[tt] = conv_round_bf16(xrow[4 * tt + 2]);
    p3[tt] = conv_round_bf16(xrow[4 * tt + 3]);
  }
}

/* Input rows y0 .. y0 + 5 of one channel (transformed, zero-padded) split by
 * column phase: ph[a][q][t] = padded column 4 t + q of row a (column -1 is
 * padded column 0), t in 0 .. tw + 1. xrow: 2 x 4 (tw + 2) floats, two
 * padded rows: a row is split while the next one is written, so that its
 * loads, one float off the stores that wrote it (which cannot forward to
 * them), find those in L1 rather than waiting for the store buffer to
 * drain: ResNet-50's 64 -> 64 at 64^2 forward 10.7 -> 8.7 ms. */
static void phase_rows(const wg_geom* g, const float* src, fused_affine t, int xact, int relu,
                       int round, int64_t y0, float* ph, float* xrow) {
  const int64_t h = g->h, w = g->w, len = g->tw + 2;
  float* xr[2] = {xrow, xrow + 4 * len};
  for (int i = 0; i < 2; i++) { /* xr[i][p] = padded column p: zero outside 1 .. w */
    xr[i][0] = 0.0f;
    for (int64_t p = w + 1; p < 4 * len; p++) xr[i][p] = 0.0f;
  }
  int64_t written = 0, pending = -1; /* rows written; the one not split yet */
  for (int a = 0; a < 6; a++) {
    const int64_t yy = y0 + a;
    if (yy < 0 || yy >= h) {
      memset(ph + a * 4 * len, 0, (size_t)(4 * len) * sizeof(float));
      continue;
    }
    float* dst = xr[written & 1] + 1;
    conv_input_row(dst, src + yy * w, w, t, xact, relu, round);
    if (pending >= 0) split_phases(xr[(written - 1) & 1], ph + pending * 4 * len, len, len);
    pending = a;
    written++;
  }
  if (pending >= 0) split_phases(xr[(written - 1) & 1], ph + pending * 4 * len, len, len);
}

/* The next channel's input rows y0 .. y0 + 5 into L2 (src: its plane),
 * while this channel's are transformed: each channel's rows are a short
 * run a plane away from the last one's, which the hardware prefetchers
 * meet late. */
static void prefetch_rows(const float* src, const wg_geom* g, int64_t y0) {
  for (int64_t yy = y0 < 0 ? 0 : y0; yy < y0 + 6 && yy < g->h; yy++) {
    const char* row = (const char*)(src + yy * g->w);
    for (int64_t b = 0; b < g->w * (int64_t)sizeof(float); b += 64) {
      _mm_prefetch(row + b, _MM_HINT_T1);
    }
  }
}

/* The transforms run on a whole block per channel, so that their loops are
 * as long as the block (a 8 x 8 image has only 2 tiles a row). */
void lits_wg4_transform_input(const wg_geom* g, const float* x, const conv_xform* xf, int64_t r0,
                              int64_t nr, int64_t ld, float* v, float* buf) {
  const int64_t tw = g->tw, len = tw + 2, plane = g->c * ld, nb = nr * tw;
  const int xact = conv_xform_active(xf), round = conv_xform_rounds(xf);
  float* ph = buf;                 /* [6][4][len] phases of one tile row */
  float* xrow = buf + 24 * len;    /* [2][4 len] */
  float* d = buf + 32 * len;       /* [6][6][nb]: d[a][b] of every tile */
  float* rows = d + 36 * nb;       /* [6][6][nb]: (d B)[a][j] */
  for (int64_t ci = 0; ci < g->c; ci++) {
    const fused_affine t = fused_affine_of(xact ? xf->coef : NULL, g->c, ci);
    for (int64_t ri = 0; ri < nr; ri++) {
      const int64_t gr = r0 + ri, img = gr / g->th, ty = gr % g->th;
      phase_rows(g, x + (img * g->c + ci) * g->h * g->w, t, xact, xact && xf->relu, round,
                 4 * ty - 1, ph, xrow);
      if (ci + 1 < g->c) prefetch_rows(x + (img * g->c + ci + 1) * g->h * g->w, g, 4 * ty - 1);
      for (int a = 0; a < 6; a++) { /* d[a][b] = phase b % 4 at tile tx + b / 4 */
        for (int b = 0; b < 6; b++) {
          memcpy(d + (a * 6 + b) * nb + ri * tw, ph + (a * 4 + b % 4) * len + b / 4,
                 (size_t)tw * sizeof(float));
        }
      }
    }
    for (int a = 0; a < 6; a++) {
      const float* da = d + a * 6 * nb;
      bt6(da, da + nb, da + 2 * nb, da + 3 * nb, da + 4 * nb, da + 5 * nb, rows + a * 6 * nb, nb,
          nb);
    }
    float* out = v + ci * ld;
    for (int j = 0; j < 6; j++) { /* B^T (d B), column j: planes a * 6 + j */
      const float* r = rows + j * nb;
      bt6(r, r + 6 * nb, r + 12 * nb, r + 18 * nb, r + 24 * nb, r + 30 * nb, out + j * plane,
          6 * plane, nb);
    }
  }
}

/* o_i = (A^T m)_i for six rows of n values: m0 .. m5 at m + i * ms -> o0 ..
 * o3 at o + i * os, plus b. */
static void at6(const float* m, int64_t ms, float* o, int64_t os, float b, int64_t n) {
  const float *m0 = m, *m1 = m + ms, *m2 = m + 2 * ms, *m3 = m + 3 * ms, *m4 = m + 4 * ms;
  const float* m5 = m + 5 * ms;
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os;
#pragma omp simd
  for (int64_t t = 0; t < n; t++) {
    const float s12 = m1[t] + m2[t], d12 = m1[t] - m2[t];
    const float s34 = m3[t] + m4[t], d34 = m3[t] - m4[t];
    o0[t] = m0[t] + s12 + 3.375f * s34 + b;
    o1[t] = 1.5f * d12 + 2.25f * d34 + b;
    o2[t] = 2.25f * s12 + 1.5f * s34 + b;
    o3[t] = 3.375f * d12 + d34 + m5[t] + b;
  }
}

int lits_wg4_transform_output(const wg_geom* g, const float* m, int64_t r0, int64_t nr,
                              int64_t ld, const float* bias, float* y, float* buf) {
  int finite = 1;
  const int64_t h = g->h, w = g->w, tw = g->tw, plane = g->k * ld, nb = nr * tw;
  float* yv = buf;             /* [a][b][nb]: output (oy + a, 4 tx + b) of tile j */
  float* cols = buf + 16 * nb; /* [6][4][nb]: (A^T M)[a][b] at (b * 4 + a) nb */
  for (int64_t ko = 0; ko < g->k; ko++) {
    const float bv = bias != NULL ? bias[ko] : 0.0f;
    const float* in = m + ko * ld;
    for (int b = 0; b < 6; b++) at6(in + b * plane, 6 * plane, cols + b * 4 * nb, nb, 0.0f, nb);
    for (int a = 0; a < 4; a++) at6(cols + a * nb, 4 * nb, yv + a * 4 * nb, nb, bv, nb);
    finite &= lits_conv_finite(yv, 16 * nb); /* (in cache; the tiles' outputs past the edges too) */
    for (int64_t ri = 0; ri < nr; ri++) {
      const int64_t gr = r0 + ri, img = gr / g->th, oy = 4 * (gr % g->th);
      float* dst = y + (img * g->k + ko) * h * w;
      for (int a = 0; a < 4 && oy + a < h; a++) {
        float* row = dst + (oy + a) * w;
        const float* c = yv + a * 4 * nb + ri * tw;
        const int64_t full = w / 4; /* tiles whose four columns are all inside */
        for (int64_t tx = 0; tx < full; tx++) {
          for (int b = 0; b < 4; b++) row[4 * tx + b] = c[b * nb + tx];
        }
        for (int b = 0; full < tw && 4 * full + b < w; b++) row[4 * full + b] = c[b * nb + full];
      }
    }
  }
  return finite;
}

/* o_i = (A d)_i for four rows of n values: d0 .. d3 at d + i * ds -> o0 ..
 * o5 at o + i * os: the adjoint of at6. */
static void a6(const float* d, int64_t ds, float* o, int64_t os, int64_t n) {
  const float *d0 = d, *d1 = d + ds, *d2 = d + 2 * ds, *d3 = d + 3 * ds;
  float *o0 = o, *o1 = o + os, *o2 = o + 2 * os, *o3 = o + 3 * os, *o4 = o + 4 * os;
  float* o5 = o + 5 * os;
#pragma omp simd
  for (int64_t t = 0; t < n; t++) {
    const float e1 = d0[t] + 2.25f * d2[t], f1 = 1.5f * d1[t] + 3.375f * d3[t];
    const float e2 = 3.375f * d0[t] + 1.5f * d2[t], f2 = 2.25f * d1[t] + d3[t];
    o0[t] = d0[t];
    o1[t] = e1 + f1;
    o2[t] = e1 - f1;
    o3[t] = e2 + f2;
    o4[t] = e2 - f2;
    o5[t] = d3[t];
  }
}

void lits_wg4_transform_grad(const wg_geom* g, const float* dy, int dy_bf16, int64_t r0,
                             int64_t nr, int64_t ld, float* dm, float* buf) {
  const int64_t h = g->h, w = g->w, tw = g->tw, plane = g->k * ld, nb = nr * tw;
  float* d = buf;              /* [4][4][nb]: dy(oy + a, 4 tx + b) of tile j */
  float* rows = buf + 16 * nb; /* [4][6][nb]: (d A^T)[a][j] */
  for (int64_t ko = 0; ko < g->k; ko++) {
    for (int64_t ri = 0; ri < nr; ri++) {
      const int64_t gr = r0 + ri, img = gr / g->th, oy = 4 * (gr % g->th);
      const float* src = dy + (img * g->k + ko) * h * w;
      for (int a = 0; a < 4; a++) {
        float* da = d + a * 4 * nb + ri * tw;
        const float* row = oy + a < h ? src + (oy + a) * w : NULL;
        /* Every tile inside: split by phase in one vectorised loop, not a
         * loop per phase with a bounds test per float (64 -> 64 at 64^2,
         * filter gradient 9.5 -> 8.8 ms). */
        if (row != NULL && w == 4 * tw) {
          if (dy_bf16) split_phases_bf16(row, da, nb, tw);
          else split_phases(row, da, nb, tw);
          continue;
        }
        for (int b = 0; b < 4; b++) {
          float* db = da + b * nb;
          for (int64_t tx = 0; tx < tw; tx++) {
            const int64_t col = 4 * tx + b;
            const float v = row != NULL && col < w ? row[col] : 0.0f;
            db[tx] = dy_bf16 ? conv_round_bf16(v) : v;
          }
        }
      }
    }
    for (int a = 0; a < 4; a++) a6(d + a * 4 * nb, nb, rows + a * 6 * nb, nb, nb);
    float* out = dm + ko * ld;
    for (int j = 0; j < 6; j++) { /* A (d A^T), column j: planes i * 6 + j */
      a6(rows + j * nb, 6 * nb, out + j * plane, 6 * plane, nb);
    }
  }
}

/* (G^T u)_a for six values at u + i * us: the adjoint of g_col. */
static void gt6(const float* u, int64_t us, float* o) {
  const float u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us], u4 = u[4 * us];
  const float u5 = u[5 * us];
  const float s12 = u1 + u2, s34 = u3 + u4;
  o[0] = (float)G_0 * u0 + (float)G_A * s12 - (float)G_C * s34;
  o[1] = (float)G_B * ((u1 - u2) - (u3 - u4));
  o[2] = (float)G_C * s12 - (float)G_A * s34 + (float)G_0 * u5;
}

/* gt6 on 16 lanes: 16 filters side by side. */
__attribute__((target("avx512f"))) static inline void gt6x16(const __m512 u[6], int64_t us,
                                                           __m512 o[3]) {
  const __m512 u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us], u4 = u[4 * us];
  const __m512 u5 = u[5 * us];
  const __m512 g0 = _mm512_set1_ps((float)G_0), ga = _mm512_set1_ps((float)G_A);
  const __m512 gb = _mm512_set1_ps((float)G_B), gc = _mm512_set1_ps((float)G_C);
  const __m512 s12 = _mm512_add_ps(u1, u2), s34 = _mm512_add_ps(u3, u4);
  o[0] = _mm512_sub_ps(_mm512_fmadd_ps(g0, u0, _mm512_mul_ps(ga, s12)), _mm512_mul_ps(gc, s34));
  o[1] = _mm512_mul_ps(gb, _mm512_sub_ps(_mm512_sub_ps(u1, u2), _mm512_sub_ps(u3, u4)));
  o[2] = _mm512_fmadd_ps(g0, u5, _mm512_sub_ps(_mm512_mul_ps(gc, s12), _mm512_mul_ps(ga, s34)));
}

/* The filters (o, i .. i + len) of lits_wg4_untransform, 16 lanes at a
 * time: the parts summed as read, G^T dU G, then the 9 values of each
 * filter side by side (scattered into a buffer, copied out whole). */
__attribute__((target("avx512f"))) static void untransform16(const float* du, int64_t parts,
                                                             int64_t part_stride, int64_t step,
                                                             int64_t len, float* gw) {
  const __mmask16 m = len >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << len) - 1);
  __m512 v[36], t[6][3];
  for (int xi = 0; xi < 36; xi++) {
    v[xi] = _mm512_maskz_loadu_ps(m, du + xi * step);
    for (int64_t p = 1; p < parts; p++) { /* in the order the threads' sum took */
      v[xi] = _mm512_add_ps(v[xi], _mm512_maskz_loadu_ps(m, du + p * part_stride + xi * step));
    }
  }
  for (int b = 0; b < 6; b++) gt6x16(v + b, 6, t[b]); /* t[b] = G^T dU[.][b] */
  float out[16 * 9];
  const __m512i at = _mm512_mullo_epi32(
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(9));
  for (int a = 0; a < 3; a++) { /* (G^T dU) G, row a */
    __m512 col[6], r[3];
    for (int b = 0; b < 6; b++) col[b] = t[b][a];
    gt6x16(col, 1, r);
    for (int b = 0; b < 3; b++) _mm512_i32scatter_ps(out + a * 3 + b, at, r[b], 4);
  }
  memcpy(gw, out, (size_t)(len * 9) * sizeof(float));
}

void lits_wg4_untransform(const float* du, int64_t parts, int64_t part_stride, int64_t step,
                          int64_t k, int64_t c, float* dweight) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < k; o++) {
    int64_t i = 0;
    for (; avx512 && i < c; i += 16) {
      untransform16(du + o * c + i, parts, part_stride, step, c - i < 16 ? c - i : 16,
                    dweight + (o * c + i) * 9);
    }
    for (; i < c; i++) {
      float u[36];
      for (int xi = 0; xi < 36; xi++) {
        u[xi] = du[xi * step + o * c + i];
        for (int64_t p = 1; p < parts; p++) u[xi] += du[p * part_stride + xi * step + o * c + i];
      }
      float t[6][3]; /* t[b] = G^T dU[.][b] (rows a) */
      for (int b = 0; b < 6; b++) gt6(u + b, 6, t[b]);
      float* gw = dweight + (o * c + i) * 9;
      for (int a = 0; a < 3; a++) { /* (G^T dU) G, row a */
        float col[6], r[3];
        for (int b = 0; b < 6; b++) col[b] = t[b][a];
        gt6(col, 1, r);
        for (int b = 0; b < 3; b++) gw[a * 3 + b] = r[b];
      }
    }
  }
}
