/**
 * scikit-learn 1.2's own docstring examples for the metrics, ported verbatim
 * (tests/fixtures/sklearn_docs.json, made by
 * scripts/make_sklearn_docs_fixtures.py), with the variants users write:
 * labels subsets and extras, posLabel, every average, sampleWeight,
 * zeroDivision, string and -1/1 labels, probabilities as labels, one-hot
 * yTrue, a class missing from either side. Every call must give sklearn's
 * value (1e-12), refuse where sklearn refused, or, where sklearn takes input
 * this library does not (names as labels, -1/1 labels, one-hot yTrue in
 * logLoss), throw an Error that says what to write. The few documented
 * choices that differ from sklearn 1.2 are asserted one by one at the end.
 */
import assert from "node:assert/strict";
import { metrics } from "../mod.ts";
import { captureWarnings, loadFixture, type StoredNumber, storedNumber } from "./helpers.ts";

type Stored = StoredNumber | string | boolean | null | Stored[] | { [k: string]: Stored };

interface Call {
  id: string;
  fn: string;
  args: unknown[];
  options: Record<string, unknown>;
  value?: Stored;
  raises?: string;
  warnings: string[];
}

const fx = loadFixture<{ sklearn: string; shared: unknown[]; calls: Call[] }>(
  "sklearn_docs.json",
);

// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => any;
const m = metrics as unknown as Record<string, Fn>;

function decode(v: unknown): unknown {
  if (v === "nan" || v === "inf" || v === "-inf") return storedNumber(v);
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object" && "shared" in v) {
    return decode(fx.shared[(v as { shared: number }).shared]);
  }
  return v;
}

/** The call as a user writes it, its result in sklearn's shape (tuples as arrays). */
function run(c: Call): unknown {
  const [a, b] = c.args.map(decode);
  const o = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, decode(v)]));
  switch (c.fn) {
    case "classificationReportText":
      return metrics.formatClassificationReport(
        metrics.classificationReport(a as never, b as never, o),
      );
    case "classificationReport":
      return m.classificationReport(a, b, { ...o, outputDict: true });
    case "precisionRecallFscoreSupport": {
      const r = m.precisionRecallFscoreSupport(a, b, o);
      return [r.precision, r.recall, r.fbeta, r.support ?? null];
    }
    case "rocCurve": {
      const r = m.rocCurve(a, b, o);
      return [r.fpr, r.tpr, r.thresholds];
    }
    case "precisionRecallCurve": {
      const r = m.precisionRecallCurve(a, b, o);
      return [r.precision, r.recall, r.thresholds];
    }
    case "calibrationCurve": {
      const r = m.calibrationCurve(a, b, o);
      return [r.probTrue, r.probPred];
    }
    case "auc":
      return m.auc(a, b);
    default:
      return Object.keys(o).length === 0 ? m[c.fn](a, b) : m[c.fn](a, b, o);
  }
}

/** The first difference from sklearn's value, or "". */
function differs(a: unknown, w: Stored, at = ""): string {
  if (w === null) {
    return a === null || a === undefined ? "" : `${at}: ${JSON.stringify(a)}, not null`;
  }
  if (typeof w === "string" && !["nan", "inf", "-inf"].includes(w)) {
    return a === w ? "" : `${at}: text\n${a}\nsklearn:\n${w}`;
  }
  if (Array.isArray(w)) {
    if (!Array.isArray(a)) return `${at}: ${JSON.stringify(a)} is not an array`;
    if (a.length !== w.length) return `${at}: length ${a.length}, want ${w.length}`;
    for (let i = 0; i < w.length; i++) {
      const d = differs(a[i], w[i], `${at}[${i}]`);
      if (d) return d;
    }
    return "";
  }
  if (typeof w === "object") {
    if (typeof a !== "object" || a === null) return `${at}: not an object`;
    const ka = Object.keys(a).sort(), kw = Object.keys(w).sort();
    if (ka.join() !== kw.join()) return `${at}: keys ${ka}, want ${kw}`;
    for (const k of kw) {
      const d = differs((a as Record<string, unknown>)[k], w[k], `${at}.${k}`);
      if (d) return d;
    }
    return "";
  }
  const e = typeof w === "boolean" ? Number(w) : storedNumber(w as StoredNumber);
  if (typeof a !== "number") return `${at}: ${JSON.stringify(a)} is not a number`;
  if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) return "";
  return Math.abs(a - e) <= 1e-12 * Math.max(1, Math.abs(e)) ? "" : `${at}: got ${a}, want ${e}`;
}

/**
 * Where sklearn gives a value and the library throws: the message must say
 * what to write.
 */
const STRINGS = /labels are class indices: map the names to 0, 1/;
const MINUS_ONE = /map sklearn's -1\/1 labels to 0\/1 \(y\.map\(\(v\) => \(v < 0 \? 0 : v\)\)\)/;
const REFUSED: [RegExp, RegExp][] = [
  [/strings|string labels|doc strings$|strings binary|strings pos_label/, STRINGS],
  [/-1\/1|^mcc doc$/, MINUS_ONE],
  [/^log_loss one-hot y_true$/, /for one-hot rows pass their argmax \(y\.argmax\(1\)\)/],
  [/^brier doc booleans$/, /a boolean: pass numbers, probs\.map\(Number\)/],
  [/^roc_auc binary max_fpr$/, /unknown option 'maxFpr'/],
  [/^roc_auc multiclass ovo$/, /multiClass "ovo" .* is not implemented here; multiClass "ovr"/],
  [/^roc_auc multiclass labels$/, /unknown option 'labels'; known options: posLabel, numClasses/],
];

/** Documented choices that differ from sklearn 1.2 (asserted below). */
const CHOICES = new Set([
  "roc_auc binary average=None",
  "roc_auc multiclass default multi_class",
  "roc_auc two columns binary",
  "ap multiclass",
  "ap multiclass average=None",
]);

function replay(c: Call): string {
  if (CHOICES.has(c.id)) return "";
  const got = captureWarnings(() => run(c));
  if (c.raises !== undefined) {
    return got.error
      ? ""
      : `[${c.id}] sklearn raised "${c.raises}", got ${JSON.stringify(got.value)}`;
  }
  if (got.error) {
    const rule = REFUSED.find(([id]) => id.test(c.id));
    if (rule && rule[1].test(got.error.message)) return "";
    return `[${c.id}] threw ${got.error.message} (sklearn ${JSON.stringify(c.value)})`;
  }
  // The first ROC threshold is +Infinity here (sklearn >= 1.3); sklearn 1.2 writes max + 1.
  if (c.fn === "rocCurve") {
    const [fpr, tpr, thr] = got.value as number[][];
    const [wf, wt, wthr] = c.value as Stored[][];
    if (thr[0] !== Infinity) return `[${c.id}] first threshold ${thr[0]}`;
    return differs([fpr, tpr, thr.slice(1)], [wf, wt, wthr.slice(1)]);
  }
  const d = differs(got.value, c.value!);
  return d ? `[${c.id}] ${d}` : "";
}

for (const fn of new Set(fx.calls.map((c) => c.fn))) {
  const calls = fx.calls.filter((c) => c.fn === fn);
  Deno.test(`sklearn ${fx.sklearn} docs: ${fn} (${calls.length} calls)`, () => {
    const failures = calls.map(replay).filter((d) => d !== "");
    assert.deepEqual(failures.slice(0, 6), [], `${failures.length} of ${calls.length} differ`);
  });
}

function call(id: string): { c: Call; value: unknown } {
  const c = fx.calls.find((x) => x.id === id)!;
  return { c, value: run(c) };
}

Deno.test("sklearn docs: the documented choices that differ from sklearn 1.2", () => {
  // average null on binary input: sklearn's one number, as the one entry of a list.
  const a = call("roc_auc binary average=None");
  assert.equal(differs((a.value as number[])[0], a.c.value!), "");
  // A score matrix is one-vs-rest without multiClass (sklearn 1.2 asks for multi_class="ovr").
  const d = call("roc_auc multiclass default multi_class");
  assert.equal(d.value, call("roc_auc doc multiclass ovr").value);
  // Binary labels with two probability columns: the positive column's AUC (sklearn raises).
  assert.equal(call("roc_auc two columns binary").value, 0.75);
  // Multiclass average precision is sklearn 1.3's one-vs-rest (1.2 raises).
  assert.deepEqual(call("ap multiclass average=None").value, [1, 0.8333333333333333, 0.75]);
  assert.equal(call("ap multiclass").value, (1 + 0.8333333333333333 + 0.75) / 3);
});
