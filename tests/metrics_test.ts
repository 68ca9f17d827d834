/**
 * src/eval/metrics against scikit-learn (tests/fixtures/metrics.json, made by
 * scripts/make_metrics_fixtures.py): confusion matrices, classification
 * reports and their text, balanced accuracy, specificity, precision-recall
 * and ROC curves with tied scores, average precision and ROC AUC (binary and
 * one-vs-rest); then the edge cases and the errors on bad input.
 */
import assert from "node:assert/strict";
import { metrics } from "../mod.ts";
import { pyFixed } from "../src/eval/metrics/text.ts";
import { assertClose, loadFixture } from "./helpers.ts";

interface Row {
  precision: number;
  recall: number;
  "f1-score": number;
  support: number;
}

interface ClassificationCase {
  name: string;
  numClasses: number;
  classNames: string[];
  yTrue: number[];
  yPred: number[];
  confusion: number[][];
  report: { classes: Row[]; accuracy: number; macro: Row; weighted: Row };
  text2: string;
  text4: string;
  balancedAccuracy: number;
  specificity: number[];
}

interface BinaryCase {
  name: string;
  yTrue: number[];
  scores: number[];
  pr: { precision: number[]; recall: number[]; thresholds: number[] };
  averagePrecision: number;
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
  rocAll: { fpr: number[]; tpr: number[]; thresholds: number[] };
  rocAuc: number;
}

interface MulticlassCase {
  name: string;
  numClasses: number;
  yTrue: number[];
  scores: number[];
  rocAucMacro: number;
  rocAucWeighted: number;
  averagePrecisionMacro: number;
  perClass: BinaryCase[];
}

const fx = loadFixture<{
  sklearn: string;
  classification: ClassificationCase[];
  binary: BinaryCase[];
  multiclass: MulticlassCase[];
}>("metrics.json");

const TOL = { rtol: 1e-12, atol: 1e-12 };

function assertRow(actual: metrics.AverageMetrics | metrics.ClassMetrics, want: Row, what: string) {
  assertClose(
    [actual.precision, actual.recall, actual.f1, actual.support],
    [want.precision, want.recall, want["f1-score"], want.support],
    { ...TOL, what },
  );
}

for (const c of fx.classification) {
  Deno.test(`classification vs sklearn ${fx.sklearn}: ${c.name}`, () => {
    assert.deepEqual(metrics.confusionMatrix(c.yTrue, c.yPred, c.numClasses), c.confusion);
    const r = metrics.classificationReport(
      Int32Array.from(c.yTrue),
      c.yPred,
      { classNames: c.classNames },
    );
    assert.equal(r.classes.length, c.numClasses);
    r.classes.forEach((k, i) => assertRow(k, c.report.classes[i], `${c.name} class ${i}`));
    assertRow(r.macroAvg, c.report.macro, `${c.name} macro avg`);
    assertRow(r.weightedAvg, c.report.weighted, `${c.name} weighted avg`);
    assertClose([r.accuracy, r.balancedAccuracy], [c.report.accuracy, c.balancedAccuracy], TOL);
    assertClose(r.classes.map((k) => k.specificity), c.specificity, TOL);
    assert.deepEqual(r.classes.map((k) => k.sensitivity), r.classes.map((k) => k.recall));

    assert.equal(metrics.formatClassificationReport(r), c.text2);
    const unnamed = metrics.classificationReport(c.yTrue, c.yPred, { numClasses: c.numClasses });
    assert.equal(metrics.formatClassificationReport(unnamed, { digits: 4 }), c.text4);

    const ss = metrics.specificitySensitivity(c.yTrue, c.yPred, c.numClasses);
    assert.deepEqual(ss.specificity, r.classes.map((k) => k.specificity));
    assert.deepEqual(ss.sensitivity, r.classes.map((k) => k.recall));
  });
}

function checkBinary(b: BinaryCase) {
  const pr = metrics.precisionRecallCurve(b.yTrue, b.scores);
  assertClose(pr.precision, b.pr.precision, { ...TOL, what: `${b.name} precision` });
  assertClose(pr.recall, b.pr.recall, { ...TOL, what: `${b.name} recall` });
  assert.deepEqual(pr.thresholds, b.pr.thresholds, `${b.name} PR thresholds`);
  assertClose([metrics.averagePrecision(b.yTrue, b.scores)], [b.averagePrecision], {
    ...TOL,
    what: `${b.name} AP`,
  });

  for (
    const [curve, want] of [
      [metrics.rocCurve(b.yTrue, b.scores), b.roc],
      [metrics.rocCurve(b.yTrue, b.scores, { dropIntermediate: false }), b.rocAll],
    ] as const
  ) {
    assertClose(curve.fpr, want.fpr, { ...TOL, what: `${b.name} fpr` });
    assertClose(curve.tpr, want.tpr, { ...TOL, what: `${b.name} tpr` });
    // sklearn >= 1.3 starts at +inf; the fixture's sklearn wrote max + 1 there.
    assert.equal(curve.thresholds[0], Infinity);
    assert.deepEqual(curve.thresholds.slice(1), want.thresholds, `${b.name} ROC thresholds`);
  }
  assertClose([metrics.rocAuc(b.yTrue, b.scores)], [b.rocAuc], { ...TOL, what: `${b.name} AUC` });
}

for (const b of fx.binary) {
  Deno.test(`binary curves vs sklearn ${fx.sklearn}: ${b.name}`, () => checkBinary(b));
}

for (const m of fx.multiclass) {
  Deno.test(`one-vs-rest vs sklearn ${fx.sklearn}: ${m.name}`, () => {
    const scores = Float64Array.from(m.scores);
    for (const b of m.perClass) checkBinary(b);
    assertClose([metrics.rocAuc(m.yTrue, scores)], [m.rocAucMacro], TOL);
    assertClose(
      [metrics.rocAuc(m.yTrue, scores, { average: "weighted" })],
      [m.rocAucWeighted],
      TOL,
    );
    assertClose([metrics.averagePrecision(m.yTrue, scores)], [m.averagePrecisionMacro], TOL);
    // The per-class curves with posLabel on the raw labels equal the 0/1 ones.
    const k = m.numClasses;
    const col = Array.from({ length: m.yTrue.length }, (_, i) => m.scores[i * k + 1]);
    assert.deepEqual(
      metrics.precisionRecallCurve(m.yTrue, col, { posLabel: 1 }),
      metrics.precisionRecallCurve(m.perClass[1].yTrue, col),
    );
  });
}

Deno.test("the curves end where sklearn's do", () => {
  const pr = metrics.precisionRecallCurve([1, 0, 1], [0.9, 0.5, 0.1]);
  assert.equal(pr.precision.at(-1), 1);
  assert.equal(pr.recall.at(-1), 0);
  assert.equal(pr.precision.length, pr.thresholds.length + 1);
  const roc = metrics.rocCurve([1, 0, 1], [0.9, 0.5, 0.1]);
  assert.deepEqual([roc.fpr[0], roc.tpr[0], roc.fpr.at(-1), roc.tpr.at(-1)], [0, 0, 1, 1]);
});

Deno.test("zero division gives 0 and no NaN", () => {
  // Class 1 never occurs and is never predicted; class 2 occurs but is never predicted.
  const r = metrics.classificationReport([0, 0, 2], [0, 0, 0], { numClasses: 3 });
  for (const c of r.classes) {
    for (const v of [c.precision, c.recall, c.f1, c.specificity]) assert.ok(Number.isFinite(v));
  }
  assert.equal(r.classes[1].precision, 0);
  assert.equal(r.classes[2].recall, 0);
  assert.equal(r.balancedAccuracy, 0.5); // mean over classes 0 and 2 only
  // A curve without positives: recall 1 throughout, AP 0 (as sklearn, which warns).
  assert.equal(metrics.averagePrecision([0, 0, 0], [0.2, 0.4, 0.6]), 0);
});

Deno.test("text numbers round half to even like Python", () => {
  assert.equal(pyFixed(0.125, 2), "0.12");
  assert.equal(pyFixed(0.375, 2), "0.38");
  assert.equal(pyFixed(2.5, 0), "2");
  assert.equal(pyFixed(-0.625, 2), "-0.62");
  assert.equal(pyFixed(0.1 + 0.2, 2), "0.30");
  assert.equal(pyFixed(1 / 3, 4), "0.3333");
  assert.equal(pyFixed(0.8, 2), "0.80");
});

Deno.test("auc follows sklearn.metrics.auc", () => {
  assert.equal(metrics.auc([0, 1], [1, 1]), 1);
  assert.equal(metrics.auc([1, 0.5, 0], [1, 1, 0]), 0.75); // decreasing x
  assert.throws(() => metrics.auc([0, 1, 0.5], [0, 1, 1]), /not monotonic at index 2/);
});

Deno.test("bad input fails loudly and names the place", () => {
  assert.throws(
    () => metrics.confusionMatrix([0, 1], [0], 2),
    /yTrue has 2 entries but yPred has 1/,
  );
  assert.throws(() => metrics.confusionMatrix([0, 3], [0, 1], 3), /yTrue\[1\] = 3 .*\[0, 3\)/);
  assert.throws(() => metrics.confusionMatrix([0, 1.5], [0, 1], 3), /yTrue\[1\] = 1.5/);
  assert.throws(() => metrics.confusionMatrix([0], [-1], 3), /yPred\[0\] = -1/);
  assert.throws(() => metrics.confusionMatrix([0], [0], 0), /numClasses/);
  assert.throws(
    () =>
      metrics.classificationReport([0, 1], [0, 1], { classNames: ["a", "b", "c"], numClasses: 2 }),
    /3 classNames for 2 classes/,
  );
  assert.throws(() => metrics.rocCurve([0, 2, 1], [0.1, 0.2, 0.3]), /yTrue\[1\] = 2 is not 0 or 1/);
  assert.throws(() => metrics.rocCurve([0, 1], [0.1, NaN]), /scores\[1\] = NaN/);
  assert.throws(() => metrics.precisionRecallCurve([0, 1], [0.1]), /2 entries but scores has 1/);
  assert.throws(() => metrics.rocAuc([1, 1, 1], [0.1, 0.2, 0.3]), /only one class present/);
  assert.throws(
    () =>
      metrics.rocAuc([0, 1, 1], new Float32Array([0.5, 0.5, 0.2, 0.8, 0.3, 0.7]), {
        numClasses: 3,
      }),
    /expected 3 \(binary\) or 3 x C/,
  );
  // Class 2 has no sample, so its one-vs-rest AUC is undefined: sklearn raises too,
  // for the weighted average as well (which used to leave it out silently) and
  // for AP (whose macro average used to count it as 0).
  const absent = new Float32Array([0.6, 0.3, 0.1, 0.2, 0.7, 0.1]);
  for (const average of ["macro", "weighted"] as const) {
    for (const f of [metrics.rocAuc, metrics.averagePrecision]) {
      assert.throws(() => f([0, 1], absent, { average }), /class 2 has no samples in yTrue/);
    }
  }
  // A length that is no multiple of the labels': said so, not "numClasses 2.5".
  assert.throws(
    () => metrics.rocAuc([0, 1, 0, 1], new Float32Array(10)),
    /scores has 10 entries; expected 4 \(binary\) or 4 x C/,
  );
  assert.throws(
    () => metrics.rocAuc([0, 1], absent),
    /class 2 has no samples/,
  );
});
