/**
 * Memory-bound kernels at ResNet-50's and the small CNN's sizes (batch 16):
 * batch norm (training statistics, the fused output transform, backward
 * with and without the ReLU mask), ReLU, max pooling (2x2 and 3x3/2) and the
 * residual add + ReLU, each in GB/s of tensor data read and written.
 *
 * @module
 */
import { randn, type Tensor, zeros } from "../mod.ts";
import { check, cpuLib } from "../src/ffi/native.ts";
import { rateBench } from "./rate.ts";

const lib = cpuLib();
const ok = (what: string, status: number) => check(lib, status, () => what);
const p = (t: Tensor) => t.ptr;

// ResNet-50 layer1's widest tensor: [16, 256, 64, 64] (64 MiB).
const [n, c, hw] = [16, 256, 64 * 64];
const size = n * c * hw, bytes = size * 4;
const x = randn([n, c, 64, 64]), y = randn([n, c, 64, 64]), dy = randn([n, c, 64, 64]);
const r = randn([n, c, 64, 64]), dx = randn([n, c, 64, 64]);
const gamma = randn([c]), beta = randn([c]), rm = zeros([c]), rv = randn([c]).abs();
const mean = randn([c]), invstd = randn([c]).abs(), coef = randn([3 * c]);
const dg = zeros([c]), db = zeros([c]);
const g = "batch norm";

rateBench(g, "batchnorm forward train (stats + output)", { bytes: 2 * bytes }, () => {
  ok(
    "bn",
    lib.lits_batchnorm2d_forward_train_f32(
      p(x),
      p(gamma),
      p(beta),
      p(y),
      p(rm),
      p(rv),
      p(mean),
      p(invstd),
      n,
      c,
      hw,
      0.1,
      1e-5,
    ),
  );
});
rateBench(g, "batchnorm statistics only (output deferred)", { bytes }, () => {
  ok(
    "bn stats",
    lib.lits_batchnorm2d_stats_f32!(
      p(x),
      p(gamma),
      p(beta),
      p(rm),
      p(rv),
      p(mean),
      p(invstd),
      p(coef),
      n,
      c,
      hw,
      0.1,
      1e-5,
    ),
  );
});
rateBench(g, "fused output: relu(T(x)) written", { bytes: 2 * bytes }, () => {
  ok("fused", lib.lits_fused_affine_f32!(p(x), p(coef), null, null, p(y), n, c, hw, 1));
});
rateBench(g, "fused residual: relu(T(x) + T'(r)) written", { bytes: 3 * bytes }, () => {
  ok("fused", lib.lits_fused_affine_f32!(p(x), p(coef), p(r), p(coef), p(y), n, c, hw, 1));
});
rateBench(g, "batchnorm backward", { bytes: 3 * bytes }, () => {
  ok(
    "bn bwd",
    lib.lits_batchnorm2d_backward_f32(
      p(x),
      p(dy),
      p(gamma),
      p(mean),
      p(invstd),
      p(dx),
      p(dg),
      p(db),
      n,
      c,
      hw,
      1e-5,
    ),
  );
});
rateBench(g, "batchnorm backward with the ReLU mask", { bytes: 3 * bytes }, () => {
  ok(
    "bn bwd relu",
    lib.lits_batchnorm2d_backward_relu_f32!(
      p(x),
      p(dy),
      p(coef),
      p(gamma),
      p(mean),
      p(invstd),
      p(dx),
      p(dg),
      p(db),
      n,
      c,
      hw,
      1e-5,
    ),
  );
});
rateBench("relu", "relu forward (plain)", { bytes: 2 * bytes }, () => {
  ok("relu", lib.lits_unary_f32(4, p(x), p(y), size, 0));
});
rateBench("relu", "relu backward (plain)", { bytes: 3 * bytes }, () => {
  ok("relu bwd", lib.lits_unary_backward_f32(4, p(x), null, p(dy), p(dx), size, 0));
});

rateBench("relu", "relu backward, deferred mask from x", { bytes: 3 * bytes }, () => {
  ok(
    "mask",
    lib.lits_relu_mask_backward_f32!(p(dy), null, p(x), null, null, null, p(dx), n, c, hw, null),
  );
});
rateBench("relu", "relu backward, deferred mask from T(x)", { bytes: 3 * bytes }, () => {
  ok(
    "mask",
    lib.lits_relu_mask_backward_f32!(p(dy), null, p(x), p(coef), null, null, p(dx), n, c, hw, null),
  );
});
rateBench("relu", "relu backward + conv bias gradient (channel sums)", { bytes: 3 * bytes }, () => {
  ok(
    "mask",
    lib.lits_relu_mask_backward_f32!(p(dy), null, p(x), null, null, null, p(dx), n, c, hw, p(db)),
  );
});
rateBench("relu", "conv bias gradient alone (plain path)", { bytes }, () => {
  ok("bias", lib.lits_conv2d_backward_bias_f32(p(dy), p(db), n, c, hw));
});

// Pooling: the small CNN's first 2x2 pool [16, 16, 256, 256] and ResNet's stem pool.
for (
  const [name, [pn, pc, ph], k, s, pad] of [
    ["maxpool 2x2 [16,16,256,256]", [16, 16, 256], 2, 2, 0],
    ["maxpool 3x3/2 pad 1 [16,64,128,128]", [16, 64, 128], 3, 2, 1],
  ] as [string, number[], number, number, number][]
) {
  const px = randn([pn, pc, ph, ph]), pdx = randn([pn, pc, ph, ph]);
  const oh = Math.floor((ph + 2 * pad - k) / s) + 1;
  const py = randn([pn, pc, oh, oh]), pdy = randn([pn, pc, oh, oh]);
  const idx = zeros([pn, pc, oh, oh], { dtype: "int32" });
  const inB = pn * pc * ph * ph * 4, outB = pn * pc * oh * oh * 4;
  const geom = new Int32Array([pn, pc, ph, ph, k, k, s, s, pad, pad, oh, oh]);
  rateBench("pool", `${name} forward`, { bytes: inB + 2 * outB }, () => {
    ok("pool", lib.lits_maxpool2d_forward_f32(geom, p(px), null, 0, p(py), p(idx)));
  });
  rateBench("pool", `${name} forward of a deferred relu(T(x))`, { bytes: inB + 2 * outB }, () => {
    ok("pool", lib.lits_maxpool2d_forward_f32(geom, p(px), null, 1, p(py), p(idx)));
  });
  rateBench("pool", `${name} backward`, { bytes: inB + 2 * outB }, () => {
    ok("pool bwd", lib.lits_maxpool2d_backward_f32(geom, null, null, p(pdy), p(idx), p(pdx)));
  });
}
