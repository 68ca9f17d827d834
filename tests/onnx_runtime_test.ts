/**
 * Exported graphs run in ONNX Runtime (npm onnxruntime-node, CPU; Deno
 * skips its install script, which only fetches GPU parts): the logits of
 * every zoo model, with the input standardisation inside the graph, equal
 * ours within 1e-4 on random images, at two batch sizes through one session
 * (the batch is dynamic). Batch-norm statistics and affine parameters are
 * randomised, so the test sees them. A Sequential covers the layers and
 * options the zoo does not use (ceil-mode and padded max-pool, average pool,
 * uneven adaptive bins, batch norm without affine and on features, flatten of
 * inner dims, the activations).
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { manualSeed, models, nn, noGrad, onnx, rand, tensor } from "../mod.ts";

import { assertClose } from "./helpers.ts";

const { exportOnnx } = onnx;

/** Fills batch norms' statistics and affine parameters with seeded random values. */
function randomiseBatchNorms(model: nn.Module, seed: number): void {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const state = new Map(model.stateDict());
  const ranges: Record<string, [number, number]> = {
    running_mean: [-0.3, 0.3],
    running_var: [0.5, 2],
    weight: [0.5, 1.5],
    bias: [-0.3, 0.3],
  };
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof nn.BatchNorm2d || m instanceof nn.BatchNorm1d)) continue;
    for (const [key, [lo, hi]] of Object.entries(ranges)) {
      const k = name ? `${name}.${key}` : key;
      if (!state.has(k)) continue; // no affine parameters
      const values = Float32Array.from({ length: m.numFeatures }, () => lo + (hi - lo) * next());
      state.set(k, tensor(values, [m.numFeatures]));
    }
  }
  model.loadStateDict(state);
}

/** The graph's logits for x [N, C, H, W] in ONNX Runtime. */
async function runOnnx(
  session: ort.InferenceSession,
  x: Float32Array,
  shape: number[],
): Promise<ort.Tensor> {
  const out = await session.run({ image: new ort.Tensor("float32", x, shape) });
  return out.logits;
}

/** Exports `model`, then compares ONNX Runtime's logits with ours at batch 1 and 3. */
async function checkAgainstOrt(
  model: nn.Module,
  size: number,
  normalize?: { mean: number; std: number },
): Promise<void> {
  model.eval();
  const bytes = exportOnnx(model, { inputShape: ["N", 1, size, size], normalize });
  const session = await ort.InferenceSession.create(bytes);
  try {
    for (const n of [1, 3]) {
      const image = rand([n, 1, size, size]); // the dataset's [0, 1] range
      const pixels = image.toArray() as Float32Array;
      const input = normalize
        ? tensor(pixels.map((v) => v * (1 / normalize.std) - normalize.mean / normalize.std), [
          n,
          1,
          size,
          size,
        ])
        : image;
      const ours = noGrad(() => model.forward(input)).toArray();
      const theirs = await runOnnx(session, pixels, [n, 1, size, size]);
      assert.deepEqual(theirs.dims, [n, 3]);
      const max = Math.max(...ours.map(Math.abs));
      assert.ok(max > 1e-3, `logits too small to compare (max |logit| ${max})`);
      assertClose(theirs.data as Float32Array, ours, { atol: 1e-4, rtol: 0, what: `batch ${n}` });
    }
  } finally {
    await session.release();
  }
}

const ZOO: [string, models.ModelOptions, number][] = [
  ["simple", { imageSize: 32 }, 32],
  ["simple", { imageSize: 32, batchNorm: true }, 32],
  ["simple", { imageSize: 32, batchNorm: true, globalPool: "max" }, 32],
  ["simple", { imageSize: 32, globalPool: "avg" }, 32],
  ["alexnet", {}, 63],
  ["resnet18", {}, 32],
  ["resnet34", {}, 32],
  ["resnet50", {}, 32],
];

for (const [name, options, size] of ZOO) {
  const label = `${name}${options.batchNorm ? " (batch norm)" : ""}${
    options.globalPool ? ` (global ${options.globalPool} pool)` : ""
  }`;
  Deno.test(`onnx: ${label} at ${size} x ${size} matches ONNX Runtime within 1e-4`, async () => {
    manualSeed(15);
    using model = models.create(name, { inChannels: 1, numClasses: 3, ...options });
    randomiseBatchNorms(model, 15);
    await checkAgainstOrt(model, size, { mean: 0.21, std: 0.27 });
  });
}

Deno.test("onnx: resnet18 without normalize and at an odd size matches ONNX Runtime", async () => {
  manualSeed(16);
  using model = models.resnet18({ inChannels: 1, numClasses: 3 });
  randomiseBatchNorms(model, 16);
  await checkAgainstOrt(model, 45);
});

Deno.test("onnx: layers beyond the zoo's (pool options, uneven bins, activations) match", async () => {
  manualSeed(17);
  using model = new nn.Sequential(
    new nn.Conv2d(1, 6, 3, { stride: 2, padding: [1, 2], dilation: 2 }),
    new nn.BatchNorm2d(6, { affine: false }),
    new nn.LeakyReLU(0.2),
    new nn.Conv2d(6, 6, 3, { groups: 3, padding: 1, bias: false }),
    new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
    new nn.Tanh(),
    new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }),
    new nn.AvgPool2d(2, { stride: 1, padding: 1 }),
    new nn.AdaptiveAvgPool2d([3, 5]),
    new nn.Sigmoid(),
    new nn.Dropout2d(0.5),
    new nn.Flatten(2), // [N, 6, 15], by Reshape
    new nn.Flatten(),
    new nn.BatchNorm1d(90),
    new nn.Linear(90, 3),
    new nn.Dropout(0.3),
    new nn.Identity(),
    new nn.LogSoftmax(1),
  );
  randomiseBatchNorms(model, 17);
  await checkAgainstOrt(model, 29);
});
