/**
 * `classificationReport` and `precisionRecallFscoreSupport` with a
 * `sampleWeight` that sums to 0 (all zero, or zero on every sample of some
 * classes) against scikit-learn 1.2.1 (tests/fixtures/metrics_zero_weight.json,
 * made by scripts/make_metrics_zero_weight_fixtures.py): sklearn's dict
 * (`outputDict`) value for value, its text character for character, its
 * zero-division warnings, and its refusals (multilabel indicators with
 * zero weights, a wrong number of weights). Then the weights sklearn takes
 * without a word and that throw here (negative, NaN, infinite), and the
 * weights read from a Tensor on `LITS_TEST_DEVICE`.
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

type Stored = StoredNumber | string | null | Stored[] | { [k: string]: Stored };

interface Call {
  fn: "classificationReport" | "precisionRecallFscoreSupport";
  yTrue: number[] | number[][];
  yPred: number[] | number[][];
  weight: number[];
  options: Record<string, unknown>;
  dict?: Record<string, Stored>;
  text?: string;
  value?: Stored;
  raises?: string;
  warnings: string[];
}

const fx = loadFixture<{ sklearn: string; calls: Call[] }>("metrics_zero_weight.json");

/** Compares recursively; returns a description of the first difference, or "". */
function differs(actual: unknown, want: Stored, at = ""): string {
  if (want === null) return actual === null || actual === undefined ? "" : `${at}: not null`;
  if (Array.isArray(want)) {
    const a = actual as ArrayLike<unknown>;
    if (!Array.isArray(a) && !ArrayBuffer.isView(a)) return `${at}: ${actual} is not an array`;
    if (a.length !== want.length) return `${at}: length ${a.length}, want ${want.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = differs(a[i], want[i], `${at}[${i}]`);
      if (d) return d;
    }
    return "";
  }
  if (typeof want === "object") {
    const a = actual as Record<string, unknown>;
    const keys = Object.keys(want).sort(), got = Object.keys(a ?? {}).sort();
    if (keys.join() !== got.join()) return `${at}: keys [${got}], want [${keys}]`;
    for (const k of keys) {
      const d = differs(a[k], want[k], `${at}.${k}`);
      if (d) return d;
    }
    return "";
  }
  const e = storedNumber(want as StoredNumber), x = actual as number;
  if (typeof x !== "number") return `${at}: ${actual} is not a number`;
  if (x === e || (Number.isNaN(x) && Number.isNaN(e))) return "";
  return Math.abs(x - e) <= 1e-12 * Math.abs(e) ? "" : `${at}: got ${x}, want ${e}`;
}

/** A warning without the function's name, in sklearn's words. */
const body = (w: string) =>
  w.replace(/^(metrics\.)?\w+: /, "").replace(
    "the zeroDivision option",
    "`zero_division` parameter",
  );

/** Replays one recorded call; returns a description of the first difference, or "". */
function replay(c: Call): string {
  const what = `${c.fn}(${JSON.stringify(c.yTrue)}, ${JSON.stringify(c.yPred)}, ` +
    `${JSON.stringify(c.weight)}, ${JSON.stringify(c.options)})`;
  const options = { ...c.options, sampleWeight: c.weight };
  const got = capture(() => {
    if (c.fn === "precisionRecallFscoreSupport") {
      const r = metrics.precisionRecallFscoreSupport(c.yTrue, c.yPred, options as never);
      return [r.precision, r.recall, r.fbeta, r.support ?? null];
    }
    const dict = metrics.classificationReport(c.yTrue, c.yPred, {
      ...options,
      outputDict: true,
    } as never);
    const text = metrics.formatClassificationReport(
      metrics.classificationReport(
        c.yTrue,
        c.yPred,
        options as metrics.ClassificationReportOptions & { outputDict?: false },
      ),
    );
    return { dict, text };
  });
  if (c.raises !== undefined) {
    if (!got.error) return `${what}: sklearn raised "${c.raises}", got a value`;
    if (!/^(metrics\.)?\w+: /.test(got.error.message)) {
      return `${what}: error does not name the function: ${got.error.message}`;
    }
    return "";
  }
  if (got.error) return `${what}: threw ${got.error.message}`;
  if (c.fn === "precisionRecallFscoreSupport") {
    const d = differs(got.value, c.value!);
    if (d) return `${what} ${d}`;
  } else {
    const v = got.value as { dict: unknown; text: string };
    const d = differs(v.dict, c.dict!);
    if (d) return `${what}: dict ${d}`;
    if (v.text !== c.text) return `${what}: text\n${v.text}\nwant\n${c.text}`;
  }
  const warned = [...new Set(got.warned.map(body))].sort();
  if (JSON.stringify(warned) !== JSON.stringify(c.warnings)) {
    return `${what}: warned ${JSON.stringify(warned)}, sklearn ${JSON.stringify(c.warnings)}`;
  }
  return "";
}

Deno.test(`zero-weight fixtures: written by sklearn ${fx.sklearn}`, () => {
  assert.equal(fx.sklearn, "1.2.1");
  assert.ok(fx.calls.length >= 80);
  assert.ok(fx.calls.some((c) => c.weight.every((w) => w === 0) && c.dict !== undefined));
});

for (const fn of ["classificationReport", "precisionRecallFscoreSupport"] as const) {
  const calls = fx.calls.filter((c) => c.fn === fn);
  Deno.test(`${fn} with weights that sum to 0, as sklearn ${fx.sklearn} (${calls.length})`, () => {
    const failures = calls.map(replay).filter((d) => d !== "");
    assert.deepEqual(failures.slice(0, 4), [], `${failures.length} of ${calls.length} differ`);
  });
}

Deno.test("classificationReport, all weights 0: supports 0, zeroDivision values, NaN balanced", () => {
  const yt = [0, 1, 2, 2, 1, 0], yp = [0, 2, 2, 1, 1, 0], zero = [0, 0, 0, 0, 0, 0];
  for (const [zd, v] of [[0, 0], [1, 1]] as const) {
    const r = metrics.classificationReport(yt, yp, { sampleWeight: zero, zeroDivision: zd });
    assert.equal(r.accuracy, v);
    assert.ok(Number.isNaN(r.balancedAccuracy)); // balanced_accuracy_score's mean of no class
    assert.deepEqual(r.classes.map((c) => [c.precision, c.recall, c.f1, c.support]), [
      [v, v, v, 0],
      [v, v, v, 0],
      [v, v, v, 0],
    ]);
    assert.deepEqual(r.weightedAvg, { precision: v, recall: v, f1: v, support: 0 });
    assert.deepEqual(r.confusion, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  }
  // The same from a Tensor of weights.
  using w = tensor(zero, [6], { device: testDevice });
  const r = metrics.classificationReport(yt, yp, { sampleWeight: w, zeroDivision: 1 });
  assert.equal(r.accuracy, 1);
  // accuracyScore's weighted mean of weights summing to 0 stays numpy's ZeroDivisionError.
  assert.throws(() => metrics.accuracyScore(yt, yp, { sampleWeight: zero }), /sums to 0/);
});

Deno.test("sampleWeight sklearn takes silently (negative, NaN, inf) throws here; count checked", () => {
  const yt = [0, 1, 2, 2, 1, 0], yp = [0, 2, 2, 1, 1, 0];
  const fns = [
    (w: unknown) => metrics.classificationReport(yt, yp, { sampleWeight: w as number[] }),
    (w: unknown) => metrics.precisionRecallFscoreSupport(yt, yp, { sampleWeight: w as number[] }),
  ];
  const bad: [unknown, RegExp][] = [
    [[1, -1, 1, 1, 1, 1], /: sampleWeight\[1\] = -1 is negative; weights must be >= 0/],
    [[1, NaN, 1, 1, 1, 1], /: sampleWeight\[1\] = NaN is not a finite number/],
    [[1, 1, Infinity, 1, 1, 1], /sampleWeight\[2\] = Infinity is not a finite number/],
    [[1, 1, 1], /sampleWeight has 3 entries but there are 6 samples; pass one weight per sample/],
    [[1, 1, 1, 1, 1, 1, 1], /7 entries but there are 6 samples/],
    [[[1, 1], [1, 1], [1, 1]], /\[3, 2\] matrix; pass one weight per sample/],
    [["1", 1, 1, 1, 1, 1], /sampleWeight/],
    [3, /sampleWeight must be one weight per sample/],
  ];
  for (const f of fns) {
    for (const [w, re] of bad) assert.throws(() => f(w), re, JSON.stringify(w));
  }
  // A column of weights ([N, 1]) is one weight per sample, as sklearn's column_or_1d.
  const col = metrics.classificationReport(yt, yp, { sampleWeight: yt.map(() => [2]) as never });
  assert.equal(col.accuracy, 4 / 6);
  // Multilabel indicators with weights summing to 0: sklearn's samples average raises.
  assert.throws(
    () =>
      metrics.classificationReport([[1, 0], [0, 1]], [[1, 0], [1, 1]], { sampleWeight: [0, 0] }),
    /classificationReport: sampleWeight sums to 0.*Weights sum to zero/,
  );
});
