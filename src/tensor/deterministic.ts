/**
 * PyTorch's deterministic switch: `torch.use_deterministic_algorithms` and
 * `torch.are_deterministic_algorithms_enabled`.
 *
 * @module
 */
import { check, cpuLib, setDeterministic } from "../ffi/native.ts";
import { checkOptions } from "../options.ts";

/** Options of `useDeterministicAlgorithms`, as PyTorch's keyword arguments. */
export interface DeterministicOptions {
  /**
   * PyTorch warns instead of throwing when an op has no deterministic
   * implementation. Every op here has one, so nothing ever throws or warns
   * for that reason and this changes nothing; it is accepted so that ported
   * code runs.
   */
  warnOnly?: boolean;
}

/**
 * Uses only deterministic algorithms (or all of them again with `false`), as
 * `torch.use_deterministic_algorithms(mode)`: the same inputs then give the
 * same bits on every run on the same machine.
 *
 * On CUDA, convolutions use only cuDNN algorithms marked
 * `CUDNN_DETERMINISTIC`, chosen by cuDNN's heuristics rather than by timing
 * (as PyTorch with `torch.backends.cudnn.deterministic = True` and
 * `benchmark = False`), which may be slower. Every other CUDA kernel here is
 * deterministic already (fixed summation orders, no floating-point atomics;
 * cuBLAS runs on one stream with a fixed workspace). On the CPU every op is
 * deterministic either way for a given thread count, so the switch changes
 * nothing there. Without a call, `LITS_DETERMINISTIC=1` in the environment
 * turns it on. Takes effect from the next op on (convolution plans are kept
 * per mode, so switching back reuses the earlier choices).
 *
 * @example
 * ```ts
 * import { areDeterministicAlgorithmsEnabled, useDeterministicAlgorithms } from "@lits/vision";
 * useDeterministicAlgorithms(true);
 * console.log(areDeterministicAlgorithmsEnabled()); // true
 * useDeterministicAlgorithms(false);
 * console.log(areDeterministicAlgorithmsEnabled()); // false
 * ```
 */
export function useDeterministicAlgorithms(mode: boolean, options?: DeterministicOptions): void {
  if (typeof mode !== "boolean") {
    throw new Error(
      `useDeterministicAlgorithms: mode must be true or false, got ${String(mode)}; ` +
        "write useDeterministicAlgorithms(true)",
    );
  }
  const o = checkOptions<DeterministicOptions>(
    "useDeterministicAlgorithms",
    options,
    ["warnOnly"],
    "useDeterministicAlgorithms(true, { warnOnly: false })",
  );
  if (o.warnOnly !== undefined && typeof o.warnOnly !== "boolean") {
    throw new Error(`useDeterministicAlgorithms: warnOnly must be a boolean, got ${o.warnOnly}`);
  }
  setDeterministic(mode);
}

/**
 * Whether only deterministic algorithms are used (`useDeterministicAlgorithms`,
 * else `LITS_DETERMINISTIC=1`), as `torch.are_deterministic_algorithms_enabled()`.
 *
 * @example
 * ```ts
 * import { areDeterministicAlgorithmsEnabled } from "@lits/vision";
 * console.log(typeof areDeterministicAlgorithmsEnabled()); // "boolean"
 * ```
 */
export function areDeterministicAlgorithmsEnabled(): boolean {
  const lib = cpuLib();
  const out = new Int32Array(1);
  check(lib, lib.lits_get_deterministic(out), () => "areDeterministicAlgorithmsEnabled");
  return out[0] === 1;
}
