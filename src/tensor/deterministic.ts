/**
 * The process-wide switches of how ops compute: PyTorch's deterministic
 * switch (`torch.use_deterministic_algorithms`,
 * `torch.are_deterministic_algorithms_enabled`), and whether convolutions
 * may use Winograd's transforms.
 *
 * @module
 */
import { check, cpuLib, setDeterministic, setWinograd } from "../ffi/native.ts";
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

/**
 * Allows (the default) or forbids Winograd convolutions. With them, the CPU
 * backend runs most 3x3 layers of 16+ channels through Winograd's
 * F(4x4, 3x3) transforms (F(2x2, 3x3) for the weight gradient), 1.3x to 2.4x
 * faster than a direct sum, at a price in rounding: a 64 -> 64 channel 3x3
 * convolution's outputs are within 3.4e-6 relative rms of the exact sums,
 * against 3.8e-7 for im2col + GEMM and 2.2e-7 for PyTorch's CPU convolution
 * (AMD Zen 4, measured against float64). Training does not notice; a
 * comparison with PyTorch at 1e-6 does, and so do gradients near zero,
 * whose signs then differ more often. So do attributions: a pre-activation
 * within rounding of zero can flip a ReLU's mask, and since the CPU takes
 * Winograd only for batches with enough tiles, an image's saliency or
 * Integrated Gradients can then depend on the other images in its batch;
 * call `useWinogradConvolutions(false)` before computing explanations.
 * `useWinogradConvolutions(false)` makes every convolution a direct sum of
 * products (direct kernels, im2col + GEMM,
 * oneDNN's direct algorithm), which rounds as PyTorch's CPU convolutions do.
 * On CUDA it leaves cuDNN's Winograd algorithms out of the search (PyTorch
 * lets cuDNN pick them). Without a call, `LITS_WINOGRAD=0` in the
 * environment forbids them. Takes effect from the next convolution on.
 *
 * @example
 * ```ts
 * import { areWinogradConvolutionsEnabled, useWinogradConvolutions } from "@lits/vision";
 * useWinogradConvolutions(false);
 * console.log(areWinogradConvolutionsEnabled()); // false
 * useWinogradConvolutions(true);
 * console.log(areWinogradConvolutionsEnabled()); // true
 * ```
 */
export function useWinogradConvolutions(enabled: boolean): void {
  if (arguments.length !== 1 || typeof enabled !== "boolean") {
    const shown = typeof enabled === "string" ? `the string "${enabled}"` : String(enabled);
    throw new Error(
      `useWinogradConvolutions: takes one boolean, got ${shown}; write ` +
        "useWinogradConvolutions(false) for sums that round as PyTorch's CPU convolutions",
    );
  }
  setWinograd(enabled);
}

/**
 * Whether convolutions may use Winograd's transforms
 * (`useWinogradConvolutions`, else not `LITS_WINOGRAD=0`).
 *
 * @example
 * ```ts
 * import { areWinogradConvolutionsEnabled } from "@lits/vision";
 * console.log(typeof areWinogradConvolutionsEnabled()); // "boolean"
 * ```
 */
export function areWinogradConvolutionsEnabled(): boolean {
  const lib = cpuLib();
  const out = new Int32Array(1);
  check(lib, lib.lits_get_winograd(out), () => "areWinogradConvolutionsEnabled");
  return out[0] === 1;
}
