/**
 * Instance normalisation (F.instance_norm): each sample's channel
 * normalised by its own spatial mean and biased variance. As torch does,
 * it is batch norm over a [1, N * C, ...] view: the batch-norm kernels
 * compute it and its gradient, and the running statistics, when given, are
 * updated per (sample, channel) and then averaged over the samples.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { batchNorm } from "./norm.ts";
import { detach, reshape } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { mean } from "./reduce.ts";
import { expectTensor } from "./compare.ts";
import { checkOptions } from "../../options.ts";
import { inPlace } from "./in_place_ops.ts";

/** Options of {@link instanceNorm}, torch's keyword arguments. */
export interface InstanceNormOptions {
  /** Running mean [C], updated in place when `useInputStats` (torch's `running_mean`). */
  runningMean?: Tensor | null;
  /** Running variance [C] (unbiased), updated with the mean. */
  runningVar?: Tensor | null;
  /** Per-channel scale [C]. */
  weight?: Tensor | null;
  /** Per-channel shift [C]. */
  bias?: Tensor | null;
  /** Normalise with each instance's statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  /** Weight of the new statistics in the running ones (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

const KNOWN = [
  "runningMean",
  "runningVar",
  "weight",
  "bias",
  "useInputStats",
  "momentum",
  "eps",
] as const;
const USAGE = "F.instanceNorm(x, { weight, bias, eps: 1e-5 })";

/**
 * Instance normalisation of x [N, C, ...spatial], as `F.instance_norm`:
 * every (sample, channel) plane normalised by its own mean and biased
 * variance, then scaled by `weight` [C] and shifted by `bias` [C] when
 * given. With running statistics they are updated in place (each the
 * average over the samples of the planes' statistics, the variance
 * unbiased); `useInputStats: false` normalises with them instead.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const y = F.instanceNorm(tensor([[[1, 3], [5, 5]]]));
 * console.log(Array.from(y.toArray(), (v) => v.toFixed(3))); // [ "-1.000", "1.000", "0.000", "0.000" ]
 * ```
 */
export function instanceNorm(x: Tensor, options: InstanceNormOptions = {}): Tensor {
  if (arguments.length > 2) {
    throw new Error(
      `instanceNorm: takes (x, options), got ${arguments.length} arguments; write ${USAGE}`,
    );
  }
  expectTensor(x, "instanceNorm", USAGE);
  requireFloat(x, "instanceNorm");
  const o = checkOptions<InstanceNormOptions>("instanceNorm", options, KNOWN, USAGE);
  if (x.ndim < 3) {
    throw new Error(`instanceNorm: expected an input [N, C, ...spatial], got [${x.shape}]`);
  }
  const useInput = o.useInputStats ?? true;
  if (typeof useInput !== "boolean") {
    throw new Error(`instanceNorm: useInputStats must be a boolean, got ${String(useInput)}`);
  }
  const momentum = o.momentum ?? 0.1;
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`instanceNorm: momentum must be a number in [0, 1], got ${String(momentum)}`);
  }
  const eps = o.eps ?? 1e-5;
  if (typeof eps !== "number" || !(eps > 0) || !Number.isFinite(eps)) {
    throw new Error(`instanceNorm: eps must be a finite number > 0, got ${String(eps)}`);
  }
  const [n, c] = x.shape;
  const rm = o.runningMean ?? null, rv = o.runningVar ?? null;
  if ((rm === null) !== (rv === null)) {
    throw new Error("instanceNorm: give both runningMean and runningVar, or neither");
  }
  for (
    const [t, name] of [[rm, "runningMean"], [rv, "runningVar"], [o.weight, "weight"], [
      o.bias,
      "bias",
    ]] as const
  ) {
    if (!t) continue;
    expectTensor(t, `instanceNorm: ${name}`, USAGE);
    requireFloat(t, `instanceNorm ${name}`);
    sameDevice(x, t, `instanceNorm ${name}`);
    if (t.shape.join() !== String(c)) {
      throw new Error(`instanceNorm: ${name} [${t.shape}] must have shape [${c}] (x's channels)`);
    }
  }
  const weight = o.weight ?? null, bias = o.bias ?? null;
  if (!useInput) {
    if (rm === null || rv === null) {
      throw new Error("instanceNorm: useInputStats: false needs runningMean and runningVar");
    }
    return batchNorm(x, rm, rv, weight, bias, { training: false, eps });
  }
  const spatial = numel(x.shape.slice(2));
  if (spatial <= 1) {
    throw new Error(
      `instanceNorm: expected more than 1 spatial element when training, got input [${x.shape}]`,
    );
  }
  const planes = reshape(x, [1, n * c, spatial, 1]);
  const repeated = (t: Tensor | null) => (t === null ? null : t.repeat(n));
  const temps = rm && rv ? [detach(rm).repeat(n), detach(rv).repeat(n)] : [null, null];
  const y = batchNorm(planes, temps[0], temps[1], repeated(weight), repeated(bias), {
    training: true,
    momentum,
    eps,
  });
  if (rm && rv) {
    const [tm, tv] = temps as [Tensor, Tensor];
    noGrad(() => {
      inPlace(rm, "copy_", [], () => mean(reshape(tm, [n, c]), 0));
      inPlace(rv, "copy_", [], () => mean(reshape(tv, [n, c]), 0));
    });
  }
  return reshape(y, [...x.shape]);
}
