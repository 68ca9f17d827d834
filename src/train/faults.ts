/**
 * Fault injection for the tests of the failure paths that cannot be caused
 * on demand: a full disk during a checkpoint write, a `kill -9` in the middle
 * of one, a loss that turns NaN at a chosen step. Set `LITS_TRAIN_FAULT` to a
 * comma list of `name=N`:
 *
 * - `checkpoint-write=N`: the N-th checkpoint write fails half-way with
 *   "No space left on device", as a full disk would;
 * - `kill-in-checkpoint=N`: the process kills itself (SIGKILL) half-way
 *   through the N-th checkpoint write;
 * - `nan-loss=S`: the loss of optimizer step S reads as NaN;
 * - `metrics-write=N`: the N-th line appended to metrics.jsonl fails with
 *   "No space left on device".
 *
 * Unset (always, outside tests) a check is one environment lookup, made per
 * epoch, per checkpoint and per metrics line, not per step.
 *
 * @module
 */

/** The faults that can be injected. */
export type FaultName = "checkpoint-write" | "kill-in-checkpoint" | "nan-loss" | "metrics-write";

/** The N of fault `name`, or undefined when it is not injected (read anew each call: tests set it). */
export function faultAt(name: FaultName): number | undefined {
  let spec: string | undefined;
  try {
    spec = Deno.env.get("LITS_TRAIN_FAULT");
  } catch {
    return undefined; // no env permission: no faults
  }
  for (const part of (spec ?? "").split(",")) {
    const [key, n] = part.split("=");
    if (key.trim() === name) return Number(n);
  }
  return undefined;
}
