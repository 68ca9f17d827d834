/*
 * lits_dist.h on MPI, for CPU buffers.
 *
 * Linked against libmpi (the compiler checks every call against mpi.h, and
 * any MPI builds it), then promoted to RTLD_GLOBAL at init (dist_boot.c
 * says why).
 *
 * Every wait polls (MPI_Test) under a deadline and checks the peers (see
 * dist_common.h), so a failed rank is an error here, never a hang.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist_boot.h"
#include "dist_common.h"

/* MPI counts are int: larger buffers go in chunks. */
#define CHUNK ((int64_t)1 << 30)
#define MAX_PENDING 256
#define MAX_CHUNKS 8

typedef struct {
  int used;
  float* buf;
  int64_t count;
  int32_t op;
  int n;
  MPI_Request req[MAX_CHUNKS];
} pending_t;

static int state = 0; /* 0 not started, 1 running, 2 finalised */
static int32_t rank = 0, world = 1;
static double timeout_s = 1800;
static int we_initialised = 0;
static pending_t pending[MAX_PENDING];

static int engine_fail(int rc, const char* what) { return dist_mpi_fail(rc, what, rank); }

static int need_running(const char* what) {
  if (state == 1) return LITS_DIST_OK;
  return dist_fail(LITS_DIST_ERR_STATE, "%s: the process group is %s", what,
                   state == 0 ? "not initialised (call lits_dist_init first)" : "finalised");
}

int lits_dist_backend_info(char* buf, int64_t cap) {
  if (!buf || cap <= 0) return dist_fail(LITS_DIST_ERR_ARGUMENT, "backend_info: no buffer");
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  char* nl = strchr(version, '\n');
  if (nl) *nl = 0;
  char* comma = strchr(version, ',');
  if (comma) *comma = 0;
  snprintf(buf, (size_t)cap, "mpi (%s)", version);
  return LITS_DIST_OK;
}

int lits_dist_init(double timeout, int32_t* out) {
  dist_clear_error();
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_init: out is NULL");
  if (!(timeout > 0)) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_init: timeout must be > 0 s, got %g",
                     timeout);
  }
  if (state == 2) {
    return dist_fail(LITS_DIST_ERR_STATE,
                     "lits_dist_init: the process group was finalised; MPI cannot start again "
                     "in the same process");
  }
  timeout_s = timeout;
  if (state == 0) {
    int status = dist_mpi_boot(&rank, &world, &we_initialised);
    if (status != LITS_DIST_OK) return status;
    state = 1;
  }
  out[0] = rank;
  out[1] = world;
  return LITS_DIST_OK;
}

int lits_dist_rank(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_rank: out is NULL");
  int s = need_running("lits_dist_rank");
  if (s) return s;
  *out = rank;
  return LITS_DIST_OK;
}

int lits_dist_device(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_device: out is NULL");
  *out = -1; /* host memory */
  return LITS_DIST_OK;
}

int lits_dist_world_size(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_world_size: out is NULL");
  int s = need_running("lits_dist_world_size");
  if (s) return s;
  *out = world;
  return LITS_DIST_OK;
}

/* Polls the requests until all complete, under the deadline. */
static int wait_all(int n, MPI_Request* req, const char* what) {
  int s = LITS_DIST_OK;
  dist_wait_begin(timeout_s);
  for (long polls = 0;; polls++) {
    int done = 0;
    int rc = MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      s = engine_fail(rc, what);
      break;
    }
    if (done) break;
    s = dist_wait_check(what);
    if (s) break;
    dist_wait_pause(polls);
  }
  dist_wait_end();
  return s;
}

static int check_buffer(const char* name, const void* buf, int64_t count) {
  if (count < 0) return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: count %lld < 0", name, (long long)count);
  if (count > CHUNK * MAX_CHUNKS) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: count %lld is over the limit %lld", name,
                     (long long)count, (long long)(CHUNK * MAX_CHUNKS));
  }
  if (count > 0 && !buf) return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: buffer is NULL", name);
  return LITS_DIST_OK;
}

int lits_dist_all_reduce_start_f32(float* buf, int64_t count, int32_t op, int32_t* handle) {
  dist_clear_error();
  const char* name = "all-reduce";
  int s = need_running(name);
  if (s) return s;
  if ((s = check_buffer(name, buf, count))) return s;
  if (op != LITS_DIST_SUM && op != LITS_DIST_MEAN) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: op %d is neither sum (0) nor mean (1)", name, op);
  }
  if (!handle) return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: handle is NULL", name);
  int h = 0;
  while (h < MAX_PENDING && pending[h].used) h++;
  if (h == MAX_PENDING) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: %d all-reduces are pending; wait for some",
                     name, MAX_PENDING);
  }
  pending_t* p = &pending[h];
  p->buf = buf;
  p->count = count;
  p->op = op;
  p->n = 0;
  /* An empty buffer still takes part, so that every rank's calls match. */
  for (int64_t off = 0; off < count || (count == 0 && p->n == 0); off += CHUNK) {
    int64_t n = count - off < CHUNK ? count - off : CHUNK;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf ? buf + off : NULL, (int)n, MPI_FLOAT, MPI_SUM,
                            MPI_COMM_WORLD, &p->req[p->n]);
    if (rc != MPI_SUCCESS) {
      if (p->n > 0) wait_all(p->n, p->req, name);
      return engine_fail(rc, "MPI_Iallreduce");
    }
    p->n++;
    if (count == 0) break;
  }
  p->used = 1;
  *handle = h;
  return LITS_DIST_OK;
}

static int check_handle(int32_t h) {
  if (h < 0 || h >= MAX_PENDING || !pending[h].used) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "handle %d is not a pending all-reduce", h);
  }
  return LITS_DIST_OK;
}

int lits_dist_test(int32_t h, int32_t* done) {
  dist_clear_error();
  int s = need_running("lits_dist_test");
  if (s || (s = check_handle(h))) return s;
  if (!done) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_test: done is NULL");
  int flag = 0;
  int rc = MPI_Testall(pending[h].n, pending[h].req, &flag, MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS) return engine_fail(rc, "all-reduce");
  *done = flag;
  return LITS_DIST_OK;
}

int lits_dist_wait(int32_t h) {
  dist_clear_error();
  int s = need_running("lits_dist_wait");
  if (s || (s = check_handle(h))) return s;
  pending_t* p = &pending[h];
  char what[96];
  snprintf(what, sizeof what, "all-reduce of %lld floats", (long long)p->count);
  s = wait_all(p->n, p->req, what);
  /* A failed wait keeps the handle: the requests may still be in flight. */
  if (s) return s;
  p->used = 0;
  if (p->op == LITS_DIST_MEAN && world > 1) {
    const float inv = 1.0f / (float)world;
    for (int64_t i = 0; i < p->count; i++) p->buf[i] *= inv;
  }
  return LITS_DIST_OK;
}

int lits_dist_all_reduce_f32(float* buf, int64_t count, int32_t op) {
  int32_t h;
  int s = lits_dist_all_reduce_start_f32(buf, count, op, &h);
  return s ? s : lits_dist_wait(h);
}

int lits_dist_broadcast(void* buf, int64_t bytes, int32_t root) {
  dist_clear_error();
  const char* name = "broadcast";
  int s = need_running(name);
  if (s || (s = check_buffer(name, buf, bytes))) return s;
  if (root < 0 || root >= world) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: root %d is not a rank of a world of %d", name,
                     root, world);
  }
  MPI_Request req[MAX_CHUNKS];
  int n = 0;
  for (int64_t off = 0; off < bytes || (bytes == 0 && n == 0); off += CHUNK) {
    int64_t len = bytes - off < CHUNK ? bytes - off : CHUNK;
    int rc = MPI_Ibcast(buf ? (char*)buf + off : NULL, (int)len, MPI_BYTE, root, MPI_COMM_WORLD,
                        &req[n]);
    if (rc != MPI_SUCCESS) return engine_fail(rc, "MPI_Ibcast");
    n++;
    if (bytes == 0) break;
  }
  char what[96];
  snprintf(what, sizeof what, "broadcast of %lld bytes from rank %d", (long long)bytes, root);
  return wait_all(n, req, what);
}

int lits_dist_barrier(void) {
  dist_clear_error();
  int s = need_running("barrier");
  if (s) return s;
  MPI_Request req;
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
  if (rc != MPI_SUCCESS) return engine_fail(rc, "MPI_Ibarrier");
  return wait_all(1, &req, "barrier");
}

int lits_dist_abort(int32_t code) {
  int s = need_running("lits_dist_abort");
  if (s) return s;
  int rc = MPI_Abort(MPI_COMM_WORLD, code);
  return engine_fail(rc, "MPI_Abort");
}

int lits_dist_finalize(void) {
  dist_clear_error();
  if (state != 1) return LITS_DIST_OK;
  for (int h = 0; h < MAX_PENDING; h++) {
    if (pending[h].used) {
      int s = lits_dist_wait(h);
      if (s) return s;
    }
  }
  /* A barrier under the deadline first: MPI_Finalize itself may wait for a
   * failed rank forever. */
  int s = lits_dist_barrier();
  if (s) return s;
  state = 2;
  dist_peers_clear();
  if (we_initialised) {
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) return engine_fail(rc, "MPI_Finalize");
  }
  return LITS_DIST_OK;
}
