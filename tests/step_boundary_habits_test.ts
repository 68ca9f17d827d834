import assert from "node:assert/strict";
import { endStep, linspace, memoryStats, nn, noGrad, optim, randn, scope, tensor } from "../mod.ts";
import { setStepGrowthWarning, stepTensorCount } from "../src/tensor/ownership.ts";
import { rearmNonLeafGradWarning } from "../src/tensor/tensor.ts";

Deno.test("the loss is read after the step's zeroGrad, as the PyTorch tutorials' loss_batch", () => {
  const model = new nn.Linear(4, 3);
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = randn([8, 4]), y = tensor([0, 1, 2, 0, 1, 2, 0, 1]).long();
  const losses: number[] = [];
  let atStep5 = 0;
  for (let step = 0; step < 20; step++) {
    // torch: loss.backward(); opt.step(); opt.zero_grad(); return loss.item()
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    losses.push(loss.item());
    if (step === 5) atStep5 = memoryStats().bytesInUse;
  }
  assert.ok(losses[19] < losses[0], `${losses[0]} -> ${losses[19]}`);
  // One step's loss is held past its zeroGrad, freed at the next: flat.
  assert.equal(memoryStats().bytesInUse, atStep5);
  assert.equal(stepTensorCount(), 1);
  endStep();
  assert.equal(stepTensorCount(), 0);
});

Deno.test("only the tensor backward() ran from outlives zeroGrad: the rest of its step is freed", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  const h = w.mul(3);
  const loss = h.sum();
  loss.backward();
  new optim.SGD([w], { lr: 0.1 }).zeroGrad();
  assert.equal(loss.item(), 9);
  assert.equal(h.isAlive, false);
  // A second step's boundary frees the first loss.
  const loss2 = w.mul(2).sum();
  loss2.backward();
  w.grad = null;
  new optim.SGD([w], { lr: 0.1 }).zeroGrad();
  assert.equal(loss.isAlive, false);
  assert.equal(loss2.item(), 6);
  endStep();
  w.dispose();
});

Deno.test("a loop that clears gradients by hand and never calls zeroGrad is warned about", () => {
  const was = setStepGrowthWarning(1 << 16, 1 << 20); // sum every 64 KiB, warn past 1 MiB
  const printed: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => printed.push(msg);
  try {
    // "Learning PyTorch with Examples": a manual update, `a.grad = None`, no zero_grad.
    const a = randn([1], { requiresGrad: true });
    const x = randn([4096]);
    for (let t = 0; t < 40; t++) {
      const loss = x.mul(a).sub(x).pow(2).sum(); // 3 x 16 KiB held a step
      loss.backward();
      noGrad(() => a.sub_(a.grad!.mul(1e-6)));
      a.grad = null;
    }
    assert.equal(printed.length, 1);
    assert.match(printed[0], /clears gradients by hand.*endStep\(\)/);
    endStep();
    a.dispose();
  } finally {
    console.warn = original;
    setStepGrowthWarning(was.checkEvery, was.limit);
  }
});

Deno.test("data reshaped or converted before the loop outlives the step's zeroGrad, as in PyTorch", () => {
  endStep(); // no training step going on: this is before the loop
  const model = new nn.Linear(3, 1);
  const opt = new optim.SGD(model.parameters(), { lr: 1e-3 });
  // "Learning PyTorch with Examples" / "What is torch.nn really?": data made once, used every step.
  const x = linspace(-1, 1, 64);
  const xx = x.unsqueeze(-1).expand(64, 3).contiguous(); // views and a copy of your tensor
  const labels = tensor([0, 1, 1, 0]).long().float().reshape([4, 1]).flatten().view(2, 2).t();
  const target = x.unsqueeze(1).float();
  const scaled = x.mul(2); // arithmetic: an op result, the step's
  for (let t = 0; t < 3; t++) {
    const loss = model.forward(xx).sub(target).pow(2).mean();
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  assert.deepEqual(labels.toList(), [[0, 1], [1, 0]]);
  assert.equal(xx.isAlive && target.isAlive, true);
  assert.equal(scaled.isAlive, false);
  // A form of an activation stays the step's: freed with its graph.
  const h = model.forward(xx);
  const hv = h.view(-1);
  h.sum().backward();
  opt.zeroGrad();
  assert.equal(hv.isAlive, false);
  // Inside a scope, the scope's as ever.
  const inner = scope(() => {
    const v = x.view(8, 8);
    return v.isAlive;
  });
  assert.equal(inner, true);
  endStep();
  for (const t of [x, xx, labels, target]) assert.equal(t.isAlive, true);
});

Deno.test("w.grad = null frees the gradient backward made, as zeroGrad: a manual loop that never awaits stays flat", () => {
  // "Learning PyTorch with Examples": a -= lr * a.grad; a.grad = None.
  const w = randn([256, 256], { requiresGrad: true });
  const x = randn([8, 256]);
  let at3 = 0;
  for (let t = 0; t < 12; t++) {
    const loss = x.matmul(w).pow(2).mean();
    loss.backward();
    noGrad(() => w.sub_(w.grad!.mul(1e-3)));
    w.grad = null;
    endStep();
    if (t === 3) at3 = memoryStats().bytesInUse;
  }
  assert.equal(memoryStats().bytesInUse, at3);
  // A gradient read out and the leaf's cleared lives until the next boundary, as in torch.
  x.matmul(w).sum().backward();
  const g = w.grad!;
  w.grad = null;
  assert.equal(g.mul(2).isAlive && g.isAlive, true);
  x.matmul(w).mul(g.sum()).sum().backward(); // a pass whose graph read it
  assert.equal(g.isAlive, false);
  w.grad = null;
  // One the user assigned stays theirs.
  const mine = randn([256, 256]);
  w.grad = mine;
  w.grad = null;
  assert.equal(mine.isAlive, true);
  endStep();
  for (const t of [w, x, mine]) t.dispose();
});

Deno.test("reading a non-leaf's .grad warns once, as torch's, pointing to retainGrad()", () => {
  const printed: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => printed.push(msg);
  rearmNonLeafGradWarning();
  try {
    const w = tensor([1, 2], undefined, { requiresGrad: true });
    const h = w.mul(3);
    h.sum().backward();
    assert.deepEqual([...w.grad!.toArray()], [3, 3]); // a leaf: no warning
    assert.equal(printed.length, 0);
    assert.equal(h.grad, null);
    assert.equal(h.grad, null);
    assert.equal(printed.length, 1);
    assert.match(printed[0], /not a leaf \(\[2\], made by 'mulScalar'\).*retainGrad\(\)/);
    endStep();
    w.dispose();
  } finally {
    console.warn = original;
  }
});

Deno.test("a loop's conversions of its batches are the step's: a loop that never awaits stays flat", () => {
  endStep();
  const model = new nn.Linear(16, 3);
  const opt = new optim.SGD(model.parameters(), { lr: 1e-3 });
  const pixels = tensor(Array.from({ length: 8 * 16 }, (_, i) => i % 251)).int().reshape([8, 16]);
  const labels = tensor([0, 1, 2, 0, 1, 2, 0, 1]).long();
  let at5 = 0;
  for (let step = 0; step < 40; step++) {
    // torch: model(x.float().div(255)), loss(out, y.long()): a float copy each step.
    const out = model.forward(pixels.float().div(255));
    const loss = nn.functional.crossEntropy(out, labels.long());
    opt.zeroGrad();
    loss.backward();
    opt.step();
    if (step === 5) at5 = memoryStats().bytesInUse;
  }
  assert.equal(memoryStats().bytesInUse, at5);
  // float() of a float32 tensor, long() of an int32 one: itself, as torch's.
  const f = pixels.float();
  assert.equal(f.float(), f);
  assert.equal(labels.long(), labels);
  assert.equal(labels.int(), labels);
  endStep();
});
