/**
 * conv1d / nn.Conv1d (padding modes included), the 1-D pools, embedding,
 * pixelShuffle / pixelUnshuffle and unfold / fold against PyTorch 1.13's
 * numbers (tests/fixtures/layers_1d.json, written by
 * scripts/make_layers_1d_fixtures.py): the output, and the gradients of
 * L = sum(out * G) for a fixed random G for every input that requires one.
 * Each functional case is also run through its nn module. Then the layers'
 * initialisation and state dicts, the argument checks (each error names
 * the function), and the ONNX export of the 1-D layers and pixel shuffles
 * in ONNX Runtime (tests/embedding_fold_test.ts has the embedding's and
 * fold's own checks).
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, onnx, randn, type Tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";
import { matchesOrt } from "./onnx_check.ts";

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  out: StoredRecord;
  G?: StoredRecord;
  grads?: (StoredRecord | null)[];
  weightAfter?: StoredRecord;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("layers_1d.json");
const TOL = testDevice === "cpu" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-4, atol: 1e-4 };

const make = (r: StoredRecord): Tensor => fromStored(r, { device: testDevice });

function matches(t: Tensor, want: StoredRecord, what: string): void {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assertClose(t, want.data as number[], { ...TOL, what });
}

/** The functional op and the module of a case, on its inputs (the module null where none). */
function run(c: Case, x: Tensor[]): { out: Tensor; module?: () => Tensor } {
  const o = c.opts;
  switch (c.op) {
    case "conv1d":
      return { out: F.conv1d(x[0], x[1], x[2] ?? null, o) };
    case "maxPool1d": {
      const { kernelSize, ...rest } = o;
      return {
        out: F.maxPool1d(x[0], kernelSize, rest),
        module: () => new nn.MaxPool1d(kernelSize, rest)(x[0]),
      };
    }
    case "avgPool1d": {
      const { kernelSize, ...rest } = o;
      return {
        out: F.avgPool1d(x[0], kernelSize, rest),
        module: () => new nn.AvgPool1d(kernelSize, rest)(x[0]),
      };
    }
    case "adaptiveAvgPool1d":
      return {
        out: F.adaptiveAvgPool1d(x[0], o.outputSize),
        module: () => new nn.AdaptiveAvgPool1d(o.outputSize)(x[0]),
      };
    case "adaptiveMaxPool1d":
      return {
        out: F.adaptiveMaxPool1d(x[0], o.outputSize),
        module: () => new nn.AdaptiveMaxPool1d(o.outputSize)(x[0]),
      };
    case "pixelShuffle":
      return {
        out: F.pixelShuffle(x[0], o.factor),
        module: () => new nn.PixelShuffle(o.factor)(x[0]),
      };
    case "pixelUnshuffle":
      return {
        out: F.pixelUnshuffle(x[0], o.factor),
        module: () => new nn.PixelUnshuffle(o.factor)(x[0]),
      };
    case "unfold": {
      const { kernelSize, ...rest } = o;
      return {
        out: F.unfold(x[0], kernelSize, rest),
        module: () => new nn.Unfold(kernelSize, rest)(x[0]),
      };
    }
    case "fold": {
      const { outputSize, kernelSize, ...rest } = o;
      return {
        out: F.fold(x[0], outputSize, kernelSize, rest),
        module: () => new nn.Fold(outputSize, kernelSize, rest)(x[0]),
      };
    }
    case "embedding":
      return { out: F.embedding(x[0], x[1], o) };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

for (const c of fx.cases.filter((c) => c.op !== "Conv1d")) {
  Deno.test(`layers_1d fixture (${testDevice}): ${c.name}`, () => {
    const inputs = c.inputs.map((r) => make(r).requiresGrad_(r.grad ?? false));
    const { out, module } = run(c, inputs);
    matches(out, c.out, `${c.name}: out`);
    if (c.G) {
      out.mul(make(c.G)).sum().backward();
      c.grads!.forEach((g, i) => {
        if (g) matches(inputs[i].grad!, g, `${c.name}: grad of input ${i}`);
      });
    }
    if (c.weightAfter) matches(inputs[1], c.weightAfter, `${c.name}: weight renormalised`);
    if (module) matches(noGrad(module), c.out, `${c.name}: module`);
  });
}

for (const c of fx.cases.filter((c) => c.op === "Conv1d")) {
  Deno.test(`layers_1d fixture (${testDevice}): ${c.name}, through nn.Conv1d`, () => {
    const { kernelSize, ...o } = c.opts;
    const [x, w, b] = c.inputs.map((r) => make(r).requiresGrad_(true));
    const m = new nn.Conv1d(w.shape[1], w.shape[0], kernelSize, o);
    if (testDevice !== "cpu") m.to(testDevice);
    m.loadStateDict({ weight: w, bias: b });
    const out = m(x);
    matches(out, c.out, `${c.name}: out`);
    out.mul(make(c.G!)).sum().backward();
    matches(x.grad!, c.grads![0]!, `${c.name}: grad of x`);
    matches(m.weight.grad!, c.grads![1]!, `${c.name}: grad of weight`);
    matches(m.bias!.grad!, c.grads![2]!, `${c.name}: grad of bias`);
  });
}

Deno.test("nn.Conv1d: torch's init, state dict and attributes", () => {
  const m = new nn.Conv1d(4, 6, 5, { groups: 2, stride: 2, padding: 1 });
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], ["weight", "bias"]);
  assert.deepEqual(sd.get("weight")!.shape, [6, 2, 5]);
  assert.deepEqual(sd.get("bias")!.shape, [6]);
  // kaiming_uniform(a = sqrt(5)) and the bias both have bound 1 / sqrt(fan_in), fan_in 2 * 5.
  const bound = 1 / Math.sqrt(10);
  for (const t of [m.weight, m.bias!]) {
    const v = [...t.toArray()];
    assert.ok(v.every((e) => Math.abs(e) <= bound), "within the bound");
    assert.ok(Math.max(...v.map(Math.abs)) > bound * 0.6, "spread over the bound");
  }
  assert.deepEqual(
    [m.inChannels, m.outChannels, m.kernelSize, m.stride, m.padding, m.dilation, m.groups],
    [4, 6, [5], [2], [1], [1], 2],
  );
  assert.equal(m.paddingMode, "zeros");
  assert.equal(new nn.Conv1d(2, 2, 4, { padding: "same" }).padding, "same");
  assert.equal(new nn.Conv1d(2, 2, 3, { bias: false }).bias, null);
  assert.deepEqual(new nn.Conv1d(3, 2, 3)(randn([3, 10])).shape, [2, 8], "unbatched");
});

/** Asserts `fn` throws an Error whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: Error) => {
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

Deno.test("conv1d and nn.Conv1d refuse bad arguments, by name", () => {
  const x = randn([2, 3, 8]), w = randn([4, 3, 3]);
  refuses(() => F.conv1d(randn([2, 3, 4, 4]), w), /^conv1d: .*2-D.*3-D.*\[2,3,4,4\]/);
  refuses(() => F.conv1d(randn([8]), w), /^conv1d: /);
  refuses(() => F.conv1d(x, randn([4, 3, 3, 1])), /^conv1d: .*3-D weight/);
  refuses(() => F.conv1d(randn([2, 5, 8]), w), /conv1d .*5 channels.*3 x 1 groups/);
  refuses(() => F.conv1d(x, w, randn([3])), /conv1d .*bias must be \[4\]/);
  refuses(() => F.conv1d(x, randn([4, 1, 3]), null, { groups: 2 }), /3 channels.*1 x 2/);
  refuses(() => F.conv1d(x, w, null, { stride: 0 }), /conv1d: stride must be an integer >= 1/);
  refuses(() => F.conv1d(x, w, null, { padding: "full" as "same" }), /conv1d: padding must/);
  refuses(() => F.conv1d(x, w, null, { padding: "same", stride: 2 }), /"same".*strided/);
  refuses(() => F.conv1d(randn([1, 3, 2]), w), /conv1d .*fewer than the kernel's span 3/);
  refuses(() => F.conv1d(x, w, { padding: 1 } as unknown as Tensor), /third argument is the bias/);
  refuses(() => F.conv1d(x, w, null, { pad: 1 } as never), /conv1d: unknown option 'pad'/);
  refuses(() => F.conv1d(x.int(), w), /conv1d: expected a float32 tensor/);
  refuses(() => new nn.Conv1d(3, 4, 3, { paddingMode: "wrap" as "zeros" }), /nn.Conv1d: padding/);
  refuses(() => new nn.Conv1d(3, 4, 3, { groups: 2 }), /nn.Conv1d: channels 3 -> 4.*groups 2/);
  refuses(() => new nn.Conv1d(3, 4, 0), /nn.Conv1d: kernel size must be an integer >= 1/);
  refuses(() => new nn.Conv1d(3, 4, [3, 3] as never), /nn.Conv1d: kernel size/);
  refuses(() => new nn.Conv1d(0, 4, 3), /nn.Conv1d: inChannels must be a positive integer/);
  refuses(() => new nn.Conv1d(3, 4, 3, { padding: "same", stride: 2 }), /nn.Conv1d: .*"same"/);
  refuses(() => new nn.Conv1d(3, 4, 3, 1 as never), /nn.Conv1d: expected an options object/);
  refuses(
    () => new nn.Conv1d(3, 4, 3, { padding_mode: "reflect" } as never),
    /write 'paddingMode'/,
  );
  refuses(() => new nn.Conv1d(3, 4, 3, { paddingMode: "reflect" })(randn([3])), /nn.Conv1d: /);
});

Deno.test("the 1-D pools refuse bad arguments, by name", () => {
  const x = randn([2, 3, 8]);
  refuses(() => F.maxPool1d(randn([1, 2, 3, 4]), 2), /^maxPool1d: .*2-D.*3-D/);
  refuses(() => F.avgPool1d(randn([4]), 2), /^avgPool1d: .*2-D.*3-D/);
  refuses(() => F.adaptiveAvgPool1d(randn([1, 2, 3, 4]), 2), /^adaptiveAvgPool1d: /);
  refuses(() => F.adaptiveMaxPool1d(randn([1, 2, 3, 4]), 2), /^adaptiveMaxPool1d: /);
  refuses(() => F.maxPool1d(x, 3, { padding: 2 }), /maxPool1d: padding 2 .*half the kernel/);
  refuses(() => F.maxPool1d(x, 0), /maxPool1d: kernel size must be an integer >= 1/);
  // dilation is taken (tests/pool1d_more_test.ts); 0 is not a dilation.
  refuses(() => F.maxPool1d(x, 2, { dilation: 0 }), /maxPool1d: dilation/);
  refuses(() => F.avgPool1d(x, 2, { dilation: 1 } as never), /avgPool1d: unknown option/);
  refuses(() => F.maxPool1d(x, 9), /maxPool1d: input of length 8 is too small for kernel 9/);
  refuses(() => F.maxPool1d(x, 2, { ceilMode: 1 as never }), /ceilMode must be true or false/);
  refuses(() => F.adaptiveAvgPool1d(x, [2, 3] as never), /adaptiveAvgPool1d: output size/);
  refuses(() => F.adaptiveMaxPool1d(x, 0), /adaptiveMaxPool1d: output size/);
  // returnIndices is offered (tests/adaptive_max_indices_test.ts), in an options object.
  refuses(
    () => (F.adaptiveMaxPool1d as (...a: unknown[]) => Tensor)(x, 2, true),
    /adaptiveMaxPool1d: expected an options object, got boolean true; .*returnIndices: true/,
  );
  refuses(() => F.maxPool1d(x.int(), 2), /maxPool1d: expected a float32 tensor/);
  refuses(() => new nn.MaxPool1d(2, 2 as never), /nn.MaxPool1d: expected an options object/);
  refuses(() => new nn.AvgPool1d(-1), /nn.AvgPool1d: kernel size/);
  refuses(() => new nn.AdaptiveAvgPool1d(1.5), /nn.AdaptiveAvgPool1d: output size/);
});

Deno.test("pixelShuffle and pixelUnshuffle refuse bad arguments, by name", () => {
  refuses(() => F.pixelShuffle(randn([1, 5, 2, 2]), 2), /pixelShuffle: .*channels 5.*square/);
  refuses(() => F.pixelShuffle(randn([8, 2]), 2), /pixelShuffle: .*at least 3 dimensions/);
  refuses(() => F.pixelShuffle(randn([1, 4, 2, 2]), 0), /pixelShuffle: upscaleFactor must be/);
  refuses(() => F.pixelShuffle(randn([1, 4, 2, 2]), 1.5), /pixelShuffle: upscaleFactor/);
  refuses(() => F.pixelUnshuffle(randn([1, 1, 3, 4]), 2), /pixelUnshuffle: the height 3/);
  refuses(() => F.pixelUnshuffle(randn([1, 1, 4, 5]), 2), /pixelUnshuffle: the width 5/);
  refuses(() => new nn.PixelShuffle(0), /nn.PixelShuffle: upscaleFactor must be/);
  refuses(() => Reflect.construct(nn.PixelUnshuffle, [2, 2]), /nn.PixelUnshuffle: takes at most 1/);
  // Exact round trip, any leading dimensions.
  const x = randn([2, 3, 8, 4, 6]);
  assert.deepEqual(F.pixelShuffle(F.pixelUnshuffle(x, 2), 2).toArray(), x.toArray());
});

// ---- ONNX export, in ONNX Runtime ----

const S = (...layers: nn.Module[]) => new nn.Sequential(...layers);
const to1d = () => new nn.Flatten(2); // [N, C, H, W] -> [N, C, H W]

const ONNX_CASES: [string, () => nn.Module, number[], string][] = [
  [
    "Conv1d stride 2 padding 1",
    () => S(to1d(), new nn.Conv1d(2, 3, 3, { stride: 2, padding: 1 })),
    [2, 3, 5],
    "Conv",
  ],
  [
    "Conv1d groups, dilation, no bias",
    () => S(to1d(), new nn.Conv1d(4, 2, 3, { groups: 2, dilation: 2, bias: false })),
    [4, 2, 5],
    "Conv",
  ],
  ["Conv1d same, even kernel", () => S(to1d(), new nn.Conv1d(2, 3, 4, { padding: "same" })), [
    2,
    3,
    3,
  ], "Conv"],
  [
    "Conv1d reflect",
    () => S(to1d(), new nn.Conv1d(2, 3, 5, { padding: 2, paddingMode: "reflect" })),
    [2, 2, 4],
    "Pad",
  ],
  [
    "Conv1d replicate",
    () => S(to1d(), new nn.Conv1d(2, 3, 3, { padding: 1, paddingMode: "replicate" })),
    [2, 2, 4],
    "Pad",
  ],
  [
    "MaxPool1d ceil",
    () => S(to1d(), new nn.MaxPool1d(3, { stride: 2, padding: 1, ceilMode: true })),
    [2, 2, 5],
    "MaxPool",
  ],
  [
    "AvgPool1d ceil, padding counted",
    () => S(to1d(), new nn.AvgPool1d(3, { stride: 2, padding: 1, ceilMode: true })),
    [2, 2, 5],
    "AveragePool",
  ],
  [
    "AvgPool1d ceil, padding not counted",
    () =>
      S(
        to1d(),
        new nn.AvgPool1d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      ),
    [2, 2, 5],
    "AveragePool",
  ],
  [
    "AdaptiveAvgPool1d to 1",
    () => S(to1d(), new nn.AdaptiveAvgPool1d(1)),
    [2, 3, 3],
    "GlobalAveragePool",
  ],
  [
    "AdaptiveAvgPool1d, equal bins",
    () => S(to1d(), new nn.AdaptiveAvgPool1d(3)),
    [2, 3, 3],
    "AveragePool",
  ],
  [
    "AdaptiveAvgPool1d, unequal bins",
    () => S(to1d(), new nn.AdaptiveAvgPool1d(4)),
    [2, 3, 3],
    "MatMul",
  ],
  [
    "MaxPool1d, dilation 2, ceil mode",
    () => S(to1d(), new nn.MaxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true })),
    [2, 3, 4],
    "MaxPool",
  ],
  [
    "AdaptiveMaxPool1d to 1",
    () => S(to1d(), new nn.AdaptiveMaxPool1d(1)),
    [2, 3, 3],
    "GlobalMaxPool",
  ],
  [
    "AdaptiveMaxPool1d, equal bins",
    () => S(to1d(), new nn.AdaptiveMaxPool1d(3)),
    [2, 3, 3],
    "MaxPool",
  ],
  ["PixelShuffle", () => S(new nn.Conv2d(2, 8, 3, { padding: 1 }), new nn.PixelShuffle(2)), [
    2,
    3,
    4,
  ], "DepthToSpace"],
  [
    "PixelUnshuffle",
    () => S(new nn.PixelUnshuffle(2), new nn.Conv2d(8, 2, 1)),
    [2, 4, 6],
    "Transpose",
  ],
];

for (const [name, build, chw, op] of ONNX_CASES) {
  Deno.test(`exportOnnx: ${name} runs in ONNX Runtime as our forward`, async () => {
    const ops = await matchesOrt(build(), chw);
    assert.ok(ops.includes(op), `${op} in ${ops}`);
  });
}

Deno.test("exportOnnx refuses Embedding, Fold, Unfold, circular Conv1d and unequal max bins", () => {
  const shape = { inputShape: ["N", 2, 3, 4] as [string, number, number, number] };
  refuses(() => onnx.exportOnnx(S(new nn.Embedding(4, 2)), shape), /Embedding.*int32 indices/);
  refuses(() => onnx.exportOnnx(S(new nn.Unfold(2)), shape), /Unfold.*no im2col/);
  refuses(() => onnx.exportOnnx(S(new nn.Unfold(2), new nn.Fold([3, 4], 2)), shape), /Unfold/);
  refuses(
    () =>
      onnx.exportOnnx(
        S(to1d(), new nn.Conv1d(2, 2, 3, { padding: 1, paddingMode: "circular" })),
        shape,
      ),
    /"circular" has no ONNX Pad mode/,
  );
  refuses(() => onnx.exportOnnx(S(to1d(), new nn.AdaptiveMaxPool1d(5)), shape), /unequal size/);
  refuses(() => onnx.exportOnnx(S(new nn.Conv1d(2, 2, 3)), shape), /Conv1d\) expects \[N, 2, L\]/);
  refuses(() => onnx.exportOnnx(S(new nn.PixelShuffle(2)), shape), /not divisible/);
});
