/**
 * Running a model over a split without gradients: loss, accuracy, softmax
 * scores and the most confident mistakes, as plain arrays that the metrics
 * and the report take. Each batch runs inside `noGrad`, which frees all its
 * intermediates, so evaluating never grows memory.
 *
 * @module
 */
import type { DataLoader } from "../data/loader.ts";
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CrossEntropyLoss } from "../layers/loss.ts";
import { noGrad } from "../tensor/autograd.ts";
import { classificationReport } from "../eval/metrics/report.ts";
import { rocAuc } from "../eval/metrics/scores.ts";
import type { Misclassified } from "../eval/report/types.ts";
import { type CallContract, checkContract } from "../options.ts";

/** What a model did on one split. */
export interface Evaluation {
  /** Mean cross-entropy. */
  loss: number;
  /** Fraction correct. */
  accuracy: number;
  /** True labels. */
  yTrue: Int32Array;
  /** Predicted labels (argmax). */
  yPred: Int32Array;
  /** Softmax probabilities, row-major [N, classes]. */
  scores: Float32Array;
  /** The most confident mistakes (at most `keepMistakes`), most confident first. */
  misclassified: Misclassified[];
}

/** Options of `evaluateModel`. */
export interface EvaluateOptions {
  /** How many misclassified images to keep (default 0: none). */
  keepMistakes?: number;
  /** Names shown under kept images (by dataset index). */
  names?: (index: number) => string;
  /** Called after each batch with (batches done, batches in all). */
  onBatch?: (done: number, total: number) => void;
}

const EVALUATE_MODEL: CallContract<EvaluateOptions> = {
  where: "train.evaluateModel",
  most: 3,
  known: ["keepMistakes", "names", "onBatch"],
  usage: "train.evaluateModel(model, loader, { keepMistakes: 24 })",
};

/**
 * Throws where a parameter was written since the evaluation began (an
 * optimizer step in a task running meanwhile): its batches would mix two
 * models' predictions.
 */
function checkUnchanged(weights: readonly Tensor[], versions: readonly number[], done: number) {
  const changed = weights.findIndex((p, i) => p.version !== versions[i]);
  if (changed < 0) return;
  throw new Error(
    `train.evaluateModel: the model's weights changed after ${done} batches (parameter ` +
      `[${weights[changed].shape}] was written: an optimizer step or loadStateDict in code ` +
      "running meanwhile); await evaluateModel before training on",
  );
}

/**
 * Evaluates `model` on every batch of `loader`, each batch in eval mode
 * (the model's mode is restored after each one, so evaluations and training
 * running meanwhile in other async tasks keep theirs). The weights must
 * not change while it runs.
 *
 * @example
 * ```ts
 * import { data, models, train } from "@lits/vision";
 * const ds = { length: 6, get: (i: number) => Promise.resolve({ image: { data: new Float32Array(256).fill(i / 6), width: 16, height: 16 }, label: i % 3 }) };
 * const model = models.create("simple", { imageSize: 16 });
 * const result = await train.evaluateModel(model, new data.DataLoader(ds, { batchSize: 4 }));
 * console.log(result.yPred.length, result.scores.length); // 6 18
 * ```
 */
export async function evaluateModel(
  model: Module,
  loader: DataLoader,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  options = checkContract(EVALUATE_MODEL, arguments.length, options);
  const keep = options.keepMistakes ?? 0;
  const lossFn = new CrossEntropyLoss({ reduction: "sum" });
  const weights = model.parameters();
  const versions = weights.map((p) => p.version);
  const yTrue: number[] = [], yPred: number[] = [];
  const scoreChunks: Float32Array[] = [];
  let lossSum = 0, classes = 0, done = 0;
  const mistakes: Misclassified[] = [];
  for await (using batch of loader) {
    checkUnchanged(weights, versions, done);
    const { loss, probs } = noGrad(() => {
      // Eval mode only while this batch runs, never across an await: a
      // concurrent evaluation or training step sees the mode it set itself.
      const wasTraining = model.training;
      model.eval();
      try {
        const logits = model.forward(batch.images);
        return {
          loss: lossFn.forward(logits, batch.labels).item(),
          probs: logits.softmax(1).toArray() as Float32Array,
        };
      } finally {
        model.train(wasTraining);
      }
    });
    const labels = batch.labels.toArray();
    const n = labels.length;
    classes = probs.length / n;
    lossSum += loss;
    scoreChunks.push(probs);
    let pixels: Float32Array | null = null;
    for (let i = 0; i < n; i++) {
      let pred = 0;
      for (let c = 1; c < classes; c++) {
        if (probs[i * classes + c] > probs[i * classes + pred]) pred = c;
      }
      yTrue.push(labels[i]);
      yPred.push(pred);
      const confidence = probs[i * classes + pred];
      if (pred !== labels[i] && keep > 0) {
        const worst = mistakes.length < keep ? -1 : mistakes[mistakes.length - 1].confidence;
        if (confidence > worst) {
          pixels ??= batch.images.toArray() as Float32Array;
          const [h, w] = batch.images.shape.slice(2);
          const index = batch.indices[i];
          mistakes.push({
            image: { data: pixels.slice(i * h * w, (i + 1) * h * w), width: w, height: h },
            trueLabel: labels[i],
            predLabel: pred,
            confidence,
            id: options.names?.(index) ?? `#${index}`,
          });
          mistakes.sort((a, b) => b.confidence - a.confidence);
          if (mistakes.length > keep) mistakes.pop();
        }
      }
    }
    options.onBatch?.(++done, loader.length);
  }
  const scores = new Float32Array(yTrue.length * classes);
  let at = 0;
  for (const c of scoreChunks) {
    scores.set(c, at);
    at += c.length;
  }
  let correct = 0;
  yTrue.forEach((y, i) => (correct += y === yPred[i] ? 1 : 0));
  return {
    loss: lossSum / Math.max(1, yTrue.length),
    accuracy: correct / Math.max(1, yTrue.length),
    yTrue: Int32Array.from(yTrue),
    yPred: Int32Array.from(yPred),
    scores,
    misclassified: mistakes,
  };
}

/** The headline numbers of an evaluation. */
export interface TestSummary {
  /** Mean cross-entropy. */
  loss: number;
  /** Fraction correct. */
  accuracy: number;
  /** Unweighted mean F1 over the classes. */
  macroF1: number;
  /** Mean recall over the classes. */
  balancedAccuracy: number;
  /** One-vs-rest macro ROC AUC (NaN when a class is missing). */
  macroAuc: number;
  /** F1 per class. */
  f1: number[];
}

/** Summarises an evaluation with the metrics module. */
export function summarize(e: Evaluation, classes: number): TestSummary {
  // zeroDivision 0: an epoch that never predicts a class scores it 0, quietly (as before).
  const r = classificationReport(e.yTrue, e.yPred, { numClasses: classes, zeroDivision: 0 });
  let macroAuc = NaN;
  try {
    macroAuc = rocAuc(e.yTrue, e.scores, { numClasses: classes });
  } catch {
    macroAuc = NaN; // a class absent from the split has no ROC curve
  }
  return {
    loss: e.loss,
    accuracy: r.accuracy,
    macroF1: r.macroAvg.f1,
    balancedAccuracy: r.balancedAccuracy,
    macroAuc,
    f1: r.classes.map((c) => c.f1),
  };
}
