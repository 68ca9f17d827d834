/**
 * The schedules whose step 0 changes the lr, warm-ups mostly:
 * `LambdaLR`, `LinearLR` and `ConstantLR`, as `torch.optim.lr_scheduler`'s
 * (same formulas, same defaults), each applying step 0 when made.
 *
 * @module
 */
import {
  type AnyOptimizer,
  lambdaFactor,
  lambdasPerGroup,
  LRScheduler,
  scheduleOptions,
} from "./base.ts";

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  /** The lr factor at each step: one function, or one per parameter group. */
  lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[];
}

/**
 * Each group's lr is its initial lr times `lrLambda(step)` (`LambdaLR`):
 * the usual way to write a warm-up. A group added to the optimizer since
 * keeps its lr, as in torch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 0.1 });
 * const warmup = new optim.LambdaLR(opt, { lrLambda: (e) => Math.min(1, (e + 1) / 4) });
 * console.log(opt.paramGroups[0].lr); // 0.025
 * warmup.step();
 * console.log(warmup.lastLr); // [0.05]
 * ```
 */
export class LambdaLR extends LRScheduler {
  readonly #lambdas: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, options: LambdaLROptions) {
    super(optimizer);
    const o = scheduleOptions<LambdaLROptions>(
      "LambdaLR",
      arguments.length,
      options,
      ["lrLambda"],
      "new optim.LambdaLR(opt, { lrLambda: (epoch) => Math.min(1, (epoch + 1) / 5) })",
    );
    this.#lambdas = lambdasPerGroup("LambdaLR", o.lrLambda, optimizer.paramGroups.length);
    this.initialStep();
  }
  protected override lrAtStart(i: number, lr: number): number {
    return this.nextLr(0, i, lr);
  }
  protected nextLr(epoch: number, i: number, lr: number): number {
    // torch zips the lambdas with base_lrs: a group added since keeps its lr.
    if (i >= this.#lambdas.length || i >= this.baseLrs.length) return lr;
    return this.baseLrs[i] * lambdaFactor("LambdaLR", this.#lambdas[i], epoch);
  }
}

/** Options of `LinearLR` (PyTorch's defaults). */
export interface LinearLROptions {
  /** Factor of the lr at step 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor from `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Steps of the linear change (default 5). */
  totalIters?: number;
}

/**
 * Scales the lr linearly from `startFactor` to `endFactor` over
 * `totalIters` steps, then leaves it (`LinearLR`, PyTorch's chainable form).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
 * sched.step();
 * console.log(sched.lastLr); // [0.75]
 * ```
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super(optimizer);
    const o = scheduleOptions<LinearLROptions>(
      "LinearLR",
      arguments.length,
      options,
      ["startFactor", "endFactor", "totalIters"],
      "new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 })",
    );
    this.startFactor = o.startFactor ?? 1 / 3;
    this.endFactor = o.endFactor ?? 1;
    this.totalIters = o.totalIters ?? 5;
    if (!(this.startFactor > 0 && this.startFactor <= 1)) {
      throw new Error(`optim.LinearLR: startFactor must be in (0, 1], got ${o.startFactor}`);
    }
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) {
      throw new Error(`optim.LinearLR: endFactor must be in [0, 1], got ${o.endFactor}`);
    }
    checkIters("LinearLR", this.totalIters);
    this.initialStep();
  }
  protected override lrAtStart(_i: number, lr: number): number {
    return lr * this.startFactor;
  }
  protected nextLr(epoch: number, _i: number, lr: number): number {
    if (epoch > this.totalIters) return lr;
    const d = this.endFactor - this.startFactor;
    return lr * (1 + d / (this.totalIters * this.startFactor + (epoch - 1) * d));
  }
}

/** Options of `ConstantLR` (PyTorch's defaults). */
export interface ConstantLROptions {
  /** Factor of the lr until `totalIters`, in [0, 1] (default 1/3). */
  factor?: number;
  /** Steps at the lower lr (default 5). */
  totalIters?: number;
}

/**
 * The lr times `factor` for the first `totalIters` steps, then the lr
 * itself (`ConstantLR`).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.ConstantLR(opt, { factor: 0.5, totalIters: 1 });
 * console.log(sched.lastLr); // [0.5]
 * sched.step();
 * console.log(sched.lastLr); // [1]
 * ```
 */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: ConstantLROptions = {}) {
    super(optimizer);
    const o = scheduleOptions<ConstantLROptions>(
      "ConstantLR",
      arguments.length,
      options,
      ["factor", "totalIters"],
      "new optim.ConstantLR(opt, { factor: 0.5, totalIters: 4 })",
    );
    this.factor = o.factor ?? 1 / 3;
    this.totalIters = o.totalIters ?? 5;
    // factor 0 would make the return to the lr divide by zero.
    if (!(this.factor > 0 && this.factor <= 1)) {
      throw new Error(`optim.ConstantLR: factor must be in (0, 1], got ${o.factor}`);
    }
    checkIters("ConstantLR", this.totalIters);
    this.initialStep();
  }
  protected override lrAtStart(_i: number, lr: number): number {
    return lr * this.factor;
  }
  protected nextLr(epoch: number, _i: number, lr: number): number {
    return epoch === this.totalIters ? lr / this.factor : lr;
  }
}

function checkIters(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`optim.${name}: totalIters must be a positive integer, got ${n}`);
  }
}
