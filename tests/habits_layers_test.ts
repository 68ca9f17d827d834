/**
 * Activations, BatchNorm1d, Dropout2d and the NLL / BCE-with-logits / MSE
 * losses against PyTorch (tests/fixtures/habits_layers.json, written by
 * scripts/make_habits_layer_fixtures.py): outputs, gradients with a
 * non-uniform upstream gradient, running statistics; plus the errors a
 * PyTorch port meets.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, nn, ones, scope, type Tensor, tensor } from "../mod.ts";
import {
  assertClose,
  assertEqualValues,
  assertShape,
  fromStored,
  loadFixture,
  type Stored,
} from "./helpers.ts";

type StateList = [string, Stored][];

interface ActivationCase {
  kind: string;
  args: (number | string)[];
  input: Stored;
  out: Stored;
  G: number[];
  inputGrad: Stored;
}

interface BnCase {
  name: string;
  opts: nn.BatchNorm1dOptions;
  state: StateList;
  steps: {
    input: Stored;
    out: Stored;
    G: number[];
    inputGrad: Stored;
    grads: Record<string, Stored>;
    state: StateList;
  }[];
  evalInput: Stored;
  evalOut: Stored;
}

interface LossCase {
  loss: "NLLLoss" | "BCEWithLogitsLoss" | "MSELoss";
  kind: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  input: Stored;
  target: Stored;
  out: Stored;
  G: number[];
  inputGrad: Stored;
  targetGrad?: Stored;
  weight?: Stored;
  posWeight?: Stored;
}

const fx = loadFixture<
  { activations: ActivationCase[]; batchNorm1d: BnCase[]; losses: LossCase[] }
>(
  "habits_layers.json",
);
const TOL = { rtol: 1e-4, atol: 1e-5 };

function activation(kind: string, args: (number | string)[]): nn.Module {
  switch (kind) {
    case "LeakyReLU":
      return args.length ? new nn.LeakyReLU(args[0] as number) : new nn.LeakyReLU();
    case "Sigmoid":
      return new nn.Sigmoid();
    case "Tanh":
      return new nn.Tanh();
    case "GELU":
      return args.length ? new nn.GELU({ approximate: args[0] as "tanh" }) : new nn.GELU();
    case "Softmax":
      return new nn.Softmax(args[0] as number);
    case "LogSoftmax":
      return new nn.LogSoftmax(args[0] as number);
  }
  throw new Error(`unknown activation ${kind}`);
}

function upstream(G: number[], shape: number[]): Tensor {
  return tensor(Float32Array.from(G), [...shape]);
}

for (const c of fx.activations) {
  Deno.test(`habits: ${c.kind}(${c.args.join(", ")}) forward and backward`, () => {
    scope(() => {
      const x = fromStored(c.input, { requiresGrad: true });
      const y = activation(c.kind, c.args).forward(x);
      assertShape(y, c.out.shape);
      // GELU's tails and softmax's exps: float32 libm differences of a few ulps.
      assertClose(y, c.out.data, { ...TOL, what: `${c.kind} output` });
      y.backward(upstream(c.G, c.out.shape));
      assertClose(x.grad!, c.inputGrad.data, { ...TOL, what: `${c.kind} input gradient` });
    });
  });
}

Deno.test("habits: functional forms equal the modules", () => {
  scope(() => {
    const x = tensor([-3, -0.5, 0, 0.5, 3]);
    const same = (a: Tensor, b: Tensor) => assertClose(a, b.toArray(), { rtol: 0, atol: 0 });
    same(F.gelu(x), new nn.GELU().forward(x));
    same(F.gelu(x, { approximate: "tanh" }), new nn.GELU("tanh").forward(x));
    same(F.leakyRelu(x, 0.3), new nn.LeakyReLU({ negativeSlope: 0.3 }).forward(x));
    same(F.leakyRelu(x), new nn.LeakyReLU().forward(x));
    same(F.sigmoid(x), new nn.Sigmoid().forward(x));
    same(F.tanh(x), new nn.Tanh().forward(x));
  });
});

function stateMap(list: StateList): Map<string, Tensor> {
  return new Map(list.map(([k, s]) => [k, fromStored(s)]));
}

function assertState(m: nn.Module, expected: StateList, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], expected.map(([k]) => k), `${what}: state dict keys`);
  for (const [k, s] of expected) {
    if (s.dtype === "int32") assertEqualValues(sd.get(k)!, s.data, `${what}: ${k}`);
    else assertClose(sd.get(k)!, s.data, { ...TOL, what: `${what}: ${k}` });
  }
}

for (const c of fx.batchNorm1d) {
  Deno.test(`habits: BatchNorm1d ${c.name}: training steps, running statistics, eval`, () => {
    scope(() => {
      const m = new nn.BatchNorm1d(3, c.opts);
      m.loadStateDict(stateMap(c.state));
      c.steps.forEach((s, i) => {
        const what = `${c.name} step ${i + 1}`;
        m.zeroGrad();
        const x = fromStored(s.input, { requiresGrad: true });
        const y = m.forward(x);
        assertClose(y, s.out.data, { ...TOL, what: `${what} output` });
        y.backward(upstream(s.G, s.out.shape));
        assertClose(x.grad!, s.inputGrad.data, { ...TOL, what: `${what} input gradient` });
        const params = new Map(m.namedParameters());
        assert.deepEqual([...params.keys()], Object.keys(s.grads), `${what}: parameters`);
        for (const [k, g] of Object.entries(s.grads)) {
          assertClose(params.get(k)!.grad!, g.data, { ...TOL, what: `${what} grad ${k}` });
        }
        assertState(m, s.state, what);
      });
      m.eval();
      assertClose(m.forward(fromStored(c.evalInput)), c.evalOut.data, {
        ...TOL,
        what: `${c.name} eval output`,
      });
    });
  });
}

Deno.test("habits: BatchNorm1d errors name the layer and the fix", () => {
  scope(() => {
    const bn = new nn.BatchNorm1d(4);
    assert.throws(
      () => bn.forward(ones([2, 4, 3, 3])),
      /BatchNorm1d\(4\).*\[2,4,3,3\].*BatchNorm2d/,
    );
    assert.throws(() => bn.forward(ones([2, 5])), /expected input \[N, 4\] or \[N, 4, L\]/);
    assert.throws(() => bn.forward(ones([1, 4])), /more than 1 value per channel/);
    const ported = { track_running_stats: false } as unknown as nn.BatchNorm1dOptions;
    assert.throws(() => new nn.BatchNorm1d(4, ported), /'trackRunningStats'/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new (nn.BatchNorm1d as any)(4, 1e-5, 0.1), /at most 2 arguments/);
  });
});

// ---- Dropout2d: statistics, gradient, eval ----

Deno.test("habits: Dropout2d zeroes whole channels with probability p, scales the rest by 1/(1-p)", () => {
  scope(() => {
    manualSeed(7);
    const p = 0.3, n = 64, c = 32, hw = 9;
    const x = ones([n, c, 3, 3], { requiresGrad: true });
    const drop = new nn.Dropout2d(p);
    const y = drop.forward(x);
    const v = y.toArray();
    let dropped = 0;
    for (let ch = 0; ch < n * c; ch++) {
      const first = v[ch * hw];
      assert.ok(first === 0 || Math.abs(first - 1 / (1 - p)) < 1e-6, `channel ${ch}: ${first}`);
      for (let i = 1; i < hw; i++) {
        assert.equal(v[ch * hw + i], first, `channel ${ch} is not whole`);
      }
      if (first === 0) dropped++;
    }
    // 2048 channels: the dropped fraction's standard deviation is 0.010.
    assert.ok(Math.abs(dropped / (n * c) - p) < 0.04, `dropped ${dropped / (n * c)}, p ${p}`);
    const g = tensor(Float32Array.from({ length: x.numel() }, (_, i) => (i % 7) - 3), [n, c, 3, 3]);
    y.backward(g);
    const gx = x.grad!.toArray(), gv = g.toArray();
    for (let i = 0; i < gx.length; i++) assert.ok(Math.abs(gx[i] - gv[i] * v[i]) < 1e-5);
    // Two calls draw different masks.
    assert.ok(drop.forward(x).toArray().some((e, i) => e !== v[i]));
  });
});

Deno.test("habits: Dropout2d is the identity in eval and for p = 0; p = 1 zeroes all", () => {
  scope(() => {
    const x = tensor(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 2, 2]);
    assert.equal(new nn.Dropout2d(0.5).eval().forward(x), x);
    assert.equal(F.dropout2d(x, 0), x);
    assert.equal(F.dropout2d(x, 0.9, false), x);
    assert.ok(new nn.Dropout2d(1).forward(x).toArray().every((v) => v === 0));
    assert.throws(() => new nn.Dropout2d(1.5), /nn.Dropout2d: probability/);
    assert.throws(() => F.dropout2d(ones([3, 4, 4])), /\[N, C, H, W\].*unsqueeze\(0\)/);
  });
});

// ---- losses ----

function lossModule(c: LossCase): nn.Module {
  const weight = c.weight ? fromStored(c.weight) : undefined;
  const posWeight = c.posWeight ? fromStored(c.posWeight) : undefined;
  switch (c.loss) {
    case "NLLLoss":
      return new nn.NLLLoss({ ...c.opts, weight });
    case "BCEWithLogitsLoss":
      return new nn.BCEWithLogitsLoss({ ...c.opts, weight, posWeight });
    case "MSELoss":
      return new nn.MSELoss(c.opts);
  }
}

for (const c of fx.losses) {
  Deno.test(`habits: ${c.loss} ${c.kind}: loss and gradients`, () => {
    scope(() => {
      const x = fromStored(c.input, { requiresGrad: true });
      const t = fromStored(c.target, { requiresGrad: c.targetGrad !== undefined });
      const out = lossModule(c).forward(x, t);
      assertShape(out, c.out.shape, `${c.loss} ${c.kind} shape`);
      assertClose(out, c.out.data, { ...TOL, what: `${c.loss} ${c.kind} loss` });
      out.backward(upstream(c.G, c.out.shape));
      assertClose(x.grad!, c.inputGrad.data, { ...TOL, what: `${c.loss} ${c.kind} input grad` });
      if (c.targetGrad) {
        assertClose(t.grad!, c.targetGrad.data, {
          ...TOL,
          what: `${c.loss} ${c.kind} target grad`,
        });
      }
    });
  });
}

Deno.test("habits: BCEWithLogitsLoss stays finite for huge logits", () => {
  scope(() => {
    const x = tensor([1e4, -1e4, 1e30, -1e30], undefined, { requiresGrad: true });
    const loss = F.binaryCrossEntropyWithLogits(x, tensor([0, 1, 1, 0]), { reduction: "none" });
    assertClose(loss, [1e4, 1e4, 0, 0], { rtol: 1e-6, atol: 0 });
    loss.sum().backward();
    assertClose(x.grad!, [1, -1, 0, 0], { rtol: 0, atol: 1e-6 });
  });
});

Deno.test("habits: losses reject wrong dtypes, shapes, targets and options with the fix", () => {
  scope(() => {
    const x = tensor([[0.5, -1], [2, 0]]);
    const ints = tensor(new Int32Array([1, 0]), [2]);
    assert.throws(
      () => new nn.MSELoss().forward(x, tensor(new Int32Array(4), [2, 2])),
      /int32.*target\.float\(\)/,
    );
    assert.throws(
      () => new nn.MSELoss().forward(x, tensor([1, 2])),
      /\[2\] must have the input's shape \[2,2\]/,
    );
    assert.throws(
      () => new nn.BCEWithLogitsLoss().forward(x, tensor(new Int32Array(4), [2, 2])),
      /float\(\)/,
    );
    assert.throws(
      () => new nn.BCEWithLogitsLoss({ posWeight: tensor([1, 2, 3]) }).forward(x, x),
      /posWeight \[3\]/,
    );
    assert.throws(
      () => new nn.NLLLoss().forward(x, tensor([1, 0])),
      /int32 class indices.*target\.int\(\)/,
    );
    assert.throws(
      () => new nn.NLLLoss().forward(x, tensor(new Int32Array([1, 2]), [2])),
      /target 2 .*out of bounds for 2 classes/,
    );
    assert.throws(
      () => new nn.NLLLoss().forward(x, tensor(new Int32Array([1, 0, 1]), [3])),
      /target must be \[2\]/,
    );
    assert.throws(
      () => new nn.NLLLoss({ weight: tensor([1, 2, 3]) }).forward(x, ints),
      /weight \[3\] must be \[2\]/,
    );
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new nn.NLLLoss({ ignore_index: 1 } as any), /'ignoreIndex'/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new nn.BCEWithLogitsLoss({ pos_weight: x } as any), /'posWeight'/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new nn.MSELoss({ reduction: "avg" } as any), /"mean", "sum" or "none"/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => new (nn.MSELoss as any)(null, "mean"), /at most 1 arguments/);
    // An ignored index outside [0, C) is fine, as in PyTorch.
    const l = new nn.NLLLoss({ ignoreIndex: 5 }).forward(x, tensor(new Int32Array([5, 1]), [2]));
    assertClose([l.item()], [0]);
    // One sample: input [C], target [].
    assertClose([F.nllLoss(tensor([-1, -2]), tensor(new Int32Array([1]), [])).item()], [2]);
  });
});

Deno.test("habits: activation modules check their arguments", () => {
  scope(() => {
    // deno-lint-ignore no-explicit-any
    const Any = nn as any;
    assert.throws(() => new Any.Sigmoid(1), /nn.Sigmoid: takes at most 0 arguments/);
    assert.throws(
      () => new Any.LeakyReLU(0.2, true, 1),
      /at most 2 arguments.*new nn.LeakyReLU\(0.2\)/,
    );
    assert.equal(new nn.LeakyReLU(0.2, true).inplace, true); // torch's inplace, without effect
    assert.throws(() => new Any.LeakyReLU({ negative_slope: 0.2 }), /'negativeSlope'/);
    assert.throws(() => new Any.LeakyReLU("0.2"), /LeakyReLU.*"0.2".*new nn.LeakyReLU\(0.2\)/);
    assert.throws(() => new Any.LeakyReLU(NaN), /negativeSlope must be a finite number/);
    assert.throws(() => new Any.GELU({ approximate: "erf" }), /"none" or "tanh"/);
    assert.throws(() => new Any.Softmax(), /dim must be an integer.*new nn.Softmax\(1\)/);
    assert.throws(() => F.gelu(tensor(new Int32Array([1]), [1])), /float32/);
    assert.equal(new nn.Softmax({ dim: -1 }).dim, -1);
  });
});

Deno.test("BatchNorm2d with momentum null keeps the cumulative average, as BatchNorm1d", () => {
  using bn = new nn.BatchNorm2d(1, { momentum: null });
  const means: number[] = [];
  for (const v of [[1, 3, 5, 7], [2, 2, 2, 10]]) {
    using x = tensor(v, [1, 1, 2, 2]);
    bn.forward(x);
    means.push(v.reduce((a, b) => a + b) / 4);
  }
  const expected = (means[0] + means[1]) / 2;
  assert.ok(Math.abs(bn.runningMean!.item() - expected) < 1e-6, `${bn.runningMean!.item()}`);
  assert.equal(bn.numBatchesTracked, 2);
});
