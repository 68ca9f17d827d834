/**
 * F.maxPool2d / F.maxPool3d and nn.MaxPool2d / nn.MaxPool3d with `dilation`
 * and `returnIndices`, against PyTorch 1.13's values, indices and gradients
 * of L = sum(out * G) (tests/fixtures/pool_indices.json, written by
 * scripts/make_pool_indices_fixtures.py): ties go to the first maximum, NaN
 * to the last NaN of its window, padding is -inf, and a window with no tap
 * inside the input is -inf at torch's index. Then the host summing of the
 * flat indices (for planes past 2^24), and the bad options, each with an
 * error that says what to write, and the ONNX export of dilation.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { functional as F, nn, onnx, randn, scope, type Tensor } from "../mod.ts";
import { maxPoolWithIndices } from "../src/tensor/ops/pool_indices.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  type StoredRecord,
  testDevice,
  withoutSymbols,
} from "./helpers.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

interface PoolCase {
  name: string;
  nd: 2 | 3;
  x: StoredRecord;
  kernel: number | number[];
  options: Record<string, number | number[] | boolean>;
  values: StoredRecord;
  indices: StoredRecord;
  G?: StoredRecord;
  grad?: StoredRecord;
}
const fx = loadFixture<{ torch: string; pools: PoolCase[] }>("pool_indices.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

/** The fixture's values within this file's tolerances. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

// deno-lint-ignore no-explicit-any
type Loose = any;
const pools = {
  2: { f: F.maxPool2d as Loose, layer: nn.MaxPool2d as Loose },
  3: { f: F.maxPool3d as Loose, layer: nn.MaxPool3d as Loose },
};

for (const c of fx.pools) {
  Deno.test(`pool_indices: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const { f, layer } = pools[c.nd];
      const x = fromStored(c.x, { requiresGrad: c.grad !== undefined, device: testDevice });
      const [values, indices] = f(x, c.kernel, { ...c.options, returnIndices: true });
      assertMatches(values, c.values, "values");
      assert.equal(indices.dtype, "int32");
      assert.equal(indices.device, testDevice);
      assert.deepEqual([...indices.shape], c.indices.shape);
      assert.deepEqual([...indices.toArray()], c.indices.data, "indices");
      // Without indices: the same values (on the native kernels without dilation).
      const plain = f(x, c.kernel, c.options);
      assertMatches(plain, c.values, "values without indices");
      // The layer, both ways.
      const [lv, li] = new layer(c.kernel, { ...c.options, returnIndices: true })(x);
      assertMatches(lv, c.values, "layer values");
      assert.deepEqual([...li.toArray()], c.indices.data, "layer indices");
      assertMatches(new layer(c.kernel, c.options)(x), c.values, "layer without indices");
      if (c.grad === undefined) return;
      const g = fromStored(c.G!, { device: testDevice });
      values.mul(g).sum().backward();
      assertMatches(x.grad!, c.grad, "grad (with indices)");
      x.grad = null;
      plain.mul(g).sum().backward();
      assertMatches(x.grad!, c.grad, "grad (values only)");
    });
  });
}

Deno.test("pool_indices: flat indices summed on the host (planes past 2^24) are the same", () => {
  scope(() => {
    for (const c of fx.pools.filter((c) => c.options.dilation !== undefined || c.nd === 3)) {
      const x = fromStored(c.x, { requiresGrad: c.grad !== undefined, device: testDevice });
      const [values, indices] = pools[c.nd].f(x, c.kernel, { ...c.options, returnIndices: true });
      const lead = x.shape.length - c.nd;
      const planes = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
      const axes = c.values.shape.slice(-c.nd).map((out, d) => {
        const at = (v: unknown, fallback: number) =>
          v === undefined ? fallback : Array.isArray(v) ? v[d] : v as number;
        const k = at(c.kernel, 1);
        return {
          k,
          s: at(c.options.stride, k),
          p: at(c.options.padding, 0),
          dil: at(c.options.dilation, 1),
          out,
        };
      });
      const rows = x.reshape([planes, ...x.shape.slice(lead)]);
      for (const limit of [0, 5]) {
        // The composed path (the CPU's native kernel hidden), which sums on the host.
        const [v, i] = withoutSymbols(
          ["lits_maxpool_indices_f32"],
          () => maxPoolWithIndices(rows, axes, "test", limit),
        );
        assert.deepEqual([...i.toArray()], [...indices.toArray()], `${c.name}: host indices`);
        assertMatches(v.reshape([...values.shape]), c.values, `${c.name}: host values`);
      }
    }
  });
});

Deno.test("pool_indices: maxPool2d takes unbatched [C, H, W] on the native kernel too", () => {
  scope(() => {
    const x = randn([2, 5, 6], { device: testDevice });
    const batched = F.maxPool2d(x.unsqueeze(0), 2, { stride: 1 });
    assert.deepEqual(F.maxPool2d(x, 2, { stride: 1 }).toArray(), batched.squeeze(0).toArray());
    assert.deepEqual(new nn.MaxPool2d(3, { padding: 1, stride: 1 })(x).shape, [2, 5, 6]);
  });
});

Deno.test("pool_indices: bad dilation and returnIndices are refused with what to write", () => {
  scope(() => {
    const x = randn([1, 2, 6, 6], { device: testDevice });
    const x3 = randn([1, 2, 4, 4, 4], { device: testDevice });
    const loose = (o: unknown) => o as Loose;
    assert.throws(() => F.maxPool2d(x, 2, { dilation: 0 }), /maxPool2d: dilation must be/);
    assert.throws(() => F.maxPool2d(x, 2, { dilation: [1, 1.5] }), /maxPool2d: dilation/);
    assert.throws(() => F.maxPool2d(x, 2, { dilation: NaN }), /maxPool2d: dilation.*NaN/);
    assert.throws(
      () => F.maxPool2d(x, 2, loose({ returnIndices: "yes" })),
      /maxPool2d: returnIndices must be true or false, got "yes"/,
    );
    assert.throws(
      () => F.maxPool2d(x, 3, { dilation: 3 }),
      /maxPool2d: input \[1,2,6,6\] is too small for kernel 3,3 \(dilation 3,3: a window spans 7 x 7\)/,
    );
    assert.throws(() => F.maxPool2d(x, 2, loose({ return_indices: true })), /'returnIndices'/);
    assert.throws(() => F.avgPool2d(x, 2, loose({ dilation: 2 })), /avgPool2d.*dilation/);
    assert.throws(() => F.avgPool2d(x, 2, loose({ returnIndices: true })), /returnIndices/);
    assert.throws(
      () => F.maxPool2d(randn([4, 4], { device: testDevice }), 2),
      /maxPool2d: expected a 4-D input \[N, C, H, W\] or a 3-D unbatched \[C, H, W\]/,
    );
    assert.throws(() => new nn.MaxPool2d(2, loose({ returnIndices: 1 })), /returnIndices must be/);
    assert.throws(() => new nn.MaxPool2d(2, { dilation: -1 }), /nn.MaxPool2d: dilation/);
    assert.throws(
      () => F.maxPool3d(x3, 2, loose({ returnIndices: "no" })),
      /maxPool3d: returnIndices must be true or false/,
    );
    assert.throws(
      () => new nn.MaxPool3d(2, loose({ returnIndices: 0 })),
      /nn.MaxPool3d: returnIndices must be true or false, got 0/,
    );
    assert.throws(() => F.maxPool3d(x3, 2, { returnIndices: true, dilation: 0 }), /dilation/);
  });
});

Deno.test("pool_indices: ONNX exports MaxPool2d dilation and refuses returnIndices", async () => {
  const model = new nn.Sequential(
    new nn.Conv2d(2, 3, 3, { padding: 1 }),
    new nn.MaxPool2d([3, 2], { dilation: [2, 3], stride: [2, 1], padding: 1, ceilMode: true }),
    new nn.MaxPool2d(2, { dilation: 2, stride: 1 }),
    new nn.Flatten(),
  );
  model.eval();
  const bytes = onnx.exportOnnx(model, { inputShape: ["N", 2, 11, 12] });
  await assertRunsAsOurs(model, bytes, [2, 11, 12]);
  for (const pool of [new nn.MaxPool2d(2, { returnIndices: true })]) {
    assert.throws(
      () => onnx.exportOnnx(new nn.Sequential(pool), { inputShape: ["N", 2, 4, 4] }),
      /MaxPool2d with returnIndices is not exported/,
    );
  }
  assert.throws(
    () =>
      onnx.exportOnnx(new nn.Sequential(new nn.MaxPool3d(2, { returnIndices: true })), {
        inputShape: ["N", 2, 4, 4, 4],
      }),
    /MaxPool3d with returnIndices is not exported/,
  );
});
