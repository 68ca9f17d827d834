/**
 * Classification metrics with scikit-learn's definitions: the confusion
 * matrix, the classification report (and its text), specificity and
 * sensitivity, precision-recall and ROC curves, average precision and ROC
 * AUC. Inputs are plain arrays or Tensors: labels as an array or a 1-D
 * Tensor (`logits.argmax(1)`), softmax probabilities as a row-major [N, C]
 * array, nested rows (`probs.toList()`) or an [N, C] Tensor; lists of
 * per-sample Tensors (MONAI's `decollate_batch`) are read as their stack.
 * The classification report lists the labels present in either list, as
 * sklearn does, unless `numClasses` or `classNames` names every class. Empty
 * inputs throw. Tensors are read through `toArray()` only, so nothing here
 * imports tensor code.
 *
 * The standalone scikit-learn scores have sklearn's names in camelCase and
 * the semantics and defaults of sklearn 1.2: `accuracyScore`,
 * `balancedAccuracyScore`, `topKAccuracyScore`, `precisionScore`,
 * `recallScore`, `f1Score`, `fbetaScore`, `precisionRecallFscoreSupport`
 * (`average` "binary" with `posLabel`, "micro", "macro", "weighted" or null
 * per class; `labels`; `zeroDivision`, whose default "warn" gives 0 and a
 * one-time `console.warn`), `cohenKappaScore` (linear or quadratic weights
 * for ordinal grades), `matthewsCorrcoef`, `confusionMatrix` with
 * `normalize`, `logLoss`, `brierScoreLoss` and `calibrationCurve`, and
 * `multilabelConfusionMatrix`, `jaccardScore`, `hammingLoss` and
 * `zeroOneLoss`.
 *
 * Every metric sklearn 1.2 gives a `sample_weight` takes `{ sampleWeight }`
 * (one finite weight >= 0 per sample; `calibrationCurve` and `auc` take
 * none, as in sklearn). Multilabel indicators, [N, K] matrices of 0 and 1
 * (a 2-D Tensor, nested rows or per-sample [K] Tensors), are told apart
 * from class labels by their shape, as sklearn's `type_of_target`: the
 * label metrics that sklearn defines for them take them (subset accuracy,
 * precision / recall / F-beta with average "samples" too, the report,
 * Jaccard, Hamming and zero-one losses, the multilabel confusion matrix,
 * multilabel ROC AUC and AP); a matrix of probabilities passed as labels
 * throws, naming argmax or a threshold.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 *
 * const yTrue = [0, 1, 2, 2, 1, 0];
 * const probs = new Float32Array([
 *   0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7,
 *   0.2, 0.5, 0.3, 0.3, 0.4, 0.3, 0.6, 0.3, 0.1,
 * ]);
 * const yPred = [0, 1, 2, 1, 1, 0]; // argmax of each row
 * const report = metrics.classificationReport(yTrue, yPred);
 * console.log(metrics.formatClassificationReport(report));
 * console.log("macro ROC AUC", metrics.rocAuc(yTrue, probs));
 * console.log("macro F1", metrics.f1Score(yTrue, yPred, { average: "macro" }));
 * console.log("log loss", metrics.logLoss(yTrue, probs));
 * ```
 *
 * @module
 */
export {
  type OneVsRestCounts,
  oneVsRestCounts,
  type SpecificitySensitivity,
  specificitySensitivity,
} from "./confusion.ts";
export {
  type AverageMetrics,
  type ClassificationReport,
  classificationReport,
  type ClassificationReportOptions,
  type ClassMetrics,
} from "./report.ts";
export {
  type ClassificationReportDict,
  formatClassificationReport,
  type FormatReportOptions,
  type ReportDictRow,
} from "./text.ts";
export {
  type CurveOptions,
  type PrecisionRecallCurve,
  precisionRecallCurve,
  type RocCurve,
  rocCurve,
  type RocCurveOptions,
} from "./curves.ts";
export {
  auc,
  type Average,
  averagePrecision,
  averagePrecisionScore,
  rocAuc,
  type RocAucOptions,
  rocAucScore,
  type ScoreAveraged,
  type ScoreOptions,
} from "./scores.ts";
export type { Labels, Scores, Targets, TensorLike } from "./labels.ts";
export {
  confusionMatrix,
  type ConfusionMatrixOptions,
  type ConfusionNormalize,
} from "./confusion_matrix.ts";
export {
  type AccuracyOptions,
  accuracyScore,
  type BalancedAccuracyOptions,
  balancedAccuracyScore,
  type TopKAccuracyOptions,
  topKAccuracyScore,
} from "./accuracy.ts";
export {
  f1Score,
  fbetaScore,
  precisionRecallFscoreSupport,
  precisionScore,
  recallScore,
} from "./prf_scores.ts";
export {
  type Averaged,
  type FbetaOptions,
  type LabelAverage,
  type PrecisionRecallFscoreSupport,
  type PrfOptions,
} from "./prf.ts";
export type { ZeroDivision } from "./pairs.ts";
export {
  type CohenKappaOptions,
  cohenKappaScore,
  matthewsCorrcoef,
  type MatthewsOptions,
} from "./agreement.ts";
export {
  hammingLoss,
  type HammingLossOptions,
  type JaccardOptions,
  jaccardScore,
  multilabelConfusionMatrix,
  type MultilabelConfusionMatrixOptions,
  zeroOneLoss,
  type ZeroOneLossOptions,
} from "./multilabel.ts";
export type { SampleWeight } from "./weights.ts";
export { type BrierOptions, brierScoreLoss, logLoss, type LogLossOptions } from "./probability.ts";
export {
  type CalibrationCurve,
  calibrationCurve,
  type CalibrationCurveOptions,
} from "./calibration.ts";
export { compute_roc_auc, computeRocAuc, ROCAUCMetric } from "./monai_names.ts";
