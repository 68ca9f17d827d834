/* alloc.cu: the caching device allocator.
 *
 * The same size classes as the CPU allocator: multiples of 256 bytes up to
 * 1 MiB, then four classes per power of two. A freed block goes back to its
 * class's free list and is handed out again for the next request of that
 * class, so a steady training step calls cudaMalloc and cudaFree never.
 *
 * Reuse is safe without events because every kernel, copy and vendor call
 * runs on the one stream (lc.stream): a block freed on the host while a
 * kernel still reads it is only written again by work queued after that
 * kernel. The bookkeeping lives on the host (device memory cannot hold the
 * free-list links): a map from each block to its class and state, so that
 * lits_free rejects pointers it never gave out (or already took back).
 */
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.cuh"

#define SMALL_LIMIT ((int64_t)1 << 20)
#define SMALL_GRAIN 256
#define N_SMALL (SMALL_LIMIT / SMALL_GRAIN)
#define MAX_LOG2 50 /* 1.75 PiB: beyond any device */
#define N_CLASSES (N_SMALL + (MAX_LOG2 - 20 + 1) * 4)
#define MAX_BYTES (((int64_t)1 << MAX_LOG2) + ((int64_t)3 << (MAX_LOG2 - 2)))

namespace {

struct block_info {
  int32_t cls;
  bool in_use;
};

std::mutex g_lock;
std::unordered_map<uintptr_t, block_info> g_blocks;
std::vector<void*> g_free[N_CLASSES];
int64_t g_bytes_in_use = 0, g_buffers_in_use = 0;
int64_t g_bytes_cached = 0, g_buffers_cached = 0;
int64_t g_bytes_from_system = 0;

int32_t class_of(int64_t bytes) {
  if (bytes <= 0) return 0;
  if (bytes <= SMALL_LIMIT) return (int32_t)((bytes + SMALL_GRAIN - 1) / SMALL_GRAIN - 1);
  int k = 63 - __builtin_clzll((unsigned long long)(bytes - 1)); /* 2^k < bytes <= 2^(k+1) */
  int64_t quarter = (int64_t)1 << (k - 2);
  int64_t j = (bytes - ((int64_t)1 << k) + quarter - 1) / quarter; /* 1..4 */
  if (j == 4) {
    k += 1;
    j = 0;
  }
  return (int32_t)(N_SMALL + (k - 20) * 4 + j);
}

int64_t class_bytes(int32_t cls) {
  if (cls < N_SMALL) return ((int64_t)cls + 1) * SMALL_GRAIN;
  int32_t t = cls - (int32_t)N_SMALL;
  int k = 20 + t / 4, j = t % 4;
  return ((int64_t)1 << k) + (int64_t)j * ((int64_t)1 << (k - 2));
}

/* Gives every cached block back to the driver (caller holds g_lock). */
cudaError_t release_cached_locked(void) {
  cudaError_t first = cudaSuccess;
  for (int32_t c = 0; c < N_CLASSES; c++) {
    for (void* p : g_free[c]) {
      g_blocks.erase((uintptr_t)p);
      cudaError_t e = cudaFree(p); /* waits for the device to be idle first */
      if (e != cudaSuccess && first == cudaSuccess) first = e;
    }
    g_free[c].clear();
  }
  g_bytes_cached = 0;
  g_buffers_cached = 0;
  return first;
}

int alloc_impl(const char* fn, int64_t bytes, void** out) {
  if (bytes < 0)
    return lc_fail(LITS_ERR_ARGUMENT, "%s: bytes must be >= 0, got %lld", fn, (long long)bytes);
  if (bytes > MAX_BYTES)
    return lc_fail(LITS_ERR_MEMORY, "%s: cannot allocate %lld bytes (too large)", fn,
                   (long long)bytes);
  const int32_t cls = class_of(bytes);
  const int64_t size = class_bytes(cls);
  std::lock_guard<std::mutex> guard(g_lock);
  void* p = NULL;
  if (!g_free[cls].empty()) {
    p = g_free[cls].back();
    g_free[cls].pop_back();
    g_blocks[(uintptr_t)p].in_use = true;
    g_bytes_cached -= size;
    g_buffers_cached--;
  } else {
    cudaError_t e = cudaMalloc(&p, (size_t)size);
    if (e == cudaErrorMemoryAllocation && g_buffers_cached > 0) {
      /* Out of memory is not sticky: clear it, give the cache back, retry. */
      (void)cudaGetLastError();
      (void)release_cached_locked();
      e = cudaMalloc(&p, (size_t)size);
    }
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      (void)cudaMemGetInfo(&free_b, &total_b);
      (void)cudaGetLastError();
      return lc_fail(e == cudaErrorMemoryAllocation ? LITS_ERR_MEMORY : LITS_ERR_INTERNAL,
                     "%s: CUDA out of memory: asked for %lld bytes (%.1f MiB, size class %.1f "
                     "MiB); the device has %.1f MiB free of %.1f MiB; this library holds %.1f "
                     "MiB in use and %.1f MiB cached (%s)",
                     fn, (long long)bytes, (double)bytes / 1048576.0, (double)size / 1048576.0,
                     (double)free_b / 1048576.0, (double)total_b / 1048576.0,
                     (double)g_bytes_in_use / 1048576.0, (double)g_bytes_cached / 1048576.0,
                     cudaGetErrorString(e));
    }
    try {
      g_blocks[(uintptr_t)p] = block_info{cls, true};
    } catch (...) {
      (void)cudaFree(p);
      return lc_fail(LITS_ERR_MEMORY, "%s: out of host memory for the allocator's table", fn);
    }
    g_bytes_from_system += size;
  }
  g_bytes_in_use += size;
  g_buffers_in_use++;
  *out = p;
  return LITS_OK;
}

int free_impl(const char* fn, void* p) {
  if (p == NULL) return LITS_OK;
  std::lock_guard<std::mutex> guard(g_lock);
  auto it = g_blocks.find((uintptr_t)p);
  if (it == g_blocks.end() || !it->second.in_use) {
    return lc_fail(LITS_ERR_ARGUMENT, "%s: %p %s", fn, p,
                   it != g_blocks.end() ? "was already freed" : "did not come from lits_alloc");
  }
  const int32_t cls = it->second.cls;
  const int64_t size = class_bytes(cls);
  try {
    g_free[cls].push_back(p);
  } catch (...) {
    return lc_fail(LITS_ERR_MEMORY, "%s: out of host memory for the allocator's free list", fn);
  }
  it->second.in_use = false;
  g_bytes_in_use -= size;
  g_buffers_in_use--;
  g_bytes_cached += size;
  g_buffers_cached++;
  return LITS_OK;
}

}  // namespace

/* The allocator's host containers and mutex may throw: every path into them
 * runs in lc_guarded, so no exception leaves an entry point. */
int lc_scratch_alloc(const char* fn, int64_t bytes, void** out) {
  *out = NULL;
  return lc_guarded(fn, [&]() -> int { return alloc_impl(fn, bytes, out); });
}

void lc_scratch_free(void* p) {
  (void)lc_guarded("lc_scratch_free", [&]() -> int { return free_impl("lc_scratch_free", p); });
}

int64_t lc_cached_bytes(void) {
  int64_t bytes = 0;
  (void)lc_guarded("lc_cached_bytes", [&]() -> int {
    std::lock_guard<std::mutex> guard(g_lock);
    bytes = g_bytes_cached;
    return LITS_OK;
  });
  return bytes;
}

int lc_release_cached(const char* fn) {
  const char* const lc_fn = fn;
  return lc_guarded(fn, [&]() -> int {
    std::lock_guard<std::mutex> guard(g_lock);
    LC_CHECK(release_cached_locked());
    return LITS_OK;
  });
}

void lc_scratch_release(void* p) {
  if (p == NULL) return;
  (void)lc_guarded("lc_scratch_release", [&]() -> int {
    std::lock_guard<std::mutex> guard(g_lock);
    auto it = g_blocks.find((uintptr_t)p);
    if (it == g_blocks.end() || !it->second.in_use) return LITS_OK;
    const int64_t size = class_bytes(it->second.cls);
    g_blocks.erase(it);
    g_bytes_in_use -= size;
    g_buffers_in_use--;
    (void)cudaFree(p); /* waits for the work queued on it */
    (void)cudaGetLastError();
    return LITS_OK;
  });
}

extern "C" int lits_alloc(int64_t bytes, void** out_host) {
  LC_ENTER("lits_alloc");
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  return lc_scratch_alloc(lc_fn, bytes, out_host);
}

extern "C" int lits_free(void* p) {
  static const char* const lc_fn = "lits_free";
  lc_clear_error();
  return lc_guarded(lc_fn, [&]() -> int { return free_impl(lc_fn, p); });
}

extern "C" int lits_memory_stats(int64_t* out_host) {
  static const char* const lc_fn = "lits_memory_stats";
  lc_clear_error();
  LC_REQUIRE(out_host != NULL, "%s: out is NULL", lc_fn);
  return lc_guarded(lc_fn, [&]() -> int {
    std::lock_guard<std::mutex> guard(g_lock);
    out_host[0] = g_bytes_in_use;
    out_host[1] = g_buffers_in_use;
    out_host[2] = g_bytes_cached;
    out_host[3] = g_buffers_cached;
    out_host[4] = g_bytes_from_system;
    return LITS_OK;
  });
}

extern "C" int lits_empty_cache(void) {
  static const char* const lc_fn = "lits_empty_cache";
  lc_clear_error();
  if (!lc.ready) return LITS_OK; /* nothing was ever allocated */
  LC_TRY(lc_ready(lc_fn));
  return lc_release_cached(lc_fn);
}
