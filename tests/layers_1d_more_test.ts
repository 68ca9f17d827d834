/**
 * F.convTranspose1d / nn.ConvTranspose1d and F.dropout1d / nn.Dropout1d
 * against PyTorch 1.13's numbers (the "layers" of
 * tests/fixtures/review_fixes.json, written by
 * scripts/make_review_fixes_fixtures.py): the output and the gradients of
 * L = sum(out * G) for a fixed random G. Dropout1d is compared where torch's
 * is deterministic (p 0, p 1, eval); in training its mask is checked by its
 * form (whole channels, 1/(1-p)). Then the layer's initialisation and
 * attributes, the argument checks, and the ONNX export of both in ONNX
 * Runtime.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, nn, noGrad, onnx, randn, type Tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";
import { matchesOrt } from "./onnx_check.ts";

interface Case {
  name: string;
  op: "convTranspose1d" | "ConvTranspose1d" | "dropout1d";
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  outputSize?: number[] | null;
  inputs: StoredRecord[];
  out: StoredRecord;
  G?: StoredRecord;
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ layers: Case[] }>("review_fixes.json");
const TOL = testDevice === "cpu" ? { rtol: 1e-5, atol: 1e-5 } : { rtol: 1e-4, atol: 1e-4 };

const make = (r: StoredRecord): Tensor => fromStored(r, { device: testDevice });

function matches(t: Tensor, want: StoredRecord, what: string): void {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assertClose(t, want.data as number[], { ...TOL, what });
}

/** Checks the output and, with G, the gradients of every input that has one. */
function check(c: Case, inputs: Tensor[], out: Tensor, grads = inputs): void {
  matches(out, c.out, `${c.name}: out`);
  if (!c.G) return;
  out.mul(make(c.G)).sum().backward();
  c.grads!.forEach((g, i) => {
    if (g) matches(grads[i].grad!, g, `${c.name}: grad of input ${i}`);
  });
}

for (const c of fx.layers.filter((c) => c.op === "convTranspose1d")) {
  Deno.test(`convTranspose1d fixture (${testDevice}): ${c.name}`, () => {
    const inputs = c.inputs.map((r) => make(r).requiresGrad_(true));
    check(c, inputs, F.convTranspose1d(inputs[0], inputs[1], inputs[2] ?? null, c.opts));
    // The same through the module, its parameters loaded.
    const [x, w, b] = c.inputs.map(make);
    const { groups = 1, ...rest } = c.opts;
    const m = new nn.ConvTranspose1d(w.shape[0], w.shape[1] * groups, w.shape[2], {
      ...rest,
      groups,
      bias: b !== undefined,
    });
    if (testDevice !== "cpu") m.to(testDevice);
    m.loadStateDict(b ? { weight: w, bias: b } : { weight: w });
    matches(noGrad(() => m(x)), c.out, `${c.name}: module`);
  });
}

for (const c of fx.layers.filter((c) => c.op === "ConvTranspose1d")) {
  Deno.test(`nn.ConvTranspose1d fixture (${testDevice}): ${c.name}`, () => {
    const { kernelSize, ...o } = c.opts;
    const [x, w, b] = c.inputs.map((r) => make(r).requiresGrad_(true));
    const m = new nn.ConvTranspose1d(w.shape[0], w.shape[1] * (o.groups ?? 1), kernelSize, o);
    if (testDevice !== "cpu") m.to(testDevice);
    m.loadStateDict({ weight: w, bias: b });
    const out = c.outputSize ? m(x, c.outputSize) : m(x);
    check(c, [x, w, b], out, [x, m.weight, m.bias!]);
  });
}

for (const c of fx.layers.filter((c) => c.op === "dropout1d")) {
  Deno.test(`dropout1d fixture (${testDevice}): ${c.name}`, () => {
    const x = make(c.inputs[0]).requiresGrad_(true);
    check(c, [x], F.dropout1d(x, c.opts.p, c.opts.training));
    const m = new nn.Dropout1d(c.opts.p);
    if (!c.opts.training) m.eval();
    matches(noGrad(() => m(make(c.inputs[0]))), c.out, `${c.name}: module`);
  });
}

Deno.test(`dropout1d in training drops whole channels, kept ones scaled (${testDevice})`, () => {
  for (const p of [0.25, 0.5, 0.8]) {
    manualSeed(7);
    const [n, ch, l] = [8, 64, 5];
    const x = randn([n, ch, l], { device: testDevice }).requiresGrad_(true);
    const y = F.dropout1d(x, p);
    const g = randn([n, ch, l], { device: testDevice });
    y.mul(g).sum().backward();
    const xv = x.toArray(), yv = y.toArray(), gv = g.toArray(), dx = x.grad!.toArray();
    let dropped = 0;
    for (let row = 0; row < n * ch; row++) {
      // The channel's factor: 0, or 1/(1-p) at every position, in value and gradient.
      const kept = yv[row * l] !== 0;
      if (!kept) dropped++;
      for (let i = row * l; i < (row + 1) * l; i++) {
        const f = kept ? 1 / (1 - p) : 0;
        assert.ok(Math.abs(yv[i] - xv[i] * f) <= 1e-6 * Math.abs(xv[i] * f) + 1e-7, `p ${p} y`);
        assert.ok(Math.abs(dx[i] - gv[i] * f) <= 1e-6 * Math.abs(gv[i] * f) + 1e-7, `p ${p} dx`);
      }
    }
    const rate = dropped / (n * ch), sd = Math.sqrt(p * (1 - p) / (n * ch));
    assert.ok(Math.abs(rate - p) < 5 * sd, `p ${p}: dropped ${rate}`);
    // The same seed, the same mask.
    manualSeed(7);
    randn([n, ch, l]);
    assert.deepEqual(F.dropout1d(x, p).toArray(), yv, `p ${p}: seeded`);
  }
  // Unbatched [C, L]: one factor per channel.
  const y = F.dropout1d(randn([32, 6], { device: testDevice }).add(10), 0.5).toArray();
  for (let c = 0; c < 32; c++) {
    const row = y.slice(c * 6, c * 6 + 6);
    assert.ok(row.every((v) => v === 0) || row.every((v) => v > 0), `channel ${c}`);
  }
  const m = new nn.Dropout1d(0.5);
  const x = randn([2, 3, 4]);
  assert.equal(m.eval()(x), x, "the identity in eval");
});

Deno.test("nn.ConvTranspose1d: torch's init, state dict and attributes", () => {
  const m = new nn.ConvTranspose1d(4, 6, 5, {
    groups: 2,
    stride: 2,
    padding: 1,
    outputPadding: 1,
    dilation: 1,
  });
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], ["weight", "bias"]);
  assert.deepEqual(sd.get("weight")!.shape, [4, 3, 5]);
  assert.deepEqual(sd.get("bias")!.shape, [6]);
  // kaiming_uniform(a = sqrt(5)) and the bias: bound 1 / sqrt(fan_in), fan_in (6 / 2) * 5.
  const bound = 1 / Math.sqrt(15);
  for (const t of [m.weight, m.bias!]) {
    const v = [...t.toArray()];
    assert.ok(v.every((e) => Math.abs(e) <= bound), "within the bound");
    assert.ok(Math.max(...v.map(Math.abs)) > bound * 0.6, "spread over the bound");
  }
  assert.deepEqual(
    [
      m.inChannels,
      m.outChannels,
      m.kernelSize,
      m.stride,
      m.padding,
      m.outputPadding,
      m.dilation,
      m.groups,
    ],
    [4, 6, [5], [2], [1], [1], [1], 2],
  );
  assert.equal(new nn.ConvTranspose1d(2, 2, [3], { bias: false }).bias, null);
  assert.deepEqual(new nn.ConvTranspose1d(3, 2, 3)(randn([3, 10])).shape, [2, 12], "unbatched");
  assert.deepEqual(new nn.ConvTranspose1d(3, 2, 3, { stride: [2] })(randn([1, 3, 4])).shape, [
    1,
    2,
    9,
  ]);
  assert.throws(() => (m as unknown as { kernel_size: unknown }).kernel_size, /up\.kernelSize/);
});

/** Asserts `fn` throws an Error whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: Error) => {
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

Deno.test("convTranspose1d and nn.ConvTranspose1d refuse bad arguments, by name", () => {
  const x = randn([2, 3, 5]), w = randn([3, 4, 3]);
  refuses(
    () => F.convTranspose1d(randn([2, 3, 4, 4]), w),
    /^convTranspose1d: .*2-D.*3-D.*\[2,3,4,4\]/,
  );
  refuses(() => F.convTranspose1d(randn([5]), w), /^convTranspose1d: /);
  refuses(() => F.convTranspose1d(x, randn([3, 4, 3, 1])), /convTranspose1d: .*3-D weight/);
  refuses(
    () => F.convTranspose1d(randn([2, 5, 5]), w),
    /expects 3 input channels; the input has 5/,
  );
  refuses(() => F.convTranspose1d(x, w, randn([3])), /bias must be \[4\] \(outChannels\)/);
  refuses(
    () => F.convTranspose1d(x, w, null, { groups: 2 }),
    /3 input channels, which do not divide into 2 groups/,
  );
  refuses(() => F.convTranspose1d(x, w, null, { stride: 0 }), /convTranspose1d: stride must be/);
  refuses(
    () => F.convTranspose1d(x, w, null, { outputPadding: 2, stride: 2 }),
    /convTranspose1d: outputPadding 2 must be smaller than either stride 2 or dilation 1/,
  );
  refuses(
    () => F.convTranspose1d(x, w, null, { padding: "same" as never }),
    /convTranspose1d: padding must be an integer >= 0, got "same"; PyTorch's transposed/,
  );
  refuses(
    () => F.convTranspose1d(randn([1, 3, 1]), w, null, { padding: 2 }),
    /output would have length -1; padding 2 is too large/,
  );
  refuses(
    () => F.convTranspose1d(x, w, { stride: 2 } as unknown as Tensor),
    /third argument is the bias/,
  );
  refuses(
    () => F.convTranspose1d(x, w, null, { output_padding: 1 } as never),
    /convTranspose1d: unknown option 'output_padding'.*outputPadding/,
  );
  refuses(() => F.convTranspose1d(x.int(), w), /convTranspose1d: expected a float32 tensor/);
  refuses(() => F.convTranspose1d([1, 2] as never, w), /convTranspose1d: expected a Tensor/);
  refuses(() => new nn.ConvTranspose1d(3, 4, 3, { groups: 2 }), /channels 3 -> 4.*groups 2/);
  refuses(() => new nn.ConvTranspose1d(3, 4, 0), /nn.ConvTranspose1d: kernel size must be/);
  refuses(() => new nn.ConvTranspose1d(0, 4, 3), /nn.ConvTranspose1d: inChannels must be/);
  refuses(() => new nn.ConvTranspose1d(3, 4, 3, 2 as never), /expected an options object/);
  refuses(
    () => new nn.ConvTranspose1d(3, 4, 3, { paddingMode: "zeros" } as never),
    /nn.ConvTranspose1d: unknown option 'paddingMode'/,
  );
  refuses(() => new nn.ConvTranspose1d(3, 4, 3, { bias: 1 as never }), /bias must be true or/);
  const m = new nn.ConvTranspose1d(3, 2, 3, { stride: 2, padding: 1 });
  refuses(
    () => m(x, [12]),
    /nn.ConvTranspose1d: requested an output size of \[12\], but valid sizes range from \[9\] to \[10\] \(for an input of \[5\]\)/,
  );
  refuses(() => m(x, [1, 9]), /for 3-D input, outputSize must have 1 or 3 elements/);
  refuses(() => m(randn([3, 5]), [1, 1, 9]), /for 2-D input, outputSize must have 1 or 2/);
});

Deno.test("dropout1d and nn.Dropout1d refuse bad arguments, by name", () => {
  refuses(() => F.dropout1d(randn([1, 2, 3, 4])), /^dropout1d: .*\[1,2,3,4\].*F\.dropout2d/);
  refuses(() => F.dropout1d(randn([4])), /^dropout1d: expected input \[N, C, L\]/);
  refuses(() => F.dropout1d(randn([1, 2, 3]), 1.5), /dropout1d: p must be a number in \[0, 1\]/);
  refuses(() => F.dropout1d(randn([1, 2, 3]), NaN), /dropout1d: p must be/);
  refuses(() => F.dropout1d(randn([1, 2, 3]), 0.5, 1 as never), /training must be a boolean/);
  refuses(
    () => (F.dropout1d as (...a: unknown[]) => Tensor)(randn([1, 2, 3]), 0.5, true, false),
    /dropout1d: takes at most 3/,
  );
  refuses(() => F.dropout1d(randn([1, 2, 3]).int()), /dropout1d: expected a float32 tensor/);
  refuses(() => F.dropout1d(null as never), /dropout1d: expected a Tensor/);
  refuses(() => new nn.Dropout1d(-0.1), /nn.Dropout1d: probability must be a number in \[0, 1\]/);
  refuses(() => new nn.Dropout1d(0.5, 1 as never), /nn.Dropout1d: inplace must be true or false/);
  refuses(() => Reflect.construct(nn.Dropout1d, [0.5, false, 1]), /nn.Dropout1d: takes at most 2/);
});

// ---- ONNX export, in ONNX Runtime ----

const S = (...layers: nn.Module[]) => new nn.Sequential(...layers);
const to1d = () => new nn.Flatten(2); // [N, C, H, W] -> [N, C, H W]

const ONNX_CASES: [string, () => nn.Module, number[], string][] = [
  [
    "ConvTranspose1d stride 2 padding 1 outputPadding 1",
    () => S(to1d(), new nn.ConvTranspose1d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 })),
    [2, 2, 3],
    "ConvTranspose",
  ],
  [
    "ConvTranspose1d groups, dilation, no bias",
    () => S(to1d(), new nn.ConvTranspose1d(4, 2, 3, { groups: 2, dilation: 2, bias: false })),
    [4, 1, 5],
    "ConvTranspose",
  ],
  [
    "Dropout1d (the identity) between Conv1d and ConvTranspose1d",
    () =>
      S(
        to1d(),
        new nn.Conv1d(2, 4, 3),
        new nn.Dropout1d(0.5),
        new nn.ConvTranspose1d(4, 2, 3, { stride: 3 }),
      ),
    [2, 2, 4],
    "ConvTranspose",
  ],
];

for (const [name, build, chw, op] of ONNX_CASES) {
  Deno.test(`exportOnnx: ${name} runs in ONNX Runtime as our forward`, async () => {
    const ops = await matchesOrt(build(), chw);
    assert.ok(ops.includes(op), `${op} in ${ops}`);
    assert.ok(!ops.includes("Dropout"), "no dropout node");
  });
}

Deno.test("exportOnnx: ConvTranspose1d needs [N, C, L] of its channels", () => {
  const shape = { inputShape: ["N", 2, 3, 4] as [string, number, number, number] };
  refuses(
    () => onnx.exportOnnx(S(new nn.ConvTranspose1d(2, 2, 3)), shape),
    /ConvTranspose1d\) expects \[N, 2, L\]/,
  );
  refuses(
    () => onnx.exportOnnx(S(to1d(), new nn.ConvTranspose1d(3, 2, 3)), shape),
    /ConvTranspose1d\)/,
  );
});
