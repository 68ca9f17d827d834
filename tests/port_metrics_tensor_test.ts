/**
 * Metrics given what a PyTorch port passes them: label Tensors
 * (`y`, `logits.argmax(1)`), an [N, C] probability Tensor, and nested rows
 * (`probs.toList()`, sklearn's list of lists). These once gave an all-zero
 * confusion matrix and macro F1 0 silently (a Tensor has no `.length`), or
 * misleading errors. Numbers are checked against sklearn's (fixture, and a
 * hand count below).
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/metrics.json", import.meta.url)),
) as {
  multiclass: { yTrue: number[]; scores: number[]; numClasses: number; rocAucMacro: number }[];
};

const yArr = [0, 1, 2, 2, 1, 0];
const logitRows = [[3, 0, 0], [0, 3, 0], [0, 0, 3], [0, 3, 0], [0, 3, 0], [3, 0, 0]];

Deno.test("confusionMatrix and classificationReport read label Tensors", () => {
  using y = tensor(new Int32Array(yArr), [6]);
  using logits = tensor(logitRows);
  using pred = logits.argmax(1);
  const want = metrics.confusionMatrix(yArr, [0, 1, 2, 1, 1, 0], 3);
  assert.deepEqual(want, [[2, 0, 0], [0, 2, 0], [0, 1, 1]]);
  assert.deepEqual(metrics.confusionMatrix(y, pred, 3), want);
  const r = metrics.classificationReport(y, pred, { numClasses: 3 });
  const plain = metrics.classificationReport(yArr, [0, 1, 2, 1, 1, 0], { numClasses: 3 });
  assert.deepEqual(r, plain);
  // sklearn: f1 per class [1, 0.8, 2/3], macro 0.8222..., accuracy 5/6.
  assert.ok(Math.abs(r.macroAvg.f1 - (1 + 0.8 + 2 / 3) / 3) < 1e-12);
  assert.equal(r.accuracy, 5 / 6);
  // Without numClasses the labels' maximum still sets the classes.
  assert.equal(metrics.classificationReport(y, pred).classes.length, 3);
  // float32 labels (torch.tensor([0., 1.])) are read when they are integers.
  using yf = tensor(yArr);
  assert.deepEqual(metrics.confusionMatrix(yf, pred, 3), want);
  assert.deepEqual(metrics.specificitySensitivity(y, pred, 3).sensitivity, [1, 1, 0.5]);
});

Deno.test("rocAuc reads an [N, C] Tensor and nested rows as sklearn's ovr macro", () => {
  using y = tensor(new Int32Array(yArr), [6]);
  using logits = tensor(logitRows);
  using probs = logits.softmax(1);
  // By hand, each class against the rest: 1, 7/8 (one tie), 3/4 (four ties).
  const want = (1 + 7 / 8 + 3 / 4) / 3;
  const flat = probs.toArray();
  const close = (v: number) => assert.ok(Math.abs(v - want) < 1e-12, `${v} != ${want}`);
  close(metrics.rocAuc(yArr, flat));
  close(metrics.rocAuc(y, probs));
  close(metrics.rocAuc(y, probs, { numClasses: 3 }));
  close(metrics.rocAuc(yArr, probs.toList() as number[][]));
  close(metrics.rocAuc(yArr, probs, { numClasses: 3 }));
  for (const m of fx.multiclass) {
    const k = m.numClasses;
    const rows = Array.from({ length: m.yTrue.length }, (_, i) => m.scores.slice(i * k, i * k + k));
    const flatAuc = metrics.rocAuc(m.yTrue, Float64Array.from(m.scores));
    assert.equal(metrics.rocAuc(m.yTrue, rows), flatAuc);
    assert.ok(Math.abs(flatAuc - m.rocAucMacro) < 1e-9);
    using s = tensor(Float32Array.from(m.scores), [m.yTrue.length, k]);
    using yt = tensor(Int32Array.from(m.yTrue), [m.yTrue.length]);
    // The Tensor holds float32, so compare with the same float32 scores.
    assert.equal(metrics.rocAuc(yt, s), metrics.rocAuc(m.yTrue, Float32Array.from(m.scores)));
    assert.ok(
      Math.abs(
        metrics.averagePrecision(m.yTrue, rows) -
          metrics.averagePrecision(m.yTrue, Float64Array.from(m.scores)),
      ) < 1e-15,
    );
  }
  // The binary curves take a 1-D Tensor.
  using yb = tensor(new Int32Array([0, 0, 1, 1]), [4]);
  using sb = tensor([0.1, 0.4, 0.35, 0.8]);
  assert.ok(Math.abs(metrics.rocAuc(yb, sb) - 0.75) < 1e-7);
  assert.deepEqual(metrics.rocCurve(yb, sb).tpr, [0, 0.5, 0.5, 1, 1]);
});

Deno.test("metrics name the expected form when given something else", () => {
  const notArrays = [undefined, null, 3, "012", {}, { length: -1 }, { length: 1.5 }];
  for (const bad of notArrays) {
    assert.throws(
      () => metrics.confusionMatrix(bad as never, [0], 2),
      /confusionMatrix: yTrue must be an array of numbers or a Tensor, got /,
      String(bad),
    );
    assert.throws(
      () => metrics.classificationReport([0], bad as never),
      /classificationReport: yPred must be an array of numbers or a Tensor/,
    );
    assert.throws(
      () => metrics.rocAuc([0, 1], bad as never),
      /rocAuc: scores must be an array of numbers or a Tensor/,
    );
  }
  using y5 = tensor(new Int32Array([0, 1, 2, 0, 1]), [5]);
  assert.throws(() => metrics.confusionMatrix(y5, yArr, 3), /yTrue has 5 entries but yPred has 6/);
  using logits = tensor(logitRows);
  assert.throws(
    () => metrics.confusionMatrix(yArr, logits, 3),
    /yPred is a Tensor of shape \[6,3\] \(float32\); labels must be 1-D \[N\].*argmax\(1\)/,
  );
  using frac = tensor([0, 0.5, 1, 2, 1, 0]);
  assert.throws(
    () => metrics.confusionMatrix(frac, yArr, 3),
    /yTrue\[1\] = 0.5 is not a class label/,
  );
  // Nested rows: ragged, or a column count that contradicts numClasses.
  assert.throws(
    () => metrics.rocAuc([0, 1, 2], [[0.2, 0.8, 0], [1, 0], [0, 0, 1]]),
    /scores is nested arrays but scores\[1\] is an array of 2, not a row of 3 scores/,
  );
  using probs = logits.softmax(1);
  assert.throws(
    () => metrics.rocAuc(yArr, probs, { numClasses: 4 }),
    /scores has 3 columns but numClasses is 4/,
  );
  assert.throws(() => metrics.rocAuc([0, 1, 2], probs), /scores has 6 rows but yTrue has 3/);
  // A binary curve given a matrix says so, not "yTrue[2] = 2 is not 0 or 1".
  assert.throws(
    () => metrics.rocCurve(yArr, probs.toList() as number[][]),
    /rocCurve: scores is a score matrix \[6, 3\]; a curve takes one score per sample/,
  );
  // Multiclass labels with one score per sample: a forgotten matrix.
  assert.throws(
    () => metrics.rocAuc(yArr, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    /yTrue\[2\] = 2 but scores has one column \(binary\); for one-vs-rest pass an \[N, C\]/,
  );
  // Logits where sklearn wants probabilities (its multiclass roc_auc_score raises).
  using raw = tensor([[3, 0, 0], [0, 3, 0], [0, 0, 3], [1, 0, 0], [0, 1, 0]]);
  assert.throws(
    () => metrics.rocAuc(y5, raw),
    /row 0 of the score matrix sums to 3, not 1.*softmax/,
  );
});
