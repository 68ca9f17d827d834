/* loader.h: finding and opening cuBLAS 13 and cuDNN 9 at run time. */
#ifndef LITS_CUDA_LOADER_H
#define LITS_CUDA_LOADER_H

#include <stddef.h>

/* Opens cuBLASLt + cuBLAS and cuDNN (with its sub-libraries, all from one
 * folder), resolves every function of lc_vendor and checks the versions.
 * Returns 0 and a description of what was found where in `info`, or nonzero
 * and the reason, with every folder searched, in `err`. */
int lc_load_vendor(char* info, size_t info_cap, char* err, size_t err_cap);

/* cuDNN 9's detailed text of its last error (empty when the library has no
 * cudnnGetLastErrorString). */
void lc_cudnn_last_error(char* buf, size_t cap);

#endif
