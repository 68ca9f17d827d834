/**
 * A deferred value (op fusion's recipe: a batch norm's output, a residual
 * sum, a ReLU) keeps the values its op read when one of its inputs is then
 * written in place, as PyTorch's eager ops do: it is written out before the
 * write. Each case against the same code with fusion off.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, nn, noGrad, optim, randn, type Tensor } from "../mod.ts";
import { assertBits, assertClose, fusedAndPlain } from "./helpers.ts";

function assertAllBits(fused: Float32Array[], plain: Float32Array[], what: string): void {
  assert.equal(fused.length, plain.length);
  fused.forEach((v, i) => assertBits(v, plain[i], `${what} #${i}`));
}

Deno.test("fusion in place: a ReLU of an op result keeps its values when the input is written", () => {
  const [fused, plain] = fusedAndPlain(() => {
    manualSeed(1);
    const x = randn([2, 3, 4, 4]).mul(1); // an op result: the ReLU defers reading it
    const y = F.relu(x);
    x.mul_(-1);
    const z = F.relu(x.add(1)); // written in place after: a recipe of the new values
    x.fill_(0);
    return [y, z, x];
  });
  assert.ok(fused[0].some((v) => v > 0) && fused[0].some((v) => v === 0));
  assertAllBits(fused, plain, "relu");
});

Deno.test("fusion in place: batch norm, residual and ReLU recipes keep their inputs' values", () => {
  const [fused, plain] = fusedAndPlain(() => {
    manualSeed(2);
    const x = randn([2, 3, 5, 5]).mul(1), r = randn([2, 3, 5, 5]).mul(1);
    const normed = F.batchNorm(x, null, null, null, null, { training: true });
    const out = F.relu(normed.add(r));
    r.add_(5); // the residual's operand
    x.zero_(); // the batch norm's input
    return [normed, out];
  });
  assertAllBits(fused, plain, "batch norm + residual + relu");
});

Deno.test("fusion in place: a written ReLU output changed before backward keeps the forward's mask", () => {
  const [fused, plain] = fusedAndPlain(() => {
    manualSeed(3);
    const x = randn([2, 3, 4, 4], { requiresGrad: true });
    const r = randn([2, 3, 4, 4]);
    const g = randn([3], { requiresGrad: true }), b = randn([3], { requiresGrad: true });
    const y = F.relu(F.batchNorm(x, null, null, g, b, { training: true }).add(r));
    const loss = y.mul(randn([2, 3, 4, 4])).sum(); // reads y: written
    noGrad(() => y.mul_(-1));
    loss.backward();
    return [x.grad!, g.grad!, b.grad!];
  });
  assertAllBits(fused, plain, "gradients");
});

Deno.test("fusion in place: an optimizer's step writes a parameter a pending ReLU reads", () => {
  const [fused, plain] = fusedAndPlain(() => {
    manualSeed(4);
    const w = randn([2, 3, 4, 4]).mul(1); // an op result, as a parameter made inside a scope is
    w.requiresGrad = true;
    const opt = new optim.SGD([w], { lr: 10 });
    w.sum().backward();
    const y: Tensor = noGrad(() => F.relu(w.mul(1).add(w)));
    const before = noGrad(() => F.relu(w));
    opt.step();
    return [y, before, w];
  });
  assertAllBits(fused, plain, "optimizer");
});

Deno.test("fusion in place: a forward hook that writes a convolution's output: batch norm's statistics are of what it wrote", () => {
  const run = () => {
    manualSeed(5);
    const net = new nn.Sequential(new nn.Conv2d(2, 3, 1), new nn.BatchNorm2d(3));
    (net[0] as nn.Conv2d).registerForwardHook((_m, _inputs, out: Tensor) => {
      noGrad(() => out.mul_(3).add_(1));
    });
    const y = net.forward(randn([2, 2, 4, 4]));
    return [y, (net[1] as nn.BatchNorm2d).runningMean!, (net[1] as nn.BatchNorm2d).runningVar!];
  };
  const [fused, plain] = fusedAndPlain(run);
  fused.forEach((v, i) => assertClose(v, plain[i], { rtol: 1e-5, atol: 1e-6, what: `#${i}` }));
});
