/* gelu.h: GELU's kernels (gelu.c), called by lits_unary_f32 and
 * lits_unary_backward_f32 (elementwise.c). */
#ifndef LITS_CPU_GELU_H
#define LITS_CPU_GELU_H

#include <stdint.h>

/* y = gelu(x) (grad 0), or y = dy * gelu'(x) (grad 1), over n floats; the
 * tanh approximation when tanh_form. y may be dy. Parallel when large. */
void lits_gelu_apply(int tanh_form, int grad, const float* x, const float* dy, float* y,
                     int64_t n);

#endif
