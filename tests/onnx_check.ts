/**
 * The check the ONNX export tests share: an exported model run in ONNX
 * Runtime on random batches of 2 and 3 gives our forward's output.
 *
 * @module
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { nn, noGrad, onnx, rand, randn } from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertClose } from "./helpers.ts";

/** Tolerances of `assertRunsAsOurs`. */
export interface OrtCheck {
  /** Inputs are randn times this (default: randn as drawn). */
  scale?: number;
  /** Absolute tolerance, relative to the largest output (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Refuse outputs whose largest magnitude is under 1e-3 (too small to compare). */
  nonTrivial?: boolean;
}

/**
 * Runs `bytes` (the ONNX export of `model`, input "image", output "logits")
 * on batches [2, ...tail] and [3, ...tail] and compares with `model`'s own
 * forward: shapes, then values.
 */
export async function assertRunsAsOurs(
  model: nn.Module,
  bytes: Uint8Array,
  tail: readonly number[],
  o: OrtCheck = {},
): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    for (const n of [2, 3]) {
      const shape = [n, ...tail];
      const x = o.scale === undefined ? randn(shape) : randn(shape).mul(o.scale);
      const ours = noGrad(() => model.forward(x));
      const image = new ort.Tensor("float32", x.toArray() as Float32Array, shape);
      const { logits } = await session.run({ image });
      assert.deepEqual(logits.dims, ours.shape, `batch ${n}`);
      const expected = ours.toArray() as Float32Array;
      const max = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      if (o.nonTrivial) assert.ok(max > 1e-3, `outputs too small to compare (max ${max})`);
      assertClose(logits.data as Float32Array, expected, {
        atol: (o.atol ?? 1e-5) * max,
        rtol: o.rtol ?? 1e-5,
        what: `batch ${n}`,
      });
    }
  } finally {
    await session.release();
  }
}

/**
 * `layers` exported behind a Flatten (the exporter wants [N, classes]) runs
 * in ONNX Runtime as our forward, and the output shape the graph declares is
 * the one it computes; returns the graph's op types.
 */
export async function matchesOrt(layers: nn.Module, chw: number[]): Promise<string[]> {
  const model = new nn.Sequential(layers, new nn.Flatten());
  model.eval();
  const bytes = onnx.exportOnnx(model, {
    inputShape: ["N", ...chw] as [string, number, number, number],
  });
  await assertRunsAsOurs(model, bytes, chw);
  const graph = decodeModel(bytes).graph;
  const declared = graph.output[0].type.tensorType.shape.dim.map((d) => d.dimValue);
  const real = noGrad(() => model(randn([1, ...chw]))).shape.slice(1);
  assert.deepEqual(declared.slice(1), real, "declared output shape");
  return graph.node.map((n) => n.opType);
}

/**
 * `model` (1 input channel, 3 classes) exported with `normalize` baked in
 * runs in ONNX Runtime on raw pixels [n, 1, size, size] (n = 1 and 3) as
 * our eval forward on the normalised image, within 1e-4; the logits must
 * be large enough to compare. Leaves `model` in eval mode.
 */
export async function assertNormalizedExportRuns(model: nn.Module, size: number): Promise<void> {
  const normalize = { mean: 0.21, std: 0.27 };
  const bytes = onnx.exportOnnx(model, { inputShape: ["N", 1, size, size], normalize });
  model.eval();
  const session = await ort.InferenceSession.create(bytes);
  try {
    for (const n of [1, 3]) {
      using image = rand([n, 1, size, size]);
      const pixels = image.toArray() as Float32Array;
      using input = image.sub(normalize.mean).div(normalize.std);
      using logits = noGrad(() => model(input));
      const ours = logits.toArray();
      const out = await session.run({
        image: new ort.Tensor("float32", pixels, [n, 1, size, size]),
      });
      assert.deepEqual(out.logits.dims, [n, 3]);
      assert.ok(Math.max(...ours.map(Math.abs)) > 1e-3, "logits large enough to compare");
      assertClose(out.logits.data as Float32Array, ours, {
        atol: 1e-4,
        rtol: 0,
        what: `batch ${n}`,
      });
    }
  } finally {
    await session.release();
  }
}
