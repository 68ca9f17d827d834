/*
 * lits_dist.h on NCCL, for CUDA device buffers.
 *
 * No CUDA or NCCL header or library at build time: libnccl.so.2 and the
 * CUDA driver (libcuda.so.1) are opened at run time (as native/cuda finds
 * cuBLAS and cuDNN), so the library builds on any machine with MPI and a C
 * compiler (nvcc included), and a machine without a GPU loads it and says
 * why it cannot run. The few types and entry points used are declared here
 * with NCCL's and the driver's own numbering (nccl.h 2.x, cuda.h 12/13).
 *
 * MPI carries the bootstrap: ranks, the peers table, the NCCL unique id.
 * Collectives run on this library's own stream; a started all-reduce records
 * an event, and every wait polls the event under the deadline (and checks the
 * peers and ncclCommGetAsyncError), aborting the communicator on failure, so
 * a dead rank is an error, never a hang.
 *
 * Ordering with compute: the caller makes the buffer's producer finish first
 * (src/dist calls the CUDA library's lits_synchronize before a collective).
 */
#define _GNU_SOURCE
#include <mpi.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist_boot.h"
#include "dist_common.h"
#include "dist_nccl_vendor.h"

/* ---- state ------------------------------------------------------------- */
typedef struct {
  int used;
  int64_t count;
  CUevent done;
} pending_t;

static int32_t device = -1;
static ncclComm_t comm = NULL;
static CUstream stream = NULL;
static int nccl_version = 0;
static pending_t pending[DIST_MAX_PENDING];

static int nccl_fail(ncclResult_t r, const char* what) {
  return dist_fail(LITS_DIST_ERR_ENGINE, "%s failed on rank %d: NCCL %d: %s", what,
                   dist_group.rank, r, nccl.GetErrorString ? nccl.GetErrorString(r) : "?");
}

static int cu_fail(CUresult r, const char* what) {
  const char* text = NULL;
  if (cu.GetErrorString) cu.GetErrorString(r, &text);
  return dist_fail(LITS_DIST_ERR_ENGINE, "%s failed on rank %d: CUDA driver %d: %s", what,
                   dist_group.rank, r, text ? text : "?");
}

/* ---- the interface (init, rank, barrier, finalize: dist_boot.c) -------- */
int lits_dist_backend_info(char* buf, int64_t cap) {
  if (!buf || cap <= 0) return dist_fail(LITS_DIST_ERR_ARGUMENT, "backend_info: no buffer");
  snprintf(buf, (size_t)cap, "nccl %d.%d.%d (device %d)", nccl_version / 10000,
           nccl_version / 100 % 100, nccl_version % 100, device);
  return LITS_DIST_OK;
}

static int pick_device(void) {
  int count = 0;
  CUresult r = cu.DeviceGetCount(&count);
  if (r != CUDA_SUCCESS) return cu_fail(r, "cuDeviceGetCount");
  if (count < 1) return dist_fail(LITS_DIST_ERR_UNAVAILABLE, "the NCCL backend found no CUDA device");
  const char* env = getenv("LITS_CUDA_DEVICE");
  device = env && *env ? atoi(env) : dist_local_rank() % count;
  if (device < 0 || device >= count) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "LITS_CUDA_DEVICE=%d, but there are %d device(s)",
                     device, count);
  }
  CUdevice dev;
  CUcontext ctx;
  if ((r = cu.DeviceGet(&dev, device)) != CUDA_SUCCESS) return cu_fail(r, "cuDeviceGet");
  if ((r = cu.PrimaryCtxRetain(&ctx, dev)) != CUDA_SUCCESS) return cu_fail(r, "cuDevicePrimaryCtxRetain");
  if ((r = cu.CtxSetCurrent(ctx)) != CUDA_SUCCESS) return cu_fail(r, "cuCtxSetCurrent");
  if ((r = cu.StreamCreate(&stream, 1 /* non-blocking */)) != CUDA_SUCCESS) {
    return cu_fail(r, "cuStreamCreate");
  }
  return LITS_DIST_OK;
}

int dist_engine_start(void) {
  int s = dist_nccl_load();
  if (s) return s;
  CUresult cr = cu.Init(0);
  if (cr != CUDA_SUCCESS) return cu_fail(cr, "cuInit");
  if ((s = dist_mpi_boot())) return s;
  if ((s = pick_device())) return s;
  ncclResult_t r = nccl.GetVersion(&nccl_version);
  if (r) return nccl_fail(r, "ncclGetVersion");
  if (nccl_version < NCCL_MIN_VERSION) {
    return dist_fail(LITS_DIST_ERR_UNAVAILABLE,
                     "NCCL %d is too old: the average all-reduce needs NCCL 2.10 or newer",
                     nccl_version);
  }
  const int32_t rank = dist_group.rank;
  ncclUniqueId id;
  memset(&id, 0, sizeof id);
  if (rank == 0 && (r = nccl.GetUniqueId(&id))) return nccl_fail(r, "ncclGetUniqueId");
  int rc = MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return dist_mpi_fail(rc, "broadcasting the NCCL unique id", rank);
  if ((r = nccl.CommInitRank(&comm, dist_group.world, id, rank))) {
    return nccl_fail(r, "ncclCommInitRank");
  }
  return LITS_DIST_OK;
}

int dist_engine_pending(int32_t h) { return h >= 0 && h < DIST_MAX_PENDING && pending[h].used; }

int dist_engine_stop(void) {
  ncclResult_t r = nccl.CommDestroy(comm);
  comm = NULL;
  return r ? nccl_fail(r, "ncclCommDestroy") : LITS_DIST_OK;
}

int lits_dist_device(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_device: out is NULL");
  int s = dist_need_running("lits_dist_device");
  if (!s) *out = device;
  return s;
}

/* Polls `ev` under the deadline; on failure aborts the communicator (its
 * kernels would otherwise wait for the dead rank forever). */
static int wait_event(CUevent ev, const char* what) {
  int s = LITS_DIST_OK;
  dist_wait_begin(dist_group.timeout_s);
  for (long polls = 0;; polls++) {
    CUresult r = cu.EventQuery(ev);
    if (r == CUDA_SUCCESS) break;
    if (r != CUDA_ERROR_NOT_READY) {
      s = cu_fail(r, what);
      break;
    }
    ncclResult_t async = 0;
    nccl.CommGetAsyncError(comm, &async);
    if (async) {
      s = nccl_fail(async, what);
      break;
    }
    if ((s = dist_wait_check(what))) break;
    dist_wait_pause(polls);
  }
  dist_wait_end();
  if (s) {
    nccl.CommAbort(comm);
    comm = NULL;
    dist_group.state = DIST_FINALISED; /* an aborted communicator cannot be used again */
  }
  return s;
}

static int record(int64_t count, int32_t* handle) {
  int h = 0;
  while (h < DIST_MAX_PENDING && pending[h].used) h++;
  if (h == DIST_MAX_PENDING) return dist_fail(LITS_DIST_ERR_ARGUMENT, "%d all-reduces are pending", h);
  CUresult r = cu.EventCreate(&pending[h].done, CU_EVENT_DISABLE_TIMING);
  if (r == CUDA_SUCCESS) r = cu.EventRecord(pending[h].done, stream);
  if (r != CUDA_SUCCESS) return cu_fail(r, "recording the all-reduce's event");
  pending[h].used = 1;
  pending[h].count = count;
  *handle = h;
  return LITS_DIST_OK;
}

int lits_dist_all_reduce_start_f32(float* buf, int64_t count, int32_t op, int32_t* handle) {
  dist_clear_error();
  int s = dist_need_running("all-reduce");
  if (s) return s;
  if (count < 0) return dist_fail(LITS_DIST_ERR_ARGUMENT, "all-reduce: count %lld < 0", (long long)count);
  if (count > 0 && !buf) return dist_fail(LITS_DIST_ERR_ARGUMENT, "all-reduce: buffer is NULL");
  if (op != LITS_DIST_SUM && op != LITS_DIST_MEAN) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "all-reduce: op %d is neither sum (0) nor mean (1)", op);
  }
  if (!handle) return dist_fail(LITS_DIST_ERR_ARGUMENT, "all-reduce: handle is NULL");
  ncclResult_t r = nccl.AllReduce(buf, buf, (size_t)count, ncclFloat32,
                                  op == LITS_DIST_MEAN ? ncclAvg : ncclSum, comm, stream);
  if (r) return nccl_fail(r, "ncclAllReduce");
  return record(count, handle);
}

int lits_dist_test(int32_t h, int32_t* done) {
  dist_clear_error();
  int s = dist_need_running("lits_dist_test");
  if (s || (s = dist_need_pending(h))) return s;
  if (!done) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_test: done is NULL");
  CUresult r = cu.EventQuery(pending[h].done);
  if (r != CUDA_SUCCESS && r != CUDA_ERROR_NOT_READY) return cu_fail(r, "all-reduce");
  *done = r == CUDA_SUCCESS;
  return LITS_DIST_OK;
}

int lits_dist_wait(int32_t h) {
  dist_clear_error();
  int s = dist_need_running("lits_dist_wait");
  if (s || (s = dist_need_pending(h))) return s;
  char what[96];
  snprintf(what, sizeof what, "all-reduce of %lld floats", (long long)pending[h].count);
  s = wait_event(pending[h].done, what);
  cu.EventDestroy(pending[h].done);
  pending[h].used = 0;
  return s;
}

int lits_dist_broadcast(void* buf, int64_t bytes, int32_t root) {
  dist_clear_error();
  int s = dist_need_running("broadcast");
  if (s) return s;
  if (bytes < 0) return dist_fail(LITS_DIST_ERR_ARGUMENT, "broadcast: bytes %lld < 0", (long long)bytes);
  if (bytes > 0 && !buf) return dist_fail(LITS_DIST_ERR_ARGUMENT, "broadcast: buffer is NULL");
  if (root < 0 || root >= dist_group.world) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "broadcast: root %d is not a rank of a world of %d",
                     root, dist_group.world);
  }
  ncclResult_t r = nccl.Broadcast(buf, buf, (size_t)bytes, ncclUint8, root, comm, stream);
  if (r) return nccl_fail(r, "ncclBroadcast");
  int32_t h;
  if ((s = record(bytes, &h))) return s;
  char what[96];
  snprintf(what, sizeof what, "broadcast of %lld bytes from rank %d", (long long)bytes, root);
  s = wait_event(pending[h].done, what);
  cu.EventDestroy(pending[h].done);
  pending[h].used = 0;
  return s;
}

int lits_dist_abort(int32_t code) {
  if (comm) nccl.CommAbort(comm);
  comm = NULL;
  return dist_mpi_fail(MPI_Abort(MPI_COMM_WORLD, code), "MPI_Abort", dist_group.rank);
}
