/**
 * Integrated Gradients (Sundararajan et al., "Axiomatic Attribution for
 * Deep Networks", ICML 2017), as Captum's `IntegratedGradients`: the
 * integral of the target's gradient along the straight path from a
 * baseline x' to the input x, times (x - x'):
 *
 *   IG(x) = (x - x') * sum_k w_k dF(x' + a_k (x - x')) / dx
 *
 * with the points a_k and weights w_k of the approximation method
 * (approximation.ts). As Captum, the n steps of the whole batch go through
 * the model as one batch of n * N (alpha major), or `internalBatchSize`
 * examples at a time (whole steps: max(1, floor(internalBatchSize / N))
 * steps per pass, the attributions of the passes added).
 *
 * The convergence delta is Captum's: per example, sum(attributions) -
 * (F(x)[target] - F(x')[target]); near 0 when the steps suffice
 * (completeness).
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { cat } from "../../tensor/ops/join.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { warnOnce } from "../metrics/pairs.ts";
import {
  approximationParameters,
  INTEGRATION_METHODS,
  type IntegrationMethod,
} from "./approximation.ts";
import { type Baseline, checkBaseline, fullBaseline } from "./baselines.ts";
import {
  Attribution,
  boolOption,
  checkInput,
  checkTarget,
  expandTargets,
  type ForwardFunc,
  inputGradients,
  noAdditionalArgs,
  positiveInt,
  runAttribution,
  runForward,
  type Target,
  type Targets,
  targetScores,
} from "./common.ts";

const WHERE = "IntegratedGradients";
const USAGE =
  'ig.attribute(input, { target: 1, baselines: 0, nSteps: 50, method: "gausslegendre" })';

/** Options of `IntegratedGradients.attribute`: Captum's keywords, camelCased. */
export interface IntegratedGradientsOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** The path's start: a number (default 0) or a tensor that broadcasts to the input. */
  baselines?: number | Tensor;
  /** Steps of the approximation (default 50; at least 2 for the Riemann rules). */
  nSteps?: number;
  /** The approximation (default "gausslegendre"). */
  method?: IntegrationMethod;
  /** Examples per forward pass, whole steps at a time (default all n * N in one). */
  internalBatchSize?: number;
  /** Also return the convergence delta, one per example: `[attributions, delta]`. */
  returnConvergenceDelta?: boolean;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/** Options of the `IntegratedGradients` constructor. */
export interface IntegratedGradientsInit {
  /**
   * Multiply by (x - baseline) (default true, Captum's `multiply_by_inputs`);
   * false gives the path-integrated gradients alone.
   */
  multiplyByInputs?: boolean;
}

const KEYS: (keyof IntegratedGradientsOptions)[] = [
  "target",
  "baselines",
  "nSteps",
  "method",
  "internalBatchSize",
  "returnConvergenceDelta",
  "additionalForwardArgs",
];

/** The integration options IntegratedGradients and its layer form share, checked. */
export interface IntegrationOptions {
  method?: IntegrationMethod;
  nSteps?: number;
  internalBatchSize?: number;
  returnConvergenceDelta?: boolean;
}

/**
 * @internal Captum's integration settings from `o`: the method (Gauss-Legendre by
 * default), its steps, sizes and alphas, the internal batch (warned about
 * where it is below the `n` examples) and whether a delta is returned.
 */
export function integrationSettings(where: string, o: IntegrationOptions, n: number) {
  const method = o.method ?? "gausslegendre";
  if (!INTEGRATION_METHODS.includes(method)) {
    throw new Error(
      `${where}: method must be one of ${INTEGRATION_METHODS.map((m) => `"${m}"`).join(", ")}, ` +
        `got ${showValue(method)}`,
    );
  }
  const nSteps = positiveInt(where, "nSteps", o.nSteps, 50);
  if (nSteps < 2 && method !== "gausslegendre") {
    throw new Error(
      `${where}: method "${method}" needs nSteps >= 2 (as Captum's Riemann rules), got ` +
        `${nSteps}; use more steps or method: "gausslegendre"`,
    );
  }
  const batch = o.internalBatchSize === undefined
    ? undefined
    : positiveInt(where, "internalBatchSize", o.internalBatchSize, 1);
  const withDelta = boolOption(where, "returnConvergenceDelta", o.returnConvergenceDelta, false);
  if (batch !== undefined && batch < n) {
    warnOnce(
      `${where}: internalBatchSize ${batch} is less than the ${n} examples; each pass takes ` +
        `whole steps, so it runs ${n} examples at a time (as Captum)`,
    );
  }
  return { method, nSteps, batch, withDelta, ...approximationParameters(method, nSteps) };
}

/**
 * Captum's `IntegratedGradients(forward_func, multiply_by_inputs=True)`:
 * `attribute(input, { target, baselines, nSteps, method, internalBatchSize,
 * returnConvergenceDelta })` gives attributions of the input's shape (and,
 * with `returnConvergenceDelta`, `[attributions, delta]`, delta [N]).
 *
 * The model must be in evaluation mode (`model.eval()`); gradients are
 * recorded even under `noGrad`, the model's parameters' `.grad` stay as they
 * were, and the result is yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const ig = new evaluation.IntegratedGradients(net);
 * const x = randn([2, 1, 16, 16]);
 * const [attr, delta] = ig.attribute(x, { target: [2, 0], nSteps: 32, returnConvergenceDelta: true });
 * console.log(attr.shape, delta.shape); // [2, 1, 16, 16] [2]
 * ```
 */
export class IntegratedGradients extends Attribution<IntegratedGradientsOptions> {
  readonly #multiply: boolean;

  /** `multiplyByInputs` may be given as Captum's second positional argument or in an object. */
  constructor(forwardFunc: ForwardFunc, multiplyByInputs: boolean | IntegratedGradientsInit = {}) {
    checkArity(WHERE, arguments.length, 2, "new evaluation.IntegratedGradients(model)");
    super(WHERE, forwardFunc);
    const init = typeof multiplyByInputs === "boolean"
      ? { multiplyByInputs }
      : checkOptions<IntegratedGradientsInit>(
        WHERE,
        multiplyByInputs,
        ["multiplyByInputs"],
        "new evaluation.IntegratedGradients(model, { multiplyByInputs: false })",
      );
    this.#multiply = boolOption(WHERE, "multiplyByInputs", init.multiplyByInputs, true);
  }

  /** Whether the attributions are multiplied by (x - baseline) (Captum's `multiplies_by_inputs`). */
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
    options: IntegratedGradientsOptions & { returnConvergenceDelta: true },
  ): [Tensor, Tensor];
  /** Attributions of the input's shape. */
  attribute(input: Tensor, options?: IntegratedGradientsOptions): Tensor;
  attribute(input: Tensor, options?: IntegratedGradientsOptions): Tensor | [Tensor, Tensor] {
    checkArity(`${WHERE}.attribute`, arguments.length, 2, USAGE);
    const where = `${WHERE}.attribute`;
    const o = checkOptions<IntegratedGradientsOptions>(where, options, KEYS, USAGE);
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    const targets = checkTarget(where, o.target, n);
    const baseline = checkBaseline(where, o.baselines, x);
    const { nSteps, batch, withDelta, stepSizes, alphas } = integrationSettings(where, o, n);
    const forward = this.forwardFunc;
    return runAttribution(where, forward, () => {
      const diff = noGrad(() => x.sub(baseline));
      const per = batch === undefined ? nSteps : Math.max(1, Math.floor(batch / n));
      let total: Tensor | null = null;
      for (let start = 0; start < nSteps; start += per) {
        const end = Math.min(start + per, nSteps);
        const part = this.#chunk(
          x,
          baseline,
          diff,
          targets,
          stepSizes.slice(start, end),
          alphas.slice(start, end),
        );
        total = total === null ? part : noGrad(() => total!.add(part));
      }
      const attr = total!;
      if (!withDelta) return attr;
      return [attr, convergenceDelta(where, forward, attr, baseline, x, targets)] as [
        Tensor,
        Tensor,
      ];
    });
  }

  /** The attributions of some of the steps. */
  #chunk(
    x: Tensor,
    baseline: Baseline,
    diff: Tensor,
    targets: Targets,
    stepSizes: number[],
    alphas: number[],
  ): Tensor {
    const where = `${WHERE}.attribute`;
    const steps = alphas.length;
    const n = x.shape[0];
    const scaled = noGrad(() => cat(alphas.map((a) => diff.mul(a).add(baseline)), 0));
    const g = inputGradients(where, this.forwardFunc, scaled, expandTargets(targets, steps, false));
    return noGrad(() => {
      const sizes = fromHost(Float32Array.from(stepSizes), [steps, 1], { device: x.device });
      const summed = g.reshape([steps, -1]).mul(sizes).reshape([steps, n, ...x.shape.slice(1)])
        .sum(0);
      return this.#multiply ? summed.mul(diff) : summed;
    });
  }
}

/**
 * Captum's `compute_convergence_delta`: per example, the attributions' sum
 * minus (F(end)[target] - F(start)[target]), a tensor [N].
 */
export function convergenceDelta(
  where: string,
  forward: ForwardFunc,
  attributions: Tensor,
  start: Baseline,
  end: Tensor,
  targets: Targets,
): Tensor {
  return noGrad(() => {
    const n = end.shape[0];
    const s = targetScores(runForward(where, forward, fullBaseline(start, end), targets), targets);
    const e = targetScores(runForward(where, forward, end, targets), targets);
    const sums = attributions.reshape([n, -1]).sum(1).toArray() as Float32Array;
    const delta = new Float32Array(n);
    // float32 arithmetic, as torch's.
    for (let i = 0; i < n; i++) delta[i] = sums[i] - Math.fround(e[i] - s[i]);
    return fromHost(delta, [n], { device: end.device });
  });
}
