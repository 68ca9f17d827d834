/* lits_sort.h: the order of one column, on the host, shared by the CPU
 * backend and the CUDA backend's host pass (torch.sort, argsort, topk).
 *
 * Values become unsigned keys that order as torch's CPU sort does: NaN above
 * every number and all NaNs equal, -0 equal to +0; descending flips the bits.
 * Ties keep their positions' order (a stable sort), so one input has one
 * answer. Short columns use insertion sort, a few of many (topk) a bounded
 * insertion list, the rest a least-significant-digit radix sort of bytes,
 * which skips the bytes every key shares.
 */
#ifndef LITS_SORT_H
#define LITS_SORT_H

#include <stdint.h>
#include <string.h>

/* Columns up to this long are insertion-sorted. */
#define LITS_SORT_SHORT 32
/* topk of at most this many (and at most an eighth of r) keeps a list. */
#define LITS_SORT_FEW 16

/* A float's key: NaN (any sign, any payload) is the largest, -0 is +0. */
static inline uint32_t lits_sort_key_f32(float v) {
  if (v != v) return 0xFFFFFFFFu;
  if (v == 0.0f) return 0x80000000u;
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

static inline uint32_t lits_sort_key_i32(int32_t v) { return (uint32_t)v ^ 0x80000000u; }

/* What one column's sort needs: 2 * r keys and 2 * r positions. */
typedef struct {
  uint32_t* key;
  uint32_t* key2;
  int32_t* pos;
  int32_t* pos2;
} lits_sort_scratch;

/* Sorts key[0..n) with pos alongside, stably, by insertion. */
static inline void lits_sort_insertion(uint32_t* key, int32_t* pos, int64_t n) {
  for (int64_t j = 1; j < n; j++) {
    const uint32_t kj = key[j];
    const int32_t pj = pos[j];
    int64_t t = j;
    for (; t > 0 && key[t - 1] > kj; t--) {
      key[t] = key[t - 1];
      pos[t] = pos[t - 1];
    }
    key[t] = kj;
    pos[t] = pj;
  }
}

/* The k smallest of key[0..n) (ties: earlier first) into key/pos[0..k),
 * keeping a sorted list of k and inserting only what beats its last. */
static inline void lits_sort_few(uint32_t* key, int32_t* pos, int64_t n, int64_t k) {
  int64_t have = 0;
  for (int64_t j = 0; j < n; j++) {
    const uint32_t kj = key[j];
    if (have == k && kj >= key[k - 1]) continue;
    int64_t t = have < k ? have++ : k - 1;
    for (; t > 0 && key[t - 1] > kj; t--) {
      key[t] = key[t - 1];
      pos[t] = pos[t - 1];
    }
    /* Safe in place: slots below j that moved held keys already read. */
    key[t] = kj;
    pos[t] = (int32_t)j;
  }
}

/* Stable LSD radix sort of key/pos[0..n) by bytes; the result may end in the
 * scratch's second arrays, so it returns where: 0 first, 1 second. */
static inline int lits_sort_radix(lits_sort_scratch* s, int64_t n) {
  int64_t count[4][256];
  memset(count, 0, sizeof count);
  for (int64_t j = 0; j < n; j++) {
    const uint32_t v = s->key[j];
    count[0][v & 0xFF]++;
    count[1][(v >> 8) & 0xFF]++;
    count[2][(v >> 16) & 0xFF]++;
    count[3][v >> 24]++;
  }
  uint32_t *ka = s->key, *kb = s->key2;
  int32_t *pa = s->pos, *pb = s->pos2;
  int side = 0;
  for (int d = 0; d < 4; d++) {
    const int shift = 8 * d;
    if (count[d][(ka[0] >> shift) & 0xFF] == n) continue; /* one byte for all */
    int64_t start[256], sum = 0;
    for (int b = 0; b < 256; b++) {
      start[b] = sum;
      sum += count[d][b];
    }
    for (int64_t j = 0; j < n; j++) {
      const int64_t t = start[(ka[j] >> shift) & 0xFF]++;
      kb[t] = ka[j];
      pb[t] = pa[j];
    }
    uint32_t* kt = ka;
    ka = kb;
    kb = kt;
    int32_t* pt = pa;
    pa = pb;
    pb = pt;
    side ^= 1;
  }
  return side;
}

/* The first k positions, in order, of column key[0..r) (already keyed and
 * flipped for descending; s->key holds it), written to out[0], out[step],
 * ... */
static inline void lits_sort_column(lits_sort_scratch* s, int64_t r, int64_t k, int32_t* out,
                                    int64_t step) {
  const int32_t* pos = s->pos;
  if (k <= LITS_SORT_FEW && k * 8 <= r) {
    lits_sort_few(s->key, s->pos, r, k);
  } else {
    for (int64_t j = 0; j < r; j++) s->pos[j] = (int32_t)j;
    if (r <= LITS_SORT_SHORT) {
      lits_sort_insertion(s->key, s->pos, r);
    } else if (lits_sort_radix(s, r)) {
      pos = s->pos2;
    }
  }
  for (int64_t j = 0; j < k; j++) out[j * step] = pos[j];
}

#endif
