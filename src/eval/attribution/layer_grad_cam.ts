/**
 * Captum's `LayerGradCam`: Grad-CAM (Selvaraju et al., ICCV 2017) as Captum
 * computes it, raw. The gradient G of the target's score with respect to
 * the layer's output A [N, C, ...] is averaged over the dims after the
 * channel one (one weight per channel; a 2-D output [N, C] keeps G
 * itself), and the map is sum_c w_c A_c [N, 1, ...] at the layer's
 * resolution, signed: ReLU only with `reluAttributions: true`, no scaling,
 * no upsampling (`LayerAttribution.interpolate` does that, nearest by
 * default).
 *
 * This is not `evaluation.gradCam`, which is pytorch-grad-cam's Grad-CAM:
 * always ReLU, upsampled bilinearly to the input's size and min-max scaled
 * to [0, 1] per image, ready to overlay.
 *
 * @module
 */
import { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { Module } from "../../layers/module.ts";
import { VisionTransformer } from "../../models/vit.ts";
import { axesText, channelsFirstAfter, orderOf } from "../layout.ts";
import { checkArity, checkOptions } from "../../options.ts";
import {
  boolOption,
  checkInput,
  checkTarget,
  type ForwardFunc,
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

const WHERE = "LayerGradCam";
const USAGE = "layerGc.attribute(input, { target: 1, reluAttributions: true })";

/** Options of `LayerGradCam.attribute`: Captum's keywords, camelCased. */
export interface LayerGradCamOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** Explain the layer's input instead of its output (default false). */
  attributeToLayerInput?: boolean;
  /** ReLU on the map, as the paper's Grad-CAM (default false: signed, as Captum's). */
  reluAttributions?: boolean;
  /** Sum over the channels (default true, Captum's `attr_dim_summation`); false keeps w_c A_c. */
  attrDimSummation?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

const KEYS: (keyof LayerGradCamOptions)[] = [
  "target",
  "attributeToLayerInput",
  "reluAttributions",
  "attrDimSummation",
  "additionalForwardArgs",
];

/**
 * Throws when the layer's value is a ViT's tokens [N, 1 + h * w, C]: Captum
 * would average the gradient over the channels (the last dim) and sum over
 * the tokens, which is no map of the image.
 */
function refuseTokens(where: string, model: unknown, layer: Module, shape: readonly number[]) {
  if (
    !(model instanceof VisionTransformer) || shape.length !== 3 ||
    shape[1] !== model.seqLength || shape[2] !== model.hiddenDim
  ) return;
  const name = [...model.namedModules()].find(([, m]) => m === layer)?.[0] ?? "layer";
  const side = model.imageSize / model.patchSize;
  throw new Error(
    `${where}: the layer's value is the ViT's tokens [${shape.join(", ")}] (1 + ${side} * ` +
      `${side} tokens, channels last); Captum's LayerGradCam would average the gradient over ` +
      "the channels and sum over the tokens, which is no map of the image. For " +
      "pytorch-grad-cam's ViT map (class token dropped, tokens made [N, C, h, w]) write " +
      `evaluation.gradCam(model, x, { layer: "${name}" }); for Captum's raw map of a ` +
      'feature map explain "conv_proj"',
  );
}

/**
 * @internal Throws when the layer's value (its output, or its input with
 * `toInput`) is a map whose channels are not in dim 1, such as a Swin's or a
 * ConvNeXt block's channels-last [N, H, W, C] (src/eval/layout.ts): Captum
 * would average the gradient over H... and sum over dim 1, no map of the
 * image. Also GuidedGradCam's check.
 */
export function refuseChannelsLast(
  where: string,
  forward: unknown,
  layer: Module,
  toInput: boolean,
  shape: readonly number[],
): void {
  if (shape.length < 4) return; // feature maps; a ViT's tokens have refuseTokens
  const model = forward instanceof Module ? forward : null;
  const order = orderOf(model, layer, toInput ? "input" : "output", shape.length);
  if (order === null) return;
  const name = model
    ? [...model.namedModules()].find(([, m]) => m === layer)?.[0] ?? "layer"
    : "layer";
  // The layer's own output when that is channels-first (a Permute back), else the next such.
  const alt = !model
    ? undefined
    : toInput && orderOf(model, layer, "output", shape.length) === null
    ? name
    : channelsFirstAfter(model, layer);
  const axes = order === "unknown"
    ? "its axes are permuted by a forward that cannot be read"
    : `its axes are ${axesText(order)}`;
  throw new Error(
    `${where}: the layer's ${toInput ? "input" : "output"} [${shape.join(", ")}] is not ` +
      `channels-first (${axes}); Captum would average the gradient over the dims after ` +
      "dim 1 and sum over dim 1, which is no map of the image. For pytorch-grad-cam's map " +
      "(permuted to [N, C, H, W], as its Swin tutorial's reshape_transform) write " +
      `evaluation.gradCam(model, x, { layer: "${name}" })` +
      (alt ? `; for Captum's raw map explain a channels-first layer, such as "${alt}"` : ""),
  );
}

/**
 * Captum's `LayerGradCam(forward_func, layer)`: `attribute(input, { target,
 * reluAttributions, attributeToLayerInput, attrDimSummation })` gives the
 * raw Grad-CAM map [N, 1, ...] of the layer's output (or input), at the
 * layer's resolution and signed unless `reluAttributions: true`. Upsample it
 * with `evaluation.LayerAttribution.interpolate(attr, input.shape.slice(2))`.
 * For the heat map pytorch-grad-cam draws (ReLU, bilinear, scaled to
 * [0, 1]) use `evaluation.gradCam`.
 *
 * `layer` is a module of the model (`model.layer4`, `net[4]`) or its
 * dotted name ("layer4.1.conv2"). The model must be in evaluation mode;
 * gradients are recorded even under `noGrad`, the parameters' `.grad`
 * stay as they were, the hook is removed after (also when the call
 * throws), and the result is yours (or the enclosing scope's).
 *
 * A `VisionTransformer`'s token layers ([N, 1 + h * w, C], channels last)
 * are refused: Captum would average over the channels there and give no
 * image map; `evaluation.gradCam` reshapes them as pytorch-grad-cam does.
 * So are channels-last maps [N, H, W, C] (a Swin Transformer's layers, a
 * ConvNeXt block's LayerNorm, Linears and GELU), which `evaluation.gradCam`
 * permutes; the error names a channels-first layer for Captum's raw map.
 * With a forward function instead of the model, only a LayerNorm's or
 * Linear's own map is known to be channels-last.
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const gc = new evaluation.LayerGradCam(net, "features.9");
 * const x = randn([2, 1, 16, 16]);
 * const attr = gc.attribute(x, { target: 1, reluAttributions: true });
 * const up = evaluation.LayerAttribution.interpolate(attr, x.shape.slice(2), "bilinear");
 * console.log(attr.shape, up.shape); // [2, 1, 2, 2] [2, 1, 16, 16]
 * ```
 */
export class LayerGradCam extends LayerAttribution<LayerGradCamOptions> {
  /** `forwardFunc`: the model, or a function of the input batch; `layer`: the layer explained. */
  constructor(forwardFunc: ForwardFunc, layer: LayerRef, init?: LayerInit) {
    checkArity(WHERE, arguments.length, 3, "new evaluation.LayerGradCam(model, model.layer4)");
    super(WHERE, forwardFunc, layer);
    checkLayerInit<LayerInit>(WHERE, init, [], "new evaluation.LayerGradCam(model, layer)");
  }

  /** The Grad-CAM map of the layer for `input` [N, ...]: [N, 1, ...] at the layer's size. */
  attribute(input: Tensor, options?: LayerGradCamOptions): Tensor {
    const where = `${WHERE}.attribute`;
    checkArity(where, arguments.length, 2, USAGE);
    if (typeof options === "number" || Array.isArray(options) || options instanceof Tensor) {
      const shown = options instanceof Tensor ? "labels" : JSON.stringify(options);
      throw new Error(
        `${where}: the target goes in the options: write layerGc.attribute(input, { target: ` +
          `${shown} }) (Captum's attribute(input, target) takes it second)`,
      );
    }
    const o = checkOptions<LayerGradCamOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const targets = checkTarget(where, o.target, x.shape[0]);
    const toInput = boolOption(where, "attributeToLayerInput", o.attributeToLayerInput, false);
    const relu = boolOption(where, "reluAttributions", o.reluAttributions, false);
    const sum = boolOption(where, "attrDimSummation", o.attrDimSummation, true);
    const layer = this.layer;
    return runAttribution(where, this.forwardFunc, () => {
      const { grads, evals } = layerGradientsAndEval(
        where,
        this.forwardFunc,
        layer,
        x,
        targets,
        toInput,
      );
      refuseTokens(where, this.forwardFunc, layer, grads.shape);
      refuseChannelsLast(where, this.forwardFunc, layer, toInput, grads.shape);
      if (grads.ndim < 2) {
        throw new Error(
          `${where}: the layer's ${toInput ? "input" : "output"} is [${grads.shape}]; Grad-CAM ` +
            "needs channels in dim 1 ([N, C, ...]): explain a convolution or a block",
        );
      }
      return noGrad(() => {
        const spatial = Array.from({ length: grads.ndim - 2 }, (_, i) => i + 2);
        const weights = spatial.length > 0 ? grads.mean(spatial, true) : grads;
        const scaled = sum ? weights.mul(evals).sum(1, true) : weights.mul(evals);
        return relu ? scaled.relu() : scaled;
      });
    });
  }
}
