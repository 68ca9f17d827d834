/**
 * Settings that are each valid but together cannot do what they ask: early
 * stopping or the plateau schedule with too few validations to ever act.
 * A run with them still trains (the user may mean it); it is told once.
 *
 * @module
 */
import type { TrainConfig } from "./config.ts";

/** The plateau schedule's patience (`buildSchedule`): it lowers the lr at the 3rd bad validation. */
const PLATEAU_PATIENCE = 2;

/** How many validations a run makes: every `valEvery` epochs, and the last. */
export function validationCount(epochs: number, valEvery: number): number {
  return Math.floor(epochs / valEvery) + (epochs % valEvery === 0 ? 0 : 1);
}

/**
 * One line per pair of settings that cannot act in this run, as `fit`
 * prints them before training.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const config = { ...train.DEFAULTS, epochs: 5, valEvery: 100, earlyStopping: 3 };
 * console.log(train.planWarnings(config).length); // 1
 * ```
 */
export function planWarnings(config: TrainConfig): string[] {
  const out: string[] = [];
  const n = validationCount(config.epochs, config.valEvery);
  const runs = `${n} validation${n === 1 ? "" : "s"} (--epochs ${config.epochs}, ` +
    `--val-every ${config.valEvery})`;
  const patience = config.earlyStopping;
  // The first validation sets the best; stopping needs `patience` worse ones after it.
  if (patience > 0 && n <= patience) {
    out.push(
      `warning: --early-stopping ${patience} can never stop this run: it has ${runs}, and ` +
        `stopping needs ${patience + 1}`,
    );
  }
  if (config.scheduler === "plateau") {
    const lowers = PLATEAU_PATIENCE + 1;
    if (n <= lowers) {
      out.push(
        `warning: --scheduler plateau can never lower the learning rate: it has ${runs}, and ` +
          `lowering needs ${lowers + 1} (the first, then ${lowers} without improvement)`,
      );
    } else if (patience > 0 && patience <= lowers) {
      out.push(
        `warning: --early-stopping ${patience} stops the run at or before the plateau ` +
          `schedule's first lowering (the ${lowers}rd validation without improvement); give ` +
          `--early-stopping ${lowers + 1} or more to let the lower rate train`,
      );
    }
  }
  return out;
}
