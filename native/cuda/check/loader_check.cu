/* loader_check.cu: runs the vendor loader (loader.cu) once, as lits_init
 * does, and prints what it found, so that tests/cuda_loader_test.ts can drive
 * it against stand-in libraries (fake_vendor.cpp) in a fresh process per
 * case: what a process has dlopen'ed stays loaded.
 *
 * usage: loader_check   (the environment chooses the folders)
 * prints "loaded: INFO" and exits 0, or "unavailable: ERROR" and exits 1.
 * With LITS_FAKE_LOAD_LOG set it appends "returned" to that log when the
 * loader returns, so that the stand-ins' unloads at exit are told apart from
 * the loader's own dlclose calls.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../loader.h"

int main(void) {
  static char info[8192], err[8192];
  const int bad = lc_load_vendor(info, sizeof info, err, sizeof err);
  if (const char* log = getenv("LITS_FAKE_LOAD_LOG")) {
    if (FILE* f = fopen(log, "a")) {
      fputs("returned\n", f);
      fclose(f);
    }
  }
  printf(bad ? "unavailable: %s\n" : "loaded: %s\n", bad ? err : info);
  return bad ? 1 : 0;
}
