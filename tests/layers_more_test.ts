/**
 * PReLU, Mish, Softmin, Softmax2d, LocalResponseNorm, PairwiseDistance,
 * CosineSimilarity, Unflatten and the padding layers (ZeroPad2d,
 * ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d),
 * and their functional forms, against PyTorch 1.13's numbers
 * (tests/fixtures/layers_more.json, written by
 * scripts/make_layers_more_fixtures.py): the output, and the gradients of
 * L = sum(out * G) for a fixed random G, for the inputs and the module's
 * parameters; state dict names as torch's. Then the argument checks, each
 * with an error that says what to write, and a training loop that stays
 * flat in memory.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  memoryStats,
  nn,
  ones,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

type Module = nn.Module;

interface Case {
  name: string;
  module: string;
  // deno-lint-ignore no-explicit-any
  args: Record<string, any>;
  op: string | null;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  out: StoredRecord;
  state: Record<string, StoredRecord>;
  G: StoredRecord;
  grads: (StoredRecord | null)[];
  paramGrads: Record<string, StoredRecord>;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("layers_more.json");

const make = (r: StoredRecord, requiresGrad = r.grad ?? false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });

const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
/** The fixture's values, looser off the CPU. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

const num = (v: unknown) => (v === "inf" ? Infinity : v as number);

/** The module of a case, made as the fixture's torch module was (positional arguments). */
function moduleOf(c: Case): Module {
  const a = c.args;
  switch (c.module) {
    case "PReLU":
      return new nn.PReLU(a.numParameters, a.init);
    case "Mish":
      return new nn.Mish();
    case "Softmin":
      return new nn.Softmin(a.dim);
    case "Softmax2d":
      return new nn.Softmax2d();
    case "LocalResponseNorm":
      return new nn.LocalResponseNorm(a.size, a.alpha, a.beta, a.k);
    case "PairwiseDistance":
      return new nn.PairwiseDistance(num(a.p), a.eps, a.keepdim);
    case "CosineSimilarity":
      return new nn.CosineSimilarity(a.dim, a.eps);
    case "Unflatten":
      return new nn.Unflatten(a.dim, a.size);
  }
  const Pad = (nn as unknown as Record<string, new (p: unknown, v?: number) => Module>)[c.module];
  assert.ok(Pad, `no nn.${c.module}`);
  return "value" in a ? new Pad(a.padding, a.value) : new Pad(a.padding);
}

type Op = (xs: Tensor[], params: Tensor[], o: Case["opts"]) => Tensor;
const OPS: Record<string, Op> = {
  prelu: ([x], [w]) => F.prelu(x, w),
  mish: ([x]) => F.mish(x),
  softmin: ([x], _, o) => F.softmin(x, o.dim),
  localResponseNorm: ([x], _, o) => F.localResponseNorm(x, o.size, o.alpha, o.beta, o.k),
  pairwiseDistance: ([a, b], _, o) => F.pairwiseDistance(a, b, num(o.p), o.eps, o.keepdim),
};

const forward = (m: Module, xs: Tensor[]) => (m.forward as (...a: Tensor[]) => Tensor).apply(m, xs);

for (const c of fx.cases) {
  Deno.test(`layers more: ${c.name}`, () => {
    scope(() => {
      // The module, its parameters loaded from torch's state dict.
      const m = moduleOf(c).to(testDevice);
      const keys = Object.keys(c.state);
      assert.deepEqual([...m.stateDict().keys()], keys, `${c.name}: state dict names`);
      if (keys.length) {
        m.loadStateDict(new Map(keys.map((k) => [k, make(c.state[k], false)])));
      }
      const xs = c.inputs.map((r) => make(r));
      const out = forward(m, xs);
      assertMatches(out, c.out, `${c.name}: module output`);
      out.backward(make(c.G, false));
      c.grads.forEach((g, i) => {
        if (g) assertMatches(xs[i].grad!, g, `${c.name}: module gradient of input ${i}`);
      });
      const params = new Map(m.namedParameters());
      for (const [k, g] of Object.entries(c.paramGrads)) {
        assertMatches(params.get(k)!.grad!, g, `${c.name}: gradient of ${k}`);
      }
      if (!c.op) return;
      // The functional form, on fresh leaves.
      const ys = c.inputs.map((r) => make(r));
      const ps = keys.map((k) => make(c.state[k], true));
      const y = OPS[c.op](ys, ps, c.opts);
      assertMatches(y, c.out, `${c.name}: F.${c.op}`);
      y.backward(make(c.G, false));
      c.grads.forEach((g, i) => {
        if (g) assertMatches(ys[i].grad!, g, `${c.name}: F.${c.op} gradient of input ${i}`);
      });
      keys.forEach((k, i) =>
        assertMatches(ps[i].grad!, c.paramGrads[k], `${c.name}: F.${c.op} gradient of ${k}`)
      );
    });
  });
}

const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
// deno-lint-ignore no-explicit-any
const loose = (f: unknown) => f as (...a: any[]) => any;
// deno-lint-ignore no-explicit-any
const Loose = (C: unknown) => C as new (...a: any[]) => any;

Deno.test("layers more: PReLU's parameter, defaults and names, as torch's", () => {
  scope(() => {
    const act = new nn.PReLU();
    assert.deepEqual([...act.weight.shape], [1]);
    assert.deepEqual([...act.weight.toArray()], [0.25]);
    assert.ok(act.weight instanceof nn.Parameter && act.weight.requiresGrad);
    assert.deepEqual([...new nn.PReLU({ numParameters: 3, init: -1 }).weight.toArray()], [
      -1,
      -1,
      -1,
    ]);
    const net = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.PReLU(4), new nn.Mish());
    assert.deepEqual([...net.stateDict().keys()], ["0.weight", "0.bias", "1.weight"]);
    // The slopes learn: one step of SGD moves them.
    const opt = new optim.SGD(net.parameters(), { lr: 0.5 });
    forward(net, [randn([2, 1, 5, 5])]).square().mean().backward();
    const before = [...(net.getSubmodule("1") as nn.PReLU).weight.toArray()];
    opt.step();
    const after = [...(net.getSubmodule("1") as nn.PReLU).weight.toArray()];
    assert.ok(after.some((v, i) => v !== before[i]), `slopes did not move: ${after}`);
    // The padding layers keep torch's padding tuple, and no state.
    assert.deepEqual(new nn.ReflectionPad2d(1).padding, [1, 1, 1, 1]);
    assert.deepEqual(new nn.ConstantPad1d([2, 3], 1).padding, [2, 3]);
    assert.equal(new nn.ZeroPad2d(1).value, 0);
    assert.equal(new nn.ConstantPad3d(1, -2).value, -2);
    assert.equal(new nn.ReplicationPad2d(1).mode, "replicate");
    const lrn = new nn.LocalResponseNorm(5);
    assert.deepEqual([lrn.size, lrn.alpha, lrn.beta, lrn.k], [5, 1e-4, 0.75, 1]);
    const pd = new nn.PairwiseDistance();
    assert.deepEqual([pd.p, pd.eps, pd.keepDim], [2, 1e-6, false]);
    const cs = new nn.CosineSimilarity({ eps: 0.1 });
    assert.deepEqual([cs.dim, cs.eps], [1, 0.1]);
    for (
      const m of [lrn, pd, cs, new nn.ZeroPad2d(1), new nn.Unflatten(1, [2, 2]), new nn.Softmax2d()]
    ) {
      assert.equal(m.stateDict().size, 0);
    }
  });
});

Deno.test("layers more: edge shapes as torch's (empty, cropped to nothing, 0-d)", () => {
  scope(() => {
    const x = randn([1, 2, 3, 4]);
    // Cropping a dimension to nothing gives an empty tensor in every mode, as torch.
    for (const m of [new nn.ReplicationPad2d([-2, -2, 0, 0]), new nn.ZeroPad2d([-2, -2, 0, 0])]) {
      assert.deepEqual([...m.forward(x).shape], [1, 2, 3, 0]);
    }
    // torch returns an empty input to LRN as it is.
    const empty = zeros([0, 3, 4]);
    assert.deepEqual([...F.localResponseNorm(empty, 2).shape], [0, 3, 4]);
    // Two 0-d inputs give a 0-d distance, keepDim or not (torch's).
    assert.deepEqual([...F.pairwiseDistance(tensor(1), tensor(4), 2, 0, true).shape], []);
    assert.equal(F.pairwiseDistance(tensor(1), tensor(4), 2, 0).item(), 3);
    // A 0-d against a vector: the vector's length, reduced.
    assert.deepEqual([...F.pairwiseDistance(tensor(0), tensor([3, 4]), 2, 0).shape], []);
    // An empty last dimension is at distance 0.
    assert.deepEqual([...F.pairwiseDistance(zeros([2, 0]), zeros([2, 0])).toArray()], [0, 0]);
    assert.deepEqual([...new nn.Mish().forward(tensor(0)).shape], []);
    assert.equal(new nn.PReLU().forward(tensor(-4)).item(), -1);
  });
});

Deno.test("layers more: F.prelu, F.mish, F.softmin: bad inputs, with the fix", () => {
  scope(() => {
    const x = randn([2, 3, 4]);
    throws(
      () => F.prelu(x, ones([2])),
      /prelu: weight has 2 numbers but x \[2,3,4\] has 3 channels/,
    );
    throws(() => F.prelu(randn([5]), ones([5])), /has 1 channel \(dimension 1; a 0-d or 1-d/);
    throws(() => F.prelu(x, ones([1, 3])), /prelu: weight must be 0-d or 1-d, got \[1,3\]/);
    throws(() => loose(F.prelu)(x), /prelu: takes \(x, weight\), got 1 arguments/);
    throws(() => loose(F.prelu)(x, 0.25), /prelu: weight: expected a Tensor, got number/);
    throws(() => F.prelu(x.int(), ones([1])), /expected a float32 tensor, got int32/);
    throws(
      () => loose(F.mish)(x, true),
      /mish: takes one tensor \(no inplace\); write F\.mish\(x\)/,
    );
    throws(() => loose(F.mish)([1, 2]), /mish: expected a Tensor, got an array/);
    throws(
      () => loose(F.softmin)(x),
      /softmin: takes \(x, dim\), got 1 argument \(dim is required\)/,
    );
    throws(() => loose(F.softmin)(x, 1.5), /softmin: dim must be an integer, got 1\.5/);
    throws(() => F.softmin(x, 3), /out of range for 3 dimensions/);
  });
});

Deno.test("layers more: activation modules: bad options, with the fix", () => {
  scope(() => {
    const PReLU = Loose(nn.PReLU);
    throws(() => new PReLU(0), /nn\.PReLU: numParameters must be an integer >= 1.*got 0/);
    throws(() => new PReLU(2.5), /numParameters must be an integer >= 1/);
    throws(() => new PReLU(1, NaN), /nn\.PReLU: init must be a finite number, got NaN/);
    throws(() => new PReLU(1, "0.1"), /init must be a finite number, got "0.1"/);
    throws(
      () => new PReLU({ num_parameters: 3 }),
      /unknown option 'num_parameters' \(write 'numParameters'\)/,
    );
    throws(() => new PReLU({ init: 0.1 }, 0.2), /give the options object alone/);
    throws(() => new PReLU(1, 0.25, "cpu"), /nn\.PReLU: takes at most 2 arguments, got 3/);
    // A PReLU with one slope per channel refuses another channel count.
    throws(() => new nn.PReLU(3).forward(randn([2, 4, 5])), /weight has 3 numbers.*4 channels/);
    throws(() => new (Loose(nn.Mish))("yes"), /nn\.Mish: inplace must be true or false/);
    assert.equal(new nn.Mish(true).inplace, true);
    throws(() => new (Loose(nn.Softmin))(), /nn\.Softmin: dim must be an integer, got undefined/);
    throws(
      () => new (Loose(nn.Softmin))({ dims: 1 }),
      /unknown option 'dims' \(did you mean 'dim'\?\)/,
    );
    throws(() => new (Loose(nn.Softmax2d))(1), /nn\.Softmax2d: takes at most 0 arguments/);
    const s2 = new nn.Softmax2d();
    throws(
      () => s2.forward(randn([3, 4])),
      /expected a 3-d \[C, H, W\] or 4-d.*got \[3,4\].*nn\.Softmax\(dim\)/,
    );
    throws(() => s2.forward(randn([1, 2, 3, 4, 5])), /got \[1,2,3,4,5\]/);
  });
});

Deno.test("layers more: padding layers: bad padding, values and inputs, with the fix", () => {
  scope(() => {
    const R2 = Loose(nn.ReflectionPad2d), C2 = Loose(nn.ConstantPad2d);
    throws(
      () => new R2([1, 1]),
      /nn\.ReflectionPad2d: padding must be an integer or a list of 4 integers \(\[left, right, top, bottom\]\), got \[1,1\]/,
    );
    throws(() => new R2(1.5), /got 1\.5; write new nn\.ReflectionPad2d\(1\)/);
    throws(() => new R2([1, 1, 1, "1"]), /list of 4 integers/);
    throws(() => new R2(), /got undefined/);
    throws(
      () => new (Loose(nn.ReflectionPad1d))([1, 1, 1, 1]),
      /list of 2 integers \(\[left, right\]\)/,
    );
    throws(() => new (Loose(nn.ReplicationPad3d))([1, 1]), /list of 6 integers/);
    throws(
      () => new C2(1),
      /nn\.ConstantPad2d: value \(the fill\) must be a number, got undefined; write new nn\.ConstantPad2d\(1, 0\.5\)/,
    );
    throws(() => new C2(1, NaN), /value \(the fill\) must be a number, got NaN/);
    throws(() => new C2(1, "0"), /must be a number, got "0"/);
    throws(() => new (Loose(nn.ZeroPad2d))(1, 0), /nn\.ZeroPad2d: takes at most 1 arguments/);
    throws(() => new R2(1, "reflect"), /nn\.ReflectionPad2d: takes at most 1 arguments/);
    throws(() => new C2(1, 0, 0), /nn\.ConstantPad2d: takes at most 2 arguments/);
    // Inputs: torch's ranks for reflection and replication; enough dimensions for constant.
    throws(
      () => new nn.ReflectionPad2d(1).forward(randn([3, 4])),
      /nn\.ReflectionPad2d: expected a 3-d \[C, H, W\] or 4-d \[N, C, H, W\] input, got \[3,4\]/,
    );
    throws(
      () => new nn.ReplicationPad1d(1).forward(randn([1, 2, 3, 4])),
      /expected a 2-d \[C, W\] or 3-d \[N, C, W\] input/,
    );
    throws(() => new nn.ReflectionPad3d(1).forward(randn([2, 3, 3])), /4-d \[C, D, H, W\] or 5-d/);
    throws(
      () => new nn.ZeroPad2d(1).forward(randn([4])),
      /nn\.ZeroPad2d: expected an input of at least 2 dimensions, got \[4\]/,
    );
    throws(() => new nn.ConstantPad1d(1, 0).forward(tensor(1)), /at least 1 dimension, got \[\]/);
    throws(
      () => new nn.ZeroPad2d(1).forward(null as unknown as Tensor),
      /nn\.ZeroPad2d: expected a Tensor, got null/,
    );
    // Reflection padding must stay below the size, as torch's.
    throws(
      () => new nn.ReflectionPad2d(3).forward(randn([1, 1, 3, 4])),
      /nn\.ReflectionPad2d: padding \(3, 3\) must be less than the size 3 of dimension 2 of the input \[1,1,3,4\]/,
    );
    // Cropping more than the input holds.
    throws(
      () => new nn.ZeroPad2d([-3, -2, 0, 0]).forward(randn([1, 1, 2, 4])),
      /leaves dimension 3 of \[1,1,2,4\] with -1 elements/,
    );
    // ZeroPad2d works on any input with 2 or more dimensions, as torch's.
    assert.deepEqual([...new nn.ZeroPad2d(1).forward(randn([3, 4])).shape], [5, 6]);
    assert.deepEqual([...new nn.ZeroPad2d(1).forward(randn([1, 1, 1, 3, 4])).shape], [
      1,
      1,
      1,
      5,
      6,
    ]);
  });
});

Deno.test("layers more: LRN, distances and Unflatten: bad options and inputs, with the fix", () => {
  scope(() => {
    const LRN = Loose(nn.LocalResponseNorm);
    throws(
      () => new LRN(),
      /nn\.LocalResponseNorm: size \(the number of channels in a window\) must be an integer >= 1, got undefined/,
    );
    throws(() => new LRN(0), /must be an integer >= 1, got 0/);
    throws(() => new LRN(2.5), /got 2\.5/);
    throws(() => new LRN(5, NaN), /nn\.LocalResponseNorm: alpha must be a finite number, got NaN/);
    throws(() => new LRN(5, 1e-4, "0.75"), /beta must be a finite number, got "0.75"/);
    throws(() => new LRN(5, { K: 2 }), /unknown option 'K' \(write 'k'\)/);
    throws(() => new LRN(5, { k: 2 }, 0.75), /give the options object after the size alone/);
    throws(() => new LRN(5, 1e-4, 0.75, 1, 0), /takes at most 4 arguments, got 5/);
    const lrn = new LRN(5, { k: 2 });
    assert.deepEqual([lrn.size, lrn.alpha, lrn.beta, lrn.k], [5, 1e-4, 0.75, 2]);
    const lrn2 = new LRN(3, { alpha: 1 });
    assert.deepEqual([lrn2.alpha, lrn2.beta, lrn2.k], [1, 0.75, 1]);
    throws(
      () => new nn.LocalResponseNorm(2).forward(randn([3, 4])),
      /localResponseNorm: expected an input of 3 or more dimensions \[N, C, \.\.\.\], got \[3,4\]; for one \[C, L\] sample write x\.unsqueeze\(0\)/,
    );
    throws(
      () => loose(F.localResponseNorm)(randn([1, 2, 3])),
      /takes \(x, size, alpha, beta, k\), got 1 argument;/,
    );
    throws(() => F.localResponseNorm(randn([1, 2, 3]), -1), /localResponseNorm: size .* got -1/);
    throws(
      () => F.localResponseNorm(randn([1, 2, 3]).int(), 2),
      /expected a float32 tensor, got int32/,
    );

    const PD = Loose(nn.PairwiseDistance);
    throws(
      () => new PD(0),
      /nn\.PairwiseDistance: p must be a number > 0 or Infinity, got 0 \(torch also takes p <= 0; this library does not yet\)/,
    );
    throws(() => new PD(-Infinity), /p must be a number > 0/);
    throws(() => new PD(NaN), /p must be a number > 0 or Infinity, got NaN/);
    throws(() => new PD(2, NaN), /eps must be a finite number, got NaN/);
    throws(() => new PD(2, 1e-6, 1), /keepDim must be true or false, got 1/);
    throws(() => new PD({ keepdim: true }), /unknown option 'keepdim' \(write 'keepDim'\)/);
    throws(() => new PD({ p: 1 }, 0), /give the options object alone/);
    throws(() => new PD(2, 1e-6, false, 1), /takes at most 3 arguments, got 4/);
    const pd = new PD({ p: Infinity, keepDim: true });
    assert.deepEqual([pd.p, pd.eps, pd.keepDim], [Infinity, 1e-6, true]);
    const pd2 = new PD({ eps: 0 });
    assert.deepEqual([pd2.p, pd2.eps, pd2.keepDim], [2, 0, false]);
    throws(
      () => F.pairwiseDistance(randn([2, 3]), randn([2, 4])),
      /pairwiseDistance: shapes \[2,3\] and \[2,4\] cannot be broadcast together/,
    );
    throws(
      () => loose(F.pairwiseDistance)(randn([2, 3])),
      /takes \(x1, x2, p, eps, keepDim\), got 1 argument;/,
    );
    throws(
      () => loose(F.pairwiseDistance)(randn([2, 3]), [1, 2, 3]),
      /pairwiseDistance: x2: expected a Tensor, got an array/,
    );
    throws(() => F.pairwiseDistance(randn([2]), randn([2]), -1), /p must be a number > 0/);

    const CS = Loose(nn.CosineSimilarity);
    throws(() => new CS(1.5), /nn\.CosineSimilarity: dim must be an integer, got 1\.5/);
    throws(() => new CS(1, -1), /eps must be a finite number >= 0, got -1/);
    throws(() => new CS({ dim: 1, epsilon: 1 }), /unknown option 'epsilon'/);
    throws(() => new CS(1, 1e-8, 0), /takes at most 2 arguments, got 3/);
    throws(() => new nn.CosineSimilarity(2).forward(randn([2, 3]), randn([2, 3])), /out of range/);

    const U = Loose(nn.Unflatten);
    throws(
      () => new U(1, 6),
      /nn\.Unflatten: unflattenedSize must be a non-empty list of sizes.*got 6; write new nn\.Unflatten\(1, \[4, 4, 4\]\)/,
    );
    throws(() => new U(1, []), /non-empty list/);
    throws(() => new U(1, [2, -2]), /got \[2,-2\]/);
    throws(() => new U(1, [-1, -1]), /only one size may be -1/);
    throws(() => new U("1", [2, 3]), /nn\.Unflatten: dim must be an integer, got "1"/);
    throws(() => new U(1, [2, 3], 0), /takes at most 2 arguments/);
    throws(
      () => new nn.Unflatten(1, [4, -1]).forward(randn([2, 6])),
      /nn\.Unflatten: sizes \[4,-1\] don't multiply up to the size 6 of dimension 1 of the input \[2,6\]/,
    );
    throws(
      () => new nn.Unflatten(1, [2, 2]).forward(randn([2, 6])),
      /sizes \[2,2\] don't multiply up to the size 6/,
    );
    throws(
      () => new nn.Unflatten(2, [2, 3]).forward(randn([2, 6])),
      /out of range for 2 dimensions/,
    );
    throws(() => new nn.Unflatten(0, [1]).forward(tensor(1)), /cannot unflatten a 0-d tensor/);
  });
});

Deno.test("layers more: a training loop through the new layers that frees nothing by hand stays flat", () => {
  const net = new nn.Sequential(
    new nn.ReflectionPad2d(1),
    new nn.Conv2d(2, 4, 3),
    new nn.PReLU(4),
    new nn.LocalResponseNorm(3, 0.1, 0.75, 2),
    new nn.ConstantPad2d([1, 0, 0, 1], 0.5),
    new nn.Mish(),
    new nn.Softmax2d(),
    new nn.Flatten(),
    new nn.Unflatten(1, [4, -1]),
  );
  const dist = new nn.PairwiseDistance();
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  const x = randn([2, 2, 5, 5]), target = zeros([2, 4, 36]);
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    opt.zeroGrad();
    const y = forward(net, [x]);
    dist.forward(y, target).mean().add(F.softmin(y, 1).mean()).backward();
    opt.step();
    counts.push(memoryStats().buffersInUse);
  }
  assert.equal(counts[11], counts[5], `buffers in use: ${counts}`);
});
