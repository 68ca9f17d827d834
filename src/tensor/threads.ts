/**
 * torch's `set_num_threads` / `get_num_threads`: the OpenMP threads the
 * CPU kernels split their work over. Without a call, OpenMP's default
 * holds: `OMP_NUM_THREADS` from the environment, else one per core.
 *
 * @module
 */
import { check, cpuLib } from "../ffi/native.ts";

/**
 * The most threads `setNumThreads` takes: OpenMP reserves per-thread state
 * on the calling thread's stack, and 100,000 threads overflowed it (a
 * segfault in the next parallel op); PyTorch hangs there instead.
 */
export const MAX_NUM_THREADS = 1024;

/**
 * Sets the threads the CPU ops use (torch's `set_num_threads`), from the
 * next op on; `n` is an integer from 1 to `MAX_NUM_THREADS` (1024). OpenBLAS stays on the
 * calling thread (the kernels split the work themselves). CUDA ops are not
 * affected.
 *
 * @example
 * ```ts
 * import { getNumThreads, setNumThreads } from "@lits/vision";
 * const before = getNumThreads();
 * setNumThreads(1);
 * console.log(getNumThreads()); // 1
 * setNumThreads(before);
 * ```
 */
export function setNumThreads(n: number): void {
  if (Number.isInteger(n) && n > MAX_NUM_THREADS && arguments.length === 1) {
    throw new Error(
      `setNumThreads: ${n} threads is more than the ${MAX_NUM_THREADS} the CPU ops can run ` +
        `(this machine has ${navigator.hardwareConcurrency} cores); write ` +
        `setNumThreads(${navigator.hardwareConcurrency})`,
    );
  }
  if (arguments.length !== 1 || !Number.isInteger(n) || n < 1) {
    const shown = typeof n === "string" ? `the string "${n}"` : String(n);
    throw new Error(
      `setNumThreads: expects one integer >= 1 (threads of the CPU ops), got ${
        arguments.length === 1 ? shown : `${arguments.length} arguments`
      }; write setNumThreads(4)`,
    );
  }
  const lib = cpuLib();
  check(lib, lib.lits_set_num_threads(n), () => `setNumThreads(${n})`);
}

/**
 * The threads the CPU ops use (torch's `get_num_threads`): `setNumThreads`'s
 * value, else `OMP_NUM_THREADS`, else the number of cores.
 *
 * @example
 * ```ts
 * import { getNumThreads } from "@lits/vision";
 * console.log(getNumThreads() >= 1); // true
 * ```
 */
export function getNumThreads(): number {
  if (arguments.length > 0) {
    throw new Error("getNumThreads: takes no arguments; write setNumThreads(n) to set the count");
  }
  const lib = cpuLib(), out = new Int32Array(1);
  check(lib, lib.lits_get_num_threads(out), () => "getNumThreads");
  return out[0];
}
