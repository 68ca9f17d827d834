/*
 * The NCCL library's view of its vendors: the few NCCL and CUDA driver
 * types and entry points it uses, with their own numbering (nccl.h 2.x,
 * cuda.h 12/13), and the tables that dist_nccl_loader.c fills with dlsym.
 * No vendor header is needed to build.
 */
#ifndef LITS_DIST_NCCL_VENDOR_H
#define LITS_DIST_NCCL_VENDOR_H

#include <stddef.h>

typedef int ncclResult_t;
typedef struct ncclComm* ncclComm_t;
typedef struct { char internal[128]; } ncclUniqueId;
enum { ncclUint8 = 1, ncclFloat32 = 7 };
enum { ncclSum = 0, ncclAvg = 4 }; /* ncclAvg: NCCL >= 2.10 */
typedef int CUresult;
typedef void* CUcontext;
typedef void* CUstream;
typedef void* CUevent;
typedef int CUdevice;
#define CUDA_SUCCESS 0
#define CUDA_ERROR_NOT_READY 600
#define CU_EVENT_DISABLE_TIMING 2
#define NCCL_MIN_VERSION 21000

struct nccl_api {
  void* lib;
  ncclResult_t (*GetVersion)(int*);
  ncclResult_t (*GetUniqueId)(ncclUniqueId*);
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*AllReduce)(const void*, void*, size_t, int, int, ncclComm_t, CUstream);
  ncclResult_t (*Broadcast)(const void*, void*, size_t, int, int, ncclComm_t, CUstream);
  ncclResult_t (*CommGetAsyncError)(ncclComm_t, ncclResult_t*);
  ncclResult_t (*CommAbort)(ncclComm_t);
  ncclResult_t (*CommDestroy)(ncclComm_t);
  const char* (*GetErrorString)(ncclResult_t);
};
extern struct nccl_api nccl __attribute__((visibility("hidden")));

struct cu_api {
  void* lib;
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int*);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*PrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*StreamCreate)(CUstream*, unsigned);
  CUresult (*EventCreate)(CUevent*, unsigned);
  CUresult (*EventRecord)(CUevent, CUstream);
  CUresult (*EventQuery)(CUevent);
  CUresult (*EventDestroy)(CUevent);
  CUresult (*GetErrorString)(CUresult, const char**);
};
extern struct cu_api cu __attribute__((visibility("hidden")));

/* Opens libcuda.so.1 and libnccl.so.2 (once; a failure leaves neither
 * half-loaded) and fills the tables; an error status with the places tried. */
int dist_nccl_load(void);

#endif
