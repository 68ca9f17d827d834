/**
 * The torch.Tensor methods as the "torch.Tensor", "Tensor Attributes" and
 * "Tensor Views" pages use them, ported as a user would write them, against
 * PyTorch 1.13's numbers (tests/fixtures/tensor_docs.json, written by
 * scripts/make_tensor_docs_fixtures.py): views that must stay views (unfold,
 * mT) and copies that must stay copies (repeat), strides, dtype conversion in
 * copy_, and the methods torch users reach for that were missing; then
 * torch's names that have no counterpart, each an Error naming what to write.
 */
import assert from "node:assert/strict";
import * as L from "../mod.ts";
import { noGrad, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, messageOf, type StoredRecord } from "./helpers.ts";

type S = StoredRecord;
// deno-lint-ignore no-explicit-any
const fx = loadFixture<Record<string, any>>("tensor_docs.json");
const int = (v: number[]) => tensor(v, undefined, { dtype: "int32" });

Deno.test("tensor_docs: x.unfold is a view of windows, as torch's: values, strides, writes, gradient", () => {
  for (const c of fx.unfold) {
    const what = `unfold(${c.dim}, ${c.size}, ${c.step}) of [${c.x.shape}]`;
    const x = fromStored(c.x, { requiresGrad: true });
    const out = x.unfold(c.dim, c.size, c.step);
    assertStored(out, c.out, what);
    assert.deepEqual(out.stride(), c.stride, `${what} stride`);
    out.mul(fromStored(c.g)).sum().backward();
    assertStored(x.grad, c.grad, `${what} grad`);
    const y = fromStored(c.x);
    y.unfold(c.dim, c.size, c.step).select(-1, 0).fill_(7.5);
    assertStored(y, c.written, `${what} written through`);
  }
  assert.match(
    messageOf(() => L.zeros([4]).unfold(0, 5, 1)),
    /size 5 must be an integer in \[0, 4\]/,
  );
  assert.match(messageOf(() => L.zeros([4]).unfold(0, 2, 0)), /step must be a positive integer/);
  assert.match(
    messageOf(() => (L.zeros([4]).unfold as (d: number, s: number) => Tensor)(0, 2)),
    /takes \(dim, size, step\).*F\.unfold/,
  );
});

Deno.test("tensor_docs: take and indexFill count negative indices from the end, as torch's", () => {
  for (const c of fx.take) {
    assertStored(fromStored(c.x).take(fromStored(c.index)), c.out, `take [${c.index.data}]`);
  }
  for (const c of fx.index_fill) {
    const what = `indexFill(${c.dim}, [${c.index.data}], ${c.value})`;
    assertStored(fromStored(c.x).indexFill(c.dim, fromStored(c.index), c.value), c.out, what);
    const y = fromStored(c.x);
    noGrad(() => y.indexFill_(c.dim, fromStored(c.index), c.value));
    assertStored(y, c.out, `${what} in place`);
  }
  assert.match(messageOf(() => L.zeros([2, 3]).take(int([6]))), /index 6 is out of range for 6/);
  assert.match(
    messageOf(() => L.zeros([2, 3]).indexFill(1, int([-4]), 0)),
    /index -4 is out of range/,
  );
  // The gradient of indexFill: zero at the filled slices.
  const x = L.ones([2, 3], { requiresGrad: true });
  x.indexFill(1, int([1]), 5).sum().backward();
  assert.deepEqual(x.grad!.toList(), [[1, 0, 1], [1, 0, 1]]);
});

Deno.test("tensor_docs: stride() and storageOffset() of views are torch's", () => {
  const base = L.zeros([2, 3, 4]);
  const views: Record<string, Tensor> = {
    "x": base,
    "x.transpose(0, 2)": base.transpose(0, 2),
    "x.narrow(2, 1, 2)": base.narrow(2, 1, 2),
    "x.narrow(1, 2, 1)": base.narrow(1, 2, 1),
    "x.unsqueeze(1)": base.unsqueeze(1),
    "x.permute(2, 0, 1).unsqueeze(0)": base.permute(2, 0, 1).unsqueeze(0),
    "x.select(1, 1)": base.select(1, 1),
    "zeros(2, 1, 3)": L.zeros([2, 1, 3]),
    "x.mT": base.mT,
    "x.unfold(2, 2, 1)": base.unfold(2, 2, 1),
  };
  for (const c of fx.strides) {
    const v = views[c.what];
    assert.deepEqual([...v.shape], c.shape, `${c.what} shape`);
    assert.deepEqual(v.stride(), c.stride, `${c.what} stride`);
    assert.equal(v.storageOffset(), c.offset, `${c.what} storageOffset`);
  }
  assert.deepEqual(L.zeros([3, 1]).expand(3, 4).stride(), fx.expand_stride);
  assert.equal(base.stride(-1), 1);
  assert.equal(base.stride(0), 12);
  assert.equal(base.elementSize(), 4);
  assert.equal(base.nelement(), 24);
  assert.equal(base.isFloatingPoint(), true);
  assert.equal(int([1]).isFloatingPoint(), false);
  assert.match(messageOf(() => base.stride(3)), /stride/);
});

Deno.test("tensor_docs: repeat(1, 1) is a copy, as torch's: a write into it leaves x alone", () => {
  const x = fromStored(fx.repeat_copy.x);
  x.repeat(1, 1).fill_(0);
  assertStored(x, fx.repeat_copy.after, "x after a write into x.repeat(1, 1)");
  const y = tensor([[1, 2]]);
  y.repeat(1, 1, 1).fill_(5);
  y.tile([1]).fill_(5);
  assert.deepEqual(y.toList(), [[1, 2]]);
  // Its gradient still flows.
  const w = L.ones([2], { requiresGrad: true });
  w.repeat(1).mul(tensor([2, 3])).sum().backward();
  assert.deepEqual(w.grad!.toList(), [2, 3]);
});

Deno.test("tensor_docs: copy_ converts the dtype as torch's (float to int32 truncates)", () => {
  for (const c of fx.copy_dtype) {
    const src = fromStored(c.src);
    const dst = c.out.dtype === "int32"
      ? L.zeros(c.out.shape, { dtype: "int32" })
      : L.zeros(c.out.shape);
    dst.copy_(src);
    assert.equal(dst.dtype, c.out.dtype ?? "float32");
    assertStored(dst, c.out, `copy_ ${src.dtype} -> ${dst.dtype}`);
  }
  assert.match(
    messageOf(() => L.zeros([2], { dtype: "int32" }).copy_(tensor([NaN, 1]))),
    /NaN does not fit int32/,
  );
});

Deno.test("tensor_docs: maskedFill_, bool() and mT as torch's", () => {
  const x = fromStored(fx.masked_fill_.x);
  const r = x.maskedFill_(fromStored(fx.masked_fill_.mask), -1.25);
  assert.equal(r, x);
  assertStored(x, fx.masked_fill_.out, "maskedFill_");
  const b = fromStored(fx.bool.x).bool();
  assert.equal(b.dtype, "float32"); // the library's mask type
  assertStored(b, fx.bool.out, "bool()");
  const m = fromStored(fx.mT.x);
  assertStored(m.mT, fx.mT.out, "mT");
  m.mT.select(2, 1).fill_(0); // a view: row 1 of each matrix of m
  assert.equal(m.select(1, 1).abs().sum().item(), 0);
  assert.ok(m.select(1, 0).abs().sum().item() > 0);
  assert.match(messageOf(() => L.zeros([3]).mT), /at least 2 dimensions/);
  // In the autograd graph the in-place forms ask for noGrad, as the others do.
  const p = L.ones([2], { requiresGrad: true });
  assert.match(messageOf(() => p.maskedFill_(tensor([1, 0]), 0)), /noGrad/);
  assert.match(messageOf(() => p.uniform_()), /noGrad/);
});

Deno.test("tensor_docs: uniform_ and normal_ fill in place, in range, float32 only", () => {
  L.manualSeed(3);
  const u = [...L.zeros([2000]).uniform_(-2, 3).toArray()];
  assert.ok(u.every((v) => v >= -2 && v < 3));
  const mean = u.reduce((a, v) => a + v, 0) / u.length;
  assert.ok(Math.abs(mean - 0.5) < 0.15, `uniform_ mean ${mean}`);
  const n = [...L.zeros([4000]).normal_(1, 0.5).toArray()];
  const nm = n.reduce((a, v) => a + v, 0) / n.length;
  const sd = Math.sqrt(n.reduce((a, v) => a + (v - nm) ** 2, 0) / n.length);
  assert.ok(Math.abs(nm - 1) < 0.05 && Math.abs(sd - 0.5) < 0.05, `normal_ ${nm} ${sd}`);
  // Through a view, as torch's: only the narrowed columns change.
  const w = L.zeros([3, 4]);
  w.narrow(1, 1, 2).normal_();
  assert.equal(w.narrow(1, 0, 1).abs().sum().item() + w.narrow(1, 3, 1).abs().sum().item(), 0);
  assert.match(messageOf(() => L.zeros([2], { dtype: "int32" }).uniform_()), /float32/);
  assert.match(messageOf(() => L.zeros([2]).uniform_(1, 0)), /greater than/);
  assert.match(messageOf(() => L.zeros([2]).normal_(0, -1)), /std must be >= 0/);
});

Deno.test("tensor_docs: reductions as methods with dim lists and keepDim", () => {
  const x = fromStored(fx.reductions.x);
  for (const c of fx.reductions.cases) {
    const what = `${c.op}(${JSON.stringify(c.dims)}, keepdim=${c.keepdim})`;
    // deno-lint-ignore no-explicit-any
    const X = x as any;
    const out: Tensor = c.op === "std_biased"
      ? x.std(c.dims, false, c.keepdim)
      : c.op === "norm"
      ? x.norm(2, c.dims, c.keepdim)
      : c.op === "median"
      ? x.median(c.dims, c.keepdim).values
      : c.keepdim === null
      ? X[c.op](c.dims)
      : c.op === "std" || c.op === "var"
      ? X[c.op](c.dims, true, c.keepdim)
      : X[c.op](c.dims, c.keepdim);
    assertStored(out, c.out, what, 1e-5, 1e-5);
  }
});

Deno.test("tensor_docs: sort and argsort are stable on ties, ascending and descending", () => {
  const x = fromStored(fx.sort.x);
  for (const c of fx.sort.cases) {
    const what = `sort(dim=${c.dim}, descending=${c.descending}, stable=True)`;
    const s = x.sort(c.dim, c.descending);
    assertStored(s.values, c.values, what);
    assertStored(s.indices, c.indices, `${what} indices`);
    assertStored(x.argsort(c.dim, c.descending), c.argsort, `argsort ${what}`);
  }
  assert.match(
    messageOf(() => (x.sort as (...a: unknown[]) => unknown)(-1, false, true)),
    /always stable/,
  );
});

Deno.test("tensor_docs: unique with returnInverse, returnCounts and dim", () => {
  const u = fromStored(fx.unique.x);
  const [v, i, c] = u.unique({ returnInverse: true, returnCounts: true });
  assertStored(v, fx.unique.values, "unique values");
  assertStored(i, fx.unique.inverse, "unique inverse");
  assertStored(c, fx.unique.counts, "unique counts");
  const m = fromStored(fx.unique.m);
  for (const dim of [0, 1]) {
    const got = m.unique({ dim, returnInverse: true, returnCounts: true });
    const want = fx.unique[`dim${dim}`];
    got.forEach((t, k) => assertStored(t, want[k], `unique dim ${dim} [${k}]`));
  }
});

Deno.test("tensor_docs: squeeze takes a list of dims (torch 2's tuple); others stay", () => {
  const x = L.zeros([1, 2, 1, 3, 1]);
  assert.deepEqual(x.squeeze([0, 2]).shape, [2, 3, 1]);
  assert.deepEqual(x.squeeze([1, -1]).shape, [1, 2, 1, 3]); // size 2 stays, as torch's
  assert.deepEqual(x.squeeze([]).shape, [1, 2, 1, 3, 1]);
  const y = L.zeros([1, 3]);
  y.squeeze([0]).fill_(2); // a view
  assert.deepEqual(y.toList(), [[2, 2, 2]]);
  assert.match(messageOf(() => x.squeeze([0, 0])), /repeated/);
});

Deno.test("tensor_docs: JSON.stringify of a tensor gives its values", () => {
  assert.equal(
    JSON.stringify({ loss: tensor(0.5), pred: tensor([[1, 2]]), y: int([3]) }),
    '{"loss":0.5,"pred":[[1,2]],"y":[3]}',
  );
  // An op result (owned by a scope's Set) too: it overflowed the stack.
  assert.equal(JSON.stringify(tensor([1, 2]).mul(2)), "[2,4]");
  const t = tensor([1]);
  t.dispose();
  assert.equal(JSON.stringify(t), '"<released tensor [1]>"');
});

Deno.test("tensor_docs: options torch's methods take that have no counterpart are refused", () => {
  const x = L.zeros([2, 3]);
  assert.match(
    messageOf(() => (x.clone as (f: string) => Tensor)("channels_last")),
    /no memory_format/,
  );
  assert.match(
    messageOf(() => (x.contiguous as (f: string) => Tensor)("channels_last")),
    /no memory_format/,
  );
  assert.match(messageOf(() => (x.float as (f: number) => Tensor)(1)), /at most 0/);
  assert.match(messageOf(() => (x.detach as (f: number) => Tensor)(1)), /at most 0/);
  // torch's x.fill_(t) with a one-element tensor: say t.item().
  assert.match(
    messageOf(() => x.fill_(tensor(3) as never)),
    /got a Tensor; write x\.fill_\(t\.item\(\)\)/,
  );
});

Deno.test("tensor_docs: torch.Tensor names without a counterpart name what to write", () => {
  // deno-lint-ignore no-explicit-any
  const x: any = L.zeros([2, 3]);
  const expect: [string, RegExp][] = [
    ["masked_fill_", /x\.maskedFill_\(mask, value\)/],
    ["index_fill_", /x\.indexFill_/],
    ["is_contiguous", /x\.isContiguous \(a property/],
    ["storage_offset", /x\.storageOffset\(\)/],
    ["element_size", /x\.elementSize\(\)/],
    ["is_floating_point", /x\.isFloatingPoint\(\)/],
    ["data_ptr", /no memory address/],
    ["detach_", /x = x\.detach\(\)/],
    ["apply_", /no JavaScript callback/],
    ["map_", /no JavaScript callback/],
    ["pin_memory", /no pinned host memory/],
    ["share_memory_", /not shared between processes/],
    ["exponential_", /log1p_/],
    ["random_", /randint/],
    ["addcmul_", /x\.add_\(t1\.mul\(t2\), \{ alpha: value \}\)/],
    ["addcdiv_", /x\.add_\(t1\.div\(t2\)/],
    ["cuda", /x\.to\("cuda"\)/],
    ["ndimension", /x\.dim\(\)/],
    ["new_tensor", /tensor\(data, shape/],
  ];
  for (const [name, re] of expect) {
    assert.match(messageOf(() => x[name]), re, name);
    assert.match(messageOf(() => x[name]), new RegExp(`Tensor has no \\.${name}`), name);
  }
  // The hints hold for the written forms ported as is: x.exponential_() throws, not "not a function".
  assert.match(messageOf(() => x.exponential_()), /Tensor has no \.exponential_/);
  // The hinted forms work as written.
  noGrad(() => x.uniform_().neg_().log1p_().mul_(-1 / 2));
  assert.ok((x.toArray() as Float32Array).every((v: number) => v >= 0));
  const t1 = tensor([1, 2, 3]), t2 = tensor([2, 2, 2]);
  assert.deepEqual(tensor([1, 1, 1]).add_(t1.mul(t2), { alpha: 0.5 }).toList(), [2, 3, 4]);
});
