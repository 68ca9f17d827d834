/* bf16_internal.h: the bf16 GEMM of bf16_gemm.c for kernels that put their
 * own OpenMP threads around it (as common.h's lits_sgemm_serial). */
#ifndef LITS_CPU_BF16_INTERNAL_H
#define LITS_CPU_BF16_INTERNAL_H

#include <immintrin.h>
#include <stdint.h>

#include "common.h"
#include "conv_internal.h"

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* The high 16 bits of each lane are bf16(x) (RNE; NaN -> 0x7FC0); the low
 * 16 bits are garbage. */
BF16_TARGET static inline __m512i round_hi(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_mov_epi32(r, nan, _mm512_set1_epi32(0x7FC00000));
}

/* Words (bf16(r0[j]) | bf16(r1[j]) << 16) for j < w (w <= 16); r1 NULL is
 * the zero padding of an odd K. Lanes >= w are zero. */
BF16_TARGET static inline __m512i pair_rows(const float* r0, const float* r1, int64_t w) {
  const __mmask16 m = w >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << w) - 1);
  const __m512i lo = _mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m, r0)), 16);
  if (r1 == NULL) return lo;
  const __m512i hi = _mm512_and_si512(round_hi(_mm512_maskz_loadu_ps(m, r1)),
                                      _mm512_set1_epi32((int)0xFFFF0000u));
  return _mm512_or_si512(lo, hi);
}

/* The 16 words of pairs of x[0 .. min(n, 32)) along K (missing ones zero). */
BF16_TARGET static inline __m512i pairs_of(const float* x, int64_t n) {
  const __mmask16 m0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
  const __mmask16 m1 =
      n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
  const __m256i lo =
      _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m0, x)), 16));
  const __m256i hi =
      _mm512_cvtepi32_epi16(_mm512_srli_epi32(round_hi(_mm512_maskz_loadu_ps(m1, x + 16)), 16));
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* r[i] lane j <- r[j] lane i (a 16 x 16 transpose of 32-bit words): pairs
 * of words, then of 64-bit pairs, inside 128-bit lanes, then the lanes. */
BF16_TARGET static inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int h = 0; h < 16; h += 8) {
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
  }
}

/* A per-channel transform of op(B) applied as it is packed, before the
 * rounding: conv_xform's deferred relu?((v - mean) scale + shift), computed
 * as fused_apply computes it (vsubps, vfmadd; NaN kept), so that a 1x1
 * convolution reads x in place instead of transforming it into an fp32
 * tile first. Channel c0 + j is op(B)'s row j (K) when B is not
 * transposed, its column j (N) when it is; coef as fused_affine_of reads it
 * ([3 c]: mean, scale, shift; NULL: relu only). */
typedef struct {
  const float* coef;
  int relu;
  int64_t c, c0;
} bf16_b_xform;

/* lits_conv2d_forward_bf16_f32 with the epilogue ep (its kernel's, or a pass
 * after; conv_bf16.c), fn naming the entry point in errors. */
int lits_conv_bf16_forward_epilogue(const char* fn, const lits_conv2d_params* params_host,
                                    const float* x, const float* x_coef, int32_t x_relu,
                                    const float* weight, const float* bias, float* y,
                                    conv_epilogue* ep);
/* LITS_OK where the CPU runs the bf16 kernels, else LITS_ERR_UNAVAILABLE
 * with a message naming fn and the fp32 function to call instead (no
 * AVX512_BF16, or LITS_BF16=off: lits_bf16_support reports 0). */
int lits_bf16_ready(const char* fn, const char* fp32);
/* 32-bit words of scratch lits_gemm_bf16_serial needs for an m x n x k
 * product (its packed bf16 blocks of A and B); 0 when there is nothing to
 * multiply. A buffer sized for the largest product serves smaller ones. */
int64_t lits_gemm_bf16_serial_words(int64_t m, int64_t n, int64_t k);

/* lits_gemm_bf16_f32 on the calling thread only: C = alpha * bf16(op(A)) x
 * bf16(op(B)) + beta * C, fp32 products and sums, beta = 0 not reading C.
 * The caller has checked the arguments and that lits_bf16_support reports
 * a level above 0 (the kernels are AVX512_BF16 instructions). scratch holds
 * lits_gemm_bf16_serial_words(m, n, k) words, or is NULL to take them from
 * the caching allocator: LITS_ERR_MEMORY (recorded) if that fails, else
 * LITS_OK. bx: a transform of op(B) (bf16_b_xform), or NULL. */
int lits_gemm_bf16_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                          const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                          float* c, int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx);
/* dst[0 .. len) = bf16(src[0 .. len)), rounded as bf16_pack.c rounds
 * (vcvtne2ps2bf16), so that bf16_pack16.c's packing of dst gives the words
 * bf16_pack.c's would give from src; stream: whole 64-byte lines of dst
 * with streaming stores (the caller fences). */
void lits_bf16_store_rne(const float* src, int64_t len, uint16_t* dst, int stream);
/* lits_gemm_bf16_serial with alpha 1 and A (not transposed) stored as bf16. */
int lits_gemm_bf16_serial_a16(int trans_b, int64_t m, int64_t n, int64_t k, const uint16_t* a,
                              int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                              int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx);
/* C [m x n] = A [m x k] x B^T (alpha 1) with B stored as bf16, n x k (rows
 * ldb apart: a 1x1 convolution's x held as bf16, for its filter
 * gradient), and A as fp32 (a) or bf16 (a16; the other NULL). */
int lits_gemm_bf16_serial_bt16(int64_t m, int64_t n, int64_t k, const float* a,
                               const uint16_t* a16, int64_t lda, const uint16_t* b, int64_t ldb,
                               float beta, float* c, int64_t ldc, uint32_t* scratch);

/* C [m x n] = sum over segments s < nseg of bf16(A_s) x bf16(B_s)^T, on
 * the calling thread: A_s = a + s a_step, m x kseg, rows lda apart; B_s =
 * b + s b_step stored n x kseg (column j of B_s^T is row j, ldb apart),
 * with bx as lits_gemm_bf16_serial's for a transposed B. E.g. a 1x1
 * convolution's filter gradient, dy_i x x_i^T summed over the images i,
 * without gathering the images into one matrix. The K blocks hold whole
 * segments or even pieces of one, so the sums' order depends on the shape
 * alone. scratch: lits_gemm_bf16_ksum_words(m, n, kseg) words. */
int64_t lits_gemm_bf16_ksum_words(int64_t m, int64_t n, int64_t kseg);
int lits_gemm_bf16_ksum(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const float* a,
                        int64_t lda, int64_t a_step, const float* b, int64_t ldb, int64_t b_step,
                        float* c, int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx);
/* lits_gemm_bf16_ksum with A stored as bf16 (a 1x1 convolution's dy as
 * a batch norm's backward wrote it): its values as they are. */
int lits_gemm_bf16_ksum_a16(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const uint16_t* a,
                            int64_t lda, int64_t a_step, const float* b, int64_t ldb,
                            int64_t b_step, float* c, int64_t ldc, uint32_t* scratch,
                            const bf16_b_xform* bx);
/* lits_gemm_bf16_ksum with B_s stored as bf16 (no transform), and A_s
 * as fp32 (a) or bf16 (a16; the other NULL). */
int lits_gemm_bf16_ksum_x16(int64_t m, int64_t n, int64_t kseg, int64_t nseg, const float* a,
                            const uint16_t* a16, int64_t lda, int64_t a_step, const uint16_t* b,
                            int64_t ldb, int64_t b_step, float* c, int64_t ldc,
                            uint32_t* scratch);

/* op(A) [m x k] packed once (lits_gemm_bf16_pack_a) for many products
 * (lits_gemm_bf16_serial_packed), e.g. a convolution's weights shared by
 * the threads instead of packed again for every tile by each: `words`
 * holds lits_gemm_bf16_packed_a_words(rows, k) words for a matrix of
 * `rows` rows, of which a product uses rows [row0, row0 + m). */
typedef struct {
  const uint32_t* words;
  int64_t rows, row0;
} bf16_packed_a;
int64_t lits_gemm_bf16_packed_a_words(int64_t m, int64_t k);
/* Rows [r0, r1) of op(A) (A^T when trans), every K block: threads may pack
 * disjoint row ranges of one buffer. */
void lits_gemm_bf16_pack_a(int trans, int64_t m, int64_t k, const float* a, int64_t lda,
                           int64_t r0, int64_t r1, uint32_t* words);
/* lits_gemm_bf16_serial with alpha 1 and A packed: scratch holds
 * lits_gemm_bf16_serial_words(m, n, k) words (only the B blocks are used);
 * bx as lits_gemm_bf16_serial's. stream: C is not read again soon (an
 * output larger than the caches): where it is written in one pass, it is
 * written with streaming stores. */
int lits_gemm_bf16_serial_packed(const bf16_packed_a* pa, int trans_b, int64_t m, int64_t n,
                                 int64_t k, const float* b, int64_t ldb, float beta, float* c,
                                 int64_t ldc, uint32_t* scratch, const bf16_b_xform* bx,
                                 int stream);
/* lits_gemm_bf16_serial_packed with B (not transposed, no transform)
 * stored as bf16. */
int lits_gemm_bf16_serial_packed_b16(const bf16_packed_a* pa, int64_t m, int64_t n, int64_t k,
                                     const uint16_t* b, int64_t ldb, float beta, float* c,
                                     int64_t ldc, uint32_t* scratch, int stream);

/* The moments of a product's output rows (conv_moments.c's tile sums): row
 * i's sum of v - shift[i] and of its square over 8 double lanes each at
 * acc[16 i], acc[16 i + 8]; shift[i] set to the row's first value (column
 * 0) as it is written. */
typedef struct {
  double* acc;
  float* shift;
} bf16_moments;
/* lits_gemm_bf16_serial_packed, adding C's final values to mo's rows as the
 * vdpbf16ps micro-kernels write them (never AMX tiles: a caller on an AMX
 * CPU that wants the tiles' speed takes a pass instead). LITS_ERR_UNAVAILABLE
 * (nothing written) with K 0. */
int lits_gemm_bf16_serial_packed_moments(const bf16_packed_a* pa, int trans_b, int64_t m,
                                         int64_t n, int64_t k, const float* b, int64_t ldb,
                                         float beta, float* c, int64_t ldc, uint32_t* scratch,
                                         const bf16_b_xform* bx, int stream,
                                         const bf16_moments* mo);
/* lits_gemm_bf16_serial_packed_moments with B (not transposed, no
 * transform) stored as bf16; mo may be NULL. */
int lits_gemm_bf16_serial_packed_moments_b16(const bf16_packed_a* pa, int64_t m, int64_t n,
                                             int64_t k, const uint16_t* b, int64_t ldb,
                                             float beta, float* c, int64_t ldc,
                                             uint32_t* scratch, int stream,
                                             const bf16_moments* mo);

/* The bf16 convolutions without im2col (conv_bf16_direct.c): whether a
 * shape is theirs (forward, or backward data when backward_data), and the
 * kernels (LITS_OK or LITS_ERR_MEMORY). The caller has checked bf16
 * support. */
int lits_conv_bf16_direct_applies(const conv_shape* p, int backward_data);
int lits_conv_bf16_direct_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                  const float* weight, const float* bias, float* y);
int lits_conv_bf16_direct_backward_data(const conv_shape* p, const float* weight, const float* dy,
                                        float* dx);

/* The bf16 filter gradient without im2col (conv_bf16_filter.c): whether a
 * shape is its, and the kernel (LITS_OK or LITS_ERR_MEMORY). */
int lits_conv_bf16_filter_applies(const conv_shape* p);
int lits_conv_bf16_filter(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* dy, float* dweight);

/* The bf16 filter gradient of 1x1 stride-1 convolutions (one group) as a
 * sum over the images (conv_bf16_pointwise.c): whether a shape is its,
 * and the kernel (LITS_OK or LITS_ERR_MEMORY), dy given as fp32 or, with
 * dy NULL, as bf16 (dy16), and so x (x16: with x NULL and no transform). */
int lits_conv_bf16_pointwise_filter_applies(const conv_shape* p);
int lits_conv_bf16_pointwise_filter(const conv_shape* p, const float* x, const uint16_t* x16,
                                    const conv_xform* xf, const float* dy, const uint16_t* dy16,
                                    float* dweight);

/* The backward of a convolution whose dy is stored as bf16 (conv_bf16.c,
 * for bf16_dy.c): whether our GEMM paths run the shape for both (1x1,
 * stride 1, one group, where neither oneDNN nor the rounded fp32 kernels
 * take it), and those paths reading dy as it is (LITS_OK or
 * LITS_ERR_MEMORY; the caller has checked the shape and bf16 support). */
int lits_conv_bf16_dy16_native(const conv_shape* p);
int lits_conv_bf16_backward_data16(const conv_shape* p, const float* weight, const uint16_t* dy,
                                   float* dx);
int lits_conv_bf16_backward_filter16(const conv_shape* p, const float* x, const conv_xform* xf,
                                     const uint16_t* dy, float* dweight);

/* Whether values may be held as bf16 (bf16_dy.c): the CPU has bf16
 * products and the environment variable env is not "off". */
int lits_bf16_held(const char* env);
/* v [len] widened into fp32 scratch (lits_scratch_free it; NULL: out of
 * memory, recorded). */
float* lits_bf16_widened(const uint16_t* v, int64_t len);

/* The same for a convolution whose x is stored as bf16 (conv_bf16.c, for
 * bf16_act.c): whether our GEMM paths run its forward and filter gradient
 * (1x1, stride 1, one group, neither oneDNN's nor the stem's), its forward
 * reading x as it is (moments as lits_conv2d_forward_moments_bf16_f32's,
 * or NULL), and its filter gradient (dy as fp32, or dy16 with dy NULL):
 * LITS_ERR_UNAVAILABLE where the tiles would gather several images (the
 * caller widens x then). */
int lits_conv_bf16_x16_native(const conv_shape* p);
int lits_conv_bf16_forward_x16(const conv_shape* p, const lits_conv2d_params* params_host,
                               const uint16_t* x, const float* weight, float* y,
                               double* moments);
int lits_conv_bf16_backward_filter_x16(const conv_shape* p, const uint16_t* x, const float* dy,
                                       const uint16_t* dy16, float* dweight);

/* The channels-last bf16 1x1 convolution (conv_nhwc_bf16_pointwise.c):
 * whether a shape is its (no padding, one group, channels in multiples of
 * 16), and the kernel, with lits_conv2d_nhwc_bf16's arguments (LITS_OK or
 * LITS_ERR_MEMORY). The caller has checked bf16 support. */
int lits_nhwc_bf16_pointwise_applies(const conv_shape* p);
int lits_nhwc_bf16_pointwise(const conv_shape* p, const uint16_t* x, const float* weight,
                             const float* bias, const float* coef, const uint16_t* r,
                             int32_t relu, uint16_t* y, void* prepared, int64_t bytes);

/* conv_tiles.c's lits_conv_tile_columns and lits_conv_col2im_tile, with
 * vectorised copies for stride 2 along rows (conv_bf16_cols.c). */
#include "conv_tiles.h"
const float* lits_bf16_tile_columns(const conv_shape* p, const float* x, const conv_xform* xf,
                                    int direct, const tile* b, int64_t g, float* col, float* xbuf,
                                    int64_t* ld);
void lits_bf16_col2im_tile(const conv_shape* p, const float* col, int64_t ld, int64_t col0,
                           float* dxi, int64_t c0, int64_t nch, int64_t oy0, int64_t oy1);
/* Whether lits_bf16_col2im_tile writes every element of the rows it covers
 * (1x1, stride 2, no padding), so that dx needs no zeroing first. */
int lits_bf16_col2im_writes_all(const conv_shape* p);

#endif
