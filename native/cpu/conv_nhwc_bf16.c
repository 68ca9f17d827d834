/* conv_nhwc_bf16.c: evaluation under bf16 autocast as a chain of
 * convolutions whose activations stay bf16 and channels-last (NHWC: a
 * pixel's channels side by side) from one to the next, each with its batch
 * norm, residual and ReLU applied as oneDNN post-ops before the one
 * rounding to bf16 (lits.h, "channels-last bf16 evaluation").
 *
 * Why: our tensors are NCHW fp32, so each bf16 convolution of conv_bf16.c
 * reads fp32 and rounds it, and writes fp32 that the next one reads and
 * rounds again; oneDNN's AMX kernels read channels-last bf16 only, so each
 * call there converts both ways too. ResNet-50's evaluation, batch 16, 1 x
 * 256^2, 2-core Xeon with AMX: its stages' convolutions took 165 ms through
 * conv_bf16.c, 101-105 ms as this chain (the post-ops and the rounding of
 * the weights on every call included; 7 ms of it is that rounding, which a
 * cache of the rounded weights, hashed on every call as conv_prepared.c's,
 * did not make faster). PyTorch's autocast keeps these activations in bf16
 * too; here they are rounded once per convolution (after its batch norm,
 * residual and ReLU), where PyTorch rounds after each op.
 *
 * oneDNN runs the convolutions (its brgconv kernels on AMX, its
 * avx512_core_bf16 kernels on CPUs with vdpbf16ps only), but for the 1x1
 * ones where AMX tiles are not to be had: they run our vdpbf16ps kernel
 * (conv_nhwc_bf16_pointwise.c; LITS_NHWC_1X1=onednn sends them to
 * oneDNN, to compare), 11% faster over ResNet-50's at batch 16 on a Zen 4.
 * The weights are rounded into the other kernels' layout by write_weights
 * where it knows the layout (LITS_NHWC_WEIGHTS=onednn: by oneDNN's reorder,
 * to compare). We round x to bf16 channels-last at the
 * chain's start (conv_bf16_blocked.c's conversion) and widen the last
 * output back to NCHW fp32. The kernels run on both; whether a model
 * chains is its own choice (src/models/resnet_chain.ts). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bf16_blocking.h" /* lits_bf16_amx_on */
#include "bf16_internal.h"
#include "common.h"
#include "conv_bf16_onednn.h" /* lits_bf16_to_blocked */
#include "conv_internal.h"
#include "onednn_load.h"

#if LITS_HAVE_ONEDNN
#include <omp.h>

#define WHAT "a channels-last bf16 convolution"

/* Post-ops of a plan: which of the batch norm (per-channel multiply and
 * add), the residual (oneDNN's sum: y holds it before the call) and the
 * ReLU apply, and whether oneDNN adds a bias (with a batch norm the bias is
 * folded into its add). Part of the plan's key. */
enum { WITH_BIAS = 1, WITH_BN = 2, WITH_SUM = 4, WITH_RELU = 8 };
#define KIND_BASE 16 /* the plan's kind: KIND_BASE + flags */

/* ResNet-50 needs about 20 plans per batch size (a new size builds them
 * once, about 2.5 ms each); a full cache builds each call's plan anew.
 * Room for the sizes of a run: training, validation and the last batches. */
#define PLANS 128

typedef struct {
  onednn_plan h; /* key, convolution, weights' reorder (bf16 oihw -> its layout) */
  dnnl_memory_desc_t src, dst, wbf16, w, bias, chan;
  int own_layout; /* w is one that write_weights writes */
} plan;

static plan plans[PLANS];

/* The padding past the last row and column that oneDNN is told: ours, or 0
 * where ours is negative (a stride-2 1x1 convolution of an even size never
 * reads the last row): oneDNN sizes the output with the same floor. */
static int64_t pad_after(int64_t out, int64_t stride, int64_t taps, int64_t in, int64_t before) {
  const int64_t pad = (out - 1) * stride + taps - in - before;
  return pad > 0 ? pad : 0;
}

static int shape_ok(const conv_shape* p) {
  return p->groups == 1 && p->dh == 1 && p->dw == 1 && p->c % 16 == 0 && p->k % 16 == 0;
}

/* The post-ops of flags into attr: 1, or 0 when oneDNN refuses them. */
static int set_post_ops(int flags, const dnnl_memory_desc_t* chan, dnnl_primitive_attr_t attr) {
  dnnl_post_ops_t po = NULL;
  if (p_dnnl_post_ops_create(&po) != dnnl_success) return 0;
  int ok = 1;
  if (flags & WITH_BN) {
    ok = ok && p_dnnl_post_ops_append_binary(po, dnnl_binary_mul, chan) == dnnl_success;
    ok = ok && p_dnnl_post_ops_append_binary(po, dnnl_binary_add, chan) == dnnl_success;
  }
  if (flags & WITH_SUM) ok = ok && p_dnnl_post_ops_append_sum(po, 1.0f) == dnnl_success;
  if (flags & WITH_RELU) {
    ok = ok &&
         p_dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f) == dnnl_success;
  }
  ok = ok && p_dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
  p_dnnl_post_ops_destroy(po);
  return ok;
}

/* Whether md is a layout write_weights writes: blocked, unpadded, no extra
 * data, innermost blocks of ob output channels and then 2 input channels
 * (oneDNN 2.6's avx512_core_bf16 3x3 kernels take OhwI64o2i or 32o2i). */
static int own_layout(const dnnl_memory_desc_t* md, const conv_shape* p) {
  const dnnl_blocking_desc_t* b = &md->format_desc.blocking;
  if (md->format_kind != dnnl_blocked || md->extra.flags != 0 || md->ndims != 4 ||
      md->offset0 != 0 || p->r * p->s > 49)
    return 0;
  for (int d = 0; d < 4; d++) {
    if (md->padded_dims[d] != md->dims[d] || md->padded_offsets[d] != 0) return 0;
  }
  return b->inner_nblks == 2 && b->inner_idxs[0] == 0 && b->inner_idxs[1] == 1 &&
         b->inner_blks[0] <= 64 && b->inner_blks[1] == 2 && p->k % b->inner_blks[0] == 0 &&
         p->c % 2 == 0;
}

/* The weights (fp32 oihw) rounded into md's layout (own_layout): element
 * (o, i, y, x) at (o / ob) s0 + (i / 2) s1 + y s2 + x s3 + (o % ob) 2 +
 * i % 2, each block of ob x 2 made from 2 r s contiguous floats of each of
 * its ob output channels. oneDNN's reorder did this at about 5 GB/s (a
 * 512-channel 3x3 layer's weights: 2.4-2.9 ms a call, ResNet-50's
 * evaluation 16 ms in all). */
static void write_weights(const dnnl_memory_desc_t* md, const conv_shape* p, const float* w,
                          uint16_t* dst) {
  const dnnl_blocking_desc_t* b = &md->format_desc.blocking;
  const int64_t ob = b->inner_blks[0], rs = p->r * p->s, pairs = p->c / 2, blocks = p->k / ob;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t bo = 0; bo < blocks; bo++) {
    for (int64_t q = 0; q < pairs; q++) {
      uint32_t words[49 * 64]; /* [tap][o]: rs <= 49, ob <= 64 (own_layout) */
      for (int64_t o = 0; o < ob; o++) {
        const float* row = w + ((bo * ob + o) * p->c + 2 * q) * rs;
        for (int64_t t = 0; t < rs; t++) {
          words[t * ob + o] = conv_bf16_bits(row[t]) | conv_bf16_bits(row[rs + t]) << 16;
        }
      }
      for (int64_t t = 0; t < rs; t++) {
        uint16_t* at = dst + bo * b->strides[0] + q * b->strides[1] + t / p->s * b->strides[2] +
                       t % p->s * b->strides[3];
        memcpy(at, words + t * ob, (size_t)ob * sizeof(uint32_t));
      }
    }
  }
}

/* Fills pl for the shape and flags (kind - KIND_BASE): 1, or 0 when
 * oneDNN has no fast kernel for it. */
static int build(const conv_shape* p, int kind, onednn_plan* head) {
  plan* pl = (plan*)head;
  const int flags = kind - KIND_BASE;
  const dnnl_dims_t xd = {p->n, p->c, p->h, p->w}, yd = {p->n, p->k, p->oh, p->ow};
  const dnnl_dims_t wd = {p->k, p->c, p->r, p->s}, bd = {p->k}, cd = {1, p->k, 1, 1};
  p_dnnl_memory_desc_init_by_tag(&pl->src, 4, xd, dnnl_bf16, dnnl_nhwc);
  p_dnnl_memory_desc_init_by_tag(&pl->dst, 4, yd, dnnl_bf16, dnnl_nhwc);
  p_dnnl_memory_desc_init_by_tag(&pl->wbf16, 4, wd, dnnl_bf16, dnnl_oihw);
  p_dnnl_memory_desc_init_by_tag(&pl->bias, 1, bd, dnnl_f32, dnnl_a);
  p_dnnl_memory_desc_init_by_tag(&pl->chan, 4, cd, dnnl_f32, dnnl_nchw);
  dnnl_memory_desc_t wany;
  p_dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_bf16, dnnl_format_tag_any);
  const dnnl_dims_t st = {p->sh, p->sw}, pad = {p->ph, p->pw};
  const dnnl_dims_t pr = {pad_after(p->oh, p->sh, p->r, p->h, p->ph),
                          pad_after(p->ow, p->sw, p->s, p->w, p->pw)};
  dnnl_convolution_desc_t cd_;
  if (p_dnnl_convolution_forward_desc_init(&cd_, dnnl_forward_inference, dnnl_convolution_direct,
                                           &pl->src, &wany,
                                           (flags & WITH_BIAS) ? &pl->bias : NULL, &pl->dst, st,
                                           pad, pr) != dnnl_success)
    return 0;
  dnnl_primitive_attr_t attr = NULL;
  if (p_dnnl_primitive_attr_create(&attr) != dnnl_success) return 0;
  p_dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  int ok = set_post_ops(flags, &pl->chan, attr);
  dnnl_primitive_desc_t pd = NULL;
  ok = ok && p_dnnl_primitive_desc_create(&pd, &cd_, attr, lits_onednn_engine(), NULL) ==
                 dnnl_success;
  ok = ok && lits_onednn_fast_impl(pd);
  if (ok) {
    pl->w = *p_dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    pl->h.conv = lits_onednn_primitive(pd, &pl->h.scratch);
    pd = NULL;
    ok = pl->h.conv != NULL;
  }
  if (pd != NULL) p_dnnl_primitive_desc_destroy(pd);
  p_dnnl_primitive_attr_destroy(attr);
  if (!ok) return 0;
  /* The weights: fp32 oihw rounded (RNE, as ours), then into the kernel's
   * layout, by write_weights where it can. */
  pl->own_layout = own_layout(&pl->w, p);
  dnnl_primitive_attr_t rattr = NULL;
  if (p_dnnl_primitive_attr_create(&rattr) != dnnl_success) return 0;
  p_dnnl_primitive_attr_set_scratchpad_mode(rattr, dnnl_scratchpad_mode_user);
  ok = lits_onednn_plan_reorder(&pl->h, &pl->wbf16, &pl->w, rattr);
  p_dnnl_primitive_attr_destroy(rattr);
  return ok;
}

static int flags_of(const float* bias, const float* coef, const uint16_t* r, int32_t relu) {
  return (bias != NULL && coef == NULL ? WITH_BIAS : 0) | (coef != NULL ? WITH_BN : 0) |
         (r != NULL ? WITH_SUM : 0) | (relu ? WITH_RELU : 0);
}

/* Whether the chain may take p at all: LITS_ONEDNN not off (it keeps the
 * module-by-module path, 1x1 layers included), bf16, the shape. */
static int chain_ok(const conv_shape* p) {
  const char* env = getenv("LITS_ONEDNN");
  if (env != NULL && strcmp(env, "off") == 0) return 0;
  int32_t level = 0;
  lits_bf16_support(&level);
  return level > 0 && shape_ok(p);
}

/* Whether p runs on our 1x1 kernel (see the top) rather than oneDNN's. */
static int ours(const conv_shape* p) {
  const char* env = getenv("LITS_NHWC_1X1");
  return chain_ok(p) && lits_nhwc_bf16_pointwise_applies(p) && !lits_bf16_amx_on() &&
         (env == NULL || strcmp(env, "onednn") != 0);
}

/* The plan of p and flags under the lock, or NULL where oneDNN declines
 * (not loaded, LITS_ONEDNN=off, no bf16, a shape it has no jit or brgemm
 * kernel for). *tmp holds it when the cache is full. */
static plan* plan_of(const conv_shape* p, int flags, plan* tmp) {
  if (!chain_ok(p) || !lits_onednn_load()) return NULL;
  return (plan*)lits_onednn_plan_for(plans, PLANS, sizeof(plan), p, KIND_BASE + flags, &tmp->h,
                                     build);
}

int lits_conv2d_nhwc_bf16_takes(const lits_conv2d_params* params_host, int32_t flags,
                                int32_t* takes_host) {
  static const char* fn = "lits_conv2d_nhwc_bf16_takes";
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "%s: takes_host is NULL", fn);
  LITS_REQUIRE(flags >= 0 && flags < 16, "%s: flags %d is not a sum of 1, 2, 4, 8", fn, flags);
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  if (ours(&p)) {
    *takes_host = 1;
    return LITS_OK;
  }
  lits_onednn_lock();
  plan tmp;
  plan* pl = plan_of(&p, flags, &tmp);
  *takes_host = pl != NULL;
  if (pl == &tmp) lits_onednn_plan_drop(&tmp.h, sizeof(tmp));
  lits_onednn_unlock();
  return LITS_OK;
}

/* y <- r where they differ (the sum post-op adds y's contents). */
static void copy_residual(const uint16_t* r, uint16_t* y, int64_t count) {
  if (r == y) return;
  const int64_t chunk = 1 << 16, pieces = (count + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < pieces; i++) {
    const int64_t at = i * chunk, len = count - at < chunk ? count - at : chunk;
    memcpy(y + at, r + at, (size_t)len * sizeof(uint16_t));
  }
}

static size_t up64(size_t b) { return (b + 63) & ~(size_t)63; }

/* The layout lits_prep_slot keeps the weights under: md's dims and
 * blocking, and who writes them (our writer or oneDNN's reorder). */
static uint64_t weights_layout(const dnnl_memory_desc_t* md, int ours) {
  const dnnl_blocking_desc_t* b = &md->format_desc.blocking;
  uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)ours;
  const int64_t v[] = {md->dims[0], md->dims[1], md->dims[2], md->dims[3], b->strides[0],
                       b->strides[1], b->strides[2], b->strides[3], b->inner_nblks,
                       b->inner_blks[0], b->inner_blks[1], b->inner_blks[2], b->inner_idxs[0],
                       b->inner_idxs[1], b->inner_idxs[2], (int64_t)md->format_kind};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) h = (h ^ (uint64_t)v[i]) * 0x100000001b3ULL;
  return h;
}

static int run(const conv_shape* p, const plan* pl, int flags, const uint16_t* x,
               const float* weight, const float* bias, const float* coef, uint16_t* y,
               void* prepared, int64_t bytes) {
  const size_t nw = up64(p_dnnl_memory_desc_get_size(&pl->w));
  const size_t nch = up64((size_t)(2 * p->k) * sizeof(float));
  const int64_t wn = p->k * p->c * p->r * p->s;
  const size_t nwr = up64((size_t)wn * sizeof(uint16_t));
  const char* env = getenv("LITS_NHWC_WEIGHTS"); /* =onednn: its reorder (tests compare) */
  const int ours = pl->own_layout && (env == NULL || strcmp(env, "onednn") != 0);
  /* The weights from the caller's buffer, made there on the first call
   * with them; else into scratch, every call. */
  int ready = 0;
  void* kept = lits_prep_slot(prepared, bytes, (int64_t)nw, weights_layout(&pl->w, ours), weight,
                              wn, &ready);
  const size_t own = kept != NULL ? 0 : nw;
  char* base = lits_scratch_alloc((int64_t)(own + nch + nwr + up64(pl->h.scratch) + 64));
  if (base == NULL) return LITS_ERR_MEMORY;
  void* wb = kept != NULL ? kept : base;
  float* mul = (float*)(base + own);
  float* add = mul + p->k;
  uint16_t* wr = (uint16_t*)(base + own + nch);
  void* sp = base + own + nch + nwr;
  const dnnl_memory_desc_t spmd = lits_onednn_scratch_md(pl->h.scratch);
  int st = LITS_OK;
  if (!ready && ours) {
    write_weights(&pl->w, p, weight, (uint16_t*)wb);
  } else if (!ready) {
#pragma omp parallel
    lits_bf16_round(weight, wn, wr); /* conv_bf16_blocked.c's */
    const dnnl_memory_desc_t* rm[3] = {&pl->wbf16, &pl->w, &spmd};
    void* const rp[3] = {(void*)wr, wb, sp};
    const int rid[3] = {DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_SCRATCHPAD};
    st = lits_onednn_execute(pl->h.reorder, rm, rp, rid, 3, WHAT);
  }
  if (coef != NULL) { /* (v + bias - mean) scale + shift = v scale + add */
    for (int64_t j = 0; j < p->k; j++) {
      const float mean = coef[j], scale = coef[p->k + j], shift = coef[2 * p->k + j];
      mul[j] = scale;
      add[j] = ((bias != NULL ? bias[j] : 0.0f) - mean) * scale + shift;
    }
  }
  const dnnl_memory_desc_t* m[7] = {&pl->src, &pl->w, &pl->dst, &spmd};
  void* ptr[7] = {(void*)x, wb, y, sp};
  int ids[7] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD};
  int nargs = 4;
  if (flags & WITH_BIAS) {
    m[nargs] = &pl->bias, ptr[nargs] = (void*)bias, ids[nargs++] = DNNL_ARG_BIAS;
  }
  if (flags & WITH_BN) {
    m[nargs] = &pl->chan, ptr[nargs] = mul;
    ids[nargs++] = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;
    m[nargs] = &pl->chan, ptr[nargs] = add;
    ids[nargs++] = DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1;
  }
  if (st == LITS_OK && kept != NULL) lits_prep_done(prepared);
  if (st == LITS_OK) st = lits_onednn_execute(pl->h.conv, m, ptr, ids, nargs, WHAT);
  lits_scratch_free(base);
  return st;
}

int lits_conv2d_nhwc_bf16_prepared_bytes(const lits_conv2d_params* params_host,
                                         int64_t* bytes) {
  static const char* fn = "lits_conv2d_nhwc_bf16_prepared_bytes";
  lits_clear_error();
  LITS_REQUIRE(bytes != NULL, "%s: bytes is NULL", fn);
  *bytes = 0;
  conv_shape p;
  const int st = lits_conv_setup(fn, &p, params_host);
  if (st != LITS_OK) return st == LITS_EMPTY ? LITS_OK : st;
  /* bf16 weights in whole 64-channel blocks: our 1x1 panels, and oneDNN's
   * layouts without padding past them; lits_prep_slot's header before. */
  const int64_t k = (p.k + 63) / 64 * 64, c = (p.c + 63) / 64 * 64;
  *bytes = LITS_PREP_HEADER_BYTES + k * c * p.r * p.s * 2;
  return LITS_OK;
}

int lits_conv2d_nhwc_bf16(const lits_conv2d_params* params_host, const uint16_t* x,
                          const float* weight, const float* bias, const float* coef,
                          const uint16_t* r, int32_t relu, uint16_t* y, void* prepared,
                          int64_t prepared_bytes) {
  static const char* fn = "lits_conv2d_nhwc_bf16";
  lits_clear_error();
  conv_shape p;
  LITS_CHECKED(lits_conv_setup(fn, &p, params_host));
  LITS_REQUIRE(x != NULL && weight != NULL && y != NULL, "%s: x, weight or y is NULL", fn);
  LITS_REQUIRE(prepared_bytes >= 0, "%s: prepared_bytes is negative (%lld)", fn,
               (long long)prepared_bytes);
  if (ours(&p)) {
    const int st = lits_nhwc_bf16_pointwise(&p, x, weight, bias, coef, r, relu, y, prepared,
                                            prepared_bytes);
    return st == LITS_OK ? st : lits_conv_status(fn, &p, st);
  }
  const int flags = flags_of(bias, coef, r, relu);
  lits_onednn_lock();
  plan tmp;
  plan* pl = plan_of(&p, flags, &tmp);
  int st;
  if (pl == NULL) {
    st = lits_fail(LITS_ERR_UNAVAILABLE,
                   "%s: oneDNN does not run this convolution here (it needs libdnnl, bf16, "
                   "LITS_ONEDNN not off, no groups or dilation, channels in multiples of 16); "
                   "ask lits_conv2d_nhwc_bf16_takes first",
                   fn);
  } else {
    if (r != NULL) copy_residual(r, y, p.n * p.k * p.ohw);
    st = run(&p, pl, flags, x, weight, bias, coef, y, prepared, prepared_bytes);
  }
  if (pl == &tmp) lits_onednn_plan_drop(&tmp.h, sizeof(tmp));
  lits_onednn_unlock();
  return st == LITS_OK ? st : lits_conv_status(fn, &p, st);
}

#else /* no oneDNN header at build time: nothing takes the chain */

int lits_conv2d_nhwc_bf16_takes(const lits_conv2d_params* params_host, int32_t flags,
                                int32_t* takes_host) {
  (void)params_host, (void)flags;
  lits_clear_error();
  LITS_REQUIRE(takes_host != NULL, "lits_conv2d_nhwc_bf16_takes: takes_host is NULL");
  *takes_host = 0;
  return LITS_OK;
}

int lits_conv2d_nhwc_bf16_prepared_bytes(const lits_conv2d_params* params_host,
                                         int64_t* bytes) {
  (void)params_host;
  lits_clear_error();
  LITS_REQUIRE(bytes != NULL, "lits_conv2d_nhwc_bf16_prepared_bytes: bytes is NULL");
  *bytes = 0;
  return LITS_OK;
}

int lits_conv2d_nhwc_bf16(const lits_conv2d_params* params_host, const uint16_t* x,
                          const float* weight, const float* bias, const float* coef,
                          const uint16_t* r, int32_t relu, uint16_t* y, void* prepared,
                          int64_t prepared_bytes) {
  (void)params_host, (void)x, (void)weight, (void)bias, (void)coef, (void)r, (void)relu, (void)y;
  (void)prepared, (void)prepared_bytes;
  lits_clear_error();
  return lits_fail(LITS_ERR_UNAVAILABLE,
                   "lits_conv2d_nhwc_bf16: built without oneDNN's header (libdnnl-dev)");
}

#endif

/* The conversions need no oneDNN. */

int lits_nhwc_bf16_from_nchw_f32(const float* x, int32_t n, int32_t c, int64_t hw,
                                 uint16_t* y) {
  static const char* fn = "lits_nhwc_bf16_from_nchw_f32";
  lits_clear_error();
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  LITS_REQUIRE(n >= 0 && c >= 0 && hw >= 0, "%s: negative size [%d, %d, %lld]", fn, n, c,
               (long long)hw);
  LITS_REQUIRE(c % 16 == 0, "%s: %d channels, not a multiple of 16", fn, c);
  int32_t level = 0;
  lits_bf16_support(&level);
  if (level == 0) return lits_fail(LITS_ERR_UNAVAILABLE, "%s: no AVX512_BF16 on this CPU", fn);
#pragma omp parallel
  lits_bf16_to_blocked(x, n, c, hw, NULL, 1, y);
  return LITS_OK;
}

/* Pixels [q0, q0 + 16) x channels [c0, c0 + 16) of one image: 16 pixels'
 * channels widened, transposed in registers, stored as 16 channels' runs. */
BF16_TARGET static void widen_block(const uint16_t* x, int64_t c, int64_t hw, int64_t q0,
                                    int64_t c0, float* y) {
  __m512i v[16];
  for (int64_t t = 0; t < 16; t++) {
    const __m256i w = _mm256_loadu_si256((const __m256i*)(x + (q0 + t) * c + c0));
    v[t] = _mm512_slli_epi32(_mm512_cvtepu16_epi32(w), 16);
  }
  transpose16(v);
  for (int64_t t = 0; t < 16; t++) _mm512_storeu_si512(y + (c0 + t) * hw + q0, v[t]);
}

int lits_nhwc_bf16_to_nchw_f32(const uint16_t* x, int32_t n, int32_t c, int64_t hw, float* y) {
  static const char* fn = "lits_nhwc_bf16_to_nchw_f32";
  lits_clear_error();
  LITS_REQUIRE(x != NULL && y != NULL, "%s: x or y is NULL", fn);
  LITS_REQUIRE(n >= 0 && c >= 0 && hw >= 0, "%s: negative size [%d, %d, %lld]", fn, n, c,
               (long long)hw);
  int32_t level = 0;
  lits_bf16_support(&level);
  const int64_t blocks = level > 0 && c % 16 == 0 ? hw / 16 : 0; /* whole 16 x 16 blocks */
  /* Per image: blocks of 16 pixels x 16 channels through registers (a
   * channel's values lie c apart in x: read one by one, ResNet-50's last
   * stage, batch 16, took 3.0 ms), then the last hw % 16 pixels one by
   * one, plane by plane. */
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < (int64_t)n * (c / 16); item++) {
    const int64_t i = item / (c / 16), c0 = item % (c / 16) * 16;
    const uint16_t* xi = x + i * hw * c;
    float* yi = y + i * c * hw;
    for (int64_t b = 0; b < blocks; b++) widen_block(xi, c, hw, b * 16, c0, yi);
    for (int64_t ch = c0; ch < c0 + 16; ch++) {
      for (int64_t q = blocks * 16; q < hw; q++) {
        const uint32_t bits = (uint32_t)xi[q * c + ch] << 16;
        memcpy(yi + ch * hw + q, &bits, sizeof(float));
      }
    }
  }
  /* Channels past a multiple of 16 (none in the chain), one by one. */
  for (int64_t i = 0; i < n; i++) {
    for (int64_t ch = c / 16 * 16; ch < c; ch++) {
      for (int64_t q = 0; q < hw; q++) {
        const uint32_t bits = (uint32_t)x[(i * hw + q) * c + ch] << 16;
        memcpy(y + (i * c + ch) * hw + q, &bits, sizeof(float));
      }
    }
  }
  return LITS_OK;
}
