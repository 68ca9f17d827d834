/**
 * Learning-rate schedules, as `torch.optim.lr_scheduler`: each changes the
 * `lr` of every parameter group of one optimizer when `step()` is called
 * (once per epoch, or once per batch for OneCycle).
 *
 * @module
 */
import { type AnyOptimizer, finiteAtLeast, LRScheduler, scheduleOptions } from "./base.ts";

export { type AnyOptimizer, LRScheduler, scheduleOptions } from "./base.ts";
export { OneCycleLR, type OneCycleLROptions } from "./onecycle.ts";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.ts";

/**
 * Multiplies the lr by `gamma` every `stepSize` steps (`StepLR`).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
 * for (let e = 0; e < 4; e++) sched.step();
 * console.log(sched.lastLr); // [0.25]
 * ```
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    const o = scheduleOptions<typeof options>("StepLR", arguments.length, options, [
      "stepSize",
      "gamma",
    ], "new optim.StepLR(opt, { stepSize: 30, gamma: 0.1 })");
    if (!Number.isInteger(o.stepSize) || o.stepSize < 1) {
      throw new Error(`optim.StepLR: stepSize must be a positive integer, got ${o.stepSize}`);
    }
    this.stepSize = o.stepSize;
    this.gamma = o.gamma ?? 0.1;
  }
  protected nextLr(epoch: number, _i: number, lr: number): number {
    return epoch % this.stepSize === 0 ? lr * this.gamma : lr;
  }
}

/**
 * Multiplies the lr by `gamma` at each of the `milestones` steps
 * (`MultiStepLR`; a milestone listed twice multiplies twice, as PyTorch's).
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.MultiStepLR(opt, { milestones: [1, 3], gamma: 0.5 });
 * for (let e = 0; e < 4; e++) sched.step();
 * console.log(sched.lastLr); // [0.25]
 * ```
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { milestones: number[]; gamma?: number }) {
    super(optimizer);
    const o = scheduleOptions<typeof options>("MultiStepLR", arguments.length, options, [
      "milestones",
      "gamma",
    ], "new optim.MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 })");
    const m = o.milestones;
    if (!Array.isArray(m) || m.length === 0 || !m.every((v) => Number.isInteger(v) && v >= 1)) {
      throw new Error(
        `optim.MultiStepLR: milestones must be positive integers, got ${JSON.stringify(m)}`,
      );
    }
    this.milestones = [...m].sort((a, b) => a - b);
    this.gamma = o.gamma ?? 0.1;
  }
  protected nextLr(epoch: number, _i: number, lr: number): number {
    const hits = this.milestones.filter((v) => v === epoch).length;
    return lr * this.gamma ** hits;
  }
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` steps
 * (`CosineAnnealingLR`), in PyTorch's recursive form: the closed form's
 * values unless the lr is changed between steps.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.CosineAnnealingLR(opt, { tMax: 4 });
 * sched.step();
 * sched.step();
 * console.log(sched.lastLr[0].toFixed(3)); // "0.500"
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    const o = scheduleOptions<typeof options>("CosineAnnealingLR", arguments.length, options, [
      "tMax",
      "etaMin",
    ], "new optim.CosineAnnealingLR(opt, { tMax: 100, etaMin: 0 })");
    if (!(o.tMax > 0)) {
      throw new Error(`optim.CosineAnnealingLR: tMax must be > 0, got ${o.tMax}`);
    }
    this.tMax = o.tMax;
    this.etaMin = finiteAtLeast("CosineAnnealingLR", "etaMin", o.etaMin ?? 0, 0);
  }
  protected nextLr(epoch: number, i: number, lr: number): number {
    const t = this.tMax, eta = this.etaMin;
    // PyTorch's recursive form; at the bottom of each cycle (where its
    // ratio would divide by zero) the step back up, from the initial lr:
    // torch zips it with base_lrs, so a group added since stays put.
    if ((epoch - 1 - t) % (2 * t) === 0) {
      if (i >= this.baseLrs.length) return lr;
      return lr + ((this.baseLrs[i] - eta) * (1 - Math.cos(Math.PI / t))) / 2;
    }
    const ratio = (1 + Math.cos((Math.PI * epoch) / t)) /
      (1 + Math.cos((Math.PI * (epoch - 1)) / t));
    return ratio * (lr - eta) + eta;
  }
  /** torch's closed form at step 0, as SequentialLR's step(0) computes it. */
  protected override restartLr(i: number): number {
    const eta = this.etaMin;
    return eta + (this.baseLrs[i] - eta) * (1 + Math.cos(0)) / 2;
  }
}
