/**
 * Captum's `LayerConductance` (Dhamdhere et al., "How Important Is a
 * Neuron?", 2018): the conductance of each neuron of a layer's output (or
 * input), the part of Integrated Gradients that flows through it. Along
 * the path x_k = x' + alpha_k (x - x') of n + 1 points (the alphas of the
 * approximation method for nSteps + 1 points; its step sizes are not
 * used), with L the layer's value and F the target's score:
 *
 *   LC(x) = sum_{k < n} (L(x_{k+1}) - L(x_k)) * dF/dL (x_k)
 *
 * All points of the batch go through the model as one batch (alpha
 * major), or `internalBatchSize` examples at a time: whole points,
 * max(2, floor(internalBatchSize / N)) per pass, consecutive passes
 * sharing their end point, as Captum's. The convergence delta is
 * Captum's, per example: sum(attributions) - (F(x)[t] - F(x')[t]).
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { cat } from "../../tensor/ops/join.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { warnOnce } from "../metrics/pairs.ts";
import {
  approximationParameters,
  INTEGRATION_METHODS,
  type IntegrationMethod,
} from "./approximation.ts";
import { type Baseline, checkBaseline } from "./baselines.ts";
import {
  boolOption,
  checkInput,
  checkTarget,
  expandTargets,
  noAdditionalArgs,
  positiveInt,
  runAttribution,
  type Target,
  type Targets,
} from "./common.ts";
import type { ForwardFunc } from "./common.ts";
import { convergenceDelta } from "./integrated_gradients.ts";
import {
  checkLayerInit,
  LayerAttribution,
  layerGradientsAndEval,
  type LayerInit,
  type LayerRef,
} from "./layer.ts";
import { refusePositionalTarget } from "./attribute_args.ts";

const WHERE = "LayerConductance";
const USAGE =
  'lc.attribute(input, { target: 1, baselines: 0, nSteps: 50, method: "gausslegendre" })';

/** Options of `LayerConductance.attribute`: Captum's keywords, camelCased. */
export interface LayerConductanceOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** The path's start: a number (default 0) or a tensor that broadcasts to the input. */
  baselines?: number | Tensor;
  /** Steps of the path (default 50): the layer is evaluated at nSteps + 1 points. */
  nSteps?: number;
  /** Where the points lie (default "gausslegendre"): the method's alphas for nSteps + 1. */
  method?: IntegrationMethod;
  /** Examples per forward pass: whole points, at least 2 per pass (default all in one). */
  internalBatchSize?: number;
  /** Also return the convergence delta, one per example: `[attributions, delta]`. */
  returnConvergenceDelta?: boolean;
  /** Attribute to the layer's input instead of its output (default false). */
  attributeToLayerInput?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

const KEYS: (keyof LayerConductanceOptions)[] = [
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
 * Captum's `LayerConductance(forward_func, layer)`: `attribute(input, {
 * target, baselines, nSteps, method, internalBatchSize,
 * returnConvergenceDelta, attributeToLayerInput })` gives the conductance
 * of each neuron of the layer's output (or input), of its shape (and, with
 * `returnConvergenceDelta`, `[attributions, delta]`, delta [N]).
 *
 * `layer` is a module of the model or its dotted name. The model must be
 * in evaluation mode; gradients are recorded even under `noGrad`, the
 * parameters' `.grad` stay as they were, the hook is removed after (also
 * when the call throws), and the result is yours (or the enclosing
 * scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const lc = new evaluation.LayerConductance(net, "features.4");
 * const [attr, delta] = lc.attribute(randn([2, 1, 16, 16]), {
 *   target: [2, 0],
 *   nSteps: 16,
 *   returnConvergenceDelta: true,
 * });
 * console.log(attr.shape[0], delta.shape); // 2 [2]
 * ```
 */
export class LayerConductance extends LayerAttribution<LayerConductanceOptions> {
  /** `forwardFunc`: the model, or a function of the input batch; `layer`: the layer explained. */
  constructor(forwardFunc: ForwardFunc, layer: LayerRef, init?: LayerInit) {
    checkArity(WHERE, arguments.length, 3, "new evaluation.LayerConductance(model, model.layer4)");
    super(WHERE, forwardFunc, layer);
    checkLayerInit<LayerInit>(WHERE, init, [], "new evaluation.LayerConductance(model, layer)");
  }

  /** True: conductance multiplies by the layer's differences (Captum's `multiplies_by_inputs`). */
  get multipliesByInputs(): boolean {
    return true;
  }

  /** True: `returnConvergenceDelta` is available. */
  override hasConvergenceDelta(): boolean {
    return true;
  }

  /** Attributions with their convergence delta [N]. */
  attribute(
    input: Tensor,
    options: LayerConductanceOptions & { returnConvergenceDelta: true },
  ): [Tensor, Tensor];
  /** Attributions of the layer's output's (or input's) shape. */
  attribute(input: Tensor, options?: LayerConductanceOptions): Tensor;
  attribute(input: Tensor, options?: LayerConductanceOptions): Tensor | [Tensor, Tensor] {
    const where = `${WHERE}.attribute`;
    checkArity(where, arguments.length, 2, USAGE);
    refusePositionalTarget(where, options, "lc.attribute");
    const o = checkOptions<LayerConductanceOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    const targets = checkTarget(where, o.target, n);
    const baseline = checkBaseline(where, o.baselines, x);
    const method = o.method ?? "gausslegendre";
    if (!INTEGRATION_METHODS.includes(method)) {
      throw new Error(
        `${where}: method must be one of ${
          INTEGRATION_METHODS.map((m) => `"${m}"`).join(", ")
        }, got ${showValue(method)}`,
      );
    }
    const nSteps = positiveInt(where, "nSteps", o.nSteps, 50);
    const withDelta = boolOption(where, "returnConvergenceDelta", o.returnConvergenceDelta, false);
    const toInput = boolOption(where, "attributeToLayerInput", o.attributeToLayerInput, false);
    const points = nSteps + 1;
    let per = points;
    if (o.internalBatchSize !== undefined) {
      const batch = positiveInt(where, "internalBatchSize", o.internalBatchSize, 1);
      per = Math.max(1, Math.floor(batch / n));
      if (per < 2) {
        per = 2;
        warnOnce(
          `${where}: internalBatchSize ${batch} is less than twice the ${n} examples; ` +
            "conductance takes differences of consecutive points, so it runs " +
            `${2 * n} examples at a time (as Captum)`,
        );
      }
    }
    const { alphas } = approximationParameters(method, points);
    const forward = this.forwardFunc;
    return runAttribution(where, forward, () => {
      const diff = noGrad(() => x.sub(baseline));
      let total: Tensor | null = null;
      for (let start = 0; start < points;) {
        const end = Math.min(start + per, points);
        const part = this.#chunk(x, baseline, diff, targets, toInput, alphas.slice(start, end));
        total = total === null ? part : noGrad(() => total!.add(part));
        // Consecutive passes share a point: each difference is taken once.
        start = end < points ? end - 1 : end;
      }
      const attr = total!;
      if (!withDelta) return attr;
      return [attr, convergenceDelta(where, forward, attr, baseline, x, targets)] as [
        Tensor,
        Tensor,
      ];
    });
  }

  /** The conductance of the differences between consecutive points among `alphas`. */
  #chunk(
    x: Tensor,
    baseline: Baseline,
    diff: Tensor,
    targets: Targets,
    toInput: boolean,
    alphas: number[],
  ): Tensor {
    const where = `${WHERE}.attribute`;
    const k = alphas.length;
    const n = x.shape[0];
    const scaled = noGrad(() => cat(alphas.map((a) => diff.mul(a).add(baseline)), 0));
    const { grads, evals } = layerGradientsAndEval(
      where,
      this.forwardFunc,
      this.layer,
      scaled,
      expandTargets(targets, k, false),
      toInput,
    );
    return noGrad(() => {
      const steps = evals.narrow(0, n, (k - 1) * n).sub(evals.narrow(0, 0, (k - 1) * n));
      const product = steps.mul(grads.narrow(0, 0, (k - 1) * n));
      return product.reshape([k - 1, n, ...evals.shape.slice(1)]).sum(0);
    });
  }
}
