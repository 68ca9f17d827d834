/**
 * Learning-rate schedules, as `torch.optim.lr_scheduler`: each changes the
 * `lr` of every parameter group of one optimizer when `step()` is called
 * (once per epoch, or once per batch for OneCycle).
 *
 * @module
 */
import type { GroupOptions, Optimizer } from "./optimizer.ts";
import { checkArity, checkOptions } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";

export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.ts";

/** @internal checks a schedule's arguments: `StepLR(opt, 30)` is PyTorch's positional step_size. */
export function scheduleOptions<T extends object>(
  name: string,
  given: number,
  options: unknown,
  known: (keyof T & string)[],
  usage: string,
): T {
  checkArity(`optim.${name}`, given, 2, usage);
  if (options === undefined) throw new Error(`optim.${name}: options are required; write ${usage}`);
  return checkOptions<T>(`optim.${name}`, options, known, usage);
}

/** Any optimizer a schedule can drive: its groups have an lr. */
export type AnyOptimizer = Optimizer<GroupOptions & { lr: number }>;

/**
 * Each parameter group's initial lr: the lr when the first schedule over it
 * was made (torch's `initial_lr`), so that a second schedule made after the
 * first moved the lr anneals from the same base, as in torch.
 */
const initialLrs = new WeakMap<object, number>();

/**
 * Base of the schedules: remembers each group's initial lr. A subclass
 * gives `nextLr`, and where its step 0 changes the lr (a warm-up),
 * `lrAtStart`, then calls `initialStep()` at the end of its constructor:
 * PyTorch's base constructor applies step 0 itself, which a JavaScript base
 * cannot do before the subclass's fields exist.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * class Halving extends optim.LRScheduler {
 *   constructor(opt: optim.Optimizer<{ lr: number }>) {
 *     super(opt);
 *     this.initialStep(); // step 0: half the initial lr
 *   }
 *   protected override lrAtStart(i: number): number {
 *     return this.baseLrs[i] / 2;
 *   }
 *   protected nextLr(_epoch: number, _i: number, lr: number): number {
 *     return lr / 2;
 *   }
 * }
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new Halving(opt);
 * console.log(opt.paramGroups[0].lr); // 0.5
 * sched.step();
 * console.log(sched.lastLr); // [0.25]
 * ```
 */
export abstract class LRScheduler {
  /** Completed `step()` calls. */
  lastEpoch = 0;
  /** Each group's initial lr (that of the first schedule made over it). */
  readonly baseLrs: number[];
  #lastLr: number[];

  constructor(readonly optimizer: AnyOptimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => {
      if (!initialLrs.has(g)) initialLrs.set(g, g.options.lr);
      return initialLrs.get(g)!;
    });
    this.#lastLr = optimizer.paramGroups.map((g) => g.options.lr);
  }

  /** The learning rate of each group as this schedule last set it (torch's `get_last_lr()`). */
  get lastLr(): number[] {
    return [...this.#lastLr];
  }

  /**
   * Group `i`'s lr for step `epoch`, from its lr now (`lr`): PyTorch's
   * chainable form, so that an lr set by hand, or a second schedule on the
   * same optimizer, carries on as in PyTorch instead of being overwritten.
   */
  protected abstract nextLr(epoch: number, i: number, lr: number): number;

  /**
   * Group `i`'s lr at step 0 from `lr` (its lr now, or its initial lr when
   * SequentialLR switches to this schedule): unchanged here, as for the
   * decaying schedules; a warm-up gives its own.
   */
  protected lrAtStart(_i: number, lr: number): number {
    return lr;
  }

  /** Sets step 0's learning rates (PyTorch's `_initial_step`); see the class doc. */
  protected initialStep(): void {
    this.lastEpoch = 0;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = this.lrAtStart(i, g.options.lr);
    });
    this.recordLastLr();
  }

  /**
   * @internal SequentialLR's switch to this schedule at its milestone:
   * step 0 again, from the initial lr (PyTorch's `step(0)`).
   */
  restart(): void {
    this.lastEpoch = 0;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = this.lrAtStart(i, this.baseLrs[i]);
    });
    this.recordLastLr();
  }

  /** Advances the schedule by one step and sets the groups' lr. */
  step(): void {
    // PyTorch's deprecated step(epoch) would be ignored silently here.
    checkArity(`optim.${this.constructor.name}.step`, arguments.length, 0, "sched.step()");
    this.checkGroups();
    this.lastEpoch++;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = this.nextLr(this.lastEpoch, i, g.options.lr);
    });
    this.recordLastLr();
  }

  /** Throws when groups were added to the optimizer after this schedule was made. */
  protected checkGroups(): void {
    const n = this.optimizer.paramGroups.length;
    if (n === this.baseLrs.length) return;
    throw new Error(
      `optim.${this.constructor.name}: the optimizer has ${n} parameter groups, this schedule ` +
        `was made over ${this.baseLrs.length} (a group added since has no initial lr); make ` +
        "the schedule after addParamGroup",
    );
  }

  /** Keeps the groups' lr now as `lastLr` (a subclass that sets them itself calls it). */
  protected recordLastLr(): void {
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.options.lr);
  }

  /** The schedule's position, for checkpoints. */
  stateDict(): Record<string, number | number[]> {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores a position saved by `stateDict()` (the same schedule's, same groups). */
  loadStateDict(sd: Record<string, number | number[]>): void {
    const n = this.baseLrs.length;
    if (
      !Number.isInteger(sd?.lastEpoch) || !Array.isArray(sd.baseLrs) || sd.baseLrs.length !== n ||
      !sd.baseLrs.every((lr) => typeof lr === "number")
    ) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs } with ${n} ` +
          `learning rates (what stateDict() gives), got ${JSON.stringify(sd)}`,
      );
    }
    this.lastEpoch = sd.lastEpoch as number;
    (sd.baseLrs as number[]).forEach((lr, i) => (this.baseLrs[i] = lr));
    this.recordLastLr();
  }
}

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
    this.etaMin = o.etaMin ?? 0;
  }
  protected nextLr(epoch: number, i: number, lr: number): number {
    const t = this.tMax, eta = this.etaMin;
    // PyTorch's recursive form; at the bottom of each cycle (where its
    // ratio would divide by zero) the step back up.
    if ((epoch - 1 - t) % (2 * t) === 0) {
      return lr + ((this.baseLrs[i] - eta) * (1 - Math.cos(Math.PI / t))) / 2;
    }
    const ratio = (1 + Math.cos((Math.PI * epoch) / t)) /
      (1 + Math.cos((Math.PI * (epoch - 1)) / t));
    return ratio * (lr - eta) + eta;
  }
}

/** Options of `OneCycleLR` (torch's names in camelCase). */
export interface OneCycleLROptions {
  /** Peak learning rate: one for every group, or one per group (as torch's max_lr list). */
  maxLr: number | number[];
  /** Number of `step()` calls in the cycle. */
  totalSteps: number;
  /** Fraction of the cycle spent warming up (default 0.3). */
  pctStart?: number;
  /** Initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Cycle momentum (SGD) or beta1 (Adam, AdamW) inversely to the lr (default true, as torch). */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak (default 0.85). */
  baseMomentum?: number;
  /** Momentum at the start and end of the cycle (default 0.95). */
  maxMomentum?: number;
}

/**
 * One-cycle policy (`OneCycleLR`, cosine annealing, PyTorch's defaults):
 * warm up from maxLr/divFactor to maxLr over pctStart of totalSteps, then
 * anneal to maxLr/(divFactor*finalDivFactor). Like torch (cycleMomentum is
 * on by default), the momentum of SGD or the beta1 of Adam and AdamW moves
 * the other way, from maxMomentum down to baseMomentum and back: it
 * replaces the optimizer's own value, and gives SGD made without momentum a
 * momentum. Pass `cycleMomentum: false` to leave it alone. Call `step()`
 * after every batch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10 });
 * console.log(sched.lastLr[0].toFixed(4)); // "0.0040"
 * console.log(opt.paramGroups[0].options.momentum); // 0.95
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** Each group's peak learning rate. */
  readonly maxLrs: number[];
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly divFactor: number;
  readonly finalDivFactor: number;
  /** Whether momentum / beta1 cycles. */
  readonly cycleMomentum: boolean;
  /** Momentum at the lr's peak. */
  readonly baseMomentum: number;
  /** Momentum at the ends of the cycle. */
  readonly maxMomentum: number;
  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super(optimizer);
    const o = scheduleOptions<OneCycleLROptions>("OneCycleLR", arguments.length, options, [
      "maxLr",
      "totalSteps",
      "pctStart",
      "divFactor",
      "finalDivFactor",
      "cycleMomentum",
      "baseMomentum",
      "maxMomentum",
    ], "new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 1000 })");
    if (!Number.isInteger(o.totalSteps) || o.totalSteps < 2) {
      throw new Error(`optim.OneCycleLR: totalSteps must be an integer >= 2, got ${o.totalSteps}`);
    }
    const groups = optimizer.paramGroups.length;
    const peaks = Array.isArray(o.maxLr) ? o.maxLr : Array(groups).fill(o.maxLr);
    if (peaks.length !== groups) {
      throw new Error(
        `optim.OneCycleLR: maxLr has ${peaks.length} values for ${groups} parameter groups; ` +
          "give one number, or one per group",
      );
    }
    peaks.forEach((m) => {
      if (!(typeof m === "number" && m > 0)) {
        throw new Error(`optim.OneCycleLR: maxLr must be > 0, got ${JSON.stringify(o.maxLr)}`);
      }
    });
    this.maxLrs = peaks;
    this.totalSteps = o.totalSteps;
    this.pctStart = o.pctStart ?? 0.3;
    if (!(this.pctStart >= 0 && this.pctStart <= 1)) {
      throw new Error(`optim.OneCycleLR: pctStart must be in [0, 1], got ${o.pctStart}`);
    }
    this.divFactor = o.divFactor ?? 25;
    this.finalDivFactor = o.finalDivFactor ?? 1e4;
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.baseMomentum = o.baseMomentum ?? 0.85;
    this.maxMomentum = o.maxMomentum ?? 0.95;
    if (this.cycleMomentum) {
      for (const g of optimizer.paramGroups) {
        if (!("betas" in g.options) && !("momentum" in g.options)) {
          throw new Error(
            `optim.OneCycleLR: ${optimizer.constructor.name} has no momentum to cycle; ` +
              "pass cycleMomentum: false",
          );
        }
      }
    }
    this.apply(0);
  }
  /** Sets every group's lr and (when cycling) momentum for `step`. */
  private apply(step: number): void {
    for (const [i, g] of this.optimizer.paramGroups.entries()) {
      g.options.lr = this.nextLr(step, i);
      if (!this.cycleMomentum) continue;
      const m = this.at(step, this.maxMomentum, this.baseMomentum, this.maxMomentum);
      const opts = g.options as Record<string, unknown>;
      if (Array.isArray(opts.betas)) opts.betas = [m, opts.betas[1]];
      else opts.momentum = m;
    }
    this.recordLastLr();
  }
  /** Advances one batch: the groups' lr and momentum. */
  override step(): void {
    checkArity("optim.OneCycleLR.step", arguments.length, 0, "sched.step()");
    this.checkGroups();
    this.lastEpoch++;
    this.apply(this.lastEpoch);
  }
  /** Step 0 of the cycle (SequentialLR's restart), whatever the lr now. */
  protected override lrAtStart(i: number): number {
    return this.nextLr(0, i);
  }
  /** Closed form, as torch's OneCycleLR: the lr now plays no part. */
  protected nextLr(step: number, i: number): number {
    const initial = this.maxLrs[i] / this.divFactor;
    return this.at(step, initial, this.maxLrs[i], initial / this.finalDivFactor);
  }
  /** Cosine from `start` to `peak` over the warm-up, then from `peak` to `end`. */
  private at(step: number, start: number, peak: number, end: number): number {
    // As PyTorch: a step() after each of totalSteps batches is allowed (the
    // last one past the cycle's end), one more is not.
    if (step > this.totalSteps) {
      throw new Error(`OneCycleLR: stepped ${step} times, more than totalSteps ${this.totalSteps}`);
    }
    const warmEnd = this.pctStart * this.totalSteps - 1;
    const anneal = (from: number, to: number, pct: number) =>
      to + ((from - to) / 2) * (1 + Math.cos(Math.PI * pct));
    if (step <= warmEnd) return anneal(start, peak, step / warmEnd);
    return anneal(peak, end, (step - warmEnd) / (this.totalSteps - 1 - warmEnd));
  }
}

// torch's names (`sched.get_last_lr()`): each throws, naming ours.
addNameHints(LRScheduler.prototype, "LRScheduler", {
  get_last_lr: "read sched.lastLr (a property, not a method)",
  last_epoch: "write sched.lastEpoch",
  state_dict: "write sched.stateDict()",
  load_state_dict: "write sched.loadStateDict(sd)",
  base_lrs: "write sched.baseLrs",
});
