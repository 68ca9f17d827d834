/* bf16_blocking.h: the blocking of bf16_gemm.c's GEMM and the packing of
 * its operands (bf16_pack.c), which the two files share. */
#ifndef LITS_CPU_BF16_BLOCKING_H
#define LITS_CPU_BF16_BLOCKING_H

#include <stdint.h>

#include "bf16_internal.h"

/* The first n of 16 lanes (none for n <= 0). */
static inline __mmask16 bf16_lanes(int64_t n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

#define MR 12   /* rows of C per micro-kernel: 24 accumulators + 2 B vectors + 1 broadcast */
#define NR 32   /* columns per micro-kernel: two vectors */
#define KC 512  /* K per pass (256 pairs): a B panel of KC x NR bf16 is 32 KiB, L1-sized */
#define MC 144  /* rows per A block: 144 x KC bf16 = 144 KiB, in L2 */
#define NC 1024 /* columns per B block: KC x NC bf16 = 1 MiB, in L2 and L3 */

/* The rows of the next A panel when `rest` remain: MR, but a tail of 13 to
 * 23 rows is cut in two halves (64 = 4 x 12 + 2 x 8, not 5 x 12 + 4: the
 * 4-row kernel has too few accumulators to hide vdpbf16ps' latency). */
static inline int64_t panel_rows(int64_t rest) {
  return rest <= MR ? rest : rest < 2 * MR ? (rest + 1) / 2 : MR;
}

/* A block: rows [i0, i0 + mc) and K [p0, p0 + kc) of op(A) into panels of
 * panel_rows() rows, row r of the block at dst[r * ps] (ps: the block's
 * pairs, (kc + 1) / 2 unless it holds several K pieces). A kernel of R
 * rows reads R rows from its panel's first: rows past the panel (the next
 * panel's, or the buffer's slack of MR rows) land in accumulators that are
 * never stored. */
void lits_bf16_pack_a(const float* a, int64_t lda, int trans, int64_t i0, int64_t mc, int64_t p0,
                      int64_t kc, uint32_t* dst, int64_t ps);
/* B block: columns [j0, j0 + nc) and K [p0, p0 + kc) of op(B) into NR-column
 * panels, dst[(panel * ps + pair) * NR + column] (ps as lits_bf16_pack_a's);
 * missing columns are zeros. bx: op(B)'s transform, or NULL. */
void lits_bf16_pack_b(const float* b, int64_t ldb, int trans, int64_t j0, int64_t nc, int64_t p0,
                      int64_t kc, uint32_t* dst, const bf16_b_xform* bx, int64_t ps);
/* lits_bf16_pack_a (not transposed) and lits_bf16_pack_b (not transposed,
 * no transform) of an operand stored as bf16 (bf16_pack16.c). */
void lits_bf16_pack_a16(const uint16_t* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
                        int64_t kc, uint32_t* dst, int64_t ps);
void lits_bf16_pack_b16(const uint16_t* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0,
                        int64_t kc, uint32_t* dst, int64_t ps);
/* lits_bf16_pack_b (transposed, no transform) of an operand stored as bf16
 * (bf16_pack16.c): column j of op(B) is row j0 + j of b, ldb apart. */
void lits_bf16_pack_b16t(const uint16_t* b, int64_t ldb, int64_t j0, int64_t nc, int64_t p0,
                         int64_t kc, uint32_t* dst, int64_t ps);

/* The AMX micro-kernel (bf16_amx.c). lits_bf16_amx_on: the tiles can
 * run on this CPU and process, and LITS_AMX is not "off". A thread loads
 * the tiles' configuration (begin) before its blocks and releases it (end)
 * after. lits_bf16_amx_block: as bf16_gemm.c's kernels, C [rows x the
 * columns in ma, mb] = alpha * A rows x B panel (ps pairs) + beta * C, for
 * rows 16 or 32 (rows the A block holds: nothing past them is read). */
int lits_bf16_amx_on(void);
void lits_bf16_amx_begin(void);
void lits_bf16_amx_end(void);
void lits_bf16_amx_block(int64_t rows, int64_t ps, const uint32_t* ap, const uint32_t* bp,
                         float* c, int64_t ldc, __mmask16 ma, __mmask16 mb, float alpha,
                         float beta, int nt);
/* measure.c's tile peak loop: iters x 4 tdpbf16ps on the calling thread. */
float lits_bf16_amx_peak_loop(int64_t iters);

#endif
