/**
 * The errors the training commands end with, each with its exit code, so a
 * script calling `deno task train` can tell a typo from a broken run.
 *
 * @module
 */

/**
 * A bad command line: unknown flag, bad value, missing argument. Exit code 2,
 * as the shells and argparse use.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const e = new train.UsageError("--lr -1: must be a number > 0");
 * console.log(e.exitCode); // 2
 * ```
 */
export class UsageError extends Error {
  /** Process exit code. */
  readonly exitCode = 2;
  /** `message` says what is wrong and, where it helps, what is allowed. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * @internal runs `parse` (a `node:util` parseArgs call of a script) with its
 * errors, an unknown or ambiguous flag, as `UsageError`s: one line, exit 2.
 */
export function parsedArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
}

/**
 * Training stopped because the loss stopped being a finite number. Exit
 * code 3. The run folder keeps the last checkpoint written before it.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const e = new train.DivergedError(NaN, 17, 2, "runs/x/checkpoint.safetensors");
 * console.log(e.step, e.exitCode); // 17 3
 * ```
 */
export class DivergedError extends Error {
  /** Process exit code. */
  readonly exitCode = 3;
  /**
   * @param value The loss value (NaN or +-Infinity).
   * @param step The optimizer step (1-based, counted over the whole run) whose loss it was.
   * @param epoch The epoch (1-based) of that step.
   * @param checkpoint The last good checkpoint, or null when none was written yet.
   * @param what What became `value` (default "the training loss"; the weights
   *   when an epoch's last update made them so).
   */
  constructor(
    readonly value: number,
    readonly step: number,
    readonly epoch: number,
    readonly checkpoint: string | null,
    what = "the training loss",
  ) {
    super(
      `${what} became ${value} at step ${step} (epoch ${epoch}); training stopped. ` +
        (checkpoint
          ? `The last good checkpoint, ${checkpoint}, is kept. `
          : "No checkpoint was written yet. ") +
        // This run's folder keeps its configuration (--resume refuses another lr).
        "Try a lower --lr in a new run (another --out).",
    );
    this.name = "DivergedError";
  }
}
