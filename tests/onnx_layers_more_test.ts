/**
 * ONNX export of PReLU, Mish, Softmin, Softmax2d, LocalResponseNorm, the
 * padding layers and Unflatten: each in a tiny model, run in ONNX Runtime
 * (npm onnxruntime-node, CPU) against our own eval-mode forward within 1e-5
 * of the output's largest magnitude, at batch 2 and 3 through one session
 * (the batch is the dynamic "N"); the nodes they become (as torch.onnx.export
 * writes them); the inputs they refuse, by name; and ONNX's own checker
 * (where python3-onnx is installed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { manualSeed, nn, noGrad, onnx, type Tensor, tensor } from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

const { exportOnnx } = onnx;

/** Sets every PReLU's slopes to distinct values, negative and above one included. */
function randomiseSlopes(model: nn.Module): void {
  for (const m of model.modules()) {
    if (!(m instanceof nn.PReLU)) continue;
    const n = m.weight.numel();
    const slopes = tensor(Float32Array.from({ length: n }, (_, i) => -0.5 + 1.7 * (i + 1) / n));
    noGrad(() => m.weight.copy_(slopes));
  }
}

/** Exports `model` for [N, ...chw] and compares ONNX Runtime with our forward at batch 2 and 3. */
async function matchesOrt(model: nn.Module, chw: number[], scale = 1): Promise<void> {
  randomiseSlopes(model);
  model.eval();
  const bytes = exportOnnx(model, {
    inputShape: ["N", ...chw] as [string, number, number, number],
  });
  await assertRunsAsOurs(model, bytes, chw, { scale, nonTrivial: true });
}

const S = (...layers: nn.Module[]) => new nn.Sequential(...layers);
const conv = (cin: number, cout: number) => new nn.Conv2d(cin, cout, 3);
const flat = () => new nn.Flatten();

const CASES: [string, () => nn.Module, number[], number?][] = [
  ["PReLU, a slope per channel, after a conv", () => S(conv(2, 3), new nn.PReLU(3), flat()), [
    2,
    6,
    6,
  ]],
  ["PReLU, one slope, after a conv", () => S(conv(2, 3), new nn.PReLU(), flat()), [2, 6, 6]],
  [
    "PReLU on [N, C] after Linear, a slope per feature",
    () => S(flat(), new nn.Linear(18, 4), new nn.PReLU(4)),
    [2, 3, 3],
  ],
  [
    "PReLU on [N, C] after Linear, one slope",
    () => S(flat(), new nn.Linear(18, 4), new nn.PReLU(1, 0.1)),
    [2, 3, 3],
  ],
  ["PReLU on [N, C, L]", () => S(new nn.Flatten(2), new nn.PReLU(2), flat()), [2, 3, 3]],
  ["Mish", () => S(conv(2, 3), new nn.Mish(), flat()), [2, 6, 6]],
  // Inputs to +-60: past Softplus's threshold (20) and e^x's float32 range.
  ["Mish on large inputs", () => S(new nn.Mish(), flat()), [2, 5, 5], 30],
  ["Softmin over channels", () => S(conv(2, 4), new nn.Softmin(1), flat()), [2, 5, 5]],
  ["Softmin(-1) after Linear", () => S(flat(), new nn.Linear(18, 5), new nn.Softmin(-1)), [
    2,
    3,
    3,
  ]],
  ["Softmax2d after a conv", () => S(conv(2, 4), new nn.Softmax2d(), flat()), [2, 5, 5]],
  // alpha 1 so that the windows matter at the tolerance; AlexNet's own numbers next.
  [
    "LocalResponseNorm 5 (LRN node)",
    () => S(conv(2, 7), new nn.LocalResponseNorm(5, 1, 0.75, 2), flat()),
    [2, 5, 5],
  ],
  [
    "LocalResponseNorm as AlexNet's",
    () => S(conv(2, 6), new nn.LocalResponseNorm(5, 1e-4, 0.75, 2), flat()),
    [2, 5, 5],
  ],
  [
    "LocalResponseNorm even size 2 (torch's window)",
    () => S(conv(2, 5), new nn.LocalResponseNorm(2, 1, 1, 1), flat()),
    [2, 5, 5],
  ],
  [
    "LocalResponseNorm 4, window wider than half the channels",
    () => S(conv(2, 3), new nn.LocalResponseNorm(4, 2, 0.5, 1), flat()),
    [2, 5, 5],
  ],
  [
    "LocalResponseNorm 3 on [N, C, L]",
    () => S(new nn.Flatten(2), new nn.LocalResponseNorm(3, 1.5, 0.75, 1), flat()),
    [5, 3, 3],
  ],
  [
    "LocalResponseNorm on [N, C, D, H, W]",
    () =>
      S(conv(2, 6), new nn.Unflatten(1, [3, 2]), new nn.LocalResponseNorm(3, 1, 0.75, 1), flat()),
    [
      2,
      5,
      5,
    ],
  ],
  ["ZeroPad2d before a conv", () => S(new nn.ZeroPad2d(1), conv(2, 3), flat()), [2, 4, 4]],
  [
    "ConstantPad2d with a crop",
    () => S(new nn.ConstantPad2d([1, -2, 0, 1], 0.5), conv(2, 3), flat()),
    [2, 4, 5],
  ],
  ["ConstantPad2d crops only", () => S(new nn.ConstantPad2d(-1, 3), conv(2, 3), flat()), [
    2,
    6,
    6,
  ]],
  ["ConstantPad1d on [N, C, H, W]", () => S(new nn.ConstantPad1d([2, 1], -1), flat()), [2, 3, 3]],
  ["ConstantPad3d pads C, H and W", () => S(new nn.ConstantPad3d([1, 0, 0, 2, 1, 1], 2), flat()), [
    2,
    3,
    3,
  ]],
  // On [N, C, L] it pads the dynamic batch too: the output has N + 2 rows.
  [
    "ConstantPad3d on [N, C, L] pads the batch",
    () => S(new nn.Flatten(2), new nn.ConstantPad3d([0, 1, 1, 0, 1, 1], 1), flat()),
    [2, 3, 3],
  ],
  ["ReflectionPad2d before a conv", () => S(new nn.ReflectionPad2d(1), conv(2, 3), flat()), [
    2,
    5,
    6,
  ]],
  [
    "ReflectionPad2d by the largest legal amounts",
    () => S(new nn.ReflectionPad2d([5, 5, 4, 4]), conv(2, 3), flat()),
    [2, 5, 6],
  ],
  // torch reflects the uncropped row: [a b c d] by (3, -2) is [d c b a b].
  [
    "ReflectionPad2d reflecting past a crop",
    () => S(new nn.ReflectionPad2d([3, -2, -1, 2]), flat()),
    [2, 4, 4],
  ],
  [
    "ReflectionPad1d on [N, C, L]",
    () => S(new nn.Flatten(2), new nn.ReflectionPad1d([8, 3]), flat()),
    [
      2,
      3,
      3,
    ],
  ],
  [
    "ReflectionPad3d on [N, C, D, H, W]",
    () =>
      S(
        conv(2, 4),
        new nn.Unflatten(1, [2, -1]),
        new nn.ReflectionPad3d([1, 2, 2, 0, 1, 0]),
        flat(),
      ),
    [
      2,
      5,
      5,
    ],
  ],
  [
    "ReplicationPad2d with crops",
    () => S(new nn.ReplicationPad2d([2, -1, -1, 3]), conv(2, 3), flat()),
    [
      2,
      4,
      5,
    ],
  ],
  [
    "ReplicationPad1d on [N, C, L]",
    () => S(new nn.Flatten(2), new nn.ReplicationPad1d([1, 4]), flat()),
    [2, 3, 3],
  ],
  // A 4-d input is one [C, D, H, W] sample to it, as to torch: dims 1, 2 and 3 are padded.
  ["ReplicationPad3d on a 4-d input", () => S(new nn.ReplicationPad3d(1), flat()), [2, 3, 3]],
  [
    "Unflatten with -1, then a conv",
    () => S(flat(), new nn.Unflatten(1, [2, -1, 6]), conv(2, 3), flat()),
    [3, 4, 6],
  ],
  [
    "Unflatten(-1, sizes) after Linear",
    () => S(flat(), new nn.Linear(9, 12), new nn.Unflatten(-1, [3, 4]), new nn.Softmin(1), flat()),
    [
      1,
      3,
      3,
    ],
  ],
  [
    "Unflatten of the dynamic batch with -1",
    () => S(new nn.Unflatten(0, [-1, 1]), new nn.Flatten(1)),
    [2, 3, 3],
  ],
];

for (const [name, build, chw, scale] of CASES) {
  Deno.test(`onnx layers more: ${name} matches ONNX Runtime at two batch sizes`, async () => {
    manualSeed(41);
    await matchesOrt(build(), chw, scale);
  });
}

/** A copy of decoded bytes (a Node Buffer's slice shares the message's buffer). */
const bytes = (raw: Uint8Array) => Uint8Array.from(raw);

/** The nodes of an exported model: op type and attributes by name. */
function nodes(model: nn.Module, chw: number[]) {
  const g = decodeModel(
    exportOnnx(model, { inputShape: ["N", ...chw] as [string, number, number, number] }),
  ).graph;
  const init = new Map(g.initializer.map((t) => [t.name, t]));
  return g.node.map((n) => ({
    op: n.opType,
    inputs: n.input.map((i) => init.get(i)),
    attrs: Object.fromEntries(n.attribute.map((a) => [
      a.name,
      a.type === 3
        ? new TextDecoder().decode(a.s)
        : a.type === 1
        ? a.f
        : a.type === 7
        ? a.ints.map(Number)
        : Number(a.i),
    ])),
  }));
}

Deno.test("onnx layers more: the nodes are torch.onnx.export's", () => {
  const ops = (m: nn.Module, chw = [2, 6, 6]) => nodes(m, chw).map((n) => n.op);
  // PReLU's slopes [3] as [3, 1, 1], under their state-dict name.
  const prelu = nodes(S(conv(2, 3), new nn.PReLU(3), flat()), [2, 6, 6])[1];
  assert.equal(prelu.op, "PRelu");
  assert.equal(prelu.inputs[1]!.name, "1.weight");
  assert.deepEqual(prelu.inputs[1]!.dims.map(Number), [3, 1, 1]);
  const linear = nodes(S(flat(), new nn.Linear(18, 4), new nn.PReLU(4)), [2, 3, 3])[2];
  assert.deepEqual(linear.inputs[1]!.dims.map(Number), [4]);
  assert.deepEqual(ops(S(conv(2, 3), new nn.Mish(), flat())), [
    "Conv",
    "Softplus",
    "Tanh",
    "Mul",
    "Flatten",
  ]);
  const softmin = nodes(S(conv(2, 3), new nn.Softmin(1), flat()), [2, 6, 6]);
  assert.deepEqual(softmin.map((n) => n.op).slice(1, 3), ["Neg", "Softmax"]);
  assert.equal(softmin[2].attrs.axis, 1);
  assert.deepEqual(nodes(S(conv(2, 3), new nn.Softmax2d(), flat()), [2, 6, 6])[1].attrs, {
    axis: -3,
  });
  const lrn = nodes(S(conv(2, 6), new nn.LocalResponseNorm(5, 1e-4, 0.75, 2), flat()), [2, 6, 6]);
  assert.equal(lrn[1].op, "LRN");
  assert.equal(lrn[1].attrs.size, 5);
  assert.ok(Math.abs((lrn[1].attrs.alpha as number) - 1e-4) < 1e-9);
  assert.equal(lrn[1].attrs.beta, 0.75);
  assert.equal(lrn[1].attrs.bias, 2);
  assert.ok(ops(S(conv(2, 6), new nn.LocalResponseNorm(4), flat())).includes("AveragePool"));
  const modes = [
    [new nn.ZeroPad2d(1), "constant"],
    [new nn.ConstantPad2d(1, 3), "constant"],
    [new nn.ReflectionPad2d(1), "reflect"],
    [new nn.ReplicationPad2d(1), "edge"],
  ] as const;
  for (const [layer, mode] of modes) {
    const [pad] = nodes(S(layer, flat()), [2, 4, 4]);
    assert.equal(pad.op, "Pad");
    assert.equal(pad.attrs.mode, mode);
    const amounts = new BigInt64Array(bytes(pad.inputs[1]!.rawData).buffer);
    assert.deepEqual([...amounts].map(Number), [0, 0, 1, 1, 0, 0, 1, 1]);
  }
  assert.deepEqual(ops(S(new nn.ReflectionPad2d([1, -1, 0, 0]), flat()), [2, 4, 4]), [
    "Pad",
    "Slice",
    "Flatten",
  ]);
  assert.deepEqual(ops(S(flat(), new nn.Unflatten(1, [2, -1]), flat()), [2, 3, 3]), [
    "Flatten",
    "Reshape",
    "Flatten",
  ]);
});

Deno.test("onnx layers more: the ConstantPad fill and Unflatten's Reshape target", () => {
  const [pad] = nodes(S(new nn.ConstantPad2d([1, 2, 3, 4], -2.5), flat()), [2, 4, 4]);
  assert.deepEqual([...new Float32Array(bytes(pad.inputs[2]!.rawData).buffer)], [-2.5]);
  const reshape = nodes(S(flat(), new nn.Unflatten(1, [2, -1, 3]), flat()), [2, 3, 3])[1];
  const target = new BigInt64Array(bytes(reshape.inputs[1]!.rawData).buffer);
  assert.deepEqual([...target].map(Number), [0, 2, 3, 3]);
});

const refuses = (model: nn.Module, chw: number[], pattern: RegExp) =>
  assert.throws(
    () => exportOnnx(model, { inputShape: ["N", ...chw] as [string, number, number, number] }),
    pattern,
  );

Deno.test("onnx layers more: bad inputs are refused by name", () => {
  refuses(
    S(conv(2, 3), new nn.PReLU(4), flat()),
    [2, 6, 6],
    /layer "1" \(PReLU\) has 4 slopes, but its input would be \[N, 3, 4, 4\], with 3 channels/,
  );
  refuses(
    S(flat(), new nn.Softmax2d()),
    [2, 3, 3],
    /layer "1" \(Softmax2d\) expects \[N, C, H, W\]/,
  );
  refuses(S(conv(2, 3), new nn.Softmin(4), flat()), [2, 6, 6], /dim 4 is outside \[N, 3, 4, 4\]/);
  refuses(S(flat(), new nn.LocalResponseNorm(3)), [2, 3, 3], /at least 3 dimensions/);
  refuses(
    S(new nn.ReflectionPad2d([6, 0, 0, 0]), flat()),
    [2, 4, 6],
    /padding \(6, 0\) must be less than the size 6 of dimension 3/,
  );
  refuses(
    S(new nn.ConstantPad2d(-3, 0), flat()),
    [2, 6, 6],
    /padding \(-3, -3\) leaves dimension 3 .* with no elements/,
  );
  refuses(
    S(flat(), new nn.ReflectionPad2d(1)),
    [2, 3, 3],
    /expects \[C, H, W\] or \[N, C, H, W\], but its input would be \[N, 18\]/,
  );
  refuses(S(flat(), new nn.ConstantPad3d(1, 0)), [2, 3, 3], /at least 3 dimensions/);
  refuses(
    S(flat(), new nn.Unflatten(1, [4, -1])),
    [2, 3, 3],
    /sizes \[4,-1\] don't multiply up to the size 18/,
  );
  refuses(
    S(new nn.Unflatten(0, [2, 3]), new nn.Flatten(1)),
    [2, 3, 3],
    /the dynamic batch "N", into \[2,3\], which would fix its size; put -1/,
  );
  refuses(S(flat(), new nn.Unflatten(2, [2, 9])), [2, 3, 3], /dim 2 is outside \[N, 18\]/);
  // A fixed batch may be split by fixed sizes.
  const fixed = decodeModel(
    exportOnnx(S(new nn.Unflatten(0, [2, 3]), new nn.Flatten(2), new nn.Flatten(0, 1)), {
      inputShape: [6, 1, 2, 2],
    }),
  );
  assert.equal(fixed.graph.node[0].opType, "Reshape");
});

Deno.test("onnx layers more: two-input modules are refused with the reason", () => {
  refuses(
    S(flat(), new nn.CosineSimilarity(1)),
    [2, 3, 3],
    /cannot export layer "1" \(CosineSimilarity\): it takes two inputs \(forward\(x1, x2\)\), and an exported graph takes one/,
  );
  refuses(
    new nn.PairwiseDistance(),
    [2, 3, 3],
    /the model \(PairwiseDistance\): it takes two inputs/,
  );
  // ... and are not listed as exportable.
  class Mystery extends nn.Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(
    () => exportOnnx(S(new Mystery()), { inputShape: ["N", 1, 2, 2] }),
    (e: Error) =>
      /Exportable: .*PReLU.*ReflectionPad2d.*LocalResponseNorm.*Unflatten/.test(e.message) &&
      !/CosineSimilarity/.test(e.message),
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
  name: "onnx layers more: ONNX's own checker passes them (where python3-onnx is installed)",
  ignore: !hasOnnx,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const model = S(
      new nn.ReflectionPad2d([1, 2, 0, -1]),
      conv(1, 4),
      new nn.PReLU(4),
      new nn.LocalResponseNorm(3, 1, 0.75, 1),
      new nn.LocalResponseNorm(2),
      new nn.ZeroPad2d(1),
      new nn.ReplicationPad2d([1, -1, 2, 0]),
      new nn.ConstantPad1d(1, 0.5),
      new nn.Mish(),
      new nn.Softmax2d(),
      new nn.Unflatten(1, [2, -1]),
      new nn.ReflectionPad3d(1),
      new nn.Flatten(),
      new nn.Linear(1320, 3),
      new nn.Softmin(1),
    );
    const file = join(dir, "more.onnx");
    await Deno.writeFile(file, exportOnnx(model, { inputShape: ["N", 1, 8, 8] }));
    const out = await new Deno.Command(PYTHON, { args: ["-c", CHECKER, file] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /checked .*'PRelu'.*'LRN'.*'AveragePool'.*'Pad'.*'Slice'.*'Softplus'/);
    await Deno.remove(dir, { recursive: true });
  },
});
