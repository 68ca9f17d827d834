/**
 * classificationReport's classes and its refusals, against scikit-learn
 * 1.2.1 (numbers below from `classification_report(..., output_dict=True,
 * zero_division=0)` and its text): without numClasses or classNames the
 * classes are the labels present in either list (`unique_labels`), and the
 * text has an "accuracy" row; with them every class 0..C-1 is listed and a
 * class seen nowhere turns that row into "micro avg". Empty inputs throw
 * instead of giving a report of zeros.
 */
import assert from "node:assert/strict";
import { metrics } from "../mod.ts";
import { assertClose } from "./helpers.ts";

const TOL = { rtol: 1e-12, atol: 1e-12 };

/** [precision, recall, f1, support] of a report row. */
function row(r: metrics.AverageMetrics | metrics.ClassMetrics): number[] {
  return [r.precision, r.recall, r.f1, r.support];
}

Deno.test("without numClasses the report lists the labels present, as sklearn", () => {
  // Class 1 occurs in neither list: it once had a row and pulled the macro
  // average down to 0.5556 / 0.5000 / 0.4889.
  const r = metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2]);
  assert.deepEqual(r.classes.map((c) => c.label), [0, 2]);
  assert.deepEqual(r.classes.map((c) => c.name), ["0", "2"]);
  assertClose(row(r.classes[0]), [1, 0.5, 0.6666666666666666, 2], TOL);
  assertClose(row(r.classes[1]), [0.6666666666666666, 1, 0.8, 2], TOL);
  assertClose(row(r.macroAvg), [0.8333333333333333, 0.75, 0.7333333333333334, 4], TOL);
  assertClose(row(r.weightedAvg), [0.8333333333333333, 0.75, 0.7333333333333334, 4], TOL);
  assert.equal(r.accuracy, 0.75);
  assert.equal(r.balancedAccuracy, 0.75);
  assert.deepEqual(r.confusion, [[1, 1], [0, 2]]); // confusion_matrix(y, p)
  assert.equal(
    metrics.formatClassificationReport(r),
    `              precision    recall  f1-score   support

           0       1.00      0.50      0.67         2
           2       0.67      1.00      0.80         2

    accuracy                           0.75         4
   macro avg       0.83      0.75      0.73         4
weighted avg       0.83      0.75      0.73         4
`,
  );
});

Deno.test("with numClasses every class 0..C-1 is listed, as sklearn's labels=range(C)", () => {
  for (
    const r of [
      metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2], { numClasses: 3 }),
      metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2], { classNames: ["a", "b", "c"] }),
    ]
  ) {
    assert.deepEqual(r.classes.map((c) => c.label), [0, 1, 2]);
    assertClose(row(r.macroAvg), [0.5555555555555555, 0.5, 0.48888888888888893, 4], TOL);
    assertClose(row(r.weightedAvg), [0.8333333333333333, 0.75, 0.7333333333333334, 4], TOL);
    assert.equal(r.balancedAccuracy, 0.75);
    assert.deepEqual(r.confusion, [[1, 0, 1], [0, 0, 0], [0, 0, 2]]);
  }
  const r = metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2], { numClasses: 3 });
  assert.equal(
    metrics.formatClassificationReport(r, { digits: 4 }),
    `              precision    recall  f1-score   support

           0     1.0000    0.5000    0.6667         2
           1     0.0000    0.0000    0.0000         0
           2     0.6667    1.0000    0.8000         2

   micro avg     0.7500    0.7500    0.7500         4
   macro avg     0.5556    0.5000    0.4889         4
weighted avg     0.8333    0.7500    0.7333         4
`,
  );
});

Deno.test("present labels: large ones, and ones seen only in the predictions", () => {
  // A large label is a row, not the 101st of a 101 x 101 matrix.
  const big = metrics.classificationReport([5, 100, 100], [5, 5, 100]);
  assert.deepEqual(big.classes.map((c) => c.label), [5, 100]);
  assert.deepEqual(big.confusion, [[1, 0], [1, 1]]);
  assertClose(row(big.macroAvg), [0.75, 0.75, 0.6666666666666666, 3], TOL);
  assertClose(
    row(big.weightedAvg),
    [0.8333333333333334, 0.6666666666666666, 0.6666666666666666, 3],
    TOL,
  );
  // Label 3 is only predicted: it is listed (support 0) and the row is still "accuracy".
  const r = metrics.classificationReport([0, 0, 1], [0, 3, 1]);
  assert.deepEqual(r.classes.map((c) => c.label), [0, 1, 3]);
  assertClose(row(r.macroAvg), [0.6666666666666666, 0.5, 0.5555555555555555, 3], TOL);
  assertClose(row(r.weightedAvg), [1, 0.6666666666666666, 0.7777777777777777, 3], TOL);
  assert.equal(
    metrics.formatClassificationReport(r),
    `              precision    recall  f1-score   support

           0       1.00      0.50      0.67         2
           1       1.00      1.00      1.00         1
           3       0.00      0.00      0.00         0

    accuracy                           0.67         3
   macro avg       0.67      0.50      0.56         3
weighted avg       1.00      0.67      0.78         3
`,
  );
});

Deno.test("empty inputs throw rather than report zeros", () => {
  // sklearn: classification_report([], []) raises; accuracy_score([], []) and
  // balanced_accuracy_score give nan. A report of zeros looked like a bad model.
  for (const options of [{}, { numClasses: 2 }, { classNames: ["a", "b"] }]) {
    assert.throws(
      () => metrics.classificationReport([], [], options),
      /classificationReport: no samples \(yTrue and yPred are empty\)/,
    );
  }
  assert.throws(
    () => metrics.classificationReport(new Int32Array(0), new Int32Array(0)),
    /no samples/,
  );
  assert.throws(
    () => metrics.specificitySensitivity([], [], 2),
    /specificitySensitivity: no samples/,
  );
  // Counts stay counts: sklearn's confusion_matrix([], [], labels=[0, 1]) is zeros.
  assert.deepEqual(metrics.confusionMatrix([], [], 2), [[0, 0], [0, 0]]);
  // The curves and scores already refused; kept so.
  assert.throws(() => metrics.rocAuc([], []), /rocAuc: no samples/);
  assert.throws(() => metrics.averagePrecision([], []), /averagePrecision: no samples/);
  assert.throws(() => metrics.rocCurve([], []), /rocCurve: no samples/);
  assert.throws(() => metrics.precisionRecallCurve([], []), /precisionRecallCurve: no samples/);
});
