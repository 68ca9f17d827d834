/**
 * `ChainedScheduler`: several schedules stepped together, as
 * `torch.optim.lr_scheduler.ChainedScheduler` (PyTorch 1.13).
 *
 * @module
 */
import { LRScheduler, ownLayout, stepTakesNoEpoch } from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";
import { checkArity } from "../options.ts";
import { loadSchedules, withSchedules } from "./sequential.ts";

const USAGE = "new optim.ChainedScheduler([warmup, decay])";

/**
 * Steps every schedule of `schedulers`, in order, at each `step()`: their
 * effects compose where they are chainable (each moves the lr from where
 * the one before left it: StepLR, ExponentialLR, ConstantLR, LinearLR, ...),
 * and one that sets the lr outright (CyclicLR, OneCycleLR, LambdaLR)
 * replaces what came before it, as in torch. `lastLr` is the lr after the
 * last schedule. All must be over one optimizer. It cannot take turns in a
 * SequentialLR (torch's fails there too); put the SequentialLR in the chain
 * instead.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
 * const sched = new optim.ChainedScheduler([
 *   new optim.ConstantLR(opt, { factor: 0.1, totalIters: 2 }),
 *   new optim.ExponentialLR(opt, { gamma: 0.9 }),
 * ]);
 * const lrs = [sched.lastLr[0]];
 * for (let e = 0; e < 3; e++) {
 *   sched.step();
 *   lrs.push(sched.lastLr[0]);
 * }
 * console.log(lrs.map((v) => v.toFixed(4))); // ["0.1000", "0.0900", "0.8100", "0.7290"]
 * ```
 */
export class ChainedScheduler extends LRScheduler {
  /** The schedules, stepped in this order. */
  readonly schedulers: readonly LRScheduler[];

  /** Chains `schedulers` (made, each over the same optimizer), stepped in this order. */
  constructor(schedulers: LRScheduler[]) {
    checkArity("optim.ChainedScheduler", arguments.length, 1, USAGE);
    if (
      !Array.isArray(schedulers) || schedulers.length === 0 ||
      !schedulers.every((s) => s instanceof LRScheduler)
    ) {
      // ReduceLROnPlateau steps on a metric: a plain step() cannot drive it (torch's fails too).
      throw new Error(
        "optim.ChainedScheduler: takes a non-empty list of step-count schedules (StepLR, " +
          `ExponentialLR, CyclicLR, ...; not ReduceLROnPlateau): ${USAGE}`,
      );
    }
    const k = schedulers.findIndex((s) => s.optimizer !== schedulers[0].optimizer);
    if (k > 0) {
      throw new Error(
        `optim.ChainedScheduler: every schedule must be over one optimizer; schedule ${k} is ` +
          "over another than schedule 0's",
      );
    }
    super(schedulers[0].optimizer);
    this.schedulers = [...schedulers];
  }

  /** Steps every schedule, in order. */
  override step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch("ChainedScheduler", arguments.length);
    this.lastEpoch++;
    for (const s of this.schedulers) s.step();
    this.recordLastLr();
  }

  /** Refused: torch's SequentialLR cannot restart a chain either (it has no last_epoch there). */
  override restart(): void {
    throw new Error(
      "optim.ChainedScheduler cannot take turns in a SequentialLR (torch's fails there too); " +
        "chain the SequentialLR instead: new optim.ChainedScheduler([sequential, other])",
    );
  }

  /** Unused: step() sets the groups itself. */
  protected nextLr(_epoch: number, _i: number, lr: number): number {
    return lr; // step() hands each step to the schedules
  }

  /** The position, and each schedule's (under `0.`, `1.`, ...). */
  protected override ownStateDict(): Record<string, number | number[]> {
    return withSchedules(super.ownStateDict(), this.schedulers);
  }

  /** Restores what `stateDict()` gave, into each schedule. */
  override loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    loadSchedules(sd, this.schedulers, () => super.loadStateDict(sd));
  }
}
