/* Shared helpers of the CPU implementation: error text and argument checks. */
#ifndef LITS_CPU_COMMON_H
#define LITS_CPU_COMMON_H

#include <stdint.h>

#include "lits.h"

/* Records a printf-style message for lits_last_error() and returns status. */
int lits_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns LITS_ERR_ARGUMENT from the calling function when cond is false. */
#define LITS_REQUIRE(cond, ...) \
  do { \
    if (!(cond)) return lits_fail(LITS_ERR_ARGUMENT, __VA_ARGS__); \
  } while (0)

/* Every entry point clears the previous error first. */
void lits_clear_error(void);

/* Scratch memory for kernels (im2col buffers, ...), from the caching allocator
 * so that a steady training step asks the system for nothing. NULL on failure
 * (the error is recorded). */
void* lits_scratch_alloc(int64_t bytes);
void lits_scratch_free(void* p);

#endif
