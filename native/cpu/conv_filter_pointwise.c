/* conv_filter_pointwise.c: the filter gradient of a 1x1 convolution (any
 * stride, no padding, no groups), dW[k, c] = sum over images and output
 * pixels j of dy[k, j] relu?(T(x))[c, j], with our own AVX-512 kernel.
 *
 * Both operands lie with j contiguous (NCHW), so the product is a dot
 * product along j: the micro-kernel holds a 4 x 6 block of dW as 24
 * vectors of 16 partial sums, loads 4 rows of dy and 6 of x per 16 columns
 * (10 loads for 24 FMAs) and sums the lanes once per chunk of columns.
 * No operand is transposed. OpenBLAS (NT) instead packs both operands
 * transposed per call and tile, and a transformed or strided x went
 * through a tile buffer before it: 122-177 GFLOP/s on ResNet-50's shapes.
 *
 * Columns are taken in chunks (across image boundaries); per chunk a
 * block of rows of one operand is packed contiguous (it stays in L2)
 * and the other is packed a strip of 6 (x) or 4 (dy) rows at a time (in
 * L1); x is transformed and gathered as it is read, and the next block's
 * and strip's memory is prefetched while the products run (both in
 * conv_filter_pack.c). Which operand is blocked, and whether the threads
 * split k or c, is chosen per shape (best_plan). The threads split dW
 * itself (where dW is small, also the columns, in two groups fixed by the
 * shape, added in a fixed order), so that every element of dW is summed
 * in the same order whatever the number of threads. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_filter_pack.h"
#include "conv_internal.h"
#include "conv_tiles.h"

#define AVX512 __attribute__((target("avx512f")))
#define AVX512_INLINE __attribute__((target("avx512f"), always_inline)) static inline

#define MR 4       /* rows of dy per micro-kernel block */
#define NR 6       /* rows of x per block */
#define JC 1024    /* most columns per chunk: the lanes are summed once per chunk */
#define JC_MIN 512 /* fewest: the kernel ran at 111.7 GFLOP/s a core with 512, 114.5 with 1024 */
/* Floats of a block (rows x chunk columns), 384 KiB: with the next block
 * prefetched beside it, it stays in L2. */
#define BLOCK_FLOATS (96 * 1024)
#define GROUP_DW (32 * 1024) /* the most floats of dW that column groups take (column_groups) */

/* How a thread walks its part of dW: a block of dy rows or of x channels
 * per chunk, the threads' split (by k or by c), the chunk's columns and the
 * block's rows; cost is the rows it packs per column. */
typedef struct {
  int xblock, by_k;
  int64_t jc, kb, cost;
} filter_plan;

int lits_conv_filter_pointwise_applies(const conv_shape* p) {
  static int avx512 = -1;
  if (avx512 < 0) avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
  const char* algo = getenv("LITS_CONV_ALGO"); /* =openblas: the OpenBLAS path, for A/B */
  if (algo != NULL && strcmp(algo, "openblas") == 0) return 0;
  return avx512 && p->r == 1 && p->s == 1 && p->ph == 0 && p->pw == 0 && p->groups == 1;
}

/* The lane sums of six accumulators in lanes 0..5, by a tree of 128- and
 * 32-bit shuffles: 25 instructions a row where six _mm512_reduce_add_ps and
 * scalar adds take 66 (they cost 10% of the time with chunks of 1024).
 * Every accumulator's lanes are added in the same order, whatever its
 * position, so that a dW element's bits do not depend on its block. */
AVX512_INLINE __m512 pair8(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
}
AVX512_INLINE __m512 pair4(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xdd));
}
AVX512_INLINE __m512 pair2(__m512 a, __m512 b) {
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xdd));
}
AVX512_INLINE __m512 sum6(__m512 v0, __m512 v1, __m512 v2, __m512 v3, __m512 v4, __m512 v5) {
  const __m512 q0123 = pair4(pair8(v0, v1), pair8(v2, v3));
  const __m512 p45 = pair8(v4, v5), q45 = pair4(p45, p45);
  const __m512 r = pair2(q0123, q45), s = pair2(r, r);
  /* s: v0 in lane 0, v4 in 1, v1 in 4, v5 in 5, v2 in 8, v3 in 12 */
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(order, s);
}

/* out[i ldo + q] += the sums of a block's mr x nr dot products over jp
 * columns (a multiple of 16): rows of a and b have stride ld. The first
 * chunk adds them to 0 instead of out (the same bits as out zeroed first,
 * without a pass over dW: 1.5-2% of the time where it has millions of
 * elements). Inlined with constant mr, nr, so that the accumulators stay
 * in registers. */
AVX512_INLINE void dot_block(
    const int mr, const int nr, int64_t jp, const float* a, const float* b, int64_t ld,
    float* out, int64_t ldo, int first) {
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; i++) {
    for (int q = 0; q < NR; q++) acc[i][q] = _mm512_setzero_ps();
  }
  int64_t j = 0;
  do { /* jp >= 16 */
    __m512 av[MR];
    for (int i = 0; i < mr; i++) av[i] = _mm512_loadu_ps(a + i * ld + j);
    for (int q = 0; q < nr; q++) {
      __m512 bv = _mm512_loadu_ps(b + q * ld + j);
      __asm__("" : "+v"(bv)); /* one load, not one per FMA */
      for (int i = 0; i < mr; i++) acc[i][q] = _mm512_fmadd_ps(av[i], bv, acc[i][q]);
    }
    j += 16;
  } while (j < jp);
  const __mmask16 m = (__mmask16)((1u << nr) - 1);
  for (int i = 0; i < mr; i++) {
    float* o = out + i * ldo;
    const __m512 v = sum6(acc[i][0], acc[i][1], acc[i][2], acc[i][3], acc[i][4], acc[i][5]);
    const __m512 before = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, o);
    _mm512_mask_storeu_ps(o, m, _mm512_add_ps(before, v));
  }
}

typedef void (*dot_fn)(int64_t, const float*, const float*, int64_t, float*, int64_t, int);

#define DOT(M, N)                                                                           \
  AVX512 static void dot_##M##_##N(int64_t jp, const float* a, const float* b, int64_t ld,   \
                                   float* out, int64_t ldo, int first) {                     \
    dot_block(M, N, jp, a, b, ld, out, ldo, first);                                          \
  }
#define DOTS(M) DOT(M, 1) DOT(M, 2) DOT(M, 3) DOT(M, 4) DOT(M, 5) DOT(M, 6)
DOTS(1) DOTS(2) DOTS(3) DOTS(4)
#define ROWFNS(M) {dot_##M##_1, dot_##M##_2, dot_##M##_3, dot_##M##_4, dot_##M##_5, dot_##M##_6}
static const dot_fn dots[MR][NR] = {ROWFNS(1), ROWFNS(2), ROWFNS(3), ROWFNS(4)};


/* A thread's part of dW: rows [k0, k1) of dy against channels [c0, c1) of
 * x, over columns [j0, j1) (chunk bounds), into dw (rows of p->c). */
typedef struct {
  float* dw;
  int64_t k0, k1, c0, c1, j0, j1;
} dw_part;

/* One thread's block of dW: rows [k0, k1) of dy against channels [c0, c1)
 * of x, over its columns, chunk by chunk. While a block of dy rows is in
 * use, the next block's rows are prefetched, and x's next strip while a
 * strip is (without them, the packing waited on DRAM for a fifth of the
 * time at c64 k256 64x64). */
static void filter_block(const conv_shape* p, const float* x, const conv_xform* xf,
                         const float* dy, const dw_part* w, const filter_plan* pl, float* dbuf,
                         float* xbuf) {
  const int64_t k0 = w->k0, k1 = w->k1, c0 = w->c0, c1 = w->c1, cols = w->j1;
  const int64_t ldw = p->c, chunk = pl->jc, bk = pl->kb;
  float* dw = w->dw;
  if (k0 >= k1 || c0 >= c1) return;
  prefetcher fd, fx;
  for (int64_t j0 = w->j0; j0 < cols; j0 += chunk) {
    const int64_t jc = cols - j0 < chunk ? cols - j0 : chunk, jp = round16(jc), ld = jp + 16;
    for (int64_t kb0 = k0; kb0 < k1; kb0 += bk) {
      const int64_t kb = k1 - kb0 < bk ? k1 - kb0 : bk;
      lits_pw_pack_dy(p, dy, kb0, kb, j0, jc, ld, dbuf);
      /* the next block of dy: the next rows, or the first of the next chunk */
      const int64_t nk0 = kb0 + bk < k1 ? kb0 + bk : k0;
      const int64_t nj0 = kb0 + bk < k1 ? j0 : j0 + chunk;
      const int64_t njc = cols - nj0 < chunk ? cols - nj0 : chunk;
      const int64_t nkb = k1 - nk0 < bk ? k1 - nk0 : bk;
      lits_pw_prefetch_dy(p, &fd, dy, nk0, nj0 < cols ? nkb : 0, nj0, nj0 + njc);
      const int64_t calls = (c1 - c0 + NR - 1) / NR * ((kb + MR - 1) / MR);
      const int64_t dy_lines = (nkb * njc + 15) / 16 / calls + 1;
      for (int64_t cs = c0; cs < c1; cs += NR) {
        const int64_t nr = c1 - cs < NR ? c1 - cs : NR;
        lits_pw_pack_x(p, x, xf, cs, nr, j0, jc, ld, xbuf);
        const int64_t ncs = cs + NR < c1 ? cs + NR : c0; /* x's next strip */
        const int64_t nxj = cs + NR < c1 ? j0 : nj0, nxc = cs + NR < c1 ? jc : njc;
        const int64_t nxr = nxj < cols ? (c1 - ncs < NR ? c1 - ncs : NR) : 0;
        lits_pw_prefetch_x(p, &fx, x, ncs, nxr, nxj, nxj + nxc);
        const int64_t x_lines = (NR * nxc * p->sw + 15) / 16 / ((kb + MR - 1) / MR) + 1;
        for (int64_t i0 = 0; i0 < kb; i0 += MR) {
          const int64_t mr = kb - i0 < MR ? kb - i0 : MR;
          lits_pw_prefetch_step(p, &fd, dy_lines);
          lits_pw_prefetch_step(p, &fx, x_lines);
          dots[mr - 1][nr - 1](jp, dbuf + i0 * ld, xbuf, ld, dw + (kb0 + i0) * ldw + cs, ldw,
                               j0 == w->j0);
        }
      }
    }
  }
}

/* The same with the roles swapped: a block of channels of x packed per
 * chunk (gathered and transformed once), dy packed 4 rows at a time. */
static void filter_block_x(const conv_shape* p, const float* x, const conv_xform* xf,
                           const float* dy, const dw_part* w, const filter_plan* pl, float* cbuf,
                           float* dbuf) {
  const int64_t k0 = w->k0, k1 = w->k1, c0 = w->c0, c1 = w->c1, cols = w->j1;
  const int64_t ldw = p->c, chunk = pl->jc, bk = pl->kb;
  float* dw = w->dw;
  if (k0 >= k1 || c0 >= c1) return;
  prefetcher fx, fd;
  for (int64_t j0 = w->j0; j0 < cols; j0 += chunk) {
    const int64_t jc = cols - j0 < chunk ? cols - j0 : chunk, jp = round16(jc), ld = jp + 16;
    for (int64_t cb0 = c0; cb0 < c1; cb0 += bk) {
      const int64_t cb = c1 - cb0 < bk ? c1 - cb0 : bk;
      lits_pw_pack_x(p, x, xf, cb0, cb, j0, jc, ld, cbuf);
      const int64_t nc0 = cb0 + bk < c1 ? cb0 + bk : c0;
      const int64_t nj0 = cb0 + bk < c1 ? j0 : j0 + chunk;
      const int64_t njc = cols - nj0 < chunk ? cols - nj0 : chunk;
      const int64_t ncb = c1 - nc0 < bk ? c1 - nc0 : bk;
      /* (not a strided x: its next block, twice the lines, pushed this one
       * out of L2; without it the stride-2 layers ran 1-7% faster) */
      const int pf_next = nj0 < cols && p->sh == 1 && p->sw == 1;
      lits_pw_prefetch_x(p, &fx, x, nc0, pf_next ? ncb : 0, nj0, nj0 + njc);
      const int64_t calls = (k1 - k0 + MR - 1) / MR * ((cb + NR - 1) / NR);
      const int64_t x_lines = (ncb * njc * p->sw + 15) / 16 / calls + 1;
      for (int64_t ks = k0; ks < k1; ks += MR) {
        const int64_t mr = k1 - ks < MR ? k1 - ks : MR;
        lits_pw_pack_dy(p, dy, ks, mr, j0, jc, ld, dbuf);
        const int64_t nks = ks + MR < k1 ? ks + MR : k0; /* dy's next strip */
        const int64_t ndj = ks + MR < k1 ? j0 : nj0, ndc = ks + MR < k1 ? jc : njc;
        const int64_t ndr = ndj < cols ? (k1 - nks < MR ? k1 - nks : MR) : 0;
        lits_pw_prefetch_dy(p, &fd, dy, nks, ndr, ndj, ndj + ndc);
        const int64_t d_lines = (MR * ndc + 15) / 16 / ((cb + NR - 1) / NR) + 1;
        for (int64_t q0 = 0; q0 < cb; q0 += NR) {
          const int64_t nr = cb - q0 < NR ? cb - q0 : NR;
          lits_pw_prefetch_step(p, &fx, x_lines);
          lits_pw_prefetch_step(p, &fd, d_lines);
          dots[mr - 1][nr - 1](jp, dbuf, cbuf + q0 * ld, ld, dw + ks * ldw + cb0 + q0, ldw,
                               j0 == w->j0);
        }
      }
    }
  }
}

/* Bounds of part t of nparts of [0, d), multiples of 4 but the last. */
static int64_t part_bound(int64_t d, int t, int nparts) {
  if (t == nparts) return d;
  return d * t / nparts / 4 * 4;
}

/* The chunk and block of an order and split: with jc 0, as few blocks of
 * the thread's rows as fit the budget with chunks of JC_MIN or more, then
 * chunks as long as the budget allows (fewer blocks, fewer passes over the
 * other operand); else chunks of jc columns and as few blocks as fit. A
 * strided x's block has twice the budget, as its next block is not
 * prefetched (see filter_block_x). */
static filter_plan make_plan(const conv_shape* p, int xblock, int by_k, int nt, int64_t jc) {
  const int64_t kt = by_k ? (p->k + nt - 1) / nt : p->k;
  const int64_t ct = by_k ? p->c : (p->c + nt - 1) / nt;
  const int strided = p->sh != 1 || p->sw != 1, wx = strided ? 2 : 1; /* gathering costs more */
  const int64_t budget = (xblock && strided ? 2 : 1) * BLOCK_FLOATS;
  const int64_t rows = xblock ? ct : kt, most = jc > 0 ? budget / jc / 4 * 4 : budget / JC_MIN;
  const int64_t blocks = (rows + most - 1) / most;
  filter_plan f = {xblock, by_k, jc, ((rows + blocks - 1) / blocks + 3) / 4 * 4, 0};
  if (jc == 0) f.jc = budget / f.kb / 16 * 16 < JC ? budget / f.kb / 16 * 16 : JC;
  f.cost = xblock ? wx * ct + kt * blocks : kt + wx * ct * blocks;
  return f;
}

/* The order (a block of dy rows or of x channels per chunk) and the split
 * (by k or by c) that pack the fewest rows, for chunks of jc columns (0:
 * the longest that fit): each repacking of a strip reads it from L2 or L3
 * again. With 64 channels a block of x is packed once a chunk where blocks
 * of dy rows (96 + 32 of a thread's 128) pack x twice; a strided x
 * gathered once per block of dy rows ran ResNet-50's 1024 -> 2048 at
 * 16 x 16 at half OpenBLAS's rate. */
static filter_plan best_plan(const conv_shape* p, int nt, int64_t jc) {
  filter_plan best = {0, 0, 0, 0, -1};
  for (int xblock = 1; xblock >= 0; xblock--) { /* ties: longer chunks, then x packed once */
    for (int i = 0; i < 2; i++) {
      const int by_k = p->sw > 1 ? i : 1 - i; /* ties: a strided x split, not gathered twice */
      const filter_plan f = make_plan(p, xblock, by_k, nt, jc);
      if (best.cost < 0 || f.cost < best.cost || (f.cost == best.cost && f.jc > best.jc)) best = f;
    }
  }
  return best;
}

/* Column groups: 2 (the columns of the first half of the chunks, and the
 * rest), each summed into a dW of its own, added at the end, where dW is
 * small and there are two chunks or more (ResNet-50's 64 x 64 layers):
 * each group's threads read only its columns, where threads that split dW
 * all read one operand whole (and transform x twice): 3-12% faster at
 * 64 -> 64, 2-9% at 256 -> 128, 0-5% at 64 -> 256 and 256 -> 64, nothing
 * clear with dW of 64K floats (x and dy cold, 2 threads). The groups depend
 * on the shape only and one thread runs both, so that the bits do not
 * depend on the number of threads. */
static int column_groups(const conv_shape* p, int64_t jc) {
  return p->n * p->ohw >= 2 * jc && p->k * p->c <= GROUP_DW ? 2 : 1;
}

/* dw += part, both [n], on the calling thread: after the threads' join,
 * not behind a barrier inside their region, where a thread that had to be
 * woken (GOMP_SPINCOUNT=0 in the library) could cost a time slice on busy
 * cores; dW is small here (GROUP_DW), a few microseconds. */
AVX512 void lits_conv_add_part(float* dw, const float* part, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, dw + i);
    _mm512_mask_storeu_ps(dw + i, m, _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, part + i)));
  }
}

/* The chunks are those of the plan for two threads (this machine's cores)
 * whatever the number of threads: their bounds set the order of dW's sums,
 * so that its bits do not depend on it (chunks sized by each thread's rows
 * gave ResNet-50's 1024 -> 2048 / 2 other bits with one thread than with
 * two). One thread's plan had shorter chunks, slower with two threads:
 * 10-14% at 256 -> 512 / 2 at 64 x 64 (768 columns instead of 1024). With
 * more threads a thread has no more rows, so that its blocks fit as well. */
int lits_conv_filter_pointwise(const conv_shape* p, const float* x, const conv_xform* xf,
                               const float* dy, float* dweight) {
  const int nt = omp_get_max_threads();
  const int64_t cols = p->n * p->ohw, jc = best_plan(p, 2, 0).jc;
  const int groups = column_groups(p, jc), team = nt >= groups ? nt / groups : 1;
  const filter_plan plan = best_plan(p, team, jc);
  const int xblock = plan.xblock, by_k = plan.by_k;
  const int64_t d = by_k ? p->k : p->c;
  const int members = min_threads(team, d < 8 ? 1 : d / 4); /* no empty part */
  const int threads = nt >= groups ? members * groups : 1;  /* one: every group in turn */
  const int64_t jmax = round16(cols < plan.jc ? cols : plan.jc);
  const int64_t rows = plan.kb, mid = ((cols + jc - 1) / jc + 1) / 2 * jc;
  const int64_t per = round16(rows * (jmax + 16)) + round16((NR > MR ? NR : MR) * (jmax + 16));
  float* scratch = thread_scratch(per, threads, groups > 1 ? p->k * p->c : 0);
  if (scratch == NULL) return LITS_ERR_MEMORY;
  float* part = scratch + per * threads;
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num();
    float* block = scratch + per * tid;
    float* strip = block + round16(rows * (jmax + 16));
    const int first = threads == 1 ? 0 : tid / members;
    const int last = threads == 1 ? groups - 1 : first, r = threads == 1 ? 0 : tid % members;
    const int64_t lo = part_bound(d, r, members), hi = part_bound(d, r + 1, members);
    for (int g = first; g <= last; g++) {
      dw_part w = {g == 0 ? dweight : part, by_k ? lo : 0, by_k ? hi : p->k, by_k ? 0 : lo,
                   by_k ? p->c : hi, g == 0 ? 0 : mid, groups == 1 || g == 1 ? cols : mid};
      if (xblock) {
        filter_block_x(p, x, xf, dy, &w, &plan, block, strip);
      } else {
        filter_block(p, x, xf, dy, &w, &plan, block, strip);
      }
    }
  }
  if (groups > 1) lits_conv_add_part(dweight, part, p->k * p->c);
  lits_scratch_free(scratch);
  return LITS_OK;
}
