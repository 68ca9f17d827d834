/**
 * PyTorch's in-place methods outside autograd (EMA weights, zeroing a bias,
 * mixup), against torch 1.13's values; and the refusals where autograd would
 * have to record the write.
 */
import assert from "node:assert/strict";
import { nn, noGrad, tensor, zeros } from "../mod.ts";

const values = (t: { toArray(): Float32Array | Int32Array }) => [...t.toArray()];

Deno.test("add_, sub_, mul_, div_, clamp_, copy_, fill_, zero_ write in place and return x", () => {
  const x = tensor([1, 2, 3, 4]);
  assert.equal(x.mul_(2), x);
  assert.deepEqual(values(x), [2, 4, 6, 8]);
  x.add_(tensor([1, 1, 1, 1]), { alpha: 0.5 }).sub_(1).div_(2);
  assert.deepEqual(values(x), [0.75, 1.75, 2.75, 3.75]);
  x.clamp_(1, 3);
  assert.deepEqual(values(x), [1, 1.75, 2.75, 3]);
  const m = zeros([2, 3]);
  m.copy_(tensor([1, 2, 3])); // broadcast, as torch's copy_
  assert.deepEqual(values(m), [1, 2, 3, 1, 2, 3]);
  m.narrow(1, 0, 1).fill_(9); // through a view: the column
  assert.deepEqual(values(m), [9, 2, 3, 9, 2, 3]);
  m.zero_();
  assert.deepEqual(values(m), [0, 0, 0, 0, 0, 0]);
  assert.throws(() => tensor([1, 2, 3]).add_(zeros([2, 3])), /does not fit tensor \[3\]/);
});

Deno.test("an EMA of weights under noGrad, as torch.no_grad(): ema.mul_(d).add_(p, alpha=1-d)", () => {
  const net = new nn.Linear(2, 1);
  const ema = noGrad(() => net.weight.clone());
  const d = 0.9;
  const w0 = values(net.weight);
  noGrad(() => {
    net.weight.mul_(2); // a parameter changes in place inside noGrad, as in torch
    ema.mul_(d).add_(net.weight, { alpha: 1 - d });
  });
  // torch: ema = 0.9 * w0 + 0.1 * (2 * w0) = 1.1 * w0
  values(ema).forEach((v, i) => assert.ok(Math.abs(v - 1.1 * w0[i]) < 1e-6));
  net.dispose();
});

Deno.test("in place where autograd would record it is refused; a saved tensor written is caught", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  assert.throws(() => w.mul_(2), /in-place write to a tensor in the autograd graph .* noGrad/);
  const x = tensor([1, 2]);
  assert.throws(() => x.add_(w), /it or its operand requires grad/);
  assert.deepEqual(values(x), [1, 2], "nothing written");
  // y saved x for w's gradient; x written since: backward refuses, as torch.
  const y = x.mul(w).sum();
  noGrad(() => x.mul_(3));
  assert.throws(() => y.backward(), /modified by an in-place operation/);
});

Deno.test("copy_ from an overlapping view of the same memory is refused, as torch; x.copy_(x) is not", () => {
  const x = tensor([1, 2, 3, 4, 5]);
  assert.throws(() => x.narrow(0, 1, 4).copy_(x.narrow(0, 0, 4)), /share memory locations/);
  assert.deepEqual(values(x), [1, 2, 3, 4, 5]);
  x.copy_(x);
  assert.deepEqual(values(x), [1, 2, 3, 4, 5]);
  x.mul_(x); // a new result, then written: torch's [1, 4, 9, 16, 25]
  assert.deepEqual(values(x), [1, 4, 9, 16, 25]);
});
