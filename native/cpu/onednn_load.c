/* onednn_load.c: libdnnl.so.2 opened with dlopen on first use, never
 * linked, and the calls its two users share (onednn_load.h). */
#include "onednn_load.h"

#include "common.h"

#if LITS_HAVE_ONEDNN
#include <dlfcn.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFINE(f) __typeof__(&f) p_##f;
DNNL_FNS(DEFINE)
#undef DEFINE

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded; /* 0 not tried, 1 ready, -1 unavailable */
static int amx;    /* oneDNN runs AMX tiles here */
static dnnl_engine_t engine;
static dnnl_stream_t stream;

void lits_onednn_lock(void) { pthread_mutex_lock(&lock); }
void lits_onednn_unlock(void) { pthread_mutex_unlock(&lock); }
int lits_onednn_amx(void) { return amx; }
dnnl_engine_t lits_onednn_engine(void) { return engine; }

int lits_onednn_load(void) {
  if (loaded != 0) return loaded > 0;
  loaded = -1;
  const char* name = getenv("LITS_ONEDNN_LIB");
  void* h = dlopen(name != NULL && name[0] != '\0' ? name : "libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) return 0;
#define RESOLVE(f)                      \
  p_##f = (__typeof__(&f))dlsym(h, #f); \
  if (p_##f == NULL) {                  \
    dlclose(h);                         \
    return 0;                           \
  }
  DNNL_FNS(RESOLVE)
#undef RESOLVE
  /* AMX under oneDNN's dispatch cap: 2.x leaves ISAs it calls "initial
   * support" out by default (AMX was, in 2.2: oneDNN issue #1039), which
   * could not be checked for 2.6 without an AMX CPU. The cap only limits
   * (other CPUs keep their best ISA) and must come before any other call;
   * ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA, if set, keep the say. */
  if (getenv("ONEDNN_MAX_CPU_ISA") == NULL && getenv("DNNL_MAX_CPU_ISA") == NULL)
    p_dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx512_core_amx);
  amx = p_dnnl_get_effective_cpu_isa() == dnnl_cpu_isa_avx512_core_amx;
  if (p_dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return 0;
  if (p_dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return 0;
  loaded = 1;
  return 1;
}

dnnl_primitive_desc_t lits_onednn_conv_pd(const conv_shape* p, int kind,
                                          const dnnl_memory_desc_t* src,
                                          const dnnl_memory_desc_t* w,
                                          const dnnl_memory_desc_t* dst,
                                          const dnnl_memory_desc_t* hint_src,
                                          const dnnl_memory_desc_t* hint_w,
                                          const_dnnl_primitive_attr_t attr) {
  const dnnl_dims_t st = {p->sh, p->sw}, pad = {p->ph, p->pw};
  const dnnl_dims_t pr = {(p->oh - 1) * p->sh + p->r - p->h - p->ph,
                          (p->ow - 1) * p->sw + p->s - p->w - p->pw};
  dnnl_convolution_desc_t fd, bd;
  if (p_dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                           hint_src, hint_w, NULL, dst, st, pad,
                                           pr) != dnnl_success)
    return NULL;
  dnnl_primitive_desc_t fpd = NULL, pd = NULL;
  if (p_dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL) != dnnl_success) return NULL;
  if (kind == 0) return fpd;
  dnnl_status_t s;
  if (kind == 1) {
    s = p_dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, src, w, dst, st,
                                                   pad, pr);
  } else {
    s = p_dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, src, w, NULL,
                                                      dst, st, pad, pr);
  }
  if (s == dnnl_success &&
      p_dnnl_primitive_desc_create(&pd, &bd, attr, engine, fpd) != dnnl_success)
    pd = NULL;
  p_dnnl_primitive_desc_destroy(fpd);
  return pd;
}

void lits_onednn_weights_md(dnnl_memory_desc_t* md, const conv_shape* p, dnnl_data_type_t dt,
                            int plain) {
  if (p->groups == 1) {
    const dnnl_dims_t d = {p->k, p->c, p->r, p->s};
    p_dnnl_memory_desc_init_by_tag(md, 4, d, dt, plain ? dnnl_oihw : dnnl_format_tag_any);
  } else {
    const dnnl_dims_t d = {p->groups, p->kg, p->cg, p->r, p->s};
    p_dnnl_memory_desc_init_by_tag(md, 5, d, dt, plain ? dnnl_goihw : dnnl_format_tag_any);
  }
}

int lits_onednn_fast_impl(const_dnnl_primitive_desc_t pd) {
  const char* name = NULL;
  if (p_dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success)
    return 0;
  return name != NULL && (strncmp(name, "jit", 3) == 0 || strncmp(name, "brg", 3) == 0);
}

dnnl_primitive_t lits_onednn_primitive(dnnl_primitive_desc_t pd, size_t* scratch) {
  dnnl_primitive_t prim = NULL;
  const size_t s = p_dnnl_memory_desc_get_size(
      p_dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
  if (s > *scratch) *scratch = s;
  if (p_dnnl_primitive_create(&prim, pd) != dnnl_success) prim = NULL;
  p_dnnl_primitive_desc_destroy(pd);
  return prim;
}

int lits_onednn_execute(dnnl_primitive_t prim, const dnnl_memory_desc_t* const* mds,
                        void* const* ptrs, const int* ids, int nargs, const char* what) {
  dnnl_exec_arg_t args[8] = {{0}}; /* (gcc cannot see that only made < nargs are read) */
  int made = 0;
  while (made < nargs && made < 8) {
    args[made].arg = ids[made];
    if (p_dnnl_memory_create(&args[made].memory, mds[made], engine, ptrs[made]) != dnnl_success)
      break;
    made++;
  }
  int ok = made == nargs && p_dnnl_primitive_execute(prim, stream, nargs, args) == dnnl_success;
  ok = ok && p_dnnl_stream_wait(stream) == dnnl_success;
  for (int i = 0; i < made; i++) p_dnnl_memory_destroy(args[i].memory);
  return ok ? LITS_OK : lits_fail(LITS_ERR_INTERNAL, "oneDNN failed to run %s", what);
}

dnnl_memory_desc_t lits_onednn_scratch_md(size_t bytes) {
  dnnl_memory_desc_t md;
  const dnnl_dims_t d = {(dnnl_dim_t)(bytes > 0 ? bytes : 1)};
  p_dnnl_memory_desc_init_by_tag(&md, 1, d, dnnl_u8, dnnl_x);
  return md;
}

void lits_onednn_plan_drop(onednn_plan* pl, size_t size) {
  if (pl->conv != NULL) p_dnnl_primitive_destroy(pl->conv);
  if (pl->reorder != NULL) p_dnnl_primitive_destroy(pl->reorder);
  memset(pl, 0, size);
}

onednn_plan* lits_onednn_plan_for(void* plans, int n, size_t size, const conv_shape* p, int kind,
                                  onednn_plan* tmp, onednn_build_fn build) {
  const int64_t key[LITS_ONEDNN_KEY_LEN] = {kind + 1, p->n,  p->c,  p->h,  p->w,
                                            p->k,     p->r,  p->s,  p->sh, p->sw,
                                            p->ph,    p->pw, p->groups,
                                            omp_get_max_threads()};
  onednn_plan* slot = NULL;
  for (int i = 0; i < n; i++) {
    onednn_plan* pl = (onednn_plan*)((char*)plans + (size_t)i * size);
    if (memcmp(pl->key, key, sizeof(key)) == 0) return pl->conv != NULL ? pl : NULL;
    if (slot == NULL && pl->key[0] == 0) slot = pl;
  }
  if (slot == NULL) slot = tmp;
  memset(slot, 0, size);
  if (!build(p, kind, slot)) lits_onednn_plan_drop(slot, size);
  memcpy(slot->key, key, sizeof(key)); /* a declined shape is remembered too */
  return slot->conv != NULL ? slot : NULL;
}

int lits_onednn_plan_reorder(onednn_plan* pl, const dnnl_memory_desc_t* from,
                             const dnnl_memory_desc_t* to, const_dnnl_primitive_attr_t attr) {
  dnnl_primitive_desc_t rpd = NULL;
  if (p_dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, attr) != dnnl_success)
    return 0;
  pl->reorder = lits_onednn_primitive(rpd, &pl->scratch);
  return pl->reorder != NULL;
}

#endif
