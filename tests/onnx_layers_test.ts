/**
 * The layers the zoo does not use, each exported in a tiny model and run
 * in ONNX Runtime (npm onnxruntime-node, CPU) against our own eval-mode
 * forward, within 1e-4 of the output's largest magnitude, at batch 2 and
 * batch 3 through one session (the batch is the dynamic "N"): the
 * activations without an opset-17 node (GELU, SiLU) and those with one,
 * layer, group and instance norm, Linear on more than two dimensions,
 * average pooling in ceil mode (the divisor rules), and Upsample in every
 * mode with sizes, scales and aligned corners. Norm parameters and
 * statistics are randomised, so the test sees them.
 */
import assert from "node:assert/strict";
import { manualSeed, models, nn, onnx, tensor } from "../mod.ts";

import { assertRunsAsOurs } from "./onnx_check.ts";

/** Fills norm layers' weights, biases and running statistics with seeded random values. */
function randomiseNorms(model: nn.Module): void {
  let s = 21;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const ranges: Record<string, [number, number]> = {
    running_mean: [-0.3, 0.3],
    running_var: [0.5, 2],
    weight: [0.5, 1.5],
    bias: [-0.3, 0.3],
  };
  const state = new Map(model.stateDict());
  for (const [name, m] of model.namedModules()) {
    if (m instanceof nn.Conv2d || m instanceof nn.Linear) continue;
    for (const [key, [lo, hi]] of Object.entries(ranges)) {
      const k = name ? `${name}.${key}` : key;
      const t = state.get(k);
      if (!t) continue;
      const n = t.shape.reduce((a, b) => a * b, 1);
      state.set(
        k,
        tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * next()), [...t.shape]),
      );
    }
  }
  model.loadStateDict(state);
}

/** Exports `model` for [N, ...chw] and compares ONNX Runtime with our forward at batch 2 and 3. */
async function matchesOrt(model: nn.Module, chw: [number, number, number]): Promise<void> {
  randomiseNorms(model);
  model.eval();
  const bytes = onnx.exportOnnx(model, { inputShape: ["N", ...chw] });
  await assertRunsAsOurs(model, bytes, chw, { atol: 1e-4, rtol: 0, nonTrivial: true });
}

const S = (...layers: nn.Module[]) => new nn.Sequential(...layers);
const conv = (cin: number, cout: number) => new nn.Conv2d(cin, cout, 3);

const CASES: [string, () => nn.Module, [number, number, number]][] = [
  ["GELU", () => S(conv(2, 3), new nn.GELU(), new nn.Flatten()), [2, 6, 6]],
  ['GELU approximate "tanh"', () => S(conv(2, 3), new nn.GELU("tanh"), new nn.Flatten()), [
    2,
    6,
    6,
  ]],
  ["ConvTranspose2d stride 2", () =>
    S(
      new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      new nn.Flatten(),
    ), [2, 4, 4]],
  ["ConvTranspose2d groups, dilation", () =>
    S(
      new nn.ConvTranspose2d(4, 4, 2, { groups: 2, dilation: 2, bias: false }),
      new nn.Flatten(),
    ), [4, 3, 3]],
  ["ELU", () => S(conv(2, 3), new nn.ELU(0.7), new nn.Flatten()), [2, 6, 6]],
  ["Softplus", () => S(conv(2, 3), new nn.Softplus(), new nn.Flatten()), [2, 6, 6]],
  // beta and a low threshold change values: both written out.
  ["Softplus beta 2 threshold 1", () => S(conv(2, 3), new nn.Softplus(2, 1), new nn.Flatten()), [
    2,
    6,
    6,
  ]],
  ["AdaptiveMaxPool2d 1", () => S(conv(2, 3), new nn.AdaptiveMaxPool2d(1), new nn.Flatten()), [
    2,
    7,
    7,
  ]],
  [
    "AdaptiveMaxPool2d even bins, null",
    () => S(conv(2, 3), new nn.AdaptiveMaxPool2d([2, null]), new nn.Flatten()),
    [2, 6, 7],
  ],
  ["SiLU", () => S(conv(2, 3), new nn.SiLU(), new nn.Flatten()), [2, 6, 6]],
  ["Hardswish", () => S(conv(2, 3), new nn.Hardswish(), new nn.Flatten()), [2, 6, 6]],
  ["Hardsigmoid", () => S(conv(2, 3), new nn.Hardsigmoid(), new nn.Flatten()), [2, 6, 6]],
  ["ReLU6", () => S(conv(2, 3), new nn.ReLU6(), new nn.Flatten()), [2, 6, 6]],
  ["GroupNorm", () => S(conv(2, 4), new nn.GroupNorm(2, 4), new nn.Flatten()), [2, 6, 6]],
  [
    "GroupNorm without affine, on [N, C]",
    () => S(new nn.Flatten(), new nn.GroupNorm(3, 18, { affine: false }), new nn.Linear(18, 3)),
    [2, 3, 3],
  ],
  ["LayerNorm over H, W", () => S(conv(2, 3), new nn.LayerNorm([4, 4]), new nn.Flatten()), [
    2,
    6,
    6,
  ]],
  [
    "LayerNorm over C, H, W without affine",
    () =>
      S(conv(2, 3), new nn.LayerNorm([3, 4, 4], { elementwiseAffine: false }), new nn.Flatten()),
    [2, 6, 6],
  ],
  [
    "LayerNorm on features",
    () => S(new nn.Flatten(), new nn.LayerNorm(18), new nn.Linear(18, 3)),
    [2, 3, 3],
  ],
  ["InstanceNorm2d", () => S(conv(2, 3), new nn.InstanceNorm2d(3), new nn.Flatten()), [2, 6, 6]],
  [
    "InstanceNorm2d affine",
    () => S(conv(2, 3), new nn.InstanceNorm2d(3, { affine: true }), new nn.Flatten()),
    [2, 6, 6],
  ],
  [
    "InstanceNorm2d with running statistics",
    () =>
      S(
        conv(2, 3),
        new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true }),
        new nn.Flatten(),
      ),
    [2, 6, 6],
  ],
  [
    "InstanceNorm1d on [N, C, L]",
    () => S(new nn.Flatten(2), new nn.InstanceNorm1d(2, { affine: true }), new nn.Flatten()),
    [2, 3, 4],
  ],
  ["Linear on [N, C, H, W]", () => S(new nn.Linear(4, 5), new nn.Flatten()), [2, 3, 4]],
  [
    "Linear without bias on [N, C, L]",
    () => S(new nn.Flatten(2), new nn.Linear(12, 2, { bias: false }), new nn.Flatten()),
    [2, 3, 4],
  ],
  [
    "AvgPool2d ceil mode, padding counted (a Pad node)",
    () => S(new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }), new nn.Flatten()),
    [1, 6, 7],
  ],
  [
    "AvgPool2d ceil mode, padding not counted",
    () =>
      S(
        new nn.AvgPool2d([2, 3], {
          stride: [3, 2],
          padding: 1,
          ceilMode: true,
          countIncludePad: false,
        }),
        new nn.Flatten(),
      ),
    [1, 8, 7],
  ],
  [
    "AvgPool2d ceil mode, no padding",
    () => S(new nn.AvgPool2d(2, { ceilMode: true }), new nn.Flatten()),
    [1, 5, 7],
  ],
];

const UPSAMPLE: [string, () => nn.Module, [number, number, number]?][] = [
  ["nearest x2", () => new nn.Upsample({ scaleFactor: 2 })],
  ["nearest x1.7", () => new nn.Upsample({ scaleFactor: 1.7 })],
  ["nearest x[2.05, 0.6]", () => new nn.Upsample({ scaleFactor: [2.05, 0.6] })],
  ["nearest to [7, 9]", () => new nn.Upsample({ size: [7, 9] })],
  // ONNX Runtime would size this 29 (float32(0.29) * 100 in float32); torch sizes it 28.
  ["bilinear x0.29 on 100", () => new nn.Upsample({ scaleFactor: 0.29, mode: "bilinear" }), [
    1,
    100,
    100,
  ]],
  ["nearest-exact x1.5", () => new nn.Upsample({ scaleFactor: 1.5, mode: "nearest-exact" })],
  ["nearest-exact to 7", () => new nn.Upsample({ size: 7, mode: "nearest-exact" })],
  ["bilinear x2.5", () => new nn.Upsample({ scaleFactor: 2.5, mode: "bilinear" })],
  ["bilinear to [7, 9]", () => new nn.Upsample({ size: [7, 9], mode: "bilinear" })],
  ["bilinear to 1", () => new nn.Upsample({ size: 1, mode: "bilinear" })],
  [
    "bilinear x1.7 recomputed",
    () => new nn.Upsample({ scaleFactor: 1.7, mode: "bilinear", recomputeScaleFactor: true }),
  ],
  [
    "bilinear aligned to 9",
    () => new nn.Upsample({ size: 9, mode: "bilinear", alignCorners: true }),
  ],
  ["bicubic x2", () => new nn.Upsample({ scaleFactor: 2, mode: "bicubic" })],
  ["bicubic to [7, 10]", () => new nn.Upsample({ size: [7, 10], mode: "bicubic" })],
  [
    "bicubic aligned x1.5",
    () => new nn.Upsample({ scaleFactor: 1.5, mode: "bicubic", alignCorners: true }),
  ],
  ["area to [2, 3]", () => new nn.Upsample({ size: [2, 3], mode: "area" })],
  ["UpsamplingNearest2d", () => new nn.UpsamplingNearest2d({ scaleFactor: 2 })],
  ["UpsamplingBilinear2d", () => new nn.UpsamplingBilinear2d(7)],
];

for (const [name, build, chw] of CASES) {
  Deno.test(`onnx layers: ${name} matches ONNX Runtime at two batch sizes`, async () => {
    manualSeed(31);
    await matchesOrt(build(), chw);
  });
}

for (const [name, build, chw] of UPSAMPLE) {
  Deno.test(`onnx layers: Upsample ${name} matches ONNX Runtime at two batch sizes`, async () => {
    manualSeed(32);
    const model = S(conv(1, 2), build(), new nn.Flatten());
    await matchesOrt(model, chw ? [chw[0], chw[1] + 2, chw[2] + 2] : [1, 6, 7]);
  });
}

Deno.test("onnx layers: Upsample on [N, C, L] (linear, nearest, area) matches", async () => {
  manualSeed(33);
  for (
    const up of [
      new nn.Upsample({ scaleFactor: 1.5, mode: "linear" }),
      new nn.Upsample({ size: 7 }),
      new nn.Upsample({ size: 4, mode: "area" }),
    ]
  ) {
    await matchesOrt(S(new nn.Flatten(2), up, new nn.Flatten()), [2, 3, 3]);
  }
});

Deno.test("onnx layers: a subclass that keeps its parent's forward exports as it", async () => {
  manualSeed(34);
  class Smooth extends nn.Upsample {
    constructor() {
      super({ scaleFactor: 2, mode: "bilinear" });
    }
  }
  await matchesOrt(S(conv(1, 2), new Smooth(), new nn.Flatten()), [1, 5, 5]);
  class Small extends models.SimpleCNN {}
  using net = new Small({ imageSize: 16, numClasses: 3 });
  await matchesOrt(net, [1, 16, 16]);
});

Deno.test("onnx layers: adaptive max pooling with unequal bins is refused by name", () => {
  const model = S(conv(2, 3), new nn.AdaptiveMaxPool2d(2), new nn.Flatten());
  assert.throws(
    () => onnx.exportOnnx(model, { inputShape: ["N", 2, 7, 7] }),
    /5 x 5 to 2 x 2 has bins of unequal size/,
  );
});
