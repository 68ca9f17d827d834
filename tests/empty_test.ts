/**
 * lits.h's rule for empty sizes: a call whose output has no element is a
 * no-op that succeeds, and a gradient summed over an empty batch is zeros
 * (PyTorch's results). TypeScript no longer guards its native calls with
 * `if (x.numel() > 0)`, so these tests are what holds the rule.
 */
import assert from "node:assert/strict";
import { functional as F, ones, zeros } from "../mod.ts";
import { cpuLibraryPath, lastError } from "../src/ffi/native.ts";
import { type NativeSymbols, symbols } from "../src/ffi/symbols.ts";
import { assertShape, testDevice } from "./helpers.ts";

const device = testDevice;

Deno.test("conv2d on an empty batch: empty output, zero weight and bias gradients", () => {
  const x = zeros([0, 3, 5, 5], { device, requiresGrad: true });
  const w = ones([4, 3, 3, 3], { device, requiresGrad: true });
  const b = ones([4], { device, requiresGrad: true });
  const y = F.conv2d(x, w, b, { padding: 1 });
  assertShape(y, [0, 4, 5, 5]);
  y.sum().backward();
  assertShape(x.grad!, [0, 3, 5, 5]);
  assert.deepEqual([...w.grad!.toArray()], new Array(4 * 3 * 3 * 3).fill(0));
  assert.deepEqual([...b.grad!.toArray()], [0, 0, 0, 0]);
});

Deno.test("pooling and batch norm (eval) on an empty batch give empty results", () => {
  const x = zeros([0, 2, 4, 4], { device, requiresGrad: true });
  for (
    const y of [
      F.maxPool2d(x, 2),
      F.avgPool2d(x, 2),
      F.adaptiveAvgPool2d(x, [1, 1]),
    ]
  ) {
    assert.equal(y.numel(), 0);
    y.sum().backward();
    assertShape(x.grad!, [0, 2, 4, 4]);
  }
  const y = F.batchNorm(
    zeros([0, 2, 4, 4], { device }),
    zeros([2], { device }),
    ones([2], { device }),
    null,
    null,
    {
      training: false,
    },
  );
  assertShape(y, [0, 2, 4, 4]);
});

Deno.test("elementwise, softmax, reductions and casts of empty tensors", () => {
  const x = zeros([2, 0, 3], { device, requiresGrad: true });
  const y = x.relu().add(ones([3], { device })).exp();
  assertShape(y, [2, 0, 3]);
  assertShape(F.softmax(x, 2), [2, 0, 3]);
  assertShape(x.sum(1), [2, 3]);
  assert.deepEqual([...x.sum(1).toArray()], [0, 0, 0, 0, 0, 0]);
  assertShape(x.permute([2, 0, 1]).contiguous(), [3, 2, 0]);
  y.sum().backward();
  assertShape(x.grad!, [2, 0, 3]);
});

Deno.test("native calls with empty sizes succeed without reading NULL pointers", () => {
  const dl = Deno.dlopen(cpuLibraryPath(), symbols);
  try {
    const lib = dl.symbols as unknown as NativeSymbols;
    const ok = (status: number, what: string) =>
      assert.equal(status, 0, `${what}: ${lastError(lib)}`);
    // Pooling and batch norm: n = 0 or c = 0 is a no-op.
    const pool = (n: number, c: number) => new Int32Array([n, c, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2]);
    ok(lib.lits_maxpool2d_forward_f32(pool(0, 3), null, null, 0, null, null), "maxpool");
    ok(lib.lits_avgpool2d_forward_f32(pool(2, 0), null, null, 1), "avgpool");
    ok(lib.lits_adaptive_avgpool2d_backward_f32(null, null, 0, 3, 4, 4, 1, 1), "adaptive");
    ok(
      lib.lits_batchnorm2d_forward_infer_f32(null, null, null, null, null, null, 0, 3, 16, 1e-5),
      "bn",
    );
    const conv = new Int32Array([0, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    ok(lib.lits_conv2d_forward_f32(conv, null, null, 0, null, null, null), "conv");
    ok(lib.lits_gemm_f32(0, 0, 0, 4, 3, 1, null, 3, null, 4, 0, null, 4, 1, 0, 0, 0), "gemm");
    ok(lib.lits_sgd_step_f32(null, null, null, 0, 0.1, 0.9, 0, 0, 0, 1), "sgd");
    // Negative sizes stay errors, named by the shared checks.
    assert.equal(lib.lits_maxpool2d_forward_f32(pool(-1, 3), null, null, 0, null, null), 1);
    assert.match(lastError(lib), /lits_maxpool2d_forward_f32: input sizes n=-1/);
    assert.equal(
      lib.lits_batchnorm2d_forward_infer_f32(null, null, null, null, null, null, 2, -3, 16, 1e-5),
      1,
    );
    assert.match(lastError(lib), /sizes n=2 c=-3 hw=16 must be >= 0/);
    // The geometry struct itself is required.
    assert.equal(lib.lits_conv2d_forward_f32(null, null, null, 0, null, null, null), 1);
    assert.match(lastError(lib), /lits_conv2d_forward_f32: params is NULL/);
    // Training batch norm still needs more than one value per channel.
    const st = lib.lits_batchnorm2d_forward_train_f32(
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      0,
      3,
      16,
      0.1,
      1e-5,
    );
    assert.equal(st, 1);
    assert.match(lastError(lib), /more than 1 value per channel/);
  } finally {
    dl.close();
  }
});
