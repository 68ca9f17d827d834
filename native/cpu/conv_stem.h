/* conv_stem.h: conv_stem.c's rows, for the kernels that consume them as
 * they are made (conv_stem_pool.c). */
#ifndef LITS_CPU_CONV_STEM_H
#define LITS_CPU_CONV_STEM_H

#include <stdint.h>

#include "conv_internal.h"
#include "fused_internal.h"

#define MAX_TAPS 11 /* r and s at most this */

/* Where block() writes: channel planes ld floats apart, streamed where
 * stream (and aligned); relu?(T(v)) of channel ch0 + i of k in coef (a
 * batch norm in evaluation, as the max pool would apply it) where coef or
 * relu; relu may also be ReLU6's or SiLU's code (fused_internal.h: a
 * convolution's evaluation epilogue, lits_conv_stem_forward's act). */
typedef struct {
  int64_t ld;
  int stream;
  const float* coef;
  int relu;
  int64_t ch0, k;
  /* The row's moments per channel, or NULL: shift, sum(v - shift) and
   * sum((v - shift)^2) at 3 ch .. (conv_stem.c's lits_conv_stem_forward) */
  double* mom;
} stem_out;

/* What every thread reads to make output rows: the packed weights and the
 * input's transform; each thread has its own ring of split rows. */
typedef struct {
  const conv_shape* p;
  const float* x;
  const float* wp;
  fused_affine t;
  int relu, bf16;
  int64_t len, taps, blocks;
} stem_plan;

/* A thread's ring of split input rows: the next output row reuses r - 2. */
typedef struct {
  float* ring;              /* r split rows (even then odd halves, len each) */
  int64_t held[MAX_TAPS];   /* the (image, row) each slot holds, or -1 */
} stem_ring;

/* Floats of scratch: the packed weights (shared), a thread's ring. */
int64_t lits_stem_weights_floats(const conv_shape* p);
int64_t lits_stem_ring_floats(const conv_shape* p);
/* The plan, packing the weights into wp (lits_stem_weights_floats). */
stem_plan lits_stem_setup(const conv_shape* p, const float* x, const conv_xform* xf,
                          const float* weight, int bf16, float* wp);
/* An empty ring in lits_stem_ring_floats floats. */
stem_ring lits_stem_ring_at(float* ring);
/* Output row oy of image ni, all channels, written as e says (channel
 * planes e.ld apart from out), split rows taken from the ring where it
 * holds them. AVX-512 CPUs (where lits_conv_stem_applies). */
void lits_stem_row(const stem_plan* s, stem_ring* rg, int64_t ni, int64_t oy, const float* bias,
                   stem_out e, float* out);

#endif
