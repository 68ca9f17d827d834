/**
 * Habits of PyTorch's tutorials: the device "cuda:0", reductions of int32
 * labels (`y_train.min(), y_train.max()`), torch's top-level functions
 * (`torch.argmax(x, 1)`, `torch.flatten(x, 1)`), `zeros(10)`, torch's
 * snake_case names (`x.tolist()`, `F.nll_loss`) and `String(model)`.
 *
 * The int32 numbers are torch 1.13's (int64 there: the values are quoted
 * where each is computed). Tensors are made on `LITS_TEST_DEVICE`.
 */
import assert from "node:assert/strict";
import * as lits from "../mod.ts";
import {
  cudaAvailable,
  device,
  empty,
  full,
  functional as F,
  io,
  nn,
  ones,
  rand,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { deviceName } from "../src/tensor/device.ts";
import { messageOf, testDevice } from "./helpers.ts";

const int = (values: number[], shape?: number[]) =>
  tensor(Int32Array.from(values), shape ?? [values.length], { dtype: "int32", device: testDevice });
const float = (values: number[][] | number[]) => tensor(values, undefined, { device: testDevice });

async function messageOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail("expected an Error");
}

// ---- 1. "cuda:0" ----

Deno.test('deviceName: "cuda:0" is "cuda"; "cuda:1" says CUDA_VISIBLE_DEVICES', () => {
  assert.equal(deviceName("cuda:0"), "cuda");
  assert.equal(deviceName("cuda"), "cuda");
  assert.equal(deviceName("cpu"), "cpu");
  assert.throws(
    () => deviceName("cuda:1"),
    /device 'cuda:1': this library drives one GPU, "cuda" \(or "cuda:0"\).*CUDA_VISIBLE_DEVICES=1 /,
  );
  assert.throws(() => deviceName("cuda:12"), /CUDA_VISIBLE_DEVICES=12 /);
  assert.throws(() => deviceName("gpu"), /unknown device 'gpu': expected 'cpu' or 'cuda'/);
  assert.throws(() => deviceName("cuda:"), /unknown device 'cuda:'/);
  assert.throws(
    () => device("cuda:x"),
    /unknown device 'cuda:x': expected 'cpu', 'cuda' or 'auto'/,
  );
});

// Every place that takes a device: without a GPU, "cuda:0" fails as "cuda" does (the same
// message, "unavailable" and why); with one, it is "cuda".
const DEVICE_TAKERS: [string, (d: string) => unknown][] = [
  ["device()", (d) => device(d)],
  ["Tensor.to", (d) => float([1, 2]).to(d as lits.Device).device],
  ["tensor({ device })", (d) => tensor([1], undefined, { device: d as lits.Device }).device],
  ["zeros({ device })", (d) => zeros([2], { device: d as lits.Device }).device],
  ["Module.to", (d) => new nn.Linear(2, 2).to(d as lits.Device).weight.device],
];

Deno.test('"cuda:0" is "cuda" in device(), Tensor.to, tensor, zeros and Module.to', () => {
  for (const [what, take] of DEVICE_TAKERS) {
    if (cudaAvailable()) {
      assert.equal(take("cuda:0"), "cuda", what);
    } else {
      const plain = messageOf(() => take("cuda"));
      assert.match(plain, /unavailable/, what);
      assert.equal(messageOf(() => take("cuda:0")), plain, what);
    }
    assert.match(messageOf(() => take("cuda:1")), /CUDA_VISIBLE_DEVICES=1 /, what);
    assert.equal(take("cpu"), "cpu", what);
  }
});

Deno.test('x.to("cuda:0") of a tensor on the GPU is the tensor itself, as x.to("cuda")', () => {
  if (!cudaAvailable()) return; // the CPU run checks the messages above
  const x = tensor([1, 2], undefined, { device: "cuda" });
  assert.equal(x.to("cuda:0" as lits.Device), x);
});

Deno.test('io.load(path, { device: "cuda:0" }) loads as { device: "cuda" }', async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await io.save(path, new Map([["w", tensor([1, 2, 3])]]));
    const load = (d: string) => io.load(path, { device: d as lits.Device });
    if (cudaAvailable()) {
      const got = await load("cuda:0") as Map<string, Tensor>;
      assert.equal(got.get("w")!.device, "cuda");
    } else {
      const plain = await messageOfAsync(() => load("cuda"));
      assert.match(plain, /unavailable/);
      assert.equal(await messageOfAsync(() => load("cuda:0")), plain);
    }
    assert.match(await messageOfAsync(() => load("cuda:1")), /CUDA_VISIBLE_DEVICES=1 /);
  } finally {
    await Deno.remove(path);
  }
});

// ---- 2. reductions of int32 ----

Deno.test("int32 labels: min, max, sum, amax, amin, argmax are exact int32 (beyond 2^24)", () => {
  // torch.tensor([3, 1, 2, 16777217]): .min() 1, .max() 16777217, .sum() 16777223
  const y = int([3, 1, 2, 16777217]);
  for (const [t, want] of [[y.min(), 1], [y.max(), 16777217], [y.sum(), 16777223]] as const) {
    assert.equal(t.dtype, "int32");
    assert.deepEqual(t.shape, []);
    assert.equal(t.item(), want);
  }
  assert.equal(y.amax().item(), 16777217);
  assert.equal(y.amin().item(), 1);
  assert.equal(y.argmax().item(), 3);
  assert.equal(y.argmin().item(), 1);
  // Through float32 16777217 would read 16777216.
  assert.equal(int([16777217, 16777216]).max().item(), 16777217);
  assert.equal(int([-16777217, -16777216]).min().item(), -16777217);
});

Deno.test("int32 reductions over dims match torch 1.13 (keepDim, several dims, negative)", () => {
  const x = int(
    [
      ...[16777217, -5, 3, 2 ** 30, 7, 7, -(2 ** 31), 0, 1, 2, 3, 4],
      ...[-16777219, 8, 9, 10, 11, 2 ** 30, 13, -1, 0, 0, 0, 0],
    ],
    [2, 3, 4],
  );
  const check = (t: Tensor, shape: number[], values: number[], what: string) => {
    assert.equal(t.dtype, "int32", what);
    assert.equal(t.device, testDevice, what);
    assert.deepEqual(t.shape, shape, what);
    assert.deepEqual([...t.toArray()], values, what);
  };
  // x.sum((0, 2)): tensor([1073741847, -1073741787, 10])
  check(x.sum([0, 2]), [3], [1073741847, -1073741787, 10], "sum([0, 2])");
  // x.sum(-1): [[1090519039, -2147483634, 10], [-16777192, 1073741847, 0]]
  check(x.sum(-1), [2, 3], [1090519039, -2147483634, 10, -16777192, 1073741847, 0], "sum(-1)");
  // x.max(1, keepdim=True).values: [[[16777217, 7, 3, 1073741824]], [[11, 1073741824, 13, 10]]]
  check(x.max(1, true), [2, 1, 4], [16777217, 7, 3, 2 ** 30, 11, 2 ** 30, 13, 10], "max(1, true)");
  // x.amin((0, 2)): [-16777219, -2147483648, 0]
  check(x.amin([0, 2]), [3], [-16777219, -(2 ** 31), 0], "amin([0, 2])");
  // x.min(-1).values: [[-5, -2147483648, 1], [-16777219, -1, 0]]
  check(x.min(-1), [2, 3], [-5, -(2 ** 31), 1, -16777219, -1, 0], "min(-1)");
  // x.amax(): 1073741824; x.argmax(1): [[0, 1, 0, 0], [1, 1, 1, 0]]; x.argmin(): 6
  check(x.amax(), [], [2 ** 30], "amax()");
  check(x.amax([0, 1, 2], true), [1, 1, 1], [2 ** 30], "amax(all, true)");
  check(x.argmax(1), [2, 4], [0, 1, 0, 0, 1, 1, 1, 0], "argmax(1)");
  assert.equal(x.argmin().item(), 6);
  // A transposed view reads its own order: x.transpose(0, 2).sum(2), torch's x.sum(0).T.
  check(x.transpose(0, 2).sum(2), [4, 3], [
    -2,
    18,
    1,
    3,
    1073741831,
    2,
    12,
    -2147483635,
    3,
    1073741834,
    -1,
    4,
  ], "view");
  // 0-d: the identity over dim 0 (torch.tensor(5).sum(0) is 5).
  check(int([5], []).sum(0), [], [5], "0-d sum(0)");
  check(int([5], []).max(), [], [5], "0-d max()");
});

Deno.test("int32 reductions: empty, overflow, mean and bad arguments fail as torch's or say what to write", () => {
  // torch.tensor([], dtype=torch.long).sum() is 0; .max() refuses.
  assert.equal(int([]).sum().item(), 0);
  assert.throws(() => int([]).max(), /max: cannot reduce an empty dimension of \[0\]/);
  assert.throws(() => int([], [2, 0]).amin(1), /amin: cannot reduce an empty dimension of \[2,0\]/);
  assert.deepEqual([...int([], [2, 0]).sum(1).toArray()], [0, 0]);
  // torch's int64 sum holds 2^31; int32 does not: an Error, never a wrapped number.
  assert.throws(
    () => int([2 ** 31 - 1, 1]).sum(),
    /sum: the int32 sum 2147483648 does not fit int32.*sum x\.float\(\) instead/,
  );
  assert.throws(() => int([-(2 ** 31), -1]).sum(), /the int32 sum -2147483649 does not fit/);
  assert.equal(int([2 ** 31 - 1, 1, -1]).sum().item(), 2 ** 31 - 1);
  // torch: mean(): could not infer output dtype ... Got: Long
  assert.throws(
    () => int([1, 2]).mean(),
    /mean: an int32 tensor has no mean.*x\.float\(\)\.mean\(\)/,
  );
  assert.throws(() => int([1, 2]).max(0, 1 as unknown as boolean), /max: keepDim is the second/);
  assert.throws(() => int([1, 2]).amax(0, 1 as unknown as boolean), /amax: keepDim/);
  assert.throws(() => int([1, 2]).sum(2), /sum: .*out of range/);
  assert.throws(() => int([1, 2], [1, 2]).min([1, 1]), /min: repeated dimension/);
  // The float path is as before.
  assert.equal(float([1.5, -2]).max().item(), 1.5);
  assert.equal(float([1.5, -2]).mean().item(), -0.25);
});

// ---- 3. top-level functions ----

Deno.test("top-level torch functions give the methods' results", () => {
  const x = () => float([[0.5, -1, 2], [3, 0.25, -4]]);
  const p = () => float([[1, 2, 4], [8, 0.5, 0.25]]);
  const y = () => float([[1, 0, 1], [2, 2, 2]]);
  const same = (a: Tensor, b: Tensor, what: string) => {
    assert.deepEqual(a.shape, b.shape, what);
    assert.deepEqual(a.toArray(), b.toArray(), what);
  };
  same(lits.add(x(), y(), { alpha: 2 }), x().add(y(), { alpha: 2 }), "add");
  same(lits.sub(x(), 1), x().sub(1), "sub");
  same(lits.mul(x(), y()), x().mul(y()), "mul");
  same(lits.div(x(), 4), x().div(4), "div");
  same(lits.neg(x()), x().neg(), "neg");
  same(lits.exp(x()), x().exp(), "exp");
  same(lits.log(p()), p().log(), "log");
  same(lits.square(x()), x().square(), "square");
  same(lits.rsqrt(p()), p().rsqrt(), "rsqrt");
  same(lits.relu(x()), x().relu(), "relu");
  same(lits.sigmoid(x()), x().sigmoid(), "sigmoid");
  same(lits.tanh(x()), x().tanh(), "tanh");
  same(lits.softmax(x(), 1), x().softmax(1), "softmax");
  same(lits.logSoftmax(x(), 0), x().logSoftmax(0), "logSoftmax");
  same(lits.sum(x()), x().sum(), "sum()");
  same(lits.sum(x(), 1, true), x().sum(1, true), "sum(1, true)");
  same(lits.mean(x(), [0, 1]), x().mean([0, 1]), "mean");
  same(lits.std(x(), 1, false), x().std(1, false), "std");
  same(lits.var(x(), 0, true, true), x().var(0, true, true), "var");
  same(lits.max(x()), x().max(), "max()");
  same(lits.max(x(), 1, true), x().max(1, true), "max(1, true)");
  same(lits.min(x(), 0), x().min(0), "min(0)");
  same(lits.max(x(), y()), x().maximum(y()), "max(x, y)");
  same(lits.min(x(), y()), x().minimum(y()), "min(x, y)");
  same(lits.amax(x(), 0), x().amax(0), "amax");
  same(lits.amin(x(), [0, 1]), x().amin([0, 1]), "amin");
  same(lits.argmax(x(), 1), x().argmax(1), "argmax(1)");
  same(lits.argmax(x()), x().argmax(), "argmax()");
  same(lits.maximum(x(), y()), x().maximum(y()), "maximum");
  same(lits.minimum(x(), y()), x().minimum(y()), "minimum");
  same(lits.flatten(x().reshape([2, 3, 1]), 1), x().reshape([2, 3]), "flatten");
  same(lits.reshape(x(), [3, -1]), x().reshape([3, 2]), "reshape");
  same(lits.transpose(x(), 0, 1), x().transpose(0, 1), "transpose");
  same(lits.permute(x(), [1, 0]), x().permute([1, 0]), "permute");
  same(lits.unsqueeze(x(), 0), x().unsqueeze(0), "unsqueeze");
  same(lits.squeeze(x().reshape([2, 1, 3])), x(), "squeeze()");
  same(lits.squeeze(x().reshape([1, 2, 3]), 0), x(), "squeeze(0)");
  // The tutorials' lines: torch.argmax(logits, 1) and the labels' range.
  const labels = int([2, 0, 1, 2]);
  assert.deepEqual([lits.min(labels).item(), lits.max(labels).item()], [0, 2]);
  assert.equal(lits.sum(labels).dtype, "int32");
  // Gradients flow as the methods'.
  const w = float([1, 2, 3]);
  w.requiresGrad_(true);
  lits.sum(lits.mul(w, w)).backward();
  assert.deepEqual(w.grad!.toArray(), new Float32Array([2, 4, 6]));
});

Deno.test("top-level functions: a non-tensor first or too many arguments says what to write", () => {
  const x = float([1, 2]);
  const call = (f: unknown, ...args: unknown[]) => () =>
    (f as (...a: unknown[]) => unknown)(...args);
  assert.throws(
    call(lits.argmax, [1, 2], 0),
    /argmax: expected a Tensor, got an array; write argmax\(x, 1\)/,
  );
  assert.throws(call(lits.exp, 2), /exp: expected a Tensor, got number; write exp\(x\)/);
  assert.throws(
    call(lits.sum, x, 0, false, 1),
    /sum: takes at most 3 arguments, got 4; write sum\(x, 1, true\)/,
  );
  assert.throws(call(lits.softmax, x, 0, 1), /softmax: takes at most 2 arguments/);
  assert.throws(call(lits.max, x, x, true), /max: takes 2 arguments with a tensor second/);
  assert.throws(call(lits.min, null), /min: expected a Tensor, got null/);
  assert.throws(call(lits.reshape, x, 2, 1), /reshape: takes at most 2 arguments/);
  assert.throws(call(lits.reshape, x, 2), /reshape: the shape is one list of sizes, got number/);
  assert.throws(call(lits.permute, x, 0), /permute: the dims are one list/);
  assert.throws(call(lits.sum, x, 0, { keepdim: true }), /sum: keepDim is the second argument/);
});

// ---- 4. shapes as numbers ----

Deno.test("zeros(10), ones(3), rand(5), randn(4), empty(4), full(10, 1.5) are 1-D, as torch's", () => {
  const opts = { device: testDevice };
  assert.deepEqual(zeros(10, opts).shape, [10]);
  assert.deepEqual([...zeros(3, opts).toArray()], [0, 0, 0]);
  assert.deepEqual([...ones(3, opts).toArray()], [1, 1, 1]);
  assert.deepEqual(rand(5, opts).shape, [5]);
  assert.deepEqual(randn(4, opts).shape, [4]);
  assert.deepEqual(empty(4, opts).shape, [4]);
  const f = full(10, 1.5, opts);
  assert.deepEqual(f.shape, [10]);
  assert.equal(f.toArray()[9], 1.5);
  assert.deepEqual(zeros(0).shape, [0]);
  assert.equal(zeros(2, { dtype: "int32" }).dtype, "int32");
  assert.equal(rand(2, { device: testDevice }).device, testDevice);
  assert.deepEqual(zeros([2, 3]).shape, [2, 3]); // the list as before
});

Deno.test("zeros(2, 3) and the other bad shapes name the function called and what to write", () => {
  const z = zeros as unknown as (...a: unknown[]) => Tensor;
  const o = ones as unknown as (...a: unknown[]) => Tensor;
  const r = rand as unknown as (...a: unknown[]) => Tensor;
  const rn = randn as unknown as (...a: unknown[]) => Tensor;
  const e = empty as unknown as (...a: unknown[]) => Tensor;
  const fl = full as unknown as (...a: unknown[]) => Tensor;
  assert.throws(
    () => z(2, 3),
    /^Error: zeros: the shape is one list of sizes: write zeros\(\[2, 3\]\) for torch's zeros\(2, 3\)$/,
  );
  assert.throws(() => o(4, 5, 6), /ones: .*write ones\(\[4, 5, 6\]\)/);
  assert.throws(() => r(2, 3), /rand: .*write rand\(\[2, 3\]\)/);
  assert.throws(() => rn(2, 3, {}), /randn: .*write randn\(\[2, 3\]\)/);
  assert.throws(() => e(2, 3), /empty: .*write empty\(\[2, 3\]\)/);
  assert.throws(
    () => fl(2, 3, 1.5),
    /full: .*write full\(\[2, 3\], 1\.5\) for torch's full\(2, 3, 1\.5\)/,
  );
  assert.throws(() => z(-1), /zeros: a size must be a non-negative integer, got -1/);
  assert.throws(() => r(2.5), /rand: a size must be a non-negative integer, got 2\.5/);
  assert.throws(() => o(NaN), /ones: a size must be a non-negative integer, got NaN/);
  assert.throws(
    () => z("3"),
    /zeros: the shape is a list of sizes, got string "3"; write zeros\(\[2, 3\]\)/,
  );
  assert.throws(() => e({ dtype: "int32" }), /empty: the shape is a list of sizes, got an object/);
  assert.throws(() => rn(undefined), /randn: the shape is a list of sizes, got undefined/);
  assert.throws(() => z([2, "3"]), /zeros: shape must be non-negative integers, got \[2, "3"\]/);
  assert.throws(() => fl([-1], 0), /full: shape must be non-negative integers, got \[-1\]/);
  assert.throws(() => o([2], { dtyp: "int32" }), /ones: unknown option 'dtyp'/);
});

// ---- 5. torch's names ----

Deno.test("x.tolist and x.numpy say toList() and toArray()", () => {
  const x = float([1, 2]) as unknown as Record<string, unknown>;
  assert.throws(() => x.tolist, /^Error: Tensor has no \.tolist: write x\.toList\(\)/);
  assert.throws(() => x.numpy, /Tensor has no \.numpy: write x\.toArray\(\)/);
  assert.deepEqual(float([1, 2]).toList(), [1, 2]);
});

Deno.test("F's snake_case names throw, naming F's camelCase function", () => {
  const f = F as unknown as Record<string, unknown>;
  // The tutorials' names, each camelCase here (F.pad and F.interpolate are the same in both).
  const wanted: Record<string, string> = {
    nll_loss: "nllLoss",
    cross_entropy: "crossEntropy",
    log_softmax: "logSoftmax",
    binary_cross_entropy_with_logits: "binaryCrossEntropyWithLogits",
    mse_loss: "mseLoss",
    max_pool2d: "maxPool2d",
    avg_pool2d: "avgPool2d",
    adaptive_avg_pool2d: "adaptiveAvgPool2d",
    batch_norm: "batchNorm",
    layer_norm: "layerNorm",
    one_hot: "oneHot",
    grid_sample: "gridSample",
    smooth_l1_loss: "smoothL1Loss",
    kl_div: "klDiv",
  };
  for (const [torch, ours] of Object.entries(wanted)) {
    assert.equal(typeof f[torch], "function", torch);
    assert.throws(
      () => (f[torch] as () => void)(),
      new RegExp(`^Error: F\\.${torch} is torch's name: write F\\.${ours}\\(`),
      torch,
    );
  }
  assert.equal(typeof F.pad, "function");
  assert.equal(typeof F.interpolate, "function");
  // Every snake_case name points at a function F has.
  const snake = Object.keys(f).filter((k) => k.includes("_"));
  assert.ok(snake.length >= 50, `${snake.length} names`);
  for (const k of snake) {
    const ours = k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    assert.equal(typeof f[ours], "function", `${k} -> ${ours}`);
    assert.throws(() => (f[k] as () => void)(), new RegExp(`write F\\.${ours}\\(`), k);
  }
  // The same through nn.functional.
  assert.throws(
    () => (nn.functional as unknown as Record<string, () => void>).nll_loss(),
    /F\.nllLoss/,
  );
});

Deno.test("String(model) and `${model}` print the module tree, as torch's print(model)", () => {
  const model = new nn.Sequential(
    new nn.Conv2d(1, 6, 3),
    new nn.ReLU(),
    new nn.Sequential(new nn.Linear(2, 3), new nn.BatchNorm1d(3)),
  );
  const text = String(model);
  assert.equal(`${model}`, text);
  assert.equal(
    text,
    [
      "Sequential(",
      "  (0): Conv2d(inChannels=1, outChannels=6, kernelSize=[3, 3], stride=[1, 1], padding=[0, 0], " +
      'dilation=[1, 1], paddingMode="zeros", paddingAmounts=[0, 0, 0, 0], groups=1, bias=true)',
      "  (1): ReLU(inplace=false)",
      "  (2): Sequential(",
      "    (0): Linear(inFeatures=2, outFeatures=3, bias=true)",
      "    (1): BatchNorm1d(numFeatures=3, eps=0.00001, momentum=0.1, affine=true, " +
      "trackRunningStats=true)",
      "  )",
      ")",
    ].join("\n"),
  );
  assert.equal(String(new nn.ReLU()), "ReLU(inplace=false)");
  // The values stay console.log's.
  assert.match(Deno.inspect(new nn.ReLU()), /^ReLU \{ training: true, inplace: false \}/);
});
