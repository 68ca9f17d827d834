/*
 * Joining the MPI job, shared by both libraries: MPI carries the NCCL
 * library's bootstrap (rank, world, the unique id) as well as the CPU
 * collectives.
 */
#ifndef LITS_DIST_BOOT_H
#define LITS_DIST_BOOT_H

#include <stdint.h>

/* Initialises MPI when nobody has (sets *we_initialised), makes errors come
 * back as codes, and fills the peers table (dist_common.h). */
int dist_mpi_boot(int32_t* rank, int32_t* world, int* we_initialised);
/* The status for a failed MPI call, with MPI's own text. */
int dist_mpi_fail(int rc, const char* what, int32_t rank);

#endif
