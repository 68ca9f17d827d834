/**
 * torch's tensor-function documentation examples, ported as a user would
 * write them, for the forms the op_docs audit found wrong or missing:
 * `diagonal` as a view, `div`'s rounding modes, `round`'s decimals, `mode`,
 * `einsum` with diagonals, three operands and a list, `searchsorted`,
 * `bucketize`, and `quantile` with a tensor q, against PyTorch 1.13's
 * numbers (tests/fixtures/op_docs.json, written by
 * scripts/make_op_docs_fixtures.py); then torch's keyword spellings, each an
 * Error that names ours.
 */
import assert from "node:assert/strict";
import * as L from "../mod.ts";
import { type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, messageOf, type StoredRecord } from "./helpers.ts";

type S = StoredRecord;
// deno-lint-ignore no-explicit-any
const fx = loadFixture<Record<string, any[]>>("op_docs.json");
const leaf = (s: S) => fromStored(s, { requiresGrad: true });
/** Bit-exact float32 (the fixtures' 9 digits round-trip exactly), NaN where torch has it. */
function assertExact(t: Tensor, want: S, what: string): void {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  const got = t.toArray(), exp = fromStored(want).toArray();
  exp.forEach((e, i) =>
    assert.ok(Object.is(got[i], e) || got[i] === e, `${what}[${i}]: ${got[i]} vs ${e}`)
  );
}
/** sum(out * G) backward from a stored G. */
const backward = (out: Tensor, g: S) => out.mul(fromStored(g)).sum().backward();

Deno.test("op_docs: diagonal is a view, as torch's: a write reaches x; values and gradient", () => {
  for (const c of fx.diagonal) {
    const what = `diagonal offset ${c.offset} dims ${c.dim1},${c.dim2}`;
    const x = leaf(c.x);
    const out = L.diagonal(x, c.offset, c.dim1, c.dim2);
    assertStored(out, c.out, what);
    backward(out, c.g);
    assertStored(x.grad, c.grad, `${what} grad`);
    const y = fromStored(c.x);
    y.diagonal(c.offset, c.dim1, c.dim2).fill_(7.5);
    assertStored(y, c.written, `${what} written through`);
  }
  // torch's diag of a matrix is a copy: a write into it leaves x alone.
  const m = L.zeros([3, 3]);
  m.diag().fill_(1);
  assert.equal(m.sum().item(), 0);
  // The idiom that was silently lost: masking a similarity matrix's diagonal.
  const sim = L.ones([3, 3]);
  sim.diagonal().fill_(-Infinity);
  assert.deepEqual(sim.toList(), [[-Infinity, 1, 1], [1, -Infinity, 1], [1, 1, -Infinity]]);
});

Deno.test("op_docs: div's roundingMode is torch's rounding_mode (int32 stays, zero gradient)", () => {
  for (const c of fx.div) {
    const x = fromStored(c.x, { requiresGrad: c.x.dtype !== "int32" });
    const y = typeof c.y === "number"
      ? c.y
      : fromStored(c.y, { requiresGrad: c.y.dtype !== "int32" });
    const out = L.div(x, y, { roundingMode: c.mode });
    assertStored(out, c.out, c.name);
    assert.equal(out.dtype, c.out.dtype === "int32" ? "int32" : "float32", `${c.name} dtype`);
    // The method and the in-place form agree.
    assertStored(x.detach().div(y, { roundingMode: c.mode }), c.out, `${c.name} method`);
    if (c.grad_sum !== undefined) {
      out.sum().backward();
      for (const t of [x, y]) {
        if (typeof t !== "number" && t.requiresGrad) {
          assert.deepEqual([...t.grad!.toArray()].map(Math.abs), new Array(t.numel()).fill(0));
        }
      }
    }
  }
  const x = tensor([7, -7], { dtype: "int32" });
  x.div_(2, { roundingMode: "floor" });
  assert.deepEqual(x.toList(), [3, -4]);
  assert.deepEqual(L.div(tensor([1, 2]), 2, { roundingMode: null }).toList(), [0.5, 1]);
  assert.match(
    messageOf(() => L.div(tensor([1], { dtype: "int32" }), 0, { roundingMode: "trunc" })),
    /integer division by zero/,
  );
});

Deno.test("op_docs: round's decimals match torch's float32 rounding", () => {
  for (const c of fx.round) {
    const x = fromStored(c.x);
    assertExact(L.round(x, { decimals: c.decimals }), c.out, `round decimals ${c.decimals}`);
    assertExact(x.round({ decimals: c.decimals }), c.out, `x.round decimals ${c.decimals}`);
  }
});

Deno.test("op_docs: mode gives torch's value and index, and its gradient", () => {
  for (const c of fx.mode) {
    const what = `mode [${c.x.shape}] dim ${c.dim}`;
    const x = c.x.dtype === "int32" ? fromStored(c.x) : leaf(c.x);
    const { values, indices } = L.mode(x, c.dim, c.keepdim);
    assertStored(values, c.values, what, 0, 0);
    assertStored(indices, c.indices, `${what} indices`, 0, 0);
    assert.equal(values.dtype, x.dtype);
    if (c.grad) {
      backward(values, c.g);
      assertStored(x.grad, c.grad, `${what} grad`);
    }
    assertStored(x.detach().mode(c.dim, c.keepdim).values, c.values, `${what} method`, 0, 0);
  }
  const [v, i] = L.mode(tensor(5));
  assert.deepEqual([v.item(), i.item()], [5, 0]);
  assert.match(messageOf(() => L.mode(L.ones([2, 0]), 1)), /dimension 1 of \[2,0\] is empty/);
});

Deno.test("op_docs: einsum takes diagonals ('ii'), three operands and the list form", () => {
  for (const c of fx.einsum) {
    const xs = (c.inputs as S[]).map(leaf);
    const out = c.eq === "i,i,i" ? L.einsum(c.eq, xs) : L.einsum(c.eq, ...xs);
    assertStored(out, c.out, `einsum ${c.eq}`, 1e-5, 1e-5);
    backward(out, c.g);
    xs.forEach((x, k) => assertStored(x.grad, c.grads[k], `einsum ${c.eq} grad ${k}`, 1e-5, 1e-5));
  }
});

Deno.test("op_docs: searchsorted and bucketize as torch's, NaN past the end", () => {
  for (const c of fx.searchsorted) {
    const out = L.searchsorted(fromStored(c.seq), fromStored(c.values), { right: c.right });
    assertStored(out, c.out, `searchsorted ${c.name} right ${c.right}`, 0, 0);
    const side = L.searchsorted(fromStored(c.seq), fromStored(c.values), {
      side: c.right ? "right" : "left",
    });
    assertStored(side, c.out, `searchsorted ${c.name} side`, 0, 0);
  }
  for (const c of fx.bucketize) {
    const out = L.bucketize(fromStored(c.x), fromStored(c.boundaries), { right: c.right });
    assertStored(out, c.out, `bucketize right ${c.right}`, 0, 0);
  }
  assert.equal(L.searchsorted(tensor([1, 3, 5]), 4).item(), 2);
  assert.match(
    messageOf(() => L.searchsorted(tensor([1, 2]), tensor([1]), { side: "left", right: true })),
    /contradict/,
  );
  assert.match(
    messageOf(() => L.bucketize(tensor([1]), tensor([[1, 2]]))),
    /boundaries must be 1-D/,
  );
});

Deno.test("op_docs: quantile takes torch's tensor q", () => {
  for (const c of fx.quantile) {
    const q = fromStored(c.q);
    const out = c.dim === null
      ? L.quantile(fromStored(c.x), q)
      : L.quantile(fromStored(c.x), q, { dim: c.dim });
    assertStored(out, c.out, `quantile q [${c.q.shape}]`);
  }
});

Deno.test("op_docs: torch's keyword spellings are Errors that name ours", () => {
  const x = tensor([[1, 5, 2], [7, 0, 3]]);
  const loose = L as unknown as Record<string, (...a: unknown[]) => unknown>;
  const method = x as unknown as Record<string, (...a: unknown[]) => unknown>;
  const cases: [() => unknown, RegExp][] = [
    [() => loose.div(x, 2, { rounding_mode: "floor" }), /'roundingMode'/],
    [() => method.div.call(x, 2, "floor"), /roundingMode: "floor"/],
    [() => loose.div(x, 2, { roundingMode: "round" }), /"trunc", "floor" or null/],
    [() => loose.round(x, { decimal: 2 }), /did you mean 'decimals'/],
    [() => method.std.call(x, 1, { correction: 0 }), /write x\.std\(1, false\).*correction=0/],
    [
      () => method.var.call(x, 1, { correction: 1, keepdim: true }),
      /write x\.var\(1, true, true\)/,
    ],
    [() => method.sort.call(x, { stable: true }), /always stable, torch's stable=True/],
    [() => method.sum.call(x, null), /dim=None .*\(x\.sum\(\)/],
    [() => method.argmax.call(x, null, true), /leaving the dim out or as undefined/],
    [() => method.norm.call(x, -Infinity, 1), /got -Infinity \(torch's p=0, p=-inf/],
    [() => loose.where(x.gt(2)), /nonzero\(cond, \{ asTuple: true \}\)/],
    [() => loose.searchsorted(tensor([1, 2]), tensor([1]), { out_int32: true }), /'outInt32'/],
    [() => loose.mode(x, { dim: 0 }), /dim must be an integer/],
  ];
  for (const [f, re] of cases) assert.match(messageOf(f), re);
});
