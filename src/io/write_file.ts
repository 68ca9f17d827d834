/**
 * Replacing a file atomically, as the savers do (io.saveSafetensors,
 * io.savePth): the bytes go to `${path}.tmp-<pid>-<random>`, which is then
 * renamed over `path`, so a reader never sees half a file and a failed write
 * leaves the old one in place. Internal: not part of `mod.ts`.
 *
 * @module
 */

/**
 * Writes `bytes` to `path` through a temporary file and a rename; on failure
 * removes the temporary file and throws `${who} ${path}: cannot write: ...`.
 *
 * @example
 * ```ts
 * import { writeReplacing } from "./write_file.ts";
 * const path = await Deno.makeTempFile();
 * await writeReplacing(path, new Uint8Array([1, 2, 3]), "example");
 * console.log(await Deno.readFile(path)); // Uint8Array(3) [ 1, 2, 3 ]
 * await Deno.remove(path);
 * ```
 */
export async function writeReplacing(path: string, bytes: Uint8Array, who: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`${who} ${path}: cannot write: ${(e as Error).message}`, { cause: e });
  }
}
