/**
 * Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep
 * Networks via Gradient-based Localization", ICCV 2017), computed as
 * pytorch-grad-cam's `GradCAM` does: a forward hook on one layer captures its
 * activations A [N, C, h, w]; the gradient G of the target class's logit
 * with respect to A gives one weight per channel, the spatial mean of G; the
 * map is ReLU(sum_c w_c A_c), upsampled bilinearly to the input's size
 * (align_corners=False, as cv2.resize and F.interpolate) and min-max scaled
 * to [0, 1] per image (a map that is zero everywhere stays zero).
 *
 * Volumes ([N, C, D, H, W] input, Conv3d models such as `models.resnet3d18`)
 * work the same way, as MONAI's `GradCAM` on a 3-D network: the weight is
 * the gradient's mean over the layer's D x H x W, and the map is upsampled
 * trilinearly (align_corners=False) to the input's D x H x W. MONAI's own
 * default normaliser then maps max to 0 and min to 1 (it flips the map);
 * here 1 is always where the class is explained most, as pytorch-grad-cam.
 * As pytorch-grad-cam, the map is scaled both before and after its resize,
 * `(x - min) / (1e-7 + max)`: a constant map stays zero.
 *
 * A Vision Transformer is explained as pytorch-grad-cam's tutorial explains
 * it: at the last block's `ln_1` (`model.encoder.layers[-1].ln_1`), whose
 * tokens [N, 1 + h * w, C] its `reshape_transform` turns into a map
 * [N, C, h, w] (the class token dropped); here that transform is applied by
 * itself to a `VisionTransformer`'s tokens, and `reshapeTransform` takes
 * any other (pytorch-grad-cam's `reshape_transform`).
 *
 * A channels-last map [N, H, W, C] (every layer of a Swin Transformer from
 * its stem's Permute to the model's, a ConvNeXt block's LayerNorm, Linears
 * and GELU) is permuted to [N, C, H, W] by itself, as pytorch-grad-cam's
 * Swin tutorial does with its `reshape_transform`; where the channel axis
 * cannot be told from the module tree (src/eval/layout.ts), a
 * `reshapeTransform` is required.
 *
 * The captured activation is handed on as a detached leaf that requires a
 * gradient, and the parameters stop requiring gradients for the pass: the
 * backward pass then runs only from the logits down to that layer and leaves
 * every parameter's `.grad` as it was.
 *
 * @module
 */
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { ReLU } from "../layers/basic.ts";
import { Hardswish, ReLU6, SiLU } from "../layers/activation_hard.ts";
import { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor/tensor.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { interpolate } from "../tensor/ops/interpolate.ts";
import { scope } from "../tensor/ownership.ts";
import { isGradEnabled, noGrad } from "../tensor/autograd.ts";
import { resize } from "../data/transforms/functional/geometry.ts";
import { checkArity, checkOptions } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { VisionTransformer } from "../models/vit.ts";
import { SwinTransformer } from "../models/swin.ts";
import { SwinTransformerBlock } from "../models/swin_blocks.ts";
import { orderOf, toChannelsFirst } from "./layout.ts";
import { InceptionAux } from "../models/inception_blocks.ts";
import { GoogLeNetAux } from "../models/googlenet.ts";

const USAGE = 'evaluation.gradCam(model, input, { layer: "layer4", target: 2 })';

/** Options of `gradCam`. */
export interface GradCamOptions {
  /**
   * Dotted name of the layer whose activations are explained, as in
   * `namedModules()` ("layer4", "features.10"); default `gradCamLayer(model)`,
   * the last convolutional block.
   */
  layer?: string;
  /**
   * Class to explain: one for the whole batch, or one per image (an array,
   * or a 1-D int32 tensor of labels, Captum's `target=labels`); default the
   * predicted class of each image.
   */
  target?: number | number[] | Tensor;
  /**
   * "gradcam" (default): each channel weighted by its gradient's spatial
   * mean; "gradcam++" (Chattopadhay et al., WACV 2018, as pytorch-grad-cam's
   * GradCAMPlusPlus): by the positive gradients, each scaled by
   * g^2 / (2 g^2 + sum(A) g^3), which credits several instances of a class
   * (several lesions) rather than the strongest.
   */
  method?: GradCamMethod;
  /**
   * pytorch-grad-cam's `reshape_transform`: a function of the layer's
   * output (and, the same way, of its gradient) that gives the feature map
   * [N, C, h, w] (or [N, C, d, h, w]) to explain, for layers whose output
   * is not one, such as a transformer's tokens. Default: none, except on a
   * `VisionTransformer` whose layer gives its tokens [N, 1 + h * w, C]:
   * there the class token is dropped and the patches' tokens are made
   * [N, C, h, w], as pytorch-grad-cam's ViT tutorial does; and on a
   * channels-last map [N, H, W, C] (a Swin's layers, a ConvNeXt block's
   * LayerNorm, Linears and GELU), which is permuted to [N, C, H, W], as
   * pytorch-grad-cam's Swin tutorial does.
   */
  reshapeTransform?: (activation: Tensor) => Tensor;
}

/** The channel weighting of a class activation map. */
export type GradCamMethod = "gradcam" | "gradcam++";

/** Everything one Grad-CAM pass computes (for reports that also show the prediction). */
export interface GradCamResult {
  /** Heat maps [N, H, W] (or [N, D, H, W] for volumes) in [0, 1], row-major, at the input's size. */
  maps: Float32Array;
  /** Images. */
  n: number;
  /** Input depth for a volume [N, C, D, H, W]; undefined for images. */
  depth?: number;
  /** Input height. */
  height: number;
  /** Input width. */
  width: number;
  /** The class explained for each image. */
  targets: number[];
  /** The model's logits [N, classes], row-major. */
  logits: Float32Array;
  /** Classes. */
  classes: number;
  /** The layer explained. */
  layer: string;
}

/** Whether a module is a 2-D or 3-D convolution. */
const isConv = (m: Module) => m instanceof Conv2d || m instanceof Conv3d;

/** Whether a module is or holds a convolution. */
function hasConv(m: Module): boolean {
  for (const x of m.modules()) if (isConv(x)) return true;
  return false;
}

/**
 * The names of the convolutions of `model` (what `layer` may name, besides
 * any module that holds them, such as a ResNet's `layer4`).
 *
 * @example
 * ```ts
 * import { evaluation, models } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16 });
 * console.log(evaluation.gradCamLayers(net)); // ["features.0", "features.3", "features.6", "features.9"]
 * ```
 */
export function gradCamLayers(model: Module): string[] {
  checkArity("evaluation.gradCamLayers", arguments.length, 1, "evaluation.gradCamLayers(model)");
  return [...model.namedModules()].filter(([, m]) => isConv(m)).map(([n]) => n);
}

/** What extends a chosen block: the batch norm and activation layers after it. */
function follows(m: Module): boolean {
  return m instanceof BatchNorm2d || m instanceof BatchNorm3d || m instanceof ReLU ||
    m instanceof ReLU6 ||
    m instanceof SiLU || m instanceof Hardswish;
}

/**
 * The default Grad-CAM layer: the last convolutional block. From the model
 * down, the last child that holds a convolution is taken (descending into
 * Sequentials); a convolution or block found that way is extended over the
 * BatchNorm2d and activation layers (ReLU, ReLU6, SiLU, Hardswish) that
 * follow it. That gives "layer4.1" for a ResNet-18 (the output of layer4,
 * pytorch-grad-cam's `model.layer4[-1]`), the last ReLU before the final
 * pooling for the simple CNN and AlexNet, "features.norm5" for a DenseNet
 * and the last block's activation for MobileNetV2 and EfficientNet
 * (pytorch-grad-cam's `model.features[-1]`). A block that batch norm or an
 * activation follows is extended the same way, so MONAI's 3-D DenseNet gets
 * "features.norm5" too (its tutorials name "class_layers.relu", the same
 * features after the ReLU); a 3-D ResNet gets "layer4.1" (Conv3d and
 * BatchNorm3d count as their 2-D kinds). Auxiliary classifiers, which run
 * in training only, are passed over: "Mixed_7c" for Inception v3,
 * "inception5b" for GoogLeNet.
 *
 * A `VisionTransformer` gets its last encoder block's `ln_1`
 * ("encoder.layers.encoder_layer_11.ln_1" for ViT-B/16), pytorch-grad-cam's
 * `model.encoder.layers[-1].ln_1`: past that block only the class token
 * reaches the head, so later tokens' gradients are zero (and `conv_proj`,
 * the only convolution, gives a first-layer map). A `SwinTransformer` gets
 * its last block's `norm1` ("features.7.1.norm1" for Swin-T),
 * pytorch-grad-cam's `model.layers[-1].blocks[-1].norm1` (its stem, the only
 * convolution, would give a first-layer map); its channels-last map is
 * permuted to [N, C, h, w] as that tutorial's `reshape_transform` does.
 *
 * @example
 * ```ts
 * import { evaluation, models } from "@lits/vision";
 * console.log(evaluation.gradCamLayer(models.resnet18())); // "layer4.1"
 * console.log(evaluation.gradCamLayer(models.alexnet())); // "features.11"
 * const config = { name: "ViT tiny", patchSize: 8, numLayers: 2, numHeads: 2, hiddenDim: 16, mlpDim: 32 };
 * const vit = new models.VisionTransformer(config, { imageSize: 32 });
 * console.log(evaluation.gradCamLayer(vit)); // "encoder.layers.encoder_layer_1.ln_1"
 * ```
 */
export function gradCamLayer(model: Module): string {
  checkArity("evaluation.gradCamLayer", arguments.length, 1, "evaluation.gradCamLayer(model)");
  if (!(model instanceof Module)) throw new Error("evaluation.gradCamLayer: model is not a Module");
  if (model instanceof VisionTransformer) {
    const blocks = [...model.encoder.layers.namedChildren()];
    if (blocks.length > 0) return `encoder.layers.${blocks[blocks.length - 1][0]}.ln_1`;
  }
  if (model instanceof SwinTransformer) {
    const blocks = [...model.namedModules()].filter(([, m]) => m instanceof SwinTransformerBlock);
    if (blocks.length > 0) return `${blocks[blocks.length - 1][0]}.norm1`;
  }
  let m: Module = model;
  let name = "";
  const join = (k: string) => (name ? `${name}.${k}` : k);
  for (;;) {
    // Auxiliary classifiers (Inception v3's, GoogLeNet's) run in training only.
    const kids = [...m.namedChildren()].filter(([, c]) =>
      !(c instanceof InceptionAux || c instanceof GoogLeNetAux)
    );
    let i = kids.length - 1;
    while (i >= 0 && !hasConv(kids[i][1])) i--;
    if (i < 0) {
      if (m === model) {
        throw new Error(`gradCam: ${model.constructor.name} has no Conv2d or Conv3d layer`);
      }
      return name;
    }
    const [k, child] = kids[i];
    // A block followed by batch norm or an activation (DenseNet's last dense
    // block, then norm5) is explained after them, as is a convolution.
    const followed = i + 1 < kids.length && follows(kids[i + 1][1]);
    if (!(child instanceof Sequential) || followed) {
      // The block's activation, not the raw convolution: extend over BN and activations.
      while (i + 1 < kids.length && follows(kids[i + 1][1])) i++;
      return join(kids[i][0]);
    }
    name = join(k);
    m = child;
  }
}

/** Checks the options against the model and input; returns the layer module, its name and targets. */
function resolve(
  model: Module,
  input: Tensor,
  options: GradCamOptions,
): { layer: Module; name: string } {
  if (!(model instanceof Module)) throw new Error(`gradCam: model is not a Module; ${USAGE}`);
  if (!(input instanceof Tensor)) throw new Error(`gradCam: input is not a Tensor; ${USAGE}`);
  if ((input.ndim !== 4 && input.ndim !== 5) || input.shape[0] < 1) {
    throw new Error(
      `gradCam: input must be images [N, C, H, W] or volumes [N, C, D, H, W] with N >= 1, ` +
        `got [${input.shape}]`,
    );
  }
  const name = options.layer ?? gradCamLayer(model);
  if (typeof name !== "string") throw new Error(`gradCam: layer must be a string; ${USAGE}`);
  const found = [...model.namedModules()].find(([n]) => n === name);
  if (!found || name === "") {
    throw new Error(
      `gradCam: ${model.constructor.name} has no layer '${name}'; its convolutions are ` +
        `${gradCamLayers(model).join(", ")} (or name a block that holds them, ` +
        `default ${gradCamLayer(model)})`,
    );
  }
  return { layer: found[1], name };
}

function checkTargets(
  target: GradCamOptions["target"],
  n: number,
  classes: number,
): number | number[] | undefined {
  if (target === undefined) return undefined;
  let list = typeof target === "number" ? [target] : target;
  if (target instanceof Tensor) {
    // Captum's target=labels: one int32 label per image.
    if (target.dtype !== "int32" || target.ndim !== 1 || target.shape[0] !== n) {
      throw new Error(
        `gradCam: a target tensor holds one int32 class index per image ([${n}]), got a ` +
          `${target.dtype} tensor [${target.shape}]` +
          (target.dtype === "int32" ? "" : "; convert labels with .int()"),
      );
    }
    list = Array.from(target.toArray());
  }
  if (!Array.isArray(list) || (typeof target !== "number" && list.length !== n)) {
    throw new Error(
      `gradCam: target must be a class index, one per image (${n}) or an int32 tensor of them, ` +
        `got ${showValue(target)}`,
    );
  }
  for (const t of list) {
    if (!(Number.isInteger(t) && t >= 0 && t < classes)) {
      throw new Error(
        `gradCam: target ${showValue(t)} is out of range: the model has ${classes} classes`,
      );
    }
  }
  return typeof target === "number" ? target : list;
}

/**
 * @internal gradCam's error where the target logits do not change with the
 * image at all (a fresh VisionTransformer's zero head): there is nothing to
 * explain. The evaluation report leaves its heat maps out on it and says
 * why; any other Grad-CAM error still ends the command.
 */
export class ConstantLogitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConstantLogitsError";
  }
}

/**
 * One Grad-CAM pass with the prediction it explains (used by `gradCam`, the
 * report and `deno task predict`). The model runs in evaluation mode, as
 * pytorch-grad-cam runs it, and every module gets its own mode back after:
 * in training mode the pass moved batch norm's running statistics and drew
 * dropout masks, changing the next training step.
 */
export function runGradCam(
  model: Module,
  input: Tensor,
  options: GradCamOptions = {},
): GradCamResult {
  options = checkOptions<GradCamOptions>(
    "gradCam",
    options,
    ["layer", "target", "method", "reshapeTransform"],
    USAGE,
  );
  const method = options.method ?? "gradcam";
  if (method !== "gradcam" && method !== "gradcam++") {
    throw new Error(
      `gradCam: method must be "gradcam" or "gradcam++", got ${JSON.stringify(method)}`,
    );
  }
  if (!isGradEnabled()) {
    throw new Error("gradCam: it needs gradients; call it outside noGrad(...)");
  }
  const { layer, name } = resolve(model, input, options);
  const custom = options.reshapeTransform;
  if (custom !== undefined && typeof custom !== "function") {
    throw new Error(
      `gradCam: reshapeTransform must be a function of the layer's output, got ` +
        `${showValue(custom)}; write { reshapeTransform: (t) => ... }`,
    );
  }
  const n = input.shape[0];
  const size = input.shape.slice(2); // [H, W] or [D, H, W]
  const [height, width] = size.slice(-2);
  const depth = size.length === 3 ? size[0] : undefined;
  const params = model.parameters();
  const flags = params.map((p) => p.requiresGrad);
  const modules = [...model.modules()];
  const modes = modules.map((m) => m.training);
  let calls = 0;
  let leaf: Tensor | null = null;
  let transform: ((t: Tensor) => Tensor) | null = null;
  let tokens = false; // the layer gives a VisionTransformer's tokens
  const handle = layer.registerForwardHook((_m, _inputs, out) => {
    if (++calls > 1) {
      throw new Error(
        `gradCam: layer '${name}' runs more than once per forward pass (a shared module, ` +
          "such as a block's ReLU); name the block or a convolution instead",
      );
    }
    if (!(out instanceof Tensor)) {
      throw new Error(
        `gradCam: layer '${name}' gives ${
          out !== null && typeof out === "object" && !Array.isArray(out)
            ? `an object { ${Object.keys(out).join(", ")} }`
            : Array.isArray(out)
            ? `an array of ${(out as unknown[]).length}`
            : showValue(out)
        }, not one tensor; name a layer whose ` +
          `output is a feature map, such as ${gradCamLayer(model)}`,
      );
    }
    tokens = custom === undefined && vitTokens(model, out) !== null;
    transform = custom ?? vitTokens(model, out) ?? null;
    if (transform === null && out.ndim === input.ndim) {
      transform = channelsFirst(name, model, layer, out);
    }
    if (out.ndim !== input.ndim && transform === null) {
      const map = input.ndim === 5 ? "[N, C, d, h, w]" : "[N, C, h, w]";
      throw new Error(
        `gradCam: layer '${name}' gives [${out.shape}]; Grad-CAM of a ${input.ndim}-D input ` +
          `needs a ${map} feature map, such as ${gradCamLayer(model)}, or a reshapeTransform ` +
          `that makes one (pytorch-grad-cam's reshape_transform): { reshapeTransform: (t) => ... }`,
      );
    }
    leaf = out.detach().requiresGrad_();
    return leaf;
  });
  try {
    for (const p of params) p.requiresGrad = false;
    for (const m of modules) m.training = false;
    return scope(() => {
      const logits = model.forward(input);
      const a = leaf as Tensor | null;
      if (a === null) throw new Error(`gradCam: layer '${name}' did not run in forward`);
      if (logits.ndim !== 2 || logits.shape[0] !== n) {
        throw new Error(`gradCam: the model gives [${logits.shape}], expected [${n}, classes]`);
      }
      const classes = logits.shape[1];
      const t = checkTargets(options.target, n, classes);
      const scores = logits.toArray() as Float32Array;
      const targets = Array.from({ length: n }, (_, i) => {
        if (typeof t === "number") return t;
        if (Array.isArray(t)) return t[i];
        let best = 0;
        for (let c = 1; c < classes; c++) {
          if (scores[i * classes + c] > scores[i * classes + best]) best = c;
        }
        return best;
      });
      // d(sum_i logits[i, t_i]) / d logits: one-hot rows.
      const seed = new Float32Array(n * classes);
      targets.forEach((t, i) => (seed[i * classes + t] = 1));
      logits.backward(fromHost(seed, [n, classes], { device: logits.device }));
      if (a.grad === null) {
        throw new Error(`gradCam: the logits do not depend on layer '${name}'`);
      }
      const [act, grad] = transform === null
        ? [a, a.grad]
        : mapped(name, transform, a, a.grad, input.ndim);
      const gradValues = grad.toArray() as Float32Array;
      if (tokens && gradValues.every((v) => v === 0)) {
        if ((a.grad.toArray() as Float32Array).every((v) => v === 0)) {
          // Not the layer: nothing reaches the logits (torchvision's ViT starts with heads.head 0).
          throw new ConstantLogitsError(
            `gradCam: every token of layer '${name}', the class token's too, has zero gradient: ` +
              "the target logits do not change with the image, as a fresh VisionTransformer's " +
              "(torchvision initialises heads.head to zeros); load or train weights first",
          );
        }
        // Past the last block's attention only the class token reaches the head.
        throw new Error(
          `gradCam: the patch tokens of layer '${name}' have zero gradient (in a ViT, after the ` +
            "last block's attention only the class token reaches the head), so the map would " +
            `be zero; explain ${gradCamLayer(model)} (the default, pytorch-grad-cam's ` +
            "model.encoder.layers[-1].ln_1) or an earlier block",
        );
      }
      const maps = camMaps(
        act.toArray() as Float32Array,
        gradValues,
        act.shape,
        size,
        method,
      );
      return { maps, n, depth, height, width, targets, logits: scores, classes, layer: name };
    });
  } finally {
    handle.remove();
    params.forEach((p, i) => (p.requiresGrad = flags[i]));
    modules.forEach((m, i) => (m.training = modes[i]));
  }
}

/**
 * pytorch-grad-cam's ViT `reshape_transform` for a `VisionTransformer`'s
 * tokens `out` [N, 1 + h * w, C]: the class token dropped, the rest made
 * [N, C, h, w]; null for any other model or output.
 */
function vitTokens(model: Module, out: Tensor): ((t: Tensor) => Tensor) | null {
  if (
    !(model instanceof VisionTransformer) || out.ndim !== 3 ||
    out.shape[1] !== model.seqLength || out.shape[2] !== model.hiddenDim
  ) return null;
  const side = model.imageSize / model.patchSize;
  return (t) =>
    t.narrow(1, 1, side * side).reshape(t.shape[0], side, side, t.shape[2]).permute(0, 3, 1, 2);
}

/**
 * The permute that makes the layer's map `out` channels-first, when the
 * module tree says it is not (a Swin's [N, H, W, C]: pytorch-grad-cam's Swin
 * `reshape_transform`); null when it already is.
 */
function channelsFirst(
  name: string,
  model: Module,
  layer: Module,
  out: Tensor,
): ((t: Tensor) => Tensor) | null {
  const order = orderOf(model, layer, "output", out.ndim);
  if (order === null) return null;
  const last = out.ndim === 5 ? "(t) => t.permute(0, 4, 1, 2, 3)" : "(t) => t.permute(0, 3, 1, 2)";
  if (order === "unknown") {
    throw new Error(
      `gradCam: layer '${name}' gives [${out.shape}] inside a module whose forward permutes ` +
        "its axes, so where its channels are cannot be told; pass the reshapeTransform that " +
        `makes it [N, C, ...] (pytorch-grad-cam's reshape_transform), such as ` +
        `{ reshapeTransform: ${last} } for a channels-last map`,
    );
  }
  const perm = toChannelsFirst(order);
  if (!perm.every((p, i) => p === i)) return (t) => t.permute(...perm);
  return null;
}

/** The layer's output and gradient through `transform`, checked to be feature maps alike. */
function mapped(
  name: string,
  transform: (t: Tensor) => Tensor,
  act: Tensor,
  grad: Tensor,
  ndim: number,
): [Tensor, Tensor] {
  const [a, g] = noGrad(() => [transform(act.detach()), transform(grad)]);
  const map = ndim === 5 ? "[N, C, d, h, w]" : "[N, C, h, w]";
  for (const t of [a, g]) {
    if (!(t instanceof Tensor) || t.ndim !== ndim || t.shape[0] !== act.shape[0]) {
      throw new Error(
        `gradCam: reshapeTransform gave ${
          t instanceof Tensor ? `[${t.shape}]` : showValue(t)
        } for layer '${name}''s output [${act.shape}]; it must give the ${map} feature map of ` +
          `the ${act.shape[0]} inputs`,
      );
    }
  }
  if (a.shape.join() !== g.shape.join()) {
    throw new Error(
      `gradCam: reshapeTransform gave [${a.shape}] for the output but [${g.shape}] for its ` +
        "gradient (of the same shape); it must depend on the shape only",
    );
  }
  return [a, g];
}

/**
 * A channel's weight: the mean of its gradient G (Grad-CAM), or Grad-CAM++'s
 * sum of max(G, 0) a, with a = G^2 / (2 G^2 + sum(A) G^3 + 1e-6) where
 * G != 0 (pytorch-grad-cam's constant and order).
 */
function channelWeight(
  method: GradCamMethod,
  act: Float32Array,
  grad: Float32Array,
  base: number,
  hw: number,
): number {
  let s = 0;
  if (method === "gradcam") {
    for (let j = 0; j < hw; j++) s += grad[base + j];
    return s / hw;
  }
  let sumA = 0;
  for (let j = 0; j < hw; j++) sumA += act[base + j];
  for (let j = 0; j < hw; j++) {
    const g = grad[base + j];
    if (!(g > 0)) continue; // max(G, 0) is 0 here, and a is 0 where G is 0
    const g2 = g * g;
    s += g * (g2 / (2 * g2 + sumA * g2 * g + 1e-6));
  }
  return s;
}

/** `cam` ([h, w] or [d, h, w]) resized to `size` (bilinear or trilinear, align_corners=False). */
function upsample(
  cam: Float32Array,
  from: readonly number[],
  size: readonly number[],
): Float32Array {
  if (from.length === 2) {
    return resize({ data: cam, width: from[1], height: from[0] }, [size[0], size[1]]).data;
  }
  return scope(() =>
    interpolate(fromHost(cam, [1, 1, ...from]), { size: [...size], mode: "trilinear" })
      .toArray() as Float32Array
  );
}

/** ReLU(sum_c w_c A_c) per image, resized to the input's `size` and scaled to [0, 1]. */
function camMaps(
  act: Float32Array,
  grad: Float32Array,
  shape: readonly number[],
  size: readonly number[],
  method: GradCamMethod,
): Float32Array {
  const [n, c] = shape;
  const from = shape.slice(2);
  const hw = from.reduce((a, b) => a * b, 1);
  const plane = size.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * plane);
  const cam = new Float32Array(hw);
  for (let i = 0; i < n; i++) {
    cam.fill(0);
    for (let k = 0; k < c; k++) {
      const base = (i * c + k) * hw;
      const weight = channelWeight(method, act, grad, base, hw);
      for (let j = 0; j < hw; j++) cam[j] += weight * act[base + j];
    }
    for (let j = 0; j < hw; j++) if (!(cam[j] > 0)) cam[j] = 0;
    scaleCam(cam);
    const big = upsample(cam, from, size);
    for (let j = 0; j < big.length; j++) if (!(big[j] > 0)) big[j] = 0;
    scaleCam(big);
    out.set(big, i * plane);
  }
  return out;
}

/**
 * pytorch-grad-cam's `scale_cam_image`, in place: `(x - min) / (1e-7 +
 * max)`. Its epsilon keeps a constant map (a 1 x 1 x 1 feature map, common
 * for 3-D nets on small volumes) at zero through the resize, whose
 * rounding noise a plain min-max would stretch into a false [0, 1] map.
 */
function scaleCam(x: Float32Array): void {
  let lo = Infinity;
  for (const v of x) if (v < lo) lo = v;
  let hi = -Infinity;
  for (let j = 0; j < x.length; j++) {
    x[j] -= lo;
    if (x[j] > hi) hi = x[j];
  }
  const d = 1e-7 + hi;
  for (let j = 0; j < x.length; j++) x[j] /= d;
}

/**
 * Grad-CAM heat maps [N, H, W] in [0, 1] of `model` on `input` [N, C, H, W]
 * (or [N, D, H, W] of a volume model on [N, C, D, H, W]):
 * where the layer's activations pushed the target class's score up. `layer`
 * defaults to the last convolutional block (`gradCamLayer`), `target` to the
 * predicted class, `method` to "gradcam" ("gradcam++" for Grad-CAM++). Runs the model in evaluation mode (each module's own
 * mode comes back after) and leaves the parameters' gradients untouched. An unknown layer
 * lists the model's convolutions; a target out of range or an input that is
 * not [N, C, H, W] or [N, C, D, H, W] is an Error.
 *
 * This is pytorch-grad-cam's heat map, ready to overlay. Captum's raw map
 * (signed unless `reluAttributions`, at the layer's resolution, unscaled)
 * is `new evaluation.LayerGradCam(model, layer).attribute(x, { target })`.
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 32 }).eval();
 * const cam = evaluation.gradCam(net, randn([2, 1, 32, 32]), { target: 1 });
 * console.log(cam.shape); // [2, 32, 32]
 * console.log(Math.max(...cam.toArray()) <= 1); // true
 * ```
 */
export function gradCam(model: Module, input: Tensor, options: GradCamOptions = {}): Tensor {
  checkArity("evaluation.gradCam", arguments.length, 3, USAGE);
  const r = runGradCam(model, input, options);
  const size = r.depth === undefined ? [r.height, r.width] : [r.depth, r.height, r.width];
  return fromHost(r.maps, [r.n, ...size]);
}
