/**
 * torch's `set_num_threads` / `get_num_threads`: the OpenMP threads the
 * CPU kernels split their work over. Without a call, OpenMP's default
 * holds: `OMP_NUM_THREADS` from the environment, else one per core.
 *
 * @module
 */
import { check, cpuLib } from "../ffi/native.ts";

/**
 * Sets the threads the CPU ops use (torch's `set_num_threads`), from the
 * next op on; `n` is an integer >= 1, as torch's. OpenBLAS stays on the
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
  if (arguments.length !== 1 || !Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
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
