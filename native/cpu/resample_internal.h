/* resample_internal.h: what the resampling kernels' forward (resample.c)
 * and backward (resample_backward.c) share: the kernel switch, the argument
 * checks, and the windows along the last dimension. */
#ifndef LITS_RESAMPLE_INTERNAL_H
#define LITS_RESAMPLE_INTERNAL_H

#include <immintrin.h>
#include <stdint.h>

#define AVX512 __attribute__((target("avx512f")))

/* Elements of work (outputs times taps) below which one thread runs. */
#define RESAMPLE_PAR_THRESHOLD 32768
/* Columns (inner, or positions when inner is 1) per task: long enough to
 * stream, short enough to split a single row between threads; a multiple
 * of 16, so that the blocks of 16 positions line up with the windows. */
#define RESAMPLE_BLOCK 4096

/* Whether to take the AVX-512 kernels: the CPU has them and LITS_RESAMPLE
 * is not "portable" (read on every call, as the other kernel switches). */
int lits_resample_use_avx512(void);

/* Sizes, pointers and every index in [0, r). LITS_EMPTY when nothing is written. */
int lits_resample_check(const char* fn, const void* src, const int32_t* index, const void* dst,
                        int64_t outer, int64_t r, int64_t k, int64_t inner, int32_t taps);

/* Along the last dimension the taps of 16 adjacent positions mostly lie in
 * a short window of the row they read (upsampling, or downsampling by up to
 * ~4x): the AVX-512 kernels load that window (at most 64 floats, 4 vectors)
 * once and pick each tap's values with permutes. vgatherdps was 2x slower
 * than the scalar loop on Zen 4 (3.5 against 1.7 ms on [8192, 512] -> 224,
 * one thread), so blocks with a wider window take the scalar loop. */
#define RESAMPLE_WINDOW 64

/* A block of 16 positions: the lowest index its taps read, and the width they span. */
typedef struct {
  int32_t lo, span;
} resample_window;

/* The windows of the blocks of 16 of the k positions, and each tap's index
 * relative to its block's lo (rel, [taps, k]); an index of -1 (no tap)
 * stays -1. */
void lits_resample_plan_windows(const int32_t* index, int64_t k, int32_t taps,
                                resample_window* win, int32_t* rel);

/* The first `count` lanes (none when count <= 0). */
static inline __mmask16 resample_lanes(int64_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

/* The window's vectors from row xo of length r (lo + span <= r: none past its end). */
AVX512 static inline void resample_load_window(const float* xo, int64_t r, resample_window w,
                                               __m512 v[4]) {
  for (int q = 0; q < 4; q++) {
    v[q] = 16 * q < w.span
             ? _mm512_maskz_loadu_ps(resample_lanes(r - w.lo - 16 * q), xo + w.lo + 16 * q)
             : _mm512_setzero_ps();
  }
}

/* The window's values at rel (0 <= rel < span): bits 0-4 pick one of 32
 * floats from a pair of vectors, bit 5 the pair. */
AVX512 static inline __m512 resample_pick(const __m512 v[4], __m512i rel, int32_t span) {
  const __m512 p = _mm512_permutex2var_ps(v[0], rel, v[1]);
  if (span <= 32) return p;
  const __mmask16 upper = _mm512_test_epi32_mask(rel, _mm512_set1_epi32(32));
  return _mm512_mask_blend_ps(upper, p, _mm512_permutex2var_ps(v[2], rel, v[3]));
}

#endif
