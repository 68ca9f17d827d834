/**
 * `--precision`: runs a forward pass (and its loss) in the run's precision.
 *
 * @module
 */
import { autocast, bf16Unavailable } from "../tensor/autocast.ts";
import { backend, type Device } from "../tensor/device.ts";
import type { TrainConfig } from "./config.ts";

/**
 * `fn()` under bf16 autocast when `precision` is "bf16", else as it is. An
 * async `fn` keeps autocast through its awaits (an evaluation loop).
 */
export function inPrecision<T>(precision: TrainConfig["precision"], fn: () => T): T {
  return precision === "bf16" ? autocast("bfloat16", fn) : fn();
}

/**
 * Throws when `precision` is bf16 and `dev` cannot run it here. autocast
 * itself would warn and run float32, while the run folder, the report and
 * the figures said bf16: a command refuses before it writes anything.
 */
export function checkPrecision(precision: TrainConfig["precision"], dev: Device): void {
  const why = precision === "bf16" ? bf16Unavailable(backend(dev), dev) : null;
  if (why === null) return;
  throw new Error(
    `--precision bf16: ${why}, so autocast would run float32 while the run says bf16; ` +
      "use --precision fp32 (a run that trained in bf16 resumes on a machine that has bf16)",
  );
}
