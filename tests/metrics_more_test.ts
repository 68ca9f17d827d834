/**
 * The standalone scikit-learn scores of src/eval/metrics against scikit-learn
 * (tests/fixtures/metrics_more.json, made by
 * scripts/make_metrics_more_fixtures.py): every recorded call is replayed and
 * must give sklearn's value (to 1e-12 relative; float32 log losses, which
 * sklearn computes in float32, to 2e-6), refuse where sklearn refused, and
 * warn (once, through console.warn) exactly where sklearn warned. Then the
 * input forms, the option checks and the choices that differ from sklearn.
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";
import { resetWarnings } from "../src/eval/metrics/pairs.ts";
import {
  captureWarnings as capture,
  loadFixture,
  type StoredNumber,
  storedNumber,
} from "./helpers.ts";

type Stored = StoredNumber | null | Stored[];

interface Call {
  fn: string;
  pair?: string;
  yTrue?: number[];
  scores?: number[] | number[][];
  float32?: boolean;
  options: Record<string, unknown>;
  value?: Stored;
  raises?: string;
  warnings: string[];
}

const fx = loadFixture<{
  sklearn: string;
  pairs: Record<string, { yTrue: number[]; yPred: number[] }>;
  calls: Call[];
}>("metrics_more.json");

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;
const m = metrics as unknown as Record<string, Fn>;

/** sklearn's warning as the library words it. */
function asLibrary(fn: string, w: string): string {
  const text = w.replace("`zero_division` parameter", "the zeroDivision option")
    .replace("pos_label (set to", "posLabel (set to").replace("(got None)", "(got null)")
    .replace("labels=[pos_label]", "labels: [posLabel]");
  return `metrics.${fn}: ${text}`;
}

/** The library's result in sklearn's shape (tuples as arrays). */
function shaped(fn: string, v: unknown): unknown {
  if (fn === "precisionRecallFscoreSupport") {
    const r = v as metrics.PrecisionRecallFscoreSupport;
    return [r.precision, r.recall, r.fbeta, r.support ?? null];
  }
  if (fn === "calibrationCurve") {
    const r = v as metrics.CalibrationCurve;
    return [r.probTrue, r.probPred];
  }
  return v;
}

/** Compares recursively; returns a description of the first difference, or "". */
function differs(actual: unknown, want: Stored, rtol: number, at = ""): string {
  if (want === null) return actual === null || actual === undefined ? "" : `${at}: not null`;
  if (Array.isArray(want)) {
    const a = actual as ArrayLike<unknown>;
    if (!Array.isArray(a) && !ArrayBuffer.isView(a)) return `${at}: ${actual} is not an array`;
    if (a.length !== want.length) return `${at}: length ${a.length}, want ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = differs(a[i], want[i], rtol, `${at}[${i}]`);
      if (d) return d;
    }
    return "";
  }
  const e = storedNumber(want), x = actual as number;
  if (typeof x !== "number") return `${at}: ${actual} is not a number`;
  if (Object.is(x, e) || x === e || (Number.isNaN(x) && Number.isNaN(e))) return "";
  return Math.abs(x - e) <= rtol * Math.abs(e) ? "" : `${at}: got ${x}, want ${e}`;
}

function replay(c: Call): string {
  const options = { ...c.options };
  if (options.beta !== undefined) options.beta = storedNumber(options.beta as StoredNumber);
  let a: unknown, b: unknown;
  if (c.pair !== undefined) [a, b] = [fx.pairs[c.pair].yTrue, fx.pairs[c.pair].yPred];
  else {
    a = c.yTrue;
    b = c.float32 ? Float32Array.from((c.scores as (number | number[])[]).flat()) : c.scores;
  }
  const args = c.fn === "matthewsCorrcoef" ? [a, b] : [a, b, options];
  const got = capture(() => m[c.fn](...args));
  const what = `${c.fn}(${c.pair ?? "scores"}, ${JSON.stringify(c.options)})`;
  if (c.raises !== undefined) {
    if (!got.error) return `${what}: sklearn raised "${c.raises}", got ${got.value}`;
    if (!got.error.message.startsWith(`metrics.${c.fn}: `)) {
      return `${what}: error does not name the function: ${got.error.message}`;
    }
    return "";
  }
  if (got.error) return `${what}: threw ${got.error.message}`;
  const d = differs(shaped(c.fn, got.value), c.value!, c.float32 ? 2e-6 : 1e-12);
  if (d) return `${what} ${d}`;
  const want = c.warnings.map((w) => asLibrary(c.fn, w)).sort();
  const warned = [...got.warned].sort();
  if (JSON.stringify(warned) !== JSON.stringify(want)) {
    return `${what}: warned ${JSON.stringify(warned)}, sklearn ${JSON.stringify(want)}`;
  }
  return "";
}

for (const fn of new Set(fx.calls.map((c) => c.fn))) {
  const calls = fx.calls.filter((c) => c.fn === fn);
  Deno.test(`${fn} vs sklearn ${fx.sklearn} (${calls.length} calls)`, () => {
    const failures = calls.map(replay).filter((d) => d !== "");
    assert.deepEqual(failures.slice(0, 8), [], `${failures.length} of ${calls.length} differ`);
  });
}

Deno.test("a warning is shown once per process, as Python's default filter", () => {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => void warned.push(msg);
  try {
    resetWarnings();
    for (let i = 0; i < 3; i++) metrics.precisionScore([0, 1, 1], [0, 0, 0]);
    assert.equal(warned.length, 1);
    assert.match(warned[0], /^metrics\.precisionScore: Precision is ill-defined/);
    // An explicit zeroDivision says the user knows: no warning (sklearn's rule).
    resetWarnings();
    assert.equal(metrics.precisionScore([0, 1, 1], [0, 0, 0], { zeroDivision: 1 }), 1);
    assert.equal(warned.length, 1);
  } finally {
    console.warn = original;
  }
});

Deno.test("Tensors, typed arrays and nested rows are read as the other metrics read them", () => {
  const y = tensor(new Int32Array([0, 1, 2, 2, 1]), [5], { dtype: "int32" });
  const logits = tensor([[3, 1, 0], [0, 2, 1], [0, 1, 3], [1, 3, 0], [0, 2, 1]]);
  const pred = logits.argmax(1);
  const yArr = [0, 1, 2, 2, 1], pArr = [0, 1, 2, 1, 1];
  assert.equal(metrics.accuracyScore(y, pred), metrics.accuracyScore(yArr, pArr));
  assert.deepEqual(
    metrics.f1Score(y, pred, { average: null }),
    metrics.f1Score(Int32Array.from(yArr), pArr, { average: null }),
  );
  assert.equal(metrics.matthewsCorrcoef(y, pred), metrics.matthewsCorrcoef(yArr, pArr));
  const probs = logits.softmax(1);
  const rows = probs.toList() as number[][];
  const flat = probs.toArray() as Float32Array;
  // A float32 Tensor and a Float32Array clip at float32's epsilon, as numpy's float32 does.
  assert.equal(metrics.logLoss(y, probs), metrics.logLoss(yArr, flat));
  assert.ok(Math.abs(metrics.logLoss(yArr, rows) - metrics.logLoss(yArr, flat)) < 1e-6);
  assert.equal(metrics.topKAccuracyScore(y, probs, { k: 1 }), 0.8);
  assert.equal(metrics.topKAccuracyScore(yArr, rows, { k: 1 }), 0.8);
  // float32 eps 2^-23 bounds a certain wrong answer at -log(2^-23); float64's at -log(2^-52).
  assert.ok(Math.abs(metrics.logLoss([0, 1], new Float32Array([1, 1])) - 23 * Math.LN2 / 2) < 1e-6);
  assert.ok(Math.abs(metrics.logLoss([0, 1], [1, 1]) - 52 * Math.LN2 / 2) < 1e-9);
});

Deno.test("the averages are typed: null gives one number per class", () => {
  const perClass: number[] = metrics.recallScore([0, 1, 2], [0, 2, 2], { average: null });
  const macro: number = metrics.recallScore([0, 1, 2], [0, 2, 2], { average: "macro" });
  const binary: number = metrics.recallScore([0, 1, 1], [0, 1, 0]);
  assert.deepEqual(perClass, [1, 0, 1]);
  assert.equal(macro, 2 / 3);
  assert.equal(binary, 0.5);
  const r = metrics.precisionRecallFscoreSupport([0, 1, 2], [0, 2, 2], { zeroDivision: 0 });
  const support: number[] = r.support;
  assert.deepEqual(support, [1, 1, 1]);
});

Deno.test("confusionMatrix keeps its three-argument form and gains normalize and labels", () => {
  assert.deepEqual(metrics.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1], 3), [
    [1, 0, 0],
    [0, 0, 1],
    [0, 1, 1],
  ]);
  assert.deepEqual(metrics.confusionMatrix([], [], 2), [[0, 0], [0, 0]]);
  assert.deepEqual(metrics.confusionMatrix([0, 0, 1], [0, 1, 1], 3, { normalize: "true" }), [
    [0.5, 0.5, 0],
    [0, 1, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(metrics.confusionMatrix([0, 0, 1], [0, 1, 1], { numClasses: 2 }), [
    [1, 1],
    [0, 1],
  ]);
  assert.throws(() => metrics.confusionMatrix([0, 3], [0, 1], 3), /yTrue\[1\] = 3 .*\[0, 3\)/);
  assert.throws(
    () => metrics.confusionMatrix([0], [0], { labels: [0], numClasses: 1 }),
    /labels or numClasses, not both/,
  );
  assert.throws(
    () => metrics.confusionMatrix([0], [0], 1, { normalize: "rows" as never }),
    /normalize must be "true", "pred", "all" or null/,
  );
  assert.throws(
    () => metrics.confusionMatrix([0], [0], 1, { labels: [0] } as never),
    /unknown option 'labels'/,
  );
});

Deno.test("bad input throws, naming the function and the argument", () => {
  const fns: [string, () => unknown][] = [
    ["accuracyScore", () => metrics.accuracyScore([], [])],
    ["balancedAccuracyScore", () => metrics.balancedAccuracyScore([], [])],
    ["f1Score", () => metrics.f1Score([], [])],
    ["precisionRecallFscoreSupport", () => metrics.precisionRecallFscoreSupport([], [])],
    ["cohenKappaScore", () => metrics.cohenKappaScore([], [])],
    ["matthewsCorrcoef", () => metrics.matthewsCorrcoef([], [])],
    ["topKAccuracyScore", () => metrics.topKAccuracyScore([], [])],
    ["logLoss", () => metrics.logLoss([], [])],
    ["brierScoreLoss", () => metrics.brierScoreLoss([], [])],
    ["calibrationCurve", () => metrics.calibrationCurve([], [])],
  ];
  for (const [name, f] of fns) {
    assert.throws(f, new RegExp(`Error: metrics\\.${name}: no samples`), name);
  }
  assert.throws(() => metrics.recallScore([0, 1], [0]), /recallScore: yTrue has 2 .* yPred has 1/);
  assert.throws(() => metrics.accuracyScore([0, -1], [0, 1]), /yTrue\[1\] = -1 is not/);
  assert.throws(() => metrics.cohenKappaScore([0, 1], [0, 1.5]), /y2\[1\] = 1.5/);
  assert.throws(() => metrics.logLoss([0, 1], [[0.5, 0.5]]), /probs has 1 rows but yTrue has 2/);
  assert.throws(() => metrics.logLoss([0, 1], [0.5, NaN]), /probs\[1\] = NaN is not a finite/);
  assert.throws(
    () => metrics.f1Score([0, 1], [0, 1], { zero_division: 0 } as never),
    /unknown option 'zero_division' \(write 'zeroDivision'\)/,
  );
  assert.throws(
    () => metrics.f1Score([0, 1], [0, 1], { average: "samples" as never }),
    /"samples" is for multilabel/,
  );
  assert.throws(() => metrics.f1Score([0, 1], [0, 1], { zeroDivision: 2 as never }), /"warn", 0/);
  assert.throws(() => metrics.fbetaScore([0, 1], [0, 1], {} as never), /beta is required/);
  assert.throws(() => metrics.f1Score([0, 1], [0, 1], { labels: [1, 1] }), /labels\[1\] = 1/);
  assert.throws(() => metrics.cohenKappaScore([0], [0], { weights: "square" as never }), /weights/);
  assert.throws(() => metrics.topKAccuracyScore([0, 1], [[1, 0], [0, 1]], { k: 0 }), /k must/);
  assert.throws(() => metrics.brierScoreLoss([0, 1], [[0.2, 0.8], [0.6, 0.4]]), /narrow/);
  assert.throws(() => metrics.calibrationCurve([0, 1], [0, 1], { nBins: 0 }), /nBins/);
  assert.throws(() => metrics.calibrationCurve([0, 1], [0, 1, 1, 0]), /4 entries but yTrue has 2/);
  const mcc = metrics.matthewsCorrcoef as (...args: unknown[]) => number;
  assert.throws(() => mcc([0], [0], {}, {} as never), /takes at most 3 arguments/);
});

Deno.test("where the library differs from sklearn 1.2.1 on purpose", () => {
  // log_loss drops a sample whose label is not in `labels` (its row of the
  // binarised truth is all 0); that hides a label error, so it throws.
  assert.throws(
    () =>
      metrics.logLoss([0, 3, 1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], {
        labels: [0, 1, 2],
      }),
    /yTrue\[1\] = 3 is not in labels \[0,1,2\]/,
  );
  // top_k_accuracy_score refuses binary labels with a [N, 2] score matrix
  // (torch's two-class softmax); here it ranks the two columns.
  const probs = [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.5, 0.5]];
  assert.equal(metrics.topKAccuracyScore([0, 1, 1, 1], probs, { k: 1 }), 0.75);
});

Deno.test("metrics: -1/1 labels take 1 as the positive class, as sklearn's", () => {
  assert.equal(metrics.rocAuc([-1, 1, 1, -1], [0.5, 0.4, 0.9, 0.1]), 0.75);
  assert.ok(
    Math.abs(metrics.averagePrecision([-1, 1, 1, -1], [0.5, 0.4, 0.9, 0.1]) - 0.8333333333333333) <
      1e-12,
  );
  assert.throws(() => metrics.rocAuc([-1, 0, 1], [0.1, 0.2, 0.3]), /is not 0 or 1 \(or -1 or 1\)/);
});
