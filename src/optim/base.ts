/**
 * The base of the step-count schedules (`torch.optim.lr_scheduler`'s
 * `_LRScheduler`): initial learning rates, `step()`, `lastLr`, state dicts.
 *
 * Groups added to the optimizer after a schedule was made
 * (`opt.addParamGroup`, the unfreeze-mid-training pattern) are treated as
 * PyTorch 1.13 treats them: the chainable schedules (StepLR, MultiStepLR,
 * ExponentialLR, LinearLR, ConstantLR, PolynomialLR, CosineAnnealingLR's
 * usual step) move every group's lr from where it is; those computed from
 * each group's initial lr (LambdaLR, MultiplicativeLR,
 * CosineAnnealingWarmRestarts, CosineAnnealingLR's step back up at the
 * bottom of a cycle) leave the new group's lr alone; `baseLrs` keeps the
 * groups the schedule was made over.
 *
 * @module
 */
import type { GroupOptions, Optimizer } from "./optimizer.ts";
import { checkArity, checkOptions } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import {
  fromTorchSchedulerStateDict,
  isTorchSchedulerStateDict,
  type SchedulerStateDictOptions,
  stateDictFormat,
  type TorchSchedulerStateDict,
} from "./torch_scheduler_state.ts";
import { toTorchSchedulerStateDict } from "./torch_scheduler_write.ts";

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
  // torch's resume by `last_epoch=N` (which needs the groups' initial_lr and
  // steps once more on construction): here a schedule resumes from its state.
  for (const key of ["lastEpoch", "last_epoch"]) {
    if (
      options !== null && typeof options === "object" && key in options &&
      !(known as string[]).includes(key)
    ) {
      throw new Error(
        `optim.${name}: the option '${key}' (torch's resume by last_epoch=N) is not taken; ` +
          `make the schedule as at the start and load where it was: ` +
          `sched.loadStateDict(saved), with saved = sched.stateDict() or torch's ` +
          `sched.state_dict() from a checkpoint (io.load)`,
      );
    }
  }
  refuseVerbose(name, options);
  return checkOptions<T>(`optim.${name}`, options, known, usage);
}

/**
 * @internal torch's `verbose=True` prints each lr change; here it is refused by
 * name (as an unknown option it said nothing of what to write instead).
 */
export function refuseVerbose(name: string, options: unknown): void {
  if (options !== null && typeof options === "object" && "verbose" in options) {
    throw new Error(
      `optim.${name}: the option 'verbose' (torch's print of each lr change) is not taken; ` +
        "remove it, and print the rates yourself: console.log(sched.lastLr) after sched.step()",
    );
  }
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
 * @internal sets a group's initial lr outright, as torch's OneCycleLR writes
 * `group["initial_lr"] = max_lr / div_factor` (schedules made after it start
 * from that).
 */
export function setInitialLr(group: object, lr: number): void {
  initialLrs.set(group, lr);
}

/**
 * What torch's schedules also keep in a group (OneCycleLR's `max_lr`,
 * `min_lr`, `max_momentum`, `base_momentum`; SWALR's `swa_lr`) and read
 * back at each step: `opt.stateDict({ format: "torch" })` writes them, so
 * torch's schedule steps on from an optimizer dict this library wrote.
 */
const torchGroupEntries = new WeakMap<object, Record<string, number>>();

/** @internal records entries torch's schedule would keep in `group` (see above). */
export function setTorchGroupEntries(group: object, entries: Record<string, number>): void {
  torchGroupEntries.set(group, { ...torchGroupEntries.get(group), ...entries });
}

/** @internal the entries torch's schedules would keep in `group`, if any. */
export function torchGroupEntriesOf(group: object): Readonly<Record<string, number>> | undefined {
  return torchGroupEntries.get(group);
}

/** @internal a group's initial lr (torch's `initial_lr`), or undefined before any schedule. */
export function initialLrOf(group: object): number | undefined {
  return initialLrs.get(group);
}

/**
 * @internal sets options of `optimizer`'s groups all together or not at
 * all: `writes` are [group index, option, value]. Where the optimizer
 * refuses one (its option check), the writes made before it are put back,
 * last first, and the Error is thrown on: a schedule's step never leaves
 * some groups moved and others not.
 */
export function setGroupOptions(
  optimizer: AnyOptimizer,
  writes: readonly (readonly [number, string, unknown])[],
): void {
  const done: [Record<string, unknown>, string, unknown][] = [];
  try {
    for (const [i, key, value] of writes) {
      const options = optimizer.paramGroups[i].options as Record<string, unknown>;
      done.push([options, key, options[key]]);
      options[key] = value;
    }
  } catch (e) {
    // Each put-back returns to a state the optimizer accepted before.
    for (const [options, key, was] of done.reverse()) options[key] = was;
    throw e;
  }
}

/** An lr factor by step: LambdaLR's and MultiplicativeLR's `lrLambda`. */
export type LrLambda = (epoch: number) => number;

/** @internal one lambda per parameter group (one given for all, or a list), or an Error. */
export function lambdasPerGroup(
  where: string,
  lrLambda: LrLambda | LrLambda[],
  groups: number,
): LrLambda[] {
  const fns = Array.isArray(lrLambda) ? [...lrLambda] : Array(groups).fill(lrLambda);
  if (fns.length !== groups || !fns.every((f) => typeof f === "function")) {
    throw new Error(
      `optim.${where}: lrLambda must be a function, or one per parameter group (${groups})`,
    );
  }
  return fns;
}

/** @internal `fn(epoch)`, which must be a finite number (NaN would reach every weight). */
export function lambdaFactor(where: string, fn: LrLambda, epoch: number): number {
  const factor = fn(epoch);
  if (typeof factor !== "number" || !Number.isFinite(factor)) {
    throw new Error(`optim.${where}: lrLambda(${epoch}) returned ${factor}, not a finite number`);
  }
  return factor;
}

/** @internal a positive integer option, or an Error naming it. */
export function positiveInteger(where: string, key: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`optim.${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** @internal a finite number option at least `least` (or above it, `strict`). */
export function finiteAtLeast(
  where: string,
  key: string,
  v: unknown,
  least: number,
  strict = false,
): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (strict ? v <= least : v < least)) {
    throw new Error(
      `optim.${where}: ${key} must be a finite number ${strict ? ">" : ">="} ${least}, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return v;
}

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
  /**
   * Each group's initial lr (that of the first schedule made over it), for
   * the groups this schedule was made over: a group added later has none,
   * as in torch.
   */
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
   * Called for every group, those added since the schedule was made too
   * (`i >= baseLrs.length`).
   */
  protected abstract nextLr(epoch: number, i: number, lr: number): number;

  /**
   * Group `i`'s lr at step 0 from `lr` (its lr now, or its initial lr when
   * SequentialLR starts with this schedule): unchanged here, as for the
   * decaying schedules; a warm-up gives its own.
   */
  protected lrAtStart(_i: number, lr: number): number {
    return lr;
  }

  /**
   * Group `i`'s lr when SequentialLR switches to this schedule at a
   * milestone (torch's `step(0)`: the closed form at step 0 where the
   * schedule has one, from the initial lr). Only called for the groups the
   * schedule was made over (torch's closed form zips with `base_lrs`).
   */
  protected restartLr(i: number, _lr: number): number {
    return this.lrAtStart(i, this.baseLrs[i]);
  }

  /** Sets step 0's learning rates (PyTorch's `_initial_step`); see the class doc. */
  protected initialStep(): void {
    const groups = this.optimizer.paramGroups;
    const lrs = groups.map((g, i) => this.lrAtStart(i, g.options.lr));
    setGroupOptions(this.optimizer, lrs.map((lr, i) => [i, "lr", lr]));
    this.lastEpoch = 0;
    this.recordLastLr();
  }

  /**
   * @internal SequentialLR's start of this schedule: made first in line
   * (`atMilestone` false, torch's `_initial_step()` after the lr was reset to
   * the initial one) or taking over at its milestone (torch's `step(0)`).
   */
  restart(atMilestone = true): void {
    if (!atMilestone) return this.initialStep();
    const groups = this.optimizer.paramGroups.slice(0, this.baseLrs.length);
    setGroupOptions(
      this.optimizer,
      groups.map((g, i) => [i, "lr", this.restartLr(i, g.options.lr)]),
    );
    this.lastEpoch = 0;
    this.recordLastLr();
  }

  /**
   * Advances the schedule by one step and sets the groups' lr: all of them
   * and the count, or, where one is refused (an lr below 0), none.
   */
  step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch(this.constructor.name, arguments.length);
    const epoch = this.lastEpoch + 1;
    const groups = this.optimizer.paramGroups;
    setGroupOptions(
      this.optimizer,
      groups.map((g, i) => [i, "lr", this.nextLr(epoch, i, g.options.lr)]),
    );
    this.lastEpoch = epoch;
    this.recordLastLr();
  }

  /** Keeps the groups' lr now as `lastLr` (a subclass that sets them itself calls it). */
  protected recordLastLr(): void {
    this.#lastLr = this.optimizer.paramGroups.map((g) => g.options.lr);
  }

  /**
   * The schedule's position, for checkpoints, and `lastLr` (torch's
   * `_last_lr`: `lastLr` after `loadStateDict` is the saved one). With `{
   * format: "torch" }`, PyTorch's layout (its `state_dict()`'s keys and
   * values), which torch's `load_state_dict` resumes from after `io.save`
   * to a `.pth` (see torch_scheduler_state.ts).
   *
   * @example
   * ```ts
   * import { nn, optim } from "@lits/vision";
   * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
   * const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
   * sched.step();
   * console.log(sched.stateDict().lastEpoch); // 1
   * console.log(sched.stateDict({ format: "torch" }).step_size); // 2
   * ```
   */
  stateDict(): Record<string, number | number[]>;
  stateDict(options: { format: "torch" }): TorchSchedulerStateDict;
  stateDict(options: SchedulerStateDictOptions): Record<string, number | number[]>;
  stateDict(
    options: SchedulerStateDictOptions = {},
  ): Record<string, number | number[]> | TorchSchedulerStateDict {
    if (stateDictFormat(this.constructor.name, arguments.length, options) === "torch") {
      return toTorchSchedulerStateDict(this);
    }
    return this.ownStateDict();
  }

  /** The position in this library's layout; a subclass adds its own entries. */
  protected ownStateDict(): Record<string, number | number[]> {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: this.lastLr };
  }

  /**
   * Restores a position saved by `stateDict()` (the same schedule's). Its
   * `baseLrs` may be fewer than the optimizer's groups: those of a schedule
   * made before `addParamGroup`, loaded into one made after, which then
   * treats the added groups as torch does (see the module doc). `lastLr`
   * becomes the saved one, as torch's `_last_lr`; a dict saved without it
   * (before it was saved) takes the groups' lr now. A dict in PyTorch's
   * layout (torch's `sched.state_dict()`, as `io.load` reads it) is
   * converted first (see torch_scheduler_state.ts).
   */
  loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    const n = this.optimizer.paramGroups.length;
    const lrs = (v: unknown) =>
      Array.isArray(v) && v.length >= 1 && v.length <= n && v.every((lr) => typeof lr === "number");
    if (
      !Number.isInteger(sd?.lastEpoch) || !lrs(sd.baseLrs) ||
      (sd.lastLr !== undefined && !lrs(sd.lastLr))
    ) {
      throw new Error(
        `${this.constructor.name}.loadStateDict: expected { lastEpoch, baseLrs } with at most ` +
          `${n} learning rates, one per group it was made over, and lastLr (optional) as a ` +
          `list of as many (what stateDict() gives), got ${JSON.stringify(sd)}`,
      );
    }
    this.lastEpoch = sd.lastEpoch as number;
    this.baseLrs.splice(0, this.baseLrs.length, ...(sd.baseLrs as number[]));
    if (sd.lastLr === undefined) this.recordLastLr();
    else this.#lastLr = [...(sd.lastLr as number[])];
  }
}

/**
 * @internal `sd` in this library's layout: converted where it is in torch's
 * (a schedule's `loadStateDict` opens with it).
 */
export function ownLayout(
  sched: LRScheduler,
  sd: Record<string, number | number[]> | TorchSchedulerStateDict,
): Record<string, number | number[]> {
  return isTorchSchedulerStateDict(sd)
    ? fromTorchSchedulerStateDict(sched, sd)
    : sd as Record<string, number | number[]>;
}

/** PyTorch's deprecated `step(epoch)`, which would be ignored silently here. */
export function stepTakesNoEpoch(name: string, given: number): Error {
  return new Error(
    `optim.${name}.step: takes at most 0 arguments, got ${given}: PyTorch's step(epoch) is ` +
      "deprecated (it jumps to the closed form) and not taken here; call sched.step() once per " +
      "epoch, or per batch (CosineAnnealingWarmRestarts alone takes step(epoch + i / iters), as " +
      "torch documents)",
  );
}

// torch's names (`sched.get_last_lr()`): each throws, naming ours.
addNameHints(LRScheduler.prototype, "LRScheduler", {
  get_last_lr: "read sched.lastLr (a property, not a method)",
  getLastLr: "read sched.lastLr (a property, not a method)",
  last_epoch: "write sched.lastEpoch",
  state_dict: "write sched.stateDict()",
  load_state_dict: "write sched.loadStateDict(sd)",
  base_lrs: "write sched.baseLrs",
});
