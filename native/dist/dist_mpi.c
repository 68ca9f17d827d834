/*
 * lits_dist.h on MPI, for CPU buffers.
 *
 * Linked against libmpi (the compiler checks every call against mpi.h, and
 * any MPI builds it), then promoted to RTLD_GLOBAL at init (dist_boot.c
 * says why).
 *
 * Every wait polls (MPI_Test) under a deadline and checks the peers (see
 * dist_common.h), so a failed rank is an error here, never a hang.
 * Joining, the barrier and leaving are dist_boot.c's, shared with NCCL.
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
#define MAX_CHUNKS 8

typedef struct {
  int used;
  float* buf;
  int64_t count;
  int32_t op;
  int n;
  MPI_Request req[MAX_CHUNKS];
} pending_t;

static pending_t pending[DIST_MAX_PENDING];

static int engine_fail(int rc, const char* what) {
  return dist_mpi_fail(rc, what, dist_group.rank);
}

int dist_engine_start(void) { return dist_mpi_boot(); }

int dist_engine_pending(int32_t h) { return h >= 0 && h < DIST_MAX_PENDING && pending[h].used; }

int dist_engine_stop(void) { return LITS_DIST_OK; }

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

int lits_dist_device(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_device: out is NULL");
  *out = -1; /* host memory */
  return LITS_DIST_OK;
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
  int s = dist_need_running(name);
  if (s) return s;
  if ((s = check_buffer(name, buf, count))) return s;
  if (op != LITS_DIST_SUM && op != LITS_DIST_MEAN) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: op %d is neither sum (0) nor mean (1)", name, op);
  }
  if (!handle) return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: handle is NULL", name);
  int h = 0;
  while (h < DIST_MAX_PENDING && pending[h].used) h++;
  if (h == DIST_MAX_PENDING) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: %d all-reduces are pending; wait for some",
                     name, DIST_MAX_PENDING);
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
      if (p->n > 0) dist_mpi_wait(p->n, p->req, name);
      return engine_fail(rc, "MPI_Iallreduce");
    }
    p->n++;
    if (count == 0) break;
  }
  p->used = 1;
  *handle = h;
  return LITS_DIST_OK;
}

int lits_dist_test(int32_t h, int32_t* done) {
  dist_clear_error();
  int s = dist_need_running("lits_dist_test");
  if (s || (s = dist_need_pending(h))) return s;
  if (!done) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_test: done is NULL");
  int flag = 0;
  int rc = MPI_Testall(pending[h].n, pending[h].req, &flag, MPI_STATUSES_IGNORE);
  if (rc != MPI_SUCCESS) return engine_fail(rc, "all-reduce");
  *done = flag;
  return LITS_DIST_OK;
}

int lits_dist_wait(int32_t h) {
  dist_clear_error();
  int s = dist_need_running("lits_dist_wait");
  if (s || (s = dist_need_pending(h))) return s;
  pending_t* p = &pending[h];
  char what[96];
  snprintf(what, sizeof what, "all-reduce of %lld floats", (long long)p->count);
  s = dist_mpi_wait(p->n, p->req, what);
  /* A failed wait keeps the handle: the requests may still be in flight. */
  if (s) return s;
  p->used = 0;
  if (p->op == LITS_DIST_MEAN && dist_group.world > 1) {
    const float inv = 1.0f / (float)dist_group.world;
    for (int64_t i = 0; i < p->count; i++) p->buf[i] *= inv;
  }
  return LITS_DIST_OK;
}

int lits_dist_broadcast(void* buf, int64_t bytes, int32_t root) {
  dist_clear_error();
  const char* name = "broadcast";
  int s = dist_need_running(name);
  if (s || (s = check_buffer(name, buf, bytes))) return s;
  if (root < 0 || root >= dist_group.world) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "%s: root %d is not a rank of a world of %d", name,
                     root, dist_group.world);
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
  return dist_mpi_wait(n, req, what);
}

int lits_dist_abort(int32_t code) {
  int s = dist_need_running("lits_dist_abort");
  if (s) return s;
  int rc = MPI_Abort(MPI_COMM_WORLD, code);
  return engine_fail(rc, "MPI_Abort");
}
