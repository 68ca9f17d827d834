/**
 * The tensor-op gaps the op_docs audit found, against PyTorch 1.13's numbers
 * (tests/fixtures/op_gaps.json, written by scripts/make_op_gaps_fixtures.py):
 * int32 labels through where / maskedFill / cumsum / roll / flip; the
 * function forms split, chunk, narrow, unbind; trace, fillDiagonal_,
 * nanmedian, unsqueeze_ / squeeze_; scatterReduce, scatter's reduce option
 * and indexCopy, with their gradients; and unique's order of NaN.
 */
import assert from "node:assert/strict";
import * as L from "../mod.ts";
import { type Tensor, tensor } from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  storedNumber,
  type StoredRecord,
} from "./helpers.ts";

type S = StoredRecord;
// deno-lint-ignore no-explicit-any
const fx = loadFixture<Record<string, any>>("op_gaps.json");
const leaf = (s: S) => fromStored(s, { requiresGrad: true });
const arg = (v: S | number) => (typeof v === "number" ? v : fromStored(v));
const dtypeOf = (s: S) => s.dtype ?? "float32";
/** Values, shape and dtype as torch's (int64 as int32). */
function assertSame(t: Tensor, want: S, what: string, rtol = 1e-5, atol = 1e-6): void {
  assert.equal(t.dtype, dtypeOf(want), `${what}: dtype`);
  assertStored(t, want, what, rtol, atol);
}
/** sum(out * G) backward from a stored G. */
const backward = (out: Tensor, g: S) => out.mul(fromStored(g)).sum().backward();
const i32 = (values: number[], shape = [values.length]) => tensor(new Int32Array(values), shape);

Deno.test("op_gaps: where on int32 labels stays int32; beside float32 it promotes, with gradient", () => {
  for (const c of fx.where) {
    const ab = [c.a, c.b].map((v: S | number) =>
      typeof v === "number" ? v : fromStored(v, { requiresGrad: dtypeOf(v) === "float32" })
    );
    const out = L.where(fromStored(c.cond), ab[0], ab[1]);
    assertSame(out, c.out, c.name);
    if (c.g) {
      backward(out, c.g);
      const tensors = ab.filter((v): v is Tensor => typeof v !== "number");
      tensors.forEach((t, i) => {
        if (c.grads[i]) assertStored(t.grad, c.grads[i], `${c.name} grad ${i}`);
      });
    }
  }
  // A value int32 cannot hold beside int32 labels: an Error, not a wrap-around.
  const y = i32([1, 2]);
  assert.match(messageOf(() => L.where(y.eq(1), 2 ** 40, y)), /beyond int32.*\.float\(\)/);
});

Deno.test("op_gaps: maskedFill on int32 labels (ignore index 255) stays int32", () => {
  for (const c of fx.masked_fill) {
    const out = fromStored(c.x).maskedFill(fromStored(c.mask), arg(c.value));
    assertSame(out, c.out, c.name);
  }
  // torch truncates 2.7 into int64 silently; here an Error that says what to write.
  const y = i32([0, 2, 1]);
  assert.match(messageOf(() => y.maskedFill(y.eq(2), 2.7)), /not an integer.*x\.float\(\)/);
  // A float32 x with an int32 0-d value keeps x's dtype, as torch's.
  assert.deepEqual(L.tensor([1, 2]).maskedFill(L.tensor([1, 0]), i32([7], [])).toList(), [7, 2]);
});

Deno.test("op_gaps: cumsum, roll and flip of int32 are exact int32", () => {
  for (const c of fx.cumsum) assertSame(L.cumsum(fromStored(c.x), c.dim), c.out, `cumsum ${c.dim}`);
  for (const c of fx.roll) {
    const out = c.dims === null
      ? L.roll(fromStored(c.x), c.shifts)
      : L.roll(fromStored(c.x), c.shifts, c.dims);
    assertSame(out, c.out, `roll ${c.shifts} ${c.dims}`);
  }
  for (const c of fx.flip) assertSame(L.flip(fromStored(c.x), c.dims), c.out, `flip ${c.dims}`);
  // Beyond float32's 2^24 the sums stay exact; beyond int32 they are an Error.
  assert.deepEqual(L.cumsum(i32([16777217, 1]), 0).toList(), [16777217, 16777218]);
  assert.match(messageOf(() => L.cumsum(i32([2 ** 30, 2 ** 30]), 0)), /beyond int32/);
  // A strided int32 view rolls its own elements.
  const m = i32([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual(L.roll(m.t(), 1, 0).toList(), [[3, 6], [1, 4], [2, 5]]);
});

Deno.test("op_gaps: split, chunk, narrow, unbind as functions, as torch's", () => {
  for (const c of fx.split) {
    const parts = L.split(fromStored(c.x), c.arg, c.dim);
    assert.equal(parts.length, c.out.length);
    parts.forEach((p, i) => assertSame(p, c.out[i], `split ${c.arg} ${c.dim} [${i}]`));
  }
  for (const c of fx.chunk) {
    const parts = L.chunk(fromStored(c.x), c.chunks, c.dim);
    assert.equal(parts.length, c.out.length);
    parts.forEach((p, i) => assertSame(p, c.out[i], `chunk ${c.chunks} ${c.dim} [${i}]`));
  }
  for (const c of fx.narrow) {
    const x = leaf(c.x);
    const out = L.narrow(x, c.dim, c.start, c.length);
    assertSame(out, c.out, `narrow ${c.dim} ${c.start} ${c.length}`);
    backward(out, c.g);
    assertStored(x.grad, c.grad, "narrow grad");
  }
  for (const c of fx.unbind) {
    const parts = L.unbind(fromStored(c.x), c.dim);
    parts.forEach((p, i) => assertSame(p, c.out[i], `unbind ${c.dim} [${i}]`));
  }
  // The pieces are views: a write reaches x.
  const x = L.zeros([2, 2]);
  L.unbind(x)[1].fill_(3);
  assert.deepEqual(x.toList(), [[0, 0], [3, 3]]);
});

Deno.test("op_gaps: trace (gradient on the diagonal) and fillDiagonal_ with wrap", () => {
  for (const c of fx.trace) {
    const x = fromStored(c.x, { requiresGrad: dtypeOf(c.x) === "float32" });
    const out = L.trace(x);
    assertSame(out, c.out, `trace [${c.x.shape}]`, 1e-5, 1e-5);
    if (c.g) {
      backward(out, c.g);
      assertStored(x.grad, c.grad, "trace grad");
    }
  }
  assert.match(messageOf(() => L.zeros([2, 2, 2]).trace()), /expected a matrix.*diagonal/);
  for (const c of fx.fill_diagonal) {
    const x = fromStored(c.x);
    const value = storedNumber(c.value);
    assert.equal(x.fillDiagonal_(value, { wrap: c.wrap }), x);
    assertSame(x, c.out, `fillDiagonal_ [${c.x.shape}] wrap ${c.wrap}`);
    const y = fromStored(c.x);
    y.fillDiagonal_(value, c.wrap); // torch's positional wrap
    assertSame(y, c.out, "positional wrap");
  }
  // Through a view: the transposed view's diagonal is x's.
  const m = L.zeros([2, 3]);
  m.t().fillDiagonal_(1);
  assert.deepEqual(m.toList(), [[1, 0, 0], [0, 1, 0]]);
  assert.match(messageOf(() => L.zeros([2, 3, 2]).fillDiagonal_(1)), /all must be of one size/);
  const w = L.ones([2, 2], { requiresGrad: true }).mul(2);
  assert.match(messageOf(() => w.fillDiagonal_(0)), /noGrad.*maskedFill\(eye\(2, 2\), value\)/);
  L.noGrad(() => L.ones([2, 2], { requiresGrad: true }).fillDiagonal_(0));
});

Deno.test("op_gaps: nanmedian ignores NaN, with its indices and gradient", () => {
  for (const c of fx.nanmedian) {
    const x = leaf(c.x);
    const what = `nanmedian dim ${c.dim} keepDim ${c.keepdim}`;
    if (c.dim === null) {
      const out = L.nanmedian(x);
      assertSame(out, c.values, what);
      backward(out, c.g);
      assertStored(x.grad, c.grad, `${what} grad`);
      continue;
    }
    const { values, indices } = x.nanmedian(c.dim, c.keepdim);
    assertSame(values, c.values, what);
    // A slice of NaN only: torch's index is wherever its partial sort leaves it, ours the first NaN.
    const want = fromStored(c.indices).toArray(), got = indices.toArray();
    const v = values.toArray();
    want.forEach((w, i) => {
      if (!Number.isNaN(v[i])) assert.equal(got[i], w, `${what} index ${i}`);
    });
    if (c.dim === 1) {
      backward(values, c.g); // row 1 is all NaN: its gradient goes to its first NaN, not torch's
      const g = x.grad!.toArray(), e = fromStored(c.grad).toArray();
      for (let k = 0; k < e.length; k++) if (Math.floor(k / 5) !== 1) assert.equal(g[k], e[k]);
    }
  }
  assert.deepEqual(L.nanmedian(tensor([NaN, NaN]), 0).indices.toList(), 0);
});

Deno.test("op_gaps: unsqueeze_ and squeeze_ change the tensor itself, outside the graph", () => {
  for (const c of fx.shape_in_place) {
    const x = L.zeros(c.shape);
    const out = c.op === "unsqueeze_" ? x.unsqueeze_(c.dim) : x.squeeze_(c.dim ?? undefined);
    assert.equal(out, x);
    assert.deepEqual([...x.shape], c.out, `${c.op}(${c.dim}) of [${c.shape}]`);
    assert.equal(x.version, c.version);
  }
  // A view of a strided tensor keeps its elements; the base keeps its shape.
  const base = L.arange(6).reshape([2, 3]);
  const col = base.select(1, 1);
  col.unsqueeze_(1);
  assert.deepEqual(col.toList(), [[1], [4]]);
  assert.deepEqual([...base.shape], [2, 3]);
  // A graph that saved x refuses the old shape, as torch's version check.
  const w = L.ones([3], { requiresGrad: true });
  const x = L.ones([3]);
  const loss = w.mul(x).sum();
  x.unsqueeze_(0);
  assert.match(messageOf(() => loss.backward()), /modified by an inplace operation|version/);
  // In the graph: an Error that says what to write.
  assert.match(messageOf(() => w.unsqueeze_(0)), /x = x\.unsqueeze\(0\)/);
  assert.match(messageOf(() => w.mul(2).squeeze_()), /x = x\.squeeze\(\)/);
});

Deno.test("op_gaps: scatterReduce with every reduction and includeSelf, with gradients", () => {
  for (const c of fx.scatter_reduce) {
    const isFloat = dtypeOf(c.x) === "float32";
    const x = fromStored(c.x, { requiresGrad: isFloat });
    const src = fromStored(c.src, { requiresGrad: isFloat });
    const out = x.scatterReduce(c.dim, fromStored(c.index), src, c.reduce, {
      includeSelf: c.include_self,
    });
    assertSame(out, c.out, c.name);
    if (c.g) {
      backward(out, c.g);
      assertStored(x.grad, c.grads[0], `${c.name} grad x`, 1e-5, 1e-6);
      assertStored(src.grad, c.grads[1], `${c.name} grad src`, 1e-5, 1e-6);
    }
  }
  const x = L.zeros([3]);
  assert.match(
    messageOf(() => L.scatterReduce(x, 0, i32([0]), L.ones([1]), "max" as "amax")),
    /"sum", "prod", "mean", "amax", "amin"/,
  );
  // In place, inside noGrad where autograd records.
  const y = L.tensor([1, 2, 3]);
  y.scatterReduce_(0, i32([0, 0]), L.tensor([5, 7]), "amax", { includeSelf: false });
  assert.deepEqual(y.toList(), [7, 2, 3]);
});

Deno.test("op_gaps: scatter with reduce 'add' / 'multiply' as torch's (no gradient, as 1.13's)", () => {
  for (const c of fx.scatter_reduce_option) {
    const out = fromStored(c.x).scatter(c.dim, fromStored(c.index), arg(c.src), {
      reduce: c.reduce,
    });
    assertSame(out, c.out, `scatter reduce ${c.reduce} src ${JSON.stringify(c.src).slice(0, 20)}`);
    const z = fromStored(c.x);
    z.scatter_(c.dim, fromStored(c.index), arg(c.src), { reduce: c.reduce });
    assertSame(z, c.out, `scatter_ reduce ${c.reduce}`);
  }
  const x = L.ones([3], { requiresGrad: true });
  const out = x.scatter(0, i32([0]), 2, { reduce: "multiply" });
  assert.match(
    messageOf(() => out.sum().backward()),
    /scatterReduce\(x, dim, index, src, "prod"\)/,
  );
  assert.match(
    messageOf(() => L.zeros([3]).scatter(0, i32([0]), 1, { reduce: "mean" })),
    /"add" or "multiply".*scatterReduce/,
  );
});

Deno.test("op_gaps: indexCopy and indexCopy_, with gradients", () => {
  for (const c of fx.index_copy) {
    const isFloat = dtypeOf(c.x) === "float32";
    const x = fromStored(c.x, { requiresGrad: isFloat });
    const source = fromStored(c.source, { requiresGrad: isFloat });
    const out = L.indexCopy(x, c.dim, fromStored(c.index), source);
    assertSame(out, c.out, `indexCopy [${c.x.shape}] dim ${c.dim}`);
    if (c.g) {
      backward(out, c.g);
      assertStored(x.grad, c.grads[0], "indexCopy grad x");
      assertStored(source.grad, c.grads[1], "indexCopy grad source");
    }
    const z = fromStored(c.x);
    z.indexCopy_(c.dim, fromStored(c.index), fromStored(c.source));
    assertSame(z, c.out, "indexCopy_");
  }
  assert.match(
    messageOf(() => L.indexCopy(L.zeros([3]), 0, i32([3]), L.ones([1]))),
    /out of bounds for dimension 0 with size 3/,
  );
});

Deno.test("op_gaps: unique puts NaN after the numbers, each its own (torch 1.13's kernel misplaces it)", () => {
  const c = fx.unique_nan_torch113;
  const [values, inverse, counts] = L.unique(fromStored(c.x), {
    returnInverse: true,
    returnCounts: true,
  });
  // torch 1.13: values [1, 2, NaN, NaN, 3], inverse [4, 0, 0, 0, 1, 0], counts [2, 1, 0, 0, 1]:
  // 3 maps to index 4 and NaN occurs "0 times". The library keeps torch 2's order.
  assert.deepEqual(
    [...fromStored(c.values).toArray()].map(String),
    ["1", "2", "NaN", "NaN", "3"],
  );
  assert.deepEqual([...values.toArray()].map(String), ["1", "2", "3", "NaN", "NaN"]);
  assert.deepEqual(inverse.toList(), [2, 3, 0, 4, 1, 0]);
  assert.deepEqual(counts.toList(), [2, 1, 1, 1, 1]);
  // sorted: false gives the same (torch leaves that order unspecified).
  const unsorted = L.unique(fromStored(c.x), { sorted: false }) as Tensor;
  assert.deepEqual([...unsorted.toArray()].map(String), ["1", "2", "3", "NaN", "NaN"]);
});
