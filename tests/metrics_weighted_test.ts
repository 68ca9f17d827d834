/**
 * `sampleWeight` and multilabel indicator input in src/eval/metrics against
 * scikit-learn (tests/fixtures/metrics_weighted.json, made by
 * scripts/make_metrics_weighted_fixtures.py): every recorded call is
 * replayed and must give sklearn's value (to 1e-12 relative; the
 * classification report's text character for character), refuse where
 * sklearn refused, and warn (once, through console.warn) exactly where
 * sklearn warned. Then the weight checks, Tensor inputs, and the choices
 * that differ from sklearn.
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";
import {
  captureWarnings as capture,
  loadFixture,
  type StoredNumber,
  storedNumber,
  testDevice,
} from "./helpers.ts";

type Stored = StoredNumber | string | null | Stored[];

interface Call {
  fn: string;
  data: string;
  weight: string | null;
  options: Record<string, unknown>;
  value?: Stored;
  raises?: string;
  warnings: string[];
}

const fx = loadFixture<{
  sklearn: string;
  data: Record<string, { yTrue: unknown; yPred?: unknown; scores?: unknown }>;
  weights: Record<string, StoredNumber[]>;
  calls: Call[];
}>("metrics_weighted.json");

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => unknown;
const m = metrics as unknown as Record<string, Fn>;

/** Functions whose warnings are sklearn's, word for word (the curves and the report warn nothing). */
const WARNS = new Set([
  "precisionScore",
  "recallScore",
  "f1Score",
  "fbetaScore",
  "precisionRecallFscoreSupport",
  "jaccardScore",
  "balancedAccuracyScore",
  "topKAccuracyScore",
]);

/** sklearn's warning as the library words it. */
function asLibrary(fn: string, w: string): string {
  return `metrics.${fn}: ${w.replace("`zero_division` parameter", "the zeroDivision option")}`;
}

/** The library's result in sklearn's shape (tuples as arrays). */
function shaped(fn: string, v: unknown): unknown {
  if (fn === "precisionRecallFscoreSupport") {
    const r = v as metrics.PrecisionRecallFscoreSupport;
    return [r.precision, r.recall, r.fbeta, r.support ?? null];
  }
  if (fn === "rocCurve") {
    const r = v as metrics.RocCurve;
    return [r.fpr, r.tpr, r.thresholds];
  }
  if (fn === "precisionRecallCurve") {
    const r = v as metrics.PrecisionRecallCurve;
    return [r.precision, r.recall, r.thresholds];
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
  if (typeof want === "string" && !["nan", "inf", "-inf"].includes(want)) {
    return actual === want ? "" : `${at}: got\n${actual}\nwant\n${want}`;
  }
  const e = storedNumber(want as StoredNumber), x = actual as number;
  if (typeof x !== "number") return `${at}: ${actual} is not a number`;
  if (Object.is(x, e) || x === e || (Number.isNaN(x) && Number.isNaN(e))) return "";
  return Math.abs(x - e) <= rtol * Math.abs(e) ? "" : `${at}: got ${x}, want ${e}`;
}

/** Runs one recorded call through the library. */
function run(c: Call): unknown {
  const d = fx.data[c.data];
  const options: Record<string, unknown> = { ...c.options };
  if (options.beta !== undefined) options.beta = storedNumber(options.beta as StoredNumber);
  if (c.weight !== null) options.sampleWeight = fx.weights[c.weight].map(storedNumber);
  const b = d.yPred ?? d.scores;
  if (c.fn === "classificationReport") {
    const r = metrics.classificationReport(d.yTrue as number[], b as number[], options);
    return metrics.formatClassificationReport(r, { digits: 4 });
  }
  return m[c.fn](d.yTrue, b, options);
}

function replay(c: Call): string {
  const got = capture(() => run(c));
  const what = `${c.fn}(${c.data}, ${c.weight}, ${JSON.stringify(c.options)})`;
  if (c.raises !== undefined) {
    if (!got.error) return `${what}: sklearn raised "${c.raises}", got ${got.value}`;
    if (!new RegExp(`^(metrics\\.)?${c.fn}: `).test(got.error.message)) {
      return `${what}: error does not name the function: ${got.error.message}`;
    }
    return "";
  }
  if (got.error) return `${what}: threw ${got.error.message}`;
  const d = differs(shaped(c.fn, got.value), c.value!, 1e-12);
  if (d) return `${what} ${d}`;
  if (!WARNS.has(c.fn)) return "";
  const want = c.warnings.map((w) => asLibrary(c.fn, w)).sort();
  const warned = [...got.warned].sort();
  if (JSON.stringify(warned) !== JSON.stringify(want)) {
    return `${what}: warned ${JSON.stringify(warned)}, sklearn ${JSON.stringify(want)}`;
  }
  return "";
}

for (const fn of new Set(fx.calls.map((c) => c.fn))) {
  const calls = fx.calls.filter((c) => c.fn === fn);
  Deno.test(`${fn} with sampleWeight / multilabel vs sklearn ${fx.sklearn} (${calls.length} calls)`, () => {
    const failures = calls.map(replay).filter((d) => d !== "");
    assert.deepEqual(failures.slice(0, 6), [], `${failures.length} of ${calls.length} differ`);
  });
}

Deno.test("sampleWeight is checked: count, finite, >= 0, one per sample", () => {
  const y = [0, 1, 1, 0];
  const cases: [() => unknown, RegExp][] = [
    [() => metrics.accuracyScore(y, y, { sampleWeight: [1, 2, 3] }), /3 entries but there are 4/],
    [() => metrics.f1Score(y, y, { sampleWeight: [1, NaN, 1, 1] }), /sampleWeight\[1\] = NaN/],
    [
      () => metrics.rocAuc(y, [0.1, 0.9, 0.8, 0.3], { sampleWeight: [1, 1, Infinity, 1] }),
      /finite/,
    ],
    [() => metrics.confusionMatrix(y, y, { sampleWeight: [1, -1, 1, 1] }), /= -1 is negative/],
    [() => metrics.logLoss(y, [0.1, 0.9, 0.8, 0.3], { sampleWeight: [[1, 1], [1, 1]] }), /matrix/],
    [
      () => metrics.brierScoreLoss(y, [0.1, 0.9, 0.8, 0.3], { sampleWeight: 2 as never }),
      /one weight per sample/,
    ],
    [
      () => metrics.matthewsCorrcoef(y, y, { sample_weight: [1, 1, 1, 1] } as never),
      /write 'sampleWeight'/,
    ],
    [
      () => metrics.hammingLoss([[0, 1], [1, 0]], [[0, 1], [1, 1]], { sampleWeight: [0, 0] }),
      /sums to 0/,
    ],
    [
      () =>
        metrics.classificationReport([[0, 1], [1, 0]], [[0, 1], [1, 1]], {
          sampleWeight: [0, 0],
        }),
      /sums to 0/,
    ],
    [
      () => metrics.rocCurve(y, [0.1, 0.9, 0.8, 0.3], { sampleWeight: [0, 0, 0, 0] }),
      /every sampleWeight is 0/,
    ],
    [
      () => metrics.cohenKappaScore(y, y, { sampleWeight: ["1", 1, 1, 1] as never }),
      /"?1"? is not a finite/,
    ],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
  // A 1-D Tensor of weights, and typed arrays, read as arrays are.
  using wt = tensor([1, 2, 0.5, 0], [4], { device: testDevice });
  const want = metrics.accuracyScore(y, [0, 1, 0, 0], { sampleWeight: [1, 2, 0.5, 0] });
  assert.equal(want, 3 / 3.5);
  assert.equal(metrics.accuracyScore(y, [0, 1, 0, 0], { sampleWeight: wt }), want);
  assert.equal(
    metrics.accuracyScore(y, [0, 1, 0, 0], { sampleWeight: Float32Array.of(1, 2, 0.5, 0) }),
    want,
  );
});

Deno.test("unit weights give the unweighted numbers; integer weights repeat samples", () => {
  const yt = [0, 1, 2, 2, 1, 0, 2], yp = [0, 2, 2, 1, 1, 0, 2];
  const ones = yt.map(() => 1), reps = [1, 3, 1, 2, 1, 1, 2];
  const rep = (a: number[]) => a.flatMap((v, i) => Array(reps[i]).fill(v));
  const fns: [string, (a: number[], b: number[], o: object) => unknown][] = [
    ["accuracy", (a, b, o) => metrics.accuracyScore(a, b, o)],
    ["f1", (a, b, o) => metrics.f1Score(a, b, { average: null, ...o })],
    ["kappa", (a, b, o) => metrics.cohenKappaScore(a, b, { weights: "quadratic", ...o })],
    ["mcc", (a, b, o) => metrics.matthewsCorrcoef(a, b, o)],
    ["jaccard", (a, b, o) => metrics.jaccardScore(a, b, { average: "macro", ...o })],
    ["balanced", (a, b, o) => metrics.balancedAccuracyScore(a, b, o)],
  ];
  for (const [name, f] of fns) {
    assert.deepEqual(f(yt, yp, { sampleWeight: ones }), f(yt, yp, {}), name);
    const weighted = f(yt, yp, { sampleWeight: reps }) as number | number[];
    const repeated = f(rep(yt), rep(yp), {}) as number | number[];
    const a = [weighted].flat(), b = [repeated].flat();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-12, `${name}: ${v} vs ${b[i]}`));
  }
});

Deno.test("multilabel indicators are read from Tensors, nested rows and per-sample Tensors", () => {
  const yt = [[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]];
  const yp = [[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 0]];
  using tt = tensor(yt, undefined, { device: testDevice });
  using tp = tensor(yp, undefined, { device: testDevice });
  using ti = tensor(new Int32Array(yp.flat()), [4, 3], { dtype: "int32", device: testDevice });
  const rows = yp.map((r) => tensor(r, undefined, { device: testDevice }));
  try {
    const want = metrics.f1Score(yt, yp, { average: "samples" });
    assert.ok(Math.abs(want - 0.5833333333333333) < 1e-12, `${want}`); // sklearn 1.2.1
    assert.equal(metrics.f1Score(tt, tp, { average: "samples" }), want);
    assert.equal(metrics.f1Score(tt, ti, { average: "samples" }), want);
    assert.equal(metrics.f1Score(yt, rows, { average: "samples" }), want);
    assert.equal(metrics.accuracyScore(tt, tp), 0.25);
    assert.equal(metrics.hammingLoss(tt, rows), 3 / 12);
    assert.deepEqual(metrics.multilabelConfusionMatrix(tt, tp)[2], [[1, 1], [2, 0]]);
  } finally {
    for (const r of rows) r.dispose();
  }
});

Deno.test("a 2-D matrix of probabilities given as labels is refused, naming the fix", () => {
  const yt = [[1, 0], [0, 1], [1, 1]];
  const probs = [[0.9, 0.2], [0.3, 0.6], [0.7, 0.8]];
  using pt = tensor(probs, undefined, { device: testDevice });
  for (const yPred of [probs, pt]) {
    assert.throws(
      () => metrics.f1Score(yt, yPred as never, { average: "micro" }),
      /f1Score: yPred is an \[3, 2\] matrix of scores \(yPred\[0\]\[0\] = 0\.\d+\), not labels.*probs\.gt\(0\.5\)/,
    );
  }
  assert.throws(
    () => metrics.accuracyScore([0, 1, 1], probs),
    /can't handle a mix|matrix of scores/,
  );
  assert.throws(
    () => metrics.accuracyScore(yt, [0, 1, 1]),
    /yTrue is a multilabel indicator \[N, 2\] but yPred holds class labels/,
  );
  assert.throws(
    () => metrics.jaccardScore(yt, [[1, 0, 0], [0, 1, 0], [1, 1, 0]], { average: "micro" }),
    /yTrue has 2 label columns but yPred has 3/,
  );
  assert.throws(
    () => metrics.f1Score(yt, yt),
    /multilabel indicators \[3, 2\] but average is "binary"/,
  );
  assert.throws(
    () => metrics.accuracyScore(yt, [[2, 0], [0, 1], [1, 1]]),
    /multiclass-multioutput/,
  );
  assert.throws(
    () => metrics.confusionMatrix(yt as never, yt as never),
    /confusionMatrix: yTrue is a multilabel indicator \[3, 2\].*multilabelConfusionMatrix/,
  );
  assert.throws(
    () => metrics.cohenKappaScore(yt as never, yt as never),
    /multilabel indicator input \[3, 2\] is not supported/,
  );
  assert.throws(
    () => metrics.multilabelConfusionMatrix([0, 1], [0, 1], { samplewise: true }),
    /"samples" is for multilabel/,
  );
  assert.throws(
    () => metrics.rocAuc(yt, [0.1, 0.2, 0.3]),
    /pass one score per label, an \[3, 2\] matrix/,
  );
  assert.throws(
    () => metrics.averagePrecision(yt, probs, { posLabel: 0 }),
    /posLabel is fixed to 1/,
  );
  assert.throws(
    () =>
      metrics.rocAuc([0, 1, 2], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], {
        average: "samples",
      }),
    /"samples" is for a multilabel indicator yTrue/,
  );
  assert.throws(
    () => metrics.rocAuc([0, 1], [0.2, 0.8], { average: "mean" as never }),
    /average must be/,
  );
});

Deno.test("where the library differs from sklearn 1.2.1 on purpose", () => {
  // sklearn accepts negative weights (confusion_matrix, accuracy_score...); they throw here.
  assert.throws(
    () => metrics.accuracyScore([0, 1], [0, 1], { sampleWeight: [1, -0.5] }),
    /negative/,
  );
  // hamming_loss of indicators with weights that sum to 0 is NaN in sklearn (0 / 0); it throws here.
  assert.throws(() => metrics.hammingLoss([[0, 1]], [[1, 1]], { sampleWeight: [0] }), /sums to 0/);
  // Binary input with average null: sklearn gives one number; here a list of one, as typed.
  assert.deepEqual(metrics.rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], { average: null }), [0.75]);
  // A weighted report prints its supports as sklearn does (floats).
  const r = metrics.classificationReport([0, 1, 1], [0, 1, 0], { sampleWeight: [2, 1, 1] });
  assert.equal(r.sampleWeighted, true);
  assert.deepEqual(r.classes.map((c) => c.support), [2, 2]);
  assert.match(metrics.formatClassificationReport(r), /accuracy {27}0\.75 {7}4\.0\n/);
  // A multilabel report has no balanced accuracy (sklearn defines none) and no K x K confusion.
  const ml = metrics.classificationReport([[1, 0], [0, 1]], [[1, 0], [1, 1]]);
  assert.ok(Number.isNaN(ml.balancedAccuracy));
  assert.deepEqual(ml.confusion, []);
  assert.deepEqual(ml.multilabelConfusion, [[[0, 1], [0, 1]], [[1, 0], [0, 1]]]);
});
