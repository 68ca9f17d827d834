/* fake_vendor.cpp: stand-ins for cuBLAS and cuDNN so that host_check can
 * drive the loader (search, load order, dlsym, version checks) on a machine
 * without them. Built once per library name:
 *
 *   -DFAKE_CUBLAS  -> libcublas.so.13   every cuBLAS function lc_vendor needs
 *   -DFAKE_CUDNN   -> libcudnn.so.9     every cuDNN function lc_vendor needs
 *   (neither)      -> an empty library (libcublasLt, cuDNN sub-libraries)
 *
 * Only the reported versions and status texts mean anything; the other
 * functions exist so that dlsym finds them and must never be called.
 */
#include <stddef.h>
#include <stdio.h>

#include "../vendor.h"

extern "C" int lits_fake_vendor_marker(void) { return 1; }

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
extern "C" size_t cudnnGetCudartVersion(void) { return 13000; }
#endif
