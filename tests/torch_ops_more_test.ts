/**
 * The torch ops added in src/tensor/ops/{scatter, stack_more, linalg_small,
 * nan_reduce, stats_pairs, histc, elementwise_more}.ts against PyTorch
 * 1.13's numbers (tests/fixtures/torch_ops_more.json, written by
 * scripts/make_torch_ops_more_fixtures.py): outputs, and the gradients of
 * L = sum(out_i * G_i) for a fixed random G per output. Then the Tensor
 * methods, the in-place forms, and the bad inputs, each an Error that says
 * what to write (an index out of range throws, never reaches the kernel).
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import * as L from "../mod.ts";
import { noGrad, scope, type Tensor, tensor, zeros } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  args: any[];
  inputs: StoredRecord[];
  out: StoredRecord[];
  G?: (StoredRecord | null)[];
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("torch_ops_more.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const dev = { device: testDevice };
const i32 = (values: number[], shape: number[]) =>
  tensor(new Int32Array(values), shape, { dtype: "int32", device: testDevice });
const f32 = (values: L.NestedArray, shape?: number[]) => tensor(values, shape, dev);

// deno-lint-ignore no-explicit-any
type Op = (t: Tensor[], a: any[]) => Tensor | Tensor[] | Iterable<Tensor>;
const OPS: Record<string, Op> = {
  scatter: ([x, i, s], [d]) => L.scatter(x, d, i, s),
  scatterValue: ([x, i], [d, v]) => L.scatter(x, d, i, v),
  scatterAdd: ([x, i, s], [d]) => L.scatterAdd(x, d, i, s),
  indexAdd: ([x, i, s], [d, alpha]) => L.indexAdd(x, d, i, s, { alpha }),
  takeAlongDim: ([x, i], [d]) => L.takeAlongDim(x, i, d),
  hstack: (t) => L.hstack(t),
  vstack: (t) => L.vstack(t),
  dstack: (t) => L.dstack(t),
  broadcastTo: ([x], [shape]) => L.broadcastTo(x, shape),
  unflatten: ([x], [d, sizes]) => L.unflatten(x, d, sizes),
  tensorSplit: ([x], [s, d]) => L.tensorSplit(x, s, d),
  movedim: ([x], [s, d]) => L.movedim(x, s, d),
  rot90: ([x], [k, dims]) => L.rot90(x, k, dims),
  diag: ([x], [k]) => L.diag(x, k),
  diagonal: ([x], [o, a, b]) => L.diagonal(x, o, a, b),
  outer: ([a, b]) => L.outer(a, b),
  dot: ([a, b]) => L.dot(a, b),
  mv: ([a, b]) => L.mv(a, b),
  inner: ([a, b]) => L.inner(a, b),
  addmm: ([i, a, b], [o]) => L.addmm(i, a, b, o),
  baddbmm: ([i, a, b], [o]) => L.baddbmm(i, a, b, o),
  nansum: ([x], [d, k]) => L.nansum(x, d ?? undefined, k),
  nanmean: ([x], [d, k]) => L.nanmean(x, d ?? undefined, k),
  aminmax: ([x], [o]) => L.aminmax(x, o),
  stdMean: ([x], [d, u, k]) => L.stdMean(x, d ?? undefined, u, k),
  varMean: ([x], [d, u, k]) => L.varMean(x, d ?? undefined, u, k),
  cummax: ([x], [d]) => L.cummax(x, d),
  cummin: ([x], [d]) => L.cummin(x, d),
  histc: ([x], [b, lo, hi]) => L.histc(x, b, lo, hi),
  logsumexp: ([x], [d, k]) => L.logsumexp(x, d, k),
  log2: ([x]) => L.log2(x),
  log10: ([x]) => L.log10(x),
  logit: ([x], [eps]) => L.logit(x, eps),
  xlogy: ([a, b]) => L.xlogy(a, b),
  frac: ([x]) => L.frac(x),
  deg2rad: ([x]) => L.deg2rad(x),
  rad2deg: ([x]) => L.rad2deg(x),
  fmax: ([a, b]) => L.fmax(a, b),
  fmin: ([a, b]) => L.fmin(a, b),
  copysign: ([a, b]) => L.copysign(a, b),
  signbit: ([x]) => L.signbit(x),
  heaviside: ([a, b]) => L.heaviside(a, b),
  hypot: ([a, b]) => L.hypot(a, b),
  logaddexp: ([a, b]) => L.logaddexp(a, b),
  logaddexp2: ([a, b]) => L.logaddexp2(a, b),
};

const outputs = (r: Tensor | Tensor[] | Iterable<Tensor>): Tensor[] =>
  r instanceof L.Tensor ? [r] : [...r];

Deno.test("torch ops more: the fixture covers every op, from torch 1.13", () => {
  assert.match(fx.torch, /^1\.13/);
  const seen = new Set(fx.cases.map((c) => c.op));
  for (const op of Object.keys(OPS)) assert.ok(seen.has(op), `no fixture case for ${op}`);
});

for (const c of fx.cases) {
  Deno.test(`torch ops more: ${c.name}`, () => {
    scope(() => {
      const inputs = c.inputs.map((r) => fromStored(r, { device: testDevice }));
      const outs = outputs(OPS[c.op](inputs, c.args));
      assert.equal(outs.length, c.out.length, `${c.name}: number of outputs`);
      outs.forEach((o, k) => {
        assert.equal(o.dtype, c.out[k].dtype ?? "float32", `${c.name}: out[${k}] dtype`);
        assert.equal(o.device, testDevice, `${c.name}: out[${k}] device`);
        assertStored(o, c.out[k], `${c.name}: out[${k}]`, rtol, atol);
      });
      if (!c.G) return;
      let loss: Tensor | null = null;
      c.G.forEach((g, k) => {
        if (!g) return;
        const term = outs[k].mul(fromStored(g, { device: testDevice })).sum();
        loss = loss === null ? term : loss.add(term);
      });
      (loss as unknown as Tensor).backward();
      c.grads!.forEach((g, k) => {
        if (g) assertStored(inputs[k].grad, g, `${c.name}: grad of input ${k}`, rtol, atol);
      });
    });
  });
}

Deno.test("torch ops more: scatter's repeated index keeps the last write; x's gradient is 0 there", () => {
  scope(() => {
    const x = zeros([3], { ...dev, requiresGrad: true });
    const src = f32([1, 2, 3, 4]).requiresGrad_();
    const y = L.scatter(x, 0, i32([2, 0, 2, 2], [4]), src);
    assert.deepEqual(y.toList(), [2, 0, 4]);
    y.mul(f32([1, 10, 100])).sum().backward();
    assert.deepEqual(x.grad!.toList(), [0, 10, 0]);
    assert.deepEqual(src.grad!.toList(), [100, 1, 100, 100]); // torch's gather(g, index)
  });
});

Deno.test("torch ops more: the one-hot idiom, in place, and methods", () => {
  scope(() => {
    const y = i32([2, 0, 1], [3]);
    const onehot = zeros([3, 4], dev);
    const same = noGrad(() => onehot.scatter_(1, y.unsqueeze(1), 1));
    assert.equal(same, onehot);
    assert.deepEqual(onehot.toList(), [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]);
    // the Transforms page's Lambda: torch.zeros(10).scatter_(0, torch.tensor(y), value=1)
    const label = noGrad(() => zeros([10], dev).scatter_(0, i32([3], [1]), { value: 1 }));
    assert.deepEqual(label.toList(), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.throws(
      () => zeros([3], dev).scatter(0, i32([1], [1]), { value: "1" } as unknown as number),
      /src must be a tensor, a number or \{ value: number \}/,
    );
    const acc = zeros([3], dev);
    noGrad(() => acc.scatterAdd_(0, i32([0, 0, 2], [3]), f32([1, 2, 3])));
    assert.deepEqual(acc.toList(), [3, 0, 3]);
    noGrad(() => acc.indexAdd_(0, i32([1], [1]), f32([5]), { alpha: 2 }));
    assert.deepEqual(acc.toList(), [3, 10, 3]);
    const x = f32([[1, 2], [3, 4]]);
    assert.deepEqual(x.scatter(0, i32([1, 0], [1, 2]), f32([[9, 8]])).toList(), [[1, 8], [9, 4]]);
    assert.deepEqual(x.scatterAdd(1, i32([1, 1], [2, 1]), f32([[5], [6]])).toList(), [[1, 7], [
      3,
      10,
    ]]);
    assert.deepEqual(x.indexAdd(1, i32([0], [1]), f32([[1], [1]])).toList(), [[2, 2], [4, 4]]);
    assert.deepEqual(x.takeAlongDim(i32([1, 0], [2, 1]), 1).toList(), [[2], [3]]);
    assert.deepEqual(x.clip(2, 3).toList(), [[2, 2], [3, 3]]);
    assert.deepEqual(L.clip(x, null, 2).toList(), [[1, 2], [2, 2]]);
    assert.deepEqual(L.concat([x, x]).shape, [4, 2]);
    assert.deepEqual(L.concatenate([x, x], 1).shape, [2, 4]);
    assert.deepEqual(x.broadcastTo([3, 2, 2]).shape, [3, 2, 2]);
    assert.deepEqual(f32([1, 2, 3, 4, 5, 6]).unflatten(0, [-1, 3]).shape, [2, 3]);
    assert.deepEqual(f32([1, 2, 3]).tensorSplit(2).map((p) => p.toList()), [[1, 2], [3]]);
    assert.deepEqual(x.rot90(1, [0, 1]).toList(), L.rot90(x).toList());
    assert.deepEqual(x.diag().toList(), [1, 4]);
    assert.deepEqual(x.diagonal(1).toList(), [2]);
    assert.deepEqual(f32([1, 2]).outer(f32([1, 2])).toList(), [[1, 2], [2, 4]]);
    assert.equal(f32([1, 2]).dot(f32([3, 4])).item(), 11);
    assert.deepEqual(x.mv(f32([1, 1])).toList(), [3, 7]);
    assert.deepEqual(x.inner(f32([1, 0])).toList(), [1, 3]);
    assert.deepEqual(x.addmm(x, x, { beta: 0 }).toList(), [[7, 10], [15, 22]]);
    assert.deepEqual(x.unsqueeze(0).baddbmm(x.unsqueeze(0), x.unsqueeze(0)).toList(), [[[8, 12], [
      18,
      26,
    ]]]);
    const n = f32([1, NaN, 3]);
    assert.equal(n.nansum().item(), 4);
    assert.equal(n.nanmean().item(), 2);
    const { min, max } = x.aminmax();
    assert.deepEqual([min.item(), max.item()], [1, 4]);
    const mm = x.aminmax({ dim: 0 });
    assert.deepEqual([mm[0].toList(), mm[1].toList(), mm.length], [[1, 2], [3, 4], 2]);
    const [s, m] = L.stdMean(f32([1, 3]));
    assert.deepEqual([s.item().toFixed(4), m.item()], ["1.4142", 2]);
    const [vv, mv] = L.varMean(f32([1, 3]), 0, false);
    assert.deepEqual([vv.item(), mv.item()], [1, 2]);
    const [cv, ci] = f32([1, 3, 2]).cummax(0);
    assert.deepEqual([cv.toList(), ci.toList(), ci.dtype], [[1, 3, 3], [0, 1, 1], "int32"]);
    assert.deepEqual(f32([3, 1, 2]).cummin(0).indices.toList(), [0, 1, 1]);
    assert.deepEqual(f32([1, 2, 1]).histc(4, 0, 3).toList(), [0, 2, 1, 0]);
    assert.deepEqual(f32([8]).log2().toList(), [3]);
    assert.deepEqual(f32([100]).log10().toList(), [2]);
    assert.deepEqual(f32([0.5]).logit().toList(), [0]);
    assert.deepEqual(f32([0, 2]).xlogy(1).toList(), [0, 0]);
    assert.deepEqual(f32([1.5]).frac().toList(), [0.5]);
    assert.equal(f32([180]).deg2rad().item().toFixed(5), "3.14159");
    assert.equal(f32([Math.PI]).rad2deg().item().toFixed(3), "180.000");
    assert.deepEqual(f32([NaN]).fmax(f32([1])).toList(), [1]);
    assert.deepEqual(f32([NaN]).fmin(f32([1])).toList(), [1]);
    assert.deepEqual(f32([2]).copysign(-1).toList(), [-2]);
    assert.deepEqual(f32([-0]).signbit().toList(), [1]);
    assert.deepEqual(f32([0]).heaviside(f32([0.5])).toList(), [0.5]);
    assert.deepEqual(f32([3]).hypot(f32([4])).toList(), [5]);
    // scaled as std::hypot (torch 1.13: 1.4142e-30, 5e20, inf beside NaN): squares would
    // underflow to 0 and overflow to inf
    const big = L.hypot(f32([1e-30, 3e20, Infinity, 0]), f32([1e-30, 4e20, NaN, 0])).toList();
    assert.deepEqual(big, [1.4142135555081815e-30, Math.fround(5e20), Infinity, 0]);
    assert.equal(f32([0]).logaddexp(f32([0])).item().toFixed(4), "0.6931");
    assert.deepEqual(f32([1]).logaddexp2(f32([1])).toList(), [2]);
    assert.deepEqual(L.movedim(zeros([2, 3, 4], dev), 0, -1).shape, [3, 4, 2]);
    // torch's snake_case spellings name the method to write.
    const hint = (name: string) => () => (x as unknown as Record<string, unknown>)[name];
    assert.throws(hint("scatter_add"), /has no \.scatter_add: write x\.scatterAdd/);
    assert.throws(hint("index_add_"), /write x\.indexAdd_/);
    assert.throws(hint("take_along_dim"), /write x\.takeAlongDim/);
    assert.throws(hint("tensor_split"), /write x\.tensorSplit/);
    assert.throws(hint("broadcast_to"), /write x\.broadcastTo/);
  });
});

Deno.test("torch ops more: int32 inputs keep or convert their dtype as torch's", () => {
  scope(() => {
    const z = i32([0, 0, 0], [3]);
    const s = L.scatter(z, 0, i32([1], [1]), 5);
    assert.deepEqual([s.dtype, s.toList()], ["int32", [0, 5, 0]]);
    assert.equal(L.log2(i32([4], [1])).dtype, "float32");
    assert.equal(L.nansum(i32([1, 2], [2])).item(), 3);
    const big = i32([2 ** 31 - 1], [1]);
    assert.throws(() => L.scatterAdd(big, 0, i32([0], [1]), i32([1], [1])), /beyond int32/);
  });
});

Deno.test("torch ops more: -0 and NaN, which the JSON fixture cannot carry or torch miscounts", () => {
  scope(() => {
    assert.deepEqual(L.signbit(f32([-0, 0, NaN])).toList(), [1, 0, 0]);
    assert.deepEqual(L.copysign(f32([3, 2]), f32([-0, 0])).toList(), [-3, 2]);
    // torch 1.13's CPU histc counts NaN in bin 0; its docs (and this library) ignore NaN.
    assert.deepEqual(L.histc(f32([NaN, 5, NaN]), 4, 0, 10).toList(), [0, 0, 1, 0]);
  });
});

Deno.test("torch ops more: histc and heaviside have no gradient, as torch's", () => {
  scope(() => {
    const x = f32([1, 2]).requiresGrad_();
    assert.throws(() => L.histc(x, 2).sum().backward(), /histc has no gradient/);
    assert.throws(() => L.heaviside(x, f32([0])).sum().backward(), /heaviside has no gradient/);
  });
});

Deno.test("torch ops more: bad inputs are Errors that say what to write", () => {
  scope(() => {
    const x = zeros([2, 3], dev);
    const ix = i32([0, 1], [2, 1]);
    const t = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    // scatter family
    t(
      () => L.scatter(x, 1, i32([3], [1, 1]), 1),
      /index 3 is out of bounds for dimension 1 with size 3/,
    );
    t(() => L.scatter(x, 1, i32([-1], [1, 1]), 1), /index -1 is out of bounds/);
    t(() => L.scatterAdd(x, 0, i32([2], [1, 1]), f32([[1]])), /index 2 is out of bounds/);
    t(() => L.indexAdd(x, 0, i32([5], [1]), f32([[1, 1, 1]])), /index 5 is out of bounds/);
    t(() => L.takeAlongDim(x, i32([7], [1, 1]), 1), /takeAlongDim .*index 7 .*out of range/);
    t(() => L.takeAlongDim(x, i32([6], [1])), /takeAlongDim .*index 6 .*out of range/);
    t(() => L.takeAlongDim(zeros([2, 0], dev), i32([0], [1, 1]), 1), /nothing along dimension 1/);
    t(() => L.scatter(x, 1, f32([[0]]), 1), /index must be an int32 tensor.*index\.int\(\)/);
    t(() => L.scatter(x, 1, ix, 1, { reduce: "mean" }), /"add" or "multiply".*scatterReduce/);
    t(() => L.scatter(x, 1, ix, 1, { reduc: "add" } as never), /reduc/);
    t(() => L.scatter(x, 1, ix, f32([1, 2])), /src \[2\] must have as many dimensions/);
    t(() => L.scatter(x, 1, i32([0], [1]), 1), /index \[1\] must have as many dimensions/);
    t(() => L.scatter(x, 1, i32([0, 0, 0], [3, 1]), 1), /larger than x/);
    t(() => L.scatter(x, 1, i32([0, 0], [1, 2]), f32([[1]])), /larger than src/);
    t(() => L.scatter(x, 2, ix, 1), /dimension|dim/);
    t(() => L.scatter(x, 0.5, ix, 1), /dim must be an integer/);
    t(() => L.scatter(x, 1, ix, i32([1, 2], [2, 1])), /src is int32 and x is float32/);
    t(() => L.scatter(i32([0], [1]), 0, i32([0], [1]), 1.5), /not an integer/);
    t(() => L.scatter(x, 1, ix, undefined as never), /src .* is missing/);
    t(() => L.scatterAdd(x, 1, ix, 1 as never), /expected a Tensor/);
    t(() => L.indexAdd(x, 0, i32([0, 1], [2]), f32([[1, 1, 1]])), /source \[1,3\] must be \[2,3\]/);
    t(() => L.indexAdd(x, 0, i32([0], [1, 1]), f32([[1, 1, 1]])), /index must be 1-D/);
    t(
      () => L.indexAdd(x, 0, i32([0], [1]), f32([[1, 1, 1]]), { alpha: NaN }),
      /alpha must be a finite/,
    );
    t(() => L.indexAdd(x, 0, i32([0], [1]), f32([[1, 1, 1]]), { alfa: 2 } as never), /alfa/);
    t(() => L.takeAlongDim(x, i32([0], [1]), 1), /same number of dimensions/);
    const leaf = zeros([3], { ...dev, requiresGrad: true });
    t(() => leaf.scatter_(0, i32([0], [1]), 1), /noGrad/);
    // shapes
    t(() => L.hstack([]), /non-empty array/);
    t(() => L.vstack([x, 3 as never]), /tensors\[1\]/);
    t(() => L.broadcastTo(x, [3, 3]), /cannot expand/);
    t(() => L.unflatten(x, 1, [2, 2]), /do not multiply to 3/);
    t(() => L.unflatten(x, 1, [-1, -1]), /only one size may be -1/);
    t(() => L.tensorSplit(x, 0), /sections must be an integer >= 1/);
    t(() => L.tensorSplit(x, [1.5]), /indices must be integers/);
    t(() => L.rot90(x, 1, [0]), /rotation dims == 2/);
    t(() => L.rot90(x, 1, [1, 1]), /different/);
    t(() => L.rot90(f32([1]), 1), /total dims >= 2/);
    t(() => L.rot90(x, 0.5), /k must be an integer/);
    // linear algebra
    t(() => L.diag(zeros([2, 2, 2], dev)), /1-D or 2-D/);
    t(() => L.diagonal(x, 0, 1, 1), /cannot be the same/);
    t(() => L.dot(f32([1, 2]), f32([1, 2, 3])), /inconsistent tensor size/);
    t(() => L.dot(x, f32([1, 2])), /1D tensors expected/);
    t(() => L.mv(x, f32([1, 2])), /size mismatch/);
    t(() => L.outer(x, f32([1])), /expected 1-D/);
    t(() => L.inner(x, f32([1, 2])), /last dimensions differ/);
    t(() => L.addmm(f32([1, 2, 3, 4]), x, zeros([3, 2], dev)), /cannot be broadcast/);
    t(() => L.addmm(zeros([3, 1, 2], dev), x, zeros([3, 2], dev)), /does not broadcast/);
    t(() => L.addmm(x, x, x), /do not multiply|mm/);
    t(() => L.addmm(f32([1]), x, zeros([3, 2], dev), { betta: 1 } as never), /betta/);
    t(() => L.baddbmm(f32([1]), x, x), /3-D/);
    // reductions
    t(() => L.nanmean(i32([1], [1])), /floating point.*x\.float\(\)/);
    t(() => L.nansum(x, 0.5), /dims must be an integer/);
    t(() => L.aminmax(zeros([0], dev)), /empty/);
    t(() => L.aminmax(x, { dim: 1, keepdim: true } as never), /keepdim/);
    t(() => L.cummax(x, 2), /dim|dimension/);
    t(() => (L.cummax as (x: Tensor) => unknown)(x), /takes \(x, dim\)/);
    t(() => L.histc(i32([1], [1]), 3), /float32.*x\.float\(\)/);
    t(() => L.histc(x, 0), /bins must be an integer > 0/);
    t(() => L.histc(x, 3, 2, 1), /max must be larger than min/);
    t(() => L.histc(f32([1, NaN]), 3), /not finite/);
    t(() => L.histc(x, 3, NaN, 1), /min must be a number/);
    // elementwise
    t(() => L.fmax(x, i32([1], [1])), /int32.*\.float\(\)/);
    t(() => L.logit(x, "a" as never), /eps must be a number/);
    t(() => L.hypot(x, f32([1, 2])), /cannot be broadcast/);
    t(() => L.heaviside(x, 0 as never), /values must be a Tensor/);
    t(() => L.frac(i32([1], [1])), /float32/);
    t(() => L.xlogy(1 as never, 2 as never), /at least one Tensor/);
  });
});
