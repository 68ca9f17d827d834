/* See dist_boot.h. */
#define _GNU_SOURCE
#include "dist_boot.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dist_common.h"

dist_group_t dist_group = {DIST_NOT_STARTED, 0, 1, 1800, 0};

int dist_need_running(const char* what) {
  if (dist_group.state == DIST_RUNNING) return LITS_DIST_OK;
  return dist_fail(LITS_DIST_ERR_STATE, "%s: the process group is %s", what,
                   dist_group.state == DIST_NOT_STARTED
                       ? "not initialised (call lits_dist_init first)"
                       : "finalised");
}

int dist_need_pending(int32_t h) {
  if (dist_engine_pending(h)) return LITS_DIST_OK;
  return dist_fail(LITS_DIST_ERR_ARGUMENT, "handle %d is not a pending all-reduce", h);
}

int dist_mpi_fail(int rc, const char* what, int32_t rank) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
  /* Open MPI reports a rank in a barrier (or finalize) matched against another
   * rank's all-reduce as an error in a request's status (or a truncated
   * message), which says nothing of the cause: ranks out of step. */
  int cls = 0;
  const char* hint = "";
  if (MPI_Error_class(rc, &cls) == MPI_SUCCESS && (cls == MPI_ERR_IN_STATUS || cls == MPI_ERR_TRUNCATE)) {
    hint = " (the ranks made different collective calls here, e.g. one in a barrier or "
           "destroyProcessGroup while another is in an all-reduce: do all ranks run the same "
           "number of batches? use DistributedSampler, and the same epochs and steps on every rank)";
  }
  return dist_fail(LITS_DIST_ERR_ENGINE, "%s failed on rank %d: MPI: %s%s", what, rank, text, hint);
}

int dist_mpi_wait(int n, MPI_Request* req, const char* what) {
  int s = LITS_DIST_OK;
  dist_wait_begin(dist_group.timeout_s);
  for (long polls = 0;; polls++) {
    int done = 0;
    int rc = MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) {
      s = dist_mpi_fail(rc, what, dist_group.rank);
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

/* Deno opens libraries RTLD_LOCAL, so libmpi (our dependency) arrives in a
 * local scope; Open MPI's plugins (mca_*.so, opened by libmpi) resolve
 * libmpi's symbols in the global scope and fail to load without this. */
static void promote_libmpi(void) {
  Dl_info info;
  if (dladdr((void*)&MPI_Init, &info) && info.dli_fname) {
    dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD); /* re-flags the mapped copy */
  }
}

int dist_mpi_boot(void) {
  promote_libmpi();
  int already = 0, r = 0, w = 1;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return dist_mpi_fail(rc, "MPI_Init_thread", -1);
    dist_group.we_initialised = 1;
  }
  /* Errors come back as codes (the default aborts the whole job). */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &w);
  dist_group.rank = r;
  dist_group.world = w;
  uint64_t* hosts = malloc(sizeof *hosts * (size_t)w);
  int64_t* pids = malloc(sizeof *pids * (size_t)w);
  if (!hosts || !pids) {
    free(hosts);
    free(pids);
    return dist_fail(LITS_DIST_ERR_ENGINE, "lits_dist_init: out of memory");
  }
  uint64_t my_host = dist_host_id();
  int64_t my_pid = (int64_t)getpid();
  int rc = MPI_Allgather(&my_host, 1, MPI_UINT64_T, hosts, 1, MPI_UINT64_T, MPI_COMM_WORLD);
  if (rc == MPI_SUCCESS) {
    rc = MPI_Allgather(&my_pid, 1, MPI_INT64_T, pids, 1, MPI_INT64_T, MPI_COMM_WORLD);
  }
  int status = rc == MPI_SUCCESS ? dist_peers_set(r, w, hosts, pids)
                                 : dist_mpi_fail(rc, "lits_dist_init: exchanging host and pid", r);
  free(hosts);
  free(pids);
  return status;
}

/* ---- the lits_dist.h functions that are the same on both engines ------- */
int lits_dist_init(double timeout, int32_t* out) {
  dist_clear_error();
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_init: out is NULL");
  if (!(timeout > 0)) {
    return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_init: timeout must be > 0 s, got %g",
                     timeout);
  }
  if (dist_group.state == DIST_FINALISED) {
    return dist_fail(LITS_DIST_ERR_STATE,
                     "lits_dist_init: the process group was finalised; it cannot start again "
                     "in the same process");
  }
  dist_group.timeout_s = timeout;
  if (dist_group.state == DIST_NOT_STARTED) {
    int s = dist_engine_start();
    if (s) return s;
    dist_group.state = DIST_RUNNING;
  }
  out[0] = dist_group.rank;
  out[1] = dist_group.world;
  return LITS_DIST_OK;
}

int lits_dist_rank(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_rank: out is NULL");
  int s = dist_need_running("lits_dist_rank");
  if (!s) *out = dist_group.rank;
  return s;
}

int lits_dist_world_size(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_world_size: out is NULL");
  int s = dist_need_running("lits_dist_world_size");
  if (!s) *out = dist_group.world;
  return s;
}

int lits_dist_all_reduce_f32(float* buf, int64_t count, int32_t op) {
  int32_t h;
  int s = lits_dist_all_reduce_start_f32(buf, count, op, &h);
  return s ? s : lits_dist_wait(h);
}

int lits_dist_barrier(void) {
  dist_clear_error();
  int s = dist_need_running("barrier");
  if (s) return s;
  MPI_Request req;
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
  if (rc != MPI_SUCCESS) return dist_mpi_fail(rc, "MPI_Ibarrier", dist_group.rank);
  return dist_mpi_wait(1, &req, "barrier");
}

int lits_dist_finalize(void) {
  dist_clear_error();
  if (dist_group.state != DIST_RUNNING) return LITS_DIST_OK;
  for (int32_t h = 0; h < DIST_MAX_PENDING; h++) {
    if (dist_engine_pending(h)) {
      int s = lits_dist_wait(h);
      if (s) return s;
    }
  }
  /* A barrier under the deadline first: MPI_Finalize itself may wait for a
   * failed rank forever. */
  int s = lits_dist_barrier();
  if (s) return s;
  dist_group.state = DIST_FINALISED;
  s = dist_engine_stop();
  dist_peers_clear();
  if (s) return s;
  if (dist_group.we_initialised) {
    int rc = MPI_Finalize();
    if (rc != MPI_SUCCESS) return dist_mpi_fail(rc, "MPI_Finalize", dist_group.rank);
  }
  return LITS_DIST_OK;
}
