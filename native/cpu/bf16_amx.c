/* bf16_amx.c: bf16_gemm.c's micro-kernel on AMX tiles (amx_bf16), for CPUs
 * that have them. One tdpbf16ps multiplies a 16 x 32 bf16 tile of A by a
 * 32 x 16 tile of B into 16 x 16 fp32 sums: 8192 multiply-adds, where one
 * vdpbf16ps does 32. The packed operands are already in the tiles' layout:
 * an A block's rows hold K in pairs (a tile is 16 rows of 16 pairs, `ps`
 * words apart), a B panel's rows are pairs of NR columns (a tile is 16
 * pairs of 16 columns, NR words apart). So a 32 x 32 block of C is four
 * accumulator tiles fed by two A and two B tiles for every 16 pairs of K;
 * the last ps % 16 pairs (an odd K, or K not a multiple of 32) are added
 * with vdpbf16ps as the tiles' sums are stored.
 *
 * Sums: tdpbf16ps accumulates products of bf16 pairs in fp32, bf16
 * denormal inputs taken as zero, as vdpbf16ps; its order of sums over K is
 * the tiles' own, so results may differ from the vdpbf16ps kernels in the
 * last bits (the tests hold both to the same float64 reference).
 *
 * Linux gives a process the tiles' 8 KiB of state only once asked
 * (arch_prctl ARCH_REQ_XCOMP_PERM); a CPU, or a kernel, without it keeps
 * the vdpbf16ps kernels. LITS_AMX=off (read on every product, as
 * LITS_BF16) keeps them too: for tests and A/B measurements. */
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bf16_blocking.h"

#define AMX_TARGET \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

/* -1 unknown, else whether the tiles can run here (CPUID, then the
 * permission; asking twice is harmless, so a race costs nothing). */
static int ready = -1;

static int tiles_ready(void) {
  int r = __atomic_load_n(&ready, __ATOMIC_ACQUIRE);
  if (r < 0) {
    int32_t level = 0;
    lits_bf16_support(&level); /* 2: AMX-BF16 in CPUID */
    r = level == 2 && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
    __atomic_store_n(&ready, r, __ATOMIC_RELEASE);
  }
  return r;
}

int lits_bf16_amx_on(void) {
  const char* env = getenv("LITS_AMX");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  const char* bf = getenv("LITS_BF16");
  if (bf != NULL && strcmp(bf, "off") == 0) return 0;
  return tiles_ready();
}

/* Palette 1: tiles 0-3 the accumulators (16 rows of 16 fp32), 4-5 A (16
 * rows of 16 pairs), 6-7 B (16 pairs of 16 columns): all 16 x 64 bytes. */
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} tile_config;

/* A constant in memory: gcc's _tile_loadconfig tells the compiler it reads
 * only a pointer's worth of its argument, so a configuration filled on the
 * stack just before may be left unwritten. */
static const tile_config config = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

AMX_TARGET void lits_bf16_amx_begin(void) { _tile_loadconfig(&config); }

AMX_TARGET void lits_bf16_amx_end(void) { _tile_release(); }

/* acc [rows x 32] (rows 16 or 32, ld 32) = A rows x B panel over the
 * first q16 * 16 pairs. */
AMX_TARGET static void tiles(int64_t rows, int64_t q16, const uint32_t* ap, int64_t ps,
                             const uint32_t* bp, float* acc) {
  const int64_t lda = ps * 4, ldb = NR * 4;
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t q = 0; q < q16; q++) {
    _tile_loadd(4, ap + q * 16, lda);
    _tile_loadd(6, bp + q * 16 * NR, ldb);
    _tile_loadd(7, bp + q * 16 * NR + 16, ldb);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    if (rows == 32) {
      _tile_loadd(5, ap + 16 * ps + q * 16, lda);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  if (rows == 32) {
    _tile_stored(2, acc + 16 * 32, 128);
    _tile_stored(3, acc + 16 * 32 + 16, 128);
  }
  _tile_stored(0, acc, 128);
  _tile_stored(1, acc + 16, 128);
}

AMX_TARGET void lits_bf16_amx_block(int64_t rows, int64_t ps, const uint32_t* ap,
                                    const uint32_t* bp, float* c, int64_t ldc, __mmask16 ma,
                                    __mmask16 mb, float alpha, float beta, int nt) {
  float acc[32 * 32] __attribute__((aligned(64)));
  const int64_t q16 = ps / 16, tail = q16 * 16;
  tiles(rows, q16, ap, ps, bp, acc);
  const __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
  const uint32_t* bt = bp + tail * NR;
  for (int64_t i = 0; i < rows; i++) {
    __m512 va = _mm512_load_ps(acc + i * 32), vb = _mm512_load_ps(acc + i * 32 + 16);
    const uint32_t* at = ap + i * ps;
    for (int64_t q = tail; q < ps; q++) {
      const __m512bh w = (__m512bh)_mm512_set1_epi32((int)at[q]);
      va = _mm512_dpbf16_ps(va, w, (__m512bh)_mm512_loadu_si512(bt + (q - tail) * NR));
      vb = _mm512_dpbf16_ps(vb, w, (__m512bh)_mm512_loadu_si512(bt + (q - tail) * NR + 16));
    }
    /* As bf16_gemm.c's STORE: C not read when beta is 0. */
    float* r = c + i * ldc;
    va = _mm512_mul_ps(va, al), vb = _mm512_mul_ps(vb, al);
    if (beta != 0.0f) {
      va = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(ma, r), be, va);
      vb = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mb, r + 16), be, vb);
    }
    if (nt) {
      _mm512_stream_ps(r, va);
      _mm512_stream_ps(r + 16, vb);
    } else {
      _mm512_mask_storeu_ps(r, ma, va);
      _mm512_mask_storeu_ps(r + 16, mb, vb);
    }
  }
}

/* The tile peak's loop (measure.c): four accumulators, each tdpbf16ps
 * depending only on its own previous one (the latency, ~50 cycles, is
 * covered by four in flight at 16 cycles apiece), on A and B tiles of
 * 0.001 loaded once. Returns a sum of the results, to keep them live. */
AMX_TARGET float lits_bf16_amx_peak_loop(int64_t iters) {
  uint32_t ab[16 * 16] __attribute__((aligned(64)));
  for (int i = 0; i < 16 * 16; i++) ab[i] = 0x3A833A83u; /* bf16(0.001) twice */
  float acc[16 * 16] __attribute__((aligned(64)));
  lits_bf16_amx_begin();
  _tile_loadd(4, ab, 64);
  _tile_loadd(6, ab, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t i = 0; i < iters; i++) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 4, 6);
    _tile_dpbf16ps(3, 4, 6);
  }
  float sum = 0;
  _tile_stored(0, acc, 64);
  sum += acc[0];
  _tile_stored(3, acc, 64);
  sum += acc[255];
  lits_bf16_amx_end();
  return sum;
}
