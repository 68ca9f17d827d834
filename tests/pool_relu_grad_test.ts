/**
 * Max pooling's gradient, deferred, and a ReLU's gradient of it written
 * with it in one pass (the small CNN's conv -> ReLU -> pool in training),
 * its mask taken from the pool's output (`lits_maxpool2d_backward_relu_out_f32`:
 * each window's value is the ReLU's output at its argmax) or, where that
 * output was written since the forward, from the ReLU's input
 * (`lits_maxpool2d_backward_relu_f32`): the bits of the plain path (pooling's
 * backward, then the ReLU mask) with 2x2 windows, overlapping 3x3 ones,
 * sizes the pool cuts, a batch of one, NaN, the convolution's bias
 * gradient from the same pass; the cases that keep the plain path (a
 * second reader of the ReLU's output, a batch norm between); and bad
 * calls, refused with an error.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, noGrad, randn, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { assertBits, countCalls, fusedAndPlain } from "./helpers.ts";

const BY_OUTPUT = "lits_maxpool2d_backward_relu_out_f32";
const BY_INPUT = "lits_maxpool2d_backward_relu_f32";

/** fn's results as arrays with fusion on and off, and the calls of `kernel`. */
function bothPaths(
  fn: () => Tensor[],
  kernel = BY_OUTPUT,
): [Float32Array[], Float32Array[], number] {
  const [[fused, plain], calls] = countCalls([kernel], () => fusedAndPlain(fn));
  return [fused, plain, calls];
}

function assertAllBits(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((got, k) => assertBits(got, b[k], `${what} #${k}`));
}

interface Case {
  name: string;
  x: number[];
  k: number;
  pool: [number, { stride?: number; padding?: number }];
  nan?: boolean;
}

const cases: Case[] = [
  { name: "2x2 windows", x: [2, 3, 12, 16], k: 8, pool: [2, {}] },
  { name: "2x2 windows, odd sizes cut, batch 1", x: [1, 2, 17, 15], k: 4, pool: [2, {}] },
  {
    name: "overlapping 3x3 windows of stride 2",
    x: [2, 3, 13, 11],
    k: 5,
    pool: [3, { stride: 2, padding: 1 }],
  },
  { name: "a NaN in the input", x: [2, 2, 8, 8], k: 4, pool: [2, {}], nan: true },
];

for (const c of cases) {
  Deno.test(`pool + relu backward: ${c.name}, in one pass, the bits of the plain path`, () => {
    const [fused, plain, calls] = bothPaths(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 0));
      const values = randn(c.x).toArray() as Float32Array;
      if (c.nan) values[5] = NaN;
      const x = tensor(values, c.x, { requiresGrad: true });
      const w = randn([c.k, c.x[1], 3, 3], { requiresGrad: true });
      const b = randn([c.k], { requiresGrad: true });
      const y = F.maxPool2d(F.relu(F.conv2d(x, w, b, { padding: 1 })), c.pool[0], c.pool[1]);
      // Weights of either sign: the gradient reaches windows whose maximum the ReLU zeroed.
      y.mul(randn([...y.shape])).sum().backward();
      return [y, x.grad!, w.grad!, b.grad!];
    });
    assert.equal(calls, 1);
    assertAllBits(fused, plain, c.name);
  });
}

Deno.test("pool + relu backward: the mask from the ReLU's input where the pool's output was written since", () => {
  const [fused, plain, calls] = bothPaths(() => {
    manualSeed(7);
    const x = randn([2, 3, 8, 8], { requiresGrad: true });
    const w = randn([4, 3, 3, 3], { requiresGrad: true });
    const y = F.maxPool2d(F.relu(F.conv2d(x, w, null, { padding: 1 })), 2);
    const loss = y.mul(randn([...y.shape])).sum();
    noGrad(() => y.mul_(-1)); // written in place after the forward
    loss.backward();
    return [x.grad!, w.grad!];
  }, BY_INPUT);
  assert.equal(calls, 1);
  assertAllBits(fused, plain, "pool output written");
});

Deno.test("pool + relu backward: the plain path where the ReLU's output has a second reader or a batch norm comes between", () => {
  const [fused, plain, calls] = bothPaths(() => {
    manualSeed(4);
    const x = randn([2, 3, 10, 10], { requiresGrad: true });
    const w = randn([4, 3, 3, 3], { requiresGrad: true });
    const a = F.relu(F.conv2d(x, w, null, { padding: 1 }));
    const twice = F.maxPool2d(a, 2).sum().add(a.mean());
    const bn = F.batchNorm(F.conv2d(x, w, null, { padding: 1 }), null, null, null, null, {
      training: true,
    });
    const normed = F.maxPool2d(F.relu(bn), 2).sum();
    twice.add(normed).backward();
    return [x.grad!, w.grad!];
  });
  assert.equal(calls, 0);
  assertAllBits(fused, plain, "second reader, batch norm");
});

Deno.test("pool + relu backward: an index outside the plane is an error that names it", () => {
  const lib = cpuLib();
  // n c h w kh kw sh sw ph pw oh ow: one 4 x 4 plane, 2x2 windows.
  const params = new Int32Array([1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2]);
  const dy = new Float32Array(4).fill(1), x = new Float32Array(16).fill(1);
  const idx = new Int32Array([0, 2, 8, 99]), dx = new Float32Array(16);
  const p = (a: Float32Array | Int32Array) => Deno.UnsafePointer.of(a);
  const status = lib.lits_maxpool2d_backward_relu_f32!(
    params,
    p(dy),
    p(idx),
    p(x),
    null,
    p(dx),
    null,
  );
  assert.equal(status, 1);
  assert.match(lastError(lib), /indices\[3\]=99 is outside \[0, h\*w=16\)/);
  const y = new Float32Array(4).fill(1);
  const byOutput = lib.lits_maxpool2d_backward_relu_out_f32!(
    params,
    p(dy),
    p(idx),
    p(y),
    p(dx),
    null,
  );
  assert.equal(byOutput, 1);
  assert.match(lastError(lib), /indices\[3\]=99 is outside \[0, h\*w=16\)/);
  assert.equal(
    lib.lits_maxpool2d_backward_relu_out_f32!(params, p(dy), p(idx), null, p(dx), null),
    1,
  );
  assert.match(lastError(lib), /y is NULL/);
});
