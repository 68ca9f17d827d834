/**
 * `SyncBatchNorm`: batch norm whose training statistics are those of the
 * global batch (PyTorch's `SyncBatchNorm`): each rank's per-channel sums of
 * x and x^2 and its element count are all-reduced before normalising, and
 * backward all-reduces the gradients of those sums, so every rank's input
 * gradient is the one-process gradient of its rows. Without it (the default,
 * as DDP) each rank normalises with its own shard's statistics.
 *
 * @module
 */
import { BatchNormBase, type BatchNormLayerOptions } from "../layers/batchnorm_base.ts";
import { Module } from "../layers/module.ts";
import { record } from "../tensor/autograd.ts";
import { noGrad } from "../tensor/autograd.ts";
import { fillInPlace, tensor } from "../tensor/ops/creation.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { check } from "../ffi/native.ts";
import { markWritten } from "../tensor/ops/in_place.ts";
import { allReduce, getWorldSize, isInitialized } from "./process_group.ts";

/** A sum over the ranks that autograd goes through: its gradient is the sum of the ranks' gradients. */
function allReduceSum(t: Tensor): Tensor {
  const out = noGrad(() => t.clone());
  allReduce(out, { op: "sum" });
  return record(out, {
    name: "allReduce",
    inputs: [t],
    saved: [],
    backward: (g) => {
      const gg = g.contiguous() === g ? g.clone() : g.contiguous();
      allReduce(gg, { op: "sum" });
      return [gg];
    },
  });
}

/** Copies `src`'s values into buffer `dst` in place (the module keeps the same tensor). */
function assign(dst: Tensor, src: Tensor): void {
  check(dst.lib, dst.lib.lits_copy_d2d(dst.ptr, src.ptr, dst.size * 4), () => "SyncBatchNorm");
  markWritten(dst);
}

/**
 * Batch norm over the global batch of all ranks (PyTorch's `SyncBatchNorm`,
 * for inputs [N, C, ...]). In evaluation, or in a world of one, it is plain
 * batch norm.
 *
 * @example
 * ```ts
 * import { distributed, randn } from "@lits/vision";
 * distributed.initProcessGroup();
 * const bn = new distributed.SyncBatchNorm(3);
 * console.log(bn.forward(randn([4, 3, 2, 2])).shape); // [4, 3, 2, 2]
 * distributed.destroyProcessGroup();
 * ```
 */
export class SyncBatchNorm extends BatchNormBase {
  /** `numFeatures` channels; options as `nn.BatchNorm2d`. */
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, "new distributed.SyncBatchNorm(16)");
  }

  protected checkRank(x: Tensor): void {
    if (x.ndim < 2 || x.shape[1] !== this.numFeatures) {
      throw new Error(
        `SyncBatchNorm(${this.numFeatures}): expected input [N, ${this.numFeatures}, ...], ` +
          `got [${x.shape}]`,
      );
    }
  }

  /** Normalises with the global batch's statistics when training on several ranks. */
  override forward(x: Tensor): Tensor {
    if (!this.training || !isInitialized() || getWorldSize() === 1) return super.forward(x);
    this.checkRank(x);
    const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
    const shape = [1, this.numFeatures, ...Array(x.ndim - 2).fill(1)];
    using count = tensor([x.size / this.numFeatures]);
    allReduce(count, { op: "sum" });
    const m = count.item();
    if (m <= 1) {
      throw new Error(
        `SyncBatchNorm(${this.numFeatures}): expected more than 1 value per channel over all ` +
          `ranks when training, got input [${x.shape}]`,
      );
    }
    const mean = allReduceSum(x.sum(dims, true)).div(m);
    const meanSq = allReduceSum(x.mul(x).sum(dims, true)).div(m);
    const variance = meanSq.sub(mean.mul(mean)).clampMin(0);
    let y = x.sub(mean).mul(variance.add(this.eps).pow(-0.5));
    if (this.weight && this.bias) {
      y = y.mul(this.weight.reshape(shape)).add(this.bias.reshape(shape));
    }
    this.#updateRunning(mean, variance, m);
    return y;
  }

  #updateRunning(mean: Tensor, variance: Tensor, m: number): void {
    const rm = this.runningMean, rv = this.runningVar;
    if (!rm || !rv) return;
    const n = this.numBatchesTracked + 1;
    const counter = this.buffer("num_batches_tracked")!;
    fillInPlace(counter, n, "SyncBatchNorm");
    this.afterLoad(); // the cached count is read again from the buffer
    const k = this.momentum ?? 1 / n;
    noGrad(() => {
      assign(rm, rm.mul(1 - k).add(mean.reshape([this.numFeatures]).mul(k)));
      const unbiased = variance.reshape([this.numFeatures]).mul(m / (m - 1));
      assign(rv, rv.mul(1 - k).add(unbiased.mul(k)));
    });
  }
}

/**
 * Replaces every `nn.BatchNorm1d`/`BatchNorm2d` under `module` with a
 * `SyncBatchNorm` holding the same weights and running statistics (PyTorch's
 * `SyncBatchNorm.convert_sync_batchnorm`); returns `module`.
 *
 * @example
 * ```ts
 * import { distributed, nn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4));
 * distributed.convertSyncBatchnorm(net);
 * console.log(net[1] instanceof distributed.SyncBatchNorm); // true
 * ```
 */
export function convertSyncBatchnorm<M extends Module>(module: M): M {
  if (!(module instanceof Module)) {
    throw new Error(`convertSyncBatchnorm: expected an nn.Module, got ${typeof module}`);
  }
  for (const [, parent] of [...module.namedModules()]) {
    for (const [key, child] of Object.entries(parent)) {
      if (!(child instanceof BatchNormBase) || child instanceof SyncBatchNorm) continue;
      const sync = new SyncBatchNorm(child.numFeatures, {
        eps: child.eps,
        momentum: child.momentum,
        affine: child.weight !== null,
        trackRunningStats: child.runningMean !== null,
      });
      if (child.training === false) sync.eval();
      // Same device first, then the values.
      const device = (child.weight ?? child.runningMean)?.device ?? "cpu";
      sync.to(device).loadStateDict(child.stateDict());
      (parent as unknown as Record<string, unknown>)[key] = sync;
      child.dispose();
    }
  }
  return module;
}
