/**
 * Saliency maps (Simonyan et al., "Deep Inside Convolutional Networks",
 * 2014), as Captum's `Saliency`: the gradient of the target's score with
 * respect to the input, by default its absolute value.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { checkArity, checkOptions } from "../../options.ts";
import {
  Attribution,
  boolOption,
  checkInput,
  checkTarget,
  type ForwardFunc,
  inputGradients,
  noAdditionalArgs,
  runAttribution,
  type Target,
} from "./common.ts";

const USAGE = "saliency.attribute(input, { target: 1, abs: true })";

/** Options of `Saliency.attribute`: Captum's keywords, camelCased. */
export interface SaliencyOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** The gradient's absolute value (default true, as Captum's); false keeps its sign. */
  abs?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/**
 * Captum's `Saliency(forward_func)`: `attribute(input, { target, abs })`
 * gives d score / d input, of the input's shape, |.| unless `abs: false`.
 *
 * The model must be in evaluation mode (`model.eval()`); gradients are
 * recorded even under `noGrad`, the model's parameters' `.grad` stay as they
 * were, and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const saliency = new evaluation.Saliency(net);
 * const attr = saliency.attribute(randn([2, 1, 16, 16]), { target: 1 });
 * console.log(attr.shape, attr.min().item() >= 0); // [2, 1, 16, 16] true
 * ```
 */
export class Saliency extends Attribution<SaliencyOptions> {
  /** `forwardFunc`: the model, or a function of the input batch. */
  constructor(forwardFunc: ForwardFunc) {
    checkArity("Saliency", arguments.length, 1, "new evaluation.Saliency(model)");
    super("Saliency", forwardFunc);
  }

  /** The saliency map of `input` [N, ...]. */
  attribute(input: Tensor, options?: SaliencyOptions): Tensor {
    const where = "Saliency.attribute";
    checkArity(where, arguments.length, 2, USAGE);
    const o = checkOptions<SaliencyOptions>(where, options, [
      "target",
      "abs",
      "additionalForwardArgs",
    ], USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const targets = checkTarget(where, o.target, x.shape[0]);
    const abs = boolOption(where, "abs", o.abs, true);
    return runAttribution(where, this.forwardFunc, () => {
      const g = inputGradients(where, this.forwardFunc, x, targets);
      return abs ? noGrad(() => g.abs()) : g;
    });
  }
}
