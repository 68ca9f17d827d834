/*
 * A stand-in libnccl.so.2 for tests on machines without a GPU: NCCL's entry
 * points with NCCL's numbering, doing the collectives with MPI on host
 * memory (the stand-in driver's "device" memory is host memory). Env:
 * FAKE_NCCL_VERSION (default 22304), FAKE_NCCL_FAIL=allreduce (fail it).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { int rank, nranks; char id[128]; } comm_t;
typedef struct { char internal[128]; } ncclUniqueId;

int ncclGetVersion(int* v) {
  const char* e = getenv("FAKE_NCCL_VERSION");
  *v = e ? atoi(e) : 22304;
  return 0;
}
int ncclGetUniqueId(ncclUniqueId* id) {
  memset(id, 0, sizeof *id);
  snprintf(id->internal, sizeof id->internal, "stand-in nccl id of pid %d", (int)getpid());
  return 0;
}
const char* ncclGetErrorString(int r) {
  return r == 3 ? "internal error (stand-in: FAKE_NCCL_FAIL)" : r ? "stand-in error" : "no error";
}
int ncclCommInitRank(comm_t** comm, int nranks, ncclUniqueId id, int rank) {
  int world, me;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  MPI_Comm_rank(MPI_COMM_WORLD, &me);
  /* Every rank must hold rank 0's id: the bootstrap's job. */
  char first[128];
  memcpy(first, id.internal, sizeof first);
  MPI_Bcast(first, sizeof first, MPI_BYTE, 0, MPI_COMM_WORLD);
  if (nranks != world || rank != me || memcmp(first, id.internal, sizeof first) != 0) return 4;
  if (strncmp(id.internal, "stand-in nccl id", 16) != 0) return 4;
  *comm = calloc(1, sizeof **comm);
  (*comm)->rank = rank;
  (*comm)->nranks = nranks;
  return 0;
}
int ncclAllReduce(const void* send, void* recv, size_t count, int type, int op, comm_t* comm,
                  void* stream) {
  (void)stream;
  const char* fail = getenv("FAKE_NCCL_FAIL");
  if (fail && strcmp(fail, "allreduce") == 0) return 3;
  if (type != 7 || (op != 0 && op != 4)) return 4;
  if (send != recv) memcpy(recv, send, count * 4);
  MPI_Allreduce(MPI_IN_PLACE, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  if (op == 4) for (size_t i = 0; i < count; i++) ((float*)recv)[i] /= (float)comm->nranks;
  return 0;
}
int ncclBroadcast(const void* send, void* recv, size_t count, int type, int root, comm_t* comm,
                  void* stream) {
  (void)stream;
  (void)comm;
  if (type != 1) return 4;
  if (send != recv) memcpy(recv, send, count);
  MPI_Bcast(recv, (int)count, MPI_BYTE, root, MPI_COMM_WORLD);
  return 0;
}
int ncclCommGetAsyncError(comm_t* comm, int* r) {
  (void)comm;
  *r = 0;
  return 0;
}
int ncclCommAbort(comm_t* comm) {
  free(comm);
  return 0;
}
int ncclCommDestroy(comm_t* comm) {
  free(comm);
  return 0;
}
