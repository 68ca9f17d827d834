/* fake_vendor.cpp: stand-ins for cuBLAS and cuDNN so that host_check can
 * drive the loader (search, load order, dlsym, version checks) on a machine
 * without them. Built once per library name:
 *
 *   -DFAKE_CUBLAS  -> libcublas.so.13   every cuBLAS function lc_vendor needs
 *   -DFAKE_CUDNN   -> libcudnn.so.9     every cuDNN function lc_vendor needs
 *   -DFAKE_CUDNN_GRAPH -> libcudnn_graph.so.9   only the two version queries
 *   (none of these)    -> an empty library (libcublasLt, other cuDNN parts, NVRTC)
 *   -DFAKE_CUDART=12080 -> the cuDNN reports a build for CUDA 12.8 (default 13.0)
 *
 * Only the reported versions and status texts mean anything; the other
 * functions exist so that dlsym finds them and must never be called.
 *
 * With LITS_FAKE_LOAD_LOG set, every stand-in appends "load PATH" when it is
 * mapped and "unload PATH" when it is unmapped (PATH as dlopen was given it),
 * so a test can read the loader's order (tests/cuda_loader_test.ts). One
 * build copied under several names logs each name.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "../vendor.h"

extern "C" int lits_fake_vendor_marker(void) { return 1; }

static void log_event(const char* what) {
  const char* log = getenv("LITS_FAKE_LOAD_LOG");
  Dl_info self;
  if (log == NULL || !dladdr((void*)&log_event, &self) || self.dli_fname == NULL) return;
  FILE* f = fopen(log, "a");
  if (f == NULL) return;
  fprintf(f, "%s %s\n", what, self.dli_fname);
  fclose(f);
}

__attribute__((constructor)) static void on_load(void) { log_event("load"); }
__attribute__((destructor)) static void on_unload(void) { log_event("unload"); }

#ifndef FAKE_CUDART
#define FAKE_CUDART 13000
#endif

/* Every listed function as a symbol that returns 0; the few the loader calls
 * are renamed away here and defined by hand below. */
#define STUB(ret, name, params) \
  extern "C" int name(void) { return 0; }

#ifdef FAKE_CUBLAS
#define cublasGetProperty cublasGetProperty_unused
#define cublasGetStatusString cublasGetStatusString_unused
LC_CUBLAS_FUNCTIONS(STUB)
#undef cublasGetProperty
#undef cublasGetStatusString

extern "C" int cublasGetProperty(int type, int* value) {
  *value = type == 0 ? 13 : type == 1 ? 1 : 7; /* 13.1.7 */
  return 0;
}

extern "C" const char* cublasGetStatusString(int status) {
  static char text[32];
  snprintf(text, sizeof text, "fake status %d", status);
  return text;
}
#endif

#ifdef FAKE_CUDNN
#define cudnnGetVersion cudnnGetVersion_unused
#define cudnnGetCudartVersion cudnnGetCudartVersion_unused
LC_CUDNN_FUNCTIONS(STUB)
#undef cudnnGetVersion
#undef cudnnGetCudartVersion

extern "C" size_t cudnnGetVersion(void) { return 91302; } /* 9.13.2 */
extern "C" size_t cudnnGetCudartVersion(void) { return FAKE_CUDART; }
#endif

#ifdef FAKE_CUDNN_GRAPH
extern "C" size_t cudnnGetVersion(void) { return 91302; }
extern "C" size_t cudnnGetCudartVersion(void) { return FAKE_CUDART; }
#endif
