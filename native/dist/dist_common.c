/* See dist_common.h. */
#define _GNU_SOURCE
#include "dist_common.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Thread_local char error_text[1024];

int dist_fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(error_text, sizeof error_text, fmt, ap);
  va_end(ap);
  return status;
}

void dist_clear_error(void) { error_text[0] = 0; }

const char* lits_dist_last_error(void) { return error_text; }

int lits_dist_abi_version(int32_t* out) {
  if (!out) return dist_fail(LITS_DIST_ERR_ARGUMENT, "lits_dist_abi_version: out is NULL");
  *out = LITS_DIST_ABI_VERSION;
  return LITS_DIST_OK;
}

uint64_t dist_host_id(void) {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const char* p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h;
}

static int32_t my_rank = -1, n_peers = 0;
static uint64_t* peer_hosts = NULL;
static int64_t* peer_pids = NULL;
static volatile sig_atomic_t in_wait = 0, got_sigterm = 0;
static struct sigaction old_term;
static int handler_installed = 0;

int32_t dist_dead_peer(void) {
  uint64_t me = n_peers > 0 ? peer_hosts[my_rank] : 0;
  for (int32_t r = 0; r < n_peers; r++) {
    if (r == my_rank || peer_hosts[r] != me) continue;
    /* kill(pid, 0) is async-signal-safe; ESRCH: no such process. */
    if (kill((pid_t)peer_pids[r], 0) != 0 && errno == ESRCH) return r;
  }
  return -1;
}

int64_t dist_peer_pid(int32_t rank) {
  return rank >= 0 && rank < n_peers ? peer_pids[rank] : -1;
}

int32_t dist_local_rank(void) {
  int32_t local = 0;
  for (int32_t r = 0; r < my_rank && r < n_peers; r++) local += peer_hosts[r] == peer_hosts[my_rank];
  return local;
}

static void put(const char* s) {
  ssize_t ignored = write(2, s, strlen(s));
  (void)ignored;
}

static void put_int(long v) {
  char buf[24];
  int i = sizeof buf - 1;
  unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) buf[--i] = '-';
  put(buf + i);
}

/* mpirun (and srun) stop every rank with SIGTERM when one fails. Inside a
 * wait the wait returns an error (TypeScript then throws it); elsewhere the
 * process says so here, naming the rank that exited when it is on this host,
 * and dies of SIGTERM as it would have. */
static void on_sigterm(int sig) {
  got_sigterm = 1;
  if (in_wait) return;
  put("Error: distributed: rank ");
  put_int(my_rank);
  put(" was stopped by SIGTERM");
  int32_t dead = dist_dead_peer();
  if (dead >= 0) {
    put(": rank ");
    put_int(dead);
    put(" (pid ");
    put_int((long)peer_pids[dead]);
    put(") has exited");
  } else {
    put(" (the launcher stops every rank when one fails; its message names that rank)");
  }
  put("\n");
  sigaction(sig, &old_term, NULL);
  raise(sig);
}

int dist_peers_set(int32_t rank, int32_t world, const uint64_t* hosts, const int64_t* pids) {
  dist_peers_clear();
  peer_hosts = malloc(sizeof *peer_hosts * (size_t)world);
  peer_pids = malloc(sizeof *peer_pids * (size_t)world);
  if (!peer_hosts || !peer_pids) {
    dist_peers_clear();
    return dist_fail(LITS_DIST_ERR_ENGINE, "out of memory for the table of %d ranks", world);
  }
  memcpy(peer_hosts, hosts, sizeof *peer_hosts * (size_t)world);
  memcpy(peer_pids, pids, sizeof *peer_pids * (size_t)world);
  my_rank = rank;
  n_peers = world;
  if (!handler_installed) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term);
    handler_installed = 1;
  }
  return LITS_DIST_OK;
}

void dist_peers_clear(void) {
  if (handler_installed) {
    sigaction(SIGTERM, &old_term, NULL);
    handler_installed = 0;
  }
  free(peer_hosts);
  free(peer_pids);
  peer_hosts = NULL;
  peer_pids = NULL;
  n_peers = 0;
}

double dist_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wait_start, wait_timeout, next_peer_check;

void dist_wait_begin(double timeout_s) {
  wait_start = dist_now();
  wait_timeout = timeout_s;
  next_peer_check = wait_start + 0.1;
  in_wait = 1;
}

void dist_wait_end(void) { in_wait = 0; }

int dist_wait_check(const char* what) {
  if (got_sigterm) {
    int32_t dead = dist_dead_peer();
    if (dead >= 0) {
      return dist_fail(LITS_DIST_ERR_PEER,
                       "rank %d (pid %ld) has exited; rank %d was waiting in %s", dead,
                       (long)peer_pids[dead], my_rank, what);
    }
    return dist_fail(LITS_DIST_ERR_PEER,
                     "rank %d was stopped by SIGTERM while waiting in %s (the launcher stops "
                     "every rank when one fails; its message names that rank)",
                     my_rank, what);
  }
  double now = dist_now();
  if (now >= next_peer_check) {
    next_peer_check = now + 0.1;
    int32_t dead = dist_dead_peer();
    if (dead >= 0) {
      return dist_fail(LITS_DIST_ERR_PEER,
                       "rank %d (pid %ld) has exited; rank %d was waiting in %s", dead,
                       (long)peer_pids[dead], my_rank, what);
    }
  }
  if (now - wait_start > wait_timeout) {
    return dist_fail(LITS_DIST_ERR_PEER,
                     "%s did not complete within the %.0f s timeout on rank %d: another rank "
                     "has stalled, failed on another host, or is not making the same calls",
                     what, wait_timeout, my_rank);
  }
  return LITS_DIST_OK;
}

void dist_wait_pause(long polls) {
  /* MPI over TCP moves bytes only inside MPI calls: any sleep between polls
   * caps the bandwidth (200 us sleeps held 25 MB all-reduces to 0.2 GB/s).
   * So poll flat out, yielding the core, for the first second; after that a
   * rank is waiting for a slower one (or a failed one), and sleeps leave the
   * core to it. */
  (void)polls;
  if (dist_now() - wait_start < 1.0) {
    sched_yield();
    return;
  }
  struct timespec ts = {0, 200000};
  nanosleep(&ts, NULL);
}
