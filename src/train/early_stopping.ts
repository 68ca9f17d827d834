/**
 * Early stopping on the validation loss, as PyTorch Lightning's
 * `EarlyStopping(monitor="val_loss", patience)`: remembers the lowest loss
 * and its epoch (the weights `fit` keeps in best.safetensors) and ends the
 * run after `patience` validations without a lower one (0: never).
 *
 * Its numbers live in the run's `TrainerState`, which every checkpoint
 * stores, so a resumed run counts on from where it stopped.
 *
 * @module
 */
import type { TrainerState } from "./checkpoint.ts";

/** `TrainerState` with the flag a finished early stop leaves in the last checkpoint. */
export type RunState = TrainerState & { stopped?: boolean };

/** What one validation meant. */
export type Verdict = "best" | "stop" | null;

/** Early stopping over a run's state (see the module doc). */
export class EarlyStopping {
  constructor(readonly patience: number, readonly state: RunState) {}

  /** Records epoch `epoch`'s validation loss: "best" (save the weights), "stop", or null. */
  observe(epoch: number, valLoss: number): Verdict {
    const s = this.state;
    if (valLoss < s.bestValLoss) {
      s.bestValLoss = valLoss;
      s.bestEpoch = epoch;
      s.badValidations = 0;
      return "best";
    }
    if (this.patience > 0 && ++s.badValidations >= this.patience) {
      s.stopped = true;
      return "stop";
    }
    return null;
  }

  /** Whether the run has stopped early. */
  get stopped(): boolean {
    return this.state.stopped === true;
  }

  /** Whether the run ends on weights worse than the best ones, which it then restores. */
  restoresBest(lastEpoch: number): boolean {
    const best = this.state.bestEpoch;
    return this.patience > 0 && best > 0 && best !== lastEpoch;
  }

  /** The epoch-line note of a verdict. */
  note(verdict: Verdict): string {
    if (verdict === "stop") {
      return `early stop: no lower val loss for ${this.patience} validations`;
    }
    return verdict ?? "";
  }
}
