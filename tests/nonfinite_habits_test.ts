/**
 * Non-finite values, empty batches and absurd sizes as PyTorch 1.13 takes
 * them: nllLoss beside a masked (-inf) class, batch norm and batched matmul
 * on an empty batch, a max-pool kernel far wider than its image, and the
 * errors of sizes that do not fit.
 */
import assert from "node:assert/strict";
import { arange, nn, ones, tensor, zeros } from "../mod.ts";

const F = nn.functional;
const target = (...v: number[]) => tensor(new Int32Array(v), [v.length]);

Deno.test("nllLoss: -inf or NaN in a class that is not the target leaves the loss finite", () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
  close(F.nllLoss(tensor([[-0.1, -Infinity, -2.4]]), target(0)).item(), 0.1);
  // Masked logits through logSoftmax (torch: 0.31326).
  const masked = F.logSoftmax(tensor([[2, -Infinity, 1]]), 1);
  close(new nn.NLLLoss().forward(masked, target(0)).item(), 0.31326);
  // A row that is ignored may hold -inf anywhere.
  const rows = tensor([[-Infinity, -1, -2], [-0.5, -1, -3]]);
  close(F.nllLoss(rows, target(-100, 1)).item(), 1);
  const none = F.nllLoss(tensor([[-0.1, NaN, -2]]), target(0), { reduction: "none" });
  close(none.toArray()[0], 0.1);
  const x = tensor([[-0.1, -Infinity, -2.4]], undefined, { requiresGrad: true });
  F.nllLoss(x, target(0), { weight: tensor([2, 1, 1]) }).backward();
  assert.deepEqual([...x.grad!.toArray()], [-1, 0, 0]);
});

Deno.test("batch norm in training takes an empty batch as PyTorch: empty out, statistics kept", () => {
  for (const shape of [[0, 3, 4, 4], [2, 3, 0, 4]]) {
    const bn = new nn.BatchNorm2d(3);
    bn.train();
    const x = zeros(shape, { requiresGrad: true });
    const y = bn.forward(x);
    assert.deepEqual(y.shape, shape);
    assert.deepEqual([...bn.runningMean!.toArray()], [0, 0, 0]);
    assert.deepEqual([...bn.runningVar!.toArray()], [1, 1, 1]);
    assert.equal(bn.numBatchesTracked, 1);
    y.sum().backward();
    assert.deepEqual([...bn.weight!.grad!.toArray()], [0, 0, 0]);
    assert.deepEqual([...bn.bias!.grad!.toArray()], [0, 0, 0]);
    bn.dispose();
  }
  const bn1 = new nn.BatchNorm1d(3);
  bn1.train();
  assert.deepEqual(bn1.forward(zeros([0, 3])).shape, [0, 3]);
  assert.throws(() => bn1.forward(zeros([1, 3])), /expected more than 1 value per channel/);
});

Deno.test("batched matmul with no matrices gives an empty result, as PyTorch", () => {
  assert.deepEqual(ones([0, 2, 3]).matmul(ones([0, 3, 4])).shape, [0, 2, 4]);
  assert.deepEqual(ones([2, 0, 2, 3]).matmul(ones([3, 4])).shape, [2, 0, 2, 4]);
});

Deno.test("maxPool2d with a kernel far wider than the image visits only the image", () => {
  const x = arange(0, 25).reshape([1, 1, 5, 5]);
  // Each window (kernel 2^31 - 1, padding 2^30 - 1) covers the whole plane.
  const y = F.maxPool2d(x, [1, 2 ** 31 - 1], { stride: 1, padding: [0, 2 ** 30 - 1] });
  assert.deepEqual(y.shape, [1, 1, 5, 5]);
  assert.deepEqual(
    [...y.toArray()],
    [4, 4, 4, 4, 4, 9, 9, 9, 9, 9, 14, 14, 14, 14, 14].concat(
      [19, 19, 19, 19, 19, 24, 24, 24, 24, 24],
    ),
  );
});

Deno.test("sizes that do not fit, and a NaN slope, are named in the errors", () => {
  assert.throws(
    () => F.leakyRelu(ones([2]), NaN),
    /negativeSlope must be a finite number, got NaN/,
  );
  assert.throws(() => arange(0, 2 ** 42), /arange: 4398046511104 elements .* are more than/);
  assert.throws(
    () => F.adaptiveAvgPool2d(ones([1, 1, 2, 2]), [2 ** 32 + 1, 1]),
    /adaptiveAvgPool2d .*: size 4294967297 does not fit the native int32 parameters/,
  );
  assert.throws(
    () => F.maxPool2d(zeros([0, 1, 2 ** 31 + 2, 4]), 2),
    /maxPool2d .*: size 2147483650 does not fit the native int32 parameters/,
  );
});
