/**
 * Captum's `LayerActivation`: the layer's output (or input) for a batch,
 * taken by a forward hook in a pass without gradients.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { checkArity, checkOptions } from "../../options.ts";
import {
  boolOption,
  checkInput,
  type ForwardFunc,
  noAdditionalArgs,
  runAttribution,
} from "./common.ts";
import {
  checkLayerInit,
  keptValue,
  LayerAttribution,
  type LayerInit,
  type LayerRef,
  withLayerHook,
} from "./layer.ts";

const WHERE = "LayerActivation";
const USAGE = "layerAct.attribute(input, { attributeToLayerInput: false })";

/** Options of `LayerActivation.attribute`: Captum's keywords, camelCased. */
export interface LayerActivationOptions {
  /** The layer's input instead of its output (default false). */
  attributeToLayerInput?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/**
 * Captum's `LayerActivation(forward_func, layer)`: `attribute(input, {
 * attributeToLayerInput })` gives the layer's output (or input) for
 * `input` [N, ...], of its shape; no target, no gradient.
 *
 * `layer` is a module of the model or its dotted name. The model must be
 * in evaluation mode (batch norm on its running statistics); the hook is
 * removed after, and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, nn, randn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2)).eval();
 * const act = new evaluation.LayerActivation(net, net[1]).attribute(randn([3, 4]));
 * console.log(act.shape, act.min().item() >= 0); // [3, 8] true
 * ```
 */
export class LayerActivation extends LayerAttribution<LayerActivationOptions> {
  /** `forwardFunc`: the model, or a function of the input batch; `layer`: the layer read. */
  constructor(forwardFunc: ForwardFunc, layer: LayerRef, init?: LayerInit) {
    checkArity(WHERE, arguments.length, 3, "new evaluation.LayerActivation(model, model.layer4)");
    super(WHERE, forwardFunc, layer);
    checkLayerInit<LayerInit>(WHERE, init, [], "new evaluation.LayerActivation(model, layer)");
  }

  /** The layer's output (or input) for `input` [N, ...]. */
  attribute(input: Tensor, options?: LayerActivationOptions): Tensor {
    const where = `${WHERE}.attribute`;
    checkArity(where, arguments.length, 2, USAGE);
    const o = checkOptions<LayerActivationOptions>(
      where,
      options,
      ["attributeToLayerInput", "additionalForwardArgs"],
      USAGE,
    );
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const toInput = boolOption(where, "attributeToLayerInput", o.attributeToLayerInput, false);
    const layer = this.layer;
    return runAttribution(
      where,
      this.forwardFunc,
      () =>
        noGrad(() =>
          withLayerHook(
            where,
            layer,
            toInput,
            (kept) => {
              this.forwardFunc(x);
              return keptValue(where, layer, kept);
            },
            undefined,
            true,
          )
        ),
    );
  }
}
