/* loader_check.cu: runs the vendor loader (loader.cu) once, as lits_init
 * does, and prints what it found, so that tests/cuda_loader_test.ts can drive
 * it against stand-in libraries (fake_vendor.cpp) in a fresh process per
 * case: what a process has dlopen'ed stays loaded.
 *
 * usage: loader_check   (the environment chooses the folders)
 * prints "loaded: INFO" and exits 0, or "unavailable: ERROR" and exits 1.
 */
#include <stdio.h>

#include "../loader.h"

int main(void) {
  static char info[8192], err[8192];
  const int bad = lc_load_vendor(info, sizeof info, err, sizeof err);
  printf(bad ? "unavailable: %s\n" : "loaded: %s\n", bad ? err : info);
  return bad ? 1 : 0;
}
