/**
 * `InstanceNorm1d` and `InstanceNorm2d`, as `torch.nn`'s: each sample's
 * channel normalised by its own statistics. torch's defaults: no affine
 * parameters and no running statistics; with `trackRunningStats` the
 * buffers `running_mean`, `running_var` and `num_batches_tracked` (which
 * torch's instance norm never advances) are kept under torch's names, and
 * evaluation normalises with them.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { instanceNorm } from "../tensor/ops/instance_norm.ts";
import { checkCall } from "../options.ts";
import { NormBase } from "./norm_base.ts";
import { probability, setting } from "./settable.ts";

/** Options of `InstanceNorm1d` and `InstanceNorm2d`. */
export interface InstanceNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new statistics in the running ones (default 0.1). */
  momentum?: number;
  /** Learn a per-channel `weight` and `bias` (default false, as torch). */
  affine?: boolean;
  /** Keep running statistics and use them in evaluation (default false, as torch). */
  trackRunningStats?: boolean;
}

/**
 * What the instance norms share (each says which ranks it takes): the base
 * of InstanceNorm1d/2d/3d, as torch's `nn.modules.instancenorm._InstanceNorm`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * console.log(new nn.InstanceNorm3d(2) instanceof nn.InstanceNormBase); // true
 * ```
 */
export abstract class InstanceNormBase extends NormBase {
  /** Added to the variance; assignable (`norm.eps = 1e-3`), read at each forward. */
  declare eps: number;
  /** Weight of the new statistics in the running ones; assignable, read at each forward. */
  declare momentum: number;

  protected constructor(
    readonly numFeatures: number,
    options: InstanceNormLayerOptions,
    given: number,
    private readonly ranks: readonly number[],
  ) {
    super();
    const where = `nn.${new.target.name}`;
    const usage = `new ${where}(16, { affine: true })`;
    const o = checkCall<InstanceNormLayerOptions>(
      where,
      given,
      2,
      options,
      ["eps", "momentum", "affine", "trackRunningStats"],
      usage,
    );
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`${where}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    for (const key of ["affine", "trackRunningStats"] as const) {
      if (o[key] !== undefined && typeof o[key] !== "boolean") {
        throw new Error(`${where}: ${key} must be a boolean, got ${JSON.stringify(o[key])}`);
      }
    }
    if ((o.momentum as unknown) === null) {
      throw new Error(
        `${where}: momentum must be a number in [0, 1], got null (torch's InstanceNorm refuses ` +
          "None too); leave it out for 0.1",
      );
    }
    const eps = (v: unknown) => {
      if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
        throw new Error(`${where}: eps must be a finite number > 0, got ${String(v)}`);
      }
      return v;
    };
    setting(this, "eps", o.eps ?? 1e-5, eps);
    setting(this, "momentum", o.momentum ?? 0.1, probability(where, "momentum"));
    this.initNorm(numFeatures, o.affine ?? false, o.trackRunningStats ?? false);
  }

  /** Normalises each (sample, channel) of x; same shape out. */
  forward(x: Tensor): Tensor {
    const name = `${this.constructor.name}(${this.numFeatures})`;
    if (!this.ranks.includes(x.ndim)) {
      throw new Error(
        `${name}: expected a ${this.ranks.join("-D or ")}-D input, got [${x.shape}]`,
      );
    }
    const batched = x.ndim === this.ranks[this.ranks.length - 1];
    const input = batched ? x : x.unsqueeze(0); // torch takes one unbatched sample
    const { runningMean, runningVar } = this;
    if (input.shape[1] !== this.numFeatures && (this.weight || runningMean)) {
      throw new Error(
        `${name}: expected input with ${this.numFeatures} channels, got [${x.shape}]`,
      );
    }
    const y = instanceNorm(input, {
      runningMean,
      runningVar,
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || !runningMean,
      momentum: this.momentum,
      eps: this.eps,
    });
    return batched ? y : y.squeeze(0);
  }
}

/**
 * Instance normalisation of [N, C, L] (or one sample [C, L]), as
 * `torch.nn.InstanceNorm1d`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.InstanceNorm1d(4).forward(randn([2, 4, 10])).shape); // [2, 4, 10]
 * ```
 */
export class InstanceNorm1d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, [2, 3]);
  }
}

/**
 * Instance normalisation of [N, C, H, W] (or one sample [C, H, W]), as
 * `torch.nn.InstanceNorm2d`: by default without affine parameters or
 * running statistics, so training and evaluation compute the same.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const norm = new nn.InstanceNorm2d(3, { affine: true });
 * console.log(norm.forward(randn([2, 3, 8, 8])).shape, norm.weight!.shape); // [2, 3, 8, 8] [3]
 * ```
 */
export class InstanceNorm2d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, [3, 4]);
  }
}
