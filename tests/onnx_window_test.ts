/**
 * `deno task export` of a run with an input window: the recorded
 * evaluation transforms (window clip, then standardisation) go inside the
 * graph, so ONNX Runtime on dataset-range images equals our pipeline; a
 * recorded transform with no ONNX form is an error, not a skipped step.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { data, manualSeed, models, noGrad, optim, rand, tensor, train } from "../mod.ts";
import { exportMain } from "../src/onnx/cli.ts";
import type { TransformSpec } from "../src/data/transforms/transform.ts";
import { assertClose } from "./helpers.ts";

async function exportQuietly(args: string[]) {
  const err: string[] = [];
  const { log, error } = console;
  console.log = () => {};
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await exportMain(args), stderr: err.join("\n") };
  } finally {
    Object.assign(console, { log, error });
  }
}

/** A checkpoint whose spec records `transforms` as its evaluation transforms. */
async function checkpoint(dir: string, transforms: TransformSpec[]) {
  manualSeed(5);
  const spec: train.ModelSpec = {
    name: "simple",
    options: { inChannels: 1, numClasses: 3, imageSize: 32, batchNorm: true },
    normalize: { mean: 0.3, std: 0.35 },
    preprocessing: { window: [-200, 250], dataSize: [32, 32], scaling: "minmax", transforms },
  };
  const model = models.create(spec.name, spec.options);
  const path = join(dir, "checkpoint.safetensors");
  await train.saveCheckpoint(path, model, new optim.Adam(model.parameters()), {
    model: spec,
    epoch: 1,
    step: 1,
    scheduler: null,
    rng: { seed: "5", counter: "0" },
    loader: { epoch: 1, seed: 5 },
    config: train.DEFAULTS,
    trainer: { history: [], bestValLoss: 1, bestEpoch: 1, badValidations: 0, seconds: 1 },
  });
  return { path, model, spec };
}

Deno.test("export: the run's input window and standardisation are inside the graph", async () => {
  const dir = await Deno.makeTempDir();
  const window = train.windowTransform([25, 125], [-200, 250]);
  const { path, model, spec } = await checkpoint(dir, [
    window,
    { name: "Normalize", mean: 0.3, std: 0.35 },
  ]);
  const r = await exportQuietly(["--checkpoint", path, "--format", "onnx"]);
  assert.equal(r.code, 0, r.stderr);
  const pixels = rand([3, 1, 32, 32]).toArray() as Float32Array;
  // Ours: each image through the run's evaluation transforms, then the model.
  const t = data.transforms.compose(train.evalTransforms(spec, 32, 32));
  const inputs = new Float32Array(pixels.length);
  for (let i = 0; i < 3; i++) {
    const img = { data: pixels.slice(i * 1024, (i + 1) * 1024), width: 32, height: 32 };
    inputs.set(t.apply(img, new data.Rng(0)).data, i * 1024);
  }
  const ours = noGrad(() => model.eval().forward(tensor(inputs, [3, 1, 32, 32]))).toArray();
  const session = await ort.InferenceSession.create(join(dir, "checkpoint.onnx"));
  try {
    const out = await session.run({ image: new ort.Tensor("float32", pixels, [3, 1, 32, 32]) });
    assertClose(out.logits.data as Float32Array, ours, { atol: 1e-4, rtol: 0 });
    // Without the window the logits differ: the test would see a graph that skipped it.
    const plain = noGrad(() =>
      model.forward(tensor(pixels.map((v) => (v - 0.3) / 0.35), [3, 1, 32, 32]))
    ).toArray();
    assert.ok(plain.some((v, i) => Math.abs(v - ours[i]) > 1e-3));
  } finally {
    await session.release();
    model.dispose();
  }
});

Deno.test("export: a recorded transform with no ONNX form is an error naming it", async () => {
  const dir = await Deno.makeTempDir();
  const { model } = await checkpoint(dir, [{ name: "RandomGamma", gamma: [0.9, 1.1], p: 1 }]);
  model.dispose();
  const out = join(dir, "x.onnx");
  const r = await exportQuietly([
    "--checkpoint",
    join(dir, "checkpoint.safetensors"),
    "--format",
    "onnx",
    "--out",
    out,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /evaluation transform .*RandomGamma.* has no ONNX form/);
  assert.equal(await Deno.stat(out).then(() => true, () => false), false);
});
