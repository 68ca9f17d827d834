/*
 * A stand-in CUDA driver (libcuda.so.1) for the NCCL tests on machines
 * without a GPU: FAKE_CUDA_DEVICES devices (default 2), streams and events
 * that are always complete (the stand-in NCCL works synchronously).
 */
#include <stdint.h>
#include <stdlib.h>

int cuInit(unsigned flags) { return flags == 0 ? 0 : 1; }
int cuDeviceGetCount(int* n) {
  const char* e = getenv("FAKE_CUDA_DEVICES");
  *n = e ? atoi(e) : 2;
  return 0;
}
int cuDeviceGet(int* dev, int ordinal) {
  int n;
  cuDeviceGetCount(&n);
  if (ordinal < 0 || ordinal >= n) return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *dev = ordinal;
  return 0;
}
int cuDevicePrimaryCtxRetain(void** ctx, int dev) {
  *ctx = (void*)(intptr_t)(dev + 1);
  return 0;
}
int cuCtxSetCurrent(void* ctx) { return ctx ? 0 : 201; }
int cuStreamCreate(void** s, unsigned flags) {
  (void)flags;
  *s = malloc(1);
  return 0;
}
int cuEventCreate(void** e, unsigned flags) {
  (void)flags;
  *e = malloc(1);
  return 0;
}
int cuEventRecord(void* e, void* s) { return e && s ? 0 : 400; }
int cuEventQuery(void* e) { return e ? 0 : 400; }
int cuEventDestroy_v2(void* e) {
  free(e);
  return 0;
}
int cuGetErrorString(int r, const char** text) {
  *text = r == 101 ? "invalid device ordinal" : "stand-in CUDA error";
  return 0;
}
