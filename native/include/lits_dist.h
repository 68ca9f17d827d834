/*
 * lits_dist.h: collectives for data-parallel training, beside lits.h.
 *
 * Two libraries implement it: native/dist/dist_mpi.c (liblits_dist_mpi, CPU
 * buffers, any MPI: Open MPI, MPICH) and native/dist/dist_nccl.c
 * (liblits_dist_nccl, CUDA device buffers; libnccl.so.2 and the CUDA driver
 * found at run time, the NCCL unique id broadcast over MPI). TypeScript
 * opens them through src/dist/symbols.ts, which scripts/gen_ffi.ts writes
 * from this file (a test keeps them equal).
 *
 * Rules (as lits.h):
 * - Every function returns LITS_DIST_OK (0) or an error code, and
 *   lits_dist_last_error() then gives the text, with the engine's own error
 *   text when the engine failed.
 * - The process group comes from the launcher's environment (mpirun, srun);
 *   there is one group per process.
 * - A collective that does not complete within the timeout given to
 *   lits_dist_init, or whose peer process on this host has exited, or that
 *   was interrupted by SIGTERM (the launcher stopping the job because another
 *   rank failed), returns LITS_DIST_ERR_PEER with a text naming the rank
 *   when it is known; it never waits forever.
 * - Empty buffers are a no-op (the pointer may be NULL), but every rank must
 *   still make the same calls in the same order.
 */
#ifndef LITS_DIST_H
#define LITS_DIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LITS_DIST_ABI_VERSION 1

enum lits_dist_status {
  LITS_DIST_OK = 0,
  LITS_DIST_ERR_ARGUMENT = 1,    /* bad size, op, root or handle */
  LITS_DIST_ERR_STATE = 2,       /* not initialised, or already finalised */
  LITS_DIST_ERR_UNAVAILABLE = 3, /* engine missing or not launched by it */
  LITS_DIST_ERR_ENGINE = 4,      /* the engine (MPI, NCCL) returned an error */
  LITS_DIST_ERR_PEER = 5         /* a rank failed, was stopped, or timed out */
};

enum lits_dist_op {
  LITS_DIST_SUM = 0,
  LITS_DIST_MEAN = 1 /* sum divided by the world size */
};

/* Text of the last error ("" when none). Not a status. */
const char* lits_dist_last_error(void);
/* Writes LITS_DIST_ABI_VERSION. */
int lits_dist_abi_version(int32_t* out_host);
/* Writes a NUL-terminated name of the engine and its version (cap bytes). */
int lits_dist_backend_info(char* buf_host, int64_t cap);

/* Joins the process group the launcher started; writes rank and world size
 * into out_host[0], out_host[1]. timeout_s (> 0) bounds every later
 * collective. A second call returns the same group. */
int lits_dist_init(double timeout_s, int32_t* out_host);
int lits_dist_rank(int32_t* out_host);
int lits_dist_world_size(int32_t* out_host);
/* The CUDA device this rank's buffers must be on (NCCL: LITS_CUDA_DEVICE, else
 * the local rank modulo the devices), or -1 for host memory (MPI). */
int lits_dist_device(int32_t* out_host);

/* In place on count floats: every rank ends with the sum (or mean). */
int lits_dist_all_reduce_f32(float* buf, int64_t count, int32_t op);
/* The same, started without waiting: writes a handle to pass to
 * lits_dist_wait; buf must stay untouched until then. At most 256 pending. */
int lits_dist_all_reduce_start_f32(float* buf, int64_t count, int32_t op, int32_t* handle_host);
/* Drives communication without waiting; writes 1 into done_host when the
 * handle's all-reduce has completed (then lits_dist_wait returns at once). */
int lits_dist_test(int32_t handle, int32_t* done_host);
/* Waits for a started all-reduce (and applies the mean); frees the handle. */
int lits_dist_wait(int32_t handle);
/* In place on bytes bytes: every rank ends with root's. */
int lits_dist_broadcast(void* buf, int64_t bytes, int32_t root);
int lits_dist_barrier(void);

/* Stops every rank of the job now (after an error on this rank that the
 * others would otherwise wait for). Does not return when it succeeds. */
int lits_dist_abort(int32_t code);
/* Leaves the group; pending handles are waited for first. */
int lits_dist_finalize(void);

#ifdef __cplusplus
}
#endif

#endif
