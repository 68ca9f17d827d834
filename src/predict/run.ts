/**
 * The model on every slice of every input: softmax probabilities, the
 * predicted class and the Grad-CAM heat map of that class, from one pass per
 * batch (`runGradCam` gives the logits of the forward it explains). The
 * model runs in eval mode.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Device } from "../tensor/device.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { type GradCamMethod, runGradCam } from "../eval/gradcam.ts";
import type { InputItem } from "./inputs.ts";

/** One slice's result. */
export interface SlicePrediction {
  /** Slice index within its input (0 for a 2-D image). */
  slice: number;
  /** Predicted class (argmax). */
  prediction: number;
  /** Softmax probabilities per class. */
  probs: number[];
  /** The image in [0, 1] at the model's size, as the page shows it. */
  view: Float32Array;
  /** Grad-CAM heat map of the predicted class in [0, 1], same size as `view`. */
  heat: Float32Array;
}

/** One input's results. */
export interface InputPrediction {
  /** The input as listed in the outputs. */
  input: string;
  /** "image" or "volume". */
  kind: InputItem["kind"];
  /** What was read. */
  detail: string;
  /** Per slice, in order. */
  slices: SlicePrediction[];
}

/** Softmax of one row of logits (stable: the row's maximum is subtracted first). */
function softmax(logits: Float32Array, at: number, k: number): number[] {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, logits[at + c]);
  const e = Array.from({ length: k }, (_, c) => Math.exp(logits[at + c] - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/**
 * Runs `model` on every slice (`batchSize` at a time, on `device`), with the
 * Grad-CAM (or Grad-CAM++, `method`) of the predicted class at `layer`
 * (default: the last convolutional block). Slices' inputs are dropped once used.
 */
export function predictItems(
  model: Module,
  items: InputItem[],
  size: number,
  options: { device: Device; batchSize: number; layer?: string; method?: GradCamMethod },
): InputPrediction[] {
  const wasTraining = model.training;
  model.eval();
  const plane = size * size;
  try {
    return items.map((item) => {
      const out: SlicePrediction[] = [];
      for (let at = 0; at < item.slices.length; at += options.batchSize) {
        const chunk = item.slices.slice(at, at + options.batchSize);
        const pixels = new Float32Array(chunk.length * plane);
        chunk.forEach((s, i) => pixels.set(s.image.input, i * plane));
        const x = fromHost(pixels, [chunk.length, 1, size, size], { device: options.device });
        try {
          const r = runGradCam(model, x, {
            ...(options.layer ? { layer: options.layer } : {}),
            method: options.method ?? "gradcam",
          });
          chunk.forEach((s, i) => {
            out.push({
              slice: s.slice,
              prediction: r.targets[i],
              probs: softmax(r.logits, i * r.classes, r.classes),
              view: s.image.view,
              heat: r.maps.slice(i * plane, (i + 1) * plane),
            });
          });
        } finally {
          x.dispose();
        }
      }
      return { input: item.input, kind: item.kind, detail: item.detail, slices: out };
    });
  } finally {
    model.train(wasTraining);
  }
}

/** Runs of consecutive slices where `test` holds, as "40-95, 100" (empty: none). */
export function sliceRanges(slices: SlicePrediction[], test: (p: number) => boolean): string {
  const runs: string[] = [];
  let start: number | null = null, prev = 0;
  for (const s of slices) {
    if (test(s.prediction)) {
      if (start === null) start = s.slice;
      else if (s.slice !== prev + 1) {
        runs.push(start === prev ? `${start}` : `${start}-${prev}`);
        start = s.slice;
      }
      prev = s.slice;
    } else if (start !== null) {
      runs.push(start === prev ? `${start}` : `${start}-${prev}`);
      start = null;
    }
  }
  if (start !== null) runs.push(start === prev ? `${start}` : `${start}-${prev}`);
  return runs.join(", ");
}

/** `predictions.csv`: input,slice,prediction,p0,p1,p2 (probabilities with 6 decimals). */
export function predictionsCsv(results: InputPrediction[]): string {
  const quote = (s: string) => /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  const k = results[0]?.slices[0]?.probs.length ?? 3;
  const head = ["input", "slice", "prediction", ...Array.from({ length: k }, (_, c) => `p${c}`)];
  const lines = [head.join(",")];
  for (const r of results) {
    for (const s of r.slices) {
      lines.push(
        [quote(r.input), s.slice, s.prediction, ...s.probs.map((p) => p.toFixed(6))].join(","),
      );
    }
  }
  return lines.join("\n") + "\n";
}
