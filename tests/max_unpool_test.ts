/**
 * F.maxUnpool1d/2d/3d and nn.MaxUnpool1d/2d/3d against PyTorch 1.13
 * (tests/fixtures/pool_indices.json, written by
 * scripts/make_pool_indices_fixtures.py): the output and the gradient of
 * L = sum(out * G) for indices from a max pool (outputSize, N and C in
 * outputSize, unbatched inputs, overlapping windows whose indices repeat)
 * and for repeated indices with different values (the last one stays, as
 * torch's CPU kernel); pool -> unpool round trips with the gradient through
 * both; torch's documentation example; then the bad inputs, each with an
 * error that names the function, and the ONNX refusal.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  memoryStats,
  nn,
  onnx,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface UnpoolCase {
  name: string;
  nd: 1 | 2 | 3;
  x: StoredRecord;
  indices: StoredRecord;
  kernel: number | number[];
  options: Record<string, number | number[]>;
  out: StoredRecord;
  G: StoredRecord;
  grad: StoredRecord;
}
interface TripCase {
  name: string;
  nd: 2 | 3;
  x: StoredRecord;
  kernel: number | number[];
  options: Record<string, number | number[]>;
  out: StoredRecord;
  G: StoredRecord;
  grad: StoredRecord;
}
const fx = loadFixture<{ torch: string; unpools: UnpoolCase[]; trips: TripCase[] }>(
  "pool_indices.json",
);
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const dev = { device: testDevice };

/** The fixture's values within this file's tolerances. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

// deno-lint-ignore no-explicit-any
type Loose = any;
const unpools: Record<1 | 2 | 3, { f: Loose; layer: Loose }> = {
  1: { f: F.maxUnpool1d, layer: nn.MaxUnpool1d },
  2: { f: F.maxUnpool2d, layer: nn.MaxUnpool2d },
  3: { f: F.maxUnpool3d, layer: nn.MaxUnpool3d },
};
const pools: Record<2 | 3, { f: Loose; layer: Loose }> = {
  2: { f: F.maxPool2d, layer: nn.MaxPool2d },
  3: { f: F.maxPool3d, layer: nn.MaxPool3d },
};

for (const c of fx.unpools) {
  Deno.test(`max_unpool: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const { f, layer } = unpools[c.nd];
      const x = fromStored(c.x, { requiresGrad: true, device: testDevice });
      const indices = fromStored(c.indices, dev);
      const out = f(x, indices, c.kernel, c.options);
      assertMatches(out, c.out, "out");
      assert.equal(out.device, testDevice);
      const g = fromStored(c.G, dev);
      out.mul(g).sum().backward();
      assertMatches(x.grad!, c.grad, "grad");
      // The layer: stride and padding at construction, outputSize in the call.
      const { outputSize, ...options } = c.options;
      const unpool = new layer(c.kernel, options);
      const y = outputSize === undefined ? unpool(x, indices) : unpool(x, indices, outputSize);
      assertMatches(y, c.out, "layer out");
    });
  });
}

for (const c of fx.trips) {
  Deno.test(`max_unpool: pool -> unpool ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const x = fromStored(c.x, { requiresGrad: true, device: testDevice });
      const pool = new pools[c.nd].layer(c.kernel, { ...c.options, returnIndices: true });
      const unpool = new unpools[c.nd].layer(c.kernel, c.options);
      const [values, indices] = pool(x);
      const out = unpool(values, indices, x.shape);
      assertMatches(out, c.out, "out");
      out.mul(fromStored(c.G, dev)).sum().backward();
      assertMatches(x.grad!, c.grad, "grad through pool and unpool");
    });
  });
}

Deno.test("max_unpool: torch's documentation example", () => {
  scope(() => {
    const pool = new nn.MaxPool2d(2, { stride: 2, returnIndices: true });
    const unpool = new nn.MaxUnpool2d(2, { stride: 2 });
    const x = tensor(
      [[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]],
      undefined,
      dev,
    );
    const [output, indices] = pool(x);
    assert.deepEqual(
      unpool(output, indices).toList(),
      [[[[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]],
    );
    const rows = [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15], [16, 17, 18, 19, 20]];
    const x5 = tensor([[rows]], undefined, dev);
    const [o5, i5] = pool(x5);
    assert.deepEqual(
      unpool(o5, i5, x5.shape).toList(),
      [[[[0, 0, 0, 0, 0], [0, 7, 0, 9, 0], [0, 0, 0, 0, 0], [0, 17, 0, 19, 0]]]],
    );
    // Without outputSize the default is 4 x 4, where index 16 (row 3, column 1 of 5) lies outside.
    assert.throws(() => unpool(o5, i5), /maxUnpool2d: found an invalid max index 16 .* 4 x 4/);
    // 1-D, as torch's MaxUnpool1d example.
    const [v1, j1] = F.maxPool1d(tensor([[[1, 2, 3, 4, 5, 6, 7, 8]]], undefined, dev), 2, {
      returnIndices: true,
    });
    assert.deepEqual([...F.maxUnpool1d(v1, j1, 2).toArray()], [0, 2, 0, 4, 0, 6, 0, 8]);
  });
});

Deno.test("max_unpool: bad inputs are refused, naming the function and what to write", () => {
  scope(() => {
    const x = randn([1, 2, 2, 2], dev);
    const ints = (v: number[]) =>
      tensor(new Int32Array(v), [1, 2, 2, 2], { dtype: "int32", device: testDevice });
    const idx = ints([0, 3, 9, 15, 1, 2, 3, 4]);
    const loose = (v: unknown) => v as Loose;
    assert.deepEqual(F.maxUnpool2d(x, idx, 2).shape, [1, 2, 4, 4]);
    assert.throws(
      () => F.maxUnpool2d(x, ints([-20, 3, 9, 15, 1, 2, 3, 4]), 2),
      /maxUnpool2d: found an invalid max index -20 \(at flat position 0.*must be 0 to 15/,
    );
    assert.throws(() => F.maxUnpool2d(x, idx, 2, { outputSize: [3, 3] }), /invalid max index 9/);
    assert.throws(
      () => F.maxUnpool2d(x, idx.float(), 2),
      /maxUnpool2d: indices must be int32 .*got float32; convert them with indices.int\(\)/,
    );
    assert.throws(
      () => F.maxUnpool2d(x, idx.reshape([1, 2, 1, 4]), 2),
      /maxUnpool2d: indices \[1,2,1,4\] must have the shape of x \[1,2,2,2\]/,
    );
    assert.throws(() => F.maxUnpool2d(x.int(), idx, 2), /maxUnpool2d: expected a float32/);
    assert.throws(
      () => F.maxUnpool2d(randn([4, 4], dev), idx.reshape([2, 4]), 2),
      /maxUnpool2d: expected x \[N, C, H, W\] or unbatched \[C, H, W\], got \[4,4\]/,
    );
    assert.throws(
      () => F.maxUnpool3d(x.reshape([2, 2, 2]), idx.reshape([2, 2, 2]), 2),
      /maxUnpool3d: expected x \[N, C, D, H, W\] or unbatched \[C, D, H, W\]/,
    );
    assert.throws(() => F.maxUnpool2d(loose([1, 2]), idx, 2), /maxUnpool2d: expected a Tensor/);
    assert.throws(() => F.maxUnpool2d(x, loose(null), 2), /maxUnpool2d: indices: expected a/);
    assert.throws(() => F.maxUnpool2d(x, idx, 0), /maxUnpool2d: kernel size must be integers >= 1/);
    assert.throws(() => F.maxUnpool2d(x, idx, 2, { stride: 0 }), /maxUnpool2d: stride must be/);
    assert.throws(() => F.maxUnpool2d(x, idx, 2, { padding: -1 }), /maxUnpool2d: padding must/);
    assert.throws(() => F.maxUnpool2d(x, idx, NaN), /kernel size must be integers >= 1, got NaN/);
    assert.throws(() => F.maxUnpool1d(randn([1, 2, 3], dev), idx.reshape([1, 2, 4]), 2), /shape/);
    assert.throws(
      () => F.maxUnpool2d(x, idx, 2, { outputSize: [2, 2] }),
      /maxUnpool2d: invalid outputSize \[2,2\]: dimension 0 must be above 2 and below 6/,
    );
    assert.throws(
      () => F.maxUnpool2d(x, idx, 2, { outputSize: [1, 4, 4] }),
      /outputSize must be 2 sizes \(or 4, with N and C\)/,
    );
    assert.throws(
      () => F.maxUnpool2d(x, idx, 2, { outputSize: [4, 4.5] }),
      /outputSize must be integers >= 0/,
    );
    assert.throws(() => F.maxUnpool2d(x, idx, 2, { padding: 2 }), /the output \[0,0\] is empty/);
    assert.throws(() => F.maxUnpool2d(x, idx, 2, loose({ output_size: [4, 4] })), /'outputSize'/);
    assert.throws(() => loose(F.maxUnpool2d)(x, idx, 2, 2), /expected an options object/);
    assert.throws(() => loose(F.maxUnpool2d)(x, idx, 2, {}, 1), /takes at most 4 arguments/);
    assert.throws(
      () => F.maxUnpool2d(randn([1, 0, 2, 2], dev), idx.narrow(1, 0, 0), 2),
      /maxUnpool2d: x \[1,0,2,2\] is empty in dimension 1/,
    );
    // An empty batch is fine, as torch's.
    assert.deepEqual(F.maxUnpool2d(randn([0, 2, 2, 2], dev), idx.narrow(0, 0, 0), 2).shape, [
      0,
      2,
      4,
      4,
    ]);
    // The layers.
    assert.throws(() => loose(nn.MaxUnpool2d)(2), /class constructor|cannot be invoked/i);
    assert.throws(() => new nn.MaxUnpool2d(2, loose(2)), /expected an options object/);
    assert.throws(() => new nn.MaxUnpool2d(2, loose({ outputSize: [4, 4] })), /'outputSize'/);
    assert.throws(() => new nn.MaxUnpool2d([2, 2, 2] as Loose), /nn.MaxUnpool2d: kernel size/);
    assert.throws(() => new nn.MaxUnpool3d(2, { stride: 0 }), /nn.MaxUnpool3d: stride/);
    assert.throws(() => new nn.MaxUnpool1d(2, { padding: -1 }), /nn.MaxUnpool1d: padding/);
    assert.throws(
      () => loose(new nn.MaxUnpool2d(2))(x, idx, [4, 4], 1),
      /nn.MaxUnpool2d: takes at most 3 arguments/,
    );
    assert.throws(() => new nn.MaxUnpool2d(2)(x, idx.float()), /maxUnpool2d: indices must be/);
  });
});

Deno.test("max_unpool: ONNX export refuses the unpools, naming the layer", () => {
  const refusal = (name: string) => new RegExp(`${name}\\).*takes the indices of a max pool`);
  // [N, 2, 2, 4] flattened to [N, 2, 8] for the 1-D one.
  assert.throws(
    () =>
      onnx.exportOnnx(new nn.Sequential(new nn.Flatten(2), new nn.MaxUnpool1d(2)), {
        inputShape: ["N", 2, 2, 4],
      }),
    refusal("MaxUnpool1d"),
  );
  assert.throws(
    () => onnx.exportOnnx(new nn.Sequential(new nn.MaxUnpool2d(2)), { inputShape: ["N", 2, 4, 4] }),
    refusal("MaxUnpool2d"),
  );
  assert.throws(
    () =>
      onnx.exportOnnx(new nn.Sequential(new nn.MaxUnpool3d(2)), { inputShape: ["N", 2, 4, 4, 4] }),
    refusal("MaxUnpool3d"),
  );
});

Deno.test("SegNet's step: unpool's output is freed at the step as other ops' (no growth), and a pool pair in nn.Sequential is named", () => {
  const pool = new nn.MaxPool2d(2, { returnIndices: true }), unpool = new nn.MaxUnpool2d(2);
  const conv = new nn.Conv2d(2, 2, 3, { padding: 1 });
  const opt = new optim.SGD(conv.parameters(), { lr: 0.01 });
  const x = randn([2, 2, 32, 32]);
  let before = 0;
  for (let step = 0; step < 12; step++) {
    if (step === 2) before = memoryStats().bytesInUse;
    opt.zeroGrad();
    const [values, indices] = pool(conv(x));
    unpool(values, indices).square().mean().backward();
    opt.step();
  }
  // 8 KiB of output per step would grow by 80 KiB; the step frees it.
  assert.ok(memoryStats().bytesInUse - before < 40_000, `${memoryStats().bytesInUse - before}`);
  const seq = new nn.Sequential(new nn.MaxPool2d(2, { returnIndices: true }), new nn.ReLU());
  assert.throws(
    () => seq(randn([1, 1, 4, 4])),
    /relu: expected a tensor, got a pair of tensors \(a max pool with returnIndices gives \[values, indices\]/,
  );
});
