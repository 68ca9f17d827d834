/**
 * `BatchNorm2d`, as `torch.nn.BatchNorm2d` (eps 1e-5, momentum 0.1,
 * biased variance to normalise, unbiased for `running_var`,
 * `num_batches_tracked`).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import { Tensor } from "../tensor/tensor.ts";
import { batchNorm } from "../tensor/ops/norm.ts";
import { Module, Parameter } from "./module.ts";
import { constant_ } from "./init.ts";
import { checkArity, checkOptions } from "../options.ts";

const USAGE = "new nn.BatchNorm2d(16, { eps: 1e-5, momentum: 0.1 })";

/** Options of `BatchNorm2d`. */
export interface BatchNormLayerOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of each new batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Learn a scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  trackRunningStats?: boolean;
}

function filled(shape: number[], value: number, dtype: "float32" | "int32" = "float32"): Tensor {
  const t = Tensor.empty(shape, dtype, "cpu", false);
  constant_(t, value);
  return t;
}

/**
 * Batch normalisation over the channels of [N, C, H, W].
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const bn = new nn.BatchNorm2d(3);
 * const y = bn.forward(randn([4, 3, 5, 5]));
 * console.log([...bn.stateDict().keys()]);
 * // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 * ```
 */
export class BatchNorm2d extends Module {
  /** Scale [C], or null without affine. */
  weight: Parameter | null = null;
  /** Shift [C], or null without affine. */
  bias: Parameter | null = null;
  readonly eps: number;
  readonly momentum: number;
  #batches: number | null = 0;

  constructor(readonly numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    checkArity("nn.BatchNorm2d", arguments.length, 2, USAGE);
    const o = checkOptions<BatchNormLayerOptions>(
      "nn.BatchNorm2d",
      options,
      ["eps", "momentum", "affine", "trackRunningStats"],
      USAGE,
    );
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`BatchNorm2d: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    if (o.affine ?? true) {
      this.weight = new Parameter(filled([numFeatures], 1));
      this.bias = new Parameter(filled([numFeatures], 0));
    }
    if (o.trackRunningStats ?? true) {
      this.registerBuffer("running_mean", filled([numFeatures], 0));
      this.registerBuffer("running_var", filled([numFeatures], 1));
      this.registerBuffer("num_batches_tracked", filled([], 0, "int32"));
    }
  }

  /** Running mean [C] (a buffer), or null. */
  get runningMean(): Tensor | null {
    return this.buffer("running_mean");
  }

  /** Running variance [C] (a buffer), or null. */
  get runningVar(): Tensor | null {
    return this.buffer("running_var");
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

  /** x [N, C, H, W] -> same shape. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(
        `BatchNorm2d(${this.numFeatures}): expected input [N, ${this.numFeatures}, H, W], got [${x.shape}]`,
      );
    }
    for (const t of [this.weight, this.bias, this.runningMean, this.runningVar]) {
      if (t && t.device !== x.device) {
        throw new Error(
          `BatchNorm2d(${this.numFeatures}): input [${x.shape}] is on ${x.device}, the layer's ` +
            `parameters and buffers on ${t.device}; move one with .to()`,
        );
      }
    }
    const useBatchStats = this.training || !this.runningMean;
    const counter = this.buffer("num_batches_tracked");
    if (this.training && counter) {
      const n = this.numBatchesTracked + 1;
      check(
        counter.lib,
        counter.lib.lits_fill_i32(counter.ptr, 1, n),
        () => "BatchNorm2d num_batches_tracked",
      );
      this.#batches = n;
    }
    return batchNorm(
      x,
      this.runningMean,
      this.runningVar,
      this.weight,
      this.bias,
      { training: useBatchStats, momentum: this.momentum, eps: this.eps },
    );
  }
}
