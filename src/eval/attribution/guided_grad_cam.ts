/**
 * Guided Grad-CAM (Selvaraju et al., ICCV 2017), as Captum's
 * `GuidedGradCam`: the elementwise product of Guided Backpropagation's
 * attributions [N, C, ...] and the layer's Grad-CAM map with ReLU
 * ([N, 1, ...], `LayerGradCam` with `reluAttributions: true`), upsampled
 * to the input's spatial size by `LayerAttribution.interpolate` (Captum's
 * `interpolate_mode`, "nearest" by default; the paper's is "bilinear") and
 * broadcast over the input's channels.
 *
 * Where the map cannot be upsampled to the input (a layer without spatial
 * dims, such as a Linear, or an input of another rank), Captum returns an
 * empty tensor with a warning; this library throws and says which layer to
 * take.
 *
 * @module
 */
import { Module } from "../../layers/module.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import type { InterpolateMode } from "../../tensor/ops/interpolate.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { checkArity, checkOptions } from "../../options.ts";
import {
  boolOption,
  checkInput,
  checkTarget,
  noAdditionalArgs,
  runAttribution,
  type Target,
} from "./common.ts";
import {
  checkLayerInit,
  LayerAttribution,
  layerGradientsAndEval,
  type LayerInit,
  type LayerRef,
} from "./layer.ts";
import { modifiedReluGradients } from "./guided_backprop.ts";
import { refusePositionalTarget } from "./attribute_args.ts";
import { refuseChannelsLast } from "./layer_grad_cam.ts";

const WHERE = "GuidedGradCam";
const USAGE = 'guidedGc.attribute(input, { target: 1, interpolateMode: "bilinear" })';

/** Options of `GuidedGradCam.attribute`: Captum's keywords, camelCased. */
export interface GuidedGradCamOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** How the Grad-CAM map is upsampled (default "nearest", as Captum's). */
  interpolateMode?: InterpolateMode;
  /** Grad-CAM of the layer's input instead of its output (default false). */
  attributeToLayerInput?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

const KEYS: (keyof GuidedGradCamOptions)[] = [
  "target",
  "interpolateMode",
  "attributeToLayerInput",
  "additionalForwardArgs",
];

/**
 * Captum's `GuidedGradCam(model, layer)`: `attribute(input, { target,
 * interpolateMode, attributeToLayerInput })` gives GuidedBackprop times the
 * upsampled, ReLU'd Grad-CAM map of `layer`, of the input's shape.
 *
 * `layer` is a module of the model (usually the last convolution) or its
 * dotted name. The model must be an nn.Module in evaluation mode whose
 * ReLUs are nn.ReLU modules (see `GuidedBackprop`); gradients are recorded
 * even under `noGrad`, the parameters' `.grad` stay as they were, the hooks
 * are removed after (also when the call throws), and the result is yours
 * (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const ggc = new evaluation.GuidedGradCam(net, "features.8");
 * const attr = ggc.attribute(randn([2, 1, 16, 16]), { target: 1, interpolateMode: "bilinear" });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class GuidedGradCam extends LayerAttribution<GuidedGradCamOptions> {
  /** The model whose ReLU modules are guided. */
  readonly model: Module;

  /** `model`: the nn.Module; `layer`: the layer of its Grad-CAM map. */
  constructor(model: Module, layer: LayerRef, init?: LayerInit) {
    checkArity(WHERE, arguments.length, 3, "new evaluation.GuidedGradCam(model, model.layer4)");
    if (!(model instanceof Module)) {
      throw new Error(
        `${WHERE}: needs the model itself (an nn.Module, whose ReLU modules it hooks, as ` +
          `Captum asserts), got ${
            showValue(model)
          }; write new evaluation.GuidedGradCam(model, layer)`,
      );
    }
    super(WHERE, model, layer);
    checkLayerInit<LayerInit>(WHERE, init, [], "new evaluation.GuidedGradCam(model, layer)");
    this.model = model;
  }

  /** Guided Grad-CAM of `input` [N, C, ...]: a tensor of its shape. */
  attribute(input: Tensor, options?: GuidedGradCamOptions): Tensor {
    const where = `${WHERE}.attribute`;
    checkArity(where, arguments.length, 2, USAGE);
    refusePositionalTarget(where, options, "guidedGc.attribute");
    const o = checkOptions<GuidedGradCamOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const targets = checkTarget(where, o.target, x.shape[0]);
    const toInput = boolOption(where, "attributeToLayerInput", o.attributeToLayerInput, false);
    const mode = o.interpolateMode ?? "nearest";
    if (typeof mode !== "string") {
      throw new Error(
        `${where}: interpolateMode must be a mode's name ("nearest", "bilinear", ...), got ` +
          `${showValue(mode)}`,
      );
    }
    return runAttribution(where, this.model, () => {
      const { grads, evals } = layerGradientsAndEval(
        where,
        this.model,
        this.layer,
        x,
        targets,
        toInput,
      );
      refuseChannelsLast(where, this.model, this.layer, toInput, grads.shape);
      if (grads.ndim !== x.ndim || grads.ndim < 3 || grads.ndim > 5) {
        throw new Error(
          `${where}: the layer's ${toInput ? "input" : "output"} [${grads.shape}] cannot be ` +
            `upsampled to the input [${x.shape}] (Captum would return an empty tensor): take a ` +
            "layer with the input's spatial dims, such as the last convolution",
        );
      }
      const cam = noGrad(() => {
        const spatial = Array.from({ length: grads.ndim - 2 }, (_, i) => i + 2);
        return grads.mean(spatial, true).mul(evals).sum(1, true).relu();
      });
      const guided = modifiedReluGradients(where, this.model, x, targets, false);
      return noGrad(() => {
        const up = LayerAttribution.interpolate(cam, x.shape.slice(2), mode);
        return guided.mul(up);
      });
    });
  }
}
