/**
 * nn.* modules against PyTorch (tests/fixtures/layers.json): torch's
 * weights are loaded with loadStateDict, then outputs, input gradients,
 * parameter gradients and buffers are compared; plus state-dict names,
 * default initialisation statistics and train/eval behaviour.
 */
import assert from "node:assert/strict";
import { manualSeed, nn, noGrad, ones, scope, type Tensor, tensor } from "../mod.ts";
import {
  assertClose,
  assertEqualValues,
  assertShape,
  fromStored,
  loadFixture,
  moments,
  type Stored,
} from "./helpers.ts";

type StateList = [string, Stored][];

interface ModuleCase {
  name: string;
  kind: string;
  // deno-lint-ignore no-explicit-any
  args: any[];
  train: boolean;
  state: StateList;
  input: Stored;
  out: Stored;
  G: number[];
  inputGrad: number[];
  grads: Record<string, Stored>;
  stateAfter: StateList;
}

interface BnStep {
  input: Stored;
  out: Stored;
  G: number[];
  inputGrad: number[];
  grads: Record<string, Stored>;
  state: StateList;
}

interface LayersFixture {
  modules: ModuleCase[];
  batchNorm: {
    name: string;
    momentum: number;
    state: StateList;
    steps: BnStep[];
    evalInput: Stored;
    evalOut: Stored;
  }[];
  sequential: {
    keys: string[];
    paramKeys: string[];
    bufferKeys: string[];
    state: StateList;
    input: Stored;
    target: Stored;
    loss: number;
    grads: Record<string, Stored>;
    stateAfter: StateList;
    evalInput: Stored;
    evalOut: Stored;
  };
  crossEntropy: {
    name: string;
    // deno-lint-ignore no-explicit-any
    opts: Record<string, any>;
    weight: Stored | null;
    logits: Stored;
    target: Stored;
    out: Stored;
    G: number[];
    grad: number[];
  }[];
}

const fx = loadFixture<LayersFixture>("layers.json");

const TOL = { rtol: 1e-4, atol: 1e-5 };

function stateMap(list: StateList): Map<string, Tensor> {
  return new Map(list.map(([k, s]) => [k, fromStored(s)]));
}

function build(kind: string, args: ModuleCase["args"]): nn.Module {
  switch (kind) {
    case "Linear":
      return new nn.Linear(args[0], args[1], args[2]);
    case "Conv2d":
      return new nn.Conv2d(args[0], args[1], args[2], args[3]);
    case "MaxPool2d":
      return new nn.MaxPool2d(args[0], args[1]);
    case "AvgPool2d":
      return new nn.AvgPool2d(args[0], args[1]);
    case "AdaptiveAvgPool2d":
      return new nn.AdaptiveAvgPool2d(args[0]);
    case "ReLU":
      return new nn.ReLU();
    case "Flatten":
      return new nn.Flatten();
    case "Dropout":
      return new nn.Dropout(args[0]);
    case "BatchNorm2d":
      return new nn.BatchNorm2d(args[0], args[1]);
  }
  throw new Error(`unknown module kind ${kind}`);
}

/** Compares a module's stateDict (names, order, values) with torch's. */
function assertState(m: nn.Module, expected: StateList, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], expected.map(([k]) => k), `${what}: state dict keys`);
  for (const [k, s] of expected) {
    const t = sd.get(k)!;
    assertShape(t, s.shape, `${what}: ${k} shape`);
    if (s.dtype === "int32") assertEqualValues(t, s.data, `${what}: ${k}`);
    else assertClose(t, s.data, { ...TOL, what: `${what}: ${k}` });
  }
}

function assertGrads(m: nn.Module, expected: Record<string, Stored>, what: string): void {
  const params = new Map(m.namedParameters());
  assert.deepEqual(
    [...params.keys()].sort(),
    Object.keys(expected).sort(),
    `${what}: parameters with gradients`,
  );
  for (const [k, s] of Object.entries(expected)) {
    const g = params.get(k)!.grad;
    assert.ok(g, `${what}: ${k} has no gradient`);
    assertClose(g, s.data, { ...TOL, what: `${what}: gradient of ${k}` });
  }
}

for (const c of fx.modules) {
  Deno.test(`layers: ${c.name}`, () => {
    scope(() => {
      const m = build(c.kind, c.args);
      m.loadStateDict(stateMap(c.state));
      m.train(c.train);
      assert.equal(m.training, c.train);
      const x = fromStored(c.input, { requiresGrad: true });
      const y = m.forward(x);
      assertShape(y, c.out.shape, `${c.name}: output shape`);
      assertClose(y, c.out.data, { ...TOL, what: `${c.name}: output` });
      y.backward(tensor(Float32Array.from(c.G), [...c.out.shape]));
      assertClose(x.grad!, c.inputGrad, { ...TOL, what: `${c.name}: input gradient` });
      assertGrads(m, c.grads, c.name);
      assertState(m, c.stateAfter, c.name);
    });
  });
}

for (const c of fx.batchNorm) {
  Deno.test(`layers: ${c.name}`, () => {
    scope(() => {
      const m = new nn.BatchNorm2d(3, { momentum: c.momentum });
      m.loadStateDict(stateMap(c.state));
      m.train();
      c.steps.forEach((s, i) => {
        const what = `${c.name}: step ${i + 1}`;
        m.zeroGrad();
        const x = fromStored(s.input, { requiresGrad: true });
        const y = m.forward(x);
        assertClose(y, s.out.data, { ...TOL, what: `${what} output` });
        y.backward(tensor(Float32Array.from(s.G), [...s.out.shape]));
        assertClose(x.grad!, s.inputGrad, { ...TOL, what: `${what} input gradient` });
        assertGrads(m, s.grads, what);
        assertState(m, s.state, what);
        assert.equal(m.numBatchesTracked, i + 1, `${what}: numBatchesTracked`);
      });
      m.eval();
      const y = m.forward(fromStored(c.evalInput));
      assertClose(y, c.evalOut.data, { ...TOL, what: `${c.name}: eval output` });
      // eval does not touch the running statistics.
      assertState(m, c.steps[c.steps.length - 1].state, `${c.name}: after eval`);
    });
  });
}

Deno.test("layers: Sequential(Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear) state dict names", () => {
  scope(() => {
    const s = fx.sequential;
    const seq = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(36, 5),
    );
    assert.deepEqual([...seq.stateDict().keys()], s.keys);
    assert.deepEqual([...seq.namedParameters()].map(([k]) => k), s.paramKeys);
    assert.deepEqual([...seq.namedBuffers()].map(([k]) => k), s.bufferKeys);
    assert.equal(seq.parameters().length, s.paramKeys.length);
    assert.equal(seq.buffers().length, s.bufferKeys.length);
    const nbt = seq.stateDict().get("1.num_batches_tracked")!;
    assertShape(nbt, [], "num_batches_tracked shape");
    assert.equal(nbt.item(), 0);
  });
});

Deno.test("layers: Sequential + CrossEntropyLoss: loss, gradients, running stats, eval output", () => {
  scope(() => {
    const s = fx.sequential;
    const seq = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(36, 5),
    );
    seq.loadStateDict(stateMap(s.state));
    assertState(seq, s.state, "loaded");
    seq.train();
    const loss = new nn.CrossEntropyLoss().forward(
      seq.forward(fromStored(s.input)),
      fromStored(s.target),
    );
    assertShape(loss, [], "loss shape");
    assertClose([loss.item()], [s.loss], { ...TOL, what: "loss" });
    loss.backward();
    assertGrads(seq, s.grads, "sequential");
    assertState(seq, s.stateAfter, "sequential after one training step");
    seq.eval();
    assert.ok([...seq.modules()].every((m) => !m.training), "eval() reaches every child");
    const y = seq.forward(fromStored(s.evalInput));
    assertClose(y, s.evalOut.data, { ...TOL, what: "eval output" });
    seq.zeroGrad();
    assert.ok(seq.parameters().every((p) => p.grad === null), "zeroGrad clears the gradients");
  });
});

for (const c of fx.crossEntropy) {
  Deno.test(`layers: ${c.name}`, () => {
    scope(() => {
      const o = c.opts;
      const loss = new nn.CrossEntropyLoss({
        weight: c.weight ? fromStored(c.weight) : undefined,
        labelSmoothing: o.labelSmoothing,
        ignoreIndex: o.ignoreIndex,
        reduction: o.reduction,
      });
      const logits = fromStored(c.logits, { requiresGrad: true });
      const out = loss.forward(logits, fromStored(c.target));
      assertShape(out, c.out.shape, `${c.name}: shape`);
      assertClose(out, c.out.data, { ...TOL, what: `${c.name}: output` });
      out.backward(tensor(Float32Array.from(c.G), [...c.out.shape]));
      assertClose(logits.grad!, c.grad, { ...TOL, what: `${c.name}: gradient` });
    });
  });
}

// ---- default initialisation (statistics, not values) ----

function checkUniform(t: Tensor, bound: number, what: string): void {
  const v = t.toArray();
  const m = moments(v);
  assert.ok(
    m.min >= -bound && m.max <= bound,
    `${what}: values in [${m.min}, ${m.max}], bound ${bound}`,
  );
  // Uniform(-b, b): mean 0, variance b^2 / 3; both extremes are approached.
  const variance = bound * bound / 3;
  const sdOfMean = Math.sqrt(variance / v.length);
  assert.ok(Math.abs(m.mean) < 5 * sdOfMean, `${what}: mean ${m.mean}`);
  assert.ok(
    Math.abs(m.variance / variance - 1) < 0.1,
    `${what}: variance ${m.variance}, expected ${variance}`,
  );
  assert.ok(
    m.max > 0.9 * bound && m.min < -0.9 * bound,
    `${what}: range [${m.min}, ${m.max}] too narrow for ${bound}`,
  );
}

Deno.test("layers: Conv2d default init is uniform in ±1/sqrt(fan_in) (kaiming a=sqrt(5)), bias too", () => {
  scope(() => {
    manualSeed(1);
    const conv = new nn.Conv2d(16, 64, 3);
    assertShape(conv.weight, [64, 16, 3, 3]);
    checkUniform(conv.weight, 1 / Math.sqrt(16 * 9), "conv weight");
    const big = new nn.Conv2d(8, 1024, [1, 3], { groups: 2 }); // fan_in = 4 * 3
    checkUniform(big.weight, 1 / Math.sqrt(12), "grouped conv weight");
    checkUniform(big.bias!, 1 / Math.sqrt(12), "grouped conv bias");
    assert.equal(new nn.Conv2d(3, 4, 3, { bias: false }).bias, null);
  });
});

Deno.test("layers: Linear default init is uniform in ±1/sqrt(in_features), bias too", () => {
  scope(() => {
    manualSeed(2);
    const fc = new nn.Linear(300, 200);
    assertShape(fc.weight, [200, 300]);
    checkUniform(fc.weight, 1 / Math.sqrt(300), "linear weight");
    const wide = new nn.Linear(4, 3000);
    checkUniform(wide.bias!, 1 / Math.sqrt(4), "linear bias");
    assert.equal(new nn.Linear(3, 4, { bias: false }).bias, null);
  });
});

Deno.test("layers: initialisation follows manualSeed", () => {
  scope(() => {
    manualSeed(42);
    const a = new nn.Linear(5, 4).weight.toArray();
    manualSeed(42);
    const b = new nn.Linear(5, 4).weight.toArray();
    assertClose(b, a, { rtol: 0, atol: 0, what: "same seed" });
    const c = new nn.Linear(5, 4).weight.toArray();
    assert.ok(c.some((v, i) => v !== a[i]), "a second layer got the same weights");
  });
});

Deno.test("layers: BatchNorm2d defaults (weight 1, bias 0, running stats 0/1, no batches tracked)", () => {
  scope(() => {
    const bn = new nn.BatchNorm2d(5);
    const sd = bn.stateDict();
    assert.deepEqual([...sd.keys()], [
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    assertEqualValues(sd.get("weight")!, [1, 1, 1, 1, 1]);
    assertEqualValues(sd.get("bias")!, [0, 0, 0, 0, 0]);
    assertEqualValues(sd.get("running_mean")!, [0, 0, 0, 0, 0]);
    assertEqualValues(sd.get("running_var")!, [1, 1, 1, 1, 1]);
    assert.equal(sd.get("num_batches_tracked")!.item(), 0);
    assert.equal(bn.eps, 1e-5);
    assert.equal(bn.momentum, 0.1);
    assert.deepEqual([...bn.namedParameters()].map(([k]) => k), ["weight", "bias"]);
  });
});

// ---- modules without fixtures ----

Deno.test("layers: Dropout is active in training and the identity in eval", () => {
  scope(() => {
    manualSeed(5);
    const d = new nn.Dropout(0.5);
    const x = ones([50, 40]);
    const y = d.forward(x).toArray();
    const zeros = y.filter((v) => v === 0).length;
    assert.ok(zeros > 800 && zeros < 1200, `zeroed ${zeros} of 2000`);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 2) < 1e-6));
    d.eval();
    assertClose(d.forward(x), x.toArray(), { rtol: 0, atol: 0, what: "eval" });
  });
});

Deno.test("layers: Identity, ReLU and Flatten shapes", () => {
  scope(() => {
    const x = tensor(Float32Array.from({ length: 24 }, (_, i) => i - 12), [2, 3, 2, 2]);
    assertClose(new nn.Identity().forward(x), x.toArray(), { what: "identity" });
    assertShape(new nn.Flatten().forward(x), [2, 12]);
    assertShape(new nn.Flatten(0).forward(x), [24]);
    assertShape(new nn.Flatten(1, 2).forward(x), [2, 6, 2]);
    assert.ok(new nn.ReLU().forward(x).toArray().every((v) => v >= 0));
  });
});

Deno.test("layers: loadStateDict checks keys and shapes; strict false ignores extra keys", () => {
  scope(() => {
    const fc = new nn.Linear(3, 2);
    const w = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = tensor([0.5, -0.5]);
    assert.throws(() => fc.loadStateDict(new Map([["weight", w]])), /bias/);
    assert.throws(
      () => fc.loadStateDict(new Map([["weight", tensor([[1, 2], [3, 4]])], ["bias", b]])),
      /shape/,
    );
    assert.throws(
      () => fc.loadStateDict(new Map([["weight", w], ["bias", b], ["extra", b]])),
      /extra/,
    );
    // As PyTorch's _IncompatibleKeys: what was not loaded, and what was not known.
    assert.deepEqual(
      fc.loadStateDict(new Map([["weight", w], ["bias", b], ["extra", b]]), { strict: false }),
      { missingKeys: [], unexpectedKeys: ["extra"] },
    );
    assertClose(fc.weight, [1, 2, 3, 4, 5, 6], { what: "weight" });
    const partial = new nn.Linear(3, 2);
    assert.deepEqual(partial.loadStateDict(new Map([["weight", w]]), { strict: false }), {
      missingKeys: ["bias"],
      unexpectedKeys: [],
    });
    partial.dispose();
    const y = noGrad(() => fc.forward(tensor([[1, 0, -1]])).toArray());
    assertClose(y, [1 - 3 + 0.5, 4 - 6 - 0.5], { what: "output" });
  });
});

Deno.test("layers: loadStateDict writes in place (optimizers keep the same tensors)", () => {
  scope(() => {
    const fc = new nn.Linear(2, 2);
    const before = fc.weight;
    fc.loadStateDict(new Map([["weight", tensor([[1, 2], [3, 4]])], ["bias", tensor([0, 0])]]));
    assert.equal(fc.weight, before);
    assertClose(before, [1, 2, 3, 4], { what: "weight" });
  });
});

Deno.test('Conv2d padding "same" and "valid", as torch (even kernels padded one more after)', () => {
  // x = arange(120).reshape(2, 2, 5, 6) / 50 - 1; w = arange(54).reshape(3, 2, 3, 3) / 40 - 0.2
  // F.conv2d(x, w, padding='same', dilation=(1, 2)) -> [2, 3, 5, 6], sum 272.301, y[0, 1, 2, 3] -2.6025
  // F.conv2d(x, w, padding='valid') -> [2, 3, 3, 4], sum 165.834
  const x = tensor(Array.from({ length: 120 }, (_, i) => i / 50 - 1), [2, 2, 5, 6]);
  const w = tensor(Array.from({ length: 54 }, (_, i) => i / 40 - 0.2), [3, 2, 3, 3]);
  const same = nn.functional.conv2d(x, w, null, { padding: "same", dilation: [1, 2] });
  assert.deepEqual(same.shape, [2, 3, 5, 6]);
  assert.ok(Math.abs(same.sum().item() - 272.301) < 1e-3, `${same.sum().item()}`);
  assert.ok(Math.abs((same.toList() as number[][][][])[0][1][2][3] + 2.6025) < 1e-4);
  const valid = nn.functional.conv2d(x, w, null, { padding: "valid" });
  assert.deepEqual(valid.shape, [2, 3, 3, 4]);
  assert.ok(Math.abs(valid.sum().item() - 165.834) < 1e-3);
  const layer = new nn.Conv2d(2, 3, 5, { padding: "same" });
  assert.deepEqual(layer.options.padding, [2, 2]);
  assert.deepEqual(layer.forward(x).shape, [2, 3, 5, 6]);
  // torch: padding='same' is not supported for strided convolutions
  assert.throws(
    () => new nn.Conv2d(1, 1, 3, { stride: 2, padding: "same" }),
    /not supported for strided/,
  );
  // torch: Invalid padding string 'foo', should be one of {'valid', 'same'}
  assert.throws(
    () => new nn.Conv2d(1, 1, 3, { padding: "foo" as "same" }),
    /padding must be integers >= 0, "valid" or "same", got "foo"/,
  );
  // An even kernel: torch pads one more zero after; the layer pads the input first
  // (tests/nn_docs_test.ts checks its numbers), and F.conv2d pads alike (tests/nn_gaps_test.ts).
  const even = new nn.Conv2d(2, 1, 2, { padding: "same" });
  assert.deepEqual(even.forward(x).shape, [2, 1, 5, 6]);
  const f = nn.functional.conv2d(x, even.weight, even.bias, { padding: "same" });
  assert.deepEqual(f.toArray(), even.forward(x).toArray());
});
