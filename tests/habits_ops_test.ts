/**
 * The ops PyTorch users reach for (cat, stack, where, comparisons, clamp,
 * pow, abs, sqrt) against PyTorch 1.13's numbers, forward and backward with
 * a non-uniform upstream gradient, NaN and inf where PyTorch gives them; and
 * the printout of tensors against torch's repr.
 * Fixture: tests/fixtures/habits_ops.json (scripts/make_habits_ops_fixtures.py).
 */
import assert from "node:assert/strict";
import {
  abs,
  cat,
  clamp,
  clampMax,
  clampMin,
  type CompareOp,
  cudaAvailable,
  eq,
  ge,
  gt,
  le,
  lt,
  memoryStats,
  ne,
  noGrad,
  ones,
  pow,
  sqrt,
  stack,
  type Tensor,
  tensor,
  where,
  zeros,
} from "../mod.ts";
import { formatFixed, formatSci, formatValues } from "../src/tensor/inspect.ts";
import { loadFixture, testDevice } from "./helpers.ts";

type Num = number | "nan" | "inf" | "-inf";
interface Rec {
  shape: number[];
  data: Num[];
  dtype?: "int32";
}
interface Case {
  name: string;
  inputs: Rec[];
  out: Rec;
  g: Rec;
  grads: (Rec | null)[];
  dim?: number;
  min?: number | null;
  max?: number | null;
}
interface CompareCase {
  op: CompareOp;
  a: Rec;
  b: Rec | number | "nan";
  out: Rec;
}
interface ReprCase {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  data: Num[];
  body: string;
  repr: string;
}
const fx = loadFixture<Record<string, Case[]> & { compare: CompareCase[]; repr: ReprCase[] }>(
  "habits_ops.json",
);

const num = (v: Num): number =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;

function make(r: Rec, requiresGrad = false): Tensor {
  if (r.dtype === "int32") {
    return tensor(Int32Array.from(r.data.map(num)), r.shape, {
      dtype: "int32",
      device: testDevice,
    });
  }
  return tensor(Float32Array.from(r.data.map(num)), r.shape, { requiresGrad, device: testDevice });
}

/** Same shape; NaN exactly where expected, infinities with their sign, the rest close. */
function assertMatches(t: Tensor | null, r: Rec, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.ok(t, `${what}: no gradient`);
  assert.deepEqual([...t.shape], r.shape, `${what}: shape`);
  const got = t.toArray();
  r.data.forEach((e, i) => {
    const want = num(e), have = got[i];
    const ok = Number.isNaN(want)
      ? Number.isNaN(have)
      : !Number.isFinite(want)
      ? have === want
      : Math.abs(have - want) <= atol + rtol * Math.abs(want);
    assert.ok(ok, `${what}: element ${i} is ${have}, PyTorch gives ${want} (got [${[...got]}])`);
  });
}

/** Runs fn on the case's inputs, then backward with the stored G; checks all. */
function check(c: Case, fn: (xs: Tensor[]) => Tensor, rtol = 1e-5): void {
  const xs = c.inputs.map((r, i) => make(r, c.grads[i] !== null));
  const out = fn(xs);
  assertMatches(out, c.out, `${c.name}: output`, rtol);
  if (c.grads.some((g) => g !== null)) {
    out.backward(make(c.g));
    c.grads.forEach((g, i) => {
      if (g) assertMatches(xs[i].grad, g, `${c.name}: gradient of input ${i}`, rtol);
    });
  }
}

Deno.test("cat matches torch.cat, forward and backward (negative dims, empty parts)", () => {
  for (const c of fx.cat) check(c, (xs) => cat(xs, c.dim));
});

Deno.test("stack matches torch.stack, forward and backward", () => {
  for (const c of fx.stack) check(c, (xs) => stack(xs, c.dim));
});

Deno.test("cat and stack: non-contiguous inputs, int32, and gradients as views", () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1); // [3, 2], strided
  const b = tensor([[7, 8]]);
  assert.deepEqual(cat([a, b], 0).toList(), [[1, 4], [2, 5], [3, 6], [7, 8]]);
  assert.deepEqual(cat([a, a], -1).toList(), [[1, 4, 1, 4], [2, 5, 2, 5], [3, 6, 3, 6]]);
  assert.deepEqual(stack([a, a], 2).shape, [3, 2, 2]);
  const i = tensor(new Int32Array([1, 2]), [2], { dtype: "int32" });
  const j = cat([i, i]);
  assert.equal(j.dtype, "int32");
  assert.deepEqual([...j.toArray()], [1, 2, 1, 2]);
  assert.deepEqual(stack([i, i], 1).toList(), [[1, 1], [2, 2]]);
  // The same tensor twice gets both slices' gradients.
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  cat([x, x]).mul(tensor([1, 2, 3, 4])).sum().backward();
  assert.deepEqual([...x.grad!.toArray()], [4, 6]);
});

Deno.test("cat leaves out 1-D empty tensors, as torch: the tutorial's accumulator", () => {
  let acc = tensor([]);
  for (let step = 0; step < 2; step++) acc = cat([acc, ones([2, 3])], 0);
  assert.deepEqual(acc.shape, [4, 3]);
  assert.deepEqual(cat([tensor([]), tensor([])]).shape, [0]);
  // Only 1-D empty ones: an empty [0, 3] still needs the others' number of dimensions.
  assert.throws(() => cat([zeros([0, 3]), zeros([2])]), /same shape except/);
});

Deno.test("cat and stack: errors name the shapes and dtypes and say what to write", () => {
  const a = zeros([2, 3]), b = zeros([2, 4]);
  assert.throws(() => cat([a, b], 0), /cat: .*same shape except in dimension 0.*\[2,3\].*\[2,4\]/);
  assert.throws(() => cat([a, zeros([2])], 1), /cat: .*\[2,3\].*\[2\]/);
  assert.throws(() => cat([a, b], 2), /cat: dimension 2 is out of range for 2 dimensions/);
  assert.throws(() => cat([]), /cat: expected a non-empty array/);
  assert.throws(
    () => cat(a as unknown as Tensor[]),
    /cat: expected an array of tensors, got a Tensor \[2,3\]; write cat\(\[a, b\], 0\)/,
  );
  assert.throws(() => cat([a, 1 as unknown as Tensor]), /cat: element 1 is number/);
  assert.throws(() => cat([zeros([]), zeros([])]), /0-d tensors cannot be concatenated; use stack/);
  const i = tensor(new Int32Array([1, 2, 3]), [1, 3], { dtype: "int32" });
  assert.throws(
    () => cat([a, i]),
    /different dtypes \(\[2,3\] float32, \[1,3\] int32\).*\.float\(\)/,
  );
  assert.throws(
    () => stack([a, b]),
    /stack: tensors must all have the same shape, got \[2,3\] float32, \[2,4\]/,
  );
  assert.throws(() => stack([a, a], 3), /stack: dimension 3 is out of range for 3 dimensions/);
  assert.doesNotThrow(() => stack([a, a], -3));
});

const WHERE: ((xs: Tensor[]) => Tensor)[] = [
  ([x]) => where(x.gt(0), x.log(), 0),
  ([x]) => where(x.gt(0), x.sqrt(), x.mul(x)),
  ([c, a, b]) => where(c, a, b),
  ([c, b]) => where(c, 1.5, b),
  ([c, a]) => where(c, a, -2),
  ([c, a, b]) => where(c, a, b),
];

Deno.test("where matches torch.where: broadcasting, numbers, no NaN from the unchosen branch", () => {
  assert.equal(fx.where.length, WHERE.length);
  fx.where.forEach((c, i) => check(c, WHERE[i]));
});

Deno.test("where: int32 masks, the method form, and clear errors", () => {
  const m = tensor(new Int32Array([1, 0, 5]), [3], { dtype: "int32" });
  assert.deepEqual([...where(m, tensor([1, 2, 3]), -1).toArray()], [1, -1, 3]);
  assert.deepEqual([...tensor([1, 2, 3]).where(m, 0).toArray()], [1, 0, 3]);
  assert.deepEqual([...where(m, 7, 8).toArray()], [7, 8, 7]);
  const i = tensor(new Int32Array([1, 2, 3]), [3], { dtype: "int32" });
  // int32 branches stay int32 (torch keeps int64); beside float32 they promote.
  const ii = where(m, i, 0);
  assert.deepEqual([ii.dtype, ii.toList()], ["int32", [1, 0, 3]]);
  assert.deepEqual([...where(m, i, tensor([0.5])).toArray()], [1, 0.5, 3]);
  assert.throws(() => where(m, zeros([2]), 0), /where: shapes \[3\] and \[2\] cannot be broadcast/);
  assert.throws(
    () => where(true as unknown as Tensor, 1, 0),
    /where: cond: expected a Tensor, got boolean/,
  );
  assert.throws(
    () => where(m, "1" as unknown as number, 0),
    /where: a: expected a Tensor, got string/,
  );
});

Deno.test("where: strided and broadcast layouts against a plain loop", () => {
  // Every combination of a broadcast, transposed or dense operand over [4, 3, 5].
  const full = [4, 3, 5];
  const at = (shape: number[], idx: number[]) =>
    shape.reduce((o, s, d) => o * s + (s === 1 ? 0 : idx[d + idx.length - shape.length]), 0);
  const layouts: ((v: number[]) => [Tensor, number[]])[] = [
    (v) => [tensor(v.slice(0, 60), full), full],
    (v) => [tensor(v.slice(0, 60), [5, 3, 4]).permute(2, 1, 0), [-1]], // strided
    (v) => [tensor(v.slice(0, 3), [3, 1]), [3, 1]],
    (v) => [tensor(v.slice(0, 20), [4, 1, 5]), [4, 1, 5]],
    (v) => [tensor(v.slice(0, 1), []), []],
  ];
  const vals = Array.from({ length: 60 }, (_, i) => ((i * 37) % 11) - 5);
  for (const lc of layouts) {
    for (const la of layouts) {
      for (const lb of layouts) {
        const [c, cs] = lc(vals.map((v) => (v > 0 ? 1 : 0)));
        const [a, as] = la(vals.map((v) => v + 100));
        const [b, bs] = lb(vals.map((v) => v - 100));
        const cv = c.contiguous().toArray(), av = a.contiguous().toArray();
        const bv = b.contiguous().toArray();
        const got = where(c, a, b);
        const n = Math.max(c.ndim, a.ndim, b.ndim);
        const want = Array.from(
          { length: n },
          (_, d) =>
            Math.max(...[c, a, b].map((t) => t.ndim - n + d >= 0 ? t.shape[t.ndim - n + d] : 1)),
        );
        assert.deepEqual(got.shape, want);
        if (got.numel() !== 60) continue;
        const out = got.toArray();
        for (let i = 0; i < 60; i++) {
          const idx = [Math.floor(i / 15), Math.floor(i / 5) % 3, i % 5];
          const pick = (x: Float32Array | Int32Array, s: number[]) =>
            x[s[0] === -1 ? i : at(s, idx)];
          const want = pick(cv, cs) !== 0 ? pick(av, as) : pick(bv, bs);
          assert.equal(out[i], want, `layouts ${cs} ${as} ${bs}, element ${i}`);
        }
      }
    }
  }
});

Deno.test("comparisons match torch (tensor, number and NaN operands) and never require grad", () => {
  const fns = { gt, lt, ge, le, eq, ne };
  for (const c of fx.compare) {
    const a = make(c.a, true);
    const b = typeof c.b === "object" ? make(c.b) : num(c.b);
    const what = `${c.op}(a, ${typeof c.b === "object" ? `[${c.b.shape}]` : c.b})`;
    for (const out of [fns[c.op](a, b), a[c.op](b)]) {
      assertMatches(out, c.out, what, 0, 0);
      assert.equal(out.dtype, "float32");
      assert.equal(out.requiresGrad, false, `${what} requires grad`);
    }
  }
  const i = tensor(new Int32Array([1, 2, 3]), [3], { dtype: "int32" });
  assert.deepEqual([...ge(i, 2).toArray()], [0, 1, 1]);
  assert.throws(
    () => gt(2 as unknown as Tensor, i),
    /gt: the first argument: expected a Tensor, got number; write gt\(x, 0\)/,
  );
  assert.throws(
    () => le(i, "2" as unknown as number),
    /le: the second argument: expected a Tensor, got string/,
  );
});

Deno.test("clamp matches torch.clamp at and beyond the bounds, NaN included", () => {
  for (const c of fx.clamp) {
    check(c, ([x]) => clamp(x, c.min, c.max));
    check(c, ([x]) => x.clamp(c.min, c.max));
  }
  assert.deepEqual([...clampMin(tensor([-1, 2]), 0).toArray()], [0, 2]);
  assert.deepEqual([...tensor([-1, 2]).clampMax(1).toArray()], [-1, 1]);
  assert.deepEqual([...clampMax(tensor([-1, 2]), 1).toArray()], [-1, 1]);
  assert.deepEqual([...tensor([-1, 2]).clampMin(0).toArray()], [0, 2]);
  const x = tensor([1]);
  assert.throws(() => clamp(x), /at least one of min and max must be given/);
  assert.throws(() => x.clamp(null, null), /at least one of min and max/);
  assert.throws(
    () => x.clamp({ min: 0 } as unknown as number),
    /clamp: min must be a number.*got object/,
  );
  assert.throws(() => clamp(x, zeros([1]) as unknown as number), /got a Tensor \[1\]/);
  assert.throws(
    () => clampMin(x, undefined as unknown as number),
    /clampMin: min must be a number/,
  );
  // Integer clamp stays integer, as torch's.
  const ci = clamp(tensor(new Int32Array([1]), [1], { dtype: "int32" }), 0);
  assert.equal(ci.dtype, "int32");
  assert.deepEqual([...ci.toArray()], [1]);
});

const POW: ((xs: Tensor[]) => Tensor)[] = [
  ([x, y]) => pow(x, y),
  ([x, y]) => x.pow(y),
  ([y]) => pow(2, y),
  ([y]) => pow(0, y),
  ([x]) => pow(x, 2.5),
  ([x]) => pow(x, 0),
];

Deno.test("pow with tensor and number exponents and bases matches torch.pow", () => {
  assert.equal(fx.pow.length, POW.length);
  fx.pow.forEach((c, i) => check(c, POW[i], 2e-5));
  check(fx.abs[0], ([x]) => abs(x));
  check(fx.sqrt[0], ([x]) => sqrt(x));
  assert.throws(
    () => pow(2 as unknown as Tensor, 3),
    /pow: the exponent .*expected a Tensor, got number/,
  );
  assert.throws(
    () => pow(zeros([2]), zeros([3])),
    /pow: shapes \[2\] and \[3\] cannot be broadcast/,
  );
});

Deno.test("numel() counts elements", () => {
  assert.equal(zeros([2, 3, 4]).numel(), 24);
  assert.equal(zeros([]).numel(), 1);
  assert.equal(zeros([0, 3]).numel(), 0);
});

Deno.test("the new ops free their temporaries", () => {
  const x = tensor([[-1, 0.5], [2, 3]], undefined, { requiresGrad: true });
  const before = memoryStats().bytesInUse;
  noGrad(() => {
    cat([x, x], 1);
    stack([x, x], 1);
    where(x.gt(0), x.log(), 0);
    x.clamp(0, 1);
    pow(x, x);
    x.ne(0);
  });
  assert.equal(memoryStats().bytesInUse, before);
});

// ---- printing ------------------------------------------------------------------

Deno.test("number formatting rounds half to even on the exact value, as Python", () => {
  assert.equal(formatFixed(0.03125, 4), "0.0312");
  assert.equal(formatFixed(0.15625, 4), "0.1562");
  assert.equal(formatFixed(2.5, 0), "2");
  assert.equal(formatFixed(-0, 4), "-0.0000");
  assert.equal(formatFixed(0.1, 20), "0.10000000000000000555");
  assert.equal(formatSci(12345.678, 4), "1.2346e+04");
  assert.equal(formatSci(1e-5, 4), "1.0000e-05");
  assert.equal(formatSci(9.99995e100, 4), "1.0000e+101");
  assert.equal(formatSci(0, 4), "0.0000e+00");
  assert.equal(formatSci(Math.fround(1e-40), 4), "9.9999e-41");
  assert.equal(formatSci(NaN, 4), "nan");
});

Deno.test("the values part of the printout equals torch's, elided above 1000 elements", () => {
  for (const c of fx.repr) {
    const values = c.data.map(num);
    assert.equal(formatValues(values, c.shape, c.dtype, 7), c.body, c.name);
    const t = c.dtype === "int32"
      ? tensor(Int32Array.from(values), c.shape, { dtype: "int32" })
      : tensor(Float32Array.from(values), c.shape);
    const text = Deno.inspect(t);
    assert.ok(text.startsWith(`tensor(${c.body},`), `${c.name}: ${text}`);
    assert.match(text, new RegExp(`dtype=${c.dtype},\\s+device=cpu\\)$`), c.name);
    assert.equal(String(t), text);
  }
});

Deno.test("console.log(t) shows shape, dtype, device and autograd state; a freed tensor says so", () => {
  const x = tensor([[1, 2.5], [3, 4]], undefined, { requiresGrad: true });
  assert.equal(
    Deno.inspect(x),
    "tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]], shape=[2, 2], dtype=float32, device=cpu,\n" +
      "       requiresGrad=true)",
  );
  assert.equal(
    Deno.inspect(x.mul(x)),
    "tensor([[ 1.0000,  6.2500],\n        [ 9.0000, 16.0000]], shape=[2, 2], dtype=float32, device=cpu,\n" +
      "       gradFn=<mul>)",
  );
  assert.equal(Deno.inspect(tensor(3.5)), "tensor(3.5000, shape=[], dtype=float32, device=cpu)");
  assert.equal(Deno.inspect(zeros([0, 3])), "tensor([], shape=[0, 3], dtype=float32, device=cpu)");
  const big = Deno.inspect(zeros([2000]));
  assert.equal(
    big,
    "tensor([0., 0., 0.,  ..., 0., 0., 0.], shape=[2000], dtype=float32, device=cpu)",
  );
  const y = tensor([1, 2]);
  y.dispose();
  assert.equal(Deno.inspect(y), "tensor(<disposed>, shape=[2], dtype=float32, device=cpu)");
  assert.equal(
    Deno.inspect({ y }),
    "{ y: tensor(<disposed>, shape=[2], dtype=float32, device=cpu) }",
  );
});

Deno.test({
  name: "a CUDA tensor prints its values (copied to the host)",
  ignore: !cudaAvailable(),
  fn() {
    const t = tensor([1.5, -2], undefined, { device: "cuda" });
    assert.equal(
      Deno.inspect(t),
      "tensor([ 1.5000, -2.0000], shape=[2], dtype=float32, device=cuda)",
    );
  },
});

Deno.test("reductions of a 0-d tensor along dim 0 or -1 are the identity, as torch's", () => {
  using s = tensor(3);
  for (const d of [0, -1]) {
    assert.equal(s.sum(d).item(), 3);
    assert.equal(s.mean(d).item(), 3);
    assert.equal(s.max(d).item(), 3);
    assert.equal(s.min([d]).item(), 3);
    assert.equal(s.argmax(d).item(), 0);
  }
  assert.throws(() => s.sum(1), /dimension 1 is out of range for a 0-d tensor/);
});

Deno.test("x.max() over everything gives a NaN result's gradient to the NaN elements, as torch.max(x)", () => {
  using x = tensor([1, NaN, 3], undefined, { requiresGrad: true });
  x.max().backward();
  assert.deepEqual(Array.from(x.grad!.toArray()), [0, 1, 0]);
  using y = tensor([2, NaN, NaN], undefined, { requiresGrad: true });
  y.min().backward();
  assert.deepEqual(Array.from(y.grad!.toArray()), [0, 0.5, 0.5]);
});

Deno.test("slice follows Python's x[start:end]: negative indices and clamping", () => {
  using v = tensor([1, 2, 3, 4]);
  assert.deepEqual(Array.from(v.slice(-2).toArray()), [3, 4]);
  assert.deepEqual(Array.from(v.slice(0, -1).toArray()), [1, 2, 3]);
  assert.deepEqual(Array.from(v.slice(1, 10).toArray()), [2, 3, 4]);
  assert.deepEqual(v.slice(3, 1).shape, [0]);
});

Deno.test("keepDim is positional: an options object throws instead of keeping the dimension", () => {
  using x = tensor([[1, 2], [3, 4]]);
  const loose = (f: (d: number, k: never) => unknown) => () => f(1, { keepdim: false } as never);
  for (const name of ["sum", "mean", "max", "min", "argmax"] as const) {
    assert.throws(loose((d, k) => x[name](d, k)), /keepDim is the second argument, true or false/);
  }
  assert.deepEqual(x.sum(1, true).shape, [2, 1]);
});
