/**
 * `ReduceLROnPlateau`, as `torch.optim.lr_scheduler.ReduceLROnPlateau`
 * (PyTorch 1.13): lowers the lr when a validation metric stops improving.
 * Unlike the other schedules it steps on a metric: `step(valLoss)`.
 *
 * @module
 */
import type { GroupOptions, Optimizer } from "./optimizer.ts";
import { type CallContract, checkArity, checkContract } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { Tensor } from "../tensor/tensor.ts";
import { refuseVerbose } from "./base.ts";
import {
  fromTorchPlateauStateDict,
  isTorchSchedulerStateDict,
  type SchedulerStateDictOptions,
  stateDictFormat,
  type TorchSchedulerStateDict,
} from "./torch_scheduler_state.ts";
import { toTorchPlateauStateDict } from "./torch_scheduler_write.ts";

/** Options of `ReduceLROnPlateau` (PyTorch's names, camelCase). */
export interface ReduceLROnPlateauOptions {
  /** "min" (default): lower is better, as a loss; "max": higher is better, as an accuracy. */
  mode?: "min" | "max";
  /** New lr = lr * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before lowering the lr (default 10). */
  patience?: number;
  /** Least change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** "rel" (default): relative to the best value; "abs": absolute. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr: one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** Changes of the lr smaller than this are skipped (default 1e-8). */
  eps?: number;
}

const NEW_REDUCE_LR_ON_PLATEAU: CallContract<ReduceLROnPlateauOptions> = {
  where: "optim.ReduceLROnPlateau",
  most: 2,
  known: ["mode", "factor", "patience", "threshold", "thresholdMode", "cooldown", "minLr", "eps"],
  usage: 'new optim.ReduceLROnPlateau(opt, { mode: "min", factor: 0.1, patience: 10 })',
};

function nonNegative(key: string, v: number, integer = false): number {
  if (typeof v !== "number" || !(v >= 0) || (integer && !Number.isInteger(v))) {
    throw new Error(
      `optim.ReduceLROnPlateau: ${key} must be a non-negative ${
        integer ? "integer" : "number"
      }, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function oneOf<T extends string>(key: string, v: T, allowed: readonly T[]): T {
  if (!allowed.includes(v)) {
    throw new Error(
      `optim.ReduceLROnPlateau: ${key} must be ${allowed.map((a) => `"${a}"`).join(" or ")}, got ${
        JSON.stringify(v)
      }`,
    );
  }
  return v;
}

/**
 * Multiplies the lr by `factor` once the metric has not improved for more
 * than `patience` epochs. Call `step(metric)` once per epoch, after
 * validation.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.ReduceLROnPlateau(opt, { patience: 1 });
 * for (const loss of [1, 1, 1]) sched.step(loss);
 * console.log(sched.lastLr); // [0.1]
 * ```
 */
export class ReduceLROnPlateau {
  /** "min" or "max": whether lower or higher metrics are better. */
  readonly mode: "min" | "max";
  /** What a reduction multiplies the lr by. */
  readonly factor: number;
  /** Epochs without improvement tolerated before a reduction. */
  readonly patience: number;
  /** Least change that counts as an improvement. */
  readonly threshold: number;
  /** Whether `threshold` is relative ("rel") or absolute ("abs"). */
  readonly thresholdMode: "rel" | "abs";
  /** Epochs after a reduction during which bad epochs are not counted. */
  readonly cooldown: number;
  /**
   * The lower bound of each group's lr. A minLr given as one number also
   * bounds groups added to the optimizer since; one given per group needs
   * the added group's bound pushed here (`sched.minLrs.push(1e-6)`).
   */
  readonly minLrs: number[];
  /** minLr when given as one number (for groups added since), else null. */
  readonly #minLrForAll: number | null;
  /** Changes of the lr smaller than this are skipped. */
  readonly eps: number;
  /** The best metric so far (Infinity, or -Infinity in "max" mode, before the first). */
  best: number;
  /** Epochs since the last improvement (reset by a reduction and during cooldown). */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** Completed `step(metric)` calls. */
  lastEpoch = 0;

  /** Watches `optimizer`'s groups; see `ReduceLROnPlateauOptions`. */
  constructor(
    readonly optimizer: Optimizer<GroupOptions & { lr: number }>,
    options: ReduceLROnPlateauOptions = {},
  ) {
    refuseVerbose("ReduceLROnPlateau", options);
    const o = checkContract(NEW_REDUCE_LR_ON_PLATEAU, arguments.length, options);
    this.mode = oneOf("mode", o.mode ?? "min", ["min", "max"]);
    this.factor = o.factor ?? 0.1;
    if (typeof this.factor !== "number" || !(this.factor >= 0 && this.factor < 1)) {
      throw new Error(`optim.ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    }
    this.patience = nonNegative("patience", o.patience ?? 10, true);
    this.threshold = nonNegative("threshold", o.threshold ?? 1e-4);
    this.thresholdMode = oneOf("thresholdMode", o.thresholdMode ?? "rel", ["rel", "abs"]);
    this.cooldown = nonNegative("cooldown", o.cooldown ?? 0, true);
    this.eps = nonNegative("eps", o.eps ?? 1e-8);
    const groups = optimizer.paramGroups.length;
    const minLr = o.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== groups) {
      throw new Error(
        `optim.ReduceLROnPlateau: minLr has ${minLr.length} values, the optimizer ${groups} groups`,
      );
    }
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array(groups).fill(minLr);
    this.minLrs.forEach((v) => nonNegative("minLr", v));
    this.#minLrForAll = Array.isArray(minLr) ? null : minLr;
    this.best = this.#worst();
  }

  #worst(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  /** The learning rate of each group now. */
  get lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.options.lr);
  }

  /** Whether `metric` beats the best so far by more than the threshold. */
  isBetter(metric: number): boolean {
    const t = this.threshold, best = this.best;
    if (this.mode === "min") {
      return this.thresholdMode === "rel" ? metric < best * (1 - t) : metric < best - t;
    }
    return this.thresholdMode === "rel" ? metric > best * (1 + t) : metric > best + t;
  }

  /**
   * Records this epoch's metric (a number, or a one-element tensor such as
   * a loss) and lowers the lr when it has stalled, as PyTorch's
   * `scheduler.step(val_loss)`.
   */
  step(metric: number | Tensor): void {
    checkArity("optim.ReduceLROnPlateau.step", arguments.length, 1, "sched.step(valLoss)");
    // torch takes float(metrics): a one-element tensor too (a loss tensor).
    if (metric instanceof Tensor) {
      if (metric.numel() !== 1) {
        throw new Error(
          `optim.ReduceLROnPlateau.step: needs this epoch's metric, one number, got a ` +
            `${metric.dtype} tensor of shape [${metric.shape}]; write sched.step(valLoss.item())`,
        );
      }
      metric = metric.item();
    }
    // NaN is allowed, as in PyTorch: it never improves, so it counts as a bad epoch.
    if (typeof metric !== "number") {
      throw new Error(
        `optim.ReduceLROnPlateau.step: needs this epoch's metric as a number, got ${
          metric === undefined ? "nothing" : JSON.stringify(metric)
        }; write sched.step(valLoss)`,
      );
    }
    this.#checkGroups();
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const lr = Math.max(g.options.lr * this.factor, this.minLrs[i]);
        if (g.options.lr - lr > this.eps) g.options.lr = lr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  /**
   * A group added to the optimizer since needs a minLr: minLr given as one
   * number covers it (as torch >= 2.2; 1.13 failed at its next reduction
   * with IndexError, after lowering the first groups); given per group, it
   * must be pushed (torch >= 2.2 asks the same).
   */
  #checkGroups(): void {
    const n = this.optimizer.paramGroups.length, have = this.minLrs.length;
    if (n <= have) {
      this.minLrs.forEach((v) => nonNegative("minLr", v)); // pushed by hand, perhaps
      return;
    }
    if (this.#minLrForAll !== null) {
      while (this.minLrs.length < n) this.minLrs.push(this.#minLrForAll);
      return;
    }
    throw new Error(
      `optim.ReduceLROnPlateau: the optimizer has ${n} parameter groups, minLr was given for ` +
        `${have} (one per group): give the ${n - have === 1 ? "new group's" : "new groups'"} ` +
        `lower bound before stepping on, sched.minLrs.push(${
          Array(n - have).fill("1e-6").join(", ")
        }) (torch 1.13 failed at its next reduction, with IndexError)`,
    );
  }

  /**
   * The schedule's position, for checkpoints; with `{ format: "torch" }`,
   * PyTorch's layout (its `state_dict()`), which torch's `load_state_dict`
   * resumes from after `io.save` to a `.pth`.
   *
   * @example
   * ```ts
   * import { nn, optim } from "@lits/vision";
   * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
   * const sched = new optim.ReduceLROnPlateau(opt, { patience: 1 });
   * sched.step(0.5);
   * console.log(sched.stateDict().best, sched.stateDict({ format: "torch" }).num_bad_epochs); // 0.5 0
   * ```
   */
  stateDict(): Record<string, number>;
  stateDict(options: { format: "torch" }): TorchSchedulerStateDict;
  stateDict(options: SchedulerStateDictOptions): Record<string, number>;
  stateDict(
    options: SchedulerStateDictOptions = {},
  ): Record<string, number> | TorchSchedulerStateDict {
    if (stateDictFormat("ReduceLROnPlateau", arguments.length, options) === "torch") {
      return toTorchPlateauStateDict(this);
    }
    return {
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
    };
  }

  /**
   * Restores a position saved by `stateDict()` (or by the older `{ best,
   * badEpochs }`), or by torch's `state_dict()` (as `io.load` reads it; its
   * options must be this schedule's).
   */
  loadStateDict(given: Record<string, number> | TorchSchedulerStateDict): void {
    const sd = isTorchSchedulerStateDict(given)
      ? fromTorchPlateauStateDict(this, given)
      : given as Record<string, number>;
    const known = ["best", "numBadEpochs", "cooldownCounter", "lastEpoch", "badEpochs"];
    const bad = typeof sd !== "object" || sd === null ? [String(sd)] : Object.entries(sd)
      // best is null after a JSON round trip of Infinity (before any metric).
      .filter(([k, v]) => !known.includes(k) || (typeof v !== "number" && v !== null))
      .map(([k]) => k);
    if (bad.length > 0) {
      // A misspelled key used to reset the schedule without a word.
      throw new Error(
        `ReduceLROnPlateau.loadStateDict: unexpected ${bad.join(", ")}; expected what ` +
          `stateDict() gives (${known.slice(0, 4).join(", ")}: numbers)`,
      );
    }
    this.best = typeof sd.best === "number" ? sd.best : this.#worst();
    this.numBadEpochs = sd.numBadEpochs ?? sd.badEpochs ?? 0;
    this.cooldownCounter = sd.cooldownCounter ?? 0;
    this.lastEpoch = sd.lastEpoch ?? 0;
  }
}

// torch's names (`sched.get_last_lr()`): each throws, naming ours.
addNameHints(ReduceLROnPlateau.prototype, "ReduceLROnPlateau", {
  get_last_lr: "read sched.lastLr (a property, not a method)",
  getLastLr: "read sched.lastLr (a property, not a method)",
  last_epoch: "write sched.lastEpoch",
  state_dict: "write sched.stateDict()",
  load_state_dict: "write sched.loadStateDict(sd)",
  base_lrs: "read opt.paramGroups.map((g) => g.lr)",
});
