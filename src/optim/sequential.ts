/**
 * `SequentialLR`: one schedule after another, switching at milestones, as
 * `torch.optim.lr_scheduler.SequentialLR` (warm-up, then a decay).
 *
 * @module
 */
import {
  type AnyOptimizer,
  LRScheduler,
  ownLayout,
  scheduleOptions,
  stepTakesNoEpoch,
} from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedules, in order, all over this optimizer. */
  schedulers: LRScheduler[];
  /** The steps at which the next schedule takes over (one fewer than schedules). */
  milestones: number[];
}

/**
 * Runs `schedulers[0]` until `milestones[0]`, then `schedulers[1]` from its
 * step 0 (from the initial lr), and so on. Made after its schedules, it
 * resets the lr to the initial one and applies the first schedule's step 0,
 * as PyTorch's does. A group added to the optimizer since is scheduled as
 * each schedule in turn treats it (see `LRScheduler`), as in torch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const warmup = new optim.LinearLR(opt, { startFactor: 0.25, totalIters: 3 });
 * const decay = new optim.CosineAnnealingLR(opt, { tMax: 10 });
 * const sched = new optim.SequentialLR(opt, { schedulers: [warmup, decay], milestones: [3] });
 * const lrs = [sched.lastLr[0]];
 * for (let e = 0; e < 4; e++) {
 *   sched.step();
 *   lrs.push(sched.lastLr[0]);
 * }
 * console.log(lrs.map((v) => v.toFixed(3))); // ["0.250", "0.500", "0.750", "1.000", "0.976"]
 * ```
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  constructor(optimizer: AnyOptimizer, options: SequentialLROptions) {
    super(optimizer);
    const o = scheduleOptions<SequentialLROptions>(
      "SequentialLR",
      arguments.length,
      options,
      ["schedulers", "milestones"],
      "new optim.SequentialLR(opt, { schedulers: [warmup, decay], milestones: [5] })",
    );
    const { schedulers, milestones } = o;
    if (
      !Array.isArray(schedulers) || schedulers.length === 0 ||
      !schedulers.every((s) => s instanceof LRScheduler && !(s instanceof SequentialLR))
    ) {
      // ReduceLROnPlateau steps on a metric, not by count: it cannot take turns here.
      throw new Error(
        "optim.SequentialLR: schedulers must be a non-empty list of step-count schedules " +
          "(StepLR, LinearLR, CosineAnnealingLR, ...; not ReduceLROnPlateau)",
      );
    }
    if (schedulers.some((s) => s.optimizer !== optimizer)) {
      throw new Error("optim.SequentialLR: every schedule must be over the optimizer given here");
    }
    if (
      !Array.isArray(milestones) || milestones.length !== schedulers.length - 1 ||
      !milestones.every((m, k) =>
        Number.isInteger(m) && m >= 1 && (k === 0 || m > milestones[k - 1])
      )
    ) {
      throw new Error(
        `optim.SequentialLR: milestones must be ${schedulers.length - 1} increasing positive ` +
          `integers, one fewer than the schedules, got ${JSON.stringify(milestones)}`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    // The schedules' own step 0s moved the lr: start again from the initial lr.
    optimizer.paramGroups.forEach((g, i) => (g.options.lr = this.baseLrs[i]));
    this.schedulers[0].restart(false);
    this.recordLastLr();
  }

  /** Steps the schedule in charge; at a milestone the next one starts from its step 0. */
  override step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch("SequentialLR", arguments.length);
    this.lastEpoch++;
    const k = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const s = this.schedulers[k];
    if (k > 0 && this.milestones[k - 1] === this.lastEpoch) s.restart();
    else s.step();
    this.recordLastLr();
  }

  protected nextLr(_epoch: number, _i: number, lr: number): number {
    return lr; // step() hands each step to a schedule
  }

  /** The position, and each schedule's. */
  protected override ownStateDict(): StateDict {
    return withSchedules(super.ownStateDict(), this.schedulers);
  }

  /** Restores what `stateDict()` gave. */
  override loadStateDict(given: StateDict | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    loadSchedules(sd, this.schedulers, () => super.loadStateDict(sd));
  }
}

type StateDict = Record<string, number | number[]>;

/** @internal `sd` with each schedule's state dict under `0.`, `1.`, ... (SequentialLR, ChainedScheduler). */
export function withSchedules(sd: StateDict, schedulers: readonly LRScheduler[]): StateDict {
  schedulers.forEach((s, k) => {
    for (const [key, v] of Object.entries(s.stateDict())) sd[`${k}.${key}`] = v;
  });
  return sd;
}

/** @internal Loads each schedule's part of `sd` (its keys under `k.`) into it. */
export function loadSchedules(
  sd: StateDict,
  schedulers: readonly LRScheduler[],
  loadOwn: () => void,
): void {
  // All or nothing: a refused dict (a child's, or the parent's own entries)
  // puts back the children already loaded.
  const before = schedulers.map((s) => s.stateDict());
  try {
    schedulers.forEach((s, k) => {
      const own = Object.fromEntries(
        Object.entries(sd ?? {}).filter(([key]) => key.startsWith(`${k}.`))
          .map(([key, v]) => [key.slice(`${k}.`.length), v]),
      );
      s.loadStateDict(own);
    });
    loadOwn();
  } catch (e) {
    schedulers.forEach((s, k) => s.loadStateDict(before[k]));
    throw e;
  }
}
