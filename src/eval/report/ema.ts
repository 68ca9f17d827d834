/**
 * `emaFromMetrics`: the model EMA's lines of a run's metrics.jsonl ("ema":
 * a validation per epoch, "ema_test": the test split on its last weights),
 * as `renderReport`'s `ema`.
 *
 * @module
 */
import type { EmaTest, EmaValidation, ReportEma } from "./types.ts";

/**
 * A number of a metrics.jsonl line, or null where there is none: the
 * trainer writes NaN and the infinities as `{ "$number": "NaN" }`.
 */
function numberOrNull(v: unknown): number | null {
  if (typeof v === "number") return v;
  const n = v as { $number?: unknown } | null;
  if (n !== null && typeof n === "object" && typeof n.$number === "string") {
    return Number(n.$number);
  }
  return null;
}

/**
 * Reads the model EMA of a run from its metrics.jsonl text: each "ema" line
 * (`{ type: "ema", epoch, valLoss, valAcc }`) is one validation, the last
 * "ema_test" line (`{ type: "ema_test", accuracy, loss, macroF1, ... }`) the
 * test numbers. Other lines are skipped; null when there is no EMA line (a
 * run without `--model-ema`: the report then shows no EMA). A line that is
 * not JSON throws, naming its line number.
 *
 * @param text The contents of metrics.jsonl.
 * @returns `renderReport`'s `ema`, or null.
 *
 * @example
 * ```ts
 * import { evaluation } from "@lits/vision";
 *
 * const text = [
 *   '{"type":"epoch","epoch":1,"trainLoss":0.9,"trainAcc":0.6,"valLoss":0.8,"valAcc":0.7}',
 *   '{"type":"ema","epoch":1,"step":10,"valLoss":0.85,"valAcc":0.68}',
 *   '{"type":"test","epoch":1,"accuracy":0.72}',
 *   '{"type":"ema_test","epoch":1,"accuracy":0.7,"macroF1":0.66}',
 * ].join("\n");
 * const ema = evaluation.emaFromMetrics(text);
 * console.log(ema?.history.length, ema?.test?.accuracy); // 1 0.7
 * ```
 */
export function emaFromMetrics(text: string): ReportEma | null {
  if (typeof text !== "string") {
    throw new TypeError(
      `evaluation.emaFromMetrics: expected the text of metrics.jsonl, got ${typeof text}; ` +
        'write evaluation.emaFromMetrics(await Deno.readTextFile("runs/x/metrics.jsonl"))',
    );
  }
  const history: EmaValidation[] = [];
  let test: EmaTest | null = null;
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(
        `evaluation.emaFromMetrics: line ${i + 1} of metrics.jsonl is not JSON ` +
          `(${(e as Error).message}): ${line.slice(0, 80)}`,
      );
    }
    if (r === null || typeof r !== "object") return;
    if (r.type === "ema" && typeof r.epoch === "number") {
      history.push({
        epoch: r.epoch,
        valLoss: numberOrNull(r.valLoss),
        valAcc: numberOrNull(r.valAcc),
      });
    } else if (r.type === "ema_test" && numberOrNull(r.accuracy) !== null) {
      test = { accuracy: numberOrNull(r.accuracy)! };
      for (const k of ["loss", "macroF1", "balancedAccuracy", "macroAuc"] as const) {
        const v = numberOrNull(r[k]);
        if (v !== null) test[k] = v;
      }
    }
  });
  return history.length === 0 && test === null ? null : { history, test };
}
