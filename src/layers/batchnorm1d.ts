/**
 * `BatchNorm1d`, as `torch.nn.BatchNorm1d`: batch normalisation of features
 * [N, C] or sequences [N, C, L], with BatchNorm2d's state-dict names.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import { Tensor } from "../tensor/tensor.ts";
import { batchNorm } from "../tensor/ops/norm.ts";
import { checkArity, checkOptions } from "../options.ts";
import { Module, Parameter } from "./module.ts";
import { constant_ } from "./init.ts";

/** Options of `BatchNorm1d`. */
export interface BatchNorm1dOptions {
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

const USAGE = "new nn.BatchNorm1d(64, { eps: 1e-5, momentum: 0.1 })";

function filled(shape: number[], value: number, dtype: "float32" | "int32" = "float32"): Tensor {
  const t = Tensor.empty(shape, dtype, "cpu", false);
  constant_(t, value);
  return t;
}

/**
 * Batch normalisation over the channels of [N, C] or [N, C, L]: batch
 * statistics (biased variance) in training, which also update the running
 * ones (unbiased variance); running statistics in evaluation.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const bn = new nn.BatchNorm1d(3);
 * console.log(bn.forward(randn([8, 3])).shape); // [8, 3]
 * console.log([...bn.stateDict().keys()]);
 * // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 * ```
 */
export class BatchNorm1d extends Module {
  /** Scale [C], or null without affine. */
  weight: Parameter | null = null;
  /** Shift [C], or null without affine. */
  bias: Parameter | null = null;
  readonly eps: number;
  readonly momentum: number | null;
  #batches: number | null = 0;

  constructor(readonly numFeatures: number, options: BatchNorm1dOptions = {}) {
    super();
    checkArity("nn.BatchNorm1d", arguments.length, 2, USAGE);
    const o = checkOptions<BatchNorm1dOptions>(
      "nn.BatchNorm1d",
      options,
      ["eps", "momentum", "affine", "trackRunningStats"],
      USAGE,
    );
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(
        `nn.BatchNorm1d: numFeatures must be a positive integer, got ${numFeatures}; write ${USAGE}`,
      );
    }
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    if (!(this.eps > 0)) throw new Error(`nn.BatchNorm1d: eps must be > 0, got ${o.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) {
      throw new Error(`nn.BatchNorm1d: momentum must be in [0, 1] or null, got ${o.momentum}`);
    }
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

  /** x [N, C] or [N, C, L] -> same shape. */
  forward(x: Tensor): Tensor {
    const c = this.numFeatures;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== c) {
      throw new Error(
        `BatchNorm1d(${c}): expected input [N, ${c}] or [N, ${c}, L], got [${x.shape}]` +
          (x.ndim === 4 ? "; for images use nn.BatchNorm2d" : ""),
      );
    }
    for (const t of [this.weight, this.bias, this.runningMean, this.runningVar]) {
      if (t && t.device !== x.device) {
        throw new Error(
          `BatchNorm1d(${c}): input [${x.shape}] is on ${x.device}, the layer's parameters ` +
            `and buffers on ${t.device}; move one with .to()`,
        );
      }
    }
    let momentum = this.momentum ?? 0;
    const counter = this.buffer("num_batches_tracked");
    if (this.training && counter) {
      const n = this.numBatchesTracked + 1;
      check(counter.lib, counter.lib.lits_fill_i32(counter.ptr, 1, n), () => "BatchNorm1d");
      this.#batches = n;
      if (this.momentum === null) momentum = 1 / n; // cumulative moving average
    }
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training || !this.runningMean,
      momentum,
      eps: this.eps,
    });
  }
}
