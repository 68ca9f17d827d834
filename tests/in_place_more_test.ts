/**
 * torch's in-place elementwise methods (`x.sigmoid_()`, `x.exp_()`,
 * `x.pow_(2)` ...): the same values as the out-of-place op, written into
 * the tensor (and through a view into its base); in the autograd graph
 * refused with what to write, as this library's other in-place ops.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { endStep, noGrad, type Tensor, tensor } from "../mod.ts";
import { messageOf, testDevice } from "./helpers.ts";

const values = [-2.5, -1, -0.25, 0.3, 0.9, 1.5, 4];
const positive = [0.1, 0.3, 0.9, 1.5, 4, 7, 9];
type Method = (t: Tensor) => Tensor;
const UNARY: [string, Method, Method, number[]][] = [
  ["exp", (t) => t.exp(), (t) => t.exp_(), values],
  ["log", (t) => t.log(), (t) => t.log_(), positive],
  ["sqrt", (t) => t.sqrt(), (t) => t.sqrt_(), positive],
  ["rsqrt", (t) => t.rsqrt(), (t) => t.rsqrt_(), positive],
  ["abs", (t) => t.abs(), (t) => t.abs_(), values],
  ["neg", (t) => t.neg(), (t) => t.neg_(), values],
  ["sigmoid", (t) => t.sigmoid(), (t) => t.sigmoid_(), values],
  ["tanh", (t) => t.tanh(), (t) => t.tanh_(), values],
  ["sin", (t) => t.sin(), (t) => t.sin_(), values],
  ["cos", (t) => t.cos(), (t) => t.cos_(), values],
  ["floor", (t) => t.floor(), (t) => t.floor_(), values],
  ["ceil", (t) => t.ceil(), (t) => t.ceil_(), values],
  ["round", (t) => t.round(), (t) => t.round_(), values],
  ["trunc", (t) => t.trunc(), (t) => t.trunc_(), values],
  ["sign", (t) => t.sign(), (t) => t.sign_(), values],
  ["reciprocal", (t) => t.reciprocal(), (t) => t.reciprocal_(), positive],
  ["log1p", (t) => t.log1p(), (t) => t.log1p_(), positive],
  ["expm1", (t) => t.expm1(), (t) => t.expm1_(), values],
  ["square", (t) => t.square(), (t) => t.square_(), values],
  ["frac", (t) => t.frac(), (t) => t.frac_(), values],
  ["pow", (t) => t.pow(3), (t) => t.pow_(3), values],
  ["clip", (t) => t.clamp(-1, 1), (t) => t.clip_(-1, 1), values],
];

Deno.test("in-place elementwise methods give the out-of-place values, in the tensor itself", () => {
  for (const [name, plain, inPlace] of UNARY) {
    const data = UNARY.find((u) => u[0] === name)![3];
    const want = plain(tensor(data, { device: testDevice })).toArray();
    const x = tensor(data, { device: testDevice });
    const same = inPlace(x);
    assert.equal(same, x, `${name}_ returns the tensor`);
    assert.deepEqual([...x.toArray()], [...want], `${name}_`);
  }
  // through a view: the base changes, as torch's
  const base = tensor([[1, 2], [3, 4]], { device: testDevice });
  noGrad(() => base.select(0, 1).sqrt_());
  assert.deepEqual([...base.toArray()], [1, 2, Math.fround(Math.sqrt(3)), 2]);
  endStep();
});

Deno.test("in-place methods on a tensor in the autograd graph say to use noGrad or the op itself", () => {
  const x = tensor([0.5, -1, 2], { requiresGrad: true, device: testDevice });
  const y = x.mul(2);
  assert.match(
    messageOf(() => y.sigmoid_()),
    /x\.sigmoid_: an in-place write to a tensor in the autograd graph .* noGrad\(\(\) => \.\.\.\).* x\.sigmoid/,
  );
  assert.match(messageOf(() => x.exp_()), /x\.exp_: an in-place write/);
  noGrad(() => x.exp_()); // as torch's torch.no_grad() block
  assert.ok(Math.abs(x.toArray()[0] - Math.exp(0.5)) < 1e-6);
  assert.match(messageOf(() => (x.exp_ as (a: number) => Tensor)(2)), /exp_: takes at most 0/);
  endStep();
});
