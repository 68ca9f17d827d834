/**
 * What Captum's layer attributions share (`LayerAttribution`): a model and
 * one of its layers, the layer's value in a forward pass (its output, or
 * its input with `attributeToLayerInput`) kept by a hook, the gradient of
 * the targets' scores with respect to that value (Captum's
 * `compute_layer_gradients_and_eval`), and `LayerAttribution.interpolate`,
 * which upsamples a layer's attributions to the input's size.
 *
 * Hooks are taken off before a method returns or throws. A layer that runs
 * more than once in a pass (a shared ReLU) is refused: Captum keeps the
 * last call's value, which silently explains only part of the layer.
 *
 * @module
 */
import { Module } from "../../layers/module.ts";
import type { RemovableHandle } from "../../layers/module_hooks.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { interpolate } from "../../tensor/ops/interpolate.ts";
import type { InterpolateMode } from "../../tensor/ops/interpolate.ts";
import { enableGrad } from "../../tensor/grad_mode.ts";
import { atScopeDepth, scopeDepth } from "../../tensor/ownership.ts";
import { clone } from "../../tensor/ops/shape.ts";
import { grad } from "../../tensor/autograd_grad.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { Attribution, type ForwardFunc, runForward, type Targets } from "./common.ts";

/** The layer a layer attribution explains: a module of the model, or its dotted name. */
export type LayerRef = Module | string;

/** Options of the layer methods' constructors (Captum's keywords after `layer`). */
export interface LayerInit {
  /** Captum's `device_ids` (DataParallel): not supported (the Error says what to write). */
  deviceIds?: never;
}

const INTERPOLATE_USAGE =
  'evaluation.LayerAttribution.interpolate(attr, [H, W], "bilinear") (default "nearest")';

/**
 * The base of Captum's layer attributions: a forward function and a layer
 * (Captum's `LayerAttribution`), plus Captum's static `interpolate`.
 */
export abstract class LayerAttribution<O extends object = object> extends Attribution<O> {
  /** The layer explained. */
  readonly layer: Module;

  /** Checks `forwardFunc` and resolves `layer` (a module, or its dotted name in the model). */
  protected constructor(where: string, forwardFunc: ForwardFunc, layer: LayerRef) {
    super(where, forwardFunc);
    this.layer = resolveLayer(where, forwardFunc, layer);
  }

  /**
   * Captum's `LayerAttribution.interpolate(layer_attribution,
   * interpolate_dims, interpolate_mode="nearest")`: `F.interpolate(attr,
   * dims, mode)`, which upsamples a layer's attributions [N, C, ...] (3-D,
   * 4-D or 5-D) to the input's spatial size. The default is "nearest", as
   * Captum's (blocky); "bilinear" (4-D) or "trilinear" (5-D) give smooth
   * maps, with align_corners false, as torch's default. The mode may also
   * come as `{ interpolateMode }`, Captum's keyword.
   *
   * @example
   * ```ts
   * import { evaluation, tensor } from "@lits/vision";
   * const attr = tensor([[[[1, 2], [3, 4]]]]); // [1, 1, 2, 2]
   * const up = evaluation.LayerAttribution.interpolate(attr, [4, 4]);
   * console.log(up.shape, up.toArray().slice(0, 4)); // [1, 1, 4, 4] Float32Array(4) [1, 1, 2, 2]
   * ```
   */
  static interpolate(
    layerAttribution: Tensor,
    interpolateDims: number | readonly number[],
    interpolateMode: InterpolateMode | { interpolateMode?: InterpolateMode } = "nearest",
  ): Tensor {
    const where = "LayerAttribution.interpolate";
    checkArity(where, arguments.length, 3, INTERPOLATE_USAGE);
    if (!(layerAttribution instanceof Tensor)) {
      throw new Error(
        `${where}: layerAttribution must be a tensor [N, C, ...], got ` +
          `${showValue(layerAttribution)}; write ${INTERPOLATE_USAGE}`,
      );
    }
    let mode = interpolateMode;
    if (typeof mode === "object" && mode !== null) {
      mode = checkOptions<{ interpolateMode?: InterpolateMode }>(
        where,
        mode,
        ["interpolateMode"],
        INTERPOLATE_USAGE,
      ).interpolateMode ?? "nearest";
    }
    if (typeof mode !== "string") {
      throw new Error(
        `${where}: interpolateMode must be a mode's name ("nearest", "bilinear", ...), got ` +
          `${showValue(mode)}`,
      );
    }
    const dims = typeof interpolateDims === "number" ? interpolateDims : [...interpolateDims];
    if (
      typeof dims !== "number" &&
      (!Array.isArray(interpolateDims) || dims.length !== layerAttribution.ndim - 2)
    ) {
      throw new Error(
        `${where}: interpolateDims must give the ${layerAttribution.ndim - 2} spatial sizes of ` +
          `[${layerAttribution.shape}] (the dims after N and C), got ${
            showValue(interpolateDims)
          }; write ${INTERPOLATE_USAGE}, or input.shape.slice(2)`,
      );
    }
    return interpolate(layerAttribution, { size: dims, mode });
  }
}

/**
 * Checks a layer class's constructor options (the argument after `layer`):
 * Captum's `device_ids` there (a list) is refused, as is `deviceIds`.
 */
export function checkLayerInit<T extends object>(
  where: string,
  init: unknown,
  keys: readonly (keyof T & string)[],
  usage: string,
): T {
  if (Array.isArray(init)) {
    throw new Error(
      `${where}: the third argument is Captum's device_ids (DataParallel), which is not ` +
        `supported here; write ${usage}`,
    );
  }
  const o = checkOptions<T & LayerInit>(where, init, [...keys, "deviceIds"], usage);
  if (o.deviceIds !== undefined && o.deviceIds !== null) {
    throw new Error(
      `${where}: deviceIds (Captum's device_ids, for DataParallel) is not supported; write ${usage}`,
    );
  }
  return o;
}

/** The layer module: given, or found by its dotted name in the model. */
function resolveLayer(where: string, forward: ForwardFunc, layer: unknown): Module {
  if (layer instanceof Module) return layer;
  if (typeof layer === "string" && forward instanceof Module) {
    const found = [...forward.namedModules()].find(([n]) => n === layer);
    if (found && layer !== "") return found[1];
    const names = [...forward.namedModules()].map(([n]) => n).filter((n) => n !== "");
    throw new Error(
      `${where}: ${forward.constructor.name} has no layer '${layer}'; its layers are ` +
        `${names.slice(0, 30).join(", ")}${names.length > 30 ? ", ..." : ""}`,
    );
  }
  const list = Array.isArray(layer)
    ? "; one layer at a time here (Captum's list of layers is not supported): make one " +
      "attribution per layer"
    : typeof layer === "string"
    ? " (a layer's name works only when the forward function is the model itself)"
    : "";
  throw new Error(
    `${where}: layer must be a module of the model, got ${showValue(layer)}${list}; write ` +
      `new evaluation.${where}(model, model.layer4) or (model, "layer4")`,
  );
}

/** One pass's record of the layer: the value kept (output, or first input) and its calls. */
interface Kept {
  value: Tensor | null;
  calls: number;
}

/**
 * Hooks `layer` for one pass: keeps its output (or its input with
 * `toInput`), or hands `replace` on in its place (LayerIntegratedGradients'
 * scaled values). With `copy` it keeps a copy owned by the caller's scope:
 * a pass without gradients frees each layer's output once the next layer
 * used it (nn.chain), inside a scope of its own. The caller removes the
 * handle.
 */
export function hookLayer(
  where: string,
  layer: Module,
  toInput: boolean,
  kept: Kept,
  replace?: Tensor,
  copy = false,
): RemovableHandle {
  const depth = scopeDepth();
  const check = (t: unknown, what: string): Tensor => {
    if (++kept.calls > 1) {
      throw new Error(
        `${where}: the layer (${layer.constructor.name}) runs more than once per forward pass ` +
          "(a shared module, such as a block's ReLU used twice); Captum would keep only the " +
          "last call: explain a module that runs once (a convolution, or the block)",
      );
    }
    if (!(t instanceof Tensor)) {
      throw new Error(
        `${where}: the layer's ${what} is ${showValue(t)}, not one tensor; layer attributions ` +
          "take layers with a single tensor input and output",
      );
    }
    if (replace !== undefined && replace.shape.join() !== t.shape.join()) {
      throw new Error(
        `${where}: the layer's ${what} is [${t.shape}] for these inputs, the values to put in ` +
          `its place [${replace.shape}]; the layer must give the same shape for the baselines`,
      );
    }
    kept.value = copy ? atScopeDepth(depth, () => clone(t)) : t;
    return t;
  };
  if (toInput) {
    return layer.registerForwardPreHook((_m, inputs) => {
      if (inputs.length !== 1) {
        throw new Error(
          `${where}: the layer takes ${inputs.length} arguments; attributeToLayerInput needs a ` +
            "layer with one tensor input",
        );
      }
      check(inputs[0], "input");
      return replace === undefined ? undefined : [replace];
    });
  }
  return layer.registerForwardHook((_m, _inputs, out) => {
    check(out, "output");
    return replace;
  });
}

/** The kept value, or an Error saying the layer did not run. */
export function keptValue(where: string, layer: Module, kept: Kept): Tensor {
  if (kept.value === null) {
    throw new Error(
      `${where}: the layer (${layer.constructor.name}) did not run in the forward pass; give a ` +
        "module that the model calls (the model's own submodule, not a copy)",
    );
  }
  return kept.value;
}

/** Runs `fn` with `layer` hooked (see `hookLayer`); the hook is off after, whatever happens. */
export function withLayerHook<T>(
  where: string,
  layer: Module,
  toInput: boolean,
  fn: (kept: Kept) => T,
  replace?: Tensor,
  copy = false,
): T {
  const kept: Kept = { value: null, calls: 0 };
  const handle = hookLayer(where, layer, toInput, kept, replace, copy);
  try {
    return fn(kept);
  } finally {
    handle.remove();
  }
}

/**
 * The one-hot gradient of the targets' scores for an output [rows] or
 * [rows, classes]: d sum_i out[i, t_i] / d out.
 */
export function targetSeed(out: Tensor, targets: Targets): Tensor {
  const seed = new Float32Array(out.numel());
  if (out.ndim === 1) seed.fill(1);
  else {
    const [rows, classes] = out.shape;
    for (let i = 0; i < rows; i++) {
      const t = targets === null ? 0 : typeof targets === "number" ? targets : targets[i];
      seed[i * classes + t] = 1;
    }
  }
  return fromHost(seed, out.shape, { device: out.device });
}

/**
 * Captum's `compute_layer_gradients_and_eval`: the layer's value on `x`
 * (output, or input with `toInput`) and the gradient of the targets'
 * scores with respect to it. For a layer's input that gradient goes through
 * every use of that tensor (a skip connection too), as Captum's. Recorded
 * even under `noGrad`.
 */
export function layerGradientsAndEval(
  where: string,
  forward: ForwardFunc,
  layer: Module,
  x: Tensor,
  targets: Targets,
  toInput: boolean,
): { grads: Tensor; evals: Tensor } {
  return enableGrad(() => {
    const leaf = x.detach().requiresGrad_();
    const [out, value] = withLayerHook(where, layer, toInput, (kept) => {
      const out = runForward(where, forward, leaf, targets);
      return [out, keptValue(where, layer, kept)] as const;
    });
    if (!out.requiresGrad || !value.requiresGrad) {
      throw new Error(
        `${where}: the model's output does not depend on the layer's ` +
          `${toInput ? "input" : "output"} through differentiable operations`,
      );
    }
    const [g] = grad(out, value, targetSeed(out, targets), { allowUnused: true });
    if (g === null) {
      throw new Error(
        `${where}: the model's output does not depend on the layer's ` +
          `${toInput ? "input" : "output"}`,
      );
    }
    return { grads: g, evals: value.detach() };
  });
}
