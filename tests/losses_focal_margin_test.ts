/**
 * sigmoidFocalLoss, focalLoss, marginRankingLoss, hingeEmbeddingLoss,
 * softMarginLoss, multilabelSoftMarginLoss, cosineEmbeddingLoss,
 * tripletMarginLoss, gaussianNllLoss and poissonNllLoss, and their nn
 * modules, against PyTorch 1.13's numbers (tests/fixtures/losses_focal_margin.json,
 * written by scripts/make_losses_focal_margin_fixtures.py): the loss, and
 * the gradients of L = sum(out * G) for a fixed random G, for every tensor
 * that requires one; NaN and infinities exactly where torch has them. Then
 * the argument checks, each with an error that says what to write.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, scope, type Tensor, tensor, zeros } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";
type Module = nn.Module;

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  opt_tensors?: string[];
  out: StoredRecord;
  G?: StoredRecord;
  grads?: (StoredRecord | null)[];
  cross_entropy?: StoredRecord;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("losses_focal_margin.json");

const make = (r: StoredRecord, requiresGrad = r.grad ?? false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });

const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
/** The fixture's values, looser off the CPU. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => Tensor;
/** Each loss: its function, how many tensors it takes before the options, its module. */
const OPS: Record<string, [Fn, number, new (o: object) => Module]> = {
  sigmoidFocalLoss: [F.sigmoidFocalLoss, 2, nn.SigmoidFocalLoss],
  focalLoss: [F.focalLoss, 2, nn.FocalLoss],
  marginRankingLoss: [F.marginRankingLoss, 3, nn.MarginRankingLoss],
  hingeEmbeddingLoss: [F.hingeEmbeddingLoss, 2, nn.HingeEmbeddingLoss],
  softMarginLoss: [F.softMarginLoss, 2, nn.SoftMarginLoss],
  multilabelSoftMarginLoss: [F.multilabelSoftMarginLoss, 2, nn.MultiLabelSoftMarginLoss],
  cosineEmbeddingLoss: [F.cosineEmbeddingLoss, 3, nn.CosineEmbeddingLoss],
  tripletMarginLoss: [F.tripletMarginLoss, 3, nn.TripletMarginLoss],
  gaussianNllLoss: [F.gaussianNllLoss, 3, nn.GaussianNLLLoss],
  poissonNllLoss: [F.poissonNllLoss, 2, nn.PoissonNLLLoss],
};

/** The case's options, with its option tensors and torch's p = inf as Infinity. */
function optionsOf(c: Case, extra: Tensor[]): Record<string, unknown> {
  const o: Record<string, unknown> = { ...c.opts };
  if (o.p === "inf") o.p = Infinity;
  (c.opt_tensors ?? []).forEach((name, i) => (o[name] = extra[i]));
  return o;
}

for (const c of fx.cases) {
  Deno.test(`losses focal margin: ${c.name}`, () => {
    scope(() => {
      const [fn, positional, Layer] = OPS[c.op];
      const all = c.inputs.map((r) => make(r));
      const args = all.slice(0, positional), extra = all.slice(positional);
      const out = fn(...args, optionsOf(c, extra));
      assertMatches(out, c.out, `${c.name}: loss`);
      const m = new Layer(optionsOf(c, extra.map((t) => t.detach())));
      const y = (m.forward as Fn)(...args.map((t) => t.detach()));
      assertMatches(y, c.out, `${c.name}: nn module`);
      if (c.cross_entropy) {
        const { gamma: _, ...ceOptions } = optionsOf(c, extra);
        const ce = F.crossEntropy(args[0], args[1], ceOptions);
        assertMatches(ce, c.cross_entropy, `${c.name}: crossEntropy`);
      }
      if (!c.G) return;
      out.backward(make(c.G, false));
      c.grads!.forEach((g, i) => {
        if (g) assertMatches(all[i].grad!, g, `${c.name}: gradient ${i}`);
      });
    });
  });
}

const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
const idx = (v: number[], shape = [v.length]) => tensor(Int32Array.from(v), shape);

Deno.test("losses focal margin: focalLoss with gamma 0 is crossEntropy, values and gradients", () => {
  scope(() => {
    const data = [[2, -1, 0.5], [0, 3, -2], [1, 1, 1], [-1, 0, 4]];
    const t = idx([0, 2, 1, 2]);
    const weight = tensor([0.5, 2, 1]);
    const cases = [{}, { weight }, { weight, ignoreIndex: 1 }, { reduction: "sum" as const }];
    for (const [k, o] of cases.entries()) {
      const a = tensor(data, undefined, { requiresGrad: true });
      const b = tensor(data, undefined, { requiresGrad: true });
      const fl = F.focalLoss(a, t, { gamma: 0, ...o });
      const ce = F.crossEntropy(b, t, o);
      assert.ok(Math.abs(fl.item() - ce.item()) <= 1e-6 * Math.abs(ce.item()), `case ${k}`);
      fl.backward();
      ce.backward();
      const [ga, gb] = [a.grad!.toArray(), b.grad!.toArray()];
      ga.forEach((v, i) => assert.ok(Math.abs(v - gb[i]) <= 1e-6, `grad ${i}: ${v} ${gb[i]}`));
    }
    // gamma > 0 is below cross-entropy: the focal factor is < 1.
    const x = tensor(data);
    assert.ok(F.focalLoss(x, t).item() < F.crossEntropy(x, t).item());
    // Every target ignored: the mean is NaN (0 / 0), as crossEntropy's.
    assert.ok(Number.isNaN(F.focalLoss(x, idx([-100, -100, -100, -100])).item()));
  });
});

Deno.test("losses focal margin: sigmoidFocalLoss and focalLoss check their arguments", () => {
  scope(() => {
    const x = tensor([[0.5, -1], [2, 0]]);
    const y = tensor([[1, 0], [0, 1]]);
    throws(() => F.sigmoidFocalLoss(x, tensor([1, 0])), /sigmoidFocalLoss: target \[2\] must have/);
    throws(() => F.sigmoidFocalLoss(x, y.int()), /is int32, expected float32/);
    throws(() => F.sigmoidFocalLoss(x, y, { reduction: "avg" as never }), /reduction must be/);
    throws(() => F.sigmoidFocalLoss(x, y, { alpha: 1.5 }), /alpha must be in \[0, 1\]/);
    throws(() => F.sigmoidFocalLoss(x, y, { alpha: NaN }), /alpha must be a finite number/);
    throws(() => F.sigmoidFocalLoss(x, y, { gamma: -1 }), /gamma must be a finite number >= 0/);
    throws(() => F.sigmoidFocalLoss(x, y, { Gamma: 2 } as never), /unknown option 'Gamma'/);
    throws(() => F.sigmoidFocalLoss(x, [1, 0] as never), /must be Tensors/);
    // Its default reduction is "none", as torchvision's.
    assert.deepEqual(F.sigmoidFocalLoss(x, y).shape, [2, 2]);

    const logits = tensor([[1, 2, 0], [0, 1, 3]]);
    const t = idx([0, 2]);
    throws(
      () => F.focalLoss(logits, tensor([0, 2])),
      /must be int32 class indices.*sigmoidFocalLoss/,
    );
    throws(() => F.focalLoss(logits, idx([0, 3])), /target 3 \(element 1\) is out of bounds/);
    throws(() => F.focalLoss(logits, idx([0, 1, 2])), /target must be \[2\]/);
    throws(() => F.focalLoss(tensor([1, 2]), idx([0, 1])), /\[N, C, \.\.\.\]/);
    throws(() => F.focalLoss(logits, t, { weight: tensor([1, 2]) }), /weight \[2\] must be \[3\]/);
    throws(() => F.focalLoss(logits, t, { alpha: 0.25 as never }), /a single alpha scales/);
    throws(() => F.focalLoss(logits, t, { alpha: [1, 2, 3] as never }), /alpha must be a Tensor/);
    throws(() => F.focalLoss(logits, t, { ignoreIndex: 0.5 }), /ignoreIndex must be an integer/);
    throws(() => F.focalLoss(logits, t, { gamma: "2" as never }), /gamma must be a finite number/);
    throws(() => F.focalLoss(logits, t, { ignore_index: 1 } as never), /write 'ignoreIndex'/);
    throws(() => F.focalLoss(logits, t, { reduction: "batchmean" as never }), /reduction must/);
    throws(() => (F.focalLoss as Fn)(logits, t, {}, 1), /takes at most 3 arguments/);
  });
});

Deno.test("losses focal margin: margin losses refuse bad shapes, dtypes and options", () => {
  scope(() => {
    const a = tensor([1, 2, 3]), b = tensor([0, 2, 4]), y = tensor([1, -1, 1]);
    const col = tensor([[1], [2], [3]]);
    throws(
      () => F.marginRankingLoss(a, b, col),
      /same number of dimensions, got input1 \[3\], input2 \[3\], target \[3,1\]/,
    );
    throws(() => F.marginRankingLoss(a, tensor([1, 2]), y), /cannot be broadcast/);
    throws(
      () => F.marginRankingLoss(col, col, tensor([[1, -1, 1]])),
      /broadcast to \[3,3\], the shape of none of them/,
    );
    throws(() => F.marginRankingLoss(a, b, y.int()), /target \[3\] is int32.*target\.float\(\)/);
    throws(() => F.marginRankingLoss(a, b, y, { margin: NaN }), /margin must be a finite number/);
    throws(() => F.marginRankingLoss(a, b, y, { reduction: "avg" as never }), /reduction must/);
    throws(() => F.marginRankingLoss(a, b, y, { Margin: 1 } as never), /write 'margin'/);
    throws(() => F.marginRankingLoss(a, b, [1] as never), /target must be a Tensor/);

    throws(() => F.hingeEmbeddingLoss(col, y), /the shape of none of them.*N x N/);
    throws(() => F.hingeEmbeddingLoss(a, tensor([1, -1])), /cannot be broadcast/);
    throws(() => F.hingeEmbeddingLoss(a, y, { margin: "1" as never }), /margin must be a finite/);
    throws(() => F.hingeEmbeddingLoss(a.int(), y), /input: expected a float32 tensor/);

    throws(() => F.softMarginLoss(col, y), /target \[3\] must broadcast to the input's shape/);
    throws(() => F.softMarginLoss(tensor([1]), y), /must broadcast to the input's shape \[1\]/);
    throws(() => F.softMarginLoss(a, y, { size_average: true } as never), /unknown option/);

    const x2 = tensor([[0.5, -1, 2], [1, 0, -2]]);
    throws(() => F.multilabelSoftMarginLoss(x2, tensor([[1, 0, 1]]).int()), /is int32/);
    throws(() => F.multilabelSoftMarginLoss(x2, tensor([1, 0])), /cannot be broadcast/);
    throws(
      () => F.multilabelSoftMarginLoss(x2, x2, { weight: tensor([1, 2]) }),
      /cannot be broadcast/,
    );
    throws(() => F.multilabelSoftMarginLoss(tensor(1), tensor(1)), /0-d tensor/);
    throws(() => F.multilabelSoftMarginLoss(x2, x2, { weight: [1, 2, 3] as never }), /Tensor/);

    const e = tensor([[1, 0, 0], [0, 1, 0]]);
    throws(() => F.cosineEmbeddingLoss(e, e, tensor([[1], [1]])), /multi-target is not supported/);
    throws(() => F.cosineEmbeddingLoss(e, e, tensor(1)), /0-d target needs 1-d inputs \[D\]/);
    throws(() => F.cosineEmbeddingLoss(a, a, y), /1-d target \[N\] needs 2-d inputs/);
    throws(() => F.cosineEmbeddingLoss(e, tensor([[1, 0]]), tensor([1, 1])), /broadcast/);
    throws(() => F.cosineEmbeddingLoss(e, e, tensor([1, 1, 1])), /rows and target/);

    const t3 = tensor([[1, 2], [3, 4]]);
    throws(() => F.tripletMarginLoss(t3, t3, tensor([1, 2])), /same number of dimensions/);
    throws(() => F.tripletMarginLoss(t3, t3, t3, { p: 0 }), /p must be a number > 0/);
    throws(() => F.tripletMarginLoss(t3, t3, t3, { p: -1 }), /p must be a number > 0/);
    throws(() => F.tripletMarginLoss(t3, t3, t3, { swap: 1 as never }), /swap must be true/);
    throws(() => F.tripletMarginLoss(t3, t3, t3, { eps: Infinity }), /eps must be a finite/);
    throws(() => F.tripletMarginLoss(tensor(1), tensor(1), tensor(1)), /0-d tensors/);
    throws(() => F.tripletMarginLoss(t3, t3, t3, { margin: 1, pNorm: 2 } as never), /unknown/);
  });
});

Deno.test("losses focal margin: gaussianNllLoss and poissonNllLoss refuse bad input", () => {
  scope(() => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    throws(() => F.gaussianNllLoss(m, m, tensor([1, 2, 3])), /variance \[3\] is of incorrect size/);
    throws(() => F.gaussianNllLoss(m, m, tensor([[1, 2, 3]])), /give it the input's shape/);
    throws(
      () => F.gaussianNllLoss(m, m, tensor([[1, 2, 3], [1, -0.5, 2]])),
      /variance has negative entries \(element 4 \(flat\) is -0\.5\)/,
    );
    throws(() => F.gaussianNllLoss(m, m, m.int()), /variance: expected a float32/);
    throws(() => F.gaussianNllLoss(m, m.int(), m), /target \[2,3\] is int32/);
    throws(() => F.gaussianNllLoss(m, m, m, { eps: -1 }), /eps must be a finite number >= 0/);
    throws(() => F.gaussianNllLoss(m, m, m, { full: "yes" as never }), /full must be true/);
    throws(() => F.gaussianNllLoss(m, m, m, { reduction: "avg" as never }), /reduction must/);
    throws(() => F.gaussianNllLoss(m, m, m, { Full: true } as never), /write 'full'/);
    throws(
      () => F.gaussianNllLoss(tensor([[1], [2]]), tensor([1, 2]), tensor([[1], [1]])),
      /the shape of none of them/,
    );
    // A NaN variance is not negative: it passes, as torch.any(var < 0).
    assert.ok(Number.isNaN(F.gaussianNllLoss(tensor([1]), tensor([1]), tensor([NaN])).item()));

    const r = tensor([1, 2]);
    throws(() => F.poissonNllLoss(r, tensor([1, 2, 3])), /cannot be broadcast/);
    throws(() => F.poissonNllLoss(tensor([[1], [2]]), r), /the shape of none of them/);
    throws(() => F.poissonNllLoss(r, r, { log_input: false } as never), /write 'logInput'/);
    throws(() => F.poissonNllLoss(r, r, { logInput: 0 as never }), /logInput must be true/);
    throws(() => F.poissonNllLoss(r, r, { eps: NaN }), /eps must be a finite number >= 0/);
    throws(() => F.poissonNllLoss(r, r.int()), /target \[2\] is int32/);
    // An empty input: the mean is NaN, as PyTorch's.
    assert.ok(Number.isNaN(F.poissonNllLoss(zeros([0]), zeros([0])).item()));
  });
});

Deno.test("losses focal margin: modules check options when made, keep weights as buffers", () => {
  scope(() => {
    throws(() => new nn.SigmoidFocalLoss({ alpha: 2 }), /nn\.SigmoidFocalLoss: alpha must be/);
    throws(() => new nn.FocalLoss({ gamma: -2 }), /nn\.FocalLoss: gamma must be/);
    throws(() => new nn.FocalLoss({ weight: [1, 2] as never }), /nn\.FocalLoss: weight must be/);
    throws(() => new nn.FocalLoss({ ignoreIndex: 1.5 }), /ignoreIndex must be an integer/);
    throws(() => new nn.MarginRankingLoss({ margin: NaN }), /nn\.MarginRankingLoss: margin/);
    throws(() => new nn.HingeEmbeddingLoss({ reduction: "avg" as never }), /reduction must/);
    throws(() => new nn.SoftMarginLoss({ weight: 1 } as never), /unknown option 'weight'/);
    throws(() => new nn.TripletMarginLoss({ p: 0 }), /nn\.TripletMarginLoss: p must be/);
    throws(() => new nn.TripletMarginLoss({ swap: "no" as never }), /swap must be true/);
    throws(() => new nn.GaussianNLLLoss({ eps: -1 }), /nn\.GaussianNLLLoss: eps must be/);
    throws(() => new nn.PoissonNLLLoss({ log_input: true } as never), /write 'logInput'/);
    throws(
      () => new (nn.PoissonNLLLoss as never as new (...a: unknown[]) => Module)(true, false),
      /takes at most 1 arguments/,
    );
    const f = new nn.FocalLoss({ weight: tensor([1, 2, 3]), alpha: tensor([0.25, 0.5, 0.25]) });
    assert.deepEqual([...f.stateDict().keys()], ["weight", "alpha"]);
    assert.deepEqual([...new nn.FocalLoss().stateDict().keys()], []);
    const ml = new nn.MultiLabelSoftMarginLoss({ weight: tensor([1, 2]) });
    assert.deepEqual([...ml.stateDict().keys()], ["weight"]);
    const tm = new nn.TripletMarginLoss({ margin: 0.5, swap: true });
    assert.equal(tm.margin, 0.5);
    assert.equal(tm.swap, true);
    assert.equal(new nn.SigmoidFocalLoss().reduction, "none");
  });
});

Deno.test("losses focal margin: under noGrad nothing is recorded; transposed inputs work", () => {
  scope(() => {
    const x = tensor([[0.2, -0.7], [1.4, 0.9]], undefined, { requiresGrad: true });
    const y = tensor([[1, -1], [-1, 1]]);
    const pairs: [string, (a: Tensor, b: Tensor, o: { reduction: "none" }) => Tensor][] = [
      ["hinge", F.hingeEmbeddingLoss],
      ["softMargin", F.softMarginLoss],
      ["poisson", F.poissonNllLoss],
      ["sigmoidFocal", F.sigmoidFocalLoss],
      ["marginRanking", (a, b, o) => F.marginRankingLoss(a, b.abs(), b, o)],
      ["gaussian", (a, b, o) => F.gaussianNllLoss(a, b, b.abs(), o)],
    ];
    for (const [name, f] of pairs) {
      assert.equal(noGrad(() => f(x, y, { reduction: "none" })).requiresGrad, false, name);
      const t = f(x.t(), y.t(), { reduction: "none" }).t().contiguous().toArray();
      const d = f(x, y, { reduction: "none" }).toArray();
      assert.deepEqual([...t], [...d], `${name} transposed`);
    }
  });
});
