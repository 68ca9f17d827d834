/**
 * Input x Gradient (Shrikumar et al., 2016), as Captum's `InputXGradient`:
 * the input times the gradient of the target's score with respect to it.
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

const USAGE = "ixg.attribute(input, { target: 1 })";

/** Options of `InputXGradient.attribute`: Captum's keywords, camelCased. */
export interface InputXGradientOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/** Options of the `InputXGradient` constructor. */
export interface InputXGradientInit {
  /** Multiply the gradient by the input (default true, Captum's `multiply_by_inputs`). */
  multiplyByInputs?: boolean;
}

/**
 * Captum's `InputXGradient(forward_func, multiply_by_inputs=True)`:
 * `attribute(input, { target })` gives input * d score / d input, of the
 * input's shape.
 *
 * The model must be in evaluation mode (`model.eval()`); gradients are
 * recorded even under `noGrad`, the model's parameters' `.grad` stay as they
 * were, and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const ixg = new evaluation.InputXGradient(net);
 * const attr = ixg.attribute(randn([2, 1, 16, 16]), { target: [0, 2] });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class InputXGradient extends Attribution<InputXGradientOptions> {
  readonly #multiply: boolean;

  /** `multiplyByInputs` may be given as Captum's second positional argument or in an object. */
  constructor(forwardFunc: ForwardFunc, multiplyByInputs: boolean | InputXGradientInit = {}) {
    checkArity("InputXGradient", arguments.length, 2, "new evaluation.InputXGradient(model)");
    super("InputXGradient", forwardFunc);
    const init = typeof multiplyByInputs === "boolean" ? { multiplyByInputs } : checkOptions<
      InputXGradientInit
    >(
      "InputXGradient",
      multiplyByInputs,
      ["multiplyByInputs"],
      "new evaluation.InputXGradient(model, { multiplyByInputs: false })",
    );
    this.#multiply = boolOption("InputXGradient", "multiplyByInputs", init.multiplyByInputs, true);
  }

  /** Whether the gradient is multiplied by the input (Captum's `multiplies_by_inputs`). */
  get multipliesByInputs(): boolean {
    return this.#multiply;
  }

  /** The input x gradient map of `input` [N, ...]. */
  attribute(input: Tensor, options?: InputXGradientOptions): Tensor {
    const where = "InputXGradient.attribute";
    checkArity(where, arguments.length, 2, USAGE);
    const o = checkOptions<InputXGradientOptions>(where, options, [
      "target",
      "additionalForwardArgs",
    ], USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const targets = checkTarget(where, o.target, x.shape[0]);
    return runAttribution(where, this.forwardFunc, () => {
      const g = inputGradients(where, this.forwardFunc, x, targets);
      return this.#multiply ? noGrad(() => g.mul(x)) : g;
    });
  }
}
