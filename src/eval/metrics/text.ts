/**
 * The text rendering of a classification report, character for character
 * the layout of `sklearn.metrics.classification_report` (one quirk aside:
 * sklearn 1.2.1 prints supports as floats, "2.0", when no sample within the
 * labels is predicted right; here they stay integers).
 *
 * @module
 */
import type { AverageMetrics, ClassificationReport } from "./report.ts";
import { type CallContract, checkContract } from "../../options.ts";

/** Options of `formatClassificationReport`. */
export interface FormatReportOptions {
  /** Digits after the decimal point (default the report's `digits`, else 2, as sklearn). */
  digits?: number;
}

/** One row of `ClassificationReportDict`, with sklearn's keys. */
export interface ReportDictRow {
  /** The row's precision. */
  precision: number;
  /** The row's recall. */
  recall: number;
  /** The row's F1. */
  "f1-score": number;
  /** Its support (total support for the averages). */
  support: number;
}

/**
 * sklearn's `classification_report(..., output_dict=True)`: a row per
 * class under its name, then "accuracy" (a number) or "micro avg", "macro
 * avg", "weighted avg" and, for multilabel indicators, "samples avg".
 */
export type ClassificationReportDict = Record<string, ReportDictRow | number>;

/** @internal throws unless `digits` is an integer in 0..20. */
export function checkDigits(fn: string, digits: unknown): number {
  if (typeof digits !== "number" || !Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`${fn}: digits must be an integer in 0..20, got ${String(digits)}`);
  }
  return digits;
}

/**
 * Whether sklearn's report has an "accuracy" row (the listed labels are
 * those seen, class labels) rather than a "micro avg" one.
 */
function accuracyRow(report: ClassificationReport): boolean {
  if (report.microAvg !== undefined) return false;
  // sklearn (1.2: `set(labels) == set(unique_labels(y_true, y_pred))`)
  // prints "accuracy" only when the listed labels are exactly the labels
  // seen, always so without numClasses / classNames; otherwise the micro
  // average, which equals accuracy here (every seen label is listed).
  // With weights, a label whose samples all weigh 0 is still seen (sklearn's
  // unique_labels ignores the weights): the report says so itself.
  return report.allLabelsSeen ??
    report.classes.every((c) => c.support > 0 || c.predicted > 0);
}

/**
 * @internal a report in sklearn's `output_dict=True` layout (see
 * `classificationReport`'s `outputDict`).
 */
export function reportDict(report: ClassificationReport): ClassificationReportDict {
  const row = (m: AverageMetrics): ReportDictRow => ({
    precision: m.precision,
    recall: m.recall,
    "f1-score": m.f1,
    support: m.support,
  });
  const out: ClassificationReportDict = {};
  for (const c of report.classes) out[c.name] = row(c);
  const n = report.macroAvg.support;
  if (report.microAvg !== undefined) out["micro avg"] = row(report.microAvg);
  else if (accuracyRow(report)) out.accuracy = report.accuracy;
  else {
    const a = report.accuracy;
    out["micro avg"] = { precision: a, recall: a, "f1-score": a, support: n };
  }
  out["macro avg"] = row(report.macroAvg);
  out["weighted avg"] = row(report.weightedAvg);
  if (report.samplesAvg !== undefined) out["samples avg"] = row(report.samplesAvg);
  return out;
}

const FORMAT_CLASSIFICATION_REPORT: CallContract<FormatReportOptions> = {
  where: "metrics.formatClassificationReport",
  most: 2,
  known: ["digits"],
  usage: "metrics.formatClassificationReport(report, { digits: 4 })",
};

/**
 * Renders a report as sklearn prints it: one row per class, then accuracy,
 * macro and weighted averages (for multilabel indicators: micro, macro,
 * weighted and samples averages). Supports of a report made with
 * `sampleWeight` print as floats ("4.0"), as sklearn's do. Where the report lists a class that occurs
 * neither in the truth nor in the predictions (possible only with
 * `numClasses` or `classNames`), the accuracy row is a "micro avg" row, as
 * sklearn prints when `labels` differs from the labels seen.
 *
 * @param report What `classificationReport` returned.
 * @param options Number of digits.
 * @returns The text, ending in a newline.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 *
 * const r = metrics.classificationReport([0, 1, 1, 0], [0, 1, 0, 0]);
 * console.log(metrics.formatClassificationReport(r, { digits: 3 }));
 * //               precision    recall  f1-score   support
 * //
 * //            0      0.667     1.000     0.800         2
 * //            1      1.000     0.500     0.667         2
 * // ...
 * ```
 */
export function formatClassificationReport(
  report: ClassificationReport,
  options: FormatReportOptions = {},
): string {
  options = checkContract(FORMAT_CLASSIFICATION_REPORT, arguments.length, options);
  const digits = checkDigits(
    "formatClassificationReport",
    options.digits ?? report.digits ?? 2,
  );
  const last = "weighted avg";
  const width = Math.max(last.length, digits, ...report.classes.map((c) => c.name.length));
  const num = (x: number) => " " + pyFixed(x, digits).padStart(9);
  // With sample weights sklearn's supports are floats, printed as Python does (4.0).
  const int = (x: number) => " " + (report.sampleWeighted ? pyFloat(x) : String(x)).padStart(9);
  const row = (name: string, p: number, r: number, f: number, s: number) =>
    name.padStart(width) + " " + num(p) + num(r) + num(f) + int(s) + "\n";

  let out = "".padStart(width) + " " +
    ["precision", "recall", "f1-score", "support"].map((h) => " " + h.padStart(9)).join("") +
    "\n\n";
  for (const c of report.classes) out += row(c.name, c.precision, c.recall, c.f1, c.support);
  out += "\n";
  const n = report.macroAvg.support;
  const { microAvg: micro, samplesAvg: samples } = report;
  if (micro !== undefined) {
    // Multilabel, or labels that leave a seen one out: sklearn prints the
    // micro average (and for multilabel a samples row last).
    out += row("micro avg", micro.precision, micro.recall, micro.f1, micro.support);
  } else if (accuracyRow(report)) {
    out += "accuracy".padStart(width) + " " + " ".repeat(20) + num(report.accuracy) + int(n) +
      "\n";
  } else {
    const a = report.accuracy;
    out += row("micro avg", a, a, a, n);
  }
  const { macroAvg: m, weightedAvg: w } = report;
  out += row("macro avg", m.precision, m.recall, m.f1, m.support);
  out += row(last, w.precision, w.recall, w.f1, w.support);
  if (samples !== undefined) {
    out += row("samples avg", samples.precision, samples.recall, samples.f1, samples.support);
  }
  return out;
}

/** `x` as Python's `str(float)` writes it: 4.0, 0.5, 1e-05. */
export function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  return String(x).replace(/e([+-])(\d)$/, (_, sign, d) => `e${sign}0${d}`);
}

/**
 * `x` with `digits` decimals, as Python's `format(x, ".Nf")` writes it.
 * Number#toFixed rounds exact ties (0.125 -> "0.13") away from zero where
 * Python rounds them to even ("0.12"), so ties are detected on the exact
 * decimal expansion and rounded to even.
 */
export function pyFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  if (!Number.isFinite(x)) return s;
  // A binary fraction that ends exactly on 5 at digit d+1 has at most d+1
  // decimals, so 40 more digits show whether the tail is 5 followed by zeros.
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 40));
  const dot = exact.indexOf(".");
  const tail = dot < 0 ? "" : exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, "");
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? "-" : "") + kept; // round down to even
  return s; // toFixed already rounded up, which is to even here
}

/**
 * Makes `String(report)`, `${report}` and `console.log(report)` print
 * sklearn's text, as Python's `print(classification_report(...))` does
 * (the report is sklearn's string there); the fields stay as they are,
 * and the added methods are not enumerable (JSON, spread and deep
 * equality see the plain report).
 */
export function withReportText(report: ClassificationReport): ClassificationReport {
  const text = () => formatClassificationReport(report);
  for (const key of ["toString", Symbol.for("Deno.customInspect"), NODE_INSPECT]) {
    Object.defineProperty(report, key, { value: text, enumerable: false, configurable: true });
  }
  return report;
}

/** Node's `util.inspect.custom` (what `console.log` reads under Node). */
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");
