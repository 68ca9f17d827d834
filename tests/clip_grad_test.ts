/**
 * nn.utils.clipGradNorm_ and clipGradValue_ against PyTorch 1.13's
 * clip_grad_norm_ / clip_grad_value_ (the values below are torch's, printed
 * for gradients [3, 4] and [12] clipped to a total norm of 1).
 */
import assert from "node:assert/strict";
import { nn, tensor } from "../mod.ts";

function twoGrads() {
  const a = tensor([1, 2], undefined, { requiresGrad: true });
  const b = tensor([1], undefined, { requiresGrad: true });
  a.mul(tensor([3, 4])).sum().backward();
  b.mul(12).sum().backward();
  return [a, b];
}

Deno.test("clipGradNorm_ scales all gradients together as torch's, for each norm type", () => {
  const torch: [number, number, number[]][] = [
    [2, 13, [0.23076921701431274, 0.307692289352417, 0.923076868057251]],
    [Infinity, 12, [0.2499999850988388, 0.3333333134651184, 0.9999999403953552]],
    [1, 19, [0.15789471566677094, 0.21052628755569458, 0.6315788626670837]],
    [3, 12.207056999206543, [0.24575945734977722, 0.32767927646636963, 0.9830378293991089]],
  ];
  for (const [normType, total, grads] of torch) {
    const [a, b] = twoGrads();
    const held = a.grad!;
    const t = nn.utils.clipGradNorm_([a, b], 1, { normType });
    assert.equal(t.item(), total, `normType ${normType}`);
    assert.deepEqual([...a.grad!.toArray(), ...b.grad!.toArray()], grads, `normType ${normType}`);
    assert.equal(a.grad, held, "in place");
  }
  // Under the limit nothing changes; no gradients at all gives 0.
  const [a, b] = twoGrads();
  assert.equal(nn.utils.clipGradNorm_([a, b], 100).item(), 13);
  assert.deepEqual([...a.grad!.toArray()], [3, 4]);
  assert.equal(nn.utils.clipGradNorm_([tensor([1])], 1).item(), 0);
});

Deno.test("clipGradNorm_ with a non-finite norm: NaN as torch, or an Error when asked", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  w.mul(tensor([Infinity, 1])).sum().backward();
  assert.throws(
    () => nn.utils.clipGradNorm_([w], 1, { errorIfNonfinite: true }),
    /total norm of order 2 of the gradients is Infinity/,
  );
  assert.deepEqual([...w.grad!.toArray()], [Infinity, 1], "nothing written before the error");
  nn.utils.clipGradNorm_([w], 1);
  assert.deepEqual([...w.grad!.toArray()], [NaN, 0]); // torch: inf * 0 = nan, 1 * 0 = 0
  assert.throws(() => nn.utils.clipGradNorm_([w], 1, { normType: 0 }), /normType must be > 0/);
  assert.throws(() => nn.utils.clipGradNorm_([w], 1, { norm_type: 2 } as never), /unknown option/);
});

Deno.test("clipGradValue_ clamps each gradient element in place", () => {
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  w.mul(tensor([-3, 0.5, NaN])).sum().backward();
  nn.utils.clipGradValue_([w], 1);
  assert.deepEqual([...w.grad!.toArray()], [-1, 0.5, NaN]);
  assert.throws(() => nn.utils.clipGradValue_([w], -1), /clipValue must be a number >= 0/);
});
