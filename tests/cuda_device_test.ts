/**
 * Devices from TypeScript: `tensor.to`, `module.to` (in place, Parameter
 * identity kept, optimizers keep working), device checks in ops, and a short
 * training run on CUDA that matches the CPU and keeps device memory flat.
 * The CUDA parts are skipped without a usable GPU.
 */
import assert from "node:assert/strict";
import {
  cudaAvailable,
  defaultDevice,
  endStep,
  functional as F,
  manualSeed,
  memoryStats,
  nn,
  optim,
  randn,
  tensor,
  zeros,
} from "../mod.ts";
import { Storage } from "../src/tensor/tensor.ts";
import { backend } from "../src/tensor/device.ts";

const gpu = cudaAvailable();

Deno.test("defaultDevice picks cuda exactly when it is available", () => {
  assert.equal(defaultDevice(), gpu ? "cuda" : "cpu");
});

Deno.test("to() on the same device returns the tensor; module.to keeps it in place", () => {
  using x = tensor([1, 2, 3]);
  assert.equal(x.to("cpu"), x);
  const layer = new nn.Linear(3, 2);
  const w = layer.weight;
  assert.equal(layer.to("cpu"), layer);
  assert.equal(layer.weight, w);
});

Deno.test("_replaceStorage swaps the memory under the same Tensor object", () => {
  using x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1).keep(); // a strided view
  x.requiresGrad_(true);
  const grad = zeros([3, 2]).keep();
  x.grad = grad;
  const before = memoryStats().bytesInUse;
  const fresh = new Storage(backend("cpu"), "cpu", 24);
  fresh.lib.lits_copy_h2d(fresh.ptr, new Float32Array([1, 4, 2, 5, 3, 6]), 24);
  x._replaceStorage(fresh);
  assert.deepEqual([...x.strides], [2, 1]);
  assert.equal(x.offset, 0);
  assert.equal(x.grad, grad, "the gradient stays (on the same device, nothing to move)");
  assert.deepEqual([...x.toArray()], [1, 4, 2, 5, 3, 6]);
  assert.ok(memoryStats().bytesInUse <= before + 256, "the old storage was freed");
  assert.throws(() => x._replaceStorage(new Storage(backend("cpu"), "cpu", 4)), /do not hold/);
});

const cudaTest = (name: string, fn: () => void) =>
  Deno.test({ name: `cuda: ${name}`, ignore: !gpu, fn });

cudaTest("tensor.to round-trips values and gradients", () => {
  using x = tensor([[1, -2], [3, 4]], undefined, { requiresGrad: true });
  const y = x.to("cuda");
  assert.equal(y.device, "cuda");
  const loss = y.mul(y).sum();
  loss.backward();
  assert.equal(x.grad!.device, "cpu");
  assert.deepEqual([...x.grad!.toArray()], [2, -4, 6, 8]);
  endStep();
  y.dispose();
});

cudaTest("mixing devices in one op is an Error that names both", () => {
  using a = zeros([2], { device: "cuda" });
  using b = zeros([2]);
  assert.throws(() => a.add(b), /different devices \(cuda and cpu\)/);
  const bn = new nn.BatchNorm2d(2);
  assert.throws(() => bn.forward(zeros([1, 2, 3, 3], { device: "cuda" })), /on cuda, the layer's/);
  using x = zeros([2, 2, 3, 3], { device: "cuda" });
  using w = zeros([2]);
  assert.throws(() => F.batchNorm(x, null, null, w, null, { training: true }), /different devices/);
  using m = zeros([3, 2], { device: "cuda" });
  using lw = zeros([4, 2], { device: "cuda" });
  using lb = zeros([4]);
  assert.throws(() => F.linear(m, lw, lb), /linear: tensors are on different devices/);
  endStep();
});

cudaTest("module.to moves parameters and buffers in place; the optimizer keeps working", () => {
  manualSeed(3);
  const net = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(4 * 8 * 8, 3),
  );
  const params = net.parameters();
  const opt = new optim.Adam(params, { lr: 1e-2 });
  const x = randn([4, 1, 8, 8]).keep();
  const y = tensor(new Int32Array([0, 1, 2, 0]), [4]).keep();
  const lossFn = new nn.CrossEntropyLoss();
  const step = (xd: typeof x, yd: typeof y) => {
    opt.zeroGrad();
    const loss = lossFn.forward(net.forward(xd), yd);
    loss.backward();
    opt.step();
    return loss.item();
  };
  step(x, y); // state made on the CPU
  net.to("cuda");
  assert.deepEqual(net.parameters(), params, "the same Parameter objects");
  assert.ok(params.every((p) => p.device === "cuda"));
  assert.ok(net.buffers().every((b) => b.device === "cuda"));
  const xg = x.to("cuda").keep(), yg = y.to("cuda").keep();
  const losses = [0, 1, 2, 3, 4].map(() => step(xg, yg)); // the Adam state followed
  assert.ok(losses[4] < losses[0], `loss falls on cuda: ${losses}`);
  net.to("cpu");
  assert.ok(params.every((p) => p.device === "cpu"));
  endStep();
  for (const t of [x, y, xg, yg]) t.dispose();
});

cudaTest("module.to between backward and step moves the gradients along, as PyTorch", () => {
  const net = new nn.Linear(2, 1);
  const x = tensor([[1, 2]]);
  net.forward(x).sum().backward();
  const grads = net.parameters().map((p) => [...p.grad!.toArray()]);
  net.to("cuda");
  assert.ok(net.parameters().every((p) => p.grad !== null && p.grad.device === "cuda"));
  assert.deepEqual(net.parameters().map((p) => [...p.grad!.toArray()]), grads);
  new optim.SGD(net.parameters(), { lr: 0.1 }).step(); // the step sees them
  net.to("cpu");
  assert.ok(net.parameters().every((p) => p.grad!.device === "cpu"));
  x.dispose();
  net.dispose();
});

cudaTest("a training step keeps device memory flat", () => {
  manualSeed(4);
  const net = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(8 * 16 * 16, 3),
  ).to("cuda");
  const opt = new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = randn([16, 1, 32, 32], { device: "cuda" });
  const y = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16], { device: "cuda" });
  const lossFn = new nn.CrossEntropyLoss();
  const used: number[] = [], system: number[] = [];
  for (let i = 0; i < 30; i++) {
    opt.zeroGrad();
    const loss = lossFn.forward(net.forward(x), y);
    loss.backward();
    opt.step();
    loss.item();
    endStep();
    const s = memoryStats("cuda");
    used.push(s.bytesInUse);
    system.push(s.bytesFromSystem);
  }
  assert.equal(new Set(used.slice(5)).size, 1, `bytes in use drift: ${used}`);
  assert.equal(new Set(system.slice(5)).size, 1, `cudaMalloc in a steady step: ${system}`);
  x.dispose();
  y.dispose();
});
