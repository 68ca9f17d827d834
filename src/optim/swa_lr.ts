/**
 * `SWALR`, torch 1.13's `torch.optim.swa_utils.SWALR`: anneals each group's
 * lr to a constant SWA lr, for the averaging phase of Stochastic Weight
 * Averaging.
 *
 * @module
 */
import {
  type AnyOptimizer,
  finiteAtLeast,
  LRScheduler,
  ownLayout,
  scheduleOptions,
  setTorchGroupEntries,
  stepTakesNoEpoch,
} from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** Options of `SWALR` (torch's `swa_lr`, `anneal_epochs`, `anneal_strategy`, `last_epoch`). */
export interface SWALROptions {
  /** The lr to anneal to: one for every group, or one per group (required). */
  swaLr: number | number[];
  /** Steps of the annealing (default 10; 0 sets swaLr at once). */
  annealEpochs?: number;
  /** "cos" (default) or "linear". */
  annealStrategy?: "cos" | "linear";
  /**
   * The count to resume from (default -1: start), as torch's `last_epoch`:
   * it sets `lastEpoch` only; the annealing itself counts the steps since
   * the schedule was made, as torch 1.13's does (its `_step_count`).
   */
  lastEpoch?: number;
}

const USAGE = "new optim.swaUtils.SWALR(opt, { swaLr: 0.05, annealEpochs: 10 })";
const KEYS: (keyof SWALROptions)[] = ["swaLr", "annealEpochs", "annealStrategy", "lastEpoch"];

const ANNEAL = {
  cos: (t: number) => (1 - Math.cos(Math.PI * t)) / 2,
  linear: (t: number) => t,
} as const;

const clamp01 = (v: number) => Math.max(0, Math.min(1, v));

/** The options of `SWALR`, checked, with one swaLr per group. */
function parse(optimizer: AnyOptimizer, given: number, options: SWALROptions) {
  const o = scheduleOptions<SWALROptions>("swaUtils.SWALR", given, options, KEYS, USAGE);
  const groups = optimizer?.paramGroups;
  if (!Array.isArray(groups)) {
    throw new Error(
      `optim.swaUtils.SWALR: expected an optimizer first, got ${typeof optimizer}; ${USAGE}`,
    );
  }
  if (o.swaLr === undefined) {
    throw new Error(`optim.swaUtils.SWALR: swaLr is required; write ${USAGE}`);
  }
  const lrs = Array.isArray(o.swaLr) ? o.swaLr : groups.map(() => o.swaLr as number);
  if (lrs.length !== groups.length) {
    // torch: "swa_lr must have the same length as optimizer.param_groups"
    throw new Error(
      `optim.swaUtils.SWALR: swaLr has ${lrs.length} values, the optimizer ${groups.length} ` +
        "parameter groups: give one per group, or one number for all",
    );
  }
  const swaLrs = lrs.map((v) => finiteAtLeast("swaUtils.SWALR", "swaLr", v, 0));
  const annealEpochs = o.annealEpochs ?? 10;
  if (typeof annealEpochs !== "number" || !Number.isInteger(annealEpochs) || annealEpochs < 0) {
    throw new Error(
      `optim.swaUtils.SWALR: annealEpochs must be an integer >= 0, got ${
        JSON.stringify(o.annealEpochs)
      }`,
    );
  }
  const annealStrategy = o.annealStrategy ?? "cos";
  if (annealStrategy !== "cos" && annealStrategy !== "linear") {
    throw new Error(
      `optim.swaUtils.SWALR: annealStrategy must be "cos" or "linear", got ${
        JSON.stringify(o.annealStrategy)
      }`,
    );
  }
  const lastEpoch = o.lastEpoch ?? -1;
  if (typeof lastEpoch !== "number" || !Number.isInteger(lastEpoch) || lastEpoch < -1) {
    throw new Error(
      `optim.swaUtils.SWALR: lastEpoch must be an integer >= -1 (-1 to start), got ${
        JSON.stringify(o.lastEpoch)
      }`,
    );
  }
  return { swaLrs, annealEpochs, annealStrategy, lastEpoch };
}

/**
 * Anneals each group's lr from where it stands to `swaLr` over
 * `annealEpochs` steps, cosine or linear, then holds it there (torch 1.13's
 * `SWALR`). Made after the main schedule (usually when SWA starts), it
 * carries on from that schedule's lr: each step works back from the lr now
 * (torch's chainable form), so an lr set by hand between steps is annealed
 * from too. Step 0 (when made) leaves the lr as it is, unless annealEpochs
 * is 0, which sets swaLr at once. A group added to the optimizer after it
 * was made has no swaLr (torch's KeyError): `step()` then throws.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 0.1 });
 * const swaSched = new optim.swaUtils.SWALR(opt, { swaLr: 0.05, annealEpochs: 2 });
 * swaSched.step();
 * console.log(swaSched.lastLr[0].toFixed(3)); // "0.075"
 * swaSched.step();
 * console.log(swaSched.lastLr); // [0.05]
 * ```
 */
export class SWALR extends LRScheduler {
  /** Each group's SWA lr. */
  readonly swaLrs: number[];
  /** Steps of the annealing. */
  readonly annealEpochs: number;
  /** The annealing's shape. */
  readonly annealStrategy: "cos" | "linear";
  /** Steps since made: the annealing's position (torch's `_step_count - 1`). */
  #steps = 0;

  /** Anneals `optimizer`'s groups; see `SWALROptions`. Applies step 0 now. */
  constructor(optimizer: AnyOptimizer, options: SWALROptions) {
    const c = parse(optimizer, arguments.length, options);
    super(optimizer);
    this.swaLrs = c.swaLrs;
    this.annealEpochs = c.annealEpochs;
    this.annealStrategy = c.annealStrategy;
    this.initialStep();
    if (c.lastEpoch !== -1) this.lastEpoch = c.lastEpoch + 1;
    // torch keeps swa_lr in the groups: an optimizer dict in torch's layout carries it.
    optimizer.paramGroups.forEach((g, i) => setTorchGroupEntries(g, { swa_lr: this.swaLrs[i] }));
  }

  /** Group `i`'s lr at annealing step `step`, from its lr now (torch 1.13's get_lr). */
  #lrAt(step: number, i: number, lr: number): number {
    if (i >= this.swaLrs.length) {
      throw new Error(
        `optim.swaUtils.SWALR: parameter group ${i} was added after the schedule was made and ` +
          "has no swaLr (torch raises KeyError 'swa_lr'); make the SWALR after addParamGroup",
      );
    }
    const swa = this.swaLrs[i], anneal = ANNEAL[this.annealStrategy];
    const epochs = Math.max(1, this.annealEpochs);
    if (this.annealEpochs === 0) step = Math.max(1, step);
    // The lr before the last step's annealing, worked back from the lr now.
    const prevAlpha = anneal(clamp01((step - 1) / epochs));
    const prevLr = prevAlpha === 1 ? swa : (lr - prevAlpha * swa) / (1 - prevAlpha);
    const alpha = anneal(clamp01(step / epochs));
    return swa * alpha + prevLr * (1 - alpha);
  }

  /** Step 0: the lr as it is (swaLr where annealEpochs is 0). */
  protected override lrAtStart(i: number, lr: number): number {
    return this.#lrAt(0, i, lr);
  }

  /** The next annealing step's lr, from the lr now. */
  protected nextLr(_epoch: number, i: number, lr: number): number {
    return this.#lrAt(this.#steps, i, lr);
  }

  /** Advances the annealing by one step and sets the groups' lr (all of them, or none). */
  override step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch("swaUtils.SWALR", arguments.length);
    this.#steps++;
    try {
      super.step();
    } catch (e) {
      this.#steps--;
      throw e;
    }
  }

  /**
   * @internal SequentialLR's start: made first in line, the annealing
   * starts again (torch's `_initial_step()`); at a milestone, torch's
   * `step(0)`, which for SWALR is one more annealing step from the lr now.
   */
  override restart(atMilestone = true): void {
    if (!atMilestone) {
      this.#steps = 0;
      return this.initialStep();
    }
    this.step();
    this.lastEpoch = 0;
  }

  /** The position, with the annealing's (`stepCount`, torch's `_step_count`) and the swaLrs. */
  protected override ownStateDict(): Record<string, number | number[]> {
    return { ...super.ownStateDict(), stepCount: this.#steps + 1, swaLrs: [...this.swaLrs] };
  }

  /** Restores what `stateDict()` gave (annealEpochs and annealStrategy: the constructor's). */
  override loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    const n = this.optimizer.paramGroups.length;
    const swaLrs = sd?.swaLrs;
    if (
      !Number.isInteger(sd?.stepCount) || (sd.stepCount as number) < 1 ||
      !Array.isArray(swaLrs) || swaLrs.length < 1 || swaLrs.length > n ||
      !swaLrs.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0)
    ) {
      throw new Error(
        `SWALR.loadStateDict: expected { lastEpoch, baseLrs, stepCount, swaLrs } (what ` +
          `stateDict() of a SWALR gives: stepCount an integer >= 1, at most ${n} swaLrs), got ` +
          JSON.stringify(sd),
      );
    }
    super.loadStateDict(sd);
    this.#steps = (sd.stepCount as number) - 1;
    this.swaLrs.splice(0, this.swaLrs.length, ...swaLrs);
  }
}

// torch's names (`sched.swa_lrs`, `anneal_epochs`): each throws, naming ours.
addNameHints(SWALR.prototype, "SWALR", {
  anneal_epochs: "write sched.annealEpochs",
  anneal_func: "read sched.annealStrategy",
});
