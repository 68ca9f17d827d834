/**
 * var/std, isnan/isinf/isfinite/nanToNum, split/chunk, oneHot, SiLU,
 * Hardswish, Hardsigmoid, ReLU6, layerNorm/groupNorm and their layers
 * against PyTorch 1.13's numbers (tests/fixtures/ops_extra.json, written by
 * scripts/make_ops_extra_fixtures.py): outputs, and the gradients of
 * L = sum(out * G) for fixed random G, NaN and infinities exactly where
 * torch has them. Then the argument checks and the zerosLike family.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 * `OPS_EXTRA_REPORT=1` prints the worst error of each case.
 */
import assert from "node:assert/strict";
import {
  fullLike,
  functional as F,
  isnan,
  nn,
  onesLike,
  scope,
  type Tensor,
  tensor,
  zeros,
  zerosLike,
} from "../mod.ts";
import {
  fromStored,
  loadFixture,
  type StoredNumber,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Rec = StoredRecord;
type Num = StoredNumber;
interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: Rec[];
  outs: Rec[];
  G?: Rec[];
  grads?: (Rec | null)[];
  state?: Record<string, Rec>;
  paramGrads?: Record<string, Rec>;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("ops_extra.json");

const num = storedNumber;

const make = (r: Rec, requiresGrad = r.grad ?? false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });

/** Each case's worst |got - want| and worst relative error where |want| > 1e-3 (the report). */
const worst = new Map<string, [number, number]>();

/** Asserts closeness elementwise; NaN and infinities must match exactly. */
function assertMatches(t: Tensor, want: Rec, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  const got = t.toArray();
  want.data.forEach((w, i) => {
    const e = num(w), a = got[i];
    if (!Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(e) && Number.isNaN(a)), `${what}[${i}]: ${a}`);
      return;
    }
    const err = Math.abs(a - e);
    const key = what.split(":")[0];
    const [abs, rel] = worst.get(key) ?? [0, 0];
    worst.set(key, [
      Math.max(abs, err),
      Math.abs(e) > 1e-3 ? Math.max(rel, err / Math.abs(e)) : rel,
    ]);
    assert.ok(err <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, expected ${e}`);
  });
}

type Op = (x: Tensor[], o: Case["opts"]) => Tensor | Tensor[];
const stat = (name: "var" | "std"): Op => ([x], o) => {
  const src = o.transpose ? x.t() : x;
  // torch's positional order: (dim, unbiased, keepdim).
  return src[name](o.dims, (o.unbiased as boolean | undefined) ?? true, o.keepDim ?? false);
};

const OPS: Record<string, Op> = {
  var: stat("var"),
  std: stat("std"),
  isnan: ([x]) => x.isnan(),
  isinf: ([x]) => x.isinf(),
  isfinite: ([x]) => x.isfinite(),
  nanToNum: ([x], o) => F.nanToNum(x, o),
  split: ([x], o) => x.split(o.arg, o.dim ?? 0),
  chunk: ([x], o) => x.chunk(o.arg, o.dim ?? 0),
  chunkExp: ([x], o) => F.chunk(x, o.arg, o.dim).map((p) => p.exp()),
  oneHot: ([y], o) => F.oneHot(y, o.numClasses ?? -1),
  silu: ([x]) => F.silu(x),
  hardswish: ([x]) => F.hardswish(x),
  hardsigmoid: ([x]) => F.hardsigmoid(x),
  relu6: ([x]) => F.relu6(x),
  layerNorm: ([x, w, b], o) => F.layerNorm(x, o.shape, w, b, o.eps ?? 1e-5),
  groupNorm: ([x, w, b], o) => F.groupNorm(x, o.groups, w, b, o.eps ?? 1e-5),
};

function layerOf(c: Case): nn.Module {
  const o = c.opts;
  const m = c.op === "LayerNormLayer"
    ? new nn.LayerNorm(o.shape, { eps: o.eps ?? 1e-5 })
    : new nn.GroupNorm(o.groups, o.channels, { eps: o.eps ?? 1e-5 });
  const sd = Object.fromEntries(Object.entries(c.state!).map(([k, r]) => [k, make(r, false)]));
  m.to(testDevice);
  m.loadStateDict(sd);
  return m;
}

/**
 * Looser where torch sums in another order (a normalisation's chained
 * reductions), and on the GPU (1e-4, as ops_test.ts).
 */
function tolerance(c: Case): [number, number] {
  const [rtol, atol] = /orm/.test(c.op) ? [1e-4, 1e-5] : [1e-5, 1e-6];
  return testDevice === "cpu" ? [rtol, atol] : [Math.max(rtol, 1e-4), Math.max(atol, 1e-4)];
}

for (const c of fx.cases) {
  Deno.test(`ops extra: ${c.name}`, () => {
    scope(() => {
      const inputs = c.inputs.map((r) => make(r));
      const layer = c.state ? layerOf(c) : null;
      const result = layer ? layer.forward(inputs[0]) : OPS[c.op](inputs, c.opts);
      const outs = Array.isArray(result) ? result : [result];
      const [rtol, atol] = tolerance(c);
      assert.equal(outs.length, c.outs.length, `${c.name}: number of outputs`);
      outs.forEach((o, i) => {
        assert.equal(o.dtype, c.outs[i].dtype ?? "float32", `${c.name}: dtype`);
        assertMatches(o, c.outs[i], `${c.name}: output ${i}`, rtol, atol);
      });
      if (!c.G) {
        for (const o of outs) assert.equal(o.requiresGrad, false, `${c.name}: no gradient`);
        return;
      }
      const terms = outs.map((o, i) => o.mul(make(c.G![i], false)).sum());
      terms.reduce((a, b) => a.add(b)).backward();
      c.grads!.forEach((g, i) => {
        if (g) assertMatches(inputs[i].grad!, g, `${c.name}: gradient ${i}`, rtol, atol);
      });
      for (const [name, g] of Object.entries(c.paramGrads ?? {})) {
        const p = [...layer!.namedParameters()].find(([n]) => n === name)![1];
        assertMatches(p.grad!, g, `${c.name}: gradient of ${name}`, rtol, atol);
      }
    });
  });
}

if (Deno.env.get("OPS_EXTRA_REPORT") === "1") {
  Deno.test({
    name: "ops extra: worst errors (report)",
    fn() {
      const rows = [...worst].sort((a, b) => b[1][0] - a[1][0]);
      for (const [k, [abs, rel]] of rows) {
        console.log(`abs ${abs.toExponential(2)}  rel ${rel.toExponential(2)}  ${k}`);
      }
    },
  });
}

Deno.test("ops extra: torch's errors, with what to write", () => {
  scope(() => {
    const labels = (v: number[]) => tensor(Int32Array.from(v), [v.length]);
    const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    throws(() => F.oneHot(labels([0, -1])), /non-negative/);
    throws(() => F.oneHot(labels([0, 3]), 3), /smaller than numClasses \(3\)/);
    throws(() => F.oneHot(labels([]), -1), /empty tensor/);
    throws(() => F.oneHot(tensor([1, 2]), 3), /labels\.int\(\)/);
    throws(() => F.oneHot(labels([1]), -2), /-1 to infer/);
    const x = tensor([1, 2, 3, 4, 5]);
    throws(() => x.split([2, 2]), /sum to 4, not to 5/);
    throws(() => x.split([6, -1]), /non-negative/);
    throws(() => x.split(0), /only be 0 if dimension 0 has size 0/);
    throws(() => x.chunk(0), /greater than 0/);
    throws(() => tensor(2).reshape([]).split(1), /at least a 1-dimensional/);
    throws(() => x.split(2, 1), /out of range/);
    // torch's x.var(False) over everything, and an options object where a flag goes.
    throws(() => x.var(false as unknown as number), /x\.var\(undefined, false\)/);
    throws(
      () => x.std(0, { unbiased: false } as unknown as boolean),
      /not an options object .*write x\.std\(0, false\);/,
    );
    throws(() => x.var(0, false, { keepdim: true } as never), /write x\.var\(0, false, true\);/);
    // x.var(1, false) is torch's biased x.var(1, False).
    const b = tensor([[1, 3], [2, 6]]);
    assert.deepEqual([...b.var(1, false).toArray()], [1, 4]);
    assert.deepEqual([...b.var(1).toArray()], [2, 8]);
    throws(() => F.layerNorm(tensor([[1, 2, 3]]), [2]), /\[\*, 2\], got \[1,3\]/);
    throws(() => F.groupNorm(zeros([1, 3, 2]), 2), /divisible by numGroups/);
    throws(() => new nn.GroupNorm(2, 3), /divisible/);
    throws(() => new nn.LayerNorm(4, { elementwise_affine: false } as never), /elementwiseAffine/);
    // torch's nn.SiLU(inplace=True) ports as written (a flag without effect here).
    assert.equal(new nn.SiLU(true).inplace, true);
    throws(
      () => new (nn.SiLU as unknown as new (a: string) => nn.Module)("yes"),
      /inplace must be/,
    );
    throws(() => F.nanToNum(x, { posinf: 1e39 }), /beyond float32's range/);
    throws(() => fullLike(labels([1]), 2.5), /int32 value 2\.5/);
    throws(() => zerosLike([2, 3] as unknown as Tensor), /zeros\(shape\) takes a shape/);
  });
});

Deno.test("ops extra: split and chunk give views of the source", () => {
  scope(() => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const [a, b] = x.chunk(2, 1);
    assert.equal(a.storage, x.storage);
    nn.init.constant_(b, 9); // a write through a piece lands in the source
    assert.deepEqual(Array.from(x.toArray()), [1, 2, 9, 4, 5, 9]);
    const empty = zeros([0, 2]).chunk(3);
    assert.deepEqual(empty.map((p) => p.shape), [[0, 2], [0, 2], [0, 2]]);
  });
});

Deno.test("ops extra: masks and int32 inputs", () => {
  scope(() => {
    const x = tensor([NaN, 1], undefined, { requiresGrad: true });
    for (const m of [x.isnan(), x.isinf(), x.isfinite()]) {
      assert.equal(m.requiresGrad, false);
      assert.equal(m.dtype, "float32");
    }
    const ints = tensor(Int32Array.from([1, 2]), [2]);
    assert.deepEqual(Array.from(isnan(ints).toArray()), [0, 0]);
    assert.deepEqual(Array.from(ints.isinf().toArray()), [0, 0]);
    assert.deepEqual(Array.from(ints.isfinite().toArray()), [1, 1]);
    const same = ints.nanToNum();
    assert.equal(same.dtype, "int32");
    assert.deepEqual(Array.from(same.toArray()), [1, 2]);
    // A non-contiguous input reads its own elements.
    const t = tensor([[NaN, 1], [Infinity, 2]]).t();
    assert.deepEqual(Array.from(t.isfinite().toArray()), [0, 0, 1, 1]);
  });
});

Deno.test("ops extra: zerosLike, onesLike, fullLike keep shape, dtype and device", () => {
  const src = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
  const z = zerosLike(src);
  assert.deepEqual([z.shape, z.dtype, z.device, z.requiresGrad], [[2, 3], "float32", "cpu", false]);
  assert.deepEqual(Array.from(z.toArray()), [0, 0, 0, 0, 0, 0]);
  const o = onesLike(src, { dtype: "int32" });
  assert.equal(o.dtype, "int32");
  assert.deepEqual(Array.from(o.toArray()), [1, 1, 1, 1, 1, 1]);
  const f = fullLike(tensor(Int32Array.from([1, 2]), [2]), 7);
  assert.equal(f.dtype, "int32");
  assert.deepEqual(Array.from(f.toArray()), [7, 7]);
  const g = fullLike(src, 0.5, { requiresGrad: true });
  assert.equal(g.requiresGrad, true);
  assert.equal(g.isLeaf, true);
  for (const t of [src, z, o, f, g]) t.dispose();
});

Deno.test("ops extra: LayerNorm and GroupNorm parameters as torch's", () => {
  const ln = new nn.LayerNorm([3, 4]);
  assert.deepEqual([...ln.stateDict().keys()], ["weight", "bias"]);
  assert.deepEqual(ln.weight!.shape, [3, 4]);
  assert.deepEqual(Array.from(ln.bias!.toArray()).slice(0, 2), [0, 0]);
  assert.equal([...new nn.LayerNorm(4, { elementwiseAffine: false }).parameters()].length, 0);
  const gn = new nn.GroupNorm(2, 4, { affine: false });
  assert.equal([...gn.parameters()].length, 0);
  assert.throws(() => gn.forward(zeros([2, 3, 5])), /expected input \[N, 4, \.\.\.\]/);
});
