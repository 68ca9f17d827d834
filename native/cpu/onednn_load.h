/* onednn_load.h: oneDNN (Debian's libdnnl.so.2, 2.6) opened at run time,
 * shared by its two users: the bf16 convolutions (conv_bf16_onednn.c) and
 * the fp32 stride-2 ones (conv_onednn_f32.c). Without the header at build
 * time LITS_HAVE_ONEDNN is 0 and both files are stubs that decline. */
#ifndef LITS_CPU_ONEDNN_LOAD_H
#define LITS_CPU_ONEDNN_LOAD_H

/* What the oneDNN calls return when oneDNN does not take the call (not
 * chosen for the shape, LITS_ONEDNN=off, no libdnnl.so.2, a primitive it
 * would not create): the caller runs its own kernels. Otherwise LITS_OK
 * or an error status (recorded). */
#define LITS_ONEDNN_DECLINED (-1)

#if __has_include(<oneapi/dnnl/dnnl.h>)
#define LITS_HAVE_ONEDNN 1
#include <stddef.h>
#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

#include "conv_internal.h"

/* The entry points we call, typed from the header. */
#define DNNL_FNS(X)                                                                         \
  X(dnnl_set_max_cpu_isa)                                                                   \
  X(dnnl_get_effective_cpu_isa)                                                             \
  X(dnnl_engine_create)                                                                     \
  X(dnnl_stream_create)                                                                     \
  X(dnnl_stream_wait)                                                                       \
  X(dnnl_memory_desc_init_by_tag)                                                           \
  X(dnnl_memory_desc_equal)                                                                 \
  X(dnnl_memory_desc_get_size)                                                              \
  X(dnnl_memory_create)                                                                     \
  X(dnnl_memory_destroy)                                                                    \
  X(dnnl_convolution_forward_desc_init)                                                     \
  X(dnnl_convolution_backward_data_desc_init)                                               \
  X(dnnl_convolution_backward_weights_desc_init)                                            \
  X(dnnl_primitive_attr_create)                                                             \
  X(dnnl_primitive_attr_destroy)                                                            \
  X(dnnl_primitive_attr_set_scratchpad_mode)                                                \
  X(dnnl_primitive_attr_set_post_ops)                                                       \
  X(dnnl_post_ops_create)                                                                   \
  X(dnnl_post_ops_destroy)                                                                  \
  X(dnnl_post_ops_append_sum)                                                               \
  X(dnnl_post_ops_append_eltwise)                                                           \
  X(dnnl_post_ops_append_binary)                                                            \
  X(dnnl_primitive_desc_create)                                                             \
  X(dnnl_reorder_primitive_desc_create)                                                     \
  X(dnnl_primitive_desc_query)                                                              \
  X(dnnl_primitive_desc_query_md)                                                           \
  X(dnnl_primitive_desc_destroy)                                                            \
  X(dnnl_primitive_create)                                                                  \
  X(dnnl_primitive_destroy)                                                                 \
  X(dnnl_primitive_execute)

#define LITS_DNNL_DECLARE(f) extern __attribute__((visibility("hidden"))) __typeof__(&f) p_##f;
DNNL_FNS(LITS_DNNL_DECLARE)
#undef LITS_DNNL_DECLARE

/* Every use of oneDNN (loading, plans, runs) holds this lock: one engine
 * and stream, and plan caches without locks of their own. */
void lits_onednn_lock(void);
void lits_onednn_unlock(void);
/* 1 once libdnnl is open with its engine and stream (tried once; under
 * the lock). LITS_ONEDNN_LIB names another file (tests make it fail to
 * stand for a machine without libdnnl). */
int lits_onednn_load(void);
/* Whether oneDNN runs AMX tiles here (after a successful load). */
int lits_onednn_amx(void);
dnnl_engine_t lits_onednn_engine(void);

/* A JIT (or brgemm) kernel: oneDNN's reference and gemm fallbacks are far
 * slower than our own kernels. */
int lits_onednn_fast_impl(const_dnnl_primitive_desc_t pd);
/* The primitive of pd (destroyed), NULL when it fails; its scratchpad's
 * size into *scratch when larger. */
dnnl_primitive_t lits_onednn_primitive(dnnl_primitive_desc_t pd, size_t* scratch);
/* One primitive run on its arguments (at most 8: memory objects made over
 * our buffers); what names the call in the error. */
int lits_onednn_execute(dnnl_primitive_t prim, const dnnl_memory_desc_t* const* mds,
                        void* const* ptrs, const int* ids, int nargs, const char* what);
/* A byte memory descriptor for a user scratchpad of `bytes`. */
dnnl_memory_desc_t lits_onednn_scratch_md(size_t bytes);
/* The primitive descriptor of a direct convolution of p's geometry, or NULL
 * where oneDNN has none: kind 0 the forward (src, w, dst), 1 the backward
 * data (diff_src src, w, diff_dst dst), 2 the backward weights (src,
 * diff_weights w, diff_dst dst); a backward one has the forward of
 * (hint_src, hint_w, dst) as its hint. */
dnnl_primitive_desc_t lits_onednn_conv_pd(const conv_shape* p, int kind,
                                          const dnnl_memory_desc_t* src,
                                          const dnnl_memory_desc_t* w,
                                          const dnnl_memory_desc_t* dst,
                                          const dnnl_memory_desc_t* hint_src,
                                          const dnnl_memory_desc_t* hint_w,
                                          const_dnnl_primitive_attr_t attr);
/* The descriptor of p's weights in type dt: [k, c, r, s] (oihw where
 * plain, else format any), or with groups [groups, k / groups, c / groups,
 * r, s] (goihw: the same bytes as our [k, c / groups, r, s]). */
void lits_onednn_weights_md(dnnl_memory_desc_t* md, const conv_shape* p, dnnl_data_type_t dt,
                            int plain);

#define LITS_ONEDNN_KEY_LEN 14

/* What every cached plan (one kind, shape and thread count's primitives)
 * starts with; each user's plan type adds its memory descriptors. */
typedef struct {
  int64_t key[LITS_ONEDNN_KEY_LEN]; /* key[0] = kind + 1; 0: a free slot */
  dnnl_primitive_t conv, reorder;   /* reorder: the weights', or NULL */
  size_t scratch;                   /* the larger scratchpad of the two */
} onednn_plan;

/* Fills a zeroed plan (size bytes) for (p, kind): 1, or 0 when oneDNN
 * declines it. */
typedef int (*onednn_build_fn)(const conv_shape* p, int kind, onednn_plan* pl);
/* The cached plan of (p, kind) among n of `size` bytes each at plans,
 * built on first use; NULL when declined (a declined shape is remembered
 * too). A full cache builds into *tmp, which the caller drops after the
 * call. Under the lock. */
onednn_plan* lits_onednn_plan_for(void* plans, int n, size_t size, const conv_shape* p, int kind,
                                  onednn_plan* tmp, onednn_build_fn build);
/* Destroys a plan's primitives and zeroes its size bytes. */
void lits_onednn_plan_drop(onednn_plan* pl, size_t size);
/* The weights' reorder from one layout to another into pl (its scratchpad
 * counted): 1, or 0 when oneDNN would not make it. */
int lits_onednn_plan_reorder(onednn_plan* pl, const dnnl_memory_desc_t* from,
                             const dnnl_memory_desc_t* to, const_dnnl_primitive_attr_t attr);

#else
#define LITS_HAVE_ONEDNN 0
#endif

#endif
