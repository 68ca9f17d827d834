/* alloc.c: the caching allocator.
 *
 * A steady training step asks the system for no memory: every freed buffer
 * is kept and handed out again.
 *
 * Small requests (up to 1 MiB) are rounded up to a multiple of 256 bytes; a
 * freed small block goes to its size's free list (linked through its first
 * bytes) and serves the next request of that size.
 *
 * Large requests are rounded up to 64 KiB and served best-fit from free
 * large blocks, which are split (the rest stays free) and merged again with
 * free neighbours when freed; only when nothing fits is a new segment taken
 * from the system, rounded up to 4 MiB so that the rest serves the next
 * requests (PyTorch's CUDA caching allocator splits and merges likewise). Size
 * classes alone would keep one buffer per size at the peak of that size,
 * although the sizes peak at different moments of a step; with splitting the
 * footprint stays near the step's true peak of bytes in use.
 *
 * A hash map (open addressing, linear probing, backward-shift deletion) maps
 * each block the allocator handed out or holds free to its kind and state,
 * so lits_free rejects pointers it never gave out (or gave back already).
 */
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

#define SMALL_LIMIT ((int64_t)1 << 20) /* 1 MiB */
#define SMALL_GRAIN 256
#define N_SMALL (SMALL_LIMIT / SMALL_GRAIN) /* classes 256 .. 1 MiB */
#define LARGE_GRAIN ((int64_t)1 << 16)      /* 64 KiB */
#define SEGMENT_GRAIN ((int64_t)1 << 22)    /* 4 MiB */
#define MAX_BYTES ((int64_t)1 << 62)
#define HUGE_PAGE ((size_t)1 << 21) /* 2 MiB: segments start on a huge page */

/* A large block: a piece of a segment (one system allocation). */
typedef struct lblock {
  char* ptr;
  int64_t size;
  struct lblock *prev, *next;   /* neighbours in the segment, by address */
  struct lblock *fprev, *fnext; /* free list */
  int free;
} lblock;

typedef struct {
  uintptr_t key;  /* 0: empty slot */
  int32_t cls;    /* small class, or -1 for a large block */
  int32_t in_use;
  lblock* blk;    /* large blocks */
} entry_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t* g_table = NULL;
static size_t g_cap = 0; /* power of two */
static size_t g_count = 0;
static void* g_free_head[N_SMALL];
static lblock* g_large_free = NULL;
static int64_t g_bytes_in_use = 0, g_buffers_in_use = 0;
static int64_t g_bytes_cached = 0, g_buffers_cached = 0;
static int64_t g_bytes_from_system = 0;

/* ---- pointer map (caller holds g_lock) ------------------------------------ */

static size_t hash_ptr(uintptr_t p) {
  uint64_t h = (uint64_t)(p >> 6) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h ^ (h >> 29));
}

static entry_t* map_find(uintptr_t key) {
  if (g_cap == 0) return NULL;
  size_t mask = g_cap - 1;
  for (size_t i = hash_ptr(key) & mask;; i = (i + 1) & mask) {
    if (g_table[i].key == key) return &g_table[i];
    if (g_table[i].key == 0) return NULL;
  }
}

static void map_put_nogrow(entry_t e) {
  size_t mask = g_cap - 1;
  size_t i = hash_ptr(e.key) & mask;
  while (g_table[i].key != 0) i = (i + 1) & mask;
  g_table[i] = e;
}

/* Makes room for one more entry; 0 on failure. */
static int map_reserve(void) {
  if ((g_count + 1) * 2 <= g_cap) return 1;
  size_t ncap = g_cap ? g_cap * 2 : 1024;
  entry_t* nt = calloc(ncap, sizeof(entry_t));
  if (nt == NULL) return 0;
  entry_t* old = g_table;
  size_t ocap = g_cap;
  g_table = nt;
  g_cap = ncap;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].key != 0) map_put_nogrow(old[i]);
  free(old);
  return 1;
}

static void map_add(entry_t e) {
  map_put_nogrow(e);
  g_count++;
}

static void map_remove(entry_t* e) {
  size_t mask = g_cap - 1;
  size_t i = (size_t)(e - g_table);
  g_table[i].key = 0;
  /* Backward-shift deletion keeps probe chains intact without tombstones. */
  for (size_t j = (i + 1) & mask; g_table[j].key != 0; j = (j + 1) & mask) {
    size_t home = hash_ptr(g_table[j].key) & mask;
    /* Move j to i when home is not cyclically in (i, j]. */
    int in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
    if (!in_range) {
      g_table[i] = g_table[j];
      g_table[j].key = 0;
      i = j;
    }
  }
  g_count--;
}

/* ---- large blocks (caller holds g_lock) ------------------------------------ */

static void free_list_push(lblock* b) {
  b->free = 1;
  b->fprev = NULL;
  b->fnext = g_large_free;
  if (g_large_free) g_large_free->fprev = b;
  g_large_free = b;
  g_bytes_cached += b->size;
  g_buffers_cached++;
}

static void free_list_unlink(lblock* b) {
  if (b->fprev) b->fprev->fnext = b->fnext;
  else g_large_free = b->fnext;
  if (b->fnext) b->fnext->fprev = b->fprev;
  b->free = 0;
  g_bytes_cached -= b->size;
  g_buffers_cached--;
}

/* The smallest free block that holds size bytes, or NULL. */
static lblock* best_fit(int64_t size) {
  lblock* best = NULL;
  for (lblock* b = g_large_free; b != NULL; b = b->fnext) {
    if (b->size >= size && (best == NULL || b->size < best->size)) {
      best = b;
      if (b->size == size) break;
    }
  }
  return best;
}

/* Takes size bytes from free block b, splitting off the rest (so a block's
 * size is always what was asked, rounded: bytes in use do not depend on which
 * block served a request); NULL when the bookkeeping cannot be allocated. */
static lblock* take(lblock* b, int64_t size) {
  if (b->size > size) {
    lblock* rest = malloc(sizeof(lblock));
    if (rest == NULL || !map_reserve()) {
      free(rest);
      return NULL;
    }
    free_list_unlink(b);
    rest->ptr = b->ptr + size;
    rest->size = b->size - size;
    rest->prev = b;
    rest->next = b->next;
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    entry_t e = {(uintptr_t)rest->ptr, -1, 0, rest};
    map_add(e);
    free_list_push(rest);
  } else {
    free_list_unlink(b);
  }
  map_find((uintptr_t)b->ptr)->in_use = 1;
  return b;
}

/* Merges free block b into its free predecessor a (same segment). */
static void absorb(lblock* a, lblock* b) {
  free_list_unlink(b);
  entry_t* e = map_find((uintptr_t)b->ptr);
  if (e) map_remove(e);
  free_list_unlink(a);
  a->size += b->size;
  a->next = b->next;
  if (b->next) b->next->prev = a;
  free(b);
  free_list_push(a);
}

/* Frees b into the pool, merged with free neighbours. */
static void give_back(lblock* b) {
  free_list_push(b);
  if (b->next && b->next->free) absorb(b, b->next);
  if (b->prev && b->prev->free) absorb(b->prev, b);
}

static int alloc_large(int64_t bytes, void** out) {
  const int64_t size = (bytes + LARGE_GRAIN - 1) / LARGE_GRAIN * LARGE_GRAIN;
  lblock* b = best_fit(size);
  if (b != NULL) {
    b = take(b, size);
    if (b == NULL) return 0;
  } else {
    /* A new segment, rounded up to SEGMENT_GRAIN: the rest is free for the
     * next requests, so the layout settles within a step or two. */
    const int64_t seg = (size + SEGMENT_GRAIN - 1) / SEGMENT_GRAIN * SEGMENT_GRAIN;
    b = malloc(sizeof(lblock));
    char* p = b && map_reserve() ? aligned_alloc(HUGE_PAGE, (size_t)seg) : NULL;
    if (p == NULL) {
      free(b);
      return 0;
    }
#ifdef MADV_HUGEPAGE
    /* Transparent huge pages where the system leaves them to madvise: far
     * fewer TLB misses over these large buffers, and 1 fault per 2 MiB. */
    (void)madvise(p, (size_t)seg, MADV_HUGEPAGE);
#endif
    b->ptr = p;
    b->size = seg;
    b->prev = b->next = b->fprev = b->fnext = NULL;
    b->free = 0;
    entry_t e = {(uintptr_t)p, -1, 0, b};
    map_add(e);
    g_bytes_from_system += seg;
    free_list_push(b); /* free until take() hands out its front */
    b = take(b, size);
    if (b == NULL) return 0;
  }
  g_bytes_in_use += b->size;
  g_buffers_in_use++;
  *out = b->ptr;
  return 1;
}

/* Frees every cached block: small lists, and large segments wholly free. */
static void release_cached_locked(void) {
  for (int32_t c = 0; c < N_SMALL; c++) {
    void* p = g_free_head[c];
    while (p != NULL) {
      void* next = *(void**)p;
      entry_t* e = map_find((uintptr_t)p);
      if (e != NULL) map_remove(e);
      free(p);
      g_bytes_cached -= ((int64_t)c + 1) * SMALL_GRAIN;
      g_buffers_cached--;
      p = next;
    }
    g_free_head[c] = NULL;
  }
  lblock* b = g_large_free;
  while (b != NULL) {
    lblock* next = b->fnext;
    if (b->prev == NULL && b->next == NULL) { /* a whole segment */
      free_list_unlink(b);
      entry_t* e = map_find((uintptr_t)b->ptr);
      if (e != NULL) map_remove(e);
      free(b->ptr);
      free(b);
    }
    b = next;
  }
}

/* ---- entry points --------------------------------------------------------- */

/* Returns LITS_OK and *out, or records an error. */
static int alloc_impl(const char* fn, int64_t bytes, void** out) {
  if (bytes < 0) {
    return lits_fail(LITS_ERR_ARGUMENT, "%s: bytes must be >= 0, got %lld", fn,
                     (long long)bytes);
  }
  if (bytes > MAX_BYTES) {
    return lits_fail(LITS_ERR_MEMORY, "%s: cannot allocate %lld bytes (too large)", fn,
                     (long long)bytes);
  }
  pthread_mutex_lock(&g_lock);
  int ok;
  if (bytes > SMALL_LIMIT) {
    ok = alloc_large(bytes, out);
    if (!ok && g_buffers_cached > 0) {
      /* Give the cache back to the system and try once more. */
      release_cached_locked();
      ok = alloc_large(bytes, out);
    }
  } else {
    const int32_t cls = bytes <= 0 ? 0 : (int32_t)((bytes + SMALL_GRAIN - 1) / SMALL_GRAIN - 1);
    const int64_t size = ((int64_t)cls + 1) * SMALL_GRAIN;
    void* p = g_free_head[cls];
    if (p != NULL) {
      g_free_head[cls] = *(void**)p;
      map_find((uintptr_t)p)->in_use = 1;
      g_bytes_cached -= size;
      g_buffers_cached--;
    } else {
      p = map_reserve() ? aligned_alloc(64, (size_t)size) : NULL;
      if (p == NULL && g_buffers_cached > 0) {
        release_cached_locked();
        p = map_reserve() ? aligned_alloc(64, (size_t)size) : NULL;
      }
      if (p != NULL) {
        entry_t e = {(uintptr_t)p, cls, 1, NULL};
        map_add(e);
        g_bytes_from_system += size;
      }
    }
    ok = p != NULL;
    if (ok) {
      g_bytes_in_use += size;
      g_buffers_in_use++;
      *out = p;
    }
  }
  pthread_mutex_unlock(&g_lock);
  if (!ok) {
    return lits_fail(LITS_ERR_MEMORY, "%s: out of memory allocating %lld bytes", fn,
                     (long long)bytes);
  }
  return LITS_OK;
}

static int free_impl(const char* fn, void* p) {
  if (p == NULL) return LITS_OK;
  pthread_mutex_lock(&g_lock);
  entry_t* e = map_find((uintptr_t)p);
  if (e == NULL || !e->in_use) {
    int known = e != NULL;
    pthread_mutex_unlock(&g_lock);
    return lits_fail(LITS_ERR_ARGUMENT, "%s: %p %s", fn, p,
                     known ? "was already freed" : "did not come from lits_alloc");
  }
  e->in_use = 0;
  if (e->cls < 0) {
    lblock* b = e->blk;
    g_bytes_in_use -= b->size;
    g_buffers_in_use--;
    give_back(b); /* may move or remove e */
  } else {
    const int32_t cls = e->cls;
    const int64_t size = ((int64_t)cls + 1) * SMALL_GRAIN;
    *(void**)p = g_free_head[cls];
    g_free_head[cls] = p;
    g_bytes_in_use -= size;
    g_buffers_in_use--;
    g_bytes_cached += size;
    g_buffers_cached++;
  }
  pthread_mutex_unlock(&g_lock);
  return LITS_OK;
}

int lits_alloc(int64_t bytes, void** out) {
  lits_clear_error();
  LITS_REQUIRE(out != NULL, "lits_alloc: out is NULL");
  *out = NULL;
  return alloc_impl("lits_alloc", bytes, out);
}

int lits_free(void* p) {
  lits_clear_error();
  return free_impl("lits_free", p);
}

/* LITS_SCRATCH_FILL=nan fills each scratch block with 0xFF bytes (NaN in
 * fp32 and bf16) as it is handed out, so that a kernel reading scratch it
 * never wrote gives NaN instead of what an earlier call left there, which
 * changes from run to run (tests; read on every call). */
void* lits_scratch_alloc(int64_t bytes) {
  void* p = NULL;
  if (alloc_impl("lits_scratch_alloc", bytes, &p) != LITS_OK) return NULL;
  const char* fill = getenv("LITS_SCRATCH_FILL");
  if (p != NULL && bytes > 0 && fill != NULL && strcmp(fill, "nan") == 0) {
    memset(p, 0xFF, (size_t)bytes);
  }
  return p;
}

void lits_scratch_free(void* p) { (void)free_impl("lits_scratch_free", p); }

int lits_memory_stats(int64_t* out_host) {
  lits_clear_error();
  LITS_REQUIRE(out_host != NULL, "lits_memory_stats: out is NULL");
  pthread_mutex_lock(&g_lock);
  out_host[0] = g_bytes_in_use;
  out_host[1] = g_buffers_in_use;
  out_host[2] = g_bytes_cached;
  out_host[3] = g_buffers_cached;
  out_host[4] = g_bytes_from_system;
  pthread_mutex_unlock(&g_lock);
  return LITS_OK;
}

int lits_empty_cache(void) {
  lits_clear_error();
  pthread_mutex_lock(&g_lock);
  release_cached_locked();
  pthread_mutex_unlock(&g_lock);
#ifdef __GLIBC__
  /* The small blocks went back to the C heap, which keeps freed pages
   * resident; hand those to the system too. */
  malloc_trim(0);
#endif
  return LITS_OK;
}
