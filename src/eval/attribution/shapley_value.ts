/**
 * Shapley values by permutations (Castro et al., 2009; Strumbelj &
 * Kononenko, 2010), as Captum's `ShapleyValueSampling` and
 * `ShapleyValues`: starting from the baseline, the features (elements, or
 * the groups of `featureMask`) are put back to the input's values one at a
 * time in a permutation's order; each feature gets the change of the
 * target's score its turn made. The attributions are the mean over the
 * permutations: `nSamples` random ones (ShapleyValueSampling, drawn with
 * this library's generator, `randperm` after `manualSeed`, so they are
 * not torch's draws), or all of them in lexicographic order
 * (ShapleyValues, for a few features).
 *
 * Per permutation, the attributions of an example add up to F(x) - F(x')
 * (efficiency), so their mean does too. The features are the indices 0 ..
 * max(featureMask), as Captum's; an index that no element carries changes
 * nothing (Captum warns; here once). `perturbationsPerEval` steps of a
 * permutation go through the model per pass. The passes run without
 * gradients.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { randperm } from "../../tensor/ops/creation_more.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { warnOnce } from "../metrics/pairs.ts";
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
import { checkFeatureMask, featureElements, refusePositionalTarget } from "./attribute_args.ts";

/** Options of `ShapleyValues.attribute`: Captum's keywords, camelCased. */
export interface ShapleyValuesOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** Where each permutation starts: a number (default 0) or a tensor that broadcasts. */
  baselines?: number | Tensor;
  /**
   * The features: an int32 tensor of indices 0 .. k - 1 that broadcasts to
   * the input ([1, ...] or [N, ...]); default: every element is a feature.
   */
  featureMask?: Tensor;
  /** Steps of a permutation per forward pass, each as a copy of the batch (default 1). */
  perturbationsPerEval?: number;
  /** Captum's `show_progress`: not supported (the Error says so). */
  showProgress?: never;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/** Options of `ShapleyValueSampling.attribute`: those of ShapleyValues, and `nSamples`. */
export interface ShapleyValueSamplingOptions extends ShapleyValuesOptions {
  /** The number of random permutations (default 25). */
  nSamples?: number;
}

const KEYS: (keyof ShapleyValueSamplingOptions)[] = [
  "target",
  "baselines",
  "featureMask",
  "perturbationsPerEval",
  "showProgress",
  "additionalForwardArgs",
];

/** The most features ShapleyValues takes (Captum: fewer than 7); 7 already need 35,280 passes. */
const MAX_ALL_FEATURES = 6;

/** Every permutation of 0 .. k - 1 in lexicographic order (itertools.permutations'). */
function* allPermutations(k: number): Generator<number[]> {
  const p = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...p];
    let i = k - 2;
    while (i >= 0 && p[i] > p[i + 1]) i--;
    if (i < 0) return;
    let j = k - 1;
    while (p[j] < p[i]) j--;
    [p[i], p[j]] = [p[j], p[i]];
    p.splice(i + 1, k - i - 1, ...p.slice(i + 1).reverse());
  }
}

/** The shared body of the two classes: `permutations(k)` gives the orders to average. */
function shapley(
  where: string,
  forward: ForwardFunc,
  input: unknown,
  options: ShapleyValueSamplingOptions | undefined,
  keys: readonly (keyof ShapleyValueSamplingOptions)[],
  usage: string,
  permutations: (k: number) => Iterable<ArrayLike<number>>,
): Tensor {
  refusePositionalTarget(where, options, usage.split("(")[0]);
  const o = checkOptions<ShapleyValueSamplingOptions>(where, options, [...keys], usage);
  noAdditionalArgs(where, o.additionalForwardArgs);
  if (o.showProgress !== undefined) {
    throw new Error(`${where}: showProgress is not supported; leave it out`);
  }
  const x = checkInput(where, input, usage);
  const n = x.shape[0];
  const dims = x.shape.slice(1);
  const targets = checkTarget(where, o.target, n);
  const baseline = checkBaseline(where, o.baselines, x);
  const mask = checkFeatureMask(where, o.featureMask, x);
  if (mask.min < 0) {
    throw new Error(
      `${where}: featureMask holds ${mask.min}; features are numbered 0, 1, 2, ... (Captum ` +
        "never puts back an element with a negative index: it would keep the baseline)",
    );
  }
  const byFeature = featureElements(where, mask, 0);
  if (byFeature.some((e) => e.length === 0)) {
    warnOnce(
      `${where}: featureMask lacks some of the indices 0 .. ${mask.max}; each costs forward ` +
        "passes and changes nothing: number the features 0, 1, 2, ... without gaps",
    );
  }
  const perEval = positiveInt(where, "perturbationsPerEval", o.perturbationsPerEval, 1);
  const orders = permutations(byFeature.length);
  return runAttribution(where, forward, () =>
    noGrad(() => {
      const size = x.numel();
      const per = size / n;
      const xs = x.toArray() as Float32Array;
      const start = fullBaseline(baseline, x).toArray() as Float32Array;
      const initial = targetScores(
        runForward(where, forward, fromHost(start, [...x.shape], { device: x.device }), targets),
        targets,
      );
      const total = new Float32Array(size);
      let count = 0;
      for (const order of orders) {
        count++;
        const current = start.slice();
        let prev = initial;
        for (let first = 0; first < order.length; first += perEval) {
          const k = Math.min(perEval, order.length - first);
          const batch = new Float32Array(k * size);
          for (let j = 0; j < k; j++) {
            for (const e of byFeature[order[first + j]]) current[e] = xs[e];
            batch.set(current, j * size);
          }
          const expanded = expandTargets(targets, k, false);
          const scores = targetScores(
            runForward(
              where,
              forward,
              fromHost(batch, [k * n, ...dims], { device: x.device }),
              expanded,
            ),
            expanded,
          );
          for (let j = 0; j < k; j++) {
            for (const e of byFeature[order[first + j]]) {
              const i = Math.floor(e / per);
              const before = j === 0 ? prev[i] : scores[(j - 1) * n + i];
              // float32 as torch's: the step's difference, then the running sum.
              total[e] += Math.fround(scores[j * n + i] - before);
            }
          }
          prev = scores.subarray((k - 1) * n);
        }
      }
      for (let e = 0; e < size; e++) total[e] /= count;
      return fromHost(total, [...x.shape], { device: x.device });
    }));
}

/**
 * Captum's `ShapleyValueSampling(forward_func)`: `attribute(input, {
 * target, baselines, featureMask, nSamples, perturbationsPerEval })` gives
 * the mean over `nSamples` random permutations of each feature's
 * contribution, of the input's shape. The permutations come from this
 * library's generator (`manualSeed` repeats them). The model must be in
 * evaluation mode, and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, manualSeed, models, randn, tensor } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const ids = Array.from({ length: 256 }, (_, i) => (i >> 7) * 2 + ((i % 16) >> 3));
 * const featureMask = tensor(ids, [1, 1, 16, 16], { dtype: "int32" });
 * manualSeed(0);
 * const svs = new evaluation.ShapleyValueSampling(net);
 * const attr = svs.attribute(randn([2, 1, 16, 16]), { target: 1, featureMask, nSamples: 10 });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class ShapleyValueSampling extends Attribution<ShapleyValueSamplingOptions> {
  /** `forwardFunc`: the model, or a function of the input batch. */
  constructor(forwardFunc: ForwardFunc) {
    const usage = "new evaluation.ShapleyValueSampling(model)";
    checkArity("ShapleyValueSampling", arguments.length, 1, usage);
    super("ShapleyValueSampling", forwardFunc);
  }

  /** The sampled Shapley values of `input` [N, ...]. */
  attribute(input: Tensor, options?: ShapleyValueSamplingOptions): Tensor {
    const where = "ShapleyValueSampling.attribute";
    const usage = "svs.attribute(input, { target: 1, featureMask, nSamples: 25 })";
    checkArity(where, arguments.length, 2, usage);
    const samples = positiveInt(
      where,
      "nSamples",
      (options as { nSamples?: unknown } | undefined)?.nSamples,
      25,
    );
    return shapley(
      where,
      this.forwardFunc,
      input,
      options,
      [...KEYS, "nSamples"],
      usage,
      (k) =>
        Array.from({ length: samples }, () => {
          const p = randperm(k);
          const order = p.toArray() as Int32Array;
          p.dispose();
          return order;
        }),
    );
  }
}

/**
 * Captum's `ShapleyValues(forward_func)`: `attribute(input, { target,
 * baselines, featureMask, perturbationsPerEval })` gives the exact Shapley
 * values, the mean over every permutation of the features (k! of them, k
 * passes each: at most 6 features, as Captum advises); of the
 * input's shape.
 *
 * @example
 * ```ts
 * import { evaluation, models, randn, tensor } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const ids = Array.from({ length: 256 }, (_, i) => (i >> 7) * 2 + ((i % 16) >> 3));
 * const featureMask = tensor(ids, [1, 1, 16, 16], { dtype: "int32" });
 * const sv = new evaluation.ShapleyValues(net);
 * const attr = sv.attribute(randn([2, 1, 16, 16]), { target: 1, featureMask });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class ShapleyValues extends Attribution<ShapleyValuesOptions> {
  /** `forwardFunc`: the model, or a function of the input batch. */
  constructor(forwardFunc: ForwardFunc) {
    checkArity("ShapleyValues", arguments.length, 1, "new evaluation.ShapleyValues(model)");
    super("ShapleyValues", forwardFunc);
  }

  /** The Shapley values of `input` [N, ...]. */
  attribute(input: Tensor, options?: ShapleyValuesOptions): Tensor {
    const where = "ShapleyValues.attribute";
    const usage = "sv.attribute(input, { target: 1, featureMask })";
    checkArity(where, arguments.length, 2, usage);
    return shapley(where, this.forwardFunc, input, options, KEYS, usage, (k) => {
      if (k > MAX_ALL_FEATURES) {
        throw new Error(
          `${where}: ${k} features have ${k}! permutations; give a featureMask of at most ` +
            `${MAX_ALL_FEATURES} features, or sample: new evaluation.ShapleyValueSampling(model)` +
            ".attribute(input, { nSamples: 25 })",
        );
      }
      return allPermutations(k);
    });
  }
}
