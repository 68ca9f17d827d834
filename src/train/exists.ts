/**
 * Whether a path exists, for the training command's run folder checks
 * (resume.ts, weights.ts). Internal: not part of `mod.ts`.
 *
 * @module
 */

/**
 * Whether `path` exists (a file or a folder); errors other than "not found"
 * (a permission denied, say) are thrown, not taken for "no".
 *
 * @example
 * ```ts
 * import { exists } from "./exists.ts";
 * console.log(await exists(Deno.cwd())); // true
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
