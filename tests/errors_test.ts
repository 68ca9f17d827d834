import assert from "node:assert/strict";
import {
  arange,
  cudaAvailable,
  device,
  full,
  functional as F,
  manualSeed,
  nn,
  ones,
  optim,
  randn,
  tensor,
  zeros,
} from "../mod.ts";

const int = (values: number[]) => tensor(new Int32Array(values), [values.length]);

Deno.test("shape mismatches name the op and the shapes", () => {
  assert.throws(
    () => zeros([2, 3]).add(zeros([4])),
    /add: shapes \[2,3\] and \[4\] cannot be broadcast/,
  );
  assert.throws(() => zeros([2, 3]).matmul(zeros([4, 2])), /matmul: shapes \[2,3\] and \[4,2\]/);
  assert.throws(() => zeros([6]).reshape(4, 2), /reshape: cannot reshape \[6\]/);
  assert.throws(
    () => new nn.Linear(4, 2).forward(zeros([3, 5])),
    /linear: input \[3,5\] does not match weight \[2,4\]/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 4, 3).forward(zeros([1, 2, 8, 8])),
    /conv2d x \[1,2,8,8\] weight \[4,3,3,3\].*input has 2 channels/,
  );
  assert.throws(() => new nn.Conv2d(1, 1, 5).forward(zeros([1, 1, 3, 3])), /input is too small/);
  assert.throws(
    () => new nn.MaxPool2d(2).forward(zeros([4, 4])),
    /maxPool2d: expected a 4-D input/,
  );
  assert.throws(
    () => new nn.BatchNorm2d(3).forward(zeros([2, 4, 2, 2])),
    /BatchNorm2d\(3\): expected input \[N, 3, H, W\]/,
  );
  assert.throws(
    () => new nn.BatchNorm2d(2).forward(zeros([1, 2, 1, 1])),
    /more than 1 value per channel/,
  );
  assert.throws(() => zeros([2, 3]).sum(2), /sum: dimension 2 is out of range for 2 dimensions/);
  assert.throws(() => zeros([2, 3]).permute(0, 0), /permute: \[0,0\] is not a permutation/);
  // narrow is strict, as torch.narrow; slice clamps, as Python's x[2:6].
  assert.throws(() => zeros([4]).narrow(0, 2, 4), /narrow: \[2, 6\) is out of range for size 4/);
  assert.deepEqual(zeros([4]).slice(2, 6).shape, [2]);
  assert.throws(() => tensor([1, 2, 3], [2]), /3 values do not fill shape \[2\]/);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged nested array/);
  assert.throws(() => zeros([-1]), /shape must be non-negative integers/);
});

Deno.test("creation functions refuse dtypes tensors cannot hold, saying what to use", () => {
  const cases: [() => unknown, RegExp][] = [
    // torch.full((2,), 0.1, dtype=torch.bfloat16): a float32 tensor labelled bfloat16 before.
    [
      () => full([2], 0.1, { dtype: "bfloat16" as "float32" }),
      /full: unknown dtype "bfloat16".*autocast\("bfloat16"/,
    ],
    [() => zeros([2], { dtype: "float16" as "float32" }), /unknown dtype "float16"/],
    [() => ones([2], { dtype: "int64" as "int32" }), /unknown dtype "int64".*are int32/],
    [() => zeros([2], { dtype: "float64" as "float32" }), /unknown dtype "float64".*are float32/],
    [() => tensor([1], undefined, { dtype: "half" as "float32" }), /tensor: unknown dtype "half"/],
    [
      () => randn([2], { dtype: "bfloat16" as "float32" }),
      /randn: unknown dtype "bfloat16".*autocast/,
    ],
    [() => randn([2], { dtype: "int32" }), /randn: dtype must be float32, got int32/],
    // torch.full((2,), 1.7, dtype=torch.int32) truncates; a native FFI error before.
    [() => full([2], 1.7, { dtype: "int32" }), /full: int32 value 1\.7 is not an integer/],
    [() => full([2], 2 ** 31, { dtype: "int32" }), /int32 value 2147483648 is not an integer from/],
    // Int32Array.from would wrap it to -2^31 silently.
    [() => tensor([2 ** 31], undefined, { dtype: "int32" }), /int32 value 2147483648 is not/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  using a = full([2], -(2 ** 31), { dtype: "int32" });
  assert.deepEqual(Array.from(a.toArray()), [-(2 ** 31), -(2 ** 31)]);
});

Deno.test("dtype mismatches are refused before any native call", () => {
  const labels = int([0, 1]);
  assert.throws(() => labels.exp(), /exp: expected a float32 tensor, got int32/);
  assert.throws(
    () => F.crossEntropy(zeros([2, 3]), zeros([2])),
    /targets must be int32 class indices/,
  );
  assert.throws(() => labels.requiresGrad_(), /only float32 tensors can require gradients/);
  assert.throws(
    () => tensor([1.5], undefined, { dtype: "int32" }),
    /int32 value 1.5 is not an integer/,
  );
  assert.throws(
    () => new optim.SGD([labels], { lr: 0.1 }),
    /SGD: parameter \[2\] is int32, not float32/,
  );
  labels.dispose();
});

Deno.test("labels out of range are an Error naming the label and index, not a crash", () => {
  const logits = randn([3, 3]);
  assert.throws(
    () => F.crossEntropy(logits, int([0, 5, 1])),
    /target 5 at index 1 is out of range \[0, 3\)/,
  );
  assert.throws(
    () => F.crossEntropy(logits, int([0, -2, 1])),
    /target -2 at index 1 is out of range/,
  );
  // The ignore index itself is fine, even when outside [0, C).
  assert.ok(Number.isFinite(F.crossEntropy(logits, int([0, -100, 1])).item()));
  assert.throws(() => F.crossEntropy(logits, int([0, 1])), /target must be \[3\]/);
  logits.dispose();
});

Deno.test("the unavailable CUDA device says why", () => {
  assert.throws(() => device("tpu"), /unknown device 'tpu'/);
  if (cudaAvailable()) return; // a GPU machine: tests/cuda_ops_test.ts covers the device
  // Why: no library built (and the command), one built for another ABI (a
  // checkout updated since its last build:cuda), or what lits_init found missing.
  const why =
    /device 'cuda' is unavailable: (the CUDA library is not built .*deno task build:cuda|.*has ABI \d+, this code needs \d+; rebuild it with: deno task build:cuda|.*(driver|device|cuBLAS|cuDNN))/;
  assert.throws(() => device("cuda"), why);
  assert.throws(() => zeros([2], { device: "cuda" }), why);
  assert.equal(device("auto"), "cpu");
});

Deno.test("bad hyper-parameters are refused", () => {
  const p = new nn.Linear(2, 2).parameters();
  assert.throws(() => new optim.SGD(p, { lr: -1 }), /SGD: lr must be >= 0/);
  assert.throws(
    () => new optim.SGD(p, { lr: 0.1, nesterov: true }),
    /Nesterov momentum requires a momentum/,
  );
  assert.throws(() => new optim.Adam(p, { betas: [0.9, 1.5] }), /betas must be in \[0, 1\)/);
  assert.throws(() => new nn.Dropout(1.5), /Dropout: probability must be in \[0, 1\]/);
  assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), /not divisible by groups 2/);
  assert.throws(
    () => new nn.MaxPool2d(2, { padding: 2 }).forward(zeros([1, 1, 8, 8])),
    /padding 2,2 must be at most half/,
  );
});

Deno.test("loadStateDict reports missing, unexpected and wrongly shaped keys", () => {
  const model = new nn.Sequential(new nn.Linear(2, 3));
  const sd = new Map([["0.weight", zeros([3, 2])], ["extra", zeros([1])]]);
  assert.throws(
    () => model.loadStateDict(sd),
    /missing keys \[0\.bias\].*unexpected keys \[extra\]/,
  );
  const wrong = new Map([["0.weight", zeros([2, 3])], ["0.bias", zeros([3])]]);
  assert.throws(
    () => model.loadStateDict(wrong),
    /'0\.weight' has shape \[2,3\], the module expects \[3,2\]/,
  );
  for (const t of [...sd.values(), ...wrong.values()]) t.dispose();
});

Deno.test("backward without a graph, or through a freed graph, explains itself", () => {
  assert.throws(() => zeros([1]).backward(), /does not require grad/);
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  assert.throws(() => w.mul(2).backward(), /gradient can be implied only for one element/);
  const y = w.mul(w).sum();
  y.backward();
  assert.throws(() => y.backward(), /already used and freed; pass \{ retainGraph: true \}/);
  w.dispose();
});

Deno.test("tensor methods refuse arguments they do not take (JavaScript would drop them)", () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  // C++'s slice(dim, start, end): here slice(1, 0) would cut rows 1.. of dimension 0.
  assert.throws(
    () => (a.slice as (...x: number[]) => unknown)(1, 0, 2),
    /slice: takes at most 2 arguments, got 3; write x\.slice\(start, end\), torch's x\[start:end\]; for another dimension x\.narrow\(dim, start, length\)/,
  );
  assert.throws(
    () => (a.sum as (...x: unknown[]) => unknown)(1, true, "float64"),
    /sum: takes at most 2 arguments, got 3/,
  );
  assert.throws(
    () => (a.transpose as (...x: number[]) => unknown)(0, 1, 2),
    /transpose: takes at most 2/,
  );
  assert.throws(
    () => (a.narrow as (...x: number[]) => unknown)(1, 0, 2, 5),
    /narrow: takes at most 3/,
  );
  assert.throws(
    () => (a.softmax as (...x: unknown[]) => unknown)(1, "float32"),
    /softmax: takes at most 1 argument,/,
  );
  assert.deepEqual(a.slice(1).shape, [1, 3]);
});

Deno.test("int32 comparisons are exact beyond 2^24, as torch's integer comparison", () => {
  // torch: a == b -> [False, False]; a != b -> [True, True]; a < b -> [True, False]
  const a = tensor(new Int32Array([16777216, 100000001])),
    b = tensor(new Int32Array([16777217, 100000000]));
  assert.deepEqual(a.eq(b).toList(), [0, 0]);
  assert.deepEqual(a.ne(b).toList(), [1, 1]);
  assert.deepEqual(a.lt(b).toList(), [1, 0]);
  assert.deepEqual(a.eq(16777217).toList(), [0, 0]);
  // Broadcast on the host path too: (big >= row).int() in torch -> [[1, 1], [1, 0], [1, 0]]
  const big = tensor(new Int32Array([2 ** 30, 1, 2]), [3, 1]);
  assert.deepEqual(big.ge(tensor(new Int32Array([1, 2 ** 30]), [1, 2])).toList(), [[1, 1], [1, 0], [
    1,
    0,
  ]]);
});

Deno.test("creation and shapes refuse what torch refuses, with the reason", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => tensor([true, false] as unknown as number[]), /an element is a boolean: write 1 and 0/],
    [
      () => tensor(new Uint8Array([1, 255]) as unknown as number[]),
      /a Uint8Array is neither float32 nor int32/,
    ],
    [() => tensor([[1, 2], [3, 4]], [4]), /the nested data is \[2,2\] but the shape says \[4\]/],
    // torch: "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension"
    [
      () => tensor([1, 2]).expand(-2, 2),
      /expand: size -2 at dimension 0 of \[-2,2\] is not allowed/,
    ],
    [() => tensor([[1], [2]]).expand(2, 2.5), /size 2\.5 at dimension 1/],
    // torch: "upper bound and larger bound inconsistent with step sign"
    [() => arange(0, 5, -1), /step -1 goes away from end 5/],
    [() => arange(0, Infinity), /start and end must be finite/],
    // torch: "value cannot be converted to type float without overflow"
    [() => full([1], 1e40), /beyond float32's range/],
    [() => manualSeed(1.5), /seed must be an integer/],
  ];
  for (const [f, pattern] of bad) assert.throws(f, pattern);
  assert.deepEqual(tensor([1, 2, 3, 4], [2, 2]).shape, [2, 2]);
  assert.deepEqual(arange(5, 0, -2).toList(), [5, 3, 1]);
});

Deno.test("F.batchNorm with torch's training=True in a tensor's slot says where options go", () => {
  const x = randn([2, 3, 4, 4]);
  const untyped = F.batchNorm as (...args: unknown[]) => unknown; // as a port from Python calls it
  assert.throws(
    () => untyped(x, null, null, { training: true }),
    /weight must be a tensor or null, got \{"training":true\}; the options come sixth/,
  );
  assert.throws(() => untyped(x, null, null), /pass \{ training: true \} sixth/);
  assert.deepEqual(F.batchNorm(x, null, null, null, null, { training: true }).shape, [2, 3, 4, 4]);
});
