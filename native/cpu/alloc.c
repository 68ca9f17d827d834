/* alloc.c: the caching allocator, copies, fills, casts and strided copies.
 *
 * Sizes are rounded up to a size class: multiples of 256 bytes below 1 MiB,
 * then four classes per power of two (2^k, 1.25 * 2^k, 1.5 * 2^k, 1.75 * 2^k).
 * A freed block goes to its class's free list (linked through its first
 * bytes) and is handed out again for the next request of that class, so a
 * steady training step asks the system for nothing. A hash map (open
 * addressing, linear probing, backward-shift deletion) maps every block the
 * allocator owns to its class and whether it is in use, so lits_free can
 * reject pointers it never gave out (or gave back already).
 */
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define SMALL_LIMIT ((int64_t)1 << 20) /* 1 MiB */
#define SMALL_GRAIN 256
#define N_SMALL (SMALL_LIMIT / SMALL_GRAIN) /* classes 256 .. 1 MiB */
#define MAX_LOG2 61                         /* largest class < 2^62 */
#define N_CLASSES (N_SMALL + (MAX_LOG2 - 20 + 1) * 4)
#define MAX_BYTES (((int64_t)1 << MAX_LOG2) + ((int64_t)3 << (MAX_LOG2 - 2)))

#define PAR_THRESHOLD 32768

typedef struct {
  uintptr_t key; /* 0: empty slot */
  int32_t cls;
  int32_t in_use;
} entry_t;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t* g_table = NULL;
static size_t g_cap = 0; /* power of two */
static size_t g_count = 0;
static void* g_free_head[N_CLASSES];
static int64_t g_bytes_in_use = 0, g_buffers_in_use = 0;
static int64_t g_bytes_cached = 0, g_buffers_cached = 0;
static int64_t g_bytes_from_system = 0;

/* ---- size classes ------------------------------------------------------ */

/* Class index of a request (bytes in 0 .. MAX_BYTES). */
static int32_t class_of(int64_t bytes) {
  if (bytes <= 0) return 0;
  if (bytes <= SMALL_LIMIT) return (int32_t)((bytes + SMALL_GRAIN - 1) / SMALL_GRAIN - 1);
  /* k = floor(log2(bytes - 1)) so that 2^k < bytes <= 2^(k+1). */
  int k = 63 - __builtin_clzll((unsigned long long)(bytes - 1));
  int64_t quarter = (int64_t)1 << (k - 2);
  int64_t j = (bytes - ((int64_t)1 << k) + quarter - 1) / quarter; /* 1..4 */
  /* class (k, j) is 2^k + j * 2^(k-2); j == 4 is 2^(k+1), j index 0. */
  if (j == 4) {
    k += 1;
    j = 0;
  }
  return (int32_t)(N_SMALL + (k - 20) * 4 + j);
}

static int64_t class_bytes(int32_t cls) {
  if (cls < N_SMALL) return ((int64_t)cls + 1) * SMALL_GRAIN;
  int32_t t = cls - N_SMALL;
  int k = 20 + t / 4, j = t % 4;
  return ((int64_t)1 << k) + (int64_t)j * ((int64_t)1 << (k - 2));
}

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

/* ---- allocation -------------------------------------------------------- */

static void release_cached_locked(void) {
  for (int32_t c = 0; c < N_CLASSES; c++) {
    void* p = g_free_head[c];
    while (p != NULL) {
      void* next = *(void**)p;
      entry_t* e = map_find((uintptr_t)p);
      if (e != NULL) map_remove(e);
      free(p);
      p = next;
    }
    g_free_head[c] = NULL;
  }
  g_bytes_cached = 0;
  g_buffers_cached = 0;
}

/* Returns LITS_OK and *out, or records an error. */
static int alloc_impl(const char* fn, int64_t bytes, void** out) {
  if (bytes < 0) return lits_fail(LITS_ERR_ARGUMENT, "%s: bytes must be >= 0, got %lld", fn, (long long)bytes);
  if (bytes > MAX_BYTES)
    return lits_fail(LITS_ERR_MEMORY, "%s: cannot allocate %lld bytes (too large)", fn, (long long)bytes);
  int32_t cls = class_of(bytes);
  int64_t size = class_bytes(cls);
  pthread_mutex_lock(&g_lock);
  void* p = g_free_head[cls];
  if (p != NULL) {
    g_free_head[cls] = *(void**)p;
    entry_t* e = map_find((uintptr_t)p);
    e->in_use = 1;
    g_bytes_cached -= size;
    g_buffers_cached--;
  } else {
    if (!map_reserve()) {
      pthread_mutex_unlock(&g_lock);
      return lits_fail(LITS_ERR_MEMORY, "%s: out of memory allocating %lld bytes (allocator table)", fn,
                       (long long)bytes);
    }
    p = aligned_alloc(64, (size_t)size); /* size is a multiple of 256 */
    if (p == NULL && g_buffers_cached > 0) {
      /* Give the cache back to the system and try once more. */
      release_cached_locked();
      p = map_reserve() ? aligned_alloc(64, (size_t)size) : NULL;
    }
    if (p == NULL) {
      pthread_mutex_unlock(&g_lock);
      return lits_fail(LITS_ERR_MEMORY, "%s: out of memory allocating %lld bytes", fn, (long long)bytes);
    }
    entry_t e = {(uintptr_t)p, cls, 1};
    map_put_nogrow(e);
    g_count++;
    g_bytes_from_system += size;
  }
  g_bytes_in_use += size;
  g_buffers_in_use++;
  pthread_mutex_unlock(&g_lock);
  *out = p;
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
  int32_t cls = e->cls;
  int64_t size = class_bytes(cls);
  e->in_use = 0;
  *(void**)p = g_free_head[cls];
  g_free_head[cls] = p;
  g_bytes_in_use -= size;
  g_buffers_in_use--;
  g_bytes_cached += size;
  g_buffers_cached++;
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

void* lits_scratch_alloc(int64_t bytes) {
  void* p = NULL;
  if (alloc_impl("lits_scratch_alloc", bytes, &p) != LITS_OK) return NULL;
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
  return LITS_OK;
}

/* ---- copies, fills, casts ----------------------------------------------- */

static int copy_impl(const char* fn, void* dst, const void* src, int64_t bytes) {
  LITS_REQUIRE(bytes >= 0, "%s: bytes must be >= 0, got %lld", fn, (long long)bytes);
  if (bytes == 0) return LITS_OK;
  LITS_REQUIRE(dst != NULL, "%s: dst is NULL (bytes %lld)", fn, (long long)bytes);
  LITS_REQUIRE(src != NULL, "%s: src is NULL (bytes %lld)", fn, (long long)bytes);
  if (dst != src) memmove(dst, src, (size_t)bytes);
  return LITS_OK;
}

int lits_copy_h2d(void* dst, const void* src_host, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_h2d", dst, src_host, bytes);
}

int lits_copy_d2h(void* dst_host, const void* src, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_d2h", dst_host, src, bytes);
}

int lits_copy_d2d(void* dst, const void* src, int64_t bytes) {
  lits_clear_error();
  return copy_impl("lits_copy_d2d", dst, src, bytes);
}

int lits_fill_f32(float* x, int64_t n, float value) {
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "lits_fill_f32: n must be >= 0, got %lld", (long long)n);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL, "lits_fill_f32: x is NULL (n %lld)", (long long)n);
#pragma omp parallel for simd schedule(static) if (n > 4 * PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) x[i] = value;
  return LITS_OK;
}

int lits_fill_i32(int32_t* x, int64_t n, int32_t value) {
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "lits_fill_i32: n must be >= 0, got %lld", (long long)n);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(x != NULL, "lits_fill_i32: x is NULL (n %lld)", (long long)n);
#pragma omp parallel for simd schedule(static) if (n > 4 * PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) x[i] = value;
  return LITS_OK;
}

int lits_cast_i32_f32(const int32_t* src, float* dst, int64_t n) {
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "lits_cast_i32_f32: n must be >= 0, got %lld", (long long)n);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(src != NULL && dst != NULL, "lits_cast_i32_f32: src or dst is NULL (n %lld)",
               (long long)n);
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) dst[i] = (float)src[i];
  return LITS_OK;
}

/* Truncates toward zero and saturates: values beyond the int32 range give
 * INT32_MIN / INT32_MAX and NaN gives 0 (C leaves these undefined; this is
 * what CUDA's float-to-int conversion does, so both backends agree). */
int lits_cast_f32_i32(const float* src, int32_t* dst, int64_t n) {
  lits_clear_error();
  LITS_REQUIRE(n >= 0, "lits_cast_f32_i32: n must be >= 0, got %lld", (long long)n);
  if (n == 0) return LITS_OK;
  LITS_REQUIRE(src != NULL && dst != NULL, "lits_cast_f32_i32: src or dst is NULL (n %lld)",
               (long long)n);
#pragma omp parallel for simd schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) {
    float v = src[i];
    float c = v < -2147483648.0f ? -2147483648.0f : (v > 2147483520.0f ? 2147483520.0f : v);
    int32_t t = (int32_t)(c == c ? c : 0.0f);
    dst[i] = v >= 2147483648.0f ? INT32_MAX : t;
  }
  return LITS_OK;
}

/* ---- strided copy -------------------------------------------------------- */

int lits_strided_copy(int32_t ndim, const int64_t* shape_host, const void* src,
                      const int64_t* src_strides_host, void* dst) {
  lits_clear_error();
  LITS_REQUIRE(ndim >= 0 && ndim <= 8, "lits_strided_copy: ndim must be in 0..8, got %d", (int)ndim);
  LITS_REQUIRE(ndim == 0 || (shape_host != NULL && src_strides_host != NULL),
               "lits_strided_copy: shape or strides is NULL (ndim %d)", (int)ndim);
  int64_t total = 1;
  for (int32_t d = 0; d < ndim; d++) {
    LITS_REQUIRE(shape_host[d] >= 0, "lits_strided_copy: shape[%d] must be >= 0, got %lld", (int)d,
                 (long long)shape_host[d]);
    if (shape_host[d] != 0 && total > INT64_MAX / 4 / shape_host[d])
      return lits_fail(LITS_ERR_ARGUMENT, "lits_strided_copy: shape is too large");
    total *= shape_host[d];
  }
  if (total == 0) return LITS_OK;
  LITS_REQUIRE(src != NULL && dst != NULL, "lits_strided_copy: src or dst is NULL (%lld elements)",
               (long long)total);
  const uint32_t* s = (const uint32_t*)src;
  uint32_t* o = (uint32_t*)dst;

  /* Drop size-1 dimensions and merge dimensions that are contiguous in src. */
  int64_t shp[8], st[8];
  int nd = 0;
  for (int32_t d = 0; d < ndim; d++) {
    if (shape_host[d] == 1) continue;
    if (nd > 0 && st[nd - 1] == src_strides_host[d] * shape_host[d]) {
      shp[nd - 1] *= shape_host[d];
      st[nd - 1] = src_strides_host[d];
    } else {
      shp[nd] = shape_host[d];
      st[nd] = src_strides_host[d];
      nd++;
    }
  }
  if (nd == 0) {
    o[0] = s[0];
    return LITS_OK;
  }
  int64_t inner = shp[nd - 1], is = st[nd - 1];
  int64_t rows = total / inner;
  int par = total > PAR_THRESHOLD && rows > 1;

#pragma omp parallel if (par)
  {
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    if (r0 < r1) {
      /* Odometer over the outer dimensions, started at row r0. */
      int64_t idx[8] = {0};
      int64_t off = 0, rem = r0;
      for (int d = nd - 2; d >= 0; d--) {
        idx[d] = rem % shp[d];
        rem /= shp[d];
        off += idx[d] * st[d];
      }
      for (int64_t r = r0; r < r1; r++) {
        const uint32_t* sp = s + off;
        uint32_t* op = o + r * inner;
        if (is == 1) {
          memcpy(op, sp, (size_t)inner * 4);
        } else if (is == 0) {
          uint32_t v = sp[0];
          for (int64_t i = 0; i < inner; i++) op[i] = v;
        } else {
          for (int64_t i = 0; i < inner; i++) op[i] = sp[i * is];
        }
        for (int d = nd - 2; d >= 0; d--) {
          off += st[d];
          if (++idx[d] < shp[d]) break;
          off -= st[d] * shp[d];
          idx[d] = 0;
        }
      }
    }
  }
  return LITS_OK;
}
