/**
 * Captum's `LayerIntegratedGradients`: Integrated Gradients on a layer's
 * output (or input) rather than on the model's input. The layer's values
 * at the input, a = L(x), and at the baseline, a' = L(x'), are the path's
 * ends; for each point a' + alpha (a - a') the model runs on the input with
 * the layer's value replaced by that point (a hook), and
 *
 *   LIG(x) = (a - a') * sum_k w_k dF / da (a' + alpha_k (a - a'))
 *
 * with IG's points and weights (approximation.ts), the steps of the batch
 * through the model as one batch (alpha major) or `internalBatchSize`
 * examples at a time, as `IntegratedGradients`. The convergence delta is
 * Captum's, in input space: per example, sum(attributions) -
 * (F(x)[target] - F(x')[target]).
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { cat } from "../../tensor/ops/join.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { enableGrad } from "../../tensor/grad_mode.ts";
import { grad } from "../../tensor/autograd_grad.ts";
import { checkArity, checkOptions } from "../../options.ts";
import type { IntegrationMethod } from "./approximation.ts";
import { checkBaseline, fullBaseline } from "./baselines.ts";
import {
  boolOption,
  checkInput,
  checkTarget,
  expandTargets,
  type ForwardFunc,
  noAdditionalArgs,
  runAttribution,
  runForward,
  type Target,
  type Targets,
} from "./common.ts";
import { convergenceDelta, integrationSettings } from "./integrated_gradients.ts";
import {
  checkLayerInit,
  keptValue,
  LayerAttribution,
  type LayerInit,
  type LayerRef,
  targetSeed,
  withLayerHook,
} from "./layer.ts";

const WHERE = "LayerIntegratedGradients";
const USAGE =
  'lig.attribute(input, { target: 1, baselines: 0, nSteps: 50, method: "gausslegendre" })';

/** Options of `LayerIntegratedGradients.attribute`: Captum's keywords, camelCased. */
export interface LayerIntegratedGradientsOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** The input-space baseline: a number (default 0) or a tensor that broadcasts to the input. */
  baselines?: number | Tensor;
  /** Steps of the approximation (default 50; at least 2 for the Riemann rules). */
  nSteps?: number;
  /** The approximation (default "gausslegendre"). */
  method?: IntegrationMethod;
  /** Examples per forward pass, whole steps at a time (default all n * N in one). */
  internalBatchSize?: number;
  /** Also return the convergence delta, one per example: `[attributions, delta]`. */
  returnConvergenceDelta?: boolean;
  /** Attribute to the layer's input instead of its output (default false). */
  attributeToLayerInput?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/** Options of the `LayerIntegratedGradients` constructor. */
export interface LayerIntegratedGradientsInit extends LayerInit {
  /** Multiply by L(x) - L(baseline) (default true, Captum's `multiply_by_inputs`). */
  multiplyByInputs?: boolean;
}

const KEYS: (keyof LayerIntegratedGradientsOptions)[] = [
  "target",
  "baselines",
  "nSteps",
  "method",
  "internalBatchSize",
  "returnConvergenceDelta",
  "attributeToLayerInput",
  "additionalForwardArgs",
];

/**
 * Captum's `LayerIntegratedGradients(forward_func, layer,
 * multiply_by_inputs=True)`: `attribute(input, { target, baselines, nSteps,
 * method, internalBatchSize, returnConvergenceDelta, attributeToLayerInput
 * })` gives attributions of the layer's output's (or input's) shape (with
 * `returnConvergenceDelta`, `[attributions, delta]`, delta [N]).
 *
 * `layer` is a module of the model or its dotted name; it must run once per
 * forward pass. The model must be in evaluation mode; gradients are
 * recorded even under `noGrad`, the parameters' `.grad` stay as they were,
 * hooks are removed after (also when the call throws), and the result is
 * yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const lig = new evaluation.LayerIntegratedGradients(net, "features.0");
 * const [attr, delta] = lig.attribute(randn([2, 1, 16, 16]), {
 *   target: [2, 0],
 *   nSteps: 16,
 *   returnConvergenceDelta: true,
 * });
 * console.log(attr.shape[0], delta.shape); // 2 [2]
 * ```
 */
export class LayerIntegratedGradients extends LayerAttribution<LayerIntegratedGradientsOptions> {
  readonly #multiply: boolean;

  /** `init`: `{ multiplyByInputs }` (Captum's keyword; its third positional is device_ids). */
  constructor(forwardFunc: ForwardFunc, layer: LayerRef, init?: LayerIntegratedGradientsInit) {
    const usage = "new evaluation.LayerIntegratedGradients(model, layer, { multiplyByInputs })";
    checkArity(WHERE, arguments.length, 3, usage);
    super(WHERE, forwardFunc, layer);
    if (typeof init === "boolean") {
      throw new Error(
        `${WHERE}: the third argument is an options object (Captum's third positional is ` +
          `device_ids); write new evaluation.LayerIntegratedGradients(model, layer, ` +
          `{ multiplyByInputs: ${init} })`,
      );
    }
    const o = checkLayerInit<LayerIntegratedGradientsInit>(
      WHERE,
      init,
      ["multiplyByInputs"],
      usage,
    );
    this.#multiply = boolOption(WHERE, "multiplyByInputs", o.multiplyByInputs, true);
  }

  /** Whether attributions are multiplied by L(x) - L(baseline) (Captum's `multiplies_by_inputs`). */
  get multipliesByInputs(): boolean {
    return this.#multiply;
  }

  /** True: `returnConvergenceDelta` is available. */
  override hasConvergenceDelta(): boolean {
    return true;
  }

  /** Attributions with their convergence delta [N]. */
  attribute(
    input: Tensor,
    options: LayerIntegratedGradientsOptions & { returnConvergenceDelta: true },
  ): [Tensor, Tensor];
  /** Attributions of the layer's output's (or input's) shape. */
  attribute(input: Tensor, options?: LayerIntegratedGradientsOptions): Tensor;
  attribute(
    input: Tensor,
    options?: LayerIntegratedGradientsOptions,
  ): Tensor | [Tensor, Tensor] {
    const where = `${WHERE}.attribute`;
    checkArity(where, arguments.length, 2, USAGE);
    const o = checkOptions<LayerIntegratedGradientsOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    const targets = checkTarget(where, o.target, n);
    const baseline = checkBaseline(where, o.baselines, x);
    const { nSteps, batch, withDelta, stepSizes, alphas } = integrationSettings(where, o, n);
    const toInput = boolOption(where, "attributeToLayerInput", o.attributeToLayerInput, false);
    const forward = this.forwardFunc;
    return runAttribution(where, forward, () => {
      const start = fullBaseline(baseline, x);
      const atInput = this.#layerValue(x, toInput);
      const atBaseline = this.#layerValue(start, toInput);
      if (atInput.shape.join() !== atBaseline.shape.join()) {
        throw new Error(
          `${where}: the layer gives [${atInput.shape}] for the input and [${atBaseline.shape}] ` +
            "for the baseline; they must match",
        );
      }
      const diff = noGrad(() => atInput.sub(atBaseline));
      const per = batch === undefined ? nSteps : Math.max(1, Math.floor(batch / n));
      let total: Tensor | null = null;
      for (let s = 0; s < nSteps; s += per) {
        const e = Math.min(s + per, nSteps);
        const part = this.#chunk(
          x,
          atBaseline,
          diff,
          targets,
          toInput,
          stepSizes.slice(s, e),
          alphas.slice(s, e),
        );
        total = total === null ? part : noGrad(() => total!.add(part));
      }
      const attr = total!;
      if (!withDelta) return attr;
      return [attr, convergenceDelta(where, forward, attr, start, x, targets)] as [
        Tensor,
        Tensor,
      ];
    });
  }

  /** The layer's value (output, or input) for a batch, without gradients. */
  #layerValue(x: Tensor, toInput: boolean): Tensor {
    const where = `${WHERE}.attribute`;
    return noGrad(() =>
      withLayerHook(
        where,
        this.layer,
        toInput,
        (kept) => {
          this.forwardFunc(x);
          return keptValue(where, this.layer, kept);
        },
        undefined,
        true,
      )
    );
  }

  /** The attributions of some of the steps: the layer's value replaced by the scaled points. */
  #chunk(
    x: Tensor,
    atBaseline: Tensor,
    diff: Tensor,
    targets: Targets,
    toInput: boolean,
    stepSizes: number[],
    alphas: number[],
  ): Tensor {
    const where = `${WHERE}.attribute`;
    const steps = alphas.length;
    const n = x.shape[0];
    const scaled = noGrad(() => cat(alphas.map((a) => diff.mul(a).add(atBaseline)), 0));
    const tiled = steps === 1 ? x : noGrad(() => cat(Array(steps).fill(x), 0));
    const expanded = expandTargets(targets, steps, false);
    const g = enableGrad(() => {
      const leaf = scaled.requiresGrad_();
      const out = withLayerHook(where, this.layer, toInput, (kept) => {
        const out = runForward(where, this.forwardFunc, tiled, expanded);
        keptValue(where, this.layer, kept);
        return out;
      }, leaf);
      const [g] = grad(out, leaf, targetSeed(out, expanded), { allowUnused: true });
      if (g === null) {
        throw new Error(
          `${where}: the model's output does not depend on the layer's ` +
            `${toInput ? "input" : "output"}`,
        );
      }
      return g;
    });
    return noGrad(() => {
      const sizes = fromHost(Float32Array.from(stepSizes), [steps, 1], { device: x.device });
      const summed = g.reshape([steps, -1]).mul(sizes).reshape([steps, n, ...diff.shape.slice(1)])
        .sum(0);
      return this.#multiply ? summed.mul(diff) : summed;
    });
  }
}
