/**
 * F.maxPool1d and nn.MaxPool1d with `dilation` and `returnIndices`, against
 * PyTorch 1.13's values, indices and gradients of L = sum(out * G)
 * (tests/fixtures/pool1d_more.json, written by
 * scripts/make_pool1d_more_fixtures.py): ties go to the first maximum, NaN
 * to the last NaN of its window, padding is -inf, and a window with no tap
 * inside the input is -inf at torch's index. Then the bad options, each
 * with an error that says what to write.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { functional as F, nn, onnx, scope, type Tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  x: StoredRecord;
  kernel: number;
  options: Record<string, number | boolean>;
  values: StoredRecord;
  indices: StoredRecord;
  G?: StoredRecord;
  grad?: StoredRecord;
}
const fx = loadFixture<{ torch: string; cases: Case[] }>("pool1d_more.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

/** The fixture's values within this file's tolerances. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

for (const c of fx.cases) {
  Deno.test(`pool1d_more: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const x = fromStored(c.x, { requiresGrad: c.grad !== undefined, device: testDevice });
      const [values, indices] = F.maxPool1d(x, c.kernel, { ...c.options, returnIndices: true });
      assertMatches(values, c.values, "values");
      assert.equal(indices.dtype, "int32");
      assert.equal(indices.device, testDevice);
      assert.deepEqual([...indices.shape], c.indices.shape);
      assert.deepEqual([...indices.toArray()], c.indices.data, "indices");
      // Without indices: the same values (dilation 1 on the 2-D kernel).
      const plain = F.maxPool1d(x, c.kernel, c.options);
      assertMatches(plain, c.values, "values without indices");
      // The layer, both ways.
      const layer = new nn.MaxPool1d(c.kernel, { ...c.options, returnIndices: true });
      const [lv, li] = layer(x);
      assertMatches(lv, c.values, "nn.MaxPool1d values");
      assert.deepEqual([...li.toArray()], c.indices.data, "nn.MaxPool1d indices");
      assertMatches(new nn.MaxPool1d(c.kernel, c.options)(x), c.values, "nn.MaxPool1d");
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

Deno.test("pool1d_more: bad dilation and returnIndices are refused with what to write", () => {
  scope(() => {
    const x = fromStored({ shape: [1, 2, 6], data: Array.from({ length: 12 }, (_, i) => i) }, {
      device: testDevice,
    });
    // deno-lint-ignore no-explicit-any
    const loose = (o: unknown) => o as any;
    assert.throws(() => F.maxPool1d(x, 2, { dilation: 0 }), /maxPool1d: dilation/);
    assert.throws(() => F.maxPool1d(x, 2, { dilation: 1.5 }), /maxPool1d: dilation/);
    assert.throws(() => F.maxPool1d(x, 2, { dilation: NaN }), /maxPool1d: dilation/);
    assert.throws(
      () => F.maxPool1d(x, 2, loose({ returnIndices: "yes" })),
      /maxPool1d: returnIndices must be true or false, got "yes"/,
    );
    assert.throws(
      () => F.maxPool1d(x, 3, { dilation: 3 }),
      /input of length 6 is too small for kernel 3 \(padding 0, dilation 3\)/,
    );
    assert.throws(() => F.maxPool1d(x, 2, loose({ return_indices: true })), /returnIndices/);
    assert.throws(() => F.avgPool1d(x, 2, loose({ dilation: 2 })), /avgPool1d.*dilation/);
    assert.throws(() => F.avgPool1d(x, 2, loose({ returnIndices: true })), /returnIndices/);
    assert.throws(
      () => new nn.MaxPool1d(2, loose({ returnIndices: 1 }))(x),
      /returnIndices must be true or false/,
    );
  });
});

Deno.test("pool1d_more: ONNX export refuses what its MaxPool would drop (indices)", () => {
  // [N, 2, 2, 4] flattened to [N, 2, 8]; dilation is exported (tests/layers_1d_test.ts).
  const model = new nn.Sequential(new nn.Flatten(2), new nn.MaxPool1d(2, { returnIndices: true }));
  assert.throws(
    () => onnx.exportOnnx(model, { inputShape: ["N", 2, 2, 4] }),
    /MaxPool1d with returnIndices is not exported/,
  );
});
