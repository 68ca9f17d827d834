/**
 * The review fixes of the metrics, against sklearn 1.2.1
 * (tests/fixtures/review_fixes.json, written by
 * scripts/make_review_fixes_fixtures.py):
 *
 * - labels as a column (an [N, 1] Tensor, or rows of one number) read as
 *   [N], as sklearn's column_or_1d reads them, never as a multilabel
 *   indicator; the argmax(1) advice only for [N, C > 1];
 * - rocAuc / averagePrecision where `sampleWeight` zeroes every positive (or
 *   negative) of a label: sklearn's numbers where it gives numbers, an
 *   Error naming that cause where it gives NaN;
 * - formatClassificationReport's accuracy row where a label's samples all
 *   weigh 0 (sklearn's unique_labels ignores the weights).
 *
 * The label Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";
import { loadFixture, type StoredNumber, storedNumber, testDevice } from "./helpers.ts";

interface MetricCase {
  name: string;
  fn:
    | "accuracyScore"
    | "f1Score"
    | "confusionMatrix"
    | "balancedAccuracyScore"
    | "rocAuc"
    | "averagePrecision";
  args: unknown[];
  options?: Record<string, unknown>;
  numClasses?: number;
  value?: StoredNumber | StoredNumber[] | StoredNumber[][];
  error?: string;
}

interface ReportCase {
  name: string;
  yTrue: number[];
  yPred: number[];
  sampleWeight: number[];
  numClasses: number | null;
  text: string;
}

const fx = loadFixture<{ metrics: MetricCase[]; reports: ReportCase[] }>("review_fixes.json");

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;

/** The library call of a fixture case, on the arguments given. */
function call(c: MetricCase, args: unknown[]): unknown {
  const f = metrics[c.fn] as AnyFn;
  if (c.fn === "confusionMatrix") return f(args[0], args[1], c.numClasses);
  return c.options === undefined ? f(args[0], args[1]) : f(args[0], args[1], c.options);
}

/** A number, list or matrix from the fixture, NaN decoded. */
function decode(v: unknown): unknown {
  return Array.isArray(v) ? v.map(decode) : storedNumber(v as StoredNumber);
}

function hasNaN(v: unknown): boolean {
  return Array.isArray(v) ? v.some(hasNaN) : Number.isNaN(v);
}

function near(got: unknown, want: unknown, what: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${what}: expected a list, got ${JSON.stringify(got)}`);
    assert.equal(got.length, want.length, `${what}: length`);
    want.forEach((w, i) => near(got[i], w, `${what}[${i}]`));
    return;
  }
  assert.ok(
    typeof got === "number" && Math.abs(got - (want as number)) <= 1e-8,
    `${what}: got ${got}, sklearn ${want}`,
  );
}

/** The column forms of a label argument: nested rows, an [N, 1] Tensor on the test device. */
function columns(y: unknown): [string, unknown][] {
  if (!Array.isArray(y) || !Array.isArray(y[0]) || y[0].length !== 1) return [["as given", y]];
  const flat = y.map((r) => r[0]);
  return [
    ["nested rows", y],
    ["[N, 1] Tensor", tensor(new Int32Array(flat), [flat.length, 1], { device: testDevice })],
  ];
}

for (const c of fx.metrics) {
  Deno.test(`metrics as sklearn (${testDevice}): ${c.name}`, () => {
    const want = decode(c.value);
    for (const [form, yTrue] of columns(c.args[0])) {
      for (const [form2, second] of columns(c.args[1])) {
        const what = `${c.name} (yTrue ${form}, second ${form2})`;
        if (!hasNaN(want)) {
          near(call(c, [yTrue, second]), want, what);
          continue;
        }
        // sklearn's NaN: an Error that names the weights as the cause.
        const positive = /positives weigh 0|positive weighs 0|class 2 weighs 0/.test(c.name);
        const label = c.name.includes("binary")
          ? "yTrue"
          : c.name.includes("class 2")
          ? "class 2"
          : "label 1";
        assert.throws(
          () => call(c, [yTrue, second]),
          new RegExp(
            `^RangeError: rocAuc: every ${positive ? "positive" : "negative"} of ${label} has ` +
              "sampleWeight 0, so its ROC AUC is not defined \\(sklearn gives NaN\\)",
          ),
          what,
        );
      }
    }
  });
}

Deno.test('rocAuc: the NaN error says what "weighted" does, and one class is still refused', () => {
  const y = [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]];
  const s = [[.9, .2], [.3, .6], [.6, .4], [.2, .5], [.7, .1], [.4, .8]];
  assert.throws(
    () => metrics.rocAuc(y, s, { average: "macro", sampleWeight: [1, 0, 0, 1, 1, 0] }),
    /every positive of label 1 has sampleWeight 0.*average "weighted" leaves it out/,
  );
  // A label without positives at all is refused whatever the average, as sklearn's.
  const none = [[1, 0], [0, 0], [1, 0], [0, 0]];
  const s4 = s.slice(0, 4);
  for (const average of ["weighted", "macro"] as const) {
    assert.throws(
      () => metrics.rocAuc(none, s4, { average, sampleWeight: [1, 1, 1, 1] }),
      /rocAuc: only one class present in yTrue \(label 1\)/,
    );
  }
  assert.throws(() => metrics.rocAuc([1, 1, 1], [0.2, 0.5, 0.9]), /only one class present/);
});

Deno.test(`labels: [N, 1] is [N]; the argmax(1) advice only for [N, C > 1] (${testDevice})`, () => {
  const y = [0, 1, 2, 2, 1, 0], p = [0, 2, 2, 2, 1, 1];
  const col = (v: number[]) => tensor(new Int32Array(v), [v.length, 1], { device: testDevice });
  // Not a multilabel indicator: one row per class, an accuracy.
  const r = metrics.classificationReport(col(y), col(p));
  assert.deepEqual(r.classes.map((c) => c.label), [0, 1, 2]);
  assert.equal(r.microAvg, undefined, "not a multilabel report");
  assert.deepEqual(r, metrics.classificationReport(y, p));
  assert.equal(metrics.cohenKappaScore(col(y), p), metrics.cohenKappaScore(y, p));
  assert.deepEqual(
    metrics.precisionRecallCurve(col([0, 0, 1, 1]), [0.1, 0.4, 0.35, 0.8]),
    metrics.precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
  );
  assert.equal(metrics.logLoss([[0], [1]], [0.2, 0.7]), metrics.logLoss([0, 1], [0.2, 0.7]));
  // A column with one bad row names it.
  assert.throws(
    () => metrics.accuracyScore([[0], [1, 2]] as never, [0, 1]),
    /accuracyScore: yTrue\[1\] = \[1,2\] \(an array, not a number\)/,
  );
  // [N, C > 1]: logits or scores, argmax(1) gives the labels.
  const logits = tensor([0.1, 0.9, 0.8, 0.2], [2, 2], { device: testDevice });
  assert.throws(
    () => metrics.confusionMatrix(logits, [0, 1], 2),
    /yTrue is a Tensor of shape \[2,2\] \(float32\); labels must be 1-D \[N\] \(or a column \[N, 1\]\) \(for \[2, 2\] logits or scores take logits\.argmax\(1\) first\)/,
  );
  // Any other shape: no argmax advice (argmax(1) of [N, 1, L] would be zeros).
  for (const shape of [[2, 1, 3], [2, 1, 1, 2]]) {
    const t = tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), shape);
    assert.throws(
      () => metrics.confusionMatrix([0, 1], t, 2),
      (e: Error) => /labels must be 1-D \[N\] \(or a column \[N, 1\]\)$/.test(e.message),
      `[${shape}]`,
    );
  }
});

for (const c of fx.reports) {
  Deno.test(`formatClassificationReport as sklearn's: ${c.name}`, () => {
    const r = metrics.classificationReport(c.yTrue, c.yPred, {
      sampleWeight: c.sampleWeight,
      ...(c.numClasses === null ? {} : { numClasses: c.numClasses }),
    });
    assert.equal(metrics.formatClassificationReport(r), c.text);
  });
}

Deno.test("formatClassificationReport reads a report made without allLabelsSeen as before", () => {
  const r = metrics.classificationReport([0, 1, 1], [0, 1, 0], { sampleWeight: [1, 1, 1] });
  assert.equal(r.allLabelsSeen, true);
  const { allLabelsSeen: _, ...old } = r;
  assert.equal(metrics.formatClassificationReport(old), metrics.formatClassificationReport(r));
  const unweighted = metrics.classificationReport([0, 1, 1], [0, 1, 0], { numClasses: 3 });
  assert.equal(unweighted.allLabelsSeen, undefined);
  assert.match(metrics.formatClassificationReport(unweighted), /micro avg/);
});
