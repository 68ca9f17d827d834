/*
 * The process group over MPI, shared by both libraries: MPI carries the NCCL
 * library's bootstrap (rank, world, the unique id) and its barrier as well as
 * the CPU collectives, so joining, the barrier and leaving are the same code
 * in both, here. Each engine adds its own start, stop and pending handles
 * through the three dist_engine_* functions below.
 */
#ifndef LITS_DIST_BOOT_H
#define LITS_DIST_BOOT_H

#include <mpi.h>
#include <stdint.h>

/* Where the group is: lits_dist_init moves it from not started to running,
 * lits_dist_finalize (or, on NCCL, a failed wait) to finalised. */
enum { DIST_NOT_STARTED, DIST_RUNNING, DIST_FINALISED };

/* Started all-reduces that may be pending at once (lits_dist.h says 256). */
#define DIST_MAX_PENDING 256

typedef struct {
  int state;
  int32_t rank, world;
  double timeout_s;   /* of every wait, from lits_dist_init */
  int we_initialised; /* MPI was started here, so MPI_Finalize is ours to call */
} dist_group_t;

extern dist_group_t dist_group;

/* LITS_DIST_OK while the group runs, else the state error "what: ...". */
int dist_need_running(const char* what);
/* LITS_DIST_OK when h is a pending all-reduce, else the argument error. */
int dist_need_pending(int32_t h);

/* Initialises MPI when nobody has (sets dist_group.we_initialised), makes
 * errors come back as codes, sets dist_group.rank and .world, and fills the
 * peers table (dist_common.h). */
int dist_mpi_boot(void);
/* The status for a failed MPI call, with MPI's own text. */
int dist_mpi_fail(int rc, const char* what, int32_t rank);
/* Polls the n requests until all complete, under the group's deadline. */
int dist_mpi_wait(int n, MPI_Request* req, const char* what);

/* What each engine (dist_mpi.c, dist_nccl.c) provides. */
/* Joins the job (calls dist_mpi_boot) and readies the engine. */
int dist_engine_start(void);
/* 1 when h is a pending all-reduce's handle, else 0. */
int dist_engine_pending(int32_t h);
/* Releases the engine at finalize, before the peers table and MPI go. */
int dist_engine_stop(void);

#endif
