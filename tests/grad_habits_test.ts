/**
 * Autograd as a PyTorch user drives it by hand: assigning `.grad`, seeding
 * `backward` with an int tensor, setting `requiresGrad` on an op's result,
 * holding `.grad` across passes, `x.max(dim)` ties, class weights that
 * require grad, and a second pass through ops that saved nothing. Values
 * are PyTorch 1.13's.
 */
import assert from "node:assert/strict";
import { nn, ones, optim, scope, tensor, zeros } from "../mod.ts";

const F = nn.functional;
const values = (t: { toArray(): Float32Array | Int32Array }) => [...t.toArray()];

Deno.test("an assigned .grad must match its tensor's shape, dtype and device", () => {
  const w = zeros([4], { requiresGrad: true });
  assert.throws(() => (w.grad = ones([2])), /grad: assigned grad has a different size: \[2\]/);
  assert.throws(() => (w.grad = zeros([1, 4])), /different size/);
  assert.throws(
    () => (w.grad = tensor(new Int32Array([1, 2, 3, 4]), [4])),
    /assigned grad has a different type: int32 for a float32 tensor/,
  );
  const g = ones([4]);
  g.dispose();
  assert.throws(() => (w.grad = g), /assigned grad has been released/);
  assert.equal(w.grad, null, "a refused assignment leaves .grad as it was");
  w.grad = ones([4]).mul(5);
  new optim.SGD([w], { lr: 0.1 }).step();
  assert.deepEqual(values(w), [-0.5, -0.5, -0.5, -0.5]);
});

Deno.test("backward casts an int32 gradient to float32, as PyTorch", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  x.mul(2).backward(tensor(new Int32Array([1, 2, 3]), [3]));
  assert.deepEqual(values(x.grad!), [2, 4, 6]);
  assert.equal(x.grad!.dtype, "float32");
  const p = tensor([1, 2, 3], undefined, { requiresGrad: true });
  p.mul(1).backward(tensor(new Int32Array([100, 100, 100]), [3]));
  new optim.SGD([p], { lr: 0.1 }).step();
  assert.deepEqual(values(p), [-9, -8, -7]);
});

Deno.test("requiresGrad set as a field follows requiresGrad_'s rules", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.mul(2);
  assert.throws(() => (y.requiresGrad = false), /only leaf tensors can change it/);
  assert.equal(y.requiresGrad, true);
  y.requiresGrad = true; // no change: allowed, as in PyTorch
  const i = tensor(new Int32Array([1]), [1]);
  assert.throws(() => (i.requiresGrad = true), /only float32 tensors can require gradients/);
  assert.throws(() => (x.requiresGrad = 1 as unknown as boolean), /must be true or false/);
  y.mul(3).add(x).sum().backward();
  assert.deepEqual(values(x.grad!), [7, 7, 7]);
  assert.equal(x.isLeaf, true);
  assert.equal(y.isLeaf, false);
  assert.equal(tensor([1]).isLeaf, true);
});

Deno.test("a second pass adds into the same .grad in place, as PyTorch", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  x.mul(x).sum().backward();
  const g1 = x.grad!;
  x.mul(3).sum().backward();
  assert.equal(x.grad, g1);
  assert.deepEqual(values(g1), [5, 7, 9]);
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const g0 = ones([3]);
  w.grad = g0;
  w.mul(w).sum().backward();
  assert.equal(w.grad, g0);
  assert.deepEqual(values(g0), [3, 5, 7]);
  // A strided gradient the user assigned is replaced by the sum, not freed.
  const v = tensor([1, 2], undefined, { requiresGrad: true });
  const base = tensor([[1, 10], [1, 10]]);
  const column = base.transpose(0, 1).narrow(0, 0, 1).reshape([2]);
  v.grad = base.transpose(0, 1).narrow(0, 1, 1).squeeze(0);
  v.sum().backward();
  assert.deepEqual(values(v.grad!), [11, 11]);
  assert.ok(base.isAlive && column.isAlive);
});

Deno.test("x.max(dim) sends the gradient to the first maximum, as torch.max(x, dim)", () => {
  const x = tensor([[1, 3, 3], [2, 2, 0]], undefined, { requiresGrad: true });
  x.max(1).sum().backward();
  assert.deepEqual(values(x.grad!), [0, 1, 0, 1, 0, 0]);
  const y = tensor([[1, 3, 1], [2, NaN, NaN]], undefined, { requiresGrad: true });
  y.min(-1, true).sum().backward();
  assert.deepEqual(values(y.grad!), [1, 0, 0, 0, 1, 0]);
  // Over all elements, or several dims, ties share it (torch.max(x), torch.amax).
  const z = tensor([[1, 3, 3], [2, 2, 0]], undefined, { requiresGrad: true });
  z.max().backward();
  assert.deepEqual(values(z.grad!), [0, 0.5, 0.5, 0, 0, 0]);
  const u = tensor([[1, 3, 3], [2, 2, 0]], undefined, { requiresGrad: true });
  u.max([1]).sum().backward();
  assert.deepEqual(values(u.grad!), [0, 0.5, 0.5, 0.5, 0.5, 0]);
});

Deno.test("crossEntropy refuses class weights that require grad instead of leaving .grad null", () => {
  const logits = tensor([[1, 2, 3], [3, 1, 0]], undefined, { requiresGrad: true });
  const target = tensor(new Int32Array([2, 0]), [2]);
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  assert.throws(
    () => F.crossEntropy(logits, target, { weight: w }),
    /not differentiable with respect to weight; pass weight\.detach\(\)/,
  );
  F.crossEntropy(logits, target, { weight: w.detach() }).backward();
  assert.ok(logits.grad !== null);
});

Deno.test("a second backward goes through ops that saved nothing, as PyTorch", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.add(1);
  y.sum().backward();
  y.sum().backward();
  assert.deepEqual(values(x.grad!), [2, 2, 2]);
  // Through a product (it saved its operands) it is still refused, before any .grad is written.
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const c = tensor([5, 5], undefined, { requiresGrad: true });
  const s = a.mul(a).add(c).sum();
  s.backward();
  assert.throws(() => s.backward(), /graph through 'mul' was already used and freed/);
  assert.deepEqual(values(c.grad!), [1, 1], "c's .grad is not added to by the refused pass");
});

Deno.test("a .grad read by the graph that adds into it is refused before anything is written", () => {
  const p = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const q = tensor([1, 1, 1], undefined, { requiresGrad: true });
  p.mul(p).sum().backward(); // p.grad = [2, 4, 6]
  const g = p.grad!.detach();
  assert.throws(
    () => q.mul(g).sum().add(p.mul(p).sum()).backward(),
    /would be modified by an in-place operation: the \.grad of \[3\], saved by 'mul'/,
  );
  assert.equal(q.grad, null);
  assert.deepEqual(values(p.grad!), [2, 4, 6]);
  // A copy of it is safe, as in PyTorch.
  q.mul(p.grad!.clone()).sum().add(p.mul(p).sum()).backward();
  assert.deepEqual(values(q.grad!), [2, 4, 6]);
  assert.deepEqual(values(p.grad!), [4, 8, 12]);
});

Deno.test("a strided .grad the user assigned is added into through its strides", () => {
  const base = zeros([3, 2]);
  const w = zeros([2, 3], { requiresGrad: true });
  const view = base.transpose(0, 1);
  w.grad = view;
  w.mul(2).sum().backward();
  assert.equal(w.grad, view);
  assert.deepEqual(values(base), [2, 2, 2, 2, 2, 2]);
});

Deno.test("amax over everything with a NaN gives NaN gradients, as torch.amax", () => {
  const x = tensor([[1, NaN], [3, 2]], undefined, { requiresGrad: true });
  x.amax().backward();
  assert.ok(values(x.grad!).every(Number.isNaN));
  const y = tensor([[1, NaN], [3, 2]], undefined, { requiresGrad: true });
  y.max().backward(); // torch.max(x): the NaN's own element
  assert.deepEqual(values(y.grad!), [0, 1, 0, 0]);
});

Deno.test("results returned from a scope: reductions work; a freed internal is named first", () => {
  const x = tensor([[1, 3, 3], [2, 0, 2]], undefined, { requiresGrad: true });
  const m = scope(() => x.amax(1));
  m.sum().backward();
  assert.deepEqual(values(x.grad!), [0, 0.5, 0.5, 0.5, 0, 0.5]);
  const img = tensor([[[[1, 2], [3, 4]]]], undefined, { requiresGrad: true });
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const pooled = scope(() => F.maxPool2d(img, 2));
  assert.throws(() => pooled.sum().add(a.mul(a).sum()).backward(), /saved by 'maxPool2d'/);
  assert.equal(a.grad, null, "nothing written before the error");
});

Deno.test("a kept or assigned .grad is the user's: zeroGrad unlinks it without freeing it", () => {
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const opt = new optim.SGD([w], { lr: 0.1 });
  w.mul(w).sum().backward();
  const held = w.grad!.keep();
  opt.zeroGrad();
  assert.equal(w.grad, null);
  assert.deepEqual(values(held), [2, 4, 6]);
  const a = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const b = tensor([0, 0, 0], undefined, { requiresGrad: true });
  a.mul(a).sum().backward();
  b.grad = a.grad;
  new optim.SGD([b], { lr: 0.1 }).zeroGrad();
  assert.deepEqual(values(a.grad!), [2, 4, 6]);
  // Assigned inside a scope, it outlives the scope as the leaf's gradient.
  const v = tensor([1, 2, 3], undefined, { requiresGrad: true });
  scope(() => {
    v.grad = ones([3]).mul(2);
  });
  v.mul(1).sum().backward();
  assert.deepEqual(values(v.grad!), [3, 3, 3]);
});

Deno.test("a ported .values or .indices names the port instead of being undefined", () => {
  const x = tensor([[1, 3], [4, 2]]);
  assert.throws(
    () => (x.max(1) as unknown as { values: unknown }).values,
    /x\.max\(dim\) and x\.min\(dim\) return the values/,
  );
  assert.throws(
    () => (x.max(1) as unknown as { indices: unknown }).indices,
    /x\.argmax\(dim\) gives the indices/,
  );
});
