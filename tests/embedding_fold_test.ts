/**
 * nn.Embedding (init, padding row, fromPretrained, maxNorm in place,
 * scaleGradByFreq) and F.unfold / F.fold beyond the fixtures of
 * layers_1d_test.ts: fold is unfold's adjoint, unfold is exact on
 * non-finite values, and each refuses bad arguments with an error that
 * names it.
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, randn, type Tensor, tensor } from "../mod.ts";
import { testDevice } from "./helpers.ts";

const ids = (values: number[], shape = [values.length]) =>
  tensor(new Int32Array(values), shape, { dtype: "int32", device: testDevice });

/** Asserts `fn` throws an Error whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: Error) => {
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

Deno.test("nn.Embedding: N(0, 1) rows, the padding row zero, state dict as torch's", () => {
  const m = new nn.Embedding(400, 50, { paddingIdx: -3 });
  assert.equal(m.paddingIdx, 397);
  assert.deepEqual([m.numEmbeddings, m.embeddingDim], [400, 50]);
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], ["weight"]);
  assert.deepEqual(sd.get("weight")!.shape, [400, 50]);
  const w = m.weight.toArray() as Float32Array;
  assert.ok(w.subarray(397 * 50, 398 * 50).every((v) => v === 0), "padding row zero");
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const sd2 = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(mean) < 0.02 && Math.abs(sd2 - 1) < 0.02, `mean ${mean}, std ${sd2}`);
  assert.ok(m.weight.requiresGrad);
});

Deno.test("nn.Embedding: the padding row is read but gets no gradient", () => {
  const m = new nn.Embedding(4, 3, { paddingIdx: 1 });
  if (testDevice !== "cpu") m.to(testDevice);
  noGrad(() => m.weight.copy_(randn([4, 3]).to(testDevice))); // a non-zero padding row
  const y = m(ids([1, 2, 1, 0], [2, 2]));
  assert.deepEqual(y.shape, [2, 2, 3]);
  assert.deepEqual([...y.toArray().subarray(0, 3)], [...m.weight.toArray().subarray(3, 6)]);
  y.sum().backward();
  assert.deepEqual([...m.weight.grad!.toArray()], [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
});

Deno.test("nn.Embedding: scaleGradByFreq and maxNorm, as torch's", () => {
  const m = new nn.Embedding(3, 2, { scaleGradByFreq: true });
  m(ids([2, 2, 0, 2])).sum().backward();
  const g = [...m.weight.grad!.toArray()];
  assert.deepEqual(g.map((v) => Math.round(v * 1e6) / 1e6), [1, 1, 0, 0, 1, 1]);
  // maxNorm: the looked-up rows above the norm are scaled to it in place; others are not.
  const e = new nn.Embedding(3, 2, { maxNorm: 1 });
  noGrad(() => e.weight.copy_(tensor([[3, 4], [6, 8], [0.3, 0.4]])));
  const y = e(ids([0, 2]));
  const w = [...e.weight.toArray()];
  assert.ok(Math.abs(w[0] - 0.6) < 1e-6 && Math.abs(w[1] - 0.8) < 1e-6, `row 0 ${w}`);
  assert.deepEqual(w.slice(2), [6, 8, 0.30000001192092896, 0.4000000059604645]);
  assert.ok(Math.abs(y.toArray()[0] - 0.6) < 1e-6);
});

Deno.test("nn.Embedding.fromPretrained: a frozen copy unless freeze is false", () => {
  const v = tensor([[1, 2], [3, 4], [5, 6]]);
  const frozen = nn.Embedding.fromPretrained(v);
  assert.equal(frozen.weight.requiresGrad, false);
  assert.deepEqual(frozen(ids([2, 0])).toList(), [[5, 6], [1, 2]]);
  assert.deepEqual(v.toList(), [[1, 2], [3, 4], [5, 6]], "the given tensor is kept");
  const trained = nn.Embedding.fromPretrained(v, { freeze: false, paddingIdx: 0 });
  assert.equal(trained.weight.requiresGrad, true);
  assert.equal(trained.paddingIdx, 0);
  assert.deepEqual(trained(ids([0])).toList(), [[1, 2]], "the padding row as given");
  refuses(() => nn.Embedding.fromPretrained(tensor([1, 2])), /fromPretrained: .*2-D/);
  refuses(() => nn.Embedding.fromPretrained(v, { freeze: 1 as never }), /freeze must be/);
  refuses(() => nn.Embedding.fromPretrained(v, { paddingIdx: 3 }), /paddingIdx 3 must be within/);
});

Deno.test("embedding and nn.Embedding refuse bad arguments, by name", () => {
  const w = randn([5, 3]);
  refuses(() => F.embedding(tensor([1, 2]), w), /^embedding: indices must be an int32 tensor/);
  refuses(() => F.embedding(ids([5]), w), /embedding.*index 5 .*out of range \[0, 5\)/);
  refuses(() => F.embedding(ids([-1]), w), /embedding.*index -1 .*out of range/);
  refuses(() => F.embedding(ids([7]), w, { paddingIdx: 0 }), /^embedding: index 7 /);
  refuses(() => F.embedding(ids([1]), randn([5])), /embedding: weight must be 2-D/);
  refuses(() => F.embedding(ids([1]), w.int()), /embedding: expected a float32 tensor/);
  refuses(() => F.embedding(ids([1]), w, { sparse: true }), /embedding: sparse gradients/);
  refuses(() => F.embedding(ids([1]), w, { maxNorm: -1 }), /embedding: maxNorm must be/);
  refuses(() => F.embedding(ids([1]), w, { normType: 0 }), /embedding: normType must be/);
  refuses(() => F.embedding(ids([1]), w, { padding_idx: 0 } as never), /write 'paddingIdx'/);
  refuses(() => F.embedding(ids([1]), w, { paddingIdx: 1.5 }), /paddingIdx must be an integer/);
  refuses(() => new nn.Embedding(5, 3, { paddingIdx: 5 }), /nn.Embedding: paddingIdx 5/);
  refuses(() => new nn.Embedding(5, 3, { sparse: true }), /nn.Embedding: sparse gradients/);
  refuses(() => new nn.Embedding(-1, 3), /nn.Embedding: numEmbeddings must be an integer/);
  refuses(() => new nn.Embedding(5, 3)(tensor([0.0])), /embedding: indices must be an int32/);
  refuses(() => F.embedding(w as never, ids([1]) as never), /^embedding: indices must be/);
  // An empty index gives an empty result.
  assert.deepEqual(F.embedding(ids([], [0, 2]), w).shape, [0, 2, 3]);
});

/** sum(a * b) on the host, in float64. */
function dot(a: Tensor, b: Tensor): number {
  const x = a.toArray() as Float32Array, y = b.toArray();
  return x.reduce((s, v, i) => s + v * y[i], 0);
}

Deno.test("fold is unfold's adjoint: <unfold(x), c> = <x, fold(c)>", () => {
  const opts = {
    stride: [2, 1] as [number, number],
    padding: 1,
    dilation: [1, 2] as [number, number],
  };
  const x = randn([2, 3, 7, 6]);
  const cols = F.unfold(x, [3, 2], opts);
  const c = randn([...cols.shape]);
  const lhs = dot(cols, c), rhs = dot(x, F.fold(c, [7, 6], [3, 2], opts));
  assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.abs(lhs), `${lhs} vs ${rhs}`);
  // fold(unfold(ones)) counts how many blocks cover each pixel.
  const counts = F.fold(F.unfold(randn([1, 1, 4, 4]).mul(0).add(1), 3, { padding: 1 }), 4, 3, {
    padding: 1,
  });
  assert.deepEqual([...counts.toArray()], [4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4]);
});

Deno.test("unfold copies exactly: NaN and infinities stay where they were", () => {
  const x = tensor([[[[1, NaN], [Infinity, -2]]]]);
  const cols = F.unfold(x, 1);
  assert.deepEqual([...cols.toArray()], [1, NaN, Infinity, -2]);
  const padded = F.unfold(x, 2, { padding: 1 }).toArray();
  assert.equal(padded.filter(Number.isNaN).length, 4, "one NaN per block that covers it");
});

Deno.test("unfold and fold refuse bad arguments, by name", () => {
  const x = randn([1, 2, 4, 4]);
  refuses(() => F.unfold(randn([4, 4]), 2), /^unfold: expected a 3-D .* or 4-D/);
  refuses(() => F.unfold(x, 5), /^unfold: an image of 4 x 4 .* has 0 x 0 sliding blocks/);
  refuses(() => F.unfold(x, 0), /^unfold: kernelSize must be integers >= 1/);
  refuses(() => F.unfold(x, 2, { stride: 0 }), /^unfold: stride must be integers >= 1/);
  refuses(() => F.unfold(x, 2, { padding: -1 }), /^unfold: padding must be integers >= 0/);
  refuses(() => F.unfold(x, 2, { step: 1 } as never), /^unfold: unknown option 'step'/);
  refuses(() => F.unfold(x.int(), 2), /^unfold: expected a float32 tensor/);
  refuses(() => F.fold(randn([1, 7, 9]), [4, 4], 2), /^fold: .*\(7\) must be divisible .* \(4\)/);
  refuses(() => F.fold(randn([1, 8, 8]), [4, 4], 2), /^fold: .*9 sliding blocks.* 8 in its last/);
  refuses(() => F.fold(randn([1, 1, 8, 8]), [4, 4], 2), /^fold: expected a 2-D .* or 3-D/);
  refuses(() => F.fold(randn([1, 4, 9]), [0, 4], 2), /^fold: outputSize must be integers >= 1/);
  refuses(() => new nn.Unfold(2, { padding: -1 }), /^nn.Unfold: padding/);
  refuses(() => new nn.Fold([4, 4], [2, 2, 2] as never), /^nn.Fold: kernelSize/);
  refuses(() => Reflect.construct(nn.Fold, [4, 2, {}, 1]), /^nn.Fold: takes at most 3/);
});
