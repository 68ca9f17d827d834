/* gemm_prefetch.h: what packed_gemm.c's kernels prefetch as they multiply.
 *
 * A 1x1 convolution reads x's rows (channels) a plane apart, 128 bytes of
 * each per panel; the hardware prefetchers follow no such stride, so the
 * first row block, which packs x as it multiplies, waited on memory for
 * each row (ResNet-50's 256 -> 64 at 64 x 64 read x at ~11 GB/s on 2 cores
 * of a Xeon that copies at 43), and each block's epilogue waited for the
 * rows of its residual. Instead the kernels walk a cursor over what comes
 * next (x's rows of the next pass or of the next block of columns, the
 * residual's rows of the next row block), one line into L2 every other k
 * step: spread out, not a burst that would fill the line fill buffers.
 * A cursor covers `rows` rows, ld floats apart, each of `segs` segments of
 * `len` floats, `stride` floats apart (the columns of several images, or
 * the every-other-row columns of a strided 1x1). */
#ifndef LITS_CPU_GEMM_PREFETCH_H
#define LITS_CPU_GEMM_PREFETCH_H

#include <immintrin.h>
#include <stdint.h>

typedef struct {
  const float* row; /* the row being walked */
  int64_t col, seg; /* the next line's column in its segment; its segment */
  int64_t len, segs, stride, ld;
  int64_t rows; /* rows left, this one included; 0: nothing (more) to fetch */
} pf_cursor;

static const pf_cursor pf_none = {0};

/* The next line of p into L2, if any: the line of each 16th column of a
 * segment, then the line of its last one (a segment that starts within a
 * line ends in one more). */
__attribute__((target("avx512f"))) static inline void pf_one(pf_cursor* p) {
  if (p->rows <= 0) return;
  const float* s = p->row + p->seg * p->stride;
  _mm_prefetch((const char*)(s + (p->col < p->len ? p->col : p->len - 1)), _MM_HINT_T1);
  p->col += 16;
  if (p->col < p->len + 16) return;
  p->col = 0;
  if (++p->seg < p->segs) return;
  p->seg = 0;
  p->row += p->ld;
  p->rows--;
}

/* A cursor over `rows` rows (row stride ld) of the nc columns at x +
 * off[0 .. nc): runs of columns at most 2 apart (side by side, or every
 * other one) of one length, a stride apart; else none (nothing to fetch
 * that this walk would cover in few lines). */
static inline pf_cursor pf_columns(const float* x, int64_t ld, const int64_t* off, int64_t nc,
                                   int64_t rows) {
  if (nc <= 0 || rows <= 0) return pf_none;
  int64_t run = 1;
  while (run < nc && off[run] - off[run - 1] <= 2) run++;
  const int64_t segs = (nc + run - 1) / run;
  const int64_t stride = segs > 1 ? off[run] - off[0] : 0;
  for (int64_t s = 1; s < segs; s++) {
    if (off[s * run] != off[0] + s * stride) return pf_none;
  }
  const int64_t len = off[run - 1] - off[0] + 1;
  if (off[nc - 1] > off[0] + (segs - 1) * stride + len - 1) return pf_none;
  return (pf_cursor){x + off[0], 0, 0, len, segs, stride, ld, rows};
}

/* A cursor over rows [i0, i0 + rows) of an output laid out as
 * lits_packed_gemm_out's y (row stride ld; image j / span at j / span * ys,
 * column j % span within it) at its columns [j0, j0 + nc): one segment
 * within an image, or whole images. */
static inline pf_cursor pf_output(const float* y, int64_t ld, int64_t span, int64_t ys,
                                  int64_t j0, int64_t nc, int64_t i0, int64_t rows) {
  if (nc <= 0 || rows <= 0) return pf_none;
  const float* at = y + j0 / span * ys + i0 * ld + j0 % span;
  if (j0 % span + nc <= span) return (pf_cursor){at, 0, 0, nc, 1, 0, ld, rows};
  if (j0 % span != 0 || nc % span != 0) return pf_none;
  return (pf_cursor){at, 0, 0, span, nc / span, ys, ld, rows};
}

#endif
