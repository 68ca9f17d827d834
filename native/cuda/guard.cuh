/* guard.cuh: C++ exceptions stop at the C ABI.
 *
 * Host containers (std::map, std::vector, new) throw std::bad_alloc when the
 * host is out of memory, and std::mutex may throw std::system_error; an
 * exception that reaches an extern "C" function's caller (Deno) aborts the
 * process. lc_guarded runs a body and turns any exception into a status and
 * a message for lits_last_error(). Free of CUDA calls, so host_check tests it.
 */
#ifndef LITS_CUDA_GUARD_CUH
#define LITS_CUDA_GUARD_CUH

#include <exception>
#include <new>

#include "lits.h"

int lc_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* body() returns a lits status; fn names the entry point in the message. */
template <typename F>
int lc_guarded(const char* fn, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return lc_fail(LITS_ERR_MEMORY, "%s: out of host memory (std::bad_alloc)", fn);
  } catch (const std::exception& e) {
    return lc_fail(LITS_ERR_INTERNAL, "%s: internal error: C++ exception: %s", fn, e.what());
  } catch (...) {
    return lc_fail(LITS_ERR_INTERNAL, "%s: internal error: unknown C++ exception", fn);
  }
}

#endif /* LITS_CUDA_GUARD_CUH */
