/**
 * ONNX export of the 3-D layers: small volume classifiers exported with a
 * 5-D input ["N", C, D, H, W], run in ONNX Runtime (npm onnxruntime-node,
 * CPU) against our own eval-mode forward within 1e-5 of the output's
 * largest magnitude, at batch 2 and 3 through one session; the nodes they
 * become; what they refuse, by name; and ONNX's own checker (where
 * python3-onnx is installed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { manualSeed, nn, noGrad, onnx, randn, scope } from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

const { exportOnnx } = onnx;
type Shape5 = [string, number, number, number, number];

/** Trains the batch norms a little so their running statistics are not 0 and 1. */
function warmUp(model: nn.Module, cdhw: number[]): void {
  model.train();
  scope(() => noGrad(() => model.forward(randn([4, ...cdhw]).mul(2).add(0.5))));
  model.eval();
}

async function matchesOrt(model: nn.Module, cdhw: number[]): Promise<string[]> {
  warmUp(model, cdhw);
  const bytes = exportOnnx(model, { inputShape: ["N", ...cdhw] as Shape5 });
  await assertRunsAsOurs(model, bytes, cdhw, { nonTrivial: true });
  return decodeModel(bytes).graph!.node!.map((n) => n.opType!);
}

const S = (...layers: nn.Module[]) => new nn.Sequential(...layers);

Deno.test("onnx 3d: conv, batch norm, max pool, global average, linear (a CT volume net)", async () => {
  manualSeed(1);
  const model = S(
    new nn.Conv3d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm3d(4),
    new nn.ReLU(),
    new nn.MaxPool3d(2),
    new nn.Conv3d(4, 6, 3, { stride: [1, 2, 2], padding: [1, 0, 1], groups: 2 }),
    new nn.Dropout3d(0.3),
    new nn.AdaptiveAvgPool3d(1),
    new nn.Flatten(),
    new nn.Linear(6, 3),
  );
  const ops = await matchesOrt(model, [1, 6, 8, 8]);
  assert.deepEqual(ops, [
    "Conv",
    "BatchNormalization",
    "Relu",
    "MaxPool",
    "Conv",
    "GlobalAveragePool",
    "Flatten",
    "Gemm",
  ]);
});

Deno.test('onnx 3d: padding modes, dilation, "same" with an even kernel, instance norm', async () => {
  manualSeed(2);
  const model = S(
    new nn.Conv3d(2, 3, 3, { padding: 1, paddingMode: "reflect" }),
    new nn.InstanceNorm3d(3, { affine: true }),
    new nn.Conv3d(3, 3, [2, 3, 2], { padding: "same", paddingMode: "replicate" }),
    new nn.InstanceNorm3d(3, { trackRunningStats: true }),
    new nn.Conv3d(3, 2, [2, 2, 3], { padding: "same", dilation: [1, 2, 1] }),
    new nn.Flatten(),
    new nn.Linear(2 * 5 * 6 * 5, 4),
  );
  const ops = await matchesOrt(model, [2, 5, 6, 5]);
  assert.deepEqual(ops.filter((o) => o !== "Flatten" && o !== "Gemm"), [
    "Pad",
    "Conv",
    "InstanceNormalization",
    "Pad",
    "Conv",
    "BatchNormalization",
    "Conv",
  ]);
});

Deno.test("onnx 3d: pools with ceil mode, padding, dilation, divisors, adaptive bins", async () => {
  manualSeed(3);
  for (
    const [name, pool] of [
      [
        "max ceil pad dilation",
        new nn.MaxPool3d([2, 3, 2], {
          stride: [1, 2, 2],
          padding: [1, 1, 0],
          dilation: [2, 1, 1],
          ceilMode: true,
        }),
      ],
      ["avg ceil pad", new nn.AvgPool3d(3, { stride: 2, padding: 1, ceilMode: true })],
      [
        "avg ceil pad, uncounted",
        new nn.AvgPool3d(3, {
          stride: 2,
          padding: 1,
          ceilMode: true,
          countIncludePad: false,
        }),
      ],
      [
        "avg divisorOverride",
        new nn.AvgPool3d([3, 2, 3], {
          stride: [2, 1, 2],
          padding: 1,
          ceilMode: true,
          divisorOverride: 5,
        }),
      ],
      ["adaptive avg, unequal bins", new nn.AdaptiveAvgPool3d([3, 4, 2])],
      ["adaptive avg, equal bins", new nn.AdaptiveAvgPool3d([2, 3, null])],
      ["adaptive max, equal bins", new nn.AdaptiveMaxPool3d([2, 3, 1])],
      ["adaptive max 1", new nn.AdaptiveMaxPool3d(1)],
    ] as const
  ) {
    const probe = noGrad(() => pool.forward(randn([1, 2, 6, 6, 7])));
    const model = S(pool, new nn.Flatten(), new nn.Linear(probe.numel(), 3));
    await matchesOrt(model, [2, 6, 6, 7]).catch((e) => {
      throw new Error(`${name}: ${(e as Error).message}`);
    });
  }
});

Deno.test("onnx 3d: refusals name the layer and the reason", () => {
  const shape: Shape5 = ["N", 2, 4, 6, 6];
  const head = () => [new nn.Flatten(), new nn.Linear(2, 2)];
  assert.throws(
    () =>
      exportOnnx(
        S(new nn.Conv3d(2, 2, 3, { padding: 1, paddingMode: "circular" }), ...head()),
        { inputShape: shape },
      ),
    /layer "0" \(Conv3d\): paddingMode "circular" has no ONNX Pad mode/,
  );
  assert.throws(
    () => exportOnnx(S(new nn.AdaptiveMaxPool3d([3, 1, 1]), ...head()), { inputShape: shape }),
    /layer "0" \(AdaptiveMaxPool3d\): 4 x 6 x 6 to 3 x 1 x 1 has bins of unequal size/,
  );
  assert.throws(
    () =>
      exportOnnx(S(new nn.BatchNorm3d(2, { trackRunningStats: false }), ...head()), {
        inputShape: shape,
      }),
    /layer "0" \(BatchNorm3d\) keeps no running statistics/,
  );
  assert.throws(
    () => exportOnnx(S(new nn.Conv3d(3, 2, 3), ...head()), { inputShape: shape }),
    /layer "0" \(Conv3d\) expects \[N, 3, D, H, W\], but its input would be \[N, 2, 4, 6, 6\]/,
  );
  assert.throws(
    () => exportOnnx(S(new nn.MaxPool3d(2), ...head()), { inputShape: ["N", 2, 6, 6] }),
    /layer "0" \(MaxPool3d\) expects \[N, C, D, H, W\]/,
  );
  assert.throws(
    () =>
      exportOnnx(S(new nn.MaxPool3d(2)), {
        inputShape: ["N", 2, 4, 6, 6, 1] as unknown as Shape5,
      }),
    /inputShape .* must be \[batch, C, H, W\] \(or \[batch, C, D, H, W\] for volumes\)/,
  );
});

const PYTHON = "/usr/bin/python3";
const CHECKER = `
import sys, onnx
model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
print("checked", [n.op_type for n in model.graph.node])
`;
const hasOnnx = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import onnx"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "onnx 3d: ONNX's own checker passes them (where python3-onnx is installed)",
  ignore: !hasOnnx,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const model = S(
      new nn.Conv3d(1, 4, 3, { padding: 1, paddingMode: "reflect" }),
      new nn.BatchNorm3d(4),
      new nn.InstanceNorm3d(4),
      new nn.MaxPool3d(2, { ceilMode: true, dilation: [1, 1, 2] }),
      new nn.AvgPool3d(2, { stride: 1, padding: 1, ceilMode: true, divisorOverride: 3 }),
      new nn.AdaptiveAvgPool3d([3, 2, 2]),
      new nn.AdaptiveMaxPool3d(1),
      new nn.Dropout3d(),
      new nn.Flatten(),
      new nn.Linear(4, 3),
    );
    const file = join(dir, "volumes.onnx");
    await Deno.writeFile(file, exportOnnx(model, { inputShape: ["N", 1, 5, 8, 8] }));
    const out = await new Deno.Command(PYTHON, { args: ["-c", CHECKER, file] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /checked .*'Pad'.*'Conv'.*'InstanceNormalization'.*'MaxPool'.*'Mul'/);
    await Deno.remove(dir, { recursive: true });
  },
});
