/**
 * Occlusion (Zeiler & Fergus, "Visualizing and Understanding Convolutional
 * Networks", ECCV 2014), as Captum's `Occlusion`: a window slides over each
 * example (over every dimension but the batch's, channels included); each
 * placement is replaced by the baseline, and the drop of the target's score,
 * F(x) - F(x occluded), is credited to every element the window covered.
 * An element covered by several placements gets their mean.
 *
 * Placements start at 0 and move by the strides until the window reaches
 * the end: ceil((size - window) / stride) + 1 of them per dimension, the
 * last one cut off where the stride does not divide (size - window), as
 * Captum's. A stride may not exceed its window where the window is smaller
 * than the input, so that every element is covered.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { checkBaseline, fullBaseline } from "./baselines.ts";
import {
  Attribution,
  checkInput,
  checkTarget,
  expandTargets,
  type ForwardFunc,
  noAdditionalArgs,
  positiveInt,
  runAttribution,
  runForward,
  type Target,
  targetScores,
} from "./common.ts";

const USAGE =
  "occlusion.attribute(input, { slidingWindowShapes: [1, 8, 8], strides: [1, 4, 4], target: 1 })";

/** Options of `Occlusion.attribute`: Captum's keywords, camelCased. */
export interface OcclusionOptions {
  /** The window: one size per dimension after the batch's ([C, h, w] of [N, C, H, W] images). */
  slidingWindowShapes: number[];
  /** The steps of the window: one for every dimension or one per dimension (default 1). */
  strides?: number | number[];
  /** What fills the window: a number (default 0) or a tensor that broadcasts to the input. */
  baselines?: number | Tensor;
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** Placements evaluated per forward pass, each as a copy of the batch (default 1). */
  perturbationsPerEval?: number;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

const KEYS: (keyof OcclusionOptions)[] = [
  "slidingWindowShapes",
  "strides",
  "baselines",
  "target",
  "perturbationsPerEval",
  "additionalForwardArgs",
];

/** Checks a list of one positive integer per dimension. */
function sizes(where: string, key: string, v: unknown, dims: number[]): number[] {
  const list = typeof v === "number" && key === "strides" ? dims.map(() => v) : v;
  if (
    !Array.isArray(list) || list.length !== dims.length ||
    !list.every((s) => Number.isInteger(s) && s >= 1)
  ) {
    const each = key === "strides" ? "a positive integer, or one" : "one positive integer";
    throw new Error(
      `${where}: ${key} must be ${each} per dimension after the batch's (${dims.length} for an ` +
        `input [N, ${dims.join(", ")}], such as [${
          dims.map((d, i) => i === 0 ? d : Math.min(d, 8))
        }])` +
        `, got ${showValue(v)}`,
    );
  }
  return list as number[];
}

/**
 * Captum's `Occlusion(forward_func)`: `attribute(input, { slidingWindowShapes,
 * strides, baselines, target, perturbationsPerEval })` gives attributions of
 * the input's shape. The forward passes run without gradients; the model
 * must be in evaluation mode (`model.eval()`), and the result is yours (or
 * the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const occlusion = new evaluation.Occlusion(net);
 * const attr = occlusion.attribute(randn([2, 1, 16, 16]), {
 *   slidingWindowShapes: [1, 4, 4],
 *   strides: [1, 2, 2],
 *   target: 1,
 * });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class Occlusion extends Attribution<OcclusionOptions> {
  /** `forwardFunc`: the model, or a function of the input batch. */
  constructor(forwardFunc: ForwardFunc) {
    checkArity("Occlusion", arguments.length, 1, "new evaluation.Occlusion(model)");
    super("Occlusion", forwardFunc);
  }

  /** The occlusion map of `input` [N, ...]. */
  attribute(input: Tensor, options: OcclusionOptions): Tensor {
    const where = "Occlusion.attribute";
    checkArity(where, arguments.length, 2, USAGE);
    const o = checkOptions<OcclusionOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    const dims = x.shape.slice(1);
    if (o.slidingWindowShapes === undefined) {
      throw new Error(`${where}: slidingWindowShapes is required; write ${USAGE}`);
    }
    const window = sizes(where, "slidingWindowShapes", o.slidingWindowShapes, dims);
    const strides = sizes(where, "strides", o.strides ?? 1, dims);
    dims.forEach((d, i) => {
      if (window[i] > d) {
        throw new Error(
          `${where}: slidingWindowShapes [${window}] exceeds the input's [${dims}] in dimension ` +
            `${i + 1}`,
        );
      }
      if (window[i] < d && strides[i] > window[i]) {
        throw new Error(
          `${where}: stride ${strides[i]} is larger than the window ${window[i]} in dimension ` +
            `${i + 1}, which would leave elements never occluded; use strides <= the window`,
        );
      }
    });
    const targets = checkTarget(where, o.target, n);
    const baseline = checkBaseline(where, o.baselines, x);
    const perEval = positiveInt(where, "perturbationsPerEval", o.perturbationsPerEval, 1);
    const forward = this.forwardFunc;
    return runAttribution(where, forward, () =>
      noGrad(() => {
        const per = dims.reduce((a, b) => a * b, 1);
        const xs = x.toArray() as Float32Array;
        const bs = typeof baseline === "number"
          ? null
          : fullBaseline(baseline, x).toArray() as Float32Array;
        const counts = dims.map((d, i) => Math.ceil((d - window[i]) / strides[i]) + 1);
        const features = counts.reduce((a, b) => a * b, 1);
        const initial = targetScores(runForward(where, forward, x, targets), targets);
        const total = new Float32Array(n * per);
        const weights = new Float32Array(per);
        for (let first = 0; first < features; first += perEval) {
          const last = Math.min(first + perEval, features);
          const regions = [];
          for (let k = first; k < last; k++) {
            regions.push(windowOffsets(k, counts, strides, window, dims));
          }
          const batch = new Float32Array((last - first) * n * per);
          regions.forEach((offs, j) => {
            batch.set(xs, j * n * per);
            for (let i = 0; i < n; i++) {
              const at = (j * n + i) * per;
              for (const e of offs) {
                batch[at + e] = bs === null ? baseline as number : bs[i * per + e];
              }
            }
          });
          const expanded = expandTargets(targets, last - first, false);
          const modified = targetScores(
            runForward(
              where,
              forward,
              fromHost(batch, [(last - first) * n, ...dims], { device: x.device }),
              expanded,
            ),
            expanded,
          );
          // Captum adds the pass's placements up first, then into the total (float32).
          const sum = new Float32Array(n * per);
          regions.forEach((offs, j) => {
            for (let i = 0; i < n; i++) {
              const drop = Math.fround(initial[i] - modified[j * n + i]);
              for (const e of offs) sum[i * per + e] += drop;
            }
            for (const e of offs) weights[e] += 1;
          });
          for (let e = 0; e < total.length; e++) total[e] += sum[e];
        }
        for (let e = 0; e < total.length; e++) total[e] /= weights[e % per];
        return fromHost(total, [...x.shape], { device: x.device });
      }));
  }
}

/**
 * The flat offsets (within one example) that placement `k` covers: its
 * start in each dimension counts with the first dimension fastest, as
 * Captum's; the window is cut off at the end of each dimension.
 */
function windowOffsets(
  k: number,
  counts: number[],
  strides: number[],
  window: number[],
  dims: number[],
): number[] {
  const starts = counts.map((c, i) => {
    const s = (k % c) * strides[i];
    k = Math.floor(k / c);
    return s;
  });
  let offs = [0];
  for (let d = 0; d < dims.length; d++) {
    const end = Math.min(starts[d] + window[d], dims[d]);
    const next: number[] = [];
    for (const o of offs) for (let p = starts[d]; p < end; p++) next.push(o * dims[d] + p);
    offs = next;
  }
  return offs;
}
