/**
 * softplus, elu, log1p, expm1, norm, normalize, cosineSimilarity, pad,
 * adaptiveMaxPool2d and adaptiveAvgPool2d's torch forms (None sizes,
 * unbatched input) against PyTorch 1.13 (tests/fixtures/functional_more.json,
 * written by scripts/make_functional_more_fixtures.py): outputs and the
 * gradients of L = sum(out * G). Then the layers, the argument checks, and
 * the in-place and arity habits of relu, sigmoid, linear and conv2d.
 */
import assert from "node:assert/strict";
import {
  bernoulli,
  cat,
  full,
  functional as F,
  isGradEnabled,
  lerp,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  norm,
  ones,
  optim,
  randn,
  scope,
  stack,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord } from "./helpers.ts";

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  outs: StoredRecord[];
  G?: StoredRecord[];
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("functional_more.json");

const assertMatches = assertStored;

const num = (v: unknown) => (v === "inf" ? Infinity : v as number);

type Op = (x: Tensor[], o: Case["opts"]) => Tensor;
const OPS: Record<string, Op> = {
  softplus: ([x], o) => F.softplus(x, o.beta, o.threshold),
  elu: ([x], o) => F.elu(x, o.alpha),
  log1p: ([x]) => F.log1p(x),
  expm1: ([x]) => F.expm1(x),
  norm: ([x], o) => norm(x, num(o.p), o.dim, o.keepDim ?? false),
  normalize: ([x], o) => F.normalize(x, o.p ?? 2, o.dim ?? 1),
  cosineSimilarity: ([a, b], o) => F.cosineSimilarity(a, b, o.dim ?? 1, o.eps ?? 1e-8),
  pad: ([x], o) => F.pad(x, o.pad, o.mode ?? "constant", o.value),
  adaptiveMaxPool2d: ([x], o) => F.adaptiveMaxPool2d(x, o.size),
  adaptiveAvgPool2d: ([x], o) => F.adaptiveAvgPool2d(x, o.size),
  floor: ([x]) => x.floor(),
  ceil: ([x]) => x.ceil(),
  round: ([x]) => x.round(),
  trunc: ([x]) => x.trunc(),
  sign: ([x]) => x.sign(),
  cumsum: ([x], o) => x.cumsum(o.dim),
  logsumexp: ([x], o) => x.logsumexp(o.dim, o.keepDim ?? false),
  all: ([x], o) => x.all(o.dim),
  any: ([x], o) => x.any(o.dim),
  mm: ([a, b]) => a.mm(b),
  bmm: ([a, b]) => a.bmm(b),
  square: ([x]) => x.square(),
  rsqrt: ([x]) => x.rsqrt(),
  lerp: ([a, b, w], o) => a.lerp(b, w ?? o.weight),
  median: ([x], o) => (o.dim === undefined ? x.median() : x.median(o.dim, o.keepDim).values),
  medianIndices: ([x], o) => x.median(o.dim).indices,
  kthvalue: ([x], o) => x.kthvalue(o.k, o.dim).values,
  kthvalueIndices: ([x], o) => x.kthvalue(o.k, o.dim).indices,
  sin: ([x]) => x.sin(),
  cos: ([x]) => x.cos(),
  reciprocal: ([x]) => x.reciprocal(),
  movedim: ([x], o) => x.movedim(o.source, o.destination),
  swapaxes: ([x], o) => x.swapaxes(o.dim0, o.dim1),
  einsum: (xs, o) => F.einsum(o.equation, ...xs),
};

for (const c of fx.cases) {
  Deno.test(`functional: ${c.name}`, () => {
    scope(() => {
      // all / any take no gradient (torch gives bool), so their input needs none.
      const inputs = c.inputs.map((r) => fromStored(r, { requiresGrad: c.G !== undefined }));
      const out = OPS[c.op](inputs, c.opts);
      // p-norms other than 1, 2 and inf go through pow: a few ulps more.
      const rtol = /p (3|0.5|1.5) /.test(c.name) ? 1e-4 : 1e-5;
      assertMatches(out, c.outs[0], `${c.name}: output`, rtol);
      if (!c.G) {
        assert.equal(out.requiresGrad, false, `${c.name}: no gradient`);
        return;
      }
      out.mul(fromStored(c.G[0])).sum().backward();
      c.grads!.forEach((g, i) => {
        if (g) assertMatches(inputs[i].grad!, g, `${c.name}: gradient ${i}`, rtol);
      });
    });
  });
}

Deno.test("functional: the new layers run their functions", () => {
  scope(() => {
    const x = randn([2, 3, 5, 7]);
    const same = (a: Tensor, b: Tensor) => assert.deepEqual(a.toArray(), b.toArray());
    same(new nn.AdaptiveMaxPool2d([3, null]).forward(x), F.adaptiveMaxPool2d(x, [3, null]));
    same(new nn.AdaptiveAvgPool2d([null, 2]).forward(x), F.adaptiveAvgPool2d(x, [null, 2]));
    same(new nn.Softplus(2, 5).forward(x), F.softplus(x, 2, 5));
    same(new nn.Softplus({ beta: 2 }).forward(x), F.softplus(x, 2));
    same(new nn.ELU(0.5).forward(x), F.elu(x, 0.5));
    same(new nn.ELU({ alpha: 0.5 }).forward(x), F.elu(x, 0.5));
    // torchvision writes inplace=True: accepted, the same values, x untouched.
    const before = [...x.toArray()];
    for (
      const m of [
        new nn.ReLU(true),
        new nn.ReLU6(true),
        new nn.SiLU(true),
        new nn.Hardswish(true),
        new nn.Hardsigmoid(true),
        new nn.LeakyReLU(0.1, true),
        new nn.ELU(1, true),
        new nn.Dropout(0.5, true).eval(),
        new nn.Dropout2d(0.5, true).eval(),
      ]
    ) {
      m.forward(x);
      assert.deepEqual([...x.toArray()], before, `${m.constructor.name} left x alone`);
    }
    assert.throws(() => new nn.ReLU("true" as never), /nn.ReLU: inplace must be true or false/);
    assert.equal(F.dropout(x).shape.join(), x.shape.join(), "F.dropout's p defaults to 0.5");
  });
});

Deno.test("functional: bad arguments say what to write", () => {
  scope(() => {
    const x = randn([1, 2, 4, 4]);
    const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    throws(() => F.pad(x, [1]), /\(before, after\) pairs/);
    throws(() => F.pad(x, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), /at most 4 dimensions/);
    throws(() => F.pad(x, [4, 0], "reflect"), /less than the size 4/);
    throws(() => F.pad(x, [5, 0], "circular"), /at most the size 4/);
    throws(() => F.pad(x, [1, 1], "reflect", 0), /takes no value/);
    throws(() => F.pad(x, [1, 1], "mirror" as never), /mode must be one of/);
    throws(() => F.pad(x, [-3, -2]), /leaves dimension 3 .* -1 elements/);
    throws(() => F.pad(x, [1.5, 1]), /list of integers/);
    throws(() => F.adaptiveMaxPool2d(x, [0, 1]), /integers >= 1/);
    throws(() => F.adaptiveMaxPool2d(randn([4, 4]), 1), /\[N, C, H, W\] or \[C, H, W\]/);
    throws(() => (F.adaptiveMaxPool2d as (...a: unknown[]) => Tensor)(x, 1, true), /returnIndices/);
    throws(
      () => Reflect.construct(nn.AdaptiveMaxPool2d, [1, true]),
      /expected an options object, got boolean true; write it as .*\{ returnIndices: true \}/,
    );
    throws(() => F.softplus(x, 0), /beta must not be 0/);
    throws(() => (F.elu as (...a: unknown[]) => Tensor)(x, 1, true), /no inplace/);
    throws(() => Reflect.construct(nn.ELU, [1, "yes"]), /inplace must be true or false/);
    throws(() => new nn.Softplus(0), /beta must be a finite number other than 0/);
    throws(() => norm(x, -1), /p must be a number > 0/);
    throws(() => norm(x, 2, [1, 1]), /twice/);
    throws(() => F.normalize(x, 2, 1.5), /dim must be an integer/);
    throws(() => F.cosineSimilarity(randn([2, 3]), randn([2, 4])), /cosineSimilarity/);
    throws(() => F.kthvalue(x, 5, 3), /k must be an integer from 1 to 4/);
    throws(() => F.median(randn([0])), /no elements/);
    throws(() => F.median(randn([2, 0]), 1), /dimension 1 of \[2,0\] is empty/);
    throws(() => F.cumsum(x, 1.5), /dim must be an integer/);
    throws(() => F.mm(randn([2, 3]), randn([4, 2])), /cannot be multiplied/);
    throws(() => F.bmm(randn([2, 3, 4]), randn([3, 4, 2])), /batch sizes differ/);
    throws(() => F.mm(randn([2, 3, 4]), randn([4, 2])), /matmul takes vectors and batches/);
    throws(() => F.einsum("ii->i", randn([2, 3])), /repeats 'i' over sizes 2 and 3/);
    throws(
      () => F.einsum("ij,jk->ik", randn([2, 3]), randn([4, 2])),
      /'j' is 3 in one place and 4/,
    );
    throws(() => F.einsum("ij->ik", randn([2, 3])), /the output's 'k' is in no operand/);
    throws(() => F.einsum("ij", randn([2, 3, 4])), /names 2 dimensions of a 3-D operand/);
    throws(() => F.einsum("i,i,i", x, x), /has 3 operands' subscripts, got 2 tensors/);
  });
});

Deno.test("functional: relu's inplace writes into x outside autograd, and is refused inside", () => {
  scope(() => {
    const x = tensor([-1, 2, -3]);
    const y = noGrad(() => F.relu(x, true));
    assert.equal(y, x, "returns x itself, as torch");
    assert.deepEqual([...x.toArray()], [0, 2, 0]);
    const z = tensor([-1, 5]);
    assert.equal(z.relu_(), z);
    assert.deepEqual([...z.toArray()], [0, 5]);
    const w = tensor([-1, 2], [2], { requiresGrad: true });
    assert.ok(isGradEnabled());
    assert.throws(() => F.relu(w.mul(2), true), /write x = F.relu\(x\)/);
    assert.throws(() => F.relu(x, 1 as never), /inplace must be a boolean/);
  });
});

Deno.test("functional: extra arguments are refused, not ignored", () => {
  scope(() => {
    const x = randn([2, 3]);
    const call = (f: unknown, ...a: unknown[]) => (f as (...b: unknown[]) => unknown)(...a);
    assert.throws(() => call(F.sigmoid, x, 1), /sigmoid: takes one tensor/);
    assert.throws(() => call(F.tanh, x, true), /tanh: takes one tensor/);
    assert.throws(() => call(F.linear, x, randn([4, 3]), null, 5), /linear: takes/);
    assert.throws(() => F.linear(x, randn([3])), /weight must be 2-D \[out, in\]/);
    // The bias may be left out, as torch's.
    const w = randn([4, 3]);
    assert.deepEqual(F.linear(x, w).toArray(), F.linear(x, w, null).toArray());
    const img = randn([1, 2, 5, 5]), k = randn([2, 2, 3, 3]);
    assert.deepEqual(F.conv2d(img, k).toArray(), F.conv2d(img, k, null).toArray());
    assert.throws(
      () => F.conv2d(img, k, null, { groups: 1.5 }),
      /groups must be an integer >= 1, got 1.5/,
    );
    assert.throws(() => F.conv2d(img, k, null, { stride: NaN }), /got NaN/);
  });
});

Deno.test("functional: lerp as torch's (weight 1 gives end exactly) and lerp_ for an EMA", () => {
  scope(() => {
    assert.deepEqual([...lerp(tensor([0, 10]), tensor([10, 20]), 0.25).toArray()], [2.5, 12.5]);
    const a = randn([50]), b = randn([50]);
    assert.deepEqual(lerp(a, b, 1).toArray(), b.toArray());
    assert.deepEqual(lerp(a, b, 0).toArray(), a.toArray());
    const s = tensor([1, 2, 3], [3], { requiresGrad: true });
    const e = tensor([5, 4, 3], [3], { requiresGrad: true });
    const w = tensor([0.2, 0.7, -0.8], [3], { requiresGrad: true });
    lerp(s, e, w).sum().backward();
    const close = (t: Tensor, want: number[]) =>
      [...t.toArray()].forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v}`));
    close(s.grad!, [0.8, 0.3, 1.8]);
    close(e.grad!, [0.2, 0.7, -0.8]);
    close(w.grad!, [4, 2, 0]);
    const ema = tensor([1, 1]), p = tensor([3, 5]);
    noGrad(() => ema.lerp_(p, 0.5));
    assert.deepEqual([...ema.toArray()], [2, 3]);
  });
});

Deno.test("x.size() and x.size(d) as torch's; x.shape[-1] reads from the end", () => {
  scope(() => {
    const x = randn([2, 3, 4]);
    assert.deepEqual(x.size(), [2, 3, 4]);
    assert.equal(x.size(0), 2);
    assert.equal(x.size(-1), 4);
    assert.equal(x.numel(), 24);
    assert.equal(x.view(x.size(0), -1).shape.join(), "2,12");
    assert.throws(() => x.size(3), /dimension 3 is out of range for 3 dimensions/);
    assert.throws(() => tensor(5).reshape([]).size(0), /0-d tensor has no dimension 0/);
    // Python's negative indices, which a plain array reads as undefined:
    // the attention scale q.shape[-1] ** -0.5 was NaN.
    assert.equal(x.shape[-1], 4);
    assert.equal(x.shape[-3], 2);
    assert.equal(x.shape[-4], undefined);
    assert.ok(Number.isFinite(x.mul(x.shape[-1] ** -0.5).sum().item()));
    // Still a plain array to print, compare and spread.
    assert.deepEqual(x.shape, [2, 3, 4]);
    assert.equal(JSON.stringify(x.shape), "[2,3,4]");
    assert.deepEqual(Object.keys(x.shape), ["0", "1", "2"]);
  });
});

Deno.test("cat and stack keep the list they were given: appending to it after is harmless", () => {
  scope(() => {
    // DenseNet's forward: features.append(new) after torch.cat(features, 1).
    const a = tensor([[1, 2]], [1, 2], { requiresGrad: true });
    const b = tensor([[3]], [1, 1], { requiresGrad: true });
    const feats = [a];
    const c = cat(feats, 1);
    feats.push(b);
    c.mul(tensor([[10, 20]])).sum().backward();
    assert.deepEqual([...a.grad!.toArray()], [10, 20]);
    assert.equal(b.grad, null);
    const list = [a];
    const s = stack(list, 0);
    list.push(a);
    s.sum().backward();
    assert.deepEqual([...a.grad!.toArray()], [11, 21]);
  });
});

Deno.test("options in conv2d's bias slot are named, with the form to write", () => {
  scope(() => {
    const x = randn([1, 1, 5, 5]), w = randn([2, 1, 3, 3]);
    assert.throws(
      () => F.conv2d(x, w, { padding: 1 } as never),
      /third argument is the bias .* F\.conv2d\(x, weight, null, \{ padding: 1 \}\)/,
    );
    assert.throws(
      () => F.linear(randn([2, 3]), randn([4, 3]), 1 as never),
      /bias must be a Tensor/,
    );
  });
});

Deno.test("stochastic depth (torchvision's), bernoulli, bernoulli_, unbind and new_* as torch's", () => {
  scope(() => {
    manualSeed(3);
    const x = randn([400, 3], { requiresGrad: true });
    const y = F.stochasticDepth(x, 0.25, "row", true);
    const rows = y.toList() as number[][], xs = x.toList() as number[][];
    let kept = 0;
    rows.forEach((r, i) => {
      const scale = r[0] === 0 && r[1] === 0 ? 0 : r[0] / xs[i][0];
      assert.ok(scale === 0 || Math.abs(scale - 1 / 0.75) < 1e-5, `row ${i}: scale ${scale}`);
      if (scale !== 0) kept++;
    });
    assert.ok(Math.abs(kept / 400 - 0.75) < 0.08, `kept ${kept} of 400`);
    y.sum().backward();
    const g = x.grad!.toList() as number[][];
    rows.forEach((r, i) =>
      assert.equal(g[i][1], r[0] === 0 && r[1] === 0 ? 0 : Math.fround(1 / 0.75))
    );
    const batch = F.stochasticDepth(ones([5, 2]), 0.5, "batch", true).toArray();
    assert.ok(batch.every((v) => v === batch[0]) && (batch[0] === 0 || batch[0] === 2));
    assert.equal(F.stochasticDepth(x, 0.5, "row", false), x, "the identity in evaluation");
    assert.deepEqual([...F.stochasticDepth(ones([3, 2]), 1, "row", true).toArray()], [
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    const layer = new nn.StochasticDepth(0.2);
    assert.equal(layer.eval().forward(x), x);
    assert.throws(() => new nn.StochasticDepth(2), /p must be a number in \[0, 1\]/);
    assert.throws(() => F.stochasticDepth(x, 0.2, "sample" as never), /"row" or "batch"/);
    // bernoulli and bernoulli_.
    const draws = bernoulli(full([2000], 0.3));
    assert.ok(Math.abs(draws.mean().item() - 0.3) < 0.05);
    assert.throws(() => bernoulli(tensor([0.5, 1.5])), /in \[0, 1\]/);
    const mask = zeros([4, 1, 1, 1]).bernoulli_(1);
    assert.deepEqual([...mask.toArray()], [1, 1, 1, 1]);
    assert.deepEqual([...zeros([3]).bernoulli_(0).toArray()], [0, 0, 0]);
    // unbind (timm's q, k, v = qkv.unbind(0)) and new_* (dtype and device of x).
    const qkv = randn([3, 2, 4], { requiresGrad: true });
    const [q, k, v] = qkv.unbind(0);
    assert.deepEqual(q.shape, [2, 4]);
    q.add(k.mul(2)).add(v.mul(3)).sum().backward();
    assert.deepEqual([...qkv.grad!.toArray()].slice(0, 8).every((t) => t === 1), true);
    assert.deepEqual([...qkv.grad!.toArray()].slice(16), new Array(8).fill(3));
    const i = tensor(new Int32Array([1, 2]), [2]);
    assert.equal(i.newZeros([2, 2]).dtype, "int32");
    assert.deepEqual([...x.newOnes([2]).toArray()], [1, 1]);
    assert.deepEqual([...x.newFull([2], 7).toArray()], [7, 7]);
    assert.deepEqual(x.newEmpty([1, 2]).shape, [1, 2]);
    assert.equal(x.newZeros([1]).requiresGrad, false);
    const torchNames = x as unknown as Record<string, unknown>;
    assert.throws(() => torchNames.new_zeros, /x\.newZeros\(shape\)/);
    assert.throws(() => torchNames.type_as, /x\.typeAs\(other\)/);
  });
});

Deno.test("pad, stochastic depth and bernoulli in a training loop that frees nothing by hand stay flat", () => {
  const conv = new nn.Conv2d(2, 2, 3);
  const opt = new optim.SGD(conv.parameters(), { lr: 0.01 });
  const x = randn([2, 2, 6, 6]), half = full([1], 0.5);
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    opt.zeroGrad();
    const padded = F.pad(x, [1, 1, 2, 0], "constant", 0.5);
    const y = F.stochasticDepth(conv.forward(F.pad(padded, [1, 1], "reflect")), 0.3, "row", true);
    y.mul(bernoulli(half).add(1)).square().mean().backward();
    opt.step();
    counts.push(memoryStats().buffersInUse);
  }
  assert.equal(counts[11], counts[5], `buffers in use: ${counts}`);
});

Deno.test("x.size() reads from the end too: x.size()[-1], as torch.Size", () => {
  scope(() => {
    const x = randn([2, 3, 4]);
    const s = x.size();
    assert.equal(s[-1], 4);
    assert.equal(s[-3], 2);
    assert.deepEqual(s, [2, 3, 4]);
    s[0] = 9; // a copy of its own
    assert.equal(x.shape[0], 2);
    assert.equal(x.size()[-1] ** -0.5, 0.5);
  });
});

Deno.test("logsumexp and the infinity norm of empty slices, as torch's", () => {
  scope(() => {
    assert.deepEqual([...F.logsumexp(zeros([2, 0]), 1).toArray()], [-Infinity, -Infinity]);
    assert.deepEqual([...norm(zeros([2, 0]), Infinity, 1).toArray()], [0, 0]);
    assert.deepEqual(F.logsumexp(zeros([0, 3]), 1).shape, [0]);
  });
});
