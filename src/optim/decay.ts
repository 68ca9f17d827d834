/**
 * Decays by a factor each step: `ExponentialLR`, `PolynomialLR` and
 * `MultiplicativeLR`, as `torch.optim.lr_scheduler`'s (PyTorch 1.13: same
 * chainable formulas, same defaults).
 *
 * @module
 */
import {
  type AnyOptimizer,
  finiteAtLeast,
  lambdaFactor,
  lambdasPerGroup,
  LRScheduler,
  positiveInteger,
  scheduleOptions,
} from "./base.ts";

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  /** What each step multiplies the lr by (required, as torch's gamma). */
  gamma: number;
}

/**
 * Multiplies every group's lr by `gamma` at each step (`ExponentialLR`).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.ExponentialLR(opt, { gamma: 0.5 });
 * sched.step();
 * sched.step();
 * console.log(sched.lastLr); // [0.25]
 * ```
 */
export class ExponentialLR extends LRScheduler {
  /** The factor of each step. */
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super(optimizer);
    const o = scheduleOptions<ExponentialLROptions>(
      "ExponentialLR",
      arguments.length,
      options,
      ["gamma"],
      "new optim.ExponentialLR(opt, { gamma: 0.95 })",
    );
    this.gamma = finiteAtLeast("ExponentialLR", "gamma", o.gamma, 0, true);
  }
  protected nextLr(_epoch: number, _i: number, lr: number): number {
    return lr * this.gamma;
  }
}

/** Options of `PolynomialLR` (PyTorch's defaults). */
export interface PolynomialLROptions {
  /** Steps until the lr reaches 0 (default 5). */
  totalIters?: number;
  /** Power of the polynomial (default 1: linear). */
  power?: number;
}

/**
 * Decays the lr to 0 over `totalIters` steps as `(1 - step / totalIters) **
 * power`, then leaves it (`PolynomialLR`, PyTorch's chainable form).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.PolynomialLR(opt, { totalIters: 4, power: 2 });
 * sched.step();
 * sched.step();
 * console.log(sched.lastLr); // [0.25]
 * ```
 */
export class PolynomialLR extends LRScheduler {
  /** Steps of the decay. */
  readonly totalIters: number;
  /** Power of the polynomial. */
  readonly power: number;
  constructor(optimizer: AnyOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer);
    const o = scheduleOptions<PolynomialLROptions>(
      "PolynomialLR",
      arguments.length,
      options,
      ["totalIters", "power"],
      "new optim.PolynomialLR(opt, { totalIters: 100, power: 0.9 })",
    );
    this.totalIters = positiveInteger("PolynomialLR", "totalIters", o.totalIters ?? 5);
    // A negative power divides by zero at the last step (torch: ZeroDivisionError).
    this.power = finiteAtLeast("PolynomialLR", "power", o.power ?? 1, 0);
  }
  protected nextLr(epoch: number, _i: number, lr: number): number {
    const t = this.totalIters;
    if (epoch > t) return lr;
    return lr * ((1.0 - epoch / t) / (1.0 - (epoch - 1) / t)) ** this.power;
  }
}

/** Options of `MultiplicativeLR`. */
export interface MultiplicativeLROptions {
  /** The factor of each step: one function, or one per parameter group. */
  lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[];
}

/**
 * Multiplies each group's lr by `lrLambda(step)` at each step
 * (`MultiplicativeLR`; LambdaLR's factor is of the initial lr, this one's of
 * the lr now). A group added to the optimizer since keeps its lr, as in
 * torch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.MultiplicativeLR(opt, { lrLambda: (epoch) => (epoch < 2 ? 0.5 : 1) });
 * for (let e = 0; e < 3; e++) sched.step();
 * console.log(sched.lastLr); // [0.5]
 * ```
 */
export class MultiplicativeLR extends LRScheduler {
  readonly #lambdas: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, options: MultiplicativeLROptions) {
    super(optimizer);
    const o = scheduleOptions<MultiplicativeLROptions>(
      "MultiplicativeLR",
      arguments.length,
      options,
      ["lrLambda"],
      "new optim.MultiplicativeLR(opt, { lrLambda: (epoch) => 0.95 })",
    );
    const fns = lambdasPerGroup("MultiplicativeLR", o.lrLambda, optimizer.paramGroups.length);
    this.#lambdas = fns;
  }
  protected nextLr(epoch: number, i: number, lr: number): number {
    // torch zips the lambdas with the groups: a group added since keeps its lr.
    if (i >= this.#lambdas.length) return lr;
    return lr * lambdaFactor("MultiplicativeLR", this.#lambdas[i], epoch);
  }
  /** torch's step(0) (no closed form): the lr stays as it is. */
  protected override restartLr(_i: number, lr: number): number {
    return lr;
  }
}
