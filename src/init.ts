/**
 * One-time preparation of the native library.
 *
 * @module
 */
import { build } from "./ffi/build.ts";

/**
 * Builds the native CPU library if it is missing (from a registry copy this
 * downloads the C sources into a cache folder and runs gcc). Tensors work
 * without calling it in a checkout; call it once after importing the package
 * from a registry.
 *
 * @example
 * ```ts
 * import { init, zeros } from "@lits/vision";
 * await init();
 * console.log(zeros([2]).toArray()); // Float32Array [0, 0]
 * ```
 */
export async function init(): Promise<string> {
  return await build();
}
