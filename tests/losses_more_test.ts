/**
 * binaryCrossEntropy, l1Loss, smoothL1Loss, huberLoss, klDiv and
 * cross-entropy with probability targets or one unbatched sample, and their
 * nn modules, against PyTorch 1.13's numbers (tests/fixtures/losses_more.json,
 * written by scripts/make_losses_more_fixtures.py): the loss, and the
 * gradients of L = sum(out * G) for a fixed random G, for input, target and
 * weight where each requires one; NaN and infinities exactly where torch has
 * them. Then the argument checks, each with an error that says what to write.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, scope, type Tensor, tensor, zeros } from "../mod.ts";
type Module = nn.Module;
const { binaryCrossEntropy, huberLoss, klDiv, l1Loss, smoothL1Loss } = F;
const { BCELoss, HuberLoss, KLDivLoss, L1Loss, SmoothL1Loss } = nn;
// Both reach torch's forms through F.crossEntropy (and nn.CrossEntropyLoss).
const crossEntropyProbs = F.crossEntropy;
const crossEntropyUnbatched = F.crossEntropy;
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  out: StoredRecord;
  G?: StoredRecord;
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("losses_more.json");

const make = (r: StoredRecord, requiresGrad = r.grad ?? false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });

const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
/** The fixture's values, looser off the CPU. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

type Op = (input: Tensor, target: Tensor, weight: Tensor | undefined, o: Case["opts"]) => Tensor;
const withWeight = (o: Case["opts"], w?: Tensor) => (w ? { ...o, weight: w } : o);

const OPS: Record<string, Op> = {
  binaryCrossEntropy: (x, t, w, o) => binaryCrossEntropy(x, t, withWeight(o, w)),
  l1Loss: (x, t, _, o) => l1Loss(x, t, o),
  smoothL1Loss: (x, t, _, o) => smoothL1Loss(x, t, o),
  huberLoss: (x, t, _, o) => huberLoss(x, t, o),
  klDiv: (x, t, _, o) => klDiv(x, t, o),
  crossEntropyProbs: (x, t, w, o) => crossEntropyProbs(x, t, withWeight(o, w)),
  crossEntropyUnbatched: (x, t, w, o) => crossEntropyUnbatched(x, t, withWeight(o, w)),
};

/** The nn module of a case's loss, made with its options (null: no module of its own). */
function moduleOf(c: Case, weight?: Tensor): Module | null {
  const o = c.opts;
  switch (c.op) {
    case "binaryCrossEntropy":
      return new BCELoss(withWeight(o, weight));
    case "l1Loss":
      return new L1Loss(o);
    case "smoothL1Loss":
      return new SmoothL1Loss(o);
    case "huberLoss":
      return new HuberLoss(o);
    case "klDiv":
      return new KLDivLoss(o);
    default:
      return null;
  }
}

Deno.test("losses more: klDiv's default mean warns once, as PyTorch warns", () => {
  scope(() => {
    const seen: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => seen.push(m);
    try {
      const lp = tensor([[-0.5, -1]]);
      klDiv(lp, tensor([[0.5, 0.5]]));
      klDiv(lp, tensor([[0.5, 0.5]]), { reduction: "mean" });
      klDiv(lp, tensor([[0.5, 0.5]]), { reduction: "batchmean" });
    } finally {
      console.warn = warn;
    }
    // Once per process (this test runs before the fixture cases use "mean").
    assert.equal(seen.length, 1);
    assert.match(seen[0], /"batchmean" divides by the batch size only/);
  });
});

for (const c of fx.cases) {
  Deno.test(`losses more: ${c.name}`, () => {
    scope(() => {
      const [x, t, w] = c.inputs.map((r) => make(r));
      const out = OPS[c.op](x, t, w, c.opts);
      assertMatches(out, c.out, `${c.name}: loss`);
      const m = moduleOf(c, w?.detach());
      if (m) {
        const y = m.forward(x.detach(), t.detach()) as Tensor;
        assertMatches(y, c.out, `${c.name}: nn module`);
      }
      if (!c.G) return;
      out.backward(make(c.G, false));
      c.grads!.forEach((g, i) => {
        const input = [x, t, w][i];
        if (g) assertMatches(input.grad!, g, `${c.name}: gradient ${i}`);
      });
    });
  });
}

const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);

Deno.test("losses more: shapes, dtypes, reductions and options, with the fix", () => {
  scope(() => {
    const x = tensor([[0.2, 0.7], [0.4, 0.9]]);
    const fns = [binaryCrossEntropy, l1Loss, smoothL1Loss, huberLoss, klDiv] as const;
    for (const f of fns) {
      const name = f.name;
      throws(() => f(x, tensor([0.2, 0.7])), new RegExp(`${name}: target \\[2\\] must have`));
      throws(() => f(x, x.int()), /is int32, expected float32.*target\.float\(\)/);
      throws(() => f(x.int(), x), /input: expected a float32 tensor, got int32/);
      throws(() => f(x, x, { reduction: "avg" as never }), /reduction must be "mean"/);
      throws(() => f(x, x, { size_average: true } as never), /unknown option 'size_average'/);
      throws(() => (f as (...a: unknown[]) => Tensor)(x, x, {}, 1), /takes at most 3 arguments/);
      throws(() => f(x, [1, 2] as never), /input and target must be Tensors/);
    }
    throws(
      () => smoothL1Loss(x, x, { beta: -1 }),
      /smoothL1Loss: beta must be a number >= 0, got -1/,
    );
    throws(() => smoothL1Loss(x, x, { beta: NaN }), /beta must be a number >= 0, got NaN/);
    throws(() => smoothL1Loss(x, x, { beta: "1" as never }), /beta must be a number >= 0, got "1"/);
    throws(() => huberLoss(x, x, { delta: 0 }), /huberLoss: delta must be a number > 0, got 0/);
    throws(() => huberLoss(x, x, { delta: -2 }), /delta must be a number > 0/);
    throws(() => klDiv(x, x, { reduction: "batch_mean" as never }), /"batchmean"/);
    throws(() => klDiv(x, x, { logTarget: 1 as never }), /logTarget must be true or false/);
    throws(() => klDiv(x, x, { log_target: true } as never), /write 'logTarget'/);
  });
});

Deno.test("losses more: binaryCrossEntropy refuses inputs outside [0, 1] and NaN", () => {
  scope(() => {
    const y = tensor([0, 1, 1]);
    throws(() => binaryCrossEntropy(tensor([0.2, 1.5, 0.1]), y), /element 1 \(flat\) is 1\.5/);
    throws(() => binaryCrossEntropy(tensor([0.2, 0.5, -0.1]), y), /between 0 and 1, element 2/);
    throws(() => binaryCrossEntropy(tensor([NaN, 0.5, 0.5]), y), /element 0 \(flat\) is NaN/);
    throws(
      () => binaryCrossEntropy(tensor([Infinity, 0.5, 0.5]), y),
      /binaryCrossEntropyWithLogits/,
    );
    const p = tensor([[0.2, 0.5]]);
    throws(
      () => binaryCrossEntropy(p, p, { weight: tensor([1, 2, 3]) }),
      /weight \[3\].*cannot be broadcast/,
    );
    throws(
      () => binaryCrossEntropy(p, p, { weight: tensor([[1], [2]]) }),
      /weight \[2,1\] must broadcast to the input's shape/,
    );
    throws(() => binaryCrossEntropy(p, p, { weight: [1, 2] as never }), /weight must be a Tensor/);
    // Targets outside [0, 1] are not checked, as PyTorch.
    assert.ok(Number.isFinite(binaryCrossEntropy(tensor([0.5]), tensor([2])).item()));
    // An empty input gives NaN for the mean, as PyTorch's.
    assert.ok(Number.isNaN(binaryCrossEntropy(zeros([0]), zeros([0])).item()));
  });
});

Deno.test("losses more: crossEntropy with probabilities and unbatched, torch's errors", () => {
  scope(() => {
    const logits = tensor([[1, 2, 0, 0], [0, 1, 3, 0]]);
    const probs = tensor([[0.25, 0.25, 0.5, 0], [0, 0, 1, 0]]);
    throws(
      () => crossEntropyProbs(logits, probs, { ignoreIndex: 0 }),
      /ignoreIndex \(0\) is not supported with probability targets/,
    );
    throws(() => crossEntropyProbs(logits, probs.int()), /must be float32/);
    throws(() => crossEntropyProbs(logits, tensor([[0.5, 0.5]])), /must have the logits' shape/);
    throws(() => crossEntropyProbs(logits, probs, { weight: tensor([1, 2, 3]) }), /must be \[4\]/);
    throws(() => crossEntropyProbs(logits, probs, { labelSmoothing: 1.5 }), /in \[0, 1\], got 1.5/);
    throws(
      () => crossEntropyProbs(logits, probs, { reduction: "batchmean" as never }),
      /reduction/,
    );
    throws(
      () => crossEntropyProbs(logits, probs, { label_smoothing: 0.1 } as never),
      /labelSmoothing/,
    );
    throws(
      () => crossEntropyProbs(tensor(1).reshape([]), tensor(1).reshape([])),
      /\[N, C, \.\.\.\] or \[C\]/,
    );
    const idx = (v: number, shape: number[]) => tensor(Int32Array.from([v]), shape);
    throws(() => crossEntropyUnbatched(tensor([1, 2, 3]), idx(1, [1])), /0-d int32 class index/);
    throws(
      () => crossEntropyUnbatched(tensor([1, 2, 3]), tensor([1]).reshape([])),
      /class index must be int32 \(target\.int\(\)\)/,
    );
    throws(
      () => crossEntropyUnbatched(tensor([1, 2, 3]), idx(3, [])),
      /target 3 is out of bounds for 3 classes/,
    );
    // The ignored index of one sample: the mean is 0 / 0 (NaN), as PyTorch's.
    const ignored = crossEntropyUnbatched(tensor([1, 2, 3]), idx(1, []), { ignoreIndex: 1 });
    assert.ok(Number.isNaN(ignored.item()));
    // An empty batch: the mean is NaN, as PyTorch's.
    assert.ok(Number.isNaN(crossEntropyProbs(zeros([0, 3]), zeros([0, 3])).item()));
  });
});

Deno.test("losses more: modules check their options when made, keep BCE's weight as a buffer", () => {
  scope(() => {
    throws(() => new SmoothL1Loss({ beta: -1 }), /nn\.SmoothL1Loss: beta must be a number >= 0/);
    throws(() => new HuberLoss({ delta: 0 }), /nn\.HuberLoss: delta must be a number > 0/);
    throws(() => new KLDivLoss({ reduction: "batchMean" as never }), /nn\.KLDivLoss: reduction/);
    throws(() => new KLDivLoss({ logTarget: "no" as never }), /logTarget must be true or false/);
    throws(() => new L1Loss({ reduction: "avg" as never }), /nn\.L1Loss: reduction/);
    throws(() => new BCELoss({ weight: [1, 2] as never }), /nn\.BCELoss: weight must be a Tensor/);
    throws(() => new HuberLoss({ beta: 1 } as never), /nn\.HuberLoss: unknown option 'beta'/);
    throws(() => new (L1Loss as never as new (...a: unknown[]) => Module)("mean", 1), /at most 1/);
    const bce = new BCELoss({ weight: tensor([1, 2]) });
    assert.deepEqual([...bce.stateDict().keys()], ["weight"]);
    assert.deepEqual([...new BCELoss().stateDict().keys()], []);
    const m = new SmoothL1Loss({ beta: 0.5, reduction: "sum" });
    assert.equal(m.beta, 0.5);
    assert.equal(m.forward(tensor([1]), tensor([0])).item(), 0.75);
  });
});

Deno.test("losses more: under noGrad nothing is recorded; non-contiguous inputs work", () => {
  scope(() => {
    const x = tensor([[0.2, 0.7], [0.4, 0.9]], undefined, { requiresGrad: true });
    const y = tensor([[0, 1], [1, 0]]);
    for (const f of [binaryCrossEntropy, l1Loss, smoothL1Loss, huberLoss] as const) {
      assert.equal(noGrad(() => f(x, y)).requiresGrad, false, f.name);
      const a = f(x.t(), y.t(), { reduction: "none" }).t();
      const b = f(x, y, { reduction: "none" });
      assert.deepEqual([...a.contiguous().toArray()], [...b.toArray()], `${f.name} transposed`);
    }
  });
});
