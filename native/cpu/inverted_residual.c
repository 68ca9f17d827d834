/* inverted_residual.c: MobileNetV2's inverted residual block (Sandler et
 * al., CVPR 2018, Fig. 3b) in evaluation as one kernel: the 1x1 expansion
 * (+ batch norm + ReLU6), the 3x3 depthwise convolution (+ batch norm +
 * ReLU6) and the 1x1 projection (+ batch norm, + the block's input) a band
 * of output rows at a time, so that the expanded activation (six times the
 * block's input) and the depthwise output stay in a thread's caches and
 * never go to memory. Three calls wrote the expanded tensor, read it back,
 * wrote the depthwise output and read it back again: at batch 16, 256 x
 * 256 input, ~280 MB written and read twice over the network's blocks,
 * more than half of it in the first three blocks (16 x 96 x 128 x 128
 * floats is 100 MB). ONNX Runtime runs the three convolutions as three
 * nodes.
 *
 * Each thread takes whole images (or, with fewer images than threads, runs
 * of bands of one image), and walks down its image a band of B output rows
 * at a time: the expansion's packed GEMM (packed_gemm.c, the weights packed
 * once a call, or kept prepared by the caller: conv_prepared.c) writes the
 * input rows the band's depthwise reads into a buffer of [hidden, rows, w]
 * (the rows the previous band already made are moved to its top, not made
 * again), the depthwise kernel (conv_depthwise_chw.c, a plane at a time,
 * the band as a plane whose rows outside it are padding only at the
 * image's edges) writes the band's [hidden, B, ow] into a second buffer,
 * and the projection's packed GEMM writes the block's output rows with its
 * batch norm and the residual applied as it stores them. B is the most
 * rows for which both buffers fit in BAND_FLOATS.
 *
 * MobileNetV2 evaluation, batch 16 x 1 x 256 x 256, 2 threads, AMD EPYC
 * Zen 4 shared with other jobs (load 5: CPU time per forward, alternating
 * fresh processes, OMP_WAIT_POLICY=passive, 3 rounds, min / median): 159-162
 * / 164-170 ms against 181-184 / 186-190 for the three calls a block;
 * ONNX Runtime 1.30 (spinning off) 165-178 / 174-201.
 *
 * The sums are those of the three convolutions run one by one on these
 * kernels (the same taps and channels in the same order): the same bits.
 * Chosen at run time: AVX-512 (lits_packed_gemm_applies), the depthwise
 * NCHW kernel (lits_conv_depthwise_chw_applies) and planes of 16 pixels or
 * more; elsewhere, or with LITS_CONV_ALGO or LITS_DW_CHW set to keep other
 * kernels, the three convolutions one by one through
 * lits_conv2d_forward_epilogue_f32 (the portable path), with the expanded
 * and depthwise tensors in scratch. */
#include <omp.h>
#include <string.h>

#include "common.h"
#include "conv_internal.h"
#include "conv_tiles.h"
#include "stream_store.h"

/* Floats of a thread's two band buffers (band_rows), 2 MiB: past Zen 4's
 * 1 MiB L2, but smaller bands lost more to the kernels' per-call work (a
 * depthwise plane of a few rows, a GEMM of a few hundred columns) than
 * they saved in L3 traffic. MobileNetV2's 17 blocks at batch 16 (2
 * threads, AMD EPYC Zen 4, CPU time of both threads summed, min of 3
 * alternating in one process, the modules one by one 167.7 ms): 128 Ki
 * floats 155.4 ms, 256 Ki 151.8, 512 Ki 148.5, 1 Mi 148.3. */
#define BAND_FLOATS (512 * 1024)

/* The block's sizes, from the three checked geometries. */
typedef struct {
  int64_t n, c, m, k;           /* input, hidden and output channels (c = m without expansion) */
  int64_t h, w, oh, ow, s, r, pad;
  int expand;
} ir_geom;

/* Input rows a band of t output rows reads, at most. */
static int64_t band_input_rows(const ir_geom* g, int64_t t) {
  const int64_t rows = (t - 1) * g->s + g->r;
  return rows < g->h ? rows : g->h;
}

/* Output rows a band: the most for which the buffers fit, then evened out. */
static int64_t band_rows(const ir_geom* g) {
  int64_t b = 1;
  const int64_t budget = BAND_FLOATS;
  for (int64_t t = 2; t <= g->oh; t++) {
    const int64_t hid = g->expand ? g->m * round16(band_input_rows(g, t) * g->w) : 0;
    if (hid + g->m * round16(t * g->ow) > budget) break;
    b = t;
  }
  const int64_t bands = (g->oh + b - 1) / b;
  return (g->oh + bands - 1) / bands;
}

/* The portable path: the three convolutions one by one, hidden tensors in scratch. */
static int one_by_one(const lits_conv2d_params* expand, const lits_conv2d_params* depthwise,
                      const lits_conv2d_params* project, const ir_geom* g, const float* x,
                      const float* w_expand, const float* coef_expand, const float* w_dw,
                      const float* coef_dw, const float* w_project, const float* coef_project,
                      const float* r, int32_t act, float* y, void* prep_e, int64_t prep_e_bytes,
                      void* prep_p, int64_t prep_p_bytes) {
  const int64_t hid = g->expand ? g->n * g->m * g->h * g->w : 0;
  const int64_t dwn = g->n * g->m * g->oh * g->ow;
  float* buf = (float*)lits_scratch_alloc((hid + dwn) * (int64_t)sizeof(float));
  if (buf == NULL) return LITS_ERR_MEMORY;
  float* dout = buf + hid;
  int st = LITS_OK;
  if (g->expand) {
    st = lits_conv2d_forward_epilogue_f32(expand, x, NULL, 0, w_expand, NULL, coef_expand, NULL,
                                          NULL, act, buf, prep_e, prep_e_bytes);
  }
  if (st == LITS_OK) {
    st = lits_conv2d_forward_epilogue_f32(depthwise, g->expand ? buf : x, NULL, 0, w_dw, NULL,
                                          coef_dw, NULL, NULL, act, dout, NULL, 0);
  }
  if (st == LITS_OK) {
    st = lits_conv2d_forward_epilogue_f32(project, dout, NULL, 0, w_project, NULL, coef_project,
                                          r, NULL, 0, y, prep_p, prep_p_bytes);
  }
  lits_scratch_free(buf);
  return st;
}

/* The depthwise geometry of band [oy0, oy1) of one image: its input rows
 * [*iy_lo, *iy_hi) as the plane, padding only where the image ends. */
static conv_shape band_shape(const conv_shape* dw, int64_t oy0, int64_t oy1, int64_t* iy_lo,
                             int64_t* iy_hi) {
  const int64_t top = oy0 * dw->sh - dw->ph, bottom = (oy1 - 1) * dw->sh - dw->ph + dw->r;
  *iy_lo = top < 0 ? 0 : top;
  *iy_hi = bottom > dw->h ? dw->h : bottom;
  conv_shape q = *dw;
  q.n = 1;
  q.h = *iy_hi - *iy_lo;
  q.ph = *iy_lo - top;
  q.oh = oy1 - oy0;
  q.ohw = q.oh * q.ow;
  return q;
}

static int fused(const conv_shape* pe, const conv_shape* pd, const conv_shape* pp,
                 const ir_geom* g, const float* x, const float* w_expand,
                 const float* coef_expand, const float* w_dw, const float* coef_dw,
                 const float* w_project, const float* coef_project, const float* r, int32_t act,
                 float* y, void* prep_e, int64_t prep_e_bytes, void* prep_p,
                 int64_t prep_p_bytes) {
  const int64_t B = band_rows(g), bands = (g->oh + B - 1) / B;
  const int64_t hb = band_input_rows(g, B); /* input rows a band reads, at most */
  const int64_t ldh = round16(hb * g->w), ldd = round16(B * g->ow);
  const int nt = omp_get_max_threads();
  const int64_t splits = g->n >= nt ? 1 : (nt + g->n - 1) / g->n < bands ? (nt + g->n - 1) / g->n
                                                                         : bands;
  const int64_t units = g->n * splits;
  const int threads = min_threads(nt, units);
  /* The layers of the bands' depthwise geometries (the middle ones alike). */
  lits_dw_layer** layers = (lits_dw_layer**)lits_scratch_alloc(bands * (int64_t)sizeof(void*));
  if (layers == NULL) return LITS_ERR_MEMORY;
  memset(layers, 0, (size_t)bands * sizeof(void*));
  int st = LITS_OK;
  conv_shape prev = {0};
  for (int64_t b = 0; b < bands; b++) {
    int64_t lo, hi;
    const conv_shape q = band_shape(pd, b * B, b * B + B < g->oh ? b * B + B : g->oh, &lo, &hi);
    if (b > 0 && q.h == prev.h && q.oh == prev.oh && q.ph == prev.ph) {
      layers[b] = layers[b - 1];
      continue;
    }
    layers[b] = lits_dw_chw_layer(&q, act);
    if (layers[b] == NULL) st = lits_fail(LITS_ERR_MEMORY, "lits_inverted_residual_f32: out of memory");
    prev = q;
    if (st != LITS_OK) break;
  }
  /* The packed weights: the caller's prepared ones, else packed here. */
  const float* ap_e =
      g->expand ? lits_conv_prepared_gemm_weights(pe, w_expand, prep_e, prep_e_bytes) : NULL;
  const float* ap_p = lits_conv_prepared_gemm_weights(pp, w_project, prep_p, prep_p_bytes);
  const int64_t own_e = g->expand && ap_e == NULL ? lits_packed_gemm_weights_floats(g->m, g->c) : 0;
  const int64_t own_p = ap_p == NULL ? lits_packed_gemm_weights_floats(g->k, g->m) : 0;
  const int64_t maxcols = hb * g->w > B * g->ow ? hb * g->w : B * g->ow;
  const int64_t gemm = round16(lits_packed_gemm_scratch()), offs = round16(2 * maxcols);
  const int64_t per = gemm + offs + (g->expand ? g->m * ldh : 0) + g->m * ldd;
  float* scratch = st == LITS_OK ? thread_scratch(per, threads, own_e + own_p) : NULL;
  if (st == LITS_OK && scratch == NULL) st = LITS_ERR_MEMORY;
  if (st != LITS_OK) {
    for (int64_t b = 0; b < bands; b++) {
      if (layers[b] != NULL && (b == 0 || layers[b] != layers[b - 1])) {
        lits_dw_chw_layer_free(layers[b]);
      }
    }
    lits_scratch_free(layers);
    return st;
  }
  float* pack_e = scratch + per * threads;
  float* pack_p = pack_e + own_e;
  const int64_t hw = g->h * g->w, ohw = g->oh * g->ow;
  const int stream = stream_output(g->n * g->k * ohw);
  const conv_epilogue ep_e = {coef_expand, NULL, NULL, act, 0, NULL, 0, NULL, NULL, 0};
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
    if (own_e) lits_packed_gemm_pack_a_part(w_expand, g->m, g->c, 0, pack_e, tid, nth);
    if (own_p) lits_packed_gemm_pack_a_part(w_project, g->k, g->m, 0, pack_p, tid, nth);
#pragma omp barrier
    const float* ae = own_e ? pack_e : ap_e;
    const float* app = own_p ? pack_p : ap_p;
    float* gs = scratch + per * tid;
    int64_t* off = (int64_t*)(gs + gemm);
    float* dbuf = gs + gemm + offs;
    float* hbuf = dbuf + g->m * ldd;
    for (int64_t j = 0; j < maxcols; j++) off[j] = j;
    const int64_t u1 = units * (tid + 1) / nth;
    for (int64_t u = units * tid / nth; u < u1; u++) {
      const int64_t i = u / splits, part = u % splits;
      const int64_t b0 = bands * part / splits, b1 = bands * (part + 1) / splits;
      const float* xi = x + i * g->c * hw;
      int64_t buf_lo = 0, buf_hi = 0; /* the input rows hbuf holds */
      for (int64_t b = b0; b < b1; b++) {
        const int64_t oy0 = b * B, oy1 = oy0 + B < g->oh ? oy0 + B : g->oh;
        int64_t lo, hi;
        (void)band_shape(pd, oy0, oy1, &lo, &hi);
        const float* in = xi + lo * g->w; /* channel ch's band at in + ch * ld */
        int64_t ld = hw;
        if (g->expand) {
          int64_t keep = 0;
          if (b > b0 && lo < buf_hi) { /* rows the previous band made: moved up */
            keep = buf_hi - lo;
            if (lo > buf_lo) {
              for (int64_t ch = 0; ch < g->m; ch++) {
                float* plane = hbuf + ch * ldh;
                memmove(plane, plane + (lo - buf_lo) * g->w, (size_t)(keep * g->w) * sizeof(float));
              }
            }
          }
          const int64_t cols = (hi - lo - keep) * g->w;
          if (cols > 0) {
            lits_packed_gemm_out(g->m, cols, g->c, ae, xi + (lo + keep) * g->w, hw, off, NULL, g->c,
                                 hbuf + keep * g->w, ldh, cols, 0, NULL, &ep_e, 0, NULL, gs);
          }
          buf_lo = lo, buf_hi = hi;
          in = hbuf, ld = ldh;
        }
        const lits_dw_layer* L = layers[b];
        for (int64_t ch = 0; ch < g->m; ch++) {
          lits_dw_chw_plane(L, in + ch * ld, w_dw + ch * g->r * g->r, coef_dw, g->m, ch,
                            dbuf + ch * ldd);
        }
        const int64_t at = i * g->k * ohw + oy0 * g->ow, cols = (oy1 - oy0) * g->ow;
        const conv_epilogue ep_p = {coef_project, r != NULL ? r + at : NULL, NULL, 0, 0, NULL, 0,
                                    NULL, NULL, 0};
        lits_packed_gemm_out(g->k, cols, g->m, app, dbuf, ldd, off, NULL, g->m, y + at, ohw, cols,
                             0, NULL, &ep_p, stream, NULL, gs);
      }
    }
  }
  for (int64_t b = 0; b < bands; b++) {
    if (b == 0 || layers[b] != layers[b - 1]) lits_dw_chw_layer_free(layers[b]);
  }
  lits_scratch_free(layers);
  lits_scratch_free(scratch);
  return LITS_OK;
}

int lits_inverted_residual_f32(const lits_conv2d_params* expand_host,
                               const lits_conv2d_params* depthwise_host,
                               const lits_conv2d_params* project_host, const float* x,
                               const float* w_expand, const float* coef_expand, const float* w_dw,
                               const float* coef_dw, const float* w_project,
                               const float* coef_project, const float* r, int32_t act, float* y,
                               void* prep_expand, int64_t prep_expand_bytes, void* prep_project,
                               int64_t prep_project_bytes) {
  static const char* fn = "lits_inverted_residual_f32";
  const lits_conv2d_params *expand = expand_host, *depthwise = depthwise_host,
                           *project = project_host;
  lits_clear_error();
  LITS_REQUIRE(depthwise != NULL && project != NULL, "%s: depthwise or project is NULL", fn);
  LITS_REQUIRE(x != NULL && w_dw != NULL && w_project != NULL && y != NULL,
               "%s: x, w_dw, w_project or y is NULL", fn);
  LITS_REQUIRE(act >= 0 && act <= FUSED_SILU, "%s: act must be 0, 1, 2 or 3, got %d", fn, act);
  LITS_REQUIRE(expand != NULL || (w_expand == NULL && coef_expand == NULL),
               "%s: w_expand or coef_expand given without expand", fn);
  LITS_REQUIRE(expand == NULL || w_expand != NULL, "%s: w_expand is NULL", fn);
  LITS_REQUIRE(prep_expand_bytes >= 0 && (prep_expand != NULL || prep_expand_bytes == 0) &&
                   prep_project_bytes >= 0 && (prep_project != NULL || prep_project_bytes == 0),
               "%s: a prepared buffer is NULL with bytes, or its bytes are negative", fn);
  conv_shape pe = {0}, pd, pp;
  int empty = 0, st;
  if (expand != NULL) {
    st = lits_conv_setup(fn, &pe, expand);
    if (st > 0) return st;
    empty |= st == LITS_EMPTY;
    LITS_REQUIRE(pe.pointwise && pe.groups == 1 && pe.dh == 1 && pe.dw == 1,
                 "%s: the expansion must be a 1x1 convolution of stride 1 without padding, "
                 "dilation or groups",
                 fn);
  }
  st = lits_conv_setup(fn, &pd, depthwise);
  if (st > 0) return st;
  empty |= st == LITS_EMPTY;
  st = lits_conv_setup(fn, &pp, project);
  if (st > 0) return st;
  empty |= st == LITS_EMPTY;
  LITS_REQUIRE(pd.groups == pd.c && pd.k == pd.c && pd.r == pd.s && pd.r % 2 == 1 &&
                   pd.ph == pd.r / 2 && pd.pw == pd.s / 2 && pd.sh == pd.sw &&
                   (pd.sh == 1 || pd.sh == 2) && pd.dh == 1 && pd.dw == 1,
               "%s: the depthwise convolution must have groups = channels in = out, an odd "
               "square kernel, padding kernel / 2, stride 1 or 2 and no dilation",
               fn);
  LITS_REQUIRE(pp.pointwise && pp.groups == 1 && pp.dh == 1 && pp.dw == 1,
               "%s: the projection must be a 1x1 convolution of stride 1 without padding, "
               "dilation or groups",
               fn);
  LITS_REQUIRE(expand == NULL || (pe.n == pd.n && pe.k == pd.c && pe.h == pd.h && pe.w == pd.w),
               "%s: the expansion's output [%lld, %lld, %lld, %lld] is not the depthwise "
               "input [%lld, %lld, %lld, %lld]",
               fn, (long long)pe.n, (long long)pe.k, (long long)pe.oh, (long long)pe.ow,
               (long long)pd.n, (long long)pd.c, (long long)pd.h, (long long)pd.w);
  LITS_REQUIRE(pp.n == pd.n && pp.c == pd.k && pp.h == pd.oh && pp.w == pd.ow,
               "%s: the depthwise output [%lld, %lld, %lld, %lld] is not the projection's "
               "input [%lld, %lld, %lld, %lld]",
               fn, (long long)pd.n, (long long)pd.k, (long long)pd.oh, (long long)pd.ow,
               (long long)pp.n, (long long)pp.c, (long long)pp.h, (long long)pp.w);
  if (empty) return LITS_OK;
  const ir_geom g = {pd.n, expand != NULL ? pe.c : pd.c, pd.c, pp.k, pd.h, pd.w, pd.oh, pd.ow,
                     pd.sh, pd.r, pd.ph, expand != NULL};
  /* Planes under 16 pixels (2 x 2 and 1 x 1 at the end of a small input)
   * leave the GEMMs a column or four: the convolutions one by one, whose
   * GEMMs take such shapes, were 2-3x faster there. */
  if (pd.h * pd.w >= 16 && pd.ohw >= 16 && lits_packed_gemm_applies(32) &&
      lits_conv_depthwise_chw_applies(&pd, NULL)) {
    return lits_conv_status(fn, &pd,
                            fused(&pe, &pd, &pp, &g, x, w_expand, coef_expand, w_dw, coef_dw,
                                  w_project, coef_project, r, act, y, prep_expand,
                                  prep_expand_bytes, prep_project, prep_project_bytes));
  }
  return one_by_one(expand, depthwise, project, &g, x, w_expand, coef_expand, w_dw, coef_dw,
                    w_project, coef_project, r, act, y, prep_expand, prep_expand_bytes,
                    prep_project, prep_project_bytes);
}
