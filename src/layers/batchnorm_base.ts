/**
 * What `BatchNorm1d` and `BatchNorm2d` share (PyTorch's `_BatchNorm`):
 * options, parameters, buffers with torch's names, the batch counter and the
 * forward; each subclass only says which input ranks it takes.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { batchNorm } from "../tensor/ops/norm.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { checkCall } from "../options.ts";
import { NormBase } from "./norm_base.ts";
import { isParametrized } from "./parametrize.ts";
import { flag, setting } from "./settable.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/** Options of `BatchNorm1d` and `BatchNorm2d`. */
export interface BatchNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics (default 0.1); null
   * gives the cumulative average over all batches, as PyTorch's None.
   */
  momentum?: number | null;
  /** Learn a scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over dimension 1: batch statistics (biased variance)
 * in training, which also update the running ones (unbiased variance);
 * running statistics in evaluation. The base of BatchNorm1d/2d/3d and
 * SyncBatchNorm, as torch's `nn.modules.batchnorm._BatchNorm`: test
 * `m instanceof nn.BatchNormBase` to find every batch norm (torchvision's
 * `isinstance(m, _BatchNorm)` in its weight-decay groups), since
 * SyncBatchNorm is not a BatchNorm2d.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const m = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU());
 * const norms = [...m.modules()].filter((x) => x instanceof nn.BatchNormBase);
 * console.log(norms.length); // 1
 * ```
 */
export abstract class BatchNormBase extends NormBase {
  /** Added to the variance; assignable (`bn.eps = 1e-3`), read at each forward. */
  declare eps: number;
  /**
   * Weight of each new batch in the running statistics; null: cumulative
   * average. Assignable (`bn.momentum = 0.01`), read at each forward.
   */
  declare momentum: number | null;
  #batches: number | null = 0;
  #track: boolean;

  /** `given` is the constructor's `arguments.length`, `usage` an example call for errors. */
  protected constructor(
    readonly numFeatures: number,
    options: BatchNormLayerOptions,
    given: number,
    usage: string,
  ) {
    super();
    const name = `nn.${this.constructor.name}`;
    const o = checkCall<BatchNormLayerOptions>(
      name,
      given,
      2,
      options,
      ["eps", "momentum", "affine", "trackRunningStats"],
      usage,
    );
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(
        `${name}: numFeatures must be a positive integer, got ${numFeatures}; write ${usage}`,
      );
    }
    const eps = (v: unknown) => {
      if (typeof v !== "number" || !(v > 0)) {
        throw new Error(`${name}: eps must be > 0, got ${showValue(v)}`);
      }
      return v;
    };
    const momentum = (v: unknown) => {
      if (v !== null && (typeof v !== "number" || !(v >= 0 && v <= 1))) {
        throw new Error(`${name}: momentum must be in [0, 1] or null, got ${showValue(v)}`);
      }
      return v as number | null;
    };
    setting(this, "eps", o.eps ?? 1e-5, eps);
    setting(this, "momentum", o.momentum === undefined ? 0.1 : o.momentum, momentum);
    this.#track = flag(name, "trackRunningStats")(o.trackRunningStats ?? true);
    this.initNorm(numFeatures, o.affine ?? true, this.#track);
  }

  /** Whether it learns a scale and shift (`weight` and `bias`): torch's `affine`. */
  get affine(): boolean {
    // A parametrized weight is there; reading it would compute it.
    return isParametrized(this, "weight") || this.weight !== null;
  }

  /**
   * Whether training updates the running statistics: torch's
   * `track_running_stats`. Assignable as torch's: `bn.trackRunningStats =
   * false` keeps the running statistics (and `num_batches_tracked`) as they
   * are while training normalises with each batch's own, and evaluation
   * still uses them (torch's, until they are dropped with
   * `bn.runningMean = null; bn.runningVar = null`). Setting it true on a
   * batch norm built without running statistics throws: there are none to
   * track.
   */
  get trackRunningStats(): boolean {
    return this.#track;
  }
  set trackRunningStats(v: boolean) {
    const name = `nn.${this.constructor.name}`;
    flag(name, "trackRunningStats")(v);
    if (v && (this.runningMean === null || this.runningVar === null)) {
      throw new Error(
        `${name}: has no running statistics to track (built with trackRunningStats: false, ` +
          `or they were set to null); build it with new ${name}(${this.numFeatures})`,
      );
    }
    this.#track = v;
  }

  /** Training batches seen (the `num_batches_tracked` buffer). */
  get numBatchesTracked(): number {
    const t = this.buffer("num_batches_tracked");
    if (!t) return 0;
    this.#batches ??= t.item();
    return this.#batches;
  }

  protected override afterLoad(): void {
    this.#batches = null;
  }

  /** Throws unless `x` has a rank this layer takes (the message names the shapes). */
  protected abstract checkRank(x: Tensor): void;

  /** Normalises `x` over dimension 1; same shape out. */
  forward(x: Tensor): Tensor {
    this.checkRank(x);
    const where = `${this.constructor.name}(${this.numFeatures})`;
    const weight = this.weight; // read once: a parametrized weight is computed at each read
    for (const t of [weight, this.bias, this.runningMean, this.runningVar]) {
      if (t && t.device !== x.device) {
        throw new Error(
          `${where}: input [${x.shape}] is on ${x.device}, the layer's parameters ` +
            `and buffers on ${t.device}; move one with .to()`,
        );
      }
    }
    let momentum = this.momentum ?? 0;
    // Not tracking (torch's track_running_stats=False): training neither counts nor updates.
    const track = this.#track;
    const counter = track ? this.buffer("num_batches_tracked") : null;
    if (this.training && counter) {
      const n = this.numBatchesTracked + 1;
      fillInPlace(counter, n, where); // counted (its version), as torch's += 1
      this.#batches = n;
      if (this.momentum === null) momentum = 1 / n; // cumulative moving average
    }
    // torch passes no running statistics to a training forward that does not track them.
    const use = !this.training || track;
    return batchNorm(
      x,
      use ? this.runningMean : null,
      use ? this.runningVar : null,
      weight,
      this.bias,
      {
        training: this.training || !this.runningMean,
        momentum,
        eps: this.eps,
      },
    );
  }
}
