/**
 * What a person watching `deno task train` sees: a progress bar while an
 * epoch runs (cli-progress: loss, images per second, ETA), then one line
 * per epoch. The bar goes to stderr and only on a terminal, so logs and
 * pipes get the epoch lines alone.
 *
 * @module
 */
// @ts-types="npm:@types/cli-progress@3.11.6"
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import cliProgress from "npm:cli-progress@3.12.0";
import process from "node:process";
import type { HistoryEntry } from "../eval/report/types.ts";

/** Receives the trainer's progress within an epoch. */
export interface Progress {
  /** An epoch of `total` batches begins. */
  start(epoch: number, epochs: number, total: number): void;
  /** `done` batches finished; running mean loss and throughput. */
  update(done: number, loss: number, imagesPerSecond: number): void;
  /** The epoch's batches are done (the bar disappears). */
  stop(): void;
}

/** A progress sink that shows nothing (tests, experiments, no terminal). */
export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

/**
 * A cli-progress bar on stderr, drawn only when stderr is a terminal.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const bar = train.progressBar();
 * bar.start(1, 3, 10);
 * bar.update(5, 0.71, 480);
 * bar.stop();
 * ```
 */
export function progressBar(): Progress {
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(epoch, epochs, total) {
      bar = new cliProgress.SingleBar(
        {
          format: `epoch ${epoch}/${epochs} {bar} {value}/{total} | loss {loss} | ` +
            `{speed} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { loss: "-", speed: "-" });
    },
    update(done, loss, imagesPerSecond) {
      bar?.update(done, { loss: loss.toFixed(4), speed: imagesPerSecond.toFixed(0) });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The line printed after each epoch.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.epochLine({ epoch: 2, trainLoss: 0.41, trainAcc: 0.83, valLoss: 0.38,
 *   valAcc: 0.86, lr: 0.001, seconds: 9.2 }, 10));
 * // epoch  2/10  train loss 0.4100 acc 83.0%  val loss 0.3800 acc 86.0%  lr 1.00e-3  9.2 s
 * ```
 */
export function epochLine(h: HistoryEntry, epochs: number, note = ""): string {
  const w = String(epochs).length;
  const val = typeof h.valLoss === "number" && Number.isFinite(h.valLoss)
    ? `val loss ${h.valLoss.toFixed(4)} acc ${pct(h.valAcc ?? NaN)}`
    : "val -";
  return `epoch ${String(h.epoch).padStart(w)}/${epochs}  train loss ${h.trainLoss.toFixed(4)} ` +
    `acc ${pct(h.trainAcc)}  ${val}  lr ${h.lr.toExponential(2)}  ` +
    `${h.seconds.toFixed(1)} s${note ? "  " + note : ""}`;
}
