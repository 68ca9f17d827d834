/**
 * Feature ablation, as Captum's `FeatureAblation`: each feature (an
 * element of an example, or a group of them given by `featureMask`) is
 * replaced by the baseline, and the drop of the target's score, F(x) -
 * F(x ablated), is the attribution of every element of the feature.
 *
 * The features are the mask's indices from its smallest to its largest
 * (an index that no element carries costs a forward pass and changes
 * nothing, as Captum's); `perturbationsPerEval` features go through the
 * model per pass, each as a copy of the batch (feature major). The forward
 * passes run without gradients.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { checkArity, checkOptions } from "../../options.ts";
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

const USAGE = "ablator.attribute(input, { target: 1, featureMask, baselines: 0 })";

/** Options of `FeatureAblation.attribute`: Captum's keywords, camelCased. */
export interface FeatureAblationOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** What replaces an ablated feature: a number (default 0) or a tensor that broadcasts. */
  baselines?: number | Tensor;
  /**
   * The features: an int32 tensor of feature indices that broadcasts to the
   * input ([1, ...] for every example, or [N, ...]); elements with the same
   * index are ablated together. Default: every element is its own feature.
   */
  featureMask?: Tensor;
  /** Features ablated per forward pass, each as a copy of the batch (default 1). */
  perturbationsPerEval?: number;
  /** Captum's `show_progress`: not supported (the Error says so). */
  showProgress?: never;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

const KEYS: (keyof FeatureAblationOptions)[] = [
  "target",
  "baselines",
  "featureMask",
  "perturbationsPerEval",
  "showProgress",
  "additionalForwardArgs",
];

/**
 * Captum's `FeatureAblation(forward_func)`: `attribute(input, { target,
 * baselines, featureMask, perturbationsPerEval })` gives attributions of
 * the input's shape: for each element, F(x) - F(x with its feature set to
 * the baseline). The model must be in evaluation mode (`model.eval()`),
 * and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn, tensor } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * // Four 8 x 8 quadrants, the same for every example.
 * const ids = Array.from({ length: 256 }, (_, i) => (i >> 7) * 2 + ((i % 16) >> 3));
 * const featureMask = tensor(ids, [1, 1, 16, 16], { dtype: "int32" });
 * const ablator = new evaluation.FeatureAblation(net);
 * const attr = ablator.attribute(randn([2, 1, 16, 16]), { target: 1, featureMask });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class FeatureAblation extends Attribution<FeatureAblationOptions> {
  /** `forwardFunc`: the model, or a function of the input batch. */
  constructor(forwardFunc: ForwardFunc) {
    checkArity("FeatureAblation", arguments.length, 1, "new evaluation.FeatureAblation(model)");
    super("FeatureAblation", forwardFunc);
  }

  /** The ablation attributions of `input` [N, ...]. */
  attribute(input: Tensor, options?: FeatureAblationOptions): Tensor {
    const where = "FeatureAblation.attribute";
    checkArity(where, arguments.length, 2, USAGE);
    refusePositionalTarget(where, options, "ablator.attribute");
    const o = checkOptions<FeatureAblationOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    if (o.showProgress !== undefined) {
      throw new Error(`${where}: showProgress is not supported; leave it out`);
    }
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    const dims = x.shape.slice(1);
    const targets = checkTarget(where, o.target, n);
    const baseline = checkBaseline(where, o.baselines, x);
    const mask = checkFeatureMask(where, o.featureMask, x);
    const byFeature = featureElements(where, mask);
    const features = byFeature.length;
    const perEval = Math.min(
      positiveInt(where, "perturbationsPerEval", o.perturbationsPerEval, 1),
      features,
    );
    const forward = this.forwardFunc;
    return runAttribution(where, forward, () =>
      noGrad(() => {
        const size = x.numel();
        const per = size / n;
        const xs = x.toArray() as Float32Array;
        const bs = typeof baseline === "number"
          ? null
          : fullBaseline(baseline, x).toArray() as Float32Array;
        const initial = targetScores(runForward(where, forward, x, targets), targets);
        const total = new Float32Array(size);
        for (let first = 0; first < features; first += perEval) {
          const k = Math.min(perEval, features - first);
          const batch = new Float32Array(k * size);
          for (let j = 0; j < k; j++) {
            batch.set(xs, j * size);
            for (const e of byFeature[first + j]) {
              batch[j * size + e] = bs === null ? baseline as number : bs[e];
            }
          }
          const expanded = expandTargets(targets, k, false);
          const modified = targetScores(
            runForward(
              where,
              forward,
              fromHost(batch, [k * n, ...dims], { device: x.device }),
              expanded,
            ),
            expanded,
          );
          for (let j = 0; j < k; j++) {
            for (const e of byFeature[first + j]) {
              const i = Math.floor(e / per);
              total[e] = initial[i] - modified[j * n + i];
            }
          }
        }
        return fromHost(total, [...x.shape], { device: x.device });
      }));
  }
}
