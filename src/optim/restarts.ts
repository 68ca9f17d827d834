/**
 * `CosineAnnealingWarmRestarts` (SGDR), as
 * `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` (PyTorch 1.13).
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
} from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";
import { checkArity } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** Options of `CosineAnnealingWarmRestarts` (torch's T_0, T_mult, eta_min). */
export interface CosineAnnealingWarmRestartsOptions {
  /** Steps until the first restart (torch's T_0). */
  t0: number;
  /** Each cycle is this many times the one before (torch's T_mult; default 1). */
  tMult?: number;
  /** The lr at the bottom of each cycle (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `t0` steps, then
 * back to the initial lr and again, each cycle `tMult` times longer
 * (`CosineAnnealingWarmRestarts`, SGDR). As in torch, `step()` advances one
 * step and `step(epoch)` jumps to a (fractional) epoch, for stepping once
 * per batch: `sched.step(epoch + i / iters)`. Computed from the initial lr:
 * a group added to the optimizer since keeps its lr, as in torch.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.CosineAnnealingWarmRestarts(opt, { t0: 2, tMult: 2 });
 * const lrs = [];
 * for (let e = 0; e < 4; e++) {
 *   sched.step();
 *   lrs.push(sched.lastLr[0].toFixed(2));
 * }
 * console.log(lrs); // ["0.50", "1.00", "0.85", "0.50"]
 * sched.step(0.5); // half-way through the first epoch
 * console.log(sched.lastLr[0].toFixed(2)); // "0.85"
 * ```
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** Steps of the first cycle. */
  readonly t0: number;
  /** Growth of each cycle. */
  readonly tMult: number;
  /** The lr at the bottom of each cycle. */
  readonly etaMin: number;
  /** Steps of the current cycle (torch's T_i). */
  tI: number;
  /** Steps since the last restart, fractional after `step(epoch)` (torch's T_cur). */
  tCur = 0;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super(optimizer);
    const o = scheduleOptions<CosineAnnealingWarmRestartsOptions>(
      "CosineAnnealingWarmRestarts",
      arguments.length,
      options,
      ["t0", "tMult", "etaMin"],
      "new optim.CosineAnnealingWarmRestarts(opt, { t0: 10, tMult: 2, etaMin: 1e-6 })",
    );
    this.t0 = positiveInteger("CosineAnnealingWarmRestarts", "t0", o.t0);
    this.tMult = positiveInteger("CosineAnnealingWarmRestarts", "tMult", o.tMult ?? 1);
    this.etaMin = finiteAtLeast("CosineAnnealingWarmRestarts", "etaMin", o.etaMin ?? 0, 0);
    this.tI = this.t0;
    this.initialStep();
  }

  /** Group `i`'s lr at the current point of the cycle (`lr` for a group added since). */
  #lr(i: number, lr: number): number {
    if (i >= this.baseLrs.length) return lr;
    const eta = this.etaMin;
    return eta + (this.baseLrs[i] - eta) * (1 + Math.cos(Math.PI * this.tCur / this.tI)) / 2;
  }

  protected override lrAtStart(i: number, lr: number): number {
    return this.#lr(i, lr);
  }

  protected nextLr(_epoch: number, i: number, lr: number): number {
    return this.#lr(i, lr);
  }

  /**
   * Advances one step, or with `epoch` goes to that (fractional) epoch, as
   * torch's `step(epoch)`; the two may be mixed, as there.
   */
  override step(epoch?: number): void {
    checkArity(
      "optim.CosineAnnealingWarmRestarts.step",
      arguments.length,
      1,
      "sched.step() or sched.step(epoch + i / iters)",
    );
    let e: number;
    if (epoch === undefined) {
      e = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (typeof epoch !== "number" || !(epoch >= 0) || !Number.isFinite(epoch)) {
        throw new Error(
          `optim.CosineAnnealingWarmRestarts.step: epoch must be a non-negative number, got ${
            JSON.stringify(epoch)
          }`,
        );
      }
      e = epoch;
      const t0 = this.t0, m = this.tMult;
      if (e >= t0) {
        if (m === 1) {
          this.tCur = e % t0;
        } else {
          // torch's int(math.log(x, T_mult)): log(x) / log(T_mult), truncated.
          const n = Math.trunc(Math.log(e / t0 * (m - 1) + 1) / Math.log(m));
          this.tCur = e - t0 * (m ** n - 1) / (m - 1);
          this.tI = t0 * m ** n;
        }
      } else {
        this.tI = t0;
        this.tCur = e;
      }
    }
    this.lastEpoch = Math.floor(e);
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = this.#lr(i, g.options.lr);
    });
    this.recordLastLr();
  }

  /** SequentialLR's start of this schedule: epoch 0 (torch's step(0)). */
  override restart(): void {
    this.tI = this.t0;
    this.tCur = 0;
    this.lastEpoch = 0;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = this.#lr(i, g.options.lr);
    });
    this.recordLastLr();
  }

  /** The position (with the cycle's), for checkpoints. */
  protected override ownStateDict(): Record<string, number | number[]> {
    return { ...super.ownStateDict(), tI: this.tI, tCur: this.tCur };
  }

  /** Restores what `stateDict()` gave. */
  override loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    if (
      typeof sd?.tI !== "number" || !(sd.tI >= 1) || typeof sd.tCur !== "number" ||
      !(sd.tCur >= 0)
    ) {
      throw new Error(
        `CosineAnnealingWarmRestarts.loadStateDict: expected { lastEpoch, baseLrs, tI, tCur } ` +
          `(what stateDict() gives), got ${JSON.stringify(sd)}`,
      );
    }
    super.loadStateDict(sd);
    this.tI = sd.tI;
    this.tCur = sd.tCur;
  }
}

// torch's attribute names: each throws, naming ours.
addNameHints(CosineAnnealingWarmRestarts.prototype, "CosineAnnealingWarmRestarts", {
  T_0: "read sched.t0",
  T_i: "read sched.tI",
  T_cur: "read sched.tCur",
  T_mult: "read sched.tMult",
  eta_min: "read sched.etaMin",
});
