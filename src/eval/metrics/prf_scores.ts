/**
 * scikit-learn's precision, recall and F-scores as standalone functions:
 * `precisionScore`, `recallScore`, `f1Score`, `fbetaScore` and
 * `precisionRecallFscoreSupport`, with sklearn 1.2's averages, defaults,
 * `labels`, `posLabel`, `sample_weight` and `zero_division` (see prf.ts),
 * for class labels or multilabel indicator matrices.
 *
 * @module
 */
import type { Targets } from "./labels.ts";
import {
  type Averaged,
  type FbetaOptions,
  type LabelAverage,
  type PrecisionRecallFscoreSupport,
  type PrfOptions,
  prfs,
  prfsSettings,
  type WarnFor,
} from "./prf.ts";
import { type CallContract, checkContract } from "../../options.ts";

const PRF_KEYS = ["average", "labels", "posLabel", "zeroDivision", "sampleWeight"] as const;

function contract<T extends object>(name: string, known: readonly string[]): CallContract<T> {
  return {
    where: `metrics.${name}`,
    most: 3,
    known: known as readonly (keyof T & string)[],
    usage: `metrics.${name}(yTrue, yPred, { average: "macro", zeroDivision: 0 })`,
  };
}

function score(
  name: string,
  given: number,
  yTrue: Targets,
  yPred: Targets,
  options: FbetaOptions,
  pick: "precision" | "recall" | "fbeta",
  warnFor: WarnFor,
  beta?: number,
): number | number[] {
  const keys = beta === undefined && pick === "fbeta" ? [...PRF_KEYS, "beta"] : PRF_KEYS;
  const o = checkContract(contract<FbetaOptions>(name, keys), given, options);
  if (pick === "fbeta" && beta === undefined && o.beta === undefined) {
    throw new TypeError(`metrics.${name}: beta is required: metrics.${name}(y, p, { beta: 2 })`);
  }
  const settings = prfsSettings(`metrics.${name}`, o, "binary", beta ?? o.beta);
  return prfs(`metrics.${name}`, yTrue, yPred, settings, warnFor)[pick];
}

/**
 * Precision, TP / (TP + FP), as `sklearn.metrics.precision_score`: for the
 * class `posLabel` (default 1) of binary labels, or averaged over the
 * classes ("micro", "macro", "weighted"), or per class (`average: null`).
 * A class never predicted has 0 / 0: 0 and a one-time warning, or
 * `zeroDivision`.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors;
 * or an [N, K] multilabel indicator of 0 and 1 (a 2-D Tensor or nested rows).
 * @param yPred Predicted labels, same length (e.g. `logits.argmax(1)`).
 * @param options `average` (default "binary"), `labels`, `posLabel`, `zeroDivision`,
 * `sampleWeight`.
 * @returns The precision, or one per class of `labels` when `average` is null.
 * @throws {RangeError} On empty or mismatched inputs, a label that is not a
 * non-negative integer, or more than two classes with average "binary".
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const yTrue = [0, 1, 2, 0, 1, 2];
 * const yPred = [0, 2, 1, 0, 0, 1];
 * assert.equal(metrics.precisionScore(yTrue, yPred, { average: "micro" }), 1 / 3);
 * assert.deepEqual(metrics.precisionScore(yTrue, yPred, { average: null }), [2 / 3, 0, 0]);
 * assert.equal(metrics.precisionScore([0, 1, 1, 0], [0, 1, 0, 1]), 0.5); // binary, class 1
 * // Weighted samples, and multilabel indicators (one column per finding):
 * assert.equal(metrics.precisionScore([0, 1, 1, 0], [0, 1, 0, 1], { sampleWeight: [1, 3, 1, 1] }), 0.75);
 * const yTrueML = [[1, 0, 1], [0, 1, 0], [1, 1, 0]];
 * const yPredML = [[1, 0, 0], [0, 1, 1], [1, 1, 0]];
 * assert.equal(metrics.precisionScore(yTrueML, yPredML, { average: "micro" }), 0.8);
 * assert.equal(metrics.precisionScore(yTrueML, yPredML, { average: "samples" }), 5 / 6);
 * ```
 */
export function precisionScore<A extends LabelAverage = "binary">(
  yTrue: Targets,
  yPred: Targets,
  options: PrfOptions<A> = {},
): Averaged<A> {
  const warnFor: WarnFor = ["precision"];
  return score(
    "precisionScore",
    arguments.length,
    yTrue,
    yPred,
    options,
    "precision",
    warnFor,
  ) as Averaged<A>;
}

/**
 * Recall (sensitivity), TP / (TP + FN), as `sklearn.metrics.recall_score`,
 * with the same averages and defaults as `precisionScore`. A class absent
 * from `yTrue` has 0 / 0: 0 and a one-time warning, or `zeroDivision`.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors;
 * or an [N, K] multilabel indicator of 0 and 1 (a 2-D Tensor or nested rows).
 * @param yPred Predicted labels, same length.
 * @param options `average` (default "binary"), `labels`, `posLabel`, `zeroDivision`.
 * @returns The recall, or one per class of `labels` when `average` is null.
 * @throws {RangeError} As `precisionScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const yTrue = [0, 1, 2, 0, 1, 2];
 * const yPred = [0, 2, 1, 0, 0, 1];
 * assert.equal(metrics.recallScore(yTrue, yPred, { average: "macro" }), 1 / 3);
 * assert.deepEqual(metrics.recallScore(yTrue, yPred, { average: null }), [1, 0, 0]);
 * ```
 */
export function recallScore<A extends LabelAverage = "binary">(
  yTrue: Targets,
  yPred: Targets,
  options: PrfOptions<A> = {},
): Averaged<A> {
  const warnFor: WarnFor = ["recall"];
  return score(
    "recallScore",
    arguments.length,
    yTrue,
    yPred,
    options,
    "recall",
    warnFor,
  ) as Averaged<A>;
}

/**
 * F1, the harmonic mean of precision and recall, as
 * `sklearn.metrics.f1_score` (sklearn 1.2 computes it from precision and
 * recall after their zero-division values). It warns (once) only for a
 * class with neither true nor predicted samples.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors;
 * or an [N, K] multilabel indicator of 0 and 1 (a 2-D Tensor or nested rows).
 * @param yPred Predicted labels, same length.
 * @param options `average` (default "binary"), `labels`, `posLabel`, `zeroDivision`.
 * @returns F1, or one per class of `labels` when `average` is null.
 * @throws {RangeError} As `precisionScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const yTrue = [0, 1, 2, 0, 1, 2];
 * const yPred = [0, 2, 1, 0, 0, 1];
 * assert.equal(metrics.f1Score(yTrue, yPred, { average: "macro" }), 0.26666666666666666);
 * assert.deepEqual(metrics.f1Score(yTrue, yPred, { average: null }), [0.8, 0, 0]);
 * ```
 */
export function f1Score<A extends LabelAverage = "binary">(
  yTrue: Targets,
  yPred: Targets,
  options: PrfOptions<A> = {},
): Averaged<A> {
  const warnFor: WarnFor = ["f-score"];
  return score("f1Score", arguments.length, yTrue, yPred, options, "fbeta", warnFor, 1) as Averaged<
    A
  >;
}

/**
 * F-beta, (1 + beta²) P R / (beta² P + R), as
 * `sklearn.metrics.fbeta_score`: beta > 1 favours recall (F2 for
 * screening), beta < 1 precision; `beta` is required, as in sklearn.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors;
 * or an [N, K] multilabel indicator of 0 and 1 (a 2-D Tensor or nested rows).
 * @param yPred Predicted labels, same length.
 * @param options `beta` (required, >= 0), then as `f1Score`.
 * @returns F-beta, or one per class of `labels` when `average` is null.
 * @throws {TypeError} Without `beta`.
 * @throws {RangeError} As `precisionScore`, or for a negative beta.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const yTrue = [0, 1, 2, 0, 1, 2];
 * const yPred = [0, 2, 1, 0, 0, 1];
 * const f = metrics.fbetaScore(yTrue, yPred, { beta: 0.5, average: null });
 * assert.ok(Math.abs(f[0] - 0.7142857142857143) < 1e-12);
 * ```
 */
export function fbetaScore<A extends LabelAverage = "binary">(
  yTrue: Targets,
  yPred: Targets,
  options: FbetaOptions<A> & { beta: number },
): Averaged<A> {
  const warnFor: WarnFor = ["f-score"];
  return score("fbetaScore", arguments.length, yTrue, yPred, options, "fbeta", warnFor) as Averaged<
    A
  >;
}

/**
 * Precision, recall, F-beta and support in one pass, as
 * `sklearn.metrics.precision_recall_fscore_support`: by default per class
 * (`average` null) over the labels present, with `support` the number of
 * true samples of each; with an average, one number each and `support`
 * undefined (sklearn's None). Ill-defined precision or recall warn once.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors;
 * or an [N, K] multilabel indicator of 0 and 1 (a 2-D Tensor or nested rows).
 * @param yPred Predicted labels, same length.
 * @param options `beta` (default 1), `average` (default null), `labels`,
 * `posLabel`, `zeroDivision`.
 * @returns `{ precision, recall, fbeta, support }`.
 * @throws {RangeError} As `precisionScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const r = metrics.precisionRecallFscoreSupport([0, 1, 2, 2], [0, 1, 1, 2]);
 * assert.deepEqual(r.precision, [1, 0.5, 1]);
 * assert.deepEqual(r.recall, [1, 1, 0.5]);
 * assert.deepEqual(r.support, [1, 1, 2]);
 * const macro = metrics.precisionRecallFscoreSupport([0, 1, 2, 2], [0, 1, 1, 2], {
 *   average: "macro",
 * });
 * assert.equal(macro.support, undefined);
 * ```
 */
export function precisionRecallFscoreSupport<A extends LabelAverage = null>(
  yTrue: Targets,
  yPred: Targets,
  options: FbetaOptions<A> = {},
): PrecisionRecallFscoreSupport<A> {
  const fn = "metrics.precisionRecallFscoreSupport";
  const o = checkContract(
    contract<FbetaOptions>("precisionRecallFscoreSupport", [...PRF_KEYS, "beta"]),
    arguments.length,
    options,
  );
  const settings = prfsSettings(fn, o, null);
  const warnFor: WarnFor = ["precision", "recall", "f-score"];
  return prfs(fn, yTrue, yPred, settings, warnFor) as PrecisionRecallFscoreSupport<A>;
}
