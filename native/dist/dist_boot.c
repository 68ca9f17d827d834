/* See dist_boot.h. */
#define _GNU_SOURCE
#include "dist_boot.h"

#include <dlfcn.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dist_common.h"

int dist_mpi_fail(int rc, const char* what, int32_t rank) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
  return dist_fail(LITS_DIST_ERR_ENGINE, "%s failed on rank %d: MPI: %s", what, rank, text);
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

int dist_mpi_boot(int32_t* rank, int32_t* world, int* we_initialised) {
  promote_libmpi();
  int already = 0, r = 0, w = 1;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return dist_mpi_fail(rc, "MPI_Init_thread", -1);
    *we_initialised = 1;
  }
  /* Errors come back as codes (the default aborts the whole job). */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &w);
  *rank = r;
  *world = w;
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
