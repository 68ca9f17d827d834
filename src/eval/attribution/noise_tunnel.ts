/**
 * NoiseTunnel, as Captum's: SmoothGrad (Smilkov et al., 2017) and its
 * variants around any attribution method. Each example gets `ntSamples`
 * copies with Gaussian noise N(0, stdevs^2) added, the method explains
 * every copy, and the copies' attributions a_1..a_m are combined:
 *
 * - "smoothgrad" (default): their mean, (1/m) sum a_k;
 * - "smoothgrad_sq": the mean of their squares, (1/m) sum a_k^2;
 * - "vargrad": their variance, (1/m) sum a_k^2 - ((1/m) sum a_k)^2.
 *
 * The noisy copies of an example sit next to each other in the batch the
 * method sees (torch's `repeat_interleave`), `ntSamplesBatchSize` copies per
 * example at a time; a per-example `target` or baseline is repeated with
 * them. The noise comes from this library's generator (`manualSeed`), so
 * the draws, not their statistics, differ from torch's.
 *
 * @module
 */
import type { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { cat } from "../../tensor/ops/join.ts";
import { randn } from "../../tensor/ops/random.ts";
import { checkArity } from "../../options.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { interleaveBaseline } from "./baselines.ts";
import {
  Attribution,
  boolOption,
  checkInput,
  checkTarget,
  expandTargets,
  positiveInt,
  runAttribution,
} from "./common.ts";

const USAGE =
  'nt.attribute(input, { ntType: "smoothgrad", ntSamples: 10, stdevs: 0.2, target: 1 })';

/** How the noisy copies' attributions are combined (Captum's `nt_type`). */
export type NoiseTunnelType = "smoothgrad" | "smoothgrad_sq" | "vargrad";

const TYPES: readonly NoiseTunnelType[] = ["smoothgrad", "smoothgrad_sq", "vargrad"];

/** NoiseTunnel's own options (Captum's keywords, camelCased); the rest go to the method. */
export interface NoiseTunnelOwnOptions {
  /** The combination (default "smoothgrad"). */
  ntType?: NoiseTunnelType;
  /** Noisy copies per example (default 5). */
  ntSamples?: number;
  /** Copies per example given to the method at a time (default all). */
  ntSamplesBatchSize?: number;
  /** The noise's standard deviation, in the input's units (default 1). */
  stdevs?: number;
  /** Captum's baselines drawn at random: not supported; only false. */
  drawBaselineFromDistrib?: boolean;
}

/** Options of `NoiseTunnel.attribute`: its own and the wrapped method's. */
export type NoiseTunnelOptions<O extends object> = NoiseTunnelOwnOptions & O;

const OWN: (keyof NoiseTunnelOwnOptions)[] = [
  "ntType",
  "ntSamples",
  "ntSamplesBatchSize",
  "stdevs",
  "drawBaselineFromDistrib",
];

/**
 * Captum's `NoiseTunnel(attribution_method)`: `attribute(input, { ntType,
 * ntSamples, stdevs, ...the method's options })` gives the combined
 * attributions, of the input's shape. With the method's
 * `returnConvergenceDelta` (IntegratedGradients) it gives `[attributions,
 * delta]`, delta holding one value per noisy copy ([N * ntSamples]), as
 * Captum's.
 *
 * @example
 * ```ts
 * import { evaluation, manualSeed, models, randn } from "@lits/vision";
 * manualSeed(0);
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const nt = new evaluation.NoiseTunnel(new evaluation.Saliency(net));
 * const attr = nt.attribute(randn([2, 1, 16, 16]), {
 *   ntType: "smoothgrad",
 *   ntSamples: 4,
 *   stdevs: 0.2,
 *   target: 1,
 * });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class NoiseTunnel<O extends object> extends Attribution<NoiseTunnelOptions<O>> {
  /** The method applied to each noisy copy (Captum's `attribution_method`). */
  readonly attributionMethod: Attribution<O>;

  /** `attributionMethod`: Saliency, InputXGradient, IntegratedGradients or Occlusion. */
  constructor(attributionMethod: Attribution<O>) {
    checkArity("NoiseTunnel", arguments.length, 1, "new evaluation.NoiseTunnel(method)");
    if (!(attributionMethod instanceof Attribution)) {
      throw new Error(
        `NoiseTunnel: expected an attribution method, got ${showValue(attributionMethod)}; ` +
          "write new evaluation.NoiseTunnel(new evaluation.Saliency(model))",
      );
    }
    super("NoiseTunnel", attributionMethod.forwardFunc);
    this.attributionMethod = attributionMethod;
  }

  /** Whether the wrapped method gives a convergence delta. */
  override hasConvergenceDelta(): boolean {
    return this.attributionMethod.hasConvergenceDelta();
  }

  /** The combined attributions with the method's delta for every noisy copy. */
  attribute(
    input: Tensor,
    options: NoiseTunnelOptions<O> & { returnConvergenceDelta: true },
  ): [Tensor, Tensor];
  /** The combined attributions of `input` [N, ...]. */
  attribute(input: Tensor, options?: NoiseTunnelOptions<O>): Tensor;
  attribute(input: Tensor, options?: NoiseTunnelOptions<O>): Tensor | [Tensor, Tensor] {
    const where = "NoiseTunnel.attribute";
    checkArity(where, arguments.length, 2, USAGE);
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new Error(
        `${where}: expected an options object, got ${showValue(options)}; ` +
          `write ${USAGE}`,
      );
    }
    const all = (options ?? {}) as Record<string, unknown>;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(all)) {
      if (!(OWN as string[]).includes(k)) rest[k] = v;
    }
    const ntType = (all.ntType ?? "smoothgrad") as NoiseTunnelType;
    if (!TYPES.includes(ntType)) {
      throw new Error(
        `${where}: ntType must be "smoothgrad", "smoothgrad_sq" or "vargrad", got ` +
          showValue(all.ntType),
      );
    }
    const samples = positiveInt(where, "ntSamples", all.ntSamples, 5);
    const perBatch = Math.min(
      samples,
      positiveInt(where, "ntSamplesBatchSize", all.ntSamplesBatchSize, samples),
    );
    const stdev = all.stdevs ?? 1;
    if (typeof stdev !== "number" || !Number.isFinite(stdev) || stdev < 0) {
      const many = Array.isArray(stdev) ? " (one per input of Captum's tuple: one input here)" : "";
      throw new Error(`${where}: stdevs must be a number >= 0, got ${showValue(stdev)}${many}`);
    }
    if (boolOption(where, "drawBaselineFromDistrib", all.drawBaselineFromDistrib, false)) {
      throw new Error(
        `${where}: drawBaselineFromDistrib is not supported (it is for GradientShap-style ` +
          "baseline distributions); leave it out",
      );
    }
    const withDelta = rest.returnConvergenceDelta === true;
    if (withDelta && !this.attributionMethod.hasConvergenceDelta()) {
      throw new Error(
        `${where}: ${this.attributionMethod.constructor.name} has no convergence delta; ` +
          "leave returnConvergenceDelta out",
      );
    }
    const x = checkInput(where, input, USAGE);
    const n = x.shape[0];
    // Checked here too, so that a bad target names the input's batch, not the noisy one.
    const targets = checkTarget(where, rest.target, n);
    const method = this.attributionMethod;
    return runAttribution(where, this.forwardFunc, () => {
      let sum: Tensor | null = null, sumSq: Tensor | null = null;
      const deltas: Tensor[] = [];
      const run = (b: number) => {
        const noisy = noGrad(() =>
          x.repeatInterleave(b, 0).add(
            randn([n * b, ...x.shape.slice(1)], { device: x.device }).mul(stdev),
          )
        );
        const opts = {
          ...rest,
          ...(targets === null || typeof targets === "number"
            ? {}
            : { target: Array.from(expandTargets(targets, b, true) as Int32Array) }),
          ...("baselines" in rest ? { baselines: interleaveBaseline(rest.baselines, n, b) } : {}),
        } as O;
        const out = method.attribute(noisy, opts);
        const attr = Array.isArray(out) ? out[0] : out;
        if (Array.isArray(out)) deltas.push(out[1]);
        [sum, sumSq] = noGrad(() => {
          // The attributions' own shape: a layer method's is the layer's, not the input's.
          const a = attr.reshape([n, b, ...attr.shape.slice(1)]);
          const s = a.sum(1), sq = a.square().sum(1);
          return [sum === null ? s : sum.add(s), sumSq === null ? sq : sumSq.add(sq)];
        });
      };
      const partitions = Math.floor(samples / perBatch);
      for (let p = 0; p < partitions; p++) run(perBatch);
      if (samples - partitions * perBatch > 0) run(samples - partitions * perBatch);
      const result = noGrad(() => {
        const mean = sum!.div(samples), meanSq = sumSq!.div(samples);
        return ntType === "smoothgrad"
          ? mean
          : ntType === "smoothgrad_sq"
          ? meanSq
          : meanSq.sub(mean.mul(mean));
      });
      if (!withDelta) return result;
      return [result, noGrad(() => cat(deltas, 0))] as [Tensor, Tensor];
    });
  }
}
