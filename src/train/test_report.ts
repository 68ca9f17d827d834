/**
 * The tail that `fit` and `deno task evaluate` share: a model on one split
 * (the same loader, the 24 most confident mistakes named by file), its
 * headline numbers, and the report page of that evaluation.
 *
 * @module
 */
import { DataLoader } from "../data/loader.ts";
import type { Dataset } from "../data/types.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";
import type { Module } from "../layers/module.ts";
import type { Device } from "../tensor/device.ts";
import { writeReport } from "../eval/report/report.ts";
import type { HistoryEntry, ReportEma } from "../eval/report/types.ts";
import { evaluateModel, type Evaluation, summarize, type TestSummary } from "./evaluate.ts";
import { CLASS_NAMES } from "./setup.ts";
import type { Misclassified } from "../eval/report/types.ts";
import { ConstantLogitsError, runGradCam } from "../eval/gradcam.ts";
import { fromHost } from "../tensor/ops/creation.ts";

/** How a split is loaded for evaluation. */
export interface SplitLoading {
  /** Samples per batch. */
  batchSize: number;
  /** The evaluation transform (resize, standardise). */
  transform: TransformSpec[];
  /** Loader worker threads. */
  workers: number;
  /** Where the batches go. */
  device: Device;
}

/** A split to evaluate: a dataset whose samples have file names. */
export type EvalSplit = Dataset & { filename(i: number): string };

/** The loader of a split for evaluation (no shuffling, no augmentation). */
export function evalLoader(ds: EvalSplit, loading: SplitLoading): DataLoader {
  return new DataLoader(ds, { ...loading });
}

/** A model's evaluation of one split and its summary. */
export interface SplitResult {
  /** Labels, predictions, scores and mistakes. */
  evaluation: Evaluation;
  /** The headline numbers. */
  summary: TestSummary;
}

/** Evaluates `model` on all of `ds`, keeping the most confident mistakes for the report. */
export async function testSplit(
  model: Module,
  ds: EvalSplit,
  loading: SplitLoading,
): Promise<SplitResult> {
  const evaluation = await evaluateModel(model, evalLoader(ds, loading), {
    keepMistakes: 24,
    names: (i) => ds.filename(i),
  });
  addHeatmaps(model, evaluation.misclassified, loading.device);
  return { evaluation, summary: summarize(evaluation, CLASS_NAMES.length) };
}

/**
 * Gives each mistake the Grad-CAM heat map of its predicted class (the
 * model's default layer, in eval mode), a few images per pass.
 */
export function addHeatmaps(model: Module, mistakes: Misclassified[], device: Device): void {
  const wasTraining = model.training;
  model.eval();
  try {
    for (let at = 0; at < mistakes.length; at += 8) {
      const chunk = mistakes.slice(at, at + 8);
      const { width: w, height: h } = chunk[0].image;
      const pixels = new Float32Array(chunk.length * w * h);
      chunk.forEach((m, i) => pixels.set(m.image.data as Float32Array, i * w * h));
      const x = fromHost(pixels, [chunk.length, 1, h, w], { device });
      try {
        const r = runGradCam(model, x, { target: chunk.map((m) => m.predLabel) });
        chunk.forEach((m, i) => {
          m.heatmap = { data: r.maps.slice(i * w * h, (i + 1) * w * h), width: w, height: h };
        });
      } catch (e) {
        // A model whose logits ignore the image (a fresh ViT's zero head) has nothing to
        // explain: the report keeps its numbers and mistakes, without heat maps.
        if (!(e instanceof ConstantLogitsError)) throw e;
        console.warn(`report: no Grad-CAM heat maps: ${e.message}`);
        for (const m of mistakes) delete m.heatmap;
        return;
      } finally {
        x.dispose();
      }
    }
  } finally {
    model.train(wasTraining);
  }
}

/** What the report page of an evaluation says besides the numbers. */
export interface ReportContext {
  /** Page title. */
  title: string;
  /** The split's name. */
  split: string;
  /** Training history, if the page belongs to a run. */
  history: HistoryEntry[];
  /** The settings shown on the page. */
  config: Record<string, unknown>;
  /** The model EMA's validations and test (`--model-ema`), drawn beside the model's. */
  ema?: ReportEma | null;
}

/** Writes the report page of an evaluation to `path`. */
export async function writeSplitReport(
  path: string,
  evaluation: Evaluation,
  context: ReportContext,
): Promise<void> {
  await writeReport(path, {
    title: context.title,
    classNames: CLASS_NAMES,
    history: context.history,
    yTrue: evaluation.yTrue,
    yPred: evaluation.yPred,
    scores: evaluation.scores,
    misclassified: evaluation.misclassified,
    config: context.config,
    split: context.split,
    ema: context.ema ?? null,
  });
}
