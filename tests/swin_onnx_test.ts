/**
 * ONNX export of the Swin Transformer (src/onnx/swin.ts), run in ONNX
 * Runtime: the reduced Swin of tests/fixtures/swin.json with torchvision's
 * weights on its three inputs (maps padded to whole windows, a window
 * covering the map, covering it along one axis) against torchvision's
 * logits and our forward; a 1-channel swin_t at 64 x 64 (windows pad in
 * stage 1, one window covers stages 3 and 4) with normalize baked in; what
 * the graph holds (the bias table under its state-dict name, the
 * shifted-window mask only where a shift acts); a hooked block refused.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { models, noGrad, onnx, type Tensor } from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";
import { assertNormalizedExportRuns, assertRunsAsOurs } from "./onnx_check.ts";

interface Small {
  config: models.SwinConfig;
  options: models.SwinOptions;
  weights: Record<string, Stored>;
  index: Stored;
  cases: Record<"padded" | "covered" | "half", { input: Stored; evalLogits: Stored }>;
}

const SMALL = loadFixture<{ small: Small }>("swin.json").small;

/** The fixture's reduced Swin with torchvision's weights, in eval mode. */
function buildSmall(): models.SwinTransformer {
  const net = new models.SwinTransformer(SMALL.config, SMALL.options);
  const state = new Map<string, Tensor>();
  for (const k of net.stateDict().keys()) {
    state.set(
      k,
      fromStored(k.endsWith("relative_position_index") ? SMALL.index : SMALL.weights[k]),
    );
  }
  net.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  return net.eval();
}

const maxAbs = (v: ArrayLike<number>) =>
  Array.from(v).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

for (const [name, c] of Object.entries(SMALL.cases)) {
  Deno.test(`swin onnx: the reduced Swin (${name}) runs in ONNX Runtime as torchvision and ours`, async () => {
    using net = buildSmall();
    const [, ch, h, w] = c.input.shape;
    const bytes = onnx.exportOnnx(net, { inputShape: ["N", ch, h, w] });
    const session = await ort.InferenceSession.create(bytes);
    try {
      using x = fromStored(c.input);
      const image = new ort.Tensor("float32", x.toArray() as Float32Array, c.input.shape);
      const { logits } = await session.run({ image });
      assert.deepEqual(logits.dims, c.evalLogits.shape);
      const got = logits.data as Float32Array;
      const max = maxAbs(c.evalLogits.data as number[]);
      assertClose(got, c.evalLogits.data as number[], {
        atol: 1e-4 * max,
        rtol: 1e-4,
        what: "torch",
      });
      using ours = noGrad(() => net.forward(x));
      assertClose(got, ours.toArray() as Float32Array, {
        atol: 1e-4 * max,
        rtol: 1e-4,
        what: "ours",
      });
    } finally {
      await session.release();
    }
    // Random batches of 2 and 3 through the symbolic batch.
    await assertRunsAsOurs(net, bytes, [ch, h, w], { nonTrivial: true, atol: 1e-4, rtol: 1e-4 });
  });
}

Deno.test("swin onnx: a 1-channel swin_t at 64 x 64 (windows pad) with normalize runs as ours", async () => {
  using net = models.swinT({ inChannels: 1, numClasses: 3 });
  await assertNormalizedExportRuns(net, 64);
});

Deno.test("swin onnx: the graph gathers the bias table and adds a mask only where windows shift", () => {
  using net = buildSmall();
  // 16 x 36: stage 1 is 4 x 9 (one window covers H, W pads to 12 and shifts),
  // stage 2 is 2 x 5 (one window covers H, W pads to 8 and shifts).
  const graph = decodeModel(onnx.exportOnnx(net, { inputShape: [2, 1, 16, 36] })).graph;
  const inits = new Set(graph.initializer.map((t) => t.name));
  for (const k of net.stateDict().keys()) assert.ok(inits.has(k), `initializer ${k}`);
  const masks = [...inits].filter((n) => n.endsWith(".attn.mask")).sort();
  assert.deepEqual(masks, ["features.1.1.attn.mask", "features.3.1.attn.mask"]);
  const ops = new Set(graph.node.map((n) => n.opType));
  for (const op of ["Gather", "Pad", "Softmax", "LayerNormalization", "MatMul"]) {
    assert.ok(ops.has(op), op);
  }
  // 32 x 32: stage 1 is 8 x 8 (shifted), stage 2 is 4 x 4, which one 4 x 4 window covers.
  const covered = decodeModel(onnx.exportOnnx(net, { inputShape: [1, 1, 32, 32] })).graph;
  assert.deepEqual(
    covered.initializer.map((t) => t.name).filter((n) => n.endsWith(".attn.mask")),
    ["features.1.1.attn.mask"],
  );
});

Deno.test("swin onnx: a hooked block, the wrong channels or a too-small input are refused by name", () => {
  using net = buildSmall();
  const block = [...net.namedModules()].find(([n]) => n === "features.1.0")![1];
  const handle = block.registerForwardHook(() => {});
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 32, 32] }),
    /cannot export layer "features.1.0" \(SwinTransformerBlock\): it has a forward hook/,
  );
  handle.remove();
  for (const shape of [[3, 32, 32], [1, 2, 8]]) {
    assert.throws(
      () => onnx.exportOnnx(net, { inputShape: ["N", ...shape] as ["N", number, number, number] }),
      /Swin tiny: input \[N,\d,\d+,\d+\] does not fit features\.0.* \[N, 1, H, W\] with H, W >= 4/,
    );
  }
});
