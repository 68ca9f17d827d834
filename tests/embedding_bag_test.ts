/**
 * F.embeddingBag and nn.EmbeddingBag against PyTorch 1.13's outputs and the
 * gradients of L = sum(out * G) for the weight and the per-sample weights
 * (tests/fixtures/embedding_bag.json, written by
 * scripts/make_embedding_bag_fixtures.py): modes "mean", "sum" and "max"
 * (ties to the first maximum), offsets with empty bags, 2-D inputs,
 * perSampleWeights, paddingIdx and includeLastOffset.
 * Then the bad inputs, each with an error that says what to write.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { functional as F, nn, scope, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  weight: StoredRecord;
  input: StoredRecord;
  offsets?: number[];
  options: Record<string, unknown>;
  perSampleWeights?: StoredRecord;
  out: StoredRecord;
  G: StoredRecord;
  gradWeight: StoredRecord;
  gradPerSampleWeights?: StoredRecord;
}
const fx = loadFixture<{ torch: string; cases: Case[] }>("embedding_bag.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

/** The fixture's values within this file's tolerances. */
const assertMatches = (t: Tensor, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

const dev = (s: StoredRecord, requiresGrad = false) =>
  fromStored(s, { requiresGrad, device: testDevice });

for (const c of fx.cases) {
  Deno.test(`embedding_bag: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const weight = dev(c.weight, true), input = dev(c.input);
      const psw = c.perSampleWeights ? dev(c.perSampleWeights, true) : undefined;
      const offsets = c.offsets === undefined
        ? undefined
        : tensor(Int32Array.from(c.offsets), [c.offsets.length], {
          dtype: "int32",
          device: testDevice,
        });
      const out = F.embeddingBag(input, weight, { ...c.options, offsets, perSampleWeights: psw });
      assertMatches(out, c.out, "out");
      out.mul(dev(c.G)).sum().backward();
      assertMatches(weight.grad!, c.gradWeight, "weight grad");
      if (psw) assertMatches(psw.grad!, c.gradPerSampleWeights!, "perSampleWeights grad");
      // The layer over the same weight, offsets as an array.
      const [rows, dim] = c.weight.shape;
      const layer = new nn.EmbeddingBag(rows, dim, c.options);
      layer.weight = weight as never;
      assertMatches(layer(input, c.offsets, psw), c.out, "nn.EmbeddingBag");
    });
  });
}

Deno.test("embedding_bag: bad inputs are refused with what to write", () => {
  scope(() => {
    const w = dev({ shape: [5, 2], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const ids = tensor(new Int32Array([0, 1, 2, 3]), [4], { dtype: "int32", device: testDevice });
    const ids2 = tensor(new Int32Array([0, 1, 2, 3]), [2, 2], {
      dtype: "int32",
      device: testDevice,
    });
    // deno-lint-ignore no-explicit-any
    const bag = (x: Tensor, o: any) => F.embeddingBag(x, w, o);
    assert.throws(() => bag(ids, {}), /a 1-D input needs offsets/);
    assert.throws(() => bag(ids2, { offsets: [0, 1] }), /2-D input .* leave offsets out/);
    assert.throws(() => bag(ids, { offsets: [1, 2] }), /offsets must start with 0/);
    assert.throws(() => bag(ids, { offsets: [0, 3, 2] }), /non-decreasing .* offsets\[2\] = 2/);
    assert.throws(() => bag(ids, { offsets: [0, 5] }), /in \[0, 4\]/);
    assert.throws(() => bag(ids, { offsets: [0, 1.5] }), /offsets\[1\] = 1\.5/);
    assert.throws(() => bag(ids, { offsets: "0,2" }), /offsets must be a 1-D int32 tensor/);
    assert.throws(
      () => bag(ids, { offsets: tensor([0, 2]) }),
      /offsets must be a 1-D int32 tensor .* got float32/,
    );
    assert.throws(
      () => bag(ids, { offsets: [0, 2], includeLastOffset: true }),
      /with includeLastOffset the offsets end with the input's length 4/,
    );
    assert.throws(() => bag(ids, { offsets: [0], mode: "median" }), /mode must be "sum", "mean"/);
    assert.throws(
      () => bag(ids, { offsets: [0], perSampleWeights: tensor([1, 1, 1, 1]) }),
      /perSampleWeights is only taken with mode "sum", got mode "mean"/,
    );
    assert.throws(
      () => bag(ids, { offsets: [0], mode: "sum", perSampleWeights: tensor([1, 1]) }),
      /perSampleWeights \[2\] must have the input's shape \[4\]/,
    );
    assert.throws(() => bag(tensor([0, 1]), { offsets: [0] }), /indices must be an int32 tensor/);
    assert.throws(
      () => bag(tensor(new Int32Array([0, 7]), [2], { dtype: "int32" }), { offsets: [0] }),
      /index 7 \(element 1 of the indices\) is out of range \[0, 5\)/,
    );
    assert.throws(() => bag(ids, { offsets: [0], paddingIdx: 5 }), /paddingIdx 5 must be within/);
    assert.throws(() => bag(ids, { offsets: [0], sparse: true }), /sparse gradients/);
    assert.throws(
      () => bag(ids, { offsets: [0], mode: "max", scaleGradByFreq: true }),
      /mode "max" does not support scaleGradByFreq/,
    );
    assert.throws(() => bag(ids, { offsets: [0], per_sample_weights: null }), /perSampleWeights/);
    assert.throws(() => new nn.EmbeddingBag(5, 2, { mode: "avg" } as never), /mode must be/);
    assert.throws(
      () => new nn.EmbeddingBag(5, 2, { offsets: [0] } as never),
      /unknown option 'offsets'/,
    );
  });
});

Deno.test("embeddingBag: maxNorm renormalises the padding row too, as torch's", () => {
  using w = tensor([[3, 4], [6, 8]]);
  using ids = tensor(new Int32Array([0, 1]), [2], { dtype: "int32" });
  using y = F.embeddingBag(ids, w, { offsets: [0], paddingIdx: 1, maxNorm: 1, mode: "sum" });
  // torch 1.13: weight [[0.6, 0.8], [0.6, 0.8]], output the non-padding row [[0.6, 0.8]].
  const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
  assert.ok(near([...w.toArray()], [0.6, 0.8, 0.6, 0.8]), `${[...w.toArray()]}`);
  assert.ok(near([...y.toArray()], [0.6, 0.8]));
});

Deno.test("nn.EmbeddingBag.fromPretrained: a frozen copy by default; refusals at construction", () => {
  using vectors = tensor([[1, 2], [3, 4], [5, 6]]);
  using bag = nn.EmbeddingBag.fromPretrained(vectors, { mode: "sum", paddingIdx: 2 });
  assert.equal(bag.weight.requiresGrad, false);
  assert.deepEqual(bag.weight.toList(), [[1, 2], [3, 4], [5, 6]]);
  using y = bag(tensor(new Int32Array([0, 1, 2]), [1, 3], { dtype: "int32" }));
  assert.deepEqual(y.toList(), [[4, 6]]); // the padding row 2 is left out
  using trainable = nn.EmbeddingBag.fromPretrained(vectors, { freeze: false });
  assert.equal(trainable.weight.requiresGrad, true);
  assert.equal(trainable.mode, "mean");
  assert.throws(() => nn.EmbeddingBag.fromPretrained(tensor([1, 2])), /2-D tensor/);
  assert.throws(
    () => nn.EmbeddingBag.fromPretrained(vectors, { freeze: 1 } as never),
    /freeze must be true or false/,
  );
  assert.throws(
    () => new nn.EmbeddingBag(5, 2, { mode: "max", scaleGradByFreq: true }),
    /nn.EmbeddingBag: mode "max" does not support scaleGradByFreq/,
  );
});
