/* conv_winograd_pack.c: F(4x4, 3x3)'s transformed weights U = G f G^T
 * written straight into packed_gemm.c's packed planes.
 *
 * A training step transforms the weights of every Winograd forward and
 * backward data afresh (they change each step). Through
 * lits_wg_transform_weights and then lits_wg_pack_planes that is two
 * passes over 36 planes of k x c floats (ResNet-50's 512 -> 512: 38 MB
 * written, read back, written again packed; 3.3 + 2.9 ms a call on 2 cores
 * of a Xeon with AMX, 4 calls a step). Here a thread takes a block of the
 * packed rows (output channels) and, 16 input channels at a time,
 * transforms those filters into an L1 buffer (the same operations, so the
 * same values), transposes each plane's 16 x rows in registers into the
 * packed [c][rows] order and writes it out (streamed past the caches
 * when the planes are larger than them): 9 MB read, 38 MB written once. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_winograd.h"
#include "stream_store.h"
#include "transpose16.h"

#define PLANES 36
#define ROWS 16 /* at least packed_gemm.c's panel height */

/* The 16 (or len) filters of rows [p0, p0 + mr) at input channels [i0,
 * i0 + len), transformed: value xi of filter (p0 + o, i0 + l) at
 * buf[o][xi * 16 + l]. */
static void transform_group(const float* w, int64_t so, int64_t si, int flip, int64_t p0,
                            int64_t mr, int64_t i0, int64_t len, float buf[][PLANES * 16]) {
  for (int64_t o = 0; o < mr; o++) {
    const float* g = w + (p0 + o) * so + i0 * si;
    if (len == 16) {
      lits_wg4_filters16(g, si, flip, buf[o], 16);
      continue;
    }
    for (int64_t l = 0; l < len; l++) { /* as lits_wg_transform_weights' tail */
      float f[3][3];
      for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) {
          f[a][b] = flip ? g[l * si + (2 - a) * 3 + (2 - b)] : g[l * si + a * 3 + b];
        }
      }
      lits_wg4_filter(f, buf[o] + l, 16);
    }
  }
}

__attribute__((target("avx512f"))) int lits_wg4_pack_weights(const float* w, int64_t no,
                                                             int64_t ni, int64_t so, int64_t si,
                                                             int flip, float* up) {
  const int64_t upl = lits_packed_gemm_weights_floats(no, ni);
  const int stream = stream_output(PLANES * upl);
  int64_t blocks = 0;
  for (int64_t p0 = 0; p0 < no; p0 += lits_packed_gemm_block_rows(no, p0)) blocks++;
  int64_t* starts = (int64_t*)lits_scratch_alloc(blocks * (int64_t)sizeof(int64_t));
  if (starts == NULL) return LITS_ERR_MEMORY;
  blocks = 0;
  for (int64_t p0 = 0; p0 < no; p0 += lits_packed_gemm_block_rows(no, p0)) starts[blocks++] = p0;
#pragma omp parallel
  {
    float buf[ROWS][PLANES * 16] __attribute__((aligned(64))) = {{0}};
    float out[16 * ROWS] __attribute__((aligned(64)));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t p0 = starts[b], mr = lits_packed_gemm_block_rows(no, p0);
      const int64_t h = lits_packed_gemm_panel_rows(mr);
      const __mmask16 keep = (__mmask16)((1u << h) - 1);
      for (int64_t i0 = 0; i0 < ni; i0 += 16) {
        const int64_t len = ni - i0 < 16 ? ni - i0 : 16;
        transform_group(w, so, si, flip, p0, mr, i0, len, buf);
        for (int64_t xi = 0; xi < PLANES; xi++) {
          __m512 r[16];
          for (int64_t o = 0; o < 16; o++) { /* rows past the block: the panel's zeros */
            r[o] = o < mr ? _mm512_load_ps(buf[o] + xi * 16) : _mm512_setzero_ps();
          }
          transpose16(r); /* r[l] lane o: filter (p0 + o, i0 + l) */
          for (int64_t l = 0; l < len; l++) _mm512_mask_storeu_ps(out + l * h, keep, r[l]);
          /* Packed row block p0 of the plane: input channel i at [i * h + o]. */
          float* dst = up + xi * upl + p0 * ni + i0 * h;
          if (stream) stream_copy(dst, out, len * h);
          else memcpy(dst, out, (size_t)(len * h) * sizeof(float));
        }
      }
    }
    if (stream) stream_fence();
  }
  lits_scratch_free(starts);
  return LITS_OK;
}
