/**
 * What a report is made from: plain arrays and numbers that the trainer or
 * the evaluator collects, with no tensors, so a report can be rendered from
 * a saved run as well as from a live one.
 *
 * @module
 */

/** One epoch of training history. */
export interface HistoryEntry {
  /** Epoch number (1-based as the trainer prints it, or 0-based: only the order matters). */
  epoch: number;
  /** Mean training loss of the epoch. */
  trainLoss: number;
  /** Training accuracy in [0, 1]. */
  trainAcc: number;
  /** Validation loss; null or NaN on epochs without validation. */
  valLoss?: number | null;
  /** Validation accuracy in [0, 1]; null or NaN on epochs without validation. */
  valAcc?: number | null;
  /** Learning rate during the epoch (at its end). */
  lr: number;
  /** Wall-clock seconds of the epoch's training steps (not its validation or checkpoint). */
  seconds: number;
}

/** One validation of the model EMA (`--model-ema`: an "ema" line of metrics.jsonl). */
export interface EmaValidation {
  /** The epoch after which the EMA was validated (the model's epoch numbering). */
  epoch: number;
  /** The EMA's validation loss; null or NaN where not measured. */
  valLoss?: number | null;
  /** The EMA's validation accuracy in [0, 1]; null or NaN where not measured. */
  valAcc?: number | null;
}

/** The test split on the model EMA's weights (the "ema_test" line of metrics.jsonl). */
export interface EmaTest {
  /** Fraction correct. */
  accuracy: number;
  /** Mean cross-entropy. */
  loss?: number;
  /** Unweighted mean F1 over the classes. */
  macroF1?: number;
  /** Mean recall over the classes. */
  balancedAccuracy?: number;
  /** One-vs-rest macro ROC AUC (NaN when a class is missing). */
  macroAuc?: number;
}

/** The model EMA of a run (torchvision's `--model-ema`), drawn beside the model. */
export interface ReportEma {
  /** Its validations, per epoch: a second validation series on the loss and accuracy charts. */
  history: readonly EmaValidation[];
  /** Its test-split numbers, shown among the headline numbers; null or absent: none. */
  test?: EmaTest | null;
}

/** A grayscale (or RGB, channel-first) image as the data pipeline holds it. */
export interface ReportImage {
  /** Pixels: height x width, or channels x height x width with channels = 3. */
  data: Float32Array | ArrayLike<number>;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** A test image the model got wrong. */
export interface Misclassified {
  /** The image (shown min-max scaled, as a windowed CT slice is). */
  image: ReportImage;
  /** The true class. */
  trueLabel: number;
  /** The predicted class. */
  predLabel: number;
  /** The predicted class's probability, in [0, 1]. */
  confidence: number;
  /** Optional identifier shown under the image (file name, volume and slice). */
  id?: string;
  /**
   * Optional Grad-CAM heat map of the predicted class, values in [0, 1] at
   * the image's size (`evaluation.gradCam`); the grid draws it over the image.
   */
  heatmap?: ReportImage;
}

/** Everything `renderReport` draws. */
export interface ReportData {
  /** Page title, e.g. the run's name. */
  title: string;
  /** Class names indexed by label; their number is the number of classes. */
  classNames: readonly string[];
  /** Per-epoch training history (may be empty for an evaluation-only report). */
  history: readonly HistoryEntry[];
  /** True labels of the evaluated split. */
  yTrue: ArrayLike<number>;
  /** Predicted labels (argmax of `scores`). */
  yPred: ArrayLike<number>;
  /** Softmax probabilities, row-major [N, classNames.length]. */
  scores: ArrayLike<number>;
  /** Misclassified images; the report shows the most confident first. */
  misclassified?: readonly Misclassified[];
  /** Resolved configuration of the run, shown as a table. */
  config?: Record<string, unknown>;
  /** Name of the evaluated split (default "test"). */
  split?: string;
  /**
   * The model EMA's validations and test numbers (`--model-ema`; read them
   * from metrics.jsonl with `emaFromMetrics`); null or absent: no EMA.
   */
  ema?: ReportEma | null;
}
