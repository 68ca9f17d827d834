/*
 * Finding NCCL and the CUDA driver at run time, as native/cuda finds cuBLAS
 * and cuDNN: an environment override (LITS_NCCL_LIB, LITS_CUDA_DRIVER_LIB),
 * the loader's path, then (NCCL) PyTorch's wheels' nvidia/nccl/lib folders.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>

#include "dist_common.h"
#include "dist_nccl_vendor.h"

struct nccl_api nccl;
struct cu_api cu;

static void* open_first(const char* env, const char* name, const char* wheel_dir, char* tried,
                        size_t cap) {
  const char* path = getenv(env);
  if (path && *path) {
    void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    snprintf(tried, cap, "%s=%s (%s)", env, path, h ? "ok" : dlerror());
    return h;
  }
  void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  size_t used = (size_t)snprintf(tried, cap, "%s (loader path)", name);
  if (h || !wheel_dir) return h;
  /* PyTorch's wheels carry NCCL in site-packages/nvidia/nccl/lib. */
  const char* prefixes[] = {getenv("VIRTUAL_ENV"), getenv("CONDA_PREFIX"), "/usr", "/usr/local",
                            getenv("HOME")};
  for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes && !h; i++) {
    if (!prefixes[i]) continue;
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s%s/lib/python3*/*-packages/%s/%s", prefixes[i],
             i == 4 ? "/.local" : "", wheel_dir, name);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) == 0) {
      for (size_t k = 0; k < g.gl_pathc && !h; k++) h = dlopen(g.gl_pathv[k], RTLD_NOW | RTLD_LOCAL);
      globfree(&g);
    }
    if (used < cap) used += (size_t)snprintf(tried + used, cap - used, ", %s", pattern);
  }
  return h;
}

/* A library without one of the symbols is closed again (never half-loaded). */
#define SYM(table, field, name)                                                      \
  do {                                                                               \
    *(void**)&table.field = dlsym(table.lib, name);                                 \
    if (!table.field) {                                                              \
      dlclose(table.lib);                                                            \
      table.lib = NULL;                                                              \
      return dist_fail(LITS_DIST_ERR_UNAVAILABLE, "the %s library lacks %s", #table, name); \
    }                                                                                \
  } while (0)

int dist_nccl_load(void) {
  char tried[2048];
  if (!cu.lib) {
    cu.lib = open_first("LITS_CUDA_DRIVER_LIB", "libcuda.so.1", NULL, tried, sizeof tried);
    if (!cu.lib) {
      return dist_fail(LITS_DIST_ERR_UNAVAILABLE,
                       "the NCCL backend needs the CUDA driver (libcuda.so.1), not found: %s", tried);
    }
    SYM(cu, Init, "cuInit");
    SYM(cu, DeviceGetCount, "cuDeviceGetCount");
    SYM(cu, DeviceGet, "cuDeviceGet");
    SYM(cu, PrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    SYM(cu, CtxSetCurrent, "cuCtxSetCurrent");
    SYM(cu, StreamCreate, "cuStreamCreate");
    SYM(cu, EventCreate, "cuEventCreate");
    SYM(cu, EventRecord, "cuEventRecord");
    SYM(cu, EventQuery, "cuEventQuery");
    SYM(cu, EventDestroy, "cuEventDestroy_v2");
    SYM(cu, GetErrorString, "cuGetErrorString");
  }
  if (!nccl.lib) {
    nccl.lib = open_first("LITS_NCCL_LIB", "libnccl.so.2", "nvidia/nccl/lib", tried, sizeof tried);
    if (!nccl.lib) {
      return dist_fail(LITS_DIST_ERR_UNAVAILABLE,
                       "libnccl.so.2 not found (install NCCL, or PyTorch's nvidia-nccl wheel, or "
                       "set LITS_NCCL_LIB); looked in: %s",
                       tried);
    }
    SYM(nccl, GetVersion, "ncclGetVersion");
    SYM(nccl, GetUniqueId, "ncclGetUniqueId");
    SYM(nccl, CommInitRank, "ncclCommInitRank");
    SYM(nccl, AllReduce, "ncclAllReduce");
    SYM(nccl, Broadcast, "ncclBroadcast");
    SYM(nccl, CommGetAsyncError, "ncclCommGetAsyncError");
    SYM(nccl, CommAbort, "ncclCommAbort");
    SYM(nccl, CommDestroy, "ncclCommDestroy");
    SYM(nccl, GetErrorString, "ncclGetErrorString");
  }
  return LITS_DIST_OK;
}
