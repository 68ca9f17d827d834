/* conv_prepared.c: a convolution's forward weights kept between calls in
 * the form its kernel reads, in a buffer that the caller owns
 * (lits_conv2d_forward_prepared_f32): an evaluation forward then pays
 * Winograd's weight transform and packing once instead of once per call
 * (on ResNet-50's 512-channel 3x3 layers at 8 x 8 they were 40% of the
 * layer's time), and the other GEMM convolutions (1x1 layers) their
 * weights' packing (batch 16, 2 threads, hash included: 2048 -> 512 at
 * 8 x 8 5.8 -> 5.6 ms; ResNet-50's evaluation forward 3-4 ms of ~405). The
 * weights are hashed on every call and the buffer is
 * remade when the hash, the shape or the tile differs, so that a change by
 * any path (an optimizer step, loading a state dict, a write by hand) is
 * seen; hashing reads the weights once (for the packed GEMM weights,
 * about half of what the packing cost). lits_prep_slot keeps the same
 * promise for buffers in other kernels' layouts (the bf16 chain's,
 * conv_nhwc_bf16.c). */
#include <stdint.h>
#include <string.h>

#include <omp.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_winograd.h"

#define PREP_MAGIC 0x706572707374696cULL /* "litsprep" */

/* A buffer's first LITS_PREP_HEADER_BYTES (64, so that the data after it
 * keeps the buffer's alignment): the weights' hash and layout, and the
 * magic only once the data is whole (while the caller writes: pending). */
typedef struct {
  uint64_t magic, hash, layout, n;
  int64_t pending, reserved[3];
} prep_header;

_Static_assert(sizeof(prep_header) == LITS_PREP_HEADER_BYTES, "prep_header's size");


static inline uint64_t rotl64(uint64_t v, int r) { return (v << r) | (v >> (64 - r)); }

/* A 64-bit mix that makes every input bit reach every output bit. */
static inline uint64_t mix64(uint64_t h) {
  h ^= h >> 31;
  h *= 0x7fb5d329728ea185ULL;
  h ^= h >> 27;
  h *= 0x81dadef4bc2dd44dULL;
  return h ^ (h >> 33);
}

#define HASH_CHUNK (1 << 16) /* floats per chunk; chunks go to the threads */
#define HASH_P1 0x9e3779b97f4a7c15ULL
#define HASH_P2 0xd6e8feb86659fd93ULL

/* Eight lanes of words, each step a bijection of the lane for a given word
 * and of the word for a given lane (odd multipliers), so that any change of
 * the bits changes the lanes; 8 lanes vectorise on AVX-512. */
static uint64_t hash_chunk(const float* x, int64_t n, uint64_t seed) {
  uint64_t lane[8];
  for (int l = 0; l < 8; l++) lane[l] = seed + (uint64_t)l * HASH_P1;
  const int64_t words = n / 2;
  int64_t i = 0;
  for (; i + 8 <= words; i += 8) {
    uint64_t w[8];
    memcpy(w, x + 2 * i, sizeof w);
    for (int l = 0; l < 8; l++) lane[l] = rotl64(lane[l] + w[l] * HASH_P2, 31) * HASH_P1;
  }
  for (int64_t j = 2 * i; j < n; j++) {
    uint32_t v;
    memcpy(&v, x + j, sizeof v);
    lane[0] = rotl64(lane[0] + (uint64_t)v * HASH_P2, 31) * HASH_P1;
  }
  uint64_t h = (uint64_t)n;
  for (int l = 0; l < 8; l++) h = mix64(h ^ lane[l]) + HASH_P2;
  return h;
}

/* The bits of n floats, hashed by chunks on all threads; a chunk's hash
 * depends on its index, so moving data between chunks changes the sum. */
static uint64_t hash_floats(const float* x, int64_t n) {
  const int64_t chunks = (n + HASH_CHUNK - 1) / HASH_CHUNK;
  uint64_t h = mix64((uint64_t)n);
#pragma omp parallel for schedule(static) reduction(^ : h) if (chunks > 1)
  for (int64_t i = 0; i < chunks; i++) {
    const int64_t len = n - i * HASH_CHUNK < HASH_CHUNK ? n - i * HASH_CHUNK : HASH_CHUNK;
    h ^= mix64(hash_chunk(x + i * HASH_CHUNK, len, (uint64_t)(i + 1) * HASH_P1));
  }
  return h;
}

void* lits_prep_slot(void* prepared, int64_t bytes, int64_t need, uint64_t layout, const float* w,
                     int64_t n, int* ready) {
  *ready = 0;
  if (prepared == NULL || bytes < LITS_PREP_HEADER_BYTES + need) return NULL;
  prep_header* hd = (prep_header*)prepared;
  const uint64_t hash = hash_floats(w, n);
  *ready = hd->magic == PREP_MAGIC && hd->hash == hash && hd->layout == layout &&
           hd->n == (uint64_t)n;
  if (!*ready) *hd = (prep_header){0, hash, layout, (uint64_t)n, 1, {0, 0, 0}};
  return hd + 1;
}

void lits_prep_done(void* prepared) {
  prep_header* hd = (prep_header*)prepared;
  if (hd->pending) hd->magic = PREP_MAGIC, hd->pending = 0;
}

/* A layout's name from its kind and three of its sizes. */
static uint64_t layout_of(uint64_t kind, int64_t a, int64_t b, int64_t c) {
  return mix64(kind ^ mix64((uint64_t)a ^ mix64((uint64_t)b ^ mix64((uint64_t)c))));
}

#define WINOGRAD_LAYOUT 1 /* + 2 where packed for packed_gemm.c */
#define GEMM_LAYOUT 4

/* The prepared Winograd forward: whether the planes go to packed_gemm.c
 * (then packed), and their floats. Independent of the batch, so that one
 * buffer serves every batch size. */
static int64_t winograd_floats(const wg_geom* g, int* own) {
  *own = lits_wg_packs(g, 32);
  return g->planes * (*own ? lits_packed_gemm_weights_floats(g->k, g->c) : g->k * g->c);
}

int64_t lits_conv_prepared_bytes(const conv_shape* p) {
  const wg_geom g = lits_wg_geom(1, p->c, p->k, p->h, p->w, lits_wg_tile());
  int own;
  return LITS_PREP_HEADER_BYTES + winograd_floats(&g, &own) * (int64_t)sizeof(float);
}

int lits_conv_prepared_winograd_forward(const conv_shape* p, const float* x, const conv_xform* xf,
                                        const float* weight, const float* bias, float* y,
                                        void* prepared, int64_t bytes) {
  const wg_geom g = lits_wg_geom(p->n, p->c, p->k, p->h, p->w, lits_wg_tile());
  int own;
  const int64_t floats = winograd_floats(&g, &own);
  int ready;
  float* data = lits_prep_slot(prepared, bytes, floats * (int64_t)sizeof(float),
                               layout_of(WINOGRAD_LAYOUT + 2 * own, g.m, p->k, p->c), weight,
                               p->k * p->c * 9, &ready);
  if (data == NULL) {
    return lits_conv_winograd_forward(p, x, xf, weight, bias, y); /* e.g. the tile changed */
  }
  if (!ready) {
    float* u = own ? (float*)lits_scratch_alloc(g.planes * p->k * p->c * (int64_t)sizeof(float))
                   : data;
    if (u == NULL) return LITS_ERR_MEMORY;
    const int st = lits_wg_transform_weights(weight, p->k, p->c, p->c * 9, 9, 0, g.m, u);
    if (own && st == LITS_OK) lits_wg_pack_planes(&g, u, data);
    if (own) lits_scratch_free(u);
    if (st != LITS_OK) return st;
    lits_prep_done(prepared);
  }
  return lits_wg_run(&g, x, xf, own ? NULL : data, own ? data : NULL, bias, y);
}

int64_t lits_conv_prepared_gemm_bytes(const conv_shape* p) {
  if (p->groups != 1 || !lits_packed_gemm_applies(32)) return 0;
  return LITS_PREP_HEADER_BYTES +
         lits_packed_gemm_weights_floats(p->k, p->crs_g) * (int64_t)sizeof(float);
}

const float* lits_conv_prepared_gemm_weights(const conv_shape* p, const float* weight,
                                             void* prepared, int64_t bytes) {
  const int64_t floats = lits_packed_gemm_weights_floats(p->k, p->crs_g);
  int ready;
  float* data = lits_prep_slot(prepared, bytes, floats * (int64_t)sizeof(float),
                               layout_of(GEMM_LAYOUT, 0, p->k, p->crs_g), weight,
                               p->k * p->crs_g, &ready);
  if (data != NULL && !ready) {
#pragma omp parallel
    lits_packed_gemm_pack_a_part(weight, p->k, p->crs_g, 0, data, omp_get_thread_num(),
                                 omp_get_num_threads());
    lits_prep_done(prepared);
  }
  return data;
}
