/*
 * What both engines share: the error text, the peers table (host and pid of
 * every rank, so that a wait can name a rank that has exited), SIGTERM
 * handling and the deadline of a wait.
 */
#ifndef LITS_DIST_COMMON_H
#define LITS_DIST_COMMON_H

#include <stdint.h>

#include "lits_dist.h"

/* Sets the error text (printf style) and returns status. */
int dist_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void dist_clear_error(void);

/* This host's id (hash of the host name) and this process's pid. */
uint64_t dist_host_id(void);

/* Takes the table of every rank's host id and pid (copied), and installs the
 * SIGTERM handler. rank, world: this process's. */
int dist_peers_set(int32_t rank, int32_t world, const uint64_t* hosts, const int64_t* pids);
void dist_peers_clear(void);

/* A rank on this host whose process has exited, or -1. */
int32_t dist_dead_peer(void);
int64_t dist_peer_pid(int32_t rank);
/* This rank's position among the ranks on its host (0 for the first). */
int32_t dist_local_rank(void);

/* Seconds on the monotonic clock. */
double dist_now(void);

/* A wait in progress: call dist_wait_begin, then dist_wait_check on each
 * poll (it returns LITS_DIST_OK while waiting may go on, else the status
 * with the error text set), then dist_wait_end. what: e.g. "all-reduce of
 * 12 floats". */
void dist_wait_begin(double timeout_s);
int dist_wait_check(const char* what);
void dist_wait_end(void);
/* Yields between polls at first; sleeps a little once the wait has lasted. */
void dist_wait_pause(long polls);

#endif
