/**
 * `OneCycleLR`, as `torch.optim.lr_scheduler.OneCycleLR` (PyTorch 1.13):
 * the one-cycle policy, stepped once per batch.
 *
 * @module
 */
import {
  type AnyOptimizer,
  finiteAtLeast,
  LRScheduler,
  ownLayout,
  positiveInteger,
  scheduleOptions,
  setGroupOptions,
  setInitialLr,
  setTorchGroupEntries,
  stepTakesNoEpoch,
} from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";

/** Options of `OneCycleLR` (torch's names in camelCase, torch's defaults). */
export interface OneCycleLROptions {
  /** Peak learning rate: one for every group, or one per group (as torch's max_lr list). */
  maxLr: number | number[];
  /** Number of `step()` calls in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** Epochs of the cycle: totalSteps = epochs * stepsPerEpoch. */
  epochs?: number;
  /** Batches per epoch (`loader.length`): totalSteps = epochs * stepsPerEpoch. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent warming up (default 0.3). */
  pctStart?: number;
  /** "cos" (default): cosine annealing; "linear": straight lines. */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (SGD) or beta1 (Adam, AdamW) inversely to the lr (default true, as torch). */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak (default 0.85): one for every group, or one per group. */
  baseMomentum?: number | number[];
  /** Momentum at the start and end of the cycle (default 0.95): one for every group, or one per group. */
  maxMomentum?: number | number[];
  /** Initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /**
   * false (default, fastai's two phases): warm up, then anneal to the final
   * lr. true (the paper's three): warm up, come back down to the initial lr
   * over as many steps, then anneal to the final lr.
   */
  threePhase?: boolean;
}

const USAGE = "new optim.OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: loader.length })";

/** The lr and momentum a phase goes from and to, by name. */
type LrAt = "initial" | "max" | "min";
type MomentumAt = "max" | "base";
interface Phase {
  /** The step at which the phase ends (fractional, as torch's). */
  end: number;
  lr: [LrAt, LrAt];
  momentum: [MomentumAt, MomentumAt];
}

/**
 * One-cycle policy (`OneCycleLR`, PyTorch's defaults): warm up from
 * maxLr/divFactor to maxLr over pctStart of the cycle, then anneal to
 * maxLr/(divFactor*finalDivFactor) (with `threePhase`, first back down to
 * maxLr/divFactor). The cycle is `totalSteps` long, or `epochs *
 * stepsPerEpoch`. Like torch (cycleMomentum is on by default), the momentum
 * of SGD or the beta1 of Adam and AdamW moves the other way, from
 * maxMomentum down to baseMomentum and back: it replaces the optimizer's own
 * value, and gives SGD made without momentum a momentum. maxLr,
 * baseMomentum and maxMomentum each take one number for every group or a
 * list with one per group, as torch's. Pass `cycleMomentum: false` to
 * leave the momentum alone. Call `step()` after every batch.
 * The values follow torch's, but for the step() after the last batch with
 * `annealStrategy: "linear"`: there torch extrapolates the line to a
 * negative lr (which the optimizers here refuse), and here the lr and
 * momentum stay at the cycle's final values (no batch trains with them).
 *
 * It needs a maxLr for each group, so it refuses to step once a group was
 * added to the optimizer (torch's fails there too, with KeyError
 * 'initial_lr'); its error shows how to carry on over all the groups.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.OneCycleLR(opt, { maxLr: 0.1, epochs: 2, stepsPerEpoch: 5 });
 * console.log(sched.totalSteps); // 10
 * console.log(sched.lastLr[0].toFixed(4)); // "0.0040"
 * console.log(opt.paramGroups[0].options.momentum); // 0.95
 * const linear = new optim.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, annealStrategy: "linear" });
 * linear.step();
 * console.log(linear.lastLr[0].toFixed(4)); // "0.0520"
 * const two = new optim.SGD([
 *   { params: new nn.Linear(2, 2).parameters() },
 *   { params: new nn.Linear(2, 2).parameters() },
 * ], { lr: 1 });
 * new optim.OneCycleLR(two, { maxLr: [0.1, 0.01], totalSteps: 10, maxMomentum: [0.95, 0.9] });
 * console.log(two.paramGroups.map((g) => g.momentum)); // [0.95, 0.9]
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** Each group's peak learning rate. */
  readonly maxLrs: number[];
  /** Steps in the cycle. */
  readonly totalSteps: number;
  readonly pctStart: number;
  /** "cos" or "linear". */
  readonly annealStrategy: "cos" | "linear";
  readonly divFactor: number;
  readonly finalDivFactor: number;
  /** Whether the cycle has the paper's three phases. */
  readonly threePhase: boolean;
  /** Whether momentum / beta1 cycles. */
  readonly cycleMomentum: boolean;
  /** Momentum at the lr's peak: one for every group, or one per group (as given). */
  readonly baseMomentum: number | number[];
  /** Momentum at the ends of the cycle: one for every group, or one per group (as given). */
  readonly maxMomentum: number | number[];
  readonly #phases: Phase[];
  /** The options as given, for the error after addParamGroup. */
  readonly #given: OneCycleLROptions;

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super(optimizer);
    const o = scheduleOptions<OneCycleLROptions>("OneCycleLR", arguments.length, options, [
      "maxLr",
      "totalSteps",
      "epochs",
      "stepsPerEpoch",
      "pctStart",
      "annealStrategy",
      "cycleMomentum",
      "baseMomentum",
      "maxMomentum",
      "divFactor",
      "finalDivFactor",
      "threePhase",
    ], USAGE);
    this.#given = { ...o };
    this.totalSteps = totalSteps(o);
    const groups = optimizer.paramGroups.length;
    const peaks = Array.isArray(o.maxLr) ? [...o.maxLr] : Array(groups).fill(o.maxLr);
    if (peaks.length !== groups) {
      throw new Error(
        `optim.OneCycleLR: maxLr has ${peaks.length} values for ${groups} parameter groups; ` +
          "give one number, or one per group",
      );
    }
    peaks.forEach((m) => {
      if (!(typeof m === "number" && m > 0 && Number.isFinite(m))) {
        throw new Error(`optim.OneCycleLR: maxLr must be > 0, got ${JSON.stringify(o.maxLr)}`);
      }
    });
    this.maxLrs = peaks;
    this.pctStart = o.pctStart ?? 0.3;
    if (!(typeof this.pctStart === "number" && this.pctStart >= 0 && this.pctStart <= 1)) {
      throw new Error(`optim.OneCycleLR: pctStart must be in [0, 1], got ${o.pctStart}`);
    }
    this.annealStrategy = o.annealStrategy ?? "cos";
    if (this.annealStrategy !== "cos" && this.annealStrategy !== "linear") {
      throw new Error(
        `optim.OneCycleLR: annealStrategy must be "cos" or "linear", got ${
          JSON.stringify(o.annealStrategy)
        }`,
      );
    }
    this.divFactor = finiteAtLeast("OneCycleLR", "divFactor", o.divFactor ?? 25, 0, true);
    this.finalDivFactor = finiteAtLeast(
      "OneCycleLR",
      "finalDivFactor",
      o.finalDivFactor ?? 1e4,
      0,
      true,
    );
    this.threePhase = flag("threePhase", o.threePhase ?? false);
    this.cycleMomentum = flag("cycleMomentum", o.cycleMomentum ?? true);
    this.baseMomentum = momenta("baseMomentum", o.baseMomentum ?? 0.85, groups);
    this.maxMomentum = momenta("maxMomentum", o.maxMomentum ?? 0.95, groups);
    const T = this.totalSteps, p = this.pctStart;
    if (this.threePhase && p > 0.5) {
      // The second phase would end past the cycle: the lr never anneals to its end.
      throw new Error(
        `optim.OneCycleLR: with threePhase, pctStart must be at most 0.5 (warm-up and the ` +
          `way back down take pctStart each), got ${p}`,
      );
    }
    // torch's phases: the step each ends at, and what lr and momentum go from and to.
    this.#phases = this.threePhase
      ? [
        { end: p * T - 1, lr: ["initial", "max"], momentum: ["max", "base"] },
        { end: 2 * p * T - 2, lr: ["max", "initial"], momentum: ["base", "max"] },
        { end: T - 1, lr: ["initial", "min"], momentum: ["max", "max"] },
      ]
      : [
        { end: p * T - 1, lr: ["initial", "max"], momentum: ["max", "base"] },
        { end: T - 1, lr: ["max", "min"], momentum: ["base", "max"] },
      ];
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
    optimizer.paramGroups.forEach((_, i) => (this.baseLrs[i] = this.maxLrs[i] / this.divFactor));
    this.apply(0);
    // torch writes each group's initial_lr (maxLr / divFactor): schedules made
    // after start there. Only once step 0 is set: a refused one leaves none.
    optimizer.paramGroups.forEach((g, i) => setInitialLr(g, this.baseLrs[i]));
    // And the rest torch keeps in the groups, for an optimizer dict in torch's layout.
    const at = (m: number | number[], i: number) => (Array.isArray(m) ? m[i] : m);
    optimizer.paramGroups.forEach((g, i) =>
      setTorchGroupEntries(g, {
        max_lr: this.maxLrs[i],
        min_lr: this.baseLrs[i] / this.finalDivFactor,
        ...(this.cycleMomentum
          ? { max_momentum: at(this.maxMomentum, i), base_momentum: at(this.baseMomentum, i) }
          : {}),
      })
    );
  }

  /**
   * Sets every group's lr and (when cycling) momentum for `step`: all of
   * them, or, where the optimizer refuses one (Adam's beta1 must be below
   * 1), none, as `setGroupOptions`.
   */
  private apply(step: number): void {
    this.checkGroups();
    // As PyTorch: a step() after each of totalSteps batches is allowed (the
    // last one past the cycle's end), one more is not.
    if (step > this.totalSteps) {
      throw new Error(`OneCycleLR: stepped ${step} times, more than totalSteps ${this.totalSteps}`);
    }
    const writes: [number, string, unknown][] = [];
    for (const [i, g] of this.optimizer.paramGroups.entries()) {
      const [lr, momentum] = this.at(step, i);
      writes.push([i, "lr", lr]);
      if (!this.cycleMomentum) continue;
      const opts = g.options as Record<string, unknown>;
      if (Array.isArray(opts.betas)) writes.push([i, "betas", [momentum, opts.betas[1]]]);
      else writes.push([i, "momentum", momentum]);
    }
    setGroupOptions(this.optimizer, writes);
    this.recordLastLr();
  }

  /** Advances one batch: the groups' lr and momentum (all, or on an Error none, nor the count). */
  override step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch("OneCycleLR", arguments.length);
    this.checkGroups(); // before the count moves: the error's lastEpoch is where it stands
    this.apply(this.lastEpoch + 1);
    this.lastEpoch++;
  }

  /** SequentialLR's start of this schedule: step 0 of the cycle, whatever the lr now. */
  override restart(): void {
    this.apply(0);
    this.lastEpoch = 0;
  }

  protected nextLr(step: number, i: number): number {
    return this.at(step, i)[0];
  }

  /** Each group's momentum at the lr's peak (torch's group["base_momentum"]). */
  get baseMomentums(): number[] {
    return perGroup(this.baseMomentum, this.maxLrs.length);
  }

  /** Each group's momentum at the ends of the cycle (torch's group["max_momentum"]). */
  get maxMomentums(): number[] {
    return perGroup(this.maxMomentum, this.maxLrs.length);
  }

  /** The cycle's settings as numbers (flags 0 or 1), saved beside the position. */
  #cycle(): Record<string, number | number[]> {
    return {
      totalSteps: this.totalSteps,
      maxLrs: [...this.maxLrs],
      pctStart: this.pctStart,
      divFactor: this.divFactor,
      finalDivFactor: this.finalDivFactor,
      annealCos: this.annealStrategy === "cos" ? 1 : 0,
      threePhase: this.threePhase ? 1 : 0,
      cycleMomentum: this.cycleMomentum ? 1 : 0,
      baseMomentum: structuredClone(this.baseMomentum),
      maxMomentum: structuredClone(this.maxMomentum),
    };
  }

  /** The position and the cycle it belongs to (torch's state dict carries the cycle too). */
  protected override ownStateDict(): Record<string, number | number[]> {
    return { ...super.ownStateDict(), ...this.#cycle() };
  }

  /**
   * Restores a position saved by `stateDict()`. A position belongs to its
   * cycle: a dict saved by a OneCycleLR with other settings (more steps, a
   * new maxLr) is refused, naming what differs, rather than continued on a
   * cycle it was not made for. (torch's load replaces the cycle with the
   * saved one instead.) A dict saved without the cycle loads as before. A
   * momentum saved as one number matches the same number in every group.
   */
  override loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    const mine = this.#cycle();
    const n = this.maxLrs.length;
    // One number for all groups and a list of it are the same cycle.
    const same = (k: string) =>
      k === "baseMomentum" || k === "maxMomentum"
        ? JSON.stringify(perGroup(sd[k], n)) === JSON.stringify(perGroup(mine[k], n))
        : JSON.stringify(sd[k]) === JSON.stringify(mine[k]);
    const differ = Object.keys(mine).filter((k) => k in (sd ?? {}) && !same(k));
    if (differ.length > 0) {
      throw new Error(
        `OneCycleLR.loadStateDict: the state dict was saved by a OneCycleLR with other ` +
          `settings (${
            differ.map((k) => `${k} ${JSON.stringify(sd[k])}, here ${JSON.stringify(mine[k])}`)
              .join("; ")
          }); build the OneCycleLR with the saved settings to resume its cycle`,
      );
    }
    super.loadStateDict(sd);
  }

  /** Group `i`'s lr and momentum at `step`: torch's phases, closed form. */
  private at(step: number, i: number): [number, number] {
    const initial = this.maxLrs[i] / this.divFactor;
    const lrs = { initial, max: this.maxLrs[i], min: initial / this.finalDivFactor };
    const momenta = {
      max: perGroup(this.maxMomentum, this.maxLrs.length)[i],
      base: perGroup(this.baseMomentum, this.maxLrs.length)[i],
    };
    const anneal = this.annealStrategy === "cos"
      ? (from: number, to: number, pct: number) =>
        to + (from - to) / 2 * (Math.cos(Math.PI * pct) + 1)
      : (from: number, to: number, pct: number) => (to - from) * pct + from;
    let start = 0;
    for (const [k, phase] of this.#phases.entries()) {
      if (step <= phase.end || k === this.#phases.length - 1) {
        let pct = (step - start) / (phase.end - start);
        // The step() after the last batch is past the cycle's end: torch's
        // straight line goes on below the final lr, to a negative lr, which
        // the optimizers refuse. It stays at the end (no batch uses it).
        if (this.annealStrategy === "linear") pct = Math.min(pct, 1);
        return [
          anneal(lrs[phase.lr[0]], lrs[phase.lr[1]], pct),
          anneal(momenta[phase.momentum[0]], momenta[phase.momentum[1]], pct),
        ];
      }
      start = phase.end;
    }
    throw new Error("unreachable: the last phase takes every step");
  }

  /**
   * Throws once the optimizer has a group this schedule has no maxLr for,
   * showing how to carry on (torch's fails with KeyError 'initial_lr').
   */
  private checkGroups(): void {
    const n = this.optimizer.paramGroups.length, made = this.maxLrs.length;
    if (n === made) return;
    // A momentum list needs the new groups' too.
    const given = Object.entries(this.#given)
      .filter(([k, v]) => k !== "maxLr" && v !== undefined)
      .map(([k, v]) =>
        Array.isArray(v)
          ? `${k}: [${[...v, ...Array(n - made).fill(`<its ${k}>`)].join(", ")}]`
          : `${k}: ${JSON.stringify(v)}`
      );
    const peaks = [...this.maxLrs, ...Array(n - made).fill("<its peak>")].join(", ");
    throw new Error(
      `optim.OneCycleLR: the optimizer has ${n} parameter groups, this schedule was made over ` +
        `${made}: a group added since has no maxLr (torch's fails here too, with KeyError ` +
        `'initial_lr'). To carry on this cycle over every group, in place of this ` +
        `sched.step() write: sched = new optim.OneCycleLR(opt, { maxLr: [${peaks}], ` +
        `${given.join(", ")} }); sched.lastEpoch = ${this.lastEpoch}; sched.step(); or start ` +
        `a fresh cycle over the steps left, as fastai's fine_tune does after unfreezing: ` +
        `new optim.OneCycleLR(opt, { maxLr: [${peaks}], totalSteps: ${
          this.totalSteps - this.lastEpoch
        } })`,
    );
  }
}

/** torch's total_steps, or epochs * steps_per_epoch. */
function totalSteps(o: OneCycleLROptions): number {
  const perEpoch = o.epochs !== undefined || o.stepsPerEpoch !== undefined;
  if (o.totalSteps === undefined && !perEpoch) {
    throw new Error(
      `optim.OneCycleLR: give totalSteps, or epochs and stepsPerEpoch: ${USAGE}`,
    );
  }
  let fromEpochs: number | undefined;
  if (perEpoch) {
    if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
      throw new Error(
        `optim.OneCycleLR: epochs and stepsPerEpoch go together (the cycle is their product), ` +
          `got only ${o.epochs === undefined ? "stepsPerEpoch" : "epochs"}: ${USAGE}`,
      );
    }
    fromEpochs = positiveInteger("OneCycleLR", "epochs", o.epochs) *
      positiveInteger("OneCycleLR", "stepsPerEpoch", o.stepsPerEpoch);
  }
  if (o.totalSteps !== undefined && fromEpochs !== undefined && o.totalSteps !== fromEpochs) {
    // torch takes total_steps and ignores the others without a word.
    throw new Error(
      `optim.OneCycleLR: totalSteps ${o.totalSteps} is not epochs * stepsPerEpoch ` +
        `(${fromEpochs}); give one or the other`,
    );
  }
  const total = o.totalSteps ?? fromEpochs!;
  if (!Number.isInteger(total) || total < 2) {
    throw new Error(`optim.OneCycleLR: totalSteps must be an integer >= 2, got ${total}`);
  }
  return total;
}

/**
 * A momentum option: one finite number >= 0 for every group, or a list of
 * one per group (torch's base_momentum / max_momentum lists), as given.
 */
function momenta(key: string, v: unknown, groups: number): number | number[] {
  if (!Array.isArray(v)) return finiteAtLeast("OneCycleLR", key, v, 0);
  if (v.length !== groups) {
    // torch: "expected 2 values for max_momentum, got 1"
    throw new Error(
      `optim.OneCycleLR: ${key} has ${v.length} values for ${groups} parameter groups; ` +
        "give one number, or one per group",
    );
  }
  for (const m of v) {
    if (!(typeof m === "number" && Number.isFinite(m) && m >= 0)) {
      throw new Error(
        `optim.OneCycleLR: ${key} must be a finite number >= 0, or one per group, got ${
          JSON.stringify(v)
        }`,
      );
    }
  }
  return [...v];
}

/** One value per group: a list as it is, one number repeated. */
function perGroup<T>(v: T | T[], groups: number): T[] {
  return Array.isArray(v) ? [...v] : Array(groups).fill(v);
}

function flag(key: string, v: unknown): boolean {
  if (typeof v !== "boolean") {
    throw new Error(`optim.OneCycleLR: ${key} must be true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}
