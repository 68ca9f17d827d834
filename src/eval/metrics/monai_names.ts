/**
 * MONAI's ROC AUC names, each a function that throws naming
 * `metrics.rocAucScore` (`new metrics.ROCAUCMetric()` was "not a
 * constructor"). MONAI's `compute_roc_auc(y_pred, y)` with its default
 * average "macro" on softmax probabilities and one-hot labels is the mean of
 * the one-vs-rest AUCs: `rocAucScore(labels, probs)` here, the labels as
 * class indices and the arguments in sklearn's order (for two classes both
 * columns give the same AUC, so it is the binary AUC). Where MONAI gives NaN
 * and a warning (a class absent from the labels), this throws.
 *
 * @module
 */
import { type MonaiName, monaiName } from "../../data/monai_names.ts";

const SAY = "write metrics.rocAucScore(y, yPred.softmax(1)) on the epoch's class indices y " +
  "[N] (not one-hot) and logits yPred [N, C] (sklearn's order, labels first; MONAI's " +
  "average 'macro' is the default); gather the epoch's batches first: cat(preds, 0)";

/**
 * @deprecated MONAI's name: write `metrics.rocAucScore(y, yPred.softmax(1))`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * try {
 *   new metrics.ROCAUCMetric();
 * } catch (e) {
 *   console.log((e as Error).message.includes("metrics.rocAucScore(y, yPred.softmax(1))")); // true
 * }
 * ```
 */
export const ROCAUCMetric: MonaiName = monaiName("metrics.ROCAUCMetric", SAY);
/** @deprecated MONAI's name: write `metrics.rocAucScore(y, yPred.softmax(1))`. */
export const computeRocAuc: MonaiName = monaiName("metrics.computeRocAuc", SAY);
/** @deprecated MONAI's name: write `metrics.rocAucScore(y, yPred.softmax(1))`. */
export const compute_roc_auc: MonaiName = monaiName("metrics.compute_roc_auc", SAY);
