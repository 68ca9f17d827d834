/**
 * `--precision`: runs a forward pass (and its loss) in the run's precision.
 *
 * @module
 */
import { autocast } from "../tensor/autocast.ts";
import type { TrainConfig } from "./config.ts";

/**
 * `fn()` under bf16 autocast when `precision` is "bf16", else as it is. An
 * async `fn` keeps autocast through its awaits (an evaluation loop).
 */
export function inPrecision<T>(precision: TrainConfig["precision"], fn: () => T): T {
  return precision === "bf16" ? autocast("bfloat16", fn) : fn();
}
