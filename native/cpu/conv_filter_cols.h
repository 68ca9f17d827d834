/* conv_filter_cols.h: the filter gradient of a convolution without groups,
 * channels in 16-channel blocks, through packed_gemm.c's GEMM on
 * transposed im2col columns (conv_filter_cols.c), where
 * lits_conv_filter_cols_applies (AVX-512 CPUs). */
#ifndef LITS_CPU_CONV_FILTER_COLS_H
#define LITS_CPU_CONV_FILTER_COLS_H

#include "conv_internal.h"

int lits_conv_filter_cols_applies(const conv_shape* p);
int lits_conv_filter_cols(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* dy, float* dweight);

#endif
